//! One event's summary, as the event callback answers it, and what the glue runs for the event.
//!
//! An event starts with [`Start::of`] (its plan, an empty [`Tally`], the one run it asks for);
//! each machine's answer adds its counts ([`Tally::answered`]), each run that threw its error
//! line ([`Tally::failed`]), and the answer is [`Tally::summary`]. The counts are the machines'
//! own (their answer bodies): a queue's run counts its Sync writes as Flex's, a board copy's or
//! removal's as the board's. The tally travels through the glue as plain data, so a wasm trap
//! between two answers loses nothing of it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::Plan;
use crate::refresh::Work;

/// An event's counts and errors: the summary's fields besides `plan`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    #[serde(default)]
    pub taskrouter_calls: u64,
    #[serde(default)]
    pub sync_writes: u64,
    #[serde(default)]
    pub sync_reads: u64,
    /// Bulk entries dropped or not run (their queue's run was under way and fetches after them).
    #[serde(default)]
    pub skipped: u64,
    /// Writes to the wallboard's copy (its own Sync service, its own budgets).
    #[serde(default)]
    pub board_writes: u64,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The answer's line when the invocation's deadline came first.
pub const LATE: &str = "not finished within the invocation's budget (FUNCTION_BUDGET_MS): Sync write budget exhausted (see docs/queue-stats.md)";

impl Tally {
    /// Adds a machine's answer body: `taskrouterCalls`, `syncReads`, `skipped`, `syncWrites`
    /// (the board's when `on_board`) and `errors`. Fields missing or of another type add nothing.
    pub fn answered(&mut self, body: &Value, on_board: bool) {
        let count = |k: &str| body.get(k).and_then(Value::as_u64).unwrap_or(0);
        self.taskrouter_calls += count("taskrouterCalls");
        self.sync_reads += count("syncReads");
        self.skipped += count("skipped");
        if on_board {
            self.board_writes += count("syncWrites");
        } else {
            self.sync_writes += count("syncWrites");
        }
        if let Some(Value::Array(errors)) = body.get("errors") {
            self.errors
                .extend(errors.iter().filter_map(Value::as_str).map(str::to_string));
        }
    }

    /// A run that threw `message`: a queue's (`queue_sid`), its board copy's (`on_board`), or the
    /// event's own (neither).
    pub fn failed(&mut self, queue_sid: Option<&str>, message: &str, on_board: bool) {
        self.errors.push(match (queue_sid, on_board) {
            (Some(sid), true) => format!("wallboard copy of {sid}: {message}"),
            (Some(sid), false) => format!("{sid}: {message}"),
            (None, _) => message.to_string(),
        });
    }

    /// The summary's counts and errors; `late`: the answer went at the deadline, the work goes on.
    pub fn summary(mut self, late: bool) -> Tally {
        if late {
            self.errors.push(LATE.to_string());
        }
        self
    }
}

/// A queue's run an event asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRun {
    pub queue_sid: String,
    pub work: Work,
}

/// The bulk run of worker events (`workerSid` null: every queue).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRun {
    pub worker_sid: Option<String>,
}

/// What the glue does for one event: at most one of `refresh`, `remove`, `bulk`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub plan: Plan,
    pub tally: Tally,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<QueueRun>,
    /// A deleted queue: its removal, then its board copy's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkRun>,
}

impl Start {
    /// The run `plan` asks for, with an empty tally.
    pub fn of(plan: Plan) -> Start {
        let (mut refresh, mut remove, mut bulk) = (None, None, None);
        match &plan {
            Plan::Refresh {
                queue_sid,
                friendly_name,
                channels,
                ..
            }
            | Plan::Create {
                queue_sid,
                friendly_name,
                channels,
                ..
            } => {
                refresh = Some(QueueRun {
                    queue_sid: queue_sid.clone(),
                    work: Work::Refresh {
                        channels: channels.clone(),
                        friendly_name: friendly_name.clone(),
                        create: matches!(plan, Plan::Create { .. }),
                    },
                });
            }
            Plan::Delete { queue_sid, .. } => remove = Some(queue_sid.clone()),
            Plan::RefreshWorkers { worker_sid, .. } => {
                bulk = Some(BulkRun {
                    worker_sid: worker_sid.clone(),
                })
            }
            Plan::None { .. } => {}
        }
        Start {
            plan,
            tally: Tally::default(),
            refresh,
            remove,
            bulk,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const Q: &str = "WQ0123456789abcdef0123456789abcdef";

    #[test]
    fn answers_add_up_and_board_writes_count_apart() {
        let mut t = Tally::default();
        t.answered(
            &json!({"taskrouterCalls": 2, "syncReads": 1, "syncWrites": 1, "skipped": 1, "errors": ["a"]}),
            false,
        );
        t.answered(&json!({"syncWrites": 3, "errors": ["b", 7]}), true);
        t.answered(&json!({"taskrouterCalls": 1}), false);
        assert_eq!(
            t,
            Tally {
                taskrouter_calls: 3,
                sync_writes: 1,
                sync_reads: 1,
                skipped: 1,
                board_writes: 3,
                errors: vec!["a".into(), "b".into()],
            }
        );
    }

    #[test]
    fn bad_answers_add_nothing() {
        let mut t = Tally::default();
        for body in [
            json!(null),
            json!("x"),
            json!({"taskrouterCalls": -1, "syncWrites": 1.5, "skipped": "2", "errors": "e"}),
        ] {
            t.answered(&body, false);
            t.answered(&body, true);
        }
        assert_eq!(t, Tally::default());
    }

    #[test]
    fn failures_name_the_run() {
        let mut t = Tally::default();
        t.failed(Some(Q), "timed out", false);
        t.failed(Some(Q), "429", true);
        t.failed(None, "trap", false);
        assert_eq!(
            t.errors,
            vec![
                format!("{Q}: timed out"),
                format!("wallboard copy of {Q}: 429"),
                "trap".to_string()
            ]
        );
    }

    #[test]
    fn a_late_summary_says_so() {
        assert!(Tally::default().summary(false).errors.is_empty());
        assert_eq!(
            Tally::default().summary(true).errors,
            vec![LATE.to_string()]
        );
    }

    #[test]
    fn the_summary_has_the_callbacks_fields() {
        let v = serde_json::to_value(Tally::default()).unwrap();
        assert_eq!(
            v,
            json!({"taskrouterCalls": 0, "syncWrites": 0, "syncReads": 0, "skipped": 0,
                "boardWrites": 0, "errors": []})
        );
        // The glue hands the tally back as it got it.
        assert_eq!(
            serde_json::from_value::<Tally>(v).unwrap(),
            Tally::default()
        );
    }

    #[test]
    fn each_plan_asks_for_its_one_run() {
        let r = || "r".to_string();
        let s = Start::of(Plan::Refresh {
            queue_sid: Q.into(),
            friendly_name: Some("Sales".into()),
            channels: vec!["all".into(), "voice".into()],
            reason: r(),
        });
        assert_eq!(
            serde_json::to_value(&s.refresh).unwrap(),
            json!({"queueSid": Q, "work": {"kind": "refresh", "channels": ["all", "voice"],
                "friendlyName": "Sales", "create": false}})
        );
        assert!(s.remove.is_none() && s.bulk.is_none() && s.tally == Tally::default());
        let s = Start::of(Plan::Create {
            queue_sid: Q.into(),
            friendly_name: None,
            channels: vec!["all".into()],
            reason: r(),
        });
        assert!(matches!(
            s.refresh.map(|r| r.work),
            Some(Work::Refresh { create: true, .. })
        ));
        let s = Start::of(Plan::Delete {
            queue_sid: Q.into(),
            reason: r(),
        });
        assert_eq!(
            (s.refresh, s.remove.as_deref(), s.bulk),
            (None, Some(Q), None)
        );
        let all = serde_json::to_value(Start::of(Plan::RefreshWorkers {
            worker_sid: None,
            reason: r(),
        }))
        .unwrap();
        assert_eq!(all["bulk"], json!({"workerSid": null}), "every queue");
        assert_eq!(all["plan"]["action"], json!("refreshWorkers"));
        let none = serde_json::to_value(Start::of(Plan::None { reason: r() })).unwrap();
        assert_eq!(
            none,
            json!({"plan": {"action": "none", "reason": "r"}, "tally": serde_json::to_value(Tally::default()).unwrap()})
        );
    }
}
