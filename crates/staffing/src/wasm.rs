//! The wasm face: plain JS objects in, plain JS objects out.
//!
//! ```js
//! staffing({callsPerInterval: '100', ahtSeconds: '180', target: '80%', ..., agents: '13',
//!           observedArrivals: [tasksEntered, minutes], defaultAhtSeconds: '300'})
//!   // -> {intensityErlangs, agents, scheduledAgents, serviceLevel, probabilityOfWaiting,
//!   //     asaSeconds, occupancy, ...inputs as read, sources, withAgents}
//!   // throws an Error with code, status 400, parameter
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
