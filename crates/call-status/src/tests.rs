//! The wrap-up steps against an in-memory Sync and TaskRouter that can fail each step in every way
//! Twilio can: refused, failed after being carried out (answer lost), failed before.

use super::*;
use effects::{Answer, Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const WORKER: &str = "WK0123456789abcdef0123456789abcdef";
const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";
const WS: &str = "WS0123456789abcdef0123456789abcdef";
const IS: &str = "IS0123456789abcdef0123456789abcdef";
/// 2024-05-01T12:00:00.000Z
const NOW: f64 = 1_714_564_800_000.0;

fn cb(status: &str, seq: &str) -> Callback {
    Callback {
        call_sid: Some(CALL.into()),
        call_status: Some(status.into()),
        sequence_number: Some(seq.into()),
        timestamp: Some("Wed, 01 May 2024 12:00:00 +0000".into()),
    }
}

fn record() -> Value {
    json!({"attributes": {"conversations": {"conversation_id": "WT1"}, "extra": 7}, "callSid": CALL,
        "dateCreated": "2024-05-01T11:55:00.000Z", "name": "Ada", "queueName": "Support",
        "workerSid": WORKER, "workflowSid": WORKFLOW})
}

/// How one step fails.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// Refused, nothing done (a 4xx such as 400).
    Refused,
    /// 429 after the client's retries: nothing done.
    Throttled,
    /// Carried out, but the answer was lost (timeout or 5xx).
    LostAnswer,
    /// Not carried out, and the caller cannot tell (timeout or 5xx).
    Lost,
}

#[derive(Default)]
struct World {
    global: Option<(Value, u64)>,
    worker: Option<Value>,
    tasks: Vec<(String, Value)>,
    steps: usize,
}

fn env() -> Env {
    Env {
        workspace_sid: Some(WS.into()),
        sync_service_sid: Some(IS.into()),
    }
}

/// A failure as the executor reports it.
fn failure(status: Option<u16>, code: Option<u32>, message: String) -> Outcome {
    Outcome::Failed(Failure {
        status,
        code,
        message,
        more_info: None,
        attempted: true,
    })
}

impl World {
    fn parked() -> World {
        World {
            global: Some((record(), 0)),
            ..World::default()
        }
    }

    fn perform(&mut self, op: &Op, fault: Fault) -> Outcome {
        self.steps += 1;
        let fail = |status: Option<u16>| failure(status, None, format!("{fault:?}"));
        match fault {
            Fault::Refused => return fail(Some(400)),
            Fault::Throttled => return fail(Some(429)),
            Fault::Lost => return fail(Some(500)),
            _ => {}
        }
        let worker_map = format!("{WORKER}.ParkedCalls");
        let result: Result<Value, (u16, Option<u32>)> = match op {
            Op::FetchSyncItem {
                service_sid, map, ..
            } => {
                assert_eq!(
                    (service_sid.as_str(), map.as_str()),
                    (IS, "Global.ParkedCalls")
                );
                self.global
                    .as_ref()
                    .map(|(d, r)| json!({"data": d, "revision": r.to_string()}))
                    .ok_or((404, Some(20404)))
            }
            Op::UpdateSyncItem {
                map,
                data,
                if_match: Some(if_match),
                ..
            } if map == "Global.ParkedCalls" => match &mut self.global {
                None => Err((404, Some(20404))),
                Some((_, rev)) if rev.to_string() != *if_match => Err((412, Some(54103))),
                Some(entry) => {
                    entry.0 = data.clone();
                    entry.1 += 1;
                    Ok(json!({"revision": entry.1.to_string()}))
                }
            },
            Op::CreateSyncItem { map, data, ttl, .. } => {
                assert_eq!((map, *ttl), (&worker_map, Some(HANGUP_ENTRY_TTL)));
                if self.worker.is_some() {
                    Err((409, Some(effects::SYNC_ITEM_EXISTS)))
                } else {
                    self.worker = Some(data.clone());
                    Ok(json!({"revision": "0"}))
                }
            }
            Op::UpdateSyncItem {
                map,
                data,
                if_match: None,
                ..
            } => {
                assert_eq!(map, &worker_map);
                match &mut self.worker {
                    None => Err((404, Some(20404))),
                    Some(w) => {
                        *w = data.clone();
                        Ok(json!({"revision": "1"}))
                    }
                }
            }
            Op::DeleteSyncItem { map, .. } => {
                let entry_gone = if map == "Global.ParkedCalls" {
                    self.global.take().is_some()
                } else {
                    assert_eq!(map, &worker_map);
                    self.worker.take().is_some()
                };
                if entry_gone {
                    Ok(Value::Bool(true))
                } else {
                    Err((404, Some(20404)))
                }
            }
            Op::ListTasks {
                evaluate_task_attributes,
                ..
            } => {
                assert_eq!(
                    evaluate_task_attributes.as_deref(),
                    Some(task_expression(CALL).as_str())
                );
                Ok(Value::Array(
                    self.tasks
                        .iter()
                        .filter(|(_, a)| {
                            a["call_sid"] == json!(CALL) && a["isParkHangup"] == json!(true)
                        })
                        .map(|(sid, _)| json!({"sid": sid}))
                        .collect(),
                ))
            }
            Op::CreateTask { attributes, .. } => {
                let sid = format!("WT{:032x}", self.tasks.len());
                self.tasks
                    .push((sid.clone(), serde_json::from_str(attributes).expect("JSON")));
                Ok(json!({"sid": sid}))
            }
            other => panic!("the wrap-up never asks for {other:?}"),
        };
        match (result, fault) {
            (Ok(_), Fault::LostAnswer) => fail(None),
            (Ok(value), _) => Outcome::Done(value),
            (Err((status, code)), _) => failure(Some(status), code, "refused".into()),
        }
    }

    /// Runs the machine from `next` to its answer; `faults` fail the operations in order.
    fn finish(
        &mut self,
        mut next: Next,
        now: f64,
        faults: &mut dyn Iterator<Item = Fault>,
    ) -> Answer {
        loop {
            let (state, effects) = match next {
                Step::Answer(answer) => return answer,
                Step::Run { state, effects } => (state, effects),
            };
            assert_eq!(
                effects.len(),
                1,
                "the wrap-up performs one operation at a time"
            );
            let effect = effects.into_iter().next().expect("one effect");
            assert_eq!(
                effect.retry,
                !matches!(effect.op, Op::CreateTask { .. }),
                "task creation is never retried"
            );
            let outcome = self.perform(&effect.op, faults.next().unwrap_or(Fault::None));
            next = resume(state, outcome, now);
            assert!(self.steps < 200, "the steps end");
        }
    }

    /// One delivery of the callback; `faults` fail the steps in order.
    fn deliver(
        &mut self,
        token: &str,
        now: f64,
        faults: &mut dyn Iterator<Item = Fault>,
    ) -> Answer {
        let next = start(&cb("completed", "3"), token, &env(), now).expect("valid");
        self.finish(next, now, faults)
    }
}

#[test]
fn a_parked_caller_hanging_up_gets_one_task_then_nothing() {
    let mut w = World::parked();
    let answer = w.deliver("a", NOW, &mut std::iter::empty());
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["handled"], json!(true));
    assert_eq!(answer.body["holdTime"], json!(300));
    assert_eq!(w.tasks.len(), 1);
    let attrs = &w.tasks[0].1;
    assert_eq!(attrs["isParkHangup"], json!(true));
    assert_eq!(attrs["extra"], json!(7));
    assert_eq!(
        attrs["conversations"]["outcome"],
        json!("Hangup While Parked")
    );
    assert_eq!(attrs["conversations"]["hold_time"], json!(300));
    assert_eq!(w.global, None);
    let worker = w.worker.clone().expect("worker entry");
    assert_eq!(worker["callerHangup"], json!(true));
    assert_eq!(
        worker["callerHangupTime"],
        json!("2024-05-01T12:00:00.000Z")
    );
    assert!(worker.get("wrapUp").is_none());
    let again = w.deliver("b", NOW, &mut std::iter::empty());
    assert_eq!(
        (again.status, again.body["reason"].clone()),
        (200, json!("not_parked"))
    );
    assert_eq!(w.tasks.len(), 1);
}

#[test]
fn named_faults_end_with_one_task() {
    // (the step that fails, how) -> statuses of the deliveries until done.
    let cases: Vec<(usize, Fault, Vec<u16>)> = vec![
        (0, Fault::Lost, vec![503, 200]),      // reading the entry
        (1, Fault::LostAnswer, vec![200]),     // claim applied, answer lost: re-read, it is ours
        (1, Fault::Lost, vec![200]),           // claim not applied: re-read, claim again
        (2, Fault::LostAnswer, vec![200]),     // task created, answer lost: found, not re-created
        (2, Fault::Lost, vec![200]),           // task not created: looked up, created once
        (2, Fault::Throttled, vec![503, 200]), // released, the redelivery takes over
        (3, Fault::Lost, vec![503, 200]),      // Sync 500 after the task: redelivery, same task
        (4, Fault::Lost, vec![503, 200]),      // removing the global entry
    ];
    for (at, fault, statuses) in cases {
        let mut w = World::parked();
        let mut faults = (0..).map(move |i| if i == at { fault } else { Fault::None });
        let mut seen = vec![];
        for (i, token) in ["a", "b", "c", "d"].iter().enumerate() {
            let answer = w.deliver(token, NOW + i as f64, &mut faults);
            seen.push(answer.status);
            if answer.status != 503 {
                break;
            }
        }
        assert_eq!(seen, statuses, "step {at} {fault:?}");
        assert_eq!(w.tasks.len(), 1, "step {at} {fault:?}");
        assert_eq!(w.global, None, "step {at} {fault:?}");
    }
}

#[test]
fn a_refused_task_is_a_200_and_the_entry_is_given_back() {
    let mut w = World::parked();
    let mut faults = [Fault::None, Fault::None, Fault::Refused].into_iter();
    let answer = w.deliver("a", NOW, &mut faults);
    assert_eq!(
        (answer.status, answer.body["retry"].clone()),
        (200, json!(false))
    );
    let (data, _) = w.global.clone().expect("still listed");
    assert_eq!(data["wrapUp"]["released"], json!(true));
    assert_eq!(w.tasks.len(), 0);
}

#[test]
fn markers_of_others_are_respected_while_fresh() {
    let claimed_by_other = |field: &str, at: &str| {
        let mut data = record();
        data[field] = json!({"token": "other", "at": at});
        World {
            global: Some((data, 4)),
            ..World::default()
        }
    };
    let fresh = "2024-05-01T11:59:55.000Z";
    let stale = "2024-05-01T11:59:49.000Z";
    let mut w = claimed_by_other("wrapUp", fresh);
    assert_eq!(
        w.deliver("a", NOW, &mut std::iter::empty()).body["reason"],
        json!("already_claimed")
    );
    assert_eq!(w.tasks.len(), 0);
    // An abandoned claim is taken over, looking for its task first.
    let mut w = claimed_by_other("wrapUp", stale);
    w.tasks.push((
        "WTexisting".into(),
        json!({"call_sid": CALL, "isParkHangup": true}),
    ));
    let answer = w.deliver("a", NOW, &mut std::iter::empty());
    assert_eq!(answer.body["taskSid"], json!("WTexisting"));
    assert_eq!(w.tasks.len(), 1);
    // A live pickup: no task, nothing touched.
    let mut w = claimed_by_other("pickedUp", fresh);
    assert_eq!(
        w.deliver("a", NOW, &mut std::iter::empty()).body["reason"],
        json!("picked_up")
    );
    assert!(w.global.is_some() && w.tasks.is_empty());
    // A pickup that is over left its entries: removed, no task.
    let mut w = claimed_by_other("pickedUp", stale);
    w.worker = Some(record());
    assert_eq!(
        w.deliver("a", NOW, &mut std::iter::empty()).body["reason"],
        json!("picked_up")
    );
    assert!(w.global.is_none() && w.worker.is_none() && w.tasks.is_empty());
    // The pickup's own token (it found the call ended): it wraps up.
    let mut w = claimed_by_other("pickedUp", fresh);
    let answer = w.deliver("other", NOW, &mut std::iter::empty());
    assert_eq!(
        (answer.body["handled"].clone(), w.tasks.len()),
        (json!(true), 1)
    );
}

#[test]
fn callbacks_that_need_nothing() {
    for status in ["queued", "initiated", "ringing", "in-progress"] {
        let next = start(&cb(status, "1"), "t", &env(), NOW).expect("valid");
        assert_eq!(next.as_answer().map(|a| a.status), Some(200), "{status}");
    }
    let mut w = World::default();
    assert_eq!(
        w.deliver("a", NOW, &mut std::iter::empty()).body["reason"],
        json!("not_parked")
    );
    let mut w = World {
        global: Some((json!({"callSid": 5}), 0)),
        ..World::default()
    };
    assert_eq!(
        w.deliver("a", NOW, &mut std::iter::empty()).body["reason"],
        json!("unreadable_record")
    );
}

#[test]
fn bad_input_is_named() {
    let e = start(&Callback::default(), "t", &env(), NOW).unwrap_err();
    assert_eq!((e.parameter(), e.http_status()), (Some("CallSid"), 400));
    let e = start(
        &Callback {
            call_status: None,
            ..cb("x", "1")
        },
        "t",
        &env(),
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.parameter(), Some("CallStatus"));
    let e = start(&cb("hung-up", "1"), "t", &env(), NOW).unwrap_err();
    assert!(e.to_string().contains("\"hung-up\""));
    let e = start(&cb("completed", "x"), "t", &env(), NOW).unwrap_err();
    assert_eq!(e.parameter(), Some("SequenceNumber"));
    let no_workspace = Env {
        workspace_sid: None,
        ..env()
    };
    let e = start(&cb("completed", "1"), "t", &no_workspace, NOW).unwrap_err();
    assert_eq!(
        (e.parameter(), e.http_status(), e.code()),
        (Some("WORKSPACE_SID"), 500, "invalid_config"),
        "the shared shape of a bad setting"
    );
    assert_eq!(e.to_string(), "WORKSPACE_SID=\"\" is not set");
    let no_token = start(&cb("completed", "1"), " ", &env(), NOW).unwrap_err();
    assert_eq!(
        (no_token.code(), no_token.parameter()),
        ("missing_token", None)
    );
    let no_sync = Env {
        sync_service_sid: Some(" ".into()),
        ..env()
    };
    let e = start(&cb("completed", "1"), "t", &no_sync, NOW).unwrap_err();
    assert_eq!(e.parameter(), Some("SYNC_SERVICE_SID"));
    assert_eq!(
        start(&cb("completed", "1"), "t", &env(), f64::NAN)
            .unwrap_err()
            .code(),
        "invalid_now"
    );
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"' \\]\u{0}-\u{1f}\u{fffe}\u{1f600}\u{2028}a-z]{0,40}",
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::None),
        1 => Just(Fault::Refused),
        1 => Just(Fault::Throttled),
        1 => Just(Fault::LostAnswer),
        1 => Just(Fault::Lost),
    ]
}

proptest! {
    /// Whatever fails, never two tasks; and once the faults stop, deliveries (each after the
    /// previous one's lease) end with exactly one task and no global entry, unless TaskRouter
    /// refused the task for good.
    #[test]
    fn never_two_tasks_and_redelivery_finishes(faults in proptest::collection::vec(fault(), 0..12), gap_ms in 0u32..30_000) {
        let mut w = World::parked();
        let mut schedule = faults.clone().into_iter();
        let mut refused = false;
        // Every delivery takes at least one fault, so the faults are over before the last three.
        for i in 0..(faults.len() as u32 + 3) {
            let answer = w.deliver(&format!("t{i}"), NOW + f64::from(i) * f64::from(gap_ms), &mut schedule);
            prop_assert!(w.tasks.len() <= 1, "two tasks: {faults:?}");
            refused |= answer.status == 200 && answer.body["error"].is_string();
        }
        if gap_ms >= 10_000 && !refused {
            // Leases expired between deliveries.
            prop_assert_eq!(w.tasks.len(), 1, "{:?}", faults);
            prop_assert!(w.global.is_none());
        }
    }

    /// Well-formed callbacks and records carrying hostile values of every size park accepts: the
    /// wrap-up task carries the record's attributes intact, and the worker's entry still fits in a
    /// Sync item.
    #[test]
    fn hostile_records_reach_the_task_intact(value in hostile(), name in hostile(), timestamp in hostile(), pad in 0usize..15_500, seq in any::<u32>()) {
        let attrs = json!({"v": value.clone(), "pad": "p".repeat(pad)});
        let park = parking::park(
            &parking::ParkRequest { attributes: Some(attrs.to_string()), call_sid: Some(CALL.into()), name: Some(format!("n{name}")),
                queue_name: Some("q".into()), task_sid: Some(format!("WT{}", "0".repeat(32))), worker_sid: Some(WORKER.into()), workflow_sid: Some(WORKFLOW.into()) },
            &parking::Settings { domain_name: Some("example.twil.io".into()), hold_music_path: None },
            NOW - 1_000.0,
        );
        let Ok(park) = park else { return Ok(()) }; // too large to park: nothing to wrap up
        let mut w = World { global: Some((serde_json::to_value(&park.record).expect("json"), 0)), ..World::default() };
        let callback = Callback { timestamp: Some(timestamp), sequence_number: Some(seq.to_string()), ..cb("completed", "0") };
        let next = start(&callback, "tok", &env(), NOW).expect("well-formed");
        prop_assert!(next.as_answer().is_none(), "a parked call is wrapped up");
        let answer = w.finish(next, NOW, &mut std::iter::empty());
        prop_assert_eq!(answer.status, 200);
        prop_assert_eq!(w.tasks.len(), 1);
        prop_assert_eq!(&w.tasks[0].1["v"], &json!(value));
        prop_assert_eq!(&w.tasks[0].1["targetWorker"], &json!(WORKER));
        let worker = w.worker.clone().expect("worker entry");
        prop_assert!(serde_json::to_string(&worker).expect("json").len() <= 16 * 1024);
        prop_assert_eq!(&worker["attributes"]["v"], &json!(value));
    }

    #[test]
    fn no_input_panics(sid in any::<String>(), status in any::<String>(), seq in any::<String>(), data in any::<String>(), now in any::<f64>(), ok in any::<bool>()) {
        let callback = Callback { call_sid: Some(sid), call_status: Some(status), sequence_number: Some(seq), timestamp: None };
        let _ = start(&callback, &data, &env(), now);
        if let Ok(Step::Run { state, .. }) = start(&cb("completed", "1"), "t", &env(), NOW) {
            let outcome = if ok {
                Outcome::Done(json!({"data": {"callSid": data.clone(), "wrapUp": data.clone()}, "revision": data}))
            } else {
                failure(None, None, data.clone())
            };
            if let Step::Run { state, .. } = resume(state, outcome.clone(), now) {
                let _ = resume(state, outcome, now);
            }
        }
    }
}
