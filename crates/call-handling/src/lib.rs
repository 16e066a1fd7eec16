//! The call-parking functions as machines of the effects protocol (`crates/effects`,
//! docs/effects.md): each function's shim reads its input, starts its machine here, and the one
//! executor (`functions/common/effects`) performs the Twilio operations the machine asks for until
//! it answers. The rules themselves are in `crates/parking` (plans, records, TwiML, whose call it
//! is) and `crates/call-status` (the exactly-once wrap-up); this crate puts them in order and
//! decides what each Twilio answer means for the request.
//!
//! | function | machine | operations, in order |
//! |---|---|---|
//! | `park-call` | [`park`] | task, the task's reservations for the worker and the call's `Global.ParkedCalls` entry (at once); the call update; the two entries (create, or update); the call again; the wrap-up if it ended meanwhile |
//! | `pickup-parked-call` | [`pickup`] | the entry; the pickup item (large pickups); the mark (`If-Match`); the call update; the unmark (refused update) or the wrap-up (21220); the two deletes |
//! | `pickup-twiml` | [`pickup_twiml`] | the `ParkedCalls.Pickups` item |
//! | `worker-capacity` | [`capacity`] | the worker channel update |
//! | `call-status-handler` | [`call_status`] | the wrap-up of `crates/call-status` |
//!
//! Every machine's state is a [`Machine`]; [`resume`] continues any of them.
//!
//! **What a failure means here.** A read that answers 404 is "there is none" (no task, no
//! entry); a delete that answers 404 is done. Any other failure of a step that decides is
//! answered as [`effects::Failure::answer`] says (Twilio's 4xx passes through, 429/5xx/no answer
//! is 502, our deadline 504), naming the step. The exceptions are the documented ones: pickup's
//! call update refused with 21220 (the caller hung up: wrap up, 410), a refused (not ambiguous)
//! pickup update (the mark is taken back), a failed unlisting after a pickup (a warning), and the
//! re-read of the call after parking (a failure is taken as "still in progress").
//!
//! No function panics on any input; time (`now_ms`) and tokens are inputs.

mod capacity;
mod park;
mod pickup;
mod pickup_twiml;

#[cfg(target_arch = "wasm32")]
mod wasm;

use effects::{first, Answer, Outcome, Step};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use call_status::Env;
pub use capacity::{capacity, Capacity, CAPACITY_ANSWER_FIELDS};
pub use park::{park, Park, PARK_RESERVATIONS_LIMIT};
pub use pickup::{pickup, Pickup, CALL_NOT_IN_PROGRESS};
pub use pickup_twiml::{pickup_twiml, PickupTwiml};

/// The state of any machine of this crate, as the executor carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "machine", content = "state", rename_all = "camelCase")]
pub enum Machine {
    Park(Box<Park>),
    Pickup(Box<Pickup>),
    PickupTwiml(PickupTwiml),
    Capacity(Capacity),
    WrapUp(Box<call_status::State>),
}

/// Continues `machine` with the outcomes of the effects it asked for (in their order).
pub fn resume(machine: Machine, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
    match machine {
        Machine::Park(m) => park::resume(*m, outcomes, now_ms),
        Machine::Pickup(m) => pickup::resume(*m, outcomes, now_ms),
        Machine::PickupTwiml(m) => pickup_twiml::resume(m, first(outcomes)),
        Machine::Capacity(m) => capacity::resume(m, first(outcomes)),
        Machine::WrapUp(m) => {
            call_status::resume(*m, first(outcomes), now_ms).map(|s| Machine::WrapUp(Box::new(s)))
        }
    }
}

/// `call-status-handler`: the wrap-up of a parked call whose status callback came
/// (`crates/call-status`).
pub fn call_status(
    callback: &call_status::Callback,
    token: &str,
    env: &Env,
    now_ms: f64,
) -> Result<Step<Machine>, call_status::CallStatusError> {
    call_status::start(callback, token, env, now_ms)
        .map(|step| step.map(|s| Machine::WrapUp(Box::new(s))))
}

/// The answer when the executor hands back a state that is not one of ours (it never should).
pub fn unreadable_state(problem: &str) -> Answer {
    Answer::json(
        500,
        json!({ "error": format!("The request's state could not be read ({problem}); nothing further was done") }),
    )
}

/// A required setting from `env`, or the configuration error naming it.
pub(crate) fn setting(
    value: &Option<String>,
    name: &'static str,
) -> Result<String, parking::ParkingError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            parking::ParkingError::InvalidConfig(values::env::EnvError::new(
                name,
                "",
                "is not set (see .env.example)",
            ))
        })
}

/// A Sync item as Twilio answered it (`{data, revision, …}`), as the parking rules read it.
pub(crate) fn stored_item(item: &Value) -> parking::StoredItem {
    let revision = match item.get("revision") {
        Some(Value::String(r)) => r.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    parking::StoredItem {
        data: item.get("data").cloned().unwrap_or(Value::Null),
        revision,
    }
}

/// A wrap-up embedded in another machine: its step with the state put back into `wrap`, or,
/// when it answered, `done` of its answer.
pub(crate) fn embed<S>(
    step: Step<call_status::State>,
    wrap: impl FnOnce(call_status::State) -> S,
    done: impl FnOnce(Answer) -> Step<S>,
) -> Step<S> {
    match step {
        Step::Run { state, effects } => Step::Run {
            state: wrap(state),
            effects,
        },
        Step::Answer(a) => done(a),
    }
}

#[cfg(test)]
mod tests;
