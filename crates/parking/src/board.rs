//! Parked calls on the wallboard: how many calls of a queue are parked, and since when.
//!
//! A parked call shows on no TaskQueue (its task was wrapped up when it was parked), so the floor
//! would not see it. The queue-statistics callback reads the `Global.ParkedCalls` entries when it
//! refreshes a queue's record and adds `parked` to it (no write of its own: the figures ride on the
//! record write the TaskRouter event causes anyway):
//!
//! ```json
//! "parked": {"count": 2, "oldestParkedAt": "2026-12-03T12:00:00.000Z",
//!            "workers": {"WK…": {"count": 1, "oldestParkedAt": "2026-12-03T12:00:00.000Z"}},
//!            "workersOmitted": 0}
//! ```
//!
//! Rules ([`parked_by_queue`]): an entry counts for the queue named by its `queueName` (the task
//! queue's friendly name the plugin sent) and the worker in its `workerSid`, while it is parked:
//! an entry marked `pickedUp` (a pickup is redirecting the caller) or claimed by a `wrapUp` (the
//! caller hung up) no longer counts. An entry without a queue name, a worker or a readable
//! `dateCreated` is left out. `oldestParkedAt` is the earliest `dateCreated` (the board shows the
//! longest park ticking from it, as it does the oldest waiting task). A record lists at most
//! [`MAX_WORKERS`] workers (those parked longest); `workersOmitted` counts the others, so a queue
//! with many parked agents keeps its record within Sync's item size.
//!
//! [`with_parked`] puts a queue's figures into a freshly built record and marks it changed when
//! they differ from the previous record's, so a park or a pickup is written with the next event
//! of the queue, and an unchanged record is still skipped.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::marker::{CLAIM_FIELD, PICKUP_FIELD};

/// Most workers listed per queue.
pub const MAX_WORKERS: usize = 25;
/// The record field.
pub const FIELD: &str = "parked";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkerParked {
    pub count: u32,
    pub oldest_parked_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueParked {
    pub count: u32,
    pub oldest_parked_at: Option<String>,
    pub workers: BTreeMap<String, WorkerParked>,
    pub workers_omitted: u32,
}

/// A worker's parked calls in one queue: how many, and the earliest parking (instant and text).
type Slot = (u32, DateTime<Utc>, String);

fn text<'a>(data: &'a Value, field: &str) -> Option<&'a str> {
    data.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn marked(data: &Value, field: &str) -> bool {
    !matches!(data.get(field), None | Some(Value::Null))
}

/// The parked figures of every queue named by the entries (`data` of `Global.ParkedCalls` items).
pub fn parked_by_queue(entries: &[Value]) -> BTreeMap<String, QueueParked> {
    // queue -> worker -> (count, oldest instant, its text)
    let mut by_queue: BTreeMap<String, BTreeMap<String, Slot>> = BTreeMap::new();
    for data in entries {
        if marked(data, PICKUP_FIELD) || marked(data, CLAIM_FIELD) {
            continue;
        }
        let (Some(queue), Some(worker), Some(created)) = (
            text(data, "queueName"),
            text(data, "workerSid"),
            text(data, "dateCreated"),
        ) else {
            continue;
        };
        let Ok(at) = DateTime::parse_from_rfc3339(created).map(|t| t.with_timezone(&Utc)) else {
            continue;
        };
        let slot = by_queue
            .entry(queue.to_string())
            .or_default()
            .entry(worker.to_string())
            .or_insert((0, at, created.to_string()));
        slot.0 = slot.0.saturating_add(1);
        if at < slot.1 {
            slot.1 = at;
            slot.2 = created.to_string();
        }
    }
    by_queue
        .into_iter()
        .map(|(queue, workers)| {
            let mut rows: Vec<(String, u32, DateTime<Utc>, String)> = workers
                .into_iter()
                .map(|(w, (n, at, s))| (w, n, at, s))
                .collect();
            rows.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
            let count = rows.iter().fold(0u32, |sum, r| sum.saturating_add(r.1));
            let oldest_parked_at = rows.first().map(|r| r.3.clone());
            let workers_omitted =
                u32::try_from(rows.len().saturating_sub(MAX_WORKERS)).unwrap_or(u32::MAX);
            let workers = rows
                .into_iter()
                .take(MAX_WORKERS)
                .map(|(w, n, _, s)| {
                    (
                        w,
                        WorkerParked {
                            count: n,
                            oldest_parked_at: Some(s),
                        },
                    )
                })
                .collect();
            (
                queue,
                QueueParked {
                    count,
                    oldest_parked_at,
                    workers,
                    workers_omitted,
                },
            )
        })
        .collect()
}

/// A built record (`{key, record, changed, …}`, the queue-stats crate's answer) with `parked` set
/// to `figures` (none parked when `None`), and `changed` also when they differ from `previous`'s.
/// Anything that is not such an object is given back as it came.
pub fn with_parked(
    mut built: Value,
    figures: Option<&QueueParked>,
    previous: Option<&Value>,
) -> Value {
    let fresh = serde_json::to_value(figures.cloned().unwrap_or_default()).unwrap_or(Value::Null);
    let before = previous.and_then(|p| p.get(FIELD));
    let differs = before != Some(&fresh);
    if let Some(record) = built.get_mut("record").and_then(Value::as_object_mut) {
        record.insert(FIELD.to_string(), fresh);
    } else {
        return built;
    }
    if differs {
        if let Some(obj) = built.as_object_mut() {
            obj.insert("changed".to_string(), Value::Bool(true));
        }
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const W1: &str = "WK00000000000000000000000000000001";
    const W2: &str = "WK00000000000000000000000000000002";

    fn entry(queue: &str, worker: &str, at: &str) -> Value {
        json!({"callSid": "CA1", "queueName": queue, "workerSid": worker, "dateCreated": at, "attributes": {}})
    }

    #[test]
    fn counts_parked_calls_per_queue_and_worker() {
        let entries = vec![
            entry("Support", W1, "2026-12-03T12:00:05.000Z"),
            entry("Support", W1, "2026-12-03T12:00:01.000Z"),
            entry("Support", W2, "2026-12-03T12:00:03.000Z"),
            entry("Sales", W2, "2026-12-03T12:00:09.000Z"),
        ];
        let by = parked_by_queue(&entries);
        let support = &by["Support"];
        assert_eq!(support.count, 3);
        assert_eq!(
            support.oldest_parked_at.as_deref(),
            Some("2026-12-03T12:00:01.000Z")
        );
        assert_eq!(
            support.workers[W1],
            WorkerParked {
                count: 2,
                oldest_parked_at: Some("2026-12-03T12:00:01.000Z".into())
            }
        );
        assert_eq!(support.workers[W2].count, 1);
        assert_eq!(by["Sales"].count, 1);
    }

    #[test]
    fn picked_up_hung_up_and_malformed_entries_do_not_count() {
        let mut picked = entry("Support", W1, "2026-12-03T12:00:00.000Z");
        picked["pickedUp"] = json!({"token": "t", "at": 1});
        let mut hung = entry("Support", W1, "2026-12-03T12:00:00.000Z");
        hung["wrapUp"] = json!({"token": "t"});
        let mut null_mark = entry("Support", W2, "2026-12-03T12:00:00.000Z");
        null_mark["pickedUp"] = Value::Null;
        let entries = vec![
            picked,
            hung,
            null_mark,
            entry("", W1, "2026-12-03T12:00:00.000Z"),
            entry("Support", "", "2026-12-03T12:00:00.000Z"),
            entry("Support", W1, "yesterday"),
            json!("not an object"),
            json!({"queueName": 5}),
        ];
        let by = parked_by_queue(&entries);
        assert_eq!(by.len(), 1);
        assert_eq!(
            by["Support"].count, 1,
            "only the entry whose marker is null counts"
        );
    }

    #[test]
    fn offsets_compare_as_instants() {
        let by = parked_by_queue(&[
            entry("Q", W1, "2026-12-03T13:00:00+02:00"),
            entry("Q", W2, "2026-12-03T12:00:00Z"),
        ]);
        assert_eq!(
            by["Q"].oldest_parked_at.as_deref(),
            Some("2026-12-03T13:00:00+02:00")
        );
    }

    #[test]
    fn many_workers_are_capped_oldest_first() {
        let entries: Vec<Value> = (0..40)
            .map(|i| {
                entry(
                    "Q",
                    &format!("WK{i:032}"),
                    &format!("2026-12-03T12:{:02}:00Z", 59 - i),
                )
            })
            .collect();
        let q = &parked_by_queue(&entries)["Q"];
        assert_eq!(
            (q.count, q.workers.len(), q.workers_omitted),
            (40, MAX_WORKERS, 15)
        );
        assert!(
            q.workers.contains_key(&format!("WK{:032}", 39)),
            "the longest parked is kept"
        );
        assert!(!q.workers.contains_key(&format!("WK{:032}", 0)));
    }

    #[test]
    fn with_parked_sets_the_field_and_the_change() {
        let built = json!({"key": "WQ1", "record": {"sid": "WQ1"}, "changed": false});
        let figures = parked_by_queue(&[entry("Q", W1, "2026-12-03T12:00:00Z")]).remove("Q");
        let out = with_parked(
            built.clone(),
            figures.as_ref(),
            Some(&json!({"sid": "WQ1"})),
        );
        assert_eq!(out["changed"], true);
        assert_eq!(out["record"]["parked"]["count"], 1);
        // Same figures as before: unchanged stays unchanged.
        let again = with_parked(built.clone(), figures.as_ref(), Some(&out["record"]));
        assert_eq!(again["changed"], false);
        // None parked: an explicit zero, a change from one.
        let none = with_parked(built.clone(), None, Some(&out["record"]));
        assert_eq!(
            (
                none["changed"].clone(),
                none["record"]["parked"]["count"].clone()
            ),
            (json!(true), json!(0))
        );
        // Not a built record: untouched.
        assert_eq!(with_parked(json!(null), None, None), json!(null));
    }
}
