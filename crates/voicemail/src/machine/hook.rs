//! The TaskRouter event callback's voicemail hook ([`crate::event`]): sends a direct call its
//! worker did not take to voicemail, once.
//!
//! Read the call's claim; decide ([`event::decide`]); create the claim (a missing map is created;
//! a 409: another request has it) or take a stale one over `If-Match` (a 412: another request
//! did); redirect the call (never repeated: an unanswered redirect may have been carried out);
//! then, at once, the claim's release or new state and the task's cancel, as
//! [`event::after_redirect`] says.
//!
//! The answer is always 200 with the summary the event callback reports: `{action: "none",
//! reason}`, `{action: "already", state, task}`, `{action: "voicemail", callSid, taskSid, reason,
//! outcome, error?, claimError?, task?}`, `{off}`, or `{error}` when a read or write it needed
//! failed (the queue statistics answer on regardless).

use effects::{Answer, Effect, Failure, Op, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::event::{self, Claim, ClaimStep, EventPlan, TaskEvent};
use crate::machine::{message, Item, Machine, Turn};
use crate::settings::{Env, Settings};
use crate::VoicemailError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    ReadClaim,
    CreateClaim,
    CreateMap,
    TakeOver,
    Redirect,
    Finish,
    CancelOnly,
}

/// A direct call on its way to voicemail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    pub plan: EventPlan,
    pub service_sid: String,
    pub workspace_sid: String,
    pub token: String,
    pub stage: Stage,
    pub claim: Option<Claim>,
    pub map_created: bool,
    /// The summary so far.
    pub summary: Map<String, Value>,
    /// Which effects the finishing batch holds: the claim's write, the task's cancel.
    pub claim_write: bool,
    pub cancel: bool,
}

fn summary(v: Value) -> Turn {
    Turn::answer(Answer::json(200, v))
}

fn error(f: &Failure) -> Turn {
    summary(json!({ "error": message(f) }))
}

/// What the event means: nothing (answered at once), or the claim's read. `fields` are the
/// event's form fields; `token` names this request (a fresh random one).
pub fn start(fields: &TaskEvent, workspace_field: Option<&str>, env: &Env, token: &str) -> Turn {
    match begin(fields, workspace_field, env, token) {
        Ok(turn) => turn,
        Err(e) => summary(json!({ "error": e.to_string() })),
    }
}

fn begin(
    fields: &TaskEvent,
    workspace_field: Option<&str>,
    env: &Env,
    token: &str,
) -> Result<Turn, VoicemailError> {
    let any_sync = [&env.voicemail_sync_sid, &env.sync_service_sid]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    if !any_sync {
        return Ok(summary(
            json!({ "off": "neither VOICEMAIL_SYNC_SID nor SYNC_SERVICE_SID is set" }),
        ));
    }
    let settings = Settings::from_env(env)?;
    let plan = event::plan_event(fields, &settings.base_url);
    let EventPlan::Voicemail {
        claim_map,
        claim_key,
        ..
    } = &plan
    else {
        let reason = match &plan {
            EventPlan::Ignore { reason } => reason.clone(),
            EventPlan::Voicemail { .. } => String::new(),
        };
        return Ok(summary(json!({ "action": "none", "reason": reason })));
    };
    let service_sid = settings.sync_service(env)?;
    // The event's own workspace, else the configured one.
    let workspace_sid = match workspace_field.filter(|w| crate::is_sid(w, "WS")) {
        Some(w) => w.to_string(),
        None => env
            .workspace()?
            .ok_or(VoicemailError::BadConfig(values::env::EnvError::new(
                "WORKSPACE_SID",
                "",
                "is not set",
            )))?,
    };
    let op = Op::FetchSyncItem {
        service_sid: service_sid.clone(),
        map: claim_map.clone(),
        key: claim_key.clone(),
    };
    let hook = Hook {
        plan,
        service_sid,
        workspace_sid,
        token: token.to_string(),
        stage: Stage::ReadClaim,
        claim: None,
        map_created: false,
        summary: Map::new(),
        claim_write: false,
        cancel: false,
    };
    Ok(Turn::one(wrap(hook), op))
}

fn wrap(h: Hook) -> Machine {
    Machine::Hook(Box::new(h))
}

struct Fields<'a> {
    call_sid: &'a str,
    task_sid: &'a str,
    reason: &'a str,
    claim_map: &'a str,
    claim_key: &'a str,
    claim_ttl: u32,
    redirect_url: &'a str,
    cancel_reason: Option<&'a str>,
}

fn fields(plan: &EventPlan) -> Option<Fields<'_>> {
    match plan {
        EventPlan::Voicemail {
            call_sid,
            task_sid,
            reason,
            claim_map,
            claim_key,
            claim_ttl,
            redirect_url,
            cancel_reason,
            ..
        } => Some(Fields {
            call_sid,
            task_sid,
            reason,
            claim_map,
            claim_key,
            claim_ttl: *claim_ttl,
            redirect_url,
            cancel_reason: cancel_reason.as_deref(),
        }),
        EventPlan::Ignore { .. } => None,
    }
}

fn cancel_op(h: &Hook) -> Option<Op> {
    let f = fields(&h.plan)?;
    Some(Op::UpdateTask {
        workspace_sid: h.workspace_sid.clone(),
        task_sid: f.task_sid.to_string(),
        attributes: None,
        assignment_status: Some("canceled".into()),
        reason: Some(f.cancel_reason?.to_string()),
        priority: None,
        if_match: None,
    })
}

/// What the cancel's outcome says: `canceled`, `not canceled: …` (TaskRouter refused: the task
/// is already out of the way), or the failure that makes the whole hook an error.
fn cancel_result(outcome: Outcome) -> Result<String, Failure> {
    match outcome.into_result() {
        Ok(_) => Ok("canceled".into()),
        Err(f) if f.status.is_some_and(|s| (400..500).contains(&s)) => {
            Ok(format!("not canceled: {}", f.message))
        }
        Err(f) => Err(f),
    }
}

pub(crate) fn resume(mut h: Hook, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
    let Some(f) = fields(&h.plan) else {
        return Turn::answer(crate::machine::unreadable("a hook without a direct call"));
    };
    let claim_op = |data: Value, if_match: Option<String>| Op::UpdateSyncItem {
        service_sid: h.service_sid.clone(),
        map: f.claim_map.to_string(),
        key: f.claim_key.to_string(),
        data,
        ttl: None,
        if_match,
    };
    let create_claim = |claim: &Claim| Op::CreateSyncItem {
        service_sid: h.service_sid.clone(),
        map: f.claim_map.to_string(),
        key: f.claim_key.to_string(),
        data: json!(claim),
        ttl: Some(f.claim_ttl),
    };
    let outcome = || effects::first(outcomes.clone());
    match h.stage {
        Stage::ReadClaim => {
            let found = match outcome().found() {
                Ok(found) => found.as_ref().map(Item::of),
                Err(failure) => return error(&failure),
            };
            let existing: Option<(Claim, String)> = found.and_then(|i| {
                serde_json::from_value::<Claim>(i.data)
                    .ok()
                    .map(|c| (c, i.revision))
            });
            let step = event::decide(
                &h.plan,
                existing.as_ref().map(|(c, r)| (c, r.as_str())),
                &h.token,
                now_ms,
            );
            match step {
                None => Turn::answer(crate::machine::unreadable("a hook without a direct call")),
                Some(ClaimStep::InProgress) => summary(
                    json!({ "action": "none", "reason": "another request is sending this call to voicemail" }),
                ),
                Some(ClaimStep::Done { state }) => match cancel_op(&h) {
                    Some(op) => {
                        h.summary = json_map(json!({ "action": "already", "state": state }));
                        h.stage = Stage::CancelOnly;
                        Turn::one(wrap(h), op)
                    }
                    None => summary(
                        json!({ "action": "already", "state": state, "task": "not needed" }),
                    ),
                },
                Some(ClaimStep::Create { claim }) => {
                    let op = create_claim(&claim);
                    h.claim = Some(claim);
                    h.stage = Stage::CreateClaim;
                    Turn::one(wrap(h), op)
                }
                Some(ClaimStep::TakeOver { claim, revision }) => {
                    let op = claim_op(json!(claim), Some(revision).filter(|r| !r.is_empty()));
                    h.claim = Some(claim);
                    h.stage = Stage::TakeOver;
                    Turn::one(wrap(h), op)
                }
            }
        }
        Stage::CreateClaim => match outcome().into_result() {
            Ok(_) => redirect(h),
            Err(failure) if failure.is(409) => {
                summary(json!({ "action": "none", "reason": "claimed by another request" }))
            }
            Err(failure) if failure.is(404) && !h.map_created => {
                h.stage = Stage::CreateMap;
                let op = Op::CreateSyncMap {
                    service_sid: h.service_sid.clone(),
                    unique_name: f.claim_map.to_string(),
                };
                Turn::one(wrap(h), op)
            }
            Err(failure) => error(&failure),
        },
        Stage::CreateMap => match outcome().into_result() {
            Err(failure) if !failure.is(409) => error(&failure),
            _ => {
                let Some(claim) = h.claim.clone() else {
                    return Turn::answer(crate::machine::unreadable("the claim is missing"));
                };
                let op = create_claim(&claim);
                h.map_created = true;
                h.stage = Stage::CreateClaim;
                Turn::one(wrap(h), op)
            }
        },
        Stage::TakeOver => match outcome().into_result() {
            Ok(_) => redirect(h),
            Err(failure) if failure.is(412) => {
                summary(json!({ "action": "none", "reason": "taken over by another request" }))
            }
            Err(failure) => error(&failure),
        },
        Stage::Redirect => {
            let o = outcome();
            let after = match o.failure() {
                None => event::after_redirect(true, None, None, false),
                Some(failure) => {
                    event::after_redirect(false, failure.status, failure.code, failure.ambiguous())
                }
            };
            let mut s = json_map(json!({
                "action": "voicemail",
                "callSid": f.call_sid,
                "taskSid": f.task_sid,
                "reason": f.reason,
                "outcome": after.outcome,
            }));
            if let Some(failure) = o.failure() {
                s.insert("error".into(), json!(failure.message));
            }
            let mut batch: Vec<Effect> = Vec::new();
            if after.release {
                batch.push(
                    Op::DeleteSyncItem {
                        service_sid: h.service_sid.clone(),
                        map: f.claim_map.to_string(),
                        key: f.claim_key.to_string(),
                        if_match: None,
                    }
                    .into(),
                );
            } else if let (Some(state), Some(claim)) = (&after.state, &h.claim) {
                let claim = Claim {
                    state: state.clone(),
                    at_ms: now_ms,
                    ..claim.clone()
                };
                batch.push(claim_op(json!(claim), None).into());
            }
            let claim_write = !batch.is_empty();
            let cancel = if after.cancel_task {
                match cancel_op(&h) {
                    Some(op) => {
                        batch.push(op.into());
                        true
                    }
                    None => {
                        s.insert("task".into(), json!("not needed"));
                        false
                    }
                }
            } else {
                false
            };
            if batch.is_empty() {
                return summary(Value::Object(s));
            }
            h.summary = s;
            h.claim_write = claim_write;
            h.cancel = cancel;
            h.stage = Stage::Finish;
            Turn::run(wrap(h), batch)
        }
        Stage::Finish => {
            let mut results = outcomes.into_iter();
            let mut s = h.summary;
            if h.claim_write {
                if let Some(Outcome::Failed(failure)) = results.next() {
                    // A `redirecting` claim is taken over after its lease.
                    s.insert("claimError".into(), json!(failure.message));
                }
            }
            if h.cancel {
                let o = results
                    .next()
                    .unwrap_or(Outcome::Failed(Failure::missing()));
                match cancel_result(o) {
                    Ok(task) => {
                        s.insert("task".into(), json!(task));
                    }
                    Err(failure) => return error(&failure),
                }
            }
            summary(Value::Object(s))
        }
        Stage::CancelOnly => {
            let mut s = h.summary;
            match cancel_result(outcome()) {
                Ok(task) => {
                    s.insert("task".into(), json!(task));
                    summary(Value::Object(s))
                }
                Err(failure) => error(&failure),
            }
        }
    }
}

/// The call's redirect to the voicemail TwiML: never repeated by the executor (an unanswered
/// redirect may have been carried out; the claim's lease decides).
fn redirect(mut h: Hook) -> Turn {
    let Some(f) = fields(&h.plan) else {
        return Turn::answer(crate::machine::unreadable("a hook without a direct call"));
    };
    let op = Op::UpdateCall {
        call_sid: f.call_sid.to_string(),
        twiml: None,
        url: Some(f.redirect_url.to_string()),
        method: Some("POST".into()),
        status_callback: None,
        status_callback_method: None,
        status: None,
    };
    let effect = Effect {
        retry: false,
        ..Effect::from(op)
    };
    h.stage = Stage::Redirect;
    Turn::run(wrap(h), vec![effect])
}

fn json_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
