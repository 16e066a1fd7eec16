//! park-call: whose call it is, the call update, the two entries, and the wrap-up of a caller
//! who hung up while being parked (docs/call-parking.md).

use call_status::{is_terminal, Callback};
use effects::{first, Answer, Failure, Op, Outcome, Progress, Step, Upsert};
use parking::ownership::{self, ParkFacts, ReservationView, TaskView};
use parking::{ParkPlan, ParkRequest, ParkingError, Settings};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{embed, setting, stored_item, Env, Machine};

/// How many of the task's reservations for the worker park reads (TaskRouter keeps one per
/// worker and task; more would be a surprise, not a reason to page on).
pub const PARK_RESERVATIONS_LIMIT: u32 = 50;

/// Where a park is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    Reads,
    UpdateCall,
    Write,
    Recheck,
    WrapUp,
}

/// A park in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Park {
    pub request: ParkRequest,
    pub plan: ParkPlan,
    pub token: String,
    pub workspace_sid: String,
    pub sync_service_sid: String,
    pub stage: Stage,
    /// The entries of `plan.sync` written so far.
    pub written: usize,
    pub upsert: Option<Upsert>,
    pub wrap: Option<call_status::State>,
}

fn wrapped(park: Park) -> Machine {
    Machine::Park(Box::new(park))
}

/// Starts park-call for `request`: checks it (400 naming a parameter, 500 naming a setting) and
/// asks for the three reads that say whose call it is. `token` is unique to the request (the
/// wrap-up's claim, should the caller hang up meanwhile).
pub fn park(
    request: &ParkRequest,
    env: &Env,
    settings: &Settings,
    token: &str,
    now_ms: f64,
) -> Result<Step<Machine>, ParkingError> {
    let sync_service_sid = setting(&env.sync_service_sid, "SYNC_SERVICE_SID")?;
    let workspace_sid = setting(&env.workspace_sid, "WORKSPACE_SID")?;
    let plan = parking::park(request, settings, now_ms)?;
    let reads = ownership::reads(request)?;
    let ops = vec![
        Op::FetchTask {
            workspace_sid: workspace_sid.clone(),
            task_sid: reads.task_sid.clone(),
        },
        Op::ListTaskReservations {
            workspace_sid: workspace_sid.clone(),
            task_sid: reads.task_sid,
            worker_sid: Some(reads.worker_sid),
            limit: PARK_RESERVATIONS_LIMIT,
        },
        Op::FetchSyncItem {
            service_sid: sync_service_sid.clone(),
            map: reads.map,
            key: reads.key,
        },
    ];
    let state = Park {
        request: request.clone(),
        plan,
        token: token.to_string(),
        workspace_sid,
        sync_service_sid,
        stage: Stage::Reads,
        written: 0,
        upsert: None,
        wrap: None,
    };
    Ok(Step::all(wrapped(state), ops))
}

pub(crate) fn resume(park: Park, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
    match park.stage {
        Stage::Reads => after_reads(park, outcomes),
        Stage::UpdateCall => after_update(park, first(outcomes)),
        Stage::Write => after_write(park, first(outcomes)),
        Stage::Recheck => after_recheck(park, first(outcomes), now_ms),
        Stage::WrapUp => {
            let mut park = park;
            let Some(wrap) = park.wrap.take() else {
                return Step::answer(crate::unreadable_state("the wrap-up is missing"));
            };
            let step = call_status::resume(wrap, first(outcomes), now_ms);
            wrapping(park, step)
        }
    }
}

fn after_reads(park: Park, outcomes: Vec<Outcome>) -> Step<Machine> {
    // One outcome per read, in the order asked; a missing one counts as ambiguous.
    let mut outcomes = outcomes.into_iter();
    let mut next = || {
        outcomes
            .next()
            .unwrap_or_else(|| Outcome::Failed(Failure::missing()))
    };
    let (task_read, reservations_read, entry_read) = (next(), next(), next());
    let whose = || {
        let task = park.request.task_sid.as_deref().unwrap_or("");
        let worker = park.request.worker_sid.as_deref().unwrap_or("");
        format!("Checking that task {task} is worker {worker}'s")
    };
    let task = match task_read.found() {
        Ok(task) => task.map(|t| serde_json::from_value::<TaskView>(t).unwrap_or_default()),
        Err(f) => return Step::answer(f.answer(&whose())),
    };
    let reservations = match reservations_read.found() {
        Ok(list) => list
            .and_then(|l| l.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| serde_json::from_value::<ReservationView>(r).ok())
            .collect(),
        Err(f) => return Step::answer(f.answer(&whose())),
    };
    let entry = match entry_read.found() {
        Ok(entry) => entry.as_ref().map(stored_item),
        Err(f) => {
            let what = format!("Reading the parked-call entry of {}", park.plan.call_sid);
            return Step::answer(f.answer(&what));
        }
    };
    let facts = ParkFacts {
        task,
        reservations,
        entry,
    };
    if let Err(e) = ownership::check(&park.request, &facts) {
        return Step::answer(Answer::error(&e));
    }
    let op = Op::UpdateCall {
        call_sid: park.plan.call_sid.clone(),
        twiml: Some(park.plan.twiml.clone()),
        url: None,
        method: None,
        status_callback: Some(park.plan.status_callback.clone()),
        status_callback_method: Some("POST".into()),
        status: None,
    };
    Step::one(
        wrapped(Park {
            stage: Stage::UpdateCall,
            ..park
        }),
        op,
    )
}

fn after_update(park: Park, outcome: Outcome) -> Step<Machine> {
    if let Err(f) = outcome.into_result() {
        let what = format!("Parking call {}: the call update", park.plan.call_sid);
        return Step::answer(f.answer(&what));
    }
    write_next(park)
}

/// Writes the next entry of the plan, or re-reads the call once all are written.
fn write_next(mut park: Park) -> Step<Machine> {
    let Some(entry) = park.plan.sync.get(park.written) else {
        let op = Op::FetchCall {
            call_sid: park.plan.call_sid.clone(),
        };
        park.stage = Stage::Recheck;
        return Step::one(wrapped(park), op);
    };
    let upsert = Upsert::new(
        &park.sync_service_sid,
        &entry.map,
        &entry.key,
        entry.data.clone(),
        Some(entry.ttl),
    );
    let op = upsert.op();
    park.upsert = Some(upsert);
    park.stage = Stage::Write;
    Step::one(wrapped(park), op)
}

fn after_write(mut park: Park, outcome: Outcome) -> Step<Machine> {
    let Some(upsert) = park.upsert.take() else {
        return Step::answer(crate::unreadable_state("the entry's write is missing"));
    };
    let map = upsert.map.clone();
    match upsert.resume(outcome) {
        Progress::Next(upsert) => {
            let op = upsert.op();
            park.upsert = Some(upsert);
            Step::one(wrapped(park), op)
        }
        Progress::Done(Ok(_)) => {
            park.written += 1;
            write_next(park)
        }
        Progress::Done(Err(f)) => {
            let what = format!(
                "Call {} is on hold, but listing it in Sync map {map}",
                park.plan.call_sid
            );
            Step::answer(f.answer(&what))
        }
    }
}

fn parked(park: &Park) -> Value {
    json!({"success": true, "callSid": park.plan.call_sid, "parkedCall": park.plan.record})
}

/// The call read again: if it has ended (the caller hung up between the call update and the
/// entries, so its status callback found nothing), the wrap-up runs here. A failed read is taken
/// as "still in progress": the call is parked and its callback will come.
fn after_recheck(park: Park, outcome: Outcome, now_ms: f64) -> Step<Machine> {
    let status = match outcome {
        Outcome::Done(call) => call
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string),
        Outcome::Failed(_) => None,
    };
    let Some(status) = status.filter(|s| is_terminal(s)) else {
        return Step::answer(Answer::json(200, parked(&park)));
    };
    let callback = Callback {
        call_sid: Some(park.plan.call_sid.clone()),
        call_status: Some(status),
        sequence_number: None,
        timestamp: None,
    };
    let env = Env {
        workspace_sid: Some(park.workspace_sid.clone()),
        sync_service_sid: Some(park.sync_service_sid.clone()),
    };
    match call_status::start(&callback, &park.token, &env, now_ms) {
        Ok(step) => wrapping(park, step),
        Err(e) => Step::answer(Answer::error(&e)),
    }
}

fn wrapping(park: Park, step: Step<call_status::State>) -> Step<Machine> {
    let body = parked(&park);
    embed(
        step,
        |wrap| {
            wrapped(Park {
                stage: Stage::WrapUp,
                wrap: Some(wrap),
                ..park
            })
        },
        |answer| {
            let done =
                Answer::json(200, body).with(json!({"callEnded": true, "wrapUp": answer.body}));
            Step::answer(done)
        },
    )
}
