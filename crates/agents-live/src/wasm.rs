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

// --- the machines (crate::machine), driven by functions/common/effects ---------------------------
//
// startAgentsLiveEvent(event, knownQueues | null, env, Date.now())
// startAgentsLiveShard(shard, inputs, env, Date.now())
// startAgentsLiveIndex([shard], env)
// agentsLiveKeep({event} | {shard} | {index: true}, answerBody, Date.now())  // what the answer says to keep
// startAgentsLiveToken({via, viewer, ttlSeconds}, env, emulatorOrigin | null, Date.now())
// startWallboardToken({via, viewer, identity, permission, ttlSeconds}, env, emulatorOrigin | null, Date.now())
//   // each -> {state, run: [effect]} | {answer: {status, body}}; never throws
// resumeAgentsLive(state, [outcome], Date.now())   // the next step (never throws)

use crate::kept::Kept;
use crate::machine::{self, BoardCaller, Caller, Machine};
use effects::{Answer, Outcome, Step};
use std::cell::RefCell;

// The container's memory (crate::kept): this module instance's. A trap reloads the module and
// starts it empty, which the machines work from (they read Sync again).
thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(Kept::default());
}

fn kept<T>(f: impl FnOnce(&mut Kept) -> T) -> T {
    KEPT.with(|k| f(&mut k.borrow_mut()))
}

/// A machine's environment: only the string settings count (anything unreadable is none).
fn env_of(env: JsValue) -> crate::config::Env {
    let env: Value = serde_wasm_bindgen::from_value(env).unwrap_or(Value::Null);
    crate::config::env_of(&env)
}

fn unreadable(what: &str) -> JsValue {
    to_js(&Step::<Machine>::answer(Answer::json(
        200,
        serde_json::json!({ "error": format!("the live agents view was handed {what} it cannot read") }),
    )))
}

#[wasm_bindgen(js_name = startAgentsLiveEvent)]
pub fn start_agents_live_event(
    event: JsValue,
    known_queues: JsValue,
    env: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let event: Value = serde_wasm_bindgen::from_value(event).unwrap_or(Value::Null);
    let known: Option<Value> = serde_wasm_bindgen::from_value(known_queues).unwrap_or(None);
    let age = kept(|k| k.membership_age(&event, now_ms));
    Ok(to_js(&machine::start_event(
        &event,
        age,
        known,
        &env_of(env),
    )))
}

#[wasm_bindgen(js_name = startAgentsLiveShard)]
pub fn start_agents_live_shard(
    shard: u32,
    inputs: JsValue,
    env: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let inputs: Option<Vec<Value>> = serde_wasm_bindgen::from_value(inputs).ok();
    let (memory, index) = kept(|k| (k.shard(shard), k.index()));
    Ok(match inputs {
        Some(inputs) => to_js(&machine::start_shard(
            shard,
            inputs,
            memory,
            index,
            &env_of(env),
            now_ms,
        )),
        None => unreadable("events"),
    })
}

#[wasm_bindgen(js_name = startAgentsLiveIndex)]
pub fn start_agents_live_index(shards: Vec<u32>, env: JsValue) -> Result<JsValue, JsValue> {
    let memory = kept(|k| k.index());
    Ok(to_js(&machine::start_index(shards, memory, &env_of(env))))
}

/// Keeps what a machine's answer body says to (`crate::kept::Kept::keep`): `what` is `{event}`
/// for the event machine's, `{shard: n}` for a shard's, `{index: true}` for the index's.
#[wasm_bindgen(js_name = agentsLiveKeep)]
pub fn agents_live_keep(what: JsValue, body: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let what: Value = from_js(what, "what to keep")?;
    let body: Value = from_js(body, "answer body")?;
    kept(|k| k.keep(&what, &body, now_ms));
    Ok(JsValue::UNDEFINED)
}

#[wasm_bindgen(js_name = startAgentsLiveToken)]
pub fn start_agents_live_token(
    caller: JsValue,
    env: JsValue,
    emulator_origin: Option<String>,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    Ok(match serde_wasm_bindgen::from_value::<Caller>(caller) {
        Ok(caller) => to_js(&machine::start_token(
            &caller,
            &env_of(env),
            emulator_origin,
            now_ms,
        )),
        Err(_) => unreadable("a caller"),
    })
}

/// `wallboard-token` (`machine::start_wallboard_token`): caller = common/auth's plan.
#[wasm_bindgen(js_name = startWallboardToken)]
pub fn start_wallboard_token(
    caller: JsValue,
    env: JsValue,
    emulator_origin: Option<String>,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    Ok(
        match serde_wasm_bindgen::from_value::<BoardCaller>(caller) {
            Ok(caller) => to_js(&machine::start_wallboard_token(
                &caller,
                &env_of(env),
                emulator_origin,
                now_ms,
            )),
            Err(_) => unreadable("a caller"),
        },
    )
}

#[wasm_bindgen(js_name = resumeAgentsLive)]
pub fn resume_agents_live(
    state: JsValue,
    outcomes: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<Outcome>, _> = from_js(outcomes, "outcomes");
    Ok(match (machine, outcomes) {
        (Ok(m), Ok(o)) => to_js(&machine::resume(m, o, now_ms)),
        _ => to_js(&Step::<Machine>::answer(machine::unreadable_state())),
    })
}

/// The settings the machines read (`crate::SETTINGS`): what the functions hand them.
#[wasm_bindgen(js_name = agentsLiveSettings)]
pub fn agents_live_settings() -> Result<JsValue, JsValue> {
    wasm_face::to_js(crate::SETTINGS)
}

/// The board's own Sync service, or null (unset, or Flex's or parking's): `machine::board_service`.
#[wasm_bindgen(js_name = agentsLiveBoardService)]
pub fn agents_live_board_service(env: JsValue) -> Option<String> {
    machine::board_service(&env_of(env))
}
