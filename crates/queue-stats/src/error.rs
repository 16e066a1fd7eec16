//! Errors: each has a stable `code` for callers and a message that names the bad value.
//!
//! Only configuration and the caller's own inputs (the current instant) can be errors. A bad
//! TaskRouter event or a malformed statistics response is never an error: it becomes a no-op
//! plan with a reason, or a message in the record, because TaskRouter retries failed callbacks.

use thiserror::Error;

/// Why the configuration (the `QUEUE_STATS_*` environment variables) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{variable}={value:?} {problem}")]
pub struct ConfigError {
    /// The environment variable, e.g. `QUEUE_STATS_TIME_ZONE`.
    pub variable: &'static str,
    /// The value as given.
    pub value: String,
    /// What is wrong with it and what is expected instead.
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, value: &str, problem: impl Into<String>) -> Self {
        ConfigError {
            variable,
            value: value.to_string(),
            problem: problem.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        "invalid_config"
    }
}

/// Why a computation that needs the current instant could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    #[error("the current time {0} is not a valid instant in milliseconds since 1970")]
    InvalidNow(String),
}

impl InputError {
    pub fn code(&self) -> &'static str {
        match self {
            InputError::InvalidNow(_) => "invalid_now",
        }
    }
}

impl wasm_face::FaceError for ConfigError {
    fn code(&self) -> &'static str {
        ConfigError::code(self)
    }
    /// A bad `QUEUE_STATS_*` value is the service's fault, not the caller's.
    fn status(&self) -> u16 {
        500
    }
    fn parameter(&self) -> Option<&str> {
        Some(self.variable)
    }
}

impl wasm_face::FaceError for InputError {
    fn code(&self) -> &'static str {
        InputError::code(self)
    }
    fn status(&self) -> u16 {
        500
    }
}
