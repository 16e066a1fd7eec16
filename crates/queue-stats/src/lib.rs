//! Real-time queue statistics for Flex supervisors, kept in Twilio Sync from the TaskRouter event
//! stream.
//!
//! # The model
//!
//! A **record** per TaskQueue holds the figures the published Flex realtime stats dashboard reads
//! (`sid`, `friendlyName`, `realTimeStats_<channel>`, `cumulativeStats_<channel>`, with the
//! published short names such as `rAccepted` and `tCanc`) plus additive fields: `updatedAt`,
//! `oldestTaskEnteredAt` (an instant, so a client ages the oldest waiting task live with no
//! scheduler), per channel a `serviceLevel` per threshold, `slaTarget` and `todayStartedAt`.
//! Channel blocks exist for `all` (no channel filter) and for each channel of
//! `QUEUE_STATS_CHANNELS` (default `voice,chat,video`); other channels are left out.
//!
//! Records change only when TaskRouter says something happened. Each workspace event becomes a
//! [`Plan`] ([`plan`]):
//!
//! - a task or reservation event for a queue refreshes that queue on `all` and on the task's
//!   channel: one `TaskQueues/{sid}/Statistics` call per channel, which returns real-time and
//!   cumulative figures together — two calls per event instead of the published 1 + 8 × queues;
//! - `task-queue.created` / `task-queue.deleted` add and remove the record;
//! - worker events carry no queue: the agent figures of the worker's queues are refreshed through
//!   the bulk real-time endpoint (up to [`BULK_LIMIT`] queues per request);
//! - everything else — and any event that is malformed — is [`Plan::None`] with a reason. No
//!   event is ever an error: TaskRouter retries failed callbacks, and a bad event would be retried
//!   for nothing.
//!
//! [`record::build`] turns the statistics responses into the record over the previous one, and
//! says whether its content changed ([`record::same_content`] ignores what moves with the clock
//! alone: `updatedAt`, the oldest task's age, the statistics' end time), so the shim can skip
//! Sync writes that would change nothing. Sync allows 20 writes per second per object, an item
//! counting against its map; skipped writes are budget saved.
//!
//! # Service level
//!
//! For each threshold *T* of `QUEUE_STATS_SLA_THRESHOLDS` (default 30, 60, 120 s), from
//! TaskRouter's `split_by_wait_time`:
//!
//! ```text
//! level(T) = accepted below T / (accepted below T + accepted above T + canceled above T)
//! ```
//!
//! Tasks abandoned before *T* (short abandons) count neither way. `level` is `null` when the
//! denominator is zero (nothing happened today), and `breached` is `level < target`
//! (`QUEUE_STATS_SLA_TARGET`, default 80 %; never breached when `null`).
//!
//! # Today
//!
//! Cumulative figures cover "today": from the start of the current local day in
//! `QUEUE_STATS_TIME_ZONE` (default UTC) to now. The caller passes the current instant; this
//! crate never reads a clock. When local midnight falls in a DST fold the earlier midnight is
//! used; when it falls in a gap, the day starts at the instant the clocks jumped
//! ([`today::start_of_day`]).
//!
//! # Writing
//!
//! [`write_plan`] decides each record's Sync steps: a deleted queue stays deleted (Statistics 404
//! with no record writes nothing; a record known to exist is only updated, never re-created); an
//! unchanged record is skipped only against what Sync itself returned in this refresh; the
//! documents index repairs a missing entry; each write's cost against its object's size-dependent
//! budget is [`write_cost`] (see the [`write`] module). The [`store`] machine performs a plan on
//! the effects protocol (docs/effects.md): the reads, creates and updates it takes, what a 404 or
//! a 409 means on the way, and what the container remembers afterwards.
//!
//! # Reading
//!
//! The [`refresh`] machine is a queue's run on the effects protocol: it merges the events that
//! arrived during the queue's previous run ([`refresh::merge`]), reads what the record needs (the
//! stored record when the container does not remember it, `Statistics` per channel, the parked
//! calls, the queue's name when nothing gives it), builds the record and continues into the
//! [`store`] machine. Its bulk machine ([`refresh::bulk`]) turns worker events into paced bulk
//! requests ([`refresh::bulk_pace`]: 5 a second) whose entries go through each queue's run.
//!
//! # Size
//!
//! A record must stay under Sync's 16 KiB ([`record::RECORD_LIMIT`]). When it would not, channel
//! blocks are dropped from the last configured channel backwards, then `all`'s per-priority and
//! per-activity detail, and the record's `omitted` field says what is missing.

pub mod config;
mod error;
pub mod event;
pub mod kept;
pub mod record;
pub mod refresh;
pub mod services;
pub mod store;
pub mod tally;
pub mod today;
pub mod write;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use config::{Config, Env, Layout};
pub use error::{ConfigError, InputError};
pub use event::{plan, Plan};
pub use record::{Built, Fetched, QueueRef};
pub use write::{write_cost, write_plan, Known, WriteInput, WritePlan};

/// Every setting this crate reads: the functions hand its instance these and nothing else (never a
/// secret); a unit test checks the sources against this list.
pub const SETTINGS: &[&str] = &[
    "QUEUE_STATS_TIME_ZONE",
    "QUEUE_STATS_CHANNELS",
    "QUEUE_STATS_SLA_THRESHOLDS",
    "QUEUE_STATS_SLA_TARGET",
    "QUEUE_STATS_LAYOUT",
    "WORKSPACE_SID",
    "TWILIO_FLEX_WORKSPACE_SID",
    "TWILIO_FLEX_SYNC_SID",
    "SYNC_SERVICE_SID",
    "WALLBOARD_SYNC_SID",
];

/// The bulk real-time statistics endpoint takes at most this many queues per request.
pub const BULK_LIMIT: usize = 50;

/// The Sync map of the published layout, and the prefix of the documents layout's names.
pub const MAP_NAME: &str = "queueStats";

/// The documents layout's Sync document for a queue: `queueStats.<queueSid>`.
pub fn document_name(queue_sid: &str) -> String {
    format!("{MAP_NAME}.{queue_sid}")
}

/// The documents layout's Sync map listing the queues: one item per queue, keyed by its SID,
/// `{sid, friendlyName, document}`. Written only when a queue appears or disappears.
pub const INDEX_MAP_NAME: &str = "queueStats.index";

/// The index entry for a queue in the documents layout.
pub fn index_entry(queue_sid: &str, friendly_name: &str) -> serde_json::Value {
    serde_json::json!({
        "sid": queue_sid,
        "friendlyName": friendly_name.chars().take(256).collect::<String>(),
        "document": document_name(queue_sid),
    })
}

/// The parameters of every `Statistics` call for "today": `StartDate` (UTC, ISO 8601) and
/// `SplitByWaitTime`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatisticsParams {
    pub start_date: String,
    pub split_by_wait_time: String,
}

pub fn statistics_params(config: &Config, now_ms: f64) -> Result<StatisticsParams, InputError> {
    let now = today::instant(now_ms)?;
    Ok(StatisticsParams {
        start_date: today::iso(today::start_of_day(config.time_zone, now)),
        split_by_wait_time: config.split_by_wait_time(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_params_follow_the_zone() {
        let config = Config::from_env(&Env {
            shared: queue_settings::SharedEnv {
                time_zone: Some("America/New_York".into()),
                sla_thresholds: Some("20,60".into()),
                ..Default::default()
            },
            ..Env::default()
        })
        .unwrap();
        // 2024-05-01T02:30:00Z is still 30 April in New York.
        let p = statistics_params(&config, 1_714_530_600_000.0).unwrap();
        assert_eq!(p.start_date, "2024-04-30T04:00:00Z");
        assert_eq!(p.split_by_wait_time, "20,60");
        assert!(statistics_params(&config, f64::NAN).is_err());
    }

    #[test]
    fn every_setting_the_sources_read_is_in_settings() {
        let sources = [
            include_str!("config.rs"),
            include_str!("wasm.rs"),
            include_str!("event.rs"),
            include_str!("refresh.rs"),
            include_str!("store.rs"),
            include_str!("services.rs"),
        ];
        let prefixes = [
            "QUEUE_STATS_",
            "WORKSPACE_",
            "TWILIO_FLEX_",
            "SYNC_SERVICE_",
            "WALLBOARD_",
        ];
        values::env::settings_listed(&sources, &prefixes, SETTINGS, "QUEUE_STATS_LAYOUT").unwrap();
    }

    #[test]
    fn names() {
        let sid = "WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        assert_eq!(document_name(sid), format!("queueStats.{sid}"));
        assert_eq!(index_entry(sid, "Sales")["document"], document_name(sid));
    }
}
