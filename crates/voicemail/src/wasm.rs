//! The wasm face (via `wasm-face`): the voicemail functions' machines (crate::machine), driven
//! by functions/common/effects' `run` (from functions/common/voicemail.private.js). The names start
//! with `startVoicemail`: this module also carries the faces of `auth`, whose exports it must not
//! shadow.
//!
//! ```js
//! startVoicemailBox(fields, credential /* common/auth's identify() */, env)
//! startVoicemailStore(callbackFields, env)
//! startVoicemailTwiml({workerSid, reason, step}, formFields, env)
//! startVoicemailHook(eventFields, env, token)     // never throws: a refusal is the summary {error}
//!   // each -> {state, run: [effect]} | {answer: {status, body, contentType?, changedBox?, warning?, base64?}}
//!   // or throws an Error with code, status (400/403/500) and parameter for a refused request
//! resume(state, [outcome], Date.now())            // -> the next step (never throws)
//! ```
//! `env` holds the variables as named (`DOMAIN_NAME`, `VOICEMAIL_*`, `SYNC_SERVICE_SID`,
//! `WORKSPACE_SID`…). An answer's `changedBox` (`{workerSid, unheard, atMs}`: a changed box's
//! count, when the live agents view has its own service), `warning` (for the log) and
//! `base64` (the body is binary) are the machine's [`Notes`](crate::machine::Notes).

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js, js_error, to_js};

use crate::event::TaskEvent;
use crate::machine::{self as machines, Machine, Turn};
use crate::record::CallbackFields;
use crate::request::BoxFields;
use crate::settings::Env;
use crate::twiml::TwimlRequest;

/// The step as the executor reads it, the notes added to an answer.
fn turn(t: Result<Turn, JsValue>) -> Result<JsValue, JsValue> {
    let Turn { step, notes } = t?;
    let mut wire = serde_json::to_value(&step)
        .map_err(|e| js_error("serialize", &e.to_string(), 500, None))?;
    if let (Some(Value::Object(answer)), Ok(Value::Object(extra))) =
        (wire.get_mut("answer"), serde_json::to_value(&notes))
    {
        answer.extend(extra);
    }
    to_js(&wire)
}

/// The settings the machines read (`crate::SETTINGS`): what the functions hand them.
#[wasm_bindgen(js_name = voicemailSettings)]
pub fn voicemail_settings() -> Result<JsValue, JsValue> {
    wasm_face::to_js(crate::SETTINGS)
}

#[wasm_bindgen(js_name = startVoicemailBox)]
pub fn start_voicemail_box(
    fields: JsValue,
    credential: JsValue,
    env: JsValue,
) -> Result<JsValue, JsValue> {
    let fields: BoxFields = from_js(fields, "request")?;
    let credential = from_js(credential, "credential")?;
    let env: Env = from_js(env, "environment")?;
    turn(machines::mailbox::start(&fields, &credential, &env).map_err(fail))
}

#[wasm_bindgen(js_name = startVoicemailStore)]
pub fn start_voicemail_store(fields: JsValue, env: JsValue) -> Result<JsValue, JsValue> {
    let fields: CallbackFields = from_js(fields, "callback")?;
    let env: Env = from_js(env, "environment")?;
    turn(machines::store::start(&fields, &env).map_err(fail))
}

#[wasm_bindgen(js_name = startVoicemailTwiml)]
pub fn start_voicemail_twiml(
    query: JsValue,
    fields: JsValue,
    env: JsValue,
) -> Result<JsValue, JsValue> {
    let query: TwimlRequest = from_js(query, "request")?;
    let fields: CallbackFields = from_js(fields, "callback")?;
    let env: Env = from_js(env, "environment")?;
    turn(machines::twiml::start(&query, &fields, &env).map_err(fail))
}

#[wasm_bindgen(js_name = startVoicemailHook)]
pub fn start_voicemail_hook(
    fields: JsValue,
    env: JsValue,
    token: &str,
) -> Result<JsValue, JsValue> {
    let raw: Value = from_js(fields, "event")?;
    let event: TaskEvent = serde_json::from_value(raw.clone()).unwrap_or_default();
    let workspace = raw.get("WorkspaceSid").and_then(Value::as_str);
    let env: Env = from_js(env, "environment")?;
    turn(Ok(machines::hook::start(&event, workspace, &env, token)))
}

/// The next step; a state or outcomes that cannot be read are answered (500), not thrown.
#[wasm_bindgen]
pub fn resume(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<effects::Outcome>, _> = from_js(outcomes, "outcomes");
    match (machine, outcomes) {
        (Ok(machine), Ok(outcomes)) => turn(Ok(machines::resume(machine, outcomes, now_ms))),
        _ => turn(Ok(Turn::answer(machines::unreadable(
            "the executor handed back a state or outcomes this machine did not write",
        )))),
    }
}
