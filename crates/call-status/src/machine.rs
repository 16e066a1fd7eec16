//! The wrap-up as a sequence of steps: [`start`] gives the first [`Action`], the shim performs it
//! and hands its [`Outcome`] to [`resume`], which gives the next, until an [`Action::Answer`].
//! Everything the shim needs to continue lives in [`State`] (plain JSON it carries back).

use parking::{
    hangup_task_attributes, hold_time, iso_date, marker, worker_map, Holder, Marker, ParkedCall,
    CLAIM_FIELD, GLOBAL_MAP, PICKUP_FIELD,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::CallStatusError;

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

/// The call statuses in which the caller is gone (Twilio's final `CallStatus` values).
pub const TERMINAL_STATUSES: [&str; 5] = ["completed", "busy", "failed", "no-answer", "canceled"];
const NON_TERMINAL: [&str; 4] = ["queued", "initiated", "ringing", "in-progress"];

/// Whether a call in `status` has ended.
pub fn is_terminal(status: &str) -> bool {
    TERMINAL_STATUSES.contains(&status)
}

/// The callback's parameters, named as Twilio posts them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Callback {
    pub call_sid: Option<String>,
    pub call_status: Option<String>,
    pub sequence_number: Option<String>,
    pub timestamp: Option<String>,
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

/// Everything a wrap-up in progress knows; the shim carries it between steps unchanged.
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
    /// The answer to give once a release has been attempted.
    pub pending: Option<Answer>,
}

/// The HTTP answer: `status` 200 when done or nothing to do, 503 when Twilio's redelivery can
/// finish the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

/// One step for the shim to perform.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Action {
    /// Fetch a map item: `{data, revision}` or `null` when absent.
    #[serde(rename_all = "camelCase")]
    FetchItem { map: String, key: String },
    /// Update a map item `If-Match`; succeeds with the new revision.
    #[serde(rename_all = "camelCase")]
    UpdateItem {
        map: String,
        key: String,
        data: Value,
        if_match: String,
    },
    /// Create or update a map item (creating the map if missing).
    #[serde(rename_all = "camelCase")]
    UpsertItem {
        map: String,
        key: String,
        data: Value,
        ttl: u32,
    },
    /// Delete a map item (absent is fine).
    #[serde(rename_all = "camelCase")]
    DeleteItem { map: String, key: String },
    /// List the workspace's tasks matching `evaluate_task_attributes`: a list of task SIDs.
    #[serde(rename_all = "camelCase")]
    FindTasks {
        workspace_sid: String,
        evaluate_task_attributes: String,
    },
    /// Create a task (never retried blindly): its SID.
    #[serde(rename_all = "camelCase")]
    CreateTask {
        workspace_sid: String,
        workflow_sid: String,
        task_channel: String,
        priority: u32,
        attributes: String,
    },
    /// Answer the request.
    Answer(Answer),
}

/// How a step went.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub ok: bool,
    /// On success: the item (`FetchItem`), the revision (`UpdateItem`), the SIDs (`FindTasks`),
    /// the SID (`CreateTask`).
    #[serde(default)]
    pub value: Value,
    /// On failure: Twilio's HTTP status, absent for timeouts and network errors.
    #[serde(default)]
    pub status: Option<u16>,
    /// On failure: the request may have been carried out (timeout, 5xx, network error).
    #[serde(default)]
    pub ambiguous: bool,
    #[serde(default)]
    pub message: String,
}

/// The next step and the state to hand back with its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Next {
    pub state: State,
    pub action: Action,
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn answer(state: State, status: u16, body: Value) -> Next {
    Next {
        state,
        action: Action::Answer(Answer { status, body }),
    }
}

fn ignored(state: State, reason: &str, message: String) -> Next {
    answer(
        state,
        200,
        json!({"handled": false, "reason": reason, "message": message}),
    )
}

/// Checks a callback and gives the first step. `token` is unique to this request.
pub fn start(
    callback: &Callback,
    token: &str,
    workspace_sid: Option<&str>,
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
    if !is_terminal(status) && !NON_TERMINAL.contains(&status) {
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
        return Err(CallStatusError::MissingConfig("request token"));
    }
    let workspace_sid = workspace_sid
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .ok_or(CallStatusError::MissingConfig("WORKSPACE_SID"))?;
    let state = State {
        call_sid: call_sid.to_string(),
        call_status: status.to_string(),
        sequence_number,
        timestamp: text(&callback.timestamp).map(str::to_string),
        token: token.to_string(),
        workspace_sid: workspace_sid.to_string(),
        started_at,
        hold_time: 0,
        stage: Stage::Fetch,
        rounds: 0,
        creates: 0,
        look_first: false,
        record: None,
        claim_revision: None,
        task_sid: None,
        pending: None,
    };
    if !is_terminal(status) {
        return Ok(ignored(
            state,
            "non_terminal_status",
            format!("{call_sid} is {status}: not a terminal status, nothing to do"),
        ));
    }
    Ok(fetch(state))
}

fn fetch(state: State) -> Next {
    let action = Action::FetchItem {
        map: GLOBAL_MAP.into(),
        key: state.call_sid.clone(),
    };
    Next {
        state: State {
            stage: Stage::Fetch,
            ..state
        },
        action,
    }
}

/// Gives the step after `state`'s, from how it went.
pub fn resume(state: State, outcome: &Outcome, now_ms: f64) -> Next {
    match state.stage {
        Stage::Fetch => after_fetch(state, outcome, now_ms),
        Stage::Claim => after_claim(state, outcome),
        Stage::FindTask => after_find(state, outcome),
        Stage::CreateTask => after_create(state, outcome),
        Stage::WorkerEntry if outcome.ok => remove_global(state),
        Stage::RemoveGlobal if outcome.ok => {
            let body = json!({"handled": true, "callSid": state.call_sid, "callStatus": state.call_status,
                "taskSid": state.task_sid, "holdTime": state.hold_time});
            answer(state, 200, body)
        }
        Stage::WorkerEntry | Stage::RemoveGlobal => {
            let message = format!(
                "Wrap-up task {} was created, but updating Sync failed: {}",
                state.task_sid.as_deref().unwrap_or("?"),
                outcome.message
            );
            release(state, 503, message)
        }
        Stage::CleanWorker => {
            let next = Action::DeleteItem {
                map: GLOBAL_MAP.into(),
                key: state.call_sid.clone(),
            };
            if !outcome.ok {
                return retry_later(state, &outcome.message);
            }
            Next {
                state: State {
                    stage: Stage::CleanGlobal,
                    ..state
                },
                action: next,
            }
        }
        Stage::CleanGlobal if outcome.ok => {
            let message = format!(
                "{} was picked up; its leftover entries are removed",
                state.call_sid
            );
            ignored(state, "picked_up", message)
        }
        Stage::CleanGlobal => retry_later(state, &outcome.message),
        Stage::Release => {
            let pending = state.pending.clone().unwrap_or(Answer {
                status: 503,
                body: json!({"handled": false}),
            });
            Next {
                state,
                action: Action::Answer(pending),
            }
        }
    }
}

fn retry_later(state: State, message: &str) -> Next {
    let body = json!({"handled": false, "error": format!("{}: {message}; Twilio's redelivery will finish the job", state.call_sid), "retry": true});
    answer(state, 503, body)
}

fn after_fetch(state: State, outcome: &Outcome, now_ms: f64) -> Next {
    if !outcome.ok {
        return retry_later(
            state,
            &format!("reading its parked-call entry failed ({})", outcome.message),
        );
    }
    let call_sid = state.call_sid.clone();
    let item = match &outcome.value {
        Value::Object(item) => item,
        _ => {
            return ignored(
                state,
                "not_parked",
                format!("{call_sid} is not parked: nothing to do"),
            )
        }
    };
    let revision = match item.get("revision") {
        Some(Value::String(r)) => r.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let Some(Value::Object(data)) = item.get("data") else {
        return ignored(
            state,
            "unreadable_record",
            format!("the parked-call entry of {call_sid} is not an object"),
        );
    };
    let Some(now) = values::instant::from_millis(now_ms) else {
        return retry_later(state, "the current time is not an instant");
    };
    let record = marker::unmarked(data);
    let parked: ParkedCall = match serde_json::from_value(Value::Object(record.clone())) {
        Ok(p) => p,
        Err(e) => {
            return ignored(
                state,
                "unreadable_record",
                format!("the parked-call entry of {call_sid} cannot be read: {e}"),
            )
        }
    };
    if !values::sid::is_sid(&parked.workflow_sid, "WW")
        || !values::sid::is_sid(&parked.worker_sid, "WK")
    {
        return ignored(
            state,
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
                    state,
                    "picked_up",
                    format!("{call_sid} is being picked up: no wrap-up task"),
                )
            }
            Holder::Stale => {
                // The pickup is over; its entries were left behind (a failed delete).
                let action = Action::DeleteItem {
                    map: worker_map(&parked.worker_sid),
                    key: call_sid,
                };
                state.stage = Stage::CleanWorker;
                return Next { state, action };
            }
        }
    }
    if let Some(claim) = marker::marker_of(data, CLAIM_FIELD) {
        match claim.holder(&state.token, now) {
            Holder::Other => {
                return ignored(
                    state,
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
    let data = marker::with_marker(data, CLAIM_FIELD, &claim);
    let action = Action::UpdateItem {
        map: GLOBAL_MAP.into(),
        key: call_sid,
        data: Value::Object(data),
        if_match: revision,
    };
    state.stage = Stage::Claim;
    Next { state, action }
}

fn after_claim(mut state: State, outcome: &Outcome) -> Next {
    if outcome.ok {
        state.claim_revision = outcome
            .value
            .as_str()
            .map(str::to_string)
            .or_else(|| outcome.value.as_u64().map(|n| n.to_string()));
        return if state.task_sid.is_some() {
            worker_entry(state)
        } else if state.look_first {
            find_task(state)
        } else {
            create_task(state)
        };
    }
    // Lost the race (412, 404), or the answer was lost (the claim may be ours): read again.
    let reread = matches!(outcome.status, Some(404) | Some(412)) || outcome.ambiguous;
    if reread && state.rounds + 1 < MAX_ROUNDS {
        state.rounds += 1;
        return fetch(state);
    }
    let message = format!(
        "claiming its parked-call entry failed ({})",
        outcome.message
    );
    retry_later(state, &message)
}

/// `call_sid == "CA…" AND isParkHangup == true`: the wrap-up task of this call, if any.
pub fn task_expression(call_sid: &str) -> String {
    format!("call_sid == \"{call_sid}\" AND isParkHangup == true")
}

fn find_task(state: State) -> Next {
    let action = Action::FindTasks {
        workspace_sid: state.workspace_sid.clone(),
        evaluate_task_attributes: task_expression(&state.call_sid),
    };
    Next {
        state: State {
            stage: Stage::FindTask,
            ..state
        },
        action,
    }
}

fn after_find(mut state: State, outcome: &Outcome) -> Next {
    if !outcome.ok {
        let message = format!(
            "looking for an existing wrap-up task failed ({})",
            outcome.message
        );
        return release(state, 503, message);
    }
    let found = outcome
        .value
        .as_array()
        .and_then(|sids| sids.iter().find_map(Value::as_str))
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
        return retry_later(state, "its record is missing");
    };
    let attributes = hangup_task_attributes(&record, state.hold_time);
    state.creates += 1;
    let action = Action::CreateTask {
        workspace_sid: state.workspace_sid.clone(),
        workflow_sid: record.workflow_sid.clone(),
        task_channel: TASK_CHANNEL.into(),
        priority: WRAP_UP_PRIORITY,
        attributes: serde_json::to_string(&attributes).unwrap_or_else(|_| "{}".into()),
    };
    state.stage = Stage::CreateTask;
    Next { state, action }
}

fn after_create(mut state: State, outcome: &Outcome) -> Next {
    if outcome.ok {
        state.task_sid = outcome.value.as_str().map(str::to_string);
        return worker_entry(state);
    }
    if outcome.ambiguous && state.creates < MAX_CREATES {
        // TaskRouter may have created it: look before creating again.
        return find_task(state);
    }
    let definite_refusal = matches!(outcome.status, Some(s) if (400..500).contains(&s) && s != 429);
    let message = format!("creating the wrap-up task failed ({})", outcome.message);
    if definite_refusal {
        // A redelivery would be refused the same way: give the entry back and stop.
        return release(state, 200, message);
    }
    release(state, 503, message)
}

fn worker_entry(state: State) -> Next {
    let mut data = state.record.clone().unwrap_or_default();
    data.insert("callerHangup".into(), Value::Bool(true));
    let at = state.started_at.clone();
    data.insert("callerHangupTime".into(), Value::String(at));
    let worker = data
        .get("workerSid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let action = Action::UpsertItem {
        map: worker_map(&worker),
        key: state.call_sid.clone(),
        data: Value::Object(data),
        ttl: HANGUP_ENTRY_TTL,
    };
    Next {
        state: State {
            stage: Stage::WorkerEntry,
            ..state
        },
        action,
    }
}

fn remove_global(state: State) -> Next {
    let action = Action::DeleteItem {
        map: GLOBAL_MAP.into(),
        key: state.call_sid.clone(),
    };
    Next {
        state: State {
            stage: Stage::RemoveGlobal,
            ..state
        },
        action,
    }
}

/// Gives the claim back (`released`, with the task SID once there is one) so that the next
/// delivery takes over at once, then answers `status`.
fn release(mut state: State, status: u16, message: String) -> Next {
    let body = json!({"handled": false, "error": format!("{}: {message}", state.call_sid),
        "retry": status >= 500, "taskSid": state.task_sid});
    state.pending = Some(Answer { status, body });
    let (Some(revision), Some(record)) = (state.claim_revision.clone(), state.record.clone())
    else {
        let pending = state.pending.clone();
        return Next {
            state,
            action: Action::Answer(pending.unwrap_or(Answer {
                status,
                body: Value::Null,
            })),
        };
    };
    let claim = Marker {
        token: state.token.clone(),
        at: state.started_at.clone(),
        released: true,
        task_sid: state.task_sid.clone(),
        call_status: Some(state.call_status.clone()),
        sequence_number: state.sequence_number,
        timestamp: state.timestamp.clone(),
    };
    let action = Action::UpdateItem {
        map: GLOBAL_MAP.into(),
        key: state.call_sid.clone(),
        data: Value::Object(marker::with_marker(&record, CLAIM_FIELD, &claim)),
        if_match: revision,
    };
    state.stage = Stage::Release;
    Next { state, action }
}
