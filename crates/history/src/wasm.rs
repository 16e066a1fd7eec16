//! The wasm face: plain JS values in, plain JS objects out.
//!
//! ```js
//! const h = new wasm.History(env);          // QUEUE_STATS_* / QUEUE_HISTORY_*; throws 500 naming a bad variable
//! h.query(params, Date.now());               // Query, or throws 400 naming the bad parameter
//! h.missing(query, itemsJson);               // closed hours of the query with nothing stored: [ISO]
//! h.aggregate(query, itemsJson, notes?, known?); // the series answered by GET /queue-history; notes:
//!                                            // {[hour]: {code, reason}} of hours the shim could not store;
//!                                            // known: [{sid, friendlyName}], the queues TaskRouter lists now
//!                                            // (stored items' data as one JSON array text: parsed far
//!                                            // faster than the same objects walked through the boundary)
//! h.lastClosedHour(Date.now());              // start (ISO) of the latest closed hour
//! h.hourParams(startIso);                    // {startDate, endDate, eventsFrom, splitByWaitTime, channels, prune: [{map, from, to}], stored}
//! h.hourItems(startIso, {queues, events});   // [{map, key, data, cost}] to create (map queueHistory.<channel>)
//! h.writeCost(bytes);                        // a write's share of a second of a Sync object's budget
//! h.claimsMap();                             // the Sync map of backfill claims (crate::claim)
//! h.claimKey(startIso);                      // an hour's claim key
//! h.claimPlan(hours, {[key]: data}, owner, Date.now());  // [{hour, key, action: create|update|skip}], newest first
//! h.newClaim(hour, owner, 'backfill'|'hook', Date.now()); // a claim's data
//! h.claimState(data|null, owner, Date.now()); // {state: free|mine|held|stale, …}
//! h.mayStart(timeLeftMs);                    // whether to start closing another hour
//! h.claimTtl();                              // seconds (Sync ItemTtl of a claim)
//! ```

use chrono::{DateTime, Utc};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{answer, fail, from_js, to_js};

use std::collections::BTreeMap;

use crate::claim::{self, Kind};
use crate::{
    aggregate_known, hour_items, hour_params, missing, query, time, Config, Env, HistoryError,
    HourInput, Note, Params, Query, QueueName,
};

#[wasm_bindgen]
pub struct History {
    config: Config,
}

fn start_of(text: &str) -> Result<DateTime<Utc>, JsValue> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| fail(HistoryError::Input(format!("{text:?} is not an instant"))))
}

fn read_items(text: &str) -> Result<Vec<Value>, JsValue> {
    serde_json::from_str(text).map_err(|e| {
        fail(HistoryError::Input(format!(
            "stored items are not a JSON array: {e}"
        )))
    })
}

fn read_query(value: JsValue) -> Result<Query, JsValue> {
    from_js(value, "query")
}

#[wasm_bindgen]
impl History {
    #[wasm_bindgen(constructor)]
    pub fn new(env: JsValue) -> Result<History, JsValue> {
        let env: Env = from_js(env, "environment")?;
        Config::from_env(&env)
            .map(|config| History { config })
            .map_err(fail)
    }

    /// The Sync map of a channel's closed hours.
    #[wasm_bindgen(js_name = mapName)]
    pub fn map_name(&self, channel: &str) -> String {
        crate::map_name(channel)
    }

    /// A write's share of a second of a Sync object's budget (deletes: `writeCost(0)`).
    #[wasm_bindgen(js_name = writeCost)]
    pub fn write_cost(&self, bytes: usize) -> f64 {
        crate::write_cost(bytes)
    }

    pub fn query(&self, params: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let params: Params = from_js(params, "query parameters")?;
        answer(query(&self.config, &params, now_ms))
    }

    pub fn missing(&self, query: JsValue, items: &str) -> Result<JsValue, JsValue> {
        let q = read_query(query)?;
        let items = read_items(items)?;
        to_js(&missing(&q, &items))
    }

    pub fn aggregate(
        &self,
        query: JsValue,
        items: &str,
        notes: JsValue,
        known: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q = read_query(query)?;
        let items = read_items(items)?;
        let notes: BTreeMap<String, Note> = if notes.is_undefined() || notes.is_null() {
            BTreeMap::new()
        } else {
            from_js(notes, "notes")?
        };
        let known: Vec<QueueName> = if known.is_undefined() || known.is_null() {
            Vec::new()
        } else {
            from_js(known, "known queues")?
        };
        to_js(&aggregate_known(&self.config, &q, &items, &notes, &known))
    }

    #[wasm_bindgen(js_name = claimsMap)]
    pub fn claims_map(&self) -> String {
        claim::CLAIMS_MAP.to_string()
    }

    #[wasm_bindgen(js_name = claimKey)]
    pub fn claim_key(&self, start: &str) -> Result<String, JsValue> {
        Ok(claim::claim_key(start_of(start)?))
    }

    #[wasm_bindgen(js_name = claimPlan)]
    pub fn claim_plan(
        &self,
        hours: JsValue,
        claims: JsValue,
        owner: &str,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let hours: Vec<String> = from_js(hours, "hours")?;
        let claims: BTreeMap<String, Value> = from_js(claims, "claims")?;
        to_js(&claim::plan(&hours, &claims, owner, now_ms))
    }

    #[wasm_bindgen(js_name = newClaim)]
    pub fn new_claim(
        &self,
        hour: &str,
        owner: &str,
        kind: &str,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let kind = match kind {
            "hook" => Kind::Hook,
            "backfill" => Kind::Backfill,
            other => {
                return Err(fail(HistoryError::Input(format!(
                    "{other:?} is not a claim kind"
                ))))
            }
        };
        to_js(&claim::new_claim(hour, owner, kind, now_ms))
    }

    #[wasm_bindgen(js_name = claimState)]
    pub fn claim_state(&self, data: JsValue, owner: &str, now_ms: f64) -> Result<JsValue, JsValue> {
        let data: Option<Value> = if data.is_undefined() || data.is_null() {
            None
        } else {
            Some(from_js(data, "claim")?)
        };
        to_js(&claim::state(data.as_ref(), owner, now_ms))
    }

    #[wasm_bindgen(js_name = mayStart)]
    pub fn may_start(&self, time_left_ms: f64) -> bool {
        claim::may_start(time_left_ms)
    }

    #[wasm_bindgen(js_name = claimTtl)]
    pub fn claim_ttl(&self) -> u32 {
        claim::CLAIM_TTL_S
    }

    #[wasm_bindgen(js_name = lastClosedHour)]
    pub fn last_closed_hour(&self, now_ms: f64) -> Result<String, JsValue> {
        let now = time::instant(now_ms).map_err(fail)?;
        let zone = self.config.time_zone;
        let current = time::hour_start(zone, now);
        Ok(time::iso(time::hour_start(
            zone,
            current - chrono::Duration::seconds(1),
        )))
    }

    #[wasm_bindgen(js_name = hourParams)]
    pub fn hour_params(&self, start: &str) -> Result<JsValue, JsValue> {
        to_js(&hour_params(&self.config, start_of(start)?))
    }

    #[wasm_bindgen(js_name = hourItems)]
    pub fn hour_items(&self, start: &str, input: JsValue) -> Result<JsValue, JsValue> {
        let start = start_of(start)?;
        let end = time::next_hour(self.config.time_zone, start);
        let input: HourInput = from_js(input, "hour")?;
        to_js(&hour_items(&self.config, start, end, &input))
    }
}
