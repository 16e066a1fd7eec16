//! The wasm face: `direct-extension`'s machine (crate::machine), driven by
//! functions/common/effects' `run`. What the container read is kept in this module's instance (a
//! reloaded instance reads again).
//!
//! ```js
//! startDirectExtension({extension}, {cacheSeconds, workspaceSid, twilioFlexWorkspaceSid}, Date.now())
//!   // -> {state, run: [effect]} | {answer: {status, body}}; throws 400 naming `extension`
//!   //    (missing, not digits, too long), 500 for a bad setting
//! resume(state, [outcome], Date.now())   // -> the answer (never throws)
//! ```

use std::cell::RefCell;

use effects::{Answer, Outcome, Step};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js, to_js};

use crate::machine::{self, Cache, Lookup};

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

#[wasm_bindgen(js_name = startDirectExtension)]
pub fn start_direct_extension(
    request: JsValue,
    env: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let request: machine::Request = from_js(request, "direct-extension request")?;
    let env: machine::Env = from_js(env, "settings")?;
    let step = CACHE
        .with(|c| machine::start(&request, &env, &mut c.borrow_mut(), now_ms))
        .map_err(fail)?;
    to_js(&step)
}

/// The answer; a state or outcomes that cannot be read are answered (500), not thrown.
#[wasm_bindgen]
pub fn resume(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let lookup: Result<Lookup, _> = from_js(state, "state");
    let outcomes: Result<Vec<Outcome>, _> = from_js(outcomes, "outcomes");
    let step = match (lookup, outcomes) {
        (Ok(m), Ok(o)) => {
            CACHE.with(|c| machine::resume(m, effects::first(o), &mut c.borrow_mut(), now_ms))
        }
        _ => Step::<Lookup>::answer(Answer::json(
            500,
            json!({ "error": "The request's state could not be read; nothing further was done" }),
        )),
    };
    to_js(&step)
}
