//! The wasm face for the functions (`functions/common/agents-live.private.js`).
//!
//! ```js
//! const al = new wasm.AgentsLive(process.env);   // throws {code, message, parameter} naming a bad variable
//! al.settings();                                 // {shards, keyShowsNames, documentPrefix, countsPrefix, readerIdentity, supervisorIdentity}
//! al.plan(event, membershipAgeMs | null);        // {action, reason, workerSid, shard, document, countsDocument, fetchQueues, fetchParked}
//! al.apply(shard, storedJson | null, inputsJson, Date.now());
//!   // inputsJson: JSON text of [{event, fetched: {queues?: [{sid, friendlyName}], parked?: [item data]}}]
//!   // -> {changed, document, bytes, cost, countsChanged, counts, countsBytes, countsCost, applied, ignored, tooLarge}
//! al.viewer(viaKey);                             // {identity, names}
//! al.readers(isShardDocument);                   // identities to grant read
//! al.writeCost(bytes);
//! ```
//! Stored documents cross as JSON text, so numbers keep their kind.

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js};

use crate::{apply_batch, plan, readers, viewer, write_cost, Config, Input};

use wasm_face::to_js_value as to_js;

#[wasm_bindgen]
pub struct AgentsLive {
    config: Config,
}

#[wasm_bindgen]
impl AgentsLive {
    #[wasm_bindgen(constructor)]
    pub fn new(env: JsValue) -> Result<AgentsLive, JsValue> {
        let env: Value = from_js(env, "environment")?;
        let env = crate::config::env_of(&env);
        Config::from_env(&env)
            .map(|config| AgentsLive { config })
            .map_err(fail)
    }

    pub fn settings(&self) -> JsValue {
        to_js(&serde_json::json!({
            "shards": self.config.shards,
            "keyShowsNames": self.config.key_shows_names,
            "documentPrefix": crate::DOCUMENT_PREFIX,
            "countsPrefix": crate::COUNTS_PREFIX,
            "indexDocument": crate::INDEX_DOCUMENT,
            "readerIdentity": crate::READER_IDENTITY,
            "supervisorIdentity": crate::SUPERVISOR_IDENTITY,
        }))
    }

    /// Never throws: a malformed event is an `ignore` plan with its reason.
    pub fn plan(&self, event: JsValue, membership_age_ms: Option<f64>) -> JsValue {
        let event: Value = serde_wasm_bindgen::from_value(event).unwrap_or(Value::Null);
        to_js(&plan(&self.config, &event, membership_age_ms))
    }

    pub fn apply(&self, shard: u32, stored: Option<String>, inputs: &str, now_ms: f64) -> JsValue {
        let stored: Option<Value> = stored.and_then(|s| serde_json::from_str(&s).ok());
        let inputs: Vec<Input> = serde_json::from_str(inputs).unwrap_or_default();
        to_js(&apply_batch(
            &self.config,
            shard,
            stored.as_ref(),
            &inputs,
            now_ms,
        ))
    }

    pub fn viewer(&self, via_key: bool) -> JsValue {
        to_js(&viewer(&self.config, via_key))
    }

    pub fn readers(&self, document: bool) -> JsValue {
        to_js(&readers(document))
    }

    #[wasm_bindgen(js_name = writeCost)]
    pub fn write_cost(&self, bytes: usize) -> f64 {
        write_cost(bytes)
    }
}
