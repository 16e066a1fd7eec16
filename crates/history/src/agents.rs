//! Agents per queue and hour, from TaskRouter's events: worker-seconds per activity of the
//! queue's eligible workers inside an hour.
//!
//! TaskRouter's worker statistics do not take a queue (`Workers/CumulativeStatistics` declares no
//! `TaskQueueSid`), and `Workers/Statistics`, which does, may be refused above 100 workers. So the
//! figures are derived from what any workspace can list:
//!
//! - `Workers?TaskQueueSid=WQ…`: the queue's eligible workers (as they are when the hour is
//!   closed), and `Workers` (all): each worker's **current** activity;
//! - `Events?EventType=worker.activity.update` from the hour's start **until now**: every
//!   activity change since.
//!
//! **Rule.** A worker's activity at an instant *t* is the activity named by its latest change at
//! or before *t*; with no change at or before *t* among the events, the activity its first later
//! change left (`worker_previous_activity_name`); with no change after *t* either, its current
//! activity. So the events must cover from the hour's start to the moment the workers were
//! listed. An activity that cannot be known (a first change without its previous activity, a
//! worker that is no longer listed) counts neither as logged in nor available. Changes are keyed
//! by (worker, instant, activity): duplicated or reordered events change nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::event::{data, event_type, millis, text};
use serde_json::{json, Value};

/// One activity change: (instant ms, new activity, previous activity if given).
#[derive(Debug, Clone, PartialEq)]
struct Change {
    at_ms: f64,
    activity: String,
    previous: Option<String>,
}

/// `worker.activity.update` events of TaskRouter's Events API (snake or camel case), per worker,
/// oldest first, duplicates removed.
fn changes(events: &[Value]) -> BTreeMap<String, Vec<Change>> {
    let mut seen: BTreeSet<(String, i64, String)> = BTreeSet::new();
    let mut out: BTreeMap<String, Vec<Change>> = BTreeMap::new();
    for v in events {
        if event_type(v) != Some("worker.activity.update") {
            continue;
        }
        let data = data(v);
        let Some(worker) = text(data, &["worker_sid", "workerSid", "WorkerSid"])
            .or_else(|| text(v, &["resourceSid", "resource_sid", "ResourceSid"]))
        else {
            continue;
        };
        let Some(activity) = text(
            data,
            &[
                "worker_activity_name",
                "workerActivityName",
                "WorkerActivityName",
            ],
        ) else {
            continue;
        };
        let Some(at_ms) = millis(v) else {
            continue;
        };
        // Whole milliseconds as the key: the same change listed twice is one change.
        if !seen.insert((
            worker.to_string(),
            at_ms.round() as i64,
            activity.to_string(),
        )) {
            continue;
        }
        let previous = text(
            data,
            &[
                "worker_previous_activity_name",
                "workerPreviousActivityName",
                "WorkerPreviousActivityName",
            ],
        )
        .map(str::to_string);
        out.entry(worker.to_string()).or_default().push(Change {
            at_ms,
            activity: activity.to_string(),
            previous,
        });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| {
            a.at_ms
                .partial_cmp(&b.at_ms)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    out
}

/// The current activity of each listed worker (`sid`, `activityName` / `activity_name`).
fn current(workers: &[Value]) -> BTreeMap<String, String> {
    workers
        .iter()
        .filter_map(|w| {
            Some((
                text(w, &["sid", "Sid"])?.to_string(),
                text(w, &["activityName", "activity_name", "ActivityName"])?.to_string(),
            ))
        })
        .collect()
}

/// Seconds per activity of every worker in `[start_ms, end_ms)`, by the rule above. Workers
/// appear if they are listed or have changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    per_worker: BTreeMap<String, BTreeMap<String, f64>>,
}

impl Activity {
    /// From `worker.activity.update` events covering `[start_ms, listing time]` and the workers
    /// as listed at that time.
    pub fn new(events: &[Value], workers: &[Value], start_ms: f64, end_ms: f64) -> Activity {
        let changes = changes(events);
        let now = current(workers);
        let mut sids: BTreeSet<&String> = now.keys().collect();
        sids.extend(changes.keys());
        let empty = Vec::new();
        let mut per_worker = BTreeMap::new();
        for sid in sids {
            let list = changes.get(sid).unwrap_or(&empty);
            // The activity at `t`: latest change at or before it, else the first later change's
            // previous activity, else the current one.
            let at = |t: f64| -> Option<String> {
                match list.iter().rev().find(|c| c.at_ms <= t) {
                    Some(c) => Some(c.activity.clone()),
                    None => match list.first() {
                        Some(first) => first.previous.clone(),
                        None => now.get(sid).cloned(),
                    },
                }
            };
            let mut bounds = vec![start_ms];
            bounds.extend(
                list.iter()
                    .map(|c| c.at_ms)
                    .filter(|t| *t > start_ms && *t < end_ms),
            );
            bounds.push(end_ms);
            let mut totals: BTreeMap<String, f64> = BTreeMap::new();
            for pair in bounds.windows(2) {
                let [a, b] = pair else { continue };
                if b <= a {
                    continue;
                }
                if let Some(activity) = at(*a) {
                    *totals.entry(activity).or_insert(0.0) += (b - a) / 1000.0;
                }
            }
            per_worker.insert(sid.clone(), totals);
        }
        Activity { per_worker }
    }

    /// The queue's figures in the shape of TaskRouter's worker statistics
    /// (`{"activity_durations": [{"friendly_name", "total"}]}`): seconds per activity summed over
    /// `members`.
    pub fn durations(&self, members: &[String]) -> Value {
        let mut sum: BTreeMap<&str, f64> = BTreeMap::new();
        let unique: BTreeSet<&String> = members.iter().collect();
        for sid in unique {
            if let Some(totals) = self.per_worker.get(sid) {
                for (name, s) in totals {
                    *sum.entry(name.as_str()).or_insert(0.0) += s;
                }
            }
        }
        json!({
            "activity_durations": sum
                .into_iter()
                .map(|(name, total)| json!({"friendly_name": name, "total": total}))
                .collect::<Vec<_>>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: f64 = 1_800_000_000_000.0;
    const M: f64 = 60_000.0;

    fn change(worker: &str, at: f64, to: &str, from: Option<&str>) -> Value {
        let mut data = json!({"worker_sid": worker, "worker_activity_name": to});
        if let Some(f) = from {
            data["worker_previous_activity_name"] = json!(f);
        }
        json!({"eventType": "worker.activity.update", "eventDateMs": at, "eventData": data})
    }

    fn seconds(v: &Value, name: &str) -> f64 {
        v["activity_durations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["friendly_name"] == name)
            .map(|a| a["total"].as_f64().unwrap())
            .unwrap_or(0.0)
    }

    #[test]
    fn activity_inside_the_hour_from_changes_and_the_current_state() {
        let events = vec![
            change("WK1", H + 30.0 * M, "Break", Some("Available")),
            change("WK1", H + 40.0 * M, "Available", Some("Break")),
            change("WK2", H + 15.0 * M, "Available", Some("Offline")),
            change("WK2", H + 50.0 * M, "Offline", Some("Available")),
            // After the hour: WK3 was Available until then.
            change("WK3", H + 90.0 * M, "Offline", Some("Available")),
        ];
        let workers = vec![
            json!({"sid": "WK1", "activityName": "Available"}),
            json!({"sid": "WK2", "activityName": "Offline"}),
            json!({"sid": "WK3", "activityName": "Offline"}),
            json!({"sid": "WK4", "activity_name": "Break"}),
        ];
        let a = Activity::new(&events, &workers, H, H + 60.0 * M);
        let q1 = a.durations(&["WK1".into(), "WK2".into()]);
        assert_eq!(seconds(&q1, "Available"), (50.0 + 35.0) * 60.0);
        assert_eq!(seconds(&q1, "Break"), 600.0);
        assert_eq!(seconds(&q1, "Offline"), 25.0 * 60.0);
        let q2 = a.durations(&["WK3".into(), "WK4".into(), "WK4".into()]);
        assert_eq!(seconds(&q2, "Available"), 3600.0);
        assert_eq!(
            seconds(&q2, "Break"),
            3600.0,
            "a member listed twice counts once"
        );
    }

    #[test]
    fn duplicates_and_order_change_nothing_and_unknowns_count_nowhere() {
        let events = vec![
            change("WK1", H + 30.0 * M, "Break", Some("Available")),
            change("WK1", H + 40.0 * M, "Available", Some("Break")),
        ];
        let mut twice: Vec<Value> = events.iter().rev().cloned().collect();
        twice.extend(events.clone());
        let workers = vec![json!({"sid": "WK1", "activityName": "Available"})];
        let a = Activity::new(&events, &workers, H, H + 60.0 * M);
        let b = Activity::new(&twice, &workers, H, H + 60.0 * M);
        assert_eq!(a, b);
        // No previous activity on the first change, and the worker is no longer listed.
        let unknown = vec![change("WK9", H + 10.0 * M, "Available", None)];
        let c = Activity::new(&unknown, &[], H, H + 60.0 * M);
        let d = c.durations(&["WK9".into()]);
        assert_eq!(seconds(&d, "Available"), 50.0 * 60.0);
        let total: f64 = d["activity_durations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["total"].as_f64().unwrap())
            .sum();
        assert_eq!(total, 50.0 * 60.0, "the first ten minutes are unknown");
        // Garbage is skipped, never a panic.
        let junk = vec![
            json!(null),
            json!({"eventType": "worker.activity.update"}),
            json!([1]),
        ];
        assert_eq!(
            Activity::new(&junk, &[json!(3)], H, H + M).durations(&[]),
            json!({"activity_durations": []})
        );
    }
}
