//! `voicemail-recorded` (and the `<Record>` action): folds one callback into the call's
//! voicemail, `Voicemail.<workerSid>` / `<CallSid>` ([`crate::record`]).
//!
//! Read the item; when no part and nothing stored says who called, read the call once (a failed
//! read stores without: a later part may fill it); merge; create (a missing map is created; a 409
//! means another callback created it first) or update `If-Match` the revision read (a 412: it
//! changed). After a 409 or 412 the item is read and merged again, three times at most.
//!
//! The answer: 200 when done or nothing was to be done; 503 exactly when Twilio's redelivery
//! (`#rc=3&rp=5xx,ct,rt`) can finish the job: the item kept changing, or Sync's failure may have
//! been carried out (5xx, no answer), was throttled (429) or never sent (our deadline). Any other
//! refusal is final: 200 with `stored: false` and Sync's message (a redelivery would fail alike).

use effects::{Answer, Failure, Op, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::machine::{iso, message, Item, Machine, Notes, Turn};
use crate::record::{self, CallbackFields, Part, Voicemail, Write};
use crate::settings::{Env, Settings};
use crate::{box_map, VoicemailError};

/// How many times an item that changed under us is read and merged again.
pub const STORE_ATTEMPTS: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    Read,
    Caller,
    Create,
    CreateMap,
    Update,
}

/// A callback being stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    pub service_sid: String,
    pub map: String,
    pub part: Part,
    pub stage: Stage,
    pub attempt: u8,
    pub fetched_caller: bool,
    pub map_created: bool,
    pub item: Option<Item>,
    pub write: Option<Voicemail>,
    #[serde(default)]
    pub warning: Option<String>,
    /// The live agents view reads the box's unheard count (`Env::board`): counted once changed.
    #[serde(default)]
    pub board: bool,
}

/// Checks the callback (400 naming a field) and the settings (500 naming a variable), and reads
/// the call's voicemail.
pub fn start(fields: &CallbackFields, env: &Env) -> Result<Turn, VoicemailError> {
    let settings = Settings::from_env(env)?;
    let service_sid = settings.sync_service(env)?;
    let part = record::parse_callback(fields)?;
    Ok(begin(service_sid, part, env.board()))
}

/// The machine for an already parsed part (the `<Record>` action embeds it).
pub fn begin(service_sid: String, part: Part, board: bool) -> Turn {
    let s = Store {
        map: box_map(&part.worker_sid),
        service_sid,
        part,
        stage: Stage::Read,
        attempt: 0,
        fetched_caller: false,
        map_created: false,
        item: None,
        write: None,
        warning: None,
        board,
    };
    read(s)
}

fn wrap(s: Store) -> Machine {
    Machine::Store(Box::new(s))
}

fn read(mut s: Store) -> Turn {
    s.stage = Stage::Read;
    let op = Op::FetchSyncItem {
        service_sid: s.service_sid.clone(),
        map: s.map.clone(),
        key: s.part.call_sid.clone(),
    };
    Turn::one(wrap(s), op)
}

pub(crate) fn resume(mut s: Store, outcome: Outcome, now_ms: f64) -> Turn {
    match s.stage {
        Stage::Read => match outcome.found() {
            Ok(found) => {
                s.item = found.as_ref().map(Item::of);
                let stored_from = s
                    .item
                    .as_ref()
                    .and_then(|i| i.data.get("from"))
                    .is_some_and(|f| !f.is_null());
                if s.part.from.is_none() && !s.part.no_audio && !s.fetched_caller && !stored_from {
                    s.fetched_caller = true;
                    s.stage = Stage::Caller;
                    let op = Op::FetchCall {
                        call_sid: s.part.call_sid.clone(),
                    };
                    return Turn::one(wrap(s), op);
                }
                write(s, now_ms)
            }
            Err(f) => failed(s, &f),
        },
        Stage::Caller => {
            match outcome.into_result() {
                Ok(call) => {
                    let text = |k: &str| {
                        call.get(k)
                            .and_then(|v| v.as_str())
                            .filter(|v| !v.is_empty())
                            .map(|v| v.chars().take(64).collect::<String>())
                    };
                    s.part.from = text("from");
                    s.part.to = text("to");
                }
                // Stored without the caller; a later part may fill it.
                Err(f) => {
                    s.warning = Some(format!(
                        "voicemail: the caller of {} is unknown: {}",
                        s.part.call_sid,
                        message(&f)
                    ))
                }
            }
            write(s, now_ms)
        }
        Stage::Create => match outcome.into_result() {
            Ok(_) => stored(&s, "created"),
            // Created meanwhile by another callback: read it and merge into it.
            Err(f) if f.is(409) => again(s),
            Err(f) if f.is(404) && !s.map_created => {
                s.stage = Stage::CreateMap;
                let op = Op::CreateSyncMap {
                    service_sid: s.service_sid.clone(),
                    unique_name: s.map.clone(),
                };
                Turn::one(wrap(s), op)
            }
            Err(f) => failed(s, &f),
        },
        Stage::CreateMap => match outcome.into_result() {
            // 409: another request created the map just now.
            Ok(_) => create(s),
            Err(f) if f.is(409) => create(s),
            Err(f) => failed(s, &f),
        },
        Stage::Update => match outcome.into_result() {
            Ok(_) => stored(&s, "updated"),
            Err(f) if f.is(412) => again(s),
            Err(f) => failed(s, &f),
        },
    }
}

fn write(mut s: Store, now_ms: f64) -> Turn {
    let now = match iso(now_ms) {
        Ok(n) => n,
        Err(a) => return Turn::answer(a),
    };
    let existing: Option<Voicemail> = match &s.item {
        None => None,
        Some(item) => match serde_json::from_value(item.data.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                return Turn::answer(Answer::json(
                    500,
                    json!({ "error": format!("the stored voicemail of {} cannot be read: {e}", s.part.call_sid) }),
                ))
            }
        },
    };
    match record::merge(existing.as_ref(), &s.part, &now) {
        Write::Nothing { reason } => {
            let was_stored = s.item.is_some();
            let answer = Answer::json(
                200,
                json!({ "stored": was_stored, "callSid": s.part.call_sid, "reason": reason }),
            );
            let notes = Notes {
                changed_box: was_stored.then(|| s.part.worker_sid.clone()),
                warning: s.warning.take(),
                ..Notes::default()
            };
            Turn::answer(answer).with(notes)
        }
        Write::Create { voicemail } => {
            s.write = Some(voicemail);
            create(s)
        }
        Write::Update { voicemail } => {
            let revision = s.item.as_ref().map(|i| i.revision.clone());
            let op = Op::UpdateSyncItem {
                service_sid: s.service_sid.clone(),
                map: s.map.clone(),
                key: s.part.call_sid.clone(),
                data: json!(voicemail),
                ttl: None,
                if_match: revision.filter(|r| !r.is_empty()),
            };
            s.write = Some(voicemail);
            s.stage = Stage::Update;
            Turn::one(wrap(s), op)
        }
    }
}

fn create(mut s: Store) -> Turn {
    let data = json!(s.write);
    s.stage = Stage::Create;
    let op = Op::CreateSyncItem {
        service_sid: s.service_sid.clone(),
        map: s.map.clone(),
        key: s.part.call_sid.clone(),
        data,
        ttl: None,
    };
    Turn::one(wrap(s), op)
}

/// The item changed under us: read and merge again, or (the last attempt) let Twilio redeliver.
fn again(mut s: Store) -> Turn {
    s.attempt = s.attempt.saturating_add(1);
    if s.attempt >= STORE_ATTEMPTS {
        let error = format!(
            "the voicemail of {} kept changing; a redelivery will finish",
            s.part.call_sid
        );
        return Turn::answer(Answer::json(503, json!({ "error": error }))).with(Notes {
            warning: s.warning.take(),
            ..Notes::default()
        });
    }
    s.write = None;
    read(s)
}

fn stored(s: &Store, how: &str) -> Turn {
    let mut body = json!({ "stored": true, "voicemail": s.write });
    body[how] = json!(true);
    Turn::answer(Answer::json(200, body)).with(Notes {
        changed_box: Some(s.part.worker_sid.clone()),
        warning: s.warning.clone(),
        ..Notes::default()
    })
}

/// Whether Twilio's redelivery of the callback can finish what `f` stopped.
pub fn redelivery_helps(f: &Failure) -> bool {
    f.ambiguous() || f.is(429) || !f.attempted
}

fn failed(s: Store, f: &Failure) -> Turn {
    let call = &s.part.call_sid;
    if redelivery_helps(f) {
        let warning = format!(
            "voicemail: storing {call} failed, a redelivery will finish: {}",
            f.message
        );
        let error = format!(
            "storing the voicemail failed ({}); a redelivery will finish",
            f.message
        );
        return Turn::answer(Answer::json(503, json!({ "error": error }))).with(Notes {
            warning: Some(warning),
            ..Notes::default()
        });
    }
    let error = format!("Sync refused the voicemail: {}", f.message);
    Turn::answer(Answer::json(
        200,
        json!({ "stored": false, "error": error }),
    ))
    .with(Notes {
        warning: s.warning,
        ..Notes::default()
    })
}
