//! The wasm face: plain JS values in, plain JS objects out.
//!
//! ```js
//! const ah = new wasm.AgentHistory(env);        // QUEUE_STATS_TIME_ZONE / AGENT_HISTORY_*; throws 500 naming a bad variable
//! ah.place(event, activities, chunk);           // {map, key, worker} of the record an event goes to, or null (not kept)
//! ah.apply(data|null, event, activities, chunk); // {applied: changed|unchanged|full|elsewhere|ignored, data?, cost?}
//! ah.query(params, Date.now());                 // Query, or throws 400 naming the bad parameter
//! ah.keyAccess(query, names);                   // throws 403 when the wallboard key asks for agents
//! ah.listings(query);                           // [{map, from, to}]: the query's listings, one per map and UTC day
//! ah.aggregate(query, itemsJson, workers, names); // the series (workers: TaskRouter's, for names and teams;
//!                                               // names false: no agent SIDs or names in the answer)
//! ah.expired(Date.now());                       // [{map, from, to}] of records past retention
//! ah.writeCost(bytes);                          // a write's share of a second of a Sync object's budget
//! ah.nextClose(Date.now(), latestKey|null);     // the hour the hook closes next: {start, end, claimKey, firstKey,
//!                                               //  listings, previous}, or null (close::next_close)
//! ah.closeJob(startMs);                        // the same for the local hour containing startMs
//! ah.closeHour(job, recordsJson, previousJson); // [{key, data, cost}]: the hour's agentHours items
//! ah.hoursMap(); ah.claimsMap(); ah.claimTtl();  // agentHours, the claims' map, their Sync TTL (s)
//! ah.newClaim(hour, owner, Date.now());         // a claim's data (history::claim, the hook's lease)
//! ah.claimState(data|null, owner, Date.now());  // {state: free|mine|held|stale}
//! ah.hourListings(query);                       // [{map, from, to}] of agentHours, one per UTC day
//! ah.recordListings(query, hourItemsJson);      // [{map, from, to}] of the records for hours not closed
//! ah.answer(query, hourItemsJson, recordsJson, workers, names); // the series (+ fromRecords: hours not closed)
//! ah.benchItems(agents, days, startMs);         // JSON text [{map, key, data}] of a synthetic month (benchmarks)
//! ```
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
use crate::query::{key_access, split_by_day, KeyRange};
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
#[serde(rename_all = "camelCase")]
struct Mixed {
    #[serde(flatten)]
    series: crate::aggregate::Series,
    from_records: usize,
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

    #[wasm_bindgen(js_name = keyAccess)]
    pub fn key_access(&self, query: JsValue, names: bool) -> Result<(), JsValue> {
        let q: Query = from_js(query, "query")?;
        key_access(&q, names).map_err(fail)
    }

    pub fn listings(&self, query: JsValue) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let out: Vec<KeyRange> = q.list.iter().flat_map(split_by_day).collect();
        to_js(&out)
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
    pub fn close_job(&self, start_ms: f64) -> Result<JsValue, JsValue> {
        let start = crate::timeline::bucket(self.config.time_zone, millis(start_ms)?);
        match DateTime::<Utc>::from_timestamp_millis(start)
            .and_then(|s| crate::close::job(&self.config, s))
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

    #[wasm_bindgen(js_name = hourListings)]
    pub fn hour_listings(&self, query: JsValue) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        to_js(&crate::close::hour_listings(&q))
    }

    #[wasm_bindgen(js_name = recordListings)]
    pub fn record_listings(&self, query: JsValue, hour_items: &str) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let complete = crate::close::complete_hours(hour_items);
        to_js(&crate::close::record_listings(&self.config, &q, &complete))
    }

    #[wasm_bindgen(js_name = answer)]
    pub fn answer_mixed(
        &self,
        query: JsValue,
        hour_items: &str,
        records: &str,
        workers: JsValue,
        names: bool,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let hour_items: Vec<Value> = serde_json::from_str(hour_items)
            .map_err(|e| input(format!("closed hours are not a JSON array: {e}")))?;
        let records: Vec<Value> = serde_json::from_str(records)
            .map_err(|e| input(format!("stored items are not a JSON array: {e}")))?;
        let directory = self.directory(workers)?;
        let (series, from_records) =
            crate::close::answer(&self.config, &q, &hour_items, &records, &directory);
        let series = if names {
            series
        } else {
            series.without_agents()
        };
        to_js(&Mixed {
            series,
            from_records,
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
