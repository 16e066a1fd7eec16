//! The wasm face of the admin API: plain JS values in, plain JS objects out.
//!
//! ```js
//! // The admin functions' machines (functions/common/effects runs them):
//! startAdminList({serviceSid, environmentSid}, runningConfigText)
//! startAdminUpdate({serviceSid, environmentSid}, data, version)
//! startAdminPublish({serviceSid, environmentSid}, buildSid)
//! startAdminUpdateStatus({serviceSid, environmentSid}, buildSid)
//! startAdminFetchConfig(serviceSid, {credentialsInParameters, authorization}, runningConfigText)
//! startRunningConfig({serviceSid, environmentSid})        // emulator only: -> {key, text | null}
//!   // each -> {state, run: [effect]} | {answer: {status, body, contentType?}}
//! resume(state, [outcome], Date.now())                   // -> the next step (never throws)
//!
//! // The config CLI and the preview function:
//! prepareUpdate(dataJson);                                // {ok: true, config} | {ok: false, status, body}
//! previewReply(dataJson, name, Date.now(), days);         // {status, body}
//!
//! // tests/effects.test.js: how the executor makes an op written by hand, and every op's kind
//! opCall({kind: 'fetchCall', callSid})                    // -> {client: {path, request, …}}
//! opKinds()                                               // -> ['fetchCall', …]
//! ```
//! (This module also carries the `schedule` crate's exports; no name here repeats one of them.)

use crate::admin::{prepare_update, preview_reply};
use effects::Outcome;
use wasm_bindgen::prelude::*;
use wasm_face::{from_js, to_js, to_js_value};

use crate::machine::{self, Env, FetchConfigRequest, Machine};

/// `/admin/update`'s validation: `{ok: true, config}` (the text to store) or `{ok: false, status,
/// body}` naming every problem.
#[wasm_bindgen(js_name = prepareUpdate)]
pub fn prepare_update_js(data_json: &str) -> Result<JsValue, JsValue> {
    Ok(match prepare_update(data_json) {
        Ok(config) => to_js_value(&serde_json::json!({"ok": true, "config": config})),
        Err(r) => to_js_value(
            &serde_json::json!({"ok": false, "status": crate::admin::Rejection::STATUS, "body": r}),
        ),
    })
}

/// `/admin/preview`'s answer `{status, body}`.
#[wasm_bindgen(js_name = previewReply)]
pub fn preview_reply_js(
    data_json: &str,
    name: Option<String>,
    now_ms: f64,
    days: Option<String>,
) -> Result<JsValue, JsValue> {
    Ok(to_js_value(&preview_reply(
        data_json,
        name.as_deref(),
        now_ms,
        days.as_deref(),
    )))
}

#[wasm_bindgen(js_name = startAdminList)]
pub fn start_admin_list(env: JsValue, config: String) -> Result<JsValue, JsValue> {
    let env: Env = from_js(env, "settings")?;
    to_js(&machine::list(env, config))
}

#[wasm_bindgen(js_name = startAdminUpdate)]
pub fn start_admin_update(
    env: JsValue,
    data: Option<String>,
    version: Option<String>,
) -> Result<JsValue, JsValue> {
    let env: Env = from_js(env, "settings")?;
    to_js(&machine::update(env, data, version))
}

#[wasm_bindgen(js_name = startAdminPublish)]
pub fn start_admin_publish(env: JsValue, build_sid: Option<String>) -> Result<JsValue, JsValue> {
    let env: Env = from_js(env, "settings")?;
    to_js(&machine::publish(env, build_sid))
}

#[wasm_bindgen(js_name = startAdminUpdateStatus)]
pub fn start_admin_update_status(
    env: JsValue,
    build_sid: Option<String>,
) -> Result<JsValue, JsValue> {
    let env: Env = from_js(env, "settings")?;
    to_js(&machine::update_status(env, build_sid))
}

#[wasm_bindgen(js_name = startAdminFetchConfig)]
pub fn start_admin_fetch_config(
    service_sid: &str,
    request: JsValue,
    config: String,
) -> Result<JsValue, JsValue> {
    let request: FetchConfigRequest = from_js(request, "fetch-config request")?;
    to_js(&machine::fetch_config(service_sid, &request, config))
}

/// Against the emulator: the `/config.json` the environment runs (`{key, text}`).
#[wasm_bindgen(js_name = startRunningConfig)]
pub fn start_running_config(env: JsValue) -> Result<JsValue, JsValue> {
    let env: Env = from_js(env, "settings")?;
    to_js(&machine::running_config_source(env))
}

/// The next step; a state or outcomes that cannot be read are answered (500), not thrown.
#[wasm_bindgen]
pub fn resume(state: JsValue, outcomes: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<Outcome>, _> = from_js(outcomes, "outcomes");
    let step = match (machine, outcomes) {
        (Ok(machine), Ok(outcomes)) => machine::resume(machine, outcomes, now_ms),
        _ => effects::Step::answer(machine::unreadable_state()),
    };
    to_js(&step)
}

/// How the executor makes operation `op` (`effects::Op::call`): the effects a machine answers
/// carry it already; this is for an effect written by hand (`tests/effects.test.js`). It lives in
/// this module, which only the admin functions load, because reading any `Op` from JavaScript is
/// about 200 KB of wasm: in `auth` every person-facing function would load it.
#[wasm_bindgen(js_name = opCall)]
pub fn op_call(op: JsValue) -> Result<JsValue, JsValue> {
    let op: effects::Op = from_js(op, "op")?;
    to_js(&op.call())
}

/// Every operation's `kind` (`effects::KINDS`), for the same test.
#[wasm_bindgen(js_name = opKinds)]
pub fn op_kinds() -> Result<JsValue, JsValue> {
    to_js(&effects::KINDS[..])
}
