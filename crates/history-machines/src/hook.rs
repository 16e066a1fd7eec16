//! The TaskRouter event callback's queue history hook on the effects protocol.
//!
//! It costs nothing until the last hour has been over for [`SETTLE_MS`] (TaskRouter then has
//! every event of it); then it checks once whether the hour is stored and who claims it, claims it
//! (kind `hook`, with the container as owner: the container's own claims are its), and fetches
//! up to [`QUEUES_PER_EVENT`] queues' figures per event through [`crate::close`]; the event that
//! completes the queues reads the hour's events, the agents' activity and the workers and writes
//! the hour. What must survive between events (the hour being closed, its queues fetched so far,
//! the last hour known stored) is the answer's `remember` ([`Memory`]), which the wasm face takes
//! out of the final answer ([`take_memory`]) and keeps in the module instance, per owner, for the
//! next event. It is a cache: a trap's reload starts from no memory, and the hook then looks
//! whether the hour is stored and who claims it again (its own claim is still its own). Off when `QUEUE_HISTORY_ENABLED` is `false`. It never fails
//! the callback: a failure is answered as `{error}` and the hour is tried again on the next event.

use std::collections::BTreeMap;

use effects::{Answer, Op, Outcome};
use history::{claim, store, QueueName, ALL};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::close::{
    self, config_of, instant_of, list_queues, services_of, Closer, Counts, Fetched, Ids, Job,
    Phase, Take,
};
use crate::range::RangeRead;
use crate::{Machine, Turn};

/// An hour is closed this long after it ends.
pub const SETTLE_MS: f64 = 60_000.0;
/// Queues fetched per event: the cost of one event stays bounded.
pub const QUEUES_PER_EVENT: usize = 4;

/// What the container keeps between events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// The latest hour known stored (by this container or another).
    #[serde(default)]
    pub closed_up_to: Option<String>,
    #[serde(default)]
    pub pending: Option<Pending>,
}

/// The hour being closed over several events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub start: String,
    pub queues: Vec<QueueName>,
    /// Queue SID → its figures, for the queues fetched so far.
    #[serde(default)]
    pub fetched: BTreeMap<String, Fetched>,
}

/// The hook's input for one event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookInput {
    /// The settings as set (`crate::SETTINGS`: the services among them).
    #[serde(default)]
    pub env: Value,
    #[serde(default)]
    pub owner: String,
    pub now_ms: f64,
    #[serde(default)]
    pub memory: Option<Memory>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Stage {
    /// Reading whether the hour is stored, and its claim.
    Look,
    /// Claiming (with the queue list).
    Claim,
    Close,
}

/// The hook's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    memory: Memory,
    start: String,
    stage: Stage,
    closer: Closer,
    #[serde(default)]
    listing: bool,
    /// Counts of the Look step (the closer counts the rest).
    #[serde(default)]
    counts: Counts,
}

fn enabled(env: &Value) -> bool {
    env.get("QUEUE_HISTORY_ENABLED")
        .and_then(Value::as_str)
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"))
}

fn done(counts: Counts, memory: &Memory, error: Option<String>) -> Turn {
    let mut body = json!({
        "taskrouterCalls": counts.taskrouter_calls,
        "syncReads": counts.sync_reads,
        "syncWrites": counts.sync_writes,
        "remember": memory,
    });
    if let (Some(e), Some(obj)) = (error, body.as_object_mut()) {
        obj.insert("error".into(), json!(e));
    }
    Turn::answer(Answer::json(200, body))
}

impl Hook {
    /// The container the hook runs for (its claims' owner, its memory's key).
    pub fn owner(&self) -> &str {
        &self.closer.ids.owner
    }
}

/// Takes the memory out of a hook's final answer (`remember`), leaving the summary: the wasm
/// face keeps it for the owner's next event. `None` for a step that is not an answer, or an
/// answer without a memory it can read (`{off: true}`, an unreadable input's).
pub fn take_memory(turn: &mut Turn) -> Option<Memory> {
    let effects::Step::Answer(answer) = &mut turn.step else {
        return None;
    };
    let remember = answer.body.as_object_mut()?.remove("remember")?;
    serde_json::from_value(remember).ok()
}

/// Starts the hook for one event.
pub fn start(input: HookInput) -> Turn {
    if !enabled(&input.env) {
        return Turn::answer(Answer::json(200, json!({"off": true})));
    }
    let memory = input.memory.unwrap_or_default();
    let (config, (workspace_sid, service_sid)) =
        match config_of(&input.env).and_then(|c| Ok((c, services_of(&input.env)?))) {
            Ok(read) => read,
            Err(e) => return done(Counts::default(), &memory, Some(e.to_string())),
        };
    let Ok(now) = history::time::instant(input.now_ms - SETTLE_MS) else {
        return done(
            Counts::default(),
            &memory,
            Some("the clock is not an instant".into()),
        );
    };
    let zone = config.time_zone;
    let current = history::time::hour_start(zone, now);
    let start = history::time::iso(history::time::hour_start(
        zone,
        current - chrono::Duration::seconds(1),
    ));
    if memory.closed_up_to.as_deref() == Some(start.as_str()) {
        return done(Counts::default(), &memory, None);
    }
    let ids = Ids {
        workspace_sid,
        service_sid,
        owner: input.owner,
        run: None,
    };
    let pending = memory.pending.clone().filter(|p| p.start == start);
    let mut closer = Closer::new(
        input.env.clone(),
        ids,
        claim::Kind::Hook,
        pending
            .as_ref()
            .map(|p| p.queues.clone())
            .unwrap_or_default(),
        input.now_ms,
    );
    closer.queue_limit = Some(QUEUES_PER_EVENT);
    // A failed event keeps the claim: the container goes on with the next event.
    closer.keep_claims = true;
    closer.activity_from(&start);
    let mut hook = Hook {
        memory: Memory {
            pending: pending.clone(),
            ..memory
        },
        start: start.clone(),
        stage: Stage::Close,
        closer,
        listing: false,
        counts: Counts::default(),
    };
    if let Some(p) = pending {
        // Claimed by an earlier event: the next queues.
        hook.closer.add(&start, None);
        hook.closer.restore(complete(&config, p.fetched));
        return hook.more(&config, Vec::new(), input.now_ms);
    }
    let Some(at) = instant_of(&start) else {
        return done(Counts::default(), &hook.memory, Some("no last hour".into()));
    };
    let (from, to) = store::key_range(ALL, at, at);
    let stored = RangeRead::new(
        &hook.closer.ids.service_sid,
        &store::map_name(ALL),
        &from,
        &to,
    );
    let ops = vec![
        stored.op(),
        Op::FetchSyncItem {
            service_sid: hook.closer.ids.service_sid.clone(),
            map: claim::CLAIMS_MAP.into(),
            key: claim::claim_key(at),
        },
    ];
    for op in &ops {
        hook.counts.add(op);
    }
    hook.stage = Stage::Look;
    Turn::run(Machine::Hook(Box::new(hook)), ops)
}

/// The fetched queues that have every channel and their members (a queue half fetched when a
/// request failed is fetched again).
fn complete(
    config: &history::Config,
    fetched: BTreeMap<String, Fetched>,
) -> BTreeMap<String, Fetched> {
    let channels = config.all_channels();
    fetched
        .into_iter()
        .filter(|(_, f)| {
            f.members.is_some()
                && channels
                    .iter()
                    .all(|c| f.cumulative.get(c).is_some_and(Option::is_some))
        })
        .collect()
}

impl Hook {
    /// The hour as the container keeps it until the next event: the queues fetched so far, with
    /// their members.
    fn pending_of(&self, config: &history::Config, job: &Job) -> Pending {
        let mut fetched = job.fetched.clone();
        for (sid, f) in fetched.iter_mut() {
            f.members = self.closer.members_of(sid);
        }
        Pending {
            start: self.start.clone(),
            queues: self.closer.queues.clone(),
            fetched: complete(config, fetched),
        }
    }

    fn total(&self) -> Counts {
        let c = self.closer.counts;
        Counts {
            taskrouter_calls: c.taskrouter_calls + self.counts.taskrouter_calls,
            sync_reads: c.sync_reads + self.counts.sync_reads,
            sync_writes: c.sync_writes + self.counts.sync_writes,
        }
    }

    fn stored(mut self) -> Turn {
        self.memory.closed_up_to = Some(self.start.clone());
        self.memory.pending = None;
        done(self.total(), &self.memory, None)
    }

    pub(crate) fn resume(mut self, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
        let config = match config_of(&self.closer.env) {
            Ok(c) => c,
            Err(_) => return Turn::answer(crate::unreadable()),
        };
        let mut outcomes = outcomes.into_iter();
        let mut next = || {
            outcomes
                .next()
                .unwrap_or_else(|| Outcome::Failed(effects::Failure::missing()))
        };
        match self.stage {
            Stage::Look => {
                let stored = next();
                let found = next();
                let items = match stored.found() {
                    Ok(v) => v.as_ref().and_then(Value::as_array).map_or(0, Vec::len),
                    Err(f) => return done(self.total(), &self.memory, Some(f.message)),
                };
                if items > 0 {
                    return self.stored();
                }
                let take = match found.found() {
                    Ok(Some(item)) => {
                        let state = claim::state_of_run(
                            item.get("data"),
                            &self.closer.ids.owner,
                            None,
                            now_ms,
                        );
                        if matches!(state, claim::State::Held { .. }) {
                            // Another request closes it.
                            return self.stored();
                        }
                        Take::Update {
                            revision: item
                                .get("revision")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        }
                    }
                    Ok(None) => Take::Create,
                    Err(f) => return done(self.total(), &self.memory, Some(f.message)),
                };
                let Some(at) = instant_of(&self.start) else {
                    return done(self.total(), &self.memory, Some("no last hour".into()));
                };
                let start = self.start.clone();
                self.closer.add(&start, Some((claim::claim_key(at), take)));
                self.stage = Stage::Claim;
                self.listing = true;
                let list = list_queues(&self.closer.ids.workspace_sid);
                self.counts.add(&list);
                let mut ops = vec![list];
                ops.extend(self.closer.step(&config, now_ms));
                Turn::run(Machine::Hook(Box::new(self)), ops)
            }
            Stage::Claim | Stage::Close => {
                let mut rest: Vec<Outcome> = Vec::new();
                if self.listing {
                    self.listing = false;
                    match next().into_result() {
                        Ok(v) => self.closer.queues = close::queue_names(&v),
                        // The next event looks again (a claim won meanwhile is this container's).
                        Err(f) => return done(self.total(), &self.memory, Some(f.message)),
                    }
                }
                rest.extend(outcomes);
                self.stage = Stage::Close;
                self.more(&config, rest, now_ms)
            }
        }
    }

    fn more(mut self, config: &history::Config, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
        self.closer.take(config, outcomes, now_ms);
        let ops = self.closer.step(config, now_ms);
        if !ops.is_empty() {
            return Turn::run(Machine::Hook(Box::new(self)), ops);
        }
        let Some(job) = self.closer.jobs.first().cloned() else {
            return done(self.total(), &self.memory, None);
        };
        match job.phase {
            Phase::Done | Phase::Lost => self.stored(),
            Phase::Paused => {
                self.memory.pending = Some(self.pending_of(config, &job));
                done(self.total(), &self.memory, None)
            }
            _ => {
                // Failed: the claim is kept (this container's); the next event tries again.
                let note = job.note.clone().map(|n| n.reason);
                if self.closer.queues.is_empty() || !job.claimed() {
                    self.memory.pending = None;
                } else {
                    self.memory.pending = Some(self.pending_of(config, &job));
                }
                done(self.total(), &self.memory, note)
            }
        }
    }
}
