//! Handle time, which TaskRouter's statistics lack, from the event stream.
//!
//! **Rule.** A task's handle time is the time from its first `reservation.accepted` event to its
//! first `task.completed` event, by TaskRouter's own event timestamps. It counts in the hour (and
//! for the queue and channel) of that `task.completed` event. A task completed without an
//! acceptance among the events given (never accepted, or accepted before the look-back window)
//! has no handle time.
//!
//! Because only the *earliest* event of each kind per task is used and events are keyed by task,
//! the result is the same whatever the order of the events and however often any of them is
//! repeated: the rule is a function of the *set* of events.

use std::collections::BTreeMap;

use crate::event::{data, event_type, millis, text};
use serde::Serialize;
use serde_json::Value;

use crate::config::ALL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accepted,
    Completed,
}

#[derive(Debug, Clone, PartialEq)]
struct TaskEvent {
    kind: Kind,
    task: String,
    queue: Option<String>,
    channel: Option<String>,
    at_ms: f64,
}

impl TaskEvent {
    /// An event of TaskRouter's Events API (`event_type`, `event_date`, `event_data` with
    /// `task_sid`…; snake or camel case) or of the event callback (`EventType`, `TaskSid`…).
    fn read(v: &Value) -> Option<TaskEvent> {
        let kind = match event_type(v)? {
            "reservation.accepted" => Kind::Accepted,
            "task.completed" => Kind::Completed,
            _ => return None,
        };
        let data = data(v);
        Some(TaskEvent {
            kind,
            task: text(data, &["task_sid", "taskSid", "TaskSid"])?.to_string(),
            queue: text(data, &["task_queue_sid", "taskQueueSid", "TaskQueueSid"])
                .map(str::to_string),
            channel: text(
                data,
                &[
                    "task_channel_unique_name",
                    "taskChannelUniqueName",
                    "TaskChannelUniqueName",
                ],
            )
            .map(|c| c.to_ascii_lowercase()),
            at_ms: millis(v)?,
        })
    }
}

/// Handle-time sums of one queue and channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HandleSum {
    pub queue: String,
    pub channel: String,
    pub total: f64,
    pub count: f64,
}

/// Handle times of the tasks completed in `[start_ms, end_ms)`, per queue and channel (and per
/// queue on `all`), from any mix of accepted and completed events (others are ignored).
pub fn handle_times(events: &[Value], start_ms: f64, end_ms: f64) -> Vec<HandleSum> {
    let mut accepted: BTreeMap<String, f64> = BTreeMap::new();
    let mut completed: BTreeMap<String, TaskEvent> = BTreeMap::new();
    for e in events.iter().filter_map(TaskEvent::read) {
        match e.kind {
            Kind::Accepted => {
                let at = accepted.entry(e.task.clone()).or_insert(e.at_ms);
                *at = at.min(e.at_ms);
            }
            Kind::Completed => {
                let keep = completed
                    .get(&e.task)
                    .is_none_or(|prev| e.at_ms < prev.at_ms);
                if keep {
                    completed.insert(e.task.clone(), e);
                }
            }
        }
    }
    let mut sums: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for (task, done) in &completed {
        if done.at_ms < start_ms || done.at_ms >= end_ms {
            continue;
        }
        let (Some(at), Some(queue)) = (accepted.get(task), done.queue.as_ref()) else {
            continue;
        };
        if *at > done.at_ms {
            continue;
        }
        let seconds = (done.at_ms - at) / 1000.0;
        let mut channels = vec![ALL.to_string()];
        if let Some(c) = &done.channel {
            if c != ALL {
                channels.push(c.clone());
            }
        }
        for c in channels {
            let s = sums.entry((queue.clone(), c)).or_insert((0.0, 0.0));
            s.0 += seconds;
            s.1 += 1.0;
        }
    }
    sums.into_iter()
        .map(|((queue, channel), (total, count))| HandleSum {
            queue,
            channel,
            total,
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn ev(kind: &str, task: &str, at_s: f64) -> Value {
        json!({"event_type": kind, "event_date_ms": at_s * 1000.0,
               "event_data": {"task_sid": task, "task_queue_sid": "WQ1", "task_channel_unique_name": "voice"}})
    }

    #[test]
    fn pairs_by_task_and_counts_in_the_completion_hour() {
        let events = vec![
            ev("reservation.accepted", "T1", 100.0),
            ev("task.completed", "T1", 400.0),
            ev("reservation.accepted", "T2", 3500.0),
            ev("task.completed", "T2", 3700.0), // next hour
            ev("task.completed", "T3", 500.0),  // never accepted
            ev("reservation.created", "T4", 5.0),
        ];
        let h = handle_times(&events, 0.0, 3_600_000.0);
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].channel.as_str(), h[0].total, h[0].count),
            ("all", 300.0, 1.0)
        );
        assert_eq!((h[1].channel.as_str(), h[1].total), ("voice", 300.0));
        // The callback's own field names work too.
        let cb = vec![
            json!({"EventType": "reservation.accepted", "TaskSid": "T9", "TaskQueueSid": "WQ2", "EventDateMs": "1000"}),
            json!({"EventType": "task.completed", "TaskSid": "T9", "TaskQueueSid": "WQ2", "EventDate": "1970-01-01T00:00:11Z"}),
        ];
        assert_eq!(handle_times(&cb, 0.0, 3_600_000.0)[0].total, 10.0);
    }

    proptest! {
        /// Duplicates and any order give the same answer as the clean, ordered stream.
        #[test]
        fn duplicates_and_order_change_nothing(
            tasks in proptest::collection::vec((0u32..4000, 1u32..900), 1..30),
            dups in proptest::collection::vec(0usize..60, 0..20),
            seed in any::<u64>(),
        ) {
            let mut events = Vec::new();
            for (i, (acc, dur)) in tasks.iter().enumerate() {
                let task = format!("T{i}");
                events.push(ev("reservation.accepted", &task, f64::from(*acc)));
                events.push(ev("task.completed", &task, f64::from(acc + dur)));
            }
            let clean = handle_times(&events, 0.0, 3_600_000.0);
            let mut noisy = events.clone();
            for d in dups {
                if let Some(e) = events.get(d % events.len()) {
                    noisy.push(e.clone());
                }
            }
            // A deterministic shuffle.
            let mut state = seed | 1;
            for i in (1..noisy.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                noisy.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(handle_times(&noisy, 0.0, 3_600_000.0), clean);
        }
    }
}
