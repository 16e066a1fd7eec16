//! pickup-twiml: the `<Enqueue>` TwiML of a pickup too large for a call update, from its
//! `ParkedCalls.Pickups` item.

use effects::{Answer, Op, Outcome, Step};
use parking::{pickup_target, ParkingError, PickupRequest, PICKUPS_MAP};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{setting, Env, Machine};

/// A pickup-twiml request waiting for its item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupTwiml {
    pub call_sid: String,
}

/// Checks `CallSid` (400 before any read) and reads the call's pickup item.
pub fn pickup_twiml(call_sid: Option<String>, env: &Env) -> Result<Step<Machine>, ParkingError> {
    let sync_service_sid = setting(&env.sync_service_sid, "SYNC_SERVICE_SID")?;
    let target = pickup_target(&PickupRequest {
        call_sid,
        ..PickupRequest::default()
    })?;
    let op = Op::FetchSyncItem {
        service_sid: sync_service_sid,
        map: PICKUPS_MAP.into(),
        key: target.call_sid.clone(),
    };
    let state = PickupTwiml {
        call_sid: target.call_sid,
    };
    Ok(Step::one(Machine::PickupTwiml(state), op))
}

pub(crate) fn resume(m: PickupTwiml, outcome: Outcome) -> Step<Machine> {
    let item = match outcome.found() {
        Ok(item) => item,
        Err(f) => {
            let what = format!("Reading the pickup of {}", m.call_sid);
            return Step::answer(f.answer(&what));
        }
    };
    let data: Option<Value> = item.and_then(|i| i.get("data").cloned());
    match parking::pickup_twiml(Some(m.call_sid.as_str()), data.as_ref()) {
        Ok(twiml) => Step::answer(Answer::text(200, twiml, "text/xml")),
        Err(e) => Step::answer(Answer::error(&e)),
    }
}
