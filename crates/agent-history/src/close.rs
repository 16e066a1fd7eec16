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

use chrono::NaiveDate;

use crate::aggregate::{hour_parts, series_of, AgentInfo, Part, Series, Sum};
use crate::config::Config;
use crate::days::{day_range, ends_day, read_days, whole_days, Day, HourSum, DAYS_MAP};
use crate::event::{AgentEvent, Change};
use crate::query::{split_by_day, Agents, By, KeyRange, Query};
use crate::record::{agent_keys, key_range, map_name, map_names, utc_hour, Record};
use crate::rollup::{read_hours, records_from, rollup_key, rollup_range, ROLLUP_MAP};
use crate::timeline::{agent_hours, bucket, AgentHour};

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
    /// When the hour is its local day's last: the day to sum into `agentDays` once it is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<DayJob>,
}

/// A local day to sum into `agentDays` ([`crate::days`]) from its closed hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayJob {
    pub date: String,
    /// Its hours' `agentHours` items.
    pub hours: KeyRange,
    /// Its `agentDays` items (their revisions: a rebuild replaces them with If-Match).
    pub days: KeyRange,
}

/// The day job of the local date `date`.
pub fn day_job(config: &Config, date: NaiveDate) -> Option<DayJob> {
    let zone = config.time_zone;
    let start = history::time::day_start(zone, date);
    let end = history::time::next_day_start(zone, date);
    let last = previous_hour(config, end)?;
    let (hf, ht) = rollup_range(start, last);
    let (df, dt) = day_range(date, date);
    Some(DayJob {
        date: date.to_string(),
        hours: KeyRange {
            map: ROLLUP_MAP.to_string(),
            from: hf,
            to: ht,
        },
        days: KeyRange {
            map: DAYS_MAP.to_string(),
            from: df,
            to: dt,
        },
    })
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
    job_at(config, start, i64::MIN)
}

/// The job for the hour starting at `start`, closed at `now_ms`: its records are listed up to now
/// (at most [`RECLOSE_MAX_HOURS`] after the hour), so an hour closed late (catching up, or on
/// read) sees the changes recorded since whose spans reach back into it — what closing it again
/// for each of them would give.
pub fn job_at(config: &Config, start: DateTime<Utc>, now_ms: i64) -> Option<Job> {
    let zone = config.time_zone;
    let end = history::time::next_hour(zone, start);
    if end <= start {
        return None;
    }
    let last = (end.timestamp_millis() - 1)
        .max(now_ms.min(end.timestamp_millis() + RECLOSE_MAX_HOURS * 3_600_000));
    let (from, to) = key_range(
        utc_hour(records_from(start).timestamp_millis()),
        utc_hour(last),
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
        day: ends_day(zone, start).and_then(|d| day_job(config, d)),
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
    job_at(config, start, now_ms)
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
        let entry = seen.entry(start).or_insert((chunks, BTreeSet::new()));
        entry.0 = entry.0.max(chunks);
        entry.1.insert(chunk);
    }
    seen.into_iter()
        .filter(|(_, (n, chunks))| *n <= 64 && (0..*n).all(|c| chunks.contains(&c)))
        .map(|(s, _)| s)
        .collect()
}

/// The hours of `query` that are not complete in `complete`.
pub fn unclosed(
    config: &Config,
    query: &Query,
    complete: &BTreeSet<DateTime<Utc>>,
) -> Vec<DateTime<Utc>> {
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
/// (`split_by_day` starts a day at the records' `YYYYMMDDT00Z.`, which sorts after this map's
/// `YYYYMMDDT0000Z.` keys, so a day here starts at `YYYYMMDDT`.)
pub fn hour_listings(query: &Query) -> Vec<KeyRange> {
    let Some(range) = query.hours.as_ref() else {
        return Vec::new();
    };
    split_by_day(range)
        .into_iter()
        .map(|mut r| {
            if r.from != range.from {
                if let Some(day) = r.from.get(0..8) {
                    r.from = format!("{day}T");
                }
            }
            r
        })
        .collect()
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
    let (series, from_records, _) = answer_from(config, query, &[], hour_items, records, directory);
    (series, from_records.len())
}

fn range_of(query: &Query) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((
        values::instant::parse(&query.from)?,
        values::instant::parse(&query.to)?,
    ))
}

/// The local days of `query` read from `agentDays`: those wholly in its range — unless the series
/// is by hour of chosen agents (a day has hour sums of all agents only).
pub fn day_dates(config: &Config, query: &Query) -> Vec<NaiveDate> {
    if query.by == By::Hour && query.agents != Agents::All {
        return Vec::new();
    }
    range_of(query)
        .map(|(from, to)| whole_days(config.time_zone, from, to))
        .unwrap_or_default()
}

/// Whether `query` is by hour of chosen agents (a team or named agents): a day's rows do not
/// answer it, its team's hour sums or its agents' hours ([`crate::days::DETAIL_MAP`]) do.
fn hour_of_chosen(query: &Query) -> bool {
    query.by == By::Hour && query.agents != Agents::All
}

/// The local days of `query` read from `agentDays`: those wholly in its range (by hour of chosen
/// agents too: [`chosen_hours`] says whether a day read answers it).
pub fn planned_dates(config: &Config, query: &Query) -> Vec<NaiveDate> {
    if !hour_of_chosen(query) {
        return day_dates(config, query);
    }
    range_of(query)
        .map(|(from, to)| whole_days(config.time_zone, from, to))
        .unwrap_or_default()
}

/// What a closed day answers for by hour of chosen agents.
#[derive(Debug, Clone)]
enum Chosen {
    /// The team's hour sums (its members that day are the directory's now).
    Sums(Vec<HourSum>),
    /// The chosen agents' hours (from the day's detail buckets).
    Hours(Vec<AgentHour>),
}

/// The chosen agents among a day's rows (the agents with anything that day): named ones, or the
/// directory's members of the team.
fn chosen_in_day<'a>(
    query: &Query,
    day: &'a Day,
    dir: &BTreeMap<&str, &AgentInfo>,
) -> Vec<&'a str> {
    day.rows
        .iter()
        .map(|r| r.worker.as_str())
        .filter(|w| match &query.agents {
            Agents::All => true,
            Agents::List(sids) => sids.iter().any(|s| s == w),
            Agents::Team(team) => dir
                .get(w)
                .and_then(|a| a.team.as_deref())
                .is_some_and(|t| t == team),
        })
        .collect()
}

/// The detail buckets a day needs for `query` (by hour of chosen agents): none when its team's
/// sums answer (the team's members that day, by the team at the build, are the directory's now).
fn needed_buckets(
    query: &Query,
    day: &Day,
    dir: &BTreeMap<&str, &AgentInfo>,
) -> Option<BTreeSet<DetailPart>> {
    if let (Agents::Team(team), Some(_)) = (&query.agents, day.teams.as_ref()) {
        let stored: BTreeSet<&str> = day
            .rows
            .iter()
            .filter(|r| r.team.as_deref() == Some(team.as_str()))
            .map(|r| r.worker.as_str())
            .collect();
        let now: BTreeSet<&str> = chosen_in_day(query, day, dir).into_iter().collect();
        if stored == now {
            return Some(BTreeSet::new());
        }
    }
    let chosen = chosen_in_day(query, day, dir);
    if chosen.is_empty() {
        return Some(BTreeSet::new());
    }
    if day.per_agent {
        return Some(
            chosen
                .into_iter()
                .map(|w| DetailPart::Agent(w.to_string()))
                .collect(),
        );
    }
    let buckets = day.detail?;
    Some(
        chosen
            .into_iter()
            .map(|w| DetailPart::Bucket(crate::days::detail_bucket(w, buckets)))
            .collect(),
    )
}

/// What `day` answers for by hour of chosen agents, or `None` (read from its hours).
fn chosen_hours(
    query: &Query,
    date: NaiveDate,
    day: &Day,
    detail: &DetailRead,
    dir: &BTreeMap<&str, &AgentInfo>,
) -> Option<Chosen> {
    let needed = needed_buckets(query, day, dir)?;
    if needed.is_empty() {
        if let (Agents::Team(team), Some(teams)) = (&query.agents, day.teams.as_ref()) {
            let stored = day
                .rows
                .iter()
                .any(|r| r.team.as_deref() == Some(team.as_str()));
            let now = !chosen_in_day(query, day, dir).is_empty();
            if stored || now {
                return Some(Chosen::Sums(teams.get(team).cloned().unwrap_or_default()));
            }
        }
        return Some(Chosen::Hours(Vec::new()));
    }
    let chosen: BTreeSet<&str> = chosen_in_day(query, day, dir).into_iter().collect();
    let mut out = Vec::new();
    for b in needed {
        let hours = detail.get(&(date, day.generation, b))?;
        out.extend(
            hours
                .iter()
                .filter(|h| chosen.contains(h.worker.as_str()))
                .cloned(),
        );
    }
    Some(Chosen::Hours(out))
}

use crate::days::{DetailRead, Part as DetailPart};

/// A detail item to fetch: `map` and `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemKey {
    pub map: String,
    pub key: String,
}

/// The detail items ([`crate::days::DETAIL_MAP`]) `query` reads after its days (`day_items`): by
/// hour of named agents, or of a team whose members changed since a day was built, the buckets
/// of the chosen agents on each complete day that has them.
pub fn detail_keys(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    directory: &[AgentInfo],
) -> Vec<ItemKey> {
    needed_by_day(config, query, day_items, directory)
        .into_iter()
        .flat_map(|(date, _, needed)| {
            needed.into_iter().map(move |p| ItemKey {
                map: crate::days::DETAIL_MAP.to_string(),
                key: match p {
                    DetailPart::Bucket(b) => crate::days::detail_key(date, b),
                    DetailPart::Agent(w) => crate::days::agent_detail_key(&w, date),
                },
            })
        })
        .collect()
}

/// Each planned day read that needs detail buckets for `query` (by hour of chosen agents): its
/// date, how many buckets it has (when known) and the ones needed; the one walk both
/// [`detail_keys`] and [`detail_listings`] read.
fn needed_by_day(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    directory: &[AgentInfo],
) -> Vec<(NaiveDate, Option<usize>, BTreeSet<DetailPart>)> {
    if !hour_of_chosen(query) {
        return Vec::new();
    }
    let dir: BTreeMap<&str, &AgentInfo> = directory.iter().map(|a| (a.sid.as_str(), a)).collect();
    let wanted: BTreeSet<NaiveDate> = planned_dates(config, query).into_iter().collect();
    read_days(day_items)
        .into_iter()
        .filter(|(date, _)| wanted.contains(date))
        .filter_map(|(date, day)| {
            let needed = needed_buckets(query, &day, &dir)?;
            (!needed.is_empty()).then_some((date, day.detail, needed))
        })
        .collect()
}

/// A day's detail buckets read with one listing when at most this many buckets it does not need
/// lie between two it needs (in key order); a wider gap starts another listing. Measured
/// (docs/benchmarks.md): a request costs far more than a few 8 KB items read for nothing.
pub const DETAIL_GAP: usize = 4;

/// One listing of detail buckets ([`crate::days::DETAIL_MAP`]): the keys `from` to `to`
/// (inclusive, key order) of one day, `page_size` of them — one Sync page (at most 100).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailListing {
    pub map: String,
    pub from: String,
    pub to: String,
    pub page_size: u32,
}

/// The detail buckets [`detail_keys`] names, read as listings: per day, the needed buckets in
/// key order (`<date>.0`, `<date>.1`, `<date>.10`… sort as text), runs of them with at most
/// [`DETAIL_GAP`] unneeded buckets between, one listing a run (one page: a day has at most
/// [`crate::days::MAX_DETAIL_BUCKETS`] buckets, a run is cut at 100). For 10 named agents over
/// 29 days: 29–60 requests instead of about 200 fetches.
pub fn detail_listings(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    directory: &[AgentInfo],
) -> Vec<DetailListing> {
    let mut out = Vec::new();
    // The per-agent layout: each agent's needed days, read with one listing per run of at most
    // 100 days (its keys `<WK…>.<YYYYMMDD>` are neighbours: one page holds them all).
    let mut per_agent: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    for (date, total, needed) in needed_by_day(config, query, day_items, directory) {
        let mut buckets = BTreeSet::new();
        for p in needed {
            match p {
                DetailPart::Bucket(b) => {
                    buckets.insert(b);
                }
                DetailPart::Agent(w) => per_agent.entry(w).or_default().push(date),
            }
        }
        if let (Some(total), false) = (total, buckets.is_empty()) {
            out.extend(day_listings(date, total, &buckets));
        }
    }
    for (w, mut dates) in per_agent {
        dates.sort_unstable();
        let mut run: Option<(NaiveDate, NaiveDate)> = None;
        let mut flush = |(first, last): (NaiveDate, NaiveDate)| {
            let days = (last - first).num_days() + 1;
            out.push(DetailListing {
                map: crate::days::DETAIL_MAP.to_string(),
                from: crate::days::agent_detail_key(&w, first),
                to: crate::days::agent_detail_key(&w, last),
                page_size: u32::try_from(days.clamp(1, 100)).unwrap_or(100),
            });
        };
        for d in dates {
            run = match run {
                Some((first, _)) if (d - first).num_days() < 100 => Some((first, d)),
                Some(r) => {
                    flush(r);
                    Some((d, d))
                }
                None => Some((d, d)),
            };
        }
        if let Some(r) = run {
            flush(r);
        }
    }
    out
}

/// The listings of one day's `needed` buckets among its `total` (see [`detail_listings`]).
pub fn day_listings(date: NaiveDate, total: usize, needed: &BTreeSet<usize>) -> Vec<DetailListing> {
    // Every key of the day in Sync's order, each marked needed or not.
    let mut keys: Vec<(String, bool)> = (0..total.min(crate::days::MAX_DETAIL_BUCKETS))
        .map(|b| (crate::days::detail_key(date, b), needed.contains(&b)))
        .collect();
    keys.sort();
    let mut out = Vec::new();
    let mut flush = |(first, last): (usize, usize)| {
        if let (Some((from, _)), Some((to, _))) = (keys.get(first), keys.get(last)) {
            out.push(DetailListing {
                map: crate::days::DETAIL_MAP.to_string(),
                from: from.clone(),
                to: to.clone(),
                page_size: u32::try_from(last - first + 1).unwrap_or(100),
            });
        }
    };
    let mut run: Option<(usize, usize)> = None; // first and last index of the current run
    for (i, (_, need)) in keys.iter().enumerate() {
        if !*need {
            continue;
        }
        run = match run {
            Some((first, last)) if i - last <= DETAIL_GAP + 1 && i - first < 100 => {
                Some((first, i))
            }
            Some(r) => {
                flush(r);
                Some((i, i))
            }
            None => Some((i, i)),
        };
    }
    if let Some(r) = run {
        flush(r);
    }
    out
}

/// The planned days answered by what was read, and how.
fn days_answered(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    detail_items: &[Value],
    directory: &[AgentInfo],
) -> Vec<(NaiveDate, Day, Option<Chosen>)> {
    let wanted: BTreeSet<NaiveDate> = planned_dates(config, query).into_iter().collect();
    let days = read_days(day_items);
    if !hour_of_chosen(query) {
        return days
            .into_iter()
            .filter(|(d, _)| wanted.contains(d))
            .map(|(d, day)| (d, day, None))
            .collect();
    }
    let dir: BTreeMap<&str, &AgentInfo> = directory.iter().map(|a| (a.sid.as_str(), a)).collect();
    // Only the chosen agents' rows are decoded (named ones, or the directory's team members:
    // the agents of any day's choice are among them).
    let detail = crate::days::read_detail_of(detail_items, |w| match &query.agents {
        Agents::All => true,
        Agents::List(sids) => sids.iter().any(|s| s == w),
        Agents::Team(team) => dir
            .get(w)
            .and_then(|a| a.team.as_deref())
            .is_some_and(|t| t == team),
    });
    days.into_iter()
        .filter(|(d, _)| wanted.contains(d))
        .filter_map(|(d, day)| {
            let c = chosen_hours(query, d, &day, &detail, &dir)?;
            Some((d, day, Some(c)))
        })
        .collect()
}

/// Listings of `agentHours` for the planned days not answered by `day_items` and `detail_items`.
pub fn day_gaps_with(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    detail_items: &[Value],
    directory: &[AgentInfo],
) -> Vec<KeyRange> {
    let read: BTreeSet<NaiveDate> =
        days_answered(config, query, day_items, detail_items, directory)
            .into_iter()
            .map(|(d, _, _)| d)
            .collect();
    let missing: Vec<NaiveDate> = planned_dates(config, query)
        .into_iter()
        .filter(|d| !read.contains(d))
        .collect();
    let hours: Vec<DateTime<Utc>> = hours_of(config, &missing).into_iter().collect();
    hour_runs(config, &hours)
}

/// The hours of `query` answered by its days (with their detail) or by complete `hour_items`.
pub fn covered_with(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    detail_items: &[Value],
    hour_items: &[Value],
    directory: &[AgentInfo],
) -> BTreeSet<DateTime<Utc>> {
    let dates: Vec<NaiveDate> = days_answered(config, query, day_items, detail_items, directory)
        .into_iter()
        .map(|(d, _, _)| d)
        .collect();
    let mut out = hours_of(config, &dates);
    out.extend(read_hours(hour_items).1);
    out
}

/// The series of `query` from closed days (`day_items`, with their agents' hours `detail_items`
/// for by hour of chosen agents), closed hours (`hour_items`) and `records` for the rest — what
/// `GET /agent-history` answers. Answers the series, the hours that came from the records and
/// how many days came from `agentDays`.
pub fn answer_with(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    detail_items: &[Value],
    hour_items: &[Value],
    records: &[Value],
    directory: &[AgentInfo],
) -> (Series, Vec<DateTime<Utc>>, usize) {
    let days = days_answered(config, query, day_items, detail_items, directory);
    let dates: Vec<NaiveDate> = days.iter().map(|(d, _, _)| *d).collect();
    let in_days = hours_of(config, &dates);
    let (mut hours, mut complete) = read_hours(hour_items);
    hours.retain(|h| !in_days.contains(&h.hour));
    complete.extend(in_days.iter().copied());
    let rest = unclosed(config, query, &complete);
    if let (Some((from, to)), false) = (range_of(query), rest.is_empty()) {
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
    // The agents' hours of days answered from their detail: hour parts, not day rows.
    for (_, _, c) in &days {
        if let Some(Chosen::Hours(list)) = c {
            hours.extend(list.iter().cloned());
        }
    }
    let mut parts: Vec<Part> = hour_parts(&hours);
    let mut sums: Vec<Sum> = Vec::new();
    for (_, day, c) in &days {
        if matches!(c, Some(Chosen::Hours(_))) {
            continue;
        }
        parts.extend(day.rows.iter().map(|r| Part {
            worker: &r.worker,
            start: day.start,
            day: true,
            hours: r.hours,
            figures: &r.figures,
        }));
        let list: &[HourSum] = match c {
            Some(Chosen::Sums(team)) => team,
            _ if query.agents == Agents::All => &day.sums,
            _ => &[],
        };
        sums.extend(list.iter().map(|s| Sum {
            start: s.start,
            agents: s.agents,
            figures: &s.figures,
        }));
    }
    let series = series_of(config, query, &parts, &sums, directory);
    (series, rest, days.len())
}

/// The hours of `dates`.
fn hours_of(config: &Config, dates: &[NaiveDate]) -> BTreeSet<DateTime<Utc>> {
    let zone = config.time_zone;
    dates
        .iter()
        .flat_map(|d| {
            history::time::hours(
                zone,
                history::time::day_start(zone, *d),
                history::time::next_day_start(zone, *d),
            )
        })
        .collect()
}

/// Listings of `agentHours` for `hours` (sorted): one per run of consecutive hours and UTC day.
fn hour_runs(config: &Config, hours: &[DateTime<Utc>]) -> Vec<KeyRange> {
    let zone = config.time_zone;
    let mut runs: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for h in hours {
        match runs.last_mut() {
            Some(r) if history::time::next_hour(zone, r.1) == *h => r.1 = *h,
            _ => runs.push((*h, *h)),
        }
    }
    runs.into_iter()
        .flat_map(|(first, last)| {
            let (from, to) = rollup_range(first, last);
            let range = KeyRange {
                map: ROLLUP_MAP.to_string(),
                from,
                to,
            };
            split_by_day(&range)
                .into_iter()
                .map(|mut r| {
                    if r.from != range.from {
                        if let Some(day) = r.from.get(0..8) {
                            r.from = format!("{day}T");
                        }
                    }
                    r
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What `GET /agent-history` reads first, side by side: `days` (listings of `agentDays`, a few
/// days each) and `hours` (listings of `agentHours` for the hours outside those days).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub days: Vec<KeyRange>,
    pub hours: Vec<KeyRange>,
}

/// Days per listing of `agentDays` (a few items a day for 200 agents: one page).
const DAYS_PER_LISTING: usize = 5;

pub fn plan(config: &Config, query: &Query) -> Plan {
    let dates = planned_dates(config, query);
    let days = dates
        .chunks(DAYS_PER_LISTING)
        .filter_map(|c| {
            let (from, to) = day_range(*c.first()?, *c.last()?);
            Some(KeyRange {
                map: DAYS_MAP.to_string(),
                from,
                to,
            })
        })
        .collect();
    let in_days = hours_of(config, &dates);
    let rest: Vec<DateTime<Utc>> = range_of(query)
        .map(|(from, to)| history::time::hours(config.time_zone, from, to))
        .unwrap_or_default()
        .into_iter()
        .filter(|h| !in_days.contains(h))
        .collect();
    Plan {
        days,
        hours: hour_runs(config, &rest),
    }
}

/// The planned days complete among `day_items`.
fn days_read(config: &Config, query: &Query, day_items: &[Value]) -> Vec<NaiveDate> {
    let read = read_days(day_items);
    day_dates(config, query)
        .into_iter()
        .filter(|d| read.contains_key(d))
        .collect()
}

/// Listings of `agentHours` for the planned days not complete among `day_items`.
pub fn day_gaps(config: &Config, query: &Query, day_items: &[Value]) -> Vec<KeyRange> {
    let read: BTreeSet<NaiveDate> = days_read(config, query, day_items).into_iter().collect();
    let missing: Vec<NaiveDate> = day_dates(config, query)
        .into_iter()
        .filter(|d| !read.contains(d))
        .collect();
    let hours: Vec<DateTime<Utc>> = hours_of(config, &missing).into_iter().collect();
    hour_runs(config, &hours)
}

/// The hours of `query` answered by `day_items` or `hour_items` (complete ones).
pub fn covered(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    hour_items: &[Value],
) -> BTreeSet<DateTime<Utc>> {
    let mut out = hours_of(config, &days_read(config, query, day_items));
    out.extend(read_hours(hour_items).1);
    out
}

/// The series of `query` from closed days (`day_items`, the planned ones complete there), closed
/// hours (`hour_items`) and `records` for the rest. Answers the series, the hours that came from
/// the records (not closed) and how many days came from `agentDays`.
pub fn answer_from(
    config: &Config,
    query: &Query,
    day_items: &[Value],
    hour_items: &[Value],
    records: &[Value],
    directory: &[AgentInfo],
) -> (Series, Vec<DateTime<Utc>>, usize) {
    let wanted_days: BTreeSet<NaiveDate> = day_dates(config, query).into_iter().collect();
    let days: Vec<crate::days::Day> = read_days(day_items)
        .into_iter()
        .filter(|(d, _)| wanted_days.contains(d))
        .map(|(_, day)| day)
        .collect();
    let dates: Vec<NaiveDate> = days
        .iter()
        .map(|d| history::time::local_date(config.time_zone, d.start))
        .collect();
    let in_days = hours_of(config, &dates);
    let (mut hours, mut complete) = read_hours(hour_items);
    hours.retain(|h| !in_days.contains(&h.hour));
    complete.extend(in_days.iter().copied());
    let rest = unclosed(config, query, &complete);
    if let (Some((from, to)), false) = (range_of(query), rest.is_empty()) {
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
    let mut parts: Vec<Part> = hour_parts(&hours);
    let mut sums: Vec<Sum> = Vec::new();
    for day in &days {
        parts.extend(day.rows.iter().map(|r| Part {
            worker: &r.worker,
            start: day.start,
            day: true,
            hours: r.hours,
            figures: &r.figures,
        }));
        if query.agents == Agents::All {
            sums.extend(day.sums.iter().map(|s| Sum {
                start: s.start,
                agents: s.agents,
                figures: &s.figures,
            }));
        }
    }
    let series = series_of(config, query, &parts, &sums, directory);
    (series, rest, days.len())
}

/// The closed hours and days past retention at `now_ms`: for `agentHours` and `agentDays`, the
/// last key to delete (every key up to it, inclusive, is older than `retention_days`).
pub fn expired_closed(config: &Config, now_ms: i64) -> Vec<KeyRange> {
    let keep_ms = i64::from(config.retention_days) * 24 * 3_600_000;
    let Some(cutoff) = now_ms.checked_sub(keep_ms).and_then(at) else {
        return Vec::new();
    };
    // Hours that ended before the cutoff; days that ended before it.
    let last_hour = at(utc_hour(cutoff.timestamp_millis()) - 2 * 3_600_000);
    let last_day = history::time::local_date(config.time_zone, cutoff).pred_opt();
    let mut out = Vec::new();
    if let Some(h) = last_hour {
        out.push(KeyRange {
            map: ROLLUP_MAP.to_string(),
            from: "0".to_string(),
            to: rollup_range(h, h).1,
        });
    }
    if let Some(d) = last_day.and_then(|d| d.pred_opt()) {
        out.push(KeyRange {
            map: DAYS_MAP.to_string(),
            from: "0".to_string(),
            to: day_range(d, d).1,
        });
        out.push(KeyRange {
            map: crate::days::DETAIL_MAP.to_string(),
            from: "0".to_string(),
            to: day_range(d, d).1,
        });
    }
    out
}

/// At most this many closed hours are closed again for one event (an event later than this is
/// recorded, and reaches the closed hours of the last two days).
pub const RECLOSE_MAX_HOURS: i64 = 48;

/// What the hook does about closed hours after an event's record was written ([`reclose_step`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "step")]
pub enum RecloseStep {
    /// Nothing closed changes.
    None,
    /// Read the agent's records of this UTC hour (where the event's span began), then ask again.
    Span { listing: KeyRange },
    /// Close the agent's rows of these hours again.
    Hours(Reclose),
}

/// The agent's rows to close again: the hours from `from` to `to` (the end of the last closed
/// hour), with what to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reclose {
    pub worker: String,
    pub from: String,
    pub to: String,
    /// `agentHours` from the hour before `from` to the last closed hour (with revisions).
    pub hours: KeyRange,
    /// The event's instant (ms).
    pub at: i64,
}

/// The first closed hour of `r` among `stored` (its `agentHours` items) that the event can change:
/// its record is in that hour's look-back or later (an older event changes no closed hour: the
/// hours it reached are not closed, and the first closed one carries its previous hour's end).
pub fn reclose_from(r: &Reclose, stored: &[Value]) -> Option<DateTime<Utc>> {
    let (from, to) = (
        values::instant::parse(&r.from)?,
        values::instant::parse(&r.to)?,
    );
    let complete = read_hours(stored).1;
    let first = *complete.range(from..to).next()?;
    (utc_hour(r.at) >= utc_hour(records_from(first).timestamp_millis())).then_some(first)
}

/// The agent's records to read for `r`: one listing per UTC hour from the look-back of its first
/// closed hour ([`reclose_from`]) to now; none when no closed hour changes.
pub fn reclose_records(
    config: &Config,
    r: &Reclose,
    stored: &[Value],
    now_ms: i64,
) -> Vec<KeyRange> {
    let Some(first) = reclose_from(r, stored) else {
        return Vec::new();
    };
    let map = map_name(config, &r.worker);
    let to_ms = values::instant::parse(&r.to).map_or(0, |t| t.timestamp_millis());
    let mut out = Vec::new();
    let mut h = utc_hour(records_from(first).timestamp_millis());
    while h <= utc_hour(now_ms.max(to_ms - 1)) && out.len() < 200 {
        let (from, to) = agent_keys(h, &r.worker);
        out.push(KeyRange {
            map: map.clone(),
            from,
            to,
        });
        h += 3_600_000;
    }
    out
}

/// Whether an event (its record just written) changes closed hours, given the key of the latest
/// closed hour this container knows (`None`: nothing closed yet) and, on a second call, the
/// agent's records of the UTC hour its span began in.
pub fn reclose_step(
    config: &Config,
    event: &AgentEvent,
    latest_key: Option<&str>,
    span_records: Option<&[Record]>,
) -> RecloseStep {
    let zone = config.time_zone;
    let Some(latest) = latest_key.and_then(key_start) else {
        return RecloseStep::None;
    };
    let until = history::time::next_hour(zone, latest);
    let until_ms = until.timestamp_millis();
    if span_records.is_none() && event.at_ms >= until_ms {
        if let Change::Activity {
            previous: Some(_),
            previous_ms: Some(d),
            ..
        } = &event.change
        {
            let span = event.at_ms.saturating_sub(*d);
            if span >= until_ms {
                return RecloseStep::None;
            }
            let (from, to) = agent_keys(utc_hour(span), &event.worker);
            return RecloseStep::Span {
                listing: KeyRange {
                    map: map_name(config, &event.worker),
                    from,
                    to,
                },
            };
        }
        return RecloseStep::None;
    }
    let Some((from, to)) = crate::rollup::reclose(zone, event, until, span_records.unwrap_or(&[]))
    else {
        return RecloseStep::None;
    };
    let earliest = until - Duration::hours(RECLOSE_MAX_HOURS);
    let from = if from < earliest {
        at(bucket(zone, earliest.timestamp_millis())).unwrap_or(from)
    } else {
        from
    };
    let (Some(before), Some(last)) = (previous_hour(config, from), previous_hour(config, to))
    else {
        return RecloseStep::None;
    };
    if last < from {
        return RecloseStep::None;
    }
    let (hf, ht) = rollup_range(before, last);
    RecloseStep::Hours(Reclose {
        worker: event.worker.clone(),
        from: history::time::iso(from),
        to: history::time::iso(to),
        hours: KeyRange {
            map: ROLLUP_MAP.to_string(),
            from: hf,
            to: ht,
        },
        at: event.at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;
    use crate::query::{query, Params};
    use chrono::TimeZone;

    fn ny() -> Config {
        Config::from_env(&Env {
            time_zone: Some("America/New_York".into()),
            ..Env::default()
        })
        .unwrap_or_else(|_| unreachable!())
    }

    fn ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    #[test]
    fn the_hook_closes_the_last_hour_a_minute_after_it_ends_then_catches_up() {
        let c = ny();
        // 15:00:30Z: the hour 14–15 has not been over a minute: the one before it.
        let j = next_close(&c, ms(2026, 11, 16, 15, 0) + 30_000, None);
        assert_eq!(j.map(|j| j.start), Some("2026-11-16T13:00:00Z".to_string()));
        let j = next_close(&c, ms(2026, 11, 16, 15, 2), None);
        assert_eq!(
            j.as_ref().map(|j| j.start.as_str()),
            Some("2026-11-16T14:00:00Z")
        );
        let j = j.unwrap_or_else(|| unreachable!());
        assert_eq!(j.first_key, "20261116T1400Z.0");
        assert_eq!(j.previous.from, "20261116T1300Z.");
        // 4 maps; records from 02Z to 14Z of one UTC day.
        assert_eq!(j.listings.len(), 4);
        assert_eq!(j.listings[0].from, "20261116T02Z.");
        // Closed already: nothing. Behind: the hour after the latest closed one.
        assert!(next_close(&c, ms(2026, 11, 16, 15, 2), Some("20261116T1400Z.1")).is_none());
        let j = next_close(&c, ms(2026, 11, 16, 15, 2), Some("20261116T0900Z.0"));
        assert_eq!(j.map(|j| j.start), Some("2026-11-16T10:00:00Z".to_string()));
        // Too far behind: the last ended hour.
        let j = next_close(&c, ms(2026, 11, 16, 15, 2), Some("20261110T0900Z.0"));
        assert_eq!(j.map(|j| j.start), Some("2026-11-16T14:00:00Z".to_string()));
        assert!(next_close(&c, i64::MIN, None).is_none());
    }

    #[test]
    fn closed_hours_and_records_answer_the_same_series_and_only_unclosed_hours_list_records() {
        let c = ny();
        let now = ms(2026, 11, 16, 15, 30);
        let start = ms(2026, 11, 13, 0, 0);
        let items = crate::bench::month_items(6, 3, start);
        let records: Vec<Record> = items.iter().filter_map(Record::from_value).collect();
        let p = Params {
            range: Some("last7".into()),
            ..Params::default()
        };
        let q = query(&c, &p, now as f64).unwrap_or_else(|_| unreachable!());
        let from = values::instant::parse(&q.from).unwrap_or_else(|| unreachable!());
        let to = values::instant::parse(&q.to).unwrap_or_else(|| unreachable!());
        // Close every hour from the day the records start, one after another.
        let mut closed: Vec<Value> = Vec::new();
        let mut previous: Vec<Value> = Vec::new();
        for h in history::time::hours(c.time_zone, at(start).unwrap_or(from), to) {
            let made = crate::rollup::close_hour(
                c.time_zone,
                h,
                history::time::next_hour(c.time_zone, h),
                &records,
                &previous,
            );
            closed.extend(made.iter().cloned());
            previous = made;
        }
        let text = serde_json::to_string(&closed).unwrap_or_default();
        let complete = complete_hours(&text);
        let (from_closed, n) = answer(&c, &q, &closed, &[], &[]);
        let (from_records, m) = answer(&c, &q, &[], &items, &[]);
        assert_eq!(n, unclosed(&c, &q, &complete).len());
        assert!(m > n);
        // The counts and logged-in time agree; observed (Offline) time differs where the records
        // no longer see an agent (more than 12 hours after its last event) and the closed hours
        // carried it forward.
        let (x, y) = (&from_closed.totals, &from_records.totals);
        assert_eq!(
            (x.accepted, x.completed, x.handled, &x.dispositions),
            (y.accepted, y.completed, y.handled, &y.dispositions)
        );
        assert_eq!(x.logged_in_seconds, y.logged_in_seconds);
        // Records are listed only for the unclosed hours' runs (plus their lookback).
        let listings = record_listings(&c, &q, &complete);
        assert!(
            listings.iter().all(|l| l.to.as_str() < "20261113T13Z."),
            "{listings:?}"
        );
        // The agentHours listings start each day at its first key.
        let hl = hour_listings(&q);
        assert!(hl.iter().skip(1).all(|l| l.from.ends_with('T')));
    }
}
