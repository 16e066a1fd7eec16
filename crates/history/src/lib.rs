//! Queue history for Flex supervisors: hourly figures per TaskQueue and channel, kept in Twilio
//! Sync beyond TaskRouter's 30 days, and the series a wallboard charts from them.
//!
//! # The model
//!
//! A **bucket** ([`Bucket`]) holds one queue's figures for one channel (`all` and each channel
//! of `QUEUE_STATS_CHANNELS`) and one **closed hour** of the zone `QUEUE_STATS_TIME_ZONE`. Hours
//! are local hours identified by their start instant ([`time`]): a local day has 23 buckets when
//! the clocks spring forward and 25 when they fall back; half-hour zones have buckets starting at
//! `:30` UTC.
//!
//! Every figure in a bucket is a count or a sum, so buckets add up exactly:
//!
//! | figure | source |
//! |---|---|
//! | tasks entered, accepted, abandoned; wait until accepted (total, max); wait until abandoned (total); per SLA threshold accepted / canceled below and above; short abandons (canceled below `QUEUE_HISTORY_SHORT_ABANDON`, default 5 s) | TaskRouter's cumulative statistics of the queue for exactly that hour (`StartDate`/`EndDate` = the bucket's boundaries): TaskRouter is the source of truth |
//! | worker-seconds available and logged in | TaskRouter's worker cumulative statistics for the queue and hour (`activity_durations`): logged in = every activity but `QUEUE_HISTORY_OFFLINE_ACTIVITIES`, available = `QUEUE_HISTORY_AVAILABLE_ACTIVITIES` |
//! | handle time (total, tasks) | TaskRouter's events: accepted → completed per task, see [`handle_times`] — a function of the *set* of events, so duplicates and order change nothing |
//!
//! A closed hour is fetched once, written once ([`store`]: one Sync map per channel; items are
//! created, never updated)
//! and never changes; TaskRouter keeps 30 days, so a missing hour within them is backfilled on
//! demand, and older hours exist only if they were closed in time.
//!
//! # Aggregation
//!
//! [`aggregate`] groups the buckets of a [`Query`] by hour, hour of day, day of week, date or
//! queue, and computes each group's figures from its summed counts: average wait = Σ wait / Σ
//! accepted; average abandon time = Σ abandon wait / Σ abandoned; average handle = Σ handle /
//! Σ handled; service level per threshold *T* = Σ accepted below *T* / (Σ accepted below + Σ
//! accepted above + Σ canceled above) — the live record's definition, short abandons counting
//! neither way; agents = Σ worker-seconds / Σ seconds of the distinct hours. Never an average of
//! averages.
//!
//! # Ranges
//!
//! [`query`] reads `range` (`today`, `yesterday`, `last7`, `last30`) or `from`/`to` (a local
//! date, a local wall time down to the hour or minute, or an instant); a `to` that is a date alone
//! includes that day. Wall times in a DST gap move forward by the gap, in a fold to the earlier
//! instant (the service's one rule, `values::time::DST_RULE`).
//! Only closed hours are in a series: the current hour appears once it is over.
//!
//! This crate never reads a clock: the shim passes the current instant.

// The public surface: the items re-exported below, and three modules other crates build on
// (`time`: local hours and ranges, also agent history's; `claim` and `store`: what the history
// machines in crates/history-machines read and write).
mod agents;
mod aggregate;
mod bucket;
pub mod claim;
mod config;
mod error;
mod event;
mod handle;
mod query;
pub mod store;
pub mod time;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use aggregate::{
    aggregate, aggregate_known, aggregate_with, missing, Figures, Missing, Note, QueueName, Row,
    Series,
};
pub use bucket::{Bucket, Split};
pub use config::{Config, Env, ALL};
pub use error::HistoryError;
pub use handle::{handle_times, HandleSum};
pub use query::{query, By, Params, Query};
pub use store::{hour_items, map_name, write_cost, HourInput, Item, QueueHour, MAP_NAME};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The TaskRouter request parameters to close the hour starting at `start`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourParams {
    pub start_date: String,
    pub end_date: String,
    /// `reservation.accepted` events are read from here (the look-back of [`HANDLE_LOOKBACK_HOURS`]).
    pub events_from: String,
    pub split_by_wait_time: String,
    pub channels: Vec<String>,
    /// Key ranges (inclusive) of stored hours past retention, to delete: one per channel.
    pub prune: Vec<KeyRange>,
    /// The keys of this hour's `all` items: when any exists, the hour is closed already.
    pub stored: KeyRange,
}

/// Keys `from` to `to` (inclusive) of the Sync map `map`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyRange {
    pub map: String,
    pub from: String,
    pub to: String,
}

/// A task accepted more than this many hours before it completed has no handle time.
pub const HANDLE_LOOKBACK_HOURS: i64 = 12;

/// The parameters of the TaskRouter calls that close the hour starting at `start`.
pub fn hour_params(config: &Config, start: DateTime<Utc>) -> HourParams {
    let zone = config.time_zone;
    let end = time::next_hour(zone, start);
    let expired = start - chrono::Duration::days(i64::from(config.retention_days));
    HourParams {
        start_date: time::iso(start),
        end_date: time::iso(end),
        events_from: time::iso(start - chrono::Duration::hours(HANDLE_LOOKBACK_HOURS)),
        split_by_wait_time: config
            .split_by_wait_time()
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        prune: config
            .all_channels()
            .into_iter()
            .map(|c| {
                let (_, to) = store::key_range(&c, expired, expired);
                KeyRange {
                    map: store::map_name(&c),
                    from: format!("{c}."),
                    to,
                }
            })
            .collect(),
        stored: {
            let (from, to) = store::key_range(ALL, start, start);
            KeyRange {
                map: store::map_name(ALL),
                from,
                to,
            }
        },
        channels: config.all_channels(),
    }
}

#[cfg(test)]
mod tests;
