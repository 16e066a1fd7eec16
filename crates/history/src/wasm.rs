//! The wasm face: what scripts and tests use directly. The functions run the machines of
//! `crates/history-machines`, which build on these rules.
//!
//! ```js
//! const h = new wasm.History(env);          // QUEUE_STATS_* / QUEUE_HISTORY_*; throws 500 naming a bad variable
//! h.query(params, Date.now());               // Query, or throws 400 naming the bad parameter (tests/dst-rule)
//! h.mapName(channel);                        // the Sync map of a channel's hours (scripts/bench-history)
//! h.hourItems(startIso, {queues, events});   // [{map, key, data, cost}] to create (scripts/bench-history)
//! ```

use chrono::{DateTime, Utc};
use wasm_bindgen::prelude::*;
use wasm_face::{answer, fail, from_js, to_js};

use crate::{hour_items, query, time, Config, Env, HistoryError, HourInput, Params};

#[wasm_bindgen]
pub struct History {
    config: Config,
}

fn start_of(text: &str) -> Result<DateTime<Utc>, JsValue> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| fail(HistoryError::Input(format!("{text:?} is not an instant"))))
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

    pub fn query(&self, params: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let params: Params = from_js(params, "query parameters")?;
        answer(query(&self.config, &params, now_ms))
    }

    /// A closed hour's items to create, from TaskRouter's figures for it.
    #[wasm_bindgen(js_name = hourItems)]
    pub fn hour_items(&self, start: &str, input: JsValue) -> Result<JsValue, JsValue> {
        let start = start_of(start)?;
        let end = time::next_hour(self.config.time_zone, start);
        let input: HourInput = from_js(input, "hour")?;
        to_js(&hour_items(&self.config, start, end, &input))
    }
}
