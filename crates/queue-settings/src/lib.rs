//! The settings live queue statistics (`queue-stats`) and queue history (`history`) share:
//! `QUEUE_STATS_TIME_ZONE`, `QUEUE_STATS_CHANNELS` and `QUEUE_STATS_SLA_THRESHOLDS`.
//!
//! Both read the same variables, so both must accept and refuse exactly the same values: a value
//! the live board takes must not make the history fail. Each function takes the variable's text
//! (`None` or blank means "use the default") and answers the parsed value or a [`SettingError`]
//! naming the variable, the value and what is expected instead.
//!
//! - Time zone: an IANA name (default `UTC`).
//! - Channels: TaskChannel unique names, comma-separated, case-insensitive, duplicates and `all`
//!   (always present) ignored; at most 8, because each adds a block to a 16 KiB Sync record
//!   (default `voice,chat,video`).
//! - Service level ([`service_level`]): the one definition both compute per threshold.
//! - SLA thresholds: whole seconds from 1 to 86,400, comma-separated, sorted, duplicates ignored;
//!   1 to 10 of them (default `30,60,120`).
//!
//! [`SharedEnv`] is the three variables as the environment gives them, for a crate's own `Env` to
//! flatten in; [`SharedEnv::read`] validates all three.

use chrono_tz::Tz;
use serde::Deserialize;

/// The channel of figures over every channel (no `TaskChannel` filter); always present.
pub const ALL: &str = "all";

const DEFAULT_CHANNELS: &str = "voice,chat,video";
const DEFAULT_THRESHOLDS: &str = "30,60,120";
/// More channels than this could not fit Sync's 16 KiB per record.
pub const MAX_CHANNELS: usize = 8;
/// More thresholds than this would make every record bigger for little use.
pub const MAX_THRESHOLDS: usize = 10;

/// A setting that cannot be used: the shared shape of a bad environment variable.
pub use values::env::EnvError as SettingError;

fn error(variable: &'static str, value: &str, problem: impl Into<String>) -> SettingError {
    SettingError::new(variable, value, problem)
}

use values::env::given;

/// The three shared variables as the environment gives them: raw text, absent when unset (blank
/// means the default). A crate's own `Env` flattens this in (`#[serde(flatten)]`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SharedEnv {
    #[serde(rename = "QUEUE_STATS_TIME_ZONE", default)]
    pub time_zone: Option<String>,
    #[serde(rename = "QUEUE_STATS_CHANNELS", default)]
    pub channels: Option<String>,
    #[serde(rename = "QUEUE_STATS_SLA_THRESHOLDS", default)]
    pub sla_thresholds: Option<String>,
}

/// The three shared settings, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    /// [`time_zone`].
    pub time_zone: Tz,
    /// [`channels`]: besides `all`, in the configured order.
    pub channels: Vec<String>,
    /// [`sla_thresholds`]: ascending and distinct.
    pub sla_thresholds: Vec<u32>,
}

impl SharedEnv {
    /// Validates the three variables, the first bad one named in the error.
    pub fn read(&self) -> Result<Shared, SettingError> {
        Ok(Shared {
            time_zone: time_zone(self.time_zone.as_deref())?,
            channels: channels(self.channels.as_deref())?,
            sla_thresholds: sla_thresholds(self.sla_thresholds.as_deref())?,
        })
    }
}

/// `all` followed by `channels`: every channel a full record or history bucket has.
pub fn with_all(channels: &[String]) -> Vec<String> {
    std::iter::once(ALL.to_string())
        .chain(channels.iter().cloned())
        .collect()
}

/// A TaskChannel unique name as TaskRouter allows them: letters, digits, `-` and `_`.
pub fn is_channel_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `QUEUE_STATS_TIME_ZONE`.
pub fn time_zone(text: Option<&str>) -> Result<Tz, SettingError> {
    match given(text) {
        None => Ok(Tz::UTC),
        Some(name) => name.parse::<Tz>().map_err(|_| {
            error(
                "QUEUE_STATS_TIME_ZONE",
                name,
                "is not an IANA time zone name such as America/New_York or Europe/Berlin",
            )
        }),
    }
}

/// `QUEUE_STATS_CHANNELS`: the channels with their own figures besides `all`, in the given order.
pub fn channels(text: Option<&str>) -> Result<Vec<String>, SettingError> {
    let text = given(text).unwrap_or(DEFAULT_CHANNELS);
    let mut channels: Vec<String> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = part.to_ascii_lowercase();
        if !is_channel_name(&name) {
            return Err(error(
                "QUEUE_STATS_CHANNELS",
                text,
                format!("names {part:?}, which is not a TaskChannel unique name (letters, digits, - and _)"),
            ));
        }
        if name != ALL && !channels.contains(&name) {
            channels.push(name);
        }
    }
    if channels.len() > MAX_CHANNELS {
        return Err(error(
            "QUEUE_STATS_CHANNELS",
            text,
            format!(
                "lists {} channels; at most {MAX_CHANNELS} fit in one 16 KiB Sync record",
                channels.len()
            ),
        ));
    }
    Ok(channels)
}

/// `QUEUE_STATS_SLA_THRESHOLDS`: seconds, ascending and distinct.
pub fn sla_thresholds(text: Option<&str>) -> Result<Vec<u32>, SettingError> {
    let text = given(text).unwrap_or(DEFAULT_THRESHOLDS);
    let mut thresholds = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<u32>() {
            Ok(s) if (1..=86_400).contains(&s) => thresholds.push(s),
            _ => {
                return Err(error(
                    "QUEUE_STATS_SLA_THRESHOLDS",
                    text,
                    format!("contains {part:?}; expected whole seconds from 1 to 86400, comma separated, such as 30,60,120"),
                ))
            }
        }
    }
    thresholds.sort_unstable();
    thresholds.dedup();
    if thresholds.is_empty() || thresholds.len() > MAX_THRESHOLDS {
        return Err(error(
            "QUEUE_STATS_SLA_THRESHOLDS",
            text,
            format!(
                "must list from 1 to {MAX_THRESHOLDS} thresholds in seconds, such as 30,60,120"
            ),
        ));
    }
    Ok(thresholds)
}

/// The service level for one threshold, the one definition the live record and the history
/// share: tasks accepted within the threshold over those accepted either side of it and those
/// canceled after it, `accepted below / (accepted below + accepted above + canceled above)`.
/// Tasks canceled within the threshold (short abandons) count neither way. `None` when there is
/// nothing to count. Unrounded: each caller rounds its answer once.
pub fn service_level(accepted_below: f64, accepted_above: f64, canceled_above: f64) -> Option<f64> {
    let total = accepted_below + accepted_above + canceled_above;
    (total > 0.0).then(|| accepted_below / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_leaves_short_abandons_out() {
        assert_eq!(service_level(3.0, 1.0, 0.0), Some(0.75));
        assert_eq!(service_level(1.0, 1.0, 2.0), Some(0.25));
        assert_eq!(service_level(0.0, 0.0, 0.0), None);
        assert_eq!(service_level(0.0, 0.0, 1.0), Some(0.0));
    }

    #[test]
    fn defaults_when_unset_or_blank() {
        for unset in [None, Some(""), Some("  ")] {
            assert_eq!(time_zone(unset), Ok(Tz::UTC));
            assert_eq!(channels(unset).unwrap(), ["voice", "chat", "video"]);
            assert_eq!(sla_thresholds(unset).unwrap(), [30, 60, 120]);
        }
    }

    #[test]
    fn values_are_normalised() {
        assert_eq!(time_zone(Some(" Europe/Berlin ")), Ok(Tz::Europe__Berlin));
        assert_eq!(
            channels(Some("all, Voice,voice,sms")).unwrap(),
            ["voice", "sms"]
        );
        assert_eq!(sla_thresholds(Some("120, 30,30")).unwrap(), [30, 120]);
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            time_zone(Some("Mars/Base")).unwrap_err().variable,
            "QUEUE_STATS_TIME_ZONE"
        );
        let nine = "a,b,c,d,e,f,g,h,i";
        for bad in ["voice,sms!", nine] {
            assert_eq!(
                channels(Some(bad)).unwrap_err().variable,
                "QUEUE_STATS_CHANNELS"
            );
        }
        for bad in ["0", "30,x", "86401", "1,2,3,4,5,6,7,8,9,10,11", ","] {
            let err = sla_thresholds(Some(bad)).unwrap_err();
            assert_eq!(
                (err.variable, err.value.as_str()),
                ("QUEUE_STATS_SLA_THRESHOLDS", bad)
            );
        }
    }
}
