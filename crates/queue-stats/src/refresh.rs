//! The refresh and bulk machines (effects protocol, docs/effects.md): a queue's reads, its
//! record, and the [`store`] machine that writes it, in one run.
//!
//! **Works.** A container runs one refresh per queue at a time; the events arriving meanwhile
//! wait and go together into the next run. What each asks for is a [`Work`]: refresh some
//! channels (a task or queue event), or apply a queue's figures from a bulk real-time statistics
//! response (a worker event). [`merge`] says how the works of one run combine: refreshes unite
//! their channels (the latest name given wins, a creation stays one); a bulk entry gives way to a
//! refresh in the same run (fresher figures), and one that waited behind another run is dropped
//! (that run fetched after it: storing it would move the record backwards).
//!
//! **A refresh** ([`refresh`]) reads at once: the stored record when the container does not
//! remember it (`fetchSyncItem` or `fetchSyncDocument` per layout), the queue's `Statistics` per
//! channel (none for a queue this container saw deleted) and, when parked calls are on the board,
//! one list of `Global.ParkedCalls`. Then the queue's name when neither the events nor the record
//! give it (`fetchTaskQueue`). It builds the record ([`crate::record::build`]; a queue whose
//! `Statistics` all answered 404 is gone), puts the parked figures on it
//! ([`parking::board::with_parked`]; a failed list keeps the previous figures) and continues into
//! the store machine. **A bulk entry** reads only the stored record when not remembered, and
//! builds with [`crate::record::apply_realtime_all`].
//!
//! **The bulk machine** ([`bulk`]): the queues of the workers of a run of worker events
//! (`listTaskQueues` by worker, or every queue once when one event names no worker), less those
//! this container saw deleted, in batches of [`crate::BULK_LIMIT`], one
//! `createTaskQueueBulkRealTimeStatistics` each, paced by the executor to the endpoint's 5
//! requests a second ([`bulk_pace`]), beside one list of `Global.ParkedCalls`. Its answer is one
//! bulk [`Work`] per queue, which the container runs through each queue's refresh.
//!
//! The answer of a refresh is the store machine's summary with `taskrouterCalls`, the reads and
//! errors of the refresh added, `remember` (the record read when the store wrote none), `deleted`,
//! and for the wallboard's copy `copy` (the plan `startBoardCopy` takes, or null) and
//! `boardRemove`.

use std::collections::BTreeMap;

use effects::{Answer, Effect, Failure, Op, Outcome, Pace, Paging, Step};
use parking::board::{parked_by_queue, with_parked, QueueParked};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::{Carried, Config, Layout};
use crate::record::{apply_realtime_all, batches, build, Fetched, QueueRef};
use crate::store::{self, describe, Settings, Status, Store, StoreInput};
use crate::write::{gone, plan_for, target, Known, WriteInput, WritePlan};
use crate::{document_name, statistics_params, BULK_LIMIT, MAP_NAME};

/// TaskRouter takes at most this many bulk real-time statistics requests a second.
pub const BULK_PER_SECOND: f64 = 5.0;
/// The share of an object's budget the executor's pacer gives one container (common/sync-pacer).
pub const PACER_SHARE: f64 = 0.8;
/// The most parked-call entries read for the board.
pub const PARKED_LIST_LIMIT: u32 = 10_000;

/// The pace of a bulk request: its cost is `PACER_SHARE / BULK_PER_SECOND` (0.16) of the
/// workspace's `RealTimeStatistics` second, so the pacer lets 5 through a second.
pub fn bulk_pace(workspace_sid: &str) -> Pace {
    Pace {
        object: format!("taskrouter:{workspace_sid}/RealTimeStatistics"),
        cost: PACER_SHARE / BULK_PER_SECOND,
    }
}

/// A queue's parked calls as a work carries them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "read", rename_all = "camelCase")]
pub enum Parked {
    /// Parked calls are not on the board (or the refresh reads them itself).
    #[default]
    Off,
    /// The list was read: the figures by queue name.
    #[serde(rename_all = "camelCase")]
    Read {
        by_queue: BTreeMap<String, QueueParked>,
    },
    /// The list could not be read: the previous figures stay.
    Failed,
}

/// What an event asks of its queue's next run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Work {
    /// Fetch `Statistics` for `channels` and rebuild the record.
    #[serde(rename_all = "camelCase")]
    Refresh {
        #[serde(default)]
        channels: Vec<String>,
        #[serde(default)]
        friendly_name: Option<String>,
        #[serde(default)]
        create: bool,
    },
    /// Apply the queue's entry of a bulk real-time statistics response.
    #[serde(rename_all = "camelCase")]
    Bulk {
        entry: Value,
        #[serde(default)]
        friendly_name: Option<String>,
        #[serde(default)]
        parked: Parked,
    },
}

/// One run's work from the works asked for meanwhile (see the module docs), and how many bulk
/// entries were dropped. `waited`: these works waited behind another run of the queue.
pub fn merge(works: &[Work], waited: bool) -> (Option<Work>, u32) {
    let bulks = works
        .iter()
        .filter(|w| matches!(w, Work::Bulk { .. }))
        .count();
    let bulks = u32::try_from(bulks).unwrap_or(u32::MAX);
    let mut merged: Option<(Vec<String>, Option<String>, bool)> = None;
    for w in works {
        if let Work::Refresh {
            channels,
            friendly_name,
            create,
        } = w
        {
            let (all, name, created) = merged.get_or_insert_with(|| (vec![], None, false));
            for c in channels {
                if !all.contains(c) {
                    all.push(c.clone());
                }
            }
            if friendly_name.as_deref().is_some_and(|n| !n.is_empty()) {
                name.clone_from(friendly_name);
            }
            *created |= *create;
        }
    }
    if let Some((channels, friendly_name, create)) = merged {
        let work = Work::Refresh {
            channels,
            friendly_name,
            create,
        };
        return (Some(work), bulks);
    }
    if waited {
        return (None, bulks);
    }
    let last = works.last().cloned();
    (last, bulks.saturating_sub(1))
}

/// What the container remembers of the queue.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// The record it last read or wrote, and its revision.
    #[serde(default)]
    pub record: Option<Remembered>,
    #[serde(default)]
    pub deleted_here: bool,
    #[serde(default)]
    pub index_confirmed: bool,
    /// It copied the queue to the wallboard before.
    #[serde(default)]
    pub mirrored: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remembered {
    pub data: Value,
    #[serde(default)]
    pub revision: Option<String>,
}

/// Where the reads and writes go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshSettings {
    pub sync_service_sid: String,
    pub workspace_sid: String,
    /// The Sync service of `Global.ParkedCalls`, when parked calls are on the board.
    #[serde(default)]
    pub parked_service_sid: Option<String>,
    /// A wallboard copy is kept (the answer says what to copy).
    #[serde(default)]
    pub board: bool,
}

/// The machines of this crate's wasm face, as the executor carries their state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "machine", rename_all = "camelCase")]
pub enum Machine {
    Store(Box<Store>),
    Refresh(Box<Refresh>),
    Storing(Box<Storing>),
    Bulk(Bulk),
}

/// A refresh reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refresh {
    queue_sid: String,
    config: Carried,
    settings: RefreshSettings,
    channels: Vec<String>,
    friendly_name: Option<String>,
    /// A bulk entry to apply instead of `Statistics`.
    entry: Option<Value>,
    parked: Parked,
    deleted_here: bool,
    index_confirmed: bool,
    mirrored: bool,
    /// The cached record, or the one read.
    previous: Option<Remembered>,
    known: Known,
    /// The record read now (remembered when the store writes none).
    read: Option<Remembered>,
    fetched: Vec<Fetched>,
    statuses: Vec<Option<u16>>,
    stage: Reading,
    start_date: String,
    split: String,
    tally: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Reading {
    /// The record (when not remembered), the statistics, the parked calls.
    First { record: bool, parked: bool },
    /// The queue's name.
    Name,
}

/// What a refresh adds to its store's answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extra {
    taskrouter_calls: u32,
    sync_reads: u32,
    skipped: u32,
    errors: Vec<String>,
}

/// A refresh's store, and what it adds to the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storing {
    store: Store,
    after: After,
}

/// What a refresh adds to its store's answer, and what decides the wallboard's copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct After {
    queue_sid: String,
    layout: Layout,
    board: bool,
    mirrored: bool,
    deleted_here: bool,
    /// The record this container knows before the store (cached or read).
    previous: Option<Remembered>,
    read: Option<Remembered>,
    tally: Extra,
}

/// The outcome of an effect the executor gave no result for.
fn missing() -> Outcome {
    Outcome::Failed(Failure::missing())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn revision(v: &Value) -> Option<String> {
    match v.get("revision") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn parked_list(service_sid: &str) -> Op {
    Op::ListSyncItems {
        service_sid: service_sid.into(),
        map: parking::GLOBAL_MAP.into(),
        from: None,
        bounds: None,
        order: None,
        paging: Paging {
            page_size: Some(100),
            limit: PARKED_LIST_LIMIT,
        },
    }
}

/// The parked figures from the list's outcome.
fn parked_of(outcome: Outcome) -> Parked {
    match outcome.found() {
        Ok(list) => {
            let entries: Vec<Value> = list
                .as_ref()
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("data").cloned())
                        .collect()
                })
                .unwrap_or_default();
            Parked::Read {
                by_queue: parked_by_queue(&entries),
            }
        }
        Err(_) => Parked::Failed,
    }
}

/// A summary with nothing done (`skipped` bulk entries dropped).
fn nothing(skipped: u32, errors: Vec<String>) -> Answer {
    Answer::json(
        200,
        json!({"plan": null, "taskrouterCalls": 0, "syncWrites": 0, "syncReads": 0,
            "skipped": skipped, "errors": errors, "remember": null, "forget": false,
            "indexConfirmed": false, "deleted": false, "copy": null, "boardRemove": false}),
    )
}

/// Starts a queue's run from the works asked for (see the module docs).
pub fn refresh(
    config: &Config,
    queue_sid: &str,
    works: &[Work],
    waited: bool,
    memory: &Memory,
    settings: &RefreshSettings,
    now_ms: f64,
) -> Step<Machine> {
    let (work, dropped) = merge(works, waited);
    let Some(work) = work else {
        return Step::answer(nothing(dropped, vec![]));
    };
    let params = match statistics_params(config, now_ms) {
        Ok(p) => p,
        Err(e) => return Step::answer(nothing(dropped, vec![format!("{queue_sid}: {e}")])),
    };
    let (channels, friendly_name, entry, parked) = match work {
        Work::Refresh {
            channels,
            friendly_name,
            ..
        } => (channels, friendly_name, None, Parked::Off),
        Work::Bulk {
            entry,
            friendly_name,
            parked,
        } => (vec![], friendly_name, Some(entry), parked),
    };
    let mut r = Refresh {
        queue_sid: queue_sid.into(),
        config: config.carried(),
        settings: settings.clone(),
        channels,
        friendly_name,
        parked,
        deleted_here: memory.deleted_here,
        index_confirmed: memory.index_confirmed,
        mirrored: memory.mirrored,
        previous: memory.record.clone(),
        known: Known::Cached,
        read: None,
        fetched: vec![],
        statuses: vec![],
        stage: Reading::Name,
        start_date: params.start_date,
        split: params.split_by_wait_time,
        tally: Extra {
            skipped: dropped,
            ..Extra::default()
        },
        entry,
    };
    let mut ops = vec![];
    let record = memory.record.is_none();
    if record {
        r.tally.sync_reads += 1;
        let t = target(config.layout, queue_sid);
        ops.push(if config.layout == Layout::Documents {
            Op::FetchSyncDocument {
                service_sid: settings.sync_service_sid.clone(),
                document: document_name(queue_sid),
            }
        } else {
            Op::FetchSyncItem {
                service_sid: settings.sync_service_sid.clone(),
                map: MAP_NAME.into(),
                key: t.key,
            }
        });
    }
    if !r.deleted_here && r.entry.is_none() {
        for channel in &r.channels {
            r.tally.taskrouter_calls += 1;
            ops.push(Op::FetchTaskQueueStatistics {
                workspace_sid: settings.workspace_sid.clone(),
                task_queue_sid: queue_sid.into(),
                task_channel: (channel != crate::config::ALL).then(|| channel.clone()),
                start_date: Some(r.start_date.clone()),
                split_by_wait_time: Some(r.split.clone()),
            });
        }
    }
    let parked = match (&settings.parked_service_sid, r.entry.is_none()) {
        (Some(service), true) if !r.deleted_here => {
            ops.push(parked_list(service));
            true
        }
        _ => false,
    };
    r.stage = Reading::First { record, parked };
    if ops.is_empty() {
        return r.named(config, now_ms);
    }
    Step::all(Machine::Refresh(Box::new(r)), ops)
}

impl Refresh {
    fn name(&self) -> Option<String> {
        self.friendly_name.clone().or_else(|| {
            self.previous
                .as_ref()
                .and_then(|p| text(&p.data, "friendlyName"))
        })
    }

    /// After the first reads: the name when still unknown, else the record.
    fn named(mut self, config: &Config, now_ms: f64) -> Step<Machine> {
        if self.name().is_none() && !self.deleted_here {
            self.tally.taskrouter_calls += 1;
            let op = Op::FetchTaskQueue {
                workspace_sid: self.settings.workspace_sid.clone(),
                task_queue_sid: self.queue_sid.clone(),
            };
            self.stage = Reading::Name;
            return Step::one(Machine::Refresh(Box::new(self)), op);
        }
        self.built(config, now_ms)
    }

    fn resume(mut self, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
        let Some(config) = Config::from_carried(&self.config) else {
            return Step::answer(store::unreadable_state());
        };
        let mut outcomes = outcomes.into_iter();
        let mut next = || outcomes.next().unwrap_or_else(missing);
        match self.stage.clone() {
            Reading::First { record, parked } => {
                if record {
                    match next().found() {
                        Ok(Some(v)) => {
                            let read = Remembered {
                                data: v.get("data").cloned().unwrap_or(Value::Null),
                                revision: revision(&v),
                            };
                            self.previous = Some(read.clone());
                            self.read = Some(read);
                            self.known = Known::Read;
                        }
                        Ok(None) => self.known = Known::Absent,
                        Err(f) => {
                            let line = format!("{}: {}", self.queue_sid, describe(&f));
                            self.tally.errors.push(line);
                            return Step::answer(self.unstored());
                        }
                    }
                }
                if !self.deleted_here && self.entry.is_none() {
                    for channel in self.channels.clone() {
                        let (fetched, status) = match next() {
                            Outcome::Done(v) => (
                                Fetched {
                                    channel,
                                    response: Some(v),
                                    error: None,
                                },
                                None,
                            ),
                            Outcome::Failed(f) => (
                                Fetched {
                                    channel,
                                    response: None,
                                    error: Some(describe(&f)),
                                },
                                f.status,
                            ),
                        };
                        self.fetched.push(fetched);
                        self.statuses.push(status);
                    }
                }
                if parked {
                    self.parked = parked_of(next());
                }
                self.named(&config, now_ms)
            }
            Reading::Name => {
                match next() {
                    Outcome::Done(v) => self.friendly_name = text(&v, "friendlyName"),
                    Outcome::Failed(f) if f.is(404) => {}
                    Outcome::Failed(f) => {
                        let line = format!("TaskQueue {}: {}", self.queue_sid, describe(&f));
                        self.tally.errors.push(line);
                    }
                }
                self.built(&config, now_ms)
            }
        }
    }

    /// A run that ends before its store (the record could not be read).
    fn unstored(self) -> Answer {
        let t = self.tally;
        nothing(t.skipped, t.errors).with(json!({
            "taskrouterCalls": t.taskrouter_calls,
            "syncReads": t.sync_reads,
        }))
    }

    /// Builds the record (with the parked figures) and starts its store.
    fn built(mut self, config: &Config, now_ms: f64) -> Step<Machine> {
        let now = match crate::today::instant(now_ms) {
            Ok(now) => now,
            Err(e) => {
                self.tally.errors.push(format!("{}: {e}", self.queue_sid));
                return Step::answer(self.unstored());
            }
        };
        let gone = self.entry.is_none() && gone(&self.statuses);
        let previous = self.previous.as_ref().map(|p| p.data.clone());
        let on = self.settings.parked_service_sid.is_some() || self.parked != Parked::Off;
        let bare = previous
            .as_ref()
            .map(|p| if on { strip(p) } else { p.clone() });
        let queue = QueueRef {
            sid: self.queue_sid.clone(),
            friendly_name: self.name(),
        };
        let built = match (&self.entry, gone || self.deleted_here) {
            (_, true) => None,
            (Some(entry), false) => Some(apply_realtime_all(
                config,
                &queue,
                bare.as_ref(),
                entry,
                now,
            )),
            (None, false) => Some(build(config, &queue, bare.as_ref(), &self.fetched, now)),
        };
        let (record, changed) = match built {
            Some(b) => {
                self.tally.errors.extend(b.errors.iter().cloned());
                let mut v = serde_json::to_value(&b).unwrap_or(Value::Null);
                if on {
                    v = decorate(v, &self.parked, previous.as_ref());
                }
                let changed = v.get("changed").and_then(Value::as_bool).unwrap_or(false);
                (v.get("record").cloned().unwrap_or(Value::Null), changed)
            }
            None => (Value::Null, false),
        };
        let input = StoreInput {
            queue_sid: self.queue_sid.clone(),
            record,
            changed,
            known: self.known,
            revision: self.previous.as_ref().and_then(|p| p.revision.clone()),
            fetched: self
                .statuses
                .iter()
                .map(|s| Status { status: *s })
                .collect(),
            deleted_here: self.deleted_here,
            index_confirmed: self.index_confirmed,
        };
        let settings = Settings {
            sync_service_sid: self.settings.sync_service_sid.clone(),
        };
        let after = After {
            queue_sid: self.queue_sid,
            layout: config.layout,
            board: self.settings.board,
            mirrored: self.mirrored,
            deleted_here: self.deleted_here,
            previous: self.previous,
            read: self.read,
            tally: self.tally,
        };
        after.step(store::store(config.layout, &input, &settings))
    }
}

/// The previous record as the crate compares it: without `parked` (added after the build).
fn strip(previous: &Value) -> Value {
    let mut bare = previous.clone();
    if let Some(obj) = bare.as_object_mut() {
        obj.remove(parking::board::FIELD);
    }
    bare
}

/// A built record with the queue's parked figures; a failed list keeps the previous figures.
fn decorate(built: Value, parked: &Parked, previous: Option<&Value>) -> Value {
    match parked {
        Parked::Read { by_queue } => {
            let name = built
                .get("record")
                .and_then(|r| r.get("friendlyName"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            with_parked(built.clone(), by_queue.get(name), previous)
        }
        _ => {
            let before = previous.and_then(|p| p.get(parking::board::FIELD)).cloned();
            let mut built = built;
            if let (Some(figures), Some(record)) = (
                before,
                built.get_mut("record").and_then(Value::as_object_mut),
            ) {
                record.insert(parking::board::FIELD.into(), figures);
            }
            built
        }
    }
}

impl After {
    /// The store's step: its next effects (the refresh's state around it), or the answer.
    fn step(self, step: Step<Store>) -> Step<Machine> {
        match step {
            Step::Run { state, effects } => Step::Run {
                state: Machine::Storing(Box::new(Storing {
                    store: state,
                    after: self,
                })),
                effects,
            },
            Step::Answer(a) => Step::answer(self.finish(a)),
        }
    }

    /// The store's summary with the refresh's additions (see the module docs).
    fn finish(self, answer: Answer) -> Answer {
        let body = &answer.body;
        let count = |k: &str| body.get(k).and_then(Value::as_u64).unwrap_or(0);
        let plan: Option<WritePlan> = body
            .get("plan")
            .and_then(|p| serde_json::from_value(p.clone()).ok());
        let forget = body.get("forget").and_then(Value::as_bool).unwrap_or(false);
        let written: Option<Remembered> = body
            .get("remember")
            .and_then(|r| serde_json::from_value(r.clone()).ok());
        let remember = match (&written, forget) {
            (Some(w), _) => Some(w.clone()),
            (None, false) => self.read.clone(),
            (None, true) => None,
        };
        let known = match forget {
            true => None,
            false => written.or(self.previous.clone()),
        };
        let deleted = matches!(plan, Some(WritePlan::Remove { .. }));
        let copy = match (&plan, known) {
            _ if !self.board || deleted || self.deleted_here => None,
            (_, None) => None,
            (Some(WritePlan::Skip { .. }), Some(k)) if !self.mirrored => {
                Some(first_copy(self.layout, &self.queue_sid, k.data))
            }
            (Some(p @ WritePlan::Write { .. }), Some(_)) if self.mirrored => Some(p.clone()),
            (Some(WritePlan::Write { record, .. }), Some(_)) => {
                Some(first_copy(self.layout, &self.queue_sid, record.clone()))
            }
            _ => None,
        };
        let mut errors: Vec<Value> = self.tally.errors.iter().map(|e| json!(e)).collect();
        if let Some(Value::Array(more)) = body.get("errors") {
            errors.extend(more.iter().cloned());
        }
        let t = &self.tally;
        let fields = json!({
            "taskrouterCalls": t.taskrouter_calls,
            "syncReads": count("syncReads") + u64::from(t.sync_reads),
            "skipped": count("skipped") + u64::from(t.skipped),
            "errors": errors,
            "remember": remember,
            "deleted": deleted,
            "copy": copy,
            "boardRemove": self.board && deleted,
        });
        answer.with(fields)
    }
}

/// A queue's first copy to the wallboard in this container: the plan of a record never written
/// (so it carries the index entry in the documents layout).
fn first_copy(layout: Layout, queue_sid: &str, record: Value) -> WritePlan {
    plan_for(
        layout,
        &WriteInput {
            queue_sid: queue_sid.into(),
            record,
            changed: true,
            known: Known::Absent,
            gone: false,
            deleted_here: false,
            index_confirmed: false,
        },
    )
}

/// Worker events' run of the bulk machine.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkInput {
    /// The workers of the events (`null`: an event that names none, so every queue).
    #[serde(default)]
    pub worker_sids: Vec<Option<String>>,
    /// The queues this container saw deleted.
    #[serde(default)]
    pub deleted: Vec<String>,
}

/// The bulk machine's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bulk {
    settings: RefreshSettings,
    deleted: Vec<String>,
    /// The queues listed: `(sid, friendlyName)`.
    queues: Vec<(String, Option<String>)>,
    stage: BulkStage,
    tally: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "camelCase")]
enum BulkStage {
    /// Listing the workers' queues (one list per outcome).
    List,
    /// The bulk requests (one per batch), then the parked list when asked.
    Statistics {
        batches: Vec<Vec<String>>,
        parked: bool,
    },
}

/// Lists at most this many queues (TaskRouter's pages hold 1,000).
const QUEUE_LIST_LIMIT: u32 = 10_000;

/// Starts worker events' bulk refresh (see the module docs).
pub fn bulk(input: &BulkInput, settings: &RefreshSettings) -> Step<Machine> {
    let mut workers: Vec<Option<String>> = vec![];
    if input.worker_sids.iter().any(Option::is_none) || input.worker_sids.is_empty() {
        workers.push(None);
    } else {
        for w in &input.worker_sids {
            if !workers.contains(w) {
                workers.push(w.clone());
            }
        }
    }
    let ops: Vec<Op> = workers
        .into_iter()
        .map(|worker_sid| Op::ListTaskQueues {
            workspace_sid: settings.workspace_sid.clone(),
            worker_sid,
            paging: Paging {
                page_size: Some(1000),
                limit: QUEUE_LIST_LIMIT,
            },
        })
        .collect();
    let machine = Bulk {
        settings: settings.clone(),
        deleted: input.deleted.clone(),
        queues: vec![],
        stage: BulkStage::List,
        tally: Extra {
            taskrouter_calls: u32::try_from(ops.len()).unwrap_or(u32::MAX),
            ..Extra::default()
        },
    };
    Step::all(Machine::Bulk(machine), ops)
}

impl Bulk {
    fn resume(mut self, outcomes: Vec<Outcome>) -> Step<Machine> {
        match self.stage.clone() {
            BulkStage::List => {
                for outcome in outcomes {
                    match outcome {
                        Outcome::Done(Value::Array(queues)) => {
                            for q in queues {
                                let Some(sid) = text(&q, "sid") else { continue };
                                if self.deleted.contains(&sid)
                                    || self.queues.iter().any(|(s, _)| *s == sid)
                                {
                                    continue;
                                }
                                self.queues.push((sid, text(&q, "friendlyName")));
                            }
                        }
                        Outcome::Done(_) => {}
                        Outcome::Failed(f) => self.tally.errors.push(describe(&f)),
                    }
                }
                let sids: Vec<String> = self.queues.iter().map(|(s, _)| s.clone()).collect();
                let batches = batches(&sids, BULK_LIMIT);
                if batches.is_empty() {
                    return Step::answer(self.finish(vec![]));
                }
                let pace = bulk_pace(&self.settings.workspace_sid);
                let mut effects: Vec<Effect> = batches
                    .iter()
                    .map(|b| {
                        let mut e = Effect::from(Op::CreateTaskQueueBulkRealTimeStatistics {
                            workspace_sid: self.settings.workspace_sid.clone(),
                            task_queue_sids: b.clone(),
                        });
                        e.pace = Some(pace.clone());
                        e
                    })
                    .collect();
                self.tally.taskrouter_calls += u32::try_from(effects.len()).unwrap_or(u32::MAX);
                let parked = match &self.settings.parked_service_sid {
                    Some(service) => {
                        effects.push(Effect::from(parked_list(service)));
                        true
                    }
                    None => false,
                };
                self.stage = BulkStage::Statistics { batches, parked };
                Step::Run {
                    state: Machine::Bulk(self),
                    effects,
                }
            }
            BulkStage::Statistics { batches, parked } => {
                let mut outcomes = outcomes.into_iter();
                let mut answered = vec![];
                for batch in &batches {
                    match outcomes.next().unwrap_or_else(missing) {
                        Outcome::Done(v) => {
                            let entries = v
                                .get("taskQueueData")
                                .or_else(|| v.get("task_queue_data"))
                                .and_then(Value::as_array)
                                .cloned()
                                .unwrap_or_default();
                            for entry in entries {
                                match text(&entry, "task_queue_sid") {
                                    Some(sid) if batch.contains(&sid) => {
                                        answered.push((sid, entry))
                                    }
                                    _ => {}
                                }
                            }
                        }
                        Outcome::Failed(f) => self
                            .tally
                            .errors
                            .push(format!("bulk statistics: {}", describe(&f))),
                    }
                }
                let parked = match parked {
                    true => parked_of(outcomes.next().unwrap_or_else(missing)),
                    false => Parked::Off,
                };
                let works = answered
                    .into_iter()
                    .map(|(sid, entry)| {
                        let name = self
                            .queues
                            .iter()
                            .find(|(s, _)| *s == sid)
                            .and_then(|(_, n)| n.clone());
                        let parked = match &parked {
                            Parked::Read { by_queue } => Parked::Read {
                                by_queue: name
                                    .as_ref()
                                    .and_then(|n| by_queue.get(n).map(|f| (n.clone(), f.clone())))
                                    .into_iter()
                                    .collect(),
                            },
                            other => other.clone(),
                        };
                        let work = Work::Bulk {
                            entry,
                            friendly_name: name,
                            parked,
                        };
                        json!({"queueSid": sid, "work": work})
                    })
                    .collect();
                Step::answer(self.finish(works))
            }
        }
    }

    /// `{works: [{queueSid, work}], taskrouterCalls, errors}`.
    fn finish(self, works: Vec<Value>) -> Answer {
        Answer::json(
            200,
            json!({"works": works, "taskrouterCalls": self.tally.taskrouter_calls,
                "syncReads": 0, "syncWrites": 0, "skipped": 0, "errors": self.tally.errors}),
        )
    }
}

/// A store machine's step as this crate's machines carry it.
pub fn stored(step: Step<Store>) -> Step<Machine> {
    step.map(|s| Machine::Store(Box::new(s)))
}

/// The next step of any of this crate's machines.
pub fn resume(machine: Machine, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
    match machine {
        Machine::Store(s) => stored(store::resume(*s, outcomes)),
        Machine::Storing(s) => {
            let Storing { store, after } = *s;
            after.step(store::resume(store, outcomes))
        }
        Machine::Refresh(r) => r.resume(outcomes, now_ms),
        Machine::Bulk(b) => b.resume(outcomes),
    }
}

#[cfg(test)]
mod tests;
