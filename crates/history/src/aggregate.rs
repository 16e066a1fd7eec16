//! Series: stored hours grouped by hour, hour of day, day of week, date or queue.
//!
//! Every group adds its buckets' counts and sums, then divides once: averages are weighted by
//! their own counts (wait by accepted tasks, abandon time by abandoned tasks, handle time by
//! handled tasks), service level comes from the summed split counts, and agents are worker-seconds
//! over the seconds of the distinct hours observed. Nothing is an average of averages.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bucket::Bucket;
use crate::config::Config;
use crate::query::{By, Query};
use crate::store::read_items;
use crate::time::{self, day_of_week, hour_of_day, iso, local_date, next_day_start};

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub entered: f64,
    pub accepted: f64,
    pub abandoned: f64,
    pub short_abandoned: f64,
    /// Abandoned / (accepted + abandoned).
    pub abandon_rate: Option<f64>,
    pub avg_wait: Option<f64>,
    pub max_wait: f64,
    pub avg_abandon: Option<f64>,
    pub handled: f64,
    pub avg_handle: Option<f64>,
    pub avg_available: Option<f64>,
    pub avg_logged_in: Option<f64>,
    /// Per threshold: accepted below / (accepted below + accepted above + canceled above).
    pub service_level: BTreeMap<String, Option<f64>>,
    /// Stored hours (queue-hours for several queues) that went into the group.
    pub buckets: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub key: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueName {
    pub sid: String,
    pub friendly_name: String,
}

/// The answer of `GET /queue-history`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub zone: String,
    pub channel: String,
    /// Every channel with history, `all` first (the page's channel picker).
    pub channels: Vec<String>,
    pub by: By,
    pub from: String,
    pub to: String,
    pub thresholds: Vec<u32>,
    pub queues: Vec<QueueName>,
    pub series: Vec<Row>,
    pub totals: Figures,
    /// Closed hours in the range.
    pub closed_hours: usize,
    /// Closed hours with no stored figures, each with why ([`Missing`]).
    pub missing: Vec<Missing>,
}

/// A closed hour with no stored figures, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    pub hour: String,
    /// `pending` (not fetched yet: within the time budget or held by another request; ask
    /// again), `failed` (TaskRouter refused or failed: `reason` says what), `expired` (older than
    /// TaskRouter keeps and never closed in time).
    pub code: String,
    pub reason: String,
}

/// What the shim learnt about hours it tried to store: hour → (code, reason).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub code: String,
    pub reason: String,
}

/// The reason of each missing hour of `query`: the shim's note, else `expired` before
/// `backfill_from`, else `pending`.
pub fn missing_reasons(
    query: &Query,
    hours: &[String],
    notes: &BTreeMap<String, Note>,
) -> Vec<Missing> {
    let limit = instant(&query.backfill_from);
    hours
        .iter()
        .map(|h| {
            let (code, reason) = match notes.get(h) {
                Some(n) => (n.code.clone(), n.reason.clone()),
                None if instant(h).zip(limit).is_some_and(|(t, l)| t < l) => (
                    "expired".to_string(),
                    "older than TaskRouter keeps (30 days) and not closed in time".to_string(),
                ),
                None => (
                    "pending".to_string(),
                    "backfill pending: not fetched from TaskRouter yet; ask again".to_string(),
                ),
            };
            Missing {
                hour: h.clone(),
                code,
                reason,
            }
        })
        .collect()
}

#[derive(Default)]
struct Acc {
    sum: Bucket,
    observed: BTreeMap<(String, DateTime<Utc>), f64>,
    buckets: usize,
}

impl Acc {
    fn add(&mut self, who: &str, hour: DateTime<Utc>, b: &Bucket, per_queue_observed: bool) {
        self.sum.add(b);
        self.buckets += 1;
        // Agents: worker-seconds over the seconds of distinct hours (per queue when grouping by
        // queue; several queues in one hour share that hour's seconds, so their agents add up).
        let key = (
            if per_queue_observed {
                who.to_string()
            } else {
                String::new()
            },
            hour,
        );
        let o = self.observed.entry(key).or_insert(0.0);
        *o = o.max(b.observed_seconds);
    }

    fn figures(&self, thresholds: &[u32]) -> Figures {
        let s = &self.sum;
        let ratio = |n: f64, d: f64| if d > 0.0 { Some(n / d) } else { None };
        let observed: f64 = self.observed.values().sum();
        Figures {
            entered: s.entered,
            accepted: s.accepted,
            abandoned: s.abandoned,
            short_abandoned: s.short_abandoned,
            abandon_rate: ratio(s.abandoned, s.accepted + s.abandoned).map(round_share),
            avg_wait: ratio(s.wait_total, s.accepted).map(round_seconds),
            max_wait: round_seconds(s.wait_max),
            avg_abandon: ratio(s.abandon_wait_total, s.abandoned).map(round_seconds),
            handled: s.handle_count,
            avg_handle: ratio(s.handle_total, s.handle_count).map(round_seconds),
            avg_available: ratio(s.available_seconds, observed).map(round_agents),
            avg_logged_in: ratio(s.logged_in_seconds, observed).map(round_agents),
            service_level: thresholds
                .iter()
                .map(|t| {
                    let sp = s.split.get(t).copied().unwrap_or_default();
                    (
                        t.to_string(),
                        queue_settings::service_level(
                            sp.accepted_below,
                            sp.accepted_above,
                            sp.canceled_above,
                        )
                        .map(round_share),
                    )
                })
                .collect(),
            buckets: self.buckets,
        }
    }
}

/// Answered figures are rounded once, after the division (the sums stay exact): seconds to a
/// tenth, shares (service level, abandon rate) to four decimals (0.01 %), agents to a hundredth.
/// A CSV or a chart then shows `17.7`, never `17.666666666666668`.
fn round_to(v: f64, per_unit: f64) -> f64 {
    let r = (v * per_unit).round() / per_unit;
    if r.is_finite() {
        r
    } else {
        v
    }
}

pub fn round_seconds(v: f64) -> f64 {
    round_to(v, 10.0)
}

pub fn round_share(v: f64) -> f64 {
    round_to(v, 10_000.0)
}

pub fn round_agents(v: f64) -> f64 {
    round_to(v, 100.0)
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The closed hours of `query` that no complete stored hour covers.
pub fn missing(query: &Query, items: &[Value]) -> Vec<String> {
    let stored = read_items(&query.channel, items);
    query
        .closed
        .iter()
        .filter(|h| {
            instant(h)
                .and_then(|t| stored.get(&t))
                .is_none_or(|s| !s.complete())
        })
        .cloned()
        .collect()
}

/// The series of `query` from the stored items (any order, other channels ignored).
pub fn aggregate(config: &Config, query: &Query, items: &[Value]) -> Series {
    aggregate_with(config, query, items, &BTreeMap::new())
}

/// [`aggregate`], with the shim's notes on the hours it could not store.
pub fn aggregate_with(
    config: &Config,
    query: &Query,
    items: &[Value],
    notes: &BTreeMap<String, Note>,
) -> Series {
    aggregate_known(config, query, items, notes, &[])
}

/// [`aggregate_with`], with the queues TaskRouter lists now (`known`): every one asked for is in
/// the answer's `queues` even before any of its hours is stored (a stored name wins).
pub fn aggregate_known(
    config: &Config,
    query: &Query,
    items: &[Value],
    notes: &BTreeMap<String, Note>,
    known: &[QueueName],
) -> Series {
    let zone = config.time_zone;
    let thresholds = &config.sla_thresholds;
    let stored = read_items(&query.channel, items);
    let wanted = |sid: &str| {
        query
            .queues
            .as_ref()
            .is_none_or(|q| q.iter().any(|x| x == sid))
    };
    let mut groups: BTreeMap<String, (Row, Acc)> = BTreeMap::new();
    let mut totals = Acc::default();
    let mut names: BTreeMap<String, String> = known
        .iter()
        .filter(|q| wanted(&q.sid))
        .map(|q| (q.sid.clone(), q.friendly_name.clone()))
        .collect();
    let row = |key: String, label: String, start: Option<String>, end: Option<String>| Row {
        key,
        label,
        start,
        end,
        figures: Acc::default().figures(thresholds),
    };
    let group_of = |h: DateTime<Utc>, sid: &str, name: &str| -> Option<Row> {
        Some(match query.by {
            By::Hour => row(
                iso(h),
                h.with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M %:z")
                    .to_string(),
                Some(iso(h)),
                Some(iso(time::next_hour(zone, h))),
            ),
            By::Date => {
                let d = local_date(zone, h);
                row(
                    d.to_string(),
                    d.format("%a %Y-%m-%d").to_string(),
                    Some(iso(time::day_start(zone, d))),
                    Some(iso(next_day_start(zone, d))),
                )
            }
            By::HourOfDay => {
                let hod = hour_of_day(zone, h);
                row(format!("{hod:02}"), format!("{hod:02}:00"), None, None)
            }
            By::DayOfWeek => {
                let d = day_of_week(zone, h);
                let label = DAYS.get(d as usize - 1).copied().unwrap_or("?");
                row(d.to_string(), label.to_string(), None, None)
            }
            By::Queue => row(sid.to_string(), name.to_string(), None, None),
        })
    };
    // Every closed hour gets its group (an hour or day with no traffic is a zero, not a hole).
    if query.by != By::Queue {
        for h in query.closed.iter().filter_map(|h| instant(h)) {
            if let Some(r) = group_of(h, "", "") {
                groups.entry(r.key.clone()).or_insert((r, Acc::default()));
            }
        }
    }
    for h in query.closed.iter().filter_map(|h| instant(h)) {
        let Some(hour) = stored.get(&h).filter(|s| s.complete()) else {
            continue;
        };
        for (sid, (name, bucket)) in &hour.queues {
            if !wanted(sid) {
                continue;
            }
            names.insert(sid.clone(), name.clone());
            let Some(r) = group_of(h, sid, name) else {
                continue;
            };
            let entry = groups.entry(r.key.clone()).or_insert((r, Acc::default()));
            entry.1.add(sid, h, bucket, query.by == By::Queue);
            totals.add(sid, h, bucket, false);
        }
    }
    let mut series: Vec<Row> = groups
        .into_values()
        .map(|(mut r, acc)| {
            r.figures = acc.figures(thresholds);
            r
        })
        .collect();
    match query.by {
        By::Hour | By::Date => series.sort_by(|a, b| a.start.cmp(&b.start)),
        By::Queue => series.sort_by(|a, b| (&a.label, &a.key).cmp(&(&b.label, &b.key))),
        By::HourOfDay | By::DayOfWeek => {}
    }
    Series {
        zone: query.zone.clone(),
        channel: query.channel.clone(),
        channels: query.channels.clone(),
        by: query.by,
        from: query.from.clone(),
        to: query.to.clone(),
        thresholds: thresholds.clone(),
        queues: names
            .into_iter()
            .map(|(sid, friendly_name)| QueueName { sid, friendly_name })
            .collect(),
        series,
        totals: totals.figures(thresholds),
        closed_hours: query.closed.len(),
        missing: missing_reasons(query, &missing(query, items), notes),
    }
}
