//! The Sync record of one agent and one UTC hour, and how an event changes it.
//!
//! A record is a **set of facts keyed by what they are about**, never a counter:
//!
//! - `c`: activity changes keyed by the event's SID: when, from which activity (and how long the
//!   agent had been in it, TaskRouter's `WorkerTimeInPreviousActivityMs`), to which;
//! - `r`: reservations keyed by their `WR…` SID: the instant of each step seen (accepted, rejected,
//!   timed out, canceled, wrap-up, completed) and the disposition read at completion.
//!
//! Applying an event inserts its fact; a fact already there is left as it is (the earliest
//! instant of a step wins). So a duplicate changes nothing (and needs no write), and the record is a
//! function of the *set* of its events, whatever their order. Figures (seconds per activity, counts,
//! handle and wrap-up time) are computed from the facts when read ([`crate::timeline`]), never
//! stored, so a late event simply completes the picture.
//!
//! An event goes to the record of the UTC hour of its instant (zone-independent: changing
//! `QUEUE_STATS_TIME_ZONE` later leaves every record valid). Work per event is one item read and at
//! most one write, whatever the history holds.
//!
//! Item (`<hour UTC YYYYMMDDTHHZ>.<WK…>.<chunk>` in map `agentHistory.<n>`):
//!
//! ```json
//! {"v": 1, "w": "WK…", "h": "2026-03-08T07:00:00Z", "k": 0,
//!  "n": ["Available", "Break", "Sold"],
//!  "c": {"EV…": [125000, 1, 0, 900000]},
//!  "r": {"WR…": [130000, -1, -1, -1, 410000, 470000, 2]}}
//! ```
//!
//! `n` is the sorted table of the activity names and dispositions the record uses; `c` entries are
//! `[ms into the hour, previous (index or -1), activity, ms in the previous activity or -1]`; `r`
//! entries are the ms into the hour of accepted, rejected, timed out, canceled, wrap-up and completed
//! (-1: not in this hour), then the disposition (index or -1).
//!
//! **Size.** An item stays under [`ITEM_LIMIT`] (14,000 bytes; Sync allows 16 KiB): an event that
//! would make it larger is refused ([`Applied::Full`]) and goes to the next chunk of the same hour.
//! A change entry is at most about 70 bytes and a reservation entry about 90, so one chunk holds
//! about 150 reservations with all their steps — more than a busy chat agent handles in an hour
//! (three at a time, two minutes each: 90); the test `a_busy_agent_hour_fits_one_item` measures it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::event::{AgentEvent, Change, Step, STEPS};

/// The prefix of the Sync maps of agent records: `agentHistory.<n>`.
pub const MAP_NAME: &str = "agentHistory";
/// An item's JSON stays under this many bytes (Sync's limit is 16 KiB).
pub const ITEM_LIMIT: usize = 14_000;
const HOUR_MS: i64 = 3_600_000;

/// One activity change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityChange {
    pub at_ms: i64,
    pub previous: Option<String>,
    pub activity: String,
    pub previous_ms: Option<i64>,
}

/// What is known of one reservation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reservation {
    /// Instant (ms since 1970) of each [`Step`] seen.
    pub steps: [Option<i64>; STEPS],
    pub disposition: Option<String>,
}

impl Reservation {
    pub fn at(&self, step: Step) -> Option<i64> {
        self.steps.get(step as usize).copied().flatten()
    }

    /// Adds what `other` knows (the earliest instant of each step; the disposition of the earliest
    /// completion). Answers whether anything changed.
    pub fn merge(&mut self, other: &Reservation) -> bool {
        let mut changed = false;
        for (i, theirs) in other.steps.iter().enumerate() {
            let Some(t) = theirs else { continue };
            let Some(mine) = self.steps.get_mut(i) else {
                continue;
            };
            let completion = i == Step::Completed as usize;
            let better = match mine {
                None => true,
                Some(m) if t < m => true,
                // The same completion seen twice with different attributes: a fixed choice.
                Some(m) if t == m && completion => other.disposition < self.disposition,
                _ => false,
            };
            if better {
                *mine = Some(*t);
                if completion {
                    self.disposition = other.disposition.clone();
                }
                changed = true;
            }
        }
        changed
    }
}

/// The record of one agent, one UTC hour and one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub worker: String,
    /// The UTC hour's start, ms since 1970.
    pub hour_ms: i64,
    pub chunk: u32,
    pub changes: BTreeMap<String, ActivityChange>,
    pub reservations: BTreeMap<String, Reservation>,
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Applied {
    /// The fact is new: write the record.
    Changed,
    /// Already known (a duplicate, or a later sighting of a step): no write.
    Unchanged,
    /// It would not fit: apply it to the next chunk.
    Full,
    /// The event belongs to another agent or hour.
    Elsewhere,
}

/// The UTC hour (start, ms) of an instant.
pub fn utc_hour(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}

fn hour_text(hour_ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(hour_ms)
        .map(|t| t.format("%Y%m%dT%HZ").to_string())
        .unwrap_or_default()
}

/// The Sync map of an agent's records: one of `config.maps`, by a fixed hash of the SID, so each
/// map takes a share of the writes (Sync's budget is per object; items count against their map).
pub fn map_name(config: &Config, worker: &str) -> String {
    // FNV-1a: stable across versions and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in worker.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{MAP_NAME}.{}", h % config.maps.max(1))
}

/// Every map's name.
pub fn map_names(config: &Config) -> Vec<String> {
    (0..config.maps.max(1))
        .map(|n| format!("{MAP_NAME}.{n}"))
        .collect()
}

/// The item key: hours sort by time, so a range of hours is one listing of each map.
pub fn item_key(hour_ms: i64, worker: &str, chunk: u32) -> String {
    format!("{}.{worker}.{chunk}", hour_text(hour_ms))
}

/// The first and last key (inclusive) of one agent's chunks of one UTC hour.
pub fn agent_keys(hour_ms: i64, worker: &str) -> (String, String) {
    let t = hour_text(hour_ms);
    (format!("{t}.{worker}."), format!("{t}.{worker}.~"))
}

/// The first and last key (inclusive) of the UTC hours `first_ms` to `last_ms`.
pub fn key_range(first_ms: i64, last_ms: i64) -> (String, String) {
    (
        format!("{}.", hour_text(first_ms)),
        format!("{}.~", hour_text(last_ms)),
    )
}

/// Where an event's record is: map and key of its chunk `chunk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub map: String,
    pub key: String,
}

pub fn place(config: &Config, event: &AgentEvent, chunk: u32) -> Place {
    Place {
        map: map_name(config, &event.worker),
        key: item_key(utc_hour(event.at_ms), &event.worker, chunk),
    }
}

/// Keys of records past retention, to delete (one range per map), at `now_ms`: every hour ending
/// more than `retention_days` ago. Sync's TTLs cannot exceed a year, so old records are deleted
/// (as the queue history does) rather than left to a TTL.
pub fn expired(config: &Config, now_ms: i64) -> Vec<(String, String, String)> {
    let cutoff = utc_hour(now_ms - i64::from(config.retention_days) * 24 * HOUR_MS) - HOUR_MS;
    map_names(config)
        .into_iter()
        .map(|m| (m, "0".to_string(), format!("{}.~", hour_text(cutoff))))
        .collect()
}

impl Record {
    pub fn new(worker: &str, hour_ms: i64, chunk: u32) -> Record {
        Record {
            worker: worker.to_string(),
            hour_ms,
            chunk,
            changes: BTreeMap::new(),
            reservations: BTreeMap::new(),
        }
    }

    /// Whether the record already holds everything `event` says.
    pub fn knows(&self, event: &AgentEvent) -> bool {
        match &event.change {
            Change::Activity { .. } => self.changes.contains_key(&event.sid),
            Change::Reservation {
                reservation, step, ..
            } => self
                .reservations
                .get(reservation)
                .and_then(|r| r.at(*step))
                .is_some_and(|t| t <= event.at_ms),
        }
    }

    /// Adds `event`'s fact (see the module documentation).
    pub fn apply(&mut self, event: &AgentEvent) -> Applied {
        if event.worker != self.worker || utc_hour(event.at_ms) != self.hour_ms {
            return Applied::Elsewhere;
        }
        let before = self.clone();
        let changed = match &event.change {
            Change::Activity {
                previous,
                activity,
                previous_ms,
            } => {
                if self.changes.contains_key(&event.sid) {
                    false
                } else {
                    self.changes.insert(
                        event.sid.clone(),
                        ActivityChange {
                            at_ms: event.at_ms,
                            previous: previous.clone(),
                            activity: activity.clone(),
                            previous_ms: *previous_ms,
                        },
                    );
                    true
                }
            }
            Change::Reservation {
                reservation,
                step,
                disposition,
            } => {
                let mut seen = Reservation::default();
                if let Some(s) = seen.steps.get_mut(*step as usize) {
                    *s = Some(event.at_ms);
                }
                if *step == Step::Completed {
                    seen.disposition = disposition.clone();
                }
                self.reservations
                    .entry(reservation.clone())
                    .or_default()
                    .merge(&seen)
            }
        };
        if !changed {
            return Applied::Unchanged;
        }
        if self.to_value().to_string().len() > ITEM_LIMIT {
            *self = before;
            return Applied::Full;
        }
        Applied::Changed
    }

    /// The item's data (canonical: the same facts give the same JSON).
    pub fn to_value(&self) -> Value {
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for c in self.changes.values() {
            names.insert(&c.activity);
            if let Some(p) = &c.previous {
                names.insert(p);
            }
        }
        for r in self.reservations.values() {
            if let Some(d) = &r.disposition {
                names.insert(d);
            }
        }
        let table: Vec<&str> = names.into_iter().collect();
        let index = |name: Option<&String>| -> i64 {
            name.and_then(|n| table.iter().position(|t| *t == n.as_str()))
                .map_or(-1, |i| i as i64)
        };
        let changes: Map<String, Value> = self
            .changes
            .iter()
            .map(|(sid, c)| {
                (
                    sid.clone(),
                    json!([
                        c.at_ms - self.hour_ms,
                        index(c.previous.as_ref()),
                        index(Some(&c.activity)),
                        c.previous_ms.unwrap_or(-1)
                    ]),
                )
            })
            .collect();
        let reservations: Map<String, Value> = self
            .reservations
            .iter()
            .map(|(sid, r)| {
                let mut row: Vec<i64> = r
                    .steps
                    .iter()
                    .map(|s| s.map_or(-1, |t| t - self.hour_ms))
                    .collect();
                row.push(index(r.disposition.as_ref()));
                (sid.clone(), json!(row))
            })
            .collect();
        json!({
            "v": 1, "w": self.worker, "h": history::time::iso(
                DateTime::<Utc>::from_timestamp_millis(self.hour_ms).unwrap_or_default()),
            "k": self.chunk, "n": table, "c": changes, "r": reservations,
        })
    }

    /// A stored item back; `None` when it is not a record. Malformed entries are skipped.
    pub fn from_value(v: &Value) -> Option<Record> {
        if v.get("v").and_then(Value::as_i64) != Some(1) {
            return None;
        }
        let worker = v.get("w")?.as_str()?.to_string();
        let hour_ms = v
            .get("h")
            .and_then(Value::as_str)
            .and_then(values::instant::parse)?
            .timestamp_millis();
        let chunk = v
            .get("k")
            .and_then(Value::as_u64)
            .and_then(|k| u32::try_from(k).ok())
            .unwrap_or(0);
        let table: Vec<String> = v
            .get("n")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let name = |x: Option<&Value>| -> Option<String> {
            let i = usize::try_from(x?.as_i64()?).ok()?;
            table.get(i).cloned()
        };
        let offset = |x: Option<&Value>| -> Option<i64> {
            x.and_then(Value::as_i64)
                .filter(|o| (0..HOUR_MS).contains(o))
                .map(|o| hour_ms + o)
        };
        let mut record = Record::new(&worker, hour_ms, chunk);
        if let Some(c) = v.get("c").and_then(Value::as_object) {
            for (sid, row) in c {
                let Some(row) = row.as_array() else { continue };
                let (Some(at_ms), Some(activity)) = (offset(row.first()), name(row.get(2))) else {
                    continue;
                };
                record.changes.insert(
                    sid.clone(),
                    ActivityChange {
                        at_ms,
                        previous: name(row.get(1)),
                        activity,
                        previous_ms: row.get(3).and_then(Value::as_i64).filter(|m| *m >= 0),
                    },
                );
            }
        }
        if let Some(r) = v.get("r").and_then(Value::as_object) {
            for (sid, row) in r {
                let Some(row) = row.as_array() else { continue };
                let mut res = Reservation::default();
                for (i, s) in res.steps.iter_mut().enumerate() {
                    *s = offset(row.get(i));
                }
                if res.steps.iter().all(Option::is_none) {
                    continue;
                }
                res.disposition = name(row.get(STEPS));
                record.reservations.insert(sid.clone(), res);
            }
        }
        Some(record)
    }
}
