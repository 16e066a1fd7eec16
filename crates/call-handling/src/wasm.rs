//! The wasm face (via `wasm-face`): each function starts a machine; `resume` continues any of
//! them. `functions/common/effects`'s `run` drives them. (The names start with `start`: this
//! module also carries the faces of `parking` and `auth`, whose exports it must not shadow.)
//!
//! ```js
//! startPark({attributes, callSid, name, queueName, taskSid, workerSid, workflowSid},
//!           {syncServiceSid, workspaceSid}, {domainName, holdMusicPath}, token, Date.now())
//! startPickup({callSid, ...}, credential /* common/auth's identify() */, {syncServiceSid, workspaceSid},
//!             {domainName}, token)
//! startPickupTwiml(CallSid, {syncServiceSid})
//! startCapacity({capacity, workerChannelSid, workerSid}, {workspaceSid})
//! startCallStatus({CallSid, CallStatus, SequenceNumber, Timestamp}, token, {workspaceSid, syncServiceSid}, Date.now())
//!   // each -> {state, run: [effect]} | {answer: {status, body, contentType?}}
//!   // or throws an Error with code, status (400/500) and parameter for a bad request or setting
//! resume(state, [outcome], Date.now())        // -> the next step (never throws)
//! ```

use effects::Outcome;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{answer, from_js, to_js};

use crate::{Env, Machine};

#[wasm_bindgen(js_name = startPark)]
pub fn start_park(
    request: JsValue,
    env: JsValue,
    settings: JsValue,
    token: &str,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let request = from_js(request, "park-call request")?;
    let env: Env = from_js(env, "settings")?;
    let settings = from_js(settings, "settings")?;
    answer(crate::park(&request, &env, &settings, token, now_ms))
}

#[wasm_bindgen(js_name = startPickup)]
pub fn start_pickup(
    request: JsValue,
    credential: JsValue,
    env: JsValue,
    settings: JsValue,
    token: &str,
) -> Result<JsValue, JsValue> {
    let request = from_js(request, "pickup-parked-call request")?;
    let credential: Value = from_js(credential, "credential")?;
    let env: Env = from_js(env, "settings")?;
    let settings = from_js(settings, "settings")?;
    answer(crate::pickup(&request, credential, &env, &settings, token))
}

#[wasm_bindgen(js_name = startPickupTwiml)]
pub fn start_pickup_twiml(call_sid: Option<String>, env: JsValue) -> Result<JsValue, JsValue> {
    let env: Env = from_js(env, "settings")?;
    answer(crate::pickup_twiml(call_sid, &env))
}

#[wasm_bindgen(js_name = startCapacity)]
pub fn start_capacity(request: JsValue, env: JsValue) -> Result<JsValue, JsValue> {
    let request = from_js(request, "worker-capacity request")?;
    let env: Env = from_js(env, "settings")?;
    answer(crate::capacity(&request, &env))
}

#[wasm_bindgen(js_name = startCallStatus)]
pub fn start_call_status(
    callback: JsValue,
    token: &str,
    env: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let callback = from_js(callback, "callback")?;
    let env: Env = from_js(env, "settings")?;
    answer(crate::call_status(&callback, token, &env, now_ms))
}

/// The next step; a state or outcomes that cannot be read are answered (500), not thrown.
#[wasm_bindgen]
pub fn resume(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<Outcome>, _> = from_js(outcomes, "outcomes");
    let step = match (machine, outcomes) {
        (Ok(machine), Ok(outcomes)) => crate::resume(machine, outcomes, now_ms),
        _ => effects::Step::answer(crate::unreadable_state(
            "the executor handed back a state or outcomes this machine did not write",
        )),
    };
    to_js(&step)
}
