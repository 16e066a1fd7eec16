//! Closed hours: every agent's figures for one local hour in a few items, so a month of 200
//! agents is a few hundred small items to list instead of tens of thousands of records.
//!
//! Map `agentHours`, key `<hour start, UTC, YYYYMMDDTHHMMZ>.<chunk>`:
//!
//! ```json
//! {"v": 1, "start": "2026-03-08T07:00:00Z", "end": "2026-03-08T08:00:00Z", "chunk": 0, "chunks": 2,
//!  "n": ["Available", "Break", "Offline", "Sold"],
//!  "a": {"WK…": {"r": [3, 0, 1, 0, 3, 1080000, 3, 180000, 3], "t": [0, 3300000, 1, 300000],
//!                "d": [3, 2], "e": 0}}}
//! ```
//!
//! `r`: accepted, rejected, timed out, canceled, completed, handle ms, handled, wrap-up ms, wrapped;
//! `t`: pairs of activity (index into `n`) and milliseconds; `d`: pairs of disposition and count;
//! `e`: the activity at the hour's end (-1: unknown), which the next hour carries forward for an
//! agent with no event in its records (offline for days is still observed). Agents are packed
//! into chunks under [`ITEM_LIMIT`]; an hour is complete when all its chunks are there.
//!
//! An hour is closed (by the shim, a minute after it ends, as the queue history) from the records
//! from [`LOOKBACK_HOURS`] before it up to now, and the previous hour's items. Its figures are
//! [`agent_hours`]' — the same as reading the records — so once every event is in, the series
//! from closed hours equals the series from records (a property test checks it). Events that
//! change a closed hour — a late one, or one whose span starts where no change is recorded — are
//! found by [`reclose`], and those hours are closed again (their items replaced).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use crate::aggregate::{series, AgentInfo, Series};
use crate::config::Config;
use crate::query::Query;
use crate::record::{Record, ITEM_LIMIT};
use crate::timeline::{agent_hours, merge, AgentHour, HourFigures, LOOKBACK_HOURS};

/// The Sync map of closed hours.
pub const ROLLUP_MAP: &str = "agentHours";

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%MZ").to_string()
}

/// The key of an hour's chunk.
pub fn rollup_key(start: DateTime<Utc>, chunk: usize) -> String {
    format!("{}.{chunk}", stamp(start))
}

/// The first and last key (inclusive) of the hours starting `first` to `last`.
pub fn rollup_range(first: DateTime<Utc>, last: DateTime<Utc>) -> (String, String) {
    (format!("{}.", stamp(first)), format!("{}.~", stamp(last)))
}

/// The activity at the end of each agent's hour, from items of that hour.
pub fn end_activities(items: &[Value]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for v in items {
        let table = names(v);
        let Some(agents) = v.get("a").and_then(Value::as_object) else {
            continue;
        };
        for (sid, row) in agents {
            if let Some(e) = index(row.get("e")).and_then(|i| table.get(i)) {
                out.insert(sid.clone(), e.clone());
            }
        }
    }
    out
}

/// The agent-name table of a stored item (`n`).
pub(crate) fn names(v: &Value) -> Vec<String> {
    v.get("n")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A non-negative integer as an index or count.
pub(crate) fn index(x: Option<&Value>) -> Option<usize> {
    usize::try_from(x?.as_i64()?).ok()
}

/// A row's `r` (counts and times), `t` (activity, ms pairs) and `d` (disposition, count pairs),
/// names given as indices by `at`.
pub(crate) fn encode(f: &HourFigures, at: &dyn Fn(&str) -> i64) -> (Value, Vec<i64>, Vec<i64>) {
    let t: Vec<i64> = f
        .activity_ms
        .iter()
        .flat_map(|(a, ms)| [at(a), *ms])
        .collect();
    let d: Vec<i64> = f
        .dispositions
        .iter()
        .flat_map(|(k, n)| [at(k), i64::try_from(*n).unwrap_or(i64::MAX)])
        .collect();
    let r = json!([
        f.accepted,
        f.rejected,
        f.timed_out,
        f.canceled,
        f.completed,
        f.handle_ms,
        f.handled,
        f.wrapup_ms,
        f.wrapped
    ]);
    (r, t, d)
}

/// The figures of a stored row (`r`, `t`, `d`; names from `table`); junk reads as zero.
pub(crate) fn decode(row: &Value, table: &[String]) -> HourFigures {
    let name = |x: Option<&Value>| index(x).and_then(|i| table.get(i)).cloned();
    let counts = row.get("r").and_then(Value::as_array);
    let n = |i: usize| {
        counts
            .and_then(|r| r.get(i))
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .max(0)
    };
    let pairs = |key: &str| -> Vec<(String, i64)> {
        let Some(list) = row.get(key).and_then(Value::as_array) else {
            return Vec::new();
        };
        list.chunks(2)
            .filter_map(|p| Some((name(p.first())?, p.get(1)?.as_i64()?.max(0))))
            .collect()
    };
    let mut f = HourFigures {
        accepted: n(0) as u64,
        rejected: n(1) as u64,
        timed_out: n(2) as u64,
        canceled: n(3) as u64,
        completed: n(4) as u64,
        handle_ms: n(5),
        handled: n(6) as u64,
        wrapup_ms: n(7),
        wrapped: n(8) as u64,
        ..HourFigures::default()
    };
    for (a, ms) in pairs("t") {
        let t = f.activity_ms.entry(a).or_default();
        *t = t.saturating_add(ms);
    }
    for (d, c) in pairs("d") {
        let t = f.dispositions.entry(d).or_default();
        *t = t.saturating_add(c as u64);
    }
    f
}

/// Closes the local hour `[start, end)`: `records` of its UTC hours and the
/// [`LOOKBACK_HOURS`] before (any agents and chunks), `previous` the items of the hour before
/// (empty when there are none). Answers the items to create.
pub fn close_hour(
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    records: &[Record],
    previous: &[Value],
) -> Vec<Value> {
    let (s, e) = (start.timestamp_millis(), end.timestamp_millis());
    let mut hours = agent_hours(zone, records, s, e);
    let facts = merge(records);
    let mut ends: BTreeMap<String, String> = BTreeMap::new();
    for (worker, f) in &facts {
        if let Some(last) = f
            .changes
            .iter()
            .filter(|(_, c)| c.at_ms < e)
            .max_by(|x, y| (x.1.at_ms, x.0).cmp(&(y.1.at_ms, y.0)))
        {
            ends.insert(worker.clone(), last.1.activity.clone());
        }
    }
    // Agents with no activity change in the records: the previous hour's end activity, all hour.
    for (worker, activity) in end_activities(previous) {
        if facts.get(&worker).is_some_and(|f| !f.changes.is_empty()) {
            continue;
        }
        if !hours.iter().any(|h| h.worker == worker) {
            hours.push(AgentHour {
                worker: worker.clone(),
                hour: start,
                figures: HourFigures::default(),
            });
        }
        if let Some(h) = hours.iter_mut().find(|h| h.worker == worker) {
            h.figures.activity_ms.insert(activity.clone(), e - s);
        }
        ends.insert(worker, activity);
    }
    hour_items(start, end, &hours, &ends)
}

/// The items of one closed hour from its agent-hours (others are ignored) and end activities.
pub fn hour_items(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    hours: &[AgentHour],
    ends: &BTreeMap<String, String>,
) -> Vec<Value> {
    let mut rows: BTreeMap<&str, (&HourFigures, Option<&String>)> = BTreeMap::new();
    let empty = HourFigures::default();
    for h in hours.iter().filter(|h| h.hour == start) {
        rows.insert(&h.worker, (&h.figures, ends.get(&h.worker)));
    }
    for (w, a) in ends {
        rows.entry(w).or_insert((&empty, Some(a)));
    }
    let mut chunks: Vec<BTreeMap<&str, (&HourFigures, Option<&String>)>> = vec![BTreeMap::new()];
    let mut size = 0;
    for (w, row) in rows {
        // An upper estimate of the row's share of the item: key, numbers and names.
        let f = row.0;
        let len = w.len()
            + 120
            + f.activity_ms.keys().map(|k| k.len() + 24).sum::<usize>()
            + f.dispositions.keys().map(|k| k.len() + 16).sum::<usize>()
            + row.1.map_or(0, String::len);
        if size + len > ITEM_LIMIT - 300 && chunks.last().is_some_and(|c| !c.is_empty()) {
            chunks.push(BTreeMap::new());
            size = 0;
        }
        size += len;
        if let Some(c) = chunks.last_mut() {
            c.insert(w, row);
        }
    }
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, agents)| {
            let mut table: BTreeSet<&str> = BTreeSet::new();
            for (f, e) in agents.values() {
                table.extend(f.activity_ms.keys().map(String::as_str));
                table.extend(f.dispositions.keys().map(String::as_str));
                if let Some(e) = e {
                    table.insert(e);
                }
            }
            let table: Vec<&str> = table.into_iter().collect();
            let at = |n: &str| table.iter().position(|t| *t == n).map_or(-1, |i| i as i64);
            let agents: Map<String, Value> = agents
                .into_iter()
                .map(|(w, (f, e))| {
                    let (r, t, d) = encode(f, &at);
                    let e = e.map_or(-1, |e| at(e));
                    (w.to_string(), json!({"r": r, "t": t, "d": d, "e": e}))
                })
                .collect();
            json!({
                "v": 1, "start": history::time::iso(start), "end": history::time::iso(end),
                "chunk": i, "chunks": count, "n": table, "a": agents,
            })
        })
        .collect()
}

/// Agent-hours of the complete hours among `items` (any order; an hour missing a chunk is left
/// out), and the starts of those complete hours.
pub fn read_hours(items: &[Value]) -> (Vec<AgentHour>, BTreeSet<DateTime<Utc>>) {
    // Per hour: the most chunks any of its items declares, the chunks seen, their items.
    type Parts<'a> = (usize, BTreeSet<usize>, Vec<&'a Value>);
    let mut by_hour: BTreeMap<DateTime<Utc>, Parts> = BTreeMap::new();
    for v in items {
        if v.get("v").and_then(Value::as_i64) != Some(1) {
            continue;
        }
        let Some(start) = v
            .get("start")
            .and_then(Value::as_str)
            .and_then(values::instant::parse)
        else {
            continue;
        };
        let (Some(chunk), Some(chunks)) = (index(v.get("chunk")), index(v.get("chunks"))) else {
            continue;
        };
        let entry = by_hour
            .entry(start)
            .or_insert((chunks, BTreeSet::new(), Vec::new()));
        // A chunk added later (a late event's agent, `patch_agent`) declares one more.
        entry.0 = entry.0.max(chunks);
        if entry.1.insert(chunk) {
            entry.2.push(v);
        }
    }
    let mut out = Vec::new();
    let mut complete = BTreeSet::new();
    for (start, (chunks, seen, parts)) in by_hour {
        if chunks > 64 || (0..chunks).any(|c| !seen.contains(&c)) {
            continue;
        }
        complete.insert(start);
        for v in parts {
            let table = names(v);
            let Some(agents) = v.get("a").and_then(Value::as_object) else {
                continue;
            };
            for (w, row) in agents {
                let f = decode(row, &table);
                if !f.is_empty() {
                    out.push(AgentHour {
                        worker: w.clone(),
                        hour: start,
                        figures: f,
                    });
                }
            }
        }
    }
    (out, complete)
}

/// How far back [`close_hour`] needs records: from this UTC hour on.
pub fn records_from(start: DateTime<Utc>) -> DateTime<Utc> {
    start - chrono::Duration::hours(LOOKBACK_HOURS)
}

/// The closed hours of `query` with no complete items among those read.
pub fn missing(zone: Tz, query: &Query, complete: &BTreeSet<DateTime<Utc>>) -> Vec<String> {
    let (Some(from), Some(to)) = (
        values::instant::parse(&query.from),
        values::instant::parse(&query.to),
    ) else {
        return Vec::new();
    };
    history::time::hours(zone, from, to)
        .into_iter()
        .filter(|h| !complete.contains(h))
        .map(history::time::iso)
        .collect()
}

/// The series of `query` from closed-hour items (listed with `query.hours`), and the closed hours
/// of the range that are not there yet (to close, or past what was ever kept).
pub fn aggregate_hours(
    config: &Config,
    query: &Query,
    items: &[Value],
    directory: &[AgentInfo],
) -> (Series, Vec<String>) {
    let (hours, complete) = read_hours(items);
    (
        series(config, query, &hours, directory),
        missing(config.time_zone, query, &complete),
    )
}

/// Whether an event obliges closed hours to be closed again, and which: the local hours from the
/// first answered to before the second. `closed_until` is the end of the last closed hour;
/// `span_records` the agent's records (all chunks) of the UTC hour where the event's activity span
/// began (`at − previous_ms`), read only for an activity change whose span reaches into closed
/// hours.
///
/// - An event at or after `closed_until` whose span starts at a change already recorded changes
///   nothing closed: the closed hours carried that activity forward already. This is the usual case.
/// - Its span starting where no change is recorded (an agent's first event, or one after a
///   change TaskRouter never delivered): the hours from the span's start are closed again.
/// - A late event (before `closed_until`): the hours from its span's start (or its own hour) to
///   `closed_until`, since what it says holds until the agent's next change. A callback redelivered
///   within minutes re-closes one or two hours.
pub fn reclose(
    zone: Tz,
    event: &crate::event::AgentEvent,
    closed_until: DateTime<Utc>,
    span_records: &[Record],
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    use crate::event::Change;
    let until = closed_until.timestamp_millis();
    let start_of = |ms: i64| {
        DateTime::<Utc>::from_timestamp_millis(ms).map(|t| history::time::hour_start(zone, t))
    };
    let span_start = match &event.change {
        Change::Activity {
            previous: Some(_),
            previous_ms: Some(d),
            ..
        } => event.at_ms.saturating_sub(*d),
        _ => event.at_ms,
    };
    if event.at_ms < until {
        return Some((start_of(span_start.min(event.at_ms))?, closed_until));
    }
    if span_start >= until {
        return None;
    }
    let recorded = span_records.iter().any(|r| {
        r.worker == event.worker
            && r.changes
                .values()
                .any(|c| (c.at_ms - span_start).abs() <= 1_000)
    });
    if recorded {
        None
    } else {
        Some((start_of(span_start)?, closed_until))
    }
}

/// An agent's row in stored hour items: its figures and end activity.
type AgentRow = (HourFigures, Option<String>);

fn row_in(item: &Value, worker: &str) -> Option<AgentRow> {
    let table = names(item);
    let row = item.get("a")?.get(worker)?;
    let end = index(row.get("e")).and_then(|i| table.get(i)).cloned();
    Some((decode(row, &table), end))
}

/// `item` with `worker`'s row replaced by `row` (removed when `None`); names it lacks are
/// appended to its table, so the other rows' indices stay valid.
fn with_row(item: &Value, worker: &str, row: Option<&AgentRow>) -> Value {
    let mut item = item.clone();
    let mut table = names(&item);
    let encoded = row.map(|(f, e)| {
        let wanted = f
            .activity_ms
            .keys()
            .chain(f.dispositions.keys())
            .chain(e.iter());
        for n in wanted {
            if !table.contains(n) {
                table.push(n.clone());
            }
        }
        let at = |n: &str| table.iter().position(|t| t == n).map_or(-1, |i| i as i64);
        let (r, t, d) = encode(f, &at);
        let e = e.as_deref().map_or(-1, at);
        json!({"r": r, "t": t, "d": d, "e": e})
    });
    if let Some(obj) = item.as_object_mut() {
        let agents = obj.entry("a").or_insert_with(|| Value::Object(Map::new()));
        if let Some(agents) = agents.as_object_mut() {
            match encoded {
                None => {
                    agents.remove(worker);
                }
                Some(r) => {
                    agents.insert(worker.to_string(), r);
                }
            }
        }
        obj.insert("n".into(), json!(table));
    }
    item
}

/// Closes `worker`'s rows of the closed local hours `from` to `to` again (a late event, or one
/// whose span reaches back into them), from the agent's `records` (from the look-back before
/// `from` on, later ones included: the final state [`reclose`] aims at) and the end activity of
/// its row in the hour before. `stored` are the `agentHours` items (key, data) from the hour before
/// `from` to the last closed hour. Answers the items to write (key, data): only hours that are
/// complete and whose row changes; a row is replaced where it is, an agent new to an hour joins
/// its smallest chunk, or a new chunk when that one is full. Other agents' rows are untouched.
pub fn patch_agent(
    zone: Tz,
    worker: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    stored: &[(String, Value)],
    records: &[Record],
) -> Vec<(String, Value)> {
    let mine: Vec<Record> = records
        .iter()
        .filter(|r| r.worker == worker)
        .cloned()
        .collect();
    let stored_values: Vec<Value> = stored.iter().map(|(_, v)| v.clone()).collect();
    let complete = read_hours(&stored_values).1;
    let mut by_hour: BTreeMap<DateTime<Utc>, Vec<(&str, &Value)>> = BTreeMap::new();
    for (k, v) in stored {
        if let Some(start) = v
            .get("start")
            .and_then(Value::as_str)
            .and_then(values::instant::parse)
        {
            by_hour.entry(start).or_default().push((k.as_str(), v));
        }
    }
    let before = DateTime::<Utc>::from_timestamp_millis(crate::timeline::bucket(
        zone,
        from.timestamp_millis() - 1,
    ));
    let mut end_activity: Option<String> = before
        .and_then(|b| by_hour.get(&b))
        .and_then(|items| items.iter().find_map(|(_, v)| row_in(v, worker)))
        .and_then(|r| r.1);
    let mut out = Vec::new();
    for h in history::time::hours(zone, from, to) {
        let end = history::time::next_hour(zone, h);
        let first = crate::record::utc_hour(records_from(h).timestamp_millis());
        let window: Vec<Record> = mine
            .iter()
            .filter(|r| r.hour_ms >= first)
            .cloned()
            .collect();
        let previous: Vec<Value> = end_activity
            .iter()
            .map(|e| json!({"n": [e], "a": {worker: {"e": 0}}}))
            .collect();
        let made = close_hour(zone, h, end, &window, &previous);
        let new = made.iter().find_map(|v| row_in(v, worker));
        end_activity = new.as_ref().and_then(|n| n.1.clone());
        let Some(items) = by_hour.get(&h).filter(|_| complete.contains(&h)) else {
            continue;
        };
        let nothing = |r: &AgentRow| r.0.is_empty() && r.1.is_none();
        let current = items
            .iter()
            .find_map(|(k, v)| row_in(v, worker).map(|r| (*k, *v, r)));
        match (current, new) {
            (Some((_, _, c)), Some(n)) if c == n => {}
            (None, None) => {}
            (Some((_, _, c)), None) if nothing(&c) => {}
            (None, Some(n)) if nothing(&n) => {}
            (Some((k, v, _)), n) => out.push((k.to_string(), with_row(v, worker, n.as_ref()))),
            (None, Some(n)) => {
                let smallest = items
                    .iter()
                    .map(|(k, v)| (v.to_string().len(), *k, *v))
                    .min_by_key(|x| x.0);
                match smallest {
                    Some((len, k, v)) if len + worker.len() + 400 <= ITEM_LIMIT => {
                        out.push((k.to_string(), with_row(v, worker, Some(&n))));
                    }
                    _ => {
                        let chunks = items
                            .iter()
                            .filter_map(|(_, v)| index(v.get("chunks")))
                            .max()
                            .unwrap_or(0)
                            .max(items.len());
                        let fresh = json!({
                            "v": 1, "start": history::time::iso(h), "end": history::time::iso(end),
                            "chunk": chunks, "chunks": chunks + 1, "n": [], "a": {},
                        });
                        out.push((rollup_key(h, chunks), with_row(&fresh, worker, Some(&n))));
                    }
                }
            }
        }
    }
    out
}
