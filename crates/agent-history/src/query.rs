//! `GET /agent-history` parameters, validated into a query over closed local hours.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::AgentHistoryError;
use crate::record::{key_range, map_names, utc_hour};
use crate::timeline::LOOKBACK_HOURS;
use history::time::{self, hours, iso};

/// At most this many agents may be named in one request.
pub const MAX_AGENTS: usize = 500;

/// The raw parameters (query string), all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub range: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
}

/// What a series is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum By {
    Hour,
    Date,
    DayOfWeek,
    Agent,
    Activity,
    Disposition,
}

/// Whose history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "value")]
pub enum Agents {
    All,
    /// Worker SIDs.
    List(Vec<String>),
    /// Agents whose team attribute is this name.
    Team(String),
}

/// A Sync listing: keys `from` to `to` (inclusive) of `map`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRange {
    pub map: String,
    pub from: String,
    pub to: String,
}

/// A validated query (it travels to the shim and back as a plain object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    pub zone: String,
    pub agents: Agents,
    pub by: By,
    /// The first closed hour's start and the last one's end (or `from` = `to` when none).
    pub from: String,
    pub to: String,
    pub closed_hours: usize,
    /// The records to read: every map, from [`LOOKBACK_HOURS`] before `from` to `to`.
    pub list: Vec<KeyRange>,
    /// The closed hours' items to read instead ([`crate::rollup`]), when they exist.
    pub hours: Option<KeyRange>,
}

fn given(v: &Option<String>) -> Option<&str> {
    values::env::given(v.as_deref())
}

fn agents(text: Option<&str>) -> Result<Agents, AgentHistoryError> {
    let Some(text) = text.filter(|t| *t != "all") else {
        return Ok(Agents::All);
    };
    if let Some(team) = text.strip_prefix("team:") {
        let team = team.trim();
        if team.is_empty() || team.chars().count() > 100 {
            return Err(AgentHistoryError::parameter(
                "agent",
                text,
                "names no team; use team:<name> (1 to 100 characters)",
            ));
        }
        return Ok(Agents::Team(team.to_string()));
    }
    let mut sids: Vec<String> = Vec::new();
    for s in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !values::sid::is_sid(s, "WK") {
            return Err(AgentHistoryError::parameter(
                "agent",
                s,
                "is not a Worker SID (WK followed by 32 hex digits); give one or several \
                 separated by commas, all, or team:<name>",
            ));
        }
        if !sids.iter().any(|x| x == s) {
            sids.push(s.to_string());
        }
    }
    if sids.is_empty() || sids.len() > MAX_AGENTS {
        return Err(AgentHistoryError::parameter(
            "agent",
            text,
            format!("must name 1 to {MAX_AGENTS} agents, all, or team:<name>"),
        ));
    }
    Ok(Agents::List(sids))
}

/// Validates `params` at the instant `now_ms`.
pub fn query(config: &Config, params: &Params, now_ms: f64) -> Result<Query, AgentHistoryError> {
    let zone = config.time_zone;
    let now = values::instant::from_millis(now_ms).ok_or_else(|| {
        AgentHistoryError::Input(format!("{now_ms} is not an instant in milliseconds"))
    })?;
    let agents = agents(given(&params.agent))?;
    let by = match given(&params.by).unwrap_or("hour") {
        "hour" => By::Hour,
        "date" => By::Date,
        "dayOfWeek" => By::DayOfWeek,
        "agent" => By::Agent,
        "activity" => By::Activity,
        "disposition" => By::Disposition,
        other => {
            return Err(AgentHistoryError::parameter(
                "by",
                other,
                "is not a grouping; use hour, date, dayOfWeek, agent, activity or disposition",
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
    let limit = i64::from(config.retention_days) + 2;
    if to - from > Duration::days(limit) {
        return Err(AgentHistoryError::parameter(
            "from",
            &iso(from),
            format!("spans more than {limit} days (AGENT_HISTORY_RETENTION_DAYS plus 2)"),
        ));
    }
    let closed: Vec<DateTime<Utc>> = hours(zone, from, to.min(now))
        .into_iter()
        .filter(|h| time::next_hour(zone, *h) <= now)
        .collect();
    let first = closed.first().copied().unwrap_or(from);
    let end = closed
        .last()
        .map(|h| time::next_hour(zone, *h))
        .unwrap_or(first);
    let hours = match (closed.first(), closed.last()) {
        (Some(a), Some(b)) => {
            let (from, to) = crate::rollup::rollup_range(*a, *b);
            Some(KeyRange {
                map: crate::rollup::ROLLUP_MAP.to_string(),
                from,
                to,
            })
        }
        _ => None,
    };
    let list = if closed.is_empty() {
        Vec::new()
    } else {
        let lookback = first - Duration::hours(LOOKBACK_HOURS);
        let (kf, kt) = key_range(
            utc_hour(lookback.timestamp_millis()),
            utc_hour(end.timestamp_millis() - 1),
        );
        map_names(config)
            .into_iter()
            .map(|map| KeyRange {
                map,
                from: kf.clone(),
                to: kt.clone(),
            })
            .collect()
    };
    Ok(Query {
        zone: zone.name().to_string(),
        agents,
        by,
        from: iso(first),
        to: iso(end),
        closed_hours: closed.len(),
        list,
        hours,
    })
}

/// What the wallboard key may ask (it sees aggregates, not agents): `agent=all` or a team, and no
/// `by=agent`, unless `names` (the documented setting `AGENT_HISTORY_KEY_SEES_NAMES`) allows it.
pub fn key_access(query: &Query, names: bool) -> Result<(), AgentHistoryError> {
    if names {
        return Ok(());
    }
    if let Agents::List(sids) = &query.agents {
        return Err(AgentHistoryError::Forbidden {
            parameter: "agent",
            value: sids.join(","),
            problem: "names agents; the wallboard key sees aggregates only: use all or \
                      team:<name>, or a supervisor's Flex token"
                .to_string(),
        });
    }
    if query.by == By::Agent {
        return Err(AgentHistoryError::Forbidden {
            parameter: "by",
            value: "agent".to_string(),
            problem: "groups by agent; the wallboard key sees aggregates only: use a \
                      supervisor's Flex token"
                .to_string(),
        });
    }
    Ok(())
}

/// A listing cut into one listing per UTC day of its keys, so the days can be read side by side
/// (Sync lists 100 items a page; a map's month is hundreds of pages one after the other).
pub fn split_by_day(range: &KeyRange) -> Vec<KeyRange> {
    let day = |key: &str| -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(key.get(0..8)?, "%Y%m%d").ok()
    };
    let (Some(first), Some(last)) = (day(&range.from), day(&range.to)) else {
        return vec![range.clone()];
    };
    let mut out = Vec::new();
    let mut d = first;
    while d <= last && out.len() < 4000 {
        let text = d.format("%Y%m%d").to_string();
        out.push(KeyRange {
            map: range.map.clone(),
            from: if d == first {
                range.from.clone()
            } else {
                format!("{text}T00Z.")
            },
            to: if d == last {
                range.to.clone()
            } else {
                format!("{text}T23Z.~")
            },
        });
        let Some(next) = d.succ_opt() else { break };
        d = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    fn ny() -> Config {
        Config::from_env(&Env {
            time_zone: Some("America/New_York".into()),
            ..Env::default()
        })
        .unwrap()
    }

    pub(crate) fn p(pairs: &[(&str, &str)]) -> Params {
        let v: serde_json::Map<String, serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(v)).unwrap()
    }

    // 2026-11-03T15:30:00Z, a Tuesday, 10:30 in New York.
    const NOW: f64 = 1_793_719_800_000.0;
    const WK1: &str = "WK0123456789abcdef0123456789abcdef";
    const WK2: &str = "WKfedcba9876543210fedcba9876543210";

    #[test]
    fn agents_ranges_and_listing() {
        let q = query(&ny(), &p(&[("range", "yesterday")]), NOW).unwrap();
        assert_eq!(q.agents, Agents::All);
        assert_eq!(
            (q.from.as_str(), q.to.as_str(), q.closed_hours),
            ("2026-11-02T05:00:00Z", "2026-11-03T05:00:00Z", 24)
        );
        assert_eq!(q.list.len(), 4);
        assert_eq!(q.list[0].map, "agentHistory.0");
        assert_eq!(
            (q.list[0].from.as_str(), q.list[0].to.as_str()),
            ("20261101T17Z.", "20261103T04Z.~")
        );
        let q = query(
            &ny(),
            &p(&[("from", "2026-11-01"), ("to", "2026-11-01")]),
            NOW,
        )
        .unwrap();
        assert_eq!(q.closed_hours, 25); // the fall-back day
        let q = query(&ny(), &p(&[("range", "today")]), NOW).unwrap();
        assert_eq!(q.closed_hours, 10);
        let list = format!("{WK1}, {WK2},{WK1}");
        let q = query(&ny(), &p(&[("agent", &list), ("by", "agent")]), NOW).unwrap();
        assert_eq!(q.agents, Agents::List(vec![WK1.into(), WK2.into()]));
        let q = query(&ny(), &p(&[("agent", "team:Sales East")]), NOW).unwrap();
        assert_eq!(q.agents, Agents::Team("Sales East".into()));
        // A range not yet begun has no closed hours and nothing to list.
        let q = query(&ny(), &p(&[("from", "2026-11-03T10:00")]), NOW).unwrap();
        assert_eq!((q.closed_hours, q.list.len()), (0, 0));
    }

    #[test]
    fn bad_parameters_are_named() {
        let cases = [
            (vec![("by", "week")], "by"),
            (vec![("by", "queue")], "by"),
            (vec![("agent", "WK123")], "agent"),
            (vec![("agent", "team:")], "agent"),
            (vec![("agent", ",,")], "agent"),
            (vec![("from", "tomorrow")], "from"),
            (
                vec![("from", "2026-11-02"), ("to", "2026-11-01T00:00")],
                "to",
            ),
            (vec![("to", "2026-11-02")], "from"),
            (vec![("range", "fortnight")], "range"),
            (vec![("range", "today"), ("from", "2026-11-01")], "range"),
            (vec![("from", "2020-01-01"), ("to", "2026-01-01")], "from"),
        ];
        for (params, name) in cases {
            let e = query(&ny(), &p(&params), NOW).unwrap_err();
            assert_eq!(
                wasm_face::FaceError::parameter(&e),
                Some(name),
                "{params:?}: {e}"
            );
            assert_eq!(wasm_face::FaceError::status(&e), 400);
            assert!(e.to_string().starts_with(name), "{e}");
        }
        assert!(query(&ny(), &p(&[]), f64::NAN).is_err());
    }

    #[test]
    fn the_key_sees_aggregates_only() {
        let q = |pairs: &[(&str, &str)]| query(&ny(), &p(pairs), NOW).unwrap();
        assert!(key_access(&q(&[]), false).is_ok());
        assert!(key_access(&q(&[("agent", "team:East"), ("by", "activity")]), false).is_ok());
        for (pairs, name) in [
            (vec![("agent", WK1)], "agent"),
            (vec![("by", "agent")], "by"),
        ] {
            let e = key_access(&q(&pairs), false).unwrap_err();
            assert_eq!(wasm_face::FaceError::status(&e), 403);
            assert_eq!(wasm_face::FaceError::parameter(&e), Some(name));
            assert!(key_access(&q(&pairs), true).is_ok());
        }
    }

    #[test]
    fn listings_split_by_day() {
        let r = KeyRange {
            map: "agentHistory.0".into(),
            from: "20261101T17Z.".into(),
            to: "20261103T04Z.~".into(),
        };
        let days = split_by_day(&r);
        let pairs: Vec<(&str, &str)> = days
            .iter()
            .map(|k| (k.from.as_str(), k.to.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("20261101T17Z.", "20261101T23Z.~"),
                ("20261102T00Z.", "20261102T23Z.~"),
                ("20261103T00Z.", "20261103T04Z.~")
            ]
        );
        let odd = KeyRange {
            map: "m".into(),
            from: "x".into(),
            to: "y".into(),
        };
        assert_eq!(split_by_day(&odd), vec![odd.clone()]);
    }
}
