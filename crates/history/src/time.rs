//! Hours and days in the contact center's zone, as instants.
//!
//! A bucket is one local hour: from an instant whose local wall time is `HH:00` to the next such
//! instant. Buckets are identified by their start instant (UTC), never by their wall time, so the
//! repeated hour of a fold is two buckets and the missing hour of a gap is none: a local day has
//! 23 buckets on the day clocks spring forward and 25 on the day they fall back.
//!
//! Wall times given by a user (a range's `from` and `to`) and the start of a local day are read
//! by the service's one rule, [`values::time::DST_RULE`]: a wall time in a **gap** is moved
//! forward by the gap's length (read with the offset before the gap), a wall time in a **fold**
//! is the earlier instant; a day whose midnight is skipped starts when the clocks jumped.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use crate::error::HistoryError;

/// The instant of `ms` milliseconds since 1970 (as `Date.now()` gives it), within the range
/// every crate accepts ([`values::instant::from_millis`]).
pub fn instant(ms: f64) -> Result<DateTime<Utc>, HistoryError> {
    values::instant::from_millis(ms).ok_or_else(|| {
        HistoryError::Input(format!("{ms} is not an instant in milliseconds since 1970"))
    })
}

/// ISO 8601 in UTC with seconds: `2026-03-08T07:00:00Z`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The start of the local hour containing `t`.
pub fn hour_start(zone: Tz, t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&zone);
    let into = i64::from(local.minute()) * 60 + i64::from(local.second());
    let whole = t - Duration::seconds(into);
    // Drop sub-second parts.
    DateTime::<Utc>::from_timestamp(whole.timestamp(), 0).unwrap_or(whole)
}

/// The start of the local hour after the one starting at `h`.
pub fn next_hour(zone: Tz, h: DateTime<Utc>) -> DateTime<Utc> {
    let plain = h + Duration::hours(1);
    let aligned = hour_start(zone, plain);
    if aligned > h {
        aligned
    } else {
        plain
    }
}

/// The first instant of the local date `date` (see the module documentation).
pub fn day_start(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    values::time::day_start(&zone, date)
}

/// The instant of a local wall time (see the module documentation for gaps and folds).
pub fn wall_instant(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    values::time::instant_of(&zone, wall)
}

/// The local date of `t`.
pub fn local_date(zone: Tz, t: DateTime<Utc>) -> NaiveDate {
    values::time::local_date(&zone, t)
}

/// The start of the local day after `date`.
pub fn next_day_start(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    match date.succ_opt() {
        Some(next) => day_start(zone, next),
        None => day_start(zone, date) + Duration::days(1),
    }
}

/// The bucket starts from the hour containing `from` up to (not including) `to`.
pub fn hours(zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut h = hour_start(zone, from);
    while h < to {
        out.push(h);
        h = next_hour(zone, h);
    }
    out
}

/// Local hour of day (0–23) and ISO weekday (1 = Monday … 7 = Sunday) of a bucket start.
pub fn hour_of_day(zone: Tz, h: DateTime<Utc>) -> u32 {
    h.with_timezone(&zone).hour()
}

pub fn day_of_week(zone: Tz, h: DateTime<Utc>) -> u32 {
    h.with_timezone(&zone).weekday().number_from_monday()
}

/// The span `[from, to)` a query names at `now`: a `range` (`today`, `yesterday`, `last7`,
/// `last30`, whole local days; `last7` when nothing is given) or `from` and optional `to` (a date
/// alone is inclusive: up to the end of that day; no `to` is now). `range=custom` goes with
/// `from`/`to` (the history page sends it); any other range beside them is refused.
pub fn window(
    zone: Tz,
    now: DateTime<Utc>,
    range: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), HistoryError> {
    let today = local_date(zone, now);
    let day = |offset: i64| today - Duration::days(offset);
    let (from, to) = match (range, from, to) {
        (Some(r), Some(_), _) | (Some(r), _, Some(_)) if r != "custom" => {
            return Err(HistoryError::parameter(
                "range",
                r,
                "cannot be combined with from/to; give a range or from and to",
            ))
        }
        (_, Some(f), t) => {
            let (from, _) = parse_when(zone, "from", f)?;
            let to = match t {
                None => now,
                Some(t) => match parse_when(zone, "to", t)? {
                    (start, true) => next_day_start(zone, local_date(zone, start)),
                    (at, false) => at,
                },
            };
            (from, to)
        }
        (_, None, Some(t)) => {
            return Err(HistoryError::parameter(
                "from",
                "",
                format!("is missing; a range ending at {t} needs its start"),
            ))
        }
        (r, None, None) => {
            let (first, last) = match r.unwrap_or("last7") {
                "today" => (day(0), day(0)),
                "yesterday" => (day(1), day(1)),
                "last7" => (day(6), day(0)),
                "last30" => (day(29), day(0)),
                other => {
                    return Err(HistoryError::parameter(
                        "range",
                        other,
                        "is not a range; use today, yesterday, last7, last30, or from and to",
                    ))
                }
            };
            (day_start(zone, first), next_day_start(zone, last))
        }
    };
    if to <= from {
        return Err(HistoryError::parameter(
            "to",
            &iso(to),
            format!("must be after from ({})", iso(from)),
        ));
    }
    Ok((from, to))
}

/// Reads a user's `from` / `to`: `YYYY-MM-DD` (the start of that local day), `YYYY-MM-DDTHH`,
/// `YYYY-MM-DDTHH:MM[:SS]` (local wall time), or with `Z` / `±HH:MM` (that instant).
/// Answers the instant and whether only a date was given.
pub fn parse_when(
    zone: Tz,
    parameter: &'static str,
    text: &str,
) -> Result<(DateTime<Utc>, bool), HistoryError> {
    let t = text.trim();
    let bad = || {
        HistoryError::parameter(
            parameter,
            text,
            "is not a date or date-time: use YYYY-MM-DD, YYYY-MM-DDTHH:MM (wall time in the \
             history's zone) or an instant such as 2026-03-08T07:00:00Z",
        )
    };
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if !(1970..=9998).contains(&date.year()) {
            return Err(bad());
        }
        return Ok((day_start(zone, date), true));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok((at.with_timezone(&Utc), false));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(wall) = NaiveDateTime::parse_from_str(t, format) {
            if !(1970..=9998).contains(&wall.year()) {
                return Err(bad());
            }
            return Ok((wall_instant(zone, wall), false));
        }
    }
    if let Some((date, hour)) = t.split_once('T') {
        if let (Ok(date), Ok(hour)) = (NaiveDate::parse_from_str(date, "%Y-%m-%d"), hour.parse()) {
            if let Some(time) = NaiveTime::from_hms_opt(hour, 0, 0) {
                if (1970..=9998).contains(&date.year()) {
                    return Ok((wall_instant(zone, NaiveDateTime::new(date, time)), false));
                }
            }
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ny() -> Tz {
        "America/New_York".parse().unwrap()
    }

    #[test]
    fn a_window_is_a_range_or_from_and_to() {
        let zone = ny();
        let now = DateTime::parse_from_rfc3339("2026-03-10T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        // last7 by default: the seven local days ending today (one of them 23 hours long).
        assert_eq!(
            window(zone, now, None, None, None).unwrap(),
            (at("2026-03-04T05:00:00Z"), at("2026-03-11T04:00:00Z"))
        );
        // A date alone as `to` is inclusive; `custom` goes with from/to.
        assert_eq!(
            window(
                zone,
                now,
                Some("custom"),
                Some("2026-03-08"),
                Some("2026-03-08")
            )
            .unwrap(),
            (at("2026-03-08T05:00:00Z"), at("2026-03-09T04:00:00Z"))
        );
        let refused = |r, f, t| window(zone, now, r, f, t).unwrap_err().to_string();
        assert!(refused(Some("last7"), Some("2026-03-01"), None).contains("cannot be combined"));
        assert!(refused(None, None, Some("2026-03-01")).contains("is missing"));
        assert!(refused(Some("last9"), None, None).contains("is not a range"));
        assert!(refused(None, Some("2026-03-09"), Some("2026-03-08T12:00"))
            .contains("must be after from"));
    }

    fn day_hours(zone: Tz, y: i32, m: u32, d: u32) -> Vec<DateTime<Utc>> {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        hours(zone, day_start(zone, date), next_day_start(zone, date))
    }

    #[test]
    fn spring_forward_day_has_23_buckets() {
        let h = day_hours(ny(), 2026, 3, 8);
        assert_eq!(h.len(), 23);
        assert_eq!(iso(h[0]), "2026-03-08T05:00:00Z");
        assert_eq!(iso(h[1]), "2026-03-08T06:00:00Z"); // 01:00 EST
        assert_eq!(iso(h[2]), "2026-03-08T07:00:00Z"); // 03:00 EDT: 02:00 does not exist
        assert_eq!(hour_of_day(ny(), h[2]), 3);
        assert_eq!(iso(*h.last().unwrap()), "2026-03-09T03:00:00Z");
    }

    #[test]
    fn fall_back_day_has_25_buckets() {
        let h = day_hours(ny(), 2026, 11, 1);
        assert_eq!(h.len(), 25);
        assert_eq!(iso(h[1]), "2026-11-01T05:00:00Z"); // 01:00 EDT
        assert_eq!(iso(h[2]), "2026-11-01T06:00:00Z"); // 01:00 EST, the repeated hour
        assert_eq!(hour_of_day(ny(), h[1]), 1);
        assert_eq!(hour_of_day(ny(), h[2]), 1);
        assert_eq!(iso(h[24]), "2026-11-02T04:00:00Z");
    }

    #[test]
    fn half_hour_zones_align_on_local_hours() {
        let india: Tz = "Asia/Kolkata".parse().unwrap();
        let h = day_hours(india, 2026, 1, 5);
        assert_eq!(h.len(), 24);
        assert_eq!(iso(h[0]), "2026-01-04T18:30:00Z");
    }

    #[test]
    fn wall_times_in_gaps_and_folds() {
        // 02:30 does not happen on 2026-03-08: moved forward by the gap to 03:30 EDT (the
        // service's one DST rule, values::time::DST_RULE; this crate used to read it as 03:00).
        let (gap, _) = parse_when(ny(), "from", "2026-03-08T02:30").unwrap();
        assert_eq!(iso(gap), "2026-03-08T07:30:00Z");
        let (fold, _) = parse_when(ny(), "from", "2026-11-01T01").unwrap();
        assert_eq!(iso(fold), "2026-11-01T05:00:00Z");
        let (date, only_date) = parse_when(ny(), "to", "2026-11-01").unwrap();
        assert!(only_date);
        assert_eq!(iso(date), "2026-11-01T04:00:00Z");
        let (z, _) = parse_when(ny(), "to", "2026-11-01T12:00:00Z").unwrap();
        assert_eq!(iso(z), "2026-11-01T12:00:00Z");
        let e = parse_when(ny(), "to", "yesterday-ish").unwrap_err();
        assert!(e.to_string().starts_with("to="));
    }

    proptest! {
        /// Every local day of any zone is a whole number of consecutive hour buckets: they tile it
        /// with no gap or overlap, each starts on a local `HH:00`, and there are 23 to 25 of them
        /// except on days a zone changed its offset by other than one hour.
        #[test]
        fn buckets_tile_every_day(days in 0i64..20_000, zi in 0usize..chrono_tz::TZ_VARIANTS.len()) {
            let zone = chrono_tz::TZ_VARIANTS[zi];
            let date = NaiveDate::from_ymd_opt(1975, 1, 1).unwrap() + Duration::days(days);
            let start = day_start(zone, date);
            let end = next_day_start(zone, date);
            let h = hours(zone, start, end);
            prop_assert!(!h.is_empty());
            prop_assert_eq!(h[0], hour_start(zone, start));
            for pair in h.windows(2) {
                prop_assert!(pair[0] < pair[1]);
                prop_assert_eq!(next_hour(zone, pair[0]), pair[1]);
                prop_assert!((pair[1] - pair[0]) <= Duration::hours(1));
            }
            prop_assert!(h.len() <= 26);
        }
    }
}
