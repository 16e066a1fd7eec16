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

use chrono::{Datelike, Days, NaiveDate};

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

/// Why a `dateRRule` was rejected. Each message names the offending part and value and says what
/// is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RRuleError {
    #[error("the recurrence rule is empty; expected a rule like \"FREQ=WEEKLY;BYDAY=MO\"")]
    Empty,
    #[error(
        "no RRULE found; expected a rule like \"FREQ=WEEKLY;BYDAY=MO\", optionally after a \
         DTSTART line"
    )]
    MissingRule,
    #[error("unsupported line {line:?}; expected an optional DTSTART line and one RRULE line")]
    UnsupportedLine { line: String },
    #[error("more than one {name} line; expected at most one")]
    DuplicateLine { name: &'static str },
    #[error(
        "DTSTART must be a date like 20240101 or a date-time like 20240101T090000Z, got {value:?}"
    )]
    InvalidStart { value: String },
    #[error("RRULE part {part:?} is not of the form NAME=VALUE")]
    MalformedPart { part: String },
    #[error(
        "unknown RRULE part {name:?}; expected FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, \
         BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS or WKST"
    )]
    UnknownPart { name: String },
    #[error("RRULE part {name} is given more than once")]
    DuplicatePart { name: &'static str },
    #[error("FREQ is missing; expected FREQ=DAILY, FREQ=WEEKLY, FREQ=MONTHLY or FREQ=YEARLY")]
    MissingFreq,
    #[error(
        "{part} is not supported: rules recur on dates, and times of day go in startTime/endTime"
    )]
    TimeOfDay { part: String },
    #[error("{name} must be {expected}, got {value:?}")]
    InvalidValue {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("COUNT and UNTIL cannot both be given; use one of them to end the rule")]
    CountAndUntil,
    #[error("{part} cannot be used with FREQ={freq}; {hint}")]
    NotAllowedWithFreq {
        part: &'static str,
        freq: &'static str,
        hint: &'static str,
    },
    #[error("BYDAY ordinals like {value:?} are only allowed with FREQ=MONTHLY or FREQ=YEARLY")]
    OrdinalNotAllowed { value: String },
    #[error("BYDAY ordinals like {value:?} cannot be combined with BYWEEKNO")]
    OrdinalWithWeekNo { value: String },
    #[error(
        "BYDAY ordinal in {value:?} counts within a month, which has at most 5 of each weekday; \
         expected 1 to 5 or -5 to -1"
    )]
    OrdinalBeyondMonth { value: String },
    #[error(
        "BYSETPOS must be used together with another BY part (BYDAY, BYMONTHDAY, BYMONTH, \
         BYYEARDAY or BYWEEKNO)"
    )]
    SetPosAlone,
    #[error("this rule needs a startDate (or a DTSTART line) because {reason}")]
    NeedsStart { reason: String },
    #[error("UNTIL {until} is before the start date {start}, so the rule would never occur")]
    UntilBeforeStart { until: NaiveDate, start: NaiveDate },
    /// COUNT is not reached within the days the rule may span (see [`MAX_COUNT_SPAN_DAYS`]).
    #[error(
        "COUNT={count} is too costly: its occurrences are found when the configuration loads, \
         by walking the calendar from the start date {start}, and {limit}; only {found} \
         occurrence{plural} fall{verb} within that span (up to {last}). Lower COUNT, or end the \
         rule with UNTIL instead"
    )]
    CountTooCostly {
        count: u32,
        start: NaiveDate,
        found: usize,
        last: NaiveDate,
        limit: String,
        plural: &'static str,
        verb: &'static str,
    },
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

/// A set of small positive integers (up to 383), for days of the year and set positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Bits384([u64; 6]);

impl Bits384 {
    fn insert(&mut self, n: u32) {
        if let Some(word) = self.0.get_mut((n / 64) as usize) {
            *word |= 1 << (n % 64);
        }
    }

    fn has(&self, n: u32) -> bool {
        self.0
            .get((n / 64) as usize)
            .is_some_and(|word| word >> (n % 64) & 1 == 1)
    }
}

/// `BYSETPOS`: positive positions count from the first date of a period, negative from the last.
#[derive(Debug, Clone, PartialEq)]
struct SetPos {
    from_start: Bits384,
    from_end: Bits384,
    /// The largest position from the start (0 if none), and from the end: counting stops there.
    max_from_start: u32,
    max_from_end: u32,
}

impl SetPos {
    /// Whether the date at `index` (0-based) among `len` dates is picked.
    fn picks(&self, index: u32, len: u32) -> bool {
        self.from_start.has(index + 1) || (index < len && self.from_end.has(len - index))
    }
}

/// `BYDAY` ordinals: bit n of `from_start[w]` is "the n-th weekday w", of `from_end[w]` the n-th
/// from last.
#[derive(Debug, Clone, PartialEq)]
struct Nth {
    from_start: [u64; 7],
    from_end: [u64; 7],
    /// Whether ordinals count within the year (else within the month).
    in_year: bool,
}

impl Nth {
    fn matches(&self, date: NaiveDate, weekday: u32) -> bool {
        let (index, len) = if self.in_year {
            (date.ordinal0(), year_len(date.year()))
        } else {
            (date.day0(), days_in_month(date.year(), date.month()))
        };
        let first = index / 7 + 1;
        let last = (len.saturating_sub(index + 1)) / 7 + 1;
        let w = weekday as usize;
        self.from_start.get(w).is_some_and(|b| b >> first & 1 == 1)
            || self.from_end.get(w).is_some_and(|b| b >> last & 1 == 1)
    }
}

/// The BY filters, as bit masks so that a date is checked in a few instructions. Parts that were
/// not given accept everything.
#[derive(Debug, Clone, PartialEq)]
struct Filter {
    /// Bit m for month m (1..=12).
    months: u16,
    /// Bit d for day d of the month, and bit d for the d-th day from the month's end.
    month_days: Option<(u32, u32)>,
    /// Bit w for weekday w (0 = Monday) when every such weekday matches.
    weekdays: u8,
    nth: Option<Box<Nth>>,
    /// Days of the year from its start and from its end.
    year_days: Option<Box<(Bits384, Bits384)>>,
    /// Week numbers: bit n for week n, and bit n for the n-th week from the year's last.
    week_numbers: Option<(u64, u64)>,
}

const ALL_MONTHS: u16 = 0b1_1111_1111_1110;
const ALL_WEEKDAYS: u8 = 0b111_1111;

impl Filter {
    fn matches(&self, date: NaiveDate, wkst: u32) -> bool {
        let month = date.month();
        if self.months >> month & 1 == 0 {
            return false;
        }
        if let Some((from_start, from_end)) = self.month_days {
            let day = date.day();
            if from_start >> day & 1 == 0 {
                let back = days_in_month(date.year(), month) + 1 - day;
                if from_end >> back & 1 == 0 {
                    return false;
                }
            }
        }
        let weekday = date.weekday().num_days_from_monday();
        if self.weekdays >> weekday & 1 == 0 {
            match &self.nth {
                Some(nth) if nth.matches(date, weekday) => {}
                _ => return false,
            }
        }
        if let Some(days) = &self.year_days {
            let ordinal = date.ordinal();
            if !days.0.has(ordinal) && !days.1.has(year_len(date.year()) + 1 - ordinal) {
                return false;
            }
        }
        if let Some((from_start, from_end)) = self.week_numbers {
            let (week, weeks) = week_number(date, wkst);
            let back = weeks + 1 - week;
            if from_start >> week & 1 == 0 && from_end >> back & 1 == 0 {
                return false;
            }
        }
        true
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
        let (start_line, rule_text) = split_lines(text)?;
        let text_start = start_line.map(parse_start_line).transpose()?;
        let rule = parse_parts(rule_text)?;
        build(rule, start_date.or(text_start), span)
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

    /// Whether the period containing `date` (on or after DTSTART) is one INTERVAL keeps.
    fn in_kept_period(&self, date: NaiveDate) -> bool {
        let (Some(start), true) = (self.start, self.interval > 1) else {
            return true;
        };
        let interval = i64::from(self.interval);
        let periods = match self.freq {
            Freq::Daily => day_number(date) - day_number(start),
            Freq::Weekly => {
                (week_start_number(date, self.wkst) - week_start_number(start, self.wkst)) / 7
            }
            Freq::Monthly => month_number(date) - month_number(start),
            Freq::Yearly => i64::from(date.year()) - i64::from(start.year()),
        };
        periods % interval == 0
    }

    /// `date` passed the filters; is it at a position BYSETPOS picks within its period?
    fn picked_by_set_pos(&self, date: NaiveDate, set_pos: &SetPos) -> bool {
        let Some((first, last)) = self.period_of(date) else {
            return false;
        };
        // Count the matching dates before `date`, and after it, only as far as the largest
        // position needs: BYSETPOS=-1 looks no further than the next match.
        let mut budget = u32::MAX;
        let before = self.count_up_to(first, date.pred_opt(), set_pos.max_from_start, &mut budget);
        if before < set_pos.max_from_start && set_pos.from_start.has(before + 1) {
            return true;
        }
        let after = self.count_up_to(
            date.succ_opt(),
            Some(last),
            set_pos.max_from_end,
            &mut budget,
        );
        after < set_pos.max_from_end && set_pos.from_end.has(after + 1)
    }

    /// How many dates from `first` to `last` pass the filters, counting no further than `cap`.
    fn count_up_to(
        &self,
        first: impl Into<Option<NaiveDate>>,
        last: Option<NaiveDate>,
        cap: u32,
        budget: &mut u32,
    ) -> u32 {
        let (Some(first), Some(last), true) = (first.into(), last, cap > 0) else {
            return 0;
        };
        let mut count = 0;
        self.scan(first, last, budget, |_| {
            count += 1;
            count < cap
        });
        count
    }

    /// First and last date of the FREQ period containing `date`. As in dateutil, the period that
    /// contains DTSTART starts there for WEEKLY, so BYSETPOS counts from DTSTART in that week.
    fn period_of(&self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self.freq {
            Freq::Daily => Some((date, date)),
            Freq::Weekly => {
                let back = u64::from(weekday_offset(date, self.wkst));
                let first = date
                    .checked_sub_days(Days::new(back))
                    .unwrap_or(NaiveDate::MIN);
                let last = first
                    .checked_add_days(Days::new(6))
                    .unwrap_or(NaiveDate::MAX);
                let first = match self.start {
                    Some(start) if start > first && start <= last => start,
                    _ => first,
                };
                Some((first, last))
            }
            Freq::Monthly => {
                let first = date.with_day(1)?;
                let last = date.with_day(days_in_month(date.year(), date.month()))?;
                Some((first, last))
            }
            Freq::Yearly => {
                let first = date.with_ordinal(1)?;
                let last = date.with_ordinal(year_len(date.year()))?;
                Some((first, last))
            }
        }
    }

    /// The first date of the period INTERVAL periods after the one starting on `first`.
    fn next_period_start(&self, first: NaiveDate) -> Option<NaiveDate> {
        let interval = u64::from(self.interval);
        match self.freq {
            Freq::Daily => first.checked_add_days(Days::new(interval)),
            Freq::Weekly => {
                let back = u64::from(weekday_offset(first, self.wkst));
                first.checked_add_days(Days::new(interval.checked_mul(7)?.checked_sub(back)?))
            }
            Freq::Monthly => {
                let month = month_number(first).checked_add(i64::from(self.interval))?;
                let year = i32::try_from(month.div_euclid(12)).ok()?;
                let month = u32::try_from(month.rem_euclid(12)).ok()? + 1;
                NaiveDate::from_ymd_opt(year, month, 1)
            }
            Freq::Yearly => {
                let year = first
                    .year()
                    .checked_add(i32::try_from(self.interval).ok()?)?;
                NaiveDate::from_ymd_opt(year, 1, 1)
            }
        }
    }

    /// Calls `visit` on every date from `first` to `last` that passes the filters, in order,
    /// until it returns false, spending one unit of `budget` per date examined and skipping
    /// months BYMONTH excludes.
    fn scan(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        budget: &mut u32,
        mut visit: impl FnMut(NaiveDate) -> bool,
    ) {
        let mut date = first;
        while date <= last && *budget > 0 {
            *budget -= 1;
            if self.filter.months >> date.month() & 1 == 0 {
                match first_of_next_month(date) {
                    Some(next) => date = next,
                    None => return,
                }
                continue;
            }
            if self.filter.matches(date, self.wkst) && !visit(date) {
                return;
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return,
            }
        }
    }

    /// The first `count` occurrences from `start` up to `end` (inclusive), walking the kept
    /// periods in order; fewer when `end` comes first. Each period is examined whole, so that
    /// BYSETPOS positions count the same dates as they do in [`Recurrence::contains`].
    fn first_occurrences(&self, start: NaiveDate, end: NaiveDate, count: u32) -> Vec<NaiveDate> {
        let count = count as usize;
        let mut found = Vec::with_capacity(count.min(1024));
        // Examined dates: at most the span plus a period on either side; a backstop only.
        let mut budget = MAX_COUNT_SPAN_DAYS.saturating_add(800);
        let mut period = self.period_of(start);
        let mut in_period = Vec::new();
        while let Some((first, last)) = period {
            if first > end || budget == 0 {
                break;
            }
            in_period.clear();
            self.scan(first, last, &mut budget, |d| {
                in_period.push(d);
                true
            });
            let len = u32::try_from(in_period.len()).unwrap_or(u32::MAX);
            for (index, &date) in (0u32..).zip(in_period.iter()) {
                let picked = self.set_pos.as_ref().is_none_or(|p| p.picks(index, len));
                if picked && date >= start && date <= end {
                    found.push(date);
                    if found.len() == count {
                        return found;
                    }
                }
            }
            let mut next = self.next_period_start(first);
            if self.freq == Freq::Daily {
                next = self.skip_excluded_months(next, &mut budget);
            }
            period = next.and_then(|next| self.period_of(next));
        }
        found
    }

    /// For DAILY, the first day on the INTERVAL grid from `day` on that is in a month BYMONTH
    /// allows, so that a search does not walk excluded months one day at a time.
    fn skip_excluded_months(
        &self,
        mut day: Option<NaiveDate>,
        budget: &mut u32,
    ) -> Option<NaiveDate> {
        let interval = i64::from(self.interval);
        while let Some(d) = day {
            if self.filter.months >> d.month() & 1 == 1 || *budget == 0 {
                break;
            }
            *budget -= 1;
            let gap = day_number(first_of_next_month(d)?) - day_number(d);
            let steps = (gap + interval - 1) / interval;
            day = d.checked_add_days(Days::new(u64::try_from(steps * interval).ok()?));
        }
        day
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Splits the text into its optional DTSTART line and its rule.
fn split_lines(text: &str) -> Result<(Option<&str>, &str), RRuleError> {
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
fn parse_start_line(line: &str) -> Result<NaiveDate, RRuleError> {
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
struct DaySpec {
    ordinal: Option<i32>,
    weekday: u32,
    text: String,
}

/// The parts of an RRULE as written, before defaults and cross-part checks.
#[derive(Debug, Default)]
struct RawRule {
    freq: Option<Freq>,
    interval: Option<u32>,
    count: Option<u32>,
    until: Option<NaiveDate>,
    by_day: Option<Vec<DaySpec>>,
    by_month_day: Option<Vec<i32>>,
    by_month: Option<Vec<i32>>,
    by_year_day: Option<Vec<i32>>,
    by_week_no: Option<Vec<i32>>,
    by_set_pos: Option<Vec<i32>>,
    wkst: Option<u32>,
}

const BYDAY_EXPECTED: &str = "a list of weekdays (MO, TU, WE, TH, FR, SA, SU), each optionally \
                              preceded by an ordinal from 1 to 53 or -53 to -1, like 2MO or -1FR";

fn parse_parts(rule: &str) -> Result<RawRule, RRuleError> {
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

// ---------------------------------------------------------------------------------------------
// Validation and construction

/// How many days from DTSTART a COUNT rule may span, and why (for the message when it is not
/// enough).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountSpan {
    days: u32,
    /// Days a whole configuration allows, when that is what binds.
    config_total: Option<u32>,
}

impl CountSpan {
    /// A rule on its own: [`MAX_COUNT_SPAN_DAYS`].
    pub fn per_rule() -> CountSpan {
        CountSpan {
            days: MAX_COUNT_SPAN_DAYS,
            config_total: None,
        }
    }

    /// What is left of a configuration's `total` allowance (`left` days) for one more rule.
    pub fn config_remainder(left: u32, total: u32) -> CountSpan {
        if left >= MAX_COUNT_SPAN_DAYS {
            CountSpan::per_rule()
        } else {
            CountSpan {
                days: left,
                config_total: Some(total),
            }
        }
    }

    /// The days a COUNT rule may span under this allowance (what a refused one examined).
    pub fn days(self) -> u32 {
        self.days.min(MAX_COUNT_SPAN_DAYS)
    }

    fn describe(self, days: u32) -> String {
        match self.config_total {
            None => format!(
                "a rule may span at most {} days (about 100 years)",
                thousands(days)
            ),
            Some(total) => format!(
                "the COUNT rules of a configuration may span {} days in all, of which the rules \
                 before this one leave {}",
                thousands(total),
                thousands(days)
            ),
        }
    }
}

/// `36600` as `36,600`.
pub fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn build(
    raw: RawRule,
    start: Option<NaiveDate>,
    span: CountSpan,
) -> Result<Recurrence, RRuleError> {
    let freq = raw.freq.ok_or(RRuleError::MissingFreq)?;
    if raw.count.is_some() && raw.until.is_some() {
        return Err(RRuleError::CountAndUntil);
    }
    let not_allowed = |part, hint| RRuleError::NotAllowedWithFreq {
        part,
        freq: freq.name(),
        hint,
    };
    if raw.by_week_no.is_some() && freq != Freq::Yearly {
        return Err(not_allowed(
            "BYWEEKNO",
            "it is only allowed with FREQ=YEARLY",
        ));
    }
    if raw.by_year_day.is_some() && freq != Freq::Yearly {
        return Err(not_allowed(
            "BYYEARDAY",
            "it is only allowed with FREQ=YEARLY",
        ));
    }
    if raw.by_month_day.is_some() && freq == Freq::Weekly {
        return Err(not_allowed(
            "BYMONTHDAY",
            "use BYDAY to choose days of the week, or FREQ=MONTHLY",
        ));
    }
    // Ordinals count within the month for MONTHLY and for YEARLY with BYMONTH.
    let nth_in_year = freq == Freq::Yearly && raw.by_month.is_none();
    for spec in raw.by_day.iter().flatten() {
        let Some(n) = spec.ordinal else { continue };
        let value = spec.text.clone();
        if matches!(freq, Freq::Daily | Freq::Weekly) {
            return Err(RRuleError::OrdinalNotAllowed { value });
        }
        if raw.by_week_no.is_some() {
            return Err(RRuleError::OrdinalWithWeekNo { value });
        }
        if !nth_in_year && n.abs() > 5 {
            return Err(RRuleError::OrdinalBeyondMonth { value });
        }
    }
    let has_by_part = raw.by_day.is_some()
        || raw.by_month_day.is_some()
        || raw.by_month.is_some()
        || raw.by_year_day.is_some()
        || raw.by_week_no.is_some();
    if raw.by_set_pos.is_some() && !has_by_part {
        return Err(RRuleError::SetPosAlone);
    }

    // Without BYWEEKNO, BYYEARDAY, BYMONTHDAY and BYDAY, RFC 5545 takes the day from DTSTART.
    let uses_start_defaults = raw.by_week_no.is_none()
        && raw.by_year_day.is_none()
        && raw.by_month_day.is_none()
        && raw.by_day.is_none()
        && freq != Freq::Daily;
    let interval = raw.interval.unwrap_or(1);
    if start.is_none() {
        let reason = if interval > 1 {
            Some(format!(
                "INTERVAL={interval} counts periods from the start date"
            ))
        } else if let Some(count) = raw.count {
            Some(format!(
                "COUNT={count} counts occurrences from the start date"
            ))
        } else if uses_start_defaults {
            Some(
                match freq {
                    Freq::Weekly => "FREQ=WEEKLY without BYDAY repeats on the start date's weekday",
                    Freq::Monthly => {
                        "FREQ=MONTHLY without BYMONTHDAY or BYDAY repeats on the start date's day \
                         of the month"
                    }
                    _ => {
                        "FREQ=YEARLY without BYMONTHDAY, BYDAY, BYYEARDAY or BYWEEKNO repeats on \
                         the start date's day (and month, without BYMONTH)"
                    }
                }
                .to_string(),
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(RRuleError::NeedsStart { reason });
        }
    }
    if let (Some(until), Some(start)) = (raw.until, start) {
        if until < start {
            return Err(RRuleError::UntilBeforeStart { until, start });
        }
    }

    let mut filter = Filter {
        months: ALL_MONTHS,
        month_days: None,
        weekdays: ALL_WEEKDAYS,
        nth: None,
        year_days: None,
        week_numbers: None,
    };
    if let Some(months) = &raw.by_month {
        filter.months = months.iter().fold(0, |m, &n| m | 1 << n);
    }
    if let Some(days) = &raw.by_month_day {
        let (from_start, from_end) = split_signed(days);
        filter.month_days = Some((from_start as u32, from_end as u32));
    }
    if let Some(specs) = &raw.by_day {
        filter.weekdays = 0;
        let mut nth = Nth {
            from_start: [0; 7],
            from_end: [0; 7],
            in_year: nth_in_year,
        };
        for spec in specs {
            let w = spec.weekday as usize;
            match spec.ordinal {
                None => filter.weekdays |= 1 << spec.weekday,
                Some(n) if n > 0 => {
                    if let Some(bits) = nth.from_start.get_mut(w) {
                        *bits |= 1 << n;
                    }
                }
                Some(n) => {
                    if let Some(bits) = nth.from_end.get_mut(w) {
                        *bits |= 1 << -n;
                    }
                }
            }
        }
        if specs.iter().any(|s| s.ordinal.is_some()) {
            filter.nth = Some(Box::new(nth));
        }
    }
    if let Some(days) = &raw.by_year_day {
        let mut sets = (Bits384::default(), Bits384::default());
        for &n in days {
            match n {
                1.. => sets.0.insert(n.unsigned_abs()),
                _ => sets.1.insert(n.unsigned_abs()),
            }
        }
        filter.year_days = Some(Box::new(sets));
    }
    if let Some(weeks) = &raw.by_week_no {
        filter.week_numbers = Some(split_signed(weeks));
    }
    if let (true, Some(start)) = (uses_start_defaults, start) {
        match freq {
            Freq::Weekly => filter.weekdays = 1 << start.weekday().num_days_from_monday(),
            Freq::Monthly => filter.month_days = Some((1 << start.day(), 0)),
            Freq::Yearly => {
                if raw.by_month.is_none() {
                    filter.months = 1 << start.month();
                }
                filter.month_days = Some((1 << start.day(), 0));
            }
            Freq::Daily => {}
        }
    }

    let set_pos = raw.by_set_pos.as_ref().map(|positions| {
        let mut set = SetPos {
            from_start: Bits384::default(),
            from_end: Bits384::default(),
            max_from_start: 0,
            max_from_end: 0,
        };
        for &n in positions {
            let m = n.unsigned_abs();
            if n > 0 {
                set.from_start.insert(m);
                set.max_from_start = set.max_from_start.max(m);
            } else {
                set.from_end.insert(m);
                set.max_from_end = set.max_from_end.max(m);
            }
        }
        Box::new(set)
    });

    let mut recurrence = Recurrence {
        freq,
        interval,
        start,
        until: raw.until,
        wkst: raw.wkst.unwrap_or(0),
        filter,
        set_pos,
        occurrences: None,
        count_span_days: 0,
    };
    if let (Some(count), Some(start)) = (raw.count, start) {
        let days = span.days.min(MAX_COUNT_SPAN_DAYS);
        // The last date the walk may reach (the span counts DTSTART as its first day).
        let (end, occurrences) = match days.checked_sub(1) {
            Some(more) => {
                let end = start
                    .checked_add_days(Days::new(u64::from(more)))
                    .unwrap_or(NaiveDate::MAX);
                (end, recurrence.first_occurrences(start, end, count))
            }
            // Nothing left to search: the span ends before DTSTART.
            None => (start.pred_opt().unwrap_or(start), Vec::new()),
        };
        match occurrences.last() {
            Some(&last) if occurrences.len() == count as usize => {
                recurrence.count_span_days =
                    u32::try_from(day_number(last) - day_number(start) + 1).unwrap_or(u32::MAX);
            }
            _ => {
                let found = occurrences.len();
                return Err(RRuleError::CountTooCostly {
                    count,
                    start,
                    found,
                    last: end,
                    limit: span.describe(days),
                    plural: if found == 1 { "" } else { "s" },
                    verb: if found == 1 { "s" } else { "" },
                });
            }
        }
        recurrence.occurrences = Some(occurrences);
    }
    Ok(recurrence)
}

/// Bit masks of the positive values and of the magnitudes of the negative ones (all below 64).
fn split_signed(values: &[i32]) -> (u64, u64) {
    values.iter().fold((0, 0), |(pos, neg), &n| {
        let bit = 1u64 << (n.unsigned_abs() % 64);
        if n > 0 {
            (pos | bit, neg)
        } else {
            (pos, neg | bit)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn year_len(year: i32) -> u32 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

fn month_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// Days from the start of `date`'s week (weeks starting on `wkst`) to `date`.
fn weekday_offset(date: NaiveDate, wkst: u32) -> u32 {
    (date.weekday().num_days_from_monday() + 7 - wkst) % 7
}

/// Day number of the first day of `date`'s week.
fn week_start_number(date: NaiveDate, wkst: u32) -> i64 {
    day_number(date) - i64::from(weekday_offset(date, wkst))
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    match date.month() {
        12 => NaiveDate::from_ymd_opt(date.year().checked_add(1)?, 1, 1),
        m => NaiveDate::from_ymd_opt(date.year(), m + 1, 1),
    }
}

/// Weeks in a year whose 1 January is `offset` days after its week's start: 53 when 1 January
/// starts the year's first week three days late (or two, in a leap year), else 52.
fn weeks_in_year(offset: u32, leap: bool) -> u32 {
    if offset == 3 || (offset == 2 && leap) {
        53
    } else {
        52
    }
}

/// `date`'s week number (week 1 is the first week with at least four days in its year; days
/// before it belong to the previous year's last week, days after the last week to the next
/// year's week 1) and the number of weeks in the year that week belongs to.
fn week_number(date: NaiveDate, wkst: u32) -> (u32, u32) {
    let year = date.year();
    let ordinal0 = date.ordinal0();
    // Offset of 1 January from the start of its week.
    let jan1 = (weekday_offset(date, wkst) + 7 - ordinal0 % 7) % 7;
    let week1_start = if jan1 <= 3 {
        -i64::from(jan1)
    } else {
        7 - i64::from(jan1)
    };
    let days_into = i64::from(ordinal0) - week1_start;
    if days_into < 0 {
        let previous = year.saturating_sub(1);
        let prev_jan1 = (jan1 + 14 - year_len(previous) % 7) % 7;
        let weeks = weeks_in_year(prev_jan1, is_leap(previous));
        return (weeks, weeks);
    }
    let week = u32::try_from(days_into / 7 + 1).unwrap_or(u32::MAX);
    let weeks = weeks_in_year(jan1, is_leap(year));
    if week <= weeks {
        return (week, weeks);
    }
    let next = year.saturating_add(1);
    let next_jan1 = (jan1 + year_len(year)) % 7;
    (1, weeks_in_year(next_jan1, is_leap(next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn rule(text: &str, start: Option<NaiveDate>) -> Recurrence {
        Recurrence::parse(text, start).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str, start: Option<NaiveDate>) -> String {
        match Recurrence::parse(text, start) {
            Ok(r) => panic!("{text} parsed: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// The occurrences of `r` from `from` to `to`, inclusive.
    fn between(r: &Recurrence, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .filter(|d| r.contains(*d))
            .collect()
    }

    #[test]
    fn accepts_the_usual_spellings() {
        let start = date(2024, 1, 1);
        let expected = rule("FREQ=DAILY;BYDAY=MO", None);
        for text in [
            "RRULE:FREQ=DAILY;BYDAY=MO",
            "rrule:freq=daily;byday=mo",
            "  FREQ = DAILY ; BYDAY = MO ; ",
            "DTSTART:20240101\nRRULE:FREQ=DAILY;BYDAY=MO",
            "DTSTART:20240101T000000Z\r\nRRULE:FREQ=DAILY;BYDAY=MO\r\n",
            "DTSTART;TZID=Europe/Paris:20240101T090000\nFREQ=DAILY;BYDAY=MO",
            "DTSTART;VALUE=DATE:20240101\n\nRRULE:FREQ=DAILY;BYDAY=MO",
        ] {
            let with_start = Recurrence::parse(text, Some(start)).unwrap();
            assert!(with_start.contains(date(2024, 1, 8)), "{text}");
            assert!(!with_start.contains(date(2023, 12, 25)), "{text}");
            assert!(!with_start.contains(date(2024, 1, 9)), "{text}");
        }
        assert!(expected.contains(date(1900, 1, 1)));
        assert!(!expected.contains(date(1900, 1, 2)));
    }

    #[test]
    fn start_date_overrides_the_dtstart_line() {
        let r = rule("DTSTART:20200101\nRRULE:FREQ=DAILY", Some(date(2024, 6, 1)));
        assert!(!r.contains(date(2024, 5, 31)));
        assert!(r.contains(date(2024, 6, 1)));
        let r = rule("DTSTART:20200101\nRRULE:FREQ=DAILY", None);
        assert!(r.contains(date(2020, 1, 1)));
        assert!(!r.contains(date(2019, 12, 31)));
    }

    #[test]
    fn daily_with_interval() {
        let r = rule("FREQ=DAILY;INTERVAL=3", Some(date(2024, 2, 27)));
        assert_eq!(
            between(&r, date(2024, 2, 20), date(2024, 3, 8)),
            [
                date(2024, 2, 27),
                date(2024, 3, 1),
                date(2024, 3, 4),
                date(2024, 3, 7)
            ]
        );
    }

    #[test]
    fn weekly_defaults_to_the_start_weekday() {
        // 2024-01-03 is a Wednesday.
        let r = rule("FREQ=WEEKLY", Some(date(2024, 1, 3)));
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 1, 20)),
            [date(2024, 1, 3), date(2024, 1, 10), date(2024, 1, 17)]
        );
    }

    #[test]
    fn biweekly_fires_every_other_week() {
        // Starts Monday 2024-01-01: Mondays and Fridays of weeks 1, 3, 5...
        let r = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", Some(date(2024, 1, 1)));
        assert_eq!(
            between(&r, date(2023, 12, 25), date(2024, 1, 31)),
            [
                date(2024, 1, 1),
                date(2024, 1, 5),
                date(2024, 1, 15),
                date(2024, 1, 19),
                date(2024, 1, 29)
            ]
        );
        // A start in the middle of a week still counts that week as the first.
        let r = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR", Some(date(2024, 1, 3)));
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 1, 20)),
            [date(2024, 1, 5), date(2024, 1, 15), date(2024, 1, 19)]
        );
    }

    #[test]
    fn wkst_decides_which_weeks_interval_keeps() {
        // RFC 5545, section 3.3.10: the same rule with WKST=MO and WKST=SU.
        let start = Some(date(1997, 8, 5));
        let mo = rule("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", start);
        let su = rule("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", start);
        let (from, to) = (date(1997, 8, 1), date(1997, 9, 30));
        let days = |ds: &[u32]| ds.iter().map(|&d| date(1997, 8, d)).collect::<Vec<_>>();
        assert_eq!(between(&mo, from, to), days(&[5, 10, 19, 24]));
        assert_eq!(between(&su, from, to), days(&[5, 17, 19, 31]));
        // The same without COUNT, through the fast path.
        let mo = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=MO", start);
        let su = rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU", start);
        let to = date(1997, 8, 31);
        assert_eq!(between(&mo, from, to), days(&[5, 10, 19, 24]));
        assert_eq!(between(&su, from, to), days(&[5, 17, 19, 31]));
    }

    #[test]
    fn thanksgiving_is_the_fourth_thursday_of_november() {
        let r = rule("FREQ=YEARLY;BYMONTH=11;BYDAY=4TH", None);
        let found = between(&r, date(2023, 1, 1), date(2026, 12, 31));
        assert_eq!(
            found,
            [
                date(2023, 11, 23),
                date(2024, 11, 28),
                date(2025, 11, 27),
                date(2026, 11, 26)
            ]
        );
        let monthly = rule("FREQ=MONTHLY;BYMONTH=11;BYDAY=+4TH", None);
        assert_eq!(
            between(&monthly, date(2023, 1, 1), date(2026, 12, 31)),
            found
        );
    }

    #[test]
    fn memorial_day_is_the_last_monday_of_may() {
        let r = rule("FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO", None);
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2026, 12, 31)),
            [date(2024, 5, 27), date(2025, 5, 26), date(2026, 5, 25)]
        );
    }

    #[test]
    fn ordinals_without_bymonth_count_within_the_year() {
        // The first Monday and the last Friday of each year.
        let r = rule("FREQ=YEARLY;BYDAY=1MO,-1FR", None);
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2025, 12, 31)),
            [
                date(2024, 1, 1),
                date(2024, 12, 27),
                date(2025, 1, 6),
                date(2025, 12, 26)
            ]
        );
        // The 53rd Monday exists only in some years (2024 starts on a Monday and is leap).
        let r = rule("FREQ=YEARLY;BYDAY=53MO", None);
        assert_eq!(
            between(&r, date(2023, 1, 1), date(2025, 12, 31)),
            [date(2024, 12, 30)]
        );
    }

    #[test]
    fn plain_and_ordinal_weekdays_are_alternatives() {
        // Every Monday plus the first Tuesday (rrule.js would require both at once).
        let r = rule("FREQ=MONTHLY;BYDAY=MO,1TU", None);
        assert_eq!(
            between(&r, date(2024, 10, 1), date(2024, 10, 31)),
            [
                date(2024, 10, 1),
                date(2024, 10, 7),
                date(2024, 10, 14),
                date(2024, 10, 21),
                date(2024, 10, 28)
            ]
        );
    }

    #[test]
    fn negative_month_days_count_from_the_month_end() {
        let r = rule("FREQ=MONTHLY;BYMONTHDAY=-1", None);
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 4, 30)),
            [
                date(2024, 1, 31),
                date(2024, 2, 29),
                date(2024, 3, 31),
                date(2024, 4, 30)
            ]
        );
        let r = rule("FREQ=MONTHLY;BYMONTHDAY=1,-2", None);
        assert_eq!(
            between(&r, date(2023, 2, 1), date(2023, 3, 1)),
            [date(2023, 2, 1), date(2023, 2, 27), date(2023, 3, 1)]
        );
    }

    #[test]
    fn monthly_defaults_to_the_start_day_and_skips_short_months() {
        let r = rule("FREQ=MONTHLY", Some(date(2024, 1, 31)));
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 5, 31)),
            [date(2024, 1, 31), date(2024, 3, 31), date(2024, 5, 31)]
        );
    }

    #[test]
    fn yearly_defaults_to_the_start_month_and_day() {
        let r = rule("FREQ=YEARLY", Some(date(2020, 2, 29)));
        assert_eq!(
            between(&r, date(2020, 1, 1), date(2028, 12, 31)),
            [date(2020, 2, 29), date(2024, 2, 29), date(2028, 2, 29)]
        );
        // With BYMONTH the day still comes from the start date.
        let r = rule("FREQ=YEARLY;BYMONTH=3,6", Some(date(2024, 1, 15)));
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 12, 31)),
            [date(2024, 3, 15), date(2024, 6, 15)]
        );
    }

    #[test]
    fn last_weekday_of_the_month_with_bysetpos() {
        let r = rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", None);
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 6, 30)),
            [
                date(2024, 1, 31),
                date(2024, 2, 29),
                date(2024, 3, 29),
                date(2024, 4, 30),
                date(2024, 5, 31),
                date(2024, 6, 28)
            ]
        );
        // Second and second-to-last weekday.
        let r = rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=2,-2", None);
        assert_eq!(
            between(&r, date(2024, 6, 1), date(2024, 6, 30)),
            [date(2024, 6, 4), date(2024, 6, 27)]
        );
    }

    #[test]
    fn bysetpos_counts_dates_before_dtstart_in_its_month() {
        // The first weekday of June 2024 is the 3rd, before DTSTART: June has no occurrence.
        let r = rule(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
            Some(date(2024, 6, 5)),
        );
        assert_eq!(
            between(&r, date(2024, 6, 1), date(2024, 7, 31)),
            [date(2024, 7, 1)]
        );
        // ...but a WEEKLY period containing DTSTART starts at DTSTART, as in dateutil.
        let r = rule(
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
            Some(date(2024, 6, 5)),
        );
        assert_eq!(
            between(&r, date(2024, 6, 1), date(2024, 6, 16)),
            [date(2024, 6, 5), date(2024, 6, 10)]
        );
    }

    #[test]
    fn year_days_from_either_end() {
        let r = rule("FREQ=YEARLY;BYYEARDAY=1,100,-1", None);
        assert_eq!(
            between(&r, date(2023, 1, 1), date(2024, 12, 31)),
            [
                date(2023, 1, 1),
                date(2023, 4, 10),
                date(2023, 12, 31),
                date(2024, 1, 1),
                date(2024, 4, 9),
                date(2024, 12, 31)
            ]
        );
        let r = rule("FREQ=YEARLY;BYYEARDAY=366", None);
        assert_eq!(
            between(&r, date(2023, 1, 1), date(2025, 12, 31)),
            [date(2024, 12, 31)]
        );
    }

    #[test]
    fn week_numbers_follow_wkst() {
        // ISO week 1 of 2025 starts on Monday 2024-12-30, that of 2026 on 2025-12-29; 2020
        // has 53 ISO weeks.
        let r = rule("FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO", None);
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2025, 12, 31)),
            [date(2024, 1, 1), date(2024, 12, 30), date(2025, 12, 29)]
        );
        let r = rule("FREQ=YEARLY;BYWEEKNO=53", None);
        assert_eq!(
            between(&r, date(2020, 1, 1), date(2021, 12, 31)),
            (0..7)
                .map(|i| date(2020, 12, 28) + Days::new(i))
                .collect::<Vec<_>>()
        );
        // -1 is the last week, also for its days in the next January.
        let r = rule("FREQ=YEARLY;BYWEEKNO=-1;BYDAY=SU", None);
        assert_eq!(
            between(&r, date(2020, 6, 1), date(2021, 6, 30)),
            [date(2021, 1, 3)]
        );
        // Next year's week 1 is also its week -52 (2025 has 52 weeks).
        let r = rule("FREQ=YEARLY;BYWEEKNO=-52;BYDAY=TU", None);
        assert_eq!(
            between(&r, date(2024, 6, 1), date(2025, 6, 30)),
            [date(2024, 12, 31)]
        );
        // Weeks starting on Sunday: 2023-01-01 is a Sunday, so week 1 starts there.
        let r = rule("FREQ=YEARLY;BYWEEKNO=1;WKST=SU", None);
        assert_eq!(
            between(&r, date(2022, 12, 20), date(2023, 1, 10)),
            (1..=7).map(|d| date(2023, 1, d)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn week_number_agrees_with_iso_weeks() {
        let mut day = date(1999, 12, 1);
        while day < date(2031, 1, 31) {
            let iso = day.iso_week();
            let (week, weeks) = week_number(day, 0);
            assert_eq!(week, iso.week(), "{day}");
            let last_of_week_year =
                NaiveDate::from_isoywd_opt(iso.year(), 53, chrono::Weekday::Mon);
            assert_eq!(weeks == 53, last_of_week_year.is_some(), "{day}");
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn byweekno_at_year_edges_matches_iso_weeks() {
        // Where rrule.js departs from RFC 5545: 1-2 January 2022 are in ISO week 52 of 2021 (not
        // 53), and 29-31 December 2025 in week 1 of 2026, which has 53 weeks (so also week -53).
        let weeks_in = |year| {
            if NaiveDate::from_isoywd_opt(year, 53, chrono::Weekday::Mon).is_some() {
                53
            } else {
                52
            }
        };
        for n in [1, 2, 51, 52, 53, -1, -2, -52, -53] {
            let r = rule(&format!("FREQ=YEARLY;BYWEEKNO={n}"), None);
            for day in date(2014, 12, 1)
                .iter_days()
                .take_while(|d| d.year() < 2031)
            {
                let iso = day.iso_week();
                let week = i64::from(iso.week());
                let expected = if n > 0 {
                    week == i64::from(n)
                } else {
                    week - weeks_in(iso.year()) - 1 == i64::from(n)
                };
                assert_eq!(r.contains(day), expected, "BYWEEKNO={n} on {day}");
            }
        }
        assert!(rule("FREQ=YEARLY;BYWEEKNO=52", None).contains(date(2022, 1, 1)));
        assert!(!rule("FREQ=YEARLY;BYWEEKNO=53", None).contains(date(2022, 1, 1)));
        assert!(rule("FREQ=YEARLY;BYWEEKNO=-53", None).contains(date(2025, 12, 31)));
    }

    #[test]
    fn until_is_inclusive_and_only_its_date_counts() {
        for until in [
            "20240110",
            "20240110T000000Z",
            "20240110T235959",
            "20240110t083000z",
        ] {
            let r = rule(&format!("FREQ=DAILY;UNTIL={until}"), Some(date(2024, 1, 8)));
            assert_eq!(
                between(&r, date(2024, 1, 1), date(2024, 1, 31)),
                [date(2024, 1, 8), date(2024, 1, 9), date(2024, 1, 10)],
                "{until}"
            );
        }
        // Unanchored rules may end too.
        let r = rule("FREQ=WEEKLY;BYDAY=SA;UNTIL=20240106", None);
        assert!(r.contains(date(2000, 1, 1)));
        assert!(r.contains(date(2024, 1, 6)));
        assert!(!r.contains(date(2024, 1, 13)));
    }

    #[test]
    fn count_keeps_the_first_occurrences() {
        let r = rule("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=5", Some(date(2024, 1, 4)));
        assert_eq!(
            between(&r, date(2023, 12, 1), date(2024, 3, 1)),
            [
                date(2024, 1, 4),
                date(2024, 1, 9),
                date(2024, 1, 11),
                date(2024, 1, 16),
                date(2024, 1, 18)
            ]
        );
        // DTSTART itself does not count when it does not match.
        let r = rule(
            "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=2",
            Some(date(2024, 1, 20)),
        );
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 12, 31)),
            [date(2024, 2, 15), date(2024, 3, 15)]
        );
        // With BYSETPOS.
        let r = rule(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=2",
            Some(date(2024, 1, 1)),
        );
        assert_eq!(
            between(&r, date(2024, 1, 1), date(2024, 12, 31)),
            [date(2024, 1, 31), date(2024, 2, 29)]
        );
        assert_eq!(r.count_span_days(), 60);
    }

    #[test]
    fn count_must_be_reached_within_the_span() {
        // The issue's rule: 10,000 Fridays the 13th need about 5,800 years.
        let start = Some(date(2024, 1, 1));
        let e = Recurrence::parse("RRULE:FREQ=DAILY;COUNT=10000;BYMONTHDAY=13;BYDAY=FR", start)
            .unwrap_err();
        assert!(
            matches!(e, RRuleError::CountTooCostly { found: 172, .. }),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "COUNT=10000 is too costly: its occurrences are found when the configuration loads, \
             by walking the calendar from the start date 2024-01-01, and a rule may span at most \
             36,600 days (about 100 years); only 172 occurrences fall within that span (up to \
             2124-03-16). Lower COUNT, or end the rule with UNTIL instead"
        );
        // A rule that never occurs is refused too, instead of searching to year 9999.
        let e =
            Recurrence::parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3", start).unwrap_err();
        assert!(
            matches!(e, RRuleError::CountTooCostly { found: 0, .. }),
            "{e}"
        );
        // At the edge: the 5,229th Monday from Monday 2024-01-01 is its day 36,597, the next
        // one would be beyond day 36,600.
        let r = rule("FREQ=WEEKLY;BYDAY=MO;COUNT=5229", Some(date(2024, 1, 1)));
        assert_eq!(r.count_span_days(), 5228 * 7 + 1);
        assert!(Recurrence::parse("FREQ=WEEKLY;BYDAY=MO;COUNT=5230", start).is_err());
        // A configuration's remainder binds with its own message.
        let e = Recurrence::parse_within(
            "FREQ=DAILY;COUNT=100",
            start,
            CountSpan::config_remainder(40, 100_000),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains(
                "the COUNT rules of a configuration may span 100,000 days in all, of which the \
                 rules before this one leave 40; only 40 occurrences fall within that span"
            ),
            "{e}"
        );
        let r = Recurrence::parse_within(
            "FREQ=DAILY;COUNT=40",
            start,
            CountSpan::config_remainder(40, 100_000),
        )
        .unwrap();
        assert_eq!(r.count_span_days(), 40);
        assert_eq!(rule("FREQ=DAILY", None).count_span_days(), 0);
    }

    #[test]
    fn evaluation_weight_counts_the_dates_bysetpos_examines() {
        assert_eq!(rule("FREQ=WEEKLY;BYDAY=MO", None).evaluation_weight(), 1);
        assert_eq!(
            rule("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", None).evaluation_weight(),
            62
        );
        assert_eq!(
            rule("FREQ=YEARLY;BYMONTHDAY=1;BYSETPOS=2", None).evaluation_weight(),
            732
        );
        // With COUNT the occurrences are listed: a binary search.
        assert_eq!(
            rule(
                "FREQ=YEARLY;BYMONTHDAY=1;BYSETPOS=2;COUNT=3",
                Some(date(2024, 1, 1))
            )
            .evaluation_weight(),
            1
        );
    }

    #[test]
    fn unanchored_rules_need_no_start() {
        let r = rule("FREQ=WEEKLY;BYDAY=SA,SU", None);
        assert!(r.contains(date(1970, 1, 3)));
        assert!(
            r.contains(date(1, 1, 6)),
            "no lower bound: 6 January 1 was a Saturday"
        );
        assert!(!r.contains(date(2024, 1, 5)));
        assert!(rule("FREQ=DAILY", None).contains(date(2024, 1, 5)));
        assert!(rule("FREQ=MONTHLY;BYDAY=-1FR", None).contains(date(2024, 5, 31)));
    }

    #[test]
    fn error_messages_name_the_part_and_what_is_expected() {
        let cases: &[(&str, &str)] = &[
            (
                "",
                "the recurrence rule is empty; expected a rule like \"FREQ=WEEKLY;BYDAY=MO\"",
            ),
            (
                "DTSTART:20240101",
                "no RRULE found; expected a rule like \"FREQ=WEEKLY;BYDAY=MO\", optionally after \
                 a DTSTART line",
            ),
            (
                "EXDATE:20240101\nFREQ=DAILY",
                "unsupported line \"EXDATE:20240101\"; expected an optional DTSTART line and one \
                 RRULE line",
            ),
            (
                "FREQ=DAILY\nRRULE:FREQ=WEEKLY",
                "more than one RRULE line; expected at most one",
            ),
            (
                "DTSTART:20240101\nDTSTART:20240102\nFREQ=DAILY",
                "more than one DTSTART line; expected at most one",
            ),
            (
                "DTSTART:2024-01-01\nFREQ=DAILY",
                "DTSTART must be a date like 20240101 or a date-time like 20240101T090000Z, got \
                 \"2024-01-01\"",
            ),
            (
                "FREQ=DAILY;BYDAY",
                "RRULE part \"BYDAY\" is not of the form NAME=VALUE",
            ),
            (
                "FREQ=DAILY;FOO=1",
                "unknown RRULE part \"FOO\"; expected FREQ, INTERVAL, COUNT, UNTIL, BYDAY, \
                 BYMONTHDAY, BYMONTH, BYYEARDAY, BYWEEKNO, BYSETPOS or WKST",
            ),
            (
                "FREQ=DAILY;FREQ=DAILY",
                "RRULE part FREQ is given more than once",
            ),
            (
                "BYDAY=MO",
                "FREQ is missing; expected FREQ=DAILY, FREQ=WEEKLY, FREQ=MONTHLY or FREQ=YEARLY",
            ),
            (
                "FREQ=HOURLY",
                "FREQ=HOURLY is not supported: rules recur on dates, and times of day go in \
                 startTime/endTime",
            ),
            (
                "FREQ=DAILY;BYHOUR=9",
                "BYHOUR is not supported: rules recur on dates, and times of day go in \
                 startTime/endTime",
            ),
            (
                "FREQ=FORTNIGHTLY",
                "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY, got \"FORTNIGHTLY\"",
            ),
            (
                "FREQ=DAILY;INTERVAL=0",
                "INTERVAL must be a positive integer, got \"0\"",
            ),
            (
                "FREQ=DAILY;INTERVAL=-2",
                "INTERVAL must be a positive integer, got \"-2\"",
            ),
            (
                "FREQ=DAILY;COUNT=10001",
                "COUNT must be a positive integer of at most 10000, got \"10001\"",
            ),
            (
                "FREQ=DAILY;UNTIL=2024",
                "UNTIL must be a date like 20241231 or a date-time like 20241231T235959Z, got \
                 \"2024\"",
            ),
            (
                "FREQ=DAILY;UNTIL=20240230",
                "UNTIL must be a date like 20241231 or a date-time like 20241231T235959Z, got \
                 \"20240230\"",
            ),
            (
                "FREQ=WEEKLY;BYDAY=MO,XX",
                "BYDAY must be a list of weekdays (MO, TU, WE, TH, FR, SA, SU), each optionally \
                 preceded by an ordinal from 1 to 53 or -53 to -1, like 2MO or -1FR, got \"XX\"",
            ),
            (
                "FREQ=YEARLY;BYDAY=54MO",
                "BYDAY must be a list of weekdays (MO, TU, WE, TH, FR, SA, SU), each optionally \
                 preceded by an ordinal from 1 to 53 or -53 to -1, like 2MO or -1FR, got \"54MO\"",
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=0",
                "BYMONTHDAY must be a list of days of the month from 1 to 31 or -31 to -1, got \
                 \"0\"",
            ),
            (
                "FREQ=DAILY;BYMONTH=1,13",
                "BYMONTH must be a list of months from 1 to 12, got \"13\"",
            ),
            (
                "FREQ=DAILY;BYMONTH=-1",
                "BYMONTH must be a list of months from 1 to 12, got \"-1\"",
            ),
            (
                "FREQ=YEARLY;BYYEARDAY=367",
                "BYYEARDAY must be a list of days of the year from 1 to 366 or -366 to -1, got \
                 \"367\"",
            ),
            (
                "FREQ=YEARLY;BYWEEKNO=1,,2",
                "BYWEEKNO must be a list of week numbers from 1 to 53 or -53 to -1, got \"\"",
            ),
            (
                "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-367",
                "BYSETPOS must be a list of positions from 1 to 366 or -366 to -1, got \"-367\"",
            ),
            (
                "FREQ=WEEKLY;BYDAY=MO;WKST=MONDAY",
                "WKST must be a weekday: MO, TU, WE, TH, FR, SA or SU, got \"MONDAY\"",
            ),
            (
                "FREQ=DAILY;COUNT=2;UNTIL=20250101",
                "COUNT and UNTIL cannot both be given; use one of them to end the rule",
            ),
            (
                "FREQ=MONTHLY;BYWEEKNO=1",
                "BYWEEKNO cannot be used with FREQ=MONTHLY; it is only allowed with FREQ=YEARLY",
            ),
            (
                "FREQ=DAILY;BYYEARDAY=1",
                "BYYEARDAY cannot be used with FREQ=DAILY; it is only allowed with FREQ=YEARLY",
            ),
            (
                "FREQ=WEEKLY;BYMONTHDAY=1",
                "BYMONTHDAY cannot be used with FREQ=WEEKLY; use BYDAY to choose days of the \
                 week, or FREQ=MONTHLY",
            ),
            (
                "FREQ=WEEKLY;BYDAY=2MO",
                "BYDAY ordinals like \"2MO\" are only allowed with FREQ=MONTHLY or FREQ=YEARLY",
            ),
            (
                "FREQ=DAILY;BYDAY=MO,-1fr",
                "BYDAY ordinals like \"-1fr\" are only allowed with FREQ=MONTHLY or FREQ=YEARLY",
            ),
            (
                "FREQ=YEARLY;BYWEEKNO=20;BYDAY=1MO",
                "BYDAY ordinals like \"1MO\" cannot be combined with BYWEEKNO",
            ),
            (
                "FREQ=MONTHLY;BYDAY=6MO",
                "BYDAY ordinal in \"6MO\" counts within a month, which has at most 5 of each \
                 weekday; expected 1 to 5 or -5 to -1",
            ),
            (
                "FREQ=YEARLY;BYMONTH=5;BYDAY=-6MO",
                "BYDAY ordinal in \"-6MO\" counts within a month, which has at most 5 of each \
                 weekday; expected 1 to 5 or -5 to -1",
            ),
            (
                "FREQ=MONTHLY;BYSETPOS=1",
                "BYSETPOS must be used together with another BY part (BYDAY, BYMONTHDAY, \
                 BYMONTH, BYYEARDAY or BYWEEKNO)",
            ),
            (
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
                "this rule needs a startDate (or a DTSTART line) because INTERVAL=2 counts \
                 periods from the start date",
            ),
            (
                "FREQ=DAILY;COUNT=3",
                "this rule needs a startDate (or a DTSTART line) because COUNT=3 counts \
                 occurrences from the start date",
            ),
            (
                "FREQ=WEEKLY",
                "this rule needs a startDate (or a DTSTART line) because FREQ=WEEKLY without \
                 BYDAY repeats on the start date's weekday",
            ),
            (
                "FREQ=MONTHLY;BYMONTH=1",
                "this rule needs a startDate (or a DTSTART line) because FREQ=MONTHLY without \
                 BYMONTHDAY or BYDAY repeats on the start date's day of the month",
            ),
            (
                "FREQ=YEARLY;BYMONTH=12",
                "this rule needs a startDate (or a DTSTART line) because FREQ=YEARLY without \
                 BYMONTHDAY, BYDAY, BYYEARDAY or BYWEEKNO repeats on the start date's day (and \
                 month, without BYMONTH)",
            ),
            (
                "DTSTART:20240201\nFREQ=DAILY;UNTIL=20240131",
                "UNTIL 2024-01-31 is before the start date 2024-02-01, so the rule would never \
                 occur",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(error(text, None), *message, "{text}");
        }
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let rules = [
            "FREQ=DAILY;INTERVAL=3",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU;WKST=SU",
            "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=-1",
            "FREQ=MONTHLY;INTERVAL=5;BYDAY=-1SU,2MO;BYSETPOS=1,-1",
            "FREQ=YEARLY;INTERVAL=7;BYWEEKNO=1,-1,53",
            "FREQ=YEARLY;BYYEARDAY=-366,366;BYSETPOS=-1",
            "FREQ=YEARLY;BYDAY=-53MO,53SU",
            "FREQ=DAILY;COUNT=10000",
            "FREQ=YEARLY;COUNT=1;INTERVAL=4294967295",
            "FREQ=MONTHLY;COUNT=1;INTERVAL=4294967295",
            "FREQ=WEEKLY;COUNT=1;INTERVAL=4294967295",
            "FREQ=DAILY;COUNT=1;INTERVAL=4294967295",
        ];
        let edges = [
            NaiveDate::MIN,
            NaiveDate::MIN + Days::new(3),
            date(9999, 12, 31),
            NaiveDate::MAX - Days::new(3),
            NaiveDate::MAX,
        ];
        for text in rules {
            for start in edges {
                // Near the end of the calendar a COUNT may not be reached: refused, no panic.
                let Ok(r) = Recurrence::parse(text, Some(start)) else {
                    assert!(text.contains("COUNT"), "{text} from {start}");
                    continue;
                };
                for day in edges {
                    let _ = r.contains(day);
                }
            }
        }
    }
}
