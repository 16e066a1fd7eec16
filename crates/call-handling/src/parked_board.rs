//! The parked calls' figures on the wallboard (docs/direct-calls.md, "Parked calls on the board"):
//! the queue-statistics callback's extra (`common/parked-board`) reads `Global.ParkedCalls` once
//! per refresh and adds each queue's figures to its record (`parking::board`).
//!
//! One list of the map (pages of 100, up to [`PARKED_LIST_LIMIT`] entries); no map (404) is no
//! parked call. The answer is `parking::board::parked_by_queue` of the entries; a failed read is
//! answered as [`effects::Failure::answer`] says, and the extra keeps the previous figures.

use effects::{Answer, Op, Outcome, Paging, Step};
use parking::{ParkingError, GLOBAL_MAP};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{setting, Env, Machine};

/// The most parked-call entries read for the board (far above what a contact center parks).
pub const PARKED_LIST_LIMIT: u32 = 10_000;

/// A read of the parked calls (nothing to remember between its one step and the answer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedBoard {}

/// Lists `Global.ParkedCalls` (500 naming `SYNC_SERVICE_SID` when it is not set).
pub fn parked_board(env: &Env) -> Result<Step<Machine>, ParkingError> {
    let service_sid = setting(&env.sync_service_sid, "SYNC_SERVICE_SID")?;
    let op = Op::ListSyncItems {
        service_sid,
        map: GLOBAL_MAP.to_string(),
        from: None,
        bounds: None,
        order: None,
        paging: Paging {
            page_size: Some(100),
            limit: PARKED_LIST_LIMIT,
        },
    };
    Ok(Step::one(Machine::ParkedBoard(ParkedBoard {}), op))
}

pub(crate) fn resume(outcome: Outcome) -> Step<Machine> {
    match outcome.found() {
        Ok(list) => {
            let entries: Vec<Value> = list
                .as_ref()
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.get("data").cloned())
                        .collect()
                })
                .unwrap_or_default();
            Step::answer(Answer::json(
                200,
                json!(parking::board::parked_by_queue(&entries)),
            ))
        }
        Err(f) => Step::answer(f.answer(&format!("Reading {GLOBAL_MAP}"))),
    }
}
