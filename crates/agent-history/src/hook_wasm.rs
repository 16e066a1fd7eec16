//! The wasm face of the event callback's hook (`crate::hook`, docs/effects.md):
//!
//! ```js
//! startAgentHistoryHook({event, env, owner, run, nonce, nowMs, closeHour?})   // env: agentHistorySettings() as set
//!   // -> {state, run: [effect]} | {answer: {status: 200, body}} (never throws)
//! resumeAgentHistoryHook(state, [outcome], Date.now())   // -> the next step (never throws)
//! ```
//!
//! The container's memory (`hook::Memory`) is this module instance's, one per `owner` (a
//! Function container has one owner; a script may play several containers in one process).
//! The state is JSON text; outcomes are read through `JSON.stringify` (list pages of records cross
//! the boundary far faster as one string).

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::prelude::*;
use wasm_face::to_js;

use crate::hook::{self, Memory};

thread_local! {
    static MEMORY: RefCell<BTreeMap<String, Memory>> = const { RefCell::new(BTreeMap::new()) };
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn hook_json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

fn json_text(value: &JsValue) -> Option<String> {
    hook_json_stringify(value).ok()?.as_string()
}

fn with_memory<T>(owner: &str, f: impl FnOnce(&mut Memory) -> T) -> T {
    MEMORY.with(|all| f(all.borrow_mut().entry(owner.to_string()).or_default()))
}

/// Starts the hook for one event (or `closeHour`): never throws (a bad input is answered).
#[wasm_bindgen(js_name = startAgentHistoryHook)]
pub fn start_agent_history_hook(input: JsValue) -> Result<JsValue, JsValue> {
    let input: Option<hook::Input> = json_text(&input).and_then(|t| serde_json::from_str(&t).ok());
    let step = match input {
        Some(input) => {
            let owner = input.owner.clone();
            with_memory(&owner, |m| hook::start(input, m))
        }
        None => hook::unreadable(),
    };
    to_js(&step)
}

/// The hook's next step (never throws: a state it cannot read is answered).
#[wasm_bindgen(js_name = resumeAgentHistoryHook)]
pub fn resume_agent_history_hook(
    state: JsValue,
    outcomes: JsValue,
    _now_ms: f64,
) -> Result<JsValue, JsValue> {
    let state = state.as_string();
    let outcomes: Option<Vec<effects::Outcome>> =
        json_text(&outcomes).and_then(|t| serde_json::from_str(&t).ok());
    let step = match (state, outcomes) {
        (Some(state), Some(outcomes)) => match hook::owner_of(&state) {
            Some(owner) => with_memory(&owner, |m| hook::resume(&state, outcomes, m)),
            None => hook::unreadable(),
        },
        _ => hook::unreadable(),
    };
    to_js(&step)
}
