//! Errors: each has a stable `code` for callers and a message that names the bad value.

use thiserror::Error;

/// Why a configuration was rejected. The message names the rule or schedule and the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("config is not valid JSON for a schedule configuration: {0}")]
    Json(String),
    #[error("rule {rule}: {field} {value:?} {problem}")]
    Rule {
        rule: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error("schedule {schedule:?}: {field} {value:?} {problem}")]
    Schedule {
        schedule: String,
        field: &'static str,
        value: String,
        problem: String,
    },
    /// A rule that is not even shaped like one (a missing `isOpen`, a number for a string...).
    #[error("rule {rule}: not valid JSON for a rule: {problem}")]
    RuleShape { rule: String, problem: String },
    /// A schedule that is not shaped like one.
    #[error("schedule {schedule}: not valid JSON for a schedule: {problem}")]
    ScheduleShape { schedule: String, problem: String },
    /// A rule or schedule past one of the limits on what a configuration may cost
    /// (see `config::Limits`).
    #[error("{subject}: {problem}")]
    OverLimit { subject: String, problem: String },
    /// A schedule whose rule list names an invalid rule: it cannot be evaluated.
    #[error("schedule {schedule:?} uses an invalid rule: {cause}")]
    UsesBrokenRule { schedule: String, cause: String },
}

impl ConfigError {
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Json(_) => "config_json",
            ConfigError::Rule { .. } => "invalid_rule",
            ConfigError::Schedule { .. } | ConfigError::ScheduleShape { .. } => "invalid_schedule",
            ConfigError::RuleShape { .. } => "invalid_rule",
            ConfigError::UsesBrokenRule { .. } => "uses_invalid_rule",
            ConfigError::OverLimit { .. } => "over_limit",
        }
    }
}

/// Why a check could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    #[error("missing required parameter: name (the name of the schedule to check)")]
    MissingName,
    #[error("Schedule {0} not found")]
    ScheduleNotFound(String),
    #[error(
        "simulate {0:?} is not a date-time: expected ISO 8601 such as 2024-12-24T16:30 \
         (wall time in the schedule's zone) or 2024-12-24T16:30:00Z / 2024-12-24T16:30-05:00 (an instant)"
    )]
    InvalidSimulate(String),
    #[error("the current time is not a valid instant in milliseconds since 1970")]
    InvalidNow,
    /// The deployed configuration is broken where this schedule depends on it: fail open.
    #[error("Schedule {name} cannot be evaluated, so it fails open: {cause}")]
    Broken { name: String, cause: String },
    #[error("preview days {0} is out of range: expected a whole number from 1 to 62")]
    InvalidDays(String),
}

impl CheckError {
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::MissingName => "missing_name",
            CheckError::ScheduleNotFound(_) => "schedule_not_found",
            CheckError::InvalidSimulate(_) => "invalid_simulate",
            CheckError::InvalidNow => "invalid_now",
            CheckError::Broken { .. } => "broken_config",
            CheckError::InvalidDays(_) => "invalid_days",
        }
    }

    /// The HTTP status check-schedule answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            CheckError::MissingName
            | CheckError::InvalidSimulate(_)
            | CheckError::InvalidDays(_) => 400,
            CheckError::ScheduleNotFound(_) => 404,
            CheckError::InvalidNow | CheckError::Broken { .. } => 500,
        }
    }
}

impl wasm_face::FaceError for ConfigError {
    fn code(&self) -> &'static str {
        ConfigError::code(self)
    }
    /// The shipped configuration is the service's fault, not the caller's.
    fn status(&self) -> u16 {
        500
    }
}

impl wasm_face::FaceError for CheckError {
    fn code(&self) -> &'static str {
        CheckError::code(self)
    }
    fn status(&self) -> u16 {
        self.http_status()
    }
    fn parameter(&self) -> Option<&str> {
        match self {
            CheckError::MissingName
            | CheckError::ScheduleNotFound(_)
            | CheckError::Broken { .. } => Some("name"),
            CheckError::InvalidSimulate(_) => Some("simulate"),
            CheckError::InvalidDays(_) => Some("days"),
            CheckError::InvalidNow => None,
        }
    }
}

/// One problem of a configuration, as the admin API reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
}

impl From<&ConfigError> for Problem {
    fn from(e: &ConfigError) -> Problem {
        Problem {
            code: e.code(),
            message: e.to_string(),
        }
    }
}
