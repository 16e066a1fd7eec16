//! The `AGENTS_LIVE_*` settings (and `QUEUE_STATS_TIME_ZONE`, whose midnight starts "today").

use std::collections::BTreeMap;

use chrono_tz::Tz;

/// Variables as the shim passes them (the function's environment, strings only).
pub type Env = BTreeMap<String, String>;

/// The string values of a JSON object as an [`Env`] (anything else is left out; not an object:
/// empty), as both wasm faces receive the environment or the page's settings.
pub fn env_of(value: &serde_json::Value) -> Env {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Default number of shard documents (2,000 agents: about 10 per document, 5 KiB).
pub const DEFAULT_SHARDS: u32 = 200;
/// At most this many shards: a board subscribes to one object per shard, and Sync allows 2,000
/// subscribed objects per connection.
pub const MAX_SHARDS: u32 = 1000;

/// Why a setting was rejected: the shared shape of a bad environment variable (a 500
/// `invalid_config` naming it).
pub use values::env::EnvError as ConfigError;

fn bad(variable: &'static str, value: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::new(variable, value, problem)
}

/// The live agents settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `AGENTS_LIVE_SHARDS`: how many documents the agents are spread over.
    pub shards: u32,
    /// `AGENTS_LIVE_TEAM_ATTRIBUTE`: the worker attribute (a dotted path) naming the agent's team.
    pub team_attribute: Vec<String>,
    /// `AGENTS_LIVE_KEY_SHOWS_NAMES`: a wallboard key's board may read agents' names.
    pub key_shows_names: bool,
    /// `AGENTS_LIVE_OFFLINE_ACTIVITIES`: activities in which an agent is not logged in.
    pub offline: Vec<String>,
    /// `AGENTS_LIVE_AVAILABLE_ACTIVITIES`: activities in which an agent takes tasks.
    pub available: Vec<String>,
    /// `QUEUE_STATS_TIME_ZONE`: today starts at its midnight.
    pub zone: Tz,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            shards: DEFAULT_SHARDS,
            team_attribute: vec!["team_name".into()],
            key_shows_names: false,
            offline: vec!["Offline".into()],
            available: vec!["Available".into()],
            zone: Tz::UTC,
        }
    }
}

fn given<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn names(variable: &'static str, text: &str) -> Result<Vec<String>, ConfigError> {
    let list: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() || list.len() > 20 || list.iter().any(|s| s.len() > 64) {
        return Err(bad(
            variable,
            text,
            "must be 1 to 20 comma-separated activity names of at most 64 characters",
        ));
    }
    Ok(list)
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(text) = given(env, "AGENTS_LIVE_SHARDS") {
            config.shards = match text.parse::<u32>() {
                Ok(n) if (1..=MAX_SHARDS).contains(&n) => n,
                _ => {
                    return Err(bad(
                        "AGENTS_LIVE_SHARDS",
                        text,
                        format!("is not a whole number from 1 to {MAX_SHARDS}"),
                    ))
                }
            };
        }
        if let Some(text) = given(env, "AGENTS_LIVE_TEAM_ATTRIBUTE") {
            let path: Vec<String> = text.split('.').map(str::to_string).collect();
            let ok = text.len() <= 100
                && path.iter().all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                });
            if !ok {
                return Err(bad(
                    "AGENTS_LIVE_TEAM_ATTRIBUTE",
                    text,
                    "is not a worker attribute path (names of letters, digits, _ and -, joined by dots, e.g. team_name or routing.team)",
                ));
            }
            config.team_attribute = path;
        }
        if let Some(text) = given(env, "AGENTS_LIVE_KEY_SHOWS_NAMES") {
            config.key_shows_names = match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(bad(
                        "AGENTS_LIVE_KEY_SHOWS_NAMES",
                        text,
                        "must be true or false",
                    ))
                }
            };
        }
        if let Some(text) = given(env, "AGENTS_LIVE_OFFLINE_ACTIVITIES") {
            config.offline = names("AGENTS_LIVE_OFFLINE_ACTIVITIES", text)?;
        }
        if let Some(text) = given(env, "AGENTS_LIVE_AVAILABLE_ACTIVITIES") {
            config.available = names("AGENTS_LIVE_AVAILABLE_ACTIVITIES", text)?;
        }
        config.zone =
            queue_settings::time_zone(env.get("QUEUE_STATS_TIME_ZONE").map(String::as_str))?;
        Ok(config)
    }

    pub fn is_offline(&self, activity: &str) -> bool {
        activity.is_empty()
            || self
                .offline
                .iter()
                .any(|a| a.eq_ignore_ascii_case(activity))
    }

    pub fn is_available(&self, activity: &str) -> bool {
        self.available
            .iter()
            .any(|a| a.eq_ignore_ascii_case(activity))
    }
}
