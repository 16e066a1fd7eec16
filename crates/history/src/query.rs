//! `GET /queue-history` parameters, validated into a query over closed hours.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::HistoryError;
use crate::store::key_range;
use crate::time::{self, hours, iso};

/// How long TaskRouter keeps events and statistics: older hours cannot be backfilled.
pub const TASKROUTER_DAYS: i64 = 30;
/// At most this many queues may be named in one request.
pub const MAX_QUEUES: usize = 500;

/// The raw parameters (query string), all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub range: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
    /// `true` (default): missing hours are backfilled from TaskRouter within the time budget;
    /// `false`: only what is stored is answered, at once (missing hours stay `pending`).
    #[serde(default)]
    pub backfill: Option<String>,
}

/// What a series is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum By {
    Hour,
    HourOfDay,
    DayOfWeek,
    Date,
    Queue,
}

/// A validated query (it travels to the shim and back as a plain object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    pub zone: String,
    pub channel: String,
    /// Every channel with history (`all` and `QUEUE_STATS_CHANNELS`): the page offers these.
    #[serde(default)]
    pub channels: Vec<String>,
    /// The queues asked for; `None` is every queue.
    pub queues: Option<Vec<String>>,
    pub by: By,
    pub from: String,
    pub to: String,
    /// Bucket starts of the closed hours in the range (hours not yet over are left out).
    pub closed: Vec<String>,
    /// Closed hours older than this cannot be backfilled from TaskRouter.
    pub backfill_from: String,
    /// The Sync map (the channel's) and the keys to list, inclusive.
    pub map: String,
    pub list_from: String,
    pub list_to: String,
    /// Whether missing hours are to be backfilled by this request (`backfill`, default true).
    #[serde(default = "yes")]
    pub backfill: bool,
}

fn yes() -> bool {
    true
}

fn given(v: &Option<String>) -> Option<&str> {
    values::env::given(v.as_deref())
}

/// Validates `params` at the instant `now_ms`.
pub fn query(config: &Config, params: &Params, now_ms: f64) -> Result<Query, HistoryError> {
    let zone = config.time_zone;
    let now = time::instant(now_ms)?;
    let channel = given(&params.channel).unwrap_or("all").to_ascii_lowercase();
    if !config.all_channels().contains(&channel) {
        return Err(HistoryError::parameter(
            "channel",
            &channel,
            format!(
                "is not a channel with history; use one of {}",
                config.all_channels().join(", ")
            ),
        ));
    }
    let queues = match given(&params.queue) {
        None | Some("all") => None,
        Some(list) => {
            let mut sids: Vec<String> = Vec::new();
            for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !values::sid::is_sid(s, "WQ") {
                    return Err(HistoryError::parameter(
                        "queue",
                        s,
                        "is not a TaskQueue SID (WQ followed by 32 hex digits); give one or \
                         several separated by commas, or all",
                    ));
                }
                if !sids.iter().any(|x| x == s) {
                    sids.push(s.to_string());
                }
            }
            if sids.is_empty() || sids.len() > MAX_QUEUES {
                return Err(HistoryError::parameter(
                    "queue",
                    list,
                    format!("must name 1 to {MAX_QUEUES} queues, or all"),
                ));
            }
            Some(sids)
        }
    };
    let by = match given(&params.by).unwrap_or("hour") {
        "hour" => By::Hour,
        "hourOfDay" => By::HourOfDay,
        "dayOfWeek" => By::DayOfWeek,
        "date" => By::Date,
        "queue" => By::Queue,
        other => {
            return Err(HistoryError::parameter(
                "by",
                other,
                "is not a grouping; use hour, hourOfDay, dayOfWeek, date or queue",
            ))
        }
    };
    let backfill = match given(&params.backfill)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => {
            return Err(HistoryError::parameter(
                "backfill",
                other,
                "is not true or false (false: answer only the stored hours, at once)",
            ))
        }
    };
    let (from, to) = time::window(
        zone,
        now,
        given(&params.range),
        given(&params.from),
        given(&params.to),
    )?;
    // Bounded so one request's work is bounded: what can be kept, and never less than TaskRouter's days.
    let limit = i64::from(config.retention_days).max(TASKROUTER_DAYS + 1) + 2;
    if to - from > Duration::days(limit) {
        return Err(HistoryError::parameter(
            "from",
            &iso(from),
            format!(
                "spans more than {limit} days (the longer of QUEUE_HISTORY_RETENTION_DAYS and 31 days, plus 2)"
            ),
        ));
    }
    let closed: Vec<DateTime<Utc>> = hours(zone, from, to.min(now))
        .into_iter()
        .filter(|h| time::next_hour(zone, *h) <= now)
        .collect();
    let (list_from, list_to) = match (closed.first(), closed.last()) {
        (Some(a), Some(b)) => key_range(&channel, *a, *b),
        _ => (String::new(), String::new()),
    };
    Ok(Query {
        zone: zone.name().to_string(),
        map: crate::store::map_name(&channel),
        channel,
        channels: config.all_channels(),
        queues,
        by,
        from: iso(time::hour_start(zone, from)),
        to: iso(to),
        closed: closed.into_iter().map(iso).collect(),
        backfill_from: iso(now - Duration::days(TASKROUTER_DAYS)),
        list_from,
        list_to,
        backfill,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    fn ny() -> Config {
        Config::from_env(&Env {
            shared: queue_settings::SharedEnv {
                time_zone: Some("America/New_York".into()),
                ..Default::default()
            },
            ..Env::default()
        })
        .unwrap()
    }

    fn p(pairs: &[(&str, &str)]) -> Params {
        let v: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(v)).unwrap()
    }

    // 2026-11-03T15:30:00Z, a Tuesday, 10:30 in New York.
    const NOW: f64 = 1_793_719_800_000.0;

    #[test]
    fn the_query_names_every_channel_with_history_for_the_page() {
        let q = query(&ny(), &p(&[("channel", "Chat")]), NOW).unwrap();
        assert_eq!(q.channel, "chat");
        assert_eq!(q.channels, ["all", "voice", "chat", "video"]);
        let sms = Config::from_env(&Env {
            shared: queue_settings::SharedEnv {
                channels: Some("sms, voice".into()),
                ..Default::default()
            },
            ..Env::default()
        })
        .unwrap();
        assert_eq!(
            query(&sms, &p(&[]), NOW).unwrap().channels,
            ["all", "sms", "voice"]
        );
    }

    #[test]
    fn ranges_in_the_zone() {
        let q = query(&ny(), &p(&[("range", "yesterday")]), NOW).unwrap();
        assert_eq!(
            (q.from.as_str(), q.to.as_str()),
            ("2026-11-02T05:00:00Z", "2026-11-03T05:00:00Z")
        );
        assert_eq!(q.closed.len(), 24);
        let q = query(&ny(), &p(&[("range", "today")]), NOW).unwrap();
        assert_eq!(q.closed.len(), 10); // 00:00 to 10:00, the current hour is still open
        let q = query(
            &ny(),
            &p(&[("from", "2026-11-01"), ("to", "2026-11-01")]),
            NOW,
        )
        .unwrap();
        assert_eq!(q.closed.len(), 25); // the fall-back day
        assert_eq!(q.list_from, "all.20261101T0400Z");
        assert_eq!(q.list_to, "all.20261102T0400Z.~");
        let q = query(
            &ny(),
            &p(&[("from", "2026-11-02T09"), ("to", "2026-11-02T11:00")]),
            NOW,
        )
        .unwrap();
        assert_eq!(q.closed, ["2026-11-02T14:00:00Z", "2026-11-02T15:00:00Z"]);
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (vec![("by", "week")], "by"),
            (vec![("channel", "fax")], "channel"),
            (vec![("queue", "WQ123")], "queue"),
            (vec![("from", "tomorrow")], "from"),
            (
                vec![("from", "2026-11-02"), ("to", "2026-11-01T00:00")],
                "to",
            ),
            (vec![("to", "2026-11-02")], "from"),
            (vec![("range", "fortnight")], "range"),
            (vec![("range", "today"), ("from", "2026-11-01")], "range"),
            (vec![("from", "2020-01-01"), ("to", "2026-01-01")], "from"),
            (vec![("backfill", "later")], "backfill"),
        ];
        for (params, name) in cases {
            let e = query(&ny(), &p(&params), NOW).unwrap_err();
            assert_eq!(
                wasm_face::FaceError::parameter(&e),
                Some(name),
                "{params:?}: {e}"
            );
            assert_eq!(wasm_face::FaceError::status(&e), 400);
        }
    }

    #[test]
    fn backfill_is_on_unless_asked_off() {
        assert!(query(&ny(), &p(&[]), NOW).unwrap().backfill);
        assert!(
            query(&ny(), &p(&[("backfill", "true")]), NOW)
                .unwrap()
                .backfill
        );
        assert!(
            !query(&ny(), &p(&[("backfill", "false")]), NOW)
                .unwrap()
                .backfill
        );
        assert!(
            !query(&ny(), &p(&[("backfill", "0")]), NOW)
                .unwrap()
                .backfill
        );
    }
}
