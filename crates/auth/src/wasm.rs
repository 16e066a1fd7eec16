//! The wasm face: plain JS objects in, plain JS objects out.
//!
//! ```js
//! authorize({kind: 'flex', iam: iamAnswerOrNull} | {kind: 'wallboardKey', key},
//!           {kind: 'actFor', workerSid} | {kind: 'supervise', wallboardKey: true} | {kind: 'anyWorker'}
//!             | {kind: 'roles', roles: 'admin,owner', purpose: 'editing schedules'},
//!           {wallboardKey: context.WALLBOARD_KEY})
//!   // -> {via, workerSid, identity, roles, supervisor}; throws an Error with code, status, parameter
//!   //    and, for a refused wallboard key, `log`: what is wrong with WALLBOARD_KEY (common/http logs it)
//! wallboardSyncToken(credential, settings, context.WALLBOARD_TOKEN_TTL)
//!   // -> {via, identity, viewer, permission, ttlSeconds}: authorizes for the supervisor screens
//!   //    or the wallboard key (BOARD_ACCESS), then plans the wallboard's Sync token
//! envNames('TWILIO_FLEX_WORKSPACE_SID')  // -> ['WORKSPACE_SID', 'TWILIO_FLEX_WORKSPACE_SID']: a setting's names, canonical first
//! envSetting('WORKSPACE_SID', {WORKSPACE_SID: null, TWILIO_FLEX_WORKSPACE_SID: 'WS…'})
//!   // -> {variable, value} or null (unset); different values under two names throw (500 invalid_config)
//! retrySettings({TWILIO_SERVICE_RETRY_LIMIT: '5', …})  // -> {limit, minMs, maxMs}; a bad value throws (500 invalid_config)
//! retryDelayMs({limit, minMs, maxMs}, attempt, status, Math.random())  // -> ms to wait before repeating, or null (not repeated)
//! regionOptions({TWILIO_REGION: 'ie1', TWILIO_EDGE: null})  // -> {region: 'ie1'}; a bad value throws (500 invalid_config)
//! productHost({TWILIO_REGION: 'ie1', TWILIO_EDGE: 'dublin'}, 'iam')  // -> 'iam.dublin.ie1.twilio.com'
//! functionBudgetMs('9000')  // -> 9000; a bad value throws (500 invalid_config)
//! startIdentify({token, contentType, authorization})  // the identify machine (common/effects' run):
//!   // -> {answer: credential} at once (a wallboard key, no token, a token from the URL)
//!   //    or {state, run: [validateFlexToken]}
//! resumeIdentify(state, [outcome], now)  // -> {answer: {kind: 'flex', iam}}; throws (500
//!   //    iam_credentials or invalid_state, 502 iam_failed, 504 deadline), as authorize does
//! nextPage(page.nextPageUrl)          // -> {page, pageToken} or null: where the next page of events starts
//! paceWait(1, 'sync:IS…/map:M', 0.05, Date.now())  // -> ms that pacer's write waits (0: go, counted)
//! ```
//!
//! (`envNames`/`envSetting` are `values::env`'s alias table, read by `common/client`'s `requireEnv`.)

use wasm_bindgen::prelude::*;
use wasm_face::{answer, answer_logged, from_js, FaceError};

/// The log line of a refusal (`crate::refusal_log`), carried by its error as `log`.
fn refusal_line(
    settings: &crate::Settings,
) -> impl FnOnce(&crate::AuthError) -> Option<String> + '_ {
    move |e| crate::refusal_log(Some(e.code()), settings)
}

#[wasm_bindgen]
pub fn authorize(
    credential: JsValue,
    access: JsValue,
    settings: JsValue,
) -> Result<JsValue, JsValue> {
    let credential = from_js(credential, "credential")?;
    let access = from_js(access, "access")?;
    let settings = from_js(settings, "settings")?;
    answer_logged(
        crate::authorize(&credential, &access, &settings),
        refusal_line(&settings),
    )
}

#[wasm_bindgen(js_name = wallboardSyncToken)]
pub fn wallboard_sync_token(
    credential: JsValue,
    settings: JsValue,
    ttl: Option<String>,
) -> Result<JsValue, JsValue> {
    let credential = from_js(credential, "credential")?;
    let settings = from_js(settings, "settings")?;
    answer_logged(
        crate::board_sync_token(&credential, &settings, ttl.as_deref()),
        refusal_line(&settings),
    )
}

#[wasm_bindgen(js_name = envNames)]
pub fn env_names(name: &str) -> Result<JsValue, JsValue> {
    wasm_face::to_js(&values::env::names(name).1)
}

#[wasm_bindgen(js_name = envSetting)]
pub fn env_setting(name: &str, given: JsValue) -> Result<JsValue, JsValue> {
    #[derive(serde::Serialize)]
    struct Found {
        variable: String,
        value: String,
    }
    let given: std::collections::HashMap<String, Option<String>> = from_js(given, "values")?;
    answer(
        values::env::setting(name, |k| given.get(k).and_then(|v| v.as_deref())).map(|found| {
            found.map(|s| Found {
                variable: s.variable,
                value: s.value,
            })
        }),
    )
}

/// `values::env::Retry` as it crosses: `{limit, minMs, maxMs}`.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetryJs {
    limit: u32,
    min_ms: u32,
    max_ms: u32,
}

/// `values::env::Retry` from the three TWILIO_SERVICE_* settings given (`{name: text | null}`):
/// `{limit, minMs, maxMs}`; a bad value throws a 500 naming its variable.
#[wasm_bindgen(js_name = retrySettings)]
pub fn retry_settings(given: JsValue) -> Result<JsValue, JsValue> {
    let given: std::collections::HashMap<String, Option<String>> = from_js(given, "values")?;
    answer(
        values::env::Retry::from_env(|k| given.get(k).and_then(|v| v.as_deref())).map(|r| {
            RetryJs {
                limit: r.limit,
                min_ms: r.min_ms,
                max_ms: r.max_ms,
            }
        }),
    )
}

/// After attempt `attempt` (0: the first) failed with HTTP `status` (or none): the wait in ms
/// before repeating it (`Retry::retried` and `Retry::delay_ms`, `unit` a random number from 0 to
/// 1), or null when it is not repeated.
#[wasm_bindgen(js_name = retryDelayMs)]
pub fn retry_delay_ms(
    retry: JsValue,
    attempt: u32,
    status: JsValue,
    unit: f64,
) -> Result<JsValue, JsValue> {
    let r: RetryJs = from_js(retry, "retry settings")?;
    let retry = values::env::Retry {
        limit: r.limit,
        min_ms: r.min_ms,
        max_ms: r.max_ms,
    };
    let status = http_status(&status);
    let delay = values::env::Retry::retried(status)
        .then(|| retry.delay_ms(attempt, unit))
        .flatten();
    wasm_face::to_js(&delay)
}

/// A whole HTTP status (100 to 599) given as a JS number, else none.
fn http_status(status: &JsValue) -> Option<u16> {
    status
        .as_f64()
        .filter(|s| s.fract() == 0.0 && (100.0..=599.0).contains(s))
        .map(|s| s as u16)
}

/// `values::env::Regional` from TWILIO_REGION and TWILIO_EDGE given (`{name: text | null}`):
/// `{region?, edge?}` (each only when set), the twilio client's options; a bad value throws a
/// 500 naming its variable.
#[wasm_bindgen(js_name = regionOptions)]
pub fn region_options(given: JsValue) -> Result<JsValue, JsValue> {
    #[derive(serde::Serialize)]
    struct Options {
        #[serde(skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        edge: Option<String>,
    }
    let given: std::collections::HashMap<String, Option<String>> = from_js(given, "values")?;
    answer(
        values::env::Regional::from_env(|k| given.get(k).and_then(|v| v.as_deref())).map(|r| {
            Options {
                region: r.region,
                edge: r.edge,
            }
        }),
    )
}

/// The host of Twilio `product` for TWILIO_REGION and TWILIO_EDGE given as for `regionOptions`
/// (`Regional::host`: `iam` -> `iam.dublin.ie1.twilio.com`); a bad value throws as there.
#[wasm_bindgen(js_name = productHost)]
pub fn product_host(given: JsValue, product: &str) -> Result<JsValue, JsValue> {
    let given: std::collections::HashMap<String, Option<String>> = from_js(given, "values")?;
    answer(
        values::env::Regional::from_env(|k| given.get(k).and_then(|v| v.as_deref()))
            .map(|r| r.host(product)),
    )
}

/// `values::env::function_budget_ms`: FUNCTION_BUDGET_MS in ms; a bad value throws a 500 naming it.
#[wasm_bindgen(js_name = functionBudgetMs)]
pub fn function_budget_ms(text: Option<String>) -> Result<JsValue, JsValue> {
    answer(values::env::function_budget_ms(text.as_deref()))
}

/// The identify machine's first step for the request's parts `{token, contentType,
/// authorization}` (`crate::start_identify`).
#[wasm_bindgen(js_name = startIdentify)]
pub fn start_identify(request: JsValue) -> Result<JsValue, JsValue> {
    let request = from_js(request, "request")?;
    wasm_face::to_js(&crate::start_identify(&request))
}

/// The identify machine's answer after IAM's outcome (`crate::resume_identify`); a state or
/// outcomes it did not write are a 500 (`invalid_state`), thrown like its other refusals.
#[wasm_bindgen(js_name = resumeIdentify)]
pub fn resume_identify(
    state: JsValue,
    outcomes: JsValue,
    _now_ms: f64,
) -> Result<JsValue, JsValue> {
    let unreadable = |what: &str| wasm_face::fail(crate::AuthError::UnreadableStep(what.into()));
    let state = from_js(state, "state")
        .map_err(|_| unreadable("the executor handed back a state this machine did not write"))?;
    let outcomes = from_js(outcomes, "outcomes")
        .map_err(|_| unreadable("the executor's outcomes are not outcomes of validateFlexToken"))?;
    answer(crate::resume_identify(state, outcomes))
}

/// The next page's `{page, pageToken}` in a page's `nextPageUrl`, or null (`effects::next_page`).
#[wasm_bindgen(js_name = nextPage)]
pub fn next_page(next_page_url: Option<String>) -> Result<JsValue, JsValue> {
    wasm_face::to_js(&next_page_url.as_deref().and_then(effects::next_page))
}

thread_local! {
    /// The pacers of this instance by number (`common/sync-pacer`'s); a reload forgets them.
    static PACERS: std::cell::RefCell<std::collections::HashMap<u32, effects::Pacer>> =
        Default::default();
}

/// The milliseconds pacer number `pacer`'s write of `cost` on `object` at `now_ms` waits; 0: it
/// goes now and is counted (`effects::Pacer::wait`).
#[wasm_bindgen(js_name = paceWait)]
pub fn pace_wait(pacer: u32, object: &str, cost: f64, now_ms: f64) -> f64 {
    PACERS.with(|pacers| {
        pacers.try_borrow_mut().map_or(0.0, |mut pacers| {
            pacers.entry(pacer).or_default().wait(object, cost, now_ms)
        })
    })
}
