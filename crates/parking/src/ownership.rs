//! Whose call it is: park-call parks a call only for the worker who holds it.
//!
//! The token rule (`crates/auth`, `actFor`) says whom a request may act for: an agent for their
//! own worker, a supervisor or admin for any. That alone let an agent park **another agent's
//! caller** under their own worker SID (and then pick the caller up). So, before anything is
//! changed, park-call reads what TaskRouter and Sync say and [`check`] decides:
//!
//! 1. **The task is the worker's.** The task named (`taskSid`) exists in the workspace, its
//!    `assignment_status` is `assigned` or `wrapping`, and it has a reservation for the worker
//!    (`workerSid`) whose status is `accepted` or `wrapping`. The shim reads the task
//!    (`GET …/Tasks/{WT}`) and the task's reservations for that worker
//!    (`GET …/Tasks/{WT}/Reservations?WorkerSid={WK}`): two TaskRouter requests.
//! 2. **The task carries the call.** The task's stored attributes (not the request's) name the
//!    call: `call_sid` (carried by inbound voice tasks, which `<Enqueue>` creates from the
//!    caller's call, and by the pickup task; the published plugin reads it from them) or
//!    `conference.participants.customer` (set by Flex on every voice task once its conference
//!    starts, outbound calls included; the multi-call plugin takes the `callSid` it posts from
//!    that conference's customer participant).
//! 3. **Nobody else has parked it.** A `Global.ParkedCalls` entry for the call that names another
//!    worker is refused, naming both workers. The worker's own entry may be parked again (an
//!    update).
//!
//! A supervisor acting for a worker is bound by the same checks against **that** worker: the
//! token chooses whom to act for, never whose call it is.
//!
//! Every refusal happens before the call update, so nothing is written.

use serde::Deserialize;
use serde_json::Value;

use crate::pickup::StoredItem;
use crate::{record, ParkRequest, ParkingError};

/// Task statuses in which a worker holds the task.
pub const HELD_TASK_STATUSES: [&str; 2] = ["assigned", "wrapping"];
/// Reservation statuses in which the reserved worker holds the task.
pub const HELD_RESERVATION_STATUSES: [&str; 2] = ["accepted", "wrapping"];

/// The task as TaskRouter answered it (the fields the rule reads, as the `twilio` client names
/// them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    #[serde(default)]
    pub sid: String,
    #[serde(default)]
    pub assignment_status: String,
    /// The task's attributes, a JSON string.
    #[serde(default)]
    pub attributes: String,
}

/// One reservation of the task.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationView {
    #[serde(default)]
    pub worker_sid: String,
    #[serde(default)]
    pub reservation_status: String,
}

/// What the shim read: the task (`None`: TaskRouter answered 404), its reservations for the
/// worker, and the call's `Global.ParkedCalls` entry (`None`: there is none).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkFacts {
    #[serde(default)]
    pub task: Option<TaskView>,
    #[serde(default)]
    pub reservations: Vec<ReservationView>,
    #[serde(default)]
    pub entry: Option<StoredItem>,
}

/// The reads park-call makes before deciding (all three may run at once).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkReads {
    pub task_sid: String,
    pub worker_sid: String,
    /// The Sync entry to read: `Global.ParkedCalls` / call SID.
    pub map: String,
    pub key: String,
}

/// Names what to read for `req` (the parameters are checked as park checks them).
pub fn reads(req: &ParkRequest) -> Result<ParkReads, ParkingError> {
    let call_sid = record::sid(&req.call_sid, "callSid", "CA", "call SID")?;
    let task_sid = record::sid(&req.task_sid, "taskSid", "WT", "task SID")?;
    let worker_sid = record::sid(&req.worker_sid, "workerSid", "WK", "worker SID")?;
    Ok(ParkReads {
        task_sid: task_sid.into(),
        worker_sid: worker_sid.into(),
        map: crate::GLOBAL_MAP.into(),
        key: call_sid.into(),
    })
}

/// Decides whether `req`'s worker may park `req`'s call, from what the shim read. `Ok(())`
/// means go ahead; every error is a refusal with nothing changed.
pub fn check(req: &ParkRequest, facts: &ParkFacts) -> Result<(), ParkingError> {
    let call_sid = record::sid(&req.call_sid, "callSid", "CA", "call SID")?;
    let task_sid = record::sid(&req.task_sid, "taskSid", "WT", "task SID")?;
    let worker_sid = record::sid(&req.worker_sid, "workerSid", "WK", "worker SID")?;

    let task = facts
        .task
        .as_ref()
        .filter(|t| t.sid.is_empty() || t.sid == task_sid)
        .ok_or_else(|| ParkingError::TaskNotFound(task_sid.to_string()))?;
    let reservation = facts
        .reservations
        .iter()
        .filter(|r| r.worker_sid == worker_sid)
        .find(|r| HELD_RESERVATION_STATUSES.contains(&r.reservation_status.as_str()))
        .or_else(|| {
            facts
                .reservations
                .iter()
                .find(|r| r.worker_sid == worker_sid)
        });
    let task_held = HELD_TASK_STATUSES.contains(&task.assignment_status.as_str());
    let reservation_held = reservation
        .is_some_and(|r| HELD_RESERVATION_STATUSES.contains(&r.reservation_status.as_str()));
    if !task_held || !reservation_held {
        return Err(ParkingError::NotWorkersTask {
            task_sid: task_sid.to_string(),
            worker_sid: worker_sid.to_string(),
            task_status: printable(&task.assignment_status),
            reservation: reservation.map(|r| printable(&r.reservation_status)),
        });
    }

    let calls = calls_of(&task.attributes);
    if !calls.iter().any(|c| c == call_sid) {
        return Err(ParkingError::CallNotOnTask {
            task_sid: task_sid.to_string(),
            call_sid: call_sid.to_string(),
            task_calls: calls,
        });
    }

    if let Some(parked_by) = facts.entry.as_ref().and_then(parked_by) {
        if parked_by != worker_sid {
            return Err(ParkingError::ParkedByOther {
                call_sid: call_sid.to_string(),
                parked_by,
                worker_sid: worker_sid.to_string(),
            });
        }
    }
    Ok(())
}

/// The call SIDs a task's attributes carry: `call_sid` and `conference.participants.customer`.
pub fn calls_of(attributes: &str) -> Vec<String> {
    let Ok(Value::Object(attrs)) = serde_json::from_str::<Value>(attributes) else {
        return Vec::new();
    };
    let customer = attrs
        .get("conference")
        .and_then(|c| c.get("participants"))
        .and_then(|p| p.get("customer"));
    let mut out: Vec<String> = [attrs.get("call_sid"), customer]
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|s| values::sid::is_sid(s, "CA"))
        .map(str::to_string)
        .collect();
    out.dedup();
    out
}

/// The worker an existing `Global.ParkedCalls` entry names, or `"(unknown)"` for an entry that
/// is not a parked-call record (it is someone else's as far as this request can tell).
fn parked_by(entry: &StoredItem) -> Option<String> {
    let worker = entry.data.get("workerSid").and_then(Value::as_str);
    match worker {
        Some(w) if values::sid::is_sid(w, "WK") => Some(w.to_string()),
        _ => Some("(unknown)".to_string()),
    }
}

/// A status from TaskRouter for a message: short, and only plain characters.
fn printable(s: &str) -> String {
    let clean: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect();
    if clean.is_empty() {
        "(none)".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CALL: &str = "CA0123456789abcdef0123456789abcdef";
    const OTHER_CALL: &str = "CAffffffffffffffffffffffffffffffff";
    const ALICE: &str = "WKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const BOB: &str = "WKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const TASK: &str = "WT0123456789abcdef0123456789abcdef";

    fn req(worker: &str) -> ParkRequest {
        ParkRequest {
            attributes: Some("{}".into()),
            call_sid: Some(CALL.into()),
            name: Some("Ada".into()),
            queue_name: Some("Support".into()),
            task_sid: Some(TASK.into()),
            worker_sid: Some(worker.into()),
            workflow_sid: Some("WW0123456789abcdef0123456789abcdef".into()),
        }
    }

    fn task(status: &str, attributes: Value) -> Option<TaskView> {
        Some(TaskView {
            sid: TASK.into(),
            assignment_status: status.into(),
            attributes: attributes.to_string(),
        })
    }

    fn reservation(worker: &str, status: &str) -> ReservationView {
        ReservationView {
            worker_sid: worker.into(),
            reservation_status: status.into(),
        }
    }

    /// Alice's assigned task carrying the call, no entry yet.
    fn alices() -> ParkFacts {
        ParkFacts {
            task: task("assigned", json!({"call_sid": CALL})),
            reservations: vec![reservation(ALICE, "accepted")],
            entry: None,
        }
    }

    fn entry_of(worker: &str) -> Option<StoredItem> {
        Some(StoredItem {
            data: json!({"callSid": CALL, "workerSid": worker, "attributes": {}}),
            revision: "0".into(),
        })
    }

    #[test]
    fn the_worker_parks_a_call_of_a_task_they_hold() {
        assert_eq!(check(&req(ALICE), &alices()), Ok(()));
        let wrapping = ParkFacts {
            task: task("wrapping", json!({"call_sid": CALL})),
            reservations: vec![reservation(BOB, "rejected"), reservation(ALICE, "wrapping")],
            ..alices()
        };
        assert_eq!(check(&req(ALICE), &wrapping), Ok(()));
        // Parking their own parked call again is an update.
        let again = ParkFacts {
            entry: entry_of(ALICE),
            ..alices()
        };
        assert_eq!(check(&req(ALICE), &again), Ok(()));
    }

    #[test]
    fn the_call_may_be_named_by_the_conference_customer() {
        let outbound = ParkFacts {
            task: task(
                "assigned",
                json!({"direction": "outbound", "conference": {"sid": "CF1", "participants": {"customer": CALL, "worker": OTHER_CALL}}}),
            ),
            ..alices()
        };
        assert_eq!(check(&req(ALICE), &outbound), Ok(()));
        // The worker's own leg is not the customer's call.
        let mut r = req(ALICE);
        r.call_sid = Some(OTHER_CALL.into());
        let err = check(&r, &outbound).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("call_not_on_task", 403));
    }

    #[test]
    fn the_takeover_is_refused_naming_both_workers() {
        // Bob names Alice's task: it is not his.
        let bobs_try = ParkFacts {
            reservations: vec![],
            ..alices()
        };
        let err = check(&req(BOB), &bobs_try).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("not_workers_task", 403));
        assert_eq!(err.parameter(), Some("taskSid"));
        assert!(
            err.to_string().contains(BOB) && err.to_string().contains(TASK),
            "{err}"
        );
        // Bob names a task of his that still carries the call (his old task, wrapping), but Alice
        // has parked the call: refused, naming both.
        let parked = ParkFacts {
            task: task("wrapping", json!({"call_sid": CALL})),
            reservations: vec![reservation(BOB, "wrapping")],
            entry: entry_of(ALICE),
        };
        let err = check(&req(BOB), &parked).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("parked_by_other", 403));
        let msg = err.to_string();
        assert!(
            msg.contains(ALICE) && msg.contains(BOB) && msg.contains(CALL),
            "{msg}"
        );
        // An entry that is not a record counts as someone else's.
        let junk = ParkFacts {
            entry: Some(StoredItem {
                data: json!("junk"),
                revision: "3".into(),
            }),
            ..alices()
        };
        assert_eq!(
            check(&req(ALICE), &junk).unwrap_err().code(),
            "parked_by_other"
        );
    }

    #[test]
    fn a_task_not_held_is_refused() {
        for (status, res) in [
            ("pending", None),
            ("reserved", Some("pending")),
            ("completed", Some("completed")),
            ("canceled", Some("accepted")),
            ("assigned", Some("rejected")),
            ("assigned", Some("rescinded")),
            ("assigned", None),
        ] {
            let facts = ParkFacts {
                task: task(status, json!({"call_sid": CALL})),
                reservations: res.map(|r| reservation(ALICE, r)).into_iter().collect(),
                entry: None,
            };
            let err = check(&req(ALICE), &facts).unwrap_err();
            assert_eq!(err.code(), "not_workers_task", "{status} {res:?}");
            assert!(err.to_string().contains(&format!("task status {status}")));
        }
        // A reservation of another worker does not make the task Alice's.
        let others = ParkFacts {
            reservations: vec![reservation(BOB, "accepted")],
            ..alices()
        };
        assert_eq!(
            check(&req(ALICE), &others).unwrap_err().code(),
            "not_workers_task"
        );
    }

    #[test]
    fn a_missing_task_or_one_without_the_call_is_refused() {
        let missing = ParkFacts {
            task: None,
            ..alices()
        };
        let err = check(&req(ALICE), &missing).unwrap_err();
        assert_eq!((err.code(), err.http_status()), ("task_not_found", 404));
        for attributes in [
            json!({"call_sid": OTHER_CALL}),
            json!({}),
            json!({"call_sid": 5, "conference": "x"}),
            json!({"conference": {"participants": {"worker": CALL}}}),
        ] {
            let facts = ParkFacts {
                task: task("assigned", attributes.clone()),
                ..alices()
            };
            let err = check(&req(ALICE), &facts).unwrap_err();
            assert_eq!(err.code(), "call_not_on_task", "{attributes}");
            assert_eq!(err.parameter(), Some("callSid"));
        }
        let garbage = ParkFacts {
            task: Some(TaskView {
                sid: TASK.into(),
                assignment_status: "assigned\u{0}<x>".into(),
                attributes: "{not json".into(),
            }),
            ..alices()
        };
        let err = check(&req(ALICE), &garbage).unwrap_err();
        assert!(!err.to_string().contains('<'), "statuses are printed plain");
    }

    #[test]
    fn reads_name_the_task_the_worker_and_the_entry() {
        let r = reads(&req(ALICE)).expect("reads");
        assert_eq!(
            (
                r.task_sid.as_str(),
                r.worker_sid.as_str(),
                r.map.as_str(),
                r.key.as_str()
            ),
            (TASK, ALICE, "Global.ParkedCalls", CALL)
        );
        let mut bad = req(ALICE);
        bad.task_sid = Some("WT1".into());
        assert_eq!(reads(&bad).unwrap_err().parameter(), Some("taskSid"));
    }

    #[test]
    fn facts_read_from_the_twilio_client_shape() {
        let facts: ParkFacts = serde_json::from_value(json!({
            "task": {"sid": TASK, "assignmentStatus": "assigned", "attributes": format!("{{\"call_sid\":\"{CALL}\"}}"), "extra": 1},
            "reservations": [{"workerSid": ALICE, "reservationStatus": "accepted", "sid": "WR1"}],
            "entry": null
        }))
        .expect("facts");
        assert_eq!(check(&req(ALICE), &facts), Ok(()));
    }
}
