//! The wasm face: plain JS objects in, plain JS objects out.
//!
//! ```js
//! staffing({callsPerInterval: '100', ahtSeconds: '180', target: '80%', ..., agents: '13',
//!           observedArrivals: [tasksEntered, minutes], defaultAhtSeconds: '300'})
//!   // -> {intensityErlangs, agents, scheduledAgents, serviceLevel, probabilityOfWaiting,
//!   //     asaSeconds, occupancy, ...inputs as read, sources, withAgents}
//!   // throws an Error with code, status 400, parameter
//! ```

use wasm_bindgen::prelude::*;
use wasm_face::{answer, from_js};

#[wasm_bindgen]
pub fn staffing(request: JsValue) -> Result<JsValue, JsValue> {
    let request: crate::Request = from_js(request, "staffing request")?;
    answer(crate::answer(&request))
}
