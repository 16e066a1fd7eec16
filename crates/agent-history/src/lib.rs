//! Agent history for Flex supervisors: per agent and local hour, the time in each activity, the
//! reservations accepted, rejected, timed out and canceled, the tasks completed with their handle
//! and wrap-up time and disposition codes — what TaskRouter does not keep (its statistics last 30
//! days and have none of this per hour) — kept in Twilio Sync and aggregated into series.
//!
//! # The model
//!
//! TaskRouter's events ([`event`]: `worker.activity.update` with the previous activity and the time
//! spent in it, `reservation.accepted` / `.rejected` / `.timeout` / `.canceled` / `.wrapup` /
//! `.completed` with the task's attributes) become **facts** in a [`Record`] per agent and UTC hour:
//! activity changes keyed by the event's SID, reservations keyed by their SID with the instant of
//! each step. Figures are never counters: they are computed from the facts when read
//! ([`timeline`]), so
//!
//! - a **duplicate** event finds its fact already there and changes nothing (no write either);
//! - **late and out-of-order** events only add facts: the records, and every figure, are functions
//!   of the set of events, whatever the order;
//! - the **work per event** is one record: one Sync item read and at most one write, whatever the
//!   history holds.
//!
//! Why facts keyed by event and reservation rather than accumulated seconds: a counter cannot tell
//! a redelivered callback from a new one, and seconds accumulated per hour must be split across the
//! hours a span covers — many writes for one event (an agent offline overnight), each one able to
//! half-fail. A change entry and the duration TaskRouter gives with it (`WorkerTimeInPreviousActivityMs`)
//! determine the span exactly, so spans are cut into local hours when read, in integer
//! milliseconds: an agent-hour's seconds per activity add up exactly to its observed time, and a DST
//! day has 23 or 25 hour buckets ([`history::time`], shared with the queue history).
//!
//! # Storage
//!
//! Items `<UTC hour>.<WK…>.<chunk>` in `AGENT_HISTORY_MAPS` (default 4) maps `agentHistory.<n>`,
//! each agent always in the same map ([`record::map_name`]); hours sort by time, so a range is one
//! listing per map. Items stay under 14,000 bytes ([`record::ITEM_LIMIT`], Sync's limit is 16 KiB);
//! a fuller hour continues in the next chunk. Records are kept `AGENT_HISTORY_RETENTION_DAYS`
//! (default 400) and then deleted ([`record::expired`]): Sync's TTLs cannot exceed a year.
//!
//! **Closed hours** ([`rollup`]): a minute after a local hour ends, every agent's figures for it
//! are packed into a few items of map `agentHours` (about 100 bytes per agent), the activity at
//! the hour's end carried forward for agents with no event, so a month is a few thousand items
//! instead of tens of thousands of records, and the series from them equals the series from the
//! records. A late event closes its agent's rows of the closed hours again
//! ([`rollup::patch_agent`]), written with If-Match on revisions read before the records.
//!
//! **Closed days** ([`days`]): once a local day's hours are all closed, each agent's sums over the
//! day and every hour's sums over all agents go into a few items of map `agentDays`, so a month of
//! 200 agents is read as about 90 small items; sums of integers, so the series is exactly the one
//! from the hours. Closed hours and days are deleted past the retention as hours close.
//!
//! # Queries
//!
//! [`query()`] validates `agent` (a Worker SID, several separated by commas, `all`, or
//! `team:<name>`), `range` or `from`/`to`, and `by` (`hour`, `date`, `dayOfWeek`, `agent`,
//! `activity`, `disposition`); a bad one is a 400 naming it. [`aggregate()`] reads the listed
//! records into agent-hours and groups them ([`aggregate::series`]): sums first, one division per
//! figure, averages weighted by counts and shares by time, as the queue history.
//!
//! This crate never reads a clock: the shim passes the current instant.

pub mod aggregate;
pub mod bench;
pub mod close;
pub mod config;
pub mod days;
mod error;
pub mod event;
pub mod hook;
pub mod machine;
pub mod query;
pub mod record;
pub mod rollup;
pub mod timeline;

/// Every setting this crate reads: the functions hand its machines these and nothing else (never
/// a secret), so a name missing here is a setting silently ignored; a unit test checks the
/// sources against this list.
pub const SETTINGS: &[&str] = &[
    "AGENT_HISTORY_ENABLED",
    "AGENT_HISTORY_KEY_SEES_NAMES",
    "AGENT_HISTORY_DISPOSITION_ATTRIBUTE",
    "AGENT_HISTORY_TEAM_ATTRIBUTE",
    "AGENT_HISTORY_RETENTION_DAYS",
    "AGENT_HISTORY_OFFLINE_ACTIVITIES",
    "AGENT_HISTORY_MAPS",
    "QUEUE_STATS_TIME_ZONE",
    "WORKSPACE_SID",
    "TWILIO_FLEX_WORKSPACE_SID",
    "TWILIO_FLEX_SYNC_SID",
];

pub use aggregate::{aggregate, series, AgentInfo, Figures, Row, Series};
pub use config::{Config, Env};
pub use error::AgentHistoryError;
pub use event::{read_event, AgentEvent, Change, Step};
pub use query::{query, Agents, By, Params, Query};
pub use record::{Applied, Record};
pub use timeline::{agent_hours, AgentHour, HourFigures};

#[cfg(test)]
mod hook_tests;
#[cfg(test)]
mod tests;

#[cfg(target_arch = "wasm32")]
mod hook_wasm;
#[cfg(target_arch = "wasm32")]
mod wasm;
