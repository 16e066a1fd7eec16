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
    /// The shared shape of a bad environment variable (`values::env::EnvError`).
    #[error("invalid configuration {0}")]
    InvalidConfig(#[from] values::env::EnvError),
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
    /// The task named to park does not exist in the workspace.
    #[error("task {0} does not exist in the workspace; nothing was changed")]
    TaskNotFound(String),
    /// The task is not held by the worker (assigned or wrapping, with their reservation).
    #[error(
        "task {task_sid} is not held by worker {worker_sid} (task status {task_status}, the \
         worker's reservation {}): a worker parks only a call of a task assigned to them or \
         in wrap-up; nothing was changed",
        reservation.as_deref().unwrap_or("none")
    )]
    NotWorkersTask {
        task_sid: String,
        worker_sid: String,
        task_status: String,
        reservation: Option<String>,
    },
    /// The task's attributes do not name the call.
    #[error(
        "call {call_sid} is not the call of task {task_sid} (the task's call_sid and \
         conference.participants.customer name {}); nothing was changed",
        if task_calls.is_empty() { "no call".to_string() } else { task_calls.join(", ") }
    )]
    CallNotOnTask {
        task_sid: String,
        call_sid: String,
        task_calls: Vec<String>,
    },
    /// Another worker has parked the call.
    #[error(
        "call {call_sid} is parked by worker {parked_by}; worker {worker_sid} may not park it; \
         nothing was changed"
    )]
    ParkedByOther {
        call_sid: String,
        parked_by: String,
        worker_sid: String,
    },
}

impl ParkingError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ParkingError::MissingParameter { .. } => "missing_parameter",
            ParkingError::InvalidParameter { .. } => "invalid_parameter",
            ParkingError::InvalidConfig(e) => e.code(),
            ParkingError::RecordTooLarge { .. } => "record_too_large",
            ParkingError::TwimlTooLong { .. } => "twiml_too_long",
            ParkingError::NotParked(_) => "not_parked",
            ParkingError::UnreadableRecord(_) => "unreadable_record",
            ParkingError::CallEnded(_) => "call_ended",
            ParkingError::PickupInProgress(_) => "pickup_in_progress",
            ParkingError::TaskNotFound(_) => "task_not_found",
            ParkingError::NotWorkersTask { .. } => "not_workers_task",
            ParkingError::CallNotOnTask { .. } => "call_not_on_task",
            ParkingError::ParkedByOther { .. } => "parked_by_other",
        }
    }

    /// The HTTP status a function answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ParkingError::MissingParameter { .. } | ParkingError::InvalidParameter { .. } => 400,
            ParkingError::InvalidConfig(_) => 500,
            ParkingError::RecordTooLarge { .. } | ParkingError::TwimlTooLong { .. } => 413,
            ParkingError::NotParked(_) | ParkingError::TaskNotFound(_) => 404,
            ParkingError::NotWorkersTask { .. }
            | ParkingError::CallNotOnTask { .. }
            | ParkingError::ParkedByOther { .. } => 403,
            ParkingError::UnreadableRecord(_)
            | ParkingError::CallEnded(_)
            | ParkingError::PickupInProgress(_) => 409,
        }
    }

    /// The offending parameter or variable, when there is one.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            ParkingError::MissingParameter { name, .. }
            | ParkingError::InvalidParameter { name, .. } => Some(name),
            ParkingError::InvalidConfig(e) => Some(e.variable),
            ParkingError::NotParked(_)
            | ParkingError::CallNotOnTask { .. }
            | ParkingError::ParkedByOther { .. } => Some("callSid"),
            ParkingError::TaskNotFound(_) | ParkingError::NotWorkersTask { .. } => Some("taskSid"),
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
