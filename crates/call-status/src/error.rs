//! Errors: a stable `code`, the HTTP status to answer, and a message naming the input.

use thiserror::Error;

/// Why a callback cannot be handled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallStatusError {
    #[error("missing required parameter: {0}")]
    MissingParameter(&'static str),
    #[error("invalid parameter {name}: {problem}")]
    InvalidParameter { name: &'static str, problem: String },
    #[error("missing configuration: {0} is not set")]
    MissingConfig(&'static str),
    #[error("the current time {0} is not an instant in milliseconds since 1970")]
    InvalidNow(String),
}

impl CallStatusError {
    pub fn code(&self) -> &'static str {
        match self {
            CallStatusError::MissingParameter(_) => "missing_parameter",
            CallStatusError::InvalidParameter { .. } => "invalid_parameter",
            CallStatusError::MissingConfig(_) => "missing_config",
            CallStatusError::InvalidNow(_) => "invalid_now",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            CallStatusError::MissingParameter(_) | CallStatusError::InvalidParameter { .. } => 400,
            CallStatusError::MissingConfig(_) | CallStatusError::InvalidNow(_) => 500,
        }
    }

    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            CallStatusError::MissingParameter(name)
            | CallStatusError::InvalidParameter { name, .. }
            | CallStatusError::MissingConfig(name) => Some(name),
            CallStatusError::InvalidNow(_) => None,
        }
    }
}

impl wasm_face::FaceError for CallStatusError {
    fn code(&self) -> &'static str {
        CallStatusError::code(self)
    }
    fn status(&self) -> u16 {
        self.http_status()
    }
    fn parameter(&self) -> Option<&str> {
        CallStatusError::parameter(self)
    }
}
