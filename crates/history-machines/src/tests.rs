//! The machines against an in-memory Twilio: the state goes through JSON between steps, as the
//! executor carries it; every operation can fail the ways the executor reports.

use effects::{Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::staffing::{batch, single, SingleInput, StaffingEnv};
use crate::{resume, Machine, Measured, Turn};

const NOW: f64 = 1_800_000_000_000.0;
const WQ: &str = "WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn env() -> StaffingEnv {
    StaffingEnv {
        default_aht_seconds: Some("180".into()),
        history: json!({"TWILIO_FLEX_WORKSPACE_SID": "WS1", "TWILIO_FLEX_SYNC_SID": "IS1"}),
    }
}

fn failed(status: u16) -> Outcome {
    Outcome::Failed(Failure {
        status: Some(status),
        code: Some(20404),
        message: "nope".into(),
        attempted: true,
        more_info: None,
    })
}

/// Runs `turn` to its answer with `twilio` answering each operation; returns the answer, the
/// operations performed (by kind) and what the container is to remember.
fn drive(
    mut turn: Turn,
    mut twilio: impl FnMut(&Op) -> Outcome,
) -> (effects::Answer, Vec<String>, Option<Measured>) {
    let mut kinds = Vec::new();
    let mut remember = None;
    for _ in 0..50 {
        if turn.remember.is_some() {
            remember = turn.remember.clone();
        }
        match turn.step {
            Step::Answer(a) => return (a, kinds, remember),
            Step::Run { state, effects } => {
                let wire = serde_json::to_value(&state).expect("state");
                let state: Machine = serde_json::from_value(wire).expect("reads back");
                let outcomes = effects
                    .iter()
                    .map(|e| {
                        kinds.push(
                            serde_json::to_value(&e.op).expect("op")["kind"]
                                .as_str()
                                .unwrap_or("")
                                .to_string(),
                        );
                        twilio(&e.op)
                    })
                    .collect();
                turn = resume(state, outcomes, NOW);
            }
        }
    }
    panic!("no answer after 50 steps");
}

fn input(fields: Value) -> SingleInput {
    serde_json::from_value(fields).expect("input")
}

#[test]
fn a_request_without_a_queue_is_answered_at_once() {
    let turn = single(
        input(json!({"callsPerInterval": "100", "ahtSeconds": "180", "target": "80"})),
        &env(),
        None,
        NOW,
    )
    .expect("starts");
    let (a, kinds, _) = drive(turn, |_| panic!("no request"));
    assert!(kinds.is_empty());
    assert_eq!((a.status, a.body["agents"].clone()), (200, json!(14)));
    // A bad parameter is the crate's 400, naming it.
    let turn = single(input(json!({"ahtSeconds": "180"})), &env(), None, NOW).expect("starts");
    let (a, _, _) = drive(turn, |_| panic!("no request"));
    assert_eq!(
        (a.status, a.body["parameter"].clone()),
        (400, json!("callsPerInterval"))
    );
    // A queueSid that is not one is refused before any request.
    assert!(single(input(json!({"queueSid": "WQ123"})), &env(), None, NOW).is_err());
}

#[test]
fn a_queue_reads_its_arrivals_and_the_measured_time_at_once() {
    let turn = single(
        input(json!({"queueSid": format!(" {WQ} "), "channel": "voice"})),
        &env(),
        None,
        NOW,
    )
    .expect("starts");
    let Step::Run { effects, .. } = &turn.step else {
        panic!("reads first")
    };
    assert_eq!(effects.len(), 2, "one batch: arrivals and stored hours");
    assert_eq!(
        serde_json::to_value(&effects[0].op).expect("op"),
        json!({"kind": "fetchTaskQueueCumulativeStatistics", "workspaceSid": "WS1",
            "taskQueueSid": WQ, "minutes": 30, "taskChannel": "voice"})
    );
    let (a, kinds, remember) = drive(turn, |op| match op {
        Op::FetchTaskQueueCumulativeStatistics { .. } => {
            Outcome::Done(json!({"tasksEntered": 100}))
        }
        Op::ListSyncItems { .. } => Outcome::Done(json!([])),
        _ => panic!("unexpected {op:?}"),
    });
    assert_eq!(kinds.len(), 2);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["queueSid"], json!(WQ));
    assert_eq!(
        a.body["sources"],
        json!({"arrivals": "taskrouter", "handleTime": "configured"})
    );
    assert_eq!(a.body["agents"], json!(14));
    // Nothing stored: remembered as "no queue measured".
    assert_eq!(remember.map(|m| m.by_sid.len()), Some(0));
}

#[test]
fn remembered_measured_times_are_used_for_five_minutes() {
    let known = Measured {
        at_ms: NOW - 60_000.0,
        by_sid: [(WQ.to_string(), 360.0)].into_iter().collect(),
    };
    let turn = single(
        input(json!({"queueSid": WQ, "callsPerInterval": "100"})),
        &env(),
        Some(&known),
        NOW,
    )
    .expect("starts");
    let (a, kinds, _) = drive(turn, |_| panic!("no request"));
    assert!(kinds.is_empty());
    assert_eq!(
        (
            a.body["sources"]["handleTime"].clone(),
            a.body["ahtSeconds"].clone()
        ),
        (json!("measured"), json!(360.0))
    );
    // Stale: read again.
    let stale = Measured {
        at_ms: NOW - 300_001.0,
        ..known
    };
    let turn = single(
        input(json!({"queueSid": WQ, "callsPerInterval": "100"})),
        &env(),
        Some(&stale),
        NOW,
    )
    .expect("starts");
    let (_, kinds, _) = drive(turn, |_| Outcome::Done(json!([])));
    assert_eq!(kinds, ["listSyncItems"]);
}

#[test]
fn an_unknown_queue_is_twilios_404_and_a_failed_history_read_falls_back() {
    let turn = single(input(json!({"queueSid": WQ})), &env(), None, NOW).expect("starts");
    let (a, _, _) = drive(turn, |op| match op {
        Op::FetchTaskQueueCumulativeStatistics { .. } => failed(404),
        _ => Outcome::Done(json!([])),
    });
    assert_eq!(a.status, 404);
    assert!(a.body["error"]
        .as_str()
        .unwrap_or("")
        .starts_with(&format!("Reading the statistics of TaskQueue {WQ} failed")));
    let turn = single(input(json!({"queueSid": WQ})), &env(), None, NOW).expect("starts");
    let (a, _, remember) = drive(turn, |op| match op {
        Op::ListSyncItems { .. } => failed(503),
        _ => Outcome::Done(json!({"tasksEntered": 100})),
    });
    assert_eq!(a.status, 200);
    assert_eq!(a.body["sources"]["handleTime"], json!("configured"));
    assert_eq!(remember, None, "a failed read is not remembered");
    // The workspace missing, or under two names with two values: a 500 naming it, never a guess.
    let refused = |history: Value| {
        let env = StaffingEnv { history, ..env() };
        let turn = single(input(json!({"queueSid": WQ})), &env, None, NOW).expect("starts");
        let (a, _, _) = drive(turn, |_| panic!("no request"));
        (
            a.status,
            a.body["code"].clone(),
            a.body["parameter"].clone(),
        )
    };
    let misconfigured = (500, json!("invalid_config"), json!("WORKSPACE_SID"));
    assert_eq!(
        refused(json!({"TWILIO_FLEX_SYNC_SID": "IS1"})),
        misconfigured
    );
    let two = json!({"WORKSPACE_SID": "WS1", "TWILIO_FLEX_WORKSPACE_SID": "WS2"});
    assert_eq!(refused(two), misconfigured);
}

#[test]
fn a_batch_reads_every_channel_at_once() {
    let queues = json!({"queues": [{"queueSid": WQ}, {"queueSid": WQ, "channel": "chat", "ahtSeconds": 360}]});
    let turn = batch(
        serde_json::from_value(queues.clone()).expect("input"),
        &env(),
        None,
        NOW,
    )
    .expect("starts");
    let Step::Run { effects, .. } = &turn.step else {
        panic!("reads first")
    };
    assert_eq!(effects.len(), 3, "two channels and the stored hours");
    let (a, _, _) = drive(turn, |op| match op {
        Op::ListTaskQueueStatistics { task_channel, .. } => Outcome::Done(json!([
            {"taskQueueSid": WQ, "cumulative": {"tasks_entered": if task_channel.is_some() { 10 } else { 100 }}}
        ])),
        _ => Outcome::Done(json!([])),
    });
    assert_eq!(a.status, 200, "{}", a.body);
    let results = a.body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 2);
    assert_eq!(
        (
            results[0]["callsPerInterval"].clone(),
            results[1]["callsPerInterval"].clone()
        ),
        (json!(100.0), json!(10.0))
    );
    // A failed statistics list is the answer.
    let turn = batch(
        serde_json::from_value(queues).expect("input"),
        &env(),
        None,
        NOW,
    )
    .expect("starts");
    let (a, _, _) = drive(turn, |op| match op {
        Op::ListTaskQueueStatistics { .. } => failed(429),
        _ => Outcome::Done(json!([])),
    });
    assert_eq!(a.status, 502);
    // A bad item refuses the batch before any request.
    assert!(batch(
        serde_json::from_value(json!({"queues": "all"})).expect("input"),
        &env(),
        None,
        NOW
    )
    .is_err());
}

/// A stored hour (history's own item builder) in which a task of `WQ` was handled in 600 s.
fn stored_hour() -> Vec<Value> {
    let config = history::Config::from_env(&history::Env::default()).expect("config");
    let hour =
        chrono::DateTime::from_timestamp_millis(NOW as i64 - 2 * 3_600_000).expect("instant");
    let start = history::time::hour_start(config.time_zone, hour);
    let end = history::time::next_hour(config.time_zone, start);
    let at = start.timestamp_millis() as f64;
    let event = |kind: &str, ms: f64| {
        json!({"eventType": kind, "eventDateMs": ms,
            "eventData": {"task_sid": "WT1", "task_queue_sid": WQ, "task_channel_unique_name": "voice"}})
    };
    let input: history::HourInput = serde_json::from_value(json!({
        "queues": [{"sid": WQ, "friendlyName": "Sales", "cumulative": {"all": {}, "voice": {}}}],
        "events": [event("reservation.accepted", at + 60_000.0), event("task.completed", at + 660_000.0)],
    }))
    .expect("input");
    history::hour_items(&config, start, end, &input)
        .into_iter()
        .filter(|i| i.map == "queueHistory.all")
        .map(|i| json!({"key": i.key, "data": i.data, "revision": "0"}))
        .collect()
}

#[test]
fn the_measured_time_is_the_stored_hours_average() {
    let items = stored_hour();
    assert_eq!(items.len(), 1);
    let turn = single(
        input(json!({"queueSid": WQ, "callsPerInterval": "100"})),
        &env(),
        None,
        NOW,
    )
    .expect("starts");
    let (a, kinds, remember) = drive(turn, |op| match op {
        Op::ListSyncItems { map, .. } if map == "queueHistory.all" => {
            Outcome::Done(Value::Array(items.clone()))
        }
        _ => panic!("unexpected {op:?}"),
    });
    assert_eq!(kinds, ["listSyncItems"]);
    assert_eq!(
        (
            a.body["sources"]["handleTime"].clone(),
            a.body["ahtSeconds"].clone()
        ),
        (json!("measured"), json!(600.0))
    );
    assert_eq!(
        remember.map(|m| m.by_sid),
        Some([(WQ.to_string(), 600.0)].into_iter().collect())
    );
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Done(json!([]))),
        Just(Outcome::Done(json!({"tasksEntered": 5}))),
        Just(Outcome::Done(json!(null))),
        Just(Outcome::Done(Value::Array(vec![
            json!({"key": "all.x", "data": {"channel": "all"}});
            100
        ]))),
        (400u16..600).prop_map(failed),
    ]
}

proptest! {
    #[test]
    fn any_outcomes_end_every_machine(outcomes in proptest::collection::vec(outcome(), 0..40), batched in any::<bool>()) {
        let turn = if batched {
            batch(serde_json::from_value(json!({"queues": [{"queueSid": WQ}]})).expect("input"), &env(), None, NOW).expect("starts")
        } else {
            single(input(json!({"queueSid": WQ})), &env(), None, NOW).expect("starts")
        };
        let mut next = outcomes.into_iter().cycle();
        let (a, _, _) = drive(turn, |_| next.next().unwrap_or(Outcome::Done(json!([]))));
        prop_assert!(a.status >= 200);
    }
}

#[test]
fn every_setting_the_sources_read_is_in_settings() {
    let sources = [
        include_str!("hook.rs"),
        include_str!("close.rs"),
        include_str!("backfill.rs"),
        include_str!("measured.rs"),
        include_str!("staffing.rs"),
        include_str!("range.rs"),
        include_str!("wasm.rs"),
        include_str!("../../history/src/config.rs"),
        include_str!("../../queue-settings/src/lib.rs"),
    ];
    for example in ["QUEUE_HISTORY_ENABLED", "QUEUE_STATS_TIME_ZONE"] {
        values::env::settings_listed(&sources, &["QUEUE_"], crate::SETTINGS, example).unwrap();
    }
}
