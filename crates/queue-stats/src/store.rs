//! The store machine (effects protocol, docs/effects.md): one queue's record into Flex's Sync
//! service, or its removal, as a plan of Sync operations the executor performs.
//!
//! [`store`] starts from what the refresh knows ([`StoreInput`]): the built record, where the
//! previous one came from, the `Statistics` calls' statuses and the container's memory of the
//! queue (its remembered revision, whether it saw the queue deleted, whether it confirmed the
//! index entry). [`remove`] starts a `task-queue.deleted`'s removal. Then:
//!
//! 1. **Confirm.** An unchanged record compared against this container's remembered copy is read
//!    back (no write budget): the same revision means nobody wrote since and the skip is safe
//!    ([`Known::Read`]); another revision, a 404 or a failed read leave it [`Known::Cached`].
//! 2. **Plan** ([`plan_for`]): skip, write or remove; a queue whose `Statistics` all answered 404
//!    is gone ([`gone`]).
//! 3. **Write.** Update first (the record usually exists). A 404 means it does not: create it when
//!    the plan allows (a document: create, and update when the name is taken meanwhile; a map item:
//!    [`effects::Upsert`], which also creates a missing map), else the record was deleted meanwhile
//!    and stays deleted (skipped, forgotten). Then, when the plan says so, the documents index entry:
//!    read it (no write budget) and write it only when missing.
//! 4. **Remove.** The record (and the index entry) deleted at once; a 404 is done.
//!
//! [`board_copy`] and [`board_remove`] do the same on the wallboard's own Sync service
//! (docs/wallboard.md) after Flex's write: the copy is created when missing, the board identity
//! gets its permission on each object once per container ([`grant_key`]s the shim remembers), and a
//! queue's first copy in a container checks its index entry and the index map's permission.
//!
//! The answer (`{status: 200, body}`) is the summary the shim adds to its counters and memory:
//! `{plan, syncWrites, syncReads, skipped, errors, remember: {data, revision} | null, forget,
//! indexConfirmed}`. A failure never fails the callback: it is one line of `errors`
//! (`<queue>: <Twilio's message> (<code>)`), and the record is written by the next event.

use effects::{Answer, Failure, Op, Outcome, Progress, Step, Upsert};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::Layout;
use crate::write::{gone, plan_for, target, IndexEntry, Known, Target, WriteInput, WritePlan};
use crate::{document_name, INDEX_MAP_NAME};

/// A `Statistics` call's status as the refresh saw it (`None`: answered, or no answer).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub status: Option<u16>,
}

/// What the refresh knows, besides the record.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreInput {
    pub queue_sid: String,
    #[serde(default)]
    pub record: Value,
    #[serde(default)]
    pub changed: bool,
    pub known: Known,
    /// The revision of the copy this container remembers (its last read or write of the record).
    #[serde(default)]
    pub revision: Option<String>,
    /// The refresh's `Statistics` calls (only their `status` is read).
    #[serde(default)]
    pub fetched: Vec<Status>,
    #[serde(default)]
    pub deleted_here: bool,
    #[serde(default)]
    pub index_confirmed: bool,
}

/// Where the record's Sync service is.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub sync_service_sid: String,
}

/// The wallboard's statistics service and the identity that reads it (docs/wallboard.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardSettings {
    pub service_sid: String,
    pub identity: String,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub write: bool,
    #[serde(default)]
    pub manage: bool,
}

/// A copy to the board: the plan Flex's record was written by (or a first copy's), and what this
/// container already did for the board.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyInput {
    pub queue_sid: String,
    pub plan: WritePlan,
    /// The permissions this container already gave the board identity ([`grant_key`]s).
    #[serde(default)]
    pub granted: Vec<String>,
    /// This container copied the queue before (its index entry then needs no check).
    #[serde(default)]
    pub mirrored: bool,
}

/// How a permission on `object` (`kind` `map` or `document`) is remembered between copies.
pub fn grant_key(kind: &str, object: &str) -> String {
    format!("{kind}:{object}")
}

/// A board copy in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Copy {
    board: BoardSettings,
    granted: Vec<String>,
    /// Permissions given by this copy (the container adds them to what it remembers).
    new_grants: Vec<String>,
    mirrored: bool,
}

/// The machine's state between steps (plain data, carried by the executor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    /// Set for the board's copy.
    #[serde(default)]
    copy: Option<Copy>,
    service_sid: String,
    layout: Layout,
    input: WriteInputState,
    plan: Option<WritePlan>,
    stage: Stage,
    tally: Tally,
}

/// The write input, as the state carries it until the plan is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteInputState {
    queue_sid: String,
    record: Value,
    changed: bool,
    gone: bool,
    deleted_here: bool,
    index_confirmed: bool,
}

impl WriteInputState {
    fn with(&self, known: Known) -> WriteInput {
        WriteInput {
            queue_sid: self.queue_sid.clone(),
            record: self.record.clone(),
            changed: self.changed,
            known,
            gone: self.gone,
            deleted_here: self.deleted_here,
            index_confirmed: self.index_confirmed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "camelCase")]
enum Stage {
    /// Reading the record back to compare revisions.
    Confirm { mine: String },
    /// Updating the record.
    Update {
        target: Target,
        record: Value,
        may_create: bool,
        index: Option<IndexEntry>,
    },
    /// Creating the document (the update found none).
    CreateDocument {
        target: Target,
        record: Value,
        index: Option<IndexEntry>,
    },
    /// Updating the document someone else just created.
    UpdateCreated {
        target: Target,
        record: Value,
        index: Option<IndexEntry>,
    },
    /// Creating the map item (and the map when missing).
    CreateItem {
        upsert: Upsert,
        index: Option<IndexEntry>,
    },
    /// Reading the index entry.
    ReadIndex { entry: IndexEntry },
    /// Writing the missing index entry.
    WriteIndex { upsert: Upsert },
    /// Deleting the record (and its index entry).
    Remove,
    /// Giving the board identity its permission on an object (the board's copy), then reading
    /// the index entry when there is one to check.
    Grant {
        key: String,
        index: Option<IndexEntry>,
    },
}

/// What the machine reports, and what the container should remember.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Tally {
    sync_writes: u32,
    sync_reads: u32,
    skipped: u32,
    errors: Vec<String>,
    /// The record as now in Sync, and its revision.
    remember: Option<Value>,
    forget: bool,
    index_confirmed: bool,
}

/// Twilio's failure as one line of the callback's `errors`.
pub fn describe(f: &Failure) -> String {
    match f.code {
        Some(code) => format!("{} ({code})", f.message),
        None => f.message.clone(),
    }
}

fn revision(v: &Value) -> Option<String> {
    match v.get("revision") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The operation that updates the record at `target`.
fn update_op(service: &str, target: &Target, data: &Value) -> Op {
    if target.kind == "document" {
        Op::UpdateSyncDocument {
            service_sid: service.into(),
            document: target.object.clone(),
            data: data.clone(),
            ttl: None,
            if_match: None,
        }
    } else {
        Op::UpdateSyncItem {
            service_sid: service.into(),
            map: target.object.clone(),
            key: target.key.clone(),
            data: data.clone(),
            ttl: None,
            if_match: None,
        }
    }
}

fn read_op(service: &str, target: &Target) -> Op {
    if target.kind == "document" {
        Op::FetchSyncDocument {
            service_sid: service.into(),
            document: target.object.clone(),
        }
    } else {
        Op::FetchSyncItem {
            service_sid: service.into(),
            map: target.object.clone(),
            key: target.key.clone(),
        }
    }
}

fn remove_ops(service: &str, layout: Layout, sid: &str) -> Vec<Op> {
    match layout {
        Layout::Documents => vec![
            Op::DeleteSyncDocument {
                service_sid: service.into(),
                document: document_name(sid),
            },
            Op::DeleteSyncItem {
                service_sid: service.into(),
                map: INDEX_MAP_NAME.into(),
                key: sid.into(),
                if_match: None,
            },
        ],
        Layout::Map => {
            let t = target(layout, sid);
            vec![Op::DeleteSyncItem {
                service_sid: service.into(),
                map: t.object,
                key: t.key,
                if_match: None,
            }]
        }
    }
}

/// Starts storing a refreshed queue's record (see the module docs).
pub fn store(layout: Layout, input: &StoreInput, settings: &Settings) -> Step<Store> {
    let statuses: Vec<Option<u16>> = input.fetched.iter().map(|f| f.status).collect();
    let state = WriteInputState {
        queue_sid: input.queue_sid.clone(),
        record: input.record.clone(),
        changed: input.changed,
        gone: gone(&statuses),
        deleted_here: input.deleted_here,
        index_confirmed: input.index_confirmed,
    };
    let machine = Store {
        copy: None,
        service_sid: settings.sync_service_sid.clone(),
        layout,
        input: state,
        plan: None,
        stage: Stage::Remove,
        tally: Tally::default(),
    };
    let confirm = !input.changed
        && input.known == Known::Cached
        && input.record.is_object()
        && !machine.input.gone
        && !input.deleted_here
        && values::sid::is_sid(&input.queue_sid, "WQ");
    match (&input.revision, confirm) {
        (Some(mine), true) => {
            let op = read_op(&machine.service_sid, &target(layout, &input.queue_sid));
            let mut machine = Store {
                stage: Stage::Confirm { mine: mine.clone() },
                ..machine
            };
            machine.tally.sync_reads += 1;
            Step::one(machine, op)
        }
        _ => machine.planned(input.known),
    }
}

/// Starts removing a deleted queue's record (`task-queue.deleted`): its item, or its document and
/// index entry; a 404 is done.
pub fn remove(layout: Layout, queue_sid: &str, settings: &Settings) -> Step<Store> {
    let machine = Store {
        copy: None,
        service_sid: settings.sync_service_sid.clone(),
        layout,
        input: WriteInputState {
            queue_sid: queue_sid.into(),
            record: Value::Null,
            changed: false,
            gone: false,
            deleted_here: true,
            index_confirmed: false,
        },
        plan: None,
        stage: Stage::Remove,
        tally: Tally::default(),
    };
    if !values::sid::is_sid(queue_sid, "WQ") {
        return Step::answer(machine.finish());
    }
    machine.removing()
}

/// Starts the wallboard's copy of a record Flex's service now holds: the same write on the board's
/// service (created when missing), then the board identity's read permission on the object once
/// per container, and on a queue's first copy in this container its index entry (read, written
/// when missing) and the index map's permission. Errors are `wallboard copy of <queue>: …`.
pub fn board_copy(layout: Layout, input: &CopyInput, board: &BoardSettings) -> Step<Store> {
    let mut machine = Store {
        copy: Some(Copy {
            board: board.clone(),
            granted: input.granted.clone(),
            new_grants: vec![],
            mirrored: input.mirrored,
        }),
        service_sid: board.service_sid.clone(),
        layout,
        input: WriteInputState {
            queue_sid: input.queue_sid.clone(),
            record: Value::Null,
            changed: true,
            gone: false,
            deleted_here: false,
            index_confirmed: false,
        },
        plan: Some(input.plan.clone()),
        stage: Stage::Remove,
        tally: Tally::default(),
    };
    match input.plan.clone() {
        WritePlan::Write {
            target,
            record,
            index,
            ..
        } => {
            machine.tally.sync_writes += 1;
            let op = update_op(&machine.service_sid, &target, &record);
            machine.stage = Stage::Update {
                target,
                record,
                may_create: true,
                index,
            };
            Step::one(machine, op)
        }
        _ => Step::answer(machine.finish()),
    }
}

/// Starts removing a queue's copy from the board's service (a 404 is done).
pub fn board_remove(layout: Layout, queue_sid: &str, board: &BoardSettings) -> Step<Store> {
    let settings = Settings {
        sync_service_sid: board.service_sid.clone(),
    };
    remove(layout, queue_sid, &settings).map(|mut m| {
        m.copy = Some(Copy {
            board: board.clone(),
            granted: vec![],
            new_grants: vec![],
            mirrored: false,
        });
        m
    })
}

/// The next step of a store from its effects' outcomes.
pub fn resume(machine: Store, outcomes: Vec<Outcome>) -> Step<Store> {
    let one = || effects::first(outcomes.clone());
    let mut m = machine;
    match m.stage.clone() {
        Stage::Confirm { mine } => {
            let same =
                matches!(one(), Outcome::Done(v) if revision(&v).as_deref() == Some(mine.as_str()));
            m.planned(if same { Known::Read } else { Known::Cached })
        }
        Stage::Update {
            target,
            record,
            may_create,
            index,
        } => match one() {
            Outcome::Done(v) => m.written(&target, record, &v, index),
            Outcome::Failed(f) if f.is(404) => {
                if !may_create || m.input.deleted_here {
                    // Deleted meanwhile (task-queue.deleted in any container): never re-created.
                    m.tally.forget = true;
                    m.tally.skipped += 1;
                    return Step::answer(m.finish());
                }
                m.tally.sync_writes += 1;
                if target.kind == "document" {
                    let op = Op::CreateSyncDocument {
                        service_sid: m.service_sid.clone(),
                        unique_name: target.object.clone(),
                        data: record.clone(),
                        ttl: None,
                    };
                    m.stage = Stage::CreateDocument {
                        target,
                        record,
                        index,
                    };
                    Step::one(m, op)
                } else {
                    let upsert =
                        Upsert::new(&m.service_sid, &target.object, &target.key, record, None);
                    let op = upsert.op();
                    m.stage = Stage::CreateItem { upsert, index };
                    Step::one(m, op)
                }
            }
            Outcome::Failed(f) => m.failed(&f),
        },
        Stage::CreateDocument {
            target,
            record,
            index,
        } => match one() {
            Outcome::Done(v) => m.written(&target, record, &v, index),
            Outcome::Failed(f) if f.is(409) || f.code == Some(54301) => {
                m.tally.sync_writes += 1;
                let op = update_op(&m.service_sid, &target, &record);
                m.stage = Stage::UpdateCreated {
                    target,
                    record,
                    index,
                };
                Step::one(m, op)
            }
            Outcome::Failed(f) => m.failed(&f),
        },
        Stage::UpdateCreated {
            target,
            record,
            index,
        } => match one() {
            Outcome::Done(v) => m.written(&target, record, &v, index),
            Outcome::Failed(f) => m.failed(&f),
        },
        Stage::CreateItem { upsert, index } => {
            let record = upsert.data.clone();
            let target = Target {
                kind: "map".into(),
                object: upsert.map.clone(),
                key: upsert.key.clone(),
            };
            match upsert.resume(one()) {
                Progress::Next(next) => {
                    m.tally.sync_writes += 1;
                    let op = next.op();
                    m.stage = Stage::CreateItem {
                        upsert: next,
                        index,
                    };
                    Step::one(m, op)
                }
                Progress::Done(Ok(v)) => m.written(&target, record, &v, index),
                Progress::Done(Err(f)) => m.failed(&f),
            }
        }
        Stage::Grant { key, index } => match one() {
            Outcome::Done(_) => {
                if let Some(copy) = m.copy.as_mut() {
                    copy.granted.push(key.clone());
                    copy.new_grants.push(key);
                }
                m.check_index(index)
            }
            Outcome::Failed(f) => m.failed(&f),
        },
        Stage::ReadIndex { entry } => match one().found() {
            Ok(Some(_)) => {
                m.tally.index_confirmed = true;
                m.indexed(&entry.map)
            }
            Ok(None) => {
                m.tally.sync_writes += 1;
                let upsert = Upsert::new(&m.service_sid, &entry.map, &entry.key, entry.data, None);
                let op = upsert.op();
                m.stage = Stage::WriteIndex { upsert };
                Step::one(m, op)
            }
            Err(f) => m.failed(&f),
        },
        Stage::WriteIndex { upsert } => match (upsert.map.clone(), upsert.resume(one())) {
            (_, Progress::Next(next)) => {
                m.tally.sync_writes += 1;
                let op = next.op();
                m.stage = Stage::WriteIndex { upsert: next };
                Step::one(m, op)
            }
            (map, Progress::Done(Ok(_))) => {
                m.tally.index_confirmed = true;
                m.indexed(&map)
            }
            (_, Progress::Done(Err(f))) => m.failed(&f),
        },
        Stage::Remove => {
            let failures: Vec<Failure> = outcomes
                .into_iter()
                .filter_map(|o| o.gone().err())
                .collect();
            for f in &failures {
                m.fail_line(f);
            }
            Step::answer(m.finish())
        }
    }
}

impl Store {
    /// Plans with what is known of the previous record, and takes the plan's first step.
    fn planned(mut self, known: Known) -> Step<Store> {
        let plan = plan_for(self.layout, &self.input.with(known));
        self.plan = Some(plan.clone());
        match plan {
            WritePlan::Skip { .. } => {
                self.tally.skipped += 1;
                Step::answer(self.finish())
            }
            WritePlan::Remove { .. } => self.removing(),
            WritePlan::Write {
                target,
                record,
                may_create,
                index,
                ..
            } => {
                self.tally.sync_writes += 1;
                let op = update_op(&self.service_sid, &target, &record);
                self.stage = Stage::Update {
                    target,
                    record,
                    may_create,
                    index,
                };
                Step::one(self, op)
            }
        }
    }

    fn removing(mut self) -> Step<Store> {
        let ops = remove_ops(&self.service_sid, self.layout, &self.input.queue_sid);
        self.tally.sync_writes += u32::try_from(ops.len()).unwrap_or(u32::MAX);
        self.tally.forget = true;
        self.stage = Stage::Remove;
        Step::all(self, ops)
    }

    /// The record is in Sync as `answered`: remember it (the board: grant its object), then check
    /// the index entry if asked.
    fn written(
        mut self,
        target: &Target,
        record: Value,
        answered: &Value,
        index: Option<IndexEntry>,
    ) -> Step<Store> {
        if self.copy.is_some() {
            let key = grant_key(&target.kind, &target.object);
            return self.grant(key, index);
        }
        self.tally.remember = Some(json!({"data": record, "revision": revision(answered)}));
        self.check_index(index)
    }

    /// The board identity's permission on the object `key` names, unless given before.
    fn grant(mut self, key: String, index: Option<IndexEntry>) -> Step<Store> {
        let Some(copy) = self.copy.as_ref() else {
            return self.check_index(index);
        };
        if copy.granted.contains(&key) {
            return self.check_index(index);
        }
        let b = &copy.board;
        let op = match key.split_once(':') {
            Some(("document", object)) => Op::UpdateSyncDocumentPermission {
                service_sid: self.service_sid.clone(),
                document: object.into(),
                identity: b.identity.clone(),
                read: b.read,
                write: b.write,
                manage: b.manage,
            },
            _ => Op::UpdateSyncMapPermission {
                service_sid: self.service_sid.clone(),
                map: key.split_once(':').map_or(key.as_str(), |(_, o)| o).into(),
                identity: b.identity.clone(),
                read: b.read,
                write: b.write,
                manage: b.manage,
            },
        };
        self.tally.sync_writes += 1;
        self.stage = Stage::Grant { key, index };
        Step::one(self, op)
    }

    /// The index entry exists: for the board, its map's permission next.
    fn indexed(self, map: &str) -> Step<Store> {
        if self.copy.is_some() {
            return self.grant(grant_key("map", map), None);
        }
        Step::answer(self.finish())
    }

    /// Reads the index entry when there is one to check (the board: on a first copy only).
    fn check_index(mut self, index: Option<IndexEntry>) -> Step<Store> {
        let index = match &self.copy {
            Some(copy) if copy.mirrored => None,
            _ => index,
        };
        match index {
            None => Step::answer(self.finish()),
            Some(entry) => {
                self.tally.sync_reads += 1;
                let op = Op::FetchSyncItem {
                    service_sid: self.service_sid.clone(),
                    map: entry.map.clone(),
                    key: entry.key.clone(),
                };
                self.stage = Stage::ReadIndex { entry };
                Step::one(self, op)
            }
        }
    }

    fn fail_line(&mut self, f: &Failure) {
        let board = if self.copy.is_some() {
            "wallboard copy of "
        } else {
            ""
        };
        let line = format!("{board}{}: {}", self.input.queue_sid, describe(f));
        self.tally.errors.push(line);
    }

    fn failed(mut self, f: &Failure) -> Step<Store> {
        self.fail_line(f);
        Step::answer(self.finish())
    }

    fn finish(self) -> Answer {
        let t = self.tally;
        if let Some(copy) = self.copy {
            // The board's copy: its writes, permissions given, whether the queue is now copied.
            return Answer::json(
                200,
                json!({
                    "syncWrites": t.sync_writes,
                    "syncReads": t.sync_reads,
                    "skipped": 0,
                    "errors": t.errors,
                    "granted": copy.new_grants,
                    "mirrored": t.errors.is_empty() && !t.forget && matches!(self.plan, Some(WritePlan::Write { .. })),
                    "forget": t.forget,
                }),
            );
        }
        Answer::json(
            200,
            json!({
                "plan": self.plan,
                "syncWrites": t.sync_writes,
                "syncReads": t.sync_reads,
                "skipped": t.skipped,
                "errors": t.errors,
                "remember": t.remember,
                "forget": t.forget,
                "indexConfirmed": t.index_confirmed,
            }),
        )
    }
}

/// The answer to a state the executor handed back that this machine did not write.
pub fn unreadable_state() -> Answer {
    Answer::json(
        200,
        json!({"plan": null, "syncWrites": 0, "syncReads": 0, "skipped": 0,
            "errors": ["queue statistics: the executor handed back a state or outcomes this machine did not write"],
            "remember": null, "forget": false, "indexConfirmed": false}),
    )
}

#[cfg(test)]
mod tests;
