//! The stored voicemail, and how Twilio's callbacks build it.
//!
//! A voicemail is the Sync item `Voicemail.<workerSid>` / `<CallSid>`: one per call, since the
//! key is the call. Three callbacks carry parts of it, in any order, each possibly duplicated or
//! redelivered: the recording status callback (`RecordingStatus=completed`), the `<Record>`
//! action (`RecordingSid`, `RecordingDuration`, `From`, `To`), and the transcription callback
//! (`TranscriptionStatus`, `TranscriptionText`). [`merge`] folds a part into what is stored:
//! the first part creates the item, a later one fills what is missing, and a part that adds
//! nothing (a duplicate, a redelivery whose first write was applied) writes nothing.

use serde::{Deserialize, Serialize};

use crate::event::REASONS;
use crate::{is_sid, VoicemailError};

/// The longest transcription kept (characters): the item stays far below Sync's 16 KiB.
pub const MAX_TRANSCRIPTION_CHARS: usize = 4000;

/// A stored voicemail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    pub call_sid: String,
    pub worker_sid: String,
    pub recording_sid: String,
    /// The caller (`From` of the call), when known.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// When the first part arrived (RFC 3339 UTC).
    pub date_created: String,
    /// Seconds, when known.
    #[serde(default)]
    pub duration: Option<u32>,
    /// `unavailable`, `no_answer`, `rejected`, `not_assigned`.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub transcription: Option<String>,
    /// `completed` or `failed`, once the transcription callback came; `null` before (or when
    /// transcription is off).
    #[serde(default)]
    pub transcription_status: Option<String>,
    #[serde(default)]
    pub heard: bool,
    #[serde(default)]
    pub heard_at: Option<String>,
}

/// A callback's fields (form and query merged, as the runtime gives them).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackFields {
    #[serde(default, rename = "workerSid")]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, rename = "CallSid")]
    pub call_sid: Option<String>,
    #[serde(default, rename = "RecordingSid")]
    pub recording_sid: Option<String>,
    #[serde(default, rename = "RecordingStatus")]
    pub recording_status: Option<String>,
    #[serde(default, rename = "RecordingDuration")]
    pub recording_duration: Option<String>,
    #[serde(default, rename = "From")]
    pub from: Option<String>,
    #[serde(default, rename = "To")]
    pub to: Option<String>,
    #[serde(default, rename = "TranscriptionStatus")]
    pub transcription_status: Option<String>,
    #[serde(default, rename = "TranscriptionText")]
    pub transcription_text: Option<String>,
}

/// What one callback says about the voicemail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    pub call_sid: String,
    pub worker_sid: String,
    pub recording_sid: String,
    pub reason: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub duration: Option<u32>,
    /// `Some((status, text))` for a transcription callback.
    pub transcription: Option<(String, Option<String>)>,
    /// The recording has no audio (`RecordingStatus` `absent` or `failed`): nothing to keep.
    pub no_audio: bool,
}

fn field(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn sid(v: &Option<String>, name: &'static str, prefix: &str) -> Result<String, VoicemailError> {
    let s = field(v).ok_or(VoicemailError::MissingParameter(name))?;
    if !is_sid(s, prefix) {
        return Err(VoicemailError::invalid(
            name,
            format!("{s:?} is not a {prefix}… SID"),
        ));
    }
    Ok(s.to_string())
}

fn short(v: &Option<String>, max: usize) -> Option<String> {
    field(v).map(|s| s.chars().take(max).collect())
}

/// Reads a callback: 400 naming a missing or malformed field.
pub fn parse_callback(f: &CallbackFields) -> Result<Part, VoicemailError> {
    let worker_sid = sid(&f.worker_sid, "workerSid", "WK")?;
    let call_sid = sid(&f.call_sid, "CallSid", "CA")?;
    let recording_sid = sid(&f.recording_sid, "RecordingSid", "RE")?;
    let reason = match field(&f.reason) {
        None => None,
        Some(r) if REASONS.contains(&r) => Some(r.to_string()),
        Some(r) => {
            return Err(VoicemailError::invalid(
                "reason",
                format!("{r:?}; expected one of {}", REASONS.join(", ")),
            ))
        }
    };
    let duration = match field(&f.recording_duration) {
        None => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if n >= 0 => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            // Twilio sends -1 while a duration is unknown.
            Ok(_) => None,
            Err(_) => {
                return Err(VoicemailError::invalid(
                    "RecordingDuration",
                    format!("{d:?} is not a number of seconds"),
                ))
            }
        },
    };
    let transcription = match field(&f.transcription_status) {
        None => None,
        Some(s @ ("completed" | "failed")) => Some((
            s.to_string(),
            f.transcription_text
                .as_deref()
                .map(|t| t.trim().chars().take(MAX_TRANSCRIPTION_CHARS).collect()),
        )),
        Some(s) => {
            return Err(VoicemailError::invalid(
                "TranscriptionStatus",
                format!("{s:?}; expected completed or failed"),
            ))
        }
    };
    let no_audio = match field(&f.recording_status) {
        None | Some("completed") => false,
        Some("absent" | "failed") => true,
        Some(s) => {
            return Err(VoicemailError::invalid(
                "RecordingStatus",
                format!("{s:?}; only completed, absent and failed are expected (recordingStatusCallbackEvent=completed)"),
            ))
        }
    };
    Ok(Part {
        call_sid,
        worker_sid,
        recording_sid,
        reason,
        from: short(&f.from, 64),
        to: short(&f.to, 64),
        duration,
        transcription,
        no_audio,
    })
}

/// What to write.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Write {
    /// Create the item (409: another request created it first: read again and merge).
    Create { voicemail: Voicemail },
    /// Update the item `If-Match` the revision read (412: read again and merge).
    Update { voicemail: Voicemail },
    /// Nothing new.
    Nothing { reason: String },
}

fn nothing(reason: impl Into<String>) -> Write {
    Write::Nothing {
        reason: reason.into(),
    }
}

fn fill<T: Clone + PartialEq>(slot: &mut Option<T>, value: &Option<T>) -> bool {
    if slot.is_none() && value.is_some() {
        slot.clone_from(value);
        return true;
    }
    false
}

/// Folds `part` into the stored voicemail (`existing`), at `now_iso`.
pub fn merge(existing: Option<&Voicemail>, part: &Part, now_iso: &str) -> Write {
    if part.no_audio {
        return nothing("the recording has no audio");
    }
    let Some(stored) = existing else {
        let mut v = Voicemail {
            call_sid: part.call_sid.clone(),
            worker_sid: part.worker_sid.clone(),
            recording_sid: part.recording_sid.clone(),
            from: part.from.clone(),
            to: part.to.clone(),
            date_created: now_iso.to_string(),
            duration: part.duration,
            reason: part.reason.clone(),
            transcription: None,
            transcription_status: None,
            heard: false,
            heard_at: None,
        };
        if let Some((status, text)) = &part.transcription {
            v.transcription_status = Some(status.clone());
            v.transcription.clone_from(text);
        }
        return Write::Create { voicemail: v };
    };
    if stored.recording_sid != part.recording_sid {
        return nothing(format!(
            "call {} already has voicemail {}; recording {} is not kept (one voicemail per call)",
            part.call_sid, stored.recording_sid, part.recording_sid
        ));
    }
    let mut v = stored.clone();
    let mut changed = fill(&mut v.from, &part.from);
    changed |= fill(&mut v.to, &part.to);
    changed |= fill(&mut v.duration, &part.duration);
    changed |= fill(&mut v.reason, &part.reason);
    if let Some((status, text)) = &part.transcription {
        if v.transcription_status.is_none() {
            v.transcription_status = Some(status.clone());
            v.transcription.clone_from(text);
            changed = true;
        }
    }
    if changed {
        Write::Update { voicemail: v }
    } else {
        nothing("already stored (a duplicate callback)")
    }
}

/// Marks `v` heard (or not) at `now_iso`; `None` when it already is.
pub fn mark_heard(v: &Voicemail, heard: bool, now_iso: &str) -> Option<Voicemail> {
    if v.heard == heard {
        return None;
    }
    let mut out = v.clone();
    out.heard = heard;
    out.heard_at = heard.then(|| now_iso.to_string());
    Some(out)
}
