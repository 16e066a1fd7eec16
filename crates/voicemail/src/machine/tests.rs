//! The machines against an in-memory Twilio (Sync maps, calls, recordings, a worker, tasks) that
//! can fail any operation the ways the executor reports, with the state sent through JSON
//! between steps as the executor does.

use std::collections::BTreeMap;

use effects::{Effect, Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::event::TaskEvent;
use crate::record::CallbackFields;
use crate::request::BoxFields;
use crate::settings::Env;
use crate::twiml::TwimlRequest;

const WK: &str = "WK0123456789abcdef0123456789abcdef";
const WK2: &str = "WKfedcba9876543210fedcba9876543210";
const CA: &str = "CA0123456789abcdef0123456789abcdef";
const CA2: &str = "CA1123456789abcdef0123456789abcdef";
const WT: &str = "WT0123456789abcdef0123456789abcdef";
const WS: &str = "WS0123456789abcdef0123456789abcdef";
const IS: &str = "IS0123456789abcdef0123456789abcdef";
const RE: &str = "RE0123456789abcdef0123456789abcdef";
/// 2024-05-01T12:00:00.000Z
const NOW: f64 = 1_714_564_800_000.0;

fn env() -> Env {
    Env {
        domain_name: Some("svc-1234.twil.io".into()),
        sync_service_sid: Some(IS.into()),
        workspace_sid: Some(WS.into()),
        voicemail_media_format: Some("wav".into()),
        ..Env::default()
    }
}

fn failed(status: Option<u16>, code: Option<u32>) -> Outcome {
    Outcome::Failed(Failure {
        status,
        code,
        message: format!("failed {status:?} {code:?}"),
        more_info: None,
        attempted: true,
    })
}

fn not_sent() -> Outcome {
    Outcome::Failed(Failure {
        message: "deadline".into(),
        attempted: false,
        ..Failure::default()
    })
}

type Fault = (Box<dyn Fn(&Op) -> bool>, Outcome, bool);

/// A small Twilio.
struct World {
    maps: BTreeMap<String, BTreeMap<String, (Value, u64)>>,
    call: Value,
    call_status: String,
    redirected: Vec<String>,
    recordings: Vec<String>,
    worker: Option<Value>,
    task_status: String,
    faults: Vec<Fault>,
    log: Vec<String>,
    /// Every effect as sent (for the retry flags).
    sent: Vec<Effect>,
}

impl World {
    fn new() -> World {
        World {
            maps: BTreeMap::new(),
            call: json!({"sid": CA, "from": "+15551230000", "to": "+15559990000"}),
            call_status: "in-progress".into(),
            redirected: Vec::new(),
            recordings: vec![RE.into()],
            worker: Some(
                json!({"sid": WK, "friendlyName": "alice", "attributes": json!({"full_name": "Alice Example"}).to_string()}),
            ),
            task_status: "pending".into(),
            faults: Vec::new(),
            log: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// The first matching operation fails with `outcome` (carried out anyway when `applied`).
    fn fail(&mut self, m: impl Fn(&Op) -> bool + 'static, outcome: Outcome, applied: bool) {
        self.faults.push((Box::new(m), outcome, applied));
    }

    fn put(&mut self, map: &str, key: &str, data: Value) {
        let entry = self.maps.entry(map.into()).or_default();
        let rev = entry.get(key).map_or(1, |(_, r)| r + 1);
        entry.insert(key.into(), (data, rev));
    }

    fn get(&self, map: &str, key: &str) -> Option<&Value> {
        self.maps.get(map).and_then(|m| m.get(key)).map(|(d, _)| d)
    }

    fn kind(op: &Op) -> String {
        serde_json::to_value(op)
            .ok()
            .and_then(|v| v["kind"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn perform(&mut self, effect: &Effect) -> Outcome {
        self.sent.push(effect.clone());
        let op = &effect.op;
        self.log.push(World::kind(op));
        if let Some(i) = self.faults.iter().position(|(m, _, _)| m(op)) {
            let (_, outcome, applied) = self.faults.remove(i);
            if applied {
                self.apply(op);
            }
            return outcome;
        }
        self.apply(op)
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        match op {
            Op::FetchSyncItem { map, key, .. } => match self.maps.get(map).and_then(|m| m.get(key))
            {
                Some((data, rev)) => {
                    Outcome::Done(json!({"key": key, "data": data, "revision": rev.to_string()}))
                }
                None => failed(Some(404), Some(20404)),
            },
            Op::ListSyncItems {
                map, from, paging, ..
            } => match self.maps.get(map) {
                None => failed(Some(404), Some(20404)),
                Some(m) => {
                    let items: Vec<Value> = m
                        .iter()
                        .filter(|(k, _)| from.as_ref().is_none_or(|f| k.as_str() > f.as_str()))
                        .take(paging.limit as usize)
                        .map(|(k, (d, r))| json!({"key": k, "data": d, "revision": r.to_string()}))
                        .collect();
                    Outcome::Done(Value::Array(items))
                }
            },
            Op::CreateSyncMap { unique_name, .. } => {
                if self.maps.contains_key(unique_name) {
                    return failed(Some(409), Some(54301));
                }
                self.maps.insert(unique_name.clone(), BTreeMap::new());
                Outcome::Done(json!({"uniqueName": unique_name}))
            }
            Op::CreateSyncItem { map, key, data, .. } => {
                let Some(m) = self.maps.get(map) else {
                    return failed(Some(404), Some(20404));
                };
                if m.contains_key(key) {
                    return failed(Some(409), Some(54208));
                }
                self.put(map, key, data.clone());
                Outcome::Done(json!({"key": key, "data": data, "revision": "1"}))
            }
            Op::UpdateSyncItem {
                map,
                key,
                data,
                if_match,
                ..
            } => {
                let Some((_, rev)) = self.maps.get(map).and_then(|m| m.get(key)) else {
                    return failed(Some(404), Some(20404));
                };
                if if_match.as_ref().is_some_and(|r| *r != rev.to_string()) {
                    return failed(Some(412), Some(54103));
                }
                self.put(map, key, data.clone());
                Outcome::Done(json!({"key": key, "data": data}))
            }
            Op::DeleteSyncItem { map, key, .. } => {
                match self.maps.get_mut(map).and_then(|m| m.remove(key)) {
                    Some(_) => Outcome::Done(json!(true)),
                    None => failed(Some(404), Some(20404)),
                }
            }
            Op::FetchCall { .. } => Outcome::Done(self.call.clone()),
            Op::UpdateCall { url, .. } => {
                if self.call_status != "in-progress" {
                    return failed(Some(400), Some(21220));
                }
                self.redirected.push(url.clone().unwrap_or_default());
                Outcome::Done(self.call.clone())
            }
            Op::UpdateTask {
                assignment_status, ..
            } => {
                if self.task_status == "canceled" {
                    return failed(Some(400), Some(20001));
                }
                self.task_status = assignment_status.clone().unwrap_or_default();
                Outcome::Done(json!({"sid": WT, "assignmentStatus": self.task_status}))
            }
            Op::FetchWorker { .. } => match &self.worker {
                Some(w) => Outcome::Done(w.clone()),
                None => failed(Some(404), Some(20404)),
            },
            Op::DeleteRecording { recording_sid } => {
                match self.recordings.iter().position(|r| r == recording_sid) {
                    Some(i) => {
                        self.recordings.remove(i);
                        Outcome::Done(json!(true))
                    }
                    None => failed(Some(404), Some(20404)),
                }
            }
            Op::FetchRecordingMedia {
                recording_sid,
                format,
            } => {
                if !self.recordings.contains(recording_sid) {
                    return failed(Some(404), Some(20404));
                }
                Outcome::Done(
                    json!({"contentType": format!("audio/{format}"), "base64": "UklGRg=="}),
                )
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Drives a machine to its answer, the state through JSON each step.
    fn run(&mut self, first: Turn) -> (Answer, Notes) {
        let mut turn = first;
        for _ in 0..100 {
            match turn.step {
                Step::Answer(a) => return (a, turn.notes),
                Step::Run { state, effects } => {
                    let wire = serde_json::to_value(&state).expect("state");
                    let state: Machine = serde_json::from_value(wire).expect("reads back");
                    let outcomes = effects.iter().map(|e| self.perform(e)).collect();
                    turn = resume(state, outcomes, NOW + 1000.0);
                }
            }
        }
        panic!("no answer after 100 steps");
    }
}

fn voicemail(call: &str, heard: bool) -> Value {
    json!({"callSid": call, "workerSid": WK, "recordingSid": RE, "from": "+1555", "dateCreated": "2024-05-01T11:00:00.000Z", "heard": heard})
}

fn credential(worker: &str, roles: &[&str]) -> auth::Credential {
    serde_json::from_value(json!({"kind": "flex", "iam": {"valid": true, "identity": "x", "worker_sid": worker, "roles": roles}}))
        .expect("credential")
}

fn boxed(fields: Value, who: &auth::Credential) -> Result<Turn, mailbox::Refused> {
    boxed_on(fields, who, &env())
}

fn boxed_on(fields: Value, who: &auth::Credential, env: &Env) -> Result<Turn, mailbox::Refused> {
    let f: BoxFields = serde_json::from_value(fields).expect("fields");
    mailbox::start(&f, who, env)
}

fn code(r: Result<Turn, mailbox::Refused>) -> (u16, &'static str) {
    match r {
        Err(e) => (
            wasm_face::FaceError::status(&e),
            wasm_face::FaceError::code(&e),
        ),
        Ok(_) => (200, "started"),
    }
}

#[test]
fn an_agent_reaches_their_own_box_only_a_supervisor_anyones() {
    let agent = credential(WK, &["agent"]);
    let other = credential(WK2, &["agent"]);
    let sup = credential(WK2, &["agent", "supervisor"]);
    for action in ["list", "heard", "delete", "media"] {
        let fields = json!({"action": action, "workerSid": WK, "callSid": CA});
        assert_eq!(
            code(boxed(fields.clone(), &other)),
            (403, "wrong_worker"),
            "{action}"
        );
        assert_eq!(code(boxed(fields.clone(), &agent)).0, 200, "{action}");
        assert_eq!(code(boxed(fields, &sup)).0, 200, "{action}");
    }
    let none: auth::Credential =
        serde_json::from_value(json!({"kind": "flex", "iam": null})).expect("c");
    assert_eq!(code(boxed(json!({}), &none)).0, 403);
    let in_url: auth::Credential =
        serde_json::from_value(json!({"kind": "flexTokenInUrl"})).expect("c");
    assert_eq!(code(boxed(json!({}), &in_url)), (400, "token_in_url"));
    let key: auth::Credential =
        serde_json::from_value(json!({"kind": "wallboardKey", "key": "k"})).expect("c");
    assert_eq!(
        code(boxed(json!({"workerSid": WK}), &key)).0,
        403,
        "a wallboard key reaches no box"
    );
    assert_eq!(
        code(boxed(json!({"action": "burn"}), &agent)),
        (400, "invalid_parameter")
    );
    // Another box's voicemail is not found, even for a supervisor naming the wrong box.
    let mut w = World::new();
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    w.put(&crate::box_map(WK2), CA2, voicemail(CA2, false)); // stored under WK2 but says WK
    let (a, _) = w.run(
        boxed(
            json!({"action": "media", "workerSid": WK2, "callSid": CA2}),
            &sup,
        )
        .expect("starts"),
    );
    assert_eq!(
        (a.status, a.body["code"].clone()),
        (404, json!("not_found"))
    );
    let mut bad = env();
    bad.sync_service_sid = None;
    let f: BoxFields = serde_json::from_value(json!({})).expect("f");
    assert_eq!(
        code(mailbox::start(&f, &agent, &bad)),
        (500, "invalid_config"),
        "no Sync service: a 500 naming SYNC_SERVICE_SID"
    );
}

#[test]
fn list_pages_and_their_unheard_count() {
    let agent = credential(WK, &["agent"]);
    let mut w = World::new();
    let (a, notes) = w.run(boxed(json!({}), &agent).expect("starts"));
    assert_eq!(a.status, 200);
    assert_eq!(a.body["voicemails"], json!([]), "no map: an empty box");
    assert_eq!(notes, Notes::default(), "a list changes nothing");
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    w.put(&crate::box_map(WK), CA2, voicemail(CA2, true));
    let (p1, _) = w.run(boxed(json!({"pageSize": "1"}), &agent).expect("starts"));
    assert_eq!(p1.body["voicemails"].as_array().map(Vec::len), Some(1));
    assert_eq!(p1.body["unheardAtLeast"], json!(true));
    assert_eq!(p1.body["nextPageToken"], json!(CA));
    let (p2, _) = w.run(boxed(json!({"pageSize": "1", "pageToken": CA}), &agent).expect("starts"));
    assert_eq!(p2.body["voicemails"][0]["callSid"], json!(CA2));
    assert_eq!(p2.body["nextPageToken"], Value::Null, "the last page");
    assert_eq!(p2.body["unheardAtLeast"], json!(false));
    w.fail(
        |op| matches!(op, Op::ListSyncItems { .. }),
        failed(Some(500), None),
        false,
    );
    let (e, _) = w.run(boxed(json!({}), &agent).expect("starts"));
    assert_eq!(e.status, 502);
    assert!(e.body["error"]
        .as_str()
        .is_some_and(|s| s.starts_with("Listing the voicemails failed")));
}

#[test]
fn marking_heard_retries_a_lost_race_then_gives_up() {
    let agent = credential(WK, &["agent"]);
    let mut w = World::new();
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    let (a, notes) =
        w.run(boxed(json!({"action": "heard", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(a.status, 200);
    assert_eq!(a.body["voicemail"]["heard"], json!(true));
    assert_eq!(
        notes.changed_box.as_deref(),
        Some(WK),
        "the unheard count follows"
    );
    assert_eq!(
        w.get(&crate::box_map(WK), CA).map(|v| v["heard"].clone()),
        Some(json!(true))
    );
    // Already heard: nothing written.
    let writes = w.log.len();
    let (same, notes) =
        w.run(boxed(json!({"action": "heard", "callSid": CA}), &agent).expect("starts"));
    assert_eq!((same.status, w.log.len()), (200, writes + 1));
    assert_eq!(
        notes.changed_box.as_deref(),
        Some(WK),
        "counted again: a count lost earlier is put right"
    );
    // Another write wins once: read again, and the mark lands.
    w.fail(
        |op| matches!(op, Op::UpdateSyncItem { .. }),
        failed(Some(412), Some(54103)),
        false,
    );
    let (a, _) = w.run(
        boxed(
            json!({"action": "heard", "callSid": CA, "heard": "false"}),
            &agent,
        )
        .expect("starts"),
    );
    assert_eq!(
        (a.status, a.body["voicemail"]["heard"].clone()),
        (200, json!(false))
    );
    // It keeps losing: 409 conflict after three tries.
    for _ in 0..3 {
        w.fail(
            |op| matches!(op, Op::UpdateSyncItem { .. }),
            failed(Some(412), Some(54103)),
            false,
        );
    }
    let (c, _) = w.run(boxed(json!({"action": "heard", "callSid": CA}), &agent).expect("starts"));
    assert_eq!((c.status, c.body["code"].clone()), (409, json!("conflict")));
    // No such voicemail: 404 naming it.
    let (n, _) = w.run(boxed(json!({"action": "heard", "callSid": CA2}), &agent).expect("starts"));
    assert_eq!(
        (n.status, n.body["parameter"].clone()),
        (404, json!("callSid"))
    );
}

#[test]
fn delete_takes_the_recording_first_and_is_repeatable() {
    let agent = credential(WK, &["agent"]);
    let mut w = World::new();
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    // The item's delete fails: the recording is gone, the voicemail stays; deleting again works.
    w.fail(
        |op| matches!(op, Op::DeleteSyncItem { .. }),
        failed(Some(503), None),
        false,
    );
    let (a, _) = w.run(boxed(json!({"action": "delete", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(a.status, 502);
    assert!(a.body["error"]
        .as_str()
        .is_some_and(|s| s.contains("its recording is already deleted")));
    assert!(w.recordings.is_empty());
    let (b, notes) =
        w.run(boxed(json!({"action": "delete", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(
        (b.status, b.body.clone()),
        (
            200,
            json!({"deleted": true, "callSid": CA, "recordingSid": RE})
        )
    );
    assert_eq!(notes.changed_box.as_deref(), Some(WK));
    assert!(w.get(&crate::box_map(WK), CA).is_none());
    // A recording that cannot be deleted (Twilio refuses): the voicemail stays listed.
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    w.recordings.push(RE.into());
    w.fail(
        |op| matches!(op, Op::DeleteRecording { .. }),
        failed(Some(403), Some(20003)),
        false,
    );
    let (c, _) = w.run(boxed(json!({"action": "delete", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(c.status, 500, "our credentials are wrong");
    assert!(w.get(&crate::box_map(WK), CA).is_some());
}

#[test]
fn media_is_the_recordings_bytes_or_a_named_failure() {
    let agent = credential(WK, &["agent"]);
    let mut w = World::new();
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    let (a, notes) =
        w.run(boxed(json!({"action": "media", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(
        (a.status, a.content_type.as_deref(), a.body.clone()),
        (200, Some("audio/wav"), json!("UklGRg=="))
    );
    assert!(notes.base64 && notes.changed_box.is_none());
    assert!(w
        .sent
        .iter()
        .any(|e| matches!(&e.op, Op::FetchRecordingMedia { format, .. } if format == "wav")));
    w.fail(
        |op| matches!(op, Op::FetchRecordingMedia { .. }),
        failed(Some(401), Some(20003)),
        false,
    );
    let (u, _) = w.run(boxed(json!({"action": "media", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(u.status, 502);
    assert!(u.body["error"]
        .as_str()
        .is_some_and(|s| s.contains("Twilio answered HTTP 401")));
    w.fail(
        |op| matches!(op, Op::FetchRecordingMedia { .. }),
        not_sent(),
        false,
    );
    assert_eq!(
        w.run(boxed(json!({"action": "media", "callSid": CA}), &agent).expect("starts"))
            .0
            .status,
        504
    );
    w.recordings.clear();
    let (g, _) = w.run(boxed(json!({"action": "media", "callSid": CA}), &agent).expect("starts"));
    assert_eq!(
        (g.status, g.body["code"].clone()),
        (404, json!("recording_gone"))
    );
}

fn callback(fields: Value) -> CallbackFields {
    serde_json::from_value(fields).expect("callback")
}

fn status_callback() -> CallbackFields {
    callback(
        json!({"workerSid": WK, "reason": "no_answer", "CallSid": CA, "RecordingSid": RE, "RecordingStatus": "completed", "RecordingDuration": "7"}),
    )
}

#[test]
fn a_callback_creates_the_voicemail_once_reading_the_caller_and_the_map() {
    let mut w = World::new();
    let (a, notes) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!((a.status, a.body["created"].clone()), (200, json!(true)));
    assert_eq!(notes.changed_box.as_deref(), Some(WK));
    let v = w.get(&crate::box_map(WK), CA).cloned().expect("stored");
    assert_eq!(
        (v["from"].clone(), v["duration"].clone()),
        (json!("+15551230000"), json!(7))
    );
    assert_eq!(
        w.log,
        [
            "fetchSyncItem",
            "fetchCall",
            "createSyncItem",
            "createSyncMap",
            "createSyncItem"
        ],
        "the caller read once, the missing map created"
    );
    // A duplicate writes nothing.
    let (d, notes) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!((d.status, d.body["stored"].clone()), (200, json!(true)));
    assert!(d.body["reason"]
        .as_str()
        .is_some_and(|r| r.contains("already stored")));
    assert_eq!(notes.changed_box.as_deref(), Some(WK));
    // The transcription fills it in (If-Match), after losing one race.
    w.fail(
        |op| matches!(op, Op::UpdateSyncItem { .. }),
        failed(Some(412), Some(54103)),
        false,
    );
    let t = callback(
        json!({"workerSid": WK, "CallSid": CA, "RecordingSid": RE, "TranscriptionStatus": "completed", "TranscriptionText": "call me"}),
    );
    let (u, _) = w.run(store::start(&t, &env()).expect("starts"));
    assert_eq!((u.status, u.body["updated"].clone()), (200, json!(true)));
    assert_eq!(
        w.get(&crate::box_map(WK), CA)
            .map(|v| v["transcription"].clone()),
        Some(json!("call me"))
    );
    // Bad callbacks are refused before any read.
    let bad = callback(json!({"workerSid": WK, "CallSid": CA, "RecordingSid": "nope"}));
    assert_eq!(
        store::start(&bad, &env()).err().and_then(|e| e.parameter()),
        Some("RecordingSid")
    );
}

#[test]
fn a_store_answers_503_exactly_when_a_redelivery_can_finish() {
    // Carried out but the answer lost: 503, and the redelivery finds it stored.
    let mut w = World::new();
    w.fail(
        |op| matches!(op, Op::CreateSyncMap { .. }),
        failed(Some(500), None),
        true,
    );
    let (a, notes) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!(a.status, 503);
    assert!(notes.warning.is_some());
    let (b, _) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!((b.status, b.body["created"].clone()), (200, json!(true)));
    // Throttled, or never sent: 503.
    for outcome in [
        failed(Some(429), Some(20429)),
        not_sent(),
        failed(None, None),
    ] {
        let mut w = World::new();
        w.fail(|op| matches!(op, Op::FetchSyncItem { .. }), outcome, false);
        assert_eq!(
            w.run(store::start(&status_callback(), &env()).expect("starts"))
                .0
                .status,
            503
        );
    }
    // A refusal is final: 200 stored false (a redelivery would be refused alike).
    let mut w = World::new();
    w.fail(
        |op| matches!(op, Op::FetchSyncItem { .. }),
        failed(Some(403), Some(20003)),
        false,
    );
    let (r, _) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!((r.status, r.body["stored"].clone()), (200, json!(false)));
    // Kept changing three times: 503.
    let mut w = World::new();
    w.put(&crate::box_map(WK), CA, json!({"callSid": CA, "workerSid": WK, "recordingSid": RE, "dateCreated": "x", "from": "+1"}));
    for _ in 0..3 {
        w.fail(
            |op| matches!(op, Op::UpdateSyncItem { .. }),
            failed(Some(412), Some(54103)),
            false,
        );
    }
    let (k, _) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!(k.status, 503);
    assert!(k.body["error"]
        .as_str()
        .is_some_and(|s| s.contains("kept changing")));
    // The caller unknown: stored without, a warning logged.
    let mut w = World::new();
    w.fail(
        |op| matches!(op, Op::FetchCall { .. }),
        failed(Some(500), None),
        false,
    );
    let (c, notes) = w.run(store::start(&status_callback(), &env()).expect("starts"));
    assert_eq!(c.status, 200);
    assert!(notes.warning.is_some_and(|w| w.contains("unknown")));
}

fn twiml_request(step: Option<&str>) -> TwimlRequest {
    serde_json::from_value(json!({"workerSid": WK, "step": step})).expect("request")
}

#[test]
fn the_twiml_leg_greets_by_the_worker_and_stores_the_action() {
    let mut w = World::new();
    let (a, _) = w.run(
        twiml::start(&twiml_request(None), &CallbackFields::default(), &env()).expect("starts"),
    );
    assert_eq!(a.content_type.as_deref(), Some("text/xml"));
    assert!(a
        .body
        .as_str()
        .is_some_and(|t| t.contains("You have reached Alice Example.")));
    w.worker = None;
    let (b, notes) = w.run(
        twiml::start(&twiml_request(None), &CallbackFields::default(), &env()).expect("starts"),
    );
    assert!(b
        .body
        .as_str()
        .is_some_and(|t| t.contains("The person you called")));
    assert!(notes.warning.is_some());
    let two = Env {
        twilio_flex_workspace_sid: Some("WS1".into()),
        ..env()
    };
    let refused = twiml::start(&twiml_request(None), &CallbackFields::default(), &two);
    assert_eq!(
        refused.err().map(|e| e.code()),
        Some("invalid_config"),
        "WORKSPACE_SID and TWILIO_FLEX_WORKSPACE_SID set to different values"
    );
    let no_workspace = Env {
        workspace_sid: None,
        ..env()
    };
    let turn = twiml::start(
        &twiml_request(None),
        &CallbackFields::default(),
        &no_workspace,
    )
    .expect("starts");
    assert!(turn.as_answer().is_some(), "no workspace: no read");
    // The action stores its recording, and says goodbye whatever storing does.
    let action = callback(
        json!({"CallSid": CA, "RecordingSid": RE, "RecordingDuration": "3", "From": "+1555"}),
    );
    let (g, notes) =
        w.run(twiml::start(&twiml_request(Some("done")), &action, &env()).expect("starts"));
    assert!(g.body.as_str().is_some_and(|t| t.contains("Goodbye")));
    assert_eq!(notes.changed_box.as_deref(), Some(WK));
    assert_eq!(
        w.get(&crate::box_map(WK), CA)
            .map(|v| v["duration"].clone()),
        Some(json!(3))
    );
    w.fail(
        |op| matches!(op, Op::FetchSyncItem { .. }),
        failed(Some(500), None),
        false,
    );
    let (h, notes) =
        w.run(twiml::start(&twiml_request(Some("done")), &action, &env()).expect("starts"));
    assert!(h.body.as_str().is_some_and(|t| t.contains("Goodbye")));
    assert!(notes.warning.is_some_and(|w| w.contains("could not store")));
    let bad = callback(json!({"CallSid": CA, "RecordingSid": "x"}));
    let turn = twiml::start(&twiml_request(Some("done")), &bad, &env()).expect("starts");
    assert!(turn.as_answer().is_some() && turn.notes.warning.is_some());
    assert!(twiml::start(&twiml_request(Some("later")), &action, &env()).is_err());
}

fn task_event(kind: &str, worker: &str) -> TaskEvent {
    TaskEvent {
        event_type: Some(kind.into()),
        task_sid: Some(WT.into()),
        task_attributes: Some(
            json!({"call_sid": CA, "directCall": {"extension": "204", "workerSid": WK}})
                .to_string(),
        ),
        worker_sid: Some(worker.into()),
        task_assignment_status: Some("pending".into()),
    }
}

fn hook(w: &mut World, kind: &str, token: &str) -> Value {
    w.run(hook::start(&task_event(kind, WK), None, &env(), token))
        .0
        .body
}

#[test]
fn the_hook_sends_a_call_to_voicemail_once_and_cancels_the_task() {
    let mut w = World::new();
    let first = hook(&mut w, "reservation.rejected", "t1");
    assert_eq!(first["action"], json!("voicemail"));
    assert_eq!(
        (first["task"].clone(), first["outcome"].clone()),
        (json!("canceled"), json!("sent to voicemail"))
    );
    assert_eq!(w.redirected.len(), 1);
    assert!(w.redirected[0].ends_with(
        "/voicemail-twiml?workerSid=WK0123456789abcdef0123456789abcdef&reason=rejected"
    ));
    let redirect = w
        .sent
        .iter()
        .find(|e| matches!(e.op, Op::UpdateCall { .. }))
        .expect("sent");
    assert!(
        !redirect.retry,
        "a redirect is never repeated by the executor"
    );
    let again = hook(&mut w, "reservation.rejected", "t2");
    assert_eq!(
        (again["action"].clone(), again["state"].clone()),
        (json!("already"), json!("redirected"))
    );
    assert!(again["task"]
        .as_str()
        .is_some_and(|t| t.starts_with("not canceled")));
    assert_eq!(w.redirected.len(), 1, "once");
    // Not the called worker's reservation, or not a voicemail event: nothing.
    let other = w
        .run(hook::start(
            &task_event("reservation.rejected", WK2),
            None,
            &env(),
            "t3",
        ))
        .0
        .body;
    assert_eq!(other["action"], json!("none"));
    assert_eq!(hook(&mut w, "task.created", "t4")["action"], json!("none"));
    // No Sync at all: off.
    let off = Env {
        sync_service_sid: None,
        ..env()
    };
    let turn = hook::start(&task_event("reservation.rejected", WK), None, &off, "t5");
    assert!(turn
        .as_answer()
        .is_some_and(|a| a.body.get("off").is_some()));
}

#[test]
fn the_hook_after_a_hang_up_a_lost_redirect_and_a_failed_read() {
    let mut w = World::new();
    w.call_status = "completed".into();
    let gone = hook(&mut w, "reservation.timeout", "t1");
    assert_eq!(
        (gone["outcome"].clone(), gone["task"].clone()),
        (json!("the caller had hung up"), json!("canceled"))
    );
    let mut w = World::new();
    w.fail(
        |op| matches!(op, Op::UpdateCall { .. }),
        failed(Some(500), None),
        true,
    );
    let lost = hook(&mut w, "reservation.timeout", "t1");
    assert!(lost["outcome"]
        .as_str()
        .is_some_and(|o| o.contains("unknown")));
    assert_eq!(w.task_status, "pending", "the task is left alone");
    assert_eq!(
        w.get(crate::CLAIMS_MAP, CA).map(|c| c["state"].clone()),
        Some(json!("redirecting"))
    );
    assert_eq!(
        hook(&mut w, "reservation.rejected", "t2")["action"],
        json!("none"),
        "the lease holds"
    );
    // Refused (not ambiguous): the claim is released, so a later event may try again.
    let mut w = World::new();
    w.fail(
        |op| matches!(op, Op::UpdateCall { .. }),
        failed(Some(400), Some(21201)),
        false,
    );
    let refused = hook(&mut w, "reservation.timeout", "t1");
    assert!(refused["outcome"]
        .as_str()
        .is_some_and(|o| o.contains("released")));
    assert!(w.get(crate::CLAIMS_MAP, CA).is_none());
    // Sync fails reading the claim: the error, nothing redirected.
    let mut w = World::new();
    w.fail(
        |op| matches!(op, Op::FetchSyncItem { .. }),
        failed(Some(500), None),
        false,
    );
    let broken = hook(&mut w, "reservation.rejected", "t1");
    assert!(broken["error"].as_str().is_some());
    assert!(w.redirected.is_empty());
    // A stale claim (its request died) is taken over after the lease.
    let mut w = World::new();
    w.put(crate::CLAIMS_MAP, CA, json!({"callSid": CA, "taskSid": WT, "workerSid": WK, "reason": "rejected", "state": "redirecting", "atMs": NOW - 60_000.0, "token": "dead"}));
    assert_eq!(
        hook(&mut w, "reservation.rejected", "t9")["action"],
        json!("voicemail")
    );
}

/// The settings with the live agents view's own service: a changed box is counted for it.
fn board_env() -> Env {
    Env {
        wallboard_sync_sid: Some("IS9999999999abcdef0123456789abcdef".into()),
        ..env()
    }
}

fn counted(notes: &Notes) -> Option<(String, usize, f64)> {
    notes
        .counted
        .as_ref()
        .map(|c| (c.worker_sid.clone(), c.unheard, c.at_ms))
}

#[test]
fn a_changed_box_is_counted_last_when_the_live_view_reads_it() {
    let agent = credential(WK, &["agent"]);
    let heard = json!({"action": "heard", "callSid": CA});
    let mut w = World::new();
    w.put(&crate::box_map(WK), CA, voicemail(CA, false));
    w.put(&crate::box_map(WK), CA2, voicemail(CA2, false));
    // No service of its own for the view: nobody reads the count, none is read.
    let (a, notes) = w.run(boxed(heard.clone(), &agent).expect("starts"));
    assert_eq!((a.status, counted(&notes)), (200, None));
    assert!(!w.log.iter().any(|l| l.contains("list")), "{:?}", w.log);
    // With one: the whole box's count, read after the mark, as of when the listing was asked for.
    let start = || boxed_on(heard.clone(), &agent, &board_env()).expect("starts");
    let (b, notes) = w.run(start());
    assert_eq!(b, a, "the answer is the mark's");
    assert_eq!(counted(&notes), Some((WK.to_string(), 1, NOW + 1000.0)));
    let wire = serde_json::to_value(&notes).expect("notes");
    assert_eq!(
        wire,
        json!({"changedBox": {"workerSid": WK, "unheard": 1, "atMs": NOW + 1000.0}})
    );
    // A count that cannot be read changes nothing in the answer: a warning says so.
    w.fail(
        |op| matches!(op, Op::ListSyncItems { .. }),
        failed(Some(500), None),
        false,
    );
    let (c, notes) = w.run(start());
    assert_eq!((c, counted(&notes)), (a, None));
    assert!(notes
        .warning
        .is_some_and(|m| m.contains("unheard count of") && m.contains(WK)));
    // A callback stored into the box: counted too.
    let (stored, notes) = w.run(store::start(&status_callback(), &board_env()).expect("starts"));
    assert_eq!(stored.status, 200);
    assert!(counted(&notes).is_some_and(|(wk, _, _)| wk == WK));
    // A list changes nothing: nothing counted.
    let (_, notes) = w.run(boxed_on(json!({}), &agent, &board_env()).expect("starts"));
    assert_eq!(counted(&notes), None);
}

#[test]
fn a_count_is_as_of_when_its_listing_was_asked_for_and_only_a_changed_box_is_counted() {
    let changed = |wk: Option<&str>| {
        Turn::answer(Answer::json(200, json!({"ok": true}))).with(Notes {
            changed_box: wk.map(str::to_string),
            warning: Some("w".into()),
            ..Notes::default()
        })
    };
    let Step::Run { state, effects } = unheard::after(changed(Some(WK)), Some(IS.into()), 5.0).step
    else {
        panic!("a changed box is listed");
    };
    assert!(matches!(&effects[0].op, Op::ListSyncItems { service_sid, .. } if service_sid == IS));
    let Machine::Unheard(m) = state else {
        panic!("the count's state");
    };
    let out = resume(Machine::Unheard(m), vec![Outcome::Done(json!([]))], 9.0);
    assert_eq!(counted(&out.notes), Some((WK.to_string(), 0, 5.0)));
    assert_eq!(
        out.notes.warning.as_deref(),
        Some("w"),
        "the answer's warning stays"
    );
    assert_eq!(
        out.as_answer().map(|a| a.body.clone()),
        Some(json!({"ok": true}))
    );
    // Nothing changed, or nobody reads the count: the answer leaves as it is.
    assert_eq!(
        unheard::after(changed(None), Some(IS.into()), 5.0),
        changed(None)
    );
    assert_eq!(
        unheard::after(changed(Some(WK)), None, 5.0),
        changed(Some(WK))
    );
}

proptest! {
    #[test]
    fn any_outcomes_end_every_machine_without_a_panic(seed in proptest::collection::vec(0u8..6, 0..40)) {
        let pick = |i: usize| match seed.get(i).copied().unwrap_or(0) {
            0 => Outcome::Done(json!({"data": voicemail(CA, false), "revision": "1", "from": "+1"})),
            1 => failed(Some(404), Some(20404)),
            2 => failed(Some(409), Some(54208)),
            3 => failed(Some(412), Some(54103)),
            4 => not_sent(),
            _ => Outcome::Done(json!([{"key": CA, "data": voicemail(CA, false)}])),
        };
        let agent = credential(WK, &["agent"]);
        let starts = vec![
            boxed(json!({"action": "heard", "callSid": CA}), &agent).ok(),
            boxed(json!({"action": "delete", "callSid": CA}), &agent).ok(),
            boxed(json!({"action": "media", "callSid": CA}), &agent).ok(),
            boxed(json!({}), &agent).ok(),
            store::start(&status_callback(), &env()).ok(),
            Some(hook::start(&task_event("reservation.rejected", WK), None, &env(), "t")),
            twiml::start(&twiml_request(Some("done")), &callback(json!({"CallSid": CA, "RecordingSid": RE})), &env()).ok(),
            boxed_on(json!({"action": "heard", "callSid": CA}), &agent, &board_env()).ok(),
            store::start(&status_callback(), &board_env()).ok(),
        ];
        for start in starts.into_iter().flatten() {
            let mut turn = start;
            let mut i = 0;
            while let Step::Run { state, effects } = turn.step {
                prop_assert!(i < 60, "a machine ends");
                let outcomes = effects.iter().map(|_| { i += 1; pick(i) }).collect();
                turn = resume(state, outcomes, NOW);
            }
        }
    }
}
