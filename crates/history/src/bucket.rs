//! One queue's figures for one channel and one closed hour, and how they are stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Counts and sums of one queue, channel and hour. Every figure is a count or a sum, so buckets
/// add up exactly and averages are computed last (never an average of averages).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// TaskRouter `tasks_entered`.
    pub entered: f64,
    /// TaskRouter `reservations_accepted`.
    pub accepted: f64,
    /// TaskRouter `tasks_canceled` (abandoned while waiting).
    pub abandoned: f64,
    /// Abandoned before the short-abandon threshold (`split_by_wait_time` below it).
    pub short_abandoned: f64,
    /// `wait_duration_until_accepted.total` and `.max`, seconds.
    pub wait_total: f64,
    pub wait_max: f64,
    /// `wait_duration_until_canceled.total`, seconds.
    pub abandon_wait_total: f64,
    /// Accepted-to-completed seconds of the tasks completed in the hour, and how many (from events).
    pub handle_total: f64,
    pub handle_count: f64,
    /// Worker-seconds available / logged in during the hour, over `observed_seconds` of the hour
    /// (TaskRouter's worker cumulative statistics for the queue; 0 observed when unknown).
    pub available_seconds: f64,
    pub logged_in_seconds: f64,
    pub observed_seconds: f64,
    /// Per SLA threshold (seconds): accepted below / above, canceled below / above.
    pub split: BTreeMap<u32, Split>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Split {
    pub accepted_below: f64,
    pub accepted_above: f64,
    pub canceled_below: f64,
    pub canceled_above: f64,
}

/// Numbers in a stored row before the per-threshold quadruples.
const FIXED: usize = 12;

fn num(v: Option<&Value>) -> f64 {
    v.and_then(Value::as_f64)
        .filter(|n| n.is_finite() && *n >= 0.0)
        .unwrap_or(0.0)
}

/// A field by its TaskRouter name (`snake_case`) or the `twilio` client's (`camelCase`).
fn field<'a>(v: &'a Value, snake: &str) -> Option<&'a Value> {
    v.get(snake).or_else(|| {
        let camel: String = snake
            .split('_')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_string()
                } else {
                    let mut c = part.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                }
            })
            .collect();
        v.get(camel)
    })
}

impl Bucket {
    /// From TaskRouter's cumulative statistics of exactly this hour (`StartDate`/`EndDate` = the
    /// bucket's boundaries, `SplitByWaitTime` = the thresholds and the short-abandon threshold).
    pub fn from_cumulative(stats: &Value, thresholds: &[u32], short_abandon: u32) -> Bucket {
        let waits = field(stats, "wait_duration_until_accepted");
        let cancels = field(stats, "wait_duration_until_canceled");
        let split_of = |t: u32| -> Split {
            let s = field(stats, "split_by_wait_time").and_then(|s| s.get(t.to_string()));
            let side = |which: &str, what: &str| {
                num(s.and_then(|s| s.get(which)).and_then(|x| field(x, what)))
            };
            Split {
                accepted_below: side("below", "reservations_accepted"),
                accepted_above: side("above", "reservations_accepted"),
                canceled_below: side("below", "tasks_canceled"),
                canceled_above: side("above", "tasks_canceled"),
            }
        };
        Bucket {
            entered: num(field(stats, "tasks_entered")),
            accepted: num(field(stats, "reservations_accepted")),
            abandoned: num(field(stats, "tasks_canceled")),
            short_abandoned: if short_abandon == 0 {
                0.0
            } else {
                split_of(short_abandon).canceled_below
            },
            wait_total: num(waits.and_then(|w| w.get("total"))),
            wait_max: num(waits.and_then(|w| w.get("max"))),
            abandon_wait_total: num(cancels.and_then(|w| w.get("total"))),
            split: thresholds.iter().map(|t| (*t, split_of(*t))).collect(),
            ..Bucket::default()
        }
    }

    /// Adds worker-seconds from TaskRouter's worker cumulative statistics for the queue
    /// (`activity_durations[].total` per activity name) over an hour of `seconds`.
    pub fn with_workers(
        mut self,
        durations: &Value,
        seconds: f64,
        offline: &[String],
        available: &[String],
    ) -> Bucket {
        let list = field(durations, "activity_durations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for a in &list {
            let name = field(a, "friendly_name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let total = num(a.get("total"));
            if !offline.iter().any(|o| o == name) {
                self.logged_in_seconds += total;
            }
            if available.iter().any(|o| o == name) {
                self.available_seconds += total;
            }
        }
        self.observed_seconds = seconds;
        self
    }

    /// Adds another bucket's counts and sums (a maximum stays a maximum).
    pub fn add(&mut self, other: &Bucket) {
        self.entered += other.entered;
        self.accepted += other.accepted;
        self.abandoned += other.abandoned;
        self.short_abandoned += other.short_abandoned;
        self.wait_total += other.wait_total;
        self.wait_max = self.wait_max.max(other.wait_max);
        self.abandon_wait_total += other.abandon_wait_total;
        self.handle_total += other.handle_total;
        self.handle_count += other.handle_count;
        self.available_seconds += other.available_seconds;
        self.logged_in_seconds += other.logged_in_seconds;
        self.observed_seconds += other.observed_seconds;
        for (t, s) in &other.split {
            let mine = self.split.entry(*t).or_default();
            mine.accepted_below += s.accepted_below;
            mine.accepted_above += s.accepted_above;
            mine.canceled_below += s.canceled_below;
            mine.canceled_above += s.canceled_above;
        }
    }

    /// The stored row: the fixed figures, then `[accepted below, accepted above, canceled below,
    /// canceled above]` per threshold of `thresholds` (kept in the stored item beside the rows).
    pub fn to_row(&self, thresholds: &[u32]) -> Vec<f64> {
        let mut row = vec![
            self.entered,
            self.accepted,
            self.abandoned,
            self.short_abandoned,
            self.wait_total,
            self.wait_max,
            self.abandon_wait_total,
            self.handle_total,
            self.handle_count,
            self.available_seconds,
            self.logged_in_seconds,
            self.observed_seconds,
        ];
        for t in thresholds {
            let s = self.split.get(t).copied().unwrap_or_default();
            row.extend([
                s.accepted_below,
                s.accepted_above,
                s.canceled_below,
                s.canceled_above,
            ]);
        }
        row
    }

    /// A stored row back; missing or malformed numbers read as 0.
    pub fn from_row(row: &[Value], thresholds: &[u32]) -> Bucket {
        let at = |i: usize| num(row.get(i));
        let mut b = Bucket {
            entered: at(0),
            accepted: at(1),
            abandoned: at(2),
            short_abandoned: at(3),
            wait_total: at(4),
            wait_max: at(5),
            abandon_wait_total: at(6),
            handle_total: at(7),
            handle_count: at(8),
            available_seconds: at(9),
            logged_in_seconds: at(10),
            observed_seconds: at(11),
            split: BTreeMap::new(),
        };
        for (i, t) in thresholds.iter().enumerate() {
            let base = FIXED + 4 * i;
            b.split.insert(
                *t,
                Split {
                    accepted_below: at(base),
                    accepted_above: at(base + 1),
                    canceled_below: at(base + 2),
                    canceled_above: at(base + 3),
                },
            );
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_taskrouter_in_both_spellings_and_round_trips() {
        let snake = json!({
            "tasks_entered": 10, "reservations_accepted": 7, "tasks_canceled": 3,
            "wait_duration_until_accepted": {"avg": 20, "min": 1, "max": 61, "total": 140},
            "wait_duration_until_canceled": {"avg": 10, "min": 1, "max": 20, "total": 30},
            "split_by_wait_time": {
                "5": {"below": {"reservations_accepted": 1, "tasks_canceled": 2}, "above": {"reservations_accepted": 6, "tasks_canceled": 1}},
                "30": {"below": {"reservations_accepted": 5, "tasks_canceled": 3}, "above": {"reservations_accepted": 2, "tasks_canceled": 0}}
            }
        });
        let camel = json!({
            "tasksEntered": 10, "reservationsAccepted": 7, "tasksCanceled": 3,
            "waitDurationUntilAccepted": {"avg": 20, "min": 1, "max": 61, "total": 140},
            "waitDurationUntilCanceled": {"avg": 10, "min": 1, "max": 20, "total": 30},
            "splitByWaitTime": snake["split_by_wait_time"].clone()
        });
        let a = Bucket::from_cumulative(&snake, &[30], 5);
        assert_eq!(a, Bucket::from_cumulative(&camel, &[30], 5));
        assert_eq!(a.short_abandoned, 2.0);
        assert_eq!(a.split[&30].accepted_below, 5.0);
        let row: Vec<Value> = a.to_row(&[30]).into_iter().map(Value::from).collect();
        assert_eq!(Bucket::from_row(&row, &[30]), a);
        // Garbage reads as zero, never a panic.
        let junk = Bucket::from_cumulative(
            &json!({"tasks_entered": "x", "split_by_wait_time": 4}),
            &[30],
            5,
        );
        assert_eq!(junk.entered, 0.0);
    }

    #[test]
    fn workers_seconds_by_activity() {
        let d = json!({"activity_durations": [
            {"friendly_name": "Available", "total": 7200},
            {"friendly_name": "Break", "total": 1800},
            {"friendly_name": "Offline", "total": 3600}
        ]});
        let b =
            Bucket::default().with_workers(&d, 3600.0, &["Offline".into()], &["Available".into()]);
        assert_eq!(b.logged_in_seconds, 9000.0);
        assert_eq!(b.available_seconds, 7200.0);
    }
}
