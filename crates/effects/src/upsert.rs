//! "Create this map item, or update it if the key exists", as a machine other machines embed.
//!
//! 1. Create the item. Done.
//! 2. The key exists (409, Twilio error 54208): update it (same data and TTL, no `If-Match`).
//! 3. The map does not exist (404): create the map (a 409 means another request just did), then
//!    create the item again (and update it if that finds the key taken).
//!
//! Creating first keeps a first write to one request; the map is created only when missing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Failure, Op, Outcome, SYNC_ITEM_EXISTS};

/// Where an upsert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UpsertStage {
    Create,
    CreateMap,
    CreateAfterMap,
    Update,
}

/// An upsert in progress (plain data: it travels inside its machine's state).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upsert {
    pub service_sid: String,
    pub map: String,
    pub key: String,
    pub data: Value,
    #[serde(default)]
    pub ttl: Option<u32>,
    pub stage: UpsertStage,
}

/// What an upsert does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Perform [`Upsert::op`] of this one and resume it.
    Next(Upsert),
    /// Finished: the item as Twilio answered it, or the failure.
    Done(Result<Value, Failure>),
}

impl Upsert {
    pub fn new(service_sid: &str, map: &str, key: &str, data: Value, ttl: Option<u32>) -> Upsert {
        Upsert {
            service_sid: service_sid.to_string(),
            map: map.to_string(),
            key: key.to_string(),
            data,
            ttl,
            stage: UpsertStage::Create,
        }
    }

    /// The operation of the current stage.
    pub fn op(&self) -> Op {
        match self.stage {
            UpsertStage::Create | UpsertStage::CreateAfterMap => Op::CreateSyncItem {
                service_sid: self.service_sid.clone(),
                map: self.map.clone(),
                key: self.key.clone(),
                data: self.data.clone(),
                ttl: self.ttl,
            },
            UpsertStage::CreateMap => Op::CreateSyncMap {
                service_sid: self.service_sid.clone(),
                unique_name: self.map.clone(),
            },
            UpsertStage::Update => Op::UpdateSyncItem {
                service_sid: self.service_sid.clone(),
                map: self.map.clone(),
                key: self.key.clone(),
                data: self.data.clone(),
                ttl: self.ttl,
                if_match: None,
            },
        }
    }

    /// The next stage from how the current one went.
    pub fn resume(self, outcome: Outcome) -> Progress {
        let failure = match outcome {
            Outcome::Done(_) if self.stage == UpsertStage::CreateMap => {
                return self.at(UpsertStage::CreateAfterMap)
            }
            Outcome::Done(v) => return Progress::Done(Ok(v)),
            Outcome::Failed(f) => f,
        };
        match self.stage {
            UpsertStage::Create | UpsertStage::CreateAfterMap
                if failure.is_code(409, SYNC_ITEM_EXISTS) =>
            {
                self.at(UpsertStage::Update)
            }
            UpsertStage::Create if failure.is(404) => self.at(UpsertStage::CreateMap),
            // Created meanwhile by another request.
            UpsertStage::CreateMap if failure.is(409) => self.at(UpsertStage::CreateAfterMap),
            _ => Progress::Done(Err(failure)),
        }
    }

    fn at(self, stage: UpsertStage) -> Progress {
        Progress::Next(Upsert { stage, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fail(status: u16, code: Option<u32>) -> Outcome {
        Outcome::Failed(Failure {
            status: Some(status),
            code,
            message: "x".into(),
            attempted: true,
            more_info: None,
        })
    }

    /// Runs an upsert against answers given in order; the kinds of the operations it asked for.
    fn drive(answers: Vec<Outcome>) -> (Vec<&'static str>, Result<Value, Failure>) {
        let mut u = Upsert::new("IS1", "M", "k", json!({"a": 1}), Some(60));
        let mut kinds = vec![];
        for answer in answers {
            kinds.push(match u.op() {
                Op::CreateSyncItem { ttl: Some(60), .. } => "create",
                Op::CreateSyncMap { .. } => "createMap",
                Op::UpdateSyncItem {
                    ttl: Some(60),
                    if_match: None,
                    ..
                } => "update",
                _ => "other",
            });
            match u.clone().resume(answer) {
                Progress::Next(next) => u = next,
                Progress::Done(result) => return (kinds, result),
            }
        }
        (kinds, Err(Failure::missing()))
    }

    #[test]
    fn creates_updates_and_makes_the_map() {
        let ok = || Outcome::Done(json!({"revision": "0"}));
        assert_eq!(
            drive(vec![ok()]),
            (vec!["create"], Ok(json!({"revision": "0"})))
        );
        assert_eq!(
            drive(vec![fail(409, Some(54208)), ok()]).0,
            vec!["create", "update"]
        );
        assert_eq!(
            drive(vec![fail(404, None), ok(), ok()]).0,
            vec!["create", "createMap", "create"]
        );
        // The map made meanwhile, and the item too.
        let (kinds, result) = drive(vec![
            fail(404, None),
            fail(409, Some(54301)),
            fail(409, Some(54208)),
            ok(),
        ]);
        assert_eq!(kinds, vec!["create", "createMap", "create", "update"]);
        assert!(result.is_ok());
    }

    #[test]
    fn other_failures_end_it() {
        let (kinds, result) = drive(vec![fail(500, None)]);
        assert_eq!(kinds, vec!["create"]);
        assert_eq!(result.map_err(|f| f.status), Err(Some(500)));
        // A 409 without 54208 is not "the key exists".
        assert!(drive(vec![fail(409, None)]).1.is_err());
        // A second 404 after making the map is a failure, not a loop.
        let (kinds, result) = drive(vec![
            fail(404, None),
            Outcome::Done(json!({})),
            fail(404, None),
        ]);
        assert_eq!(kinds.len(), 3);
        assert!(result.is_err());
        assert!(drive(vec![fail(409, Some(54208)), fail(404, None)])
            .1
            .is_err());
    }
}
