//! "Today" in the contact center's time zone: the `StartDate` of cumulative statistics.

use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;

use crate::error::InputError;

/// The instant `now_ms` (milliseconds since 1970, as `Date.now()` gives it), within the range
/// every crate accepts ([`values::instant::from_millis`]).
pub fn instant(now_ms: f64) -> Result<DateTime<Utc>, InputError> {
    values::instant::from_millis(now_ms).ok_or_else(|| InputError::InvalidNow(now_ms.to_string()))
}

/// The first instant of `now`'s local date in `zone`: its midnight read by the service's one DST
/// rule ([`values::time::DST_RULE`]).
///
/// - **fold** (midnight happens twice, as when clocks go back at 00:00/01:00): the *earlier*
///   midnight, so the day is never shortened;
/// - **gap** (midnight does not exist, as in zones that spring forward at 00:00, e.g.
///   America/Santiago or, historically, America/Sao_Paulo): moved forward by the gap, which is
///   the instant the clocks jumped.
pub fn start_of_day(zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    values::time::day_start(&zone, values::time::local_date(&zone, now))
}

/// The start of the local day after the one containing `now` (when "today" next rolls over).
pub fn start_of_next_day(zone: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    match values::time::local_date(&zone, now).checked_add_days(Days::new(1)) {
        Some(next) => values::time::day_start(&zone, next),
        None => now,
    }
}

/// ISO 8601 in UTC with second precision, as TaskRouter writes `start_time`: `2024-03-10T05:00:00Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    values::instant::iso_seconds(t)
}

/// ISO 8601 in UTC with milliseconds, for `updatedAt` and `oldestTaskEnteredAt`.
pub fn iso_ms(t: DateTime<Utc>) -> String {
    values::instant::iso_millis(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn utc_midnight() {
        assert_eq!(
            start_of_day(Tz::UTC, at("2024-05-01T17:45:00Z")),
            at("2024-05-01T00:00:00Z")
        );
    }

    #[test]
    fn local_midnight_is_not_utc_midnight() {
        // 02:30 UTC on 1 May is still 30 April in New York (EDT, UTC-4).
        let start = start_of_day(chrono_tz::America::New_York, at("2024-05-01T02:30:00Z"));
        assert_eq!(start, at("2024-04-30T04:00:00Z"));
        // Sydney is ahead: 15:00 UTC on 1 May is 01:00 on 2 May (AEST, UTC+10).
        let start = start_of_day(chrono_tz::Australia::Sydney, at("2024-05-01T15:00:00Z"));
        assert_eq!(start, at("2024-05-01T14:00:00Z"));
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let ny = chrono_tz::America::New_York;
        // Spring forward on 2024-03-10: the day starts at 05:00Z (EST) and the next at 04:00Z.
        let now = at("2024-03-10T18:00:00Z");
        assert_eq!(start_of_day(ny, now), at("2024-03-10T05:00:00Z"));
        assert_eq!(start_of_next_day(ny, now), at("2024-03-11T04:00:00Z"));
        // Fall back on 2024-11-03: 25 hours.
        let now = at("2024-11-03T12:00:00Z");
        assert_eq!(start_of_day(ny, now), at("2024-11-03T04:00:00Z"));
        assert_eq!(start_of_next_day(ny, now), at("2024-11-04T05:00:00Z"));
    }

    #[test]
    fn midnight_in_a_gap_starts_the_day_when_the_clocks_jump() {
        // Santiago springs forward at 24:00 on 2024-09-07: 2024-09-08 00:00 does not exist and
        // the day begins at 01:00 local (-03), which is 04:00Z.
        let santiago = chrono_tz::America::Santiago;
        let start = start_of_day(santiago, at("2024-09-08T15:00:00Z"));
        assert_eq!(start, at("2024-09-08T04:00:00Z"));
        assert_eq!(start.with_timezone(&santiago).hour(), 1);
    }

    #[test]
    fn midnight_in_a_fold_takes_the_earlier_one() {
        // Havana falls back at 01:00 CDT to 00:00 CST on 2023-11-05, so 00:00..01:00 happens
        // twice: at 04:00Z (CDT, -4) and at 05:00Z (CST, -5). The day starts at the first.
        let havana = chrono_tz::America::Havana;
        let start = start_of_day(havana, at("2023-11-05T12:00:00Z"));
        assert_eq!(start, at("2023-11-05T04:00:00Z"));
    }

    #[test]
    fn instants_out_of_range_are_errors() {
        // One valid range for every crate (values::instant): the years 0000 to 9999, so -1 ms
        // (1969-12-31T23:59:59.999Z), once refused here, is an instant; a year before 0000 is not.
        for bad in [f64::NAN, f64::INFINITY, -62_167_219_200_001.0, 1e300] {
            assert!(matches!(instant(bad), Err(InputError::InvalidNow(_))));
        }
        assert_eq!(instant(-1.0).unwrap(), at("1969-12-31T23:59:59.999Z"));
        assert_eq!(instant(0.0).unwrap(), at("1970-01-01T00:00:00Z"));
        assert_eq!(
            iso_ms(instant(1_714_521_600_123.0).unwrap()),
            "2024-05-01T00:00:00.123Z"
        );
    }

    proptest! {
        #[test]
        fn today_contains_now_and_is_at_most_a_day_long(
            ms in 0i64..4_102_444_800_000i64,
            zone_index in 0usize..chrono_tz::TZ_VARIANTS.len(),
        ) {
            let zone = chrono_tz::TZ_VARIANTS[zone_index];
            let now = DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
            let start = start_of_day(zone, now);
            let next = start_of_next_day(zone, now);
            prop_assert!(start <= now, "{zone}: start {start} after now {now}");
            prop_assert!(now < next || next == now, "{zone}: next {next} not after now {now}");
            prop_assert!(now - start < chrono::Duration::hours(27), "{zone}: {start} .. {now}");
            // The start is on the same local date as now.
            prop_assert_eq!(start.with_timezone(&zone).date_naive(), now.with_timezone(&zone).date_naive());
        }
    }
}
