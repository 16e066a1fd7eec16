//! The live agents view of the wallboard (issue 15, item 1): from TaskRouter's events, each
//! agent's activity and since when, the tasks and channels they hold, the parked calls they hold,
//! and today's reservations accepted / rejected / timed out with average handle and wrap-up time;
//! and, without any name, counts per activity and per queue (logged in, available).
//!
//! # Where it is kept
//!
//! In the board's own Sync service (`WALLBOARD_SYNC_SID`, ACL on), in a bounded number of objects
//! whatever the number of agents: `AGENTS_LIVE_SHARDS` (default 200) **shard documents**
//! `agentsLive.<n>` holding every agent whose worker SID hashes to n ([`shard_of`]; 2,000 agents:
//! about 10 per document, about 5 KiB), and as many **counts documents** `agentsLive.counts.<n>`
//! with that shard's counts and no names ([`counts`]). Shard documents are readable by the
//! identity [`SUPERVISOR_IDENTITY`] only; counts documents by it and by [`READER_IDENTITY`], every
//! wallboard key's identity ([`viewer`]). So what a key's token can read contains no name, unless
//! `AGENTS_LIVE_KEY_SHOWS_NAMES=true` gives the key the supervisor identity.
//!
//! # What an event costs
//!
//! [`plan`] says, per event, which shard, and whether the worker's queues (one TaskRouter list,
//! at most every [`MEMBERSHIP_MAX_AGE_MS`] per worker and container, and on `worker.created` /
//! `worker.attributes.update`) and parked calls (one Sync list, on reservation events) must be
//! fetched. [`apply_batch`] applies every event waiting for a shard at once (the shim coalesces a
//! burst into one write) and says whether the shard and its counts changed, with each write's
//! share of its object's budget ([`write_cost`]). An event writes at most two objects: its shard
//! (when its content changed) and the shard's counts (when they changed: activity and queue
//! changes, not most reservation steps).

pub mod config;
pub mod counts;
pub mod event;
pub mod kept;
pub mod machine;
pub mod shard;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use config::{Config, ConfigError, Env};
pub use counts::{counts, Counts};
pub use shard::{shard_of, Fetched, Shard};

/// Every wallboard key's identity (`crates/auth`'s board identity): counts only.
/// Every setting this crate reads (aliases included): the functions hand its machines these and
/// nothing else (never a secret), so a name missing here is a setting silently ignored; a unit
/// test checks the sources against this list.
pub const SETTINGS: &[&str] = &[
    "AGENTS_LIVE_ENABLED",
    "AGENTS_LIVE_SHARDS",
    "AGENTS_LIVE_OFFLINE_ACTIVITIES",
    "AGENTS_LIVE_AVAILABLE_ACTIVITIES",
    "AGENTS_LIVE_TEAM_ATTRIBUTE",
    "AGENTS_LIVE_KEY_SHOWS_NAMES",
    "QUEUE_STATS_TIME_ZONE",
    "QUEUE_STATS_CHANNELS",
    "QUEUE_STATS_LAYOUT",
    "WALLBOARD_SYNC_SID",
    "TWILIO_FLEX_SYNC_SID",
    "SYNC_SERVICE_SID",
    "WORKSPACE_SID",
    "TWILIO_FLEX_WORKSPACE_SID",
];

pub const READER_IDENTITY: &str = "wallboard-reader";
/// The identity of a supervisor's agents token (and a key's, when names are configured for it).
pub const SUPERVISOR_IDENTITY: &str = "wallboard-supervisor";
/// A worker's queues are fetched again after this long (per container).
pub const MEMBERSHIP_MAX_AGE_MS: f64 = 300_000.0;
/// A shard document is kept under this many bytes (Sync's limit is 16 KiB).
pub const MAX_DOCUMENT_BYTES: usize = 15 * 1024;

pub const DOCUMENT_PREFIX: &str = "agentsLive.";
pub const COUNTS_PREFIX: &str = "agentsLive.counts.";
/// `{shards: [n…]}`: the shards that exist (readable by every board identity).
pub const INDEX_DOCUMENT: &str = "agentsLive.shards";

pub fn document_name(shard: u32) -> String {
    format!("{DOCUMENT_PREFIX}{shard}")
}

pub fn counts_name(shard: u32) -> String {
    format!("{COUNTS_PREFIX}{shard}")
}

/// Twilio Sync's write budget per object by payload size: the share of one second's budget
/// (the one model every crate paces by).
pub use values::sync::write_cost;

/// What the shim does for an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// `apply` or `ignore`.
    pub action: &'static str,
    pub reason: String,
    pub worker_sid: Option<String>,
    pub shard: Option<u32>,
    pub document: Option<String>,
    pub counts_document: Option<String>,
    /// Fetch the worker's queues (`GET TaskQueues?WorkerSid=`).
    pub fetch_queues: bool,
    /// Read the worker's parked calls (`<WK>.ParkedCalls` in the parking Sync service).
    pub fetch_parked: bool,
}

/// The plan for one event; `membership_age_ms` is how old the container's copy of the worker's
/// queues is (`None`: it has none).
pub fn plan(config: &Config, event: &Value, membership_age_ms: Option<f64>) -> Plan {
    match event::read(event) {
        Err(reason) => Plan {
            action: "ignore",
            reason,
            worker_sid: None,
            shard: None,
            document: None,
            counts_document: None,
            fetch_queues: false,
            fetch_parked: false,
        },
        Ok(e) => {
            let shard = shard_of(&e.worker_sid, config.shards);
            let membership_changed = matches!(
                e.event_type.as_str(),
                "worker.created" | "worker.attributes.update"
            );
            let stale =
                membership_age_ms.is_none_or(|age| !(0.0..MEMBERSHIP_MAX_AGE_MS).contains(&age));
            // A voicemail count reads nothing more (no TaskRouter call, no Sync read).
            let deleted = matches!(e.step, event::Step::Deleted | event::Step::Voicemail(_));
            Plan {
                action: "apply",
                reason: format!("{} of {}", e.event_type, e.worker_sid),
                worker_sid: Some(e.worker_sid.clone()),
                shard: Some(shard),
                document: Some(document_name(shard)),
                counts_document: Some(counts_name(shard)),
                fetch_queues: !deleted && (membership_changed || stale),
                fetch_parked: matches!(e.step, event::Step::Reservation(_)),
            }
        }
    }
}

/// One event waiting for its shard, with what the shim fetched for it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Input {
    #[serde(default)]
    pub event: Value,
    #[serde(default)]
    pub fetched: Fetched,
}

/// The result of applying a shard's waiting events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The shard's content changed: write `document`.
    pub changed: bool,
    pub document: Value,
    pub bytes: usize,
    pub cost: f64,
    /// The counts changed: write `counts`.
    pub counts_changed: bool,
    pub counts: Value,
    pub counts_bytes: usize,
    pub counts_cost: f64,
    /// Events that changed something, and why the others did not.
    pub applied: usize,
    pub ignored: Vec<String>,
    /// Set when the document would not fit in Sync's item size: nothing is written.
    pub too_large: Option<String>,
}

fn size(value: &Value) -> usize {
    serde_json::to_string(value).map(|s| s.len()).unwrap_or(0)
}

/// Applies `inputs` (in arrival order) to the stored shard document (`None`: not written yet).
pub fn apply_batch(
    config: &Config,
    shard_index: u32,
    stored: Option<&Value>,
    inputs: &[Input],
    now_ms: f64,
) -> Applied {
    let mut shard = Shard::from_value(shard_index, stored);
    let before = counts(config, &shard, now_ms);
    let mut applied = 0;
    let mut ignored = Vec::new();
    for input in inputs {
        match event::read(&input.event) {
            Err(reason) => ignored.push(reason),
            Ok(e) if shard_of(&e.worker_sid, config.shards) != shard_index => {
                ignored.push(format!("{} is not in shard {shard_index}", e.worker_sid))
            }
            Ok(e) => {
                if shard::apply(config, &mut shard, &e, &input.fetched) {
                    applied += 1;
                } else {
                    ignored.push(format!(
                        "{} changed nothing (a duplicate, or older than what is known)",
                        e.id
                    ));
                }
            }
        }
    }
    let changed = applied > 0;
    if changed {
        shard.seq += 1;
        shard.updated_at = now_ms;
    }
    let mut document = serde_json::to_value(&shard).unwrap_or(Value::Null);
    let mut bytes = size(&document);
    if bytes > MAX_DOCUMENT_BYTES {
        // The dedupe rings are the first thing to give up (idempotence then rests on each step's own rule).
        for agent in shard.agents.values_mut() {
            agent.recent.clear();
            agent.ended.clear();
        }
        document = serde_json::to_value(&shard).unwrap_or(Value::Null);
        bytes = size(&document);
    }
    let too_large = (bytes > MAX_DOCUMENT_BYTES).then(|| {
        format!(
            "shard {shard_index} holds {} agents in {bytes} bytes, more than {MAX_DOCUMENT_BYTES}: raise AGENTS_LIVE_SHARDS (now {}; about one shard per 10 agents)",
            shard.agents.len(),
            config.shards
        )
    });
    let after = counts(config, &shard, now_ms);
    let counts_value = serde_json::to_value(&after).unwrap_or(Value::Null);
    let counts_bytes = size(&counts_value);
    Applied {
        changed: changed && too_large.is_none(),
        cost: write_cost(bytes),
        document,
        bytes,
        counts_changed: changed && too_large.is_none() && !after.same_content(&before),
        counts: counts_value,
        counts_bytes,
        counts_cost: write_cost(counts_bytes),
        applied,
        ignored,
        too_large,
    }
}

/// Who a board's agents token is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    pub identity: &'static str,
    /// The token can read agents' names (the shard documents).
    pub names: bool,
}

/// The identity of an agents token: a supervisor's (or admin's) Flex login reads names; a
/// wallboard key reads counts only, unless `AGENTS_LIVE_KEY_SHOWS_NAMES` is set.
pub fn viewer(config: &Config, via_key: bool) -> Viewer {
    if via_key && !config.key_shows_names {
        Viewer {
            identity: READER_IDENTITY,
            names: false,
        }
    } else {
        Viewer {
            identity: SUPERVISOR_IDENTITY,
            names: true,
        }
    }
}

/// Which identities may read an object, for the writer's grants.
pub fn readers(document: bool) -> Vec<&'static str> {
    if document {
        vec![SUPERVISOR_IDENTITY]
    } else {
        vec![READER_IDENTITY, SUPERVISOR_IDENTITY]
    }
}
