//! The wasm face: plain JS values in, plain JS objects out.
//!
//! The class serves the benchmarks (scripts/bench-agent-history.js); the functions run machines
//! (`startAgentHistory` below; the event callback's hook in `hook_wasm`).
//!
//! ```js
//! const ah = new wasm.AgentHistory(env);        // QUEUE_STATS_TIME_ZONE / AGENT_HISTORY_*; throws 500 naming a bad variable
//! ah.query(params, Date.now());                 // Query, or throws 400 naming the bad parameter
//! ah.aggregate(query, itemsJson, workers, names); // the series (workers: TaskRouter's, for names and teams;
//!                                               // names false: no agent SIDs or names in the answer)
//! ah.closeJob(startMs, Date.now()?);            // the local hour containing startMs: its listings (records up to now)
//! ah.closeHour(job, recordsJson, previousJson); // [{key, data, cost}]: the hour's agentHours items
//! ah.buildDay(date, hoursJson, generation, workers); // {days, detail} items to write, or null
//! ah.benchItems(agents, days, startMs);         // JSON text [{map, key, data}] of a synthetic month (benchmarks)
//! ```
//!
//! `GET /agent-history` is a machine of the effects protocol (`crate::machine`, docs/effects.md):
//!
//! ```js
//! startAgentHistory(params, env, {names}, Date.now())   // env: agentHistorySettings() as set (the services too)
//!   // a missing or contradicting setting: throws 500 naming it
//!   // -> {state, run: [effect]} | {answer}; throws 400/403 naming the parameter
//! resume(state, [outcome], Date.now())            // -> the next step (never throws)
//! ```
//!
//! TaskRouter's workers a read listed are remembered by this module's instance (one per
//! container) for `machine::DIRECTORY_TTL_MS`.
//!
//! Stored items travel as one JSON array text (parsed far faster than the same objects walked through the boundary).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{answer, fail, from_js, to_js};

use crate::aggregate::AgentInfo;
use crate::record::{self, Record};
use crate::{aggregate, query, AgentHistoryError, Config, Env, Params, Query};

#[wasm_bindgen]
pub struct AgentHistory {
    config: Config,
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

/// The settings the machines read (`crate::SETTINGS`): what the functions hand them.
#[wasm_bindgen(js_name = agentHistorySettings)]
pub fn agent_history_settings() -> Result<JsValue, JsValue> {
    to_js(crate::SETTINGS)
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
