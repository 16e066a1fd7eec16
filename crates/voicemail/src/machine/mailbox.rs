//! `voicemail` (the box, [`crate::request`]): who may reach which box, and each action's requests.
//!
//! **Who.** Any worker's valid Flex token (`crates/auth`'s `anyWorker`), for the box of
//! `workerSid` (default: the token's own worker) if the token may act for that worker (`actFor`:
//! an agent their own box only, a supervisor or admin anyone's). So an agent can never list,
//! play, mark or delete another's voicemail (403 `wrong_worker`), and a voicemail of another box
//! is "not found" whichever box is named ([`request::stored`]).
//!
//! | action | requests | answer |
//! |---|---|---|
//! | `list` | the box's items from `pageToken`, one more than `pageSize` (the extra one says there is more) | [`request::list_answer`] (404 on the map: an empty box) |
//! | `heard` | the item; its update `If-Match` (after a 412, read again: three times, then 409 `conflict`); nothing when it already is | `{voicemail}` |
//! | `delete` | the item; the Twilio recording (404: already gone); the item (404: already gone) | `{deleted, callSid, recordingSid}` |
//! | `media` | the item; the recording's audio | the bytes (`audio/mpeg` or `audio/wav`); 404 `recording_gone` when Twilio has no such recording |
//!
//! The recording goes first: if that fails the voicemail stays listed and deleting it again works.
//! Every `heard` and `delete` that finds the voicemail counts the box again for the live agents view
//! ([`Notes::changed_box`]), a mark that changes nothing too: a count that did not reach the view
//! is put right by any mark.

use auth::{Access, AuthError, Credential};
use effects::{Answer, Failure, Op, Outcome, Paging};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::machine::{datas, iso, keys, Item, Machine, Notes, Turn};
use crate::record::{self, Voicemail};
use crate::request::{self, BoxFields, BoxPlan};
use crate::settings::{Env, Settings};
use crate::VoicemailError;

/// How many times a mark that lost to another write is tried.
pub const MARK_ATTEMPTS: u8 = 3;

/// Why a box request is refused before any read.
#[derive(Debug)]
pub enum Refused {
    Auth(AuthError),
    Voicemail(VoicemailError),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Auth(e) => e.fmt(f),
            Refused::Voicemail(e) => e.fmt(f),
        }
    }
}

impl wasm_face::FaceError for Refused {
    fn code(&self) -> &'static str {
        match self {
            Refused::Auth(e) => wasm_face::FaceError::code(e),
            Refused::Voicemail(e) => e.code(),
        }
    }
    fn status(&self) -> u16 {
        match self {
            Refused::Auth(e) => wasm_face::FaceError::status(e),
            Refused::Voicemail(e) => e.http_status(),
        }
    }
    fn parameter(&self) -> Option<&str> {
        match self {
            Refused::Auth(e) => wasm_face::FaceError::parameter(e),
            Refused::Voicemail(e) => e.parameter(),
        }
    }
}

impl From<AuthError> for Refused {
    fn from(e: AuthError) -> Refused {
        Refused::Auth(e)
    }
}

impl From<VoicemailError> for Refused {
    fn from(e: VoicemailError) -> Refused {
        Refused::Voicemail(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    List,
    Read,
    Mark,
    DeleteRecording,
    DeleteItem,
    Media,
}

/// A box request under way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mailbox {
    pub plan: BoxPlan,
    pub service_sid: String,
    pub settings: Settings,
    pub stage: Stage,
    pub attempt: u8,
    pub voicemail: Option<Voicemail>,
    pub item: Option<Item>,
    pub changed: Option<Voicemail>,
    /// The live agents view reads the box's unheard count (`Env::board`): counted once changed.
    #[serde(default)]
    pub board: bool,
}

/// Authorizes the request and checks it (403/400 before any read; 500 naming a bad setting),
/// then asks for its first read. `credential` is `common/auth`'s `identify()`.
pub fn start(fields: &BoxFields, credential: &Credential, env: &Env) -> Result<Turn, Refused> {
    let settings = auth::Settings::default();
    let grant = auth::authorize(
        credential,
        &Access::AnyWorker {
            wallboard_key: false,
        },
        &settings,
    )?;
    let plan = request::plan(fields, grant.worker_sid.as_deref())?;
    auth::authorize(
        credential,
        &Access::ActFor {
            worker_sid: Some(plan.worker_sid.clone()),
        },
        &settings,
    )?;
    let vm_settings = Settings::from_env(env)?;
    let service_sid = vm_settings.sync_service(env)?;
    let m = Mailbox {
        plan,
        service_sid,
        settings: vm_settings,
        stage: Stage::Read,
        attempt: 0,
        voicemail: None,
        item: None,
        changed: None,
        board: env.board(),
    };
    Ok(if m.plan.action == "list" {
        list(m)
    } else {
        read(m)
    })
}

fn wrap(m: Mailbox) -> Machine {
    Machine::Mailbox(Box::new(m))
}

fn list(mut m: Mailbox) -> Turn {
    let more = m.plan.page_size.saturating_add(1);
    let op = Op::ListSyncItems {
        service_sid: m.service_sid.clone(),
        map: m.plan.map.clone(),
        from: m.plan.page_token.clone(),
        bounds: m.plan.page_token.as_ref().map(|_| "exclusive".to_string()),
        order: Some("asc".into()),
        paging: Paging {
            page_size: Some(more.min(request::MAX_PAGE_SIZE)),
            limit: more,
        },
    };
    m.stage = Stage::List;
    Turn::one(wrap(m), op)
}

fn call_sid(m: &Mailbox) -> String {
    m.plan.call_sid.clone().unwrap_or_default()
}

fn read(mut m: Mailbox) -> Turn {
    let op = Op::FetchSyncItem {
        service_sid: m.service_sid.clone(),
        map: m.plan.map.clone(),
        key: call_sid(&m),
    };
    m.stage = Stage::Read;
    Turn::one(wrap(m), op)
}

fn changed(answer: Answer, worker_sid: &str) -> Turn {
    Turn::answer(answer).with(Notes {
        changed_box: Some(worker_sid.to_string()),
        ..Notes::default()
    })
}

pub(crate) fn resume(mut m: Mailbox, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
    let outcome = effects::first(outcomes);
    let call = call_sid(&m);
    match m.stage {
        Stage::List => {
            let items = match outcome.found() {
                Ok(found) => found.unwrap_or_else(|| json!([])),
                Err(f) => return Turn::answer(f.answer("Listing the voicemails")),
            };
            let size = usize::try_from(m.plan.page_size).unwrap_or(usize::MAX);
            let mut data = datas(&items);
            let page_keys = keys(&items);
            let more = data.len() > size;
            data.truncate(size);
            let next = if more {
                page_keys.get(size.saturating_sub(1)).cloned()
            } else {
                None
            };
            let answer = request::list_answer(&m.plan.worker_sid, &data, next);
            Turn::answer(Answer::json(200, json!(answer)))
        }
        Stage::Read => {
            let found = match outcome.found() {
                Ok(found) => found,
                Err(f) => return Turn::answer(f.answer(&format!("Reading voicemail {call}"))),
            };
            let item = found.as_ref().map(Item::of);
            let voicemail = match request::stored(&m.plan, item.as_ref().map(|i| &i.data)) {
                Ok(v) => v,
                Err(e) => return Turn::answer(Answer::error(&e)),
            };
            after_read(m, item, voicemail, now_ms)
        }
        Stage::Mark => match outcome.into_result() {
            Ok(_) => changed(
                Answer::json(200, json!({ "voicemail": m.changed })),
                &m.plan.worker_sid,
            ),
            Err(f) if f.is(412) => {
                m.attempt = m.attempt.saturating_add(1);
                if m.attempt >= MARK_ATTEMPTS {
                    return Turn::answer(Answer::json(
                        409,
                        json!({ "error": format!("Voicemail {call} kept changing; try again"), "code": "conflict" }),
                    ));
                }
                read(m)
            }
            Err(f) => Turn::answer(f.answer(&format!("Marking voicemail {call}"))),
        },
        Stage::DeleteRecording => {
            let recording = recording_sid(&m);
            if let Err(f) = outcome.gone() {
                return Turn::answer(f.answer(&format!("Deleting recording {recording}")));
            }
            let op = Op::DeleteSyncItem {
                service_sid: m.service_sid.clone(),
                map: m.plan.map.clone(),
                key: call.clone(),
                if_match: None,
            };
            m.stage = Stage::DeleteItem;
            Turn::one(wrap(m), op)
        }
        Stage::DeleteItem => {
            let recording = recording_sid(&m);
            if let Err(f) = outcome.gone() {
                let what = format!("Deleting voicemail {call} (its recording is already deleted)");
                return Turn::answer(f.answer(&what));
            }
            changed(
                Answer::json(
                    200,
                    json!({ "deleted": true, "callSid": call, "recordingSid": recording }),
                ),
                &m.plan.worker_sid,
            )
        }
        Stage::Media => media(&m, outcome),
    }
}

fn recording_sid(m: &Mailbox) -> String {
    m.voicemail
        .as_ref()
        .map(|v| v.recording_sid.clone())
        .unwrap_or_default()
}

fn after_read(mut m: Mailbox, item: Option<Item>, voicemail: Voicemail, now_ms: f64) -> Turn {
    match m.plan.action.as_str() {
        "heard" => {
            let now = match iso(now_ms) {
                Ok(n) => n,
                Err(a) => return Turn::answer(a),
            };
            let Some(new) = record::mark_heard(&voicemail, m.plan.heard, &now) else {
                // Already so: nothing written; the box is counted again all the same (a count that
                // did not reach the agents view is put right by any mark).
                return changed(
                    Answer::json(200, json!({ "voicemail": voicemail })),
                    &m.plan.worker_sid,
                );
            };
            let op = Op::UpdateSyncItem {
                service_sid: m.service_sid.clone(),
                map: m.plan.map.clone(),
                key: call_sid(&m),
                data: json!(new),
                ttl: None,
                if_match: item
                    .as_ref()
                    .map(|i| i.revision.clone())
                    .filter(|r| !r.is_empty()),
            };
            m.item = item;
            m.voicemail = Some(voicemail);
            m.changed = Some(new);
            m.stage = Stage::Mark;
            Turn::one(wrap(m), op)
        }
        "delete" => {
            let op = Op::DeleteRecording {
                recording_sid: voicemail.recording_sid.clone(),
            };
            m.voicemail = Some(voicemail);
            m.stage = Stage::DeleteRecording;
            Turn::one(wrap(m), op)
        }
        _ => {
            if !values::sid::is_sid(&voicemail.recording_sid, "RE") {
                return Turn::answer(Answer::json(
                    500,
                    json!({ "error": "the stored recording SID is not a RE… SID", "code": "invalid_parameter" }),
                ));
            }
            let op = Op::FetchRecordingMedia {
                recording_sid: voicemail.recording_sid.clone(),
                format: m.settings.media_format.clone(),
            };
            m.voicemail = Some(voicemail);
            m.stage = Stage::Media;
            Turn::one(wrap(m), op)
        }
    }
}

/// The recording's audio as the answer (base64, for the shim to send as bytes).
fn media(m: &Mailbox, outcome: Outcome) -> Turn {
    let recording = recording_sid(m);
    let call = call_sid(m);
    match outcome.into_result() {
        Ok(value) => {
            let Some(bytes) = value.get("base64").and_then(Value::as_str) else {
                return Turn::answer(Answer::json(
                    502,
                    json!({ "error": format!("Fetching recording {recording} gave no audio") }),
                ));
            };
            let content_type = m.settings.media_type();
            Turn::answer(Answer::text(200, bytes.to_string(), content_type)).with(Notes {
                base64: true,
                ..Notes::default()
            })
        }
        Err(f) if f.is(404) => Turn::answer(Answer::json(
            404,
            json!({ "error": format!("Recording {recording} of voicemail {call} no longer exists at Twilio"), "code": "recording_gone" }),
        )),
        Err(f) => Turn::answer(media_failure(&f, &recording)),
    }
}

/// A failed media fetch: never sent 504; otherwise 502 (Twilio's status named), as the box
/// cannot do anything about it.
fn media_failure(f: &Failure, recording: &str) -> Answer {
    if !f.attempted {
        return f.answer(&format!("Fetching recording {recording}"));
    }
    let why = match f.status {
        Some(s) => format!("Twilio answered HTTP {s}"),
        None => f.message.clone(),
    };
    Answer::json(
        502,
        json!({ "error": format!("Fetching recording {recording} failed: {why}") }),
    )
}
