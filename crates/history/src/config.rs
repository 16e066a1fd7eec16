//! The settings history shares with the live queue statistics (`QUEUE_STATS_TIME_ZONE`,
//! `QUEUE_STATS_CHANNELS`, `QUEUE_STATS_SLA_THRESHOLDS`) and its own (`QUEUE_HISTORY_*`).

use chrono_tz::Tz;
use serde::Deserialize;
use values::env;

use crate::error::HistoryError;

/// The channel of figures over every channel (no `TaskChannel` filter), as the live statistics.
pub use queue_settings::ALL;

/// The environment as the shim passes it: raw text, absent when unset; blank means default.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Env {
    /// The `QUEUE_STATS_*` variables the live statistics read too.
    #[serde(flatten)]
    pub shared: queue_settings::SharedEnv,
    #[serde(rename = "QUEUE_HISTORY_SHORT_ABANDON", default)]
    pub short_abandon: Option<String>,
    #[serde(rename = "QUEUE_HISTORY_RETENTION_DAYS", default)]
    pub retention_days: Option<String>,
    #[serde(rename = "QUEUE_HISTORY_OFFLINE_ACTIVITIES", default)]
    pub offline_activities: Option<String>,
    #[serde(rename = "QUEUE_HISTORY_AVAILABLE_ACTIVITIES", default)]
    pub available_activities: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Hours, days and weekdays are those of this zone.
    pub time_zone: Tz,
    /// Channels with their own buckets besides `all`.
    pub channels: Vec<String>,
    /// Service-level thresholds in seconds, ascending and distinct.
    pub sla_thresholds: Vec<u32>,
    /// A task abandoned before this many seconds is a short abandon.
    pub short_abandon: u32,
    /// Hours older than this many days are deleted when a new hour is written.
    pub retention_days: u32,
    /// Activities in which a worker is not logged in.
    pub offline_activities: Vec<String>,
    /// Activities in which a worker is available.
    pub available_activities: Vec<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    env::given(value.as_deref())
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, HistoryError> {
        // The variables the live statistics read too are parsed by the same shared crate, so a
        // value the live board accepts never breaks the history.
        let queue_settings::Shared {
            time_zone,
            channels,
            sla_thresholds,
        } = env.shared.read()?;
        let short_abandon = match given(&env.short_abandon) {
            None => 5,
            Some(t) => env::whole_number("QUEUE_HISTORY_SHORT_ABANDON", t, 0, 3600)?,
        };
        let retention_days = match given(&env.retention_days) {
            None => 400,
            Some(t) => env::whole_number("QUEUE_HISTORY_RETENTION_DAYS", t, 1, 3660)?,
        };
        let offline_activities = env::list(given(&env.offline_activities).unwrap_or("Offline"));
        let available_activities =
            env::list(given(&env.available_activities).unwrap_or("Available"));
        Ok(Config {
            time_zone,
            channels,
            sla_thresholds,
            short_abandon,
            retention_days,
            offline_activities,
            available_activities,
        })
    }

    /// `all` followed by the configured channels.
    pub fn all_channels(&self) -> Vec<String> {
        queue_settings::with_all(&self.channels)
    }

    /// TaskRouter's `SplitByWaitTime`: the SLA thresholds and the short-abandon threshold.
    pub fn split_by_wait_time(&self) -> Vec<u32> {
        let mut all = self.sla_thresholds.clone();
        if self.short_abandon > 0 {
            all.push(self.short_abandon);
        }
        all.sort_unstable();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_settings::SharedEnv;

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_env(&Env::default()).unwrap();
        assert_eq!(c.time_zone, Tz::UTC);
        assert_eq!(c.all_channels(), ["all", "voice", "chat", "video"]);
        assert_eq!(c.split_by_wait_time(), [5, 30, 60, 120]);
        assert_eq!(c.retention_days, 400);
        let bad = Config::from_env(&Env {
            shared: SharedEnv {
                time_zone: Some("Mars/Base".into()),
                ..SharedEnv::default()
            },
            ..Env::default()
        })
        .unwrap_err();
        assert!(bad.to_string().contains("QUEUE_STATS_TIME_ZONE"));
        let bad = Config::from_env(&Env {
            short_abandon: Some("-1".into()),
            ..Env::default()
        })
        .unwrap_err();
        assert!(bad.to_string().contains("QUEUE_HISTORY_SHORT_ABANDON"));
    }

    // The live statistics accept `all` in the channel list (it is always there); so must history.
    #[test]
    fn shared_settings_accept_what_the_live_statistics_accept() {
        let env = Env {
            shared: SharedEnv {
                channels: Some("all, Voice".into()),
                sla_thresholds: Some("60,20,20".into()),
                ..SharedEnv::default()
            },
            ..Env::default()
        };
        let c = Config::from_env(&env).unwrap();
        assert_eq!(c.all_channels(), ["all", "voice"]);
        assert_eq!(c.sla_thresholds, [20, 60]);
    }

    // The shared variables are flattened in: the environment object reads as before.
    #[test]
    fn the_environment_object_reads_the_shared_variables_too() {
        let env: Env = serde_json::from_value(serde_json::json!({
            "QUEUE_STATS_TIME_ZONE": "Europe/Berlin",
            "QUEUE_STATS_CHANNELS": "sms",
            "QUEUE_HISTORY_RETENTION_DAYS": "30",
            "PATH": "/usr/bin",
        }))
        .unwrap();
        let c = Config::from_env(&env).unwrap();
        assert_eq!(c.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(c.all_channels(), ["all", "sms"]);
        assert_eq!(c.retention_days, 30);
    }
}
