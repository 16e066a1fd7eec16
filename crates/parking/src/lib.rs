//! Call parking for Flex multi-call handling.
//!
//! Flex lets an agent hold one voice call at a time. To take a second call, the agent **parks**
//! the first: the caller is redirected to hold music, and a record of the parked call goes to two
//! Sync maps, the worker's own `${workerSid}.ParkedCalls` and `Global.ParkedCalls`, keyed by call
//! SID (see [`ParkedCall`]). Later the agent **picks it up**: the call is redirected to an
//! `<Enqueue>` that creates a task for that same agent (`targetWorker`, priority 1000,
//! auto-answered), and both records are removed. If the caller hangs up while parked, the
//! `call-status` crate decides the clean-up and a wrap-up task built by [`hangup_task_attributes`].
//!
//! This crate is the whole of that logic, without I/O: given the request parameters (strings, as
//! the Flex plugin posts them) and the current instant, it answers *what to do*: the TwiML, the
//! Sync writes and deletes, the task attributes. The machines of `crates/call-handling` put these
//! plans in order as Twilio operations, which one executor performs (docs/effects.md).
//!
//! # Rules
//!
//! - **Order.** Park: update the call first, write Sync only when that succeeded (a call that
//!   could not be parked must not be listed as parked). Pickup: update the call first, delete the
//!   Sync entries only when that succeeded (otherwise the caller would be left on hold music with
//!   no entry to pick them up from). [`ParkPlan`] and [`PickupPlan`] carry the steps in order.
//! - **Whose call.** A worker parks only a call of a task they hold, that nobody else has parked
//!   ([`ownership`]); park reads TaskRouter and Sync first, and a refusal changes nothing.
//! - **Parking twice** is an update: the entries are written as "create, or update if the key
//!   exists", and the record's `dateCreated` becomes the new parking time.
//! - **Attributes** are merged, never rebuilt: every field the caller's task had survives, unknown
//!   ones included; only the documented fields are added or replaced (see
//!   [`pickup_task_attributes`] and [`hangup_task_attributes`]). `name` and `conversations.queue`
//!   are filled only when missing.
//! - **Hold time** is whole seconds from the record's `dateCreated` to now, never negative.
//! - **TwiML** is escaped for any input (`<`, `&`, quotes, `]]>`, non-ASCII, characters XML cannot
//!   carry), so task attributes can never change the document's structure. Twilio accepts at most
//!   4000 characters of TwiML in a call update, and a Sync item at most 16 KiB: both are checked
//!   here with a clear error, before anything is changed.
//!
//! Time is an input (`now_ms`); the crate never reads a clock.

pub mod board;
mod error;
pub mod marker;
pub mod ownership;
pub mod pickup;
mod record;
mod time;
pub mod twiml;
mod xml;

#[cfg(target_arch = "wasm32")]
mod wasm;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use error::ParkingError;
pub use marker::{Holder, Marker, CLAIM_FIELD, LEASE_MS, PICKUP_FIELD};
pub use ownership::{ParkFacts, ParkReads};
pub use pickup::{
    pickup, pickup_target, pickup_twiml, CallUpdate, ConditionalUpdate, PickupItem, PickupPlan,
    PickupRequest, PickupTarget, StoredItem, PICKUPS_MAP, PICKUP_TWIML_PATH,
};
pub use record::{worker_map, ParkedCall, GLOBAL_MAP, PARKED_ITEM_TTL, SYNC_ITEM_MAX_BYTES};

/// The hold music asset when `HOLD_MUSIC_PATH` is not set.
pub const DEFAULT_HOLD_MUSIC: &str = "hold_music_1.mp3";
/// The function Twilio calls with the parked call's status changes.
pub const STATUS_CALLBACK_PATH: &str = "call-status-handler";
/// Twilio's webhook connection overrides on the status callback URL: retry up to 3 times when
/// the handler answers 5xx or the connection or read times out. The handler answers 5xx exactly
/// when a redelivery can finish the wrap-up (see the `call-status` crate).
pub const STATUS_CALLBACK_OVERRIDES: &str = "#rc=3&rp=5xx,ct,rt";
/// `conversations.outcome` of the wrap-up task for a caller who hung up while parked.
pub const HANGUP_OUTCOME: &str = "Hangup While Parked";

/// Where the service runs: `DOMAIN_NAME` and `HOLD_MUSIC_PATH` from the function context.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub domain_name: Option<String>,
    pub hold_music_path: Option<String>,
}

/// park-call's form parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkRequest {
    pub attributes: Option<String>,
    pub call_sid: Option<String>,
    pub name: Option<String>,
    pub queue_name: Option<String>,
    pub task_sid: Option<String>,
    pub worker_sid: Option<String>,
    pub workflow_sid: Option<String>,
}

/// worker-capacity's form parameters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityRequest {
    pub capacity: Option<String>,
    pub worker_channel_sid: Option<String>,
    pub worker_sid: Option<String>,
}

/// A Sync map item to create, or update when its key exists (creating the map if missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncUpsert {
    pub map: String,
    pub key: String,
    pub data: Value,
    /// Item TTL in seconds.
    pub ttl: u32,
}

/// A Sync map item to delete (absent is fine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncDelete {
    pub map: String,
    pub key: String,
}

/// What park-call does: update the call, then (only if that succeeded) write `sync`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkPlan {
    pub call_sid: String,
    pub twiml: String,
    pub status_callback: String,
    pub record: ParkedCall,
    pub sync: Vec<SyncUpsert>,
}

/// What worker-capacity does: set the channel's capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityPlan {
    pub worker_sid: String,
    pub worker_channel_sid: String,
    pub capacity: u32,
}

/// The largest capacity accepted (a sanity bound; TaskRouter voice channels are usually 1 or 2).
pub const MAX_CAPACITY: u32 = 50;

pub(crate) fn now(now_ms: f64) -> Result<chrono::DateTime<chrono::Utc>, ParkingError> {
    time::instant(now_ms).ok_or_else(|| ParkingError::InvalidParameter {
        name: "now",
        problem: format!("{now_ms} is not an instant in milliseconds since 1970"),
    })
}

/// `https://{DOMAIN_NAME}/{hold music path}`, percent-encoding what a URL path cannot carry.
pub fn hold_music_url(settings: &Settings) -> Result<String, ParkingError> {
    let domain = domain(settings)?;
    let path = settings
        .hold_music_path
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_HOLD_MUSIC)
        .trim_start_matches('/');
    if path.is_empty() || path.split('/').any(|seg| seg == "..") {
        return Err(ParkingError::InvalidConfig(values::env::EnvError::new(
            "HOLD_MUSIC_PATH",
            path,
            "is not a path to an asset of this service",
        )));
    }
    let mut encoded = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(format!("https://{domain}/{encoded}"))
}

pub(crate) fn domain(settings: &Settings) -> Result<&str, ParkingError> {
    let domain = settings.domain_name.as_deref().map(str::trim).unwrap_or("");
    let ok = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if ok {
        Ok(domain)
    } else {
        Err(ParkingError::InvalidConfig(values::env::EnvError::new(
            "DOMAIN_NAME",
            domain,
            "is not a host name (the runtime sets it to the service's domain)",
        )))
    }
}

/// Plans park-call: hold-music TwiML, the status callback, the record and its two Sync entries.
pub fn park(req: &ParkRequest, settings: &Settings, now_ms: f64) -> Result<ParkPlan, ParkingError> {
    let attributes = record::attributes(&req.attributes)?;
    let call_sid = record::sid(&req.call_sid, "callSid", "CA", "call SID")?;
    let name = record::required(&req.name, "name", "the caller's name as Flex shows it")?;
    let queue_name = record::required(&req.queue_name, "queueName", "the task queue's name")?;
    record::sid(&req.task_sid, "taskSid", "WT", "task SID")?;
    let worker_sid = record::sid(&req.worker_sid, "workerSid", "WK", "worker SID")?;
    let workflow_sid = record::sid(&req.workflow_sid, "workflowSid", "WW", "workflow SID")?;
    let now = now(now_ms)?;

    let twiml = twiml::hold(&hold_music_url(settings)?);
    check_twiml("park", &twiml)?;
    let record = ParkedCall {
        attributes,
        call_sid: call_sid.to_string(),
        date_created: time::iso(now),
        name: name.to_string(),
        queue_name: queue_name.to_string(),
        worker_sid: worker_sid.to_string(),
        workflow_sid: workflow_sid.to_string(),
    };
    let data = serde_json::to_value(&record).unwrap_or(Value::Null);
    let size = serde_json::to_string(&data)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    let limit = SYNC_ITEM_MAX_BYTES - record::RECORD_HEADROOM;
    if size > limit {
        return Err(ParkingError::RecordTooLarge { size, limit });
    }
    let sync = [worker_map(worker_sid), GLOBAL_MAP.to_string()]
        .into_iter()
        .map(|map| SyncUpsert {
            map,
            key: call_sid.to_string(),
            data: data.clone(),
            ttl: PARKED_ITEM_TTL,
        })
        .collect();
    Ok(ParkPlan {
        call_sid: call_sid.to_string(),
        twiml,
        status_callback: format!(
            "https://{}/{STATUS_CALLBACK_PATH}{STATUS_CALLBACK_OVERRIDES}",
            domain(settings)?
        ),
        record,
        sync,
    })
}

/// Plans worker-capacity.
pub fn capacity(req: &CapacityRequest) -> Result<CapacityPlan, ParkingError> {
    let raw = record::required(&req.capacity, "capacity", "the channel's new capacity")?;
    let capacity = raw
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|c| *c <= MAX_CAPACITY)
        .ok_or_else(|| ParkingError::InvalidParameter {
            name: "capacity",
            problem: format!("{raw:?} is not a whole number from 0 to {MAX_CAPACITY}"),
        })?;
    let worker_channel_sid = record::sid(
        &req.worker_channel_sid,
        "workerChannelSid",
        "WC",
        "worker channel SID",
    )?;
    let worker_sid = record::sid(&req.worker_sid, "workerSid", "WK", "worker SID")?;
    Ok(CapacityPlan {
        worker_sid: worker_sid.to_string(),
        worker_channel_sid: worker_channel_sid.to_string(),
        capacity,
    })
}

fn check_twiml(purpose: &'static str, twiml: &str) -> Result<(), ParkingError> {
    let length = twiml::chars(twiml);
    if length > twiml::TWIML_MAX_CHARS {
        return Err(ParkingError::TwimlTooLong {
            purpose,
            length,
            limit: twiml::TWIML_MAX_CHARS,
        });
    }
    Ok(())
}

/// Runs `f` on `conversations` as an object (created when missing; replaced if it is not an
/// object, which the request checks rule out for attributes that came through park or pickup).
fn with_conversations(
    attributes: &mut Map<String, Value>,
    f: impl FnOnce(&mut Map<String, Value>),
) {
    let mut conv = match attributes.remove("conversations") {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    f(&mut conv);
    attributes.insert("conversations".into(), Value::Object(conv));
}

fn missing(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

/// The pickup task's attributes: the parked call's attributes plus `autoAnswer: true`,
/// `isParkPickup: true`, `targetWorker`, `conversations.hold_time` (seconds parked) and
/// `conversations.queue_time: 0`; `name` and `conversations.queue` filled when missing.
pub fn pickup_task_attributes(
    mut attributes: Map<String, Value>,
    worker_sid: &str,
    name: &str,
    queue_name: &str,
    hold_time: i64,
) -> Map<String, Value> {
    attributes.insert("autoAnswer".into(), Value::Bool(true));
    attributes.insert("isParkPickup".into(), Value::Bool(true));
    attributes.insert("targetWorker".into(), Value::String(worker_sid.into()));
    if missing(attributes.get("name")) {
        attributes.insert("name".into(), Value::String(name.into()));
    }
    with_conversations(&mut attributes, |conv| {
        conv.insert("hold_time".into(), Value::from(hold_time));
        conv.insert("queue_time".into(), Value::from(0));
        if missing(conv.get("queue")) {
            conv.insert("queue".into(), Value::String(queue_name.into()));
        }
    });
    attributes
}

/// The wrap-up task's attributes for a caller who hung up while parked: the parked call's
/// attributes plus `isParkHangup: true`, `targetWorker`, `autoComplete: false`, `call_sid`,
/// `name` (filled when missing) and `conversations.outcome` / `conversations.hold_time`.
pub fn hangup_task_attributes(record: &ParkedCall, hold_time: i64) -> Map<String, Value> {
    let mut attributes = record.attributes.clone();
    attributes.insert("isParkHangup".into(), Value::Bool(true));
    attributes.insert(
        "targetWorker".into(),
        Value::String(record.worker_sid.clone()),
    );
    attributes.insert("autoComplete".into(), Value::Bool(false));
    attributes.insert("call_sid".into(), Value::String(record.call_sid.clone()));
    if missing(attributes.get("name")) {
        attributes.insert("name".into(), Value::String(record.name.clone()));
    }
    with_conversations(&mut attributes, |conv| {
        conv.insert("outcome".into(), Value::String(HANGUP_OUTCOME.into()));
        conv.insert("hold_time".into(), Value::from(hold_time));
    });
    attributes
}

/// Whole seconds a record has been parked at `now_ms` (0 if its date is unreadable).
pub fn hold_time(record: &ParkedCall, now_ms: f64) -> i64 {
    match (
        time::parse_date(&record.date_created),
        time::instant(now_ms),
    ) {
        (Some(since), Some(now)) => time::seconds_between(since, now),
        _ => 0,
    }
}

/// `now_ms` as the records' date format (`2024-05-01T12:00:00.000Z`), if it is a valid instant.
pub fn iso_date(now_ms: f64) -> Option<String> {
    time::instant(now_ms).map(time::iso)
}

#[cfg(test)]
mod tests;
