//! Aggregation checked against hand-computed figures, and DST days end to end.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::*;

fn config(zone: &str) -> Config {
    Config::from_env(&Env {
        shared: queue_settings::SharedEnv {
            time_zone: Some(zone.into()),
            sla_thresholds: Some("30".into()),
            channels: Some("voice".into()),
        },
        ..Env::default()
    })
    .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn params(pairs: &[(&str, &str)]) -> Params {
    let v: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    serde_json::from_value(Value::Object(v)).unwrap()
}

/// TaskRouter's answer with `accepted` tasks all waiting `wait` s, `abandoned` after `abandon` s.
fn stats(accepted: u32, wait: u32, abandoned: u32, abandon: u32) -> Value {
    let below = |t: u32, w: u32, n: u32| if w <= t { n } else { 0 };
    let split = |t: u32| {
        json!({"below": {"reservations_accepted": below(t, wait, accepted), "tasks_canceled": below(t, abandon, abandoned)},
               "above": {"reservations_accepted": accepted - below(t, wait, accepted), "tasks_canceled": abandoned - below(t, abandon, abandoned)}})
    };
    json!({
        "tasks_entered": accepted + abandoned, "reservations_accepted": accepted, "tasks_canceled": abandoned,
        "wait_duration_until_accepted": {"total": accepted * wait, "max": if accepted > 0 { wait } else { 0 }},
        "wait_duration_until_canceled": {"total": abandoned * abandon},
        "split_by_wait_time": {"5": split(5), "30": split(30)}
    })
}

fn hour(config: &Config, start: &str, queues: Vec<(&str, Value, f64)>) -> Vec<Value> {
    let start = at(start);
    let end = time::next_hour(config.time_zone, start);
    let input = HourInput {
        queues: queues
            .into_iter()
            .map(|(sid, s, agents)| QueueHour {
                sid: sid.into(),
                friendly_name: format!("Queue {}", &sid[33..]),
                cumulative: [("all".to_string(), s.clone()), ("voice".to_string(), s)].into(),
                workers: Some(json!({"activity_durations": [
                    {"friendly_name": "Available", "total": agents * 3600.0},
                    {"friendly_name": "Offline", "total": 7200}]})),
                members: None,
            })
            .collect(),
        ..HourInput::default()
    };
    hour_items(config, start, end, &input)
        .into_iter()
        .map(|i| i.data)
        .collect()
}

const Q1: &str = "WQ00000000000000000000000000000001";
const Q2: &str = "WQ00000000000000000000000000000002";
// 2026-11-10T12:00:00Z: Tuesday.
const NOW: f64 = 1_794_312_000_000.0;

#[test]
fn day_of_week_and_queues_are_weighted_by_counts() {
    let c = config("UTC");
    let mut items = Vec::new();
    // Monday 2 Nov 09:00: Q1 10 accepted waiting 10 s; Q2 1 accepted waiting 100 s and 1
    // abandoned after 60 s. Monday 9 Nov 09:00: Q1 2 accepted waiting 40 s.
    items.extend(hour(
        &c,
        "2026-11-02T09:00:00Z",
        vec![
            (Q1, stats(10, 10, 0, 0), 2.0),
            (Q2, stats(1, 100, 1, 60), 1.0),
        ],
    ));
    items.extend(hour(
        &c,
        "2026-11-09T09:00:00Z",
        vec![(Q1, stats(2, 40, 0, 0), 4.0)],
    ));
    let q = query(
        &c,
        &params(&[
            ("from", "2026-11-02"),
            ("to", "2026-11-09"),
            ("by", "dayOfWeek"),
        ]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items);
    assert_eq!(s.series.len(), 7);
    let monday = s.series.iter().find(|r| r.key == "1").unwrap();
    assert_eq!(monday.label, "Monday");
    let f = &monday.figures;
    assert_eq!((f.accepted, f.abandoned, f.entered), (13.0, 1.0, 14.0));
    // (10·10 + 1·100 + 2·40) / 13 = 280 / 13 — not the mean of the averages (10, 100, 40).
    // Rounded once, after the division: 21.538… s → 21.5 s.
    assert_eq!(f.avg_wait, Some(21.5));
    assert_eq!(f.max_wait, 100.0);
    assert_eq!(f.avg_abandon, Some(60.0));
    // SLA 30 s: below = 10 (Q1 first Monday) ; above = 1 (Q2) + 2 (Q1 second Monday) accepted,
    // 1 canceled above → 10 / 14.
    assert_eq!(f.service_level["30"], Some(0.7143)); // 10 / 14, to 0.01 %
                                                     // Agents: (2 + 1) agents in the first Monday's hour, 4 in the second: 7 agent-hours over two hours.
    assert_eq!(f.avg_available, Some(3.5));
    // Offline time is not logged in: logged in equals available here.
    assert_eq!(f.avg_logged_in, Some(3.5));
    let tuesday = s.series.iter().find(|r| r.key == "2").unwrap();
    assert_eq!(tuesday.figures.avg_wait, None);

    // Two queues selected, grouped by queue and in total.
    let q = query(
        &c,
        &params(&[
            ("from", "2026-11-02"),
            ("to", "2026-11-09"),
            ("by", "queue"),
            ("queue", &format!("{Q1},{Q2}")),
        ]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items);
    assert_eq!(s.series.len(), 2);
    assert_eq!(s.series[0].figures.avg_wait, Some(180.0 / 12.0));
    assert_eq!(s.series[0].figures.avg_available, Some(3.0)); // (2 + 4) / 2 hours
    assert_eq!(s.totals.avg_wait, Some(21.5)); // 280 / 13
    assert_eq!(s.totals.abandon_rate, Some(0.0714)); // 1 / 14
                                                     // One queue only.
    let q = query(
        &c,
        &params(&[
            ("from", "2026-11-02"),
            ("to", "2026-11-02"),
            ("queue", Q2),
            ("by", "date"),
        ]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items);
    assert_eq!(s.series.len(), 1);
    assert_eq!(s.series[0].figures.accepted, 1.0);
    assert_eq!(s.series[0].start.as_deref(), Some("2026-11-02T00:00:00Z"));
    // Hours not stored are reported missing; the two stored ones are not.
    assert_eq!(s.missing.len(), 24 - 1);
}

#[test]
fn dst_days_have_23_and_25_hour_buckets_with_their_boundaries() {
    let c = config("Europe/Berlin");
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST. 25 October 2026: 03:00 CEST back to 02:00 CET.
    let spring = query(
        &c,
        &params(&[("from", "2026-03-29"), ("to", "2026-03-29"), ("by", "hour")]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &spring, &[]);
    assert_eq!(s.series.len(), 23);
    assert_eq!(s.series[0].start.as_deref(), Some("2026-03-28T23:00:00Z"));
    assert_eq!(s.series[1].end.as_deref(), Some("2026-03-29T01:00:00Z"));
    assert_eq!(s.series[2].label, "2026-03-29 03:00 +02:00");
    assert_eq!(s.series[22].end.as_deref(), Some("2026-03-29T22:00:00Z"));
    let mut items = Vec::new();
    let fall = query(
        &c,
        &params(&[("from", "2026-10-25"), ("to", "2026-10-25"), ("by", "hour")]),
        NOW,
    )
    .unwrap();
    for h in &fall.closed {
        items.extend(hour(&c, h, vec![(Q1, stats(1, 10, 0, 0), 1.0)]));
    }
    let s = aggregate(&c, &fall, &items);
    assert_eq!(s.series.len(), 25);
    assert_eq!(s.series[2].label, "2026-10-25 02:00 +02:00");
    assert_eq!(s.series[3].label, "2026-10-25 02:00 +01:00");
    assert!(s.missing.is_empty());
    assert_eq!(s.totals.accepted, 25.0);
    // By hour of day, the repeated 02:00 holds two buckets; by date, one day of 25 buckets.
    let by_hod = query(
        &c,
        &params(&[
            ("from", "2026-10-25"),
            ("to", "2026-10-25"),
            ("by", "hourOfDay"),
        ]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &by_hod, &items);
    assert_eq!(s.series.len(), 24);
    assert_eq!(s.series[2].figures.accepted, 2.0);
    assert_eq!(s.series[2].figures.avg_available, Some(1.0));
    let by_date = query(
        &c,
        &params(&[("from", "2026-10-25"), ("to", "2026-10-25"), ("by", "date")]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &by_date, &items);
    assert_eq!(s.series[0].figures.buckets, 25);
    assert_eq!(s.series[0].end.as_deref(), Some("2026-10-25T23:00:00Z"));
}

#[test]
fn hour_params_ask_taskrouter_for_exactly_the_bucket() {
    let c = config("America/New_York");
    let p = hour_params(&c, at("2026-03-08T06:00:00Z"));
    assert_eq!(p.end_date, "2026-03-08T07:00:00Z");
    assert_eq!(p.split_by_wait_time, "5,30");
    assert_eq!(p.channels, ["all", "voice"]);
    assert_eq!(p.prune[0].from, "all.");
    assert_eq!(p.prune[0].to, "all.20250201T0600Z.~");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Grouping never creates or loses counts: every grouping's series adds up to the totals,
        /// and the totals equal the plain sum over the stored hours.
        #[test]
        fn groupings_add_up(counts in proptest::collection::vec((0u32..50, 0u32..200, 0u32..10, 0u32..100), 1..40)) {
            let c = config("America/New_York");
            let mut items = Vec::new();
            let mut start = at("2026-10-30T04:00:00Z");
            let mut accepted = 0.0;
            for (a, w, ab, aw) in &counts {
                items.extend(hour(&c, &time::iso(start), vec![(Q1, stats(*a, *w, *ab, *aw), 1.0), (Q2, stats(*ab, *aw, *a, *w), 2.0)]));
                accepted += f64::from(a + ab);
                start = time::next_hour(c.time_zone, start);
            }
            for by in ["hour", "hourOfDay", "dayOfWeek", "date", "queue"] {
                let q = query(&c, &params(&[("from", "2026-10-30"), ("to", "2026-11-02"), ("by", by)]), NOW).unwrap();
                let s = aggregate(&c, &q, &items);
                let sum: f64 = s.series.iter().map(|r| r.figures.accepted).sum();
                prop_assert_eq!(sum, accepted);
                prop_assert_eq!(s.totals.accepted, accepted);
                let waits: f64 = s.series.iter().map(|r| r.figures.avg_wait.unwrap_or(0.0) * r.figures.accepted).sum();
                if let Some(avg) = s.totals.avg_wait {
                    // Each average is rounded to 0.1 s once: at most 0.05 s per task off, each side.
                    prop_assert!((waits - avg * accepted).abs() <= 0.1 * accepted + 1e-6);
                }
            }
        }
    }
}

#[test]
fn missing_hours_say_why() {
    let c = config("UTC");
    // NOW is 2026-11-10T12:00Z: 2026-10-01 is past TaskRouter's 30 days, 2026-11-09 within.
    let old = query(
        &c,
        &params(&[("from", "2026-10-01T10"), ("to", "2026-10-01T12")]),
        NOW,
    )
    .unwrap();
    let s = aggregate(&c, &old, &[]);
    let codes: Vec<&str> = s.missing.iter().map(|m| m.code.as_str()).collect();
    assert_eq!(codes, ["expired", "expired"]);
    let recent = query(
        &c,
        &params(&[("from", "2026-11-09T10"), ("to", "2026-11-09T13")]),
        NOW,
    )
    .unwrap();
    let items = hour(
        &c,
        "2026-11-09T11:00:00Z",
        vec![(Q1, stats(1, 10, 0, 0), 1.0)],
    );
    let mut notes = std::collections::BTreeMap::new();
    notes.insert(
        "2026-11-09T12:00:00Z".to_string(),
        crate::Note {
            code: "failed".into(),
            reason: "TaskRouter answered 500".into(),
        },
    );
    let s = crate::aggregate_with(&c, &recent, &items, &notes);
    let got: Vec<(&str, &str)> = s
        .missing
        .iter()
        .map(|m| (m.hour.as_str(), m.code.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-11-09T10:00:00Z", "pending"),
            ("2026-11-09T12:00:00Z", "failed")
        ]
    );
    assert!(s.missing[0].reason.starts_with("backfill pending"));
    assert_eq!(s.missing[1].reason, "TaskRouter answered 500");
    // The stored hour is in the series, the missing ones are zero rows.
    assert_eq!(s.series.len(), 3);
    assert_eq!(s.series[1].figures.buckets, 1);
    assert_eq!(s.series[0].figures.buckets, 0);
}

#[test]
fn agents_are_in_every_channel_and_figures_are_rounded() {
    let c = config("UTC");
    let items = hour(
        &c,
        "2026-11-02T09:00:00Z",
        vec![(Q1, stats(3, 17, 0, 0), 2.0), (Q2, stats(0, 0, 0, 0), 1.0)],
    );
    let mut wait = stats(3, 17, 0, 0);
    // Three waits of 17, 17 and 19 s: 53 / 3 = 17.666… s.
    wait["wait_duration_until_accepted"]["total"] = json!(53);
    let items2 = hour(&c, "2026-11-02T10:00:00Z", vec![(Q1, wait, 1.0)]);
    for channel in ["all", "voice"] {
        let q = query(
            &c,
            &params(&[
                ("from", "2026-11-02T09"),
                ("to", "2026-11-02T11"),
                ("channel", channel),
            ]),
            NOW,
        )
        .unwrap();
        let all: Vec<Value> = items.iter().chain(items2.iter()).cloned().collect();
        let s = aggregate(&c, &q, &all);
        // 3 agents in the first hour, 1 in the second: 2 on average, on every channel.
        assert_eq!(s.totals.avg_logged_in, Some(2.0), "{channel}");
        assert_eq!(s.series[0].figures.avg_available, Some(3.0), "{channel}");
        assert_eq!(s.series[1].figures.avg_wait, Some(17.7), "{channel}");
        // (3·17 + 53) / 6 = 17.333… → 17.3: the total is weighted by accepted tasks.
        assert_eq!(s.totals.avg_wait, Some(17.3), "{channel}");
    }
}

#[test]
fn known_queues_are_answered_before_any_hour_is_stored() {
    let c = config("UTC");
    let q = query(&c, &params(&[("range", "yesterday")]), NOW).unwrap();
    let known = [
        QueueName {
            sid: Q1.into(),
            friendly_name: "Sales".into(),
        },
        QueueName {
            sid: Q2.into(),
            friendly_name: "Support".into(),
        },
    ];
    let s = aggregate_known(&c, &q, &[], &Default::default(), &known);
    assert_eq!(s.queues, known);
    assert_eq!(s.missing.len(), 24);
    // A selection keeps only the queues asked for.
    let q = query(&c, &params(&[("range", "yesterday"), ("queue", Q2)]), NOW).unwrap();
    let s = aggregate_known(&c, &q, &[], &Default::default(), &known);
    assert_eq!(s.queues, known[1..]);
}
