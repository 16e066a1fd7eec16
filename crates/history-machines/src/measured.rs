//! Measured handle times for staffing: per queue, the average accepted-to-completed time over
//! the last 7 days of stored queue history (`range=last7`, `by=queue`, stored hours only: no
//! backfill, so staffing answers at once), `{[queue SID]: seconds}`; queues with none are absent.
//!
//! A container remembers the figures for [`MEASURED_TTL_MS`] ([`fresh`]): a wallboard's refreshes
//! then cost no Sync read; a new container reads them again.

use std::collections::BTreeMap;

use history::{Config, Env, Params, Query};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::range::RangeRead;

/// How long measured handle times are used before they are read again.
pub const MEASURED_TTL_MS: f64 = 300_000.0;

/// Measured handle times read at `at_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    pub at_ms: f64,
    pub by_sid: BTreeMap<String, f64>,
}

/// Whether `m` may still be used at `now_ms`.
pub fn fresh(m: &Measured, now_ms: f64) -> bool {
    let age = now_ms - m.at_ms;
    age.is_finite() && (0.0..=MEASURED_TTL_MS).contains(&age)
}

/// A measured-handle-times read in progress: queue history's settings (the shim's
/// `QUEUE_STATS_*`/`QUEUE_HISTORY_*` as given), the query, the stored range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeasuredRead {
    pub env: Value,
    pub query: Query,
    pub read: RangeRead,
    pub at_ms: f64,
}

fn config_of(env: &Value) -> Option<Config> {
    let env: Env = serde_json::from_value(env.clone()).ok()?;
    Config::from_env(&env).ok()
}

/// What to read at `now_ms`; `None` when queue history's settings or the instant cannot work
/// (staffing then has no measured time, as when the read fails).
pub fn read_plan(env: &Value, service_sid: &str, now_ms: f64) -> Option<MeasuredRead> {
    let config = config_of(env)?;
    let query = history::query(&config, &last7(), now_ms).ok()?;
    let read = RangeRead::new(service_sid, &query.map, &query.list_from, &query.list_to);
    Some(MeasuredRead {
        env: env.clone(),
        query,
        read,
        at_ms: now_ms,
    })
}

fn last7() -> Params {
    Params {
        range: Some("last7".into()),
        by: Some("queue".into()),
        ..Params::default()
    }
}

impl MeasuredRead {
    /// Every queue's average handle time from the stored items read.
    pub fn finish(&self) -> Option<Measured> {
        let config = config_of(&self.env)?;
        let series = history::aggregate(&config, &self.query, &self.read.data());
        Some(Measured {
            at_ms: self.at_ms,
            by_sid: series
                .series
                .into_iter()
                .filter_map(|row| row.figures.avg_handle.map(|s| (row.key, s)))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_for_five_minutes() {
        let m = Measured {
            at_ms: 1_000_000.0,
            by_sid: BTreeMap::new(),
        };
        assert!(fresh(&m, 1_000_000.0) && fresh(&m, 1_300_000.0));
        assert!(!fresh(&m, 1_300_001.0) && !fresh(&m, 999_999.0) && !fresh(&m, f64::NAN));
    }

    #[test]
    fn no_plan_for_bad_settings() {
        let bad = serde_json::json!({"QUEUE_STATS_TIME_ZONE": "Mars/Olympus"});
        assert!(read_plan(&bad, "IS1", 1.8e12).is_none());
        assert!(read_plan(&serde_json::json!("x"), "IS1", 1.8e12).is_none());
        assert!(read_plan(&serde_json::json!({}), "IS1", f64::NAN).is_none());
        let plan = read_plan(&serde_json::json!({}), "IS1", 1.8e12).expect("plan");
        assert_eq!(plan.read.map, "queueHistory.all");
        assert!(plan.read.from < plan.read.to);
        // Nothing stored: no queue has a measured time.
        assert_eq!(plan.finish().map(|m| m.by_sid.len()), Some(0));
    }
}
