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
        }
    }

    /// The HTTP status a function answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ParkingError::MissingParameter { .. } | ParkingError::InvalidParameter { .. } => 400,
            ParkingError::InvalidConfig { .. } => 500,
            ParkingError::RecordTooLarge { .. } | ParkingError::TwimlTooLong { .. } => 413,
        }
    }

    /// The offending parameter or variable, when there is one.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            ParkingError::MissingParameter { name, .. }
            | ParkingError::InvalidParameter { name, .. }
            | ParkingError::InvalidConfig { name, .. } => Some(name),
            _ => None,
        }
    }
}
