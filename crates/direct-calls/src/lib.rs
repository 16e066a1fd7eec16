//! Direct calls: a caller dials an agent's extension in a Studio IVR.
//!
//! # The model
//!
//! An agent (a TaskRouter worker) owns an extension through the worker attribute
//! `directExtension`, a string of 1 to [`MAX_DIGITS`] digits (`{"directExtension": "1234"}`). The
//! IVR gathers digits and asks `direct-extension` whether they reach someone who can take a call
//! now; if so Studio sends the call to Flex with task attributes
//! `directCall: {extension, workerSid, workerName}` that the workflow routes to that worker only,
//! otherwise to voicemail.
//!
//! # One TaskRouter request per call at most
//!
//! A container keeps what it read for a few seconds (`DIRECT_EXTENSION_CACHE_SECONDS`, default
//! [`DEFAULT_CACHE_SECONDS`]) and [`plan`] chooses the single read a call makes:
//!
//! 1. the extension's workers are not known (or older than the cache): **list the workers** with
//!    `TargetWorkersExpression = directExtension == "<digits>"`, two to a page (a second row is
//!    all it takes to see a shared extension). That answers who, and whether their activity is
//!    available; TaskRouter's worker list carries no channel figures, so voice capacity is not
//!    known from this read (unless a fresh voice read is cached);
//! 2. the extension is known (one worker) but its voice channel is not: **fetch the worker's
//!    voice channel** (`configured_capacity`, `assigned_tasks`, `available`); the activity is then
//!    the cached one, at most the cache's age old;
//! 3. both are known: no request.
//!
//! A busy IVR line therefore alternates reads and sees activity and capacity at most the cache's
//! age late. The first call to an extension after a quiet spell is judged on the activity alone:
//! if the agent is in fact at capacity, TaskRouter does not reserve the task and the direct call
//! reaches voicemail by the workflow's timeout.
//!
//! # The answer
//!
//! [`answer`] decides from what is known: `valid` (exactly one worker owns the extension),
//! `available` (can take a call now) and, when not, `reason`:
//!
//! | reason | when |
//! |---|---|
//! | `not_found` | no worker has the extension (`valid: false`) |
//! | `shared_extension` | two or more workers have it: reported, never guessed (`valid: false`) |
//! | `offline` | the worker's activity is not an available one (`activityName` says which) |
//! | `voice_unavailable` | the worker's voice channel is switched off |
//! | `at_capacity` | the voice channel's assigned tasks reach its configured capacity |
//!
//! # On the effects protocol
//!
//! [`machine`] runs this as a machine (docs/effects.md): it keeps what the container read (the
//! cache above, in the module's instance), asks the executor for the one read, and answers.
//!
//! The worker's name is Flex's `full_name` attribute when set, else the worker's friendly name; it
//! and the SID are given only for a valid extension (a shared one names nobody).

pub mod machine;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "wasm32")]
mod wasm;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The longest extension accepted.
pub const MAX_DIGITS: usize = 10;
/// How long a container trusts what it read, by default.
pub const DEFAULT_CACHE_SECONDS: u32 = 5;
/// The longest cache allowed (a minute-old availability would route callers to absent agents).
pub const MAX_CACHE_SECONDS: u32 = 60;
/// The worker attribute holding the extension.
pub const ATTRIBUTE: &str = "directExtension";

/// What a caller of the function (or its configuration) got wrong.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DirectError {
    #[error("extension is required: the digits the caller entered")]
    MissingExtension,
    #[error("extension {value:?} must be digits only (0-9)")]
    NotDigits { value: String },
    #[error("extension {value:?} has {len} digits; at most {MAX_DIGITS} are allowed")]
    TooLong { value: String, len: usize },
    /// A bad environment variable (`DIRECT_EXTENSION_CACHE_SECONDS`): the shared shape.
    #[error(transparent)]
    Config(#[from] values::env::EnvError),
}

impl wasm_face::FaceError for DirectError {
    fn code(&self) -> &'static str {
        match self {
            DirectError::MissingExtension => "missing_extension",
            DirectError::NotDigits { .. } => "invalid_extension",
            DirectError::TooLong { .. } => "extension_too_long",
            DirectError::Config(e) => e.code(),
        }
    }
    fn status(&self) -> u16 {
        match self {
            DirectError::Config(_) => 500,
            _ => 400,
        }
    }
    fn parameter(&self) -> Option<&str> {
        match self {
            DirectError::Config(e) => Some(e.variable),
            _ => Some("extension"),
        }
    }
}

/// The extension as entered (Studio's Gather digits), checked: surrounding spaces are ignored,
/// anything else but digits is refused. A `#` finishing the entry is Studio's and never reaches
/// the digits, so it is not accepted here either.
pub fn parse_extension(raw: Option<&str>) -> Result<String, DirectError> {
    let value = raw.map(str::trim).unwrap_or("");
    if value.is_empty() {
        return Err(DirectError::MissingExtension);
    }
    if !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(DirectError::NotDigits {
            value: value.chars().take(40).collect(),
        });
    }
    let len = value.chars().count();
    if len > MAX_DIGITS {
        return Err(DirectError::TooLong {
            value: value.chars().take(40).collect(),
            len,
        });
    }
    Ok(value.to_string())
}

/// The cache lifetime from the environment value (absent or empty: the default).
pub fn cache_seconds(raw: Option<&str>) -> Result<u32, DirectError> {
    let value = raw.map(str::trim).unwrap_or("");
    if value.is_empty() {
        return Ok(DEFAULT_CACHE_SECONDS);
    }
    match value.parse::<u32>() {
        Ok(n) if n <= MAX_CACHE_SECONDS => Ok(n),
        _ => Err(DirectError::Config(values::env::EnvError::new(
            "DIRECT_EXTENSION_CACHE_SECONDS",
            &value.chars().take(40).collect::<String>(),
            format!("must be a whole number of seconds from 0 to {MAX_CACHE_SECONDS}"),
        ))),
    }
}

/// The TaskRouter worker expression that finds an extension's owners (the digits are checked, so
/// nothing needs quoting).
pub fn lookup_expression(extension: &str) -> String {
    format!("{ATTRIBUTE} == \"{extension}\"")
}

/// What the function holds in its container when a call comes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanInput {
    pub extension: Option<String>,
    pub cache_seconds: Option<String>,
    /// Age of the cached worker list of this extension, and the SIDs it held.
    pub directory_age_ms: Option<f64>,
    #[serde(default)]
    pub directory_workers: Vec<String>,
    /// Age of the cached voice channel of the extension's worker.
    pub voice_age_ms: Option<f64>,
}

/// The one read a call makes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Read {
    /// `GET Workers?TargetWorkersExpression=…&PageSize=2` (one page).
    #[serde(rename_all = "camelCase")]
    Workers {
        target_workers_expression: String,
        page_size: u32,
    },
    /// `GET Workers/{workerSid}/Channels/voice`.
    #[serde(rename_all = "camelCase")]
    VoiceChannel { worker_sid: String },
    /// Everything needed is cached.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub extension: String,
    pub read: Read,
    /// How long the container may keep what it reads, in milliseconds.
    pub cache_ms: u64,
}

fn fresh(age_ms: Option<f64>, cache_ms: u64) -> bool {
    matches!(age_ms, Some(age) if age.is_finite() && age >= 0.0 && age < cache_ms as f64)
}

/// Which read this call makes (see the crate documentation).
pub fn plan(input: &PlanInput) -> Result<Plan, DirectError> {
    let extension = parse_extension(input.extension.as_deref())?;
    let cache_ms = u64::from(cache_seconds(input.cache_seconds.as_deref())?) * 1000;
    let read = if !fresh(input.directory_age_ms, cache_ms) {
        Read::Workers {
            target_workers_expression: lookup_expression(&extension),
            page_size: 2,
        }
    } else {
        match input.directory_workers.as_slice() {
            [only] if !fresh(input.voice_age_ms, cache_ms) => Read::VoiceChannel {
                worker_sid: only.clone(),
            },
            _ => Read::None,
        }
    };
    Ok(Plan {
        extension,
        read,
        cache_ms,
    })
}

/// A row of TaskRouter's worker list (the `twilio` client's field names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerRow {
    #[serde(default)]
    pub sid: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
    #[serde(default)]
    pub activity_name: Option<String>,
    /// TaskRouter's `available`: the worker's activity is an available one.
    #[serde(default)]
    pub available: bool,
    /// The worker's attributes, JSON text.
    #[serde(default)]
    pub attributes: Option<String>,
}

/// The worker's voice channel (TaskRouter's Worker Channel resource).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoiceChannel {
    #[serde(default)]
    pub worker_sid: String,
    #[serde(default)]
    pub configured_capacity: u32,
    #[serde(default)]
    pub assigned_tasks: u32,
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerInput {
    pub extension: Option<String>,
    #[serde(default)]
    pub workers: Vec<WorkerRow>,
    pub voice: Option<VoiceChannel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    NotFound,
    SharedExtension,
    Offline,
    VoiceUnavailable,
    AtCapacity,
}

/// What Studio reads (`widgets.<name>.parsed.*`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub valid: bool,
    pub extension: String,
    pub worker_sid: Option<String>,
    pub worker_name: Option<String>,
    pub available: bool,
    pub reason: Option<Reason>,
    /// The worker's activity, when the extension is valid.
    pub activity_name: Option<String>,
    /// Whether voice capacity was part of the decision (see the crate documentation).
    pub capacity_checked: bool,
    pub message: String,
}

fn attributes(row: &WorkerRow) -> serde_json::Value {
    row.attributes
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// Whether the row really holds the extension (the attribute as a string, or as a number written
/// with the same digits): the list's expression is trusted for the search, not for the answer.
fn owns(row: &WorkerRow, extension: &str) -> bool {
    match attributes(row).get(ATTRIBUTE) {
        Some(serde_json::Value::String(s)) => s.trim() == extension,
        Some(serde_json::Value::Number(n)) => n.to_string() == extension,
        _ => false,
    }
}

fn display_name(row: &WorkerRow) -> String {
    let attrs = attributes(row);
    match attrs
        .get("full_name")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
    {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => row.friendly_name.clone().unwrap_or_else(|| row.sid.clone()),
    }
}

/// The answer for an extension from the workers that hold it and, when known, the voice channel
/// of the one who does.
pub fn answer(input: &AnswerInput) -> Result<Answer, DirectError> {
    let extension = parse_extension(input.extension.as_deref())?;
    let owners: Vec<&WorkerRow> = input
        .workers
        .iter()
        .filter(|row| owns(row, &extension))
        .collect();
    let nobody = |reason: Reason, message: String| Answer {
        valid: false,
        extension: extension.clone(),
        worker_sid: None,
        worker_name: None,
        available: false,
        reason: Some(reason),
        activity_name: None,
        capacity_checked: false,
        message,
    };
    let row = match owners.as_slice() {
        [] => {
            return Ok(nobody(
                Reason::NotFound,
                format!("No agent has extension {extension}."),
            ))
        }
        [only] => *only,
        _ => {
            return Ok(nobody(
                Reason::SharedExtension,
                format!(
                    "Extension {extension} is set on {} or more agents; give it to one agent only.",
                    owners.len()
                ),
            ))
        }
    };
    let voice = input.voice.as_ref().filter(|v| v.worker_sid == row.sid);
    let name = display_name(row);
    let (available, reason, message) = if !row.available {
        let activity = row
            .activity_name
            .clone()
            .unwrap_or_else(|| "unknown".into());
        (
            false,
            Some(Reason::Offline),
            format!("{name} is not available ({activity})."),
        )
    } else {
        match voice {
            Some(v) if !v.available => (
                false,
                Some(Reason::VoiceUnavailable),
                format!("{name} is not taking voice calls."),
            ),
            Some(v) if v.assigned_tasks >= v.configured_capacity => (
                false,
                Some(Reason::AtCapacity),
                format!(
                    "{name} is on {} of {} voice calls.",
                    v.assigned_tasks, v.configured_capacity
                ),
            ),
            _ => (true, None, format!("{name} can take a call.")),
        }
    };
    Ok(Answer {
        valid: true,
        extension,
        worker_sid: Some(row.sid.clone()),
        worker_name: Some(name),
        available,
        reason,
        activity_name: row.activity_name.clone(),
        capacity_checked: voice.is_some(),
        message,
    })
}
