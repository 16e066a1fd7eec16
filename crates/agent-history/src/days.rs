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
    /// Its team when the day was built (a build with teams only).
    pub team: Option<String>,
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
    /// The build's generation.
    pub generation: u64,
    /// Built with teams: each team's per-hour sums (a team absent had nobody that day).
    pub teams: Option<BTreeMap<String, Vec<HourSum>>>,
    /// The detail buckets written for this build (none: no detail).
    pub detail: Option<usize>,
    /// The detail of this build is one item per agent ([`agent_detail_key`]), not buckets.
    pub per_agent: bool,
}

/// The items of the local day `date` from its hours' `agentHours` items (others are ignored), or
/// `None` while one of its hours is not complete among them. `generation` marks this build.
pub fn day_items(
    zone: Tz,
    date: NaiveDate,
    hour_items: &[Value],
    generation: u64,
) -> Option<Vec<Value>> {
    build_day(zone, date, hour_items, generation, None).map(|b| b.days)
}

/// A day's build: its `agentDays` items and, when built with teams, its `agentDayHours` items
/// (the agents' hours, [`DETAIL_MAP`]).
#[derive(Debug, Clone, PartialEq)]
pub struct DayBuild {
    pub days: Vec<Value>,
    pub detail: Vec<Value>,
}

/// The Sync map of the agents' hours of closed days, bucketed by agent ([`detail_bucket`]).
pub const DETAIL_MAP: &str = "agentDayHours";

/// The key of a day's detail bucket.
pub fn detail_key(date: NaiveDate, bucket: usize) -> String {
    format!("{}.{bucket}", date.format("%Y%m%d"))
}

/// The key of an agent's detail item of a day (the per-agent layout): `<WK…>.<YYYYMMDD>`, so one
/// agent's days are neighbours in key order and one page reads a month of them.
pub fn agent_detail_key(worker: &str, date: NaiveDate) -> String {
    format!("{worker}.{}", date.format("%Y%m%d"))
}

/// The key of a detail item as built (either layout), from the item itself.
pub fn detail_item_key(v: &Value) -> Option<String> {
    let date = v
        .get("date")
        .and_then(Value::as_str)
        .and_then(|d| d.parse::<NaiveDate>().ok())?;
    match v.get("v").and_then(Value::as_i64) {
        Some(1) => Some(detail_key(date, count(v.get("bucket"))?)),
        Some(2) => Some(agent_detail_key(v.get("w").and_then(Value::as_str)?, date)),
        _ => None,
    }
}

/// A worker SID as TaskRouter writes it (`WK` and 32 hexadecimal digits): the per-agent layout's
/// keys start with it (never with a digit, as the buckets' keys do), so only such SIDs get one.
fn is_worker_sid(w: &str) -> bool {
    w.len() == 34 && w.starts_with("WK") && w.bytes().skip(2).all(|b| b.is_ascii_hexdigit())
}

/// The Sync TTL (seconds) of a per-agent detail item: the retention, at most a year (Sync's
/// limit); a day whose item expired is read from its hours.
pub fn detail_ttl(retention_days: u32) -> u32 {
    retention_days.clamp(1, 365) * 86_400
}

/// How a day's agents' hours are written ([`DETAIL_MAP`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailLayout {
    /// Buckets of agents, key `<YYYYMMDD>.<bucket>` (the first layout; still read).
    Buckets,
    /// One item per agent and day, key `<WK…>.<YYYYMMDD>` ([`agent_detail_key`]).
    PerAgent,
}

/// The per-agent detail items of a day: each agent's non-empty hours (`[minutes after s, r, t,
/// d]`), `{"v": 2, "date", "g", "w", "s": the day's first hour, "n", "r"}`; `None` when a worker is not a SID or an item
/// would pass [`ITEM_LIMIT`] (the day is then read from its hours).
fn agent_items(
    date: NaiveDate,
    generation: u64,
    day_hours: &[DateTime<Utc>],
    agent_hours: &[&crate::timeline::AgentHour],
) -> Option<Vec<Value>> {
    let Some(first) = day_hours.first() else {
        return Some(Vec::new());
    };
    let day_set: std::collections::BTreeSet<&DateTime<Utc>> = day_hours.iter().collect();
    let mut per_agent: BTreeMap<&str, Vec<&crate::timeline::AgentHour>> = BTreeMap::new();
    for h in agent_hours {
        per_agent.entry(h.worker.as_str()).or_default().push(h);
    }
    let mut out = Vec::new();
    for (w, hs) in per_agent {
        if !is_worker_sid(w) {
            return None;
        }
        let mut table: Vec<&str> = Vec::new();
        for h in &hs {
            table.extend(h.figures.activity_ms.keys().map(String::as_str));
            table.extend(h.figures.dispositions.keys().map(String::as_str));
        }
        table.sort_unstable();
        table.dedup();
        let at = |n: &str| table.binary_search(&n).map_or(-1, |i| i as i64);
        // Each hour as its minutes after the day's first hour `s` (the day's hours as tiled).
        let rows: Vec<Value> = hs
            .iter()
            .filter(|h| day_set.contains(&h.hour))
            .map(|h| {
                let (r, t, d) = encode(&h.figures, &at);
                json!([(h.hour - *first).num_minutes(), r, t, d])
            })
            .collect();
        let item = json!({"v": 2, "date": date.to_string(), "g": generation, "w": w,
                          "s": iso(*first), "n": table, "r": rows});
        if item.to_string().len() > ITEM_LIMIT {
            return None;
        }
        out.push(item);
    }
    Some(out)
}

/// The bucket of `worker` among `buckets` (FNV-1a of its SID: fixed, so a reader finds it).
pub fn detail_bucket(worker: &str, buckets: usize) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for b in worker.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h as usize) % buckets.max(1)
}

/// At most this many detail buckets a day (else the day has none: it is read from its hours).
pub const MAX_DETAIL_BUCKETS: usize = 256;

/// The detail items of a day: each agent's non-empty hours (`[hour index, r, t, d]`, the index
/// into `h`) in the bucket [`detail_bucket`] names, the fewest buckets (a power of two) that keep
/// every item under [`ITEM_LIMIT`]; `None` when even [`MAX_DETAIL_BUCKETS`] do not.
fn detail_items(
    date: NaiveDate,
    generation: u64,
    day_hours: &[DateTime<Utc>],
    agent_hours: &[&crate::timeline::AgentHour],
) -> Option<Vec<Value>> {
    let hour_names: Vec<String> = day_hours.iter().map(|h| iso(*h)).collect();
    let index_of: BTreeMap<DateTime<Utc>, usize> =
        day_hours.iter().enumerate().map(|(i, h)| (*h, i)).collect();
    let mut per_agent: BTreeMap<&str, Vec<&crate::timeline::AgentHour>> = BTreeMap::new();
    for h in agent_hours {
        per_agent.entry(h.worker.as_str()).or_default().push(h);
    }
    let mut buckets = 1;
    while buckets <= MAX_DETAIL_BUCKETS {
        let mut parts: Vec<BTreeMap<&str, &Vec<&crate::timeline::AgentHour>>> =
            vec![BTreeMap::new(); buckets];
        for (w, hs) in &per_agent {
            if let Some(p) = parts.get_mut(detail_bucket(w, buckets)) {
                p.insert(w, hs);
            }
        }
        let items: Vec<Value> = parts
            .iter()
            .enumerate()
            .map(|(b, agents)| {
                let mut table: Vec<&str> = Vec::new();
                for hs in agents.values() {
                    for h in hs.iter() {
                        table.extend(h.figures.activity_ms.keys().map(String::as_str));
                        table.extend(h.figures.dispositions.keys().map(String::as_str));
                    }
                }
                table.sort_unstable();
                table.dedup();
                let at = |n: &str| table.binary_search(&n).map_or(-1, |i| i as i64);
                let a: Map<String, Value> = agents
                    .iter()
                    .map(|(w, hs)| {
                        let rows: Vec<Value> = hs
                            .iter()
                            .filter_map(|h| {
                                let i = index_of.get(&h.hour)?;
                                let (r, t, d) = encode(&h.figures, &at);
                                Some(json!([i, r, t, d]))
                            })
                            .collect();
                        ((*w).to_string(), Value::from(rows))
                    })
                    .collect();
                json!({"v": 1, "date": date.to_string(), "g": generation, "bucket": b,
                       "buckets": buckets, "h": hour_names, "n": table, "a": a})
            })
            .collect();
        if items.iter().all(|v| v.to_string().len() <= ITEM_LIMIT) {
            return Some(items);
        }
        buckets *= 2;
    }
    None
}

/// The day's build ([`day_items`]); with `teams` (each agent's team attribute at this closing:
/// TaskRouter's directory), each agent's row also names its team (`k`, an index into `n`), the
/// items carry every team's per-hour sums (`ts`, chunk by chunk) and the detail bucket count
/// (`x`), and the detail items are built ([`DETAIL_MAP`]) — what `by=hour` of a team or of
/// named agents reads instead of every hour's items.
pub fn build_day(
    zone: Tz,
    date: NaiveDate,
    hour_items: &[Value],
    generation: u64,
    teams: Option<&BTreeMap<String, String>>,
) -> Option<DayBuild> {
    build_day_as(
        zone,
        date,
        hour_items,
        generation,
        teams,
        DetailLayout::PerAgent,
    )
}

/// [`build_day`] with the agents' hours in `layout` (days built before the per-agent layout
/// have buckets: tests build them to show both are read alike).
pub fn build_day_as(
    zone: Tz,
    date: NaiveDate,
    hour_items: &[Value],
    generation: u64,
    teams: Option<&BTreeMap<String, String>>,
    layout: DetailLayout,
) -> Option<DayBuild> {
    let start = day_start(zone, date);
    let end = next_day_start(zone, date);
    let (agent_hours, complete) = read_hours(hour_items);
    let day_hours = hours(zone, start, end);
    if day_hours.is_empty() || day_hours.iter().any(|h| !complete.contains(h)) {
        return None;
    }
    let in_day: Vec<&crate::timeline::AgentHour> = agent_hours
        .iter()
        .filter(|h| h.hour >= start && h.hour < end)
        .collect();
    let mut rows: BTreeMap<&str, (usize, HourFigures)> = BTreeMap::new();
    let mut sums: BTreeMap<DateTime<Utc>, (usize, HourFigures)> = day_hours
        .iter()
        .map(|h| (*h, (0, HourFigures::default())))
        .collect();
    // Per team: per hour, the agents and their sums.
    let mut team_sums: BTreeMap<&str, BTreeMap<DateTime<Utc>, (usize, HourFigures)>> =
        BTreeMap::new();
    for h in &in_day {
        let row = rows.entry(h.worker.as_str()).or_default();
        row.0 += 1;
        add(&mut row.1, &h.figures);
        if let Some(s) = sums.get_mut(&h.hour) {
            s.0 += 1;
            add(&mut s.1, &h.figures);
        }
        if let Some(team) = teams.and_then(|t| t.get(&h.worker)) {
            let s = team_sums
                .entry(team.as_str())
                .or_default()
                .entry(h.hour)
                .or_default();
            s.0 += 1;
            add(&mut s.1, &h.figures);
        }
    }
    let detail = match (teams, layout) {
        (None, _) => None,
        (Some(_), DetailLayout::Buckets) => detail_items(date, generation, &day_hours, &in_day),
        (Some(_), DetailLayout::PerAgent) => agent_items(date, generation, &day_hours, &in_day),
    };
    // One names table for every chunk of the day.
    let mut table: Vec<&str> = Vec::new();
    for f in rows.values().map(|r| &r.1) {
        table.extend(f.activity_ms.keys().map(String::as_str));
        table.extend(f.dispositions.keys().map(String::as_str));
    }
    if let Some(t) = teams {
        table.extend(rows.keys().filter_map(|w| t.get(*w)).map(String::as_str));
    }
    table.sort_unstable();
    table.dedup();
    let at = |n: &str| table.binary_search(&n).map_or(-1, |i| i as i64);
    let sum_rows = |sums: &BTreeMap<DateTime<Utc>, (usize, HourFigures)>| -> Vec<Value> {
        sums.iter()
            .map(|(h, (agents, f))| {
                let (r, t, d) = encode(f, &at);
                json!([iso(*h), agents, r, t, d])
            })
            .collect()
    };
    let s = sum_rows(&sums);
    let head = |chunk: usize| {
        json!({"v": 1, "date": date.to_string(), "start": iso(start), "end": iso(end),
               "g": generation, "chunk": chunk, "n": table, "x": 0, "tv": 1})
        .to_string()
        .len()
            + 40
    };
    // Entries packed into chunks: agents' rows (`a`) then teams' hour sums (`ts`).
    type Chunk = (Map<String, Value>, Map<String, Value>);
    let mut chunks: Vec<Chunk> = vec![(Map::new(), Map::new())];
    let mut size = head(0) + Value::from(s.clone()).to_string().len();
    let mut entries: Vec<(bool, String, Value)> = Vec::new();
    for (w, (n, f)) in &rows {
        let (r, t, d) = encode(f, &at);
        let mut row = json!({"h": n, "r": r, "t": t, "d": d});
        if let (Some(team), Some(o)) = (teams.and_then(|t| t.get(*w)), row.as_object_mut()) {
            o.insert("k".into(), json!(at(team)));
        }
        entries.push((false, (*w).to_string(), row));
    }
    for (team, hs) in &team_sums {
        entries.push((true, (*team).to_string(), Value::from(sum_rows(hs))));
    }
    for (is_team, name, value) in entries {
        let len = value.to_string().len() + name.len() + 8;
        if size + len > ITEM_LIMIT
            && chunks
                .last()
                .is_some_and(|c| !c.0.is_empty() || !c.1.is_empty())
        {
            chunks.push((Map::new(), Map::new()));
            size = head(chunks.len());
        }
        size += len;
        if let Some(c) = chunks.last_mut() {
            if is_team {
                c.1.insert(name, value);
            } else {
                c.0.insert(name, value);
            }
        }
    }
    let n = chunks.len();
    let days = chunks
        .into_iter()
        .enumerate()
        .map(|(i, (a, ts))| {
            let mut item = json!({"v": 1, "date": date.to_string(), "start": iso(start),
                "end": iso(end), "g": generation, "chunk": i, "chunks": n, "n": table, "a": a});
            if let Some(o) = item.as_object_mut() {
                if i == 0 {
                    o.insert("s".into(), Value::from(s.clone()));
                }
                if teams.is_some() {
                    o.insert("tv".into(), json!(1));
                    o.insert("ts".into(), Value::Object(ts));
                    match (&detail, layout) {
                        (Some(d), DetailLayout::Buckets) => {
                            o.insert("x".into(), json!(d.len()));
                        }
                        (Some(_), DetailLayout::PerAgent) => {
                            o.insert("xa".into(), json!(1));
                        }
                        (None, _) => {}
                    }
                }
            }
            item
        })
        .collect();
    Some(DayBuild {
        days,
        detail: detail.unwrap_or_default(),
    })
}

/// Drops from a detail item the rows of the agents `keep` refuses (what a reader does not need);
/// the item stays readable by [`read_detail`] with the same figures for those it keeps.
pub fn keep_detail_of(item: &mut Value, keep: impl Fn(&str) -> bool) {
    if let Some(rows) = item.get_mut("a").and_then(Value::as_object_mut) {
        rows.retain(|w, _| keep(w));
    }
}

/// Appends to `out` the JSON text of the detail item `data` without the rows of the agents `keep`
/// refuses, as [`keep_detail_of`] would leave it, scanning the text instead of building values
/// (a bucket holds every agent of its share; a read keeps a few). Not an object: appended as is.
pub fn push_detail_of(
    out: &mut String,
    data: &serde_json::value::RawValue,
    keep: &dyn Fn(&str) -> bool,
) {
    type Fields<'a> = BTreeMap<String, &'a serde_json::value::RawValue>;
    let Ok(fields) = serde_json::from_str::<Fields>(data.get()) else {
        out.push_str(data.get());
        return;
    };
    out.push('{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(name.as_str()).to_string());
        out.push(':');
        match (name == "a")
            .then(|| serde_json::from_str::<Fields>(value.get()).ok())
            .flatten()
        {
            Some(rows) => {
                out.push('{');
                let mut first = true;
                for (w, row) in rows.iter().filter(|(w, _)| keep(w)) {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&Value::from(w.as_str()).to_string());
                    out.push(':');
                    out.push_str(row.get());
                }
                out.push('}');
            }
            None => out.push_str(value.get()),
        }
    }
    out.push('}');
}

/// The agents' hours of closed days among detail items (any order, generations and days):
/// `(date, generation, bucket)` → the agent-hours of that bucket.
pub fn read_detail(items: &[Value]) -> DetailRead {
    read_detail_of(items, |_| true)
}

/// A part of a day's detail: a bucket (the first layout) or one agent's item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Bucket(usize),
    Agent(String),
}

/// The detail read: `(date, generation, part)` → its agent-hours.
pub type DetailRead = BTreeMap<(NaiveDate, u64, Part), Vec<crate::timeline::AgentHour>>;

/// [`read_detail`] of the agents `keep` accepts only (the others' rows are skipped, not decoded).
pub fn read_detail_of(items: &[Value], keep: impl Fn(&str) -> bool) -> DetailRead {
    let mut out = BTreeMap::new();
    for v in items {
        let version = v.get("v").and_then(Value::as_i64);
        let part = match version {
            Some(1) => count(v.get("bucket")).map(Part::Bucket),
            Some(2) => v
                .get("w")
                .and_then(Value::as_str)
                .map(|w| Part::Agent(w.to_string())),
            _ => None,
        };
        let (Some(date), Some(g), Some(part)) = (
            v.get("date")
                .and_then(Value::as_str)
                .and_then(|d| d.parse::<NaiveDate>().ok()),
            v.get("g").and_then(Value::as_u64),
            part,
        ) else {
            continue;
        };
        let table = names(v);
        // The per-agent layout: hours as minutes after `s`.
        let first = v
            .get("s")
            .and_then(Value::as_str)
            .and_then(values::instant::parse);
        let hour_list: Vec<Option<DateTime<Utc>>> = v
            .get("h")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().and_then(values::instant::parse))
                    .collect()
            })
            .unwrap_or_default();
        let mut hours_read = Vec::new();
        // The first layout: `a` holds each agent's rows; the per-agent one: `w` and its `r`.
        let agents: Vec<(&String, &Value)> = match (&part, v.get("r")) {
            (Part::Agent(w), Some(rows)) => vec![(w, rows)],
            _ => v
                .get("a")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .collect(),
        };
        for (w, rows) in agents {
            if !keep(w) {
                continue;
            }
            for row in rows.as_array().into_iter().flatten() {
                let hour = match (&part, first) {
                    (Part::Agent(_), Some(first)) => row
                        .get(0)
                        .and_then(Value::as_i64)
                        .filter(|m| (0..=26 * 60).contains(m))
                        .and_then(|m| first.checked_add_signed(chrono::Duration::minutes(m))),
                    (Part::Agent(_), None) => None,
                    _ => count(row.get(0))
                        .and_then(|i| hour_list.get(i))
                        .copied()
                        .flatten(),
                };
                let Some(hour) = hour else {
                    continue;
                };
                let hour = &hour;
                let fields = json!({"r": row.get(1), "t": row.get(2), "d": row.get(3)});
                let figures = decode(&fields, &table);
                if !figures.is_empty() {
                    hours_read.push(crate::timeline::AgentHour {
                        worker: w.clone(),
                        hour: *hour,
                        figures,
                    });
                }
            }
        }
        out.insert((date, g, part), hours_read);
    }
    out
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
    for ((date, g), (chunks, parts)) in builds {
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
        let built_with_teams = parts
            .get(&0)
            .is_some_and(|v| v.get("tv").and_then(Value::as_i64) == Some(1));
        let mut day = Day {
            start,
            rows: Vec::new(),
            sums: Vec::new(),
            generation: g,
            teams: built_with_teams.then(BTreeMap::new),
            detail: parts
                .get(&0)
                .and_then(|v| count(v.get("x")))
                .filter(|x| (1..=MAX_DETAIL_BUCKETS).contains(x)),
            per_agent: parts
                .get(&0)
                .is_some_and(|v| v.get("xa").and_then(Value::as_i64) == Some(1)),
        };
        for (chunk, v) in parts.range(0..chunks) {
            let table = names(v);
            if *chunk == 0 {
                for s in v.get("s").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(h) = hour_sum(s, &table) {
                        day.sums.push(h);
                    }
                }
            }
            for (w, row) in v.get("a").and_then(Value::as_object).into_iter().flatten() {
                day.rows.push(DayRow {
                    worker: w.clone(),
                    hours: count(row.get("h")).unwrap_or(0),
                    figures: decode(row, &table),
                    team: count(row.get("k")).and_then(|i| table.get(i)).cloned(),
                });
            }
            if let Some(teams) = day.teams.as_mut() {
                for (team, list) in v.get("ts").and_then(Value::as_object).into_iter().flatten() {
                    let sums = teams.entry(team.clone()).or_default();
                    for s in list.as_array().into_iter().flatten() {
                        if let Some(h) = hour_sum(s, &table) {
                            sums.push(h);
                        }
                    }
                }
            }
        }
        out.insert(date, day);
    }
    out
}

/// An hour's sums as stored: `[start, agents, r, t, d]`.
fn hour_sum(s: &Value, table: &[String]) -> Option<HourSum> {
    let h = s
        .get(0)
        .and_then(Value::as_str)
        .and_then(values::instant::parse)?;
    let row = json!({"r": s.get(2), "t": s.get(3), "d": s.get(4)});
    Some(HourSum {
        start: h,
        agents: count(s.get(1)).unwrap_or(0),
        figures: decode(&row, table),
    })
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

#[cfg(test)]
mod detail_tests {
    use super::*;

    /// Scanning a bucket's text for the chosen agents leaves what dropping the others' rows from
    /// its values leaves; an item of one agent, or junk, is passed as it is.
    #[test]
    fn push_detail_of_keeps_what_keep_detail_of_keeps() {
        let item = json!({"v": 1, "date": "2026-11-15", "g": 3, "bucket": 2, "buckets": 4,
            "h": ["2026-11-15T05:00:00Z"], "n": ["Available", "x\"y"],
            "a": {"WKa": [[0, [0, 1000], [1], []]], "WKb": [[0, [1, 5], [], [1, 2]]], "WKc": []}});
        let keep = |w: &str| w == "WKb" || w == "WKc";
        let raw = serde_json::value::RawValue::from_string(item.to_string()).unwrap();
        let mut out = String::from("x");
        push_detail_of(&mut out, &raw, &keep);
        let mut expected = item.clone();
        keep_detail_of(&mut expected, keep);
        assert_eq!(serde_json::from_str::<Value>(&out[1..]).unwrap(), expected);
        for text in [r#"{"v": 2, "w": "WKa", "r": []}"#, "[1, 2]", "null"] {
            let raw = serde_json::value::RawValue::from_string(text.to_string()).unwrap();
            let mut out = String::new();
            push_detail_of(&mut out, &raw, &keep);
            assert_eq!(
                serde_json::from_str::<Value>(&out).unwrap(),
                serde_json::from_str::<Value>(text).unwrap()
            );
        }
    }
}
