//! Errors: each has a stable `code` for callers and a message that names the bad value.
//!
//! Only configuration and the caller's own inputs (the current instant) can be errors. A bad
//! TaskRouter event or a malformed statistics response is never an error: it becomes a no-op
//! plan with a reason, or a message in the record, because TaskRouter retries failed callbacks.

use thiserror::Error;

/// Why the configuration (the `QUEUE_STATS_*` environment variables) was rejected: the shared
/// shape of a bad environment variable (a 500 `invalid_config` naming it).
pub use values::env::EnvError as ConfigError;

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

impl wasm_face::FaceError for InputError {
    fn code(&self) -> &'static str {
        InputError::code(self)
    }
    fn status(&self) -> u16 {
        500
    }
}
