//! Closed days: once every hour of a local day is closed ([`crate::rollup`]), the day's figures
//! are summed into a few items of map `agentDays`, so a month is read as 30 small groups of items
//! instead of 720 hours of every agent's rows.
//!
//! Key `<local date YYYYMMDD>.<chunk>`:
//!
//! ```json
//! {"v": 1, "date": "2026-11-15", "start": "2026-11-15T05:00:00Z", "end": "2026-11-16T05:00:00Z",
//!  "g": 1794000000000123, "chunk": 0, "chunks": 2, "n": ["Available", "Offline", "Sold"],
//!  "s": [["2026-11-15T05:00:00Z", 200, [3, 0, 1, 0, 3, 1080000, 3, 180000, 3], [0, 3300000], [2, 3]], …],
//!  "a": {"WK…": {"h": 24, "r": [...], "t": [...], "d": [...]}}}
//! ```
//!
//! - `a`: per agent, the sums of its agent-hours of the day (`h` of them: hours with anything
//!   observed), `r` / `t` / `d` as in `agentHours` — what `by=date`, `dayOfWeek`, `agent`,
//!   `activity`, `disposition` and the totals need, for every agent selection;
//! - `s` (chunk 0): per hour of the day, the sums over all agents and how many agents had
//!   anything — what `by=hour` needs for `agent=all`.
//!
//! Sums are of integers (milliseconds, counts), so figures from days are exactly the figures from
//! the hours they were made of. `g` (the build's generation) tells a rebuild's items from the
//! previous build's: a day is read only when every chunk of one generation is there (the newest
//! such), so a reader never mixes two builds; a day without a complete generation is read from
//! its hours.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use crate::record::ITEM_LIMIT;
use crate::rollup::{decode, encode, index as count, names, read_hours};
use crate::timeline::HourFigures;
use history::time::{day_start, hours, iso, local_date, next_day_start};

/// The Sync map of closed days.
pub const DAYS_MAP: &str = "agentDays";

/// The key of a day's chunk.
pub fn day_key(date: NaiveDate, chunk: usize) -> String {
    format!("{}.{chunk}", date.format("%Y%m%d"))
}

/// The first and last key (inclusive) of the days `first` to `last`.
pub fn day_range(first: NaiveDate, last: NaiveDate) -> (String, String) {
    (
        format!("{}.", first.format("%Y%m%d")),
        format!("{}.~", last.format("%Y%m%d")),
    )
}

/// Adds `f` into `sum` (saturating: stored items are input too).
pub fn add(sum: &mut HourFigures, f: &HourFigures) {
    for (a, ms) in &f.activity_ms {
        let t = sum.activity_ms.entry(a.clone()).or_default();
        *t = t.saturating_add(*ms);
    }
    for (total, n) in [
        (&mut sum.accepted, f.accepted),
        (&mut sum.rejected, f.rejected),
        (&mut sum.timed_out, f.timed_out),
        (&mut sum.canceled, f.canceled),
        (&mut sum.completed, f.completed),
        (&mut sum.handled, f.handled),
        (&mut sum.wrapped, f.wrapped),
    ] {
        *total = total.saturating_add(n);
    }
    sum.handle_ms = sum.handle_ms.saturating_add(f.handle_ms);
    sum.wrapup_ms = sum.wrapup_ms.saturating_add(f.wrapup_ms);
    for (d, n) in &f.dispositions {
        let t = sum.dispositions.entry(d.clone()).or_default();
        *t = t.saturating_add(*n);
    }
}

/// One agent's sums over a closed day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRow {
    pub worker: String,
    /// Its agent-hours with anything observed.
    pub hours: usize,
    pub figures: HourFigures,
}

/// Every agent's sums over one closed hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourSum {
    pub start: DateTime<Utc>,
    /// Agents with anything in the hour (each one agent-hour).
    pub agents: usize,
    pub figures: HourFigures,
}

/// A closed day as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub start: DateTime<Utc>,
    pub rows: Vec<DayRow>,
    pub sums: Vec<HourSum>,
}

/// The items of the local day `date` from its hours' `agentHours` items (others are ignored), or
/// `None` while one of its hours is not complete among them. `generation` marks this build.
pub fn day_items(
    zone: Tz,
    date: NaiveDate,
    hour_items: &[Value],
    generation: u64,
) -> Option<Vec<Value>> {
    let start = day_start(zone, date);
    let end = next_day_start(zone, date);
    let (agent_hours, complete) = read_hours(hour_items);
    let day_hours = hours(zone, start, end);
    if day_hours.is_empty() || day_hours.iter().any(|h| !complete.contains(h)) {
        return None;
    }
    let mut rows: BTreeMap<&str, (usize, HourFigures)> = BTreeMap::new();
    let mut sums: BTreeMap<DateTime<Utc>, (usize, HourFigures)> = day_hours
        .iter()
        .map(|h| (*h, (0, HourFigures::default())))
        .collect();
    for h in agent_hours
        .iter()
        .filter(|h| h.hour >= start && h.hour < end)
    {
        let row = rows.entry(h.worker.as_str()).or_default();
        row.0 += 1;
        add(&mut row.1, &h.figures);
        if let Some(s) = sums.get_mut(&h.hour) {
            s.0 += 1;
            add(&mut s.1, &h.figures);
        }
    }
    // One names table for every chunk of the day.
    let mut table: Vec<&str> = Vec::new();
    for f in rows.values().map(|r| &r.1) {
        table.extend(f.activity_ms.keys().map(String::as_str));
        table.extend(f.dispositions.keys().map(String::as_str));
    }
    table.sort_unstable();
    table.dedup();
    let at = |n: &str| table.binary_search(&n).map_or(-1, |i| i as i64);
    let s: Vec<Value> = sums
        .iter()
        .map(|(h, (agents, f))| {
            let (r, t, d) = encode(f, &at);
            json!([iso(*h), agents, r, t, d])
        })
        .collect();
    let head = |chunk: usize| {
        json!({"v": 1, "date": date.to_string(), "start": iso(start), "end": iso(end),
               "g": generation, "chunk": chunk, "n": table})
        .to_string()
        .len()
            + 40
    };
    let mut chunks: Vec<Map<String, Value>> = vec![Map::new()];
    let mut size = head(0) + Value::from(s.clone()).to_string().len();
    for (w, (n, f)) in &rows {
        let (r, t, d) = encode(f, &at);
        let row = json!({"h": n, "r": r, "t": t, "d": d});
        let len = row.to_string().len() + w.len() + 4;
        if size + len > ITEM_LIMIT && chunks.last().is_some_and(|c| !c.is_empty()) {
            chunks.push(Map::new());
            size = head(chunks.len());
        }
        size += len;
        if let Some(c) = chunks.last_mut() {
            c.insert((*w).to_string(), row);
        }
    }
    let n = chunks.len();
    Some(
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let mut item = json!({"v": 1, "date": date.to_string(), "start": iso(start),
                    "end": iso(end), "g": generation, "chunk": i, "chunks": n, "n": table, "a": a});
                if i == 0 {
                    if let Some(o) = item.as_object_mut() {
                        o.insert("s".into(), Value::from(s.clone()));
                    }
                }
                item
            })
            .collect(),
    )
}

/// The complete days among `items` (any order, any generations): for each, the newest generation
/// whose every chunk is there.
pub fn read_days(items: &[Value]) -> BTreeMap<NaiveDate, Day> {
    // (date, generation) -> (most chunks declared, chunk -> item)
    type Parts<'a> = (usize, BTreeMap<usize, &'a Value>);
    let mut builds: BTreeMap<(NaiveDate, u64), Parts> = BTreeMap::new();
    for v in items {
        if v.get("v").and_then(Value::as_i64) != Some(1) {
            continue;
        }
        let Some(date) = v
            .get("date")
            .and_then(Value::as_str)
            .and_then(|d| d.parse::<NaiveDate>().ok())
        else {
            continue;
        };
        let (Some(g), Some(chunk), Some(chunks)) = (
            v.get("g").and_then(Value::as_u64),
            count(v.get("chunk")),
            count(v.get("chunks")),
        ) else {
            continue;
        };
        let entry = builds.entry((date, g)).or_default();
        entry.0 = entry.0.max(chunks);
        entry.1.entry(chunk).or_insert(v);
    }
    let mut out: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    // Generations ascending: a newer complete build replaces an older one.
    for ((date, _), (chunks, parts)) in builds {
        if chunks == 0 || chunks > 256 || (0..chunks).any(|c| !parts.contains_key(&c)) {
            continue;
        }
        let Some(start) = parts
            .get(&0)
            .and_then(|v| v.get("start"))
            .and_then(Value::as_str)
            .and_then(values::instant::parse)
        else {
            continue;
        };
        let mut day = Day {
            start,
            rows: Vec::new(),
            sums: Vec::new(),
        };
        for (chunk, v) in parts.range(0..chunks) {
            let table = names(v);
            if *chunk == 0 {
                for s in v.get("s").and_then(Value::as_array).into_iter().flatten() {
                    let Some(h) = s
                        .get(0)
                        .and_then(Value::as_str)
                        .and_then(values::instant::parse)
                    else {
                        continue;
                    };
                    let row = json!({"r": s.get(2), "t": s.get(3), "d": s.get(4)});
                    day.sums.push(HourSum {
                        start: h,
                        agents: count(s.get(1)).unwrap_or(0),
                        figures: decode(&row, &table),
                    });
                }
            }
            for (w, row) in v.get("a").and_then(Value::as_object).into_iter().flatten() {
                day.rows.push(DayRow {
                    worker: w.clone(),
                    hours: count(row.get("h")).unwrap_or(0),
                    figures: decode(row, &table),
                });
            }
        }
        out.insert(date, day);
    }
    out
}

/// The local dates wholly inside `[from, to)`.
pub fn whole_days(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = local_date(zone, from);
    if day_start(zone, d) < from {
        let Some(next) = d.succ_opt() else {
            return out;
        };
        d = next;
    }
    while next_day_start(zone, d) <= to && out.len() < 500 {
        out.push(d);
        let Some(next) = d.succ_opt() else { break };
        d = next;
    }
    out
}

/// The local date an hour belongs to, when it is the last hour of that day.
pub fn ends_day(zone: Tz, start: DateTime<Utc>) -> Option<NaiveDate> {
    let date = local_date(zone, start);
    (history::time::next_hour(zone, start) == next_day_start(zone, date)).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_days_of_a_range() {
        let zone: Tz = "America/New_York".parse().unwrap();
        let at = |s: &str| values::instant::parse(s).unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            whole_days(zone, at("2026-11-01T04:00:00Z"), at("2026-11-04T05:00:00Z")),
            [d("2026-11-01"), d("2026-11-02"), d("2026-11-03")]
        );
        assert_eq!(
            whole_days(zone, at("2026-11-01T06:00:00Z"), at("2026-11-04T04:00:00Z")),
            [d("2026-11-02")]
        );
        assert!(
            whole_days(zone, at("2026-11-01T06:00:00Z"), at("2026-11-02T04:00:00Z")).is_empty()
        );
        assert_eq!(
            ends_day(zone, at("2026-11-03T04:00:00Z")),
            Some(d("2026-11-02"))
        );
        assert_eq!(ends_day(zone, at("2026-11-03T03:00:00Z")), None);
    }
}
