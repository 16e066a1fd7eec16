//! Errors: each has a stable `code`, the HTTP status the functions answer with, and a message that
//! names the offending input.

use thiserror::Error;

/// Why a park, pickup or capacity request cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParkingError {
    /// A required request parameter is absent or empty.
    #[error("missing required parameter: {name} ({what})")]
    MissingParameter {
        name: &'static str,
        what: &'static str,
    },
    /// A request parameter is present but unusable.
    #[error("invalid parameter {name}: {problem}")]
    InvalidParameter { name: &'static str, problem: String },
    /// The service is misconfigured (an environment variable), not the request.
    #[error("invalid configuration {name}: {problem}")]
    InvalidConfig { name: &'static str, problem: String },
    /// The parked-call record would not fit in a Sync item.
    #[error(
        "the parked call record is {size} bytes but a Sync item holds at most {limit} bytes \
         (the task attributes are too large to park)"
    )]
    RecordTooLarge { size: usize, limit: usize },
    /// Twilio accepts at most 4000 characters of TwiML in a call update.
    #[error(
        "the {purpose} TwiML is {length} characters but Twilio accepts at most {limit} \
         (the task attributes are too large)"
    )]
    TwimlTooLong {
        purpose: &'static str,
        length: usize,
        limit: usize,
    },
    /// The call has no `Global.ParkedCalls` entry.
    #[error("call {0} is not parked (it has no Global.ParkedCalls entry); nothing was changed")]
    NotParked(String),
    /// The entry exists but is not a parked-call record.
    #[error("the parked-call entry of {0} is not a parked-call record; nothing was changed")]
    UnreadableRecord(String),
    /// A wrap-up owns the entry: the caller hung up while parked.
    #[error(
        "the caller of {0} hung up while parked (its wrap-up is under way); nothing was changed"
    )]
    CallEnded(String),
    /// Another pickup of the same call is under way.
    #[error("call {0} is being picked up by another request right now; nothing was changed")]
    PickupInProgress(String),
}

impl ParkingError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ParkingError::MissingParameter { .. } => "missing_parameter",
            ParkingError::InvalidParameter { .. } => "invalid_parameter",
            ParkingError::InvalidConfig { .. } => "invalid_config",
            ParkingError::RecordTooLarge { .. } => "record_too_large",
            ParkingError::TwimlTooLong { .. } => "twiml_too_long",
            ParkingError::NotParked(_) => "not_parked",
            ParkingError::UnreadableRecord(_) => "unreadable_record",
            ParkingError::CallEnded(_) => "call_ended",
            ParkingError::PickupInProgress(_) => "pickup_in_progress",
        }
    }

    /// The HTTP status a function answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ParkingError::MissingParameter { .. } | ParkingError::InvalidParameter { .. } => 400,
            ParkingError::InvalidConfig { .. } => 500,
            ParkingError::RecordTooLarge { .. } | ParkingError::TwimlTooLong { .. } => 413,
            ParkingError::NotParked(_) => 404,
            ParkingError::UnreadableRecord(_)
            | ParkingError::CallEnded(_)
            | ParkingError::PickupInProgress(_) => 409,
        }
    }

    /// The offending parameter or variable, when there is one.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            ParkingError::MissingParameter { name, .. }
            | ParkingError::InvalidParameter { name, .. }
            | ParkingError::InvalidConfig { name, .. } => Some(name),
            ParkingError::NotParked(_) => Some("callSid"),
            _ => None,
        }
    }
}

impl wasm_face::FaceError for ParkingError {
    fn code(&self) -> &'static str {
        ParkingError::code(self)
    }
    fn status(&self) -> u16 {
        self.http_status()
    }
    fn parameter(&self) -> Option<&str> {
        ParkingError::parameter(self)
    }
}
