//! What a warm container remembers between events (its wasm instance's memory): per queue the
//! record it last read or wrote, whether it saw the queue deleted, whether the documents index
//! entry is confirmed, whether the wallboard has its copy; and the board permissions given.
//!
//! The machines read it when they start ([`Kept::memory`], [`Kept::deleted`], [`Kept::copy`]) and
//! each answer says what changes ([`Kept::keep`]). It is a cache: a wasm trap reloads the module
//! and starts from [`Kept::default`], and every machine works from empty memory (it reads the
//! stored record, re-confirms the index entry, grants again: more requests, never a wrong write).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::refresh::{Memory, Remembered};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kept {
    /// Queue SID -> the record this container last read or wrote, with its revision.
    records: BTreeMap<String, Remembered>,
    /// Queues deleted here (`task-queue.deleted`, or a removal the store made).
    deleted: BTreeSet<String>,
    /// Queues whose documents index entry this container confirmed.
    indexed: BTreeSet<String>,
    /// Queues copied to the wallboard.
    mirrored: BTreeSet<String>,
    /// The board identity's permissions given ([`crate::store::grant_key`]s).
    granted: BTreeSet<String>,
}

impl Kept {
    /// What a queue's run starts from.
    pub fn memory(&self, queue_sid: &str) -> Memory {
        Memory {
            record: self.records.get(queue_sid).cloned(),
            deleted_here: self.deleted.contains(queue_sid),
            index_confirmed: self.indexed.contains(queue_sid),
            mirrored: self.mirrored.contains(queue_sid),
        }
    }

    /// The queues deleted here (the bulk machine leaves them out).
    pub fn deleted(&self) -> Vec<String> {
        self.deleted.iter().cloned().collect()
    }

    /// A board copy's start: the permissions given and whether the queue was copied before.
    pub fn copy(&self, queue_sid: &str) -> (Vec<String>, bool) {
        (
            self.granted.iter().cloned().collect(),
            self.mirrored.contains(queue_sid),
        )
    }

    /// A `task-queue.deleted` seen here: from now on the queue is never re-created by this
    /// container (marked before its removal runs, so a run meanwhile already knows).
    pub fn mark_deleted(&mut self, queue_sid: &str) {
        self.deleted.insert(queue_sid.to_string());
    }

    /// Applies a machine's answer body: a board copy's or removal's (`on_board`: `granted`,
    /// `mirrored`, `forget`) or a queue's run or removal (`forget`, `remember`, `indexConfirmed`,
    /// `deleted`). `queue_sid` is `None` for the bulk run (it remembers nothing itself). Fields
    /// missing or of another type change nothing (a cache: the next run reads again).
    pub fn keep(&mut self, queue_sid: Option<&str>, body: &Value, on_board: bool) {
        let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
        if on_board {
            if let Some(Value::Array(keys)) = body.get("granted") {
                self.granted
                    .extend(keys.iter().filter_map(Value::as_str).map(str::to_string));
            }
        }
        let Some(sid) = queue_sid else { return };
        if on_board {
            if flag("mirrored") {
                self.mirrored.insert(sid.to_string());
            }
            if flag("forget") {
                self.mirrored.remove(sid);
            }
            return;
        }
        if flag("forget") {
            self.records.remove(sid);
            self.indexed.remove(sid);
        }
        let remembered = body
            .get("remember")
            .filter(|r| !r.is_null())
            .and_then(|r| serde_json::from_value::<Remembered>(r.clone()).ok());
        if let Some(r) = remembered {
            self.records.insert(sid.to_string(), r);
        }
        if flag("indexConfirmed") {
            self.indexed.insert(sid.to_string());
        }
        if flag("deleted") {
            self.deleted.insert(sid.to_string());
        }
    }

    /// How many queues' records are remembered (tests, benchmarks).
    pub fn records(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const Q: &str = "WQ0123456789abcdef0123456789abcdef";

    #[test]
    fn a_fresh_container_remembers_nothing() {
        // After a trap the module starts again from here: the run reads the record from Sync.
        let kept = Kept::default();
        let m = kept.memory(Q);
        assert!(m.record.is_none() && !m.deleted_here && !m.index_confirmed && !m.mirrored);
        assert!(kept.deleted().is_empty());
        assert_eq!(kept.copy(Q), (vec![], false));
    }

    #[test]
    fn a_run_remembers_forgets_and_confirms() {
        let mut kept = Kept::default();
        let record = json!({"data": {"sid": Q}, "revision": "3"});
        kept.keep(
            Some(Q),
            &json!({"remember": record, "indexConfirmed": true, "syncWrites": 1}),
            false,
        );
        let m = kept.memory(Q);
        assert_eq!(
            m.record.as_ref().and_then(|r| r.revision.clone()),
            Some("3".into())
        );
        assert!(m.index_confirmed && !m.deleted_here);
        assert_eq!(kept.records(), 1);
        // `remember: null` keeps the copy; `forget` drops it and the index confirmation.
        kept.keep(Some(Q), &json!({"remember": null}), false);
        assert!(kept.memory(Q).record.is_some());
        kept.keep(Some(Q), &json!({"forget": true, "deleted": true}), false);
        let m = kept.memory(Q);
        assert!(m.record.is_none() && !m.index_confirmed && m.deleted_here);
        assert_eq!(kept.deleted(), vec![Q.to_string()]);
    }

    #[test]
    fn forget_then_remember_in_one_answer_keeps_the_new_record() {
        let mut kept = Kept::default();
        kept.keep(
            Some(Q),
            &json!({"remember": {"data": 1, "revision": "1"}}),
            false,
        );
        kept.keep(
            Some(Q),
            &json!({"forget": true, "remember": {"data": 2, "revision": "2"}}),
            false,
        );
        assert_eq!(kept.memory(Q).record.map(|r| r.data), Some(json!(2)));
    }

    #[test]
    fn board_answers_touch_only_the_board_memory() {
        let mut kept = Kept::default();
        kept.keep(
            Some(Q),
            &json!({"granted": ["map:queueStats", 7], "mirrored": true, "remember": {"data": 1}}),
            true,
        );
        assert_eq!(kept.copy(Q), (vec!["map:queueStats".to_string()], true));
        assert!(
            kept.memory(Q).record.is_none(),
            "a board answer is not Flex's record"
        );
        kept.keep(Some(Q), &json!({"forget": true}), true);
        assert!(!kept.copy(Q).1);
        // The bulk run (no queue) remembers nothing but could carry grants.
        kept.keep(None, &json!({"deleted": true, "forget": true}), false);
        assert!(kept.deleted().is_empty());
    }

    #[test]
    fn marked_deleted_before_the_removal_runs() {
        let mut kept = Kept::default();
        kept.mark_deleted(Q);
        assert!(kept.memory(Q).deleted_here);
    }

    #[test]
    fn bad_answers_change_nothing() {
        let mut kept = Kept::default();
        for body in [
            json!(null),
            json!("x"),
            json!({"remember": "nope", "forget": 1}),
        ] {
            kept.keep(Some(Q), &body, false);
            kept.keep(Some(Q), &body, true);
        }
        assert_eq!(kept, Kept::default());
    }
}
