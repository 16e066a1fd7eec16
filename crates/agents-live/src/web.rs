//! The browser face (`--target web`, loaded by `assets/wallboard/agents.js`).
//!
//! ```js
//! const v = new AgentsView({QUEUE_STATS_TIME_ZONE: …, AGENTS_LIVE_OFFLINE_ACTIVITIES: …});
//! JSON.parse(v.board(shardsJson, {groupBy, filter, activity, sort, hideOffline}, Date.now()))
//!   // -> {groups: [{key, name, loggedIn, available, agents: [row]}], agents, shown, activities, summary}
//! v.summary(countsJson, Date.now())   // -> summary (counts per activity and per queue, no names)
//! ```

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::to_js;

use crate::view::{board, summary_of, Options};
use crate::Config;

fn js_error(message: &str) -> JsValue {
    JsValue::from(js_sys::Error::new(message))
}

#[wasm_bindgen]
pub struct AgentsView {
    config: Config,
}

#[wasm_bindgen]
impl AgentsView {
    #[wasm_bindgen(constructor)]
    pub fn new(settings: JsValue) -> Result<AgentsView, JsValue> {
        let value: Value = serde_wasm_bindgen::from_value(settings).unwrap_or(Value::Null);
        let env = crate::config::env_of(&value);
        Config::from_env(&env)
            .map(|config| AgentsView { config })
            .map_err(|e| js_error(&e.to_string()))
    }

    /// `shards`: JSON text of the shard documents' data. Answers JSON text (for 2,000 agents,
    /// `JSON.parse` of the text is much faster than building the objects across the boundary).
    pub fn board(&self, shards: &str, options: JsValue, now_ms: f64) -> String {
        let shards: Vec<Value> = serde_json::from_str(shards).unwrap_or_default();
        let options: Options = serde_wasm_bindgen::from_value(options).unwrap_or_default();
        serde_json::to_string(&board(&self.config, &shards, &options, now_ms))
            .unwrap_or_else(|_| "null".into())
    }

    /// `counts`: JSON text of the counts documents' data.
    pub fn summary(&self, counts: &str, now_ms: f64) -> Result<JsValue, JsValue> {
        let counts: Vec<Value> = serde_json::from_str(counts).unwrap_or_default();
        to_js(&summary_of(&counts, now_ms))
    }
}
