//! Reading TaskRouter events as they come, from the Events API (`event_type`, `event_date`,
//! `event_data`; snake or camel case) or the event callback (`EventType`, `EventDateMs`…): the
//! field readers the handle-time and agent rules share.

use serde_json::Value;

/// The first of `names` present as a non-blank string, trimmed.
pub(crate) fn text<'a>(v: &'a Value, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| v.get(*n).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The event's instant in ms: `eventDateMs` (a number or numeric text), else `eventDate` in
/// RFC 3339; `None` when neither reads as a finite instant.
pub(crate) fn millis(v: &Value) -> Option<f64> {
    for name in ["eventDateMs", "event_date_ms", "EventDateMs"] {
        if let Some(ms) = v.get(name).and_then(|x| {
            x.as_f64()
                .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
        }) {
            return Some(ms).filter(|m: &f64| m.is_finite());
        }
    }
    let date = text(v, &["eventDate", "event_date", "EventDate"])?;
    chrono::DateTime::parse_from_rfc3339(date)
        .ok()
        .map(|d| d.timestamp_millis() as f64)
}

/// The event's type.
pub(crate) fn event_type(v: &Value) -> Option<&str> {
    text(v, &["eventType", "event_type", "EventType"])
}

/// The event's data (`eventData`/`event_data`), or the event itself when it is flat (the
/// event callback's form).
pub(crate) fn data(v: &Value) -> &Value {
    ["eventData", "event_data"]
        .iter()
        .find_map(|n| v.get(*n))
        .unwrap_or(v)
}
