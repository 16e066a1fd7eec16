//! Calendar arithmetic on proleptic Gregorian dates: month and year lengths, period numbers,
//! and WKST-based week numbers.

use chrono::{Datelike, NaiveDate};

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(super) fn year_len(year: i32) -> u32 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

pub(super) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 31,
    }
}

pub(super) fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

pub(super) fn month_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// Days from the start of `date`'s week (weeks starting on `wkst`) to `date`.
pub(super) fn weekday_offset(date: NaiveDate, wkst: u32) -> u32 {
    (date.weekday().num_days_from_monday() + 7 - wkst) % 7
}

/// Day number of the first day of `date`'s week.
pub(super) fn week_start_number(date: NaiveDate, wkst: u32) -> i64 {
    day_number(date) - i64::from(weekday_offset(date, wkst))
}

pub(super) fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
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
pub(super) fn week_number(date: NaiveDate, wkst: u32) -> (u32, u32) {
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
