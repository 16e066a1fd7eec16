//! A TaskRouter event as the live agents view reads it (the event callback's form fields).

use serde_json::Value;

/// The event type the voicemail functions send with a worker's unheard count.
pub const VOICEMAIL_EVENT: &str = "voicemail.unheard";

/// What an event says about one agent.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `worker.activity.update`, `worker.created`: the activity and since when.
    Activity(String),
    /// `worker.attributes.update`: name, team and queues may have changed.
    Attributes,
    /// `worker.deleted`.
    Deleted,
    /// `reservation.<step>` for a task.
    Reservation(ReservationStep),
    /// `voicemail.unheard` (not TaskRouter's: the voicemail functions send it after a voicemail is
    /// stored, marked heard or deleted): the worker's unheard voicemails, counted then.
    Voicemail(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStep {
    Created,
    Accepted,
    Rejected,
    TimedOut,
    /// canceled, rescinded, failed: the offer went away, counted nowhere.
    Withdrawn,
    Wrapup,
    Completed,
}

/// The fields of an event the view uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_type: String,
    /// The event's `EV…` SID (duplicates are recognised by it), else the instant stands in.
    pub id: String,
    pub at_ms: f64,
    pub worker_sid: String,
    pub worker_name: Option<String>,
    pub worker_attributes: Option<Value>,
    pub step: Step,
    pub task_sid: Option<String>,
    pub channel: Option<String>,
}

fn text<'a>(event: &'a Value, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| event.get(*n).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn number(event: &Value, name: &str) -> Option<f64> {
    match event.get(name)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite() && *v > 0.0)
}

/// The event's instant in ms: `EventDateMs`, `TimestampMs`, `EventDate`, or `Timestamp` (s).
pub fn instant(event: &Value) -> Option<f64> {
    number(event, "EventDateMs")
        .or_else(|| number(event, "TimestampMs"))
        .or_else(|| {
            text(event, &["EventDate"])
                .and_then(values::instant::parse)
                .map(|t| t.timestamp_millis() as f64)
        })
        .or_else(|| number(event, "Timestamp").map(|s| s * 1000.0))
        .filter(|ms| values::instant::from_millis(*ms).is_some())
}

/// Reads an event; `Err(reason)` when the view has nothing to do with it.
pub fn read(event: &Value) -> Result<Event, String> {
    let event_type = text(event, &["EventType"]).unwrap_or("").to_string();
    if event_type.is_empty() {
        return Err("no EventType".into());
    }
    let step = match event_type.as_str() {
        "worker.activity.update" | "worker.created" => Step::Activity(
            text(event, &["WorkerActivityName"])
                .unwrap_or("")
                .to_string(),
        ),
        "worker.attributes.update" => Step::Attributes,
        "worker.deleted" => Step::Deleted,
        "reservation.created" => Step::Reservation(ReservationStep::Created),
        "reservation.accepted" => Step::Reservation(ReservationStep::Accepted),
        "reservation.rejected" => Step::Reservation(ReservationStep::Rejected),
        "reservation.timeout" => Step::Reservation(ReservationStep::TimedOut),
        "reservation.canceled" | "reservation.rescinded" | "reservation.failed" => {
            Step::Reservation(ReservationStep::Withdrawn)
        }
        "reservation.wrapup" => Step::Reservation(ReservationStep::Wrapup),
        "reservation.completed" => Step::Reservation(ReservationStep::Completed),
        VOICEMAIL_EVENT => match event.get("VoicemailUnheard") {
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => Step::Voicemail(n),
                None => return Err(format!("{VOICEMAIL_EVENT} with a bad VoicemailUnheard")),
            },
            _ => {
                return Err(format!(
                    "{VOICEMAIL_EVENT} without VoicemailUnheard (a number)"
                ))
            }
        },
        other => return Err(format!("{other} does not change an agent's live state")),
    };
    let worker_sid = text(event, &["WorkerSid"]).unwrap_or("");
    if !values::sid::is_sid(worker_sid, "WK") {
        return Err(format!("{event_type} without a WorkerSid"));
    }
    if matches!(step, Step::Activity(ref a) if a.is_empty()) {
        return Err(format!("{event_type} without a WorkerActivityName"));
    }
    let task_sid = text(event, &["TaskSid"])
        .filter(|s| values::sid::is_sid(s, "WT"))
        .map(str::to_string);
    if matches!(step, Step::Reservation(_)) && task_sid.is_none() {
        return Err(format!("{event_type} without a TaskSid"));
    }
    let Some(at_ms) = instant(event) else {
        return Err(format!(
            "{event_type} without an instant (EventDateMs, EventDate or Timestamp)"
        ));
    };
    let id = match step {
        // The count is part of the id: the same count at the same instant is a duplicate.
        Step::Voicemail(n) => format!("vm{at_ms}:{n}"),
        _ => text(event, &["Sid"])
            .map(str::to_string)
            .unwrap_or_else(|| format!("{event_type}@{at_ms}")),
    };
    let worker_attributes = text(event, &["WorkerAttributes"])
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .filter(Value::is_object);
    Ok(Event {
        event_type,
        id,
        at_ms,
        worker_sid: worker_sid.to_string(),
        worker_name: text(event, &["WorkerName"]).map(|s| s.chars().take(64).collect()),
        worker_attributes,
        step,
        task_sid,
        channel: text(event, &["TaskChannelUniqueName"]).map(|s| s.chars().take(32).collect()),
    })
}

/// The value at a dotted path of a JSON object, as text (strings, numbers, booleans).
pub fn attribute(value: &Value, path: &[String]) -> Option<String> {
    let found = path.iter().try_fold(value, |v, key| v.get(key.as_str()))?;
    match found {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().chars().take(64).collect()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
