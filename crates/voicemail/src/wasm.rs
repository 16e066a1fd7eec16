//! The wasm face (via `wasm-face`), for functions/common/voicemail.private.js:
//!
//! ```js
//! settings(env)                                   // {baseUrl, transcribe, maxSeconds, mediaFormat}; 500 naming a bad variable
//! planEvent(fields, env)                          // {kind: 'ignore', reason} | {kind: 'voicemail', callSid, taskSid, ..., redirectUrl}
//! decide(plan, claim|null, revision|null, token, nowMs)  // {kind: 'create'|'takeOver'|'done'|'inProgress', ...}
//! afterRedirect(ok, status|null, code|null, ambiguous)   // {state, release, cancelTask, outcome}
//! twimlPlan(query)                                // {workerSid, reason, step}; 400 naming a bad one
//! greetingTwiml(plan, worker|null, env)           // TwiML text
//! goodbyeTwiml()
//! parseCallback(fields)                           // the part a callback carries; 400 naming a bad field
//! merge(stored|null, part, nowMs)                 // {kind: 'create'|'update'|'nothing', voicemail?, reason?}
//! boxPlan(fields, tokenWorker|null)               // {action, workerSid, map, callSid, heard, pageSize, pageToken}
//! listAnswer(workerSid, datas, nextPageToken|null)
//! stored(plan, data|null)                         // the voicemail, or 404
//! markHeard(voicemail, heard, nowMs)              // the new record, or null when unchanged
//! media(env, accountSid, recordingSid)            // {url, contentType}
//! ```

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{answer, fail, from_js, js_error, to_js};

use crate::event::{self, Claim, EventPlan, TaskEvent};
use crate::record::{self, CallbackFields, Part, Voicemail};
use crate::request::{self, BoxFields, BoxPlan};
use crate::settings::{Env, Settings};
use crate::twiml::{self, TwimlPlan, TwimlRequest, WorkerInfo};

fn settings_of(env: JsValue) -> Result<Settings, JsValue> {
    let env: Env = from_js(env, "environment")?;
    Settings::from_env(&env).map_err(fail)
}

fn iso(now_ms: f64) -> Result<String, JsValue> {
    values::instant::from_millis(now_ms)
        .map(values::instant::iso_millis)
        .ok_or_else(|| {
            js_error(
                "invalid_now",
                "the current time is not an instant",
                500,
                None,
            )
        })
}

#[wasm_bindgen]
pub fn settings(env: JsValue) -> Result<JsValue, JsValue> {
    to_js(&settings_of(env)?)
}

#[wasm_bindgen(js_name = planEvent)]
pub fn plan_event(fields: JsValue, env: JsValue) -> Result<JsValue, JsValue> {
    let event: TaskEvent = from_js(fields, "event")?;
    let settings = settings_of(env)?;
    to_js(&event::plan_event(&event, &settings.base_url))
}

#[wasm_bindgen]
pub fn decide(
    plan: JsValue,
    claim: JsValue,
    revision: Option<String>,
    token: &str,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let plan: EventPlan = from_js(plan, "plan")?;
    let claim: Option<Claim> = from_js(claim, "claim")?;
    let rev = revision.unwrap_or_default();
    to_js(&event::decide(
        &plan,
        claim.as_ref().map(|c| (c, rev.as_str())),
        token,
        now_ms,
    ))
}

#[wasm_bindgen(js_name = afterRedirect)]
pub fn after_redirect(
    ok: bool,
    status: Option<u16>,
    code: Option<u32>,
    ambiguous: bool,
) -> Result<JsValue, JsValue> {
    to_js(&event::after_redirect(ok, status, code, ambiguous))
}

#[wasm_bindgen(js_name = twimlPlan)]
pub fn twiml_plan(query: JsValue) -> Result<JsValue, JsValue> {
    let req: TwimlRequest = from_js(query, "request")?;
    answer(twiml::plan(&req))
}

#[wasm_bindgen(js_name = greetingTwiml)]
pub fn greeting_twiml(plan: JsValue, worker: JsValue, env: JsValue) -> Result<String, JsValue> {
    let plan: TwimlPlan = from_js(plan, "plan")?;
    let worker: Option<WorkerInfo> = from_js(worker, "worker")?;
    let settings = settings_of(env)?;
    Ok(twiml::greeting_twiml(&plan, worker.as_ref(), &settings))
}

#[wasm_bindgen(js_name = goodbyeTwiml)]
pub fn goodbye_twiml() -> String {
    twiml::GOODBYE.to_string()
}

#[wasm_bindgen(js_name = parseCallback)]
pub fn parse_callback(fields: JsValue) -> Result<JsValue, JsValue> {
    let f: CallbackFields = from_js(fields, "callback")?;
    answer(record::parse_callback(&f))
}

#[wasm_bindgen]
pub fn merge(stored: JsValue, part: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let stored: Option<Voicemail> = from_js(stored, "stored voicemail")?;
    let part: Part = from_js(part, "part")?;
    to_js(&record::merge(stored.as_ref(), &part, &iso(now_ms)?))
}

#[wasm_bindgen(js_name = boxPlan)]
pub fn box_plan(fields: JsValue, token_worker: Option<String>) -> Result<JsValue, JsValue> {
    let f: BoxFields = from_js(fields, "request")?;
    answer(request::plan(&f, token_worker.as_deref()))
}

#[wasm_bindgen(js_name = listAnswer)]
pub fn list_answer(
    worker_sid: &str,
    datas: JsValue,
    next_page_token: Option<String>,
) -> Result<JsValue, JsValue> {
    let datas: Vec<Value> = from_js(datas, "items")?;
    to_js(&request::list_answer(worker_sid, &datas, next_page_token))
}

#[wasm_bindgen]
pub fn stored(plan: JsValue, data: JsValue) -> Result<JsValue, JsValue> {
    let plan: BoxPlan = from_js(plan, "plan")?;
    let data: Option<Value> = from_js(data, "item")?;
    answer(request::stored(&plan, data.as_ref()))
}

#[wasm_bindgen(js_name = markHeard)]
pub fn mark_heard(voicemail: JsValue, heard: bool, now_ms: f64) -> Result<JsValue, JsValue> {
    let v: Voicemail = from_js(voicemail, "voicemail")?;
    to_js(&record::mark_heard(&v, heard, &iso(now_ms)?))
}

#[wasm_bindgen]
pub fn media(env: JsValue, account_sid: &str, recording_sid: &str) -> Result<JsValue, JsValue> {
    let settings = settings_of(env)?;
    if !values::sid::is_sid(recording_sid, "RE") {
        return Err(js_error(
            "invalid_parameter",
            "the stored recording SID is not a RE… SID",
            500,
            None,
        ));
    }
    let (url, content_type) = settings.media(account_sid, recording_sid);
    to_js(&serde_json::json!({ "url": url, "contentType": content_type }))
}
