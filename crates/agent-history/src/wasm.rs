//! The wasm face: plain JS values in, plain JS objects out.
//!
//! ```js
//! const ah = new wasm.AgentHistory(env);        // QUEUE_STATS_TIME_ZONE / AGENT_HISTORY_*; throws 500 naming a bad variable
//! ah.place(event, activities, chunk);           // {map, key, worker} of the record an event goes to, or null (not kept)
//! ah.apply(data|null, event, activities, chunk); // {applied: changed|unchanged|full|elsewhere|ignored, data?, cost?}
//! ah.query(params, Date.now());                 // Query, or throws 400 naming the bad parameter
//! ah.aggregate(query, itemsJson, workers, names); // the series (workers: TaskRouter's, for names and teams;
//!                                               // names false: no agent SIDs or names in the answer)
//! ah.expired(Date.now());                       // [{map, from, to}] of records past retention
//! ah.writeCost(bytes);                          // a write's share of a second of a Sync object's budget
//! ah.nextClose(Date.now(), latestKey|null);     // the hour the hook closes next: {start, end, claimKey, firstKey,
//!                                               //  listings, previous}, or null (close::next_close)
//! ah.closeJob(startMs, Date.now()?);          // the same for the local hour containing startMs (records up to now)
//! ah.closeHour(job, recordsJson, previousJson); // [{key, data, cost}]: the hour's agentHours items
//! ah.hoursMap(); ah.claimsMap(); ah.claimTtl();  // agentHours, the claims' map, their Sync TTL (s)
//! ah.newClaim(hour, owner, Date.now());         // a claim's data (history::claim, the hook's lease)
//! ah.claimState(data|null, owner, Date.now());  // {state: free|mine|held|stale}
//! ah.dayJob(date);                           // a local day's listings (its hours, its days)
//! ah.buildDay(date, hoursJson, generation, workers); // {days, detail} items to write, or null
//! ah.expiredClosed(Date.now());                 // [{map, from, to}] of closed hours and days past retention
//! ah.recloseStep(event, activities, latestKey, spanJson|null); // {step: none|span|hours, …}
//! ah.recloseRecords(reclose, storedJson, Date.now()); // the agent's records to read ([] : nothing changes)
//! ah.reclosePatch(reclose, storedJson, recordsJson); // [{map, key, data, cost}]: the agent's rows closed again
//! ah.daysMap();                                 // agentDays
//! ah.benchItems(agents, days, startMs);         // JSON text [{map, key, data}] of a synthetic month (benchmarks)
//! ```
//!
//! `GET /agent-history` is a machine of the effects protocol (`crate::machine`, docs/effects.md):
//!
//! ```js
//! startAgentHistory(params, env, {workspaceSid, syncServiceSid, names}, Date.now())
//!   // -> {state, run: [effect]} | {answer}; throws 400/403 naming the parameter
//! resume(state, [outcome], Date.now())            // -> the next step (never throws)
//! ```
//!
//! TaskRouter's workers a read listed are remembered by this module's instance (one per
//! container) for `machine::DIRECTORY_TTL_MS`.
//!
//! `activities` is `{WA…: friendly name}` (names `WorkerPreviousActivitySid`); stored items travel
//! as one JSON array text (parsed far faster than the same objects walked through the boundary).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{answer, fail, from_js, to_js};

use crate::aggregate::AgentInfo;
use crate::query::KeyRange;
use crate::record::{self, Applied, Record};
use crate::{
    aggregate, query, read_event, AgentEvent, AgentHistoryError, Config, Env, Params, Query,
};

#[wasm_bindgen]
pub struct AgentHistory {
    config: Config,
}

#[derive(Serialize)]
struct Place {
    map: String,
    key: String,
    worker: String,
}

#[derive(Serialize)]
struct Outcome {
    applied: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
}

#[derive(Serialize)]
struct Write {
    map: String,
    key: String,
    data: Value,
    cost: f64,
    /// The local date of a patched hour (its day is summed again).
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    /// The item's Sync TTL in seconds (`itemTtl` on create and update), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u32>,
}

/// A JSON array text of items.
fn items_of(text: &str, what: &str) -> Result<Vec<Value>, JsValue> {
    serde_json::from_str(text).map_err(|e| input(format!("{what} are not a JSON array: {e}")))
}

#[derive(Serialize)]
struct BenchItem {
    map: String,
    key: String,
    data: Value,
}

fn input(message: String) -> JsValue {
    fail(AgentHistoryError::Input(message))
}

/// Milliseconds since 1970 from JavaScript, checked against the one valid range (`values::instant`).
fn millis(ms: f64) -> Result<i64, JsValue> {
    values::instant::from_millis(ms)
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| input(format!("{ms} is not an instant in milliseconds since 1970")))
}

impl AgentHistory {
    fn directory(&self, workers: JsValue) -> Result<Vec<AgentInfo>, JsValue> {
        let workers: Vec<Value> = if workers.is_undefined() || workers.is_null() {
            Vec::new()
        } else {
            from_js(workers, "workers")?
        };
        Ok(workers
            .iter()
            .filter_map(|w| AgentInfo::from_worker(&self.config, w))
            .collect())
    }

    fn event(&self, event: JsValue, activities: JsValue) -> Result<Option<AgentEvent>, JsValue> {
        let event: Value = from_js(event, "event")?;
        let activities: BTreeMap<String, String> =
            if activities.is_undefined() || activities.is_null() {
                BTreeMap::new()
            } else {
                from_js(activities, "activities")?
            };
        Ok(read_event(
            &event,
            &activities,
            &self.config.disposition_attribute,
        ))
    }
}

#[wasm_bindgen]
impl AgentHistory {
    #[wasm_bindgen(constructor)]
    pub fn new(env: JsValue) -> Result<AgentHistory, JsValue> {
        let env: Env = from_js(env, "environment")?;
        Config::from_env(&env)
            .map(|config| AgentHistory { config })
            .map_err(fail)
    }

    pub fn place(
        &self,
        event: JsValue,
        activities: JsValue,
        chunk: u32,
    ) -> Result<JsValue, JsValue> {
        match self.event(event, activities)? {
            None => Ok(JsValue::NULL),
            Some(e) => {
                let p = record::place(&self.config, &e, chunk);
                to_js(&Place {
                    map: p.map,
                    key: p.key,
                    worker: e.worker,
                })
            }
        }
    }

    pub fn apply(
        &self,
        data: JsValue,
        event: JsValue,
        activities: JsValue,
        chunk: u32,
    ) -> Result<JsValue, JsValue> {
        let Some(e) = self.event(event, activities)? else {
            return to_js(&Outcome {
                applied: "ignored",
                data: None,
                cost: None,
            });
        };
        let hour = record::utc_hour(e.at_ms);
        let mut rec = if data.is_undefined() || data.is_null() {
            Record::new(&e.worker, hour, chunk)
        } else {
            let v: Value = from_js(data, "stored record")?;
            // An item that is not a record (or another's) is replaced by a fresh one.
            Record::from_value(&v)
                .filter(|r| r.worker == e.worker && r.hour_ms == hour)
                .unwrap_or_else(|| Record::new(&e.worker, hour, chunk))
        };
        rec.chunk = chunk;
        let applied = rec.apply(&e);
        let (name, data) = match applied {
            Applied::Changed => ("changed", Some(rec.to_value())),
            Applied::Unchanged => ("unchanged", None),
            Applied::Full => ("full", None),
            Applied::Elsewhere => ("elsewhere", None),
        };
        let cost = data
            .as_ref()
            .map(|d| history::write_cost(d.to_string().len()));
        to_js(&Outcome {
            applied: name,
            data,
            cost,
        })
    }

    pub fn query(&self, params: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let params: Params = from_js(params, "query parameters")?;
        answer(query(&self.config, &params, now_ms))
    }

    pub fn aggregate(
        &self,
        query: JsValue,
        items: &str,
        workers: JsValue,
        names: bool,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let items: Vec<Value> = serde_json::from_str(items)
            .map_err(|e| input(format!("stored items are not a JSON array: {e}")))?;
        let directory = self.directory(workers)?;
        let series = aggregate(&self.config, &q, &items, &directory);
        to_js(&if names {
            series
        } else {
            series.without_agents()
        })
    }

    pub fn expired(&self, now_ms: f64) -> Result<JsValue, JsValue> {
        let ranges: Vec<KeyRange> = record::expired(&self.config, millis(now_ms)?)
            .into_iter()
            .map(|(map, from, to)| KeyRange { map, from, to })
            .collect();
        to_js(&ranges)
    }

    #[wasm_bindgen(js_name = writeCost)]
    pub fn write_cost(&self, bytes: usize) -> f64 {
        history::write_cost(bytes)
    }

    #[wasm_bindgen(js_name = nextClose)]
    pub fn next_close(&self, now_ms: f64, latest_key: Option<String>) -> Result<JsValue, JsValue> {
        match crate::close::next_close(&self.config, millis(now_ms)?, latest_key.as_deref()) {
            Some(job) => to_js(&job),
            None => Ok(JsValue::NULL),
        }
    }

    #[wasm_bindgen(js_name = closeJob)]
    pub fn close_job(&self, start_ms: f64, now_ms: Option<f64>) -> Result<JsValue, JsValue> {
        let start = crate::timeline::bucket(self.config.time_zone, millis(start_ms)?);
        let now = match now_ms {
            Some(n) => millis(n)?,
            None => i64::MIN,
        };
        match DateTime::<Utc>::from_timestamp_millis(start)
            .and_then(|s| crate::close::job_at(&self.config, s, now))
        {
            Some(job) => to_js(&job),
            None => Err(input(format!("no hour starts at {start_ms}"))),
        }
    }

    #[wasm_bindgen(js_name = closeHour)]
    pub fn close_hour(
        &self,
        job: JsValue,
        records: &str,
        previous: &str,
    ) -> Result<JsValue, JsValue> {
        let job: crate::close::Job = from_js(job, "job")?;
        let (Some(start), Some(end)) = (
            values::instant::parse(&job.start),
            values::instant::parse(&job.end),
        ) else {
            return Err(input(format!(
                "job names no hour: {} to {}",
                job.start, job.end
            )));
        };
        let records: Vec<Value> = serde_json::from_str(records)
            .map_err(|e| input(format!("stored records are not a JSON array: {e}")))?;
        let records: Vec<Record> = records.iter().filter_map(Record::from_value).collect();
        let previous: Vec<Value> = serde_json::from_str(previous)
            .map_err(|e| input(format!("previous hour's items are not a JSON array: {e}")))?;
        let out: Vec<BenchItem> =
            crate::rollup::close_hour(self.config.time_zone, start, end, &records, &previous)
                .into_iter()
                .enumerate()
                .map(|(i, data)| BenchItem {
                    map: crate::rollup::ROLLUP_MAP.to_string(),
                    key: crate::rollup::rollup_key(start, i),
                    data,
                })
                .collect();
        to_js(&out)
    }

    #[wasm_bindgen(js_name = hoursMap)]
    pub fn hours_map(&self) -> String {
        crate::rollup::ROLLUP_MAP.to_string()
    }

    #[wasm_bindgen(js_name = claimsMap)]
    pub fn claims_map(&self) -> String {
        crate::close::CLAIMS_MAP.to_string()
    }

    #[wasm_bindgen(js_name = claimTtl)]
    pub fn claim_ttl(&self) -> u32 {
        history::claim::CLAIM_TTL_S
    }

    #[wasm_bindgen(js_name = newClaim)]
    pub fn new_claim(&self, hour: &str, owner: &str, now_ms: f64) -> Result<JsValue, JsValue> {
        to_js(&history::claim::new_claim(
            hour,
            owner,
            history::claim::Kind::Hook,
            now_ms,
        ))
    }

    #[wasm_bindgen(js_name = claimState)]
    pub fn claim_state(&self, data: JsValue, owner: &str, now_ms: f64) -> Result<JsValue, JsValue> {
        let existing: Option<Value> = if data.is_undefined() || data.is_null() {
            None
        } else {
            Some(from_js(data, "claim")?)
        };
        to_js(&history::claim::state(existing.as_ref(), owner, now_ms))
    }

    /// The day job of a local date `YYYY-MM-DD` (its hours' and its days' listings).
    #[wasm_bindgen(js_name = dayJob)]
    pub fn day_job(&self, date: &str) -> Result<JsValue, JsValue> {
        match date
            .parse::<chrono::NaiveDate>()
            .ok()
            .and_then(|d| crate::close::day_job(&self.config, d))
        {
            Some(job) => to_js(&job),
            None => Err(input(format!("{date} is not a date"))),
        }
    }

    /// `{days: [{map, key, data, cost}], detail: [...]}`: the day's `agentDays` items, with every
    /// team's hour sums (teams from `workers`, TaskRouter's directory now), and its agents'
    /// hours in `agentDayHours` buckets; null while one of its hours is not closed.
    #[wasm_bindgen(js_name = buildDay)]
    pub fn build_day(
        &self,
        date: &str,
        hour_items: &str,
        generation: f64,
        workers: JsValue,
    ) -> Result<JsValue, JsValue> {
        let Ok(d) = date.parse::<chrono::NaiveDate>() else {
            return Err(input(format!("{date} is not a date")));
        };
        let hours = items_of(hour_items, "closed hours")?;
        // No directory (TaskRouter failed): a build without teams (read from hours by hour of
        // chosen agents), never one where nobody has a team.
        let known = !(workers.is_undefined() || workers.is_null());
        let teams: BTreeMap<String, String> = self
            .directory(workers)?
            .into_iter()
            .filter_map(|a| Some((a.sid, a.team?)))
            .collect();
        let g = generation.max(0.0) as u64;
        let Some(built) =
            crate::days::build_day(self.config.time_zone, d, &hours, g, known.then_some(&teams))
        else {
            return Ok(JsValue::NULL);
        };
        let write = |map: &str, key: String, data: Value| Write {
            map: map.to_string(),
            key,
            cost: history::write_cost(data.to_string().len()),
            data,
            date: None,
            ttl: None,
        };
        #[derive(Serialize)]
        struct Built {
            days: Vec<Write>,
            detail: Vec<Write>,
        }
        to_js(&Built {
            days: built
                .days
                .into_iter()
                .enumerate()
                .map(|(i, v)| write(crate::days::DAYS_MAP, crate::days::day_key(d, i), v))
                .collect(),
            // Each item names its key; an agent's item (the per-agent layout) expires with the
            // retention (Sync: a year at most), as no pruning lists those keys.
            detail: built
                .detail
                .into_iter()
                .filter_map(|v| {
                    let key = crate::days::detail_item_key(&v)?;
                    let per_agent = v.get("v").and_then(Value::as_i64) == Some(2);
                    let mut w = write(crate::days::DETAIL_MAP, key, v);
                    w.ttl = per_agent.then(|| crate::days::detail_ttl(self.config.retention_days));
                    Some(w)
                })
                .collect(),
        })
    }

    /// `[{map, to}]`: closed hours and days past retention (every key up to `to`).
    #[wasm_bindgen(js_name = expiredClosed)]
    pub fn expired_closed(&self, now_ms: f64) -> Result<JsValue, JsValue> {
        to_js(&crate::close::expired_closed(&self.config, millis(now_ms)?))
    }

    /// After an event's record was written: `{step: "none"}`, `{step: "span", listing}` (read it,
    /// then call again with its items), or `{step: "hours", worker, from, to, hours, records}`.
    #[wasm_bindgen(js_name = recloseStep)]
    pub fn reclose_step(
        &self,
        event: JsValue,
        activities: JsValue,
        latest_key: Option<String>,
        span_records: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let Some(e) = self.event(event, activities)? else {
            return to_js(&crate::close::RecloseStep::None);
        };
        let span: Option<Vec<Record>> = match span_records {
            None => None,
            Some(text) => Some(
                items_of(&text, "span records")?
                    .iter()
                    .filter_map(Record::from_value)
                    .collect(),
            ),
        };
        to_js(&crate::close::reclose_step(
            &self.config,
            &e,
            latest_key.as_deref(),
            span.as_deref(),
        ))
    }

    /// `[{map, key, data, cost}]`: the agent's rows of a reclose's hours, closed again, from the
    /// stored `agentHours` items (`[{key, data}]`) and the agent's records.
    #[wasm_bindgen(js_name = reclosePatch)]
    pub fn reclose_patch(
        &self,
        reclose: JsValue,
        stored: &str,
        records: &str,
    ) -> Result<JsValue, JsValue> {
        let r: crate::close::Reclose = from_js(reclose, "reclose")?;
        let (Some(from), Some(to)) = (
            values::instant::parse(&r.from),
            values::instant::parse(&r.to),
        ) else {
            return Err(input(format!(
                "reclose names no hours: {} to {}",
                r.from, r.to
            )));
        };
        let stored: Vec<(String, Value)> = items_of(stored, "closed hours")?
            .into_iter()
            .filter_map(|v| Some((v.get("key")?.as_str()?.to_string(), v.get("data")?.clone())))
            .collect();
        let records: Vec<Record> = items_of(records, "records")?
            .iter()
            .filter_map(Record::from_value)
            .collect();
        let values: Vec<Value> = stored.iter().map(|(_, v)| v.clone()).collect();
        let Some(from) = crate::close::reclose_from(&r, &values).filter(|f| *f >= from) else {
            return to_js(&Vec::<Write>::new());
        };
        let out: Vec<Write> = crate::rollup::patch_agent(
            self.config.time_zone,
            &r.worker,
            from,
            to,
            &stored,
            &records,
        )
        .into_iter()
        .map(|(key, data)| Write {
            map: crate::rollup::ROLLUP_MAP.to_string(),
            date: data
                .get("start")
                .and_then(Value::as_str)
                .and_then(values::instant::parse)
                .map(|t| history::time::local_date(self.config.time_zone, t).to_string()),
            key,
            cost: history::write_cost(data.to_string().len()),
            data,
            ttl: None,
        })
        .collect();
        to_js(&out)
    }

    /// `[{map, from, to}]`: the agent's records a reclose reads, given its stored `agentHours`
    /// items (`[{key, data}]`); empty when no closed hour changes.
    #[wasm_bindgen(js_name = recloseRecords)]
    pub fn reclose_records(
        &self,
        reclose: JsValue,
        stored: &str,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let r: crate::close::Reclose = from_js(reclose, "reclose")?;
        let values: Vec<Value> = items_of(stored, "closed hours")?
            .into_iter()
            .filter_map(|v| v.get("data").cloned())
            .collect();
        to_js(&crate::close::reclose_records(
            &self.config,
            &r,
            &values,
            millis(now_ms)?,
        ))
    }

    #[wasm_bindgen(js_name = daysMap)]
    pub fn days_map(&self) -> String {
        crate::days::DAYS_MAP.to_string()
    }

    #[wasm_bindgen(js_name = benchItems)]
    pub fn bench_items(&self, agents: usize, days: u32, start_ms: f64) -> Result<String, JsValue> {
        let items: Vec<BenchItem> =
            crate::bench::month_items(agents.min(2000), i64::from(days.min(400)), start_ms as i64)
                .into_iter()
                .filter_map(|data| {
                    let r = Record::from_value(&data)?;
                    Some(BenchItem {
                        map: record::map_name(&self.config, &r.worker),
                        key: record::item_key(r.hour_ms, &r.worker, r.chunk),
                        data,
                    })
                })
                .collect();
        serde_json::to_string(&items).map_err(|e| input(e.to_string()))
    }
}

thread_local! {
    static DIRECTORY: std::cell::RefCell<Option<crate::machine::Directory>> =
        const { std::cell::RefCell::new(None) };
}

/// A step for the executor; its state is `machine::Carried`: a small JSON text and the items
/// read (megabytes) as texts beside it, which cross the boundary as strings, never walked.
fn turn(t: crate::machine::Turn) -> Result<JsValue, JsValue> {
    if let Some(d) = t.remember {
        DIRECTORY.with(|slot| *slot.borrow_mut() = Some(d));
    }
    to_js(&t.step.map(crate::machine::Read::carry))
}

/// Starts `GET /agent-history` (`crate::machine`).
#[wasm_bindgen(js_name = startAgentHistory)]
pub fn start_agent_history(
    params: JsValue,
    env: JsValue,
    settings: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let params: Params = from_js(params, "query parameters")?;
    let env: BTreeMap<String, String> = from_js(env, "environment")?;
    let settings: crate::machine::Settings = from_js(settings, "settings")?;
    let remembered = DIRECTORY.with(|d| d.borrow().clone());
    let t = crate::machine::start(env, &params, &settings, remembered.as_ref(), now_ms)
        .map_err(fail)?;
    turn(t)
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// The next step of a machine this module started; a state or outcomes that cannot be read are
/// answered (500), not thrown.
#[wasm_bindgen]
pub fn resume(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    // The state as this module gave it.
    let read = serde_wasm_bindgen::from_value::<crate::machine::Carried>(state)
        .ok()
        .and_then(crate::machine::Carried::read);
    // The outcomes' text, parsed by the machine as it needs (items' data kept as text).
    let outcomes: Option<String> = match outcomes.as_string() {
        Some(text) => Some(text),
        None => json_stringify(&outcomes).ok().and_then(|t| t.as_string()),
    };
    match (read, outcomes) {
        (Some(read), Some(outcomes)) => turn(crate::machine::resume_text(read, &outcomes, now_ms)),
        _ => to_js(&effects::Step::<crate::machine::Read>::answer(
            crate::machine::unreadable(),
        )),
    }
}
