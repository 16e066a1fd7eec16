//! Why a `dateRRule` is refused.

use chrono::NaiveDate;

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
    /// COUNT is not reached within the days the rule may span (see [`super::MAX_COUNT_SPAN_DAYS`]).
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
