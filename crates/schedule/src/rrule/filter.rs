//! The BY parts of a rule compiled to bit masks: whether one date passes them.

use chrono::{Datelike, NaiveDate};

use super::calendar::{days_in_month, week_number, year_len};

/// A set of small positive integers (up to 383), for days of the year and set positions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Bits384([u64; 6]);

impl Bits384 {
    pub(super) fn insert(&mut self, n: u32) {
        if let Some(word) = self.0.get_mut((n / 64) as usize) {
            *word |= 1 << (n % 64);
        }
    }

    pub(super) fn has(&self, n: u32) -> bool {
        self.0
            .get((n / 64) as usize)
            .is_some_and(|word| word >> (n % 64) & 1 == 1)
    }
}

/// `BYSETPOS`: positive positions count from the first date of a period, negative from the last.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SetPos {
    pub(super) from_start: Bits384,
    pub(super) from_end: Bits384,
    /// The largest position from the start (0 if none), and from the end: counting stops there.
    pub(super) max_from_start: u32,
    pub(super) max_from_end: u32,
}

impl SetPos {
    /// Whether the date at `index` (0-based) among `len` dates is picked.
    pub(super) fn picks(&self, index: u32, len: u32) -> bool {
        self.from_start.has(index + 1) || (index < len && self.from_end.has(len - index))
    }
}

/// `BYDAY` ordinals: bit n of `from_start[w]` is "the n-th weekday w", of `from_end[w]` the n-th
/// from last.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Nth {
    pub(super) from_start: [u64; 7],
    pub(super) from_end: [u64; 7],
    /// Whether ordinals count within the year (else within the month).
    pub(super) in_year: bool,
}

impl Nth {
    pub(super) fn matches(&self, date: NaiveDate, weekday: u32) -> bool {
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
pub(super) struct Filter {
    /// Bit m for month m (1..=12).
    pub(super) months: u16,
    /// Bit d for day d of the month, and bit d for the d-th day from the month's end.
    pub(super) month_days: Option<(u32, u32)>,
    /// Bit w for weekday w (0 = Monday) when every such weekday matches.
    pub(super) weekdays: u8,
    pub(super) nth: Option<Box<Nth>>,
    /// Days of the year from its start and from its end.
    pub(super) year_days: Option<Box<(Bits384, Bits384)>>,
    /// Week numbers: bit n for week n, and bit n for the n-th week from the year's last.
    pub(super) week_numbers: Option<(u64, u64)>,
}

pub(super) const ALL_MONTHS: u16 = 0b1_1111_1111_1110;
pub(super) const ALL_WEEKDAYS: u8 = 0b111_1111;

impl Filter {
    pub(super) fn matches(&self, date: NaiveDate, wkst: u32) -> bool {
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
