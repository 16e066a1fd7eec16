//! The wasm face of the admin API: plain JS values in, plain JS objects out.
//!
//! ```js
//! prepareUpdate(dataJson);                                // {ok: true, config} | {ok: false, status, body}
//! previewReply(dataJson, name, Date.now(), days);         // {status, body}
//! listBody(configJson, Date.now(), version, isDeployed);  // {status, body}
//! listVersion(facts);                                     // {version, versionIsDeployed}
//! updatePlan(facts, version); afterCreate(facts, buildSid); publishCheck(facts, buildSid);
//!                                                         // {ok: true, value} | {ok: false, status, body}
//! statusReply(buildSid, status);                          // {status, body}
//! ```
//! `facts` is what common/serverless read from the Serverless API (see `schedule::publishing`).

use schedule::admin::{list_body, prepare_update, preview_reply};
use schedule::publishing;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use wasm_face::to_js_value as to_js;

/// `/admin/update`'s validation: `{ok: true, config}` (the text to store) or `{ok: false, status,
/// body}` naming every problem.
#[wasm_bindgen(js_name = prepareUpdate)]
pub fn prepare_update_js(data_json: &str) -> JsValue {
    match prepare_update(data_json) {
        Ok(config) => to_js(&serde_json::json!({"ok": true, "config": config})),
        Err(r) => to_js(
            &serde_json::json!({"ok": false, "status": schedule::admin::Rejection::STATUS, "body": r}),
        ),
    }
}

/// `/admin/preview`'s answer `{status, body}`.
#[wasm_bindgen(js_name = previewReply)]
pub fn preview_reply_js(
    data_json: &str,
    name: Option<String>,
    now_ms: f64,
    days: Option<String>,
) -> JsValue {
    to_js(&preview_reply(
        data_json,
        name.as_deref(),
        now_ms,
        days.as_deref(),
    ))
}

/// `/admin/list`'s answer `{status, body}` for the deployed config text.
#[wasm_bindgen(js_name = listBody)]
pub fn list_body_js(
    config_json: &str,
    now_ms: f64,
    version: &str,
    version_is_deployed: bool,
) -> JsValue {
    to_js(&list_body(
        config_json,
        now_ms,
        version,
        version_is_deployed,
    ))
}

fn facts(value: JsValue) -> Result<publishing::Facts, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        to_js(&serde_json::json!({"ok": false, "status": 500,
            "body": {"error": format!("could not read the Serverless API facts: {e}"), "code": "facts"}}))
    })
}

fn verdict<T: Serialize>(result: Result<T, schedule::admin::Reply>) -> JsValue {
    match result {
        Ok(value) => to_js(&serde_json::json!({"ok": true, "value": value})),
        Err(reply) => {
            to_js(&serde_json::json!({"ok": false, "status": reply.status, "body": reply.body}))
        }
    }
}

/// `{version, versionIsDeployed}` for `/admin/list`.
#[wasm_bindgen(js_name = listVersion)]
pub fn list_version_js(value: JsValue) -> JsValue {
    match facts(value) {
        Ok(f) => {
            let (version, deployed) = f.list_version();
            to_js(&serde_json::json!({"version": version, "versionIsDeployed": deployed}))
        }
        Err(e) => e,
    }
}

/// `{ok: true, value: buildSpec}` or `{ok: false, status, body}` (409 stale / pending).
#[wasm_bindgen(js_name = updatePlan)]
pub fn update_plan_js(value: JsValue, version: &str) -> JsValue {
    match facts(value) {
        Ok(f) => verdict(publishing::update_plan(&f, version)),
        Err(e) => e,
    }
}

/// `{ok: true}` or `{ok: false, status: 409, body}` when another update's build goes first.
#[wasm_bindgen(js_name = afterCreate)]
pub fn after_create_js(value: JsValue, build_sid: &str) -> JsValue {
    match facts(value) {
        Ok(f) => verdict(publishing::after_create(&f, build_sid)),
        Err(e) => e,
    }
}

/// `{ok: true}` or `{ok: false, status: 409, body}` naming why the build cannot be published.
#[wasm_bindgen(js_name = publishCheck)]
pub fn publish_check_js(value: JsValue, build_sid: &str) -> JsValue {
    match facts(value) {
        Ok(f) => verdict(publishing::publish_check(&f, build_sid)),
        Err(e) => e,
    }
}

/// `/admin/update-status`'s `{status, body}`; `status` is the build's, or null if it does not exist.
#[wasm_bindgen(js_name = statusReply)]
pub fn status_reply_js(build_sid: &str, status: Option<String>) -> JsValue {
    to_js(&publishing::status_reply(build_sid, status.as_deref()))
}
