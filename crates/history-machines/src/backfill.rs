//! `GET /queue-history` ([`series`]) and the scripts' closing of given hours ([`close`]) on the
//! effects protocol.
//!
//! The series: read the stored range (pages of 100) and aggregate. When hours are `pending` and
//! the request backfills, list the queues and read the claims of those hours (one step), then
//! close them newest first through [`crate::close`], a few at a time (as many as keep
//! [`crate::close::MAX_READS`] TaskRouter reads a step busy), starting another only while
//! `claim::may_start` allows with the time left before `deadlineMs` (and while the run is short of
//! [`STEP_BUDGET`] steps). A claim lost to another request makes the run read the claims of the
//! hours it has not started again, so the hours others hold are skipped without a refused create
//! each. Then read the range again and aggregate with the notes of the hours not stored.
//! `backfill=false`: the stored hours only, with TaskRouter's queue list when asked for.

use std::collections::BTreeMap;

use effects::{Answer, Op, Outcome};
use history::{claim, Note, Params, Query, QueueName};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::close::{
    self, config_of, held_note, list_queues, note_of, services_of, Closer, Ids, Phase, Take,
};
use crate::range::RangeRead;
use crate::{Local, Machine, Turn};

/// A run starts no new hour after this many steps (the executor stops a machine at 200).
pub const STEP_BUDGET: u32 = 150;

/// The most hours a run closes at once.
pub const MAX_ACTIVE: usize = 8;

/// The read of the claims of the hours from `first` to `last` (ISO starts, inclusive).
fn claims_read(service_sid: &str, first: &str, last: &str) -> RangeRead {
    let key = |h: &str| {
        close::instant_of(h)
            .map(claim::claim_key)
            .unwrap_or_default()
    };
    RangeRead::new(
        service_sid,
        claim::CLAIMS_MAP,
        &key(first),
        &format!("{}~", key(last)),
    )
}

fn yes() -> bool {
    true
}

/// `GET /queue-history`'s input.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesInput {
    #[serde(default)]
    pub params: Params,
    /// The settings as set (`crate::SETTINGS`: `QUEUE_STATS_*`, `QUEUE_HISTORY_*`, the services).
    #[serde(default)]
    pub env: Value,
    /// This container (claims).
    #[serde(default)]
    pub owner: String,
    /// This request.
    #[serde(default)]
    pub run: String,
    pub now_ms: f64,
    /// When the function must stop starting work (ms since 1970); none: no limit.
    #[serde(default)]
    pub deadline_ms: Option<f64>,
    /// Answer TaskRouter's queues too (the view's queue list).
    #[serde(default)]
    pub list_queues: bool,
    /// `false`: never backfill (staffing's measured read).
    #[serde(default = "yes")]
    pub backfill: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Stage {
    First,
    Plan,
    Close,
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Outer {
    Range,
    Queues,
    Claims,
}

/// The series machine's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    query: Query,
    env: Value,
    ids: Ids,
    stage: Stage,
    deadline_ms: Option<f64>,
    list_queues: bool,
    range: RangeRead,
    /// The stored items' data read so far, comma-separated JSON texts: a string between steps
    /// (megabytes for 30 days of many queues), parsed once to aggregate.
    #[serde(default)]
    stored: String,
    /// The page of the stored range was taken from the outcomes' text already (done or not).
    #[serde(default, skip)]
    range_taken: Option<bool>,
    known: Option<Vec<QueueName>>,
    #[serde(default)]
    queues_failed: Option<Note>,
    claims: Option<RangeRead>,
    /// The hours to backfill, oldest first.
    todo: Vec<String>,
    /// Hours planned and not started, newest first: (hour, claim key, how).
    waiting: Vec<(String, String, Take)>,
    notes: BTreeMap<String, Note>,
    closer: Option<Closer>,
    outer: Vec<Outer>,
    steps: u32,
    stopped: bool,
}

/// Starts `GET /queue-history`: a bad parameter is refused (400 naming it), a bad setting is a
/// 500 naming the variable, before any request.
pub fn series(input: SeriesInput) -> Result<Turn, history::HistoryError> {
    let config = config_of(&input.env)?;
    let (workspace_sid, sync_service_sid) = services_of(&input.env)?;
    let query = history::query(&config, &input.params, input.now_ms)?;
    let backfill = input.backfill;
    let range = RangeRead::new(
        &sync_service_sid,
        &query.map,
        &query.list_from,
        &query.list_to,
    );
    let mut outer = vec![Outer::Range];
    let mut ops = vec![range.op()];
    // The stored hours only: TaskRouter's queues now, so the view's list is complete at once.
    if input.list_queues && !query.backfill {
        outer.push(Outer::Queues);
        ops.push(list_queues(&workspace_sid));
    }
    let state = Series {
        query,
        env: input.env,
        ids: Ids {
            workspace_sid,
            service_sid: sync_service_sid,
            owner: input.owner,
            run: Some(input.run),
        },
        stage: Stage::First,
        deadline_ms: input.deadline_ms,
        list_queues: input.list_queues,
        range,
        stored: String::new(),
        range_taken: None,
        known: None,
        queues_failed: None,
        claims: None,
        todo: Vec::new(),
        waiting: Vec::new(),
        notes: BTreeMap::new(),
        closer: None,
        outer,
        steps: 0,
        stopped: !backfill,
    };
    Ok(Turn::run(Machine::Series(Box::new(state)), ops))
}

impl Series {
    /// The stored items' text, taken out of the state (the wasm face carries it beside the
    /// state's JSON text, as a string of its own: never escaped into it).
    pub fn take_stored(&mut self) -> String {
        std::mem::take(&mut self.stored)
    }

    /// Puts back what [`Series::take_stored`] took.
    pub fn put_stored(&mut self, stored: String) {
        self.stored = stored;
    }

    fn time_left(&self, now_ms: f64) -> f64 {
        self.deadline_ms.map_or(f64::INFINITY, |d| d - now_ms)
    }

    /// Moves the page just read into `stored`.
    fn keep_page(&mut self) {
        for item in self.range.items.drain(..) {
            if !self.stored.is_empty() {
                self.stored.push(',');
            }
            self.stored
                .push_str(&serde_json::to_string(&item.data).unwrap_or_else(|_| "null".into()));
        }
    }

    fn aggregate(&self, config: &history::Config) -> history::Series {
        let known = if self.list_queues {
            self.known.clone().unwrap_or_default()
        } else {
            Vec::new()
        };
        let items: Vec<Value> =
            serde_json::from_str(&format!("[{}]", self.stored)).unwrap_or_default();
        history::aggregate_known(config, &self.query, &items, &self.notes, &known)
    }

    fn answer(&self, config: &history::Config) -> Answer {
        let series = self.aggregate(config);
        Answer::json(200, serde_json::to_value(series).unwrap_or(Value::Null))
    }

    /// [`Series::resume`] from the executor's outcomes text: the pages of the stored range are
    /// read without building their items (their data is kept as text), the rest as outcomes.
    pub fn resume_text(mut self, outcomes: &str, now_ms: f64, local: &mut Local) -> Turn {
        #[derive(Deserialize)]
        struct Page<'a> {
            ok: bool,
            #[serde(borrow, default)]
            value: Vec<crate::range::RawItem<'a>>,
        }
        let Ok(list) = serde_json::from_str::<Vec<&serde_json::value::RawValue>>(outcomes) else {
            return Turn::answer(crate::unreadable());
        };
        let mut parsed = Vec::with_capacity(list.len());
        for (i, raw) in list.iter().enumerate() {
            if self.outer.get(i) == Some(&Outer::Range) {
                if let Ok(Page { ok: true, value }) = serde_json::from_str::<Page>(raw.get()) {
                    let (kept, done) = self.range.take_raw(&value);
                    for data in kept {
                        if !self.stored.is_empty() {
                            self.stored.push(',');
                        }
                        self.stored.push_str(data);
                    }
                    self.range_taken = Some(done);
                    parsed.push(Outcome::Done(Value::Null));
                    continue;
                }
            }
            match serde_json::from_str::<Outcome>(raw.get()) {
                Ok(o) => parsed.push(o),
                Err(_) => return Turn::answer(crate::unreadable()),
            }
        }
        self.resume(parsed, now_ms, local)
    }

    pub(crate) fn resume(mut self, outcomes: Vec<Outcome>, now_ms: f64, local: &mut Local) -> Turn {
        let config = match config_of(&self.env) {
            Ok(c) => c,
            Err(_) => return Turn::answer(crate::unreadable()),
        };
        self.steps += 1;
        let outer = std::mem::take(&mut self.outer);
        let mut outcomes = outcomes.into_iter();
        let mut range_more = false;
        let mut claims_more = false;
        for tag in outer {
            let outcome = outcomes
                .next()
                .unwrap_or_else(|| Outcome::Failed(effects::Failure::missing()));
            match tag {
                Outer::Range => match self
                    .range_taken
                    .take()
                    .map_or_else(|| self.range.take(outcome), Ok)
                {
                    Ok(done) => {
                        range_more = !done;
                        self.keep_page();
                    }
                    Err(f) => return Turn::answer(f.answer("Reading the stored queue history")),
                },
                Outer::Queues => match outcome.into_result() {
                    Ok(v) => self.known = Some(close::queue_names(&v)),
                    Err(f) => self.queues_failed = Some(note_of(&f)),
                },
                Outer::Claims => {
                    let Some(read) = self.claims.as_mut() else {
                        continue;
                    };
                    match read.take(outcome) {
                        Ok(done) => claims_more = !done,
                        Err(f) => {
                            // The claims cannot be read: the hours wait for the next request.
                            let note = note_of(&f);
                            for hour in &self.todo {
                                self.notes.entry(hour.clone()).or_insert(note.clone());
                            }
                            self.waiting.clear();
                            self.claims = None;
                            self.stopped = true;
                        }
                    }
                }
            }
        }
        let rest: Vec<Outcome> = outcomes.collect();
        if let Some(closer) = self.closer.as_mut() {
            closer.take(&config, rest, now_ms);
        }
        let mut ops: Vec<Op> = Vec::new();
        if range_more {
            self.outer.push(Outer::Range);
            ops.push(self.range.op());
        }
        if claims_more {
            if let Some(read) = &self.claims {
                self.outer.push(Outer::Claims);
                ops.push(read.op());
            }
        }
        if !ops.is_empty() {
            return Turn::run(Machine::Series(Box::new(self)), ops);
        }
        match self.stage {
            Stage::First => self.after_first(&config),
            Stage::Plan => self.after_plan(&config, now_ms, local),
            Stage::Close => self.close_more(&config, now_ms, local),
            Stage::Last => Turn::answer(self.answer(&config)),
        }
    }

    fn after_first(mut self, config: &history::Config) -> Turn {
        let first = self.aggregate(config);
        let mut todo: Vec<String> = if !self.stopped && self.query.backfill {
            first
                .missing
                .iter()
                .filter(|m| m.code == "pending")
                .map(|m| m.hour.clone())
                .collect()
        } else {
            Vec::new()
        };
        if todo.is_empty() {
            return Turn::answer(Answer::json(
                200,
                serde_json::to_value(first).unwrap_or(Value::Null),
            ));
        }
        // Read again at the end: the steps between carry none of it.
        self.stored.clear();
        todo.sort();
        let (Some(oldest), Some(newest)) = (todo.first(), todo.last()) else {
            return Turn::answer(self.answer(config));
        };
        let claims = claims_read(&self.ids.service_sid, oldest, newest);
        self.todo = todo;
        let ops = vec![list_queues(&self.ids.workspace_sid), claims.op()];
        self.outer = vec![Outer::Queues, Outer::Claims];
        self.claims = Some(claims);
        self.stage = Stage::Plan;
        Turn::run(Machine::Series(Box::new(self)), ops)
    }

    /// The claims read: which hours to claim, and how.
    fn replan(&mut self, hours: &[String], now_ms: f64) {
        let Some(read) = self.claims.take() else {
            return;
        };
        let data: BTreeMap<String, Value> = read
            .items
            .iter()
            .map(|i| (i.key.clone(), i.data.clone()))
            .collect();
        let revisions: BTreeMap<&str, Option<String>> = read
            .items
            .iter()
            .map(|i| (i.key.as_str(), i.revision.clone()))
            .collect();
        let plan = claim::plan_for_run(
            hours,
            &data,
            &self.ids.owner,
            self.ids.run.as_deref(),
            now_ms,
        );
        self.waiting = plan
            .into_iter()
            .filter_map(|step| match step.action {
                "create" => Some((step.hour, step.key, Take::Create)),
                "update" => {
                    let revision = revisions.get(step.key.as_str()).cloned().flatten();
                    Some((step.hour, step.key, Take::Update { revision }))
                }
                _ => {
                    self.notes.insert(step.hour, held_note());
                    None
                }
            })
            .collect();
    }

    fn after_plan(mut self, config: &history::Config, now_ms: f64, local: &mut Local) -> Turn {
        if let Some(note) = self.queues_failed.clone() {
            for hour in &self.todo {
                self.notes.entry(hour.clone()).or_insert(note.clone());
            }
            return self.last(local);
        }
        let todo = self.todo.clone();
        self.replan(&todo, now_ms);
        let mut closer = Closer::new(
            self.env.clone(),
            self.ids.clone(),
            claim::Kind::Backfill,
            self.known.clone().unwrap_or_default(),
            now_ms,
        );
        if let Some(oldest) = self.todo.first() {
            closer.activity_from(oldest);
        }
        self.closer = Some(closer);
        self.stage = Stage::Close;
        self.close_more(config, now_ms, local)
    }

    fn close_more(mut self, config: &history::Config, now_ms: f64, local: &mut Local) -> Turn {
        let mut ops: Vec<Op> = Vec::new();
        let Some(mut closer) = self.closer.take() else {
            return self.last(local);
        };
        let run = self.ids.run.clone().unwrap_or_default();
        local.lapse(now_ms);
        // A failed hour is free again at once; a stored one stays known until the lease ends (the
        // container's other requests, planned before, then skip it without a claim refused).
        let owner = self.ids.owner.clone();
        for job in closer.jobs.iter().filter(|j| j.phase == Phase::Failed) {
            let mine = local.of(&owner);
            if mine.get(&job.hour).is_some_and(|(r, _)| *r == run) {
                mine.remove(&job.hour);
            }
        }
        // The claims were read again: plan the hours not started.
        if self.claims.is_some() {
            let hours: Vec<String> = self.waiting.iter().map(|w| w.0.clone()).collect();
            self.replan(&hours, now_ms);
        }
        // A claim was lost: read the claims of the hours not started before starting another.
        if closer.lost_since() && !self.waiting.is_empty() && !self.stopped {
            let mut hours: Vec<String> = self.waiting.iter().map(|w| w.0.clone()).collect();
            hours.sort();
            if let (Some(first), Some(last)) = (hours.first(), hours.last()) {
                let read = claims_read(&self.ids.service_sid, first, last);
                self.outer.push(Outer::Claims);
                ops.push(read.op());
                self.claims = Some(read);
            }
        }
        if self.claims.is_none() {
            let per_hour = closer.reads_per_hour(config).max(1);
            let at_once = (2 * close::MAX_READS)
                .div_ceil(per_hour)
                .clamp(2, MAX_ACTIVE);
            while closer.active() < at_once && !self.waiting.is_empty() && !self.stopped {
                if !claim::may_start(self.time_left(now_ms)) || self.steps >= STEP_BUDGET {
                    self.stopped = true;
                    break;
                }
                let (hour, key, take) = self.waiting.remove(0);
                // Another request of this container is on it: leave it to that one.
                if local.held(&owner, &hour, &run, now_ms) {
                    self.notes.insert(hour, held_note());
                    continue;
                }
                local.of(&owner).insert(
                    hour.clone(),
                    (run.clone(), now_ms + claim::BACKFILL_LEASE_MS),
                );
                closer.add(&hour, Some((key, take)));
            }
        }
        ops.extend(closer.step(config, now_ms));
        self.closer = Some(closer);
        if ops.is_empty() {
            return self.last(local);
        }
        Turn::run(Machine::Series(Box::new(self)), ops)
    }

    fn last(mut self, local: &mut Local) -> Turn {
        let run = self.ids.run.clone().unwrap_or_default();
        let stored: std::collections::BTreeSet<&str> = self
            .closer
            .iter()
            .flat_map(|c| c.jobs.iter())
            .filter(|j| j.phase == Phase::Done)
            .map(|j| j.hour.as_str())
            .collect();
        local
            .of(&self.ids.owner)
            .retain(|hour, (r, _)| *r != run || stored.contains(hour.as_str()));
        if let Some(closer) = &self.closer {
            for (hour, note) in closer.notes() {
                self.notes.insert(hour, note);
            }
        }
        self.closer = None;
        self.claims = None;
        self.waiting.clear();
        self.stage = Stage::Last;
        self.stored.clear();
        self.range = RangeRead::new(
            &self.ids.service_sid,
            &self.query.map,
            &self.query.list_from,
            &self.query.list_to,
        );
        self.outer = vec![Outer::Range];
        let op = self.range.op();
        Turn::run(Machine::Series(Box::new(self)), vec![op])
    }
}

/// The scripts' closing of given hours (no claim): seeding, benchmarks, the retention test.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseInput {
    /// The settings as set (`crate::SETTINGS`).
    #[serde(default)]
    pub env: Value,
    pub hours: Vec<String>,
    /// The queues to close (`[{sid, friendlyName}]`); absent: listed first.
    #[serde(default)]
    pub queues: Option<Vec<QueueName>>,
    pub now_ms: f64,
}

/// The closing machine's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Close {
    closer: Closer,
    waiting: Vec<String>,
    listing: bool,
}

/// Starts closing `hours` (oldest first, a few at once); a bad setting is refused (500).
pub fn close(input: CloseInput) -> Result<Turn, history::HistoryError> {
    config_of(&input.env)?;
    let (workspace_sid, service_sid) = services_of(&input.env)?;
    let ids = Ids {
        workspace_sid,
        service_sid,
        owner: String::new(),
        run: None,
    };
    let listing = input.queues.is_none();
    let mut closer = Closer::new(
        input.env,
        ids,
        claim::Kind::Backfill,
        input.queues.unwrap_or_default(),
        input.now_ms,
    );
    let mut waiting = input.hours;
    waiting.sort();
    waiting.dedup();
    if let Some(first) = waiting.first() {
        closer.activity_from(first);
    }
    let state = Close {
        closer,
        waiting,
        listing,
    };
    if listing {
        let op = list_queues(&state.closer.ids.workspace_sid);
        return Ok(Turn::run(Machine::Close(Box::new(state)), vec![op]));
    }
    Ok(state.more(Vec::new(), f64::NAN))
}

impl Close {
    pub(crate) fn resume(mut self, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
        let mut outcomes = outcomes;
        if self.listing {
            self.listing = false;
            let first = if outcomes.is_empty() {
                Outcome::Failed(effects::Failure::missing())
            } else {
                outcomes.remove(0)
            };
            match first.into_result() {
                Ok(v) => self.closer.queues = close::queue_names(&v),
                Err(f) => return Turn::answer(f.answer("Listing the TaskQueues")),
            }
        }
        self.more(outcomes, now_ms)
    }

    fn more(mut self, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
        let Ok(config) = config_of(&self.closer.env) else {
            return Turn::answer(crate::unreadable());
        };
        self.closer.take(&config, outcomes, now_ms);
        let per_hour = self.closer.reads_per_hour(&config).max(1);
        let at_once = (2 * close::MAX_READS)
            .div_ceil(per_hour)
            .clamp(2, MAX_ACTIVE);
        while self.closer.active() < at_once && !self.waiting.is_empty() {
            let hour = self.waiting.remove(0);
            self.closer.add(&hour, None);
        }
        let ops = self.closer.step(&config, now_ms);
        if !ops.is_empty() {
            return Turn::run(Machine::Close(Box::new(self)), ops);
        }
        let closed: Vec<&str> = self
            .closer
            .jobs
            .iter()
            .filter(|j| j.phase == Phase::Done)
            .map(|j| j.hour.as_str())
            .collect();
        let c = self.closer.counts;
        Turn::answer(Answer::json(
            200,
            json!({
                "closed": closed,
                "notes": self.closer.notes(),
                "queues": self.closer.queues,
                "taskrouterCalls": c.taskrouter_calls,
                "syncReads": c.sync_reads,
                "syncWrites": c.sync_writes,
            }),
        ))
    }
}
