//! `schedule::rrule::Recurrence` checked against the `rrule` crate (a port of rrule.js and
//! python-dateutil) as an oracle, plus "never panics" properties of the parser.
//!
//! The generator only builds rules on which the oracle follows RFC 5545, leaving out the corners
//! where it does not (documented in `schedule::rrule`):
//!
//! - `BYDAY` never mixes plain weekdays and ordinals: the oracle intersects them, RFC 5545 (and
//!   `Recurrence`) takes their union. (`FREQ=MONTHLY;BYDAY=MO,1TU` has no occurrence at all in
//!   the oracle.)
//! - `BYWEEKNO` stays within -51..=51: the oracle sometimes numbers the previous year's last week
//!   53 instead of 52 for the January days in it (`BYWEEKNO=53` gives 1-2 January 2022, which are
//!   in ISO week 52 of 2021), and never matches the next year's week 1 by a negative number
//!   (`BYWEEKNO=-53` misses 29-31 December 2025, in week 1 of the 53-week 2026).
//!   `schedule::rrule`'s unit tests check these edges against chrono's ISO weeks instead.
//! - Ordinals stay within the oracle's accepted ranges (`MONTHLY`: -4..=5, `YEARLY`: -52..=53),
//!   and `BYSETPOS` only comes with another BY part, as RFC 5545 requires (the oracle accepts it
//!   alone and applies it to the DTSTART defaults).

use chrono::{Datelike, Days, NaiveDate, TimeZone};
use proptest::prelude::*;
use schedule::rrule::{RRuleError, Recurrence, MAX_COUNT_SPAN_DAYS};

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone)]
enum End {
    Never,
    Count(u32),
    /// The UNTIL date and how to spell it (0: date, 1: midnight UTC, 2: end of day UTC).
    Until(NaiveDate, u8),
}

/// A valid rule, as the generator builds it.
#[derive(Debug, Clone)]
struct Spec {
    freq: Freq,
    interval: u32,
    start: NaiveDate,
    wkst: Option<usize>,
    by_month: Vec<i32>,
    by_month_day: Vec<i32>,
    by_day: Vec<(Option<i32>, usize)>,
    by_year_day: Vec<i32>,
    by_week_no: Vec<i32>,
    by_set_pos: Vec<i32>,
    end: End,
    /// Whether DTSTART goes in the text (else it is passed as the start date).
    start_in_text: bool,
}

fn ymd(date: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

fn join(values: &[i32]) -> String {
    values
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl Spec {
    /// The RRULE value, without DTSTART.
    fn rule(&self) -> String {
        self.rule_text(false)
    }

    /// The RRULE value; for the oracle, UNTIL is always a UTC date-time, as it requires when
    /// DTSTART is in UTC.
    fn rule_text(&self, for_oracle: bool) -> String {
        let freq = match self.freq {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        };
        let mut parts = vec![format!("FREQ={freq}")];
        if self.interval > 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        if let Some(w) = self.wkst {
            parts.push(format!("WKST={}", WEEKDAYS[w]));
        }
        let lists = [
            ("BYMONTH", &self.by_month),
            ("BYMONTHDAY", &self.by_month_day),
            ("BYYEARDAY", &self.by_year_day),
            ("BYWEEKNO", &self.by_week_no),
        ];
        for (name, values) in lists {
            if !values.is_empty() {
                parts.push(format!("{name}={}", join(values)));
            }
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|(n, w)| match n {
                    Some(n) => format!("{n}{}", WEEKDAYS[*w]),
                    None => WEEKDAYS[*w].to_string(),
                })
                .collect();
            parts.push(format!("BYDAY={}", days.join(",")));
        }
        if !self.by_set_pos.is_empty() {
            parts.push(format!("BYSETPOS={}", join(&self.by_set_pos)));
        }
        match &self.end {
            End::Never => {}
            End::Count(n) => parts.push(format!("COUNT={n}")),
            End::Until(date, _) if for_oracle => {
                parts.push(format!("UNTIL={}T235959Z", ymd(*date)))
            }
            End::Until(date, 0) => parts.push(format!("UNTIL={}", ymd(*date))),
            End::Until(date, 1) => parts.push(format!("UNTIL={}T000000Z", ymd(*date))),
            End::Until(date, _) => parts.push(format!("UNTIL={}T235959Z", ymd(*date))),
        }
        parts.join(";")
    }

    /// Our parse of the rule; `None` when its COUNT is not reached within the span a rule may
    /// cover, which is checked against the oracle here: it must find fewer occurrences there.
    fn ours(&self) -> Option<Recurrence> {
        let parsed = if self.start_in_text {
            let text = format!("DTSTART:{}\nRRULE:{}", ymd(self.start), self.rule());
            Recurrence::parse(&text, None)
        } else {
            Recurrence::parse(&self.rule(), Some(self.start))
        };
        match parsed {
            Ok(r) => Some(r),
            Err(e @ RRuleError::CountTooCostly { .. }) => {
                let End::Count(count) = self.end else {
                    panic!("{} rejected: {e}", self.rule());
                };
                let last = self.start + Days::new(u64::from(MAX_COUNT_SPAN_DAYS) - 1);
                let found = self.oracle(last).len();
                assert!(
                    found < count as usize,
                    "{} refused ({e}) but the oracle finds {found} occurrences by {last}",
                    self.rule()
                );
                None
            }
            Err(e) => panic!("{} rejected: {e}", self.rule()),
        }
    }

    /// The oracle's occurrences up to `last`, inclusive.
    fn oracle(&self, last: NaiveDate) -> Vec<NaiveDate> {
        let text = format!(
            "DTSTART:{}T000000Z\nRRULE:{}",
            ymd(self.start),
            self.rule_text(true)
        );
        let set: rrule::RRuleSet = text
            .parse()
            .unwrap_or_else(|e| panic!("oracle rejects {text:?}: {e}"));
        let before = rrule::Tz::UTC
            .with_ymd_and_hms(last.year(), last.month(), last.day(), 23, 59, 59)
            .single()
            .expect("a valid UTC time");
        set.before(before)
            .all(u16::MAX)
            .dates
            .iter()
            .map(|d| d.date_naive())
            .collect()
    }
}

fn nonzero(range: i32) -> impl Strategy<Value = i32> {
    prop_oneof![1..=range, -range..=-1]
}

/// `n` folded into ±1..=max, keeping its sign.
fn fold(n: i32, max: i32) -> i32 {
    n.signum() * ((n.abs() - 1) % max + 1)
}

fn maybe<S: Strategy>(s: S) -> impl Strategy<Value = Vec<S::Value>>
where
    S::Value: std::fmt::Debug + Clone,
{
    prop_oneof![
        3 => Just(Vec::new()),
        1 => prop::collection::vec(s, 1..=3),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let freq = prop_oneof![
        Just(Freq::Daily),
        Just(Freq::Weekly),
        Just(Freq::Monthly),
        Just(Freq::Yearly)
    ];
    let start =
        (0u64..50 * 366).prop_map(|d| NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + Days::new(d));
    // (kind, COUNT, days from DTSTART to UNTIL, UNTIL spelling)
    let end = (0u8..4, 1u32..=30, 0u64..900, 0u8..3);
    let by_day = (any::<bool>(), maybe((nonzero(53), 0usize..7)));
    (
        (
            freq,
            1u32..=4,
            start,
            prop::option::of(0usize..7),
            end,
            any::<bool>(),
        ),
        (
            maybe(1i32..=12),
            maybe(nonzero(31)),
            by_day,
            maybe(nonzero(366)),
            maybe(nonzero(51)),
            maybe(nonzero(366)),
        ),
    )
        .prop_map(
            |(
                (freq, interval, start, wkst, end, start_in_text),
                (
                    by_month,
                    mut by_month_day,
                    (ordinals, by_day),
                    mut by_year_day,
                    mut by_week_no,
                    mut by_set_pos,
                ),
            )| {
                if freq == Freq::Weekly {
                    by_month_day.clear();
                }
                if freq != Freq::Yearly {
                    by_year_day.clear();
                    by_week_no.clear();
                }
                let ordinals_allowed =
                    matches!(freq, Freq::Monthly | Freq::Yearly) && by_week_no.is_empty();
                let in_month = freq == Freq::Monthly || !by_month.is_empty();
                let by_day = by_day
                    .into_iter()
                    .map(|(n, w)| {
                        let n = match (ordinals && ordinals_allowed, in_month) {
                            (false, _) => None,
                            (true, true) => {
                                Some(fold(n, 5).max(if freq == Freq::Monthly { -4 } else { -5 }))
                            }
                            (true, false) => Some(n.max(-52)),
                        };
                        (n, w)
                    })
                    .collect::<Vec<_>>();
                let has_by_part = !(by_month.is_empty()
                    && by_month_day.is_empty()
                    && by_day.is_empty()
                    && by_year_day.is_empty()
                    && by_week_no.is_empty());
                if has_by_part {
                    // Small positions: larger ones mostly select nothing, and the oracle
                    // spends 100,000 periods looking for an occurrence of an empty rule.
                    let max = match freq {
                        Freq::Daily => 1,
                        Freq::Weekly => 3,
                        Freq::Monthly => 5,
                        Freq::Yearly => 10,
                    };
                    by_set_pos.iter_mut().for_each(|n| *n = fold(*n, max));
                } else {
                    by_set_pos.clear();
                }
                let end = match end {
                    (0 | 1, ..) => End::Never,
                    (2, count, ..) => End::Count(count),
                    (_, _, days, style) => End::Until(start + Days::new(days), style),
                };
                Spec {
                    freq,
                    interval,
                    start,
                    wkst,
                    by_month,
                    by_month_day,
                    by_day,
                    by_year_day,
                    by_week_no,
                    by_set_pos,
                    end,
                    start_in_text,
                }
            },
        )
}

proptest! {
    // Rules that never occur cost the oracle 100,000 empty periods (about 0.3 s in a debug
    // build), so the case count stays moderate.
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Every date from 10 days before DTSTART to about two years after it is an occurrence
    /// exactly when the oracle lists it.
    #[test]
    fn membership_matches_the_oracle(spec in spec()) {
        let Some(ours) = spec.ours() else {
            return Ok(());
        };
        let first = spec.start - Days::new(10);
        let last = spec.start + Days::new(800);
        let expected = spec.oracle(last);
        let actual: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| ours.contains(*d))
            .collect();
        prop_assert_eq!(actual, expected, "rule {} from {}", spec.rule(), spec.start);
    }

    /// A rule that needs no anchor selects, from any start date on, what it selects anchored
    /// there (except in the first week of a WEEKLY rule with BYSETPOS, which starts at DTSTART).
    #[test]
    fn unanchored_rules_agree_with_anchored_ones(spec in spec()) {
        let Ok(unanchored) = Recurrence::parse(&spec.rule(), None) else {
            return Ok(());
        };
        let Some(anchored) = spec.ours() else {
            return Ok(());
        };
        let skip = if spec.freq == Freq::Weekly && !spec.by_set_pos.is_empty() { 7 } else { 0 };
        let first = spec.start + Days::new(skip);
        for day in first.iter_days().take(400) {
            prop_assert_eq!(
                unanchored.contains(day),
                anchored.contains(day),
                "rule {} on {} from {}", spec.rule(), day, spec.start
            );
        }
    }
}

/// Parts that look like RRULE parts, valid or not, for the never-panic property.
const PARTS: &[&str] = &[
    "FREQ=DAILY",
    "FREQ=WEEKLY",
    "FREQ=MONTHLY",
    "FREQ=YEARLY",
    "FREQ=HOURLY",
    "FREQ=",
    "INTERVAL=1",
    "INTERVAL=2",
    "INTERVAL=0",
    "INTERVAL=4294967295",
    "INTERVAL=99999999999",
    "COUNT=1",
    "COUNT=10000",
    "COUNT=0",
    "COUNT=-1",
    "UNTIL=20240101",
    "UNTIL=99991231T235959Z",
    "UNTIL=00000101",
    "UNTIL=2024",
    "BYDAY=MO",
    "BYDAY=1MO,-1FR",
    "BYDAY=53SU,-53MO",
    "BYDAY=0MO",
    "BYDAY=+5TU",
    "BYDAY=M",
    "BYDAY=",
    "BYMONTHDAY=31,-31",
    "BYMONTHDAY=0",
    "BYMONTHDAY=32",
    "BYMONTH=2",
    "BYMONTH=13",
    "BYYEARDAY=366,-366",
    "BYYEARDAY=60",
    "BYWEEKNO=53,-53",
    "BYWEEKNO=1",
    "BYSETPOS=1,-1",
    "BYSETPOS=366",
    "BYSETPOS=-366",
    "WKST=SU",
    "WKST=XX",
    "BYHOUR=9",
    "X-FOO=1",
    "=",
    ";",
    "FREQ",
    "BYDAY=1MO,MO",
    "BYMONTHDAY=-1;BYDAY=FR",
];

fn any_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        Just(NaiveDate::MIN),
        Just(NaiveDate::MAX),
        (-262_000i32..262_000, 1u32..=366)
            .prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d).unwrap_or(NaiveDate::MIN)),
        (1900i32..2100, 1u32..=366)
            .prop_map(|(y, d)| NaiveDate::from_yo_opt(y, d).unwrap_or(NaiveDate::MAX)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>(), start in prop::option::of(any_date())) {
        if let Ok(r) = Recurrence::parse(&text, start) {
            let _ = r.contains(NaiveDate::MAX);
        }
    }

    #[test]
    fn parse_never_panics_on_rrule_like_text(
        text in "(DTSTART[:;][A-Z0-9=:/]{0,20}\n)?(RRULE:)?[A-Z0-9=;,+-]{0,40}",
        start in prop::option::of(any_date()),
    ) {
        let _ = Recurrence::parse(&text, start);
    }

    #[test]
    fn parse_and_contains_never_panic_on_combined_parts(
        parts in prop::collection::vec(prop::sample::select(PARTS), 0..6),
        start_line in prop::option::of(any_date()),
        start in prop::option::of(any_date()),
        days in prop::collection::vec(any_date(), 1..6),
    ) {
        let mut text = String::new();
        if let Some(date) = start_line {
            text.push_str(&format!("DTSTART:{}\n", ymd(date)));
        }
        text.push_str(&parts.join(";"));
        if let Ok(r) = Recurrence::parse(&text, start) {
            for day in days {
                let _ = r.contains(day);
            }
        }
    }
}
