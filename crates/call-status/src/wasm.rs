//! The wasm face: `decide(callback, globalItem | null, workspaceSid, Date.now())`.
//!
//! ```js
//! decide({CallSid, CallStatus, SequenceNumber, Timestamp}, {data, revision} | null, context.WORKSPACE_SID, Date.now())
//!   // -> {action: 'ignore', reason, message}
//!   // |  {action: 'wrapUp', callSid, callStatus, holdTime, claim, task, workerEntry, removeGlobal, release}
//! ```
//! Throws an `Error` with `code`, `status` (HTTP) and `parameter`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{Callback, StoredItem};

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
    let global: Option<StoredItem> =
        if global.is_null() || global.is_undefined() {
            None
        } else {
            Some(serde_wasm_bindgen::from_value(global).map_err(|e| {
                js_error("invalid_request", &format!("global entry: {e}"), 500, None)
            })?)
        };
    let decision = crate::decide(&callback, global.as_ref(), workspace_sid.as_deref(), now_ms)
        .map_err(|e| js_error(e.code(), &e.to_string(), e.http_status(), e.parameter()))?;
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    decision
        .serialize(&serializer)
        .map_err(|e| js_error("serialize", &e.to_string(), 500, None))
}
