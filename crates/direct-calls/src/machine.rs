//! `direct-extension` as a machine of the effects protocol (`crates/effects`, docs/effects.md):
//! what the container read in the last `DIRECT_EXTENSION_CACHE_SECONDS` ([`Cache`]), the one read
//! [`plan`](crate::plan) chooses (`listWorkersMatching` two to a page, or `fetchWorkerChannel`
//! `voice`), and the [`answer`](crate::answer).
//!
//! What a read's failure means: the worker list's is the answer (Twilio's 4xx through, 429/5xx/no
//! answer 502, our deadline 504); a voice channel that is gone (404: the worker was deleted since
//! the lookup) means the extension has nobody; any other failure of it is the answer too.

use std::collections::BTreeMap;

use effects::{Answer, Op, Outcome, Paging, Step};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{AnswerInput, DirectError, PlanInput, Read, VoiceChannel, WorkerRow};

/// Past this many entries, a cache map drops those older than the longest cache allowed.
pub const CACHE_ENTRIES: usize = 1000;

/// What this container read, and when (ms since 1970).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cache {
    /// Extension -> its workers.
    pub directory: BTreeMap<String, (f64, Vec<WorkerRow>)>,
    /// Worker SID -> their voice channel.
    pub voice: BTreeMap<String, (f64, VoiceChannel)>,
}

impl Cache {
    /// Bounded memory: past [`CACHE_ENTRIES`], entries older than a minute go.
    fn prune(&mut self, now_ms: f64) {
        let max = f64::from(crate::MAX_CACHE_SECONDS) * 1000.0;
        if self.directory.len() > CACHE_ENTRIES {
            self.directory.retain(|_, (at, _)| now_ms - *at < max);
        }
        if self.voice.len() > CACHE_ENTRIES {
            self.voice.retain(|_, (at, _)| now_ms - *at < max);
        }
    }
}

/// The settings the machine reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    /// `DIRECT_EXTENSION_CACHE_SECONDS`.
    #[serde(default)]
    pub cache_seconds: Option<String>,
    /// `WORKSPACE_SID` (or its other name `TWILIO_FLEX_WORKSPACE_SID`).
    #[serde(default)]
    pub workspace_sid: Option<String>,
    #[serde(default)]
    pub twilio_flex_workspace_sid: Option<String>,
}

/// The request's fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(default)]
    pub extension: Option<String>,
}

/// A call's lookup waiting for its read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lookup {
    pub extension: String,
    pub cache_ms: u64,
    /// When the request came (what is read is as of then).
    pub at_ms: f64,
    /// The voice channel's worker, when that is the read.
    #[serde(default)]
    pub voice_of: Option<String>,
}

/// The workspace under either of its names; unset, or set to two different values, is a 500
/// naming it (`values::env::setting`).
fn workspace(env: &Env) -> Result<String, DirectError> {
    let lookup = |name: &str| match name {
        "WORKSPACE_SID" => env.workspace_sid.as_deref(),
        "TWILIO_FLEX_WORKSPACE_SID" => env.twilio_flex_workspace_sid.as_deref(),
        _ => None,
    };
    let invalid = |problem: String| {
        DirectError::Config(values::env::EnvError::new("WORKSPACE_SID", "", problem))
    };
    values::env::setting("WORKSPACE_SID", lookup)
        .map_err(|c| invalid(c.to_string()))?
        .map(|s| s.value)
        .ok_or_else(|| invalid("is not set (see .env.example)".into()))
}

/// Checks the request (400 naming `extension`, 500 naming a bad setting), then the read it needs
/// or, when everything is cached, the answer.
pub fn start(
    request: &Request,
    env: &Env,
    cache: &mut Cache,
    now_ms: f64,
) -> Result<Step<Lookup>, DirectError> {
    cache.prune(now_ms);
    let extension = crate::parse_extension(request.extension.as_deref())?;
    let known = cache.directory.get(&extension);
    let single = known.and_then(|(_, rows)| match rows.as_slice() {
        [only] => cache.voice.get(&only.sid),
        _ => None,
    });
    let plan = crate::plan(&PlanInput {
        extension: Some(extension),
        cache_seconds: env.cache_seconds.clone(),
        directory_age_ms: known.map(|(at, _)| now_ms - at),
        directory_workers: known
            .map(|(_, rows)| rows.iter().map(|r| r.sid.clone()).collect())
            .unwrap_or_default(),
        voice_age_ms: single.map(|(at, _)| now_ms - at),
    })?;
    let mut lookup = Lookup {
        extension: plan.extension,
        cache_ms: plan.cache_ms,
        at_ms: now_ms,
        voice_of: None,
    };
    let op = match plan.read {
        Read::None => return Ok(Step::answer(answer(&lookup, cache, now_ms))),
        Read::Workers {
            target_workers_expression,
            page_size,
        } => Op::ListWorkersMatching {
            workspace_sid: workspace(env)?,
            target_workers_expression,
            paging: Paging {
                page_size: Some(page_size),
                limit: page_size,
            },
        },
        Read::VoiceChannel { worker_sid } => {
            lookup.voice_of = Some(worker_sid.clone());
            Op::FetchWorkerChannel {
                workspace_sid: workspace(env)?,
                worker_sid,
                worker_channel_sid: "voice".into(),
            }
        }
    };
    Ok(Step::one(lookup, op))
}

/// Keeps what the read found in `cache`, and answers.
/// (`_now_ms`: what is read is as of the request's start, as the cache keeps it.)
pub fn resume(m: Lookup, outcome: Outcome, cache: &mut Cache, _now_ms: f64) -> Step<Lookup> {
    match (&m.voice_of, outcome.found()) {
        (None, Ok(list)) => {
            let rows: Vec<WorkerRow> = list
                .as_ref()
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|w| serde_json::from_value(w.clone()).ok())
                        .collect()
                })
                .unwrap_or_default();
            cache.directory.insert(m.extension.clone(), (m.at_ms, rows));
        }
        (None, Err(f)) => {
            return Step::answer(f.answer(&format!("Looking up extension {}", m.extension)))
        }
        (Some(worker), Ok(Some(c))) => {
            let figure = |k: &str| {
                c.get(k)
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0)
            };
            let channel = VoiceChannel {
                worker_sid: worker.clone(),
                configured_capacity: figure("configuredCapacity"),
                assigned_tasks: figure("assignedTasks"),
                available: c.get("available").and_then(Value::as_bool).unwrap_or(true),
            };
            cache.voice.insert(worker.clone(), (m.at_ms, channel));
        }
        // The worker was deleted since the lookup: the extension has nobody.
        (Some(_), Ok(None)) => {
            cache
                .directory
                .insert(m.extension.clone(), (m.at_ms, Vec::new()));
        }
        (Some(worker), Err(f)) => {
            return Step::answer(f.answer(&format!("Reading the voice channel of {worker}")))
        }
    }
    Step::answer(answer(&m, cache, m.at_ms))
}

/// The answer from what the cache holds for the extension (a voice channel only while fresh).
fn answer(m: &Lookup, cache: &Cache, now_ms: f64) -> Answer {
    let workers: Vec<WorkerRow> = cache
        .directory
        .get(&m.extension)
        .map(|(_, rows)| rows.clone())
        .unwrap_or_default();
    let voice = match workers.as_slice() {
        [only] => cache
            .voice
            .get(&only.sid)
            .filter(|(at, _)| now_ms - at < m.cache_ms as f64)
            .map(|(_, c)| c.clone()),
        _ => None,
    };
    let input = AnswerInput {
        extension: Some(m.extension.clone()),
        workers,
        voice,
    };
    match crate::answer(&input) {
        Ok(a) => Answer::json(200, json!(a)),
        Err(e) => Answer::error(&e),
    }
}
