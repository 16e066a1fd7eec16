//! pickup-parked-call: the record decides, the mark protects, the call update, the unlisting
//! (docs/call-parking.md).

use auth::{Access, Credential};
use call_status::Callback;
use effects::{first, Answer, Op, Outcome, Progress, Step, Upsert};
use parking::{
    pickup_target, ParkingError, PickupPlan, PickupRequest, Settings, SyncDelete, GLOBAL_MAP,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{embed, setting, stored_item, Env, Machine};

/// Twilio's error for a call update of a call that has ended ("Call is not in-progress").
pub const CALL_NOT_IN_PROGRESS: u32 = 21220;

/// Where a pickup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    Read,
    PickupItem,
    Mark,
    UpdateCall,
    Unmark,
    Unlist,
    WrapUp,
}

/// A pickup in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pickup {
    pub request: PickupRequest,
    pub call_sid: String,
    /// The request's credential as `common/auth` identified it (`crates/auth`'s `Credential`),
    /// checked against the record's worker once it is read.
    pub credential: Value,
    pub token: String,
    pub domain_name: Option<String>,
    pub sync_service_sid: String,
    pub workspace_sid: Option<String>,
    pub stage: Stage,
    pub plan: Option<PickupPlan>,
    /// The entry's revision after the mark.
    pub marked: Option<String>,
    pub upsert: Option<Upsert>,
    /// The answer to give once the mark has been taken back.
    pub pending: Option<Answer>,
    /// The deletes of the plan done so far.
    pub unlisted: usize,
    pub warnings: Vec<String>,
    pub wrap: Option<call_status::State>,
}

fn wrapped(p: Pickup) -> Machine {
    Machine::Pickup(Box::new(p))
}

/// Starts pickup-parked-call: checks the call SID (400) and reads the call's entry. The
/// credential is one `crates/auth` already let in for any worker; whose call it is is checked
/// against the record. `token` is unique to the request (the pickup's mark).
pub fn pickup(
    request: &PickupRequest,
    credential: Value,
    env: &Env,
    settings: &Settings,
    token: &str,
) -> Result<Step<Machine>, ParkingError> {
    let sync_service_sid = setting(&env.sync_service_sid, "SYNC_SERVICE_SID")?;
    let target = pickup_target(request)?;
    let op = Op::FetchSyncItem {
        service_sid: sync_service_sid.clone(),
        map: target.map,
        key: target.key,
    };
    let state = Pickup {
        request: request.clone(),
        call_sid: target.call_sid,
        credential,
        token: token.to_string(),
        domain_name: settings.domain_name.clone(),
        sync_service_sid,
        workspace_sid: env.workspace_sid.clone(),
        stage: Stage::Read,
        plan: None,
        marked: None,
        upsert: None,
        pending: None,
        unlisted: 0,
        warnings: Vec::new(),
        wrap: None,
    };
    Ok(Step::one(wrapped(state), op))
}

pub(crate) fn resume(p: Pickup, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
    let outcome = first(outcomes);
    match p.stage {
        Stage::Read => after_read(p, outcome, now_ms),
        Stage::PickupItem => after_pickup_item(p, outcome),
        Stage::Mark => after_mark(p, outcome),
        Stage::UpdateCall => after_update(p, outcome, now_ms),
        Stage::Unmark => Step::answer(
            p.pending
                .clone()
                .unwrap_or_else(|| crate::unreadable_state("the pickup's answer is missing")),
        ),
        Stage::Unlist => after_unlist(p, outcome),
        Stage::WrapUp => {
            let mut p = p;
            let Some(wrap) = p.wrap.take() else {
                return Step::answer(crate::unreadable_state("the wrap-up is missing"));
            };
            let step = call_status::resume(wrap, outcome, now_ms);
            wrapping(p, step)
        }
    }
}

fn after_read(mut p: Pickup, outcome: Outcome, now_ms: f64) -> Step<Machine> {
    let entry = match outcome.found() {
        Ok(entry) => entry.as_ref().map(stored_item),
        Err(f) => {
            let what = format!("Reading the parked call {}", p.call_sid);
            return Step::answer(f.answer(&what));
        }
    };
    let settings = Settings {
        domain_name: p.domain_name.clone(),
        hold_music_path: None,
    };
    let plan = match parking::pickup(&p.request, entry.as_ref(), &p.token, &settings, now_ms) {
        Ok(plan) => plan,
        Err(e) => return Step::answer(Answer::error(&e)),
    };
    // An agent picks up only their own parked call; supervisors and admins anyone's.
    let credential: Credential = match serde_json::from_value(p.credential.clone()) {
        Ok(c) => c,
        Err(e) => return Step::answer(crate::unreadable_state(&format!("the credential: {e}"))),
    };
    let access = Access::ActFor {
        worker_sid: Some(plan.worker_sid.clone()),
    };
    if let Err(e) = auth::authorize(&credential, &access, &auth::Settings::default()) {
        return Step::answer(Answer::error(&e));
    }
    let item = plan.pickup_item.clone();
    p.plan = Some(plan);
    match item {
        Some(item) => {
            let upsert = Upsert::new(
                &p.sync_service_sid,
                &item.map,
                &item.key,
                item.data,
                Some(item.ttl),
            );
            let op = upsert.op();
            p.upsert = Some(upsert);
            p.stage = Stage::PickupItem;
            Step::one(wrapped(p), op)
        }
        None => mark(p),
    }
}

fn after_pickup_item(mut p: Pickup, outcome: Outcome) -> Step<Machine> {
    let Some(upsert) = p.upsert.take() else {
        return Step::answer(crate::unreadable_state(
            "the pickup item's write is missing",
        ));
    };
    match upsert.resume(outcome) {
        Progress::Next(upsert) => {
            let op = upsert.op();
            p.upsert = Some(upsert);
            Step::one(wrapped(p), op)
        }
        Progress::Done(Ok(_)) => mark(p),
        Progress::Done(Err(f)) => {
            let what = format!("Storing the pickup of {}", p.call_sid);
            Step::answer(f.answer(&what))
        }
    }
}

fn plan_or_answer(p: &Pickup) -> Result<PickupPlan, Step<Machine>> {
    p.plan
        .clone()
        .ok_or_else(|| Step::answer(crate::unreadable_state("the pickup plan is missing")))
}

/// Marks the entry picked up (`If-Match` the revision read): the call's end is then never taken
/// for a hang-up while parked, whatever fails afterwards.
fn mark(mut p: Pickup) -> Step<Machine> {
    let plan = match plan_or_answer(&p) {
        Ok(plan) => plan,
        Err(step) => return step,
    };
    let op = Op::UpdateSyncItem {
        service_sid: p.sync_service_sid.clone(),
        map: plan.mark.map,
        key: plan.mark.key,
        data: plan.mark.data,
        ttl: None,
        if_match: plan.mark.if_match,
    };
    p.stage = Stage::Mark;
    Step::one(wrapped(p), op)
}

fn after_mark(mut p: Pickup, outcome: Outcome) -> Step<Machine> {
    let item = match outcome.into_result() {
        Ok(item) => item,
        Err(f) if f.is(412) => {
            let error = format!(
                "The parked call {} changed meanwhile; nothing was changed, please retry",
                p.call_sid
            );
            return Step::answer(Answer::json(
                409,
                json!({"error": error, "code": "conflict"}),
            ));
        }
        Err(f) => {
            let what = format!(
                "Marking the parked call {} (the call stays parked)",
                p.call_sid
            );
            return Step::answer(f.answer(&what));
        }
    };
    p.marked = Some(stored_item(&item).revision).filter(|r| !r.is_empty());
    let plan = match plan_or_answer(&p) {
        Ok(plan) => plan,
        Err(step) => return step,
    };
    let op = Op::UpdateCall {
        call_sid: p.call_sid.clone(),
        twiml: plan.call_update.twiml,
        url: plan.call_update.url,
        method: plan.call_update.method,
        status_callback: None,
        status_callback_method: None,
        status: None,
    };
    p.stage = Stage::UpdateCall;
    Step::one(wrapped(p), op)
}

fn after_update(mut p: Pickup, outcome: Outcome, now_ms: f64) -> Step<Machine> {
    let failure = match outcome {
        Outcome::Done(_) => return unlist(p),
        Outcome::Failed(f) => f,
    };
    if failure.is_code(400, CALL_NOT_IN_PROGRESS) {
        // The caller hung up (its status callback missed): the wrap-up it would have done.
        let callback = Callback {
            call_sid: Some(p.call_sid.clone()),
            call_status: Some("completed".into()),
            sequence_number: None,
            timestamp: None,
        };
        let env = Env {
            workspace_sid: p.workspace_sid.clone(),
            sync_service_sid: Some(p.sync_service_sid.clone()),
        };
        return match call_status::start(&callback, &p.token, &env, now_ms) {
            Ok(step) => wrapping(p, step),
            Err(e) => Step::answer(Answer::error(&e)),
        };
    }
    let what = format!(
        "Picking up call {}: the call update (the call stays parked)",
        p.call_sid
    );
    let answer = failure.answer(&what);
    if failure.ambiguous() {
        // The call may have been redirected: the mark stays, so no hang-up task follows.
        return Step::answer(answer);
    }
    let plan = match plan_or_answer(&p) {
        Ok(plan) => plan,
        Err(step) => return step,
    };
    let op = Op::UpdateSyncItem {
        service_sid: p.sync_service_sid.clone(),
        map: plan.unmark.map,
        key: plan.unmark.key,
        data: plan.unmark.data,
        ttl: None,
        if_match: p.marked.clone(),
    };
    p.pending = Some(answer);
    p.stage = Stage::Unmark;
    Step::one(wrapped(p), op)
}

fn unlist(mut p: Pickup) -> Step<Machine> {
    let next: Option<SyncDelete> = p
        .plan
        .as_ref()
        .and_then(|plan| plan.sync.get(p.unlisted).cloned());
    let Some(entry) = next else {
        let plan = p.plan.clone();
        let mut body = json!({"success": true, "callSid": p.call_sid,
            "holdTime": plan.as_ref().map(|pl| pl.hold_time),
            "taskAttributes": plan.map(|pl| pl.task_attributes)});
        if !p.warnings.is_empty() {
            body["warnings"] = json!(p.warnings);
        }
        return Step::answer(Answer::json(200, body));
    };
    let op = Op::DeleteSyncItem {
        service_sid: p.sync_service_sid.clone(),
        map: entry.map,
        key: entry.key,
        if_match: None,
    };
    p.stage = Stage::Unlist;
    Step::one(wrapped(p), op)
}

fn after_unlist(mut p: Pickup, outcome: Outcome) -> Step<Machine> {
    let map = p
        .plan
        .as_ref()
        .and_then(|plan| plan.sync.get(p.unlisted))
        .map(|d| d.map.clone())
        .unwrap_or_else(|| GLOBAL_MAP.to_string());
    if let Err(f) = outcome.gone() {
        p.warnings.push(format!(
            "removing it from {map} failed ({}); the entry is marked picked up and cleans itself up when the call ends",
            f.message
        ));
    }
    p.unlisted += 1;
    unlist(p)
}

fn wrapping(p: Pickup, step: Step<call_status::State>) -> Step<Machine> {
    let call_sid = p.call_sid.clone();
    embed(
        step,
        |wrap| {
            wrapped(Pickup {
                stage: Stage::WrapUp,
                wrap: Some(wrap),
                ..p
            })
        },
        |answer| {
            let error = format!(
                "The caller of {call_sid} has already hung up; the parked call is wrapped up instead"
            );
            Step::answer(Answer::json(
                410,
                json!({"error": error, "code": "call_ended", "wrapUp": answer.body}),
            ))
        },
    )
}
