//! A changed box's unheard voicemails, counted over the whole box (up to [`BOX_LIMIT`]) as the
//! last step of the machine that changed it, for the live agents view (docs/agents-live.md), when
//! the view has a service of its own. Each count is the whole box's, not a +1/-1, so a count that
//! did not reach the view is put right by the box's next change; a count that cannot be read
//! never changes the answer (a warning says so).

use effects::{Answer, Op, Outcome, Paging, Step};
use serde::{Deserialize, Serialize};

use crate::box_map;
use crate::machine::{datas, Machine, Notes, Turn};
use crate::request::{self, MAX_PAGE_SIZE};

/// The most voicemails counted in a box.
pub const BOX_LIMIT: u32 = 1000;

/// The answer waiting for its box's count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unheard {
    pub worker_sid: String,
    pub answer: Answer,
    pub warning: Option<String>,
    pub base64: bool,
    /// When the listing was asked for: the count is as of then, or later.
    pub at_ms: f64,
}

/// A box's count as the answer carries it (`changedBox`): `atMs` is when its listing was asked
/// for (a newer count wins on the view).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counted {
    pub worker_sid: String,
    pub unheard: usize,
    pub at_ms: f64,
}

/// `turn` as it leaves a machine at `now_ms`: an answer that changed a box goes on to count it,
/// in `service_sid` (none: nobody reads the count, the answer leaves as it is).
pub fn after(turn: Turn, service_sid: Option<String>, now_ms: f64) -> Turn {
    let (Some(service_sid), Some(worker_sid)) = (service_sid, turn.notes.changed_box.clone())
    else {
        return turn;
    };
    let Step::Answer(answer) = turn.step else {
        return turn;
    };
    let op = Op::ListSyncItems {
        service_sid,
        map: box_map(&worker_sid),
        from: None,
        bounds: None,
        order: None,
        paging: Paging {
            page_size: Some(MAX_PAGE_SIZE),
            limit: BOX_LIMIT,
        },
    };
    let state = Unheard {
        worker_sid,
        answer,
        warning: turn.notes.warning,
        base64: turn.notes.base64,
        at_ms: now_ms,
    };
    Turn::one(Machine::Unheard(Box::new(state)), op)
}

/// The waiting answer with its box's count (`changedBox`); no box (404) is none unheard. A count
/// that cannot be read leaves the answer as it was, with a warning.
pub(crate) fn resume(m: Unheard, outcome: Outcome) -> Turn {
    let mut notes = Notes {
        changed_box: Some(m.worker_sid.clone()),
        counted: None,
        warning: m.warning,
        base64: m.base64,
    };
    match outcome.found() {
        Ok(items) => {
            let items = items.map(|l| datas(&l)).unwrap_or_default();
            notes.counted = Some(Counted {
                unheard: request::list_answer(&m.worker_sid, &items, None).unheard,
                worker_sid: m.worker_sid,
                at_ms: m.at_ms,
            });
        }
        Err(f) => {
            let lost = format!(
                "voicemail: the unheard count of {} could not be read ({}); the live agents view shows it after the box's next change",
                m.worker_sid, f.message
            );
            notes.warning = Some(match notes.warning {
                Some(w) => format!("{w}; {lost}"),
                None => lost,
            });
        }
    }
    Turn::answer(m.answer).with(notes)
}
