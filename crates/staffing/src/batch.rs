//! Batches: the "agents needed now" of every tile of a board in one `/staffing` request.
//!
//! One request per queue costs a board one function invocation and one TaskRouter call per queue
//! per refresh, so its cost grows with its queues (303 queues: ~65 requests a minute). A batch asks
//! for up to [`MAX_BATCH_QUEUES`] queues at once, and the function reads the arrivals of all of
//! them with TaskRouter's list of queue statistics (`GET TaskQueues/Statistics`, `Minutes=30`,
//! [`STATISTICS_PAGE_SIZE`] queues per page, the most the API allows): one read per channel asked,
//! `ceil(queues in the workspace / 1000)` requests each ([`plan`]). [`answer_batch`] then computes
//! each queue from what was read, exactly as a single `/staffing?queueSid=` would.
//!
//! # Rules
//!
//! - `queues` is a list of 1 to [`MAX_BATCH_QUEUES`] objects. Each has a `queueSid` and any of
//!   `channel` (a TaskChannel unique name; absent or `all`: every channel), `thresholdSeconds`,
//!   `target`, `ahtSeconds`, `fallbackAhtSeconds`, `maxOccupancy`, `shrinkage`, `agents`, read
//!   exactly as `/staffing` reads them (numbers or text). Arrivals always come from TaskRouter.
//! - A bad parameter in any item refuses the whole batch, 400 naming it as `queues[3].target`:
//!   nothing is read from TaskRouter for a request that cannot be answered.
//! - A queue TaskRouter does not list (deleted meanwhile) and a queue whose traffic cannot be
//!   staffed get their own error (`{queueSid, error, code, parameter}`); the others are answered.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use wasm_face::FaceError;

use crate::{answer, queue_sid, Answer, Request, StaffingError};

/// The most queues one batch may ask for (a board with more sends several).
pub const MAX_BATCH_QUEUES: usize = 2_000;
/// Queues per page of TaskRouter's `TaskQueues/Statistics` list (its declared maximum).
pub const STATISTICS_PAGE_SIZE: u32 = 1_000;
/// The arrivals window: tasks entered over the last this many minutes.
pub const ARRIVALS_WINDOW_MINUTES: u32 = 30;

/// A batch as the function receives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchInput {
    /// The request's `queues` (any JSON; checked by [`plan`]).
    #[serde(default)]
    pub queues: Value,
    /// `STAFFING_DEFAULT_AHT_SECONDS`.
    #[serde(default)]
    pub default_aht_seconds: Option<String>,
}

/// One TaskRouter read the function makes: the statistics list for one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatisticsRead {
    /// `None`: every channel.
    pub channel: Option<String>,
    pub minutes: u32,
    pub page_size: u32,
}

/// What the function must read for a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchPlan {
    pub queue_sids: Vec<String>,
    pub reads: Vec<StatisticsRead>,
}

/// What the function read: per channel read, tasks entered per queue SID; and the measured
/// handle times (queue history) per queue SID.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    #[serde(default)]
    pub arrivals: Vec<ChannelArrivals>,
    #[serde(default)]
    pub measured: HashMap<String, f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelArrivals {
    #[serde(default)]
    pub channel: Option<String>,
    pub minutes: f64,
    #[serde(default)]
    pub entered: HashMap<String, f64>,
}

/// One queue's answer: the [`Answer`] of `/staffing`, with its SID.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueAnswer {
    pub queue_sid: String,
    #[serde(flatten)]
    pub answer: Answer,
}

/// One queue that could not be answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueFailure {
    pub queue_sid: String,
    pub error: String,
    pub code: &'static str,
    pub parameter: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum QueueResult {
    Answer(QueueAnswer),
    Failure(QueueFailure),
}

/// The batch's answer, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchAnswer {
    pub results: Vec<QueueResult>,
}

/// Why a batch is refused (400).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BatchError {
    #[error("queues must be a JSON list of 1 to {MAX_BATCH_QUEUES} queues, each an object with a queueSid; got {0}")]
    NotAList(String),
    #[error("queues[{index}]: {inner}")]
    Item {
        index: usize,
        parameter: String,
        inner: StaffingError,
    },
    #[error("queues[{index}].channel {value:?} is not a TaskChannel name (letters, digits, - and _, at most 64)")]
    Channel {
        index: usize,
        parameter: String,
        value: String,
    },
}

impl FaceError for BatchError {
    fn code(&self) -> &'static str {
        match self {
            BatchError::NotAList(_) => "invalid_parameter",
            BatchError::Item { inner, .. } => inner.code(),
            BatchError::Channel { .. } => "invalid_parameter",
        }
    }

    fn status(&self) -> u16 {
        400
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            BatchError::NotAList(_) => Some("queues"),
            BatchError::Item { parameter, .. } | BatchError::Channel { parameter, .. } => {
                Some(parameter)
            }
        }
    }
}

/// A validated item.
struct Item {
    queue_sid: String,
    channel: Option<String>,
    request: Request,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Array(a) => format!("a list of {}", a.len()),
        Value::Object(_) => "an object".into(),
        other => format!("{other}"),
    }
}

fn channel_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn items(input: &BatchInput) -> Result<Vec<Item>, BatchError> {
    let list = match &input.queues {
        Value::Array(list) if !list.is_empty() && list.len() <= MAX_BATCH_QUEUES => list,
        other => return Err(BatchError::NotAList(describe(other))),
    };
    let mut out = Vec::with_capacity(list.len());
    for (index, raw) in list.iter().enumerate() {
        let item_error = |inner: StaffingError| {
            let parameter = format!(
                "queues[{index}].{}",
                inner.parameter().unwrap_or("queueSid")
            );
            BatchError::Item {
                index,
                parameter,
                inner,
            }
        };
        let obj = raw
            .as_object()
            .ok_or_else(|| BatchError::NotAList(format!("queues[{index}] is {}", describe(raw))))?;
        let sid_text = text(obj.get("queueSid")).unwrap_or_default();
        let sid = queue_sid(&sid_text).map_err(item_error)?;
        let channel = match text(obj.get("channel")).map(|c| c.trim().to_string()) {
            None => None,
            Some(c) if c.is_empty() || c == "all" => None,
            Some(c) if channel_name(&c) => Some(c),
            Some(c) => {
                return Err(BatchError::Channel {
                    index,
                    parameter: format!("queues[{index}].channel"),
                    value: c,
                })
            }
        };
        let field = |name: &str| text(obj.get(name));
        let request = Request {
            threshold_seconds: field("thresholdSeconds"),
            target: field("target"),
            aht_seconds: field("ahtSeconds"),
            fallback_aht_seconds: field("fallbackAhtSeconds"),
            max_occupancy: field("maxOccupancy"),
            shrinkage: field("shrinkage"),
            agents: field("agents"),
            default_aht_seconds: input.default_aht_seconds.clone(),
            ..Request::default()
        };
        // Every parameter is checked before anything is read: with no traffic, only a bad
        // parameter can fail (a handle time may still come from queue history).
        let probe = Request {
            observed_arrivals: Some((0.0, f64::from(ARRIVALS_WINDOW_MINUTES))),
            ..request.clone()
        };
        match answer(&probe) {
            Ok(_)
            | Err(StaffingError::Missing {
                parameter: "ahtSeconds",
                ..
            }) => {}
            Err(e) => return Err(item_error(e)),
        }
        out.push(Item {
            queue_sid: sid,
            channel,
            request,
        });
    }
    Ok(out)
}

/// Validates a batch and says what to read: one statistics list per channel asked.
pub fn plan(input: &BatchInput) -> Result<BatchPlan, BatchError> {
    let items = items(input)?;
    let mut reads: Vec<StatisticsRead> = Vec::new();
    for item in &items {
        if !reads.iter().any(|r| r.channel == item.channel) {
            reads.push(StatisticsRead {
                channel: item.channel.clone(),
                minutes: ARRIVALS_WINDOW_MINUTES,
                page_size: STATISTICS_PAGE_SIZE,
            });
        }
    }
    Ok(BatchPlan {
        queue_sids: items.into_iter().map(|i| i.queue_sid).collect(),
        reads,
    })
}

/// Answers every queue of a batch from what the function read.
pub fn answer_batch(input: &BatchInput, observed: &Observed) -> Result<BatchAnswer, BatchError> {
    let items = items(input)?;
    let results = items
        .into_iter()
        .map(|item| {
            let read = observed
                .arrivals
                .iter()
                .find(|a| a.channel.as_deref().filter(|c| *c != "all") == item.channel.as_deref());
            let entered =
                read.and_then(|r| r.entered.get(&item.queue_sid).map(|n| (*n, r.minutes)));
            let Some(arrivals) = entered else {
                return QueueResult::Failure(QueueFailure {
                    error: format!(
                        "TaskQueue {} is not in the workspace's statistics (deleted?)",
                        item.queue_sid
                    ),
                    queue_sid: item.queue_sid,
                    code: "queue_not_found",
                    parameter: None,
                });
            };
            let request = Request {
                observed_arrivals: Some(arrivals),
                measured_aht_seconds: observed.measured.get(&item.queue_sid).copied(),
                ..item.request
            };
            match answer(&request) {
                Ok(answer) => QueueResult::Answer(QueueAnswer {
                    queue_sid: item.queue_sid,
                    answer,
                }),
                Err(e) => QueueResult::Failure(QueueFailure {
                    error: e.to_string(),
                    code: e.code(),
                    parameter: e.parameter().map(str::to_string),
                    queue_sid: item.queue_sid,
                }),
            }
        })
        .collect();
    Ok(BatchAnswer { results })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const Q1: &str = "WQ00000000000000000000000000000001";
    const Q2: &str = "WQ00000000000000000000000000000002";
    const GONE: &str = "WQ0000000000000000000000000000dead";

    fn input(queues: Value) -> BatchInput {
        BatchInput {
            queues,
            default_aht_seconds: Some("180".into()),
        }
    }

    fn arrivals(channel: Option<&str>, entered: &[(&str, f64)]) -> ChannelArrivals {
        ChannelArrivals {
            channel: channel.map(str::to_string),
            minutes: 30.0,
            entered: entered.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn one_read_per_channel_whatever_the_number_of_queues() {
        let many: Vec<Value> = (0..MAX_BATCH_QUEUES)
            .map(|i| json!({"queueSid": format!("WQ{i:032x}"), "target": 0.8}))
            .collect();
        let p = plan(&input(Value::Array(many))).unwrap();
        assert_eq!(p.queue_sids.len(), MAX_BATCH_QUEUES);
        assert_eq!(
            p.reads,
            vec![StatisticsRead {
                channel: None,
                minutes: 30,
                page_size: 1000
            }]
        );
        let mixed = json!([{"queueSid": Q1, "channel": "voice"}, {"queueSid": Q2, "channel": "all"}, {"queueSid": Q1, "channel": "voice"}]);
        let reads = plan(&input(mixed)).unwrap().reads;
        assert_eq!(
            reads
                .iter()
                .map(|r| r.channel.as_deref())
                .collect::<Vec<_>>(),
            vec![Some("voice"), None]
        );
    }

    #[test]
    fn each_queue_is_answered_as_a_single_request_would_be() {
        let batch = input(json!([
            {"queueSid": Q1, "thresholdSeconds": "20", "target": "80%"},
            {"queueSid": Q2, "ahtSeconds": 360},
            {"queueSid": GONE}
        ]));
        let observed = Observed {
            arrivals: vec![arrivals(None, &[(Q1, 100.0), (Q2, 100.0)])],
            measured: [(Q1.to_string(), 180.0)].into_iter().collect(),
        };
        let out = answer_batch(&batch, &observed).unwrap();
        let single = answer(&Request {
            observed_arrivals: Some((100.0, 30.0)),
            measured_aht_seconds: Some(180.0),
            threshold_seconds: Some("20".into()),
            target: Some("80%".into()),
            default_aht_seconds: Some("180".into()),
            ..Request::default()
        })
        .unwrap();
        match &out.results[0] {
            QueueResult::Answer(a) => {
                assert_eq!(a.answer, single);
                assert_eq!(a.answer.staffing.agents, 14);
                assert_eq!(a.answer.sources.handle_time, "measured");
            }
            other => panic!("{other:?}"),
        }
        match &out.results[1] {
            QueueResult::Answer(a) => assert_eq!(a.answer.staffing.intensity_erlangs, 20.0),
            other => panic!("{other:?}"),
        }
        match &out.results[2] {
            QueueResult::Failure(f) => {
                assert_eq!((f.queue_sid.as_str(), f.code), (GONE, "queue_not_found"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_parameter_refuses_the_batch_naming_the_item() {
        let cases = [
            (
                json!([{"queueSid": Q1}, {"queueSid": Q2, "target": "150%"}]),
                "queues[1].target",
                "out_of_range",
            ),
            (
                json!([{"queueSid": "WQ1"}]),
                "queues[0].queueSid",
                "invalid_parameter",
            ),
            (
                json!([{"queueSid": Q1, "channel": "vo ice"}]),
                "queues[0].channel",
                "invalid_parameter",
            ),
            (
                json!([{"queueSid": Q1, "ahtSeconds": "long"}]),
                "queues[0].ahtSeconds",
                "not_a_number",
            ),
            (json!([]), "queues", "invalid_parameter"),
            (json!("WQ…"), "queues", "invalid_parameter"),
            (json!([7]), "queues", "invalid_parameter"),
        ];
        for (queues, parameter, code) in cases {
            let err = plan(&input(queues.clone())).unwrap_err();
            assert_eq!(
                (err.parameter(), err.code(), err.status()),
                (Some(parameter), code, 400),
                "{queues}"
            );
            assert!(
                err.to_string().contains(
                    parameter
                        .trim_start_matches("queues[0].")
                        .trim_start_matches("queues[1].")
                ),
                "{err}"
            );
        }
        let too_many: Vec<Value> = (0..=MAX_BATCH_QUEUES)
            .map(|_| json!({"queueSid": Q1}))
            .collect();
        assert_eq!(
            plan(&input(Value::Array(too_many)))
                .unwrap_err()
                .parameter(),
            Some("queues")
        );
    }

    #[test]
    fn without_any_handle_time_a_queue_says_so_and_the_others_are_answered() {
        let batch = BatchInput {
            queues: json!([{"queueSid": Q1}, {"queueSid": Q2, "fallbackAhtSeconds": 300}]),
            default_aht_seconds: None,
        };
        assert!(
            plan(&batch).is_ok(),
            "a handle time may still come from queue history"
        );
        let out = answer_batch(
            &batch,
            &Observed {
                arrivals: vec![arrivals(None, &[(Q1, 10.0), (Q2, 10.0)])],
                measured: HashMap::new(),
            },
        )
        .unwrap();
        assert!(
            matches!(&out.results[0], QueueResult::Failure(f) if f.parameter.as_deref() == Some("ahtSeconds"))
        );
        assert!(
            matches!(&out.results[1], QueueResult::Answer(a) if a.answer.sources.handle_time == "fallback")
        );
    }
}
