//! The parked-call record stored in Sync, and the request parameters it is made from.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ParkingError;

/// Sync map of every parked call (the Flex plugin lists it).
pub const GLOBAL_MAP: &str = "Global.ParkedCalls";
/// How long a parked-call entry lives in Sync, in seconds (a day, as the published solution).
pub const PARKED_ITEM_TTL: u32 = 86_400;
/// A Sync item holds at most 16 KiB of JSON.
pub const SYNC_ITEM_MAX_BYTES: usize = 16 * 1024;
/// Room kept in a record for the fields a caller hang-up adds later.
pub(crate) const RECORD_HEADROOM: usize = 256;

/// The per-worker Sync map of parked calls: `${workerSid}.ParkedCalls`.
pub fn worker_map(worker_sid: &str) -> String {
    format!("{worker_sid}.ParkedCalls")
}

/// One parked call, as stored (key = call SID) in both `${workerSid}.ParkedCalls` and
/// `Global.ParkedCalls`. Field names are the published solution's, so the Flex plugin reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkedCall {
    /// The parked task's attributes (a JSON object), kept whole.
    pub attributes: Map<String, Value>,
    pub call_sid: String,
    /// When the call was parked (RFC 3339, UTC, milliseconds).
    pub date_created: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub queue_name: String,
    pub worker_sid: String,
    pub workflow_sid: String,
}

/// A form parameter that must be present and not blank; its value is kept exactly as sent.
pub(crate) fn required<'a>(
    value: &'a Option<String>,
    name: &'static str,
    what: &'static str,
) -> Result<&'a str, ParkingError> {
    match value.as_deref() {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ParkingError::MissingParameter { name, what }),
    }
}

/// A Twilio SID: `prefix` and 32 hexadecimal digits.
pub(crate) fn sid<'a>(
    value: &'a Option<String>,
    name: &'static str,
    prefix: &'static str,
    what: &'static str,
) -> Result<&'a str, ParkingError> {
    let v = required(value, name, what)?;
    if values::sid::is_sid(v, prefix) {
        Ok(v)
    } else {
        Err(ParkingError::InvalidParameter {
            name,
            problem: format!("{v:?} is not a {what} ({prefix} followed by 32 hexadecimal digits)"),
        })
    }
}

/// The `attributes` parameter: a JSON object whose `conversations`, when present, is an object.
pub(crate) fn attributes(value: &Option<String>) -> Result<Map<String, Value>, ParkingError> {
    let text = required(value, "attributes", "the task attributes as a JSON string")?;
    let parsed: Value = serde_json::from_str(text).map_err(|e| ParkingError::InvalidParameter {
        name: "attributes",
        problem: format!("not valid JSON ({e})"),
    })?;
    let Value::Object(map) = parsed else {
        return Err(ParkingError::InvalidParameter {
            name: "attributes",
            problem: format!("must be a JSON object, not {}", kind(&parsed)),
        });
    };
    match map.get("conversations") {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(map),
        Some(other) => Err(ParkingError::InvalidParameter {
            name: "attributes",
            problem: format!(
                "attributes.conversations must be an object, not {}",
                kind(other)
            ),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn sids_are_checked() {
        let good = format!("CA{}", "a1".repeat(16));
        assert_eq!(
            sid(&Some(good.clone()), "callSid", "CA", "call SID"),
            Ok(good.as_str())
        );
        let err = sid(&s("CAxyz"), "callSid", "CA", "call SID").unwrap_err();
        assert_eq!(err.code(), "invalid_parameter");
        assert!(err.to_string().contains("\"CAxyz\""), "{err}");
        let err = sid(&s("  "), "callSid", "CA", "call SID").unwrap_err();
        assert_eq!(err.code(), "missing_parameter");
        // Multi-byte input of the right length must not panic on slicing.
        let _ = sid(&s(&"é".repeat(17)), "callSid", "CA", "call SID");
    }

    #[test]
    fn attributes_must_be_an_object() {
        assert!(attributes(&s("{\"a\":1}")).is_ok());
        assert!(attributes(&s("[1]"))
            .unwrap_err()
            .to_string()
            .contains("an array"));
        assert!(attributes(&s("{"))
            .unwrap_err()
            .to_string()
            .contains("not valid JSON"));
        let err = attributes(&s("{\"conversations\":\"x\"}")).unwrap_err();
        assert!(
            err.to_string().contains("attributes.conversations"),
            "{err}"
        );
        assert_eq!(
            attributes(&None).unwrap_err().parameter(),
            Some("attributes")
        );
    }
}
