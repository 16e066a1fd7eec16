//! How closed hours are kept in Sync: one map per channel, `queueHistory.<channel>`, one item
//! per hour and chunk of queues.
//!
//! Sync's write budget is per object and shrinks with the payload (20 writes/s up to 1 KiB, about
//! 2/s from 10 KiB: roughly 20 KiB/s, see [`write_cost`]); a map per channel gives each channel its
//! own budget, and a query reads one channel, so one map.
//!
//! Key `<channel>.<hour start, UTC, YYYYMMDDTHHMMZ>.<chunk>`, so the hours sort by time and a
//! range is one contiguous listing. Data:
//!
//! ```json
//! {"v": 1, "channel": "all", "start": "2026-03-08T07:00:00Z", "end": "2026-03-08T08:00:00Z",
//!  "thresholds": [30, 60, 120], "shortAbandon": 5, "chunk": 0, "chunks": 1,
//!  "queues": {"WQ…": {"n": "Sales", "r": [12, 10, 2, …]}}}
//! ```
//!
//! `r` is [`Bucket::to_row`]: figures in a fixed order, then four numbers per threshold; the
//! thresholds travel with the item, so changing `QUEUE_STATS_SLA_THRESHOLDS` later leaves old
//! hours readable (a threshold an hour lacks has no service level there). Queues are packed into
//! chunks that stay under [`ITEM_LIMIT`] bytes (about 60 queues each), below Sync's 16 KiB.
//!
//! Items are **created, never updated**: an hour is written once when it is closed, and a
//! second writer's create fails as a duplicate, so a closed hour is immutable.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::agents::Activity;
use crate::bucket::Bucket;
use crate::config::Config;
use crate::handle::handle_times;

/// The prefix of the Sync maps of closed hours: `queueHistory.<channel>`.
pub const MAP_NAME: &str = "queueHistory";

/// The Sync map of a channel's closed hours.
pub fn map_name(channel: &str) -> String {
    format!("{MAP_NAME}.{channel}")
}

/// The share of one second of a Sync object's write budget that a write of `bytes` of data
/// takes (the one model every crate paces by). Deletes cost `write_cost(0)`.
pub use values::sync::write_cost;

/// A chunk's JSON stays under this many bytes.
pub const ITEM_LIMIT: usize = 14_000;

/// The key of a channel's hour chunk.
pub fn item_key(channel: &str, start: DateTime<Utc>, chunk: usize) -> String {
    format!("{channel}.{}.{chunk}", start.format("%Y%m%dT%H%MZ"))
}

/// The first and last key of a channel's hours from `first` to `last` (bucket starts).
pub fn key_range(channel: &str, first: DateTime<Utc>, last: DateTime<Utc>) -> (String, String) {
    (
        format!("{channel}.{}", first.format("%Y%m%dT%H%MZ")),
        format!("{channel}.{}.~", last.format("%Y%m%dT%H%MZ")),
    )
}

/// One queue's TaskRouter answers for a closed hour, as the shim fetched them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueHour {
    pub sid: String,
    #[serde(default)]
    pub friendly_name: String,
    /// Cumulative statistics per channel (`all` and the configured ones) for exactly the hour.
    #[serde(default)]
    pub cumulative: BTreeMap<String, Value>,
    /// Worker-seconds per activity for the queue and hour in the shape of TaskRouter's worker
    /// statistics (`activity_durations`), when given directly (benchmarks, seeded data).
    #[serde(default)]
    pub workers: Option<Value>,
    /// The queue's eligible workers (`Workers?TaskQueueSid=`): with [`HourInput::activity`] and
    /// [`HourInput::workers`], the agents of the hour ([`crate::agents`]).
    #[serde(default)]
    pub members: Option<Vec<String>>,
}

/// Everything needed to close one hour.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HourInput {
    #[serde(default)]
    pub queues: Vec<QueueHour>,
    /// TaskRouter events (`reservation.accepted` from the look-back window, `task.completed` of
    /// the hour) for handle times.
    #[serde(default)]
    pub events: Vec<Value>,
    /// `worker.activity.update` events from the hour's start until `workers` was listed.
    #[serde(default)]
    pub activity: Vec<Value>,
    /// Every worker of the workspace with its current activity (`sid`, `activityName`).
    #[serde(default)]
    pub workers: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The Sync map (one per channel).
    pub map: String,
    pub key: String,
    pub data: Value,
    /// Its share of a second of the map's write budget ([`write_cost`]).
    pub cost: f64,
}

/// The items of a closed hour `[start, end)`: per channel, the queues' buckets in chunks.
pub fn hour_items(
    config: &Config,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    input: &HourInput,
) -> Vec<Item> {
    let split = config.split_by_wait_time();
    let thresholds = &config.sla_thresholds;
    let handle = handle_times(
        &input.events,
        start.timestamp_millis() as f64,
        end.timestamp_millis() as f64,
    );
    let seconds = (end - start).num_seconds() as f64;
    let activity = input.queues.iter().any(|q| q.members.is_some()).then(|| {
        Activity::new(
            &input.activity,
            &input.workers,
            start.timestamp_millis() as f64,
            end.timestamp_millis() as f64,
        )
    });
    let mut items = Vec::new();
    for channel in config.all_channels() {
        let mut rows: Vec<(String, Value)> = Vec::new();
        for q in &input.queues {
            let Some(stats) = q.cumulative.get(&channel) else {
                continue;
            };
            let mut b = Bucket::from_cumulative(stats, &split, config.short_abandon);
            b.split.retain(|t, _| thresholds.contains(t));
            // Agents are the queue's, whatever the channel: every channel's bucket carries them
            // (a channel's view said "–" for agents logged in when only `all` had them).
            {
                let derived = match (&q.members, &activity) {
                    (Some(members), Some(a)) => Some(a.durations(members)),
                    _ => None,
                };
                if let Some(w) = derived.as_ref().or(q.workers.as_ref()) {
                    b = b.with_workers(
                        w,
                        seconds,
                        &config.offline_activities,
                        &config.available_activities,
                    );
                }
            }
            if let Some(h) = handle
                .iter()
                .find(|h| h.queue == q.sid && h.channel == channel)
            {
                b.handle_total = h.total;
                b.handle_count = h.count;
            }
            let name: String = q.friendly_name.chars().take(64).collect();
            rows.push((q.sid.clone(), json!({"n": name, "r": b.to_row(thresholds)})));
        }
        // Pack rows into chunks under the size limit.
        let mut chunks: Vec<Map<String, Value>> = vec![Map::new()];
        let mut size = 0usize;
        for (sid, row) in rows {
            let len = sid.len() + row.to_string().len() + 4;
            if size + len > ITEM_LIMIT - 400 && chunks.last().is_some_and(|c| !c.is_empty()) {
                chunks.push(Map::new());
                size = 0;
            }
            size += len;
            if let Some(last) = chunks.last_mut() {
                last.insert(sid, row);
            }
        }
        let count = chunks.len();
        for (i, queues) in chunks.into_iter().enumerate() {
            let data = json!({
                    "v": 1, "channel": channel,
                    "start": crate::time::iso(start), "end": crate::time::iso(end),
                    "thresholds": thresholds, "shortAbandon": config.short_abandon,
                    "chunk": i, "chunks": count, "queues": queues,
            });
            let cost = write_cost(data.to_string().len());
            items.push(Item {
                map: map_name(&channel),
                key: item_key(&channel, start, i),
                data,
                cost,
            });
        }
    }
    items
}

/// A stored hour read back: its channel, boundaries and per-queue buckets and names.
#[derive(Debug, Clone, Default)]
pub struct StoredHour {
    pub end: Option<DateTime<Utc>>,
    pub chunks_expected: usize,
    pub chunks_seen: Vec<usize>,
    pub queues: BTreeMap<String, (String, Bucket)>,
}

impl StoredHour {
    pub fn complete(&self) -> bool {
        self.chunks_expected > 0 && (0..self.chunks_expected).all(|i| self.chunks_seen.contains(&i))
    }
}

fn instant_of(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// Stored items of `channel` grouped by hour start; items of other channels or shapes are skipped.
pub fn read_items(channel: &str, items: &[Value]) -> BTreeMap<DateTime<Utc>, StoredHour> {
    let mut hours: BTreeMap<DateTime<Utc>, StoredHour> = BTreeMap::new();
    for data in items {
        if data.get("channel").and_then(Value::as_str) != Some(channel) {
            continue;
        }
        let Some(start) = instant_of(data.get("start")) else {
            continue;
        };
        let thresholds: Vec<u32> = data
            .get("thresholds")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_u64().and_then(|t| u32::try_from(t).ok()))
                    .collect()
            })
            .unwrap_or_default();
        let hour = hours.entry(start).or_default();
        hour.end = instant_of(data.get("end"));
        hour.chunks_expected = data
            .get("chunks")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(1)
            .min(1000);
        let chunk = data
            .get("chunk")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        if !hour.chunks_seen.contains(&chunk) {
            hour.chunks_seen.push(chunk);
        }
        if let Some(queues) = data.get("queues").and_then(Value::as_object) {
            for (sid, q) in queues {
                let name = q
                    .get("n")
                    .and_then(Value::as_str)
                    .unwrap_or(sid)
                    .to_string();
                let row = q
                    .get("r")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                hour.queues
                    .insert(sid.clone(), (name, Bucket::from_row(&row, &thresholds)));
            }
        }
    }
    hours
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    #[test]
    fn five_hundred_queues_fit_in_chunks_and_read_back() {
        let config = Config::from_env(&Env::default()).unwrap();
        let start = DateTime::parse_from_rfc3339("2026-03-08T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let end = start + chrono::Duration::hours(1);
        let stats = json!({"tasks_entered": 123456, "reservations_accepted": 99999,
            "wait_duration_until_accepted": {"total": 123456789, "max": 99999}});
        let queues = (0..500)
            .map(|i| QueueHour {
                sid: format!("WQ{i:032x}"),
                friendly_name: "A rather long queue name for the size test".into(),
                cumulative: config
                    .all_channels()
                    .into_iter()
                    .map(|c| (c, stats.clone()))
                    .collect(),
                workers: None,
                members: None,
            })
            .collect();
        let items = hour_items(
            &config,
            start,
            end,
            &HourInput {
                queues,
                ..HourInput::default()
            },
        );
        assert!(items.len() > 4);
        for item in &items {
            assert!(item.data.to_string().len() < 16 * 1024, "{}", item.key);
            assert!(item.key.starts_with(&item.map["queueHistory.".len()..]));
            assert!(
                item.cost > 0.5 - 1e-9,
                "a full chunk takes half a second of budget"
            );
        }
        assert_eq!(write_cost(0), 0.05);
        assert_eq!(write_cost(10_240), 0.5);
        let datas: Vec<Value> = items.iter().map(|i| i.data.clone()).collect();
        let read = read_items("voice", &datas);
        let hour = &read[&start];
        assert!(hour.complete());
        assert_eq!(hour.queues.len(), 500);
        assert_eq!(hour.queues.values().next().unwrap().1.entered, 123456.0);
        // A missing chunk makes the hour incomplete.
        let partial: Vec<Value> = datas.into_iter().filter(|d| d["chunk"] != 1).collect();
        assert!(!read_items("voice", &partial)[&start].complete());
    }
}
