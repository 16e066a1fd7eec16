//! The wasm face of the crate: plain JS values in, plain JS objects out.
//!
//! ```js
//! const qs = new wasm.QueueStats(settings, {parked?}); // throws {code, status, parameter} naming a bad setting
//! qs.start(event);                                       // {plan, tally, refresh?: {queueSid, work}, remove?: queueSid, bulk?: {workerSid}}
//! qs.plan(event);                                        // {action, queueSid?, channels?, workerSid?, reason}
//! qs.statisticsParams(Date.now());                       // {startDate, splitByWaitTime}
//! qs.startRefresh({queueSid, works, waited}, Date.now()); // a queue's run: reads, record, store (refresh module)
//! qs.startBulk({workerSids});                            // worker events' bulk statistics -> {works}
//! qs.mergeWorks([work], waited);                         // {work, dropped}: how a run's works combine
//! qs.startRemove(queueSid);                              // a deleted queue's removal (store module)
//! qs.startBoardCopy({queueSid, plan});                  // the wallboard's copy (nothing without a board)
//! qs.startBoardRemove(queueSid);                         // its removal (nothing without a board)
//! qs.answered(tally, queueSid | null, answerBody, onBoard); // keeps what the answer says, counts it -> tally
//! qs.failed(tally, queueSid | null, message, onBoard);  // a run that threw -> tally with its error line
//! qs.summary(tally, late);                               // the answer's counts and errors (tally module)
//! qs.keep(queueSid | null, answerBody, onBoard);         // what the answer says to remember (kept module)
//! qs.remembered();                                       // how many records the instance remembers
//! resumeQueueStats(state, [outcome], Date.now())         // the next step of any of them (never throws)
//! queueStatsSettings()                                   // the settings the constructor reads (SETTINGS)
//! ```
//! The constructor reads the `QUEUE_STATS_*` settings and the services (`crate::services`: the
//! workspace, Flex's Sync service, the parked calls' service, the wallboard's service and reader,
//! where every record is copied when it is set; `{parked: false}` leaves the parked calls off the
//! board). The instance keeps the container's memory (`crate::kept`): the start calls read it,
//! `answered` (and `keep`) apply an answer. A trap reloads the module with an empty memory, which
//! only costs reads (the machines work from empty memory); an event's tally (`crate::tally`)
//! travels through the glue. A `memory` given in `startRefresh`'s input, or `deleted`, `granted`,
//! `mirrored` in the others', are added to the instance's (tests).
//! Errors (through `wasm-face`) carry `code`, `status` and `parameter` (the variable at fault).

use queue_settings::SharedEnv;
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_face::{fail, from_js};

use crate::kept::Kept;
use crate::refresh::{self, BulkInput, Machine, Memory, RefreshSettings, Work};
use crate::services::Services;
use crate::store::{self, CopyInput, Settings};
use crate::tally::{Start, Tally};
use crate::{plan, statistics_params, Config, Env};

use wasm_face::to_js_value as to_js;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshInput {
    queue_sid: String,
    #[serde(default)]
    works: Vec<Work>,
    #[serde(default)]
    waited: bool,
    #[serde(default)]
    memory: Option<Memory>,
}

/// The constructor's options: `parked: false` (the benchmark's) leaves the parked calls off the
/// records.
#[derive(Deserialize)]
struct Options {
    #[serde(default = "yes")]
    parked: bool,
}

fn yes() -> bool {
    true
}

/// A board request without a board: nothing to do.
fn no_board() -> Result<JsValue, JsValue> {
    Ok(to_js(&effects::Step::<Machine>::answer(
        effects::Answer::json(200, serde_json::json!({"syncWrites": 0, "errors": []})),
    )))
}

/// The validated configuration and services, and the container's memory, kept for the life of
/// the instance.
#[wasm_bindgen]
pub struct QueueStats {
    config: Config,
    services: Services,
    kept: Kept,
}

#[wasm_bindgen]
impl QueueStats {
    /// Reads the `QUEUE_STATS_*` variables and the services from an environment object; throws
    /// an Error naming the variable when one is invalid or missing.
    #[wasm_bindgen(constructor)]
    pub fn new(env: JsValue, options: JsValue) -> Result<QueueStats, JsValue> {
        // Only the variables this crate reads are looked at; others (and non-strings) are ignored.
        let env: Value = from_js(env, "environment")?;
        let options: Options = if options.is_undefined() || options.is_null() {
            Options { parked: true }
        } else {
            from_js(options, "options")?
        };
        let lookup = |name: &str| env.get(name).and_then(Value::as_str);
        let services = Services::from_env(lookup, options.parked).map_err(fail)?;
        let pick = |name: &str| lookup(name).map(str::to_string);
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
            .map(|config| QueueStats {
                config,
                services,
                kept: Kept::default(),
            })
            .map_err(fail)
    }

    /// An event's start (`crate::tally::Start`): its plan, an empty tally and the one run it asks
    /// for. Never throws.
    pub fn start(&self, event: JsValue) -> Result<JsValue, JsValue> {
        let event: Value = serde_wasm_bindgen::from_value(event).unwrap_or(Value::Null);
        Ok(to_js(&Start::of(plan(&self.config, &event))))
    }

    /// Applies what a machine's answer body says to remember (as `keep`) and adds its counts to
    /// the event's `tally`; answers the new tally.
    pub fn answered(
        &mut self,
        tally: JsValue,
        queue_sid: Option<String>,
        body: JsValue,
        on_board: bool,
    ) -> Result<JsValue, JsValue> {
        let mut tally: Tally = from_js(tally, "tally")?;
        let body: Value = from_js(body, "answer body")?;
        self.kept.keep(queue_sid.as_deref(), &body, on_board);
        tally.answered(&body, on_board);
        Ok(to_js(&tally))
    }

    /// The event's `tally` with the error line of a run that threw `message` (`queueSid`: a
    /// queue's run, `onBoard`: its board copy's or removal's, neither: the event's own).
    pub fn failed(
        &self,
        tally: JsValue,
        queue_sid: Option<String>,
        message: &str,
        on_board: bool,
    ) -> Result<JsValue, JsValue> {
        let mut tally: Tally = from_js(tally, "tally")?;
        tally.failed(queue_sid.as_deref(), message, on_board);
        Ok(to_js(&tally))
    }

    /// The answer's counts and errors from the event's `tally` (`late`: answered at the deadline).
    pub fn summary(&self, tally: JsValue, late: bool) -> Result<JsValue, JsValue> {
        let tally: Tally = from_js(tally, "tally")?;
        Ok(to_js(&tally.summary(late)))
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

    /// The store machine's first step for a deleted queue (remembered as deleted from now on).
    #[wasm_bindgen(js_name = startRemove)]
    pub fn start_remove(&mut self, queue_sid: &str) -> Result<JsValue, JsValue> {
        let settings = Settings {
            sync_service_sid: self.services.sync_service_sid.clone(),
        };
        self.kept.mark_deleted(queue_sid);
        Ok(to_js(&refresh::stored(store::remove(
            self.config.layout,
            queue_sid,
            &settings,
        ))))
    }

    /// The wallboard's copy of a record (see the `store` module's `board_copy`).
    #[wasm_bindgen(js_name = startBoardCopy)]
    pub fn start_board_copy(&self, input: JsValue) -> Result<JsValue, JsValue> {
        let Some(board) = &self.services.board else {
            return no_board();
        };
        let mut input: CopyInput = from_js(input, "copy input")?;
        let (granted, mirrored) = self.kept.copy(&input.queue_sid);
        input.granted.extend(granted);
        input.mirrored |= mirrored;
        Ok(to_js(&refresh::stored(store::board_copy(
            self.config.layout,
            &input,
            board,
        ))))
    }

    /// The removal of a queue's copy from the board.
    #[wasm_bindgen(js_name = startBoardRemove)]
    pub fn start_board_remove(&self, queue_sid: &str) -> Result<JsValue, JsValue> {
        let Some(board) = &self.services.board else {
            return no_board();
        };
        Ok(to_js(&refresh::stored(store::board_remove(
            self.config.layout,
            queue_sid,
            board,
        ))))
    }

    /// Where a run reads and writes (`board`: the wallboard keeps a copy).
    fn settings(&self, board: bool) -> RefreshSettings {
        RefreshSettings {
            sync_service_sid: self.services.sync_service_sid.clone(),
            workspace_sid: self.services.workspace_sid.clone(),
            parked_service_sid: self.services.parked_service_sid.clone(),
            board,
        }
    }

    /// A queue's run (see the `refresh` module): `{queueSid, works, waited, memory}`: the works
    /// asked for since its last run (`waited`: they waited behind one), what the container
    /// remembers of the queue. Its answer's body is the run's summary.
    #[wasm_bindgen(js_name = startRefresh)]
    pub fn start_refresh(&self, input: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let input: RefreshInput = from_js(input, "refresh input")?;
        let settings = self.settings(self.services.board.is_some());
        let memory = input
            .memory
            .unwrap_or_else(|| self.kept.memory(&input.queue_sid));
        let step = refresh::refresh(
            &self.config,
            &input.queue_sid,
            &input.works,
            input.waited,
            &memory,
            &settings,
            now_ms,
        );
        Ok(to_js(&step))
    }

    /// Worker events' bulk statistics: `{workerSids, deleted}`; the answer's `works` go to each
    /// queue's run.
    #[wasm_bindgen(js_name = startBulk)]
    pub fn start_bulk(&self, input: JsValue) -> Result<JsValue, JsValue> {
        let mut input: BulkInput = from_js(input, "bulk input")?;
        input.deleted.extend(self.kept.deleted());
        Ok(to_js(&refresh::bulk(&input, &self.settings(false))))
    }

    /// Applies what a machine's answer body says to remember (`crate::kept::Kept::keep`):
    /// `queueSid` null for the bulk run, `onBoard` for a board copy's or removal's.
    pub fn keep(
        &mut self,
        queue_sid: Option<String>,
        body: JsValue,
        on_board: bool,
    ) -> Result<JsValue, JsValue> {
        let body: Value = from_js(body, "answer body")?;
        self.kept.keep(queue_sid.as_deref(), &body, on_board);
        Ok(JsValue::UNDEFINED)
    }

    /// How many queues' records this instance remembers (tests, benchmarks).
    pub fn remembered(&self) -> usize {
        self.kept.records()
    }

    /// How the works of one run combine: `{work: Work | null, dropped}`.
    #[wasm_bindgen(js_name = mergeWorks)]
    pub fn merge_works(&self, works: JsValue, waited: bool) -> Result<JsValue, JsValue> {
        let works: Vec<Work> = from_js(works, "works")?;
        let (work, dropped) = refresh::merge(&works, waited);
        Ok(to_js(
            &serde_json::json!({"work": work, "dropped": dropped}),
        ))
    }
}

/// The settings the constructor reads (`crate::SETTINGS`): what the functions hand it.
#[wasm_bindgen(js_name = queueStatsSettings)]
pub fn queue_stats_settings() -> Result<JsValue, JsValue> {
    wasm_face::to_js(crate::SETTINGS)
}

/// The next step of any machine of this crate (store, refresh, bulk); a state or outcomes it cannot read end it with an error
/// line (never a throw).
#[wasm_bindgen(js_name = resumeQueueStats)]
pub fn resume_queue_stats(
    state: JsValue,
    outcomes: JsValue,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let machine: Result<Machine, _> = from_js(state, "state");
    let outcomes: Result<Vec<effects::Outcome>, _> = from_js(outcomes, "outcomes");
    let step = match (machine, outcomes) {
        (Ok(machine), Ok(outcomes)) => refresh::resume(machine, outcomes, now_ms),
        _ => effects::Step::answer(store::unreadable_state()),
    };
    Ok(to_js(&step))
}
