//! The TaskRouter event callback's hook as a machine of the effects protocol (docs/effects.md,
//! docs/agent-history.md "The event callback's hook"): every decision — which record an event
//! goes to, when it is written, what a 404, 409 or 412 means, the activities' names, pruning,
//! which hour to close and what to read for it, the claim, the day's build, closing an agent's
//! rows again after a late event — is here; `functions/common/effects` performs the requests.
//!
//! Per event (`start` with `Input::event`):
//!
//! 1. **the record** ([`record`]): the event's agent-hour item is read (one `fetchSyncItem`), the
//!    event's fact added ([`crate::Record::apply`]), and written only when new: an update
//!    `If-Match` the revision read, or a create (a 404 creates the map first). A 412 or a create
//!    that lost to another writer reads again ([`ATTEMPTS`]); a full item sends the event to the
//!    next chunk. The workspace's activities are listed when the previous activity is known by SID
//!    only ([`ACTIVITIES_TTL_MS`]); records past retention are listed once an hour
//!    ([`PRUNE_EVERY_MS`]) and deleted [`PRUNE_PER_EVENT`] per event;
//! 2. **late events** ([`reclose`], after a record written): `close::reclose_step`, then the
//!    agent's rows of the closed hours it changes closed again, `If-Match` the revisions read
//!    before the records, and their days summed again;
//! 3. **closing hours** ([`tick`]): the next hour to close (`close::next_close`), checked and
//!    claimed once, then [`LISTINGS_PER_TICK`] records listings per event kept by the container,
//!    the hour's items written, its day summed when it is the day's last, closed hours and days
//!    past retention pruned; otherwise one of a built day's `agentDayHours` items written.
//!
//! `Input::close_hour` closes one hour at once instead (a second container, scripts, tests).
//!
//! # How the machine runs
//!
//! The hook is written as one sequential program ([`program`]) that the machine runs again from
//! the start at every step: what earlier steps gave is replayed from the state's log (each
//! batch's outcomes, reduced to what the program needs, and each read of the container's memory),
//! so a run is a function of its input and log. The program stops at the first batch the log does
//! not answer: that batch is the step's effects. The container's [`Memory`] (names, the hour
//! being closed and its records, the pruning queue, the built days' items still to write) is
//! changed only by the run that reaches a change for the first time; bulky reads (records, closed
//! hours) go into the memory's bags rather than the state, so the state stays small.

use std::collections::{BTreeMap, BTreeSet};

use effects::{Failure, Op, Outcome, Paging, Step};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::close::{self, DayJob, Job, RecloseStep};
use crate::query::KeyRange;
use crate::record::{self, Applied, Record};
use crate::{read_event, AgentEvent, Config, Env};

/// Reads of one item (or one day, or one reclose) when other writers win (412, a lost create).
pub const ATTEMPTS: usize = 4;
/// Chunks of one agent-hour at most.
pub const MAX_CHUNKS: u32 = 16;
/// The workspace's activity names are listed again at most this often.
pub const ACTIVITIES_TTL_MS: f64 = 600_000.0;
/// TaskRouter's workers (a day's teams) are listed again at most this often.
pub const WORKERS_TTL_MS: f64 = 60_000.0;
/// Records past retention are listed once an hour per container.
pub const PRUNE_EVERY_MS: f64 = 3_600_000.0;
/// Records past retention deleted per event.
pub const PRUNE_PER_EVENT: usize = 2;
/// Records listings per event while closing an hour.
pub const LISTINGS_PER_TICK: usize = 4;
/// Listings in flight at once.
pub const IN_FLIGHT: usize = 16;
/// An event's closing work excludes another event's of the same container until it ends, or
/// this long (an invocation that died leaves it to the next event after that).
pub const BUSY_MS: f64 = 15_000.0;
/// Sync's largest page of map items.
const PAGE: u32 = 100;
/// TaskRouter's page of activities and workers.
const TASKROUTER_PAGE: u32 = 1000;

/// What the shim passes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The event callback's fields (`EventType`, `WorkerSid`…).
    #[serde(default)]
    pub event: Value,
    /// The settings as set (`crate::SETTINGS`: `QUEUE_STATS_TIME_ZONE`, `AGENT_HISTORY_*`, the
    /// workspace and Flex's Sync service).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The container (its claims, its memory).
    pub owner: String,
    /// This invocation (its bags in the memory).
    pub run: String,
    /// A random number below 1,000 (a day build's generation).
    #[serde(default)]
    pub nonce: u32,
    pub now_ms: f64,
    /// Close the local hour containing this instant at once, instead of handling an event.
    #[serde(default)]
    pub close_hour: Option<f64>,
    /// Only the event's record (and pruning): no late events, no closing. For scripts that
    /// seed records on a clock of their own, and the benchmark of the record's cost; the
    /// event callback never sets it.
    #[serde(default)]
    pub record_only: bool,
}

/// The hour a container is closing, as far as it got.
#[derive(Debug, Clone, PartialEq)]
pub struct Closing {
    pub job: Job,
    /// Records listings read so far (their items are in the bag [`JOB_BAG`]).
    pub done: usize,
}

/// What a container remembers between events (the wasm face keeps one per container).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memory {
    /// `WA…` → the activity's name: learned from events, and listed when one is unknown.
    pub names: BTreeMap<String, String>,
    pub activities_at_ms: Option<f64>,
    /// TaskRouter's workers and when they were listed.
    pub workers: Option<(f64, Vec<Value>)>,
    pub prune_at_ms: Option<f64>,
    /// Records past retention still to delete: (map, key).
    pub prune: Vec<(String, String)>,
    /// The key of the latest `agentHours` item: `None` until learned, then `Some(None)` when
    /// nothing is closed.
    pub latest: Option<Option<String>>,
    pub closing: Option<Closing>,
    /// Closing work of another event goes on until then.
    pub busy_until_ms: f64,
    /// A built day's `agentDayHours` items still to write (one per event).
    pub detail: Vec<Put>,
    /// Items read for a run or for the hour being closed (kept out of the state).
    pub bags: BTreeMap<String, Vec<Value>>,
    /// The runs in flight and when they started: a run that never finished (its invocation
    /// died) has its bags dropped after [`STALE_RUN_MS`].
    pub runs: BTreeMap<String, f64>,
}

/// A run not finished this long after its start (by the clock of later runs) is dead.
pub const STALE_RUN_MS: f64 = 900_000.0;

const JOB_BAG: &str = "job";

/// A write to make: where, what, and how (see [`Mode`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Put {
    pub map: String,
    pub key: String,
    pub data: Value,
    #[serde(default)]
    pub ttl: Option<u32>,
    #[serde(default)]
    pub if_match: Option<String>,
    pub mode: Mode,
}

/// How a [`Put`] is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// `If-Match` the revision read, or a create when none was read: another writer first is a
    /// conflict (read again).
    Guarded,
    /// Create; the key taken: update it.
    Create,
    /// Update; no such item: create it.
    Update,
}

/// How a write ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Written {
    Ok,
    /// Another writer changed it first (412, a create that found the key, a 404 on an update).
    Conflict,
    Failed(String),
}

/// The machine's state between steps: the input and what the steps gave (see the module's doc).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub input: Input,
    pub log: Vec<Value>,
}

// ---------------------------------------------------------------------------------------------
// The replay context.

/// Why a run stopped before its end.
#[derive(Debug)]
enum Stop {
    /// Perform these, then run again.
    Yield(Vec<Op>),
    /// The state could not be replayed (not one this module wrote).
    Unreadable,
}

/// The request counts of one part of the answer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Counts {
    taskrouter: u32,
    reads: u32,
    writes: u32,
}

const TOP: usize = 0;
const RECLOSE: usize = 1;
const CLOSING: usize = 2;

struct Ctx<'a> {
    log: Vec<Value>,
    pos: usize,
    fresh: Option<Vec<Outcome>>,
    mem: &'a mut Memory,
    part: usize,
    counts: [Counts; 3],
}

type R<T> = Result<T, Stop>;

fn is_not_found(f: &Failure) -> bool {
    f.status == Some(404) || f.code == Some(20404)
}
fn is_duplicate(f: &Failure) -> bool {
    f.status == Some(409) || matches!(f.code, Some(54208) | Some(54301))
}
fn is_conflict(f: &Failure) -> bool {
    f.status == Some(412) || f.code == Some(54103)
}

/// A failure as the answer names it.
fn said(what: &str, f: &Failure) -> String {
    let status = f.status.map(|s| format!(" {s}")).unwrap_or_default();
    format!("agent history: {what} failed:{status} {}", f.message)
}

/// An outcome without its value (a write's answer is not needed, and would swell the log).
fn lean(o: Outcome) -> Outcome {
    match o {
        Outcome::Done(_) => Outcome::Done(Value::Null),
        f => f,
    }
}

impl Ctx<'_> {
    fn live(&self) -> bool {
        self.pos >= self.log.len() && self.fresh.is_none()
    }

    fn replay<T: DeserializeOwned>(&mut self) -> Option<R<T>> {
        let v = self.log.get(self.pos)?;
        self.pos += 1;
        Some(serde_json::from_value(v.clone()).map_err(|_| Stop::Unreadable))
    }

    fn keep<T: Serialize>(&mut self, t: &T) {
        self.log
            .push(serde_json::to_value(t).unwrap_or(Value::Null));
        self.pos += 1;
    }

    /// A read (or change) of the container's memory, the same in every replay.
    fn memo<T: Serialize + DeserializeOwned>(&mut self, f: impl FnOnce(&mut Memory) -> T) -> R<T> {
        if let Some(t) = self.replay() {
            return t;
        }
        if self.fresh.is_some() {
            return Err(Stop::Unreadable);
        }
        let t = f(self.mem);
        self.keep(&t);
        Ok(t)
    }

    /// A change of the container's memory, made once (by the run that first gets here).
    fn update(&mut self, f: impl FnOnce(&mut Memory)) {
        if self.live() {
            f(self.mem);
        }
    }

    fn count(&mut self, ops: &[Op]) {
        let c = &mut self.counts[self.part];
        for op in ops {
            match op {
                Op::FetchSyncItem { .. } | Op::ListSyncItems { .. } => c.reads += 1,
                Op::CreateSyncItem { .. }
                | Op::UpdateSyncItem { .. }
                | Op::DeleteSyncItem { .. }
                | Op::CreateSyncMap { .. } => c.writes += 1,
                _ => c.taskrouter += 1,
            }
        }
    }

    /// Performs `ops` at once; `f` reduces their outcomes (in order) to what is kept.
    fn step<T: Serialize + DeserializeOwned>(
        &mut self,
        ops: Vec<Op>,
        f: impl FnOnce(Vec<Outcome>, &mut Memory) -> T,
    ) -> R<T> {
        if ops.is_empty() {
            return self.memo(|m| f(Vec::new(), m));
        }
        self.count(&ops);
        if let Some(t) = self.replay() {
            return t;
        }
        let Some(mut outcomes) = self.fresh.take() else {
            return Err(Stop::Yield(ops));
        };
        outcomes.resize(ops.len(), Outcome::Failed(Failure::missing()));
        let t = f(outcomes, self.mem);
        self.keep(&t);
        Ok(t)
    }

    fn counts_of(&self, part: usize) -> Map<String, Value> {
        let c = self.counts[part];
        let mut m = Map::new();
        if c.taskrouter > 0 || part == TOP {
            m.insert("taskrouterCalls".into(), json!(c.taskrouter));
        }
        m.insert("syncReads".into(), json!(c.reads));
        m.insert("syncWrites".into(), json!(c.writes));
        m
    }
}

// ---------------------------------------------------------------------------------------------
// Requests.

struct Sync<'a> {
    service: &'a str,
    workspace: &'a str,
}

impl Sync<'_> {
    fn fetch(&self, map: &str, key: &str) -> Op {
        Op::FetchSyncItem {
            service_sid: self.service.to_string(),
            map: map.to_string(),
            key: key.to_string(),
        }
    }

    fn list(&self, map: &str, from: Option<String>, after: bool, order: &str, size: u32) -> Op {
        let size = size.clamp(1, PAGE);
        Op::ListSyncItems {
            service_sid: self.service.to_string(),
            map: map.to_string(),
            from,
            bounds: after.then(|| "exclusive".to_string()),
            order: Some(order.to_string()),
            paging: Paging {
                page_size: Some(size),
                limit: size,
            },
        }
    }

    fn delete(&self, map: &str, key: &str) -> Op {
        Op::DeleteSyncItem {
            service_sid: self.service.to_string(),
            map: map.to_string(),
            key: key.to_string(),
            if_match: None,
        }
    }

    fn create(&self, p: &Put) -> Op {
        Op::CreateSyncItem {
            service_sid: self.service.to_string(),
            map: p.map.clone(),
            key: p.key.clone(),
            data: p.data.clone(),
            ttl: p.ttl,
        }
    }

    fn update(&self, p: &Put, if_match: Option<String>) -> Op {
        Op::UpdateSyncItem {
            service_sid: self.service.to_string(),
            map: p.map.clone(),
            key: p.key.clone(),
            data: p.data.clone(),
            ttl: p.ttl,
            if_match,
        }
    }

    fn create_map(&self, map: &str) -> Op {
        Op::CreateSyncMap {
            service_sid: self.service.to_string(),
            unique_name: map.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    Create,
    Update,
    IfMatch,
    NeedMap,
    Done,
}

/// Writes `puts` at once (a missing map created once, then their creates again); one result
/// each, in order.
fn put_all(ctx: &mut Ctx, sync: &Sync, puts: &[Put]) -> R<Vec<Written>> {
    let mut stage: Vec<Stage> = puts
        .iter()
        .map(|p| match (p.mode, &p.if_match) {
            (Mode::Guarded, Some(_)) => Stage::IfMatch,
            (Mode::Update, _) => Stage::Update,
            _ => Stage::Create,
        })
        .collect();
    let mut result: Vec<Written> = vec![Written::Ok; puts.len()];
    let mut mapped: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut ops = Vec::new();
        // Some(i): the put i; None: the map of `maps[k]`.
        let mut who: Vec<Result<usize, String>> = Vec::new();
        for (i, p) in puts.iter().enumerate() {
            let op = match stage[i] {
                Stage::Done => continue,
                Stage::NeedMap => {
                    if who.iter().any(|w| w.as_ref().err() == Some(&p.map)) {
                        continue;
                    }
                    who.push(Err(p.map.clone()));
                    ops.push(sync.create_map(&p.map));
                    continue;
                }
                Stage::Create => sync.create(p),
                Stage::Update => sync.update(p, None),
                Stage::IfMatch => sync.update(p, p.if_match.clone()),
            };
            who.push(Ok(i));
            ops.push(op);
        }
        if ops.is_empty() {
            return Ok(result);
        }
        let outcomes: Vec<Outcome> = ctx.step(ops, |o, _| o.into_iter().map(lean).collect())?;
        for (w, o) in who.into_iter().zip(outcomes) {
            match w {
                Err(map) => {
                    let failed = match o {
                        Outcome::Done(_) => None,
                        Outcome::Failed(f) if is_duplicate(&f) => None,
                        Outcome::Failed(f) => Some(said(&format!("creating map {map}"), &f)),
                    };
                    mapped.insert(map.clone());
                    for (i, p) in puts.iter().enumerate() {
                        if stage[i] == Stage::NeedMap && p.map == map {
                            match &failed {
                                None => stage[i] = Stage::Create,
                                Some(m) => {
                                    stage[i] = Stage::Done;
                                    result[i] = Written::Failed(m.clone());
                                }
                            }
                        }
                    }
                }
                Ok(i) => {
                    let p = &puts[i];
                    let (next, r) = match (stage[i], o) {
                        (_, Outcome::Done(_)) => (Stage::Done, Written::Ok),
                        (Stage::Create, Outcome::Failed(f))
                            if is_not_found(&f) && !mapped.contains(&p.map) =>
                        {
                            (Stage::NeedMap, Written::Ok)
                        }
                        (Stage::Create, Outcome::Failed(f))
                            if is_duplicate(&f) && p.mode == Mode::Create =>
                        {
                            (Stage::Update, Written::Ok)
                        }
                        (Stage::Update, Outcome::Failed(f))
                            if is_not_found(&f) && p.mode == Mode::Update =>
                        {
                            (Stage::Create, Written::Ok)
                        }
                        (_, Outcome::Failed(f))
                            if p.mode == Mode::Guarded
                                && (is_conflict(&f) || is_duplicate(&f) || is_not_found(&f)) =>
                        {
                            (Stage::Done, Written::Conflict)
                        }
                        (_, Outcome::Failed(f)) => (
                            Stage::Done,
                            Written::Failed(said(&format!("writing {}/{}", p.map, p.key), &f)),
                        ),
                    };
                    stage[i] = next;
                    result[i] = r;
                }
            }
        }
    }
}

/// What to keep of a listed item.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Keep {
    /// Its data.
    Data,
    /// `{key, data, revision}`.
    Item,
    /// `{key, revision}`.
    Revision,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Page {
    #[serde(default)]
    items: Vec<Value>,
    after: Option<String>,
    done: bool,
    failed: Option<String>,
}

/// Lists `ranges` (keys `from` to `to`, pages of 100, [`IN_FLIGHT`] at once; no map is none);
/// the items kept go to the memory's bag `bag` when given (then none is answered), else they are
/// answered. A failed listing is an error.
fn read_ranges(
    ctx: &mut Ctx,
    sync: &Sync,
    ranges: &[KeyRange],
    keep: Keep,
    bag: Option<&str>,
) -> R<Result<Vec<Value>, String>> {
    let mut after: Vec<Option<String>> = vec![None; ranges.len()];
    let mut done = vec![false; ranges.len()];
    let mut out = Vec::new();
    let mut failed = None;
    loop {
        let asked: Vec<usize> = (0..ranges.len())
            .filter(|i| !done[*i])
            .take(IN_FLIGHT)
            .collect();
        if asked.is_empty() || failed.is_some() {
            return Ok(failed.map_or(Ok(out), Err));
        }
        let ops: Vec<Op> = asked
            .iter()
            .map(|i| {
                let r = &ranges[*i];
                let from = after[*i].clone().unwrap_or_else(|| r.from.clone());
                sync.list(&r.map, Some(from), after[*i].is_some(), "asc", PAGE)
            })
            .collect();
        let tos: Vec<(String, Option<String>)> = asked
            .iter()
            .map(|i| (ranges[*i].to.clone(), after[*i].clone()))
            .collect();
        let bag_name = bag.map(str::to_string);
        let pages: Vec<Page> = ctx.step(ops, |outcomes, mem| {
            let mut pages = Vec::new();
            for ((to, before), o) in tos.iter().zip(outcomes) {
                pages.push(take_page(o, to, before.as_ref(), keep));
            }
            if let Some(b) = bag_name {
                let items = mem.bags.entry(b).or_default();
                for p in &mut pages {
                    items.append(&mut p.items);
                }
            }
            pages
        })?;
        for (i, p) in asked.into_iter().zip(pages) {
            out.extend(p.items);
            after[i] = p.after;
            done[i] = p.done;
            if let Some(f) = p.failed {
                failed.get_or_insert(f);
            }
        }
    }
}

fn take_page(o: Outcome, to: &str, before: Option<&String>, keep: Keep) -> Page {
    let list = match o.found() {
        Ok(Some(v)) => v.as_array().cloned().unwrap_or_default(),
        Ok(None) => Vec::new(),
        Err(f) => {
            return Page {
                items: Vec::new(),
                after: None,
                done: true,
                failed: Some(said("listing Sync items", &f)),
            }
        }
    };
    let mut items = Vec::new();
    let mut past = false;
    let mut last = None;
    for item in &list {
        let Some(key) = item.get("key").and_then(Value::as_str) else {
            continue;
        };
        last = Some(key.to_string());
        if key > to {
            past = true;
            continue;
        }
        let data = item.get("data").cloned().unwrap_or(Value::Null);
        items.push(match keep {
            Keep::Data => data,
            Keep::Item => json!({"key": key, "data": data, "revision": item.get("revision")}),
            Keep::Revision => json!({"key": key, "revision": item.get("revision")}),
        });
    }
    let moved = last.is_some() && last.as_ref() != before;
    let done = past || list.len() < PAGE as usize || !moved;
    Page {
        items,
        after: if done { None } else { last },
        done,
        failed: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The program.

fn config_of(env: &BTreeMap<String, String>) -> Result<Config, String> {
    let value = serde_json::to_value(env).unwrap_or(Value::Null);
    let env: Env = serde_json::from_value(value).unwrap_or_default();
    Config::from_env(&env).map_err(|e| e.to_string())
}

/// The workspace and Flex's Sync service from the settings (`values::env::flex_services`).
pub fn services_of(
    env: &BTreeMap<String, String>,
) -> Result<(String, String), values::env::EnvError> {
    values::env::flex_services(|name| env.get(name).map(String::as_str))
}

/// Whether `AGENT_HISTORY_ENABLED` turns the hook off.
pub fn off(env: &BTreeMap<String, String>) -> bool {
    env.get("AGENT_HISTORY_ENABLED")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
}

struct Run<'a> {
    input: &'a Input,
    config: Config,
    sync: Sync<'a>,
    now: i64,
}

fn program(ctx: &mut Ctx, input: &Input) -> R<Value> {
    if input.close_hour.is_none() && off(&input.env) {
        return Ok(json!({"off": true}));
    }
    let config = match config_of(&input.env) {
        Ok(c) => c,
        Err(e) => return Ok(json!({ "error": e })),
    };
    let (workspace, service) = match services_of(&input.env) {
        Ok(services) => services,
        Err(e) => return Ok(json!({ "error": e.to_string() })),
    };
    let run = Run {
        input,
        config,
        sync: Sync {
            service: &service,
            workspace: &workspace,
        },
        now: input.now_ms as i64,
    };
    if let Some(start) = input.close_hour {
        ctx.part = CLOSING;
        return close_hour_at(ctx, &run, start);
    }
    ctx.part = TOP;
    let mut out = Map::new();
    let names = activity_names(ctx, &run)?;
    let event = names
        .as_ref()
        .ok()
        .and_then(|names| read_event(&input.event, names, &run.config.disposition_attribute));
    let recorded = match names {
        Err(e) => Err(e),
        Ok(_) => record(ctx, &run, event.as_ref())?,
    };
    let written = match recorded {
        Ok(r) => {
            let written = r.get("written") == Some(&Value::Bool(true));
            out.extend(r);
            out.extend(ctx.counts_of(TOP));
            written
        }
        Err(e) => {
            out.insert("error".into(), json!(e));
            false
        }
    };
    if input.record_only {
        return Ok(Value::Object(out));
    }
    if written {
        if let Some(e) = &event {
            ctx.part = RECLOSE;
            let r = match reclose(ctx, &run, e)? {
                Ok(mut r) => {
                    r.extend(ctx.counts_of(RECLOSE));
                    Value::Object(r)
                }
                Err(e) => json!({ "error": e }),
            };
            out.insert("reclose".into(), r);
        }
    }
    ctx.part = CLOSING;
    let closing = match tick(ctx, &run)? {
        Ok(mut r) => {
            r.extend(ctx.counts_of(CLOSING));
            Value::Object(r)
        }
        Err(e) => json!({ "error": e }),
    };
    out.insert("closing".into(), closing);
    Ok(Value::Object(out))
}

/// The activity names the event needs: learned from the event; the workspace's activities
/// listed when the previous activity is a SID not known (at most every [`ACTIVITIES_TTL_MS`]).
/// A failed listing is the record's error.
fn activity_names(ctx: &mut Ctx, run: &Run) -> R<Result<BTreeMap<String, String>, String>> {
    let e = &run.input.event;
    let text = |k: &str| match e.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let (sid, name, previous) = (
        text("WorkerActivitySid"),
        e.get("WorkerActivityName")
            .filter(|v| !v.is_null())
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
        text("WorkerPreviousActivitySid"),
    );
    let named_previous = text("WorkerPreviousActivityName").is_some();
    let now = run.input.now_ms;
    let list = ctx.memo(|m| {
        if let (Some(s), Some(n)) = (&sid, &name) {
            m.names.insert(s.clone(), n.clone());
        }
        let Some(p) = &previous else { return false };
        if named_previous
            || m.names.contains_key(p)
            || m.activities_at_ms
                .is_some_and(|at| now - at < ACTIVITIES_TTL_MS)
        {
            return false;
        }
        m.activities_at_ms = Some(now);
        true
    })?;
    if list {
        let op = Op::ListActivities {
            workspace_sid: run.sync.workspace.to_string(),
            paging: Paging {
                page_size: Some(TASKROUTER_PAGE),
                limit: TASKROUTER_PAGE,
            },
        };
        let failed: Option<String> =
            ctx.step(vec![op], |o, m| match effects::first(o).into_result() {
                Ok(list) => {
                    for a in list.as_array().into_iter().flatten() {
                        if let (Some(s), Some(n)) = (
                            a.get("sid").and_then(Value::as_str),
                            a.get("friendlyName").and_then(Value::as_str),
                        ) {
                            m.names.insert(s.to_string(), n.to_string());
                        }
                    }
                    None
                }
                Err(f) => Some(said("listing the workspace's activities", &f)),
            })?;
        if let Some(f) = failed {
            return Ok(Err(f));
        }
    }
    // Only the names this event needs travel in the log.
    let wanted: Vec<String> = [sid, previous].into_iter().flatten().collect();
    ctx.memo(|m| {
        wanted
            .iter()
            .filter_map(|k| Some((k.clone(), m.names.get(k)?.clone())))
            .collect()
    })
    .map(Ok)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "then")]
enum Decision {
    Write {
        data: Value,
        revision: Option<String>,
    },
    Full,
    Done,
    Failed {
        error: String,
    },
}

fn apply_to(stored: Option<&Value>, e: &AgentEvent, chunk: u32) -> (Applied, Option<Value>) {
    let hour = record::utc_hour(e.at_ms);
    let mut rec = stored
        .and_then(Record::from_value)
        .filter(|r| r.worker == e.worker && r.hour_ms == hour)
        .unwrap_or_else(|| Record::new(&e.worker, hour, chunk));
    rec.chunk = chunk;
    let applied = rec.apply(e);
    let data = (applied == Applied::Changed).then(|| rec.to_value());
    (applied, data)
}

/// The event's fact in its agent-hour record: `{kept, written, chunk?}` (the counts added by the
/// caller), then a few records past retention deleted.
fn record(
    ctx: &mut Ctx,
    run: &Run,
    event: Option<&AgentEvent>,
) -> R<Result<Map<String, Value>, String>> {
    let mut out = Map::new();
    out.insert("kept".into(), json!(false));
    out.insert("written".into(), json!(false));
    let Some(e) = event else {
        return Ok(Ok(out));
    };
    out.insert("kept".into(), json!(true));
    'chunks: for chunk in 0..MAX_CHUNKS {
        let place = record::place(&run.config, e, chunk);
        out.insert("chunk".into(), json!(chunk));
        for _ in 0..ATTEMPTS {
            let op = run.sync.fetch(&place.map, &place.key);
            let decision: Decision =
                ctx.step(vec![op], |o, _| match effects::first(o).found() {
                    Err(f) => Decision::Failed {
                        error: said(&format!("reading {}/{}", place.map, place.key), &f),
                    },
                    Ok(item) => {
                        let stored = item.as_ref().and_then(|i| i.get("data"));
                        match apply_to(stored, e, chunk) {
                            (Applied::Full, _) => Decision::Full,
                            (Applied::Changed, Some(data)) => Decision::Write {
                                data,
                                revision: item.as_ref().and_then(|i| {
                                    i.get("revision")
                                        .and_then(Value::as_str)
                                        .map(str::to_string)
                                }),
                            },
                            _ => Decision::Done,
                        }
                    }
                })?;
            match decision {
                Decision::Failed { error } => return Ok(Err(error)),
                Decision::Done => break 'chunks,
                Decision::Full => continue 'chunks,
                Decision::Write { data, revision } => {
                    let put = Put {
                        map: place.map.clone(),
                        key: place.key.clone(),
                        data,
                        ttl: None,
                        if_match: revision,
                        mode: Mode::Guarded,
                    };
                    match put_all(ctx, &run.sync, &[put])?.pop() {
                        Some(Written::Ok) => {
                            out.insert("written".into(), json!(true));
                            break 'chunks;
                        }
                        Some(Written::Failed(m)) => return Ok(Err(m)),
                        // Another writer changed the item first: read it again.
                        _ => {}
                    }
                }
            }
        }
        return Ok(Err(format!(
            "agent history: {} kept changing under {ATTEMPTS} attempts",
            place.key
        )));
    }
    if let Err(e) = prune_some(ctx, run)? {
        return Ok(Err(e));
    }
    Ok(Ok(out))
}

/// Deletes a few records past retention; lists them once an hour (one page per map).
fn prune_some(ctx: &mut Ctx, run: &Run) -> R<Result<(), String>> {
    let now = run.input.now_ms;
    let due = ctx.memo(|m| {
        let due = m.prune_at_ms.is_none_or(|at| now - at >= PRUNE_EVERY_MS);
        if due {
            m.prune_at_ms = Some(now);
        }
        due
    })?;
    if due {
        let ranges = record::expired(&run.config, run.now);
        let ops = ranges
            .iter()
            .map(|(map, _, _)| run.sync.list(map, None, false, "asc", PAGE))
            .collect();
        let failed: Option<String> = ctx.step(ops, |outcomes, m| {
            let mut failed = None;
            for ((map, _, to), o) in ranges.iter().zip(outcomes) {
                match o.found() {
                    Ok(page) => {
                        for item in page
                            .as_ref()
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(k) = item.get("key").and_then(Value::as_str) {
                                if k <= to.as_str() {
                                    m.prune.push((map.clone(), k.to_string()));
                                }
                            }
                        }
                    }
                    Err(f) => {
                        failed.get_or_insert(said("listing records past retention", &f));
                    }
                }
            }
            failed
        })?;
        if let Some(f) = failed {
            return Ok(Err(f));
        }
    }
    let take: Vec<(String, String)> = ctx.memo(|m| {
        let n = m.prune.len().min(PRUNE_PER_EVENT);
        m.prune.drain(..n).collect()
    })?;
    if take.is_empty() {
        return Ok(Ok(()));
    }
    let ops = take.iter().map(|(m, k)| run.sync.delete(m, k)).collect();
    let failed: Option<String> = ctx.step(ops, |outcomes, _| {
        outcomes
            .into_iter()
            .find_map(|o| o.gone().err())
            .map(|f| said("deleting a record past retention", &f))
    })?;
    Ok(failed.map_or(Ok(()), Err))
}

/// The key of the latest `agentHours` item, learned once per container (one listing).
fn learn_latest(ctx: &mut Ctx, run: &Run) -> R<Result<Option<String>, String>> {
    // (known, latest): an Option of an Option would not survive JSON (`Some(None)` is null).
    let (known, latest): (bool, Option<String>) =
        ctx.memo(|m| (m.latest.is_some(), m.latest.clone().flatten()))?;
    if known {
        return Ok(Ok(latest));
    }
    let op = run
        .sync
        .list(crate::rollup::ROLLUP_MAP, None, false, "desc", 1);
    ctx.step(vec![op], |o, m| match effects::first(o).found() {
        Ok(page) => {
            let key = page
                .as_ref()
                .and_then(Value::as_array)
                .and_then(|l| l.first())
                .and_then(|i| i.get("key"))
                .and_then(Value::as_str)
                .map(str::to_string);
            // Another event of this container may have learned (or closed) a later one.
            let latest = m.latest.clone().unwrap_or(key.clone()).max(key);
            m.latest = Some(latest.clone());
            Ok(latest)
        }
        Err(f) => Err(said("listing agentHours", &f)),
    })
}

/// Parses the items of a bag (taking them out of the memory).
fn take_bag(m: &mut Memory, name: &str) -> Vec<Value> {
    m.bags.remove(name).unwrap_or_default()
}

fn records_of(items: &[Value]) -> Vec<Record> {
    items.iter().filter_map(Record::from_value).collect()
}

/// After an event's record was written: when it changes closed hours, the agent's rows of those
/// hours closed again and their days summed again (`{hours?, patched, days}`).
fn reclose(ctx: &mut Ctx, run: &Run, e: &AgentEvent) -> R<Result<Map<String, Value>, String>> {
    let mut out = Map::new();
    out.insert("patched".into(), json!(0));
    out.insert("days".into(), json!(0));
    let latest = match learn_latest(ctx, run)? {
        Ok(l) => l,
        Err(m) => return Ok(Err(m)),
    };
    let mut step = close::reclose_step(&run.config, e, latest.as_deref(), None);
    if let RecloseStep::Span { listing } = &step {
        let texts = match read_ranges(
            ctx,
            &run.sync,
            std::slice::from_ref(listing),
            Keep::Data,
            None,
        )? {
            Ok(t) => t,
            Err(m) => return Ok(Err(m)),
        };
        step = close::reclose_step(&run.config, e, latest.as_deref(), Some(&records_of(&texts)));
    }
    let RecloseStep::Hours(r) = step else {
        return Ok(Ok(out));
    };
    out.insert("hours".into(), json!([r.from, r.to]));
    let zone = run.config.time_zone;
    let stored_bag = format!("{}:reclose:hours", run.input.run);
    let records_bag = format!("{}:reclose:records", run.input.run);
    let mut dates = BTreeSet::new();
    let mut patched = 0;
    let mut attempt = 0;
    loop {
        if attempt >= ATTEMPTS {
            return Ok(Err(format!(
                "agent history: closed hours from {} kept changing under {ATTEMPTS} attempts",
                r.from
            )));
        }
        attempt += 1;
        ctx.update(|m| {
            m.bags.remove(&stored_bag);
            m.bags.remove(&records_bag);
        });
        if let Err(m) = read_ranges(
            ctx,
            &run.sync,
            std::slice::from_ref(&r.hours),
            Keep::Item,
            Some(&stored_bag),
        )? {
            return Ok(Err(m));
        }
        let now = run.now;
        let listings: Vec<KeyRange> = ctx.memo(|m| {
            let stored = m.bags.get(&stored_bag).cloned().unwrap_or_default();
            let values: Vec<Value> = stored
                .iter()
                .filter_map(|v| v.get("data").cloned())
                .collect();
            close::reclose_records(&run.config, &r, &values, now)
        })?;
        if listings.is_empty() {
            break;
        }
        if let Err(m) = read_ranges(ctx, &run.sync, &listings, Keep::Data, Some(&records_bag))? {
            return Ok(Err(m));
        }
        let puts: Vec<(Put, Option<String>)> = ctx.memo(|m| {
            let stored = take_bag(m, &stored_bag);
            let records = records_of(&take_bag(m, &records_bag));
            reclose_puts(zone, &r, &stored, &records)
        })?;
        let written = put_all(
            ctx,
            &run.sync,
            &puts.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        )?;
        let mut conflict = false;
        for ((_, date), w) in puts.iter().zip(&written) {
            match w {
                Written::Ok => {
                    patched += 1;
                    if let Some(d) = date {
                        dates.insert(d.clone());
                    }
                }
                Written::Conflict => conflict = true,
                Written::Failed(m) => return Ok(Err(m.clone())),
            }
        }
        if !conflict {
            break;
        }
    }
    out.insert("patched".into(), json!(patched));
    let mut days = 0;
    for date in dates {
        let Some(day) = date
            .parse::<chrono::NaiveDate>()
            .ok()
            .and_then(|d| close::day_job(&run.config, d))
        else {
            continue;
        };
        match build_day(ctx, run, &day, false)? {
            Ok(n) => days += n,
            Err(m) => return Ok(Err(m)),
        }
    }
    out.insert("days".into(), json!(days));
    Ok(Ok(out))
}

/// The agent's rows of `r`'s hours closed again: the writes (`If-Match` the revisions read) and
/// the local date of each.
fn reclose_puts(
    zone: chrono_tz::Tz,
    r: &close::Reclose,
    stored: &[Value],
    records: &[Record],
) -> Vec<(Put, Option<String>)> {
    let (Some(from), Some(to)) = (
        values::instant::parse(&r.from),
        values::instant::parse(&r.to),
    ) else {
        return Vec::new();
    };
    let pairs: Vec<(String, Value)> = stored
        .iter()
        .filter_map(|v| Some((v.get("key")?.as_str()?.to_string(), v.get("data")?.clone())))
        .collect();
    let revisions: BTreeMap<&str, &str> = stored
        .iter()
        .filter_map(|v| Some((v.get("key")?.as_str()?, v.get("revision")?.as_str()?)))
        .collect();
    let values: Vec<Value> = pairs.iter().map(|(_, v)| v.clone()).collect();
    let Some(from) = close::reclose_from(r, &values).filter(|f| *f >= from) else {
        return Vec::new();
    };
    crate::rollup::patch_agent(zone, &r.worker, from, to, &pairs, records)
        .into_iter()
        .map(|(key, data)| {
            let date = data
                .get("start")
                .and_then(Value::as_str)
                .and_then(values::instant::parse)
                .map(|t| history::time::local_date(zone, t).to_string());
            let put = Put {
                map: crate::rollup::ROLLUP_MAP.to_string(),
                if_match: revisions.get(key.as_str()).map(|s| s.to_string()),
                key,
                data,
                ttl: None,
                mode: Mode::Guarded,
            };
            (put, date)
        })
        .collect()
}

/// TaskRouter's workers (names, team attribute), listed at most once a minute; `None` when the
/// listing failed (the day is then built without teams).
fn directory(ctx: &mut Ctx, run: &Run) -> R<Option<Vec<Value>>> {
    let now = run.input.now_ms;
    let fresh: Option<Vec<Value>> = ctx.memo(|m| {
        m.workers
            .as_ref()
            .filter(|(at, _)| now - at <= WORKERS_TTL_MS && now >= *at)
            .map(|(_, w)| w.clone())
    })?;
    if fresh.is_some() {
        return Ok(fresh);
    }
    let op = Op::ListWorkers {
        workspace_sid: run.sync.workspace.to_string(),
        task_queue_sid: None,
        paging: Paging {
            page_size: Some(TASKROUTER_PAGE),
            limit: TASKROUTER_PAGE,
        },
    };
    ctx.step(vec![op], |o, m| {
        let list = effects::first(o).into_result().ok()?;
        let workers: Vec<Value> = list
            .as_array()?
            .iter()
            .map(|w| json!({"sid": w.get("sid"), "friendlyName": w.get("friendlyName"), "attributes": w.get("attributes")}))
            .collect();
        m.workers = Some((now, workers.clone()));
        Some(workers)
    })
}

/// Sums a local day whose hours are all closed into `agentDays`: its day items read first (their
/// revisions), then its hours, and the new build written `If-Match` (a create for a new key);
/// another writer first → both read again. The build's `agentDayHours` items are queued (written
/// one per event), or written now. Answers the day items written (0: an hour is not closed).
fn build_day(ctx: &mut Ctx, run: &Run, day: &DayJob, detail_now: bool) -> R<Result<usize, String>> {
    let workers = directory(ctx, run)?;
    let teams: Option<BTreeMap<String, String>> = workers.map(|ws| {
        ws.iter()
            .filter_map(|w| crate::aggregate::AgentInfo::from_worker(&run.config, w))
            .filter_map(|a| Some((a.sid, a.team?)))
            .collect()
    });
    let Ok(date) = day.date.parse::<chrono::NaiveDate>() else {
        return Ok(Ok(0));
    };
    let hours_bag = format!("{}:day:{}", run.input.run, day.date);
    let detail_bag = format!("{}:detail:{}", run.input.run, day.date);
    let zone = run.config.time_zone;
    for attempt in 0..ATTEMPTS {
        let existing = match read_ranges(
            ctx,
            &run.sync,
            std::slice::from_ref(&day.days),
            Keep::Revision,
            None,
        )? {
            Ok(e) => e,
            Err(m) => return Ok(Err(m)),
        };
        ctx.update(|m| {
            m.bags.remove(&hours_bag);
        });
        if let Err(m) = read_ranges(
            ctx,
            &run.sync,
            std::slice::from_ref(&day.hours),
            Keep::Data,
            Some(&hours_bag),
        )? {
            return Ok(Err(m));
        }
        let generation = (run.input.now_ms.max(0.0) as u64) * 1000
            + u64::from((run.input.nonce + attempt as u32) % 1000);
        let revisions: BTreeMap<String, String> = existing
            .iter()
            .filter_map(|v| {
                Some((
                    v.get("key")?.as_str()?.to_string(),
                    v.get("revision")?.as_str()?.to_string(),
                ))
            })
            .collect();
        let built: Option<Vec<Put>> = ctx.memo(|m| {
            let hours = take_bag(m, &hours_bag);
            let b = crate::days::build_day(zone, date, &hours, generation, teams.as_ref())?;
            let detail: Vec<Value> = b
                .detail
                .into_iter()
                .enumerate()
                .map(|(i, data)| {
                    serde_json::to_value(detail_put(run.config.retention_days, date, i, data))
                        .unwrap_or(Value::Null)
                })
                .collect();
            m.bags.insert(detail_bag.clone(), detail);
            Some(
                b.days
                    .into_iter()
                    .enumerate()
                    .map(|(i, data)| {
                        let key = crate::days::day_key(date, i);
                        Put {
                            map: crate::days::DAYS_MAP.to_string(),
                            if_match: revisions.get(&key).cloned(),
                            key,
                            data,
                            ttl: None,
                            mode: Mode::Guarded,
                        }
                    })
                    .collect(),
            )
        })?;
        let Some(puts) = built else {
            return Ok(Ok(0));
        };
        let written = put_all(ctx, &run.sync, &puts)?;
        if let Some(Written::Failed(m)) = written.iter().find(|w| matches!(w, Written::Failed(_))) {
            return Ok(Err(m.clone()));
        }
        if written.contains(&Written::Conflict) {
            continue;
        }
        // The agents' hours of this build: read only with its generation, so written after the
        // day's items (one per event, or now).
        let date_text = day.date.clone();
        ctx.update(|m| {
            let made: Vec<Put> = take_bag(m, &detail_bag)
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect();
            m.detail
                .retain(|p| p.data.get("date").and_then(Value::as_str) != Some(date_text.as_str()));
            m.detail.extend(made);
        });
        if detail_now {
            if let Err(m) = write_detail(ctx, run, usize::MAX)? {
                return Ok(Err(m));
            }
        }
        return Ok(Ok(puts.len()));
    }
    Ok(Err(format!(
        "agent history: day {} kept changing under {ATTEMPTS} attempts",
        day.date
    )))
}

/// The write of a day build's `i`-th `agentDayHours` item (its key and TTL: the days module's):
/// an agent's own item (`v` 2) is keyed `<WK…>.<date>` and expires with the retention (at most a
/// year); a bucket (the first layout) `<date>.<i>`, pruned with the days.
fn detail_put(retention_days: u32, date: chrono::NaiveDate, i: usize, data: Value) -> Put {
    let per_agent = data.get("v").and_then(Value::as_i64) == Some(2);
    Put {
        map: crate::days::DETAIL_MAP.to_string(),
        key: crate::days::detail_item_key(&data)
            .unwrap_or_else(|| crate::days::detail_key(date, i)),
        ttl: per_agent.then(|| crate::days::detail_ttl(retention_days)),
        data,
        if_match: None,
        mode: Mode::Update,
    }
}

/// Writes up to `n` of the built days' `agentDayHours` items still to write.
fn write_detail(ctx: &mut Ctx, run: &Run, n: usize) -> R<Result<(), String>> {
    let puts: Vec<Put> = ctx.memo(|m| {
        let n = n.min(m.detail.len());
        m.detail.drain(..n).collect()
    })?;
    let written = put_all(ctx, &run.sync, &puts)?;
    Ok(
        match written
            .into_iter()
            .find(|w| matches!(w, Written::Failed(_)))
        {
            Some(Written::Failed(m)) => Err(m),
            _ => Ok(()),
        },
    )
}

/// Deletes closed hours and days past retention: the oldest `n` keys of `agentHours` (more than
/// an hour adds) and a few of `agentDays` and `agentDayHours`, when past it.
fn prune_closed(ctx: &mut Ctx, run: &Run, n: u32) -> R<Result<usize, String>> {
    let ranges = close::expired_closed(&run.config, run.now);
    let ops = ranges
        .iter()
        .map(|r| {
            let size = if r.map == crate::days::DAYS_MAP { 4 } else { n };
            run.sync.list(&r.map, None, false, "asc", size)
        })
        .collect();
    let found: Result<Vec<(String, String)>, String> = ctx.step(ops, |outcomes, _| {
        let mut keys = Vec::new();
        for (r, o) in ranges.iter().zip(outcomes) {
            match o.found() {
                Ok(page) => {
                    for item in page
                        .as_ref()
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        match item.get("key").and_then(Value::as_str) {
                            Some(k) if k <= r.to.as_str() => {
                                keys.push((r.map.clone(), k.to_string()))
                            }
                            _ => break,
                        }
                    }
                }
                Err(f) => return Err(said("listing closed hours past retention", &f)),
            }
        }
        Ok(keys)
    })?;
    let keys = match found {
        Ok(k) => k,
        Err(m) => return Ok(Err(m)),
    };
    if keys.is_empty() {
        return Ok(Ok(0));
    }
    let ops = keys.iter().map(|(m, k)| run.sync.delete(m, k)).collect();
    let failed: Option<String> = ctx.step(ops, |outcomes, _| {
        outcomes
            .into_iter()
            .find_map(|o| o.gone().err())
            .map(|f| said("deleting a closed hour past retention", &f))
    })?;
    Ok(failed.map_or(Ok(keys.len()), Err))
}

/// Begins closing `job`'s hour: `stored` (closed already), `held` (another container's claim) or
/// `claimed` (this container's now).
fn begin(ctx: &mut Ctx, run: &Run, job: &Job) -> R<Result<&'static str, String>> {
    let first = run.sync.fetch(crate::rollup::ROLLUP_MAP, &job.first_key);
    let stored: Result<bool, String> = ctx.step(vec![first], |o, _| {
        effects::first(o)
            .found()
            .map(|v| v.is_some())
            .map_err(|f| said("reading agentHours", &f))
    })?;
    match stored {
        Err(m) => return Ok(Err(m)),
        Ok(true) => return Ok(Ok("stored")),
        Ok(false) => {}
    }
    let map = close::CLAIMS_MAP;
    let owner = run.input.owner.clone();
    let now = run.input.now_ms;
    let claim = run.sync.fetch(map, &job.claim_key);
    // (held, revision of the claim found)
    let found: Result<(bool, Option<String>), String> = ctx.step(vec![claim], |o, _| {
        let item = effects::first(o)
            .found()
            .map_err(|f| said("reading agentHoursClaims", &f))?;
        let state = history::claim::state(item.as_ref().and_then(|i| i.get("data")), &owner, now);
        let revision = item
            .as_ref()
            .and_then(|i| i.get("revision"))
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok((
            matches!(state, history::claim::State::Held { .. }),
            revision,
        ))
    })?;
    let (held, revision) = match found {
        Ok(f) => f,
        Err(m) => return Ok(Err(m)),
    };
    if held {
        return Ok(Ok("held"));
    }
    let data = serde_json::to_value(history::claim::new_claim(
        &job.start,
        &owner,
        history::claim::Kind::Hook,
        now,
    ))
    .unwrap_or(Value::Null);
    let put = Put {
        map: map.to_string(),
        key: job.claim_key.clone(),
        data,
        ttl: Some(history::claim::CLAIM_TTL_S),
        mode: Mode::Guarded,
        if_match: revision,
    };
    Ok(match put_all(ctx, &run.sync, &[put])?.pop() {
        Some(Written::Ok) => Ok("claimed"),
        // Another container claimed it first.
        Some(Written::Conflict) | None => Ok("held"),
        Some(Written::Failed(m)) => Err(m),
    })
}

/// Writes a claimed hour's items from the records in the bag `bag` and the hour before's items;
/// its day summed when it is the day's last; closed hours and days past retention pruned.
/// Answers the items written.
fn write_hour(
    ctx: &mut Ctx,
    run: &Run,
    job: &Job,
    bag: &str,
    detail_now: bool,
) -> R<Result<usize, String>> {
    let previous = match read_ranges(
        ctx,
        &run.sync,
        std::slice::from_ref(&job.previous),
        Keep::Data,
        None,
    )? {
        Ok(p) => p,
        Err(m) => return Ok(Err(m)),
    };
    let zone = run.config.time_zone;
    let (Some(start), Some(end)) = (
        values::instant::parse(&job.start),
        values::instant::parse(&job.end),
    ) else {
        return Ok(Err(format!(
            "agent history: no hour {} to {}",
            job.start, job.end
        )));
    };
    let puts: Vec<Put> = ctx.memo(|m| {
        let records = records_of(&take_bag(m, bag));
        crate::rollup::close_hour(zone, start, end, &records, &previous)
            .into_iter()
            .enumerate()
            .map(|(i, data)| Put {
                map: crate::rollup::ROLLUP_MAP.to_string(),
                key: crate::rollup::rollup_key(start, i),
                data,
                ttl: None,
                if_match: None,
                mode: Mode::Create,
            })
            .collect()
    })?;
    let written = put_all(ctx, &run.sync, &puts)?;
    if let Some(Written::Failed(m)) = written.into_iter().find(|w| w != &Written::Ok) {
        return Ok(Err(m));
    }
    if let Some(day) = &job.day {
        if let Err(m) = build_day(ctx, run, day, detail_now)? {
            return Ok(Err(m));
        }
    }
    if let Err(m) = prune_closed(ctx, run, puts.len() as u32 + 2)? {
        return Ok(Err(m));
    }
    Ok(Ok(puts.len()))
}

/// The hook's closing work for one event: `{hour?, closed?, detailLeft?}`.
fn tick(ctx: &mut Ctx, run: &Run) -> R<Result<Map<String, Value>, String>> {
    let now = run.input.now_ms;
    let go = ctx.memo(|m| {
        if m.busy_until_ms > now {
            return false;
        }
        m.busy_until_ms = now + BUSY_MS;
        true
    })?;
    let mut out = Map::new();
    if !go {
        return Ok(Ok(out));
    }
    let r = close_step(ctx, run, &mut out)?;
    if r.is_err() {
        // Begun again (its claim is this container's) by a later event.
        ctx.update(|m| {
            m.closing = None;
            m.bags.remove(JOB_BAG);
        });
    }
    let mut r = r;
    if r.is_ok() && !out.contains_key("closed") {
        let left: usize = ctx.memo(|m| m.detail.len())?;
        if left > 0 {
            r = write_detail(ctx, run, 1)?;
            let left: usize = ctx.memo(|m| m.detail.len())?;
            out.insert("detailLeft".into(), json!(left));
        }
    }
    ctx.update(|m| m.busy_until_ms = 0.0);
    Ok(r.map(|()| out))
}

fn close_step(ctx: &mut Ctx, run: &Run, out: &mut Map<String, Value>) -> R<Result<(), String>> {
    let current: Option<(Job, usize)> =
        ctx.memo(|m| m.closing.as_ref().map(|c| (c.job.clone(), c.done)))?;
    let (job, done) = match current {
        Some(c) => c,
        None => {
            let latest = match learn_latest(ctx, run)? {
                Ok(l) => l,
                Err(m) => return Ok(Err(m)),
            };
            let Some(job) = close::next_close(&run.config, run.now, latest.as_deref()) else {
                return Ok(Ok(()));
            };
            out.insert("hour".into(), json!(job.start));
            match begin(ctx, run, &job)? {
                Err(m) => return Ok(Err(m)),
                Ok("claimed") => {}
                Ok(_) => {
                    // Closed already, or another container closes it.
                    let first = job.first_key.clone();
                    ctx.update(|m| m.latest = Some(Some(first)));
                    return Ok(Ok(()));
                }
            }
            let j = job.clone();
            ctx.update(|m| {
                m.bags.remove(JOB_BAG);
                m.closing = Some(Closing { job: j, done: 0 });
            });
            (job, 0)
        }
    };
    out.insert("hour".into(), json!(job.start));
    let next: Vec<KeyRange> = job
        .listings
        .iter()
        .skip(done)
        .take(LISTINGS_PER_TICK)
        .cloned()
        .collect();
    if let Err(m) = read_ranges(ctx, &run.sync, &next, Keep::Data, Some(JOB_BAG))? {
        return Ok(Err(m));
    }
    let read = done + next.len();
    ctx.update(|m| {
        if let Some(c) = m.closing.as_mut() {
            c.done = read;
        }
    });
    if read < job.listings.len() {
        return Ok(Ok(()));
    }
    match write_hour(ctx, run, &job, JOB_BAG, false)? {
        Ok(n) => {
            out.insert("closed".into(), json!(n));
            let first = job.first_key.clone();
            ctx.update(|m| {
                m.latest = Some(Some(first));
                m.closing = None;
            });
            Ok(Ok(()))
        }
        Err(m) => Ok(Err(m)),
    }
}

/// Closes the local hour containing `start_ms` at once (claimed first):
/// `{hour, state: closed|stored|held, items?}` with its counts.
fn close_hour_at(ctx: &mut Ctx, run: &Run, start_ms: f64) -> R<Value> {
    let start = crate::timeline::bucket(run.config.time_zone, start_ms as i64);
    let Some(job) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(start)
        .and_then(|s| close::job_at(&run.config, s, run.now))
    else {
        return Ok(json!({"error": format!("agent history: no hour starts at {start_ms}")}));
    };
    let mut out = Map::new();
    out.insert("hour".into(), json!(job.start));
    let state = match begin(ctx, run, &job)? {
        Ok(s) => s,
        Err(m) => return Ok(json!({ "error": m })),
    };
    out.insert("state".into(), json!(state));
    if state == "claimed" {
        let bag = format!("{}:close", run.input.run);
        if let Err(m) = read_ranges(ctx, &run.sync, &job.listings, Keep::Data, Some(&bag))? {
            return Ok(json!({ "error": m }));
        }
        match write_hour(ctx, run, &job, &bag, true)? {
            Ok(n) => {
                out.insert("items".into(), json!(n));
                out.insert("state".into(), json!("closed"));
            }
            Err(m) => return Ok(json!({ "error": m })),
        }
    }
    out.extend(ctx.counts_of(CLOSING));
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------------
// The machine.

fn drive(
    input: Input,
    log: Vec<Value>,
    fresh: Option<Vec<Outcome>>,
    mem: &mut Memory,
) -> Step<String> {
    let mut ctx = Ctx {
        log,
        pos: 0,
        fresh,
        mem,
        part: TOP,
        counts: [Counts::default(); 3],
    };
    let r = program(&mut ctx, &input);
    let run = format!("{}:", input.run);
    let forget = |m: &mut Memory| {
        m.bags.retain(|k, _| !k.starts_with(&run));
        m.runs.remove(&input.run);
    };
    match r {
        Ok(body) => {
            forget(ctx.mem);
            Step::answer(effects::Answer::json(200, body))
        }
        Err(Stop::Yield(ops)) => {
            let state = State {
                input,
                log: ctx.log,
            };
            match serde_json::to_string(&state) {
                Ok(text) => Step::all(text, ops),
                Err(_) => unreadable(),
            }
        }
        Err(Stop::Unreadable) => {
            forget(ctx.mem);
            unreadable()
        }
    }
}

/// The hook's answer for a state or outcomes it cannot read (the callback answers 200 with it).
pub fn unreadable() -> Step<String> {
    Step::answer(effects::Answer::json(
        200,
        json!({"error": "agent history: the hook's state is not one this module wrote"}),
    ))
}

/// Starts the hook for one event (or one hour to close) with the container's memory.
pub fn start(input: Input, memory: &mut Memory) -> Step<String> {
    let now = input.now_ms;
    let dead: Vec<String> = memory
        .runs
        .iter()
        .filter(|(_, at)| (now - **at).abs() > STALE_RUN_MS)
        .map(|(r, _)| r.clone())
        .collect();
    for run in dead {
        memory.runs.remove(&run);
        let prefix = format!("{run}:");
        memory.bags.retain(|k, _| !k.starts_with(&prefix));
    }
    memory.runs.insert(input.run.clone(), now);
    drive(input, Vec::new(), None, memory)
}

/// The next step, from the state text a step gave and its outcomes.
pub fn resume(state: &str, outcomes: Vec<Outcome>, memory: &mut Memory) -> Step<String> {
    match serde_json::from_str::<State>(state) {
        Ok(s) => drive(s.input, s.log, Some(outcomes), memory),
        Err(_) => unreadable(),
    }
}

/// The owner a state names (whose memory the wasm face resumes it with).
pub fn owner_of(state: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Head {
        input: Owner,
    }
    #[derive(Deserialize)]
    struct Owner {
        owner: String,
    }
    serde_json::from_str::<Head>(state)
        .ok()
        .map(|h| h.input.owner)
}
