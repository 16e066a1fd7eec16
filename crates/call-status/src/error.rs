//! Errors: a stable `code`, the HTTP status to answer, and a message naming the input.

use thiserror::Error;

/// Why a callback cannot be handled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallStatusError {
    #[error("missing required parameter: {0}")]
    MissingParameter(&'static str),
    #[error("invalid parameter {name}: {problem}")]
    InvalidParameter { name: &'static str, problem: String },
    /// A setting the callback needs is unset or unusable (the shared shape, naming the variable).
    #[error(transparent)]
    Config(#[from] values::env::EnvError),
    /// The shim did not pass the request's unique token (a defect of the shim, not the caller).
    #[error("the request token is empty: the function must pass a unique token")]
    MissingToken,
    #[error("the current time {0} is not an instant in milliseconds since 1970")]
    InvalidNow(String),
}

impl CallStatusError {
    pub fn code(&self) -> &'static str {
        match self {
            CallStatusError::MissingParameter(_) => "missing_parameter",
            CallStatusError::InvalidParameter { .. } => "invalid_parameter",
            CallStatusError::Config(e) => e.code(),
            CallStatusError::MissingToken => "missing_token",
            CallStatusError::InvalidNow(_) => "invalid_now",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            CallStatusError::MissingParameter(_) | CallStatusError::InvalidParameter { .. } => 400,
            CallStatusError::Config(_)
            | CallStatusError::MissingToken
            | CallStatusError::InvalidNow(_) => 500,
        }
    }

    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            CallStatusError::MissingParameter(name)
            | CallStatusError::InvalidParameter { name, .. } => Some(name),
            CallStatusError::Config(e) => Some(e.variable),
            CallStatusError::MissingToken | CallStatusError::InvalidNow(_) => None,
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
