//! The wasm face: each function starts a machine; `resume` continues any of them
//! (`functions/common/effects`'s `run` drives them). The names start with `start`: this module
//! also carries the faces of `history` (`History`) and `staffing`, whose exports it must not
//! shadow.
//!
//! ```js
//! startStaffing({callsPerInterval, ahtSeconds, ..., queueSid, channel},
//!               {workspaceSid, syncServiceSid, defaultAhtSeconds, history: {QUEUE_…}}, Date.now())
//! startStaffingBatch({queues}, sameEnv, Date.now())
//!   // each -> {state, run: [effect]} | {answer: {status, body}}
//!   // or throws an Error with code, status 400 and parameter for a bad request
//! resume(state, [outcome], Date.now())   // -> the next step (never throws)
//! ```
//!
//! The measured handle times a machine read are remembered by this module's instance (one per
//! container) for `measured::MEASURED_TTL_MS`; a reloaded instance reads them again.

use std::cell::RefCell;

use effects::Outcome;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js, to_js};

use crate::{Machine, Measured, Turn};

thread_local! {
    static MEASURED: RefCell<Option<Measured>> = const { RefCell::new(None) };
}

fn remembered() -> Option<Measured> {
    MEASURED.with(|m| m.borrow().clone())
}

fn step(turn: Turn) -> Result<JsValue, JsValue> {
    if let Some(m) = turn.remember {
        MEASURED.with(|slot| *slot.borrow_mut() = Some(m));
    }
    to_js(&turn.step)
}

#[wasm_bindgen(js_name = startStaffing)]
pub fn start_staffing(input: JsValue, env: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let input = from_js(input, "staffing request")?;
    let env = from_js(env, "settings")?;
    let turn = crate::staffing::single(input, &env, remembered().as_ref(), now_ms).map_err(fail)?;
    step(turn)
}

#[wasm_bindgen(js_name = startStaffingBatch)]
pub fn start_staffing_batch(input: JsValue, env: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let input = from_js(input, "staffing batch")?;
    let env = from_js(env, "settings")?;
    let turn = crate::staffing::batch(input, &env, remembered().as_ref(), now_ms).map_err(fail)?;
    step(turn)
}

/// The next step; a state or outcomes that cannot be read are answered (500), not thrown.
#[wasm_bindgen]
pub fn resume(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<Outcome>, _> = from_js(outcomes, "outcomes");
    match (machine, outcomes) {
        (Ok(machine), Ok(outcomes)) => step(crate::resume(machine, outcomes, now_ms)),
        _ => to_js(&effects::Step::<Machine>::answer(crate::unreadable())),
    }
}
