//! The HTTP function's parameters as text, validated into [`Inputs`], and the answer.

use serde::{Deserialize, Serialize};

use crate::{performance, required, Inputs, Performance, Staffing, StaffingError};

/// `/staffing`'s parameters as received (query, form or JSON values turned into text), plus what
/// the function observed and its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub calls_per_interval: Option<String>,
    /// Default 30.
    pub interval_minutes: Option<String>,
    pub aht_seconds: Option<String>,
    /// Default 20.
    pub threshold_seconds: Option<String>,
    /// Fraction or percent, default 0.8.
    pub target: Option<String>,
    pub max_occupancy: Option<String>,
    /// Fraction or percent, default 0.
    pub shrinkage: Option<String>,
    /// Optional: also say how this many agents would perform (a what-if).
    pub agents: Option<String>,
    /// Arrivals the function read from TaskRouter for a queue: `[tasksEntered, minutes]`. Used
    /// when `callsPerInterval` is absent.
    #[serde(default)]
    pub observed_arrivals: Option<(f64, f64)>,
    /// `STAFFING_DEFAULT_AHT_SECONDS`: used when nothing above gives a handle time.
    pub default_aht_seconds: Option<String>,
    /// The queue's measured average handle time (seconds) from queue history (last 7 days), set
    /// by the function for a `queueSid`: used when `ahtSeconds` is absent.
    #[serde(default)]
    pub measured_aht_seconds: Option<f64>,
    /// A caller's fallback (the wallboard's configured default): used when `ahtSeconds` is absent
    /// and nothing was measured, before `STAFFING_DEFAULT_AHT_SECONDS`.
    pub fallback_aht_seconds: Option<String>,
}

/// Where the arrivals and the handle time came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sources {
    /// `"request"` or `"taskrouter"` (the queue's tasks entered over the interval).
    pub arrivals: &'static str,
    /// `"request"` (`ahtSeconds`), `"measured"` (queue history), `"fallback"`
    /// (`fallbackAhtSeconds`) or `"configured"` (`STAFFING_DEFAULT_AHT_SECONDS`), in that order.
    pub handle_time: &'static str,
}

/// The answer of `/staffing`: the [`Staffing`] fields, the inputs as read, and the what-if.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    #[serde(flatten)]
    pub staffing: Staffing,
    #[serde(flatten)]
    pub inputs: Inputs,
    pub sources: Sources,
    /// How `agents` (when asked) would perform.
    pub with_agents: Option<Performance>,
}

fn number(parameter: &'static str, raw: &str) -> Result<f64, StaffingError> {
    let text = raw.trim();
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(StaffingError::NotANumber {
            parameter,
            value: raw.to_string(),
        }),
    }
}

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().filter(|s| !s.trim().is_empty())
}

/// A parameter's name, what it accepts and how that is said; `share` when it is a fraction
/// also written as a percentage.
struct Rule {
    parameter: &'static str,
    ok: fn(f64) -> bool,
    expected: &'static str,
    share: bool,
}

impl Rule {
    /// `raw` read as a number, or as a fraction (`0.8`) or percentage (`80`, `80%`) for a share.
    fn read(&self, raw: &str) -> Result<f64, StaffingError> {
        let parameter = self.parameter;
        let v = if self.share {
            let text = raw.trim();
            let (digits, percent) = match text.strip_suffix('%') {
                Some(d) => (d, true),
                None => (text, false),
            };
            let v = number(parameter, digits).map_err(|_| StaffingError::NotANumber {
                parameter,
                value: raw.to_string(),
            })?;
            if percent || v > 1.0 {
                v / 100.0
            } else {
                v
            }
        } else {
            number(parameter, raw)?
        };
        if (self.ok)(v) {
            Ok(v)
        } else {
            Err(StaffingError::OutOfRange {
                parameter,
                value: raw.to_string(),
                expected: self.expected,
            })
        }
    }

    /// `raw` read when given, else `None`.
    fn given(&self, raw: &Option<String>) -> Result<Option<f64>, StaffingError> {
        given(raw).map(|raw| self.read(raw)).transpose()
    }

    /// `raw` read when given, else `default`.
    fn or(&self, raw: &Option<String>, default: f64) -> Result<f64, StaffingError> {
        Ok(self.given(raw)?.unwrap_or(default))
    }
}

const fn rule(parameter: &'static str, ok: fn(f64) -> bool, expected: &'static str) -> Rule {
    Rule {
        parameter,
        ok,
        expected,
        share: false,
    }
}

const fn share(parameter: &'static str, ok: fn(f64) -> bool, expected: &'static str) -> Rule {
    Rule {
        share: true,
        ..rule(parameter, ok, expected)
    }
}

const CALLS: Rule = rule(
    "callsPerInterval",
    |v| (0.0..=1e7).contains(&v),
    "a number of contacts from 0 to 10,000,000",
);
// Below a minute an interval means nothing to staffing, and a tiny one (1e-300) would make the
// traffic infinite and the error name callsPerInterval.
const INTERVAL: Rule = rule(
    "intervalMinutes",
    |v| (1.0..=1440.0).contains(&v),
    "minutes from 1 to 1440",
);
fn aht_range(v: f64) -> bool {
    v > 0.0 && v <= 86_400.0
}
const AHT_EXPECTED: &str = "seconds above 0, at most 86400";
const AHT: Rule = rule("ahtSeconds", aht_range, AHT_EXPECTED);
const FALLBACK_AHT: Rule = rule("fallbackAhtSeconds", aht_range, AHT_EXPECTED);
const DEFAULT_AHT: Rule = rule("STAFFING_DEFAULT_AHT_SECONDS", aht_range, AHT_EXPECTED);
const THRESHOLD: Rule = rule(
    "thresholdSeconds",
    |v| (0.0..=86_400.0).contains(&v),
    "seconds from 0 to 86400",
);
const TARGET: Rule = share(
    "target",
    |v| v > 0.0 && v < 1.0,
    "a share above 0 and below 100% (0.8, 80 or 80%); Erlang C never reaches 100%",
);
const MAX_OCCUPANCY: Rule = share(
    "maxOccupancy",
    |v| v > 0.0 && v <= 1.0,
    "a share above 0, at most 100% (0.85, 85 or 85%)",
);
const SHRINKAGE: Rule = share(
    "shrinkage",
    |v| (0.0..0.95).contains(&v),
    "a share from 0 to below 95% (0.3, 30 or 30%)",
);
const AGENTS: Rule = rule(
    "agents",
    |v| v.fract() == 0.0 && (0.0..=crate::MAX_AGENTS as f64).contains(&v),
    "a whole number of agents from 0 to 1,000,000",
);

/// Validates `request` and answers it.
pub fn answer(request: &Request) -> Result<Answer, StaffingError> {
    let (calls, interval, arrivals) = match (
        given(&request.calls_per_interval),
        request.observed_arrivals,
    ) {
        (Some(raw), _) => {
            let calls = CALLS.read(raw)?;
            let interval = INTERVAL.or(&request.interval_minutes, 30.0)?;
            (calls, interval, "request")
        }
        (None, Some((entered, minutes)))
            if entered.is_finite() && entered >= 0.0 && minutes.is_finite() && minutes > 0.0 =>
        {
            (entered, minutes, "taskrouter")
        }
        (None, _) => {
            return Err(StaffingError::Missing {
                parameter: "callsPerInterval",
                hint: "contacts arriving per interval",
            })
        }
    };
    let measured = request
        .measured_aht_seconds
        .filter(|v| v.is_finite() && aht_range(*v));
    let (aht, handle_time) = match (
        given(&request.aht_seconds),
        measured,
        given(&request.fallback_aht_seconds),
        given(&request.default_aht_seconds),
    ) {
        (Some(raw), _, _, _) => (AHT.read(raw)?, "request"),
        (None, Some(v), _, _) => (v, "measured"),
        (None, None, Some(raw), _) => (FALLBACK_AHT.read(raw)?, "fallback"),
        (None, None, None, Some(raw)) => (DEFAULT_AHT.read(raw)?, "configured"),
        (None, None, None, None) => {
            return Err(StaffingError::Missing {
                parameter: "ahtSeconds",
                hint: "average handle time in seconds",
            })
        }
    };
    let inputs = Inputs {
        calls_per_interval: calls,
        interval_minutes: interval,
        aht_seconds: aht,
        threshold_seconds: THRESHOLD.or(&request.threshold_seconds, 20.0)?,
        target: TARGET.or(&request.target, 0.8)?,
        max_occupancy: MAX_OCCUPANCY.given(&request.max_occupancy)?,
        shrinkage: SHRINKAGE.or(&request.shrinkage, 0.0)?,
    };
    let what_if = AGENTS.given(&request.agents)?.map(|n| n as u64);
    let staffing = required(&inputs)?;
    Ok(Answer {
        staffing,
        inputs,
        sources: Sources {
            arrivals,
            handle_time,
        },
        with_agents: what_if
            .map(|n| performance(n, staffing.intensity_erlangs, aht, inputs.threshold_seconds)),
    })
}
