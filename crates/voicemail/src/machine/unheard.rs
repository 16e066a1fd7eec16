//! A worker's unheard voicemails, counted over their whole box (up to [`BOX_LIMIT`]) after it
//! changed, for the live agents view (docs/agents-live.md). Each count is the whole box's, not a
//! +1/-1, so a count that did not reach the view is put right by the box's next change.

use effects::{Answer, Op, Outcome, Paging};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::machine::{datas, Machine, Turn};
use crate::request::{self, MAX_PAGE_SIZE};
use crate::settings::{Env, Settings};
use crate::{box_map, is_sid, VoicemailError};

/// The most voicemails counted in a box.
pub const BOX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unheard {
    pub worker_sid: String,
}

/// Reads the box of `worker_sid` (a WK… SID, else 400).
pub fn start(worker_sid: &str, env: &Env) -> Result<Turn, VoicemailError> {
    if !is_sid(worker_sid, "WK") {
        return Err(VoicemailError::invalid(
            "workerSid",
            format!("{worker_sid:?} is not a worker SID (WK…)"),
        ));
    }
    let service_sid = Settings::from_env(env)?.sync_service(env)?;
    let op = Op::ListSyncItems {
        service_sid,
        map: box_map(worker_sid),
        from: None,
        bounds: None,
        order: None,
        paging: Paging {
            page_size: Some(MAX_PAGE_SIZE),
            limit: BOX_LIMIT,
        },
    };
    let state = Unheard {
        worker_sid: worker_sid.to_string(),
    };
    Ok(Turn::one(Machine::Unheard(state), op))
}

/// `{workerSid, unheard}`; no box (404) is none unheard.
pub(crate) fn resume(m: Unheard, outcome: Outcome) -> Turn {
    match outcome.found() {
        Ok(items) => {
            let items = items.map(|l| datas(&l)).unwrap_or_default();
            let counted = request::list_answer(&m.worker_sid, &items, None);
            Turn::answer(Answer::json(
                200,
                json!({ "workerSid": m.worker_sid, "unheard": counted.unheard }),
            ))
        }
        Err(f) => Turn::answer(f.answer(&format!("Counting the voicemails of {}", m.worker_sid))),
    }
}
