//! Markers on a `Global.ParkedCalls` entry: who is acting on the parked call right now.
//!
//! Two steps must never both happen for one parked call: a pickup (the caller goes back to an
//! agent) and a hang-up wrap-up (a "Hangup While Parked" task). Each step first writes its marker
//! on the global entry with `If-Match` the revision it read, so Sync's atomic conditional update
//! lets exactly one of any number of concurrent requests in:
//!
//! - `pickedUp` (field [`PICKUP_FIELD`]): a pickup is redirecting, or has redirected, the call.
//! - `wrapUp` (field [`CLAIM_FIELD`]): a wrap-up owns the entry.
//!
//! A marker carries the **token** of the request that wrote it (a random id the shim draws per
//! request), so a request whose write succeeded but whose answer was lost recognises its own
//! marker on re-read, and the instant it was written. A marker older than [`LEASE_MS`] belongs to
//! a request that is over (a Twilio Function runs at most 10 s), so another request may take it
//! over. A wrap-up that fails after claiming writes `released: true` (and the wrap-up task's SID
//! once it exists) so that Twilio's redelivery of the callback can finish the job at once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time;

/// The field of the global entry that marks a pickup.
pub const PICKUP_FIELD: &str = "pickedUp";
/// The field of the global entry that marks it claimed by a wrap-up.
pub const CLAIM_FIELD: &str = "wrapUp";
/// How long a marker protects its writer: a Function never runs longer than 10 s.
pub const LEASE_MS: i64 = 10_000;

/// A marker as stored. Every field is optional when read, so a foreign or damaged marker is
/// still understood (as someone else's, written at an unknown time: stale).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marker {
    #[serde(default)]
    pub token: String,
    /// When it was written (RFC 3339).
    #[serde(default)]
    pub at: String,
    /// The writer gave up and left the rest to the next request.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub released: bool,
    /// The wrap-up task, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_sid: Option<String>,
    /// The call status that started a wrap-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// Whose a marker is, seen from a request with `token` at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// This request wrote it.
    Mine,
    /// Written by a request that is over, or released: it may be taken over.
    Stale,
    /// Another request holds it now.
    Other,
}

impl Marker {
    /// A fresh marker of `token` at `now`.
    pub fn new(token: &str, now: DateTime<Utc>) -> Marker {
        Marker {
            token: token.to_string(),
            at: time::iso(now),
            ..Marker::default()
        }
    }

    /// Whose the marker is for a request with `token` at `now`.
    pub fn holder(&self, token: &str, now: DateTime<Utc>) -> Holder {
        if !self.token.is_empty() && self.token == token {
            return Holder::Mine;
        }
        if self.released {
            return Holder::Stale;
        }
        match time::parse_date(&self.at) {
            Some(at) if time::millis_between(at, now) < LEASE_MS => Holder::Other,
            _ => Holder::Stale,
        }
    }
}

/// The marker in `field` of an entry's data, if there is one (a non-object reads as a default,
/// that is stale, marker).
pub fn marker_of(data: &Map<String, Value>, field: &str) -> Option<Marker> {
    data.get(field)
        .map(|v| serde_json::from_value(v.clone()).unwrap_or_default())
}

/// The entry's data without any marker: the parked-call record as park wrote it.
pub fn unmarked(data: &Map<String, Value>) -> Map<String, Value> {
    let mut clean = data.clone();
    clean.remove(PICKUP_FIELD);
    clean.remove(CLAIM_FIELD);
    clean
}

/// The record with `marker` in `field` (any other marker removed).
pub fn with_marker(data: &Map<String, Value>, field: &str, marker: &Marker) -> Map<String, Value> {
    let mut out = unmarked(data);
    out.insert(
        field.to_string(),
        serde_json::to_value(marker).unwrap_or(Value::Null),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn holders() {
        let now = time::instant(1_714_564_800_000.0).expect("now");
        let later = time::instant(1_714_564_811_000.0).expect("later");
        let m = Marker::new("t1", now);
        assert_eq!(m.holder("t1", later), Holder::Mine);
        assert_eq!(m.holder("t2", now), Holder::Other);
        assert_eq!(m.holder("t2", later), Holder::Stale);
        let released = Marker {
            released: true,
            ..m.clone()
        };
        assert_eq!(released.holder("t2", now), Holder::Stale);
        assert_eq!(Marker::default().holder("", now), Holder::Stale);
        let data = json!({"a": 1, "wrapUp": "junk", "pickedUp": {"token": "x"}});
        let Value::Object(map) = data else { panic!() };
        assert_eq!(marker_of(&map, CLAIM_FIELD), Some(Marker::default()));
        assert_eq!(unmarked(&map), {
            let Value::Object(m) = json!({"a": 1}) else {
                panic!()
            };
            m
        });
    }
}
