//! Errors: a stable `code`, the HTTP status a function answers with, and the parameter or
//! environment variable at fault (the queue history's shape, through the shared `wasm-face`).

use thiserror::Error;
use wasm_face::FaceError;

/// Why a request or the configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AgentHistoryError {
    /// An environment variable (`AGENT_HISTORY_*`, `QUEUE_STATS_TIME_ZONE`) cannot work.
    /// The shared shape of a bad environment variable (`values::env::EnvError`).
    #[error(transparent)]
    Config(#[from] values::env::EnvError),
    /// A request parameter (`agent`, `from`, `to`, `range`, `by`) is wrong.
    #[error("{parameter}={value:?} {problem}")]
    Parameter {
        parameter: &'static str,
        value: String,
        problem: String,
    },
    /// The caller's own input (the current instant) is unusable.
    #[error("{0}")]
    Input(String),
    /// A parameter asks for what this credential may not see (agents' names with the wallboard key).
    #[error("{parameter}={value:?} {problem}")]
    Forbidden {
        parameter: &'static str,
        value: String,
        problem: String,
    },
}

impl AgentHistoryError {
    pub(crate) fn config(variable: &'static str, value: &str, problem: impl Into<String>) -> Self {
        AgentHistoryError::Config(values::env::EnvError::new(variable, value, problem))
    }

    pub(crate) fn parameter(
        parameter: &'static str,
        value: &str,
        problem: impl Into<String>,
    ) -> Self {
        AgentHistoryError::Parameter {
            parameter,
            value: value.to_string(),
            problem: problem.into(),
        }
    }
}

/// The queue history's time parsing reports its own error type; its shape is the same.
impl From<history::HistoryError> for AgentHistoryError {
    fn from(e: history::HistoryError) -> Self {
        match e {
            history::HistoryError::Config(e) => AgentHistoryError::Config(e),
            history::HistoryError::Parameter {
                parameter,
                value,
                problem,
            } => AgentHistoryError::Parameter {
                parameter,
                value,
                problem,
            },
            history::HistoryError::Input(m) => AgentHistoryError::Input(m),
        }
    }
}

impl FaceError for AgentHistoryError {
    fn code(&self) -> &'static str {
        match self {
            AgentHistoryError::Config(_) => "invalid_config",
            AgentHistoryError::Parameter { .. } => "invalid_parameter",
            AgentHistoryError::Input(_) => "invalid_input",
            AgentHistoryError::Forbidden { .. } => "names_not_allowed",
        }
    }

    fn status(&self) -> u16 {
        match self {
            AgentHistoryError::Config(_) => 500,
            AgentHistoryError::Parameter { .. } | AgentHistoryError::Input(_) => 400,
            AgentHistoryError::Forbidden { .. } => 403,
        }
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            AgentHistoryError::Config(e) => Some(e.variable),
            AgentHistoryError::Parameter { parameter, .. }
            | AgentHistoryError::Forbidden { parameter, .. } => Some(parameter),
            AgentHistoryError::Input(_) => None,
        }
    }
}
