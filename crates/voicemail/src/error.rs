//! Errors: a stable `code`, the HTTP status to answer, and the parameter or variable at fault.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VoicemailError {
    #[error("missing required parameter: {0}")]
    MissingParameter(&'static str),
    #[error("invalid parameter {name}: {problem}")]
    InvalidParameter { name: &'static str, problem: String },
    /// A bad environment variable: the shared shape (`values::env::EnvError`).
    #[error("Server misconfigured: {0} (see .env.example)")]
    BadConfig(#[from] values::env::EnvError),
    #[error("no voicemail {call_sid} in the box of {worker_sid}")]
    NotFound {
        worker_sid: String,
        call_sid: String,
    },
}

impl VoicemailError {
    pub fn code(&self) -> &'static str {
        match self {
            VoicemailError::MissingParameter(_) => "missing_parameter",
            VoicemailError::InvalidParameter { .. } => "invalid_parameter",
            VoicemailError::BadConfig(e) => e.code(),
            VoicemailError::NotFound { .. } => "not_found",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            VoicemailError::MissingParameter(_) | VoicemailError::InvalidParameter { .. } => 400,
            VoicemailError::BadConfig(_) => 500,
            VoicemailError::NotFound { .. } => 404,
        }
    }

    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            VoicemailError::MissingParameter(name)
            | VoicemailError::InvalidParameter { name, .. } => Some(name),
            VoicemailError::BadConfig(e) => Some(e.variable),
            VoicemailError::NotFound { .. } => Some("callSid"),
        }
    }

    pub(crate) fn invalid(name: &'static str, problem: impl Into<String>) -> Self {
        VoicemailError::InvalidParameter {
            name,
            problem: problem.into(),
        }
    }
}

impl wasm_face::FaceError for VoicemailError {
    fn code(&self) -> &'static str {
        VoicemailError::code(self)
    }
    fn status(&self) -> u16 {
        self.http_status()
    }
    fn parameter(&self) -> Option<&str> {
        VoicemailError::parameter(self)
    }
}
