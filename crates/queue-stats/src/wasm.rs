//! The wasm face of the crate: plain JS values in, plain JS objects out.
//!
//! ```js
//! const qs = new wasm.QueueStats(process.env);          // throws {code, message} naming a bad variable
//! qs.layout();                                           // "map" | "documents"
//! qs.plan(event);                                        // {action, queueSid?, channels?, workerSid?, reason}
//! qs.statisticsParams(Date.now());                       // {startDate, splitByWaitTime}
//! qs.build({queue: {sid, friendlyName}, previous, fetched: [{channel, response, error}]}, Date.now());
//!                                                        // {key, record, changed, bytes, omitted, errors}
//! qs.applyBulk({queues: [{sid, friendlyName}], previous: {sid: record}, response}, Date.now());
//!                                                        // [{key, record, changed, ...}] for each queue in the response
//! qs.batches(sids);                                      // [[sid x <= 50], ...]
//! qs.writePlan({queueSid, record, changed, known: 'read'|'cached'|'absent', gone, deletedHere, indexConfirmed});
//!                                                        // {action: 'skip'|'write'|'remove', ...} (see the write module)
//! qs.startStore({queueSid, record, changed, known, revision, fetched, deletedHere, indexConfirmed},
//!               {syncServiceSid});              // the store machine's first step (docs/effects.md)
//! qs.startRemove(queueSid, {syncServiceSid});  // a deleted queue's removal
//! qs.startBoardCopy({queueSid, plan, granted, mirrored}, {serviceSid, identity, read, write, manage});
//! qs.startBoardRemove(queueSid, {serviceSid, identity, read, write, manage});
//! resumeQueueStats(state, [outcome], Date.now()) // the next step (never throws)
//! qs.isGone(fetched);                            // every Statistics call answered 404
//! qs.writeCost(bytes);                                   // share of one second's write budget of a Sync object
//! ```
//! Errors (through `wasm-face`) carry `code`, `status` and `parameter` (the variable at fault).

use queue_settings::SharedEnv;
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js};

use crate::record::{apply_realtime_all, batches, build, Fetched, QueueRef};
use crate::store::{self, BoardSettings, CopyInput, Settings, Store, StoreInput};
use crate::write::{write_cost, write_plan, WriteInput};
use crate::{document_name, index_entry, plan, statistics_params, today, Config, Env, BULK_LIMIT};

use wasm_face::to_js_value as to_js;

#[derive(Deserialize)]
struct BuildInput {
    #[serde(default)]
    queue: QueueRef,
    #[serde(default)]
    previous: Option<Value>,
    #[serde(default)]
    fetched: Vec<Fetched>,
}

#[derive(Deserialize)]
struct BulkInput {
    #[serde(default)]
    queues: Vec<QueueRef>,
    #[serde(default)]
    previous: serde_json::Map<String, Value>,
    #[serde(default)]
    response: Value,
}

/// The validated configuration, kept for the life of the container.
#[wasm_bindgen]
pub struct QueueStats {
    config: Config,
}

#[wasm_bindgen]
impl QueueStats {
    /// Reads the `QUEUE_STATS_*` variables from an environment object; throws an Error naming
    /// the variable and its value when one is invalid.
    #[wasm_bindgen(constructor)]
    pub fn new(env: JsValue) -> Result<QueueStats, JsValue> {
        // Only the variables this crate reads are looked at; others (and non-strings) are ignored.
        let env: Value = from_js(env, "environment")?;
        let pick = |name: &str| env.get(name).and_then(Value::as_str).map(str::to_string);
        let env = Env {
            shared: SharedEnv {
                time_zone: pick("QUEUE_STATS_TIME_ZONE"),
                channels: pick("QUEUE_STATS_CHANNELS"),
                sla_thresholds: pick("QUEUE_STATS_SLA_THRESHOLDS"),
            },
            sla_target: pick("QUEUE_STATS_SLA_TARGET"),
            layout: pick("QUEUE_STATS_LAYOUT"),
        };
        Config::from_env(&env)
            .map(|config| QueueStats { config })
            .map_err(fail)
    }

    pub fn layout(&self) -> Result<JsValue, JsValue> {
        Ok(to_js(&self.config.layout))
    }

    /// The refresh plan for a TaskRouter event (the callback's form fields). Never throws.
    pub fn plan(&self, event: JsValue) -> Result<JsValue, JsValue> {
        let event: Value = serde_wasm_bindgen::from_value(event).unwrap_or(Value::Null);
        Ok(to_js(&plan(&self.config, &event)))
    }

    #[wasm_bindgen(js_name = statisticsParams)]
    pub fn statistics_params(&self, now_ms: f64) -> Result<JsValue, JsValue> {
        statistics_params(&self.config, now_ms)
            .map(|p| to_js(&p))
            .map_err(fail)
    }

    /// The queue's new record from this event's `Statistics` responses over its previous record.
    pub fn build(&self, input: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let now = today::instant(now_ms).map_err(fail)?;
        let input: BuildInput = from_js(input, "build input")?;
        let built = build(
            &self.config,
            &input.queue,
            input.previous.as_ref(),
            &input.fetched,
            now,
        );
        Ok(to_js(&built))
    }

    /// New records for the queues of a bulk real-time statistics response.
    #[wasm_bindgen(js_name = applyBulk)]
    pub fn apply_bulk(&self, input: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let now = today::instant(now_ms).map_err(fail)?;
        let input: BulkInput = from_js(input, "bulk input")?;
        let entries = input
            .response
            .get("task_queue_data")
            .or_else(|| input.response.get("taskQueueData"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let built: Vec<_> = entries
            .iter()
            .filter_map(|entry| {
                let sid = entry.get("task_queue_sid").and_then(Value::as_str)?;
                if !crate::event::is_sid(sid, "WQ") {
                    return None;
                }
                let queue = input
                    .queues
                    .iter()
                    .find(|q| q.sid == sid)
                    .cloned()
                    .unwrap_or(QueueRef {
                        sid: sid.to_string(),
                        friendly_name: None,
                    });
                Some(apply_realtime_all(
                    &self.config,
                    &queue,
                    input.previous.get(sid),
                    entry,
                    now,
                ))
            })
            .collect();
        Ok(to_js(&built))
    }

    /// Queue SIDs in bulk-request batches of at most 50.
    pub fn batches(&self, sids: Vec<String>) -> Result<JsValue, JsValue> {
        Ok(to_js(&batches(&sids, BULK_LIMIT)))
    }

    /// One queue's Sync steps for a built record (see the `write` module's rules).
    #[wasm_bindgen(js_name = writePlan)]
    pub fn write_plan(&self, input: JsValue) -> Result<JsValue, JsValue> {
        let input: WriteInput = from_js(input, "write input")?;
        Ok(to_js(&write_plan(&self.config, &input)))
    }

    /// The store machine's first step for a refreshed queue (see the `store` module).
    #[wasm_bindgen(js_name = startStore)]
    pub fn start_store(&self, input: JsValue, settings: JsValue) -> Result<JsValue, JsValue> {
        let input: StoreInput = from_js(input, "store input")?;
        let settings: Settings = from_js(settings, "settings")?;
        Ok(to_js(&store::store(self.config.layout, &input, &settings)))
    }

    /// The store machine's first step for a deleted queue.
    #[wasm_bindgen(js_name = startRemove)]
    pub fn start_remove(&self, queue_sid: &str, settings: JsValue) -> Result<JsValue, JsValue> {
        let settings: Settings = from_js(settings, "settings")?;
        Ok(to_js(&store::remove(
            self.config.layout,
            queue_sid,
            &settings,
        )))
    }

    /// The wallboard's copy of a record (see the `store` module's `board_copy`).
    #[wasm_bindgen(js_name = startBoardCopy)]
    pub fn start_board_copy(&self, input: JsValue, board: JsValue) -> Result<JsValue, JsValue> {
        let input: CopyInput = from_js(input, "copy input")?;
        let board: BoardSettings = from_js(board, "board settings")?;
        Ok(to_js(&store::board_copy(
            self.config.layout,
            &input,
            &board,
        )))
    }

    /// The removal of a queue's copy from the board.
    #[wasm_bindgen(js_name = startBoardRemove)]
    pub fn start_board_remove(&self, queue_sid: &str, board: JsValue) -> Result<JsValue, JsValue> {
        let board: BoardSettings = from_js(board, "board settings")?;
        Ok(to_js(&store::board_remove(
            self.config.layout,
            queue_sid,
            &board,
        )))
    }

    /// Whether the queue is gone from TaskRouter: every `Statistics` call answered 404.
    #[wasm_bindgen(js_name = isGone)]
    pub fn is_gone(&self, fetched: JsValue) -> bool {
        let fetched: Vec<store::Status> = from_js(fetched, "fetched").unwrap_or_default();
        crate::write::gone(&fetched.iter().map(|f| f.status).collect::<Vec<_>>())
    }

    /// The share of one second's write budget a Sync write of `bytes` uses.
    #[wasm_bindgen(js_name = writeCost)]
    pub fn write_cost(&self, bytes: f64) -> f64 {
        // NaN casts to 0; sizes are at most 16 KiB anyway.
        write_cost(bytes.clamp(0.0, 1e9) as usize)
    }

    #[wasm_bindgen(js_name = documentName)]
    pub fn document_name(&self, queue_sid: &str) -> String {
        document_name(queue_sid)
    }

    #[wasm_bindgen(js_name = indexEntry)]
    pub fn index_entry(&self, queue_sid: &str, friendly_name: &str) -> Result<JsValue, JsValue> {
        Ok(to_js(&index_entry(queue_sid, friendly_name)))
    }
}

/// The next step of a store machine; a state or outcomes it cannot read end it with an error
/// line (never a throw).
#[wasm_bindgen(js_name = resumeQueueStats)]
pub fn resume_queue_stats(
    state: JsValue,
    outcomes: JsValue,
    _now_ms: f64,
) -> Result<JsValue, JsValue> {
    let machine: Result<Store, _> = from_js(state, "state");
    let outcomes: Result<Vec<effects::Outcome>, _> = from_js(outcomes, "outcomes");
    let step = match (machine, outcomes) {
        (Ok(machine), Ok(outcomes)) => store::resume(machine, outcomes),
        _ => effects::Step::answer(store::unreadable_state()),
    };
    Ok(to_js(&step))
}
