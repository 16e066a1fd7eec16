//! The wasm face: each function starts a machine; `resume` continues any of them
//! (`functions/common/effects`'s `run` drives them). The names start with `start`: this module
//! also carries the faces of `history` (`History`) and `staffing`, whose exports it must not
//! shadow.
//!
//! ```js
//! startStaffing({callsPerInterval, ahtSeconds, ..., queueSid, channel},
//!               {defaultAhtSeconds, history: historySettings() as set (the services too)}, Date.now())
//! startStaffingBatch({queues}, sameEnv, Date.now())
//!   // each -> {state, run: [effect]} | {answer: {status, body}}
//!   // or throws an Error with code, status 400 and parameter for a bad request
//! resume(state, [outcome], Date.now())   // -> the next step (never throws)
//!
//! // Queue history (state: {machine: JSON text, stored: items' text}; run with the executor's `text: true`):
//! startHistorySeries({params, env, owner, run, nowMs, deadlineMs?, listQueues?, backfill?})   // env: historySettings() as set (the services too)
//!   // GET /queue-history; throws 400 naming a bad parameter, 500 naming a bad setting
//! startHistoryHook({env, owner, nowMs})
//!   // the event callback's hook (never throws): answer {taskrouterCalls, syncReads, syncWrites} | {off: true}
//! startHistoryClose({env, hours, queues?, nowMs})
//!   // scripts: closes the given hours (no claim): {closed, notes, queues, taskrouterCalls, syncReads, syncWrites}
//! resumeHistory(state, outcomes (JSON text or array), Date.now())   // -> the next step (never throws)
//! historySettings()   // the settings the machines read (crate::SETTINGS): what `env`/`history` carry
//! ```
//!
//! The measured handle times a machine read are remembered by this module's instance (one per
//! container) for `measured::MEASURED_TTL_MS`; a reloaded instance reads them again. So is the
//! hook's memory (`hook::Memory`, per `owner`: a script may play several containers), taken out
//! of its final answer; a reloaded instance starts without it and the hook looks again.

use std::cell::RefCell;
use std::collections::BTreeMap;

use effects::Outcome;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js, to_js};

use crate::hook::{self, Memory};
use crate::{Local, Machine, Measured, Turn};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify, catch)]
    fn history_json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// A JS value as JSON text (a string is taken as the text itself).
fn text_of(value: &JsValue) -> Option<String> {
    value
        .as_string()
        .or_else(|| history_json_stringify(value).ok()?.as_string())
}

/// A queue history machine's state as the executor carries it: the machine as JSON text and,
/// beside it, the stored items a series has read (megabytes): two strings, never walked.
#[derive(serde::Serialize, serde::Deserialize)]
struct Carried {
    machine: String,
    #[serde(default)]
    stored: String,
}

/// A queue history step, its state [`Carried`].
fn text_step(turn: Turn) -> Result<JsValue, JsValue> {
    let step = turn.step.map(|mut machine| {
        let stored = match &mut machine {
            Machine::Series(s) => s.take_stored(),
            _ => String::new(),
        };
        Carried {
            machine: serde_json::to_string(&machine).unwrap_or_default(),
            stored,
        }
    });
    to_js(&step)
}

fn carried(state: JsValue) -> Option<Machine> {
    let carried: Carried = from_js(state, "state").ok()?;
    let mut machine: Machine = serde_json::from_str(&carried.machine).ok()?;
    if let Machine::Series(s) = &mut machine {
        s.put_stored(carried.stored);
    }
    Some(machine)
}

thread_local! {
    static MEASURED: RefCell<Option<Measured>> = const { RefCell::new(None) };
    /// What this container's concurrent queue history requests know of each other.
    static LOCAL: RefCell<Local> = RefCell::new(Local::default());
    /// The hook's memory per owner (`hook::take_memory`).
    static HOOK: RefCell<BTreeMap<String, Memory>> = const { RefCell::new(BTreeMap::new()) };
}

/// Keeps what a hook's final answer says to remember for `owner`, and answers the rest.
fn hook_step(owner: &str, mut turn: Turn) -> Result<JsValue, JsValue> {
    if let Some(memory) = hook::take_memory(&mut turn) {
        HOOK.with(|all| all.borrow_mut().insert(owner.to_string(), memory));
    }
    text_step(turn)
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

#[wasm_bindgen(js_name = startHistorySeries)]
pub fn start_history_series(input: JsValue) -> Result<JsValue, JsValue> {
    let input = from_js(input, "queue history request")?;
    text_step(crate::backfill::series(input).map_err(fail)?)
}

#[wasm_bindgen(js_name = startHistoryClose)]
pub fn start_history_close(input: JsValue) -> Result<JsValue, JsValue> {
    let input = from_js(input, "hours to close")?;
    text_step(crate::backfill::close(input).map_err(fail)?)
}

/// The event callback's hook: never throws (an input it cannot read is answered as an error).
#[wasm_bindgen(js_name = startHistoryHook)]
pub fn start_history_hook(input: JsValue) -> Result<JsValue, JsValue> {
    let input: Option<crate::hook::HookInput> =
        text_of(&input).and_then(|t| serde_json::from_str(&t).ok());
    match input {
        Some(mut input) => {
            let owner = input.owner.clone();
            if input.memory.is_none() {
                input.memory = HOOK.with(|all| all.borrow().get(&owner).cloned());
            }
            hook_step(&owner, hook::start(input))
        }
        None => text_step(Turn::answer(effects::Answer::json(
            200,
            serde_json::json!({"error": "the hook's input could not be read"}),
        ))),
    }
}

/// The next step of a queue history machine; a state or outcomes that cannot be read are
/// answered (500), not thrown.
#[wasm_bindgen(js_name = resumeHistory)]
pub fn resume_history(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let machine = carried(state);
    let text = text_of(&outcomes);
    let hook_owner = match &machine {
        Some(Machine::Hook(h)) => Some(h.owner().to_string()),
        _ => None,
    };
    let turn = LOCAL.with(|local| {
        let mut local = local.borrow_mut();
        match (machine, text) {
            // The series reads its stored range's pages from the text itself.
            (Some(Machine::Series(s)), Some(text)) => s.resume_text(&text, now_ms, &mut local),
            (Some(machine), Some(text)) => match serde_json::from_str::<Vec<Outcome>>(&text) {
                Ok(outcomes) => crate::resume_with(machine, outcomes, now_ms, &mut local),
                Err(_) => Turn::answer(crate::unreadable()),
            },
            _ => Turn::answer(crate::unreadable()),
        }
    });
    match hook_owner {
        Some(owner) => hook_step(&owner, turn),
        None => text_step(turn),
    }
}

/// The settings the machines read (`crate::SETTINGS`): what the functions hand them.
#[wasm_bindgen(js_name = historySettings)]
pub fn history_settings() -> Result<JsValue, JsValue> {
    to_js(crate::SETTINGS)
}
