//! The wasm face of the crate: plain JS values in, plain JS objects out.
//!
//! ```js
//! const book = new ScheduleBook(configJsonText);          // throws {code, message} if invalid
//! book.check(name, simulate, Date.now());                 // {status, body} for check-schedule
//! book.isOpen(name, simulate, Date.now());                // {isOpen, closedReason}, throws {code, message}
//! const deployed = ScheduleBook.load(configJsonText);     // tolerant: never throws (deployed configs)
//! deployed.problems();                                    // [{code, message}]
//! prepareUpdate(dataJson);                                // {ok: true, config} | {ok: false, status, body}
//! previewReply(dataJson, name, Date.now(), days);         // {status, body}
//! listBody(configJson, Date.now(), version, isDeployed);  // {status, body}
//! ```
//! Errors go through the shared `wasm-face`: a JS `Error` with `code`, `status` and `parameter`.

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_face::fail;

use crate::admin::{list_body, prepare_update, preview_reply, Problem};
use crate::{Book, When};

/// Plain objects (not Maps), `null` for None: what JSON.stringify and Studio expect. A value that
/// does not serialize (it cannot happen for these types) becomes the error object, not a panic.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    wasm_face::to_js(value).unwrap_or_else(|e| e)
}

/// A validated schedule configuration, kept for the life of the container.
#[wasm_bindgen]
pub struct ScheduleBook {
    book: Book,
}

#[wasm_bindgen]
impl ScheduleBook {
    /// Parses and validates `config.json`; throws an Error naming the bad rule or schedule.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<ScheduleBook, JsValue> {
        Book::from_json(config_json)
            .map(|book| ScheduleBook { book })
            .map_err(fail)
    }

    /// Loads a deployed configuration tolerantly: invalid rules and schedules only break the
    /// schedules that depend on them (they fail open); see `problems()`.
    pub fn load(config_json: &str) -> ScheduleBook {
        ScheduleBook {
            book: Book::load(config_json),
        }
    }

    /// Every invalid value of the configuration: `[{code, message}]`.
    pub fn problems(&self) -> JsValue {
        let problems: Vec<Problem> = self.book.problems().iter().map(Problem::from).collect();
        to_js(&problems)
    }

    /// check-schedule's whole HTTP answer: `{status, body}`.
    pub fn check(&self, name: Option<String>, simulate: Option<String>, now_ms: f64) -> JsValue {
        to_js(
            &self
                .book
                .respond(name.as_deref(), simulate.as_deref(), now_ms),
        )
    }

    /// Just `{isOpen, closedReason}`, without the next change.
    #[wasm_bindgen(js_name = isOpen)]
    pub fn is_open(
        &self,
        name: &str,
        simulate: Option<String>,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        When::from_request(simulate.as_deref(), now_ms)
            .and_then(|when| self.book.status(name, when))
            .map(|status| to_js(&status))
            .map_err(fail)
    }

    /// Legal but suspicious things in the configuration (e.g. references to deleted rules).
    pub fn warnings(&self) -> Vec<String> {
        self.book.warnings().to_vec()
    }

    /// The schedule names, sorted.
    #[wasm_bindgen(js_name = scheduleNames)]
    pub fn schedule_names(&self) -> Vec<String> {
        self.book
            .schedule_names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// `/admin/update`'s validation: `{ok: true, config}` (the text to store) or `{ok: false, status,
/// body}` naming every problem.
#[wasm_bindgen(js_name = prepareUpdate)]
pub fn prepare_update_js(data_json: &str) -> JsValue {
    match prepare_update(data_json) {
        Ok(config) => to_js(&serde_json::json!({"ok": true, "config": config})),
        Err(r) => to_js(
            &serde_json::json!({"ok": false, "status": crate::admin::Rejection::STATUS, "body": r}),
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

fn facts(value: JsValue) -> Result<crate::publishing::Facts, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        to_js(&serde_json::json!({"ok": false, "status": 500,
            "body": {"error": format!("could not read the Serverless API facts: {e}"), "code": "facts"}}))
    })
}

fn verdict<T: Serialize>(result: Result<T, crate::admin::Reply>) -> JsValue {
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
        Ok(f) => verdict(crate::publishing::update_plan(&f, version)),
        Err(e) => e,
    }
}

/// `{ok: true}` or `{ok: false, status: 409, body}` when another update's build goes first.
#[wasm_bindgen(js_name = afterCreate)]
pub fn after_create_js(value: JsValue, build_sid: &str) -> JsValue {
    match facts(value) {
        Ok(f) => verdict(crate::publishing::after_create(&f, build_sid)),
        Err(e) => e,
    }
}

/// `{ok: true}` or `{ok: false, status: 409, body}` naming why the build cannot be published.
#[wasm_bindgen(js_name = publishCheck)]
pub fn publish_check_js(value: JsValue, build_sid: &str) -> JsValue {
    match facts(value) {
        Ok(f) => verdict(crate::publishing::publish_check(&f, build_sid)),
        Err(e) => e,
    }
}

/// `/admin/update-status`'s `{status, body}`; `status` is the build's, or null if it does not exist.
#[wasm_bindgen(js_name = statusReply)]
pub fn status_reply_js(build_sid: &str, status: Option<String>) -> JsValue {
    to_js(&crate::publishing::status_reply(
        build_sid,
        status.as_deref(),
    ))
}
