//! `/staffing`'s Twilio requests: a queue's arrivals (its cumulative statistics over the last 30
//! minutes), a batch's arrivals (TaskRouter's statistics list, one read per channel, all at
//! once), and the measured handle times (queue history's stored hours, [`crate::measured`]).
//!
//! Order and meaning, as the function had them:
//! - a single request reads the arrivals only for a `queueSid` without `callsPerInterval`, and
//!   the measured time only for a `queueSid` without `ahtSeconds` when the Sync service is set;
//!   a batch reads the measured times whenever the Sync service is set;
//! - a failed arrivals read is the answer (`Failure::answer`: TaskRouter's 404 for an unknown
//!   queue passes through); a failed measured read leaves the measured time out (the handle time
//!   then falls back), never fails the request;
//! - the rules of the figures are `crates/staffing`'s (`answer`, `batch_plan`, `answer_batch`).

use std::collections::HashMap;

use effects::{Answer, Op, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use staffing::{BatchInput, ChannelArrivals, Observed, Request, ARRIVALS_WINDOW_MINUTES};
use values::env::EnvError;

use crate::measured::{fresh, read_plan, Measured, MeasuredRead};
use crate::{Machine, Turn};

/// The settings the staffing machines read (the shim passes them as set, or null).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffingEnv {
    /// `STAFFING_DEFAULT_AHT_SECONDS`.
    #[serde(default)]
    pub default_aht_seconds: Option<String>,
    /// Queue history's settings (`crate::SETTINGS`): its config, the workspace and Flex's Sync
    /// service (queue history's; unset, nothing is measured).
    #[serde(default)]
    pub history: Value,
}

impl StaffingEnv {
    fn setting(&self, name: &'static str) -> Result<Option<String>, EnvError> {
        values::env::optional(name, |n| self.history.get(n).and_then(Value::as_str))
    }

    /// The workspace (`WORKSPACE_SID` or its alias), or the answer naming what is wrong with it.
    fn workspace(&self) -> Result<String, Answer> {
        match self.setting("WORKSPACE_SID") {
            Ok(Some(sid)) => Ok(sid),
            Ok(None) => Err(misconfigured(EnvError::unset("WORKSPACE_SID"))),
            Err(e) => Err(misconfigured(e)),
        }
    }
}

/// A single `/staffing` request: its parameters, and `queueSid` and `channel` as given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleInput {
    #[serde(flatten)]
    pub request: Request,
    #[serde(default)]
    pub queue_sid: Option<String>,
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Single {
    request: Value,
    queue_sid: Option<String>,
    /// Waiting for the arrivals (the first outcome of the first batch).
    arrivals: bool,
    measured: Option<MeasuredRead>,
    /// The remembered measured times used instead of a read.
    known: Option<Measured>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    input: Value,
    /// The statistics reads of the first batch: `(channel, minutes)`.
    reads: Vec<(Option<String>, u32)>,
    arrivals: Vec<(Option<String>, f64, HashMap<String, f64>)>,
    /// The first batch's outcomes are not in yet.
    first: bool,
    measured: Option<MeasuredRead>,
    known: Option<Measured>,
}

/// A setting the request needs, missing or contradicting: a 500 naming it (never its value).
fn misconfigured(e: EnvError) -> Answer {
    Answer::json(
        500,
        json!({"error": e.to_string(), "code": e.code(), "parameter": e.variable}),
    )
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The measured read to make (`None`: remembered ones are fresh, or nothing to measure).
fn measure(
    env: &StaffingEnv,
    remembered: Option<&Measured>,
    now_ms: f64,
) -> (Option<MeasuredRead>, Option<Measured>) {
    match remembered {
        Some(m) if fresh(m, now_ms) => (None, Some(m.clone())),
        _ => (
            (env.setting("TWILIO_FLEX_SYNC_SID").ok().flatten())
                .and_then(|sid| read_plan(&env.history, &sid, now_ms)),
            None,
        ),
    }
}

/// Starts a single `/staffing` request. A `queueSid` that is not one is refused (400) before
/// any request.
pub fn single(
    input: SingleInput,
    env: &StaffingEnv,
    remembered: Option<&Measured>,
    now_ms: f64,
) -> Result<Turn, staffing::StaffingError> {
    let queue_sid = match given(&input.queue_sid) {
        Some(raw) => Some(staffing::queue_sid(&raw)?),
        None => None,
    };
    let mut request = input.request;
    request.default_aht_seconds = given(&env.default_aht_seconds);
    let mut ops = Vec::new();
    let mut arrivals = false;
    if let (Some(sid), None) = (&queue_sid, &request.calls_per_interval) {
        let workspace_sid = match env.workspace() {
            Ok(sid) => sid,
            Err(answer) => return Ok(Turn::answer(answer)),
        };
        arrivals = true;
        ops.push(Op::FetchTaskQueueCumulativeStatistics {
            workspace_sid,
            task_queue_sid: sid.clone(),
            start_date: None,
            end_date: None,
            minutes: Some(ARRIVALS_WINDOW_MINUTES),
            split_by_wait_time: None,
            task_channel: given(&input.channel),
        });
    }
    let (measured, known) = if queue_sid.is_some() && request.aht_seconds.is_none() {
        measure(env, remembered, now_ms)
    } else {
        (None, None)
    };
    if let Some(m) = &measured {
        ops.push(m.read.op());
    }
    let state = Single {
        request: serde_json::to_value(&request).unwrap_or(Value::Null),
        queue_sid,
        arrivals,
        measured,
        known,
    };
    if ops.is_empty() {
        return Ok(Turn::answer(state.answer(None)));
    }
    Ok(Turn::run(Machine::Staffing(state), ops))
}

impl Single {
    fn answer(&self, arrivals: Option<(f64, f64)>) -> Answer {
        let mut request: Request = match serde_json::from_value(self.request.clone()) {
            Ok(r) => r,
            Err(_) => return crate::unreadable(),
        };
        if arrivals.is_some() {
            request.observed_arrivals = arrivals;
        }
        if let Some(sid) = &self.queue_sid {
            if request.aht_seconds.is_none() {
                request.measured_aht_seconds =
                    self.known.as_ref().and_then(|m| m.by_sid.get(sid).copied());
            }
        }
        match staffing::answer(&request) {
            Ok(a) => {
                let body = serde_json::to_value(&a).unwrap_or(Value::Null);
                match (&self.queue_sid, body) {
                    (Some(sid), Value::Object(mut fields)) => {
                        let mut out = serde_json::Map::new();
                        out.insert("queueSid".into(), json!(sid));
                        out.append(&mut fields);
                        Answer::json(200, Value::Object(out))
                    }
                    (_, body) => Answer::json(200, body),
                }
            }
            Err(e) => Answer::error(&e),
        }
    }

    pub(crate) fn resume(mut self, outcomes: Vec<Outcome>) -> Turn {
        let mut outcomes = outcomes.into_iter();
        let mut arrivals = None;
        let mut remember = None;
        if self.arrivals {
            self.arrivals = false;
            match outcomes.next().map(Outcome::into_result) {
                Some(Ok(stats)) => {
                    let entered = stats.get("tasksEntered").and_then(Value::as_f64);
                    arrivals = Some((entered.unwrap_or(0.0), f64::from(ARRIVALS_WINDOW_MINUTES)));
                    // The arrivals are kept in the request for the pages that follow.
                    if let Ok(mut r) = serde_json::from_value::<Request>(self.request.clone()) {
                        r.observed_arrivals = arrivals;
                        self.request = serde_json::to_value(&r).unwrap_or(Value::Null);
                    }
                }
                Some(Err(f)) => {
                    let sid = self.queue_sid.clone().unwrap_or_default();
                    return Turn::answer(
                        f.answer(&format!("Reading the statistics of TaskQueue {sid}")),
                    );
                }
                None => return Turn::answer(crate::unreadable()),
            }
        }
        if let Some(mut m) = self.measured.take() {
            match outcomes.next().map(|o| m.read.take(o)) {
                Some(Ok(false)) => {
                    let op = m.read.op();
                    self.measured = Some(m);
                    return Turn::run(Machine::Staffing(self), vec![op]);
                }
                Some(Ok(true)) => {
                    self.known = m.finish();
                    remember = self.known.clone();
                }
                // A failed read: no measured time (the handle time falls back).
                _ => self.known = None,
            }
        }
        Turn::answer(self.answer(arrivals)).remember(remember)
    }
}

/// Starts a batch (`queues: [...]`): a bad item refuses the whole batch (400) before any request.
pub fn batch(
    input: BatchInput,
    env: &StaffingEnv,
    remembered: Option<&Measured>,
    now_ms: f64,
) -> Result<Turn, staffing::BatchError> {
    let mut input = input;
    input.default_aht_seconds = given(&env.default_aht_seconds);
    let plan = staffing::batch_plan(&input)?;
    let workspace_sid = match env.workspace() {
        Ok(sid) => sid,
        Err(answer) => return Ok(Turn::answer(answer)),
    };
    let mut ops: Vec<Op> = plan
        .reads
        .iter()
        .map(|r| Op::ListTaskQueueStatistics {
            workspace_sid: workspace_sid.clone(),
            minutes: Some(r.minutes),
            task_channel: r.channel.clone(),
            paging: effects::PagingAll {
                page_size: Some(r.page_size),
                limit: None,
            },
        })
        .collect();
    let (measured, known) = measure(env, remembered, now_ms);
    if let Some(m) = &measured {
        ops.push(m.read.op());
    }
    let state = Batch {
        input: json!({"queues": input.queues, "defaultAhtSeconds": input.default_aht_seconds}),
        reads: plan
            .reads
            .iter()
            .map(|r| (r.channel.clone(), r.minutes))
            .collect(),
        arrivals: Vec::new(),
        first: true,
        measured,
        known,
    };
    Ok(Turn::run(Machine::StaffingBatch(state), ops))
}

/// Tasks entered per queue SID from a statistics list (`[{taskQueueSid, cumulative: {tasks_entered}}]`).
fn entered(list: &Value) -> HashMap<String, f64> {
    list.as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    let sid = r.get("taskQueueSid").and_then(Value::as_str)?;
                    let n = r
                        .get("cumulative")
                        .and_then(|c| c.get("tasks_entered"))
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0);
                    Some((sid.to_string(), n))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Batch {
    pub(crate) fn resume(mut self, outcomes: Vec<Outcome>) -> Turn {
        let mut outcomes = outcomes.into_iter();
        let mut remember = None;
        if self.first {
            self.first = false;
            for (channel, minutes) in self.reads.clone() {
                match outcomes.next().map(Outcome::into_result) {
                    Some(Ok(list)) => {
                        self.arrivals
                            .push((channel, f64::from(minutes), entered(&list)))
                    }
                    Some(Err(f)) => {
                        return Turn::answer(f.answer("Reading the statistics of the TaskQueues"))
                    }
                    None => return Turn::answer(crate::unreadable()),
                }
            }
        }
        if let Some(mut m) = self.measured.take() {
            match outcomes.next().map(|o| m.read.take(o)) {
                Some(Ok(false)) => {
                    let op = m.read.op();
                    self.measured = Some(m);
                    return Turn::run(Machine::StaffingBatch(self), vec![op]);
                }
                Some(Ok(true)) => {
                    self.known = m.finish();
                    remember = self.known.clone();
                }
                _ => self.known = None,
            }
        }
        let Ok(input) = serde_json::from_value::<BatchInput>(self.input.clone()) else {
            return Turn::answer(crate::unreadable());
        };
        let observed = Observed {
            arrivals: self
                .arrivals
                .into_iter()
                .map(|(channel, minutes, entered)| ChannelArrivals {
                    channel,
                    minutes,
                    entered,
                })
                .collect(),
            measured: self
                .known
                .map(|m| m.by_sid.into_iter().collect())
                .unwrap_or_default(),
        };
        let answer = match staffing::answer_batch(&input, &observed) {
            Ok(a) => Answer::json(200, serde_json::to_value(&a).unwrap_or(Value::Null)),
            Err(e) => Answer::error(&e),
        };
        Turn::answer(answer).remember(remember)
    }
}
