//! The store machine against an in-memory Sync that can fail any operation, with the state sent
//! through JSON between steps as the executor does.

use std::collections::BTreeMap;

use effects::{Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const Q: &str = "WQ0123456789abcdef0123456789abcdef";
const IS: &str = "IS0123456789abcdef0123456789abcdef";

/// Sync: objects by `map:<name>/<key>` or `document:<name>`, each `(data, revision)`; maps by name.
#[derive(Default)]
struct Sync {
    objects: BTreeMap<String, (Value, u32)>,
    maps: Vec<String>,
    /// Operation kinds to fail (once each) with this status.
    faults: Vec<(&'static str, u16)>,
    log: Vec<String>,
}

fn fail(status: u16, code: Option<u32>) -> Outcome {
    Outcome::Failed(Failure {
        status: Some(status),
        code,
        message: format!("HTTP {status}"),
        more_info: None,
        attempted: true,
    })
}

fn kind(op: &Op) -> String {
    serde_json::to_value(op).expect("json")["kind"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

impl Sync {
    fn put(&mut self, id: String, data: Value) -> Outcome {
        let rev = self.objects.get(&id).map(|(_, r)| r + 1).unwrap_or(0);
        self.objects.insert(id, (data.clone(), rev));
        Outcome::Done(json!({"data": data, "revision": rev.to_string()}))
    }

    fn apply(&mut self, op: &Op) -> Outcome {
        let k = kind(op);
        self.log.push(k.clone());
        if let Some(i) = self.faults.iter().position(|(f, _)| *f == k) {
            let (_, status) = self.faults.remove(i);
            return fail(status, None);
        }
        match op {
            Op::FetchSyncItem { map, key, .. } => self.read(&format!("map:{map}/{key}")),
            Op::FetchSyncDocument { document, .. } => self.read(&format!("document:{document}")),
            Op::UpdateSyncItem { map, key, data, .. } => {
                self.update(format!("map:{map}/{key}"), data)
            }
            Op::UpdateSyncDocument { document, data, .. } => {
                self.update(format!("document:{document}"), data)
            }
            Op::CreateSyncItem { map, key, data, .. } => {
                let id = format!("map:{map}/{key}");
                if !self.maps.contains(map) {
                    fail(404, Some(20404))
                } else if self.objects.contains_key(&id) {
                    fail(409, Some(54208))
                } else {
                    self.put(id, data.clone())
                }
            }
            Op::CreateSyncDocument {
                unique_name, data, ..
            } => {
                let id = format!("document:{unique_name}");
                if self.objects.contains_key(&id) {
                    fail(409, Some(54301))
                } else {
                    self.put(id, data.clone())
                }
            }
            Op::CreateSyncMap { unique_name, .. } => {
                if self.maps.contains(unique_name) {
                    fail(409, Some(54300))
                } else {
                    self.maps.push(unique_name.clone());
                    Outcome::Done(json!({"uniqueName": unique_name}))
                }
            }
            Op::DeleteSyncItem { map, key, .. } => self.delete(&format!("map:{map}/{key}")),
            Op::DeleteSyncDocument { document, .. } => self.delete(&format!("document:{document}")),
            _ => fail(400, None),
        }
    }

    fn read(&self, id: &str) -> Outcome {
        match self.objects.get(id) {
            Some((data, rev)) => Outcome::Done(json!({"data": data, "revision": rev.to_string()})),
            None => fail(404, Some(20404)),
        }
    }

    fn update(&mut self, id: String, data: &Value) -> Outcome {
        if self.objects.contains_key(&id) {
            self.put(id, data.clone())
        } else {
            fail(404, Some(20404))
        }
    }

    fn delete(&mut self, id: &str) -> Outcome {
        match self.objects.remove(id) {
            Some(_) => Outcome::Done(json!(true)),
            None => fail(404, Some(20404)),
        }
    }

    /// Runs a machine to its answer; the answer's body.
    fn drive(&mut self, mut step: Step<Store>) -> Value {
        for _ in 0..50 {
            match step {
                Step::Answer(a) => {
                    assert_eq!(a.status, 200);
                    return a.body;
                }
                Step::Run { state, effects } => {
                    let wire = serde_json::to_value(&state).expect("state to json");
                    let state: Store = serde_json::from_value(wire).expect("state from json");
                    let outcomes = effects.iter().map(|e| self.apply(&e.op)).collect();
                    step = resume(state, outcomes);
                }
            }
        }
        panic!("the machine did not answer")
    }
}

fn settings() -> Settings {
    Settings {
        sync_service_sid: IS.into(),
    }
}

fn record(total: u32) -> Value {
    json!({"sid": Q, "friendlyName": "Sales", "realTimeStats_all": {"totalTasks": total}})
}

fn input(known: Known) -> StoreInput {
    StoreInput {
        queue_sid: Q.into(),
        record: record(1),
        changed: true,
        known,
        revision: None,
        fetched: vec![Status { status: None }],
        deleted_here: false,
        index_confirmed: true,
    }
}

fn item(sync: &Sync) -> Option<Value> {
    sync.objects
        .get(&format!("map:queueStats/{Q}"))
        .map(|(d, _)| d.clone())
}

#[test]
fn a_first_record_creates_the_map_and_its_item() {
    let mut sync = Sync::default();
    let body = sync.drive(store(Layout::Map, &input(Known::Absent), &settings()));
    assert_eq!(
        sync.log,
        [
            "updateSyncItem",
            "createSyncItem",
            "createSyncMap",
            "createSyncItem"
        ]
    );
    assert_eq!(item(&sync), Some(record(1)));
    assert_eq!(body["syncWrites"], 4);
    assert_eq!(
        body["remember"],
        json!({"data": record(1), "revision": "0"})
    );
    assert_eq!(body["errors"], json!([]));
    assert_eq!(body["plan"]["action"], "write");
}

#[test]
fn an_existing_record_is_updated_in_one_write() {
    let mut sync = Sync::default();
    sync.maps.push("queueStats".into());
    sync.put(format!("map:queueStats/{Q}"), record(0));
    let body = sync.drive(store(Layout::Map, &input(Known::Read), &settings()));
    assert_eq!(sync.log, ["updateSyncItem"]);
    assert_eq!(body["syncWrites"], 1);
    assert_eq!(body["remember"]["revision"], "1");
    assert_eq!(item(&sync), Some(record(1)));
}

#[test]
fn a_record_deleted_meanwhile_is_not_created_again() {
    let mut sync = Sync::default();
    sync.maps.push("queueStats".into());
    let body = sync.drive(store(Layout::Map, &input(Known::Cached), &settings()));
    assert_eq!(sync.log, ["updateSyncItem"], "known to exist: update only");
    assert_eq!(item(&sync), None);
    assert_eq!(body["forget"], true);
    assert_eq!(body["skipped"], 1);
}

#[test]
fn an_unchanged_record_is_skipped_only_when_sync_still_has_this_containers_revision() {
    let mut sync = Sync::default();
    sync.maps.push("queueStats".into());
    sync.put(format!("map:queueStats/{Q}"), record(1));
    let same = StoreInput {
        changed: false,
        revision: Some("0".into()),
        ..input(Known::Cached)
    };
    let body = sync.drive(store(Layout::Map, &same, &settings()));
    assert_eq!(sync.log, ["fetchSyncItem"]);
    assert_eq!(
        (
            body["syncWrites"].clone(),
            body["syncReads"].clone(),
            body["skipped"].clone()
        ),
        (json!(0), json!(1), json!(1))
    );
    // Another writer moved the revision on: the record is written again.
    sync.put(format!("map:queueStats/{Q}"), record(99));
    sync.log.clear();
    let body = sync.drive(store(Layout::Map, &same, &settings()));
    assert_eq!(sync.log, ["fetchSyncItem", "updateSyncItem"]);
    assert_eq!(body["syncWrites"], 1);
    assert_eq!(item(&sync), Some(record(1)));
    // A failed read is no confirmation either.
    sync.faults.push(("fetchSyncItem", 500));
    sync.log.clear();
    let body = sync.drive(store(Layout::Map, &same, &settings()));
    assert_eq!(sync.log, ["fetchSyncItem", "updateSyncItem"]);
    assert_eq!(body["errors"], json!([]));
}

#[test]
fn a_queue_whose_statistics_all_answer_404_is_gone() {
    let mut sync = Sync::default();
    sync.maps.push("queueStats".into());
    let gone = StoreInput {
        fetched: vec![Status { status: Some(404) }, Status { status: Some(404) }],
        ..input(Known::Absent)
    };
    let body = sync.drive(store(Layout::Map, &gone, &settings()));
    assert!(sync.log.is_empty(), "a late event writes nothing");
    assert_eq!(body["plan"]["action"], "skip");
    sync.put(format!("map:queueStats/{Q}"), record(1));
    let body = sync.drive(store(
        Layout::Map,
        &StoreInput {
            known: Known::Read,
            ..gone.clone()
        },
        &settings(),
    ));
    assert_eq!(body["plan"]["action"], "remove");
    assert_eq!(item(&sync), None);
    assert_eq!(body["forget"], true);
    // One 404 among answers is not gone.
    let partly = StoreInput {
        fetched: vec![Status { status: Some(404) }, Status { status: None }],
        ..input(Known::Absent)
    };
    let body = sync.drive(store(Layout::Map, &partly, &settings()));
    assert_eq!(body["plan"]["action"], "write");
    assert!(item(&sync).is_some());
}

#[test]
fn documents_layout_creates_the_document_and_repairs_the_index() {
    let mut sync = Sync::default();
    let first = StoreInput {
        index_confirmed: false,
        ..input(Known::Absent)
    };
    // The index write fails: the record is written, the failure reported, nothing confirmed.
    sync.faults.push(("createSyncItem", 500));
    let body = sync.drive(store(Layout::Documents, &first, &settings()));
    assert_eq!(
        sync.log,
        [
            "updateSyncDocument",
            "createSyncDocument",
            "fetchSyncItem",
            "createSyncItem"
        ]
    );
    assert!(sync
        .objects
        .contains_key(&format!("document:queueStats.{Q}")));
    assert_eq!(body["indexConfirmed"], false);
    assert_eq!(body["errors"], json!([format!("{Q}: HTTP 500")]));
    // The next refresh repairs it (creating the index map first).
    sync.log.clear();
    let body = sync.drive(store(
        Layout::Documents,
        &StoreInput {
            known: Known::Read,
            ..first.clone()
        },
        &settings(),
    ));
    assert_eq!(
        sync.log,
        [
            "updateSyncDocument",
            "fetchSyncItem",
            "createSyncItem",
            "createSyncMap",
            "createSyncItem"
        ]
    );
    assert_eq!(body["indexConfirmed"], true);
    assert_eq!(
        sync.objects
            .get(&format!("map:queueStats.index/{Q}"))
            .map(|(d, _)| d.clone()),
        Some(json!({"sid": Q, "friendlyName": "Sales", "document": format!("queueStats.{Q}")}))
    );
    // Confirmed: an existing entry is read, not written.
    sync.log.clear();
    let body = sync.drive(store(
        Layout::Documents,
        &StoreInput {
            known: Known::Read,
            ..first.clone()
        },
        &settings(),
    ));
    assert_eq!(sync.log, ["updateSyncDocument", "fetchSyncItem"]);
    assert_eq!(body["indexConfirmed"], true);
    // A document someone else created meanwhile is updated.
    sync.objects.remove(&format!("document:queueStats.{Q}"));
    sync.faults.push(("updateSyncDocument", 404));
    sync.put(format!("document:queueStats.{Q}"), record(7));
    sync.log.clear();
    let body = sync.drive(store(Layout::Documents, &input(Known::Absent), &settings()));
    assert_eq!(
        sync.log,
        [
            "updateSyncDocument",
            "createSyncDocument",
            "updateSyncDocument"
        ]
    );
    assert_eq!(body["syncWrites"], 3);
}

#[test]
fn a_deleted_queue_is_removed_and_a_missing_record_is_no_error() {
    let mut sync = Sync::default();
    sync.put(format!("document:queueStats.{Q}"), record(1));
    let body = sync.drive(remove(Layout::Documents, Q, &settings()));
    assert_eq!(sync.log, ["deleteSyncDocument", "deleteSyncItem"]);
    assert_eq!(body["errors"], json!([]));
    assert_eq!(body["forget"], true);
    assert!(sync.objects.is_empty());
    sync.faults.push(("deleteSyncItem", 503));
    let body = sync.drive(remove(Layout::Map, Q, &settings()));
    assert_eq!(body["errors"], json!([format!("{Q}: HTTP 503")]));
    let body = sync.drive(remove(Layout::Map, "not-a-sid", &settings()));
    assert_eq!(body["syncWrites"], 0);
}

#[test]
fn other_failures_are_reported_not_thrown() {
    let mut sync = Sync::default();
    sync.faults.push(("updateSyncItem", 429));
    let body = sync.drive(store(Layout::Map, &input(Known::Read), &settings()));
    assert_eq!(body["errors"], json!([format!("{Q}: HTTP 429")]));
    assert_eq!(body["remember"], Value::Null);
    assert_eq!(item(&sync), None);
}

fn any_outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Done(json!({"revision": "3"}))),
        Just(Outcome::Done(json!(null))),
        (100u16..600, proptest::option::of(0u32..60000)).prop_map(|(s, c)| fail(s, c)),
        Just(Outcome::Failed(Failure::missing())),
    ]
}

proptest! {
    #[test]
    fn any_outcomes_end_the_machine_without_a_panic(
        outcomes in proptest::collection::vec(proptest::collection::vec(any_outcome(), 0..3), 0..12),
        documents in any::<bool>(),
        changed in any::<bool>(),
        known in prop_oneof![Just(Known::Read), Just(Known::Cached), Just(Known::Absent)],
    ) {
        let layout = if documents { Layout::Documents } else { Layout::Map };
        let start = StoreInput { changed, revision: Some("3".into()), index_confirmed: false, ..input(known) };
        let mut step = store(layout, &start, &settings());
        for batch in outcomes {
            match step {
                Step::Answer(_) => break,
                Step::Run { state, .. } => step = resume(state, batch),
            }
        }
        let _ = step;
    }
}

fn board() -> BoardSettings {
    BoardSettings {
        service_sid: "ISboard".into(),
        identity: "wallboard-reader".into(),
        read: true,
        write: false,
        manage: false,
    }
}

/// The first copy's plan, as the shim gets it from `write_plan` (documents layout: with the index).
fn first_copy(layout: Layout) -> WritePlan {
    plan_for(
        layout,
        &WriteInput {
            queue_sid: Q.into(),
            record: record(1),
            changed: true,
            known: Known::Absent,
            gone: false,
            deleted_here: false,
            index_confirmed: false,
        },
    )
}

impl Sync {
    fn apply_board(&mut self, op: &Op) -> Outcome {
        match op {
            Op::UpdateSyncMapPermission {
                map,
                identity,
                read,
                ..
            } => {
                self.log
                    .push(format!("grant map:{map} {identity} read={read}"));
                Outcome::Done(json!({}))
            }
            Op::UpdateSyncDocumentPermission {
                document,
                identity,
                read,
                ..
            } => {
                self.log
                    .push(format!("grant document:{document} {identity} read={read}"));
                Outcome::Done(json!({}))
            }
            other => self.apply(other),
        }
    }

    fn drive_board(&mut self, mut step: Step<Store>) -> Value {
        for _ in 0..50 {
            match step {
                Step::Answer(a) => return a.body,
                Step::Run { state, effects } => {
                    let state: Store =
                        serde_json::from_value(serde_json::to_value(&state).expect("json"))
                            .expect("state");
                    let outcomes = effects.iter().map(|e| self.apply_board(&e.op)).collect();
                    step = resume(state, outcomes);
                }
            }
        }
        panic!("the machine did not answer")
    }
}

#[test]
fn the_board_copy_grants_each_object_once_and_checks_the_index_on_a_first_copy() {
    let mut sync = Sync::default();
    let copy = CopyInput {
        queue_sid: Q.into(),
        plan: first_copy(Layout::Documents),
        granted: vec![],
        mirrored: false,
    };
    let body = sync.drive_board(board_copy(Layout::Documents, &copy, &board()));
    assert_eq!(
        sync.log,
        [
            "updateSyncDocument".to_string(),
            "createSyncDocument".into(),
            format!("grant document:queueStats.{Q} wallboard-reader read=true"),
            "fetchSyncItem".into(),
            "createSyncItem".into(),
            "createSyncMap".into(),
            "createSyncItem".into(),
            "grant map:queueStats.index wallboard-reader read=true".into(),
        ]
    );
    assert_eq!(body["mirrored"], true);
    assert_eq!(body["errors"], json!([]));
    assert_eq!(
        body["granted"],
        json!([format!("document:queueStats.{Q}"), "map:queueStats.index"])
    );
    assert_eq!(
        body["syncWrites"], 7,
        "writes and grants; the index read is a read"
    );
    // Copied and granted before: one update, nothing else.
    sync.log.clear();
    let again = CopyInput {
        granted: vec![
            grant_key("document", &format!("queueStats.{Q}")),
            grant_key("map", "queueStats.index"),
        ],
        mirrored: true,
        ..copy
    };
    let body = sync.drive_board(board_copy(Layout::Documents, &again, &board()));
    assert_eq!(sync.log, ["updateSyncDocument"]);
    assert_eq!(body["granted"], json!([]));
}

#[test]
fn a_failed_board_copy_is_one_error_line_and_not_mirrored() {
    let mut sync = Sync::default();
    sync.faults.push(("updateSyncItem", 500));
    let copy = CopyInput {
        queue_sid: Q.into(),
        plan: first_copy(Layout::Map),
        granted: vec![],
        mirrored: false,
    };
    let body = sync.drive_board(board_copy(Layout::Map, &copy, &board()));
    assert_eq!(
        body["errors"],
        json!([format!("wallboard copy of {Q}: HTTP 500")])
    );
    assert_eq!(body["mirrored"], false);
    // A skip plan copies nothing.
    let skip = CopyInput {
        plan: WritePlan::Skip {
            reason: "same".into(),
        },
        ..copy
    };
    sync.log.clear();
    let body = sync.drive_board(board_copy(Layout::Map, &skip, &board()));
    assert!(sync.log.is_empty());
    assert_eq!(body["mirrored"], false);
    // Removal: 404s are done, the queue is forgotten.
    let body = sync.drive_board(board_remove(Layout::Documents, Q, &board()));
    assert_eq!(body["errors"], json!([]));
    assert_eq!(body["forget"], true);
}
