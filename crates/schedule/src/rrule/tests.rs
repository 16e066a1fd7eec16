use chrono::{Datelike, Days};

use super::calendar::week_number;
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
        let last_of_week_year = NaiveDate::from_isoywd_opt(iso.year(), 53, chrono::Weekday::Mon);
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
    // The rule: 10,000 Fridays the 13th need about 5,800 years.
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
    let e = Recurrence::parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=3", start).unwrap_err();
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
