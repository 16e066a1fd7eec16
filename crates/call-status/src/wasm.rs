//! The wasm face (via `wasm-face`):
//!
//! ```js
//! let next = start({CallSid, CallStatus, SequenceNumber, Timestamp}, token, context.WORKSPACE_SID, Date.now());
//! while (next.action.kind !== 'answer') {
//!   const outcome = await perform(next.action);  // {ok: true, value} | {ok: false, status, ambiguous, message}
//!   next = resume(next.state, outcome, Date.now());
//! }
//! // next.action: {kind: 'answer', status, body}
//! ```
//! `terminalStatuses()` lists the statuses in which the caller is gone.
//! Throws an `Error` with `code`, `status` (HTTP) and `parameter` for a bad callback.

use wasm_bindgen::prelude::*;
use wasm_face::{answer, from_js, to_js};

use crate::{Callback, Outcome, State};

/// The call statuses in which the caller is gone (`crate::TERMINAL_STATUSES`), for shims that
/// must not keep their own copy.
#[wasm_bindgen(js_name = terminalStatuses)]
pub fn terminal_statuses() -> Vec<String> {
    crate::TERMINAL_STATUSES
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[wasm_bindgen]
pub fn start(
    callback: JsValue,
    token: &str,
    workspace_sid: Option<String>,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let callback: Callback = from_js(callback, "callback")?;
    answer(crate::start(
        &callback,
        token,
        workspace_sid.as_deref(),
        now_ms,
    ))
}

#[wasm_bindgen]
pub fn resume(state: JsValue, outcome: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let state: State = from_js(state, "wrap-up state")?;
    let outcome: Outcome = from_js(outcome, "step outcome")?;
    to_js(&crate::resume(state, &outcome, now_ms))
}
