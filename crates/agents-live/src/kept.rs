//! What a warm container keeps between events (the wasm module's state, `crate::wasm`): each
//! shard's memory, the index's, and when each worker's queues were last known.
//!
//! The machines start from it ([`Kept::shard`], [`Kept::index`], [`Kept::membership_age`]) and
//! each answer says what to keep ([`Kept::keep`]), kept as it leaves the wasm face
//! ([`Kept::settle`]). A wasm trap reloads the module and starts from
//! [`Kept::default`]: every machine works from empty memory (it reads the shard and the index from
//! Sync again, grants again, fetches the worker's queues). What a failed write carried over for a
//! shard's next write (`ShardMemory::carry`) is lost with it: those workers show their previous
//! state until their next event.

use std::collections::BTreeMap;

use serde_json::Value;

use effects::Step;

use crate::machine::{IndexMemory, Machine, ShardMemory};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    shards: BTreeMap<u32, ShardMemory>,
    index: Option<IndexMemory>,
    /// Worker SID -> when its queues were last known (ms).
    members: BTreeMap<String, f64>,
}

fn worker_of(event: &Value) -> Option<&str> {
    event.get("WorkerSid").and_then(Value::as_str)
}

impl Kept {
    pub fn shard(&self, shard: u32) -> Option<ShardMemory> {
        self.shards.get(&shard).cloned()
    }

    pub fn index(&self) -> Option<IndexMemory> {
        self.index.clone()
    }

    /// How long ago the event's worker's queues were known (`None`: never, in this container).
    pub fn membership_age(&self, event: &Value, now_ms: f64) -> Option<f64> {
        let known = self.members.get(worker_of(event)?)?;
        Some(now_ms - known)
    }

    /// Applies an answer body: `{worker: <event>}` an event machine's (`membershipKnown`),
    /// `{shard: n}` a shard's (`memory`), `{index: true}` the index's (`index`). What it cannot
    /// read changes nothing.
    pub fn keep(&mut self, what: &Value, body: &Value, now_ms: f64) {
        if let Some(event) = what.get("event") {
            let known = body.get("membershipKnown").and_then(Value::as_bool) == Some(true);
            if let (true, Some(worker)) = (known, worker_of(event)) {
                self.members.insert(worker.to_string(), now_ms);
            }
        } else if let Some(shard) = what.get("shard").and_then(Value::as_u64) {
            let memory = body.get("memory").filter(|m| !m.is_null());
            let memory = memory.and_then(|m| serde_json::from_value(m.clone()).ok());
            if let (Ok(shard), Some(memory)) = (u32::try_from(shard), memory) {
                self.shards.insert(shard, memory);
            }
        } else if what.get("index").and_then(Value::as_bool) == Some(true) {
            let index = body.get("index").filter(|m| !m.is_null());
            if let Some(index) = index.and_then(|m| serde_json::from_value(m.clone()).ok()) {
                self.index = Some(index);
            }
        }
    }
}

impl Kept {
    /// A machine's step once what its answer says to keep is kept ([`Kept::keep`]; `what`:
    /// [`Machine::kept_as`]): the answer then leaves it out (the functions read the summary).
    pub fn settle(&mut self, what: &Value, step: Step<Machine>, now_ms: f64) -> Step<Machine> {
        let Step::Answer(mut answer) = step else {
            return step;
        };
        self.keep(what, &answer.body, now_ms);
        if let (false, Value::Object(body)) = (what.is_null(), &mut answer.body) {
            for kept in ["membershipKnown", "memory", "index"] {
                body.remove(kept);
            }
        }
        Step::Answer(answer)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const WK: &str = "WK0123456789abcdef0123456789abcdef";

    #[test]
    fn a_fresh_container_knows_nothing() {
        // After a trap the module starts here: the machines read Sync and the worker's queues.
        let kept = Kept::default();
        assert_eq!(kept.shard(0), None);
        assert_eq!(kept.index(), None);
        assert_eq!(kept.membership_age(&json!({"WorkerSid": WK}), 1.0), None);
    }

    #[test]
    fn membership_is_timed_from_when_it_was_known() {
        let mut kept = Kept::default();
        let event = json!({"WorkerSid": WK});
        kept.keep(
            &json!({"event": event}),
            &json!({"membershipKnown": false}),
            1_000.0,
        );
        assert_eq!(kept.membership_age(&event, 2_000.0), None);
        kept.keep(
            &json!({"event": event}),
            &json!({"membershipKnown": true}),
            1_000.0,
        );
        assert_eq!(kept.membership_age(&event, 4_000.0), Some(3_000.0));
        assert_eq!(kept.membership_age(&json!({}), 4_000.0), None);
    }

    #[test]
    fn shard_and_index_memories_are_kept_as_answered() {
        let mut kept = Kept::default();
        let memory = json!({"loaded": true, "revision": "4", "granted": true});
        kept.keep(
            &json!({"shard": 3}),
            &json!({"memory": memory, "error": null}),
            0.0,
        );
        let m = kept.shard(3).expect("kept");
        assert!(m.loaded && m.granted);
        assert_eq!(m.revision.as_deref(), Some("4"));
        assert_eq!(kept.shard(2), None);
        kept.keep(
            &json!({"index": true}),
            &json!({"index": {"granted": true, "shards": [0, 3]}}),
            0.0,
        );
        assert_eq!(kept.index().map(|i| i.shards), Some(vec![0, 3]));
    }

    #[test]
    fn an_answer_is_kept_as_it_leaves_and_says_no_more_of_it() {
        let mut kept = Kept::default();
        let event = json!({"WorkerSid": WK});
        let answer = |body: Value| Step::<Machine>::answer(effects::Answer::json(200, body));
        let out = kept.settle(
            &json!({ "event": event }),
            answer(json!({"membershipKnown": true, "write": {"shard": 1}})),
            1_000.0,
        );
        assert_eq!(out, answer(json!({"write": {"shard": 1}})));
        assert_eq!(kept.membership_age(&event, 3_000.0), Some(2_000.0));
        let shard = answer(json!({"error": null, "memory": {"loaded": true}, "syncReads": 1}));
        let out = kept.settle(&json!({"shard": 2}), shard, 0.0);
        assert_eq!(out, answer(json!({"error": null, "syncReads": 1})));
        assert!(kept.shard(2).is_some_and(|m| m.loaded));
        let index = answer(json!({"error": null, "index": {"granted": true, "shards": [2]}}));
        let out = kept.settle(&json!({"index": true}), index, 0.0);
        assert_eq!(out, answer(json!({"error": null})));
        assert_eq!(kept.index().map(|i| i.shards), Some(vec![2]));
        // A token's answer keeps nothing and is left whole.
        let before = kept.clone();
        let token = answer(json!({"memory": {"loaded": true}, "token": "t"}));
        assert_eq!(kept.settle(&Value::Null, token.clone(), 0.0), token);
        assert_eq!(kept, before);
    }

    #[test]
    fn what_it_cannot_read_changes_nothing() {
        let mut kept = Kept::default();
        for (what, body) in [
            (json!({"shard": -1}), json!({"memory": {}})),
            (json!({"shard": 1}), json!({"memory": "x"})),
            (json!({"shard": 1}), json!({"memory": null})),
            (json!({"index": true}), json!({"index": 5})),
            (json!(null), json!({"membershipKnown": true})),
            (json!({"event": null}), json!({"membershipKnown": true})),
        ] {
            kept.keep(&what, &body, 0.0);
        }
        assert_eq!(kept, Kept::default());
    }
}
