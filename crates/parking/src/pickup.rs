//! Pickup: the parked-call record in Sync decides, not the request.
//!
//! The Flex plugin posts `attributes`, `dateCreated`, `name`, `queueName`, `workerSid` and
//! `workflowSid` with the call SID; they are accepted (drop-in) and ignored. The call SID finds
//! the `Global.ParkedCalls` entry ([`pickup_target`]); [`pickup`] plans from that entry:
//!
//! - no entry: the call is not parked, `404 not_parked`, nothing is touched;
//! - the entry's worker is who the shim must authorize for (an agent picks up only their own
//!   parked calls; supervisors and admins anyone's);
//! - the task attributes, workflow and parking time come from the record.
//!
//! Steps, in order: (1) mark the entry `pickedUp` (`If-Match` the revision read; see
//! [`crate::marker`]) so that the call's later end never yields a "Hangup While Parked" task,
//! whatever fails afterwards; (2) redirect the call; (3) remove both entries. If the redirect
//! fails for certain, the mark is taken back (`unmark`).
//!
//! **Size.** A call update carries at most 4,000 characters of TwiML, but park accepts attributes
//! up to the Sync item limit. When the `<Enqueue>` TwiML would be longer, the plan writes the
//! pickup (workflow and task attributes) to the `ParkedCalls.Pickups` map and redirects the call
//! with a `Url` to the protected `pickup-twiml` function, which answers the same TwiML built from
//! that item ([`pickup_twiml`]); a TwiML document fetched from a URL has no 4,000 limit.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::marker::{self, Holder, Marker, CLAIM_FIELD, PICKUP_FIELD};
use crate::{
    domain, now, pickup_task_attributes, record, twiml, worker_map, ParkedCall, ParkingError,
    Settings, SyncDelete, SyncUpsert, GLOBAL_MAP, SYNC_ITEM_MAX_BYTES,
};

/// The map holding pickups too large for inline TwiML, keyed by call SID.
pub const PICKUPS_MAP: &str = "ParkedCalls.Pickups";
/// How long a pickup item lives (seconds): Twilio fetches the URL within moments.
pub const PICKUP_ITEM_TTL: u32 = 600;
/// The protected function that answers a large pickup's TwiML.
pub const PICKUP_TWIML_PATH: &str = "pickup-twiml";

/// pickup-parked-call's form parameters. Only `callSid` is read; the others are the plugin's and
/// are accepted and ignored (the record has them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupRequest {
    pub call_sid: Option<String>,
    pub attributes: Option<String>,
    pub date_created: Option<String>,
    pub name: Option<String>,
    pub queue_name: Option<String>,
    pub worker_sid: Option<String>,
    pub workflow_sid: Option<String>,
}

/// A Sync map item as fetched: its data and revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredItem {
    pub data: Value,
    pub revision: String,
}

/// A conditional update of a Sync map item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalUpdate {
    pub map: String,
    pub key: String,
    pub data: Value,
    /// `If-Match`; `None` means "the revision the previous step produced".
    pub if_match: Option<String>,
}

/// The item to read first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupTarget {
    pub call_sid: String,
    pub map: String,
    pub key: String,
}

/// The call update of a pickup: inline `twiml`, or a `url` (method POST) answering it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twiml: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// What pickup-parked-call does, in order: `pickup_item` (if any), `mark`, `call_update`, then
/// the `sync` deletes; `unmark` when the call update failed for certain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupPlan {
    pub call_sid: String,
    /// The worker the call was parked by: the request must be allowed to act for them.
    pub worker_sid: String,
    pub pickup_item: Option<SyncUpsert>,
    pub mark: ConditionalUpdate,
    pub call_update: CallUpdate,
    pub unmark: ConditionalUpdate,
    pub sync: Vec<SyncDelete>,
    pub task_attributes: Map<String, Value>,
    pub hold_time: i64,
}

/// What a `ParkedCalls.Pickups` item holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupItem {
    pub workflow_sid: String,
    pub task_attributes: Map<String, Value>,
}

/// Checks the call SID and names the entry to read.
pub fn pickup_target(req: &PickupRequest) -> Result<PickupTarget, ParkingError> {
    let call_sid = record::sid(&req.call_sid, "callSid", "CA", "call SID")?;
    Ok(PickupTarget {
        call_sid: call_sid.to_string(),
        map: GLOBAL_MAP.into(),
        key: call_sid.into(),
    })
}

/// Plans a pickup from the call's `Global.ParkedCalls` entry (`None`: there is none).
pub fn pickup(
    req: &PickupRequest,
    entry: Option<&StoredItem>,
    token: &str,
    settings: &Settings,
    now_ms: f64,
) -> Result<PickupPlan, ParkingError> {
    let target = pickup_target(req)?;
    let call_sid = target.call_sid.as_str();
    let now = now(now_ms)?;
    let entry = entry.ok_or_else(|| ParkingError::NotParked(call_sid.to_string()))?;
    let Value::Object(data) = &entry.data else {
        return Err(ParkingError::UnreadableRecord(call_sid.to_string()));
    };
    if let Some(claim) = marker::marker_of(data, CLAIM_FIELD) {
        if claim.holder(token, now) != Holder::Mine {
            return Err(ParkingError::CallEnded(call_sid.to_string()));
        }
    }
    if let Some(other) = marker::marker_of(data, PICKUP_FIELD) {
        if other.holder(token, now) == Holder::Other {
            return Err(ParkingError::PickupInProgress(call_sid.to_string()));
        }
    }
    let clean = marker::unmarked(data);
    let record: ParkedCall = serde_json::from_value(Value::Object(clean.clone()))
        .map_err(|_| ParkingError::UnreadableRecord(call_sid.to_string()))?;
    if record.call_sid != call_sid
        || !values::sid::is_sid(&record.worker_sid, "WK")
        || !values::sid::is_sid(&record.workflow_sid, "WW")
    {
        return Err(ParkingError::UnreadableRecord(call_sid.to_string()));
    }
    let hold_time = crate::hold_time(&record, now_ms);
    let task_attributes = pickup_task_attributes(
        record.attributes.clone(),
        &record.worker_sid,
        &record.name,
        &record.queue_name,
        hold_time,
    );
    let inline = enqueue_twiml(&record.workflow_sid, &task_attributes);
    let (call_update, pickup_item) = if twiml::chars(&inline) <= twiml::TWIML_MAX_CHARS {
        let update = CallUpdate {
            twiml: Some(inline),
            url: None,
            method: None,
        };
        (update, None)
    } else {
        let item = PickupItem {
            workflow_sid: record.workflow_sid.clone(),
            task_attributes: task_attributes.clone(),
        };
        let data = serde_json::to_value(&item).unwrap_or(Value::Null);
        let size = serde_json::to_string(&data)
            .map(|s| s.len())
            .unwrap_or(usize::MAX);
        if size > SYNC_ITEM_MAX_BYTES {
            return Err(ParkingError::RecordTooLarge {
                size,
                limit: SYNC_ITEM_MAX_BYTES,
            });
        }
        let update = CallUpdate {
            twiml: None,
            url: Some(format!("https://{}/{PICKUP_TWIML_PATH}", domain(settings)?)),
            method: Some("POST".into()),
        };
        let upsert = SyncUpsert {
            map: PICKUPS_MAP.into(),
            key: call_sid.into(),
            data,
            ttl: PICKUP_ITEM_TTL,
        };
        (update, Some(upsert))
    };
    let mark = marker::with_marker(&clean, PICKUP_FIELD, &Marker::new(token, now));
    Ok(PickupPlan {
        call_sid: call_sid.to_string(),
        worker_sid: record.worker_sid.clone(),
        pickup_item,
        mark: ConditionalUpdate {
            map: GLOBAL_MAP.into(),
            key: call_sid.into(),
            data: Value::Object(mark),
            if_match: Some(entry.revision.clone()),
        },
        call_update,
        unmark: ConditionalUpdate {
            map: GLOBAL_MAP.into(),
            key: call_sid.into(),
            data: Value::Object(clean),
            if_match: None,
        },
        sync: [worker_map(&record.worker_sid), GLOBAL_MAP.to_string()]
            .into_iter()
            .map(|map| SyncDelete {
                map,
                key: call_sid.to_string(),
            })
            .collect(),
        task_attributes,
        hold_time,
    })
}

fn enqueue_twiml(workflow_sid: &str, attributes: &Map<String, Value>) -> String {
    let json = serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_string());
    twiml::enqueue_task(workflow_sid, &json)
}

/// The pickup TwiML `pickup-twiml` answers for `call_sid` from its `ParkedCalls.Pickups` item.
pub fn pickup_twiml(call_sid: Option<&str>, item: Option<&Value>) -> Result<String, ParkingError> {
    let owned = call_sid.map(str::to_string);
    let call_sid = record::sid(&owned, "CallSid", "CA", "call SID")?;
    let item = item.ok_or_else(|| ParkingError::NotParked(call_sid.to_string()))?;
    let pickup: PickupItem = serde_json::from_value(item.clone())
        .map_err(|_| ParkingError::UnreadableRecord(call_sid.to_string()))?;
    if !values::sid::is_sid(&pickup.workflow_sid, "WW") {
        return Err(ParkingError::UnreadableRecord(call_sid.to_string()));
    }
    Ok(enqueue_twiml(&pickup.workflow_sid, &pickup.task_attributes))
}
