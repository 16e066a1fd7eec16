//! The decision for one callback.

use parking::{
    hangup_task_attributes, hold_time, iso_date, worker_map, ParkedCall, SyncDelete, SyncUpsert,
    GLOBAL_MAP,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::CallStatusError;

/// The field of the global entry that marks it claimed by a wrap-up in progress.
pub const CLAIM_FIELD: &str = "wrapUp";
/// How long the worker's entry stays after a hang-up, in seconds (the plugin's notice).
pub const HANGUP_ENTRY_TTL: u32 = 120;
/// The wrap-up task's priority.
pub const WRAP_UP_PRIORITY: u32 = 1000;
/// The wrap-up task's channel.
pub const TASK_CHANNEL: &str = "voice";

const TERMINAL: [&str; 5] = ["completed", "busy", "failed", "no-answer", "canceled"];
const NON_TERMINAL: [&str; 4] = ["queued", "initiated", "ringing", "in-progress"];

/// Whether a call in `status` has ended.
pub fn is_terminal(status: &str) -> bool {
    TERMINAL.contains(&status)
}

/// The callback's parameters, named as Twilio posts them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Callback {
    pub call_sid: Option<String>,
    pub call_status: Option<String>,
    pub sequence_number: Option<String>,
    pub timestamp: Option<String>,
}

/// The call's `Global.ParkedCalls` item as fetched: its data and revision.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredItem {
    pub data: Value,
    pub revision: String,
}

/// What the caller knows about the call's `Global.ParkedCalls` entry.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Not fetched yet: a terminal status asks for it with [`Decision::Lookup`].
    NotYet,
    /// Fetched: there is no entry (the map or the item does not exist).
    Absent,
    /// Fetched: the entry.
    Found(StoredItem),
}

/// Why a callback needs nothing done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreReason {
    NonTerminalStatus,
    NotParked,
    AlreadyClaimed,
    UnreadableRecord,
}

/// A conditional update of a Sync map item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalUpdate {
    pub map: String,
    pub key: String,
    pub data: Value,
    /// `If-Match`; `None` means "the revision the previous step produced".
    pub if_match: Option<String>,
}

/// The wrap-up task to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCreate {
    pub workspace_sid: String,
    pub workflow_sid: String,
    pub task_channel: String,
    pub priority: u32,
    /// JSON text, as TaskRouter takes it.
    pub attributes: String,
}

/// The four steps of a wrap-up (see the crate docs), plus the compensation for step 2.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WrapUp {
    pub call_sid: String,
    pub call_status: String,
    pub hold_time: i64,
    pub claim: ConditionalUpdate,
    pub task: TaskCreate,
    pub worker_entry: SyncUpsert,
    pub remove_global: SyncDelete,
    pub release: ConditionalUpdate,
}

/// What to do for a callback.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Decision {
    /// Fetch this item and decide again with what was found.
    Lookup {
        map: String,
        key: String,
    },
    Ignore {
        reason: IgnoreReason,
        message: String,
    },
    WrapUp(Box<WrapUp>),
}

fn ignore(reason: IgnoreReason, message: String) -> Decision {
    Decision::Ignore { reason, message }
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Decides what a callback means, given what is known of the call's global entry.
pub fn decide(
    callback: &Callback,
    global: &Lookup,
    workspace_sid: Option<&str>,
    now_ms: f64,
) -> Result<Decision, CallStatusError> {
    let call_sid = text(&callback.call_sid).ok_or(CallStatusError::MissingParameter("CallSid"))?;
    let valid_sid = call_sid.len() == 34
        && call_sid.starts_with("CA")
        && call_sid.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    if !valid_sid {
        return Err(CallStatusError::InvalidParameter {
            name: "CallSid",
            problem: format!(
                "{call_sid:?} is not a call SID (CA followed by 32 hexadecimal digits)"
            ),
        });
    }
    let status =
        text(&callback.call_status).ok_or(CallStatusError::MissingParameter("CallStatus"))?;
    if !is_terminal(status) && !NON_TERMINAL.contains(&status) {
        return Err(CallStatusError::InvalidParameter {
            name: "CallStatus",
            problem: format!("{status:?} is not a call status"),
        });
    }
    let sequence = match text(&callback.sequence_number) {
        None => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| CallStatusError::InvalidParameter {
                    name: "SequenceNumber",
                    problem: format!("{s:?} is not a whole number"),
                })?,
        ),
    };
    let now = iso_date(now_ms).ok_or_else(|| CallStatusError::InvalidNow(now_ms.to_string()))?;

    if !is_terminal(status) {
        return Ok(ignore(
            IgnoreReason::NonTerminalStatus,
            format!("{call_sid} is {status}: not a terminal status, nothing to do"),
        ));
    }
    let item = match global {
        Lookup::NotYet => {
            return Ok(Decision::Lookup {
                map: GLOBAL_MAP.into(),
                key: call_sid.into(),
            })
        }
        Lookup::Absent => {
            return Ok(ignore(
                IgnoreReason::NotParked,
                format!("{call_sid} is not parked: nothing to do"),
            ))
        }
        Lookup::Found(item) => item,
    };
    let Value::Object(stored) = &item.data else {
        return Ok(ignore(
            IgnoreReason::UnreadableRecord,
            format!("the parked-call entry of {call_sid} is not an object"),
        ));
    };
    if stored.contains_key(CLAIM_FIELD) {
        return Ok(ignore(
            IgnoreReason::AlreadyClaimed,
            format!("{call_sid} is already being wrapped up by another callback"),
        ));
    }
    let record: ParkedCall = match serde_json::from_value(item.data.clone()) {
        Ok(record) => record,
        Err(e) => {
            return Ok(ignore(
                IgnoreReason::UnreadableRecord,
                format!("the parked-call entry of {call_sid} cannot be read: {e}"),
            ))
        }
    };
    let workspace_sid = workspace_sid
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .ok_or(CallStatusError::MissingConfig("WORKSPACE_SID"))?;

    let hold = hold_time(&record, now_ms);
    let mut claimed = stored.clone();
    let mut marker = Map::new();
    marker.insert("callStatus".into(), Value::String(status.into()));
    marker.insert(
        "sequenceNumber".into(),
        sequence.map(Value::from).unwrap_or(Value::Null),
    );
    marker.insert(
        "timestamp".into(),
        text(&callback.timestamp)
            .map(|t| Value::String(t.into()))
            .unwrap_or(Value::Null),
    );
    marker.insert("claimedAt".into(), Value::String(now.clone()));
    claimed.insert(CLAIM_FIELD.into(), Value::Object(marker));

    let mut hung_up = stored.clone();
    hung_up.insert("callerHangup".into(), Value::Bool(true));
    hung_up.insert("callerHangupTime".into(), Value::String(now));

    let attributes = hangup_task_attributes(&record, hold);
    Ok(Decision::WrapUp(Box::new(WrapUp {
        call_sid: call_sid.to_string(),
        call_status: status.to_string(),
        hold_time: hold,
        claim: ConditionalUpdate {
            map: GLOBAL_MAP.into(),
            key: call_sid.into(),
            data: Value::Object(claimed),
            if_match: Some(item.revision.clone()),
        },
        task: TaskCreate {
            workspace_sid: workspace_sid.into(),
            workflow_sid: record.workflow_sid.clone(),
            task_channel: TASK_CHANNEL.into(),
            priority: WRAP_UP_PRIORITY,
            attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into()),
        },
        worker_entry: SyncUpsert {
            map: worker_map(&record.worker_sid),
            key: call_sid.into(),
            data: Value::Object(hung_up),
            ttl: HANGUP_ENTRY_TTL,
        },
        remove_global: SyncDelete {
            map: GLOBAL_MAP.into(),
            key: call_sid.into(),
        },
        release: ConditionalUpdate {
            map: GLOBAL_MAP.into(),
            key: call_sid.into(),
            data: item.data.clone(),
            if_match: None,
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const CALL: &str = "CA0123456789abcdef0123456789abcdef";
    const WORKER: &str = "WK0123456789abcdef0123456789abcdef";
    const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";
    const WS: &str = "WS0123456789abcdef0123456789abcdef";
    /// 2024-05-01T12:00:00.000Z
    const NOW: f64 = 1_714_564_800_000.0;

    fn cb(status: &str, seq: &str) -> Callback {
        Callback {
            call_sid: Some(CALL.into()),
            call_status: Some(status.into()),
            sequence_number: Some(seq.into()),
            timestamp: Some("Wed, 01 May 2024 12:00:00 +0000".into()),
        }
    }

    fn parked() -> StoredItem {
        StoredItem {
            data: json!({"attributes": {"conversations": {"conversation_id": "WT1"}, "extra": 7}, "callSid": CALL,
                "dateCreated": "2024-05-01T11:55:00.000Z", "name": "Ada", "queueName": "Support",
                "workerSid": WORKER, "workflowSid": WORKFLOW}),
            revision: "3".into(),
        }
    }

    #[test]
    fn every_terminal_status_wraps_up_a_parked_call() {
        for status in TERMINAL {
            let Decision::WrapUp(w) =
                decide(&cb(status, "4"), &Lookup::Found(parked()), Some(WS), NOW).expect("ok")
            else {
                panic!("{status} should wrap up");
            };
            assert_eq!(w.claim.if_match.as_deref(), Some("3"));
            assert_eq!(w.claim.data[CLAIM_FIELD]["callStatus"], json!(status));
            assert_eq!(w.claim.data[CLAIM_FIELD]["sequenceNumber"], json!(4));
            assert_eq!(w.hold_time, 300);
            assert_eq!(
                (w.task.workspace_sid.as_str(), w.task.workflow_sid.as_str()),
                (WS, WORKFLOW)
            );
            assert_eq!(
                (w.task.task_channel.as_str(), w.task.priority),
                ("voice", 1000)
            );
            let attrs: Value = serde_json::from_str(&w.task.attributes).expect("json");
            assert_eq!(attrs["isParkHangup"], json!(true));
            assert_eq!(attrs["extra"], json!(7));
            assert_eq!(
                attrs["conversations"]["outcome"],
                json!("Hangup While Parked")
            );
            assert_eq!(attrs["conversations"]["hold_time"], json!(300));
            assert_eq!(w.worker_entry.map, format!("{WORKER}.ParkedCalls"));
            assert_eq!(w.worker_entry.ttl, 120);
            assert_eq!(w.worker_entry.data["callerHangup"], json!(true));
            assert_eq!(
                w.worker_entry.data["callerHangupTime"],
                json!("2024-05-01T12:00:00.000Z")
            );
            assert_eq!(w.remove_global.map, "Global.ParkedCalls");
            assert_eq!(w.release.data, parked().data);
        }
    }

    #[test]
    fn nothing_to_do_cases() {
        let reason = |d: Decision| match d {
            Decision::Ignore { reason, .. } => Some(reason),
            _ => None,
        };
        assert_eq!(
            decide(&cb("busy", "1"), &Lookup::NotYet, Some(WS), NOW).expect("ok"),
            Decision::Lookup {
                map: GLOBAL_MAP.into(),
                key: CALL.into()
            },
            "a terminal status asks for the entry"
        );
        let d = decide(&cb("ringing", "1"), &Lookup::NotYet, Some(WS), NOW).expect("ok");
        assert_eq!(
            reason(d),
            Some(IgnoreReason::NonTerminalStatus),
            "no lookup for a non-terminal status"
        );
        for status in NON_TERMINAL {
            let d = decide(&cb(status, "9"), &Lookup::Found(parked()), Some(WS), NOW).expect("ok");
            assert_eq!(reason(d), Some(IgnoreReason::NonTerminalStatus), "{status}");
        }
        assert_eq!(
            reason(decide(&cb("completed", "1"), &Lookup::Absent, Some(WS), NOW).expect("ok")),
            Some(IgnoreReason::NotParked)
        );
        let Decision::WrapUp(w) = decide(
            &cb("completed", "1"),
            &Lookup::Found(parked()),
            Some(WS),
            NOW,
        )
        .expect("ok") else {
            panic!("wrap up")
        };
        let claimed = StoredItem {
            data: w.claim.data.clone(),
            revision: "4".into(),
        };
        for status in TERMINAL {
            let d = decide(
                &cb(status, "2"),
                &Lookup::Found(claimed.clone()),
                Some(WS),
                NOW,
            )
            .expect("ok");
            assert_eq!(
                reason(d),
                Some(IgnoreReason::AlreadyClaimed),
                "a claimed entry is never claimed twice"
            );
        }
        let junk = StoredItem {
            data: json!({"callSid": 5}),
            revision: "1".into(),
        };
        assert_eq!(
            reason(decide(&cb("completed", "1"), &Lookup::Found(junk), Some(WS), NOW).expect("ok")),
            Some(IgnoreReason::UnreadableRecord)
        );
    }

    #[test]
    fn bad_input_is_named() {
        let e = decide(&Callback::default(), &Lookup::NotYet, Some(WS), NOW).unwrap_err();
        assert_eq!((e.parameter(), e.http_status()), (Some("CallSid"), 400));
        let e = decide(
            &Callback {
                call_status: None,
                ..cb("x", "1")
            },
            &Lookup::NotYet,
            Some(WS),
            NOW,
        )
        .unwrap_err();
        assert_eq!(e.parameter(), Some("CallStatus"));
        let e = decide(&cb("hung-up", "1"), &Lookup::NotYet, Some(WS), NOW).unwrap_err();
        assert!(e.to_string().contains("\"hung-up\""));
        let e = decide(&cb("completed", "x"), &Lookup::NotYet, Some(WS), NOW).unwrap_err();
        assert_eq!(e.parameter(), Some("SequenceNumber"));
        let e = decide(&cb("completed", "1"), &Lookup::Found(parked()), None, NOW).unwrap_err();
        assert_eq!(
            (e.parameter(), e.http_status()),
            (Some("WORKSPACE_SID"), 500)
        );
        assert_eq!(
            decide(&cb("completed", "1"), &Lookup::NotYet, Some(WS), f64::NAN)
                .unwrap_err()
                .code(),
            "invalid_now"
        );
    }

    proptest! {
        #[test]
        fn no_input_panics(sid in any::<String>(), status in any::<String>(), seq in any::<String>(), data in any::<String>(), now in any::<f64>()) {
            let callback = Callback { call_sid: Some(sid), call_status: Some(status), sequence_number: Some(seq), timestamp: None };
            let item = StoredItem { data: Value::String(data), revision: "1".into() };
            let _ = decide(&callback, &Lookup::Found(item), Some(WS), now);
            let _ = decide(&cb("completed", "1"), &Lookup::Found(parked()), Some(WS), now);
        }
    }
}
