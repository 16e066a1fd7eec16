//! When a direct call goes to voicemail, and the once-only rule.
//!
//! TaskRouter posts every workspace event to the event callback. A direct call goes to voicemail
//! when its worker lets the reservation time out (`reservation.timeout`), rejects it
//! (`reservation.rejected`), or the task leaves its workflow unassigned (`workflow.timeout`).
//! Only the called worker's own reservation counts (`WorkerSid` = `directCall.workerSid`).
//!
//! **Once.** The call is redirected only by the request that created the call's claim item
//! (`Voicemail.Calls`, key = call SID, a Sync *create*: two creates of one key cannot both
//! succeed). Every later event for the call (a duplicate delivery, the workflow offering the task
//! to the same worker again and their second reject) finds the claim and only makes sure the task
//! is canceled: the caller is never redirected twice and the task never goes back to the worker.
//! A claim still `redirecting` after [`crate::CLAIM_LEASE_MS`] belongs to a request that died
//! between the claim and the redirect: the next event takes it over (`If-Match` its revision).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{is_sid, CLAIMS_MAP, CLAIM_LEASE_MS, CLAIM_TTL_SECONDS};

/// The fields of a TaskRouter event this crate reads (form fields as posted).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaskEvent {
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub task_sid: Option<String>,
    #[serde(default)]
    pub task_attributes: Option<String>,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub task_assignment_status: Option<String>,
}

/// The `directCall` attribute of a task (the contract with `direct-extension` and the flows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectCall {
    pub extension: String,
    pub worker_sid: String,
    pub worker_name: Option<String>,
    /// The caller's call (`call_sid`, as Studio's Send to Flex sets it).
    pub call_sid: String,
}

/// A task's direct call, when its attributes carry a well-formed one and the caller's call.
pub fn direct_call(attributes: &Value) -> Option<DirectCall> {
    let dc = attributes.get("directCall")?;
    let worker_sid = dc.get("workerSid")?.as_str()?;
    let call_sid = attributes.get("call_sid")?.as_str()?;
    if !is_sid(worker_sid, "WK") || !is_sid(call_sid, "CA") {
        return None;
    }
    let extension = match dc.get("extension") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    Some(DirectCall {
        extension,
        worker_sid: worker_sid.to_string(),
        worker_name: dc
            .get("workerName")
            .and_then(Value::as_str)
            .map(str::to_string),
        call_sid: call_sid.to_string(),
    })
}

/// Why the call went to voicemail (also a `reason` in the record).
pub const REASONS: [&str; 4] = ["unavailable", "no_answer", "rejected", "not_assigned"];

/// What an event means for voicemail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum EventPlan {
    /// Nothing to do (most events).
    Ignore { reason: String },
    /// This direct call goes to voicemail (once: see [`decide`]).
    #[serde(rename_all = "camelCase")]
    Voicemail {
        call_sid: String,
        task_sid: String,
        worker_sid: String,
        /// `no_answer`, `rejected` or `not_assigned`.
        reason: String,
        /// The claim's map and key.
        claim_map: String,
        claim_key: String,
        claim_ttl: u32,
        /// The call update's `Url` (POST): the voicemail leg's TwiML.
        redirect_url: String,
        /// The task update: `AssignmentStatus=canceled` with this `Reason` (`None`: the task is
        /// already out of TaskRouter's hands, as after `workflow.timeout`).
        cancel_reason: Option<String>,
    },
}

fn ignore(reason: impl Into<String>) -> EventPlan {
    EventPlan::Ignore {
        reason: reason.into(),
    }
}

/// Percent-encoding for a query value (SIDs and reasons need none, but never trust that).
pub(crate) fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What `event` means for voicemail; `base_url` is `https://<DOMAIN_NAME>`.
pub fn plan_event(event: &TaskEvent, base_url: &str) -> EventPlan {
    let event_type = event.event_type.as_deref().unwrap_or("");
    let reason = match event_type {
        "reservation.timeout" => "no_answer",
        "reservation.rejected" => "rejected",
        "workflow.timeout" => "not_assigned",
        _ => return ignore("not a voicemail event"),
    };
    let Some(task_sid) = event.task_sid.as_deref().filter(|s| is_sid(s, "WT")) else {
        return ignore("no TaskSid");
    };
    let attributes: Value = match event.task_attributes.as_deref().map(serde_json::from_str) {
        Some(Ok(v)) => v,
        _ => return ignore("no task attributes"),
    };
    let Some(direct) = direct_call(&attributes) else {
        return ignore("not a direct call");
    };
    if reason != "not_assigned" && event.worker_sid.as_deref() != Some(direct.worker_sid.as_str()) {
        return ignore("the reservation is not the called worker's");
    }
    if matches!(
        event.task_assignment_status.as_deref(),
        Some("assigned") | Some("wrapping") | Some("completed")
    ) {
        return ignore("the task is with a worker");
    }
    let redirect_url = format!(
        "{base_url}/voicemail-twiml?workerSid={}&reason={}",
        query_value(&direct.worker_sid),
        reason
    );
    EventPlan::Voicemail {
        call_sid: direct.call_sid.clone(),
        task_sid: task_sid.to_string(),
        worker_sid: direct.worker_sid,
        reason: reason.to_string(),
        claim_map: CLAIMS_MAP.to_string(),
        claim_key: direct.call_sid,
        claim_ttl: CLAIM_TTL_SECONDS,
        redirect_url,
        cancel_reason: (reason != "not_assigned").then(|| "Sent to voicemail".to_string()),
    }
}

/// A call's claim item (`Voicemail.Calls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub call_sid: String,
    pub task_sid: String,
    pub worker_sid: String,
    pub reason: String,
    /// `redirecting` (claimed, redirect under way), `redirected`, `caller_gone` (the call had
    /// ended: nothing to record).
    pub state: String,
    /// When it was written (ms since 1970).
    pub at_ms: f64,
    /// The request that wrote it.
    pub token: String,
}

/// What to do about the claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ClaimStep {
    /// No claim: create this one (a 409 means another request has it: stop).
    Create { claim: Claim },
    /// A stale `redirecting` claim: update it `If-Match` `revision` (412: stop), then redirect.
    TakeOver { claim: Claim, revision: String },
    /// The call is (or was) handled: make sure the task is canceled, nothing else.
    Done { state: String },
    /// Another request is redirecting it right now: nothing to do.
    InProgress,
}

/// The once-only rule: what this request may do given the claim it read (`existing` with its
/// `revision`, or none), as request `token` at `now_ms`.
pub fn decide(
    plan: &EventPlan,
    existing: Option<(&Claim, &str)>,
    token: &str,
    now_ms: f64,
) -> Option<ClaimStep> {
    let EventPlan::Voicemail {
        call_sid,
        task_sid,
        worker_sid,
        reason,
        ..
    } = plan
    else {
        return None;
    };
    let mine = Claim {
        call_sid: call_sid.clone(),
        task_sid: task_sid.clone(),
        worker_sid: worker_sid.clone(),
        reason: reason.clone(),
        state: "redirecting".into(),
        at_ms: now_ms,
        token: token.to_string(),
    };
    Some(match existing {
        None => ClaimStep::Create { claim: mine },
        Some((claim, _)) if claim.state != "redirecting" => ClaimStep::Done {
            state: claim.state.clone(),
        },
        Some((claim, revision)) => {
            let age = now_ms - claim.at_ms;
            if claim.token == token || !(0.0..=CLAIM_LEASE_MS).contains(&age) {
                ClaimStep::TakeOver {
                    claim: mine,
                    revision: revision.to_string(),
                }
            } else {
                ClaimStep::InProgress
            }
        }
    })
}

/// After the redirect: what the claim becomes and whether to cancel the task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AfterRedirect {
    /// The claim's new state (`None`: leave it as it is).
    pub state: Option<String>,
    /// Delete the claim, so a later event may try again.
    pub release: bool,
    pub cancel_task: bool,
    pub outcome: String,
}

/// What follows the call update: `ok`, or Twilio's `status`/`code` and whether the failure is
/// ambiguous (5xx, timeout: the call may have been redirected).
pub fn after_redirect(
    ok: bool,
    status: Option<u16>,
    code: Option<u32>,
    ambiguous: bool,
) -> AfterRedirect {
    if ok {
        return AfterRedirect {
            state: Some("redirected".into()),
            release: false,
            cancel_task: true,
            outcome: "sent to voicemail".into(),
        };
    }
    // 21220: the call is not in progress: the caller hung up; nothing to record, and the task
    // must not wait for a worker.
    if code == Some(21220) || status == Some(404) {
        return AfterRedirect {
            state: Some("caller_gone".into()),
            release: false,
            cancel_task: true,
            outcome: "the caller had hung up".into(),
        };
    }
    if ambiguous {
        // Maybe redirected: the claim stays `redirecting`, so a later event takes it over after
        // the lease (at worst the greeting starts again), and the task is left alone.
        return AfterRedirect {
            state: None,
            release: false,
            cancel_task: false,
            outcome: "the redirect's outcome is unknown; the claim stays until its lease ends"
                .into(),
        };
    }
    AfterRedirect {
        state: None,
        release: true,
        cancel_task: false,
        outcome: "Twilio refused the redirect; the claim is released".into(),
    }
}
