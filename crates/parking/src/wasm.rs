//! The wasm face of the crate: plain JS objects in, plain JS objects out (via `wasm-face`).
//!
//! ```js
//! park({attributes, callSid, name, queueName, taskSid, workerSid, workflowSid}, {domainName, holdMusicPath}, Date.now())
//!   // -> {callSid, twiml, statusCallback, record, sync: [{map, key, data, ttl}]}
//! pickupTarget({callSid, ...})                 // -> {callSid, map, key}: the entry to read
//! pickup({callSid, ...}, entry | null, token, {domainName}, Date.now())
//!   // entry: {data, revision} of Global.ParkedCalls/<callSid>
//!   // -> {callSid, workerSid, pickupItem, mark, callUpdate: {twiml} | {url, method}, unmark, sync, taskAttributes, holdTime}
//! pickupTwiml(CallSid, item | null)            // -> the <Enqueue> TwiML of a large pickup
//! ```
//! (The functions run these plans through the machines of `crates/call-handling`; these faces
//! stay for the queue-statistics callback and for tests of the TwiML.)
//! parkedByQueue([data of Global.ParkedCalls items])
//!   // -> {"<queue name>": {count, oldestParkedAt, workers: {WK…: {count, oldestParkedAt}}, workersOmitted}}
//! withParked(built, figures | null, previous | null)   // -> built with record.parked, changed (board.rs)
//! mapNames(workerSid | undefined)   // -> {global, pickups, worker}: the Sync maps parking owns
//! Each throws an `Error` with `code`, `status` (the HTTP status to answer) and `parameter`.

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{answer, from_js};

use crate::StoredItem;

/// The Sync maps parking owns, for shims that must not keep their own copy of a name:
/// `{global: "Global.ParkedCalls", pickups: "ParkedCalls.Pickups", worker: "<WK…>.ParkedCalls"}`
/// (`worker` for the given worker SID).
#[wasm_bindgen(js_name = mapNames)]
pub fn map_names(worker_sid: Option<String>) -> Result<JsValue, JsValue> {
    wasm_face::to_js(&serde_json::json!({
        "global": crate::GLOBAL_MAP,
        "pickups": crate::PICKUPS_MAP,
        "worker": worker_sid.as_deref().map(crate::worker_map),
    }))
}

#[wasm_bindgen]
pub fn park(request: JsValue, settings: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let request = from_js(request, "park-call request")?;
    let settings = from_js(settings, "settings")?;
    answer(crate::park(&request, &settings, now_ms))
}

#[wasm_bindgen(js_name = pickupTarget)]
pub fn pickup_target(request: JsValue) -> Result<JsValue, JsValue> {
    let request = from_js(request, "pickup-parked-call request")?;
    answer(crate::pickup_target(&request))
}

#[wasm_bindgen]
pub fn pickup(
    request: JsValue,
    entry: JsValue,
    token: &str,
    settings: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let request = from_js(request, "pickup-parked-call request")?;
    let entry: Option<StoredItem> = from_js(entry, "parked-call entry")?;
    let settings = from_js(settings, "settings")?;
    answer(crate::pickup(
        &request,
        entry.as_ref(),
        token,
        &settings,
        now_ms,
    ))
}

#[wasm_bindgen(js_name = pickupTwiml)]
pub fn pickup_twiml(call_sid: Option<String>, item: JsValue) -> Result<JsValue, JsValue> {
    let item: Option<Value> = from_js(item, "pickup item")?;
    answer(crate::pickup_twiml(call_sid.as_deref(), item.as_ref()))
}

#[wasm_bindgen(js_name = parkedByQueue)]
pub fn parked_by_queue(entries: JsValue) -> Result<JsValue, JsValue> {
    let entries: Vec<Value> = from_js(entries, "parked-call entries")?;
    wasm_face::to_js(&crate::board::parked_by_queue(&entries))
}

#[wasm_bindgen(js_name = withParked)]
pub fn with_parked(
    built: JsValue,
    figures: JsValue,
    previous: JsValue,
) -> Result<JsValue, JsValue> {
    let built: Value = from_js(built, "built record")?;
    let figures: Option<crate::board::QueueParked> = from_js(figures, "parked figures")?;
    let previous: Option<Value> = from_js(previous, "previous record")?;
    wasm_face::to_js(&crate::board::with_parked(
        built,
        figures.as_ref(),
        previous.as_ref(),
    ))
}
