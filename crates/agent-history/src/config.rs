//! Settings: the contact center's zone (`QUEUE_STATS_TIME_ZONE`, shared with the queue
//! statistics and history) and the agent history's own `AGENT_HISTORY_*`.

use chrono_tz::Tz;
use serde::Deserialize;
use values::env;

use crate::error::AgentHistoryError;

/// The task attribute read for a disposition code unless configured: Flex Insights' outcome,
/// which this project's parking already writes (`conversations.outcome`).
pub const DEFAULT_DISPOSITION_ATTRIBUTE: &str = "conversations.outcome";
/// The worker attribute naming an agent's team unless configured (Flex Insights' `team_name`).
pub const DEFAULT_TEAM_ATTRIBUTE: &str = "team_name";

/// The environment as the shim passes it: raw text, absent when unset; blank means default.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Env {
    #[serde(rename = "QUEUE_STATS_TIME_ZONE", default)]
    pub time_zone: Option<String>,
    #[serde(rename = "AGENT_HISTORY_DISPOSITION_ATTRIBUTE", default)]
    pub disposition_attribute: Option<String>,
    #[serde(rename = "AGENT_HISTORY_TEAM_ATTRIBUTE", default)]
    pub team_attribute: Option<String>,
    #[serde(rename = "AGENT_HISTORY_RETENTION_DAYS", default)]
    pub retention_days: Option<String>,
    #[serde(rename = "AGENT_HISTORY_OFFLINE_ACTIVITIES", default)]
    pub offline_activities: Option<String>,
    #[serde(rename = "AGENT_HISTORY_MAPS", default)]
    pub maps: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Hours, days and weekdays are this zone's.
    pub time_zone: Tz,
    /// The task attribute holding the disposition code, as a dotted path into the attributes.
    pub disposition_attribute: Vec<String>,
    /// The worker attribute holding the agent's team, as a dotted path.
    pub team_attribute: Vec<String>,
    /// Records of hours older than this many days are deleted.
    pub retention_days: u32,
    /// Activities in which an agent is not logged in.
    pub offline_activities: Vec<String>,
    /// Records are spread over this many Sync maps (each map has its own write budget).
    pub maps: u32,
}

fn given(value: &Option<String>) -> Option<&str> {
    env::given(value.as_deref())
}

fn path(variable: &'static str, text: &str) -> Result<Vec<String>, AgentHistoryError> {
    let parts: Vec<String> = text.split('.').map(|p| p.trim().to_string()).collect();
    if parts.iter().any(String::is_empty) || parts.len() > 8 || text.len() > 200 {
        return Err(AgentHistoryError::config(
            variable,
            text,
            "is not an attribute path (names separated by dots, such as conversations.outcome)",
        ));
    }
    Ok(parts)
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, AgentHistoryError> {
        let time_zone = queue_settings::time_zone(env.time_zone.as_deref())?;
        let disposition_attribute = path(
            "AGENT_HISTORY_DISPOSITION_ATTRIBUTE",
            given(&env.disposition_attribute).unwrap_or(DEFAULT_DISPOSITION_ATTRIBUTE),
        )?;
        let team_attribute = path(
            "AGENT_HISTORY_TEAM_ATTRIBUTE",
            given(&env.team_attribute).unwrap_or(DEFAULT_TEAM_ATTRIBUTE),
        )?;
        let retention_days = match given(&env.retention_days) {
            None => 400,
            Some(t) => env::whole_number("AGENT_HISTORY_RETENTION_DAYS", t, 1, 3660)?,
        };
        let maps = match given(&env.maps) {
            None => 4,
            Some(t) => env::whole_number("AGENT_HISTORY_MAPS", t, 1, 64)?,
        };
        let offline_activities = env::list(given(&env.offline_activities).unwrap_or("Offline"));
        Ok(Config {
            time_zone,
            disposition_attribute,
            team_attribute,
            retention_days,
            offline_activities,
            maps,
        })
    }

    /// Whether time in `activity` counts as logged in.
    pub fn logged_in(&self, activity: &str) -> bool {
        !self.offline_activities.iter().any(|a| a == activity)
    }
}

/// The value at a dotted `path` of JSON attributes (an object, or its JSON text), as text:
/// strings as they are, numbers and booleans written out; `None` for anything else or blank.
pub fn attribute(attributes: &serde_json::Value, path: &[String]) -> Option<String> {
    let parsed;
    let mut at = match attributes {
        serde_json::Value::String(text) => {
            parsed = serde_json::from_str::<serde_json::Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    for name in path {
        at = at.get(name)?;
    }
    let text = match at {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(text).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_env(&Env::default()).unwrap();
        assert_eq!(c.time_zone, Tz::UTC);
        assert_eq!(c.disposition_attribute, ["conversations", "outcome"]);
        assert_eq!(c.team_attribute, ["team_name"]);
        assert_eq!((c.retention_days, c.maps), (400, 4));
        assert!(!c.logged_in("Offline") && c.logged_in("Break"));
        for (env, variable) in [
            (
                Env {
                    retention_days: Some("0".into()),
                    ..Env::default()
                },
                "AGENT_HISTORY_RETENTION_DAYS",
            ),
            (
                Env {
                    disposition_attribute: Some("a..b".into()),
                    ..Env::default()
                },
                "AGENT_HISTORY_DISPOSITION_ATTRIBUTE",
            ),
            (
                Env {
                    time_zone: Some("Mars/Base".into()),
                    ..Env::default()
                },
                "QUEUE_STATS_TIME_ZONE",
            ),
            (
                Env {
                    maps: Some("65".into()),
                    ..Env::default()
                },
                "AGENT_HISTORY_MAPS",
            ),
        ] {
            let e = Config::from_env(&env).unwrap_err();
            assert_eq!(wasm_face::FaceError::parameter(&e), Some(variable), "{e}");
        }
    }

    #[test]
    fn attributes_by_path_in_text_or_object() {
        let p = vec!["conversations".to_string(), "outcome".to_string()];
        let a = json!({"conversations": {"outcome": " Sold "}});
        assert_eq!(attribute(&a, &p).as_deref(), Some("Sold"));
        assert_eq!(
            attribute(&json!(a.to_string()), &p).as_deref(),
            Some("Sold")
        );
        assert_eq!(
            attribute(&json!({"conversations": {"outcome": 3}}), &p).as_deref(),
            Some("3")
        );
        assert_eq!(attribute(&json!("{not json"), &p), None);
        assert_eq!(attribute(&json!({"conversations": {}}), &p), None);
        assert_eq!(
            attribute(&json!({"conversations": {"outcome": ""}}), &p),
            None
        );
    }
}
