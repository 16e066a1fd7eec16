//! Wall clocks and instants: parsing `HH:MM`, dates and `simulate`, and turning a schedule-local
//! wall time into an instant.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

use crate::error::CheckError;
use crate::zone::Zone;

/// Minutes in a day; also the value of `"24:00"`.
pub const DAY_MINUTES: u16 = 1440;

/// The moment a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An instant (the shim's `Date.now()`, or a `simulate` with an offset).
    Instant(DateTime<Utc>),
    /// A wall time in the schedule's zone (a `simulate` without an offset).
    Wall(NaiveDateTime),
}

impl When {
    /// Reads the optional `simulate` parameter, falling back to `now_ms` (ms since 1970).
    pub fn from_request(simulate: Option<&str>, now_ms: f64) -> Result<When, CheckError> {
        match simulate.map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => parse_simulate(text),
            None => instant_from_ms(now_ms).map(When::Instant),
        }
    }

    /// The instant this moment is in `tz`.
    pub fn instant(self, tz: &Zone) -> DateTime<Utc> {
        match self {
            When::Instant(t) => t,
            When::Wall(wall) => tz.instant_of(wall),
        }
    }
}

/// The instant of `ms` milliseconds since 1970, within the range every crate accepts
/// ([`values::instant::from_millis`]: the years 0000 to 9999).
pub fn instant_from_ms(ms: f64) -> Result<DateTime<Utc>, CheckError> {
    values::instant::from_millis(ms).ok_or(CheckError::InvalidNow)
}

/// `simulate` as published: without an offset it is wall time; with `Z` or `±hh:mm` (or `±hhmm`)
/// it is an instant. Accepts a date alone (midnight), minutes, seconds and a fraction, `T` or a
/// space between date and time. Hand-written (not chrono's strftime parser) to keep the module
/// small, which is most of its cold start.
/// Kept out of line: a check without `simulate` (every call from Studio) does not compile it.
#[inline(never)]
fn parse_simulate(text: &str) -> Result<When, CheckError> {
    let invalid = || CheckError::InvalidSimulate(text.to_string());
    let (wall, rest) = parse_wall_prefix(text).ok_or_else(invalid)?;
    let offset_seconds = match rest.as_bytes() {
        [] => return Ok(When::Wall(wall)),
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (
                    digits(&[*h1, *h2]).ok_or_else(invalid)?,
                    digits(&[*m1, *m2]).ok_or_else(invalid)?,
                ),
                _ => return Err(invalid()),
            };
            if h > 23 || m > 59 {
                return Err(invalid());
            }
            let seconds = (h * 3600 + m * 60) as i32;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return Err(invalid()),
    };
    let offset = FixedOffset::east_opt(offset_seconds).ok_or_else(invalid)?;
    let instant = offset
        .from_local_datetime(&wall)
        .single()
        .ok_or_else(invalid)?;
    Ok(When::Instant(instant.with_timezone(&Utc)))
}

/// Reads `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]]` from the start of `text`; returns the rest.
fn parse_wall_prefix(text: &str) -> Option<(NaiveDateTime, &str)> {
    let date = parse_date(text.get(..10)?)?;
    let rest = &text[10..];
    let Some(time) = rest.strip_prefix(['T', 't', ' ']) else {
        return Some((date.and_hms_opt(0, 0, 0)?, rest));
    };
    let b = time.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let (h, m) = (digits(&b[0..2])?, digits(&b[3..5])?);
    let mut consumed = 5;
    let mut second = 0;
    if b.get(5) == Some(&b':') {
        second = digits(b.get(6..8)?)?;
        consumed = 8;
        if b.get(8) == Some(&b'.') {
            let fraction = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
            if fraction == 0 {
                return None;
            }
            consumed = 9 + fraction;
        }
    }
    let wall = date.and_hms_opt(h, m, second)?;
    Some((wall, &time[consumed..]))
}

/// A run of ASCII digits as a number (at most 4 digits are ever passed).
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// The UTC offset `tz` has at `t`.
pub fn offset_at(tz: &Zone, t: DateTime<Utc>) -> FixedOffset {
    tz.offset_at(t)
}

/// `HH:MM` as minutes since midnight, `"24:00"` included; `None` when not a time.
pub fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    match (h, m) {
        (24, 0) => Some(DAY_MINUTES),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.trim().as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// Minute of the day for a wall time.
pub fn minute_of_day(wall: NaiveDateTime) -> u16 {
    // hour() < 24 and minute() < 60, so this is below 1440.
    (wall.hour() * 60 + wall.minute()) as u16
}

/// `t` on the zone's wall clock, and its UTC offset as a sign and seconds.
fn local_with_offset(t: DateTime<Utc>, tz: &Zone) -> (DateTime<FixedOffset>, char, i32) {
    let fixed = tz.offset_at(t);
    let offset = fixed.local_minus_utc();
    let (sign, offset) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    (t.with_timezone(&fixed), sign, offset)
}

/// RFC 3339 with the offset, to the second: `2024-12-26T09:00:00-05:00`. Written digit by digit
/// (no `format!`): it is on every answer's path, and a cold container compiles what it runs.
pub fn format_rfc3339(t: DateTime<Utc>, tz: &Zone) -> String {
    let (local, sign, offset) = local_with_offset(t, tz);
    let mut out = String::with_capacity(25);
    match u32::try_from(local.year()) {
        Ok(year) if year <= 9999 => push_digits(&mut out, year, 4),
        // Far years (`instant_from_ms` allows about ±270,000): as `{:04}` writes them.
        _ => {
            let _ = write!(out, "{:04}", local.year());
        }
    }
    for (separator, value) in [
        ('-', local.month()),
        ('-', local.day()),
        ('T', local.hour()),
        (':', local.minute()),
        (':', local.second()),
        (sign, offset.unsigned_abs() / 3600),
        (':', offset.unsigned_abs() % 3600 / 60),
    ] {
        out.push(separator);
        push_digits(&mut out, value, 2);
    }
    out
}

/// Appends the last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = n / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhmm() {
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(parse_hhmm("9:30"), Some(570));
        assert_eq!(parse_hhmm("24:00"), Some(1440));
        for bad in [
            "24:01", "12:60", "1230", "", ":30", "12:3", "123:00", "-1:00", "ab:cd",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }

    #[test]
    fn simulate_forms() {
        let wall = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(
            parse_simulate("2024-12-24T16:30").unwrap(),
            When::Wall(wall("2024-12-24T16:30:00"))
        );
        assert_eq!(
            parse_simulate("2024-12-24 16:30:15").unwrap(),
            When::Wall(wall("2024-12-24T16:30:15"))
        );
        assert_eq!(
            parse_simulate("2024-12-24").unwrap(),
            When::Wall(wall("2024-12-24T00:00:00"))
        );
        let utc = |s: &str| When::Instant(wall(s).and_utc());
        assert_eq!(
            parse_simulate("2024-12-24T16:30Z").unwrap(),
            utc("2024-12-24T16:30:00")
        );
        assert_eq!(
            parse_simulate("2024-12-24T16:30:00-05:00").unwrap(),
            utc("2024-12-24T21:30:00")
        );
        assert_eq!(
            parse_simulate("2024-12-24T16:30+0530").unwrap(),
            utc("2024-12-24T11:00:00")
        );
        assert_eq!(
            parse_simulate("2024-12-24T16:30:15.250").unwrap(),
            When::Wall(wall("2024-12-24T16:30:15"))
        );
        for bad in [
            "tomorrow",
            "2024-13-01T10:00",
            "2024-12-24T25:00",
            "12/24/2024 10:00",
            "2024-12-24T10",
            "2024-12-24T10:00+5",
            "2024-12-24T10:00:00.",
            "2024-12-24T10:00 junk",
            "2024-12-24T10:00+24:00",
            "",
            "2024-1-01",
            "é024-12-24T10:00",
        ] {
            assert!(parse_simulate(bad).is_err(), "{bad}");
        }
    }

    /// Written digit by digit, as `format!` wrote it before, in zones with odd offsets and at
    /// far years (at both ends of what chrono represents).
    #[test]
    fn rfc3339_as_format_wrote_it() {
        fn by_format(t: DateTime<Utc>, tz: &Zone) -> String {
            let (local, sign, offset) = local_with_offset(t, tz);
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
                local.year(),
                local.month(),
                local.day(),
                local.hour(),
                local.minute(),
                local.second(),
                offset / 3600,
                offset % 3600 / 60
            )
        }
        let mut instants = vec![DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC];
        for seconds in [
            -62_167_219_200, // 0000-01-01
            -62_135_596_800, // 0001-01-01
            -1,
            0,
            1_733_000_000,
            253_402_300_799, // 9999-12-31T23:59:59
            253_402_300_800, // 10000-01-01
        ] {
            instants.push(DateTime::from_timestamp(seconds, 0).unwrap());
        }
        let mut t = DateTime::from_timestamp(946_684_800, 0).unwrap();
        while t.timestamp() < 2_000_000_000 {
            instants.push(t);
            t += chrono::Duration::seconds(7_654_321);
        }
        for name in [
            "UTC",
            "America/St_Johns",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "America/Los_Angeles",
        ] {
            let tz = Zone::named(name).unwrap();
            for &t in &instants {
                assert_eq!(format_rfc3339(t, &tz), by_format(t, &tz), "{name} {t:?}");
            }
        }
    }
}
