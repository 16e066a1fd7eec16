//! Errors: a stable `code`, the HTTP status a function answers with, and the parameter or
//! environment variable at fault.

use thiserror::Error;
use wasm_face::FaceError;

/// Why a request or the configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HistoryError {
    /// An environment variable (`QUEUE_STATS_*`, `QUEUE_HISTORY_*`) has a value that cannot work.
    /// The shared shape of a bad environment variable (`values::env::EnvError`).
    #[error(transparent)]
    Config(#[from] values::env::EnvError),
    /// A request parameter (`from`, `to`, `range`, `by`, `channel`, `queue`) is wrong.
    #[error("{parameter}={value:?} {problem}")]
    Parameter {
        parameter: &'static str,
        value: String,
        problem: String,
    },
    /// The caller's own input (the current instant, a stored item) is unusable.
    #[error("{0}")]
    Input(String),
}

impl HistoryError {
    pub(crate) fn parameter(
        parameter: &'static str,
        value: &str,
        problem: impl Into<String>,
    ) -> Self {
        HistoryError::Parameter {
            parameter,
            value: value.to_string(),
            problem: problem.into(),
        }
    }
}

impl FaceError for HistoryError {
    fn code(&self) -> &'static str {
        match self {
            HistoryError::Config(_) => "invalid_config",
            HistoryError::Parameter { .. } => "invalid_parameter",
            HistoryError::Input(_) => "invalid_input",
        }
    }

    fn status(&self) -> u16 {
        match self {
            HistoryError::Config(_) => 500,
            HistoryError::Parameter { .. } | HistoryError::Input(_) => 400,
        }
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            HistoryError::Config(e) => Some(e.variable),
            HistoryError::Parameter { parameter, .. } => Some(parameter),
            HistoryError::Input(_) => None,
        }
    }
}
