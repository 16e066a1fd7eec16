//! Property tests on DST gap and fold days: `nextChange` is exactly the first instant at which a
//! minute-by-minute walk of the real instant timeline sees `isOpen` flip, and the evaluation reads
//! the schedule-local wall clock, in zones with 1-hour, 30-minute (Lord Howe) and 45-minute-offset
//! (Chatham) transitions.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use schedule::{Book, When};

/// Days with a DST change (spring and autumn) in each zone, 2024.
const TRANSITION_DAYS: &[(&str, &str)] = &[
    ("America/Chicago", "2024-03-10"),
    ("America/Chicago", "2024-11-03"),
    ("Europe/London", "2024-03-31"),
    ("Europe/London", "2024-10-27"),
    ("Australia/Lord_Howe", "2024-04-07"),
    ("Australia/Lord_Howe", "2024-10-06"),
    ("Pacific/Chatham", "2024-04-07"),
    ("Pacific/Chatham", "2024-09-29"),
];

/// Times around the transitions (01:00–04:00 local) are over-represented on purpose.
fn time_of_day() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..24, prop::sample::select(vec![0u32, 15, 30, 45])),
        (1u32..4, prop::sample::select(vec![0u32, 15, 30, 45])),
    ]
    .prop_map(|(h, m)| format!("{h:02}:{m:02}"))
}

#[derive(Debug, Clone)]
struct RuleSpec {
    is_open: bool,
    start: String,
    end: String,
    weekdays_only: bool,
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (any::<bool>(), time_of_day(), time_of_day(), any::<bool>())
        .prop_filter("start and end differ", |(_, s, e, _)| s != e)
        .prop_map(|(is_open, start, end, weekdays_only)| RuleSpec {
            is_open,
            start,
            end,
            weekdays_only,
        })
}

fn config(zone: &str, rules: &[RuleSpec]) -> String {
    let rules_json: Vec<String> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rrule = if r.weekdays_only {
                "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
            } else {
                "RRULE:FREQ=DAILY"
            };
            format!(
                r#"{{"id":"r{i}","name":"rule {i}","isOpen":{},"closedReason":"reason {i}","startTime":"{}","endTime":"{}","dateRRule":"{rrule}"}}"#,
                r.is_open, r.start, r.end
            )
        })
        .collect();
    let ids: Vec<String> = (0..rules.len()).map(|i| format!("\"r{i}\"")).collect();
    format!(
        r#"{{"rules":[{}],"schedules":[{{"name":"S","manualClose":false,"timeZone":"{zone}","rules":[{}]}}]}}"#,
        rules_json.join(","),
        ids.join(",")
    )
}

fn is_open(book: &Book, t: DateTime<Utc>) -> bool {
    book.status("S", When::Instant(t)).unwrap().is_open
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn next_change_is_the_first_flip_on_the_instant_timeline(
        day in prop::sample::select(TRANSITION_DAYS.to_vec()),
        rules in prop::collection::vec(rule_spec(), 1..4),
        minutes in 0i64..(3 * 24 * 60),
        seconds in 0i64..60,
    ) {
        let (zone, date) = day;
        let book = Book::from_json(&config(zone, &rules)).unwrap();
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        let now = date.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::days(1)
            + Duration::minutes(minutes) + Duration::seconds(seconds);
        let answer = book.answer("S", When::Instant(now)).unwrap();
        let current = answer.is_open;
        prop_assert_eq!(current, is_open(&book, now));

        // Walk whole minutes (every boundary and transition here is on one) up to 8 days.
        let mut t = now + Duration::seconds(60 - seconds);
        let walk_end = now + Duration::days(8);
        let mut first_flip = None;
        while t <= walk_end {
            if is_open(&book, t) != current {
                first_flip = Some(t);
                break;
            }
            t += Duration::minutes(1);
        }
        let tz: Tz = zone.parse().unwrap();
        match (first_flip, answer.next_change.as_deref()) {
            (Some(flip), Some(next)) => {
                let next = DateTime::parse_from_rfc3339(next).unwrap();
                prop_assert_eq!(next.with_timezone(&Utc), flip);
                // Written with the offset in force at that instant.
                prop_assert_eq!(next.offset().local_minus_utc(),
                    tz.offset_from_utc_datetime(&flip.naive_utc()).fix_seconds());
            }
            (None, Some(next)) => {
                let next = DateTime::parse_from_rfc3339(next).unwrap().with_timezone(&Utc);
                prop_assert!(next > walk_end, "nextChange {next} but no flip before {walk_end}");
            }
            (Some(flip), None) => prop_assert!(false, "flips at {flip} but nextChange is null"),
            (None, None) => {}
        }
    }

    #[test]
    fn evaluation_reads_the_local_wall_clock(
        day in prop::sample::select(TRANSITION_DAYS.to_vec()),
        rule in rule_spec(),
        minutes in 0i64..(3 * 24 * 60),
    ) {
        let (zone, date) = day;
        let rule = RuleSpec { weekdays_only: false, ..rule };
        let book = Book::from_json(&config(zone, std::slice::from_ref(&rule))).unwrap();
        let tz: Tz = zone.parse().unwrap();
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        let t = date.and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::days(1) + Duration::minutes(minutes);
        let wall = t.with_timezone(&tz).naive_local().time();
        let hhmm = wall.format("%H:%M").to_string();
        // Zero-padded HH:MM compares like the times themselves.
        let inside = if rule.start < rule.end {
            hhmm >= rule.start && hhmm < rule.end
        } else {
            hhmm >= rule.start || hhmm < rule.end
        };
        let expected_open = inside && rule.is_open;
        prop_assert_eq!(is_open(&book, t), expected_open, "wall {} in {}", hhmm, zone);
    }
}

trait FixSeconds {
    fn fix_seconds(&self) -> i32;
}

impl<O: chrono::Offset> FixSeconds for O {
    fn fix_seconds(&self) -> i32 {
        self.fix().local_minus_utc()
    }
}
