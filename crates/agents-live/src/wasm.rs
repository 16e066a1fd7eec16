//! The wasm face for the functions (`functions/common/agents-live.private.js`).
//!
//! ```js
//! const al = new wasm.AgentsLive(process.env);   // throws {code, message, parameter} naming a bad variable
//! al.settings();                                 // {shards, keyShowsNames, documentPrefix, countsPrefix, readerIdentity, supervisorIdentity}
//! al.plan(event, membershipAgeMs | null);        // {action, reason, workerSid, shard, document, countsDocument, fetchQueues, fetchParked}
//! al.apply(shard, storedJson | null, inputsJson, Date.now());
//!   // inputsJson: JSON text of [{event, fetched: {queues?: [{sid, friendlyName}], parked?: [item data]}}]
//!   // -> {changed, document, bytes, cost, countsChanged, counts, countsBytes, countsCost, applied, ignored, tooLarge}
//! al.viewer(viaKey);                             // {identity, names}
//! al.readers(isShardDocument);                   // identities to grant read
//! al.writeCost(bytes);
//! ```
//! Stored documents cross as JSON text, so numbers keep their kind.

use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js};

use crate::{apply_batch, plan, readers, viewer, write_cost, Config, Input};

use wasm_face::to_js_value as to_js;

#[wasm_bindgen]
pub struct AgentsLive {
    config: Config,
}

#[wasm_bindgen]
impl AgentsLive {
    #[wasm_bindgen(constructor)]
    pub fn new(env: JsValue) -> Result<AgentsLive, JsValue> {
        let env: Value = from_js(env, "environment")?;
        let env = crate::config::env_of(&env);
        Config::from_env(&env)
            .map(|config| AgentsLive { config })
            .map_err(fail)
    }

    pub fn settings(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&serde_json::json!({
            "shards": self.config.shards,
            "keyShowsNames": self.config.key_shows_names,
            "documentPrefix": crate::DOCUMENT_PREFIX,
            "countsPrefix": crate::COUNTS_PREFIX,
            "indexDocument": crate::INDEX_DOCUMENT,
            "readerIdentity": crate::READER_IDENTITY,
            "supervisorIdentity": crate::SUPERVISOR_IDENTITY,
        })))
    }

    /// Never throws: a malformed event is an `ignore` plan with its reason.
    pub fn plan(&self, event: JsValue, membership_age_ms: Option<f64>) -> Result<JsValue, JsValue> {
        let event: Value = serde_wasm_bindgen::from_value(event).unwrap_or(Value::Null);
        Ok(to_js(&plan(&self.config, &event, membership_age_ms)))
    }

    pub fn apply(
        &self,
        shard: u32,
        stored: Option<String>,
        inputs: &str,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let stored: Option<Value> = stored.and_then(|s| serde_json::from_str(&s).ok());
        let inputs: Vec<Input> = serde_json::from_str(inputs).unwrap_or_default();
        Ok(to_js(&apply_batch(
            &self.config,
            shard,
            stored.as_ref(),
            &inputs,
            now_ms,
        )))
    }

    pub fn viewer(&self, via_key: bool) -> Result<JsValue, JsValue> {
        Ok(to_js(&viewer(&self.config, via_key)))
    }

    pub fn readers(&self, document: bool) -> Result<JsValue, JsValue> {
        Ok(to_js(&readers(document)))
    }

    #[wasm_bindgen(js_name = writeCost)]
    pub fn write_cost(&self, bytes: usize) -> f64 {
        write_cost(bytes)
    }
}

// --- the machines (crate::machine), run by functions/common/wasm's `machines` --------------------
//
// Each start gets the runner's input {env, nowMs, owner, run, nonce} and its own fields:
// startAgentsLiveEvent({event, knownQueues?})
// startAgentsLiveShard({shard, inputs})
// startAgentsLiveIndex({shards})
// startAgentsLiveToken({caller: {via, viewer, ttlSeconds}, origin: emulatorOrigin | null})
// startWallboardToken({caller: {via, viewer, identity, permission, ttlSeconds}, origin})
//   // each -> {state, run: [effect]} | {answer: {status, body}}; never throws
// resumeAgentsLive(state, [outcome], Date.now())   // the next step (never throws)
// agentsLiveSummary(eventAnswer, shardAnswer, indexAnswer)   // one event's summary
//
// An answer of the event, shard or index machine is kept (crate::kept) before it leaves.

use crate::kept::Kept;
use crate::machine::{self, BoardCaller, Caller, Machine};
use effects::{Answer, Outcome, Step};
use serde::Deserialize;
use std::cell::RefCell;

// The container's memory (crate::kept): this module instance's. A trap reloads the module and
// starts it empty, which the machines work from (they read Sync again).
thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(Kept::default());
}

fn kept<T>(f: impl FnOnce(&mut Kept) -> T) -> T {
    KEPT.with(|k| f(&mut k.borrow_mut()))
}

/// What the runner hands a start (fields another machine's start reads are left out).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Start {
    env: Value,
    now_ms: f64,
    event: Value,
    known_queues: Option<Value>,
    shard: Option<u32>,
    inputs: Option<Vec<Value>>,
    shards: Option<Vec<u32>>,
    caller: Value,
    origin: Option<String>,
}

fn input_of(input: JsValue) -> Option<Start> {
    serde_wasm_bindgen::from_value(input).ok()
}

fn unreadable(what: &str) -> Result<JsValue, JsValue> {
    Ok(to_js(&Step::<Machine>::answer(Answer::json(
        200,
        serde_json::json!({ "error": format!("the live agents view was handed {what} it cannot read") }),
    ))))
}

/// The step, once what its answer says is kept (`what`: `Machine::kept_as`).
fn settled(what: &Value, step: Step<Machine>, now_ms: f64) -> Result<JsValue, JsValue> {
    Ok(to_js(&kept(|k| k.settle(what, step, now_ms))))
}

#[wasm_bindgen(js_name = startAgentsLiveEvent)]
pub fn start_agents_live_event(input: JsValue) -> Result<JsValue, JsValue> {
    let Some(i) = input_of(input) else {
        return unreadable("an event");
    };
    let age = kept(|k| k.membership_age(&i.event, i.now_ms));
    let env = crate::config::env_of(&i.env);
    let step = machine::start_event(&i.event, age, i.known_queues, &env);
    settled(&serde_json::json!({ "event": i.event }), step, i.now_ms)
}

#[wasm_bindgen(js_name = startAgentsLiveShard)]
pub fn start_agents_live_shard(input: JsValue) -> Result<JsValue, JsValue> {
    let Some(i) = input_of(input) else {
        return unreadable("events");
    };
    let (Some(shard), Some(inputs)) = (i.shard, i.inputs) else {
        return unreadable("events");
    };
    let (memory, index) = kept(|k| (k.shard(shard), k.index()));
    let env = crate::config::env_of(&i.env);
    let step = machine::start_shard(shard, inputs, memory, index, &env, i.now_ms);
    settled(&serde_json::json!({ "shard": shard }), step, i.now_ms)
}

#[wasm_bindgen(js_name = startAgentsLiveIndex)]
pub fn start_agents_live_index(input: JsValue) -> Result<JsValue, JsValue> {
    let Some(i) = input_of(input) else {
        return unreadable("shards");
    };
    let Some(shards) = i.shards else {
        return unreadable("shards");
    };
    let memory = kept(|k| k.index());
    let step = machine::start_index(shards, memory, &crate::config::env_of(&i.env));
    settled(&serde_json::json!({ "index": true }), step, i.now_ms)
}

#[wasm_bindgen(js_name = startAgentsLiveToken)]
pub fn start_agents_live_token(input: JsValue) -> Result<JsValue, JsValue> {
    let Some(i) = input_of(input) else {
        return unreadable("a caller");
    };
    match serde_json::from_value::<Caller>(i.caller) {
        Ok(caller) => Ok(to_js(&machine::start_token(
            &caller,
            &crate::config::env_of(&i.env),
            i.origin,
            i.now_ms,
        ))),
        Err(_) => unreadable("a caller"),
    }
}

/// `wallboard-token` (`machine::start_wallboard_token`): caller = common/auth's plan.
#[wasm_bindgen(js_name = startWallboardToken)]
pub fn start_wallboard_token(input: JsValue) -> Result<JsValue, JsValue> {
    let Some(i) = input_of(input) else {
        return unreadable("a caller");
    };
    match serde_json::from_value::<BoardCaller>(i.caller) {
        Ok(caller) => Ok(to_js(&machine::start_wallboard_token(
            &caller,
            &crate::config::env_of(&i.env),
            i.origin,
            i.now_ms,
        ))),
        Err(_) => unreadable("a caller"),
    }
}

/// One event's summary from its machines' answers (`machine::summary`).
#[wasm_bindgen(js_name = agentsLiveSummary)]
pub fn agents_live_summary(
    event: JsValue,
    written: JsValue,
    indexed: JsValue,
) -> Result<JsValue, JsValue> {
    let event: Value = from_js(event, "the event's answer")?;
    let written: Value = from_js(written, "the shard's answer")?;
    let indexed: Value = from_js(indexed, "the index's answer")?;
    Ok(to_js(&machine::summary(&event, &written, &indexed)))
}

#[wasm_bindgen(js_name = resumeAgentsLive)]
pub fn resume_agents_live(
    state: JsValue,
    outcomes: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<Outcome>, _> = from_js(outcomes, "outcomes");
    match (machine, outcomes) {
        (Ok(m), Ok(o)) => {
            let what = m.kept_as();
            settled(&what, machine::resume(m, o, now_ms), now_ms)
        }
        _ => Ok(to_js(&Step::<Machine>::answer(machine::unreadable_state()))),
    }
}

/// The settings the machines read (`crate::SETTINGS`): what the functions hand them.
#[wasm_bindgen(js_name = agentsLiveSettings)]
pub fn agents_live_settings() -> Result<JsValue, JsValue> {
    wasm_face::to_js(crate::SETTINGS)
}
