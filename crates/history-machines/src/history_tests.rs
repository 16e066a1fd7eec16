//! Queue history's machines (series with backfill, the hook, closing) against an in-memory
//! Twilio: Sync maps with revisions, create/update/If-Match/delete as Sync answers them, and
//! TaskRouter reads counted by their exact request; the state goes through JSON text between
//! steps, as the wasm face carries it. Any operation can be made to fail.

use std::collections::{BTreeMap, HashMap};

use effects::{Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::backfill::{close, series, CloseInput, SeriesInput};
use crate::hook::{self, HookInput, Memory};
use crate::{resume, Machine, Turn};

// 2026-11-16T15:30:00Z: hours 14:00 and before are closed (UTC).
const NOW: f64 = 1_795_361_400_000.0;
const HOUR: f64 = 3_600_000.0;
const Q1: &str = "WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const Q2: &str = "WQbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn iso(ms: f64) -> String {
    history::time::iso(history::time::instant(ms).expect("instant"))
}

/// Which operations fail, and how.
type Faults = Box<dyn FnMut(&Op) -> Option<Failure>>;

/// The in-memory Twilio.
#[derive(Default)]
struct Twilio {
    maps: BTreeMap<String, BTreeMap<String, (Value, u32)>>,
    queues: Vec<(String, String)>,
    /// Every TaskRouter request (its wire form), in order.
    taskrouter: Vec<String>,
    /// Sync writes: (kind, map, key).
    writes: Vec<(String, String, String)>,
    /// Creates refused as duplicates: (map, key).
    refused: Vec<(String, String)>,
    fail: Option<Faults>,
}

fn failure(status: u16, code: u32) -> Failure {
    Failure {
        status: Some(status),
        code: Some(code),
        message: format!("HTTP {status}"),
        attempted: true,
        more_info: None,
    }
}

impl Twilio {
    fn new(queues: &[&str]) -> Twilio {
        Twilio {
            queues: queues
                .iter()
                .enumerate()
                .map(|(i, s)| (s.to_string(), format!("Queue {i}")))
                .collect(),
            ..Twilio::default()
        }
    }

    fn item(&self, map: &str, key: &str) -> Option<Value> {
        self.maps
            .get(map)?
            .get(key)
            .map(|(data, rev)| json!({"key": key, "data": data, "revision": rev.to_string()}))
    }

    fn perform(&mut self, op: &Op) -> Outcome {
        if let Some(f) = self.fail.as_mut().and_then(|f| f(op)) {
            return Outcome::Failed(f);
        }
        let wire = serde_json::to_value(op).expect("op");
        let kind = wire["kind"].as_str().unwrap_or("").to_string();
        match op {
            Op::ListSyncItems {
                map,
                from,
                bounds,
                paging,
                ..
            } => {
                let Some(items) = self.maps.get(map) else {
                    return Outcome::Failed(failure(404, 20404));
                };
                let from = from.clone().unwrap_or_default();
                let exclusive = bounds.as_deref() == Some("exclusive");
                let list: Vec<Value> = items
                    .range(from.clone()..)
                    .filter(|(k, _)| !(exclusive && **k == from))
                    .take(paging.limit as usize)
                    .map(|(k, (data, rev))| json!({"key": k, "data": data, "revision": rev.to_string()}))
                    .collect();
                Outcome::Done(Value::Array(list))
            }
            Op::FetchSyncItem { map, key, .. } => match self.item(map, key) {
                Some(v) => Outcome::Done(v),
                None => Outcome::Failed(failure(404, 20404)),
            },
            Op::CreateSyncMap { unique_name, .. } => {
                self.writes.push((kind, unique_name.clone(), String::new()));
                if self.maps.contains_key(unique_name) {
                    return Outcome::Failed(failure(409, 54301));
                }
                self.maps.insert(unique_name.clone(), BTreeMap::new());
                Outcome::Done(json!({"uniqueName": unique_name}))
            }
            Op::CreateSyncItem { map, key, data, .. } => {
                self.writes.push((kind, map.clone(), key.clone()));
                let Some(items) = self.maps.get_mut(map) else {
                    return Outcome::Failed(failure(404, 20404));
                };
                if items.contains_key(key) {
                    self.refused.push((map.clone(), key.clone()));
                    return Outcome::Failed(failure(409, 54208));
                }
                items.insert(key.clone(), (data.clone(), 0));
                Outcome::Done(json!({"key": key, "revision": "0"}))
            }
            Op::UpdateSyncItem {
                map,
                key,
                data,
                if_match,
                ..
            } => {
                self.writes.push((kind, map.clone(), key.clone()));
                let Some((old, rev)) = self.maps.get_mut(map).and_then(|m| m.get_mut(key)) else {
                    return Outcome::Failed(failure(404, 20404));
                };
                if if_match.as_ref().is_some_and(|r| *r != rev.to_string()) {
                    return Outcome::Failed(failure(412, 54103));
                }
                *old = data.clone();
                *rev += 1;
                Outcome::Done(json!({"key": key, "revision": rev.to_string()}))
            }
            Op::DeleteSyncItem { map, key, .. } => {
                self.writes.push((kind, map.clone(), key.clone()));
                match self.maps.get_mut(map).and_then(|m| m.remove(key)) {
                    Some(_) => Outcome::Done(json!(true)),
                    None => Outcome::Failed(failure(404, 20404)),
                }
            }
            _ => {
                self.taskrouter.push(wire.to_string());
                match op {
                    Op::ListTaskQueues { .. } => Outcome::Done(Value::Array(
                        self.queues
                            .iter()
                            .map(|(sid, name)| json!({"sid": sid, "friendlyName": name}))
                            .collect(),
                    )),
                    Op::ListWorkers { task_queue_sid, .. } => Outcome::Done(match task_queue_sid {
                        Some(q) => json!([{"sid": format!("WK{}", &q[2..6])}]),
                        None => json!([{"sid": "WKaaaa", "activityName": "Available"}]),
                    }),
                    Op::FetchTaskQueueCumulativeStatistics { .. } => {
                        Outcome::Done(json!({"tasksEntered": 3, "reservationsAccepted": 2}))
                    }
                    Op::ListEvents { .. } => Outcome::Done(json!([])),
                    Op::ListEventsPage { .. } => Outcome::Done(json!({"events": [], "next": null})),
                    _ => Outcome::Failed(failure(400, 0)),
                }
            }
        }
    }

    fn keys(&self, map: &str) -> Vec<String> {
        self.maps
            .get(map)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// TaskRouter requests sent more than once.
    fn repeated(&self) -> Vec<String> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for r in &self.taskrouter {
            *seen.entry(r.as_str()).or_default() += 1;
        }
        seen.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(r, _)| r.to_string())
            .collect()
    }
}

/// Runs `turn` to its answer: the state through JSON text, `now` advancing by `tick_ms` a step.
fn drive(mut turn: Turn, twilio: &mut Twilio, tick_ms: f64) -> (effects::Answer, usize) {
    let mut now = NOW;
    for steps in 0..400 {
        match turn.step {
            Step::Answer(a) => return (a, steps),
            Step::Run { state, effects } => {
                let text = serde_json::to_string(&state).expect("state");
                let state: Machine = serde_json::from_str(&text).expect("reads back");
                let outcomes: Vec<Outcome> =
                    effects.iter().map(|e| twilio.perform(&e.op)).collect();
                now += tick_ms;
                // The series reads the executor's outcomes text, as the wasm face hands it.
                turn = match state {
                    Machine::Series(s) => {
                        let text = serde_json::to_string(&outcomes).expect("outcomes");
                        s.resume_text(&text, now, &mut crate::Local::default())
                    }
                    other => resume(other, outcomes, now),
                };
            }
        }
    }
    panic!("no answer after 400 steps");
}

fn series_input(params: Value, extra: Value) -> SeriesInput {
    let mut input = json!({
        "params": params,
        "env": {"QUEUE_STATS_TIME_ZONE": "UTC", "QUEUE_STATS_CHANNELS": "voice", "WORKSPACE_SID": "WS1", "TWILIO_FLEX_SYNC_SID": "IS1"},
        "owner": "me",
        "run": "r1",
        "nowMs": NOW,
        "listQueues": true,
    });
    if let (Some(a), Some(b)) = (input.as_object_mut(), extra.as_object()) {
        a.extend(b.clone());
    }
    serde_json::from_value(input).expect("input")
}

fn three_hours() -> Value {
    json!({"from": iso(NOW - 3.5 * HOUR), "to": iso(NOW - 0.5 * HOUR), "by": "hour"})
}

fn hours(answer: &effects::Answer) -> (usize, Vec<Value>) {
    let b = &answer.body;
    (
        b["closedHours"].as_u64().unwrap_or(0) as usize,
        b["missing"].as_array().cloned().unwrap_or_default(),
    )
}

#[test]
fn backfill_closes_every_pending_hour_once_and_answers_them() {
    let mut tw = Twilio::new(&[Q1, Q2]);
    let turn = series(series_input(three_hours(), json!({}))).expect("starts");
    let (answer, _) = drive(turn, &mut tw, 1.0);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (closed, missing) = hours(&answer);
    assert_eq!((closed, missing.len()), (3, 0), "{}", answer.body);
    // One item per hour in each map (all, voice); a claim per hour; maps created on demand.
    assert_eq!(tw.keys("queueHistory.all").len(), 3);
    assert_eq!(tw.keys("queueHistory.voice").len(), 3);
    assert_eq!(tw.keys("queueHistoryClaims").len(), 3);
    assert!(tw.repeated().is_empty(), "{:?}", tw.repeated());
    // The run's shared reads once: members per queue, the workers, the activity listing.
    let count = |what: &str| tw.taskrouter.iter().filter(|r| r.contains(what)).count();
    assert_eq!(
        count("\"taskQueueSid\":\"WQa"),
        1 + 3 * 2,
        "members once, cumulative per hour and channel"
    );
    assert_eq!(count("listEventsPage"), 1);
    assert_eq!(count("listTaskQueues"), 1);
    assert_eq!(count("\"kind\":\"listEvents\""), 6);
    // No item created twice.
    let creates: Vec<_> = tw
        .writes
        .iter()
        .filter(|w| w.0 == "createSyncItem" && w.1.starts_with("queueHistory."))
        .collect();
    let mut distinct = creates.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6);
    // Asked again: everything is stored; no TaskRouter request, no write.
    let (before, writes) = (tw.taskrouter.len(), tw.writes.len());
    let (again, _) = drive(
        series(series_input(three_hours(), json!({"run": "r2"}))).expect("starts"),
        &mut tw,
        1.0,
    );
    assert_eq!(hours(&again), (3, vec![]));
    assert_eq!((tw.taskrouter.len(), tw.writes.len()), (before, writes));
    assert_eq!(again.body["queues"].as_array().map(Vec::len), Some(2));
}

#[test]
fn stored_only_lists_the_queues_and_never_backfills() {
    let mut tw = Twilio::new(&[Q1]);
    let mut params = three_hours();
    params["backfill"] = json!("false");
    let (answer, _) = drive(
        series(series_input(params, json!({}))).expect("starts"),
        &mut tw,
        1.0,
    );
    let (_, missing) = hours(&answer);
    assert_eq!(missing.len(), 3);
    assert!(missing.iter().all(|m| m["code"] == "pending"));
    assert_eq!(tw.taskrouter.len(), 1, "the queue list only");
    assert_eq!(answer.body["queues"][0]["sid"], json!(Q1));
    assert!(tw.writes.is_empty());
}

#[test]
fn a_bad_parameter_or_setting_is_refused_before_any_request() {
    let e = series(series_input(json!({"by": "week"}), json!({}))).expect_err("refused");
    assert!(e.to_string().starts_with("by="));
    let e = series(series_input(
        json!({}),
        json!({"env": {"QUEUE_STATS_TIME_ZONE": "Mars/Base"}}),
    ))
    .expect_err("refused");
    assert!(matches!(e, history::HistoryError::Config(_)));
    // The services are settings too: missing, or the workspace under two names with two values.
    let env = |extra: Value| {
        let mut env = json!({"QUEUE_STATS_TIME_ZONE": "UTC", "WORKSPACE_SID": "WS1"});
        if let (Some(a), Some(b)) = (env.as_object_mut(), extra.as_object()) {
            a.extend(b.clone());
        }
        json!({ "env": env })
    };
    let e = series(series_input(json!({}), env(json!({})))).expect_err("refused");
    match e {
        history::HistoryError::Config(e) => assert_eq!(e.variable, "TWILIO_FLEX_SYNC_SID"),
        other => panic!("{other:?}"),
    }
    let clash = env(json!({"TWILIO_FLEX_SYNC_SID": "IS1", "TWILIO_FLEX_WORKSPACE_SID": "WS2"}));
    let e = series(series_input(json!({}), clash)).expect_err("refused");
    assert!(e
        .to_string()
        .contains("WORKSPACE_SID and TWILIO_FLEX_WORKSPACE_SID name the same setting"));
}

#[test]
fn hours_another_request_holds_stay_pending_without_taskrouter_reads() {
    let mut tw = Twilio::new(&[Q1]);
    let mut claims = BTreeMap::new();
    for h in 1..=3 {
        let start = NOW - (0.5 + f64::from(h)) * HOUR;
        let at = history::time::instant(start).expect("instant");
        let c = history::claim::new_run_claim(
            &iso(start),
            "me",
            "other-run",
            history::claim::Kind::Backfill,
            NOW,
        );
        claims.insert(
            history::claim::claim_key(at),
            (serde_json::to_value(c).expect("claim"), 0),
        );
    }
    tw.maps.insert("queueHistoryClaims".into(), claims);
    let (answer, _) = drive(
        series(series_input(three_hours(), json!({}))).expect("starts"),
        &mut tw,
        1.0,
    );
    let (_, missing) = hours(&answer);
    assert_eq!(missing.len(), 3);
    assert!(missing.iter().all(|m| m["code"] == "pending"
        && m["reason"]
            .as_str()
            .is_some_and(|r| r.contains("another request"))));
    assert_eq!(
        tw.taskrouter.len(),
        1,
        "the queue list only: {:?}",
        tw.taskrouter
    );
    assert!(tw.writes.is_empty());
}

#[test]
fn a_claim_lost_to_a_create_race_leaves_the_hour_and_rereads_the_claims() {
    let mut tw = Twilio::new(&[Q1]);
    // Another request of the same container claims the newest hour between our read and create.
    let newest = NOW - 1.5 * HOUR;
    let key = history::claim::claim_key(history::time::instant(newest).expect("instant"));
    let mut raced = false;
    let data = serde_json::to_value(history::claim::new_run_claim(
        &iso(newest),
        "me",
        "r9",
        history::claim::Kind::Backfill,
        NOW,
    ))
    .expect("claim");
    let mut turn = series(series_input(three_hours(), json!({}))).expect("starts");
    let mut now = NOW;
    let answer = loop {
        match turn.step {
            Step::Answer(a) => break a,
            Step::Run { state, effects } => {
                let ops: Vec<Op> = effects.iter().map(|e| e.op.clone()).collect();
                if !raced && ops.iter().any(|o| matches!(o, Op::CreateSyncItem { map, .. } if map == "queueHistoryClaims")) {
                    raced = true;
                    tw.maps.entry("queueHistoryClaims".into()).or_default().insert(key.clone(), (data.clone(), 4));
                }
                let outcomes = ops.iter().map(|o| tw.perform(o)).collect();
                now += 1.0;
                turn = resume(state, outcomes, now);
            }
        }
    };
    let (closed, missing) = hours(&answer);
    assert_eq!((closed, missing.len()), (3, 1), "{}", answer.body);
    assert_eq!(missing[0]["hour"], json!(iso(newest)));
    assert_eq!(missing[0]["code"], json!("pending"));
    // The held hour was never fetched.
    let start = iso(newest);
    assert!(!tw
        .taskrouter
        .iter()
        .any(|r| r.contains(&format!("\"startDate\":\"{start}\""))));
    // Its claim is the other request's, untouched.
    assert_eq!(tw.maps["queueHistoryClaims"][&key].1, 4);
}

#[test]
fn a_failed_hour_is_noted_and_its_claim_dropped_so_the_next_request_fills_it() {
    let mut tw = Twilio::new(&[Q1, Q2]);
    let bad = iso(NOW - 2.5 * HOUR);
    let bad2 = bad.clone();
    tw.fail = Some(Box::new(move |op| match op {
        Op::FetchTaskQueueCumulativeStatistics {
            start_date: Some(s),
            ..
        } if *s == bad2 => Some(failure(500, 20500)),
        _ => None,
    }));
    let (answer, _) = drive(
        series(series_input(three_hours(), json!({}))).expect("starts"),
        &mut tw,
        1.0,
    );
    let (closed, missing) = hours(&answer);
    assert_eq!((closed, missing.len()), (3, 1));
    assert_eq!(missing[0]["hour"], json!(bad));
    assert_eq!(missing[0]["code"], json!("failed"));
    assert!(missing[0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("500")));
    let key = history::claim::claim_key(history::time::instant(NOW - 2.5 * HOUR).expect("instant"));
    assert!(
        !tw.keys("queueHistoryClaims").contains(&key),
        "the failed hour's claim is dropped"
    );
    tw.fail = None;
    let (again, _) = drive(
        series(series_input(three_hours(), json!({"run": "r2"}))).expect("starts"),
        &mut tw,
        1.0,
    );
    assert_eq!(hours(&again), (3, vec![]));
}

#[test]
fn the_time_budget_leaves_the_hours_not_started_pending() {
    let mut tw = Twilio::new(&[Q1]);
    // 2.5 s left: not enough to start an hour (claim::MIN_START_MS).
    let turn = series(series_input(
        three_hours(),
        json!({"deadlineMs": NOW + 2500.0}),
    ))
    .expect("starts");
    let (answer, _) = drive(turn, &mut tw, 1.0);
    let (_, missing) = hours(&answer);
    assert_eq!(missing.len(), 3);
    assert!(missing.iter().all(|m| m["code"] == "pending"));
    assert!(tw.keys("queueHistoryClaims").is_empty());
    // Time for a few steps only: the newest hours are closed first, the rest stay pending.
    let sids: Vec<String> = (0..10)
        .map(|i| format!("WQ{i}{}", "e".repeat(31)))
        .collect();
    let refs: Vec<&str> = sids.iter().map(String::as_str).collect();
    let mut tw = Twilio::new(&refs);
    let params = json!({"from": iso(NOW - 6.5 * HOUR), "to": iso(NOW - 0.5 * HOUR), "by": "hour"});
    let turn = series(series_input(params, json!({"deadlineMs": NOW + 3005.0}))).expect("starts");
    let (answer, _) = drive(turn, &mut tw, 1.0);
    let (_, missing) = hours(&answer);
    assert!(!missing.is_empty() && missing.len() < 6, "{}", answer.body);
    assert!(missing.iter().all(|m| m["code"] == "pending"));
    assert_eq!(
        missing[0]["hour"],
        json!(iso(NOW - 6.5 * HOUR)),
        "the oldest waits"
    );
    assert_eq!(tw.keys("queueHistory.all").len(), 6 - missing.len());
    assert!(
        tw.keys("queueHistory.all")
            .last()
            .is_some_and(|k| k.contains(&history::claim::claim_key(
                history::time::instant(NOW - 1.5 * HOUR).expect("i")
            ))),
        "the newest first"
    );
}

#[test]
fn a_take_over_of_a_half_written_hour_creates_only_the_missing_items() {
    let mut tw = Twilio::new(&[Q1]);
    let start = NOW - 1.5 * HOUR;
    // A stale claim (its request died) and the hour's voice item written, not its all item.
    let at = history::time::instant(start).expect("instant");
    let stale = history::claim::new_run_claim(
        &iso(start),
        "other",
        "x",
        history::claim::Kind::Backfill,
        NOW - 60_000.0,
    );
    tw.maps.insert(
        "queueHistoryClaims".into(),
        BTreeMap::from([(
            history::claim::claim_key(at),
            (serde_json::to_value(stale).expect("claim"), 2),
        )]),
    );
    let voice_key = history::store::item_key("voice", at, 0);
    tw.maps.insert(
        "queueHistory.voice".into(),
        BTreeMap::from([(voice_key.clone(), (json!({"v": 1, "channel": "voice", "start": iso(start), "chunk": 0, "chunks": 1, "queues": {}}), 0))]),
    );
    let params = json!({"from": iso(start), "to": iso(start + HOUR), "by": "hour"});
    let (answer, _) = drive(
        series(series_input(params, json!({}))).expect("starts"),
        &mut tw,
        1.0,
    );
    assert_eq!(hours(&answer), (1, vec![]), "{}", answer.body);
    let voice_creates = tw
        .writes
        .iter()
        .filter(|w| w.0 == "createSyncItem" && w.2 == voice_key)
        .count();
    assert_eq!(voice_creates, 0, "the stored item is not created again");
    assert_eq!(tw.keys("queueHistory.all").len(), 1);
    // The claim was taken over with If-Match.
    assert_eq!(
        tw.maps["queueHistoryClaims"][&history::claim::claim_key(at)].1,
        3
    );
}

fn hook_input(memory: Option<Memory>, now: f64) -> HookInput {
    serde_json::from_value(json!({
        "env": {"QUEUE_STATS_TIME_ZONE": "UTC", "QUEUE_STATS_CHANNELS": "voice", "WORKSPACE_SID": "WS1", "TWILIO_FLEX_SYNC_SID": "IS1"},
        "owner": "me",
        "nowMs": now,
        "memory": memory,
    }))
    .expect("input")
}

fn tick(tw: &mut Twilio, memory: &mut Option<Memory>, now: f64) -> Value {
    let (answer, _) = drive(hook::start(hook_input(memory.clone(), now)), tw, 0.0);
    // As the wasm face keeps it: taken out of the answer, the rest is the summary.
    let mut turn = Turn::answer(answer);
    if let Some(m) = hook::take_memory(&mut turn) {
        *memory = Some(m);
    }
    match turn.step {
        Step::Answer(a) => a.body,
        Step::Run { .. } => Value::Null,
    }
}

#[test]
fn a_container_that_lost_its_memory_goes_on_with_its_own_claim() {
    // A wasm trap reloads the module: the hook's memory is gone between two events.
    let sids: Vec<String> = (0..6).map(|i| format!("WQ{i}{}", "d".repeat(31))).collect();
    let refs: Vec<&str> = sids.iter().map(String::as_str).collect();
    let mut tw = Twilio::new(&refs);
    let mut memory = None;
    let first = tick(&mut tw, &mut memory, NOW);
    assert!(
        first.get("error").is_none() && first.get("remember").is_none(),
        "{first}"
    );
    assert!(memory.as_ref().and_then(|m| m.pending.as_ref()).is_some());
    let mut lost = None;
    let second = tick(&mut tw, &mut lost, NOW + 200.0);
    assert!(second.get("error").is_none(), "{second}");
    // It looked again, took its own claim back and fetched the queues again: more requests only.
    let third = tick(&mut tw, &mut lost, NOW + 400.0);
    assert!(third.get("error").is_none(), "{third}");
    assert_eq!(tw.keys("queueHistory.all").len(), 1, "the hour is written");
    assert_eq!(
        lost.and_then(|m| m.closed_up_to),
        Some(iso(NOW - 1.5 * HOUR))
    );
}

#[test]
fn the_hook_without_its_services_answers_an_error_naming_the_setting() {
    let input: HookInput = serde_json::from_value(json!({
        "env": {"QUEUE_STATS_TIME_ZONE": "UTC", "TWILIO_FLEX_SYNC_SID": "IS1"},
        "owner": "me",
        "nowMs": NOW,
    }))
    .expect("input");
    let Step::Answer(a) = hook::start(input).step else {
        panic!("an answer, before any request")
    };
    let error = a.body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("WORKSPACE_SID (or its alias TWILIO_FLEX_WORKSPACE_SID) is not set"),
        "{error}"
    );
}

#[test]
fn only_a_hooks_answer_carries_a_memory() {
    let mut off = Turn::answer(effects::Answer::json(200, json!({"off": true})));
    assert_eq!(hook::take_memory(&mut off), None);
    let mut bad = Turn::answer(effects::Answer::json(
        200,
        json!({"remember": 3, "syncReads": 1}),
    ));
    assert_eq!(hook::take_memory(&mut bad), None);
    let Step::Answer(a) = bad.step else {
        panic!("an answer")
    };
    assert_eq!(
        a.body,
        json!({"syncReads": 1}),
        "taken out even when unreadable"
    );
}

#[test]
fn the_hook_closes_the_last_hour_four_queues_per_event_then_costs_nothing() {
    let sids: Vec<String> = (0..6).map(|i| format!("WQ{i}{}", "c".repeat(31))).collect();
    let refs: Vec<&str> = sids.iter().map(String::as_str).collect();
    let mut tw = Twilio::new(&refs);
    let mut memory = None;
    // 15:30: the last closed hour is 14:00.
    let first = tick(&mut tw, &mut memory, NOW);
    assert!(
        first["taskrouterCalls"].as_u64().unwrap_or(0) > 0,
        "{first}"
    );
    let cumulative = |tw: &Twilio| {
        tw.taskrouter
            .iter()
            .filter(|r| r.contains("CumulativeStatistics"))
            .count()
    };
    assert_eq!(cumulative(&tw), 4 * 2, "four queues, two channels");
    assert!(tw.keys("queueHistory.all").is_empty());
    assert!(memory.as_ref().and_then(|m| m.pending.as_ref()).is_some());
    let second = tick(&mut tw, &mut memory, NOW + 200.0);
    assert!(second.get("error").is_none(), "{second}");
    assert_eq!(cumulative(&tw), 6 * 2);
    assert_eq!(
        tw.keys("queueHistory.all").len(),
        1,
        "written when every queue is in"
    );
    assert!(tw.repeated().is_empty(), "{:?}", tw.repeated());
    // The hook's claim (kind hook, no run).
    let claim = tw.maps["queueHistoryClaims"]
        .values()
        .next()
        .map(|c| c.0.clone())
        .expect("claim");
    assert_eq!(
        (claim["kind"].clone(), claim.get("run")),
        (json!("hook"), None)
    );
    for t in [400.0, 600.0] {
        assert_eq!(
            tick(&mut tw, &mut memory, NOW + t),
            json!({"taskrouterCalls": 0, "syncReads": 0, "syncWrites": 0})
        );
    }
    // Off when QUEUE_HISTORY_ENABLED is false.
    let mut off = hook_input(None, NOW);
    off.env = json!({"QUEUE_HISTORY_ENABLED": "False"});
    let (answer, steps) = drive(hook::start(off), &mut tw, 0.0);
    assert_eq!((answer.body, steps), (json!({"off": true}), 0));
}

#[test]
fn the_hook_leaves_an_hour_stored_or_held_by_another_container() {
    let mut tw = Twilio::new(&[Q1]);
    let start = NOW - 1.5 * HOUR;
    let at = history::time::instant(start).expect("instant");
    let held = history::claim::new_claim(&iso(start), "other", history::claim::Kind::Hook, NOW);
    tw.maps.insert(
        "queueHistoryClaims".into(),
        BTreeMap::from([(
            history::claim::claim_key(at),
            (serde_json::to_value(held).expect("claim"), 0),
        )]),
    );
    let mut memory = None;
    let body = tick(&mut tw, &mut memory, NOW);
    assert_eq!(
        body,
        json!({"taskrouterCalls": 0, "syncReads": 2, "syncWrites": 0})
    );
    assert_eq!(memory.and_then(|m| m.closed_up_to), Some(iso(start)));
    assert!(tw.taskrouter.is_empty());
}

#[test]
fn the_hook_keeps_its_claim_after_a_failure_and_goes_on_with_the_next_event() {
    let mut tw = Twilio::new(&[Q1]);
    let mut fails = 1;
    tw.fail = Some(Box::new(move |op| match op {
        Op::ListEvents { .. } if fails > 0 => {
            fails -= 1;
            Some(failure(503, 20503))
        }
        _ => None,
    }));
    let mut memory = None;
    let first = tick(&mut tw, &mut memory, NOW);
    assert!(
        first["error"].as_str().is_some_and(|e| e.contains("503")),
        "{first}"
    );
    assert_eq!(tw.keys("queueHistoryClaims").len(), 1, "the claim is kept");
    let second = tick(&mut tw, &mut memory, NOW + 200.0);
    assert!(second.get("error").is_none(), "{second}");
    assert_eq!(tw.keys("queueHistory.all").len(), 1);
}

#[test]
fn closing_given_hours_lists_the_queues_and_prunes_expired_hours() {
    let mut tw = Twilio::new(&[Q1, Q2]);
    let env = json!({"QUEUE_STATS_TIME_ZONE": "UTC", "QUEUE_STATS_CHANNELS": "voice", "QUEUE_HISTORY_RETENTION_DAYS": "1",
        "TWILIO_FLEX_WORKSPACE_SID": "WS1", "TWILIO_FLEX_SYNC_SID": "IS1"});
    let input = |hours: Vec<String>| -> CloseInput {
        serde_json::from_value(json!({"env": env, "hours": hours, "nowMs": NOW})).expect("input")
    };
    let old = NOW - 48.5 * HOUR;
    let (a, _) = drive(close(input(vec![iso(old)])).expect("starts"), &mut tw, 1.0);
    assert_eq!(a.body["closed"], json!([iso(old)]));
    assert_eq!(a.body["queues"].as_array().map(Vec::len), Some(2));
    assert_eq!(tw.keys("queueHistory.all").len(), 1);
    let (b, _) = drive(
        close(input(vec![iso(old + 24.0 * HOUR)])).expect("starts"),
        &mut tw,
        1.0,
    );
    assert_eq!(b.body["closed"], json!([iso(old + 24.0 * HOUR)]));
    // The hour a day older left retention: deleted from every map.
    assert_eq!(tw.keys("queueHistory.all").len(), 1);
    assert_eq!(tw.keys("queueHistory.voice").len(), 1);
    assert!(
        tw.keys("queueHistory.all")[0].contains(&history::claim::claim_key(
            history::time::instant(old + 24.0 * HOUR).expect("i")
        ))
    );
    assert!(tw.keys("queueHistoryClaims").is_empty(), "no claims");
}

#[test]
fn many_hours_keep_each_step_within_the_read_budget() {
    let sids: Vec<String> = (0..10)
        .map(|i| format!("WQ{i}{}", "d".repeat(31)))
        .collect();
    let refs: Vec<&str> = sids.iter().map(String::as_str).collect();
    let mut tw = Twilio::new(&refs);
    let params = json!({"from": iso(NOW - 24.5 * HOUR), "to": iso(NOW - 0.5 * HOUR), "by": "hour"});
    let mut turn = series(series_input(params, json!({}))).expect("starts");
    let mut most = 0;
    let mut now = NOW;
    let answer = loop {
        match turn.step {
            Step::Answer(a) => break a,
            Step::Run { state, effects } => {
                let reads = effects
                    .iter()
                    .filter(|e| {
                        !matches!(
                            e.op,
                            Op::ListSyncItems { .. }
                                | Op::FetchSyncItem { .. }
                                | Op::CreateSyncItem { .. }
                                | Op::UpdateSyncItem { .. }
                                | Op::DeleteSyncItem { .. }
                                | Op::CreateSyncMap { .. }
                        )
                    })
                    .count();
                most = most.max(reads);
                let outcomes = effects.iter().map(|e| tw.perform(&e.op)).collect();
                now += 1.0;
                turn = resume(state, outcomes, now);
            }
        }
    };
    assert_eq!(hours(&answer), (24, vec![]));
    assert!(
        most <= crate::close::MAX_READS,
        "{most} TaskRouter reads in one step"
    );
    assert!(most >= 8, "reads of several hours share steps: {most}");
    assert!(tw.repeated().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Whatever fails, the machines answer (no panic, no endless run) and never create an item twice.
    #[test]
    fn any_failures_end_without_a_panic(seed in any::<u64>(), rate in 0u64..4) {
        let mut tw = Twilio::new(&[Q1, Q2]);
        let mut s = seed;
        tw.fail = Some(Box::new(move |_| {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let pick = (s >> 33) % 10;
            if pick >= rate { return None; }
            Some(match pick % 4 {
                0 => failure(500, 20500),
                1 => failure(429, 20429),
                2 => Failure { attempted: false, message: "deadline".into(), ..Failure::default() },
                _ => Failure { attempted: true, message: "timeout".into(), ..Failure::default() },
            })
        }));
        let (answer, _) = drive(series(series_input(three_hours(), json!({}))).expect("starts"), &mut tw, 1.0);
        prop_assert!(answer.status == 200 || answer.status >= 500);
        let mut memory = None;
        let _ = tick(&mut tw, &mut memory, NOW);
        let _ = tick(&mut tw, &mut memory, NOW + 1.0);
        let mut creates: Vec<_> = tw.writes.iter().filter(|w| w.0 == "createSyncItem" && w.1.starts_with("queueHistory.")).cloned().collect();
        let n = creates.len();
        creates.sort();
        creates.dedup();
        prop_assert!(creates.len() <= n);
    }
}

#[test]
fn concurrent_requests_of_a_container_leave_each_others_hours() {
    // Two requests of one container, their steps interleaved, sharing the container's Local.
    let mut tw = Twilio::new(&[Q1, Q2]);
    let mut local = crate::Local::default();
    let params = json!({"from": iso(NOW - 12.5 * HOUR), "to": iso(NOW - 0.5 * HOUR), "by": "hour"});
    let mut turns = [
        Some(series(series_input(params.clone(), json!({"run": "a"}))).expect("starts")),
        Some(series(series_input(params, json!({"run": "b"}))).expect("starts")),
    ];
    let mut answers = Vec::new();
    let mut now = NOW;
    while turns.iter().any(Option::is_some) {
        for slot in turns.iter_mut() {
            let Some(turn) = slot.take() else { continue };
            match turn.step {
                Step::Answer(a) => answers.push(a),
                Step::Run { state, effects } => {
                    let outcomes = effects.iter().map(|e| tw.perform(&e.op)).collect();
                    now += 1.0;
                    *slot = Some(crate::resume_with(state, outcomes, now, &mut local));
                }
            }
        }
    }
    // No claim raced for (no refused create), no TaskRouter request twice, every hour stored once.
    assert!(tw.refused.is_empty(), "{:?}", tw.refused);
    assert_eq!(tw.keys("queueHistoryClaims").len(), 12);
    // (Each request lists the queues, members, workers and activity once: per invocation.)
    let hourly: Vec<String> = tw
        .repeated()
        .into_iter()
        .filter(|r| r.contains("Cumulative") || r.contains("\"kind\":\"listEvents\""))
        .collect();
    assert!(hourly.is_empty(), "{hourly:?}");
    assert_eq!(tw.keys("queueHistory.all").len(), 12);
    // Each answers what it stored and leaves the other's hours pending (asked again: complete).
    for a in &answers {
        assert!(hours(a).1.iter().all(|m| m["code"] == "pending"));
    }
    // What they stored stays known until the lease ends.
    assert_eq!(local.of("me").len(), 12);
    local.lapse(now + history::claim::BACKFILL_LEASE_MS);
    assert!(local.closing.is_empty());
}
