//! From text to the parts of a rule as written: lines, NAME=VALUE parts, values and their ranges.

use chrono::NaiveDate;

use super::{Freq, RRuleError, MAX_COUNT};

/// Splits the text into its optional DTSTART line and its rule.
pub(super) fn split_lines(text: &str) -> Result<(Option<&str>, &str), RRuleError> {
    let mut start = None;
    let mut rule = None;
    let mut any = false;
    for line in text.split('\n').map(str::trim).filter(|l| !l.is_empty()) {
        any = true;
        if has_prefix(line, "DTSTART:") || has_prefix(line, "DTSTART;") {
            if start.replace(line).is_some() {
                return Err(RRuleError::DuplicateLine { name: "DTSTART" });
            }
        } else if has_prefix(line, "RRULE:") || !line.contains(':') {
            let body = if has_prefix(line, "RRULE:") {
                line.get("RRULE:".len()..).unwrap_or("")
            } else {
                line
            };
            if rule.replace(body).is_some() {
                return Err(RRuleError::DuplicateLine { name: "RRULE" });
            }
        } else {
            return Err(RRuleError::UnsupportedLine {
                line: line.to_string(),
            });
        }
    }
    match rule {
        Some(rule) => Ok((start, rule)),
        None if any => Err(RRuleError::MissingRule),
        None => Err(RRuleError::Empty),
    }
}

fn has_prefix(line: &str, prefix: &str) -> bool {
    line.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The date of a DTSTART line; parameters (`TZID=...`, `VALUE=DATE`) and any time are ignored.
pub(super) fn parse_start_line(line: &str) -> Result<NaiveDate, RRuleError> {
    let value = line.rsplit_once(':').map_or(line, |(_, v)| v.trim());
    parse_date(value).ok_or_else(|| RRuleError::InvalidStart {
        value: value.to_string(),
    })
}

/// `YYYYMMDD` or `YYYYMMDDTHHMMSS` with an optional `Z`; returns the date.
fn parse_date(value: &str) -> Option<NaiveDate> {
    let bytes = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = bytes.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(0..4)?).ok()?,
        digits(4..6)?,
        digits(6..8)?,
    )?;
    match bytes.len() {
        8 => Some(date),
        15 | 16 => {
            let time_ok = bytes.get(8)?.eq_ignore_ascii_case(&b'T')
                && digits(9..11)? < 24
                && digits(11..13)? < 60
                && digits(13..15)? <= 60
                && bytes.get(15).is_none_or(|z| z.eq_ignore_ascii_case(&b'Z'));
            time_ok.then_some(date)
        }
        _ => None,
    }
}

/// One `BYDAY` entry: an optional ordinal and a weekday (0 = Monday), with its text for messages.
#[derive(Debug)]
pub(super) struct DaySpec {
    pub(super) ordinal: Option<i32>,
    pub(super) weekday: u32,
    pub(super) text: String,
}

/// The parts of an RRULE as written, before defaults and cross-part checks.
#[derive(Debug, Default)]
pub(super) struct RawRule {
    pub(super) freq: Option<Freq>,
    pub(super) interval: Option<u32>,
    pub(super) count: Option<u32>,
    pub(super) until: Option<NaiveDate>,
    pub(super) by_day: Option<Vec<DaySpec>>,
    pub(super) by_month_day: Option<Vec<i32>>,
    pub(super) by_month: Option<Vec<i32>>,
    pub(super) by_year_day: Option<Vec<i32>>,
    pub(super) by_week_no: Option<Vec<i32>>,
    pub(super) by_set_pos: Option<Vec<i32>>,
    pub(super) wkst: Option<u32>,
}

const BYDAY_EXPECTED: &str = "a list of weekdays (MO, TU, WE, TH, FR, SA, SU), each optionally \
                              preceded by an ordinal from 1 to 53 or -53 to -1, like 2MO or -1FR";

pub(super) fn parse_parts(rule: &str) -> Result<RawRule, RRuleError> {
    let mut raw = RawRule::default();
    for part in rule.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(RRuleError::MalformedPart {
                part: part.to_string(),
            });
        };
        let (name, value) = (name.trim().to_ascii_uppercase(), value.trim());
        match name.as_str() {
            "FREQ" => set_once(&mut raw.freq, "FREQ", parse_freq(value)?)?,
            "INTERVAL" => {
                let n = parse_number(value, 1, u32::MAX, "INTERVAL", "a positive integer")?;
                set_once(&mut raw.interval, "INTERVAL", n)?;
            }
            "COUNT" => {
                let n = parse_number(
                    value,
                    1,
                    MAX_COUNT,
                    "COUNT",
                    "a positive integer of at most 10000",
                )?;
                set_once(&mut raw.count, "COUNT", n)?;
            }
            "UNTIL" => {
                let until = parse_date(value).ok_or_else(|| RRuleError::InvalidValue {
                    name: "UNTIL",
                    value: value.to_string(),
                    expected: "a date like 20241231 or a date-time like 20241231T235959Z",
                })?;
                set_once(&mut raw.until, "UNTIL", until)?;
            }
            "BYDAY" => {
                let days = list(value, |item| {
                    parse_day_spec(item).ok_or_else(|| RRuleError::InvalidValue {
                        name: "BYDAY",
                        value: item.to_string(),
                        expected: BYDAY_EXPECTED,
                    })
                })?;
                set_once(&mut raw.by_day, "BYDAY", days)?;
            }
            "BYMONTHDAY" => {
                let days = int_list(
                    value,
                    31,
                    true,
                    "BYMONTHDAY",
                    "a list of days of the month from 1 to 31 or -31 to -1",
                )?;
                set_once(&mut raw.by_month_day, "BYMONTHDAY", days)?;
            }
            "BYMONTH" => {
                let months =
                    int_list(value, 12, false, "BYMONTH", "a list of months from 1 to 12")?;
                set_once(&mut raw.by_month, "BYMONTH", months)?;
            }
            "BYYEARDAY" => {
                let days = int_list(
                    value,
                    366,
                    true,
                    "BYYEARDAY",
                    "a list of days of the year from 1 to 366 or -366 to -1",
                )?;
                set_once(&mut raw.by_year_day, "BYYEARDAY", days)?;
            }
            "BYWEEKNO" => {
                let weeks = int_list(
                    value,
                    53,
                    true,
                    "BYWEEKNO",
                    "a list of week numbers from 1 to 53 or -53 to -1",
                )?;
                set_once(&mut raw.by_week_no, "BYWEEKNO", weeks)?;
            }
            "BYSETPOS" => {
                let positions = int_list(
                    value,
                    366,
                    true,
                    "BYSETPOS",
                    "a list of positions from 1 to 366 or -366 to -1",
                )?;
                set_once(&mut raw.by_set_pos, "BYSETPOS", positions)?;
            }
            "WKST" => {
                let day = parse_weekday(&value.to_ascii_uppercase()).ok_or_else(|| {
                    RRuleError::InvalidValue {
                        name: "WKST",
                        value: value.to_string(),
                        expected: "a weekday: MO, TU, WE, TH, FR, SA or SU",
                    }
                })?;
                set_once(&mut raw.wkst, "WKST", day)?;
            }
            "BYHOUR" | "BYMINUTE" | "BYSECOND" => {
                return Err(RRuleError::TimeOfDay { part: name });
            }
            _ => return Err(RRuleError::UnknownPart { name }),
        }
    }
    Ok(raw)
}

fn set_once<T>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), RRuleError> {
    match slot.replace(value) {
        Some(_) => Err(RRuleError::DuplicatePart { name }),
        None => Ok(()),
    }
}

fn parse_freq(value: &str) -> Result<Freq, RRuleError> {
    match value.to_ascii_uppercase().as_str() {
        "DAILY" => Ok(Freq::Daily),
        "WEEKLY" => Ok(Freq::Weekly),
        "MONTHLY" => Ok(Freq::Monthly),
        "YEARLY" => Ok(Freq::Yearly),
        time @ ("HOURLY" | "MINUTELY" | "SECONDLY") => Err(RRuleError::TimeOfDay {
            part: format!("FREQ={time}"),
        }),
        _ => Err(RRuleError::InvalidValue {
            name: "FREQ",
            value: value.to_string(),
            expected: "DAILY, WEEKLY, MONTHLY or YEARLY",
        }),
    }
}

fn parse_number(
    value: &str,
    min: u32,
    max: u32,
    name: &'static str,
    expected: &'static str,
) -> Result<u32, RRuleError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| RRuleError::InvalidValue {
            name,
            value: value.to_string(),
            expected,
        })
}

/// Parses a comma-separated list, each item trimmed.
fn list<T>(
    value: &str,
    mut item: impl FnMut(&str) -> Result<T, RRuleError>,
) -> Result<Vec<T>, RRuleError> {
    value.split(',').map(|i| item(i.trim())).collect()
}

/// A list of integers in `1..=max`, or also `-max..=-1` when `signed`.
fn int_list(
    value: &str,
    max: i32,
    signed: bool,
    name: &'static str,
    expected: &'static str,
) -> Result<Vec<i32>, RRuleError> {
    list(value, |item| {
        item.parse::<i32>()
            .ok()
            .filter(|&n| (1..=max).contains(&n) || (signed && (-max..=-1).contains(&n)))
            .ok_or_else(|| RRuleError::InvalidValue {
                name,
                value: item.to_string(),
                expected,
            })
    })
}

fn parse_weekday(code: &str) -> Option<u32> {
    Some(match code {
        "MO" => 0,
        "TU" => 1,
        "WE" => 2,
        "TH" => 3,
        "FR" => 4,
        "SA" => 5,
        "SU" => 6,
        _ => return None,
    })
}

fn parse_day_spec(item: &str) -> Option<DaySpec> {
    let upper = item.to_ascii_uppercase();
    let split = upper.len().checked_sub(2)?;
    let weekday = parse_weekday(upper.get(split..)?)?;
    let ordinal = match upper.get(..split)? {
        "" => None,
        number => {
            let n = number.parse::<i32>().ok()?;
            if !(1..=53).contains(&n.abs()) {
                return None;
            }
            Some(n)
        }
    };
    Some(DaySpec {
        ordinal,
        weekday,
        text: item.to_string(),
    })
}
