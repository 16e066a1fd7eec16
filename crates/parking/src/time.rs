//! Instants: the caller passes `now` in milliseconds since 1970 (JavaScript's `Date.now()`);
//! records carry RFC 3339 UTC strings with milliseconds, as `new Date().toISOString()` writes.
//! The parsing is the shared `values::instant`; this module only names what parking needs.

use chrono::{DateTime, Utc};
use values::instant;

/// `now_ms` as a UTC instant, or `None` when it is not a finite, representable instant.
pub(crate) fn instant(now_ms: f64) -> Option<DateTime<Utc>> {
    instant::from_millis(now_ms)
}

/// `2024-05-01T12:00:00.000Z`.
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    instant::iso_millis(at)
}

/// Reads a `dateCreated`: RFC 3339 (any offset) or a number of milliseconds since 1970.
pub(crate) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    instant::parse(text)
}

/// Whole seconds from `since` to `now`; never negative (clocks of different hosts disagree).
pub(crate) fn seconds_between(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_seconds().max(0)
}

/// Milliseconds from `since` to `now` (negative when `since` is later).
pub(crate) fn millis_between(since: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - since).num_milliseconds()
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
    }

    #[test]
    fn hold_time_is_never_negative() {
        let a = instant(10_000.0).expect("valid");
        let b = instant(75_999.0).expect("valid");
        assert_eq!(seconds_between(a, b), 65);
        assert_eq!(seconds_between(b, a), 0);
        assert_eq!(millis_between(a, b), 65_999);
    }
}
