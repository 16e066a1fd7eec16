//! TaskRouter's events, as the event callback posts them (`EventType`, `WorkerSid`, …) or as its
//! Events API lists them (`event_type`, `event_date`, `event_data.worker_sid`, …; snake or camel
//! case), read into what the history keeps.
//!
//! Fields relied on (TaskRouter's Events reference):
//!
//! | event | fields |
//! |---|---|
//! | every event | `EventType`; `Sid` (the event's `EV…` SID; without one, `at:<ms>` stands in); the event's instant: `EventDateMs`, `TimestampMs`, `EventDate` (RFC 3339) or `Timestamp` (seconds or RFC 3339) |
//! | `worker.activity.update` | `WorkerSid`; `WorkerActivityName` (the new activity); `WorkerPreviousActivitySid` and, when present, `WorkerPreviousActivityName`; `WorkerTimeInPreviousActivityMs` (or `WorkerTimeInPreviousActivity`, whole seconds) |
//! | `reservation.accepted`, `.rejected`, `.timeout`, `.canceled`, `.wrapup`, `.completed` | `WorkerSid`, `ReservationSid`; on `.completed` also `TaskAttributes` (the disposition) |
//!
//! `task.wrapup` and `task.completed` carry no `WorkerSid`, so the reservation's events (which
//! TaskRouter sends beside them) are used instead: `reservation.wrapup` happens "directly before
//! task completion", `reservation.completed` "aligns with task.completed".

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::attribute;

/// What happened to a reservation, in the order the record keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Accepted = 0,
    Rejected = 1,
    TimedOut = 2,
    Canceled = 3,
    Wrapup = 4,
    Completed = 5,
}

pub(crate) const STEPS: usize = 6;

/// The part of an event the history keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The agent left `previous` (after `previous_ms` in it, when TaskRouter said) for `activity`.
    Activity {
        previous: Option<String>,
        activity: String,
        previous_ms: Option<i64>,
    },
    /// A reservation of the agent reached `step`; on completion, the task's disposition code.
    Reservation {
        reservation: String,
        step: Step,
        disposition: Option<String>,
    },
}

/// One event of one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    /// The event's SID, or `at:<ms>` when an event lacks one.
    pub sid: String,
    pub worker: String,
    /// Milliseconds since 1970.
    pub at_ms: i64,
    pub change: Change,
}

/// `WorkerSid` → `worker_sid`.
fn snake(pascal: &str) -> String {
    let mut out = String::with_capacity(pascal.len() + 4);
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `WorkerSid` → `workerSid`.
fn camel(pascal: &str) -> String {
    let mut chars = pascal.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A field by its callback name, in the event or its `event_data`, in any of the three spellings.
fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    let data = v.get("event_data").or_else(|| v.get("eventData"));
    let names = [name.to_string(), snake(name), camel(name)];
    [Some(v), data]
        .into_iter()
        .flatten()
        .find_map(|o| names.iter().find_map(|n| o.get(n.as_str())))
        .filter(|x| !x.is_null())
}

fn text(v: &Value, name: &str) -> Option<String> {
    field(v, name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(64).collect())
}

fn number(v: &Value, name: &str) -> Option<f64> {
    let x = field(v, name)?;
    x.as_f64()
        .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|n: &f64| n.is_finite())
}

/// Milliseconds since 1970 within the range every crate accepts (`values::instant`).
fn millis(ms: f64) -> Option<i64> {
    values::instant::from_millis(ms).map(|t| t.timestamp_millis())
}

fn instant(v: &Value) -> Option<i64> {
    for name in ["EventDateMs", "TimestampMs"] {
        if let Some(ms) = number(v, name) {
            return millis(ms);
        }
    }
    if let Some(t) =
        text(v, "EventDate").and_then(|d| chrono::DateTime::parse_from_rfc3339(&d).ok())
    {
        return millis(t.timestamp_millis() as f64);
    }
    // `Timestamp`: RFC 3339, or seconds since 1970 (a number or its text).
    let x = field(v, "Timestamp")?;
    if let Some(t) = x
        .as_str()
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d.trim()).ok())
    {
        return millis(t.timestamp_millis() as f64);
    }
    let seconds = x
        .as_f64()
        .or_else(|| x.as_str().and_then(|s| s.trim().parse::<f64>().ok()))?;
    millis((seconds * 1000.0).round())
}

/// Reads an event; `None` for events the history does not keep or that lack what it needs.
///
/// `activities` names activity SIDs (`WA…` → friendly name) for a `worker.activity.update` that
/// gives its previous activity by SID only (the documented field); without a name the SID stands.
/// `disposition` is the configured task attribute path.
pub fn read_event(
    v: &Value,
    activities: &BTreeMap<String, String>,
    disposition: &[String],
) -> Option<AgentEvent> {
    let kind = text(v, "EventType")?;
    let worker = text(v, "WorkerSid")?;
    let at_ms = instant(v)?;
    let change = match kind.as_str() {
        "worker.activity.update" => {
            let previous = text(v, "WorkerPreviousActivityName").or_else(|| {
                text(v, "WorkerPreviousActivitySid")
                    .map(|sid| activities.get(&sid).cloned().unwrap_or(sid))
            });
            let activity = text(v, "WorkerActivityName").or_else(|| {
                text(v, "WorkerActivitySid").map(|sid| activities.get(&sid).cloned().unwrap_or(sid))
            })?;
            let previous_ms = number(v, "WorkerTimeInPreviousActivityMs")
                .or_else(|| number(v, "WorkerTimeInPreviousActivity").map(|s| s * 1000.0))
                .filter(|ms| (0.0..=1e13).contains(ms))
                .map(|ms| ms as i64);
            Change::Activity {
                previous,
                activity,
                previous_ms,
            }
        }
        other => {
            let step = match other {
                "reservation.accepted" => Step::Accepted,
                "reservation.rejected" => Step::Rejected,
                "reservation.timeout" => Step::TimedOut,
                "reservation.canceled" => Step::Canceled,
                "reservation.wrapup" => Step::Wrapup,
                "reservation.completed" => Step::Completed,
                _ => return None,
            };
            let disposition = if step == Step::Completed {
                field(v, "TaskAttributes")
                    .and_then(|a| attribute(a, disposition))
                    .map(|d| d.chars().take(64).collect())
            } else {
                None
            };
            Change::Reservation {
                reservation: text(v, "ReservationSid")?,
                step,
                disposition,
            }
        }
    };
    let sid = text(v, "Sid").unwrap_or_else(|| format!("at:{at_ms}"));
    Some(AgentEvent {
        sid,
        worker,
        at_ms,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path() -> Vec<String> {
        vec!["conversations".into(), "outcome".into()]
    }

    #[test]
    fn callback_and_events_api_spellings() {
        let names: BTreeMap<String, String> = [("WAbreak".to_string(), "Break".to_string())].into();
        let callback = json!({
            "EventType": "worker.activity.update", "Sid": "EV1", "WorkerSid": "WK1",
            "WorkerActivityName": "Available", "WorkerPreviousActivitySid": "WAbreak",
            "WorkerTimeInPreviousActivityMs": "90500", "WorkerTimeInPreviousActivity": "90",
            "TimestampMs": "1700000000123"
        });
        let e = read_event(&callback, &names, &path()).unwrap();
        assert_eq!(
            (e.sid.as_str(), e.worker.as_str(), e.at_ms),
            ("EV1", "WK1", 1_700_000_000_123)
        );
        assert_eq!(
            e.change,
            Change::Activity {
                previous: Some("Break".into()),
                activity: "Available".into(),
                previous_ms: Some(90_500)
            }
        );
        let api = json!({
            "sid": "EV2", "event_type": "reservation.completed", "event_date": "2023-11-14T22:13:20Z",
            "event_data": {"worker_sid": "WK1", "reservation_sid": "WR1",
                           "task_attributes": "{\"conversations\":{\"outcome\":\"Sold\"}}"}
        });
        let e = read_event(&api, &names, &path()).unwrap();
        assert_eq!(e.at_ms, 1_700_000_000_000);
        assert_eq!(
            e.change,
            Change::Reservation {
                reservation: "WR1".into(),
                step: Step::Completed,
                disposition: Some("Sold".into())
            }
        );
        // Seconds only, and a Timestamp in seconds.
        let old = json!({"EventType": "worker.activity.update", "WorkerSid": "WK1",
            "WorkerActivityName": "Offline", "WorkerPreviousActivityName": "Available",
            "WorkerTimeInPreviousActivity": "12", "Timestamp": "1700000000"});
        let e = read_event(&old, &names, &path()).unwrap();
        assert_eq!(
            (e.sid.as_str(), e.at_ms),
            ("at:1700000000000", 1_700_000_000_000)
        );
        assert!(matches!(
            e.change,
            Change::Activity {
                previous_ms: Some(12_000),
                ..
            }
        ));
        // Not kept: other events, no worker, no instant.
        for junk in [
            json!({"EventType": "task.completed", "TaskSid": "WT1", "EventDateMs": 1}),
            json!({"EventType": "reservation.accepted", "ReservationSid": "WR1", "EventDateMs": 1}),
            json!({"EventType": "reservation.accepted", "WorkerSid": "WK1", "ReservationSid": "WR1"}),
            json!({"EventType": "reservation.accepted", "WorkerSid": "WK1", "EventDateMs": "NaN", "ReservationSid": "WR1"}),
            json!(7),
        ] {
            assert_eq!(read_event(&junk, &names, &path()), None, "{junk}");
        }
    }
}
