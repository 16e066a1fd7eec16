//! The live agents view's functions as machines of the effects protocol (docs/effects.md): the
//! event callback's writer and `agents-live-token`. The shim (`functions/common/agents-live`)
//! performs nothing but what these ask for; what it keeps between requests of a warm container
//! (each shard's last known document and revision, which grants and index entries are done, the
//! events a failed write must carry) is a [`ShardMemory`] / [`IndexMemory`] the machine hands
//! back in its answer. With none (a cold container) every machine starts from Twilio's state.
//!
//! | machine | operations, in order |
//! |---|---|
//! | [`start_event`] | the worker's queues (TaskRouter) and parked calls (parking Sync), at once, as [`plan`] says |
//! | [`start_shard`] | the shard document (unless known); its write (`If-Match`; a 412, 409 or 404 reads it again, 4 attempts); the read grant (once); the counts document (newer `seq` only, `If-Match`, 4 attempts) and its grant; the index document (`If-Match`, 10 attempts) and its grant |
//! | [`start_index`] | the index document (`If-Match`, 10 attempts: shards waiting to be added go at once) and its grant |
//! | [`start_token`] (`agents-live-token`) | the board's Sync service (its ACL must be on) |
//! | [`start_wallboard_token`] (`wallboard-token`) | the board's Sync service (ACL on), the statistics root's read grant |
//!
//! A shard's events that could not be written are kept in its memory (the last
//! [`CARRY_LIMIT`]) and ride along with its next write: applying an event twice changes nothing.

use effects::{first, Answer, Failure, Op, Outcome, Paging, Step};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{
    apply_batch, counts_name, document_name, plan, readers, viewer, Config, Env, Input,
    COUNTS_PREFIX, DOCUMENT_PREFIX, INDEX_DOCUMENT,
};

/// Attempts at a shard or counts write that another container got in before.
pub const WRITE_ATTEMPTS: u32 = 4;
/// Attempts at adding a shard to the index document.
pub const INDEX_ATTEMPTS: u32 = 10;
/// Events kept for a shard's next write after its write failed.
pub const CARRY_LIMIT: usize = 200;
/// A worker's parked calls read for their count (one page).
pub const PARKED_LIMIT: u32 = 100;
/// A worker's queues read at most (one page).
pub const QUEUES_LIMIT: u32 = 1000;

/// The settings a token answer echoes for the page (the view reads records as the writer does).
pub const PAGE_SETTINGS: [&str; 4] = [
    "QUEUE_STATS_TIME_ZONE",
    "AGENTS_LIVE_OFFLINE_ACTIVITIES",
    "AGENTS_LIVE_AVAILABLE_ACTIVITIES",
    "AGENTS_LIVE_TEAM_ATTRIBUTE",
];

fn given<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn not_set(name: &str) -> String {
    format!("Server misconfigured: the environment variable {name} is not set (see .env.example).")
}

/// The board's own Sync service (`WALLBOARD_SYNC_SID`), when it is set and is neither Flex's
/// (`TWILIO_FLEX_SYNC_SID`) nor parking's (`SYNC_SERVICE_SID`): `values::env::board_service`.
pub fn board_service(env: &Env) -> Option<String> {
    values::env::board_service(|name| env.get(name).map(String::as_str))
}

/// Where the writer writes, or why it is off (`Err(Ok(reason))`) or misconfigured
/// (`Err(Err(message))`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Services {
    pub board_sid: String,
    pub parking_sid: Option<String>,
    pub workspace_sid: String,
}

/// Why the writer does nothing: off by a setting, or misconfigured.
#[derive(Debug, Clone, PartialEq)]
pub enum Idle {
    Off(String),
    Error(String),
}

impl Idle {
    fn answer(&self) -> Answer {
        match self {
            Idle::Off(reason) => Answer::json(200, json!({ "off": reason })),
            Idle::Error(message) => Answer::json(200, json!({ "error": message })),
        }
    }
}

/// The writer's services and settings from the environment.
pub fn writer_settings(env: &Env) -> Result<(Services, Config), Idle> {
    let enabled = given(env, "AGENTS_LIVE_ENABLED").map(str::to_ascii_lowercase);
    if enabled.as_deref() == Some("false") {
        return Err(Idle::Off("AGENTS_LIVE_ENABLED is false".into()));
    }
    let Some(board_sid) = board_service(env) else {
        return Err(Idle::Off(
            "WALLBOARD_SYNC_SID is not set (the live agents view lives in the board service)"
                .into(),
        ));
    };
    let config = Config::from_env(env).map_err(|e| Idle::Error(e.to_string()))?;
    // One name per setting: `WORKSPACE_SID`, or its alias `TWILIO_FLEX_WORKSPACE_SID`.
    let workspace_sid = values::env::setting("WORKSPACE_SID", |name| given(env, name))
        .map_err(|conflict| Idle::Error(format!("Server misconfigured: {conflict}.")))?
        .map(|found| found.value)
        .ok_or_else(|| Idle::Error(not_set("TWILIO_FLEX_WORKSPACE_SID")))?;
    Ok((
        Services {
            board_sid,
            parking_sid: given(env, "SYNC_SERVICE_SID").map(str::to_string),
            workspace_sid,
        },
        config,
    ))
}

/// A failure as the hook's summaries word it: `message (code)`.
pub fn describe(f: &Failure) -> String {
    match f.code {
        Some(code) => format!("{} ({code})", f.message),
        None => f.message.clone(),
    }
}

/// Another writer got in first: a 412 (or Sync's 54103), a 409 on a create (54301, 54208), or
/// the object went (404).
fn lost_race(f: &Failure) -> bool {
    matches!(f.status, Some(412) | Some(409) | Some(404))
        || matches!(f.code, Some(54103) | Some(54301) | Some(54208))
}

fn revision_of(v: &Value) -> Option<String> {
    match v.get("revision") {
        Some(Value::String(r)) => Some(r.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The state of any machine here, as the executor carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "machine", content = "state", rename_all = "camelCase")]
pub enum Machine {
    Event(Box<EventRun>),
    Shard(Box<ShardRun>),
    Index(Box<IndexRun>),
    Token(TokenRun),
    BoardToken(Box<BoardTokenRun>),
}

/// Continues `machine` with the outcomes of the effects it asked for.
pub fn resume(machine: Machine, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
    match machine {
        Machine::Event(m) => event_done(*m, outcomes),
        Machine::Shard(m) => shard_resume(*m, outcomes, now_ms),
        Machine::Index(m) => index_resume(*m, outcomes),
        Machine::Token(m) => token_done(m, first(outcomes)),
        Machine::BoardToken(m) => board_token_resume(*m, first(outcomes)),
    }
}

impl Machine {
    /// What the container keeps of this machine's answer, as [`Kept::keep`](crate::kept::Kept::keep)
    /// reads it: `{event}`, `{shard: n}`, `{index: true}`; null for the tokens (nothing).
    pub fn kept_as(&self) -> Value {
        match self {
            Machine::Event(run) => json!({ "event": run.event }),
            Machine::Shard(run) => json!({ "shard": run.shard }),
            Machine::Index(_) => json!({ "index": true }),
            Machine::Token(_) | Machine::BoardToken(_) => Value::Null,
        }
    }
}

/// One event's summary for the event callback: the event machine's answer (its `write` left
/// out) with the Sync reads and writes of its shard's and the index's answers added, and their
/// errors after its own. An answer that is not an object adds nothing.
pub fn summary(event: &Value, written: &Value, indexed: &Value) -> Value {
    let mut out = event.clone();
    let parts = [event, written, indexed];
    let sum = |key: &str| -> u64 { parts.iter().filter_map(|p| p.get(key)?.as_u64()).sum() };
    let mut errors: Vec<Value> = event
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    errors.extend(
        [written, indexed]
            .iter()
            .filter_map(|p| p.get("error").filter(|e| e.is_string()).cloned()),
    );
    if let Value::Object(o) = &mut out {
        o.remove("write");
        o.insert("syncReads".into(), json!(sum("syncReads")));
        o.insert("syncWrites".into(), json!(sum("syncWrites")));
        o.insert("errors".into(), json!(errors));
    }
    out
}

/// The answer when the executor hands back a state that is not ours (it never should).
pub fn unreadable_state() -> Answer {
    Answer::json(
        200,
        json!({ "error": "the executor handed back a state or outcomes this machine did not write; nothing further was done" }),
    )
}

// --- one event: what it needs read ---------------------------------------------------------------

/// An event whose worker's queues and parked calls are being read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRun {
    summary: Value,
    shard: u32,
    event: Value,
    fetched: Value,
    queues: bool,
    parked: bool,
}

/// The event callback's hook, for one event: `membership_age_ms` is how old the container's
/// knowledge of the worker's queues is; `known_queues` the queues already known (a seeded floor).
/// Answers (200) `{off}`, `{error}`, or the summary `{plan, taskrouterCalls, syncReads,
/// syncWrites, errors}` with `write: {shard, input}` when the event goes to its shard and
/// `membershipKnown` when the worker's queues are now known (read, or given).
pub fn start_event(
    event: &Value,
    membership_age_ms: Option<f64>,
    known_queues: Option<Value>,
    env: &Env,
) -> Step<Machine> {
    let (services, config) = match writer_settings(env) {
        Ok(s) => s,
        Err(idle) => return Step::answer(idle.answer()),
    };
    let p = plan(&config, event, membership_age_ms);
    let mut summary = json!({
        "plan": {"action": p.action, "reason": p.reason, "shard": p.shard},
        "taskrouterCalls": 0, "syncReads": 0, "syncWrites": 0, "errors": [],
    });
    let (Some(worker_sid), Some(shard)) = (p.worker_sid.clone(), p.shard) else {
        return Step::answer(Answer::json(200, summary));
    };
    let mut fetched = json!({});
    if let Some(q) = known_queues {
        fetched["queues"] = q;
    }
    let queues = p.fetch_queues && fetched.get("queues").is_none();
    let parked = p.fetch_parked && services.parking_sid.is_some();
    let mut ops = Vec::new();
    if queues {
        summary["taskrouterCalls"] = json!(1);
        ops.push(Op::ListTaskQueues {
            workspace_sid: services.workspace_sid.clone(),
            worker_sid: Some(worker_sid.clone()),
            paging: Paging {
                page_size: None,
                limit: QUEUES_LIMIT,
            },
        });
    }
    if let (true, Some(parking)) = (parked, &services.parking_sid) {
        summary["syncReads"] = json!(1);
        ops.push(Op::ListSyncItems {
            service_sid: parking.clone(),
            map: format!("{worker_sid}.ParkedCalls"),
            from: None,
            bounds: None,
            order: None,
            paging: Paging {
                page_size: Some(PARKED_LIMIT),
                limit: PARKED_LIMIT,
            },
        });
    }
    let run = EventRun {
        summary,
        shard,
        event: event.clone(),
        fetched,
        queues,
        parked,
    };
    if ops.is_empty() {
        return Step::answer(event_answer(run, Vec::new()));
    }
    Step::all(Machine::Event(Box::new(run)), ops)
}

fn event_answer(mut run: EventRun, errors: Vec<String>) -> Answer {
    let known = run.fetched.get("queues").is_some();
    run.summary["errors"] = json!(errors);
    run.summary["membershipKnown"] = json!(known);
    run.summary["write"] = json!({
        "shard": run.shard,
        "input": {"event": run.event, "fetched": run.fetched},
    });
    Answer::json(200, run.summary)
}

fn event_done(mut run: EventRun, outcomes: Vec<Outcome>) -> Step<Machine> {
    let mut outcomes = outcomes.into_iter();
    let mut errors = Vec::new();
    // The event still applies: what could not be read is kept from before.
    let mut note = |f: &Failure| {
        errors.push(format!(
            "reading the worker's queues or parked calls: {}",
            describe(f)
        ))
    };
    if run.queues {
        match outcomes.next().map(Outcome::into_result) {
            Some(Ok(Value::Array(list))) => {
                let queues: Vec<Value> = list
                    .iter()
                    .map(|q| json!({"sid": q.get("sid"), "friendlyName": q.get("friendlyName")}))
                    .collect();
                run.fetched["queues"] = json!(queues);
            }
            Some(Ok(_)) => note(&Failure {
                message: "TaskRouter answered no list".into(),
                ..Failure::missing()
            }),
            Some(Err(f)) => note(&f),
            None => note(&Failure::missing()),
        }
    }
    if run.parked {
        match outcomes.next().map(Outcome::found) {
            Some(Ok(Some(Value::Array(items)))) => {
                let data: Vec<Value> = items
                    .iter()
                    .map(|i| i.get("data").cloned().unwrap_or(Value::Null))
                    .collect();
                run.fetched["parked"] = json!(data);
            }
            // No map: no parked call.
            Some(Ok(None)) => run.fetched["parked"] = json!([]),
            Some(Ok(Some(_))) => note(&Failure {
                message: "Sync answered no list".into(),
                ..Failure::missing()
            }),
            Some(Err(f)) => note(&f),
            None => note(&Failure::missing()),
        }
    }
    Step::answer(event_answer(run, errors))
}

// --- a shard's waiting events: the writes ---------------------------------------------------------

/// What a warm container knows of one shard (none: a cold start, read from Sync).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ShardMemory {
    /// `stored` and `revision` are Sync's as this container last read or wrote them.
    pub loaded: bool,
    pub stored: Option<Value>,
    pub revision: Option<String>,
    /// The counts document's revision and `seq` as last known.
    pub counts_revision: Option<String>,
    pub counts_seq: Option<i64>,
    /// Read permission granted on the shard and on its counts document.
    pub granted: bool,
    pub counts_granted: bool,
    /// Events a failed write must carry (raw inputs).
    pub carry: Vec<Value>,
}

/// What a warm container knows of the index document: the shards it lists, whether the board
/// identities were granted read on it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IndexMemory {
    pub granted: bool,
    pub shards: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Stage {
    Load,
    Write,
    Grant,
    Counts,
    CountsRead,
    CountsGrant,
}

/// A shard's batch of events on its way to Sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardRun {
    board_sid: String,
    env: Env,
    shard: u32,
    inputs: Vec<Value>,
    memory: ShardMemory,
    index: IndexMemory,
    stage: Stage,
    attempt: u32,
    /// The counts to write (`seq` is the shard's) and the document just written.
    counts: Value,
    pending: Value,
    sync_reads: u32,
    sync_writes: u32,
}

/// The writes of `shard` for `inputs` (events that waited for it, in arrival order), from what
/// the container remembers of it. Answers (200) `{error: null | text, memory, index, syncReads,
/// syncWrites, applied?, ignored?, indexShard?}`; `memory` is what the container keeps for the
/// shard, `indexShard` says the shard must go into the index ([`start_index`]).
pub fn start_shard(
    shard: u32,
    inputs: Vec<Value>,
    memory: Option<ShardMemory>,
    index: Option<IndexMemory>,
    env: &Env,
    now_ms: f64,
) -> Step<Machine> {
    let (services, _) = match writer_settings(env) {
        Ok(s) => s,
        Err(idle) => return Step::answer(idle.answer()),
    };
    let mut memory = memory.unwrap_or_default();
    let mut all = std::mem::take(&mut memory.carry);
    all.extend(inputs);
    let run = ShardRun {
        board_sid: services.board_sid,
        env: env.clone(),
        shard,
        inputs: all,
        memory,
        index: index.unwrap_or_default(),
        stage: Stage::Load,
        attempt: 0,
        counts: Value::Null,
        pending: Value::Null,
        sync_reads: 0,
        sync_writes: 0,
    };
    load_or_apply(run, now_ms)
}

fn shard_answer(mut run: ShardRun, error: Option<String>, extra: Value) -> Step<Machine> {
    if error.is_some() {
        // Read it again next time, and keep the events for the shard's next write.
        run.memory.loaded = false;
        let skip = run.inputs.len().saturating_sub(CARRY_LIMIT);
        run.memory.carry = run.inputs.split_off(skip);
    } else {
        run.memory.carry = Vec::new();
    }
    let mut body = json!({
        "error": error,
        "memory": run.memory,
        "syncReads": run.sync_reads,
        "syncWrites": run.sync_writes,
    });
    if let (Value::Object(b), Value::Object(x)) = (&mut body, extra) {
        b.extend(x);
    }
    Step::answer(Answer::json(200, body))
}

fn failed(run: ShardRun, what: String) -> Step<Machine> {
    let error = format!(
        "shard {}: {what} (kept for the shard's next write)",
        run.shard
    );
    shard_answer(run, Some(error), json!({}))
}

fn read_op(run: &ShardRun, document: String) -> Op {
    Op::FetchSyncDocument {
        service_sid: run.board_sid.clone(),
        document,
    }
}

fn write_op(run: &ShardRun, name: String, data: Value, revision: Option<String>) -> Op {
    match revision {
        None => Op::CreateSyncDocument {
            service_sid: run.board_sid.clone(),
            unique_name: name,
            data,
            ttl: None,
        },
        Some(r) => Op::UpdateSyncDocument {
            service_sid: run.board_sid.clone(),
            document: name,
            data,
            ttl: None,
            if_match: Some(r),
        },
    }
}

fn grant_ops(run: &ShardRun, document: &str, shard_document: bool) -> Vec<Op> {
    readers(shard_document)
        .into_iter()
        .map(|identity| Op::UpdateSyncDocumentPermission {
            service_sid: run.board_sid.clone(),
            document: document.to_string(),
            identity: identity.to_string(),
            read: true,
            write: false,
            manage: false,
        })
        .collect()
}

fn go(mut run: ShardRun, stage: Stage, ops: Vec<Op>) -> Step<Machine> {
    for op in &ops {
        match op {
            Op::FetchSyncDocument { .. } => run.sync_reads += 1,
            _ => run.sync_writes += 1,
        }
    }
    run.stage = stage;
    Step::all(Machine::Shard(Box::new(run)), ops)
}

fn load_or_apply(run: ShardRun, now_ms: f64) -> Step<Machine> {
    if !run.memory.loaded {
        let op = read_op(&run, document_name(run.shard));
        return go(run, Stage::Load, vec![op]);
    }
    let config = match Config::from_env(&run.env) {
        Ok(c) => c,
        Err(e) => return failed(run, e.to_string()),
    };
    let inputs: Vec<Input> = run
        .inputs
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap_or_default())
        .collect();
    let out = apply_batch(
        &config,
        run.shard,
        run.memory.stored.as_ref(),
        &inputs,
        now_ms,
    );
    let result = json!({"applied": out.applied, "ignored": out.ignored});
    if let Some(too_large) = out.too_large {
        return failed(run, too_large);
    }
    if !out.changed {
        return shard_answer(run, None, result);
    }
    let mut run = run;
    run.counts = if out.counts_changed {
        out.counts
    } else {
        Value::Null
    };
    run.pending = out.document.clone();
    let op = write_op(
        &run,
        document_name(run.shard),
        out.document,
        run.memory.revision.clone(),
    );
    go(run, Stage::Write, vec![op])
}

fn seq_of(v: &Value) -> i64 {
    v.get("seq").and_then(Value::as_i64).unwrap_or(-1)
}

fn shard_resume(mut run: ShardRun, outcomes: Vec<Outcome>, now_ms: f64) -> Step<Machine> {
    match run.stage {
        Stage::Load => match first(outcomes).found() {
            Ok(found) => {
                run.memory.loaded = true;
                run.memory.revision = found.as_ref().and_then(revision_of);
                run.memory.stored = found.and_then(|d| d.get("data").cloned());
                load_or_apply(run, now_ms)
            }
            Err(f) => failed(run, describe(&f)),
        },
        Stage::Write => match first(outcomes).into_result() {
            Ok(written) => {
                run.memory.revision = revision_of(&written);
                run.memory.stored = Some(std::mem::take(&mut run.pending));
                run.attempt = 0;
                after_write(run)
            }
            Err(f) if lost_race(&f) && run.attempt + 1 < WRITE_ATTEMPTS => {
                // Another container wrote (or removed it): read it again and apply again.
                run.attempt += 1;
                run.memory.loaded = false;
                load_or_apply(run, now_ms)
            }
            Err(f) => failed(run, describe(&f)),
        },
        Stage::Grant => match all_done(outcomes) {
            Ok(()) => {
                run.memory.granted = true;
                counts_step(run)
            }
            Err(f) => failed(run, describe(&f)),
        },
        Stage::Counts => match first(outcomes).into_result() {
            Ok(written) => {
                run.memory.counts_revision = revision_of(&written);
                run.memory.counts_seq = Some(seq_of(&run.counts));
                run.counts = Value::Null;
                counts_grant(run)
            }
            Err(f) if lost_race(&f) => {
                let op = read_op(&run, counts_name(run.shard));
                go(run, Stage::CountsRead, vec![op])
            }
            Err(f) => failed(run, describe(&f)),
        },
        Stage::CountsRead => match first(outcomes).found() {
            Ok(found) => {
                run.memory.counts_revision = found.as_ref().and_then(revision_of);
                run.memory.counts_seq = Some(
                    found
                        .as_ref()
                        .and_then(|d| d.get("data"))
                        .map_or(-1, seq_of),
                );
                run.attempt += 1;
                if run.attempt >= WRITE_ATTEMPTS {
                    // Left to the shard's next write: the counts follow the shard.
                    run.counts = Value::Null;
                    return counts_grant(run);
                }
                counts_step(run)
            }
            Err(f) => failed(run, describe(&f)),
        },
        Stage::CountsGrant => match all_done(outcomes) {
            Ok(()) => {
                run.memory.counts_granted = true;
                index_step(run)
            }
            Err(f) => failed(run, describe(&f)),
        },
    }
}

fn all_done(outcomes: Vec<Outcome>) -> Result<(), Failure> {
    if outcomes.is_empty() {
        return Err(Failure::missing());
    }
    outcomes
        .into_iter()
        .try_for_each(|o| o.into_result().map(|_| ()))
}

fn after_write(run: ShardRun) -> Step<Machine> {
    if run.memory.granted {
        return counts_step(run);
    }
    let ops = grant_ops(&run, &document_name(run.shard), true);
    go(run, Stage::Grant, ops)
}

/// The counts document follows the shard: never replaced by counts of an older shard version.
fn counts_step(mut run: ShardRun) -> Step<Machine> {
    if run.counts.is_null() {
        return index_step(run);
    }
    let seq = seq_of(&run.counts);
    if run.memory.counts_seq.is_some_and(|known| known >= seq) {
        run.counts = Value::Null;
        return counts_grant(run);
    }
    let revision = run.memory.counts_revision.clone();
    let op = write_op(&run, counts_name(run.shard), run.counts.clone(), revision);
    go(run, Stage::Counts, vec![op])
}

fn counts_grant(run: ShardRun) -> Step<Machine> {
    if run.memory.counts_granted {
        return index_step(run);
    }
    let ops = grant_ops(&run, &counts_name(run.shard), false);
    go(run, Stage::CountsGrant, ops)
}

/// The shard is written: done, or (not in the index as this container knows it) done with
/// `indexShard`, for the index machine ([`start_index`]), which adds a burst of new shards at once.
fn index_step(run: ShardRun) -> Step<Machine> {
    let shard = run.shard;
    if run.index.shards.contains(&shard) {
        return shard_answer(run, None, json!({}));
    }
    shard_answer(run, None, json!({ "indexShard": shard }))
}

// --- the index document: the shards that exist --------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum IndexStage {
    Read,
    Write,
    Grant,
}

/// Shards being added to the index document (`{shards: [n…]}`, sorted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexRun {
    board_sid: String,
    adding: Vec<u32>,
    memory: IndexMemory,
    stage: IndexStage,
    attempt: u32,
    listed: Vec<u32>,
    sync_reads: u32,
    sync_writes: u32,
}

/// Adds `shards` to the index document, so a board opens only the shards that exist and learns
/// of a new one live; then grants every board identity read on it (once per container).
/// Answers (200) `{error, index, syncReads, syncWrites}`; `index` is what the container keeps.
pub fn start_index(shards: Vec<u32>, memory: Option<IndexMemory>, env: &Env) -> Step<Machine> {
    let (services, _) = match writer_settings(env) {
        Ok(s) => s,
        Err(idle) => return Step::answer(idle.answer()),
    };
    let memory = memory.unwrap_or_default();
    let run = IndexRun {
        board_sid: services.board_sid,
        adding: shards,
        memory,
        stage: IndexStage::Read,
        attempt: 0,
        listed: Vec::new(),
        sync_reads: 0,
        sync_writes: 0,
    };
    if run.adding.iter().all(|n| run.memory.shards.contains(n)) {
        return index_answer(run, None);
    }
    index_read(run)
}

fn index_answer(run: IndexRun, error: Option<String>) -> Step<Machine> {
    Step::answer(Answer::json(
        200,
        json!({
            "error": error,
            "index": run.memory,
            "syncReads": run.sync_reads,
            "syncWrites": run.sync_writes,
        }),
    ))
}

fn index_failed(run: IndexRun, f: &Failure) -> Step<Machine> {
    let shards: Vec<String> = run.adding.iter().map(u32::to_string).collect();
    let error = format!(
        "shard {}: adding it to the index: {} (tried again on its next write)",
        shards.join(", "),
        describe(f)
    );
    index_answer(run, Some(error))
}

fn index_read(mut run: IndexRun) -> Step<Machine> {
    run.sync_reads += 1;
    run.stage = IndexStage::Read;
    let op = Op::FetchSyncDocument {
        service_sid: run.board_sid.clone(),
        document: INDEX_DOCUMENT.to_string(),
    };
    Step::one(Machine::Index(Box::new(run)), op)
}

fn index_grant(mut run: IndexRun) -> Step<Machine> {
    run.memory.shards = run.listed.clone();
    if run.memory.granted {
        return index_answer(run, None);
    }
    let ops: Vec<Op> = readers(false)
        .into_iter()
        .map(|identity| Op::UpdateSyncDocumentPermission {
            service_sid: run.board_sid.clone(),
            document: INDEX_DOCUMENT.to_string(),
            identity: identity.to_string(),
            read: true,
            write: false,
            manage: false,
        })
        .collect();
    run.sync_writes += ops.len() as u32;
    run.stage = IndexStage::Grant;
    Step::all(Machine::Index(Box::new(run)), ops)
}

fn index_resume(mut run: IndexRun, outcomes: Vec<Outcome>) -> Step<Machine> {
    match run.stage {
        IndexStage::Read => match first(outcomes).found() {
            Ok(found) => {
                run.listed = found
                    .as_ref()
                    .and_then(|d| d.pointer("/data/shards"))
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(|n| n.as_u64().and_then(|n| u32::try_from(n).ok()))
                            .collect()
                    })
                    .unwrap_or_default();
                let missing: Vec<u32> = run
                    .adding
                    .iter()
                    .copied()
                    .filter(|n| !run.listed.contains(n))
                    .collect();
                if missing.is_empty() {
                    return index_grant(run);
                }
                run.listed.extend(missing);
                run.listed.sort_unstable();
                run.listed.dedup();
                let data = json!({ "shards": run.listed });
                let op = match found.as_ref().and_then(revision_of) {
                    Some(r) => Op::UpdateSyncDocument {
                        service_sid: run.board_sid.clone(),
                        document: INDEX_DOCUMENT.to_string(),
                        data,
                        ttl: None,
                        if_match: Some(r),
                    },
                    None => Op::CreateSyncDocument {
                        service_sid: run.board_sid.clone(),
                        unique_name: INDEX_DOCUMENT.to_string(),
                        data,
                        ttl: None,
                    },
                };
                run.sync_writes += 1;
                run.stage = IndexStage::Write;
                Step::one(Machine::Index(Box::new(run)), op)
            }
            Err(f) => index_failed(run, &f),
        },
        IndexStage::Write => match first(outcomes).into_result() {
            Ok(_) => index_grant(run),
            // Another container wrote the index meanwhile: read it again (each attempt adds ours).
            Err(f) if lost_race(&f) && run.attempt < INDEX_ATTEMPTS => {
                run.attempt += 1;
                index_read(run)
            }
            Err(f) => index_failed(run, &f),
        },
        IndexStage::Grant => match all_done(outcomes) {
            Ok(()) => {
                run.memory.granted = true;
                index_answer(run, None)
            }
            Err(f) => index_failed(run, &f),
        },
    }
}

// --- agents-live-token ---------------------------------------------------------------------------

/// What `common/auth`'s `wallboardSyncToken` decided about the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Caller {
    pub via: String,
    pub viewer: Value,
    pub ttl_seconds: u32,
}

/// The token request waiting for the service's ACL check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRun {
    body: Value,
    service_sid: String,
}

/// `agents-live-token`: whom the token is for ([`viewer`]), on which service, for how long, and
/// what the page needs to read the view. The service must be the board's own with ACL on (one
/// read). The answer (200) carries `mint: {identity, ttlSeconds, serviceSid}`, which the shim
/// replaces with the signed token (`token`).
pub fn start_token(
    caller: &Caller,
    env: &Env,
    emulator_origin: Option<String>,
    now_ms: f64,
) -> Step<Machine> {
    if given(env, "WALLBOARD_SYNC_SID").is_none() {
        return Step::answer(Answer::json(
            500,
            json!({ "error": not_set("WALLBOARD_SYNC_SID"), "variable": "WALLBOARD_SYNC_SID" }),
        ));
    }
    let Some(service_sid) = board_service(env) else {
        return Step::answer(Answer::json(
            500,
            json!({ "error": "Server misconfigured: WALLBOARD_SYNC_SID is Flex's (or parking's) Sync service; board tokens need a service of their own (npm run deploy creates it)" }),
        ));
    };
    let config = match Config::from_env(env) {
        Ok(c) => c,
        Err(e) => return Step::answer(Answer::error(&e)),
    };
    let who = viewer(&config, caller.via == "wallboardKey");
    let settings: serde_json::Map<String, Value> = PAGE_SETTINGS
        .iter()
        .filter_map(|k| given(env, k).map(|_| (k.to_string(), json!(env.get(*k)))))
        .collect();
    let expires = values::instant::from_millis(now_ms + f64::from(caller.ttl_seconds) * 1000.0)
        .map(values::instant::iso_millis);
    let body = json!({
        "mint": {"identity": who.identity, "ttlSeconds": caller.ttl_seconds, "serviceSid": service_sid},
        "identity": who.identity,
        "names": who.names,
        "viewer": caller.viewer,
        "via": caller.via,
        "ttlSeconds": caller.ttl_seconds,
        "expiresAt": expires,
        "serviceSid": service_sid,
        "shards": config.shards,
        "documentPrefix": DOCUMENT_PREFIX,
        "countsPrefix": COUNTS_PREFIX,
        "indexDocument": INDEX_DOCUMENT,
        "settings": settings,
        "emulatorOrigin": emulator_origin,
    });
    let op = Op::FetchSyncService {
        service_sid: service_sid.clone(),
    };
    Step::one(Machine::Token(TokenRun { body, service_sid }), op)
}

fn token_done(run: TokenRun, outcome: Outcome) -> Step<Machine> {
    match outcome.into_result() {
        Ok(service) if service.get("aclEnabled") == Some(&Value::Bool(true)) => {
            Step::answer(Answer::json(200, run.body))
        }
        Ok(_) => Step::answer(Answer::json(
            500,
            json!({ "error": format!("Server misconfigured: the Sync service WALLBOARD_SYNC_SID ({}) has ACL off, so a board token could read agents' names and write; enable it (npm run deploy does)", run.service_sid) }),
        )),
        Err(f) => Step::answer(f.answer("Reading the wallboard Sync service (WALLBOARD_SYNC_SID)")),
    }
}

// --- wallboard-token -----------------------------------------------------------------------------

/// The queue statistics' Sync map (the realtime stats plugin's name; `crates/queue-stats` writes it).
pub const STATS_MAP: &str = "queueStats";
/// The documents layout's index map (`crates/queue-stats`).
pub const STATS_INDEX: &str = "queueStats.index";

/// What `common/auth`'s `wallboardSyncToken` decided: the identity, its permission, the lifetime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardCaller {
    pub via: String,
    pub viewer: Value,
    pub identity: String,
    pub permission: Permission,
    pub ttl_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub read: bool,
    pub write: bool,
    pub manage: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum BoardStage {
    Service,
    Grant,
}

/// A wallboard token waiting for the service's ACL check, then the root object's grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardTokenRun {
    body: Value,
    service_sid: String,
    root: String,
    identity: String,
    permission: Permission,
    stage: BoardStage,
}

/// `wallboard-token`: the statistics service (`WALLBOARD_SYNC_SID`, neither Flex's nor
/// parking's, ACL on: one read), the layout (`QUEUE_STATS_LAYOUT`), the channels the page shows
/// (`QUEUE_STATS_CHANNELS`, as the statistics writer reads it), and the read grant on the root
/// object again (it heals a grant lost; 404: no statistics yet). The answer (200) carries `mint`
/// for the shim to sign.
pub fn start_wallboard_token(
    caller: &BoardCaller,
    env: &Env,
    emulator_origin: Option<String>,
    now_ms: f64,
) -> Step<Machine> {
    let Some(service_sid) = given(env, "WALLBOARD_SYNC_SID") else {
        return Step::answer(Answer::json(
            500,
            json!({ "error": not_set("WALLBOARD_SYNC_SID"), "variable": "WALLBOARD_SYNC_SID" }),
        ));
    };
    for other in ["TWILIO_FLEX_SYNC_SID", "SYNC_SERVICE_SID"] {
        if given(env, other) == Some(service_sid) {
            return Step::answer(Answer::json(
                500,
                json!({ "error": format!("Server misconfigured: WALLBOARD_SYNC_SID is {other}'s service; board tokens need a service of their own (npm run deploy creates it)") }),
            ));
        }
    }
    let channels =
        match queue_settings::channels(env.get("QUEUE_STATS_CHANNELS").map(String::as_str)) {
            Ok(c) => c,
            Err(e) => return Step::answer(Answer::error(&e)),
        };
    let documents = env.get("QUEUE_STATS_LAYOUT").map(String::as_str) == Some("documents");
    let layout = if documents { "documents" } else { "map" };
    let root = if documents { STATS_INDEX } else { STATS_MAP };
    let p = caller.permission;
    let expires = values::instant::from_millis(now_ms + f64::from(caller.ttl_seconds) * 1000.0)
        .map(values::instant::iso_millis);
    let body = json!({
        "mint": {"identity": caller.identity, "ttlSeconds": caller.ttl_seconds, "serviceSid": service_sid},
        "identity": caller.identity,
        "viewer": caller.viewer,
        "via": caller.via,
        "ttlSeconds": caller.ttl_seconds,
        "expiresAt": expires,
        "serviceSid": service_sid,
        "layout": layout,
        "map": STATS_MAP,
        "index": STATS_INDEX,
        "documentPrefix": format!("{STATS_MAP}."),
        "channels": channels,
        "acl": {"enabled": true, "identity": caller.identity, "read": p.read, "write": p.write, "manage": p.manage},
        // Only with the local emulator (never set in a deployment): where its live-update stand-in is.
        "emulatorOrigin": emulator_origin,
    });
    let run = BoardTokenRun {
        body,
        service_sid: service_sid.to_string(),
        root: root.to_string(),
        identity: caller.identity.clone(),
        permission: p,
        stage: BoardStage::Service,
    };
    let op = Op::FetchSyncService {
        service_sid: run.service_sid.clone(),
    };
    Step::one(Machine::BoardToken(Box::new(run)), op)
}

fn board_token_resume(mut run: BoardTokenRun, outcome: Outcome) -> Step<Machine> {
    match run.stage {
        BoardStage::Service => match outcome.into_result() {
            Ok(service) if service.get("aclEnabled") == Some(&Value::Bool(true)) => {
                run.stage = BoardStage::Grant;
                let op = Op::UpdateSyncMapPermission {
                    service_sid: run.service_sid.clone(),
                    map: run.root.clone(),
                    identity: run.identity.clone(),
                    read: run.permission.read,
                    write: run.permission.write,
                    manage: run.permission.manage,
                };
                Step::one(Machine::BoardToken(Box::new(run)), op)
            }
            Ok(_) => Step::answer(Answer::json(
                500,
                json!({ "error": format!("Server misconfigured: the Sync service WALLBOARD_SYNC_SID ({}) has ACL off, so a board token could write it; enable it (npm run deploy does)", run.service_sid) }),
            )),
            Err(f) => {
                Step::answer(f.answer("Reading the wallboard Sync service (WALLBOARD_SYNC_SID)"))
            }
        },
        // 404: no statistics yet (the writer grants what it creates).
        BoardStage::Grant => match outcome.found() {
            Ok(_) => Step::answer(Answer::json(200, run.body)),
            Err(f) => Step::answer(f.answer("Granting the wallboard read access in Sync")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{READER_IDENTITY, SUPERVISOR_IDENTITY};
    use effects::Effect;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const WK: &str = "WK00000000000000000000000000000001";
    const WQ: &str = "WQ00000000000000000000000000000001";
    const BOARD: &str = "IS00000000000000000000000000000b0a";
    const FLEX: &str = "IS00000000000000000000000000000f1e";
    const WS: &str = "WS00000000000000000000000000000001";
    const T0: f64 = 1_764_763_200_000.0;

    fn env() -> Env {
        [
            ("WALLBOARD_SYNC_SID", BOARD),
            ("TWILIO_FLEX_SYNC_SID", FLEX),
            ("SYNC_SERVICE_SID", FLEX),
            ("TWILIO_FLEX_WORKSPACE_SID", WS),
            ("AGENTS_LIVE_SHARDS", "4"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn event(kind: &str, sid: &str, activity: &str, at: f64) -> Value {
        json!({"EventType": kind, "Sid": sid, "WorkerSid": WK, "WorkerName": "Alice",
            "WorkerAttributes": "{\"team_name\":\"Blue\"}", "WorkerActivityName": activity,
            "EventDateMs": at.to_string()})
    }

    fn failure(status: u16, code: Option<u32>) -> Outcome {
        Outcome::Failed(Failure {
            status: Some(status),
            code,
            message: format!("HTTP {status}"),
            more_info: None,
            attempted: true,
        })
    }

    /// Sync documents with revisions, as Twilio keeps them; `fail` refuses the next operations
    /// of a kind (checked in order).
    #[derive(Default)]
    struct Sync {
        docs: BTreeMap<String, (Value, u64)>,
        grants: Vec<(String, String)>,
        fail: Vec<(&'static str, Outcome)>,
        log: Vec<String>,
    }

    impl Sync {
        fn perform(&mut self, effect: &Effect) -> Outcome {
            let op = serde_json::to_value(&effect.op).unwrap_or(Value::Null);
            let kind = op["kind"].as_str().unwrap_or("").to_string();
            self.log.push(kind.clone());
            if let Some(i) = self.fail.iter().position(|(k, _)| *k == kind) {
                return self.fail.remove(i).1;
            }
            match &effect.op {
                Op::FetchSyncDocument { document, .. } => match self.docs.get(document) {
                    Some((data, rev)) => {
                        Outcome::Done(json!({"data": data, "revision": rev.to_string()}))
                    }
                    None => failure(404, Some(20404)),
                },
                Op::CreateSyncDocument {
                    unique_name, data, ..
                } => {
                    if self.docs.contains_key(unique_name) {
                        return failure(409, Some(54301));
                    }
                    self.docs.insert(unique_name.clone(), (data.clone(), 0));
                    Outcome::Done(json!({"data": data, "revision": "0"}))
                }
                Op::UpdateSyncDocument {
                    document,
                    data,
                    if_match,
                    ..
                } => match self.docs.get_mut(document) {
                    None => failure(404, Some(20404)),
                    Some((_, rev)) if if_match.as_deref() != Some(&rev.to_string()) => {
                        failure(412, Some(54103))
                    }
                    Some(entry) => {
                        *entry = (data.clone(), entry.1 + 1);
                        Outcome::Done(json!({"data": data, "revision": entry.1.to_string()}))
                    }
                },
                Op::UpdateSyncDocumentPermission {
                    document, identity, ..
                } => {
                    self.grants.push((document.clone(), identity.clone()));
                    Outcome::Done(json!({}))
                }
                Op::UpdateSyncMapPermission { .. } => Outcome::Done(json!({})),
                Op::ListTaskQueues { .. } => {
                    Outcome::Done(json!([{"sid": WQ, "friendlyName": "Sales", "x": 1}]))
                }
                Op::ListSyncItems { .. } => failure(404, Some(20404)),
                Op::FetchSyncService { .. } => Outcome::Done(json!({"aclEnabled": true})),
                _ => failure(400, None),
            }
        }

        /// Runs `step` to its answer, the state through JSON between steps as the executor does.
        fn run(&mut self, mut step: Step<Machine>) -> Answer {
            for _ in 0..100 {
                match step {
                    Step::Answer(a) => return a,
                    Step::Run { state, effects } => {
                        let outcomes: Vec<Outcome> =
                            effects.iter().map(|e| self.perform(e)).collect();
                        let wire = serde_json::to_value(&state).expect("state");
                        let back: Machine = serde_json::from_value(wire).expect("reads back");
                        step = resume(back, outcomes, T0 + 5.0);
                    }
                }
            }
            panic!("the machine did not answer");
        }
    }

    fn write_of(a: &Answer) -> (u32, Value) {
        let w = &a.body["write"];
        (
            w["shard"].as_u64().expect("shard") as u32,
            w["input"].clone(),
        )
    }

    /// The shard's memory, and the index's once the shard is in it (as the shim runs them).
    fn memory_of(a: &Answer) -> (ShardMemory, IndexMemory) {
        let shards: Vec<u32> = a.body["indexShard"]
            .as_u64()
            .map(|n| n as u32)
            .into_iter()
            .collect();
        (
            serde_json::from_value(a.body["memory"].clone()).expect("memory"),
            IndexMemory {
                granted: true,
                shards,
            },
        )
    }

    #[test]
    fn off_unless_the_board_has_a_service_of_its_own() {
        let mut e = env();
        e.insert("WALLBOARD_SYNC_SID".into(), FLEX.into());
        let a = start_event(
            &event("worker.created", "EV1", "Available", T0),
            None,
            None,
            &e,
        );
        assert!(a.as_answer().expect("answer").body["off"]
            .as_str()
            .expect("off")
            .starts_with("WALLBOARD_SYNC_SID is not set"));
        let mut e = env();
        e.insert("AGENTS_LIVE_ENABLED".into(), " FALSE ".into());
        let a = start_event(
            &event("worker.created", "EV1", "Available", T0),
            None,
            None,
            &e,
        );
        assert_eq!(
            a.as_answer().expect("answer").body,
            json!({"off": "AGENTS_LIVE_ENABLED is false"})
        );
        let mut e = env();
        e.remove("TWILIO_FLEX_WORKSPACE_SID");
        let a = start_event(
            &event("worker.created", "EV1", "Available", T0),
            None,
            None,
            &e,
        );
        assert!(a.as_answer().expect("answer").body["error"]
            .as_str()
            .expect("error")
            .contains("TWILIO_FLEX_WORKSPACE_SID is not set"));
        // The canonical name works as well as the alias; two different values are refused.
        let mut e = env();
        let ws = e.remove("TWILIO_FLEX_WORKSPACE_SID").expect("set");
        e.insert("WORKSPACE_SID".into(), ws);
        assert_eq!(
            writer_settings(&e).map(|(s, _)| s.workspace_sid),
            Ok(WS.to_string())
        );
        e.insert("TWILIO_FLEX_WORKSPACE_SID".into(), "WS0".into());
        assert!(
            matches!(writer_settings(&e), Err(Idle::Error(m)) if m.contains("set only WORKSPACE_SID"))
        );
        assert_eq!(board_service(&env()).as_deref(), Some(BOARD));
    }

    #[test]
    fn an_events_summary_adds_its_shards_and_the_indexs_reads_writes_and_errors() {
        let event = json!({"plan": {"action": "apply"}, "taskrouterCalls": 1, "syncReads": 1,
            "syncWrites": 0, "errors": ["reading: x"], "write": {"shard": 2, "input": {}}});
        let written = json!({"error": null, "syncReads": 1, "syncWrites": 3, "indexShard": 2});
        let indexed =
            json!({"error": "shard 2: adding it to the index: y", "syncReads": 1, "syncWrites": 1});
        assert_eq!(
            summary(&event, &written, &indexed),
            json!({"plan": {"action": "apply"}, "taskrouterCalls": 1, "syncReads": 3, "syncWrites": 4,
                "errors": ["reading: x", "shard 2: adding it to the index: y"]})
        );
        // Another event's batch answers the shard's error only; no index run answers {}.
        let out = summary(&event, &json!({"error": "shard 2: z"}), &json!({}));
        assert_eq!(out["syncReads"], json!(1));
        assert_eq!(out["errors"], json!(["reading: x", "shard 2: z"]));
        // Whatever the answers, a summary (nothing that is not an object adds anything).
        let odd = summary(&json!("x"), &json!([1]), &json!({"syncReads": -1}));
        assert_eq!(odd, json!("x"));
        let none = summary(
            &json!({}),
            &json!(null),
            &json!({"syncReads": "2", "error": 5}),
        );
        assert_eq!(none, json!({"syncReads": 0, "syncWrites": 0, "errors": []}));
    }

    #[test]
    fn each_writers_answer_is_kept_under_its_machine_and_a_tokens_is_not() {
        let Step::Run { state, .. } = start_index(vec![1], None, &env()) else {
            panic!("the index is read");
        };
        assert_eq!(state.kept_as(), json!({"index": true}));
        let Step::Run { state, .. } = start_shard(1, vec![], None, None, &env(), T0) else {
            panic!("the shard is read");
        };
        assert_eq!(state.kept_as(), json!({"shard": 1}));
        let e = event("worker.activity.update", "EV1", "Available", T0);
        let Step::Run { state, .. } = start_event(&e, None, None, &env()) else {
            panic!("the worker's queues are read");
        };
        assert_eq!(state.kept_as(), json!({ "event": e }));
        let token = Machine::Token(TokenRun {
            body: json!({}),
            service_sid: BOARD.into(),
        });
        assert_eq!(token.kept_as(), Value::Null);
    }

    #[test]
    fn an_event_reads_the_workers_queues_and_goes_to_its_shard() {
        let mut sync = Sync::default();
        let ignored = sync.run(start_event(
            &json!({"EventType": "task.created"}),
            None,
            None,
            &env(),
        ));
        assert_eq!(ignored.body["plan"]["action"], json!("ignore"));
        assert!(ignored.body.get("write").is_none());
        assert!(sync.log.is_empty());

        let a = sync.run(start_event(
            &event("worker.created", "EV1", "Available", T0),
            None,
            None,
            &env(),
        ));
        assert_eq!(sync.log, ["listTaskQueues"]);
        assert_eq!(a.body["taskrouterCalls"], json!(1));
        assert_eq!(a.body["membershipKnown"], json!(true));
        let (shard, input) = write_of(&a);
        assert_eq!(shard, crate::shard_of(WK, 4));
        assert_eq!(
            input["fetched"]["queues"],
            json!([{"sid": WQ, "friendlyName": "Sales"}])
        );

        // Known queues (fresh): nothing read; a failed read is noted and the event still goes.
        let a = sync.run(start_event(
            &event("worker.activity.update", "EV2", "Break", T0),
            Some(1000.0),
            None,
            &env(),
        ));
        assert_eq!(sync.log.len(), 1);
        assert_eq!(a.body["membershipKnown"], json!(false));
        sync.fail
            .push(("listTaskQueues", failure(503, Some(20003))));
        let a = sync.run(start_event(
            &event("worker.created", "EV3", "Break", T0),
            None,
            None,
            &env(),
        ));
        assert_eq!(
            a.body["errors"],
            json!(["reading the worker's queues or parked calls: HTTP 503 (20003)"])
        );
        assert!(a.body.get("write").is_some());
    }

    fn shard_run(
        sync: &mut Sync,
        memory: Option<ShardMemory>,
        index: Option<IndexMemory>,
        events: Vec<Value>,
    ) -> Answer {
        let inputs = events
            .into_iter()
            .map(|e| json!({"event": e, "fetched": {"queues": [{"sid": WQ, "friendlyName": "Sales"}]}}))
            .collect();
        sync.run(start_shard(
            crate::shard_of(WK, 4),
            inputs,
            memory,
            index,
            &env(),
            T0,
        ))
    }

    #[test]
    fn a_cold_shard_is_read_written_granted_counted_and_indexed_then_only_written() {
        let mut sync = Sync::default();
        let n = crate::shard_of(WK, 4);
        let a = shard_run(
            &mut sync,
            None,
            None,
            vec![event("worker.created", "EV1", "Available", T0)],
        );
        assert_eq!(a.body["error"], Value::Null);
        assert_eq!(
            sync.log,
            [
                "fetchSyncDocument",
                "createSyncDocument",
                "updateSyncDocumentPermission",
                "createSyncDocument",
                "updateSyncDocumentPermission",
                "updateSyncDocumentPermission",
            ]
        );
        assert_eq!(a.body["syncReads"], json!(1));
        assert_eq!(a.body["syncWrites"], json!(5));
        assert_eq!(a.body["indexShard"], json!(n));
        // The index machine adds it (and a burst of others at once), then grants the board.
        sync.log.clear();
        let i = sync.run(start_index(vec![n, n + 1], None, &env()));
        assert_eq!(i.body["error"], Value::Null);
        assert_eq!(
            sync.log,
            [
                "fetchSyncDocument",
                "createSyncDocument",
                "updateSyncDocumentPermission",
                "updateSyncDocumentPermission"
            ]
        );
        assert_eq!(sync.docs[INDEX_DOCUMENT].0, json!({"shards": [n, n + 1]}));
        let index: IndexMemory = serde_json::from_value(i.body["index"].clone()).expect("index");
        assert_eq!(
            index,
            IndexMemory {
                granted: true,
                shards: vec![n, n + 1]
            }
        );
        // Known: nothing asked.
        sync.log.clear();
        sync.run(start_index(vec![n], Some(index.clone()), &env()));
        assert!(sync.log.is_empty());
        // Another container added one meanwhile: If-Match refuses, read again, add ours.
        sync.docs
            .insert(INDEX_DOCUMENT.into(), (json!({"shards": [0]}), 7));
        sync.fail
            .push(("updateSyncDocument", failure(412, Some(54103))));
        let i = sync.run(start_index(
            vec![3],
            Some(IndexMemory {
                granted: true,
                shards: vec![],
            }),
            &env(),
        ));
        assert_eq!(i.body["error"], Value::Null);
        assert_eq!(sync.docs[INDEX_DOCUMENT].0, json!({"shards": [0, 3]}));
        sync.fail.push(("fetchSyncDocument", failure(500, None)));
        let i = sync.run(start_index(vec![2], None, &env()));
        assert_eq!(
            i.body["error"],
            json!("shard 2: adding it to the index: HTTP 500 (tried again on its next write)")
        );
        sync.log.clear();
        assert!(sync.docs[&document_name(n)].0["agents"][WK].is_object());
        // Names only for the supervisor identity; counts and index for both.
        assert!(sync
            .grants
            .contains(&(document_name(n), SUPERVISOR_IDENTITY.into())));
        assert!(!sync
            .grants
            .contains(&(document_name(n), READER_IDENTITY.into())));
        assert!(sync
            .grants
            .contains(&(counts_name(n), READER_IDENTITY.into())));
        let (memory, index) = memory_of(&a);
        assert!(memory.loaded && memory.granted && memory.counts_granted && index.granted);

        // Warm: the next change writes the shard (If-Match) and its counts, nothing else.
        sync.log.clear();
        let a = shard_run(
            &mut sync,
            Some(memory),
            Some(index),
            vec![event("worker.activity.update", "EV2", "Break", T0 + 1.0)],
        );
        assert_eq!(a.body["error"], Value::Null);
        assert_eq!(sync.log, ["updateSyncDocument", "updateSyncDocument"]);
        assert_eq!(
            sync.docs[&document_name(n)].0["agents"][WK]["a"],
            json!("Break")
        );
        // A duplicate changes nothing and writes nothing.
        sync.log.clear();
        let (memory, index) = memory_of(&a);
        let a = shard_run(
            &mut sync,
            Some(memory),
            Some(index),
            vec![event("worker.activity.update", "EV2", "Break", T0 + 1.0)],
        );
        assert!(sync.log.is_empty());
        assert_eq!(a.body["applied"], json!(0));
    }

    #[test]
    fn another_writer_first_means_read_again_and_apply_again() {
        let mut sync = Sync::default();
        let n = crate::shard_of(WK, 4);
        let a = shard_run(
            &mut sync,
            None,
            None,
            vec![event("worker.created", "EV1", "Available", T0)],
        );
        let (memory, index) = memory_of(&a);
        // Someone else wrote the shard meanwhile (a second container).
        if let Some(doc) = sync.docs.get_mut(&document_name(n)) {
            doc.1 += 1;
        }
        sync.log.clear();
        let a = shard_run(
            &mut sync,
            Some(memory),
            Some(index),
            vec![event("worker.activity.update", "EV2", "Lunch", T0 + 1.0)],
        );
        assert_eq!(a.body["error"], Value::Null);
        assert_eq!(
            sync.log[..3],
            [
                "updateSyncDocument",
                "fetchSyncDocument",
                "updateSyncDocument"
            ]
        );
        assert_eq!(
            sync.docs[&document_name(n)].0["agents"][WK]["a"],
            json!("Lunch")
        );
    }

    #[test]
    fn a_failed_write_keeps_the_events_for_the_shards_next_write() {
        let mut sync = Sync::default();
        let n = crate::shard_of(WK, 4);
        let a = shard_run(
            &mut sync,
            None,
            None,
            vec![event("worker.created", "EV1", "Available", T0)],
        );
        let (memory, index) = memory_of(&a);
        sync.fail
            .push(("updateSyncDocument", failure(500, Some(20500))));
        let a = shard_run(
            &mut sync,
            Some(memory),
            Some(index),
            vec![event("worker.activity.update", "EV2", "Break", T0 + 1.0)],
        );
        assert_eq!(
            a.body["error"],
            json!(format!(
                "shard {n}: HTTP 500 (20500) (kept for the shard's next write)"
            ))
        );
        let (memory, index) = memory_of(&a);
        assert_eq!((memory.loaded, memory.carry.len()), (false, 1));
        let a = shard_run(
            &mut sync,
            Some(memory),
            Some(index),
            vec![event("worker.activity.update", "EV3", "Lunch", T0 + 2.0)],
        );
        assert_eq!(a.body["error"], Value::Null);
        assert_eq!(a.body["applied"], Value::Null);
        let (memory, _) = memory_of(&a);
        assert!(memory.carry.is_empty());
        let agent = &sync.docs[&document_name(n)].0["agents"][WK];
        assert_eq!(agent["a"], json!("Lunch"));
    }

    #[test]
    fn counts_of_an_older_shard_version_never_replace_newer_ones() {
        let mut sync = Sync::default();
        let a = shard_run(
            &mut sync,
            None,
            None,
            vec![event("worker.created", "EV1", "Available", T0)],
        );
        let (mut memory, index) = memory_of(&a);
        memory.counts_seq = Some(1_000);
        sync.log.clear();
        shard_run(
            &mut sync,
            Some(memory),
            Some(index),
            vec![event("worker.activity.update", "EV2", "Break", T0 + 1.0)],
        );
        assert_eq!(sync.log, ["updateSyncDocument"]);
    }

    #[test]
    fn the_token_names_the_viewer_and_needs_the_acl() {
        let caller = |via: &str| Caller {
            via: via.into(),
            viewer: json!("sue"),
            ttl_seconds: 60,
        };
        let mut sync = Sync::default();
        let a = sync.run(start_token(&caller("flexToken"), &env(), None, T0));
        assert_eq!(a.status, 200);
        assert_eq!(
            a.body["mint"],
            json!({"identity": SUPERVISOR_IDENTITY, "ttlSeconds": 60, "serviceSid": BOARD})
        );
        assert_eq!(a.body["names"], json!(true));
        assert_eq!(a.body["expiresAt"], json!("2025-12-03T12:01:00.000Z"));
        assert_eq!(a.body["shards"], json!(4));
        assert_eq!(a.body["settings"], json!({}));
        let a = sync.run(start_token(
            &caller("wallboardKey"),
            &env(),
            Some("http://x".into()),
            T0,
        ));
        assert_eq!(a.body["identity"], json!(READER_IDENTITY));
        assert_eq!(a.body["emulatorOrigin"], json!("http://x"));

        sync.fail.push((
            "fetchSyncService",
            Outcome::Done(json!({"aclEnabled": false})),
        ));
        let a = sync.run(start_token(&caller("flexToken"), &env(), None, T0));
        assert_eq!(a.status, 500);
        assert!(a.body["error"]
            .as_str()
            .expect("error")
            .contains("has ACL off"));
        sync.fail
            .push(("fetchSyncService", failure(404, Some(20404))));
        let a = sync.run(start_token(&caller("flexToken"), &env(), None, T0));
        assert_eq!(a.status, 404);
        let mut e = env();
        e.insert("WALLBOARD_SYNC_SID".into(), FLEX.into());
        let a = sync.run(start_token(&caller("flexToken"), &e, None, T0));
        assert_eq!(a.status, 500);
        e.remove("WALLBOARD_SYNC_SID");
        let a = sync.run(start_token(&caller("flexToken"), &e, None, T0));
        assert_eq!(a.body["variable"], json!("WALLBOARD_SYNC_SID"));
    }

    #[test]
    fn the_wallboard_token_checks_the_service_grants_the_root_and_names_the_channels() {
        let caller = BoardCaller {
            via: "wallboardKey".into(),
            viewer: json!("wallboard-key"),
            identity: READER_IDENTITY.into(),
            permission: Permission {
                read: true,
                write: false,
                manage: false,
            },
            ttl_seconds: 3600,
        };
        let mut sync = Sync::default();
        let a = sync.run(start_wallboard_token(&caller, &env(), None, T0));
        assert_eq!(a.status, 200);
        assert_eq!(sync.log, ["fetchSyncService", "updateSyncMapPermission"]);
        assert_eq!(a.body["channels"], json!(["voice", "chat", "video"]));
        assert_eq!(a.body["layout"], json!("map"));
        assert_eq!(
            a.body["acl"],
            json!({"enabled": true, "identity": READER_IDENTITY, "read": true, "write": false, "manage": false})
        );
        assert_eq!(
            a.body["mint"],
            json!({"identity": READER_IDENTITY, "ttlSeconds": 3600, "serviceSid": BOARD})
        );
        // No statistics yet (404 on the grant): still a token.
        sync.fail
            .push(("updateSyncMapPermission", failure(404, Some(20404))));
        let mut e = env();
        e.insert("QUEUE_STATS_CHANNELS".into(), "sms, Voice".into());
        e.insert("QUEUE_STATS_LAYOUT".into(), "documents".into());
        let a = sync.run(start_wallboard_token(&caller, &e, None, T0));
        assert_eq!(a.status, 200);
        assert_eq!(a.body["channels"], json!(["sms", "voice"]));
        assert_eq!(a.body["layout"], json!("documents"));
        sync.fail
            .push(("updateSyncMapPermission", failure(403, Some(20403))));
        assert_eq!(
            sync.run(start_wallboard_token(&caller, &env(), None, T0))
                .status,
            500
        );
        // A bad channel list is the setting's error; Flex's service is refused.
        e.insert("QUEUE_STATS_CHANNELS".into(), "voice,".repeat(3) + "a b");
        let a = sync.run(start_wallboard_token(&caller, &e, None, T0));
        assert_eq!(
            (a.status, a.body["parameter"].clone()),
            (500, json!("QUEUE_STATS_CHANNELS"))
        );
        let mut e = env();
        e.insert("WALLBOARD_SYNC_SID".into(), FLEX.into());
        let a = sync.run(start_wallboard_token(&caller, &e, None, T0));
        assert!(a.body["error"]
            .as_str()
            .expect("error")
            .contains("WALLBOARD_SYNC_SID is TWILIO_FLEX_SYNC_SID's service"));
        sync.fail.push((
            "fetchSyncService",
            Outcome::Done(json!({"aclEnabled": false})),
        ));
        let a = sync.run(start_wallboard_token(&caller, &env(), None, T0));
        assert!(a.body["error"]
            .as_str()
            .expect("error")
            .contains("has ACL off, so a board token could write it"));
    }

    proptest! {
        #[test]
        fn any_outcomes_end_the_writer_without_a_panic(codes in proptest::collection::vec(0u16..6, 0..40)) {
            let inputs = vec![json!({"event": event("worker.created", "EV1", "Available", T0)})];
            let mut step = start_shard(crate::shard_of(WK, 4), inputs, None, None, &env(), T0);
            let mut codes = codes.into_iter();
            for _ in 0..200 {
                match step {
                    Step::Answer(a) => { prop_assert_eq!(a.status, 200); return Ok(()); }
                    Step::Run { state, effects } => {
                        let outcomes = effects.iter().map(|_| match codes.next().unwrap_or(0) {
                            0 => Outcome::Done(json!({"revision": "3", "data": {"seq": 2, "shards": [1]}})),
                            1 => failure(404, None),
                            2 => failure(412, Some(54103)),
                            3 => failure(409, Some(54301)),
                            4 => failure(500, None),
                            _ => Outcome::Done(Value::Null),
                        }).collect();
                        step = resume(state, outcomes, T0);
                    }
                }
            }
            prop_assert!(false, "no answer");
        }
    }
}
