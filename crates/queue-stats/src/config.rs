//! The `QUEUE_STATS_*` settings, validated once per container.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The channel every record carries, whatever `QUEUE_STATS_CHANNELS` says (TaskRouter's figures
/// over all channels), and what a TaskChannel name may be: shared with queue history.
pub use queue_settings::{is_channel_name, ALL};

const DEFAULT_TARGET: f64 = 80.0;

/// Where records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// The published layout: Sync map `queueStats`, one item per queue. The map is one Sync
    /// object, so all queues share its 20 writes/s.
    Map,
    /// One Sync document per queue (`queueStats.<queueSid>`, 20 writes/s each) plus the index
    /// document `queueStats.index` listing the queues.
    Documents,
}

/// The environment as the shim passes it: the variables' raw text, absent when unset.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Env {
    /// The variables queue history reads too.
    #[serde(flatten)]
    pub shared: queue_settings::SharedEnv,
    #[serde(rename = "QUEUE_STATS_SLA_TARGET", default)]
    pub sla_target: Option<String>,
    #[serde(rename = "QUEUE_STATS_LAYOUT", default)]
    pub layout: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// "Today" for cumulative statistics starts at midnight in this zone (default UTC).
    pub time_zone: Tz,
    /// Channels that get their own `realTimeStats_<channel>` / `cumulativeStats_<channel>`
    /// blocks besides `all`, in the configured order.
    pub channels: Vec<String>,
    /// Service-level thresholds in seconds, ascending and distinct.
    pub sla_thresholds: Vec<u32>,
    /// Service-level target as a fraction in (0, 1].
    pub sla_target: f64,
    pub layout: Layout,
}

impl Default for Config {
    fn default() -> Self {
        // The defaults are valid by construction; `from_env` of an empty environment yields them.
        Config {
            time_zone: Tz::UTC,
            channels: ["voice", "chat", "video"].map(str::to_string).to_vec(),
            sla_thresholds: vec![30, 60, 120],
            sla_target: DEFAULT_TARGET / 100.0,
            layout: Layout::Map,
        }
    }
}

/// A set variable's trimmed text, or `None` when unset or blank (blank means "use the default").
fn given(value: &Option<String>) -> Option<&str> {
    values::env::given(value.as_deref())
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Config, ConfigError> {
        // The settings queue history reads too are parsed by one shared crate.
        let queue_settings::Shared {
            time_zone,
            channels,
            sla_thresholds,
        } = env.shared.read()?;
        let sla_target = match given(&env.sla_target) {
            None => DEFAULT_TARGET,
            Some(text) => {
                let number = text.strip_suffix('%').unwrap_or(text).trim();
                match number.parse::<f64>() {
                    Ok(t) if t > 0.0 && t <= 100.0 => t,
                    _ => {
                        return Err(ConfigError::new(
                            "QUEUE_STATS_SLA_TARGET",
                            text,
                            "is not a percentage above 0 and at most 100, such as 80",
                        ))
                    }
                }
            }
        } / 100.0;
        let layout =
            match given(&env.layout).map(str::to_ascii_lowercase).as_deref() {
                None | Some("map") => Layout::Map,
                Some("documents") => Layout::Documents,
                Some(_) => return Err(ConfigError::new(
                    "QUEUE_STATS_LAYOUT",
                    env.layout.as_deref().unwrap_or_default(),
                    "is not a layout: use map (the published Sync map queueStats) or documents \
                     (one Sync document per queue)",
                )),
            };
        Ok(Config {
            time_zone,
            channels,
            sla_thresholds,
            sla_target,
            layout,
        })
    }

    /// `all` followed by the configured channels: every block a full record has.
    pub fn all_channels(&self) -> Vec<String> {
        queue_settings::with_all(&self.channels)
    }

    /// Whether `channel` gets its own blocks.
    pub fn tracks(&self, channel: &str) -> bool {
        channel == ALL || self.channels.iter().any(|c| c == channel)
    }

    /// The `SplitByWaitTime` parameter for cumulative statistics: `"30,60,120"`.
    pub fn split_by_wait_time(&self) -> String {
        self.sla_thresholds
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        let mut env = Env::default();
        for (k, v) in pairs {
            let v = Some(v.to_string());
            match *k {
                "tz" => env.shared.time_zone = v,
                "channels" => env.shared.channels = v,
                "thresholds" => env.shared.sla_thresholds = v,
                "target" => env.sla_target = v,
                "layout" => env.layout = v,
                _ => unreachable!(),
            }
        }
        env
    }

    #[test]
    fn empty_environment_gives_the_documented_defaults() {
        let config = Config::from_env(&Env::default()).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.all_channels(), ["all", "voice", "chat", "video"]);
        assert_eq!(config.split_by_wait_time(), "30,60,120");
        assert_eq!(config.sla_target, 0.8);
        assert_eq!(config.layout, Layout::Map);
    }

    #[test]
    fn values_are_normalised() {
        let config = Config::from_env(&env(&[
            ("tz", " Europe/Berlin "),
            ("channels", "Voice, sms,all,voice"),
            ("thresholds", "120, 20,20"),
            ("target", "90%"),
            ("layout", "Documents"),
        ]))
        .unwrap();
        assert_eq!(config.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(config.channels, ["voice", "sms"]);
        assert_eq!(config.sla_thresholds, [20, 120]);
        assert!((config.sla_target - 0.9).abs() < 1e-12);
        assert_eq!(config.layout, Layout::Documents);
        assert!(config.tracks("sms") && config.tracks("all") && !config.tracks("chat"));
    }

    #[test]
    fn blank_means_default() {
        let config =
            Config::from_env(&env(&[("tz", ""), ("channels", " "), ("target", "")])).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn errors_name_the_variable_and_the_value() {
        let cases = [
            ("tz", "Mars/Olympus", "QUEUE_STATS_TIME_ZONE"),
            ("channels", "voice,sm s", "QUEUE_STATS_CHANNELS"),
            ("channels", "a,b,c,d,e,f,g,h,i", "QUEUE_STATS_CHANNELS"),
            ("thresholds", "30,abc", "QUEUE_STATS_SLA_THRESHOLDS"),
            ("thresholds", "0", "QUEUE_STATS_SLA_THRESHOLDS"),
            ("thresholds", ",,", "QUEUE_STATS_SLA_THRESHOLDS"),
            ("target", "120", "QUEUE_STATS_SLA_TARGET"),
            ("target", "0", "QUEUE_STATS_SLA_TARGET"),
            ("target", "NaN", "QUEUE_STATS_SLA_TARGET"),
            ("layout", "sheets", "QUEUE_STATS_LAYOUT"),
        ];
        for (key, value, variable) in cases {
            let err = Config::from_env(&env(&[(key, value)])).unwrap_err();
            assert_eq!(err.variable, variable);
            assert_eq!(err.code(), "invalid_config");
            assert!(err.to_string().contains(value.trim()), "{err}");
        }
    }
}

/// The settings as a machine's state carries them between steps (the resume has no instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Carried {
    time_zone: String,
    channels: Vec<String>,
    sla_thresholds: Vec<u32>,
    sla_target: f64,
    layout: Layout,
}

impl Config {
    /// The settings for a machine's state.
    pub fn carried(&self) -> Carried {
        Carried {
            time_zone: self.time_zone.name().to_string(),
            channels: self.channels.clone(),
            sla_thresholds: self.sla_thresholds.clone(),
            sla_target: self.sla_target,
            layout: self.layout,
        }
    }

    /// The settings a state carried; `None` when its time zone is not one (a state this crate did
    /// not write).
    pub fn from_carried(c: &Carried) -> Option<Config> {
        Some(Config {
            time_zone: c.time_zone.parse().ok()?,
            channels: c.channels.clone(),
            sla_thresholds: c.sla_thresholds.clone(),
            sla_target: c.sla_target,
            layout: c.layout,
        })
    }
}
