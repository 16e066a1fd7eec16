//! Closing queue history's hours on the effects protocol: the one engine the backfill
//! ([`crate::backfill`]), the event callback's hook ([`crate::hook`]) and the scripts
//! ([`crate::backfill::close`]) drive. The rules are `crates/history`'s (`hour_params`,
//! `hour_items`, `claim`); this module orders the requests and reads their outcomes.
//!
//! Per hour (a [`Job`]):
//! 1. **claim** it (when claiming: `create`, or `update` If-Match a stale claim; a refused create
//!    is looked at once: held by another request → the hour is left, `pending`);
//! 2. after a take-over, **check** what is stored already (each channel's keys of the hour): a
//!    complete hour is done, a half-written one gets only its missing items (a closed hour is
//!    written once; an item is never created twice);
//! 3. **fetch** TaskRouter's figures: per queue and channel the cumulative statistics of the
//!    hour, the queue's members, the hour's two event listings, the agents' activity (one
//!    listing per run, newest first, read only as far back as the oldest hour needs) and the
//!    workers now;
//! 4. **write** `hour_items` (a missing map is created, then the item again; an existing key
//!    wins), and prune the hours that left retention.
//!
//! A failure leaves the hour with a note (`failed`, or `pending` when the deadline stopped a
//! request) and drops its claim unless an item of it was written (the take-over then checks).
//!
//! One run never asks TaskRouter the same thing twice: the queues' members, the workers and the
//! activity pages are kept for every hour of the run. The independent reads of all hours being
//! closed go out in the same step, at most [`MAX_READS`] TaskRouter reads per step.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use effects::{Failure, Op, Outcome, Paging, PagingAll};
use history::{claim, store, Config, HourInput, Note, QueueHour, QueueName, ALL};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::range::RangeRead;

/// TaskRouter reads sent in one step (the executor sends a step's effects all at once).
pub const MAX_READS: usize = 16;
/// TaskRouter's largest page.
pub const LIST_PAGE: u32 = 1000;
/// The most items a TaskRouter list reads (workers, queues).
pub const LIST_LIMIT: u32 = 50_000;

/// The requests a run made, by kind (the hook's answer, the scripts' report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub taskrouter_calls: u32,
    pub sync_reads: u32,
    pub sync_writes: u32,
}

impl Counts {
    pub fn add(&mut self, op: &Op) {
        match op {
            Op::ListSyncItems { .. } | Op::FetchSyncItem { .. } => self.sync_reads += 1,
            Op::CreateSyncItem { .. }
            | Op::UpdateSyncItem { .. }
            | Op::DeleteSyncItem { .. }
            | Op::CreateSyncMap { .. } => self.sync_writes += 1,
            _ => self.taskrouter_calls += 1,
        }
    }
}

/// The run's settings: queue history's environment, the services, who claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ids {
    pub workspace_sid: String,
    pub service_sid: String,
    /// This container (claims).
    pub owner: String,
    /// This request, when a backfill (another request of the container holds its claims).
    #[serde(default)]
    pub run: Option<String>,
}

/// How a claim is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Take {
    Create,
    Update { revision: Option<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    Claim,
    ClaimCheck,
    Check,
    Fetch,
    Write,
    Done,
    Failed,
    /// Another request holds the hour.
    Lost,
    /// The hook's queue budget of this run is spent: the fetched queues are kept for the next.
    Paused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum WriteState {
    Todo,
    Sent,
    NeedMap,
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Write {
    map: String,
    key: String,
    data: Value,
    state: WriteState,
}

/// A JSON value kept as its text between steps (a string in the state: copied, never walked;
/// parsed once, when the hour is written). Not a `RawValue`: the state is an internally tagged
/// enum, which serde buffers, and a buffered `RawValue` cannot be read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kept(String);

impl Kept {
    fn of(v: &Value) -> Option<Kept> {
        serde_json::to_string(v).ok().map(Kept)
    }

    fn value(&self) -> Option<Value> {
        serde_json::from_str(&self.0).ok()
    }
}

/// One queue's figures fetched for an hour (what the hook keeps between events).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fetched {
    /// Channel → cumulative statistics (`None`: asked, not answered yet).
    #[serde(default)]
    pub cumulative: BTreeMap<String, Option<Kept>>,
    #[serde(default)]
    pub members: Option<Vec<String>>,
}

/// One hour being closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub hour: String,
    start_ms: f64,
    pub phase: Phase,
    /// The claim's key and how it is taken (`None`: no claim, the scripts' closing).
    claim: Option<(String, Take)>,
    #[serde(default)]
    claimed: bool,
    /// The claims map is missing: the claim waits for its creation.
    #[serde(default)]
    claim_needs_map: bool,
    #[serde(default)]
    takeover: bool,
    /// Keys stored already (found by the take-over check).
    #[serde(default)]
    existing: BTreeSet<String>,
    #[serde(default)]
    stored: Vec<Value>,
    /// What was asked of this hour (`claim`, `check|<map>`, `q|<sid>`, `c|<sid>|<channel>`, `ev`).
    #[serde(default)]
    asked: BTreeSet<String>,
    /// Queue SID → its figures so far.
    #[serde(default)]
    pub fetched: BTreeMap<String, Fetched>,
    #[serde(default)]
    accepted: Option<Vec<Value>>,
    #[serde(default)]
    completed: Option<Vec<Value>>,
    #[serde(default)]
    writes: Vec<Write>,
    #[serde(default)]
    wrote: bool,
    pub note: Option<Note>,
}

impl Job {
    /// Whether its claim was won (or it needed none).
    pub fn claimed(&self) -> bool {
        self.claimed || self.claim.is_none()
    }

    pub fn finished(&self) -> bool {
        matches!(
            self.phase,
            Phase::Done | Phase::Failed | Phase::Lost | Phase::Paused
        )
    }
}

/// Where an outcome goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
enum Tag {
    Claim {
        job: usize,
    },
    ClaimCheck {
        job: usize,
    },
    Check {
        job: usize,
        channel: String,
    },
    Cumulative {
        job: usize,
        queue: String,
        channel: String,
    },
    Events {
        job: usize,
        completed: bool,
    },
    Members {
        queue: String,
    },
    Workers,
    Activity,
    Create {
        job: usize,
        write: usize,
    },
    CreateMap {
        map: String,
    },
    Prune {
        index: usize,
    },
    Delete,
    DropClaim,
}

/// The agents' activity of the run, newest first, read as far back as needed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityRead {
    from: Option<String>,
    to: String,
    events: Vec<Value>,
    oldest_ms: Option<f64>,
    next: Option<Value>,
    started: bool,
    done: bool,
    asking: bool,
}

impl ActivityRead {
    fn covers(&self, start_ms: f64) -> bool {
        self.done || self.oldest_ms.is_some_and(|o| o <= start_ms)
    }
}

/// The listing of a map's expired hours, to delete them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Prune {
    read: RangeRead,
    asking: bool,
    done: bool,
}

/// The engine's state (part of each machine's state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Closer {
    pub env: Value,
    pub ids: Ids,
    kind: claim::Kind,
    pub queues: Vec<QueueName>,
    pub jobs: Vec<Job>,
    members: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    members_asked: BTreeSet<String>,
    workers: Option<Vec<Value>>,
    #[serde(default)]
    workers_asked: bool,
    activity: ActivityRead,
    /// Map → whether its creation came back.
    #[serde(default)]
    maps: BTreeMap<String, bool>,
    #[serde(default)]
    prunes: Vec<Prune>,
    #[serde(default)]
    pruned: BTreeMap<String, String>,
    #[serde(default)]
    deletes: Vec<(String, String)>,
    #[serde(default)]
    drops: Vec<String>,
    #[serde(default)]
    inflight: Vec<Tag>,
    /// A read every hour needs failed: the hours fetching fail with it.
    #[serde(default)]
    shared_failure: Option<Note>,
    /// New queues this run may start fetching (the hook's per-event budget).
    #[serde(default)]
    pub queue_limit: Option<usize>,
    #[serde(default)]
    queues_started: usize,
    /// Claims are kept when an hour fails (the hook's: it goes on with the next event).
    #[serde(default)]
    pub keep_claims: bool,
    /// A claim was lost since the caller last looked ([`Closer::lost_since`]).
    #[serde(default)]
    lost: bool,
    pub counts: Counts,
}

/// A failure as the answer's note for an hour.
pub fn note_of(f: &Failure) -> Note {
    if !f.attempted {
        return Note {
            code: "pending".into(),
            reason: "backfill pending: the time budget ran out; ask again".into(),
        };
    }
    let what = match (f.status, f.code) {
        (Some(s), Some(c)) => format!("{s} ({c}): {}", f.message),
        (Some(s), None) => format!("{s}: {}", f.message),
        _ => f.message.clone(),
    };
    Note {
        code: "failed".into(),
        reason: format!("TaskRouter or Sync failed while backfilling: {what}"),
    }
}

/// The note of an hour another request holds.
pub fn held_note() -> Note {
    Note {
        code: "pending".into(),
        reason: "backfill pending: another request is fetching this hour; ask again".into(),
    }
}

fn duplicate(f: &Failure) -> bool {
    f.is(409) || f.code == Some(effects::SYNC_ITEM_EXISTS) || f.code == Some(54301)
}

/// The instant of an hour's start (RFC 3339).
pub fn instant_of(hour: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(hour)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Queue history's settings from the environment the shim passed.
pub fn config_of(env: &Value) -> Result<Config, history::HistoryError> {
    let env: history::Env = serde_json::from_value(env.clone())
        .map_err(|e| history::HistoryError::Input(format!("settings: {e}")))?;
    Config::from_env(&env)
}

/// The workspace and Flex's Sync service (queue history's) from the settings
/// (`values::env::flex_services`).
pub fn services_of(env: &Value) -> Result<(String, String), history::HistoryError> {
    Ok(values::env::flex_services(|name| {
        env.get(name).and_then(Value::as_str)
    })?)
}

fn event_ms(e: &Value) -> Option<f64> {
    let ms = e.get("eventDateMs").and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse::<f64>().ok()))
    });
    ms.or_else(|| {
        e.get("eventDate")
            .and_then(Value::as_str)
            .and_then(instant_of)
            .map(|d| d.timestamp_millis() as f64)
    })
    .filter(|m| m.is_finite())
}

/// Cumulative statistics with only what `history::Bucket::from_cumulative` reads (the run's
/// state carries every queue's until the hour is written).
fn compact_stats(stats: Value) -> Value {
    const KEPT: [&str; 12] = [
        "tasks_entered",
        "tasksEntered",
        "reservations_accepted",
        "reservationsAccepted",
        "tasks_canceled",
        "tasksCanceled",
        "wait_duration_until_accepted",
        "waitDurationUntilAccepted",
        "wait_duration_until_canceled",
        "waitDurationUntilCanceled",
        "split_by_wait_time",
        "splitByWaitTime",
    ];
    // Per threshold, below and above: what is accepted and canceled.
    let sides = |split: &mut Value| {
        if let Value::Object(thresholds) = split {
            for t in thresholds.values_mut() {
                if let Value::Object(t) = t {
                    t.retain(|side, _| side == "below" || side == "above");
                    for side in t.values_mut() {
                        if let Value::Object(side) = side {
                            side.retain(|k, _| {
                                matches!(
                                    k.as_str(),
                                    "reservations_accepted"
                                        | "reservationsAccepted"
                                        | "tasks_canceled"
                                        | "tasksCanceled"
                                )
                            });
                        }
                    }
                }
            }
        }
    };
    match stats {
        Value::Object(mut all) => {
            all.retain(|k, _| KEPT.contains(&k.as_str()));
            for key in ["split_by_wait_time", "splitByWaitTime"] {
                if let Some(split) = all.get_mut(key) {
                    sides(split);
                }
            }
            Value::Object(all)
        }
        other => other,
    }
}

/// An activity event with only what `history::agents` reads (the run's state carries them all).
fn compact_activity(e: &Value) -> Value {
    const KEPT: [&str; 9] = [
        "worker_sid",
        "workerSid",
        "WorkerSid",
        "worker_activity_name",
        "workerActivityName",
        "WorkerActivityName",
        "worker_previous_activity_name",
        "workerPreviousActivityName",
        "WorkerPreviousActivityName",
    ];
    let data = e.get("eventData").or_else(|| e.get("event_data"));
    let mut kept = serde_json::Map::new();
    if let Some(d) = data.and_then(Value::as_object) {
        for k in KEPT {
            if let Some(v) = d.get(k) {
                kept.insert(k.to_string(), v.clone());
            }
        }
    }
    json!({
        "eventType": e.get("eventType").or_else(|| e.get("event_type")),
        "resourceSid": e.get("resourceSid").or_else(|| e.get("resource_sid")),
        "eventDateMs": event_ms(e),
        "eventData": kept,
    })
}

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// `[{sid, friendlyName}]` from a TaskQueues listing.
pub fn queue_names(v: &Value) -> Vec<QueueName> {
    list(v)
        .iter()
        .filter_map(|q| {
            Some(QueueName {
                sid: q.get("sid")?.as_str()?.to_string(),
                friendly_name: q
                    .get("friendlyName")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect()
}

/// The request listing the workspace's queues.
pub fn list_queues(workspace_sid: &str) -> Op {
    Op::ListTaskQueues {
        workspace_sid: workspace_sid.to_string(),
        worker_sid: None,
        paging: Paging {
            page_size: Some(LIST_PAGE),
            limit: LIST_LIMIT,
        },
    }
}

impl Closer {
    pub fn new(
        env: Value,
        ids: Ids,
        kind: claim::Kind,
        queues: Vec<QueueName>,
        at_ms: f64,
    ) -> Closer {
        let to = history::time::instant(at_ms)
            .map(history::time::iso)
            .unwrap_or_default();
        Closer {
            env,
            ids,
            kind,
            queues,
            jobs: Vec::new(),
            members: BTreeMap::new(),
            members_asked: BTreeSet::new(),
            workers: None,
            workers_asked: false,
            activity: ActivityRead {
                to,
                ..ActivityRead::default()
            },
            maps: BTreeMap::new(),
            prunes: Vec::new(),
            pruned: BTreeMap::new(),
            deletes: Vec::new(),
            drops: Vec::new(),
            inflight: Vec::new(),
            shared_failure: None,
            queue_limit: None,
            queues_started: 0,
            keep_claims: false,
            lost: false,
            counts: Counts::default(),
        }
    }

    /// The agents' activity is listed from `from` (the oldest hour the run may close).
    pub fn activity_from(&mut self, from: &str) {
        if !self.activity.started {
            self.activity.from = Some(from.to_string());
        }
    }

    /// Adds an hour to close: claimed first when `claim` is given (its key and how).
    pub fn add(&mut self, hour: &str, claim: Option<(String, Take)>) {
        let start_ms = instant_of(hour).map_or(f64::NAN, |d| d.timestamp_millis() as f64);
        let phase = if claim.is_some() {
            Phase::Claim
        } else {
            Phase::Fetch
        };
        self.jobs.push(Job {
            hour: hour.to_string(),
            start_ms,
            phase,
            claim,
            claimed: false,
            claim_needs_map: false,
            takeover: false,
            existing: BTreeSet::new(),
            stored: Vec::new(),
            asked: BTreeSet::new(),
            fetched: BTreeMap::new(),
            accepted: None,
            completed: None,
            writes: Vec::new(),
            wrote: false,
            note: None,
        });
        if let Some(job) = self.jobs.last_mut() {
            if !job.start_ms.is_finite() {
                job.phase = Phase::Failed;
                job.note = Some(Note {
                    code: "failed".into(),
                    reason: format!("{hour:?} is not an hour"),
                });
            }
        }
    }

    /// The hook's queues fetched by earlier events, for the last job added.
    pub fn restore(&mut self, fetched: BTreeMap<String, Fetched>) {
        for (sid, f) in &fetched {
            if let Some(m) = &f.members {
                self.members.insert(sid.clone(), m.clone());
                self.members_asked.insert(sid.clone());
            }
        }
        if let Some(job) = self.jobs.last_mut() {
            for sid in fetched.keys() {
                job.asked.insert(format!("q|{sid}"));
            }
            job.fetched = fetched;
        }
    }

    /// A queue's members as read by this run.
    pub fn members_of(&self, sid: &str) -> Option<Vec<String>> {
        self.members.get(sid).cloned()
    }

    /// Hours being worked on (not finished).
    pub fn active(&self) -> usize {
        self.jobs.iter().filter(|j| !j.finished()).count()
    }

    /// Whether nothing is in flight and nothing is left to ask.
    pub fn idle(&self) -> bool {
        self.inflight.is_empty()
    }

    /// Whether a claim was lost since the last call.
    pub fn lost_since(&mut self) -> bool {
        std::mem::take(&mut self.lost)
    }

    /// The notes of the hours not stored (failed, held, or stopped by the deadline).
    pub fn notes(&self) -> BTreeMap<String, Note> {
        self.jobs
            .iter()
            .filter_map(|j| j.note.clone().map(|n| (j.hour.clone(), n)))
            .collect()
    }

    /// TaskRouter reads one hour needs (the size of an hour, to decide how many at once).
    pub fn reads_per_hour(&self, config: &Config) -> usize {
        self.queues.len() * config.all_channels().len() + 2
    }

    /// The next requests (their outcomes go to [`Closer::take`], in the same order).
    pub fn step(&mut self, config: &Config, now_ms: f64) -> Vec<Op> {
        let mut out: Vec<(Op, Tag)> = Vec::new();
        let mut reads = 0usize;
        let ws = self.ids.workspace_sid.clone();
        let sync = self.ids.service_sid.clone();
        // Claims, checks and writes (Sync: paced by the executor).
        for j in 0..self.jobs.len() {
            let phase = self.jobs[j].phase;
            if phase == Phase::Claim && self.jobs[j].claim_needs_map {
                match self.maps.get(claim::CLAIMS_MAP) {
                    Some(true) => self.jobs[j].claim_needs_map = false,
                    Some(false) => continue,
                    None => {
                        self.maps.insert(claim::CLAIMS_MAP.into(), false);
                        out.push((
                            Op::CreateSyncMap {
                                service_sid: sync.clone(),
                                unique_name: claim::CLAIMS_MAP.into(),
                            },
                            Tag::CreateMap {
                                map: claim::CLAIMS_MAP.into(),
                            },
                        ));
                        continue;
                    }
                }
            }
            match phase {
                Phase::Claim if self.jobs[j].asked.insert("claim".into()) => {
                    if let Some(op) = self.claim_op(j, now_ms) {
                        out.push((op, Tag::Claim { job: j }));
                    }
                }
                Phase::ClaimCheck if self.jobs[j].asked.insert("claimCheck".into()) => {
                    if let Some((key, _)) = &self.jobs[j].claim {
                        out.push((
                            Op::FetchSyncItem {
                                service_sid: sync.clone(),
                                map: claim::CLAIMS_MAP.into(),
                                key: key.clone(),
                            },
                            Tag::ClaimCheck { job: j },
                        ));
                    }
                }
                Phase::Check => {
                    let hour = self.jobs[j].hour.clone();
                    for channel in config.all_channels() {
                        if !self.jobs[j].asked.insert(format!("check|{channel}")) {
                            continue;
                        }
                        let Some(start) = instant_of(&hour) else {
                            continue;
                        };
                        let (from, to) = store::key_range(&channel, start, start);
                        let read = RangeRead::new(&sync, &store::map_name(&channel), &from, &to);
                        out.push((read.op(), Tag::Check { job: j, channel }));
                    }
                }
                Phase::Write => {
                    for w in 0..self.jobs[j].writes.len() {
                        let write = &self.jobs[j].writes[w];
                        match write.state {
                            WriteState::Todo => {
                                out.push((
                                    Op::CreateSyncItem {
                                        service_sid: sync.clone(),
                                        map: write.map.clone(),
                                        key: write.key.clone(),
                                        data: write.data.clone(),
                                        ttl: None,
                                    },
                                    Tag::Create { job: j, write: w },
                                ));
                                self.jobs[j].writes[w].state = WriteState::Sent;
                            }
                            WriteState::NeedMap if !self.maps.contains_key(&write.map) => {
                                let map = write.map.clone();
                                self.maps.insert(map.clone(), false);
                                out.push((
                                    Op::CreateSyncMap {
                                        service_sid: sync.clone(),
                                        unique_name: map.clone(),
                                    },
                                    Tag::CreateMap { map },
                                ));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        // Shared reads first: the activity pages are read one after the other.
        let fetching: Vec<usize> = (0..self.jobs.len())
            .filter(|&j| self.jobs[j].phase == Phase::Fetch)
            .collect();
        // The hook's hour reads them only in the event that starts its last queues.
        let finishing = fetching.iter().any(|&j| {
            let left = self
                .queues
                .iter()
                .filter(|q| !self.jobs[j].asked.contains(&format!("q|{}", q.sid)))
                .count();
            self.queue_limit
                .is_none_or(|l| left <= l.saturating_sub(self.queues_started))
        });
        if finishing {
            let needs_activity = fetching
                .iter()
                .any(|&j| !self.activity.covers(self.jobs[j].start_ms));
            if needs_activity && !self.activity.asking {
                let (page, page_token) = match &self.activity.next {
                    Some(n) => (
                        n.get("page")
                            .and_then(Value::as_u64)
                            .and_then(|p| u32::try_from(p).ok()),
                        n.get("pageToken")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    ),
                    None => (None, None),
                };
                if self.activity.from.is_none() {
                    let oldest = fetching
                        .iter()
                        .map(|&j| self.jobs[j].hour.clone())
                        .min()
                        .unwrap_or_default();
                    self.activity.from = Some(oldest);
                }
                self.activity.started = true;
                self.activity.asking = true;
                reads += 1;
                out.push((
                    Op::ListEventsPage {
                        workspace_sid: ws.clone(),
                        event_type: Some("worker.activity.update".into()),
                        start_date: self.activity.from.clone(),
                        end_date: Some(self.activity.to.clone()),
                        page_size: Some(LIST_PAGE),
                        page,
                        page_token,
                    },
                    Tag::Activity,
                ));
            }
            if !self.workers_asked {
                self.workers_asked = true;
                reads += 1;
                out.push((
                    Op::ListWorkers {
                        workspace_sid: ws.clone(),
                        task_queue_sid: None,
                        paging: Paging {
                            page_size: Some(LIST_PAGE),
                            limit: LIST_LIMIT,
                        },
                    },
                    Tag::Workers,
                ));
            }
        }
        for &j in &fetching {
            let p = match instant_of(&self.jobs[j].hour) {
                Some(start) => history::hour_params(config, start),
                None => continue,
            };
            // Queues first (within the hook's budget); the hour's events once every queue is
            // started, so a paused hour asks them once, in the event that completes it.
            for q in 0..self.queues.len() {
                if reads >= MAX_READS {
                    break;
                }
                let sid = self.queues[q].sid.clone();
                let marker = format!("q|{sid}");
                if !self.jobs[j].asked.contains(&marker) {
                    if self.queue_limit.is_some_and(|l| self.queues_started >= l) {
                        break;
                    }
                    self.queues_started += 1;
                    self.jobs[j].asked.insert(marker);
                }
                if self.members_asked.insert(sid.clone()) {
                    reads += 1;
                    out.push((
                        Op::ListWorkers {
                            workspace_sid: ws.clone(),
                            task_queue_sid: Some(sid.clone()),
                            paging: Paging {
                                page_size: Some(LIST_PAGE),
                                limit: LIST_LIMIT,
                            },
                        },
                        Tag::Members { queue: sid.clone() },
                    ));
                }
                for channel in &p.channels {
                    if reads >= MAX_READS {
                        break;
                    }
                    // Asked: a null in its place until the statistics come.
                    let entry = self.jobs[j].fetched.entry(sid.clone()).or_default();
                    if entry.cumulative.contains_key(channel) {
                        continue;
                    }
                    entry.cumulative.insert(channel.clone(), None);
                    reads += 1;
                    out.push((
                        Op::FetchTaskQueueCumulativeStatistics {
                            workspace_sid: ws.clone(),
                            task_queue_sid: sid.clone(),
                            start_date: Some(p.start_date.clone()),
                            end_date: Some(p.end_date.clone()),
                            minutes: None,
                            split_by_wait_time: Some(p.split_by_wait_time.clone())
                                .filter(|s| !s.is_empty()),
                            task_channel: (channel != ALL).then(|| channel.clone()),
                        },
                        Tag::Cumulative {
                            job: j,
                            queue: sid.clone(),
                            channel: channel.clone(),
                        },
                    ));
                }
            }
            let all_started = self
                .queues
                .iter()
                .all(|q| self.jobs[j].asked.contains(&format!("q|{}", q.sid)));
            if all_started
                && reads + 2 <= MAX_READS.max(2)
                && self.jobs[j].asked.insert("ev".into())
            {
                reads += 2;
                for (completed, from) in [(false, &p.events_from), (true, &p.start_date)] {
                    out.push((
                        Op::ListEvents {
                            workspace_sid: ws.clone(),
                            event_type: Some(
                                if completed {
                                    "task.completed"
                                } else {
                                    "reservation.accepted"
                                }
                                .into(),
                            ),
                            start_date: Some(from.clone()),
                            end_date: Some(p.end_date.clone()),
                            task_queue_sid: None,
                            paging: PagingAll {
                                page_size: Some(LIST_PAGE),
                                limit: None,
                            },
                        },
                        Tag::Events { job: j, completed },
                    ));
                }
            }
        }
        // Pruning, deletes and dropped claims.
        for (index, prune) in self.prunes.iter_mut().enumerate() {
            if !prune.asking && !prune.done {
                prune.asking = true;
                out.push((prune.read.op(), Tag::Prune { index }));
            }
        }
        for (map, key) in std::mem::take(&mut self.deletes) {
            out.push((
                Op::DeleteSyncItem {
                    service_sid: sync.clone(),
                    map,
                    key,
                    if_match: None,
                },
                Tag::Delete,
            ));
        }
        for key in std::mem::take(&mut self.drops) {
            out.push((
                Op::DeleteSyncItem {
                    service_sid: sync.clone(),
                    map: claim::CLAIMS_MAP.into(),
                    key,
                    if_match: None,
                },
                Tag::DropClaim,
            ));
        }
        let (ops, tags): (Vec<Op>, Vec<Tag>) = out.into_iter().unzip();
        for op in &ops {
            self.counts.add(op);
        }
        self.inflight = tags;
        // Nothing asked and hours still fetching: the hook's budget is spent.
        if self.inflight.is_empty() {
            for job in &mut self.jobs {
                if job.phase == Phase::Fetch {
                    job.phase = Phase::Paused;
                }
            }
        }
        ops
    }

    fn claim_op(&self, j: usize, now_ms: f64) -> Option<Op> {
        let job = &self.jobs[j];
        let (key, take) = job.claim.as_ref()?;
        let data = match &self.ids.run {
            Some(run) => claim::new_run_claim(&job.hour, &self.ids.owner, run, self.kind, now_ms),
            None => claim::new_claim(&job.hour, &self.ids.owner, self.kind, now_ms),
        };
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        Some(match take {
            Take::Create => Op::CreateSyncItem {
                service_sid: self.ids.service_sid.clone(),
                map: claim::CLAIMS_MAP.into(),
                key: key.clone(),
                data,
                ttl: Some(claim::CLAIM_TTL_S),
            },
            Take::Update { revision } => Op::UpdateSyncItem {
                service_sid: self.ids.service_sid.clone(),
                map: claim::CLAIMS_MAP.into(),
                key: key.clone(),
                data,
                ttl: Some(claim::CLAIM_TTL_S),
                if_match: revision.clone(),
            },
        })
    }

    fn fail(&mut self, j: usize, note: Note) {
        let job = &mut self.jobs[j];
        if job.finished() {
            return;
        }
        job.phase = Phase::Failed;
        job.note = Some(note);
        // Let the next request try again at once, unless items of it were written (then the
        // claim runs out and the take-over checks what is stored).
        if job.claimed && !job.wrote && !self.keep_claims {
            if let Some((key, _)) = &job.claim {
                self.drops.push(key.clone());
            }
        }
    }

    /// Takes the outcomes of the last [`Closer::step`].
    pub fn take(&mut self, config: &Config, outcomes: Vec<Outcome>, now_ms: f64) {
        let tags = std::mem::take(&mut self.inflight);
        let mut outcomes = outcomes.into_iter();
        for tag in tags {
            let outcome = outcomes
                .next()
                .unwrap_or_else(|| Outcome::Failed(Failure::missing()));
            self.route(config, tag, outcome, now_ms);
        }
        if let Some(note) = self.shared_failure.clone() {
            for j in 0..self.jobs.len() {
                if self.jobs[j].phase == Phase::Fetch {
                    self.fail(j, note.clone());
                }
            }
        }
        for j in 0..self.jobs.len() {
            if self.jobs[j].phase == Phase::Fetch && self.ready(config, j) {
                self.start_writing(config, j);
            }
            if self.jobs[j].phase == Phase::Write
                && self.jobs[j]
                    .writes
                    .iter()
                    .all(|w| w.state == WriteState::Done)
            {
                self.jobs[j].phase = Phase::Done;
                self.jobs[j].writes.clear();
            }
        }
    }

    fn route(&mut self, config: &Config, tag: Tag, outcome: Outcome, now_ms: f64) {
        match tag {
            Tag::Claim { job } => self.claimed(job, outcome),
            Tag::ClaimCheck { job } => match outcome.found() {
                Ok(Some(item)) => {
                    let state = claim::state_of_run(
                        item.get("data"),
                        &self.ids.owner,
                        self.ids.run.as_deref(),
                        now_ms,
                    );
                    if matches!(state, claim::State::Held { .. } | claim::State::Free) {
                        self.lose(job);
                    } else if let Some((_, take)) = self.jobs[job].claim.as_mut() {
                        *take = Take::Update {
                            revision: item
                                .get("revision")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        };
                        self.jobs[job].asked.remove("claim");
                        self.jobs[job].phase = Phase::Claim;
                    }
                }
                Ok(None) => self.lose(job),
                Err(f) => self.fail(job, note_of(&f)),
            },
            Tag::Check { job, channel } => match outcome.found() {
                Ok(page) => {
                    for item in page.as_ref().map(list).unwrap_or_default() {
                        if let Some(key) = item.get("key").and_then(Value::as_str) {
                            self.jobs[job].existing.insert(key.to_string());
                        }
                        if let Some(data) = item.get("data") {
                            self.jobs[job].stored.push(data.clone());
                        }
                    }
                    self.jobs[job].asked.insert(format!("checked|{channel}"));
                    let all = config
                        .all_channels()
                        .iter()
                        .all(|c| self.jobs[job].asked.contains(&format!("checked|{c}")));
                    if all && self.jobs[job].phase == Phase::Check {
                        let start = instant_of(&self.jobs[job].hour);
                        let complete = start.is_some_and(|s| {
                            config.all_channels().iter().all(|c| {
                                store::read_items(c, &self.jobs[job].stored)
                                    .get(&s)
                                    .is_some_and(|h| h.complete())
                            })
                        });
                        self.jobs[job].stored.clear();
                        self.jobs[job].phase = if complete { Phase::Done } else { Phase::Fetch };
                    }
                }
                Err(f) => self.fail(job, note_of(&f)),
            },
            Tag::Cumulative {
                job,
                queue,
                channel,
            } => match outcome.into_result() {
                Ok(stats) => {
                    self.jobs[job]
                        .fetched
                        .entry(queue)
                        .or_default()
                        .cumulative
                        .insert(channel, Kept::of(&compact_stats(stats)));
                }
                Err(f) => self.fail(job, note_of(&f)),
            },
            Tag::Events { job, completed } => match outcome.into_result() {
                Ok(v) => {
                    if completed {
                        self.jobs[job].completed = Some(list(&v));
                    } else {
                        self.jobs[job].accepted = Some(list(&v));
                    }
                }
                Err(f) => self.fail(job, note_of(&f)),
            },
            Tag::Members { queue } => match outcome.into_result() {
                Ok(v) => {
                    let sids: Vec<String> = list(&v)
                        .iter()
                        .filter_map(|w| w.get("sid").and_then(Value::as_str).map(str::to_string))
                        .collect();
                    self.members.insert(queue, sids);
                }
                Err(f) => self.shared_failure = Some(note_of(&f)),
            },
            Tag::Workers => match outcome.into_result() {
                Ok(v) => {
                    self.workers = Some(
                        list(&v)
                            .iter()
                            .map(|w| json!({"sid": w.get("sid"), "activityName": w.get("activityName")}))
                            .collect(),
                    );
                }
                Err(f) => self.shared_failure = Some(note_of(&f)),
            },
            Tag::Activity => {
                self.activity.asking = false;
                match outcome.into_result() {
                    Ok(v) => {
                        let events = v.get("events").map(list).unwrap_or_default();
                        for e in &events {
                            if let Some(ms) = event_ms(e) {
                                self.activity.oldest_ms =
                                    Some(self.activity.oldest_ms.map_or(ms, |o| o.min(ms)));
                            }
                        }
                        self.activity
                            .events
                            .extend(events.iter().map(compact_activity));
                        self.activity.next = v.get("next").filter(|n| !n.is_null()).cloned();
                        if self.activity.next.is_none() || events.is_empty() {
                            self.activity.done = true;
                        }
                    }
                    Err(f) => self.shared_failure = Some(note_of(&f)),
                }
            }
            Tag::Create { job, write } => {
                let state = match outcome {
                    Outcome::Done(_) => {
                        self.jobs[job].wrote = true;
                        WriteState::Done
                    }
                    Outcome::Failed(f) if duplicate(&f) => WriteState::Done,
                    Outcome::Failed(f) if f.is(404) => {
                        let map = self.jobs[job].writes.get(write).map(|w| w.map.clone());
                        if map.is_some_and(|m| self.maps.get(&m) == Some(&true)) {
                            // The map was made and is missing again: give up on the hour.
                            self.fail(job, note_of(&f));
                            return;
                        }
                        WriteState::NeedMap
                    }
                    Outcome::Failed(f) => {
                        self.fail(job, note_of(&f));
                        return;
                    }
                };
                if let Some(w) = self.jobs[job].writes.get_mut(write) {
                    w.state = state;
                }
            }
            Tag::CreateMap { map } => {
                let made = match outcome {
                    Outcome::Done(_) => true,
                    Outcome::Failed(f) => duplicate(&f),
                };
                if made {
                    self.maps.insert(map.clone(), true);
                    for job in &mut self.jobs {
                        for w in &mut job.writes {
                            if w.map == map && w.state == WriteState::NeedMap {
                                w.state = WriteState::Todo;
                            }
                        }
                    }
                } else {
                    self.maps.remove(&map);
                    let failure = outcome_note(&map);
                    for j in 0..self.jobs.len() {
                        let waits_claim = map == claim::CLAIMS_MAP
                            && self.jobs[j].claim_needs_map
                            && self.jobs[j].phase == Phase::Claim;
                        if waits_claim
                            || self.jobs[j]
                                .writes
                                .iter()
                                .any(|w| w.map == map && w.state == WriteState::NeedMap)
                        {
                            self.fail(j, failure.clone());
                        }
                    }
                }
            }
            Tag::Prune { index } => {
                let Some(prune) = self.prunes.get_mut(index) else {
                    return;
                };
                prune.asking = false;
                match prune.read.take(outcome) {
                    Ok(false) => {}
                    // Read (or failed: the next hour's prune covers it): delete what expired.
                    other => {
                        if other.is_ok() {
                            for item in &prune.read.items {
                                self.deletes
                                    .push((prune.read.map.clone(), item.key.clone()));
                            }
                        }
                        prune.read.items.clear();
                        prune.done = true;
                    }
                }
            }
            Tag::Delete | Tag::DropClaim => {}
        }
    }

    fn claimed(&mut self, job: usize, outcome: Outcome) {
        let take = self.jobs[job].claim.as_ref().map(|(_, t)| t.clone());
        match (outcome, take) {
            (Outcome::Done(_), Some(take)) => {
                let j = &mut self.jobs[job];
                j.claimed = true;
                j.takeover = matches!(take, Take::Update { .. });
                j.phase = if j.takeover {
                    Phase::Check
                } else {
                    Phase::Fetch
                };
            }
            (Outcome::Failed(f), Some(Take::Create)) if duplicate(&f) => {
                self.jobs[job].phase = Phase::ClaimCheck;
            }
            // No claims map yet: create it, then the claim again (once).
            (Outcome::Failed(f), Some(Take::Create))
                if f.is(404) && self.maps.get(claim::CLAIMS_MAP) != Some(&true) =>
            {
                self.jobs[job].claim_needs_map = true;
                self.jobs[job].asked.remove("claim");
            }
            (Outcome::Failed(f), Some(Take::Update { .. }))
                if f.is(412) || f.is(404) || f.is(409) || f.code == Some(54103) =>
            {
                self.lose(job)
            }
            (Outcome::Failed(f), _) => self.fail(job, note_of(&f)),
            (Outcome::Done(_), None) => {}
        }
    }

    fn lose(&mut self, job: usize) {
        self.jobs[job].phase = Phase::Lost;
        self.jobs[job].note = Some(held_note());
        self.lost = true;
    }

    fn ready(&self, config: &Config, j: usize) -> bool {
        let job = &self.jobs[j];
        let channels = config.all_channels();
        job.accepted.is_some()
            && job.completed.is_some()
            && self.workers.is_some()
            && self.activity.covers(job.start_ms)
            && self.queues.iter().all(|q| {
                self.members.contains_key(&q.sid)
                    && job.fetched.get(&q.sid).is_some_and(|f| {
                        channels
                            .iter()
                            .all(|c| f.cumulative.get(c).is_some_and(Option::is_some))
                    })
            })
    }

    fn start_writing(&mut self, config: &Config, j: usize) {
        let Some(start) = instant_of(&self.jobs[j].hour) else {
            return;
        };
        let end = history::time::next_hour(config.time_zone, start);
        let job = &self.jobs[j];
        let input = HourInput {
            queues: self
                .queues
                .iter()
                .map(|q| QueueHour {
                    sid: q.sid.clone(),
                    friendly_name: q.friendly_name.clone(),
                    cumulative: job
                        .fetched
                        .get(&q.sid)
                        .map(|f| {
                            f.cumulative
                                .iter()
                                .filter_map(|(c, kept)| {
                                    kept.as_ref().and_then(Kept::value).map(|v| (c.clone(), v))
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    workers: None,
                    members: self.members.get(&q.sid).cloned(),
                })
                .collect(),
            events: job
                .accepted
                .iter()
                .chain(job.completed.iter())
                .flatten()
                .cloned()
                .collect(),
            activity: self.activity.events.clone(),
            workers: self.workers.clone().unwrap_or_default(),
        };
        let writes: Vec<Write> = history::hour_items(config, start, end, &input)
            .into_iter()
            .filter(|i| !job.existing.contains(&i.key))
            .map(|i| Write {
                map: i.map,
                key: i.key,
                data: i.data,
                state: WriteState::Todo,
            })
            .collect();
        // The hours that left retention, once per map and run (newest hour first: its range
        // covers the older ones').
        for range in history::hour_params(config, start).prune {
            if self
                .pruned
                .get(&range.map)
                .is_some_and(|to| *to >= range.to)
            {
                continue;
            }
            self.pruned.insert(range.map.clone(), range.to.clone());
            self.prunes.push(Prune {
                read: RangeRead::new(&self.ids.service_sid, &range.map, &range.from, &range.to),
                asking: false,
                done: false,
            });
        }
        let job = &mut self.jobs[j];
        job.writes = writes;
        job.fetched.clear();
        job.accepted = None;
        job.completed = None;
        job.phase = Phase::Write;
    }
}

fn outcome_note(map: &str) -> Note {
    Note {
        code: "failed".into(),
        reason: format!(
            "TaskRouter or Sync failed while backfilling: the Sync map {map} could not be created"
        ),
    }
}
