//! TaskRouter statistics -> the Sync record the published dashboard reads, plus additive fields.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::{Config, ALL};
use crate::event::is_sid;
use crate::today::{iso_ms, start_of_day};

/// Sync rejects item and document data above 16 KiB (error 54006).
pub const RECORD_LIMIT: usize = 16 * 1024;
/// Two readings of the oldest task's entry instant closer than this are the same task aging, not
/// a change worth a Sync write (the age comes in whole seconds and readings are not simultaneous).
const ENTERED_AT_TOLERANCE_MS: i64 = 2_000;
/// Longer queue names are cut to keep records bounded.
const MAX_NAME_CHARS: usize = 256;

const RT: &str = "realTimeStats_";
const CU: &str = "cumulativeStats_";

/// A queue as the shim knows it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRef {
    #[serde(default)]
    pub sid: String,
    #[serde(default)]
    pub friendly_name: Option<String>,
}

/// One `TaskQueues/{sid}/Statistics` call's outcome for one channel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fetched {
    #[serde(default)]
    pub channel: String,
    /// The response body: `{realtime: {...}, cumulative: {...}}` as TaskRouter sends it (the
    /// `twilio` client's camelCase top-level names are accepted too).
    #[serde(default)]
    pub response: Option<Value>,
    /// Why the call failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

/// What the shim writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Built {
    /// The Sync item key (map layout) and the queue SID.
    pub key: String,
    pub record: Value,
    /// False when the record's content equals the previous one (ignoring `updatedAt` and the
    /// age of the oldest task): the shim skips the write.
    pub changed: bool,
    /// The record's size as JSON, at most [`RECORD_LIMIT`].
    pub bytes: usize,
    /// Channel blocks left out to stay under [`RECORD_LIMIT`].
    pub omitted: Vec<String>,
    /// Statistics calls that failed, `"<channel>: <message>"`.
    pub errors: Vec<String>,
}

fn get<'a>(v: &'a Value, snake: &str, camel: &str) -> Option<&'a Value> {
    v.get(snake)
        .or_else(|| v.get(camel))
        .filter(|x| !x.is_null())
}

/// A count as a JSON number: numbers as given, numeric strings parsed, anything else 0.
fn count(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Number(n)) => Value::Number(n.clone()),
        Some(Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => json!(f),
                _ => json!(0),
            },
        },
        _ => json!(0),
    }
}

fn as_f64(v: Option<&Value>) -> f64 {
    match count(v) {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn object_or_empty(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Figures copied as counts ([`count`]): `(record key, TaskRouter's snake_case name, its
/// camelCase name)`.
type CountNames = [(&'static str, &'static str, &'static str)];

const REALTIME_COUNTS: &CountNames = &[
    (
        "oldestTask",
        "longest_task_waiting_age",
        "longestTaskWaitingAge",
    ),
    (
        "availableWorkers",
        "total_available_workers",
        "totalAvailableWorkers",
    ),
    (
        "eligibleWorkers",
        "total_eligible_workers",
        "totalEligibleWorkers",
    ),
    ("totalTasks", "total_tasks", "totalTasks"),
];

const CUMULATIVE_COUNTS: &CountNames = &[
    ("rCreated", "reservations_created", "reservationsCreated"),
    ("rRej", "reservations_rejected", "reservationsRejected"),
    ("rAccepted", "reservations_accepted", "reservationsAccepted"),
    (
        "rTimedOut",
        "reservations_timed_out",
        "reservationsTimedOut",
    ),
    ("rCancel", "reservations_canceled", "reservationsCanceled"),
    (
        "rRescind",
        "reservations_rescinded",
        "reservationsRescinded",
    ),
    ("tCompl", "tasks_completed", "tasksCompleted"),
    ("tMoved", "tasks_moved", "tasksMoved"),
    ("tEnter", "tasks_entered", "tasksEntered"),
    ("tCanc", "tasks_canceled", "tasksCanceled"),
    ("tDel", "tasks_deleted", "tasksDeleted"),
    (
        "avgTaskAcceptanceTime",
        "avg_task_acceptance_time",
        "avgTaskAcceptanceTime",
    ),
];

/// The counts `names` lists, read from `from` (snake or camel case).
fn counts(from: &Value, names: &CountNames) -> Map<String, Value> {
    names
        .iter()
        .map(|(key, snake, camel)| (key.to_string(), count(get(from, snake, camel))))
        .collect()
}

/// The published `realTimeStats_<channel>` block from TaskRouter's real-time figures, plus
/// `oldestTaskEnteredAt` (`now` minus the oldest waiting task's age, `null` when none waits).
pub fn realtime_block(realtime: &Value, now: DateTime<Utc>) -> Option<Value> {
    if !realtime.is_object() {
        return None;
    }
    let activities: Vec<Value> = match get(realtime, "activity_statistics", "activityStatistics") {
        Some(Value::Array(items)) => items
            .iter()
            .filter(|a| a.is_object())
            .map(|a| {
                json!({
                    "friendly_name": get(a, "friendly_name", "friendlyName").cloned().unwrap_or(Value::Null),
                    "workers": count(a.get("workers")),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let age = as_f64(get(
        realtime,
        "longest_task_waiting_age",
        "longestTaskWaitingAge",
    ))
    .max(0.0);
    let oldest_sid = get(
        realtime,
        "longest_task_waiting_sid",
        "longestTaskWaitingSid",
    )
    .and_then(Value::as_str)
    .filter(|s| !s.is_empty());
    // A waiting task's age is at most 30 days in TaskRouter; cap it so the subtraction is safe.
    let entered_at = oldest_sid.map(|_| {
        let ms = (age.min(86_400.0 * 365.0) * 1000.0) as i64;
        iso_ms(now - Duration::milliseconds(ms))
    });
    let mut block = counts(realtime, REALTIME_COUNTS);
    for (key, value) in [
        ("activityStatistics", Value::Array(activities)),
        (
            "tasksByPriority",
            object_or_empty(get(realtime, "tasks_by_priority", "tasksByPriority")),
        ),
        (
            "tasksByStatus",
            object_or_empty(get(realtime, "tasks_by_status", "tasksByStatus")),
        ),
        ("oldestTaskEnteredAt", json!(entered_at)),
    ] {
        block.insert(key.to_string(), value);
    }
    Some(Value::Object(block))
}

/// Service level for one threshold from TaskRouter's `split_by_wait_time` entry:
/// `accepted below / (accepted below + accepted above + canceled above)`. Tasks canceled below
/// the threshold (short abandons) count neither way. `None` when nothing happened.
pub fn service_level(split: &Value, threshold: u32) -> Option<f64> {
    let entry = split.get(threshold.to_string())?;
    let below = entry.get("below")?;
    let above = entry.get("above")?;
    let accepted_below = as_f64(below.get("reservations_accepted")).max(0.0);
    let accepted_above = as_f64(above.get("reservations_accepted")).max(0.0);
    let canceled_above = as_f64(above.get("tasks_canceled")).max(0.0);
    // Four decimals: enough for a percentage with two, and stable for change detection.
    queue_settings::service_level(accepted_below, accepted_above, canceled_above)
        .map(|level| (level * 10_000.0).round() / 10_000.0)
}

/// The published `cumulativeStats_<channel>` block, plus `serviceLevel`:
/// `{"<threshold>": {"level": 0.0..=1.0 | null, "breached": bool}}`. The published `startTime`
/// and `endTime` are left out: the plugin does not read them, the record's `todayStartedAt` and
/// `updatedAt` say the same once, and every byte counts against Sync's size-dependent write
/// budget.
pub fn cumulative_block(cumulative: &Value, config: &Config) -> Option<Value> {
    if !cumulative.is_object() {
        return None;
    }
    let c = cumulative;
    let split = get(c, "split_by_wait_time", "splitByWaitTime")
        .cloned()
        .unwrap_or(Value::Null);
    let mut levels = Map::new();
    for &t in &config.sla_thresholds {
        let level = service_level(&split, t);
        levels.insert(
            t.to_string(),
            json!({
                "level": level,
                "breached": level.is_some_and(|l| l < config.sla_target),
            }),
        );
    }
    let text = |snake: &str, camel: &str| get(c, snake, camel).cloned().unwrap_or(Value::Null);
    let mut block = counts(c, CUMULATIVE_COUNTS);
    for (key, value) in [
        (
            "waitUntilCancel",
            text("wait_duration_until_canceled", "waitDurationUntilCanceled"),
        ),
        (
            "waitUntilAccept",
            text("wait_duration_until_accepted", "waitDurationUntilAccepted"),
        ),
        ("splitByWaitTime", split),
        ("serviceLevel", Value::Object(levels)),
    ] {
        block.insert(key.to_string(), value);
    }
    Some(Value::Object(block))
}

/// The known parts of a previous record for `sid`: its name and its channel blocks. Unknown keys
/// are not carried over, so a record is always rebuilt from what this crate writes.
fn carried_over(
    previous: Option<&Value>,
    sid: &str,
    config: &Config,
) -> (Option<String>, Map<String, Value>) {
    let mut blocks = Map::new();
    let Some(prev) = previous.filter(|p| {
        p.get("sid")
            .and_then(Value::as_str)
            .is_none_or(|s| s == sid)
    }) else {
        return (None, blocks);
    };
    let name = prev
        .get("friendlyName")
        .and_then(Value::as_str)
        .map(str::to_string);
    for channel in config.all_channels() {
        for prefix in [RT, CU] {
            let key = format!("{prefix}{channel}");
            if let Some(block @ Value::Object(_)) = prev.get(&key) {
                blocks.insert(key, block.clone());
            }
        }
    }
    (name, blocks)
}

/// Builds a queue's record from this event's statistics calls over its previous record: the
/// refreshed channels are replaced, the others kept; a failed call keeps that channel's previous
/// blocks and is reported in `realTimeStatsMessage` / `cumulativeStatsMessage` (the published
/// record's error fields).
pub fn build(
    config: &Config,
    queue: &QueueRef,
    previous: Option<&Value>,
    fetched: &[Fetched],
    now: DateTime<Utc>,
) -> Built {
    let (prev_name, mut blocks) = carried_over(previous, &queue.sid, config);
    let mut errors = Vec::new();
    for f in fetched {
        if !config.tracks(&f.channel) {
            continue;
        }
        let response = f.response.as_ref().filter(|_| f.error.is_none());
        let realtime = response
            .and_then(|r| get(r, "realtime", "realTime"))
            .and_then(|r| realtime_block(r, now));
        let cumulative = response
            .and_then(|r| r.get("cumulative"))
            .and_then(|c| cumulative_block(c, config));
        match (realtime, cumulative) {
            (Some(rt), Some(cu)) => {
                blocks.insert(format!("{RT}{}", f.channel), rt);
                blocks.insert(format!("{CU}{}", f.channel), cu);
            }
            _ => {
                let why = match &f.error {
                    Some(e) => truncate_chars(e, 300),
                    None => {
                        "the statistics response has no realtime and cumulative figures".to_string()
                    }
                };
                errors.push(format!("{}: {why}", f.channel));
            }
        }
    }
    let name = queue.friendly_name.clone().or(prev_name);
    finish(config, &queue.sid, name, blocks, errors, previous, now)
}

/// Applies one queue's entry of a bulk real-time statistics response (`task_queue_data[i]`,
/// all channels) to its record: `realTimeStats_all` is replaced, everything else kept.
pub fn apply_realtime_all(
    config: &Config,
    queue: &QueueRef,
    previous: Option<&Value>,
    realtime: &Value,
    now: DateTime<Utc>,
) -> Built {
    let (prev_name, mut blocks) = carried_over(previous, &queue.sid, config);
    let mut errors = Vec::new();
    match realtime_block(realtime, now) {
        Some(rt) => {
            blocks.insert(format!("{RT}{ALL}"), rt);
        }
        None => errors.push(format!("{ALL}: the bulk statistics entry is not an object")),
    }
    let name = queue.friendly_name.clone().or(prev_name);
    finish(config, &queue.sid, name, blocks, errors, previous, now)
}

fn finish(
    config: &Config,
    sid: &str,
    name: Option<String>,
    blocks: Map<String, Value>,
    errors: Vec<String>,
    previous: Option<&Value>,
    now: DateTime<Utc>,
) -> Built {
    let name = truncate_chars(name.as_deref().unwrap_or(sid), MAX_NAME_CHARS);
    let mut record = Map::new();
    record.insert("sid".into(), json!(sid));
    record.insert("friendlyName".into(), json!(name));
    record.extend(blocks);
    let entered = record
        .get(&format!("{RT}{ALL}"))
        .and_then(|b| b.get("oldestTaskEnteredAt"))
        .cloned()
        .unwrap_or(Value::Null);
    record.insert("oldestTaskEnteredAt".into(), entered);
    record.insert("slaTarget".into(), json!(config.sla_target));
    record.insert(
        "todayStartedAt".into(),
        json!(iso_ms(start_of_day(config.time_zone, now))),
    );
    if !errors.is_empty() {
        let message = errors.join("; ");
        record.insert("realTimeStatsMessage".into(), json!(message));
        record.insert("cumulativeStatsMessage".into(), json!(message));
    }
    record.insert("updatedAt".into(), json!(iso_ms(now)));
    let (record, omitted) = bound(record, config);
    let bytes = size(&record);
    let changed = previous.is_none_or(|p| !same_content(p, &record));
    Built {
        key: sid.to_string(),
        record,
        changed,
        bytes,
        omitted,
        errors,
    }
}

fn size(v: &Value) -> usize {
    serde_json::to_string(v)
        .map(|s| s.len())
        .unwrap_or(usize::MAX)
}

/// Keeps the record under [`RECORD_LIMIT`]: drops channel blocks from the last configured
/// channel backwards (never `all`), then `all`'s per-priority and per-activity detail, and as a
/// last resort keeps only the identity and a message. Returns the record and what was left out.
fn bound(mut record: Map<String, Value>, config: &Config) -> (Value, Vec<String>) {
    let mut omitted = Vec::new();
    let fits = |r: &Map<String, Value>| size(&Value::Object(r.clone())) <= RECORD_LIMIT;
    for channel in config.channels.iter().rev() {
        if fits(&record) {
            break;
        }
        let rt = record.remove(&format!("{RT}{channel}"));
        let cu = record.remove(&format!("{CU}{channel}"));
        if rt.is_some() || cu.is_some() {
            omitted.push(channel.clone());
        }
    }
    if !fits(&record) {
        for key in [format!("{RT}{ALL}"), format!("{CU}{ALL}")] {
            if let Some(Value::Object(block)) = record.get_mut(&key) {
                for detail in [
                    "tasksByPriority",
                    "activityStatistics",
                    "splitByWaitTime",
                    "waitUntilCancel",
                    "waitUntilAccept",
                ] {
                    if block.contains_key(detail) {
                        block.insert(detail.into(), Value::Null);
                    }
                }
            }
        }
        omitted.push("all (detail)".into());
    }
    if !fits(&record) {
        let keep = [
            "sid",
            "friendlyName",
            "updatedAt",
            "slaTarget",
            "todayStartedAt",
        ];
        record.retain(|k, _| keep.contains(&k.as_str()));
        record.insert(
            "realTimeStatsMessage".into(),
            json!("the statistics exceed Sync's 16 KiB per record and were left out"),
        );
        omitted.push(ALL.into());
    }
    if !omitted.is_empty() {
        record.insert("omitted".into(), json!(omitted));
    }
    (Value::Object(record), omitted)
}

/// Pulls out what changes with the clock alone: `updatedAt`, each block's `oldestTask` (age)
/// and `endTime` (the statistics' "now"), and the `oldestTaskEnteredAt` instants (compared with
/// a tolerance instead).
fn clock_free(record: &Value) -> (Value, Vec<Option<i64>>) {
    let mut entered = Vec::new();
    let mut rest = record.clone();
    if let Value::Object(map) = &mut rest {
        map.remove("updatedAt");
        let mut instant = |v: Option<Value>| {
            entered.push(
                v.as_ref()
                    .and_then(Value::as_str)
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp_millis()),
            )
        };
        instant(map.remove("oldestTaskEnteredAt"));
        for (key, block) in map.iter_mut() {
            if let (true, Value::Object(b)) = (key.starts_with(RT) || key.starts_with(CU), block) {
                b.remove("oldestTask");
                b.remove("endTime");
                if key.starts_with(RT) {
                    instant(b.remove("oldestTaskEnteredAt"));
                }
            }
        }
    }
    (rest, entered)
}

/// Whether two records say the same thing: equal apart from `updatedAt`, the oldest task's
/// age and the statistics' end time, with the oldest task's entry instants within 2 s.
pub fn same_content(a: &Value, b: &Value) -> bool {
    let (ra, ea) = clock_free(a);
    let (rb, eb) = clock_free(b);
    json_eq(&ra, &rb)
        && ea.len() == eb.len()
        && ea.iter().zip(&eb).all(|pair| match pair {
            (None, None) => true,
            (Some(x), Some(y)) => (x - y).abs() <= ENTERED_AT_TOLERANCE_MS,
            _ => false,
        })
}

/// JSON equality where numbers compare by value: a record read back from Sync through JavaScript
/// has `1` where this crate wrote `1.0`, and that is the same content.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Splits queue SIDs into bulk real-time statistics requests of at most `limit` queues,
/// dropping duplicates and anything that is not a TaskQueue SID.
pub fn batches(sids: &[String], limit: usize) -> Vec<Vec<String>> {
    let mut seen = std::collections::BTreeSet::new();
    let valid: Vec<String> = sids
        .iter()
        .filter(|s| is_sid(s, "WQ") && seen.insert(s.as_str()))
        .cloned()
        .collect();
    valid.chunks(limit.max(1)).map(<[String]>::to_vec).collect()
}

#[cfg(test)]
mod tests;
