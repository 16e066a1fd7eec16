//! The wasm face: `decide(callback, lookup, workspaceSid, Date.now())`.
//!
//! ```js
//! decide({CallSid, CallStatus, SequenceNumber, Timestamp}, lookup, context.WORKSPACE_SID, Date.now())
//!   // lookup: null (not fetched yet) | {found: false} | {found: true, data, revision}
//!   // -> {action: 'lookup', map, key}
//!   // |  {action: 'ignore', reason, message}
//!   // |  {action: 'wrapUp', callSid, callStatus, holdTime, claim, task, workerEntry, removeGlobal, release}
//! ```
//! Throws an `Error` with `code`, `status` (HTTP) and `parameter`.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{Callback, Lookup, StoredItem};

#[derive(Deserialize)]
struct Fetched {
    found: bool,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default)]
    revision: String,
}

fn js_error(code: &str, message: &str, status: u16, parameter: Option<&str>) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting properties on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    let _ = js_sys::Reflect::set(&error, &"status".into(), &JsValue::from(status));
    if let Some(p) = parameter {
        let _ = js_sys::Reflect::set(&error, &"parameter".into(), &p.into());
    }
    error.into()
}

#[wasm_bindgen]
pub fn decide(
    callback: JsValue,
    global: JsValue,
    workspace_sid: Option<String>,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let callback: Callback = serde_wasm_bindgen::from_value(callback)
        .map_err(|e| js_error("invalid_request", &format!("callback: {e}"), 400, None))?;
    let lookup = if global.is_null() || global.is_undefined() {
        Lookup::NotYet
    } else {
        let fetched: Fetched = serde_wasm_bindgen::from_value(global)
            .map_err(|e| js_error("invalid_request", &format!("global entry: {e}"), 500, None))?;
        if fetched.found {
            Lookup::Found(StoredItem {
                data: fetched.data,
                revision: fetched.revision,
            })
        } else {
            Lookup::Absent
        }
    };
    let decision = crate::decide(&callback, &lookup, workspace_sid.as_deref(), now_ms)
        .map_err(|e| js_error(e.code(), &e.to_string(), e.http_status(), e.parameter()))?;
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    decision
        .serialize(&serializer)
        .map_err(|e| js_error("serialize", &e.to_string(), 500, None))
}
