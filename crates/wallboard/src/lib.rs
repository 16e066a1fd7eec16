//! What the wallboard shows: the `queueStats` records of `crates/queue-stats`, read for one
//! channel, judged against the SLA target and the floor's thresholds, and rolled up.
//!
//! # The model
//!
//! A record ([queue-stats.md](../../docs/queue-stats.md)) holds, per channel (`all`, `voice`,
//! …), a real-time block (`realTimeStats_<channel>`) and a cumulative block for today
//! (`cumulativeStats_<channel>`). For the channel on screen, [`tile`] reads:
//!
//! - **waiting**: `tasksByStatus.pending + reserved`;
//! - **oldest wait**: `now − oldestTaskEnteredAt` (top level for `all`, else the channel's), in
//!   whole seconds, only while something waits — the page recomputes it every second, so the
//!   oldest wait ticks with no traffic;
//! - **agents**: available (`availableWorkers`), eligible (`eligibleWorkers`), and busy = eligible
//!   − available − those in the `Offline` activity;
//! - **today**: accepted (`rAccepted`), abandoned (`tCanc`), ASA (`avgTaskAcceptanceTime`), and the
//!   service level per threshold (`serviceLevel`).
//!
//! # Status
//!
//! Each tile is `ok`, `warn` or `alert` — the worst of three checks, each with a reason in words
//! (colour is never the only signal):
//!
//! - **SLA** at the configured threshold: `alert` below the target, `warn` less than the warn
//!   margin above it; a level of `null` (nothing happened today) is neither.
//! - **waiting tasks** and **oldest wait** against their `warn` / `alert` limits.
//!
//! The target is the configuration's `slaTarget` when set, else the record's own (`slaTarget`,
//! from `QUEUE_STATS_SLA_TARGET`), else 80 %. Every limit has a default ([`Config`]) that a queue
//! can override by friendly name or SID. A tile is **stale** when the page is not connected or the
//! record says its statistics could not be read (`realTimeStatsMessage`, `cumulativeStatsMessage`).
//!
//! # The roll-up row
//!
//! [`summary`] rolls the tiles on screen up as Flex's Real-time Queues View does: counts summed,
//! the oldest wait is the maximum, the service level is weighted by each queue's accepted +
//! abandoned, ASA by accepted.
//!
//! Records come from the network; nothing here panics on any JSON: a missing or mistyped field
//! reads as absent (zero, `null`).

mod config;
mod store;

#[cfg(target_arch = "wasm32")]
mod web;

use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

pub use config::{Config, ConfigError, Effective, Kiosk, Limits, Order, QueueLimits};
pub use store::{Delta, Store};

/// A tile's status, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Ok,
    Warn,
    Alert,
}

/// One threshold's service level.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Level {
    pub threshold: String,
    pub level: Option<f64>,
    pub breached: bool,
}

/// What one queue's tile shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tile {
    pub sid: String,
    pub friendly_name: String,
    pub channel: String,
    /// The record has blocks for this channel.
    pub present: bool,
    #[serde(flatten)]
    pub figures: Figures,
    pub service_levels: Vec<Level>,
    /// The threshold that drives the colour, and its level.
    pub sla_threshold: Option<String>,
    pub sla_level: Option<f64>,
    pub sla_target: f64,
    pub status: Status,
    pub reasons: Vec<String>,
    pub stale: bool,
    /// The record's error message, when its statistics could not be read.
    pub message: Option<String>,
    pub updated_at: Option<String>,
    /// What `/staffing` should be asked for this queue.
    pub staffing: StaffingQuery,
}

/// The figures a tile shows and the roll-up sums (its oldest wait is the longest of the tiles',
/// its ASA the tiles' weighted by what each accepted).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub waiting: u64,
    /// Seconds the oldest waiting task has waited; `None` when nothing waits.
    pub oldest_seconds: Option<u64>,
    pub available: u64,
    pub busy: u64,
    pub eligible: u64,
    pub accepted: u64,
    pub abandoned: u64,
    /// Average speed of answer; `None` while nothing was accepted today (the record then says 0,
    /// which would read as "answered at once"), or on screen for the roll-up.
    pub asa_seconds: Option<f64>,
}

/// The `/staffing` parameters for a queue's "agents needed now".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffingQuery {
    pub queue_sid: String,
    pub threshold_seconds: Option<String>,
    pub target: f64,
    pub channel: Option<String>,
    pub aht_seconds: Option<f64>,
    /// Where `aht_seconds` comes from: `"queue"` (the queue's override), `"default"` (the
    /// configuration's), or `"server"` (none: `STAFFING_DEFAULT_AHT_SECONDS` applies).
    pub aht_from: &'static str,
}

/// The roll-up row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub queues: usize,
    #[serde(flatten)]
    pub figures: Figures,
    pub sla_level: Option<f64>,
    /// How many tiles are in `alert`, in `warn`, and stale.
    pub alerts: usize,
    pub warnings: usize,
    pub stale: usize,
}

/// The whole board: tiles (sorted by name) and the roll-up of those tiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    pub tiles: Vec<Tile>,
    pub summary: Summary,
}

/// What the screen shows: a channel (`None` = all), a queue selection (names or SIDs; empty =
/// every queue) and the tiles' order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    pub channel: Option<String>,
    pub queues: Vec<String>,
    pub order: Order,
}

impl View {
    /// The record is one of the selected queues.
    pub fn selects(&self, record: &Value) -> bool {
        self.queues.is_empty()
            || self.queues.iter().any(|q| {
                Some(q.as_str()) == text(record, "sid")
                    || Some(q.as_str()) == text(record, "friendlyName")
            })
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn count(v: Option<&Value>) -> u64 {
    match v.and_then(Value::as_f64) {
        Some(n) if n.is_finite() && n > 0.0 => n.min(1e15) as u64,
        _ => 0,
    }
}

fn instant_ms(v: Option<&Value>) -> Option<i64> {
    let s = v.and_then(Value::as_str)?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn pct(v: f64) -> String {
    format!("{}%", (v * 100.0).round())
}

fn clock(s: u64) -> String {
    format!("{}:{:02}", s / 60, s % 60)
}

/// One record's tile at `now_ms` (milliseconds since 1970) for `channel` (`None` = all).
pub fn tile(
    record: &Value,
    config: &Config,
    channel: Option<&str>,
    now_ms: f64,
    connected: bool,
) -> Tile {
    let sid = text(record, "sid").unwrap_or_default().to_string();
    let friendly_name = text(record, "friendlyName").unwrap_or(&sid).to_string();
    let ch = channel.unwrap_or("all");
    let Effective { limits, aht_from } = config.for_queue(&sid, &friendly_name);
    let empty = Value::Null;
    let rt = record.get(format!("realTimeStats_{ch}")).unwrap_or(&empty);
    let cu = record
        .get(format!("cumulativeStats_{ch}"))
        .unwrap_or(&empty);
    let by_status = rt.get("tasksByStatus");
    let waiting = count(by_status.and_then(|s| s.get("pending")))
        + count(by_status.and_then(|s| s.get("reserved")));
    let entered = if ch == "all" {
        instant_ms(record.get("oldestTaskEnteredAt"))
            .or_else(|| instant_ms(rt.get("oldestTaskEnteredAt")))
    } else {
        instant_ms(rt.get("oldestTaskEnteredAt"))
    };
    let oldest_seconds = match entered {
        Some(at) if waiting > 0 && now_ms.is_finite() => {
            Some(((now_ms - at as f64) / 1000.0).floor().clamp(0.0, 1e12) as u64)
        }
        _ => None,
    };
    let offline = rt
        .get("activityStatistics")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|x| text(x, "friendly_name") == Some("Offline"))
        })
        .map(|x| count(x.get("workers")))
        .unwrap_or(0);
    let available = count(rt.get("availableWorkers"));
    let eligible = count(rt.get("eligibleWorkers"));
    let sla = cu.get("serviceLevel").and_then(Value::as_object);
    let mut service_levels: Vec<Level> = sla
        .map(|m| {
            m.iter()
                .map(|(t, v)| Level {
                    threshold: t.clone(),
                    level: v
                        .get("level")
                        .and_then(Value::as_f64)
                        .filter(|l| l.is_finite()),
                    breached: v.get("breached").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    service_levels.sort_by_key(|l| l.threshold.parse::<u64>().unwrap_or(u64::MAX));
    let wanted = limits.sla_threshold_seconds.to_string();
    let primary = service_levels
        .iter()
        .find(|l| l.threshold == wanted)
        .or_else(|| service_levels.first());
    let sla_threshold = primary.map(|l| l.threshold.clone());
    let sla_level = primary.and_then(|l| l.level);
    let sla_target = limits
        .sla_target
        .or_else(|| {
            record
                .get("slaTarget")
                .and_then(Value::as_f64)
                .filter(|t| t.is_finite() && *t > 0.0 && *t <= 1.0)
        })
        .unwrap_or(0.8);

    let mut checks: Vec<(Status, String)> = Vec::new();
    if let (Some(level), Some(t)) = (sla_level, &sla_threshold) {
        if level < sla_target {
            checks.push((
                Status::Alert,
                format!("SLA {t} s {} < {}", pct(level), pct(sla_target)),
            ));
        } else if level < sla_target + limits.sla_warn_margin {
            checks.push((
                Status::Warn,
                format!("SLA {t} s {} near {}", pct(level), pct(sla_target)),
            ));
        }
    }
    let mut limit = |value: u64, l: &Limits, label: &str, fmt: &dyn Fn(u64) -> String| {
        if value as f64 >= l.alert {
            checks.push((
                Status::Alert,
                format!("{label} {} ≥ {}", fmt(value), fmt(l.alert as u64)),
            ));
        } else if value as f64 >= l.warn {
            checks.push((
                Status::Warn,
                format!("{label} {} ≥ {}", fmt(value), fmt(l.warn as u64)),
            ));
        }
    };
    limit(waiting, &limits.waiting_tasks, "waiting", &|v| {
        v.to_string()
    });
    limit(
        oldest_seconds.unwrap_or(0),
        &limits.longest_wait_seconds,
        "longest wait",
        &clock,
    );
    let status = checks.iter().map(|(s, _)| *s).max().unwrap_or(Status::Ok);
    let message = text(record, "realTimeStatsMessage")
        .or_else(|| text(record, "cumulativeStatsMessage"))
        .filter(|m| !m.is_empty())
        .map(str::to_string);

    Tile {
        present: rt.is_object(),
        channel: ch.to_string(),
        figures: Figures {
            waiting,
            oldest_seconds,
            available,
            busy: eligible.saturating_sub(available).saturating_sub(offline),
            eligible,
            accepted: count(cu.get("rAccepted")),
            abandoned: count(cu.get("tCanc")),
            asa_seconds: cu
                .get("avgTaskAcceptanceTime")
                .and_then(Value::as_f64)
                .filter(|v| v.is_finite() && *v >= 0.0 && count(cu.get("rAccepted")) > 0),
        },
        service_levels,
        staffing: StaffingQuery {
            queue_sid: sid.clone(),
            threshold_seconds: sla_threshold.clone().or(Some(wanted)),
            target: sla_target,
            channel: channel.map(str::to_string),
            aht_seconds: limits.aht_seconds,
            aht_from,
        },
        sla_threshold,
        sla_level,
        sla_target,
        status,
        reasons: checks.into_iter().map(|(_, r)| r).collect(),
        stale: !connected || message.is_some(),
        message,
        updated_at: text(record, "updatedAt").map(str::to_string),
        sid,
        friendly_name,
    }
}

/// The roll-up of `tiles` (see the crate docs).
pub fn summary(tiles: &[Tile]) -> Summary {
    summary_of(tiles.iter())
}

/// [`summary`] of any tiles.
pub fn summary_of<'a>(tiles: impl Iterator<Item = &'a Tile>) -> Summary {
    let tiles: Vec<&Tile> = tiles.collect();
    let sum = |f: fn(&Tile) -> u64| tiles.iter().map(|t| f(t)).sum::<u64>();
    let weight = |t: &Tile| (t.figures.accepted + t.figures.abandoned) as f64;
    let weighted: Vec<(f64, f64)> = tiles
        .iter()
        .filter_map(|t| t.sla_level.map(|l| (l, weight(t))))
        .filter(|(_, w)| *w > 0.0)
        .collect();
    let total: f64 = weighted.iter().map(|(_, w)| w).sum();
    let accepted = sum(|t| t.figures.accepted);
    Summary {
        queues: tiles.len(),
        figures: Figures {
            waiting: sum(|t| t.figures.waiting),
            oldest_seconds: tiles.iter().filter_map(|t| t.figures.oldest_seconds).max(),
            available: sum(|t| t.figures.available),
            busy: sum(|t| t.figures.busy),
            eligible: sum(|t| t.figures.eligible),
            accepted,
            abandoned: sum(|t| t.figures.abandoned),
            asa_seconds: (accepted > 0).then(|| {
                (tiles
                    .iter()
                    .map(|t| t.figures.asa_seconds.unwrap_or(0.0) * t.figures.accepted as f64)
                    .sum::<f64>()
                    / accepted as f64)
                    .round()
            }),
        },
        sla_level: (total > 0.0).then(|| weighted.iter().map(|(l, w)| l * w).sum::<f64>() / total),
        alerts: tiles.iter().filter(|t| t.status == Status::Alert).count(),
        warnings: tiles.iter().filter(|t| t.status == Status::Warn).count(),
        stale: tiles.iter().filter(|t| t.stale).count(),
    }
}

/// Sorts tiles in `order`: by name then SID, or alerts first (alert, then warn, then ok; by name
/// within each, so a tile only moves when its status changes).
pub fn sort_tiles(tiles: &mut [Tile], order: Order) {
    tiles.sort_by(|a, b| compare(a, b, order));
}

/// [`sort_tiles`] for references.
pub fn sort_tile_refs(tiles: &mut [&Tile], order: Order) {
    tiles.sort_by(|a, b| compare(a, b, order));
}

fn compare(a: &Tile, b: &Tile, order: Order) -> std::cmp::Ordering {
    let by_status = match order {
        Order::Alerts => b.status.cmp(&a.status),
        Order::Name => std::cmp::Ordering::Equal,
    };
    by_status
        .then_with(|| a.friendly_name.cmp(&b.friendly_name))
        .then_with(|| a.sid.cmp(&b.sid))
}

/// The board for the records on screen, in the view's order.
pub fn board(
    records: &[Value],
    config: &Config,
    view: &View,
    now_ms: f64,
    connected: bool,
) -> Board {
    board_of(records.iter(), config, view, now_ms, connected)
}

/// [`board`] over any records.
pub fn board_of<'a>(
    records: impl Iterator<Item = &'a Value>,
    config: &Config,
    view: &View,
    now_ms: f64,
    connected: bool,
) -> Board {
    let mut tiles: Vec<Tile> = records
        .filter(|r| r.is_object() && text(r, "sid").is_some() && view.selects(r))
        .map(|r| tile(r, config, view.channel.as_deref(), now_ms, connected))
        .collect();
    sort_tiles(&mut tiles, view.order);
    let summary = summary(&tiles);
    Board { tiles, summary }
}

/// The most queues one `/staffing` batch carries (`staffing::MAX_BATCH_QUEUES`; a test checks
/// they agree).
pub const STAFFING_BATCH_MAX: usize = 2_000;

/// One queue of a `/staffing` batch: [`StaffingQuery`] as `/staffing` reads it (the handle time
/// is `ahtSeconds` when the queue sets it, `fallbackAhtSeconds` when it is the board's default,
/// absent when the server's default applies).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffingAsk {
    pub queue_sid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_seconds: Option<String>,
    pub target: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aht_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_aht_seconds: Option<f64>,
}

/// A `/staffing` request body: `{queues: [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffingBatch {
    pub queues: Vec<StaffingAsk>,
}

/// What the page asks `/staffing` for the tiles (all of them, or those whose SID is in `only`):
/// one batch per [`STAFFING_BATCH_MAX`] tiles, so a board's staffing costs one request per refresh
/// up to 2,000 queues (and no request at all without tiles).
pub fn staffing_requests(tiles: &[Tile], only: Option<&[String]>) -> Vec<StaffingBatch> {
    let asks: Vec<StaffingAsk> = tiles
        .iter()
        .filter(|t| only.is_none_or(|o| o.contains(&t.sid)))
        .map(|t| {
            let q = &t.staffing;
            let (aht, fallback) = match (q.aht_seconds, q.aht_from) {
                (Some(v), "default") => (None, Some(v)),
                (v, _) => (v, None),
            };
            StaffingAsk {
                queue_sid: q.queue_sid.clone(),
                threshold_seconds: q.threshold_seconds.clone(),
                target: q.target,
                channel: q.channel.clone(),
                aht_seconds: aht,
                fallback_aht_seconds: fallback,
            }
        })
        .collect();
    asks.chunks(STAFFING_BATCH_MAX)
        .map(|c| StaffingBatch { queues: c.to_vec() })
        .collect()
}

#[cfg(test)]
mod tests;
