//! The machines against an in-memory Twilio (calls, Sync maps, TaskRouter) that can fail any
//! operation, the way the executor reports failures.

use std::collections::BTreeMap;

use effects::{Answer, Failure, Op, Outcome, Step};
use parking::{CapacityRequest, ParkRequest, PickupRequest, Settings};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const WORKER: &str = "WK0123456789abcdef0123456789abcdef";
const OTHER_WORKER: &str = "WKffffffffffffffffffffffffffffffff";
const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";
const TASK: &str = "WT0123456789abcdef0123456789abcdef";
const WS: &str = "WS0123456789abcdef0123456789abcdef";
const IS: &str = "IS0123456789abcdef0123456789abcdef";
const CHANNEL: &str = "WC0123456789abcdef0123456789abcdef";
/// 2024-05-01T12:00:00.000Z
const NOW: f64 = 1_714_564_800_000.0;

fn env() -> Env {
    Env {
        workspace_sid: Some(WS.into()),
        sync_service_sid: Some(IS.into()),
    }
}

fn settings() -> Settings {
    Settings {
        domain_name: Some("example.twil.io".into()),
        hold_music_path: None,
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

type Fault = (Box<dyn Fn(&Op) -> bool>, Outcome);

/// A small Twilio: one call, one task with its reservations, Sync maps, created tasks.
struct World {
    call_status: String,
    twiml: Option<String>,
    url: Option<String>,
    status_callback: Option<String>,
    task: Option<Value>,
    reservations: Vec<Value>,
    maps: BTreeMap<String, BTreeMap<String, (Value, u64)>>,
    created: Vec<Value>,
    faults: Vec<Fault>,
    /// Every operation performed, by kind and target.
    log: Vec<String>,
}

impl World {
    /// The call in progress, held by WORKER through TASK.
    fn new() -> World {
        World {
            call_status: "in-progress".into(),
            twiml: None,
            url: None,
            status_callback: None,
            task: Some(
                json!({"sid": TASK, "assignmentStatus": "assigned", "attributes": json!({"call_sid": CALL}).to_string(), "priority": 0}),
            ),
            reservations: vec![
                json!({"sid": "WR1", "workerSid": WORKER, "reservationStatus": "accepted"}),
            ],
            maps: BTreeMap::new(),
            created: Vec::new(),
            faults: Vec::new(),
            log: Vec::new(),
        }
    }

    fn fail_first(&mut self, matches: impl Fn(&Op) -> bool + 'static, outcome: Outcome) {
        self.faults.push((Box::new(matches), outcome));
    }

    fn item(&self, map: &str, key: &str) -> Option<&(Value, u64)> {
        self.maps.get(map).and_then(|m| m.get(key))
    }

    fn writes(&self) -> usize {
        self.log
            .iter()
            .filter(|l| !l.starts_with("fetch") && !l.starts_with("list"))
            .count()
    }

    fn perform(&mut self, op: &Op) -> Outcome {
        let kind = serde_json::to_value(op)
            .ok()
            .and_then(|v| v["kind"].as_str().map(str::to_string))
            .unwrap_or_default();
        let target = match op {
            Op::FetchSyncItem { map, .. }
            | Op::CreateSyncItem { map, .. }
            | Op::UpdateSyncItem { map, .. }
            | Op::DeleteSyncItem { map, .. } => map.clone(),
            Op::CreateSyncMap { unique_name, .. } => unique_name.clone(),
            _ => String::new(),
        };
        self.log.push(format!("{kind} {target}").trim().to_string());
        if let Some(i) = self.faults.iter().position(|(m, _)| m(op)) {
            return self.faults.remove(i).1;
        }
        match op {
            Op::FetchCall { call_sid } => {
                Outcome::Done(json!({"sid": call_sid, "status": self.call_status}))
            }
            Op::UpdateCall {
                twiml,
                url,
                status_callback,
                ..
            } => {
                if call_status::is_terminal(&self.call_status) {
                    return failed(Some(400), Some(21220));
                }
                self.twiml = twiml.clone().or(self.twiml.take());
                self.url = url.clone().or(self.url.take());
                self.status_callback = status_callback.clone().or(self.status_callback.take());
                Outcome::Done(json!({"sid": CALL, "status": self.call_status}))
            }
            Op::FetchSyncItem { map, key, .. } => match self.item(map, key) {
                Some((data, rev)) => {
                    Outcome::Done(json!({"key": key, "data": data, "revision": rev.to_string()}))
                }
                None => failed(Some(404), Some(20404)),
            },
            Op::CreateSyncMap { unique_name, .. } => {
                if self.maps.contains_key(unique_name) {
                    return failed(Some(409), Some(54301));
                }
                self.maps.insert(unique_name.clone(), BTreeMap::new());
                Outcome::Done(json!({"uniqueName": unique_name}))
            }
            Op::CreateSyncItem { map, key, data, .. } => match self.maps.get_mut(map) {
                None => failed(Some(404), Some(20404)),
                Some(m) if m.contains_key(key) => failed(Some(409), Some(54208)),
                Some(m) => {
                    m.insert(key.clone(), (data.clone(), 0));
                    Outcome::Done(json!({"key": key, "data": data, "revision": "0"}))
                }
            },
            Op::UpdateSyncItem {
                map,
                key,
                data,
                if_match,
                ..
            } => match self.maps.get_mut(map).and_then(|m| m.get_mut(key)) {
                None => failed(Some(404), Some(20404)),
                Some((_, rev)) if if_match.as_ref().is_some_and(|r| *r != rev.to_string()) => {
                    failed(Some(412), Some(54103))
                }
                Some(entry) => {
                    entry.0 = data.clone();
                    entry.1 += 1;
                    Outcome::Done(
                        json!({"key": key, "data": data, "revision": entry.1.to_string()}),
                    )
                }
            },
            Op::DeleteSyncItem { map, key, .. } => {
                match self.maps.get_mut(map).and_then(|m| m.remove(key)) {
                    Some(_) => Outcome::Done(json!(true)),
                    None => failed(Some(404), Some(20404)),
                }
            }
            Op::FetchTask { task_sid, .. } => match &self.task {
                Some(t) if t["sid"] == json!(task_sid) => Outcome::Done(t.clone()),
                _ => failed(Some(404), Some(20404)),
            },
            Op::ListTaskReservations { worker_sid, .. } => Outcome::Done(Value::Array(
                self.reservations
                    .iter()
                    .filter(|r| {
                        worker_sid
                            .as_ref()
                            .is_none_or(|w| r["workerSid"] == json!(w))
                    })
                    .cloned()
                    .collect(),
            )),
            Op::ListTasks {
                evaluate_task_attributes,
                ..
            } => {
                assert_eq!(
                    evaluate_task_attributes.as_deref(),
                    Some(call_status::task_expression(CALL).as_str())
                );
                Outcome::Done(Value::Array(self.created.clone()))
            }
            Op::CreateTask {
                attributes,
                workflow_sid,
                ..
            } => {
                let sid = format!("WT{:032x}", self.created.len() + 1);
                let attributes: Value = serde_json::from_str(attributes).unwrap_or(Value::Null);
                self.created.push(
                    json!({"sid": sid, "workflowSid": workflow_sid, "attributes": attributes}),
                );
                Outcome::Done(json!({"sid": sid}))
            }
            Op::UpdateWorkerChannel {
                worker_channel_sid,
                capacity,
                ..
            } => Outcome::Done(json!({
                "sid": worker_channel_sid, "configuredCapacity": capacity, "dateUpdated": "2024-05-01T12:00:00.000Z",
                "taskChannelUniqueName": "voice", "availableCapacityPercentage": 0})),
            _ => failed(Some(400), Some(20001)),
        }
    }

    /// Runs a machine to its answer, each batch's effects in order.
    fn run(&mut self, mut step: Step<Machine>, now: f64) -> Answer {
        for _ in 0..100 {
            match step {
                Step::Answer(a) => return a,
                Step::Run { state, effects } => {
                    // The state survives the trip through the executor as JSON.
                    let state: Machine =
                        serde_json::from_value(serde_json::to_value(&state).expect("json"))
                            .expect("reads back");
                    let outcomes = effects.iter().map(|e| self.perform(&e.op)).collect();
                    step = resume(state, outcomes, now);
                }
            }
        }
        panic!("the machine does not end");
    }

    fn park(&mut self, worker: &str) -> Answer {
        let step = park(&park_request(worker), &env(), &settings(), "tok-park", NOW)
            .expect("valid request");
        self.run(step, NOW)
    }

    fn pickup(&mut self, credential: Value, now: f64) -> Answer {
        let request = PickupRequest {
            call_sid: Some(CALL.into()),
            ..PickupRequest::default()
        };
        let step =
            pickup(&request, credential, &env(), &settings(), "tok-pickup").expect("valid request");
        self.run(step, now)
    }
}

fn park_request(worker: &str) -> ParkRequest {
    ParkRequest {
        attributes: Some(
            json!({"name": "Ada", "conversations": {"conversation_id": "WT1"}}).to_string(),
        ),
        call_sid: Some(CALL.into()),
        name: Some("Ada".into()),
        queue_name: Some("Support".into()),
        task_sid: Some(TASK.into()),
        worker_sid: Some(worker.into()),
        workflow_sid: Some(WORKFLOW.into()),
    }
}

fn agent(worker: &str) -> Value {
    json!({"kind": "flex", "iam": {"valid": true, "worker_sid": worker, "roles": ["agent"], "identity": "alice"}})
}

const GLOBAL: &str = "Global.ParkedCalls";

fn worker_map() -> String {
    format!("{WORKER}.ParkedCalls")
}

#[test]
fn park_reads_three_things_at_once_then_updates_the_call_then_lists_it() {
    let mut w = World::new();
    let first = park(&park_request(WORKER), &env(), &settings(), "t", NOW).expect("valid");
    let Step::Run { effects, .. } = &first else {
        panic!("reads first")
    };
    let kinds: Vec<&str> = effects
        .iter()
        .map(|e| match &e.op {
            Op::FetchTask { .. } => "task",
            Op::ListTaskReservations {
                worker_sid: Some(w),
                limit: PARK_RESERVATIONS_LIMIT,
                ..
            } if w == WORKER => "reservations",
            Op::FetchSyncItem { map, .. } if map == GLOBAL => "entry",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["task", "reservations", "entry"]);
    let answer = w.park(WORKER);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["success"], json!(true));
    assert_eq!(answer.body["parkedCall"]["workerSid"], json!(WORKER));
    assert!(answer.body.get("callEnded").is_none());
    assert!(w
        .twiml
        .as_deref()
        .is_some_and(|t| t.contains("<Play loop=\"99\">https://example.twil.io/hold_music_1.mp3")));
    assert_eq!(
        w.status_callback.as_deref(),
        Some("https://example.twil.io/call-status-handler#rc=3&rp=5xx,ct,rt")
    );
    // The maps did not exist: made on the way, worker's first.
    let mine = worker_map();
    let expected: Vec<String> = vec![
        "updateCall".into(),
        format!("createSyncItem {mine}"),
        format!("createSyncMap {mine}"),
        format!("createSyncItem {mine}"),
        format!("createSyncItem {GLOBAL}"),
        format!("createSyncMap {GLOBAL}"),
        format!("createSyncItem {GLOBAL}"),
        "fetchCall".into(),
    ];
    assert_eq!(w.log[3..], expected[..]);
    assert_eq!(
        w.item(GLOBAL, CALL).map(|i| i.0.clone()),
        Some(answer.body["parkedCall"].clone())
    );
    // Parking again updates both entries.
    let again = w.park(WORKER);
    assert_eq!(again.status, 200);
    assert_eq!(w.item(GLOBAL, CALL).map(|i| i.1), Some(1));
    assert_eq!(w.item(&worker_map(), CALL).map(|i| i.1), Some(1));
}

#[test]
fn park_refusals_change_nothing() {
    // Another worker names the task: not theirs.
    let mut w = World::new();
    let answer = w.park(OTHER_WORKER);
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (403, json!("not_workers_task"))
    );
    assert_eq!(w.writes(), 0);
    // No such task.
    let mut w = World::new();
    w.task = None;
    let answer = w.park(WORKER);
    assert_eq!(
        (
            answer.status,
            answer.body["code"].clone(),
            answer.body["parameter"].clone()
        ),
        (404, json!("task_not_found"), json!("taskSid"))
    );
    assert_eq!(w.writes(), 0);
    // TaskRouter failing to say: 502 naming the task, Twilio's error carried.
    let mut w = World::new();
    w.fail_first(
        |op| matches!(op, Op::ListTaskReservations { .. }),
        failed(Some(500), Some(20500)),
    );
    let answer = w.park(WORKER);
    assert_eq!(answer.status, 502);
    assert!(
        answer.body["error"]
            .as_str()
            .is_some_and(|e| e.contains(TASK) && e.contains(WORKER)),
        "{answer:?}"
    );
    assert_eq!(answer.body["twilioError"]["status"], json!(500));
    assert_eq!(w.writes(), 0);
    // Another worker's entry.
    let mut w = World::new();
    w.maps
        .entry(GLOBAL.into())
        .or_default()
        .insert(CALL.into(), (json!({"workerSid": OTHER_WORKER}), 3));
    assert_eq!(w.park(WORKER).body["code"], json!("parked_by_other"));
    assert_eq!(w.writes(), 0);
}

#[test]
fn a_failed_call_update_writes_nothing() {
    for (fault, status) in [
        (failed(Some(400), Some(21220)), 400),
        (failed(Some(500), None), 502),
        (failed(None, None), 502),
    ] {
        let mut w = World::new();
        w.fail_first(|op| matches!(op, Op::UpdateCall { .. }), fault);
        let answer = w.park(WORKER);
        assert_eq!(answer.status, status);
        assert!(answer.body["error"].as_str().is_some_and(
            |e| e.starts_with(&format!("Parking call {CALL}: the call update failed"))
        ));
        assert!(w.maps.is_empty(), "nothing listed");
    }
    // Our deadline before the update: 504, not attempted.
    let mut w = World::new();
    w.fail_first(
        |op| matches!(op, Op::UpdateCall { .. }),
        Outcome::Failed(Failure {
            message: "no time".into(),
            ..Failure::default()
        }),
    );
    let answer = w.park(WORKER);
    assert_eq!(answer.status, 504);
    assert!(answer.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("was not attempted")));
}

#[test]
fn a_failed_listing_names_the_map() {
    let mut w = World::new();
    w.fail_first(
        |op| matches!(op, Op::CreateSyncItem { map, .. } if map == GLOBAL),
        failed(Some(503), None),
    );
    let answer = w.park(WORKER);
    assert_eq!(answer.status, 502);
    assert!(answer.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("is on hold, but listing it in Sync map Global.ParkedCalls")));
}

#[test]
fn a_caller_hanging_up_while_being_parked_is_wrapped_up_by_park() {
    let mut w = World::new();
    // The call ends between the call update and the Sync writes.
    w.fail_first(
        |op| matches!(op, Op::FetchCall { .. }),
        Outcome::Done(json!({"sid": CALL, "status": "completed"})),
    );
    let answer = w.park(WORKER);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["callEnded"], json!(true));
    assert_eq!(answer.body["wrapUp"]["handled"], json!(true));
    assert_eq!(w.created.len(), 1);
    assert_eq!(answer.body["wrapUp"]["taskSid"], w.created[0]["sid"]);
    assert!(w.item(GLOBAL, CALL).is_none());
    assert_eq!(
        w.item(&worker_map(), CALL)
            .map(|i| i.0["callerHangup"].clone()),
        Some(json!(true))
    );
    // A failed re-read is "still in progress".
    let mut w = World::new();
    w.fail_first(|op| matches!(op, Op::FetchCall { .. }), failed(None, None));
    let answer = w.park(WORKER);
    assert_eq!((answer.status, answer.body.get("callEnded")), (200, None));
}

#[test]
fn pickup_marks_redirects_and_unlists() {
    let mut w = World::new();
    assert_eq!(w.park(WORKER).status, 200);
    w.log.clear();
    let answer = w.pickup(agent(WORKER), NOW + 95_000.0);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["holdTime"], json!(95));
    assert_eq!(answer.body["taskAttributes"]["targetWorker"], json!(WORKER));
    assert!(answer.body.get("warnings").is_none());
    assert!(w
        .twiml
        .as_deref()
        .is_some_and(|t| t.contains("<Enqueue workflowSid=\"WW")));
    assert_eq!(
        w.log,
        [
            format!("fetchSyncItem {GLOBAL}"),
            format!("updateSyncItem {GLOBAL}"),
            "updateCall".into(),
            format!("deleteSyncItem {}", worker_map()),
            format!("deleteSyncItem {GLOBAL}")
        ]
    );
    assert!(w.item(GLOBAL, CALL).is_none() && w.item(&worker_map(), CALL).is_none());
}

#[test]
fn pickup_refusals() {
    // Not parked: 404, nothing written.
    let mut w = World::new();
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (404, json!("not_parked"))
    );
    assert_eq!(w.writes(), 0);
    // Another agent: 403 naming both workers, nothing written.
    let mut w = World::new();
    w.park(WORKER);
    w.log.clear();
    let answer = w.pickup(agent(OTHER_WORKER), NOW);
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (403, json!("wrong_worker"))
    );
    let error = answer.body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(WORKER) && error.contains(OTHER_WORKER),
        "{error}"
    );
    assert_eq!(w.writes(), 0);
    // A supervisor may.
    let supervisor = json!({"kind": "flex", "iam": {"valid": true, "worker_sid": OTHER_WORKER, "roles": ["supervisor"]}});
    assert_eq!(w.pickup(supervisor, NOW).status, 200);
    // The entry changed between the read and the mark: 409, nothing changed.
    let mut w = World::new();
    w.park(WORKER);
    w.fail_first(
        |op| matches!(op, Op::UpdateSyncItem { .. }),
        failed(Some(412), Some(54103)),
    );
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (409, json!("conflict"))
    );
    assert!(w
        .item(GLOBAL, CALL)
        .is_some_and(|i| i.0.get("pickedUp").is_none()));
}

#[test]
fn a_refused_redirect_takes_the_mark_back_and_a_lost_one_keeps_it() {
    let mut w = World::new();
    w.park(WORKER);
    let before = w.item(GLOBAL, CALL).map(|i| i.0.clone());
    w.fail_first(
        |op| matches!(op, Op::UpdateCall { .. }),
        failed(Some(400), Some(21218)),
    );
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(answer.status, 400);
    assert!(answer.body["error"]
        .as_str()
        .is_some_and(|e| e.contains("stays parked")));
    assert_eq!(
        w.item(GLOBAL, CALL).map(|i| i.0.clone()),
        before,
        "the mark was taken back"
    );

    let mut w = World::new();
    w.park(WORKER);
    w.fail_first(
        |op| matches!(op, Op::UpdateCall { .. }),
        failed(Some(500), None),
    );
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(answer.status, 502);
    assert!(
        w.item(GLOBAL, CALL)
            .is_some_and(|i| i.0.get("pickedUp").is_some()),
        "the mark stays"
    );
    assert!(
        !w.log
            .iter()
            .rev()
            .take(1)
            .any(|l| l.starts_with("updateSyncItem")),
        "no unmark"
    );
}

#[test]
fn a_pickup_of_an_ended_call_wraps_it_up_once() {
    let mut w = World::new();
    w.park(WORKER);
    w.call_status = "completed".into();
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(
        (answer.status, answer.body["code"].clone()),
        (410, json!("call_ended")),
        "{answer:?}"
    );
    assert_eq!(w.created.len(), 1);
    assert_eq!(answer.body["wrapUp"]["taskSid"], w.created[0]["sid"]);
    assert!(w.item(GLOBAL, CALL).is_none());
    assert_eq!(w.pickup(agent(WORKER), NOW).status, 404);
    // Without a workspace the wrap-up cannot run: a 500 naming the setting.
    let mut w = World::new();
    w.park(WORKER);
    w.call_status = "completed".into();
    let request = PickupRequest {
        call_sid: Some(CALL.into()),
        ..PickupRequest::default()
    };
    let no_workspace = Env {
        workspace_sid: None,
        ..env()
    };
    let step = pickup(&request, agent(WORKER), &no_workspace, &settings(), "t").expect("valid");
    let answer = w.run(step, NOW);
    assert_eq!(
        (answer.status, answer.body["parameter"].clone()),
        (500, json!("WORKSPACE_SID"))
    );
}

#[test]
fn a_failed_unlisting_is_a_warning() {
    let mut w = World::new();
    w.park(WORKER);
    w.fail_first(
        |op| matches!(op, Op::DeleteSyncItem { map, .. } if map == GLOBAL),
        failed(Some(500), None),
    );
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(answer.status, 200);
    let warnings = answer.body["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]
        .as_str()
        .is_some_and(|m| m.starts_with("removing it from Global.ParkedCalls failed")));
    assert!(w
        .item(GLOBAL, CALL)
        .is_some_and(|i| i.0.get("pickedUp").is_some()));
}

#[test]
fn a_large_pickup_goes_by_url_and_pickup_twiml_answers_it() {
    let mut w = World::new();
    let mut request = park_request(WORKER);
    request.attributes = Some(json!({"notes": "n".repeat(6000)}).to_string());
    let step = park(&request, &env(), &settings(), "t", NOW).expect("valid");
    assert_eq!(w.run(step, NOW).status, 200);
    let answer = w.pickup(agent(WORKER), NOW);
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        w.url.as_deref(),
        Some("https://example.twil.io/pickup-twiml")
    );
    assert!(w.item(parking::PICKUPS_MAP, CALL).is_some());
    let step = pickup_twiml(Some(CALL.into()), &env()).expect("valid");
    let twiml = w.run(step, NOW);
    assert_eq!(
        (twiml.status, twiml.content_type.as_deref()),
        (200, Some("text/xml"))
    );
    assert!(twiml
        .body
        .as_str()
        .is_some_and(|t| t.len() > 4000 && t.contains("<Enqueue")));
    // None stored: 404 JSON; a bad SID: refused before any read.
    let mut empty = World::new();
    let none = empty.run(pickup_twiml(Some(CALL.into()), &env()).expect("valid"), NOW);
    assert_eq!((none.status, none.content_type), (404, None));
    assert_eq!(
        pickup_twiml(Some("CA1".into()), &env())
            .map(|_| ())
            .unwrap_err()
            .code(),
        "invalid_parameter"
    );
}

#[test]
fn capacity_answers_the_channel() {
    let mut w = World::new();
    let request = CapacityRequest {
        capacity: Some("2".into()),
        worker_channel_sid: Some(CHANNEL.into()),
        worker_sid: Some(WORKER.into()),
    };
    let answer = w.run(capacity(&request, &env()).expect("valid"), NOW);
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        json!({"sid": CHANNEL, "configuredCapacity": 2, "dateUpdated": "2024-05-01T12:00:00.000Z", "taskChannelUniqueName": "voice"})
    );
    let mut w = World::new();
    w.fail_first(|_| true, failed(Some(404), Some(20404)));
    let answer = w.run(capacity(&request, &env()).expect("valid"), NOW);
    assert_eq!(
        (answer.status, answer.body["twilioError"]["code"].clone()),
        (404, json!(20404))
    );
    let missing = CapacityRequest {
        capacity: None,
        ..request
    };
    assert_eq!(
        capacity(&missing, &env())
            .map(|_| ())
            .unwrap_err()
            .parameter(),
        Some("capacity")
    );
    let no_workspace = Env {
        workspace_sid: None,
        ..env()
    };
    assert_eq!(
        capacity(&CapacityRequest::default(), &no_workspace)
            .map(|_| ())
            .unwrap_err()
            .parameter(),
        Some("WORKSPACE_SID")
    );
}

#[test]
fn the_call_status_machine_runs_here_too() {
    let mut w = World::new();
    w.park(WORKER);
    let callback = call_status::Callback {
        call_sid: Some(CALL.into()),
        call_status: Some("busy".into()),
        sequence_number: Some("1".into()),
        timestamp: None,
    };
    let answer = w.run(
        call_status(&callback, "tok-cb", &env(), NOW).expect("valid"),
        NOW,
    );
    assert_eq!(answer.body["handled"], json!(true));
    assert_eq!(w.created.len(), 1);
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        any::<Option<u16>>().prop_map(|s| failed(s, None)),
        Just(failed(Some(409), Some(54208))),
        Just(failed(Some(400), Some(21220))),
        Just(Outcome::Done(Value::Null)),
        Just(Outcome::Done(
            json!({"revision": 5, "data": "x", "status": "completed", "sid": 3})
        )),
        Just(Outcome::Done(json!([{"sid": "WT1"}, 7]))),
        ".{0,20}".prop_map(|s| Outcome::Done(
            json!({"data": {"workerSid": s.clone(), "callSid": CALL}, "revision": s})
        )),
    ]
}

proptest! {
    /// Whatever Twilio answers, in whatever number, every machine ends without panicking.
    #[test]
    fn any_answers_end_every_machine(answers in proptest::collection::vec(proptest::collection::vec(outcome(), 0..4), 0..30)) {
        let starts = vec![
            park(&park_request(WORKER), &env(), &settings(), "t", NOW).expect("valid"),
            pickup(&PickupRequest { call_sid: Some(CALL.into()), ..PickupRequest::default() }, agent(WORKER), &env(), &settings(), "t").expect("valid"),
            pickup_twiml(Some(CALL.into()), &env()).expect("valid"),
            capacity(&CapacityRequest { capacity: Some("1".into()), worker_channel_sid: Some(CHANNEL.into()), worker_sid: Some(WORKER.into()) }, &env()).expect("valid"),
        ];
        for mut step in starts {
            for batch in &answers {
                match step {
                    Step::Answer(_) => break,
                    Step::Run { state, .. } => step = resume(state, batch.clone(), NOW),
                }
            }
        }
    }

    #[test]
    fn any_request_is_checked_without_panicking(sid in ".{0,40}", worker in ".{0,40}", attributes in ".{0,60}", now in any::<f64>()) {
        let request = ParkRequest { call_sid: Some(sid.clone()), worker_sid: Some(worker.clone()), attributes: Some(attributes), ..park_request(WORKER) };
        let _ = park(&request, &env(), &settings(), "t", now);
        let _ = pickup(&PickupRequest { call_sid: Some(sid.clone()), ..PickupRequest::default() }, json!(worker), &env(), &settings(), "t");
        let _ = pickup_twiml(Some(sid), &env());
        let _ = serde_json::from_str::<Machine>(&worker);
    }
}
