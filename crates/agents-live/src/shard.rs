//! The shard document: every agent whose worker SID hashes to it, and what an event changes.
//!
//! Document `agentsLive.<n>` (n = 0 … shards − 1) in the board's Sync service:
//!
//! ```json
//! {"shard": 3, "seq": 17, "updatedAt": 1764770000000, "queues": {"WQ…": "Sales"},
//!  "agents": {"WK…": {"n": "Alice", "tm": "Blue", "a": "Break", "s": 1764769000000,
//!                     "q": ["WQ…"], "k": [{"t": "WT…", "ch": "voice", "st": "assigned", "s": …, "ac": …}],
//!                     "p": 1, "ps": …, "c": [4, 1, 2], "h": [812000, 4], "w": [96000, 4],
//!                     "dy": 1764806400000, "u": …, "e": ["…"], "x": [["…", …]]}}}
//! ```
//!
//! Short keys keep 2,000 agents in few, small documents (see the crate docs for the budget).
//! `c` = today's reservations accepted, rejected, timed out; `h` / `w` = today's handle time
//! (accepted → completed) and wrap-up time (wrap-up → completed), total ms and tasks; `dy` = when
//! "today" of those figures ends; `e` = the last event ids applied (a redelivered callback changes
//! nothing); `x` = tasks that ended, with when (a late event for them changes nothing).

use std::collections::BTreeMap;

use chrono::Utc;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::event::{attribute, Event, ReservationStep, Step};

/// Recent event ids kept per agent.
const RECENT_EVENTS: usize = 4;
/// Ended tasks kept per agent.
const ENDED_TASKS: usize = 4;
/// Tasks kept per agent (a chat agent's capacity is a few).
const MAX_TASKS: usize = 20;
/// Queues kept per agent.
const MAX_QUEUES: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Task {
    #[serde(rename = "t", default)]
    pub sid: String,
    #[serde(rename = "ch", default)]
    pub channel: String,
    /// reserved, assigned or wrapping.
    #[serde(rename = "st", default)]
    pub status: String,
    #[serde(rename = "s", default)]
    pub since: f64,
    #[serde(rename = "ac", default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<f64>,
    #[serde(rename = "wu", default, skip_serializing_if = "Option::is_none")]
    pub wrapup_at: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    #[serde(rename = "n", default)]
    pub name: String,
    #[serde(rename = "tm", default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(rename = "a", default)]
    pub activity: String,
    #[serde(rename = "s", default)]
    pub since: f64,
    #[serde(rename = "q", default)]
    pub queues: Vec<String>,
    #[serde(rename = "k", default)]
    pub tasks: Vec<Task>,
    #[serde(rename = "p", default)]
    pub parked: u32,
    #[serde(rename = "ps", default, skip_serializing_if = "Option::is_none")]
    pub parked_since: Option<f64>,
    /// Unheard voicemails in the worker's box (`Voicemail.<workerSid>`), as last counted.
    #[serde(rename = "vm", default, skip_serializing_if = "is_zero")]
    pub unheard: u32,
    /// When that count was taken (ms): an older count never replaces a newer one.
    #[serde(rename = "va", default, skip_serializing_if = "is_zero_f")]
    pub unheard_at: f64,
    /// Today's reservations accepted, rejected, timed out.
    #[serde(rename = "c", default)]
    pub counts: [u32; 3],
    /// Today's handle time: total ms, tasks.
    #[serde(rename = "h", default)]
    pub handle: [f64; 2],
    /// Today's wrap-up time: total ms, tasks.
    #[serde(rename = "w", default)]
    pub wrapup: [f64; 2],
    /// When the day of `c`, `h`, `w` ends (ms).
    #[serde(rename = "dy", default)]
    pub day_end: f64,
    /// The latest event instant applied.
    #[serde(rename = "u", default)]
    pub updated: f64,
    #[serde(rename = "e", default)]
    pub recent: Vec<String>,
    #[serde(rename = "x", default)]
    pub ended: Vec<(String, f64)>,
}

impl Agent {
    /// Today's figures as of `now_ms` (zero once the day they were counted in is over).
    pub fn today(&self, now_ms: f64) -> ([u32; 3], [f64; 2], [f64; 2]) {
        if now_ms < self.day_end {
            (self.counts, self.handle, self.wrapup)
        } else {
            ([0; 3], [0.0; 2], [0.0; 2])
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_f(n: &f64) -> bool {
    *n == 0.0
}

/// One shard document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    #[serde(default)]
    pub shard: u32,
    /// Incremented by every write: the counts document says which version it was computed from.
    #[serde(default)]
    pub seq: u64,
    #[serde(rename = "updatedAt", default)]
    pub updated_at: f64,
    /// Queue SID → friendly name, for the queues of this shard's agents.
    #[serde(default)]
    pub queues: BTreeMap<String, String>,
    #[serde(default)]
    pub agents: BTreeMap<String, Agent>,
}

impl Shard {
    /// A stored document, or an empty shard when it is missing or unreadable (never a panic).
    pub fn from_value(shard: u32, value: Option<&Value>) -> Shard {
        let mut parsed = value
            .and_then(|v| serde_json::from_value::<Shard>(v.clone()).ok())
            .unwrap_or_default();
        parsed.shard = shard;
        parsed
    }
}

/// Which shard a worker's record lives in: FNV-1a of the SID, modulo the shard count.
pub fn shard_of(worker_sid: &str, shards: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in worker_sid.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % shards.max(1)
}

/// The first instant of the local day of `at`: its midnight by the service's one DST rule
/// ([`values::time::DST_RULE`]; a midnight the clocks skip starts the day when they jump).
fn day_start(zone: Tz, at: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    values::time::day_start(&zone, values::time::local_date(&zone, at))
}

/// When the local day containing `at_ms` ends (ms), in the zone of "today".
pub fn day_end(zone: Tz, at_ms: f64) -> f64 {
    let Some(at) = values::instant::from_millis(at_ms) else {
        return at_ms;
    };
    let start = day_start(zone, at);
    // The next local date's midnight: a day is 23 to 25 hours, so 26 hours later is the next date.
    let later = start + chrono::Duration::hours(26);
    let end = day_start(zone, later);
    end.timestamp_millis() as f64
}

/// What the shim fetched for an event.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fetched {
    /// The worker's queues (`TaskQueues?WorkerSid=`), when fetched.
    #[serde(default)]
    pub queues: Option<Vec<QueueRef>>,
    /// The worker's parked calls (`<WK>.ParkedCalls` items' data), when read.
    #[serde(default)]
    pub parked: Option<Vec<Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QueueRef {
    #[serde(default)]
    pub sid: String,
    #[serde(default)]
    pub friendly_name: String,
}

fn short_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars[chars.len().saturating_sub(10)..].iter().collect()
}

/// Applies one event (with what was fetched for it) to the shard; answers whether it changed.
pub fn apply(config: &Config, shard: &mut Shard, event: &Event, fetched: &Fetched) -> bool {
    let before = shard.agents.get(&event.worker_sid).cloned();
    if let Step::Deleted = event.step {
        let removed = shard.agents.remove(&event.worker_sid).is_some();
        if removed {
            prune_queues(shard);
        }
        return removed;
    }
    if let Step::Voicemail(n) = event.step {
        // Only an agent on the board gets a count (the count alone makes no agent: no name, no
        // activity); a newer count replaces an older one.
        return match shard.agents.get_mut(&event.worker_sid) {
            Some(agent) if event.at_ms >= agent.unheard_at => {
                let changed = agent.unheard != n;
                agent.unheard = n;
                agent.unheard_at = event.at_ms;
                changed
            }
            _ => false,
        };
    }
    let id = short_id(&event.id);
    let agent = shard.agents.entry(event.worker_sid.clone()).or_default();
    if agent.recent.contains(&id) {
        return false;
    }
    if let Some(name) = &event.worker_name {
        agent.name = name.clone();
    }
    if agent.name.is_empty() {
        agent.name = event.worker_sid.clone();
    }
    if let Some(attrs) = &event.worker_attributes {
        agent.team = attribute(attrs, &config.team_attribute);
    }
    if let Some(queues) = &fetched.queues {
        let mut sids: Vec<String> = queues
            .iter()
            .filter(|q| values::sid::is_sid(&q.sid, "WQ"))
            .map(|q| q.sid.clone())
            .collect();
        sids.sort();
        sids.dedup();
        sids.truncate(MAX_QUEUES);
        for q in queues {
            if sids.contains(&q.sid) {
                let name: String = q.friendly_name.chars().take(64).collect();
                shard.queues.insert(
                    q.sid.clone(),
                    if name.is_empty() { q.sid.clone() } else { name },
                );
            }
        }
        agent.queues = sids;
    }
    if let Some(parked) = &fetched.parked {
        let held: Vec<f64> = parked
            .iter()
            .filter(|p| p.get("callerHangup").and_then(Value::as_bool) != Some(true))
            .map(|p| {
                p.get("dateCreated")
                    .and_then(Value::as_str)
                    .and_then(values::instant::parse)
                    .map(|t| t.timestamp_millis() as f64)
                    .unwrap_or(event.at_ms)
            })
            .collect();
        agent.parked = u32::try_from(held.len()).unwrap_or(u32::MAX);
        agent.parked_since = held.iter().copied().reduce(f64::min);
    }
    // Today's figures: reset when the event is of a later day; an event of an earlier day counts nowhere.
    let end = day_end(config.zone, event.at_ms);
    let counts_today = end >= agent.day_end;
    if end > agent.day_end {
        agent.counts = [0; 3];
        agent.handle = [0.0; 2];
        agent.wrapup = [0.0; 2];
        agent.day_end = end;
    }
    let at = event.at_ms;
    match &event.step {
        Step::Activity(activity) => {
            if agent.activity.is_empty() || at >= agent.since {
                agent.activity = activity.chars().take(64).collect();
                agent.since = at;
            }
        }
        Step::Attributes | Step::Deleted | Step::Voicemail(_) => {}
        Step::Reservation(step) => {
            let task_sid = event.task_sid.clone().unwrap_or_default();
            let ended_at = agent
                .ended
                .iter()
                .find(|(t, _)| *t == short_id(&task_sid))
                .map(|(_, at)| *at);
            let stale = ended_at.is_some_and(|e| at <= e);
            let position = agent.tasks.iter().position(|t| t.sid == task_sid);
            let channel = event.channel.clone().unwrap_or_else(|| "default".into());
            let upsert = |agent: &mut Agent, status: &str| -> Option<usize> {
                if stale {
                    return None;
                }
                let i = match agent.tasks.iter().position(|t| t.sid == task_sid) {
                    Some(i) => i,
                    None => {
                        if agent.tasks.len() >= MAX_TASKS {
                            return None;
                        }
                        agent.tasks.push(Task {
                            sid: task_sid.clone(),
                            channel: channel.clone(),
                            status: String::new(),
                            since: at,
                            accepted_at: None,
                            wrapup_at: None,
                        });
                        agent.tasks.len() - 1
                    }
                };
                let task = agent.tasks.get_mut(i)?;
                let rank = |s: &str| match s {
                    "reserved" => 1,
                    "assigned" => 2,
                    "wrapping" => 3,
                    _ => 0,
                };
                if rank(status) >= rank(&task.status) {
                    task.status = status.to_string();
                    task.since = at;
                }
                Some(i)
            };
            let end_task = |agent: &mut Agent| {
                agent.tasks.retain(|t| t.sid != task_sid);
                agent.ended.retain(|(t, _)| *t != short_id(&task_sid));
                agent.ended.push((short_id(&task_sid), at));
                if agent.ended.len() > ENDED_TASKS {
                    agent.ended.remove(0);
                }
            };
            match step {
                ReservationStep::Created => {
                    upsert(agent, "reserved");
                }
                ReservationStep::Accepted => {
                    // Counted once per task: a repeated acceptance finds `accepted_at` set.
                    let mut first = false;
                    if let Some(i) = upsert(agent, "assigned") {
                        if let Some(t) = agent.tasks.get_mut(i) {
                            first = t.accepted_at.is_none();
                            t.accepted_at.get_or_insert(at);
                        }
                    }
                    if first && counts_today {
                        agent.counts[0] += 1;
                    }
                }
                ReservationStep::Rejected | ReservationStep::TimedOut => {
                    if !stale {
                        end_task(agent);
                    }
                    if !stale && counts_today {
                        let i = if *step == ReservationStep::Rejected {
                            1
                        } else {
                            2
                        };
                        agent.counts[i] += 1;
                    }
                }
                ReservationStep::Withdrawn => {
                    if !stale {
                        end_task(agent);
                    }
                }
                ReservationStep::Wrapup => {
                    if let Some(i) = upsert(agent, "wrapping") {
                        if let Some(t) = agent.tasks.get_mut(i) {
                            t.wrapup_at.get_or_insert(at);
                        }
                    }
                }
                ReservationStep::Completed => {
                    if !stale {
                        if let Some(task) = position.and_then(|i| agent.tasks.get(i)).cloned() {
                            if counts_today {
                                if let Some(ac) = task.accepted_at.filter(|ac| *ac <= at) {
                                    agent.handle[0] += at - ac;
                                    agent.handle[1] += 1.0;
                                }
                                if let Some(wu) = task.wrapup_at.filter(|wu| *wu <= at) {
                                    agent.wrapup[0] += at - wu;
                                    agent.wrapup[1] += 1.0;
                                }
                            }
                        }
                        end_task(agent);
                    }
                }
            }
        }
    }
    agent.updated = agent.updated.max(at);
    agent.recent.push(id);
    if agent.recent.len() > RECENT_EVENTS {
        agent.recent.remove(0);
    }
    let changed_content = {
        let mut a = shard.agents.get(&event.worker_sid).cloned();
        let mut b = before.clone();
        for x in [&mut a, &mut b].into_iter().flatten() {
            x.recent.clear();
            x.updated = 0.0;
        }
        a != b
    };
    prune_queues(shard);
    // The event id is remembered even when nothing else changed only if something else is written
    // anyway: a no-op event costs no write.
    if !changed_content {
        if let Some(b) = before {
            shard.agents.insert(event.worker_sid.clone(), b);
        }
        return false;
    }
    true
}

/// Drops queue names no agent of the shard refers to.
fn prune_queues(shard: &mut Shard) {
    let used: std::collections::BTreeSet<&String> = shard
        .agents
        .values()
        .flat_map(|a| a.queues.iter())
        .collect();
    shard.queues.retain(|sid, _| used.contains(sid));
}
