//! The wasm face of the crate: plain JS objects in, plain JS objects out.
//!
//! ```js
//! park({attributes, callSid, name, queueName, taskSid, workerSid, workflowSid}, {domainName, holdMusicPath}, Date.now())
//!   // -> {callSid, twiml, statusCallback, record, sync: [{map, key, data, ttl}]}
//! pickup({attributes, callSid, dateCreated, name, queueName, workerSid, workflowSid}, Date.now())
//!   // -> {callSid, twiml, taskAttributes, holdTime, sync: [{map, key}]}
//! capacity({capacity, workerChannelSid, workerSid})
//!   // -> {workerSid, workerChannelSid, capacity}
//! ```
//! Each throws an `Error` with `code`, `status` (the HTTP status to answer) and `parameter`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::ParkingError;

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .map_err(|e| js_error("serialize", &e.to_string(), 500, None))
}

/// Request fields arrive as strings from a form; anything else (numbers, booleans) is read as text
/// by the shim before calling, so a type mismatch here is a programming error reported as 400.
fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| js_error("invalid_request", &format!("{what}: {e}"), 400, None))
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

fn fail(e: ParkingError) -> JsValue {
    js_error(e.code(), &e.to_string(), e.http_status(), e.parameter())
}

#[wasm_bindgen]
pub fn park(request: JsValue, settings: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let request = from_js(request, "park-call request")?;
    let settings = from_js(settings, "settings")?;
    crate::park(&request, &settings, now_ms)
        .map_err(fail)
        .and_then(|plan| to_js(&plan))
}

#[wasm_bindgen]
pub fn pickup(request: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let request = from_js(request, "pickup-parked-call request")?;
    crate::pickup(&request, now_ms)
        .map_err(fail)
        .and_then(|plan| to_js(&plan))
}

#[wasm_bindgen]
pub fn capacity(request: JsValue) -> Result<JsValue, JsValue> {
    let request = from_js(request, "worker-capacity request")?;
    crate::capacity(&request)
        .map_err(fail)
        .and_then(|plan| to_js(&plan))
}
