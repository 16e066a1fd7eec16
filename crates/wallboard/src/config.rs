//! The thresholds config (`assets/wallboard/config.json`): defaults, per-queue overrides, and the
//! validation that names a bad field.

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

/// Warn and alert levels of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Limits {
    pub warn: f64,
    pub alert: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
struct PartialLimits {
    warn: Option<f64>,
    alert: Option<f64>,
}

/// A queue's overrides (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Override {
    sla_threshold_seconds: Option<u32>,
    sla_target: Option<f64>,
    sla_warn_margin: Option<f64>,
    waiting_tasks: Option<PartialLimits>,
    longest_wait_seconds: Option<PartialLimits>,
    aht_seconds: Option<f64>,
}

impl From<&QueueLimits> for Override {
    /// The config's own limits, every one given, to be checked as an override is.
    fn from(l: &QueueLimits) -> Override {
        let partial = |l: Limits| PartialLimits {
            warn: Some(l.warn),
            alert: Some(l.alert),
        };
        Override {
            sla_threshold_seconds: Some(l.sla_threshold_seconds),
            sla_target: l.sla_target,
            sla_warn_margin: Some(l.sla_warn_margin),
            waiting_tasks: Some(partial(l.waiting_tasks)),
            longest_wait_seconds: Some(partial(l.longest_wait_seconds)),
            aht_seconds: l.aht_seconds,
        }
    }
}

impl Override {
    /// Checks the values given; `field` names a field in an error.
    fn check(&self, field: impl Fn(&str) -> String) -> Result<(), ConfigError> {
        check_share(&field("slaTarget"), self.sla_target, false)?;
        check_share(&field("slaWarnMargin"), self.sla_warn_margin, true)?;
        if let Some(l) = &self.waiting_tasks {
            check_limits(&field("waitingTasks"), l.warn, l.alert)?;
        }
        if let Some(l) = &self.longest_wait_seconds {
            check_limits(&field("longestWaitSeconds"), l.warn, l.alert)?;
        }
        check_aht(&field("ahtSeconds"), self.aht_seconds)
    }
}

/// The order of the tiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Order {
    /// By friendly name, then SID.
    #[default]
    Name,
    /// Alert, then warn, then ok; by name within each.
    Alerts,
}

impl Order {
    /// `"name"` or `"alerts"`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Order> {
        match s {
            "name" => Some(Order::Name),
            "alerts" => Some(Order::Alerts),
            _ => None,
        }
    }
}

/// Wallboard-mode layout: a fixed grid when `columns`/`rows` are set, else (`null`) the densest
/// grid whose text stays readable (the page measures it); pages rotate every `page_seconds`, faster
/// when a full rotation would take longer than `cycle_seconds` (never under 5 s a page).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Kiosk {
    pub columns: Option<u32>,
    pub rows: Option<u32>,
    pub page_seconds: f64,
    pub cycle_seconds: f64,
    pub order: Order,
}

impl Default for Kiosk {
    fn default() -> Self {
        Kiosk {
            columns: None,
            rows: None,
            page_seconds: 10.0,
            cycle_seconds: 120.0,
            order: Order::Alerts,
        }
    }
}

/// The thresholds config, with its defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    /// Every queue's limits unless it overrides them.
    #[serde(flatten)]
    pub limits: QueueLimits,
    pub staffing_refresh_seconds: f64,
    /// The tiles' order outside wallboard mode (wallboard mode: `kiosk.order`).
    pub order: Order,
    pub kiosk: Kiosk,
    queues: BTreeMap<String, Override>,
}

/// The limits of one queue: the config's defaults (flattened into [`Config`]), or a queue's
/// with its override applied ([`Effective`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueLimits {
    /// Which of the record's thresholds drives the colour (default 30 s).
    pub sla_threshold_seconds: u32,
    /// A target overriding the record's `slaTarget` (a fraction).
    pub sla_target: Option<f64>,
    /// `warn` when the level is less than this above the target (default 0.05).
    pub sla_warn_margin: f64,
    pub waiting_tasks: Limits,
    pub longest_wait_seconds: Limits,
    /// Handle time for "agents needed now"; `None`: the server's `STAFFING_DEFAULT_AHT_SECONDS`.
    pub aht_seconds: Option<f64>,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            sla_threshold_seconds: 30,
            sla_target: None,
            sla_warn_margin: 0.05,
            waiting_tasks: Limits {
                warn: 3.0,
                alert: 6.0,
            },
            longest_wait_seconds: Limits {
                warn: 60.0,
                alert: 120.0,
            },
            aht_seconds: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: QueueLimits::default(),
            staffing_refresh_seconds: 60.0,
            order: Order::Name,
            kiosk: Kiosk::default(),
            queues: BTreeMap::new(),
        }
    }
}

/// A config that cannot be used: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("wallboard config: {field}: {problem}")]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
}

fn bad(field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// The limits that apply to one queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub limits: QueueLimits,
    /// Where `limits.aht_seconds` comes from: `"queue"`, `"default"` or `"server"`.
    pub aht_from: &'static str,
}

fn check_share(field: &str, v: Option<f64>, allow_zero: bool) -> Result<(), ConfigError> {
    match v {
        Some(x) if !x.is_finite() || !(0.0..=1.0).contains(&x) || (!allow_zero && x == 0.0) => {
            Err(bad(
                field,
                format!(
                    "{x} is not a fraction {} 0 and at most 1",
                    if allow_zero { "from" } else { "above" }
                ),
            ))
        }
        _ => Ok(()),
    }
}

fn check_limits(field: &str, warn: Option<f64>, alert: Option<f64>) -> Result<(), ConfigError> {
    for (name, v) in [("warn", warn), ("alert", alert)] {
        if let Some(x) = v {
            if !x.is_finite() || x < 0.0 {
                return Err(bad(
                    format!("{field}.{name}"),
                    format!("{x} is not a number from 0"),
                ));
            }
        }
    }
    Ok(())
}

fn check_aht(field: &str, v: Option<f64>) -> Result<(), ConfigError> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0 && x <= 86_400.0) => Err(bad(
            field,
            format!("{x} is not a number of seconds above 0, at most 86400"),
        )),
        _ => Ok(()),
    }
}

impl Config {
    /// Parses and validates the config's JSON text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config =
            serde_json::from_str(text).map_err(|e| bad("(file)", e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        Override::from(&self.limits).check(|name| name.to_string())?;
        if !(self.staffing_refresh_seconds.is_finite() && self.staffing_refresh_seconds >= 5.0) {
            return Err(bad("staffingRefreshSeconds", "must be at least 5"));
        }
        if self.kiosk.columns == Some(0)
            || self.kiosk.rows == Some(0)
            || !(self.kiosk.page_seconds.is_finite() && self.kiosk.page_seconds >= 1.0)
            || !(self.kiosk.cycle_seconds.is_finite() && self.kiosk.cycle_seconds >= 1.0)
        {
            return Err(bad(
                "kiosk",
                "columns and rows must be at least 1 (or null: the densest readable grid), pageSeconds and cycleSeconds at least 1",
            ));
        }
        for (queue, o) in &self.queues {
            o.check(|name| format!("queues.{queue}.{name}"))?;
        }
        Ok(())
    }

    /// The limits for the queue `sid` named `name` (an override by SID wins over one by name).
    pub fn for_queue(&self, sid: &str, name: &str) -> Effective {
        let o = self
            .queues
            .get(sid)
            .or_else(|| self.queues.get(name))
            .cloned()
            .unwrap_or_default();
        let merge = |base: Limits, p: Option<PartialLimits>| {
            let p = p.unwrap_or_default();
            Limits {
                warn: p.warn.unwrap_or(base.warn),
                alert: p.alert.unwrap_or(base.alert),
            }
        };
        let base = &self.limits;
        let (aht_seconds, aht_from) = match (o.aht_seconds, base.aht_seconds) {
            (Some(a), _) => (Some(a), "queue"),
            (None, Some(a)) => (Some(a), "default"),
            (None, None) => (None, "server"),
        };
        Effective {
            limits: QueueLimits {
                sla_threshold_seconds: o
                    .sla_threshold_seconds
                    .unwrap_or(base.sla_threshold_seconds),
                sla_target: o.sla_target.or(base.sla_target),
                sla_warn_margin: o.sla_warn_margin.unwrap_or(base.sla_warn_margin),
                waiting_tasks: merge(base.waiting_tasks, o.waiting_tasks),
                longest_wait_seconds: merge(base.longest_wait_seconds, o.longest_wait_seconds),
                aht_seconds,
            },
            aht_from,
        }
    }
}
