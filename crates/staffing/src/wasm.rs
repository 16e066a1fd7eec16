//! The wasm face: plain JS objects in, plain JS objects out.
//!
//! ```js
//! staffing({callsPerInterval: '100', ahtSeconds: '180', target: '80%', ..., agents: '13',
//!           observedArrivals: [tasksEntered, minutes], defaultAhtSeconds: '300'})
//!   // -> {intensityErlangs, agents, scheduledAgents, serviceLevel, probabilityOfWaiting,
//!   //     asaSeconds, occupancy, ...inputs as read, sources, withAgents}
//!   // throws an Error with code, status 400, parameter
//! batchPlan({queues: [{queueSid, channel?, thresholdSeconds?, target?, ahtSeconds?, ...}], defaultAhtSeconds})
//!   // -> {queueSids, reads: [{channel, minutes, pageSize}]}: the TaskRouter statistics lists to read
//! batchAnswer(sameInput, {arrivals: [{channel, minutes, entered: {WQ…: n}}], measured: {WQ…: seconds}})
//!   // -> {results: [{queueSid, ...answer} | {queueSid, error, code, parameter}]}
//! queueSid(' WQ... ')   // -> 'WQ...' trimmed; throws 400 naming queueSid when it is not one
//! ```

use wasm_bindgen::prelude::*;
use wasm_face::{answer, fail, from_js};

#[wasm_bindgen]
pub fn staffing(request: JsValue) -> Result<JsValue, JsValue> {
    let request: crate::Request = from_js(request, "staffing request")?;
    answer(crate::answer(&request))
}

#[wasm_bindgen(js_name = queueSid)]
pub fn queue_sid(value: &str) -> Result<String, JsValue> {
    crate::queue_sid(value).map_err(fail)
}

#[wasm_bindgen(js_name = batchPlan)]
pub fn batch_plan(input: JsValue) -> Result<JsValue, JsValue> {
    let input: crate::BatchInput = from_js(input, "staffing batch")?;
    answer(crate::batch_plan(&input))
}

#[wasm_bindgen(js_name = batchAnswer)]
pub fn batch_answer(input: JsValue, observed: JsValue) -> Result<JsValue, JsValue> {
    let input: crate::BatchInput = from_js(input, "staffing batch")?;
    let observed: crate::Observed = from_js(observed, "observed statistics")?;
    answer(crate::answer_batch(&input, &observed))
}
