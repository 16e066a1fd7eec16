//! Instants: the caller passes `now` in milliseconds since 1970 (JavaScript's `Date.now()`);
//! records carry RFC 3339 UTC strings with milliseconds, as `new Date().toISOString()` writes.

use chrono::{DateTime, SecondsFormat, Utc};

/// `now_ms` as a UTC instant, or `None` when it is not a finite, representable instant.
pub(crate) fn instant(now_ms: f64) -> Option<DateTime<Utc>> {
    if !now_ms.is_finite() || now_ms.abs() > 8.64e15 {
        return None;
    }
    // In range by the check above, so the cast neither saturates nor wraps.
    DateTime::from_timestamp_millis(now_ms.trunc() as i64)
}

/// `2024-05-01T12:00:00.000Z`.
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a `dateCreated`: RFC 3339 (any offset) or a number of milliseconds since 1970.
pub(crate) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    text.parse::<f64>().ok().and_then(instant)
}

/// Whole seconds from `since` to `now`; never negative (clocks of different hosts disagree).
pub(crate) fn seconds_between(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_seconds().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let at = instant(1_714_564_800_123.0).expect("valid");
        assert_eq!(iso(at), "2024-05-01T12:00:00.123Z");
        assert_eq!(parse_date("2024-05-01T14:00:00.123+02:00"), Some(at));
        assert_eq!(parse_date("1714564800123"), Some(at));
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(instant(f64::NAN), None);
        assert_eq!(instant(f64::INFINITY), None);
        assert_eq!(instant(1e300), None);
    }

    #[test]
    fn hold_time_is_never_negative() {
        let a = instant(10_000.0).expect("valid");
        let b = instant(75_999.0).expect("valid");
        assert_eq!(seconds_between(a, b), 65);
        assert_eq!(seconds_between(b, a), 0);
    }
}
