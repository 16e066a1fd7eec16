//! Wiring closed hours ([`crate::rollup`]): which hour the event callback's hook closes next and
//! what it reads for it, and which records `GET /agent-history` still reads for the hours of its
//! range that are not closed.
//!
//! The hook closes the last local hour a minute ([`SETTLE_MS`]) after it ends; after one it closed,
//! it goes on with the next one up to [`CATCH_UP_HOURS`] behind (hours with no event in between),
//! so the activity at each hour's end is carried forward hour after hour. One container closes an
//! hour: it claims it first in [`CLAIMS_MAP`] (the queue history's `history::claim` rules).
//! An hour is read from `agentHours` when all its chunks are there; every other hour of a range is
//! computed from the records, as before closed hours existed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aggregate::{series, AgentInfo, Series};
use crate::config::Config;
use crate::query::{split_by_day, KeyRange, Query};
use crate::record::{key_range, map_names, utc_hour, Record};
use crate::rollup::{read_hours, records_from, rollup_key, rollup_range, ROLLUP_MAP};
use crate::timeline::{agent_hours, bucket};

/// The hook closes an hour this long after it ends (events of its last seconds still arriving).
pub const SETTLE_MS: i64 = 60_000;
/// After the latest closed hour, the hook closes the following ones while they are at most this
/// many hours behind the last ended one; further behind, it starts again at the last ended hour.
pub const CATCH_UP_HOURS: i64 = 24;
/// The Sync map of claims on closing an hour.
pub const CLAIMS_MAP: &str = "agentHoursClaims";

fn at(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// The start of the local hour before the one starting at `start`.
fn previous_hour(config: &Config, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    at(bucket(config.time_zone, start.timestamp_millis() - 1))
}

/// One hour to close and what to read for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub start: String,
    pub end: String,
    /// The claim item's key (`history::claim::claim_key`).
    pub claim_key: String,
    /// The key of its first item: the hour is closed when the hook finds it.
    pub first_key: String,
    /// The records to list: every map, from [`crate::timeline::LOOKBACK_HOURS`] before the hour to
    /// its end, one listing per map and UTC day.
    pub listings: Vec<KeyRange>,
    /// The items of the hour before (their end activities are carried forward).
    pub previous: KeyRange,
}

/// The start of the closed hour an `agentHours` key names (`<YYYYMMDDTHHMMZ>.<chunk>`).
pub fn key_start(key: &str) -> Option<DateTime<Utc>> {
    let stamp = key.split('.').next()?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
        .ok()
        .map(|n| n.and_utc())
}

/// The job for the hour starting at `start`.
pub fn job(config: &Config, start: DateTime<Utc>) -> Option<Job> {
    let zone = config.time_zone;
    let end = history::time::next_hour(zone, start);
    if end <= start {
        return None;
    }
    let (from, to) = key_range(
        utc_hour(records_from(start).timestamp_millis()),
        utc_hour(end.timestamp_millis() - 1),
    );
    let listings = map_names(config)
        .into_iter()
        .flat_map(|map| {
            split_by_day(&KeyRange {
                map,
                from: from.clone(),
                to: to.clone(),
            })
        })
        .collect();
    let prev = previous_hour(config, start)?;
    let (pf, pt) = rollup_range(prev, prev);
    Some(Job {
        start: history::time::iso(start),
        end: history::time::iso(end),
        claim_key: history::claim::claim_key(start),
        first_key: rollup_key(start, 0),
        listings,
        previous: KeyRange {
            map: ROLLUP_MAP.to_string(),
            from: pf,
            to: pt,
        },
    })
}

/// The hour the hook closes next at `now_ms`, given the key of the latest `agentHours` item (none
/// when nothing is closed), or `None` when the last ended hour is closed already.
pub fn next_close(config: &Config, now_ms: i64, latest_key: Option<&str>) -> Option<Job> {
    let zone = config.time_zone;
    let current = bucket(zone, now_ms.checked_sub(SETTLE_MS)?);
    let last = previous_hour(config, at(current)?)?;
    let start = match latest_key.and_then(key_start) {
        Some(l) if l >= last => return None,
        Some(l) => {
            let next = history::time::next_hour(zone, l);
            if next > l && next >= last - Duration::hours(CATCH_UP_HOURS) {
                next
            } else {
                last
            }
        }
        None => last,
    };
    job(config, start)
}

/// The head of an `agentHours` item: enough to tell which hours are complete, without building
/// the agents' rows (serde skips them).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Head {
    v: Option<i64>,
    start: Option<String>,
    chunk: Option<usize>,
    chunks: Option<usize>,
}

/// The starts of the hours whose every chunk is among `items` (JSON text of an array of item
/// data). Text that is not an array of objects counts as no hour (all read from records).
pub fn complete_hours(items: &str) -> BTreeSet<DateTime<Utc>> {
    let heads: Vec<Head> = serde_json::from_str(items).unwrap_or_default();
    let mut seen: BTreeMap<DateTime<Utc>, (usize, BTreeSet<usize>)> = BTreeMap::new();
    for h in heads {
        let (Some(1), Some(start), Some(chunk), Some(chunks)) = (h.v, h.start, h.chunk, h.chunks)
        else {
            continue;
        };
        let Some(start) = values::instant::parse(&start) else {
            continue;
        };
        seen.entry(start)
            .or_insert((chunks, BTreeSet::new()))
            .1
            .insert(chunk);
    }
    seen.into_iter()
        .filter(|(_, (n, chunks))| *n <= 64 && (0..*n).all(|c| chunks.contains(&c)))
        .map(|(s, _)| s)
        .collect()
}

/// The hours of `query` that are not complete in `complete`.
pub fn unclosed(config: &Config, query: &Query, complete: &BTreeSet<DateTime<Utc>>) -> Vec<DateTime<Utc>> {
    let (Some(from), Some(to)) = (
        values::instant::parse(&query.from),
        values::instant::parse(&query.to),
    ) else {
        return Vec::new();
    };
    history::time::hours(config.time_zone, from, to)
        .into_iter()
        .filter(|h| !complete.contains(h))
        .collect()
}

/// The records to list for the hours of `query` not in `complete`: for each run of consecutive
/// unclosed hours, every map from [`crate::timeline::LOOKBACK_HOURS`] before it to its end
/// (overlapping runs merged), one listing per map and UTC day.
pub fn record_listings(
    config: &Config,
    query: &Query,
    complete: &BTreeSet<DateTime<Utc>>,
) -> Vec<KeyRange> {
    let zone = config.time_zone;
    let mut runs: Vec<(i64, i64)> = Vec::new(); // UTC hour ms, first and last (inclusive)
    for h in unclosed(config, query, complete) {
        let first = utc_hour(records_from(h).timestamp_millis());
        let last = utc_hour(history::time::next_hour(zone, h).timestamp_millis() - 1);
        match runs.last_mut() {
            Some(r) if first <= r.1 + 3_600_000 => r.1 = r.1.max(last),
            _ => runs.push((first, last)),
        }
    }
    let maps = map_names(config);
    runs.into_iter()
        .flat_map(|(first, last)| {
            let (from, to) = key_range(first, last);
            maps.iter()
                .flat_map(|map| {
                    split_by_day(&KeyRange {
                        map: map.clone(),
                        from: from.clone(),
                        to: to.clone(),
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The listings of `agentHours` for `query`'s closed hours, one per UTC day.
pub fn hour_listings(query: &Query) -> Vec<KeyRange> {
    query.hours.as_ref().map(split_by_day).unwrap_or_default()
}

/// The series of `query`: complete closed hours from `hour_items`, every other hour from
/// `records` (listed with [`record_listings`]). Answers the series and how many hours came from
/// the records.
pub fn answer(
    config: &Config,
    query: &Query,
    hour_items: &[Value],
    records: &[Value],
    directory: &[AgentInfo],
) -> (Series, usize) {
    let (mut hours, complete) = read_hours(hour_items);
    let rest = unclosed(config, query, &complete);
    if let (Some(from), Some(to), false) = (
        values::instant::parse(&query.from),
        values::instant::parse(&query.to),
        rest.is_empty(),
    ) {
        let records: Vec<Record> = records.iter().filter_map(Record::from_value).collect();
        let wanted: BTreeSet<&DateTime<Utc>> = rest.iter().collect();
        hours.extend(
            agent_hours(
                config.time_zone,
                &records,
                from.timestamp_millis(),
                to.timestamp_millis(),
            )
            .into_iter()
            .filter(|h| wanted.contains(&h.hour)),
        );
    }
    hours.sort_by(|a, b| (&a.worker, a.hour).cmp(&(&b.worker, b.hour)));
    (series(config, query, &hours, directory), rest.len())
}
