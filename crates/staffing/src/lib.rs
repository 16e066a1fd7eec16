//! Staffing for a service-level target with the Erlang C model.
//!
//! # The model
//!
//! Contacts arrive at random (a Poisson process) at `λ = calls / interval`, each holds an agent for
//! an average handle time `AHT` (exponentially distributed), and a contact that finds every agent
//! busy waits in an infinite queue, **never abandoning**. The offered load is the **traffic
//! intensity** `A = λ · AHT` in Erlangs: the number of agents kept busy on average. With `N`
//! agents and `N > A`:
//!
//! ```text
//! Erlang B     B(0) = 1,   B(n) = A·B(n−1) / (n + A·B(n−1))          (blocking, computed by recursion)
//! Erlang C     P(wait) = C(N, A) = N·B(N) / (N − A·(1 − B(N)))       (probability a contact waits)
//! service level    SL(t) = 1 − C · exp(−(N − A) · t / AHT)              (share answered within t)
//! ASA              C · AHT / (N − A)                                  (average speed of answer)
//! occupancy        A / N
//! ```
//!
//! The textbook formula `C = (A^N/N!)·N/(N−A) / (Σ A^k/k! + …)` overflows `f64` near `N = 170`;
//! the Erlang B recursion above never forms a power or a factorial, stays in `[0, 1]`, and costs
//! one multiply-add per agent, so thousands of agents are answered exactly and fast ([`erlang_c`]).
//!
//! With `N ≤ A` the queue grows without bound: there is no steady state, so [`performance`] says
//! "not enough agents" (`enough_agents: false`, every contact waits, no finite ASA) instead of a
//! negative wait.
//!
//! # Agents needed
//!
//! [`required`] finds the smallest `N > A` whose service level at the threshold reaches the target,
//! then raises it, if needed, until the occupancy `A / N` is at most the maximum occupancy (when one
//! is given), and finally divides by `1 − shrinkage` (breaks, training, absence) for the
//! **scheduled** agents, rounding up. The reported service level, probability of waiting, ASA and
//! occupancy are those of the agents on the phones (`agents`, not `scheduled_agents`).
//!
//! Because Erlang C assumes nobody hangs up, real queues (where some callers abandon, which
//! shortens the wait of the others) do a little better than it predicts: its figure errs on the
//! side of more agents.
//!
//! # Requests
//!
//! [`Request`] holds the parameters as the HTTP function receives them (text); [`answer`] parses
//! and validates them ([`StaffingError`] names the bad parameter) and computes the [`Answer`].
//! A target, maximum occupancy or shrinkage may be a fraction (`0.8`) or a percentage (`80`,
//! `80%`): a number above 1 or ending in `%` is read as a percentage.
//!
//! ```
//! use staffing::{required, Inputs};
//! let s = required(&Inputs { calls_per_interval: 100.0, interval_minutes: 30.0, aht_seconds: 180.0,
//!     threshold_seconds: 20.0, target: 0.8, max_occupancy: None, shrinkage: 0.3 }).unwrap();
//! assert_eq!((s.agents, s.scheduled_agents), (14, 20));
//! ```

mod batch;
mod request;

#[cfg(target_arch = "wasm32")]
mod wasm;

use serde::Serialize;
use thiserror::Error;
use wasm_face::FaceError;

pub use batch::{
    answer_batch, plan as batch_plan, BatchAnswer, BatchError, BatchInput, BatchPlan,
    ChannelArrivals, Observed, QueueResult, StatisticsRead, ARRIVALS_WINDOW_MINUTES,
    MAX_BATCH_QUEUES, STATISTICS_PAGE_SIZE,
};
pub use request::{answer, Answer, Request, Sources};

/// The most agents [`required`] will consider: beyond it the answer is an error, not a figure.
pub const MAX_AGENTS: u64 = 1_000_000;

/// What staffing is computed from (already validated; see [`Request`] for the text form). The
/// answer of `/staffing` carries them as read ([`Answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inputs {
    /// Contacts arriving per interval.
    pub calls_per_interval: f64,
    /// The interval's length in minutes.
    pub interval_minutes: f64,
    /// Average handle time (talk + hold + wrap-up) in seconds.
    pub aht_seconds: f64,
    /// The service-level threshold: answered within this many seconds.
    pub threshold_seconds: f64,
    /// The share to answer within the threshold, a fraction in (0, 1).
    pub target: f64,
    /// The highest acceptable occupancy `A / N`, a fraction in (0, 1], if any.
    pub max_occupancy: Option<f64>,
    /// The share of scheduled agents not on the phones, a fraction in [0, 1).
    pub shrinkage: f64,
}

/// How a number of agents performs against a load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    pub agents: u64,
    /// `false` when `agents ≤ A`: the queue grows without bound.
    pub enough_agents: bool,
    /// Share answered within the threshold (0 without enough agents).
    pub service_level: f64,
    /// Probability that a contact waits at all (1 without enough agents).
    pub probability_of_waiting: f64,
    /// Average speed of answer in seconds; `None` (no finite wait) without enough agents.
    pub asa_seconds: Option<f64>,
    /// `A / N`, at most 1.
    pub occupancy: f64,
}

/// The staffing answer for a target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Staffing {
    pub intensity_erlangs: f64,
    /// Agents needed on the phones.
    pub agents: u64,
    /// Agents to schedule so that `agents` remain after shrinkage.
    pub scheduled_agents: u64,
    pub service_level: f64,
    pub probability_of_waiting: f64,
    pub asa_seconds: f64,
    pub occupancy: f64,
}

/// Why a request cannot be answered; every variant names the parameter at fault.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StaffingError {
    #[error("missing required parameter: {parameter} ({hint})")]
    Missing {
        parameter: &'static str,
        hint: &'static str,
    },
    #[error("{parameter} {value:?} is not a number")]
    NotANumber {
        parameter: &'static str,
        value: String,
    },
    #[error("{parameter} {value:?} is out of range: expected {expected}")]
    OutOfRange {
        parameter: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "the traffic ({intensity:.1} Erlangs) needs more than {MAX_AGENTS} agents; check \
         callsPerInterval, intervalMinutes and ahtSeconds"
    )]
    TooMuchTraffic { intensity: f64 },
    #[error("queueSid {0:?} is not a TaskQueue SID (WQ followed by 32 hex digits)")]
    NotAQueueSid(String),
}

impl FaceError for StaffingError {
    fn code(&self) -> &'static str {
        match self {
            StaffingError::Missing { .. } => "missing_parameter",
            StaffingError::NotANumber { .. } => "not_a_number",
            StaffingError::OutOfRange { .. } => "out_of_range",
            StaffingError::TooMuchTraffic { .. } => "too_much_traffic",
            StaffingError::NotAQueueSid(_) => "invalid_parameter",
        }
    }

    fn status(&self) -> u16 {
        400
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            StaffingError::Missing { parameter, .. }
            | StaffingError::NotANumber { parameter, .. }
            | StaffingError::OutOfRange { parameter, .. } => Some(parameter),
            StaffingError::TooMuchTraffic { .. } => Some("callsPerInterval"),
            StaffingError::NotAQueueSid(_) => Some("queueSid"),
        }
    }
}

/// The TaskQueue whose observed arrivals and measured handle time to use (`queueSid`), checked
/// before the function asks TaskRouter about it.
pub fn queue_sid(value: &str) -> Result<String, StaffingError> {
    let value = value.trim();
    if values::sid::is_sid(value, "WQ") {
        Ok(value.to_string())
    } else {
        Err(StaffingError::NotAQueueSid(value.to_string()))
    }
}

/// Traffic intensity in Erlangs: arrivals per second × handle time in seconds.
pub fn intensity(calls_per_interval: f64, interval_minutes: f64, aht_seconds: f64) -> f64 {
    calls_per_interval / (interval_minutes * 60.0) * aht_seconds
}

/// Erlang B for `n` agents, by the recursion `B(n) = A·B(n−1) / (n + A·B(n−1))`, `B(0) = 1`.
pub fn erlang_b(agents: u64, a: f64) -> f64 {
    (1..=agents).fold(1.0, |b, n| next_b(b, n, a))
}

fn next_b(b: f64, n: u64, a: f64) -> f64 {
    let ab = a * b;
    ab / (n as f64 + ab)
}

/// Erlang C from Erlang B: the probability of waiting, `None` when `agents ≤ a` (no steady state).
pub fn erlang_c_from_b(agents: u64, a: f64, b: f64) -> Option<f64> {
    let n = agents as f64;
    if n <= a {
        return None;
    }
    Some((n * b / (n - a * (1.0 - b))).clamp(0.0, 1.0))
}

/// Erlang C: the probability that a contact waits, `None` when `agents ≤ a`.
pub fn erlang_c(agents: u64, a: f64) -> Option<f64> {
    erlang_c_from_b(agents, a, erlang_b(agents, a))
}

fn perform(agents: u64, a: f64, b: f64, aht_seconds: f64, threshold_seconds: f64) -> Performance {
    let n = agents as f64;
    match erlang_c_from_b(agents, a, b) {
        Some(c) => Performance {
            agents,
            enough_agents: true,
            service_level: (1.0 - c * (-(n - a) * threshold_seconds / aht_seconds).exp())
                .clamp(0.0, 1.0),
            probability_of_waiting: c,
            asa_seconds: Some(c * aht_seconds / (n - a)),
            occupancy: if n > 0.0 { a / n } else { 0.0 },
        },
        None => Performance {
            agents,
            enough_agents: a == 0.0,
            service_level: if a == 0.0 { 1.0 } else { 0.0 },
            probability_of_waiting: if a == 0.0 { 0.0 } else { 1.0 },
            asa_seconds: if a == 0.0 { Some(0.0) } else { None },
            occupancy: if n > 0.0 { (a / n).min(1.0) } else { 0.0 },
        },
    }
}

/// How `agents` agents perform against `a` Erlangs (see the crate docs for `agents ≤ a`).
pub fn performance(agents: u64, a: f64, aht_seconds: f64, threshold_seconds: f64) -> Performance {
    perform(
        agents,
        a,
        erlang_b(agents, a),
        aht_seconds,
        threshold_seconds,
    )
}

/// `x` rounded up, forgiving the last bits of floating-point noise (14 / 0.7 is 20, not 21).
fn ceil_clean(x: f64) -> f64 {
    (x * (1.0 - 1e-12)).ceil()
}

/// The agents needed for `inputs`' target (see the crate docs).
pub fn required(inputs: &Inputs) -> Result<Staffing, StaffingError> {
    let a = intensity(
        inputs.calls_per_interval,
        inputs.interval_minutes,
        inputs.aht_seconds,
    );
    let too_much = || StaffingError::TooMuchTraffic { intensity: a };
    if !a.is_finite() || a >= MAX_AGENTS as f64 {
        return Err(too_much());
    }
    let floor = match inputs.max_occupancy {
        Some(max) => ceil_clean(a / max),
        None => 0.0,
    };
    if floor > MAX_AGENTS as f64 {
        return Err(too_much());
    }
    let floor = floor as u64;
    // Walk up from 0 with the recursion; the first N > A meeting the target (and the occupancy
    // floor) is the answer. Each step is one multiply-add, so even 10^6 agents take milliseconds.
    let mut b = 1.0;
    let mut found = None;
    for n in 0..=MAX_AGENTS {
        if n > 0 {
            b = next_b(b, n, a);
        }
        if n < floor {
            continue;
        }
        let p = perform(n, a, b, inputs.aht_seconds, inputs.threshold_seconds);
        if p.enough_agents && p.service_level >= inputs.target {
            found = Some(p);
            break;
        }
    }
    let p = found.ok_or_else(too_much)?;
    let scheduled = ceil_clean(p.agents as f64 / (1.0 - inputs.shrinkage));
    Ok(Staffing {
        intensity_erlangs: a,
        agents: p.agents,
        scheduled_agents: scheduled as u64,
        service_level: p.service_level,
        probability_of_waiting: p.probability_of_waiting,
        asa_seconds: p.asa_seconds.unwrap_or(0.0),
        occupancy: p.occupancy,
    })
}

#[cfg(test)]
mod tests;
