//! The refresh and bulk machines against an in-memory Twilio (Sync objects, TaskRouter queues
//! and statistics, `Global.ParkedCalls`) that can fail any operation; every state goes through
//! JSON between steps, as the executor carries it.

use std::collections::BTreeMap;

use effects::{Effect, Failure, Op, Outcome, Step};
use serde_json::{json, Value};

use super::*;
use crate::config::Env;

const Q: &str = "WQ0123456789abcdef0123456789abcdef";
const Q2: &str = "WQ0123456789abcdef0123456789abcde2";
const IS: &str = "IS0123456789abcdef0123456789abcdef";
const PARK: &str = "IS0123456789abcdef0123456789abcde9";
const WS: &str = "WS0123456789abcdef0123456789abcdef";
const NOW: f64 = 1_714_575_600_000.0; // 2024-05-01T15:00:00Z

fn fail(status: u16) -> Outcome {
    Outcome::Failed(Failure {
        status: Some(status),
        code: None,
        message: format!("HTTP {status}"),
        more_info: None,
        attempted: true,
    })
}

fn stats(waiting: u32) -> Value {
    json!({
        "cumulative": {"reservations_accepted": 3, "tasks_entered": 4, "tasks_canceled": 0,
            "split_by_wait_time": {"30": {"above": {"tasks_canceled": 0, "reservations_accepted": 0},
                                          "below": {"tasks_canceled": 0, "reservations_accepted": 3}}}},
        "realtime": {"total_tasks": waiting, "total_available_workers": 1, "total_eligible_workers": 2,
            "longest_task_waiting_age": 0, "activity_statistics": [], "tasks_by_status": {}}
    })
}

/// TaskRouter and Sync in memory.
#[derive(Default)]
struct Twilio {
    objects: BTreeMap<String, (Value, u32)>,
    maps: Vec<String>,
    /// Queues by SID: `(name, waiting tasks)`; a missing queue answers 404.
    queues: BTreeMap<String, (String, u32)>,
    /// Workers' queues.
    workers: BTreeMap<String, Vec<String>>,
    parked: Vec<Value>,
    faults: Vec<(&'static str, u16)>,
    log: Vec<String>,
    paces: Vec<Option<effects::Pace>>,
}

fn kind(op: &Op) -> String {
    serde_json::to_value(op).expect("json")["kind"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

impl Twilio {
    fn put(&mut self, id: String, data: Value) -> Outcome {
        let rev = self.objects.get(&id).map(|(_, r)| r + 1).unwrap_or(0);
        self.objects.insert(id, (data.clone(), rev));
        Outcome::Done(json!({"data": data, "revision": rev.to_string()}))
    }

    fn read(&self, id: &str) -> Outcome {
        match self.objects.get(id) {
            Some((data, rev)) => Outcome::Done(json!({"data": data, "revision": rev.to_string()})),
            None => fail(404),
        }
    }

    fn queue_list(&self, worker: &Option<String>) -> Value {
        let sids: Vec<&String> = match worker {
            Some(w) => self
                .workers
                .get(w)
                .map(|q| q.iter().collect())
                .unwrap_or_default(),
            None => self.queues.keys().collect(),
        };
        json!(sids
            .into_iter()
            .filter_map(|s| self
                .queues
                .get(s)
                .map(|(n, _)| json!({"sid": s, "friendlyName": n})))
            .collect::<Vec<_>>())
    }

    fn apply(&mut self, effect: &Effect) -> Outcome {
        let op = &effect.op;
        let k = kind(op);
        self.log.push(k.clone());
        self.paces.push(effect.pace.clone());
        if let Some(i) = self.faults.iter().position(|(f, _)| *f == k) {
            let (_, status) = self.faults.remove(i);
            return fail(status);
        }
        match op {
            Op::FetchSyncItem { map, key, .. } => self.read(&format!("map:{map}/{key}")),
            Op::FetchSyncDocument { document, .. } => self.read(&format!("document:{document}")),
            Op::UpdateSyncItem { map, key, data, .. } => {
                let id = format!("map:{map}/{key}");
                match self.objects.contains_key(&id) {
                    true => self.put(id, data.clone()),
                    false => fail(404),
                }
            }
            Op::CreateSyncItem { map, key, data, .. } => {
                if !self.maps.contains(map) {
                    return fail(404);
                }
                self.put(format!("map:{map}/{key}"), data.clone())
            }
            Op::CreateSyncMap { unique_name, .. } => {
                self.maps.push(unique_name.clone());
                Outcome::Done(json!({"uniqueName": unique_name}))
            }
            Op::DeleteSyncItem { map, key, .. } => {
                match self.objects.remove(&format!("map:{map}/{key}")) {
                    Some(_) => Outcome::Done(json!(true)),
                    None => fail(404),
                }
            }
            Op::ListSyncItems { map, .. } if map == parking::GLOBAL_MAP => {
                Outcome::Done(json!(self
                    .parked
                    .iter()
                    .map(|d| json!({"data": d}))
                    .collect::<Vec<_>>()))
            }
            Op::FetchTaskQueue { task_queue_sid, .. } => match self.queues.get(task_queue_sid) {
                Some((name, _)) => {
                    Outcome::Done(json!({"sid": task_queue_sid, "friendlyName": name}))
                }
                None => fail(404),
            },
            Op::FetchTaskQueueStatistics { task_queue_sid, .. } => {
                match self.queues.get(task_queue_sid) {
                    Some((_, waiting)) => Outcome::Done(stats(*waiting)),
                    None => fail(404),
                }
            }
            Op::ListTaskQueues { worker_sid, .. } => Outcome::Done(self.queue_list(worker_sid)),
            Op::CreateTaskQueueBulkRealTimeStatistics {
                task_queue_sids, ..
            } => Outcome::Done(json!({"taskQueueData": task_queue_sids
                .iter()
                .filter_map(|s| self.queues.get(s).map(|(_, w)| json!({"task_queue_sid": s,
                    "total_tasks": w, "total_available_workers": 0, "total_eligible_workers": 2})))
                .collect::<Vec<_>>()})),
            other => panic!("unexpected operation {other:?}"),
        }
    }

    /// Runs a machine to its answer, its state through JSON between steps.
    fn run(&mut self, mut step: Step<Machine>) -> Value {
        for _ in 0..50 {
            match step {
                Step::Answer(a) => return a.body,
                Step::Run { state, effects } => {
                    let outcomes: Vec<Outcome> = effects.iter().map(|e| self.apply(e)).collect();
                    let text = serde_json::to_string(&state).expect("state");
                    let state: Machine = serde_json::from_str(&text).expect("state reads back");
                    let outcomes =
                        serde_json::from_value(serde_json::to_value(outcomes).expect("json"))
                            .expect("outcomes read back");
                    step = resume(state, outcomes, NOW);
                }
            }
        }
        panic!("no answer after 50 steps");
    }
}

fn config() -> Config {
    Config::from_env(&Env::default()).expect("defaults")
}

fn settings(parked: bool, board: bool) -> RefreshSettings {
    RefreshSettings {
        sync_service_sid: IS.into(),
        workspace_sid: WS.into(),
        parked_service_sid: parked.then(|| PARK.into()),
        board,
    }
}

fn refresh_work(channels: &[&str], name: Option<&str>) -> Work {
    Work::Refresh {
        channels: channels.iter().map(|c| c.to_string()).collect(),
        friendly_name: name.map(str::to_string),
        create: false,
    }
}

fn twilio() -> Twilio {
    let mut t = Twilio::default();
    t.queues.insert(Q.into(), ("Sales".into(), 2));
    t.queues.insert(Q2.into(), ("Support".into(), 0));
    t
}

#[test]
fn works_merge_channels_names_and_creation_and_bulk_gives_way() {
    let a = refresh_work(&["all", "voice"], Some("Sales"));
    let b = Work::Refresh {
        channels: vec!["chat".into(), "all".into()],
        friendly_name: None,
        create: true,
    };
    let bulk = Work::Bulk {
        entry: json!({}),
        friendly_name: None,
        parked: Parked::Off,
    };
    let (merged, dropped) = merge(&[a.clone(), bulk.clone(), b], true);
    assert_eq!(
        merged,
        Some(Work::Refresh {
            channels: vec!["all".into(), "voice".into(), "chat".into()],
            friendly_name: Some("Sales".into()),
            create: true,
        })
    );
    assert_eq!(dropped, 1, "the bulk entry gives way to the refresh");
    // The latest name given wins.
    let renamed = refresh_work(&["all"], Some("Sales EMEA"));
    let (merged, _) = merge(&[a, renamed], true);
    assert!(
        matches!(merged, Some(Work::Refresh { friendly_name: Some(n), .. }) if n == "Sales EMEA")
    );
    // A bulk entry alone is applied, unless it waited behind a run (which fetched after it).
    assert_eq!(
        merge(std::slice::from_ref(&bulk), false),
        (Some(bulk.clone()), 0)
    );
    assert_eq!(merge(&[bulk.clone(), bulk.clone()], true), (None, 2));
    assert_eq!(merge(&[], false), (None, 0));
    // On the wire.
    let w: Work = serde_json::from_value(
        json!({"kind": "refresh", "channels": ["all"], "friendlyName": "X"}),
    )
    .expect("reads");
    assert_eq!(w, refresh_work(&["all"], Some("X")));
}

#[test]
fn bulk_requests_are_paced_to_five_a_second() {
    let pace = bulk_pace(WS);
    assert_eq!(pace.object, format!("taskrouter:{WS}/RealTimeStatistics"));
    assert!((pace.cost - 0.16).abs() < 1e-12);
    // The pacer lets a second's requests through while their costs fit its share: five, not six.
    let five: f64 = std::iter::repeat_n(pace.cost, 5).sum();
    assert!(five <= PACER_SHARE);
    assert!(five + pace.cost > PACER_SHARE);
}

#[test]
fn a_first_refresh_reads_everything_at_once_builds_and_stores() {
    let mut t = twilio();
    t.parked.push(
        json!({"queueName": "Sales", "workerSid": "WK1", "dateCreated": "2024-05-01T14:00:00Z"}),
    );
    let step = refresh(
        &config(),
        Q,
        &[refresh_work(&["all", "voice"], Some("Sales"))],
        false,
        &Memory::default(),
        &settings(true, true),
        NOW,
    );
    let body = t.run(step);
    assert_eq!(
        t.log[..4],
        [
            "fetchSyncItem",
            "fetchTaskQueueStatistics",
            "fetchTaskQueueStatistics",
            "listSyncItems"
        ],
        "one batch of reads"
    );
    assert_eq!(body["taskrouterCalls"], 2);
    assert_eq!(body["errors"], json!([]));
    let (stored, _) = t
        .objects
        .get(&format!("map:queueStats/{Q}"))
        .expect("record written");
    assert_eq!(stored["friendlyName"], "Sales");
    assert_eq!(stored["realTimeStats_all"]["totalTasks"], 2);
    assert_eq!(stored["parked"]["count"], 1);
    assert_eq!(body["remember"]["data"], *stored);
    // Not copied before: the board gets a first copy (update, create when missing).
    assert_eq!(body["copy"]["action"], "write");
    assert_eq!(body["copy"]["mayCreate"], true);
    assert_eq!(body["deleted"], false);
}

#[test]
fn an_unchanged_remembered_record_is_confirmed_and_skipped_then_copied_once() {
    let mut t = twilio();
    let first = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], Some("Sales"))],
        false,
        &Memory::default(),
        &settings(false, true),
        NOW,
    ));
    let memory = Memory {
        record: serde_json::from_value(first["remember"].clone()).expect("remembered"),
        ..Memory::default()
    };
    t.log.clear();
    let again = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], None)],
        false,
        &memory,
        &settings(false, true),
        NOW,
    ));
    assert_eq!(
        t.log,
        ["fetchTaskQueueStatistics", "fetchSyncItem"],
        "no name fetch, one confirm read"
    );
    assert_eq!(again["syncWrites"], 0);
    assert_eq!(again["skipped"], 1);
    assert_eq!(
        again["copy"]["action"], "write",
        "a queue not copied yet is copied"
    );
    let mirrored = Memory {
        mirrored: true,
        ..memory
    };
    let third = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], None)],
        false,
        &mirrored,
        &settings(false, true),
        NOW,
    ));
    assert_eq!(third["copy"], Value::Null);
}

#[test]
fn the_name_is_fetched_only_when_nothing_gives_it() {
    let mut t = twilio();
    let body = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], None)],
        false,
        &Memory::default(),
        &settings(false, false),
        NOW,
    ));
    assert_eq!(
        t.log[..3],
        [
            "fetchSyncItem",
            "fetchTaskQueueStatistics",
            "fetchTaskQueue"
        ]
    );
    assert_eq!(body["taskrouterCalls"], 2);
    assert_eq!(body["remember"]["data"]["friendlyName"], "Sales");
    assert_eq!(body["copy"], Value::Null, "no board");
}

#[test]
fn a_failed_record_read_ends_the_run_with_its_error() {
    let mut t = twilio();
    t.faults.push(("fetchSyncItem", 500));
    let body = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], Some("Sales"))],
        false,
        &Memory::default(),
        &settings(false, false),
        NOW,
    ));
    assert_eq!(body["errors"], json!([format!("{Q}: HTTP 500")]));
    assert_eq!(body["syncWrites"], 0);
    assert_eq!(body["remember"], Value::Null);
    assert!(t.objects.is_empty());
}

#[test]
fn a_queue_gone_from_taskrouter_loses_its_record_and_its_copy() {
    let mut t = twilio();
    t.put(
        format!("map:queueStats/{Q}"),
        json!({"sid": Q, "friendlyName": "Sales"}),
    );
    t.queues.remove(Q);
    let body = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], Some("Sales"))],
        false,
        &Memory::default(),
        &settings(false, true),
        NOW,
    ));
    assert_eq!(body["deleted"], true);
    assert_eq!(body["boardRemove"], true);
    assert_eq!(body["forget"], true);
    assert!(!t.objects.contains_key(&format!("map:queueStats/{Q}")));
}

#[test]
fn a_queue_deleted_here_reads_nothing_and_writes_nothing() {
    let mut t = twilio();
    let memory = Memory {
        record: Some(Remembered {
            data: json!({"sid": Q, "friendlyName": "Sales"}),
            revision: Some("3".into()),
        }),
        deleted_here: true,
        ..Memory::default()
    };
    let body = t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], None)],
        false,
        &memory,
        &settings(true, true),
        NOW,
    ));
    assert!(t.log.is_empty(), "{:?}", t.log);
    assert_eq!(body["syncWrites"], 0);
    assert_eq!(body["copy"], Value::Null);
}

#[test]
fn a_failed_parked_list_keeps_the_previous_figures() {
    let mut t = twilio();
    let figures = json!({"count": 1, "oldestParkedAt": "2024-05-01T14:00:00Z", "workers": {}, "workersOmitted": 0});
    t.faults.push(("listSyncItems", 503));
    let memory = Memory {
        record: Some(Remembered {
            data: json!({"sid": Q, "friendlyName": "Sales", "parked": figures}),
            revision: Some("0".into()),
        }),
        ..Memory::default()
    };
    t.put(
        format!("map:queueStats/{Q}"),
        memory.record.clone().expect("set").data,
    );
    t.run(refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], None)],
        false,
        &memory,
        &settings(true, false),
        NOW,
    ));
    let (stored, _) = t
        .objects
        .get(&format!("map:queueStats/{Q}"))
        .expect("record");
    assert_eq!(stored["parked"], figures);
    assert_eq!(stored["realTimeStats_all"]["totalTasks"], 2);
}

#[test]
fn the_bulk_machine_lists_batches_paces_and_hands_out_works() {
    let mut t = twilio();
    t.workers.insert("WK1".into(), vec![Q.into(), Q2.into()]);
    t.workers.insert("WK2".into(), vec![Q.into()]);
    t.parked.push(
        json!({"queueName": "Support", "workerSid": "WK1", "dateCreated": "2024-05-01T14:00:00Z"}),
    );
    let input = BulkInput {
        worker_sids: vec![Some("WK1".into()), Some("WK2".into()), Some("WK1".into())],
        deleted: vec![],
    };
    let body = t.run(bulk(&input, &settings(true, false)));
    assert_eq!(
        t.log,
        [
            "listTaskQueues",
            "listTaskQueues",
            "createTaskQueueBulkRealTimeStatistics",
            "listSyncItems"
        ]
    );
    assert_eq!(t.paces[2], Some(bulk_pace(WS)), "the bulk request is paced");
    assert_eq!(body["taskrouterCalls"], 3);
    let works = body["works"].as_array().expect("works");
    assert_eq!(works.len(), 2);
    let support = works.iter().find(|w| w["queueSid"] == Q2).expect("Q2");
    let work: Work = serde_json::from_value(support["work"].clone()).expect("a work");
    let Work::Bulk {
        friendly_name,
        parked: Parked::Read { by_queue },
        ..
    } = &work
    else {
        panic!("a bulk work with the parked figures: {work:?}")
    };
    assert_eq!(friendly_name.as_deref(), Some("Support"));
    assert_eq!(by_queue.keys().collect::<Vec<_>>(), ["Support"]);
    // The work runs through the queue's refresh: a read of the record, no statistics call.
    t.log.clear();
    let out = t.run(refresh(
        &config(),
        Q2,
        &[work],
        false,
        &Memory::default(),
        &settings(true, false),
        NOW,
    ));
    assert_eq!(t.log[0], "fetchSyncItem");
    assert!(
        !t.log.iter().any(|k| k.starts_with("fetchTaskQueue")),
        "{:?}",
        t.log
    );
    assert_eq!(out["taskrouterCalls"], 0);
    let (stored, _) = t
        .objects
        .get(&format!("map:queueStats/{Q2}"))
        .expect("record");
    assert_eq!(stored["friendlyName"], "Support");
    assert_eq!(stored["parked"]["count"], 1);
}

#[test]
fn a_worker_event_without_a_worker_lists_every_queue_once_less_the_deleted() {
    let mut t = twilio();
    let input = BulkInput {
        worker_sids: vec![Some("WK1".into()), None],
        deleted: vec![Q.into()],
    };
    let body = t.run(bulk(&input, &settings(false, false)));
    assert_eq!(
        t.log,
        ["listTaskQueues", "createTaskQueueBulkRealTimeStatistics"]
    );
    assert_eq!(body["works"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["works"][0]["queueSid"], Q2);
    // A failed bulk request is one error line, and no works.
    let mut t = twilio();
    t.faults
        .push(("createTaskQueueBulkRealTimeStatistics", 500));
    let body = t.run(bulk(&BulkInput::default(), &settings(false, false)));
    assert_eq!(body["errors"], json!(["bulk statistics: HTTP 500"]));
    assert_eq!(body["works"], json!([]));
}

#[test]
fn an_unreadable_state_is_an_answer_not_a_panic() {
    let state: Result<Machine, _> =
        serde_json::from_value(json!({"machine": "refresh", "config": 1}));
    assert!(state.is_err());
    let refresh_state = refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], Some("Sales"))],
        false,
        &Memory::default(),
        &settings(false, false),
        NOW,
    );
    let Step::Run { state, .. } = refresh_state else {
        panic!("reads first")
    };
    // Fewer outcomes than effects: the missing ones are failures, never a panic.
    let step = resume(state, vec![], NOW);
    assert!(matches!(step, Step::Answer(_)));
}

#[test]
fn the_parked_calls_are_listed_whole_and_no_map_is_none_parked() {
    let step = refresh(
        &config(),
        Q,
        &[refresh_work(&["all"], Some("Sales"))],
        false,
        &Memory::default(),
        &settings(true, false),
        NOW,
    );
    let Step::Run { effects, .. } = &step else {
        panic!("reads first")
    };
    assert!(effects.iter().any(
        |e| matches!(&e.op, Op::ListSyncItems { service_sid, map, paging, .. }
        if service_sid == PARK && map == parking::GLOBAL_MAP
            && paging.page_size == Some(100) && paging.limit == PARKED_LIST_LIMIT)
    ));
    assert_eq!(
        parked_of(fail(404)),
        Parked::Read {
            by_queue: BTreeMap::new()
        }
    );
    assert_eq!(parked_of(fail(500)), Parked::Failed);
}

fn any_outcome() -> impl proptest::strategy::Strategy<Value = Outcome> {
    use proptest::prelude::*;
    prop_oneof![
        Just(Outcome::Done(
            json!({"revision": "3", "data": {"sid": Q, "friendlyName": "Sales"}})
        )),
        Just(Outcome::Done(stats(1))),
        Just(Outcome::Done(json!([{"sid": Q, "friendlyName": "Sales"}]))),
        Just(Outcome::Done(
            json!({"taskQueueData": [{"task_queue_sid": Q}]})
        )),
        Just(Outcome::Done(json!(null))),
        (100u16..600).prop_map(fail),
        Just(Outcome::Failed(Failure::missing())),
    ]
}

proptest::proptest! {
    #[test]
    fn any_outcomes_end_every_machine_without_a_panic(
        outcomes in proptest::collection::vec(proptest::collection::vec(any_outcome(), 0..5), 0..14),
        cached in proptest::prelude::any::<bool>(),
        bulk_work in proptest::prelude::any::<bool>(),
        worker_run in proptest::prelude::any::<bool>(),
        deleted_here in proptest::prelude::any::<bool>(),
    ) {
        let memory = Memory {
            record: cached.then(|| Remembered { data: json!({"sid": Q}), revision: Some("3".into()) }),
            deleted_here,
            ..Memory::default()
        };
        let work = match bulk_work {
            true => Work::Bulk { entry: json!({"task_queue_sid": Q}), friendly_name: None, parked: Parked::Failed },
            false => refresh_work(&["all", "voice"], None),
        };
        let mut step = match worker_run {
            true => bulk(&BulkInput { worker_sids: vec![Some("WK1".into())], deleted: vec![] }, &settings(true, true)),
            false => refresh(&config(), Q, &[work], false, &memory, &settings(true, true), NOW),
        };
        for batch in outcomes {
            match step {
                Step::Answer(_) => break,
                Step::Run { state, .. } => step = resume(state, batch, NOW),
            }
        }
        let _ = step;
    }
}
