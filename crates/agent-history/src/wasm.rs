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
//! ah.closeJob(startMs, Date.now()?);          // the same for the local hour containing startMs (records up to now)
//! ah.closeHour(job, recordsJson, previousJson); // [{key, data, cost}]: the hour's agentHours items
//! ah.hoursMap(); ah.claimsMap(); ah.claimTtl();  // agentHours, the claims' map, their Sync TTL (s)
//! ah.newClaim(hour, owner, Date.now());         // a claim's data (history::claim, the hook's lease)
//! ah.claimState(data|null, owner, Date.now());  // {state: free|mine|held|stale}
//! ah.hourListings(query);                       // [{map, from, to}] of agentHours, one per UTC day
//! ah.plan(query);                               // {days, hours}: agentDays listings (whole days), agentHours
//!                                               //  listings (the other hours), read first
//! ah.dayGaps(query, daysJson);                  // agentHours listings for planned days not closed
//! ah.recordListings(query, daysJson, hoursJson); // [{map, from, to}] of the records for hours not closed
//! ah.answer(query, daysJson, hoursJson, recordsJson, workers, names); // the series (+ fromRecords, fromDays)
//! ah.dayJob(date); ah.dayItems(date, hoursJson, generation); // a closed day's agentDays items, or null
//! ah.expiredClosed(Date.now());                 // [{map, from, to}] of closed hours and days past retention
//! ah.recloseStep(event, activities, latestKey, spanJson|null); // {step: none|span|hours, …}
//! ah.recloseRecords(reclose, storedJson, Date.now()); // the agent's records to read ([] : nothing changes)
//! ah.reclosePatch(reclose, storedJson, recordsJson); // [{map, key, data, cost}]: the agent's rows closed again
//! ah.detailListings(query, daysJson, workers); // [{map, from, to, pageSize}] of agentDayHours, one page each
//! ah.daysMap();                                 // agentDays
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
    from_days: usize,
    /// The first hour answered from the records (never closed), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    open_hour: Option<String>,
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

    #[wasm_bindgen(js_name = hourListings)]
    pub fn hour_listings(&self, query: JsValue) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        to_js(&crate::close::hour_listings(&q))
    }

    /// `{days, hours}`: what GET /agent-history reads first (close::plan).
    pub fn plan(&self, query: JsValue) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        to_js(&crate::close::plan(&self.config, &q))
    }

    /// `agentHours` listings for the planned days not complete among the day items read.
    #[wasm_bindgen(js_name = dayGaps)]
    pub fn day_gaps(&self, query: JsValue, day_items: &str) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        to_js(&crate::close::day_gaps(&self.config, &q, &days))
    }

    #[wasm_bindgen(js_name = recordListings)]
    pub fn record_listings(
        &self,
        query: JsValue,
        day_items: &str,
        hour_items: &str,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let hours = items_of(hour_items, "closed hours")?;
        let covered = crate::close::covered(&self.config, &q, &days, &hours);
        to_js(&crate::close::record_listings(&self.config, &q, &covered))
    }

    #[wasm_bindgen(js_name = answer)]
    pub fn answer_mixed(
        &self,
        query: JsValue,
        day_items: &str,
        hour_items: &str,
        records: &str,
        workers: JsValue,
        names: bool,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let hours = items_of(hour_items, "closed hours")?;
        let records = items_of(records, "stored items")?;
        let directory = self.directory(workers)?;
        let (series, from_records, from_days) =
            crate::close::answer_from(&self.config, &q, &days, &hours, &records, &directory);
        let series = if names {
            series
        } else {
            series.without_agents()
        };
        to_js(&Mixed {
            series,
            from_records: from_records.len(),
            from_days,
            open_hour: from_records.first().map(|h| history::time::iso(*h)),
        })
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

    /// `[{map, key, data, cost}]`: the day's `agentDays` items from its hours' items, or null while
    /// one of its hours is not closed.
    #[wasm_bindgen(js_name = dayItems)]
    pub fn day_items(
        &self,
        date: &str,
        hour_items: &str,
        generation: f64,
    ) -> Result<JsValue, JsValue> {
        let Ok(d) = date.parse::<chrono::NaiveDate>() else {
            return Err(input(format!("{date} is not a date")));
        };
        let hours = items_of(hour_items, "closed hours")?;
        match crate::days::day_items(self.config.time_zone, d, &hours, generation.max(0.0) as u64) {
            None => Ok(JsValue::NULL),
            Some(items) => to_js(
                &items
                    .into_iter()
                    .enumerate()
                    .map(|(i, data)| Write {
                        map: crate::days::DAYS_MAP.to_string(),
                        key: crate::days::day_key(d, i),
                        cost: history::write_cost(data.to_string().len()),
                        data,
                        date: None,
                    })
                    .collect::<Vec<_>>(),
            ),
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
            detail: built
                .detail
                .into_iter()
                .enumerate()
                .map(|(i, v)| write(crate::days::DETAIL_MAP, crate::days::detail_key(d, i), v))
                .collect(),
        })
    }

    /// `[{map, key}]`: the `agentDayHours` items to fetch after the day items (by hour of named
    /// agents, or of a team whose members changed).
    #[wasm_bindgen(js_name = detailKeys)]
    pub fn detail_keys(
        &self,
        query: JsValue,
        day_items: &str,
        workers: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let directory = self.directory(workers)?;
        to_js(&crate::close::detail_keys(
            &self.config,
            &q,
            &days,
            &directory,
        ))
    }

    /// `[{map, from, to, pageSize}]`: the `agentDayHours` listings after the day items (by hour
    /// of named agents, or of a team whose members changed): one Sync page each.
    #[wasm_bindgen(js_name = detailListings)]
    pub fn detail_listings(
        &self,
        query: JsValue,
        day_items: &str,
        workers: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let directory = self.directory(workers)?;
        to_js(&crate::close::detail_listings(
            &self.config,
            &q,
            &days,
            &directory,
        ))
    }

    /// `agentHours` listings for the planned days not answered by the day and detail items.
    #[wasm_bindgen(js_name = dayGapsWith)]
    pub fn day_gaps_with(
        &self,
        query: JsValue,
        day_items: &str,
        detail_items: &str,
        workers: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let detail = items_of(detail_items, "closed days' agent hours")?;
        let directory = self.directory(workers)?;
        to_js(&crate::close::day_gaps_with(
            &self.config,
            &q,
            &days,
            &detail,
            &directory,
        ))
    }

    /// The records to list for the hours answered by neither days nor closed hours.
    #[wasm_bindgen(js_name = recordListingsWith)]
    pub fn record_listings_with(
        &self,
        query: JsValue,
        day_items: &str,
        detail_items: &str,
        hour_items: &str,
        workers: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let detail = items_of(detail_items, "closed days' agent hours")?;
        let hours = items_of(hour_items, "closed hours")?;
        let directory = self.directory(workers)?;
        let covered =
            crate::close::covered_with(&self.config, &q, &days, &detail, &hours, &directory);
        to_js(&crate::close::record_listings(&self.config, &q, &covered))
    }

    /// GET /agent-history's answer from days (and their agents' hours), hours and records.
    #[wasm_bindgen(js_name = answerWith)]
    #[allow(clippy::too_many_arguments)]
    pub fn answer_with(
        &self,
        query: JsValue,
        day_items: &str,
        detail_items: &str,
        hour_items: &str,
        records: &str,
        workers: JsValue,
        names: bool,
    ) -> Result<JsValue, JsValue> {
        let q: Query = from_js(query, "query")?;
        let days = items_of(day_items, "closed days")?;
        let detail = items_of(detail_items, "closed days' agent hours")?;
        let hours = items_of(hour_items, "closed hours")?;
        let records = items_of(records, "stored items")?;
        let directory = self.directory(workers)?;
        let (series, from_records, from_days) = crate::close::answer_with(
            &self.config,
            &q,
            &days,
            &detail,
            &hours,
            &records,
            &directory,
        );
        let series = if names {
            series
        } else {
            series.without_agents()
        };
        to_js(&Mixed {
            series,
            from_records: from_records.len(),
            from_days,
            open_hour: from_records.first().map(|h| history::time::iso(*h)),
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
