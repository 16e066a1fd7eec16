//! Recurrence rules over dates: which calendar dates an RFC 5545 `RRULE` selects.
//!
//! A rule's `dateRRule` says on which **dates** the rule applies; the time of day comes from the
//! rule's `startTime`/`endTime` and is handled elsewhere. A [`Recurrence`] is such a rule, parsed
//! and validated once, that answers one question fast: [`Recurrence::contains`] — is this date an
//! occurrence?
//!
//! ```
//! use chrono::NaiveDate;
//! use schedule::rrule::Recurrence;
//!
//! let thanksgiving = Recurrence::parse("RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", None)?;
//! assert!(thanksgiving.contains(NaiveDate::from_ymd_opt(2024, 11, 28).unwrap()));
//!
//! let start = NaiveDate::from_ymd_opt(2024, 1, 1);
//! let every_other_monday = Recurrence::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", start)?;
//! assert!(every_other_monday.contains(NaiveDate::from_ymd_opt(2024, 1, 15).unwrap()));
//! assert!(!every_other_monday.contains(NaiveDate::from_ymd_opt(2024, 1, 22).unwrap()));
//! # Ok::<(), schedule::rrule::RRuleError>(())
//! ```
//!
//! # The model
//!
//! The recurrence semantics are those of RFC 5545 as implemented by python-dateutil and rrule.js
//! (which the published Flex Schedule Manager uses), restricted to whole dates:
//!
//! - **FREQ** (`DAILY`, `WEEKLY`, `MONTHLY`, `YEARLY`) cuts the calendar into periods: days, weeks
//!   beginning on **WKST** (Monday by default), months or years. `HOURLY`, `MINUTELY`, `SECONDLY`
//!   and `BYHOUR`/`BYMINUTE`/`BYSECOND` are rejected: times go in `startTime`/`endTime`.
//! - **DTSTART** is the rule's `startDate` when it has one, else the date of a `DTSTART` line in the
//!   text (a time or `TZID` there is ignored). No date before DTSTART is an occurrence, and
//!   DTSTART itself is one only if the rule selects it (`FREQ=MONTHLY;BYMONTHDAY=15` from 20
//!   January first occurs on 15 February).
//! - **INTERVAL** keeps every n-th period, counting DTSTART's period as the first.
//! - The **BY** parts filter the dates of a kept period: a date is an occurrence when it passes all
//!   of them. Within one part the values are alternatives (`BYDAY=MO,1TU` is every Monday and the
//!   first Tuesday). Ordinals in `BYDAY` count within the month for `MONTHLY` (and for `YEARLY` with
//!   `BYMONTH`), within the year otherwise; negative values count from the end. `BYWEEKNO` uses
//!   WKST-based week numbers: week 1 is the first week with at least four days in the year.
//!   Dates that do not exist are skipped, never moved: `BYMONTHDAY=31` skips 30-day months.
//! - When none of `BYWEEKNO`, `BYYEARDAY`, `BYMONTHDAY`, `BYDAY` is given, the missing parts come
//!   from DTSTART as RFC 5545 says: `WEEKLY` repeats on DTSTART's weekday, `MONTHLY` on its day of
//!   the month, `YEARLY` on its day and (unless `BYMONTH` is given) its month.
//! - **BYSETPOS** then picks positions among a period's filtered dates (`-1` is the last). As in
//!   dateutil, the first `WEEKLY` period starts at DTSTART rather than at the week's start.
//! - **UNTIL** ends the rule: only its *date* counts, and that date is included, whatever time of
//!   day it carries (`UNTIL=20241231T000000Z` still includes 31 December 2024).
//! - **COUNT** keeps the first n occurrences from DTSTART (n at most 10,000). They are computed
//!   when the rule is parsed, by walking the calendar from DTSTART, so they must all fall within
//!   [`MAX_COUNT_SPAN_DAYS`] (36,600 days, about 100 years) of it: a rule whose COUNT is not
//!   reached by then (`FREQ=DAILY;COUNT=10000;BYMONTHDAY=13;BYDAY=FR` would need some 5,800
//!   years, a rule that never occurs forever) is refused, saying how many occurrences fall
//!   within the span. A configuration caps the days its COUNT rules span in all (see
//!   [`crate::config`]).
//!
//! # Anchoring
//!
//! A rule that depends on DTSTART — through `INTERVAL` above 1, `COUNT`, or one of the defaults
//! above — is rejected when there is neither a `startDate` nor a `DTSTART` line, with a message
//! saying why. Any other rule may be **unanchored**: it has no first date and simply selects
//! every date that passes its filters (`FREQ=WEEKLY;BYDAY=SA,SU` is every weekend).
//!
//! # Validation
//!
//! Besides the syntax and range of every value, the combinations RFC 5545 forbids are rejected
//! (`BYWEEKNO` other than `YEARLY`, `BYYEARDAY` with `DAILY`/`WEEKLY`/`MONTHLY`, `BYMONTHDAY` with
//! `WEEKLY`, `BYDAY` ordinals other than `MONTHLY`/`YEARLY` or with `BYWEEKNO`, `BYSETPOS` without
//! another BY part, `COUNT` with `UNTIL`), and so are rules that could never occur for a simple
//! reason: an `UNTIL` before DTSTART, or a `BYDAY` ordinal beyond 5 counted within a month.
//!
//! # Departures from rrule.js
//!
//! Two corners where rrule.js (and dateutil, and the `rrule` crate) disagree with RFC 5545 follow
//! the RFC here: `BYDAY` mixing plain weekdays and ordinals is a union (rrule.js requires a date to
//! satisfy both kinds), and days at a year's edge that belong to the previous or next year's week
//! are numbered as such for `BYWEEKNO` (rrule.js sometimes calls a 52nd week the 53rd there, and
//! never matches next year's week 1 by a negative number).

mod build;
mod calendar;
mod error;
mod expand;
mod filter;
mod parse;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;

pub(crate) use build::thousands;
pub use build::CountSpan;
pub use error::RRuleError;
use filter::{Filter, SetPos};

/// The largest accepted `COUNT`: its occurrences are kept in memory.
const MAX_COUNT: u32 = 10_000;

/// COUNT's occurrences are found when the rule is parsed, by walking the calendar from DTSTART,
/// so a rule's COUNT must be reached within this many days of DTSTART (about 100 years): the walk
/// examines at most one date per day of it. A rare pattern with a large COUNT (10,000 Fridays the
/// 13th need some 5,800 years) is refused instead of costing seconds when a config loads.
pub const MAX_COUNT_SPAN_DAYS: u32 = 36_600;

/// A parsed, validated recurrence rule whose occurrences are whole dates.
#[derive(Debug, Clone, PartialEq)]
pub struct Recurrence {
    freq: Freq,
    interval: u32,
    start: Option<NaiveDate>,
    until: Option<NaiveDate>,
    /// Day the week starts on, 0 = Monday.
    wkst: u32,
    filter: Filter,
    set_pos: Option<Box<SetPos>>,
    /// With COUNT: all the occurrences, sorted.
    occurrences: Option<Vec<NaiveDate>>,
    /// With COUNT: days from DTSTART to the last occurrence, the work its expansion took.
    count_span_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Freq {
    fn name(self) -> &'static str {
        match self {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        }
    }
}

impl Recurrence {
    /// Parses a `dateRRule` value: `"RRULE:FREQ=...;..."` or `"FREQ=..."`, optionally preceded by
    /// a line `"DTSTART:20240101"`, `"DTSTART:20240101T000000Z"` or
    /// `"DTSTART;TZID=...:20240101T090000"` (lines separated by `"\n"` or `"\r\n"`; only the date
    /// part of DTSTART matters).
    ///
    /// `start_date` (the rule's startDate) is DTSTART when given and overrides one in the text.
    ///
    /// A COUNT must be reached within [`MAX_COUNT_SPAN_DAYS`] of DTSTART.
    pub fn parse(text: &str, start_date: Option<NaiveDate>) -> Result<Recurrence, RRuleError> {
        Recurrence::parse_within(text, start_date, CountSpan::per_rule())
    }

    /// [`Recurrence::parse`] with a COUNT span chosen by the caller, e.g. what remains of a
    /// configuration's allowance (never more than [`MAX_COUNT_SPAN_DAYS`]).
    pub fn parse_within(
        text: &str,
        start_date: Option<NaiveDate>,
        span: CountSpan,
    ) -> Result<Recurrence, RRuleError> {
        let (start_line, rule_text) = parse::split_lines(text)?;
        let text_start = start_line.map(parse::parse_start_line).transpose()?;
        let rule = parse::parse_parts(rule_text)?;
        build::build(rule, start_date.or(text_start), span)
    }

    /// Days from DTSTART to the last occurrence when the rule has a COUNT (what finding its
    /// occurrences cost), else 0.
    pub fn count_span_days(&self) -> u32 {
        self.count_span_days
    }

    /// How many dates one [`Recurrence::contains`] may examine: 1, or with BYSETPOS up to twice
    /// the FREQ period's length (positions are counted within the period).
    pub fn evaluation_weight(&self) -> u32 {
        match (&self.set_pos, self.occurrences.is_some()) {
            (Some(_), false) => match self.freq {
                Freq::Daily => 2,
                Freq::Weekly => 14,
                Freq::Monthly => 62,
                Freq::Yearly => 732,
            },
            _ => 1,
        }
    }

    /// Whether `date` is an occurrence.
    pub fn contains(&self, date: NaiveDate) -> bool {
        if self.start.is_some_and(|start| date < start) || self.until.is_some_and(|u| date > u) {
            return false;
        }
        if let Some(occurrences) = &self.occurrences {
            return occurrences.binary_search(&date).is_ok();
        }
        if !self.in_kept_period(date) || !self.filter.matches(date, self.wkst) {
            return false;
        }
        match &self.set_pos {
            None => true,
            Some(set_pos) => self.picked_by_set_pos(date, set_pos),
        }
    }
}
