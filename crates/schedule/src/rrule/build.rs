//! From the parts as written to a [`Recurrence`]: the checks across parts, RFC 5545's defaults
//! from DTSTART, the compiled filters, and COUNT's occurrences within the allowed span.

use chrono::{Datelike, Days, NaiveDate};

use super::calendar::day_number;
use super::filter::{Bits384, Filter, Nth, SetPos, ALL_MONTHS, ALL_WEEKDAYS};
use super::parse::RawRule;
use super::{Freq, RRuleError, Recurrence, MAX_COUNT_SPAN_DAYS};

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
pub(crate) fn thousands(n: u32) -> String {
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

pub(super) fn build(
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
