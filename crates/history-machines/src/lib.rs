//! Queue history's and staffing's Twilio requests as machines of the effects protocol
//! (docs/effects.md): the crates `history` and `staffing` hold the rules; this crate orders the
//! reads they need and reads their outcomes, and `functions/common/effects` performs them.
//!
//! - [`range`]: a key range of a Sync map, one page per step (the stored hours).
//! - [`measured`]: the measured handle times staffing uses (last 7 days of stored hours), and how
//!   long a container may remember them.
//! - [`staffing`]: `/staffing` (one queue, or a batch): the arrivals from TaskRouter's statistics
//!   and the measured handle times, then `crates/staffing`'s answer.
//! - [`close`]: closing queue history's hours (claim, check, fetch, write, prune), the engine of:
//! - [`backfill`]: `GET /queue-history` (the stored range, the backfill of pending hours) and the
//!   scripts' closing of given hours;
//! - [`hook`]: the event callback's hook, which closes the last hour a few queues per event.
//!
//! A machine answers a [`Turn`]: the step, and what the container may remember for the next
//! request (the measured handle times), which the wasm face keeps.

pub mod backfill;
pub mod close;
pub mod hook;
pub mod measured;
pub mod range;
pub mod staffing;

#[cfg(target_arch = "wasm32")]
mod wasm;

use effects::{Answer, Op, Outcome, Step};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use measured::Measured;

/// Every setting queue history's and staffing's machines read (`history`'s config, the shared
/// `QUEUE_STATS_*` of `queue-settings`, the hook's switch, the workspace and Flex's Sync service):
/// the functions hand them these and nothing else (never a secret); a unit test checks the
/// sources against this list.
pub const SETTINGS: &[&str] = &[
    "QUEUE_HISTORY_ENABLED",
    "QUEUE_HISTORY_SHORT_ABANDON",
    "QUEUE_HISTORY_RETENTION_DAYS",
    "QUEUE_HISTORY_OFFLINE_ACTIVITIES",
    "QUEUE_HISTORY_AVAILABLE_ACTIVITIES",
    "QUEUE_STATS_TIME_ZONE",
    "QUEUE_STATS_CHANNELS",
    "QUEUE_STATS_SLA_THRESHOLDS",
    "WORKSPACE_SID",
    "TWILIO_FLEX_WORKSPACE_SID",
    "TWILIO_FLEX_SYNC_SID",
];

/// The state of any machine of this crate (what the executor carries back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "machine", rename_all = "camelCase")]
pub enum Machine {
    Staffing(staffing::Single),
    StaffingBatch(staffing::Batch),
    Series(Box<backfill::Series>),
    Close(Box<backfill::Close>),
    Hook(Box<hook::Hook>),
}

/// A machine's step, and what the container may remember after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub step: Step<Machine>,
    pub remember: Option<Measured>,
}

impl Turn {
    pub fn run(machine: Machine, ops: Vec<Op>) -> Turn {
        Turn {
            step: Step::all(machine, ops),
            remember: None,
        }
    }

    pub fn answer(answer: Answer) -> Turn {
        Turn {
            step: Step::answer(answer),
            remember: None,
        }
    }

    pub fn remember(mut self, measured: Option<Measured>) -> Turn {
        self.remember = measured;
        self
    }
}

/// What a container's concurrent requests know of each other (the wasm module instance keeps
/// it, per owner: a script may play several containers in one process): the hours a backfill of
/// the container is closing or has just stored, `hour → (run, until ms)`. Another request of the
/// container leaves those hours instead of racing for their claim; an entry lapses with the
/// claim's lease (a failed hour's at once), whatever became of its request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Local {
    pub closing:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, (String, f64)>>,
}

impl Local {
    /// Forgets the entries whose lease ended.
    pub fn lapse(&mut self, now_ms: f64) {
        for hours in self.closing.values_mut() {
            hours.retain(|_, (_, until)| *until > now_ms);
        }
        self.closing.retain(|_, hours| !hours.is_empty());
    }

    /// The hours of `owner`'s requests.
    pub fn of(&mut self, owner: &str) -> &mut std::collections::BTreeMap<String, (String, f64)> {
        self.closing.entry(owner.to_string()).or_default()
    }

    /// Whether another request of `owner` is closing (or just stored) `hour` at `now_ms`.
    pub fn held(&self, owner: &str, hour: &str, run: &str, now_ms: f64) -> bool {
        self.closing
            .get(owner)
            .and_then(|hours| hours.get(hour))
            .is_some_and(|(r, until)| r != run && *until > now_ms)
    }
}

/// The next step of `machine` given the outcomes of its last batch.
pub fn resume(machine: Machine, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
    resume_with(machine, outcomes, now_ms, &mut Local::default())
}

/// [`resume`] with the container's [`Local`] knowledge.
pub fn resume_with(
    machine: Machine,
    outcomes: Vec<Outcome>,
    now_ms: f64,
    local: &mut Local,
) -> Turn {
    match machine {
        Machine::Staffing(s) => s.resume(outcomes),
        Machine::StaffingBatch(b) => b.resume(outcomes),
        Machine::Series(s) => s.resume(outcomes, now_ms, local),
        Machine::Close(c) => c.resume(outcomes, now_ms),
        Machine::Hook(h) => h.resume(outcomes, now_ms),
    }
}

/// The answer for a state or outcomes the machine cannot read (never thrown).
pub fn unreadable() -> Answer {
    Answer::json(
        500,
        json!({"error": "the executor handed back a state or outcomes this machine did not write"}),
    )
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod history_tests;
