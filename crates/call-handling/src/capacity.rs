//! worker-capacity: a worker channel's capacity.

use effects::{Answer, Op, Outcome, Step};
use parking::{CapacityRequest, ParkingError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{setting, Env, Machine};

/// The fields of the worker channel the answer carries.
pub const CAPACITY_ANSWER_FIELDS: [&str; 4] = [
    "sid",
    "configuredCapacity",
    "dateUpdated",
    "taskChannelUniqueName",
];

/// A capacity update waiting for TaskRouter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    pub worker_sid: String,
    pub worker_channel_sid: String,
}

/// Checks the request (400 naming a parameter) and asks for the channel update.
pub fn capacity(request: &CapacityRequest, env: &Env) -> Result<Step<Machine>, ParkingError> {
    let workspace_sid = setting(&env.workspace_sid, "WORKSPACE_SID")?;
    let plan = parking::capacity(request)?;
    let op = Op::UpdateWorkerChannel {
        workspace_sid,
        worker_sid: plan.worker_sid.clone(),
        worker_channel_sid: plan.worker_channel_sid.clone(),
        capacity: Some(plan.capacity),
        available: None,
    };
    let state = Capacity {
        worker_sid: plan.worker_sid,
        worker_channel_sid: plan.worker_channel_sid,
    };
    Ok(Step::one(Machine::Capacity(state), op))
}

pub(crate) fn resume(m: Capacity, outcome: Outcome) -> Step<Machine> {
    match outcome.into_result() {
        Ok(channel) => {
            let body: Map<String, Value> = CAPACITY_ANSWER_FIELDS
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        channel.get(*k).cloned().unwrap_or(Value::Null),
                    )
                })
                .collect();
            Step::answer(Answer::json(200, Value::Object(body)))
        }
        Err(f) => {
            let what = format!(
                "Updating worker channel {} of {}",
                m.worker_channel_sid, m.worker_sid
            );
            Step::answer(f.answer(&what))
        }
    }
}
