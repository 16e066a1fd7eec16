//! Voicemail for direct calls (docs/voicemail.md).
//!
//! A *direct call* is a TaskRouter task whose attributes carry
//! `"directCall": {"extension", "workerSid", "workerName"}` (created by Studio's Send to Flex after
//! the `direct-extension` check). This crate decides, and the JavaScript shims only perform:
//!
//! - [`event`]: which TaskRouter events send a direct call to voicemail (`reservation.timeout`,
//!   `reservation.rejected` by the called worker, `workflow.timeout`), and the **once-only rule**:
//!   a claim item per call (`Voicemail.Calls`, key = call SID) created before the call is
//!   redirected, so a duplicate or a later event (the workflow offering the task to the same
//!   worker again) never redirects the call a second time; the task is canceled, so it never goes
//!   back to the worker and leaves them nothing to wrap up.
//! - [`twiml`]: the voicemail leg's TwiML (greeting, `<Record>` with its callbacks) and the
//!   goodbye after it.
//! - [`record`]: the stored voicemail (`Voicemail.<workerSid>`, key = call SID: one voicemail per
//!   call), built by merging the parts Twilio's callbacks carry (recording status, `<Record>`
//!   action, transcription) in any order, any number of times: a duplicate changes nothing.
//! - [`request`]: the voicemail box's requests (`/voicemail`): validation, whose box, the list
//!   answer with its unheard count.
//!
//! - [`machine`]: the functions' machines of the effects protocol (docs/effects.md): the box,
//!   storing a callback, the TwiML leg, the event hook, and a changed box's unheard count (their
//!   last step, for the live agents view); whose box a token may reach (`crates/auth`), what each Twilio answer means, the retries and the answers.
//!
//! Nothing here reads a clock or panics on any input.

mod error;
pub mod event;
pub mod machine;
pub mod record;
pub mod request;
pub mod settings;
pub mod twiml;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::VoicemailError;

/// Every setting this crate reads (aliases included): the functions hand its machines these and
/// nothing else (never a secret); a unit test checks the sources against this list.
pub const SETTINGS: &[&str] = &[
    "DOMAIN_NAME",
    "VOICEMAIL_TRANSCRIBE",
    "VOICEMAIL_MAX_SECONDS",
    "VOICEMAIL_MEDIA_FORMAT",
    "VOICEMAIL_SYNC_SID",
    "SYNC_SERVICE_SID",
    "WORKSPACE_SID",
    "TWILIO_FLEX_WORKSPACE_SID",
    "WALLBOARD_SYNC_SID",
    "TWILIO_FLEX_SYNC_SID",
];

/// The Sync map of claims: one item per call sent to voicemail (key = call SID).
pub const CLAIMS_MAP: &str = "Voicemail.Calls";
/// A claim lives a day: long after any redelivery or re-offer of the task.
pub const CLAIM_TTL_SECONDS: u32 = 86_400;
/// A claim still `redirecting` after this long was left by a request that died: taken over.
pub const CLAIM_LEASE_MS: f64 = 10_000.0;

/// The Sync map holding worker `worker_sid`'s voicemails (key = call SID).
pub fn box_map(worker_sid: &str) -> String {
    format!("Voicemail.{worker_sid}")
}

/// Whether `value` is a SID with `prefix`.
pub(crate) fn is_sid(value: &str, prefix: &str) -> bool {
    values::sid::is_sid(value, prefix)
}

#[cfg(test)]
mod tests;
