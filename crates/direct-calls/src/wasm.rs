//! The wasm face (see the crate documentation for the rules).
//!
//! ```js
//! plan({extension, cacheSeconds, directoryAgeMs, directoryWorkers: ['WK…'], voiceAgeMs})
//!   // -> {extension, read: {kind: 'workers', targetWorkersExpression, pageSize}
//!   //                    | {kind: 'voiceChannel', workerSid} | {kind: 'none'}, cacheMs}
//!   // throws 400 naming `extension` (missing, not digits, too long); 500 for the cache variable
//! answer({extension, workers: [{sid, friendlyName, activityName, available, attributes}],
//!         voice: {workerSid, configuredCapacity, assignedTasks, available} | null})
//!   // -> {valid, extension, workerSid, workerName, available, reason, activityName,
//!   //     capacityChecked, message}
//! ```

use wasm_bindgen::prelude::*;
use wasm_face::{answer, from_js};

#[wasm_bindgen]
pub fn plan(input: JsValue) -> Result<JsValue, JsValue> {
    let input: crate::PlanInput = from_js(input, "direct-extension request")?;
    answer(crate::plan(&input))
}

#[wasm_bindgen(js_name = answer)]
pub fn decide(input: JsValue) -> Result<JsValue, JsValue> {
    let input: crate::AnswerInput = from_js(input, "direct-extension lookup")?;
    answer(crate::answer(&input))
}
