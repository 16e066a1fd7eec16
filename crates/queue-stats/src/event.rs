//! What a TaskRouter event means for the queue records: the refresh plan.
//!
//! TaskRouter POSTs every workspace event, form-encoded, to the workspace's `EventCallbackUrl`
//! (`EventType`, `ResourceType`, `ResourceSid`, `Timestamp`, and per resource `TaskQueueSid`,
//! `TaskChannelUniqueName`, `WorkerSid`...). Most events change no queue figure; the rest change
//! one queue's figures on one channel, or workers' activities across the queues they serve.

use serde::Serialize;
use serde_json::Value;

use crate::config::{is_channel_name, Config, ALL};

/// What the shim must do for one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Plan {
    /// Fetch `TaskQueues/{queueSid}/Statistics` once per channel in `channels` (`all` without
    /// a `TaskChannel` filter) and rebuild the queue's record.
    #[serde(rename_all = "camelCase")]
    Refresh {
        queue_sid: String,
        /// The queue's name when the event carries it; the shim fetches the queue only when it
        /// has neither this nor a previous record.
        friendly_name: Option<String>,
        channels: Vec<String>,
        reason: String,
    },
    /// A queue was created: write its first record (every configured channel) and list it.
    #[serde(rename_all = "camelCase")]
    Create {
        queue_sid: String,
        friendly_name: Option<String>,
        channels: Vec<String>,
        reason: String,
    },
    /// A queue was deleted: remove its record and unlist it.
    #[serde(rename_all = "camelCase")]
    Delete { queue_sid: String, reason: String },
    /// Workers changed: refresh the agent figures (`realTimeStats_all`) of the queues the worker
    /// serves (`GET TaskQueues?WorkerSid=`), or of every queue when `workerSid` is `None`
    /// (the worker's queue membership itself may have changed), through the bulk real-time
    /// statistics endpoint, at most [`crate::BULK_LIMIT`] queues per request.
    #[serde(rename_all = "camelCase")]
    RefreshWorkers {
        worker_sid: Option<String>,
        reason: String,
    },
    /// Nothing to do.
    None { reason: String },
}

impl Plan {
    pub fn reason(&self) -> &str {
        match self {
            Plan::Refresh { reason, .. }
            | Plan::Create { reason, .. }
            | Plan::Delete { reason, .. }
            | Plan::RefreshWorkers { reason, .. }
            | Plan::None { reason } => reason,
        }
    }

    fn none(reason: impl Into<String>) -> Plan {
        Plan::None {
            reason: reason.into(),
        }
    }
}

/// A SID with the given two-letter prefix and 32 hex digits.
pub fn is_sid(value: &str, prefix: &str) -> bool {
    values::sid::is_sid(value, prefix)
}

/// The text of a form field: strings as given (trimmed), numbers and booleans as text, anything
/// else (objects, arrays, null, absent) as `None`.
fn field<'a>(event: &'a Value, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    match event.get(name)? {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then_some(std::borrow::Cow::Borrowed(t))
        }
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(std::borrow::Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// How an event type bears on queue figures.
enum Kind {
    /// Task or reservation state: the task's queue on the task's channel.
    QueueFigures,
    /// The queue's worker set changed (its target expression): every channel of that queue.
    QueueMembership,
    QueueCreated,
    QueueDeleted,
    /// A worker's activity or availability: the worker's queues.
    WorkerActivity,
    /// A worker was created, deleted or re-attributed: queue membership may have changed
    /// anywhere.
    WorkerMembership,
    Ignored(&'static str),
}

fn kind(event_type: &str) -> Option<Kind> {
    use Kind::*;
    let kind = match event_type {
        "task-queue.created" => QueueCreated,
        "task-queue.deleted" => QueueDeleted,
        "task-queue.expression.updated" => QueueMembership,
        "task-queue.entered" | "task-queue.timeout" | "task-queue.moved" => QueueFigures,
        t if t.starts_with("task.") || t.starts_with("reservation.") => QueueFigures,
        "worker.activity.update"
        | "worker.channel.availability.update"
        | "worker.capacity.update" => WorkerActivity,
        "worker.created" | "worker.deleted" | "worker.attributes.update" => WorkerMembership,
        t if t.starts_with("worker.") => Ignored("this worker event changes no queue figure"),
        t if t.starts_with("workflow.") => Ignored(
            "workflow events change no queue figure (the task-queue.entered that follows does)",
        ),
        t if t.starts_with("activity.") => {
            Ignored("activity definitions change no figure until a worker changes activity")
        }
        t if t.starts_with("workspace.") || t.starts_with("task-channel.") => {
            Ignored("workspace and channel definitions change no queue figure")
        }
        _ => return None,
    };
    Some(kind)
}

/// The plan for one event. Never fails: a malformed or irrelevant event is [`Plan::None`] with
/// the reason, so the function answers 2xx and TaskRouter does not retry it.
pub fn plan(config: &Config, event: &Value) -> Plan {
    if !event.is_object() {
        return Plan::none("the event is not a set of form fields");
    }
    let Some(event_type) = field(event, "EventType") else {
        return Plan::none("no EventType: not a TaskRouter event callback");
    };
    let Some(kind) = kind(&event_type) else {
        return Plan::none(format!("unknown EventType {event_type:?}"));
    };
    let queue_sid = field(event, "TaskQueueSid");
    let queue = || -> Result<String, Plan> {
        match queue_sid.as_deref() {
            Some(sid) if is_sid(sid, "WQ") => Ok(sid.to_string()),
            Some(sid) => Err(Plan::none(format!(
                "{event_type}: TaskQueueSid {sid:?} is not a TaskQueue SID (WQ + 32 hex digits)"
            ))),
            None => Err(Plan::none(format!(
                "{event_type} without TaskQueueSid: the task is in no queue yet"
            ))),
        }
    };
    let friendly_name = field(event, "TaskQueueFriendlyName")
        .or_else(|| field(event, "TaskQueueName"))
        .map(|n| n.into_owned());
    match kind {
        Kind::Ignored(why) => Plan::none(format!("{event_type}: {why}")),
        Kind::QueueCreated | Kind::QueueMembership => match queue() {
            Ok(queue_sid) => {
                let channels = config.all_channels();
                if matches!(kind, Kind::QueueCreated) {
                    Plan::Create {
                        queue_sid,
                        friendly_name,
                        channels,
                        reason: format!("{event_type}: a new queue gets its record"),
                    }
                } else {
                    Plan::Refresh {
                        queue_sid,
                        friendly_name,
                        channels,
                        reason: format!(
                            "{event_type}: the queue's eligible workers changed on every channel"
                        ),
                    }
                }
            }
            Err(none) => none,
        },
        Kind::QueueDeleted => match queue() {
            Ok(queue_sid) => Plan::Delete {
                queue_sid,
                reason: format!("{event_type}: the queue's record is removed"),
            },
            Err(none) => none,
        },
        Kind::QueueFigures => match queue() {
            Ok(queue_sid) => {
                let mut channels = vec![ALL.to_string()];
                let mut note = String::new();
                match field(event, "TaskChannelUniqueName") {
                    Some(ch) => {
                        let ch = ch.to_ascii_lowercase();
                        if ch != ALL && is_channel_name(&ch) && config.tracks(&ch) {
                            channels.push(ch);
                        } else {
                            note = format!(" (channel {ch:?} is not in QUEUE_STATS_CHANNELS)");
                        }
                    }
                    None => note = " (no TaskChannelUniqueName)".to_string(),
                }
                Plan::Refresh {
                    queue_sid,
                    friendly_name,
                    reason: format!("{event_type}: refresh {}{note}", channels.join(" and ")),
                    channels,
                }
            }
            Err(none) => none,
        },
        Kind::WorkerActivity => match field(event, "WorkerSid") {
            Some(sid) if is_sid(&sid, "WK") => Plan::RefreshWorkers {
                reason: format!("{event_type}: agent figures of {sid}'s queues"),
                worker_sid: Some(sid.into_owned()),
            },
            Some(sid) => Plan::none(format!(
                "{event_type}: WorkerSid {sid:?} is not a Worker SID (WK + 32 hex digits)"
            )),
            None => Plan::none(format!("{event_type} without WorkerSid")),
        },
        Kind::WorkerMembership => Plan::RefreshWorkers {
            worker_sid: None,
            reason: format!(
                "{event_type}: queue membership may have changed, agent figures of every queue"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const WQ: &str = "WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const WK: &str = "WKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn plan_of(event: Value) -> Plan {
        plan(&Config::default(), &event)
    }

    #[test]
    fn task_and_reservation_events_refresh_their_queue_on_all_and_their_channel() {
        for t in [
            "task.created",
            "task-queue.entered",
            "reservation.created",
            "reservation.accepted",
            "task.wrapup",
            "task.completed",
            "task.canceled",
            "task-queue.timeout",
            "task.updated",
        ] {
            let p = plan_of(
                json!({"EventType": t, "TaskQueueSid": WQ, "TaskChannelUniqueName": "voice", "TaskQueueName": "Sales"}),
            );
            match p {
                Plan::Refresh {
                    queue_sid,
                    channels,
                    friendly_name,
                    ..
                } => {
                    assert_eq!(queue_sid, WQ);
                    assert_eq!(channels, ["all", "voice"], "{t}");
                    assert_eq!(friendly_name.as_deref(), Some("Sales"));
                }
                other => panic!("{t}: {other:?}"),
            }
        }
    }

    #[test]
    fn untracked_or_missing_channel_refreshes_all_only() {
        for ev in [
            json!({"EventType": "task.created", "TaskQueueSid": WQ, "TaskChannelUniqueName": "sms"}),
            json!({"EventType": "task.created", "TaskQueueSid": WQ}),
            json!({"EventType": "task.created", "TaskQueueSid": WQ, "TaskChannelUniqueName": "all"}),
            json!({"EventType": "task.created", "TaskQueueSid": WQ, "TaskChannelUniqueName": "vo ice"}),
        ] {
            let Plan::Refresh {
                channels, reason, ..
            } = plan_of(ev.clone())
            else {
                panic!("{ev}")
            };
            assert_eq!(channels, ["all"], "{ev}");
            assert!(reason.contains("refresh all"), "{reason}");
        }
    }

    #[test]
    fn queue_created_and_deleted() {
        let p = plan_of(
            json!({"EventType": "task-queue.created", "TaskQueueSid": WQ, "TaskQueueFriendlyName": "Support"}),
        );
        assert_eq!(
            p,
            Plan::Create {
                queue_sid: WQ.into(),
                friendly_name: Some("Support".into()),
                channels: vec!["all".into(), "voice".into(), "chat".into(), "video".into()],
                reason: "task-queue.created: a new queue gets its record".into(),
            }
        );
        let p = plan_of(json!({"EventType": "task-queue.deleted", "TaskQueueSid": WQ}));
        assert!(matches!(p, Plan::Delete { ref queue_sid, .. } if queue_sid == WQ));
        let p = plan_of(json!({"EventType": "task-queue.expression.updated", "TaskQueueSid": WQ}));
        assert!(matches!(p, Plan::Refresh { ref channels, .. } if channels.len() == 4));
    }

    #[test]
    fn worker_events() {
        let p = plan_of(
            json!({"EventType": "worker.activity.update", "WorkerSid": WK, "WorkerActivityName": "Available"}),
        );
        assert_eq!(
            p,
            Plan::RefreshWorkers {
                worker_sid: Some(WK.into()),
                reason: format!("worker.activity.update: agent figures of {WK}'s queues")
            }
        );
        let p = plan_of(json!({"EventType": "worker.attributes.update", "WorkerSid": WK}));
        assert!(matches!(
            p,
            Plan::RefreshWorkers {
                worker_sid: None,
                ..
            }
        ));
        let p = plan_of(json!({"EventType": "worker.activity.update"}));
        assert!(matches!(p, Plan::None { .. }));
        let p = plan_of(json!({"EventType": "worker.activity.update", "WorkerSid": "WK123"}));
        assert!(matches!(p, Plan::None { ref reason } if reason.contains("WK123")));
    }

    #[test]
    fn most_events_do_nothing_and_say_why() {
        for (ev, needle) in [
            (json!({}), "no EventType"),
            (json!({"EventType": ""}), "no EventType"),
            (
                json!({"EventType": "bogus.thing"}),
                "unknown EventType \"bogus.thing\"",
            ),
            (
                json!({"EventType": "workflow.target-matched", "TaskQueueSid": WQ}),
                "workflow",
            ),
            (json!({"EventType": "activity.created"}), "activity"),
            (json!({"EventType": "worker.created.nope"}), "worker event"),
            (json!({"EventType": "task.created"}), "no queue yet"),
            (
                json!({"EventType": "task.created", "TaskQueueSid": "WQ12"}),
                "\"WQ12\"",
            ),
            (
                json!({"EventType": "task.created", "TaskQueueSid": {"x": 1}}),
                "no queue yet",
            ),
            (json!({"EventType": ["task.created"]}), "no EventType"),
            (json!("task.created"), "not a set of form fields"),
            (json!(null), "not a set of form fields"),
        ] {
            match plan_of(ev.clone()) {
                Plan::None { reason } => assert!(reason.contains(needle), "{ev}: {reason}"),
                other => panic!("{ev}: {other:?}"),
            }
        }
    }

    #[test]
    fn plans_serialize_for_the_shim() {
        let p = plan_of(
            json!({"EventType": "reservation.accepted", "TaskQueueSid": WQ, "TaskChannelUniqueName": "chat"}),
        );
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["action"], "refresh");
        assert_eq!(v["queueSid"], WQ);
        assert_eq!(v["channels"], json!(["all", "chat"]));
        assert_eq!(v["friendlyName"], Value::Null);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,40}".prop_map(Value::String),
            prop_oneof![
                Just("task.created"),
                Just("task-queue.created"),
                Just("task-queue.deleted"),
                Just("worker.activity.update"),
                Just("reservation.accepted"),
                Just(WQ),
                Just(WK),
                Just("voice"),
                Just("WQ"),
                Just("WK")
            ]
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("EventType".to_string()),
                        Just("TaskQueueSid".to_string()),
                        Just("WorkerSid".to_string()),
                        Just("TaskChannelUniqueName".to_string()),
                        Just("TaskQueueFriendlyName".to_string()),
                        ".{0,8}".prop_map(|s| s)
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_input_gives_a_plan_with_a_reason(event in arb_json()) {
            let p = plan(&Config::default(), &event);
            prop_assert!(!p.reason().is_empty());
            match &p {
                Plan::Refresh { queue_sid, channels, .. } | Plan::Create { queue_sid, channels, .. } => {
                    prop_assert!(is_sid(queue_sid, "WQ"));
                    prop_assert_eq!(channels.first().map(String::as_str), Some("all"));
                }
                Plan::Delete { queue_sid, .. } => prop_assert!(is_sid(queue_sid, "WQ")),
                Plan::RefreshWorkers { worker_sid: Some(w), .. } => prop_assert!(is_sid(w, "WK")),
                _ => {}
            }
        }
    }
}
