//! The voicemail leg's TwiML (`POST /voicemail-twiml`).
//!
//! ```xml
//! <Response>
//!   <Play>https://…/greeting.mp3</Play>            (the worker's voicemailGreetingUrl), or
//!   <Say>You have reached Alice. …</Say>           (the default, naming the worker)
//!   <Record action="…/voicemail-twiml?workerSid=WK…&step=done" maxLength="120" playBeep="true"
//!           recordingStatusCallback="…/voicemail-recorded?workerSid=WK…&reason=…#rc=3&rp=5xx,ct,rt"
//!           recordingStatusCallbackEvent="completed" [transcribe="true" transcribeCallback="…"]/>
//!   <Say>No message was recorded. Goodbye.</Say><Hangup/>
//! </Response>
//! ```
//! `step=done` (the `<Record>` action, requested when the recording ends) answers a goodbye. The
//! `<Record>` always has an `action`: without one Twilio requests the current document again and
//! the caller would hear the greeting in a loop.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{query_value, REASONS};
use crate::settings::Settings;
use crate::{is_sid, VoicemailError};
use values::xml::{attr, text};

/// The query of a voicemail-twiml request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwimlRequest {
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub step: Option<String>,
}

/// A validated request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwimlPlan {
    pub worker_sid: String,
    pub reason: String,
    /// `greeting` (fetch the worker, then [`greeting_twiml`]) or `done` ([`GOODBYE`]).
    pub step: String,
}

pub const GOODBYE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Thank you. Your message has been recorded. Goodbye.</Say><Hangup/></Response>";

const REASON_PARAM: &str = "reason";

pub fn plan(req: &TwimlRequest) -> Result<TwimlPlan, VoicemailError> {
    let worker_sid = req
        .worker_sid
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(VoicemailError::MissingParameter("workerSid"))?;
    if !is_sid(worker_sid, "WK") {
        return Err(VoicemailError::invalid(
            "workerSid",
            format!("{worker_sid:?} is not a worker SID (WK…)"),
        ));
    }
    let reason = match req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => "unavailable".to_string(),
        Some(r) if REASONS.contains(&r) => r.to_string(),
        Some(r) => {
            return Err(VoicemailError::invalid(
                REASON_PARAM,
                format!("{r:?}; expected one of {}", REASONS.join(", ")),
            ))
        }
    };
    let step = match req.step.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("greeting") => "greeting",
        Some("done") => "done",
        Some(s) => {
            return Err(VoicemailError::invalid(
                "step",
                format!("{s:?}; expected greeting or done"),
            ))
        }
    };
    Ok(TwimlPlan {
        worker_sid: worker_sid.to_string(),
        reason,
        step: step.to_string(),
    })
}

/// The worker as TaskRouter describes them (`null` when the fetch failed: the default greeting
/// then names nobody, the caller can still leave a message).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerInfo {
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// The worker's attributes (JSON text).
    #[serde(default)]
    pub attributes: Option<String>,
}

/// The longest greeting URL or name taken from a worker's attributes.
const MAX_ATTR_CHARS: usize = 1000;

/// The worker's recorded greeting: attribute `voicemailGreetingUrl`, an `https://` URL.
pub fn greeting_url(attributes: &Value) -> Option<String> {
    let url = attributes.get("voicemailGreetingUrl")?.as_str()?.trim();
    (url.starts_with("https://")
        && url.len() <= MAX_ATTR_CHARS
        && !url.contains(char::is_whitespace))
    .then(|| url.to_string())
}

/// The name the default greeting says: attribute `full_name` (Flex's), else the friendly name.
pub fn spoken_name(worker: &WorkerInfo, attributes: &Value) -> Option<String> {
    let full = attributes
        .get("full_name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let name = full.or(worker
        .friendly_name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty()))?;
    Some(name.chars().take(100).collect())
}

/// The greeting and `<Record>` for `plan` (step `greeting`).
pub fn greeting_twiml(
    plan: &TwimlPlan,
    worker: Option<&WorkerInfo>,
    settings: &Settings,
) -> String {
    let attributes: Value = worker
        .and_then(|w| w.attributes.as_deref())
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(Value::Null);
    let greeting = match greeting_url(&attributes) {
        Some(url) => format!("<Play>{}</Play>", text(&url)),
        None => {
            let words = match worker.and_then(|w| spoken_name(w, &attributes)) {
                Some(name) => format!(
                    "You have reached {name}. {name} cannot take your call right now. Please leave a message after the tone."
                ),
                None => "The person you called cannot take your call right now. Please leave a message after the tone.".to_string(),
            };
            format!("<Say>{}</Say>", text(&words))
        }
    };
    let base = &settings.base_url;
    let worker_q = query_value(&plan.worker_sid);
    let action = format!("{base}/voicemail-twiml?workerSid={worker_q}&step=done");
    let callback = format!(
        "{base}/voicemail-recorded?workerSid={worker_q}&reason={}#rc=3&rp=5xx,ct,rt",
        query_value(&plan.reason)
    );
    let mut record = format!(
        "<Record action=\"{}\" method=\"POST\" maxLength=\"{}\" timeout=\"5\" playBeep=\"true\" recordingStatusCallback=\"{}\" recordingStatusCallbackMethod=\"POST\" recordingStatusCallbackEvent=\"completed\"",
        attr(&action),
        settings.max_seconds,
        attr(&callback)
    );
    if settings.transcribe {
        record.push_str(&format!(
            " transcribe=\"true\" transcribeCallback=\"{}\"",
            attr(&callback)
        ));
    }
    record.push_str("/>");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{greeting}{record}<Say>No message was recorded. Goodbye.</Say><Hangup/></Response>"
    )
}
