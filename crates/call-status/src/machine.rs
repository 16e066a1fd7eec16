//! The wrap-up as a machine of the effects protocol (`crates/effects`): [`start`] gives the first
//! [`Step`], the executor performs its operation and hands the [`Outcome`] to [`resume`], which
//! gives the next, until an answer. Everything needed to continue lives in [`State`] (plain
//! JSON the executor carries back).

use effects::{Answer, Op, Outcome, Progress, Step, Upsert};
use parking::{
    hangup_task_attributes, hold_time, iso_date, marker, worker_map, Holder, Marker, ParkedCall,
    CLAIM_FIELD, GLOBAL_MAP, PICKUP_FIELD,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::CallStatusError;
use values::env::EnvError;

/// How long the worker's entry stays after a hang-up, in seconds (the plugin's notice).
pub const HANGUP_ENTRY_TTL: u32 = 120;
/// The wrap-up task's priority.
pub const WRAP_UP_PRIORITY: u32 = 1000;
/// The wrap-up task's channel.
pub const TASK_CHANNEL: &str = "voice";
/// Re-reads of the entry after losing a race for it, before answering 503.
pub const MAX_ROUNDS: u32 = 5;
/// Task creations attempted in one request (a second only after looking up the first).
pub const MAX_CREATES: u32 = 2;
/// How many tasks a look-up for the wrap-up task lists (there is one, or none).
pub const FIND_LIMIT: u32 = 20;

/// The statuses of a call that has ended.
pub const TERMINAL_STATUSES: [&str; 5] = ["completed", "busy", "failed", "no-answer", "canceled"];
/// The statuses of a call that has not ended.
pub const NON_TERMINAL_STATUSES: [&str; 4] = ["queued", "initiated", "ringing", "in-progress"];

/// Whether a call in `status` has ended.
pub fn is_terminal(status: &str) -> bool {
    TERMINAL_STATUSES.contains(&status)
}

/// The machine's name for a step: `Step` over the wrap-up [`State`].
pub type Next = Step<State>;

/// The callback's parameters, named as Twilio posts them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Callback {
    pub call_sid: Option<String>,
    pub call_status: Option<String>,
    pub sequence_number: Option<String>,
    pub timestamp: Option<String>,
}

/// The service's settings the wrap-up needs (`WORKSPACE_SID`, `SYNC_SERVICE_SID`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    #[serde(default)]
    pub workspace_sid: Option<String>,
    #[serde(default)]
    pub sync_service_sid: Option<String>,
}

/// Where a wrap-up is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    Fetch,
    Claim,
    FindTask,
    CreateTask,
    WorkerEntry,
    RemoveGlobal,
    CleanWorker,
    CleanGlobal,
    Release,
}

/// Everything a wrap-up in progress knows; the executor carries it between steps unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub call_sid: String,
    pub call_status: String,
    pub sequence_number: Option<u64>,
    pub timestamp: Option<String>,
    /// This request's unique token (the shim draws it).
    pub token: String,
    pub workspace_sid: String,
    pub sync_service_sid: String,
    /// When this request began (RFC 3339): the hang-up time it records.
    pub started_at: String,
    /// Seconds the call was parked, once the record is read.
    pub hold_time: i64,
    pub stage: Stage,
    pub rounds: u32,
    pub creates: u32,
    /// Look for an existing wrap-up task before creating one.
    pub look_first: bool,
    /// The record as park wrote it (no markers), once read.
    pub record: Option<Map<String, Value>>,
    /// The entry's revision after our claim.
    pub claim_revision: Option<String>,
    pub task_sid: Option<String>,
    /// The worker entry's write, while it is under way.
    pub upsert: Option<Upsert>,
    /// The answer to give once a release has been attempted.
    pub pending: Option<Answer>,
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn answer(status: u16, body: Value) -> Next {
    Step::answer(Answer::json(status, body))
}

fn ignored(reason: &str, message: String) -> Next {
    answer(
        200,
        json!({"handled": false, "reason": reason, "message": message}),
    )
}

fn setting(value: &Option<String>, name: &'static str) -> Result<String, CallStatusError> {
    text(value)
        .map(str::to_string)
        .ok_or_else(|| EnvError::new(name, "", "is not set").into())
}

/// Checks a callback and gives the first step. `token` is unique to this request.
pub fn start(
    callback: &Callback,
    token: &str,
    env: &Env,
    now_ms: f64,
) -> Result<Next, CallStatusError> {
    let call_sid = text(&callback.call_sid).ok_or(CallStatusError::MissingParameter("CallSid"))?;
    if !values::sid::is_sid(call_sid, "CA") {
        return Err(CallStatusError::InvalidParameter {
            name: "CallSid",
            problem: format!(
                "{call_sid:?} is not a call SID (CA followed by 32 hexadecimal digits)"
            ),
        });
    }
    let status =
        text(&callback.call_status).ok_or(CallStatusError::MissingParameter("CallStatus"))?;
    if !is_terminal(status) && !NON_TERMINAL_STATUSES.contains(&status) {
        return Err(CallStatusError::InvalidParameter {
            name: "CallStatus",
            problem: format!("{status:?} is not a call status"),
        });
    }
    let sequence_number = match text(&callback.sequence_number) {
        None => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| CallStatusError::InvalidParameter {
                    name: "SequenceNumber",
                    problem: format!("{s:?} is not a whole number"),
                })?,
        ),
    };
    let started_at =
        iso_date(now_ms).ok_or_else(|| CallStatusError::InvalidNow(now_ms.to_string()))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(CallStatusError::MissingToken);
    }
    let workspace_sid = setting(&env.workspace_sid, "WORKSPACE_SID")?;
    let sync_service_sid = setting(&env.sync_service_sid, "SYNC_SERVICE_SID")?;
    let state = State {
        call_sid: call_sid.to_string(),
        call_status: status.to_string(),
        sequence_number,
        timestamp: text(&callback.timestamp).map(str::to_string),
        token: token.to_string(),
        workspace_sid,
        sync_service_sid,
        started_at,
        hold_time: 0,
        stage: Stage::Fetch,
        rounds: 0,
        creates: 0,
        look_first: false,
        record: None,
        claim_revision: None,
        task_sid: None,
        upsert: None,
        pending: None,
    };
    if !is_terminal(status) {
        return Ok(ignored(
            "non_terminal_status",
            format!("{call_sid} is {status}: not a terminal status, nothing to do"),
        ));
    }
    Ok(fetch(state))
}

fn global(state: &State) -> (String, String, String) {
    (
        state.sync_service_sid.clone(),
        GLOBAL_MAP.to_string(),
        state.call_sid.clone(),
    )
}

fn fetch(state: State) -> Next {
    let (service_sid, map, key) = global(&state);
    let op = Op::FetchSyncItem {
        service_sid,
        map,
        key,
    };
    Step::one(
        State {
            stage: Stage::Fetch,
            ..state
        },
        op,
    )
}

fn delete(state: State, stage: Stage, map: String) -> Next {
    let op = Op::DeleteSyncItem {
        service_sid: state.sync_service_sid.clone(),
        map,
        key: state.call_sid.clone(),
        if_match: None,
    };
    Step::one(State { stage, ..state }, op)
}

/// Gives the step after `state`'s, from how its operation went.
pub fn resume(state: State, outcome: Outcome, now_ms: f64) -> Next {
    match state.stage {
        Stage::Fetch => after_fetch(state, outcome, now_ms),
        Stage::Claim => after_claim(state, outcome),
        Stage::FindTask => after_find(state, outcome),
        Stage::CreateTask => after_create(state, outcome),
        Stage::WorkerEntry => after_worker_entry(state, outcome),
        Stage::RemoveGlobal => match outcome.gone() {
            Ok(()) => {
                let body = json!({"handled": true, "callSid": state.call_sid, "callStatus": state.call_status,
                    "taskSid": state.task_sid, "holdTime": state.hold_time});
                answer(200, body)
            }
            Err(f) => sync_failed(state, &f.message),
        },
        Stage::CleanWorker => match outcome.gone() {
            Ok(()) => {
                let map = GLOBAL_MAP.to_string();
                delete(state, Stage::CleanGlobal, map)
            }
            Err(f) => retry_later(&state, &f.message),
        },
        Stage::CleanGlobal => match outcome.gone() {
            Ok(()) => {
                let message = format!(
                    "{} was picked up; its leftover entries are removed",
                    state.call_sid
                );
                ignored("picked_up", message)
            }
            Err(f) => retry_later(&state, &f.message),
        },
        Stage::Release => Step::answer(
            state
                .pending
                .clone()
                .unwrap_or_else(|| Answer::json(503, json!({"handled": false}))),
        ),
    }
}

fn sync_failed(state: State, why: &str) -> Next {
    let message = format!(
        "Wrap-up task {} was created, but updating Sync failed: {why}",
        state.task_sid.as_deref().unwrap_or("?"),
    );
    release(state, 503, message)
}

fn retry_later(state: &State, message: &str) -> Next {
    let body = json!({"handled": false, "error": format!("{}: {message}; Twilio's redelivery will finish the job", state.call_sid), "retry": true});
    answer(503, body)
}

fn after_fetch(state: State, outcome: Outcome, now_ms: f64) -> Next {
    let item = match outcome.found() {
        Err(f) => {
            return retry_later(
                &state,
                &format!("reading its parked-call entry failed ({})", f.message),
            )
        }
        Ok(item) => item,
    };
    let call_sid = state.call_sid.clone();
    let Some(Value::Object(item)) = item else {
        return ignored(
            "not_parked",
            format!("{call_sid} is not parked: nothing to do"),
        );
    };
    let revision = match item.get("revision") {
        Some(Value::String(r)) => r.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let Some(Value::Object(data)) = item.get("data") else {
        return ignored(
            "unreadable_record",
            format!("the parked-call entry of {call_sid} is not an object"),
        );
    };
    let Some(now) = values::instant::from_millis(now_ms) else {
        return retry_later(&state, "the current time is not an instant");
    };
    let record = marker::unmarked(data);
    let parked: ParkedCall = match serde_json::from_value(Value::Object(record.clone())) {
        Ok(p) => p,
        Err(e) => {
            return ignored(
                "unreadable_record",
                format!("the parked-call entry of {call_sid} cannot be read: {e}"),
            )
        }
    };
    if !values::sid::is_sid(&parked.workflow_sid, "WW")
        || !values::sid::is_sid(&parked.worker_sid, "WK")
    {
        return ignored(
            "unreadable_record",
            format!("the parked-call entry of {call_sid} names no valid worker or workflow"),
        );
    }
    let mut state = State {
        record: Some(record),
        hold_time: hold_time(&parked, now_ms),
        ..state
    };
    let mut carried = None;
    if let Some(pick) = marker::marker_of(data, PICKUP_FIELD) {
        match pick.holder(&state.token, now) {
            // This request's own pickup found the call ended: it wraps up.
            Holder::Mine => {}
            Holder::Other => {
                return ignored(
                    "picked_up",
                    format!("{call_sid} is being picked up: no wrap-up task"),
                )
            }
            Holder::Stale => {
                // The pickup is over; its entries were left behind (a failed delete).
                return delete(state, Stage::CleanWorker, worker_map(&parked.worker_sid));
            }
        }
    }
    if let Some(claim) = marker::marker_of(data, CLAIM_FIELD) {
        match claim.holder(&state.token, now) {
            Holder::Other => {
                return ignored(
                    "already_claimed",
                    format!("{call_sid} is already being wrapped up by another request"),
                )
            }
            // Ours (an answer was lost) or abandoned: a task may exist already.
            Holder::Mine | Holder::Stale => {
                state.look_first = true;
                carried = claim.task_sid.clone();
            }
        }
    }
    let mut claim = Marker::new(&state.token, now);
    claim.call_status = Some(state.call_status.clone());
    claim.sequence_number = state.sequence_number;
    claim.timestamp = state.timestamp.clone();
    claim.task_sid = carried.clone();
    state.task_sid = carried;
    let (service_sid, map, key) = global(&state);
    let op = Op::UpdateSyncItem {
        service_sid,
        map,
        key,
        data: Value::Object(marker::with_marker(data, CLAIM_FIELD, &claim)),
        ttl: None,
        if_match: Some(revision),
    };
    state.stage = Stage::Claim;
    Step::one(state, op)
}

/// The revision of an item as Twilio answered it.
fn revision_of(item: &Value) -> Option<String> {
    match item.get("revision") {
        Some(Value::String(r)) => Some(r.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn after_claim(mut state: State, outcome: Outcome) -> Next {
    let failure = match outcome {
        Outcome::Done(item) => {
            state.claim_revision = revision_of(&item);
            return if state.task_sid.is_some() {
                worker_entry(state)
            } else if state.look_first {
                find_task(state)
            } else {
                create_task(state)
            };
        }
        Outcome::Failed(f) => f,
    };
    // Lost the race (412, 404), or the answer was lost (the claim may be ours): read again.
    let reread = failure.is(404) || failure.is(412) || failure.ambiguous();
    if reread && state.rounds + 1 < MAX_ROUNDS {
        state.rounds += 1;
        return fetch(state);
    }
    let message = format!(
        "claiming its parked-call entry failed ({})",
        failure.message
    );
    retry_later(&state, &message)
}

/// `call_sid == "CA…" AND isParkHangup == true`: the wrap-up task of this call, if any.
pub fn task_expression(call_sid: &str) -> String {
    format!("call_sid == \"{call_sid}\" AND isParkHangup == true")
}

fn find_task(state: State) -> Next {
    let op = Op::ListTasks {
        workspace_sid: state.workspace_sid.clone(),
        evaluate_task_attributes: Some(task_expression(&state.call_sid)),
        assignment_status: None,
        limit: FIND_LIMIT,
    };
    Step::one(
        State {
            stage: Stage::FindTask,
            ..state
        },
        op,
    )
}

fn after_find(mut state: State, outcome: Outcome) -> Next {
    let tasks = match outcome.into_result() {
        Ok(tasks) => tasks,
        Err(f) => {
            let message = format!(
                "looking for an existing wrap-up task failed ({})",
                f.message
            );
            return release(state, 503, message);
        }
    };
    let found = tasks
        .as_array()
        .and_then(|tasks| {
            tasks
                .iter()
                .find_map(|t| t.get("sid").and_then(Value::as_str))
        })
        .map(str::to_string);
    match found {
        Some(sid) => {
            state.task_sid = Some(sid);
            worker_entry(state)
        }
        None if state.creates < MAX_CREATES => create_task(state),
        None => {
            let message = "the wrap-up task could not be created".to_string();
            release(state, 503, message)
        }
    }
}

fn create_task(mut state: State) -> Next {
    let record: Option<ParkedCall> = state
        .record
        .as_ref()
        .and_then(|r| serde_json::from_value(Value::Object(r.clone())).ok());
    let Some(record) = record else {
        return retry_later(&state, "its record is missing");
    };
    let attributes = hangup_task_attributes(&record, state.hold_time);
    state.creates += 1;
    let op = Op::CreateTask {
        workspace_sid: state.workspace_sid.clone(),
        workflow_sid: record.workflow_sid.clone(),
        task_channel: TASK_CHANNEL.into(),
        priority: WRAP_UP_PRIORITY,
        attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into()),
        timeout: None,
    };
    state.stage = Stage::CreateTask;
    Step::one(state, op)
}

fn after_create(mut state: State, outcome: Outcome) -> Next {
    let failure = match outcome {
        Outcome::Done(task) => {
            state.task_sid = task.get("sid").and_then(Value::as_str).map(str::to_string);
            return worker_entry(state);
        }
        Outcome::Failed(f) => f,
    };
    if failure.ambiguous() && state.creates < MAX_CREATES {
        // TaskRouter may have created it: look before creating again.
        return find_task(state);
    }
    let definite_refusal = matches!(failure.status, Some(s) if (400..500).contains(&s) && s != 429);
    let message = format!("creating the wrap-up task failed ({})", failure.message);
    if definite_refusal {
        // A redelivery would be refused the same way: give the entry back and stop.
        return release(state, 200, message);
    }
    release(state, 503, message)
}

fn worker_entry(mut state: State) -> Next {
    let mut data = state.record.clone().unwrap_or_default();
    data.insert("callerHangup".into(), Value::Bool(true));
    let at = state.started_at.clone();
    data.insert("callerHangupTime".into(), Value::String(at));
    let worker = data
        .get("workerSid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let upsert = Upsert::new(
        &state.sync_service_sid,
        &worker_map(&worker),
        &state.call_sid,
        Value::Object(data),
        Some(HANGUP_ENTRY_TTL),
    );
    let op = upsert.op();
    state.upsert = Some(upsert);
    state.stage = Stage::WorkerEntry;
    Step::one(state, op)
}

fn after_worker_entry(mut state: State, outcome: Outcome) -> Next {
    let Some(upsert) = state.upsert.take() else {
        return sync_failed(state, "the worker entry's write was lost");
    };
    match upsert.resume(outcome) {
        Progress::Next(upsert) => {
            let op = upsert.op();
            state.upsert = Some(upsert);
            Step::one(state, op)
        }
        Progress::Done(Ok(_)) => {
            let map = GLOBAL_MAP.to_string();
            delete(state, Stage::RemoveGlobal, map)
        }
        Progress::Done(Err(f)) => sync_failed(state, &f.message),
    }
}

/// Gives the claim back (`released`, with the task SID once there is one) so that the next
/// delivery takes over at once, then answers `status`.
fn release(mut state: State, status: u16, message: String) -> Next {
    let body = json!({"handled": false, "error": format!("{}: {message}", state.call_sid),
        "retry": status >= 500, "taskSid": state.task_sid});
    let pending = Answer::json(status, body);
    let (Some(revision), Some(record)) = (state.claim_revision.clone(), state.record.clone())
    else {
        return Step::answer(pending);
    };
    state.pending = Some(pending);
    let claim = Marker {
        token: state.token.clone(),
        at: state.started_at.clone(),
        released: true,
        task_sid: state.task_sid.clone(),
        call_status: Some(state.call_status.clone()),
        sequence_number: state.sequence_number,
        timestamp: state.timestamp.clone(),
    };
    let (service_sid, map, key) = global(&state);
    let op = Op::UpdateSyncItem {
        service_sid,
        map,
        key,
        data: Value::Object(marker::with_marker(&record, CLAIM_FIELD, &claim)),
        ttl: None,
        if_match: Some(revision),
    };
    state.stage = Stage::Release;
    Step::one(state, op)
}
