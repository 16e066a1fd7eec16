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
    pub calls_per_interval: f64,
    pub interval_minutes: f64,
    pub aht_seconds: f64,
    pub threshold_seconds: f64,
    pub target: f64,
    pub max_occupancy: Option<f64>,
    pub shrinkage: f64,
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

fn ranged(
    parameter: &'static str,
    raw: &str,
    ok: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Result<f64, StaffingError> {
    let v = number(parameter, raw)?;
    if ok(v) {
        Ok(v)
    } else {
        Err(StaffingError::OutOfRange {
            parameter,
            value: raw.to_string(),
            expected,
        })
    }
}

/// A fraction (`0.8`) or a percentage (`80`, `80%`), as a fraction.
fn share(
    parameter: &'static str,
    raw: &str,
    ok: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Result<f64, StaffingError> {
    let text = raw.trim();
    let (digits, percent) = match text.strip_suffix('%') {
        Some(d) => (d, true),
        None => (text, false),
    };
    let v = number(parameter, digits).map_err(|_| StaffingError::NotANumber {
        parameter,
        value: raw.to_string(),
    })?;
    let fraction = if percent || v > 1.0 { v / 100.0 } else { v };
    if ok(fraction) {
        Ok(fraction)
    } else {
        Err(StaffingError::OutOfRange {
            parameter,
            value: raw.to_string(),
            expected,
        })
    }
}

/// Validates `request` and answers it.
pub fn answer(request: &Request) -> Result<Answer, StaffingError> {
    let (calls, interval, arrivals) = match (
        given(&request.calls_per_interval),
        request.observed_arrivals,
    ) {
        (Some(raw), _) => {
            let calls = ranged(
                "callsPerInterval",
                raw,
                |v| (0.0..=1e7).contains(&v),
                "a number of contacts from 0 to 10,000,000",
            )?;
            let interval = match given(&request.interval_minutes) {
                Some(raw) => ranged(
                    "intervalMinutes",
                    raw,
                    // Below a minute an interval means nothing to staffing, and a tiny one
                    // (1e-300) would make the traffic infinite and the error name callsPerInterval.
                    |v| (1.0..=1440.0).contains(&v),
                    "minutes from 1 to 1440",
                )?,
                None => 30.0,
            };
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
    let aht_range = |v: f64| v > 0.0 && v <= 86_400.0;
    let aht_expected = "seconds above 0, at most 86400";
    let measured = request
        .measured_aht_seconds
        .filter(|v| v.is_finite() && aht_range(*v));
    let (aht, handle_time) = match (
        given(&request.aht_seconds),
        measured,
        given(&request.fallback_aht_seconds),
        given(&request.default_aht_seconds),
    ) {
        (Some(raw), _, _, _) => (
            ranged("ahtSeconds", raw, aht_range, aht_expected)?,
            "request",
        ),
        (None, Some(v), _, _) => (v, "measured"),
        (None, None, Some(raw), _) => (
            ranged("fallbackAhtSeconds", raw, aht_range, aht_expected)?,
            "fallback",
        ),
        (None, None, None, Some(raw)) => (
            ranged("STAFFING_DEFAULT_AHT_SECONDS", raw, aht_range, aht_expected)?,
            "configured",
        ),
        (None, None, None, None) => {
            return Err(StaffingError::Missing {
                parameter: "ahtSeconds",
                hint: "average handle time in seconds",
            })
        }
    };
    let threshold = match given(&request.threshold_seconds) {
        Some(raw) => ranged(
            "thresholdSeconds",
            raw,
            |v| (0.0..=86_400.0).contains(&v),
            "seconds from 0 to 86400",
        )?,
        None => 20.0,
    };
    let target = match given(&request.target) {
        Some(raw) => share(
            "target",
            raw,
            |v| v > 0.0 && v < 1.0,
            "a share above 0 and below 100% (0.8, 80 or 80%); Erlang C never reaches 100%",
        )?,
        None => 0.8,
    };
    let max_occupancy = match given(&request.max_occupancy) {
        Some(raw) => Some(share(
            "maxOccupancy",
            raw,
            |v| v > 0.0 && v <= 1.0,
            "a share above 0, at most 100% (0.85, 85 or 85%)",
        )?),
        None => None,
    };
    let shrinkage = match given(&request.shrinkage) {
        Some(raw) => share(
            "shrinkage",
            raw,
            |v| (0.0..0.95).contains(&v),
            "a share from 0 to below 95% (0.3, 30 or 30%)",
        )?,
        None => 0.0,
    };
    let what_if = match given(&request.agents) {
        Some(raw) => Some(ranged(
            "agents",
            raw,
            |v| v.fract() == 0.0 && (0.0..=crate::MAX_AGENTS as f64).contains(&v),
            "a whole number of agents from 0 to 1,000,000",
        )? as u64),
        None => None,
    };
    let inputs = Inputs {
        calls_per_interval: calls,
        interval_minutes: interval,
        aht_seconds: aht,
        threshold_seconds: threshold,
        target,
        max_occupancy,
        shrinkage,
    };
    let staffing = required(&inputs)?;
    Ok(Answer {
        staffing,
        calls_per_interval: calls,
        interval_minutes: interval,
        aht_seconds: aht,
        threshold_seconds: threshold,
        target,
        max_occupancy,
        shrinkage,
        sources: Sources {
            arrivals,
            handle_time,
        },
        with_agents: what_if.map(|n| performance(n, staffing.intensity_erlangs, aht, threshold)),
    })
}
