//! The event path end to end (events → records → series), checked against hand-computed figures,
//! DST days, record sizes, and properties: duplicates and order change nothing; seconds add up
//! exactly to the observed time.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::record::{item_key, place, ITEM_LIMIT};
use crate::*;

const WK1: &str = "WK00000000000000000000000000000001";
const WK2: &str = "WK00000000000000000000000000000002";
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn config(zone: &str) -> Config {
    Config::from_env(&Env {
        time_zone: Some(zone.into()),
        ..Env::default()
    })
    .unwrap()
}

fn ms(s: &str) -> i64 {
    values::instant::parse(s).unwrap().timestamp_millis()
}

fn params(pairs: &[(&str, &str)]) -> Params {
    let v: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    serde_json::from_value(Value::Object(v)).unwrap()
}

/// A `worker.activity.update` callback.
fn activity(sid: &str, worker: &str, at: i64, prev: &str, next: &str, prev_ms: i64) -> Value {
    json!({"EventType": "worker.activity.update", "Sid": sid, "WorkerSid": worker,
           "WorkerActivityName": next, "WorkerPreviousActivityName": prev,
           "WorkerTimeInPreviousActivityMs": prev_ms.to_string(),
           "WorkerTimeInPreviousActivity": (prev_ms / 1000).to_string(),
           "EventDateMs": at.to_string()})
}

/// A `reservation.<step>` callback.
fn reservation(
    sid: &str,
    worker: &str,
    at: i64,
    step: &str,
    res: &str,
    outcome: Option<&str>,
) -> Value {
    let attributes = match outcome {
        Some(o) => json!({"conversations": {"outcome": o}}).to_string(),
        None => "{}".to_string(),
    };
    json!({"EventType": format!("reservation.{step}"), "Sid": sid, "WorkerSid": worker,
           "ReservationSid": res, "TaskSid": "WT1", "TaskAttributes": attributes,
           "EventDateMs": at.to_string()})
}

/// What the shim will do per event: read the record's chunks in order until one knows the event
/// or takes it. Answers the store (map, key) → item data, and the writes made.
fn ingest(
    config: &Config,
    store: &mut BTreeMap<(String, String), Value>,
    events: &[Value],
) -> usize {
    let names = BTreeMap::new();
    let mut writes = 0;
    for v in events {
        let Some(e) = read_event(v, &names, &config.disposition_attribute) else {
            continue;
        };
        let mut chunk = 0;
        loop {
            let at = place(config, &e, chunk);
            let slot = (at.map.clone(), at.key.clone());
            let mut r = store
                .get(&slot)
                .and_then(Record::from_value)
                .unwrap_or_else(|| Record::new(&e.worker, record::utc_hour(e.at_ms), chunk));
            match r.apply(&e) {
                Applied::Changed => {
                    let data = r.to_value();
                    assert!(data.to_string().len() <= ITEM_LIMIT);
                    store.insert(slot, data);
                    writes += 1;
                    break;
                }
                Applied::Full => chunk += 1,
                Applied::Unchanged | Applied::Elsewhere => break,
            }
        }
    }
    writes
}

fn items(store: &BTreeMap<(String, String), Value>) -> Vec<Value> {
    store.values().cloned().collect()
}

fn run(config: &Config, pairs: &[(&str, &str)], now: &str, items: &[Value]) -> Series {
    let q = query(config, &params(pairs), ms(now) as f64).unwrap();
    aggregate(config, &q, items, &[])
}

fn figures(row: &Row) -> &Figures {
    row.figures.as_ref().unwrap()
}

/// A morning in New York, by hand:
/// 07:50 Offline → Available (Offline since 22:00); 08:40 Available → Break; 09:10 Break →
/// Available; 09:55 Available → Offline. Reservation 1 accepted 08:05, wrap-up 08:20, completed
/// 08:25 (Sold); reservation 2 accepted 09:15, completed 10:05 (no wrap-up event, no
/// disposition); reservation 3 rejected 09:20, reservation 4 timed out 09:30, 5 canceled 09:31.
fn morning() -> Vec<Value> {
    let t = |hm: &str| ms(&format!("2026-11-04T{hm}:00-05:00"));
    vec![
        activity(
            "EV01",
            WK1,
            t("07:50"),
            "Offline",
            "Available",
            9 * HOUR + 50 * MIN,
        ),
        activity("EV02", WK1, t("08:40"), "Available", "Break", 50 * MIN),
        activity("EV03", WK1, t("09:10"), "Break", "Available", 30 * MIN),
        activity("EV04", WK1, t("09:55"), "Available", "Offline", 45 * MIN),
        reservation("EV05", WK1, t("08:05"), "accepted", "WR1", None),
        reservation("EV06", WK1, t("08:20"), "wrapup", "WR1", None),
        reservation("EV07", WK1, t("08:25"), "completed", "WR1", Some("Sold")),
        reservation("EV08", WK1, t("09:15"), "accepted", "WR2", None),
        reservation("EV09", WK1, t("10:05"), "completed", "WR2", None),
        reservation("EV10", WK1, t("09:20"), "rejected", "WR3", None),
        reservation("EV11", WK1, t("09:30"), "timeout", "WR4", None),
        reservation("EV12", WK1, t("09:31"), "canceled", "WR5", None),
    ]
}

#[test]
fn a_morning_by_hand() {
    let c = config("America/New_York");
    let mut store = BTreeMap::new();
    ingest(&c, &mut store, &morning());
    let s = run(
        &c,
        &[
            ("from", "2026-11-04T07:00"),
            ("to", "2026-11-04T11:00"),
            ("by", "hour"),
        ],
        "2026-11-04T18:00:00Z",
        &items(&store),
    );
    assert_eq!(s.series.len(), 4);
    let secs = |r: &Row, a: &str| figures(r).activity_seconds.get(a).copied().unwrap_or(0.0);
    // 07:00–08:00: 50 min Offline, 10 min Available.
    assert_eq!(
        (
            secs(&s.series[0], "Offline"),
            secs(&s.series[0], "Available")
        ),
        (3000.0, 600.0)
    );
    // 08:00–09:00: 40 min Available, 20 min Break; one task done: handle 20 min, wrap-up 5 min.
    let h8 = figures(&s.series[1]);
    assert_eq!(
        (secs(&s.series[1], "Available"), secs(&s.series[1], "Break")),
        (2400.0, 1200.0)
    );
    assert_eq!(
        (h8.accepted, h8.completed, h8.avg_handle, h8.avg_wrapup),
        (1, 1, Some(1200.0), Some(300.0))
    );
    assert_eq!(h8.dispositions, BTreeMap::from([("Sold".to_string(), 1)]));
    assert_eq!(h8.activity_share.get("Break"), Some(&Some(1200.0 / 3600.0)));
    // 09:00–10:00: 10 min Break, 45 Available, 5 Offline; accepted, rejected, timed out, canceled.
    let h9 = figures(&s.series[2]);
    assert_eq!(
        (
            secs(&s.series[2], "Break"),
            secs(&s.series[2], "Available"),
            secs(&s.series[2], "Offline")
        ),
        (600.0, 2700.0, 300.0)
    );
    assert_eq!(
        (h9.accepted, h9.rejected, h9.timed_out, h9.canceled),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (h9.observed_seconds, h9.logged_in_seconds),
        (3600.0, 3300.0)
    );
    // 10:00–11:00: Offline, and task 2 completed: handle 50 min, no wrap-up known.
    let h10 = figures(&s.series[3]);
    assert_eq!((secs(&s.series[3], "Offline"), h10.completed), (3600.0, 1));
    assert_eq!(
        (h10.avg_handle, h10.avg_wrapup, h10.wrapped),
        (Some(3000.0), None, 0)
    );
    // Totals are sums then one division: handle (1200 + 3000) / 2.
    assert_eq!(s.totals.avg_handle, Some(2100.0));
    assert_eq!(s.totals.observed_seconds, 4.0 * 3600.0);
    assert_eq!(s.totals.logged_in_seconds, 600.0 + 3600.0 + 3300.0);
    // By activity: shares of logged-in time (of observed time for Offline).
    let a = run(
        &c,
        &[
            ("from", "2026-11-04T07:00"),
            ("to", "2026-11-04T11:00"),
            ("by", "activity"),
        ],
        "2026-11-04T18:00:00Z",
        &items(&store),
    );
    let row = a.series.iter().find(|r| r.key == "Break").unwrap();
    assert_eq!(
        (row.seconds, row.share),
        (Some(1800.0), Some(Some(1800.0 / 7500.0)))
    );
    let row = a.series.iter().find(|r| r.key == "Offline").unwrap();
    assert_eq!(row.share, Some(Some(6900.0 / 14400.0)));
    let d = run(
        &c,
        &[
            ("from", "2026-11-04T07:00"),
            ("to", "2026-11-04T11:00"),
            ("by", "disposition"),
        ],
        "2026-11-04T18:00:00Z",
        &items(&store),
    );
    assert_eq!(d.series.len(), 1);
    assert_eq!(
        (
            d.series[0].key.as_str(),
            d.series[0].count,
            d.series[0].share
        ),
        ("Sold", Some(1), Some(Some(1.0)))
    );
    // JSON shape.
    let j = serde_json::to_value(&s).unwrap();
    assert_eq!(j["series"][1]["avgHandle"], json!(1200.0));
    assert_eq!(j["series"][1]["start"], json!("2026-11-04T13:00:00Z"));
}

#[test]
fn duplicates_need_no_write_and_late_events_complete_the_picture() {
    let c = config("America/New_York");
    let events = morning();
    let mut store = BTreeMap::new();
    let first = ingest(&c, &mut store, &events);
    assert_eq!(first, events.len());
    let before = store.clone();
    assert_eq!(
        ingest(&c, &mut store, &events),
        0,
        "a redelivered event writes nothing"
    );
    assert_eq!(store, before);
    // The record of each event says it knows it (a shim can skip the write before trying).
    let names = BTreeMap::new();
    for v in &events {
        let e = read_event(v, &names, &c.disposition_attribute).unwrap();
        let at = place(&c, &e, 0);
        let r = Record::from_value(&store[&(at.map, at.key)]).unwrap();
        assert!(r.knows(&e), "{v}");
    }
    // The map of an agent is fixed by its SID: records written before stay where they are read.
    assert_eq!(record::map_name(&c, WK1), "agentHistory.0");
    assert_eq!(record::map_name(&c, WK2), "agentHistory.1");
    // Reversed order into an empty store: the same items, byte for byte.
    let mut reversed = BTreeMap::new();
    let rev: Vec<Value> = events.iter().rev().cloned().collect();
    ingest(&c, &mut reversed, &rev);
    assert_eq!(reversed, before);
}

#[test]
fn agents_teams_and_days() {
    let c = config("UTC");
    let mut store = BTreeMap::new();
    let day = ms("2026-11-02T00:00:00Z"); // a Monday
    let mut events = Vec::new();
    for (w, n) in [(WK1, 1), (WK2, 3)] {
        events.push(activity(
            &format!("EVa{n}"),
            w,
            day + 9 * HOUR,
            "Offline",
            "Available",
            9 * HOUR,
        ));
        for i in 0..n {
            let r = format!("WR{w}{i}");
            events.push(reservation(
                &format!("EVb{n}{i}"),
                w,
                day + 10 * HOUR,
                "accepted",
                &r,
                None,
            ));
            // WK1's one task takes 10 min, WK2's three 2 min each.
            let took = if n == 1 { 10 * MIN } else { 2 * MIN };
            events.push(reservation(
                &format!("EVc{n}{i}"),
                w,
                day + 10 * HOUR + took,
                "completed",
                &r,
                Some("Sold"),
            ));
        }
    }
    ingest(&c, &mut store, &events);
    let directory = vec![
        AgentInfo {
            sid: WK1.into(),
            name: "Ada".into(),
            team: Some("East".into()),
        },
        AgentInfo {
            sid: WK2.into(),
            name: "Bo".into(),
            team: Some("West".into()),
        },
    ];
    let now = (day + 30 * HOUR) as f64;
    let q = query(
        &c,
        &params(&[
            ("from", "2026-11-02"),
            ("to", "2026-11-02"),
            ("by", "agent"),
        ]),
        now,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items(&store), &directory);
    assert_eq!(
        s.series
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>(),
        ["Ada", "Bo"]
    );
    assert_eq!(figures(&s.series[0]).avg_handle, Some(600.0));
    assert_eq!(figures(&s.series[1]).avg_handle, Some(120.0));
    // Weighted by tasks: (600 + 3 × 120) / 4, not the mean of the agents' averages (360).
    assert_eq!(s.totals.avg_handle, Some(240.0));
    assert_eq!(s.totals.agents, 2);
    let q = query(
        &c,
        &params(&[
            ("from", "2026-11-02"),
            ("to", "2026-11-02"),
            ("agent", "team:West"),
            ("by", "date"),
        ]),
        now,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items(&store), &directory);
    assert_eq!(s.series.len(), 1);
    assert_eq!((s.totals.completed, s.agents.len()), (3, 1));
    assert_eq!(s.series[0].label, "Mon 2026-11-02");
    // Offline 00:00–09:00 and Available 09:00–24:00 for one agent.
    assert_eq!(s.totals.observed_seconds, 86_400.0);
    assert_eq!(s.totals.logged_in_seconds, 15.0 * 3600.0);
    let q = query(
        &c,
        &params(&[
            ("from", "2026-11-02"),
            ("to", "2026-11-02"),
            ("agent", WK1),
            ("by", "dayOfWeek"),
        ]),
        now,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items(&store), &directory);
    assert_eq!(
        (
            s.series.len(),
            s.series[0].label.as_str(),
            s.totals.completed
        ),
        (1, "Monday", 1)
    );
}

/// An agent Available from the day before to the day after sees every hour of a DST day in full.
#[test]
fn dst_days_have_23_and_25_full_buckets() {
    let c = config("America/New_York");
    for (date, buckets) in [("2026-03-08", 23), ("2026-11-01", 25)] {
        let start = ms(&format!("{date}T00:00:00Z")) - 24 * HOUR;
        let end = start + 72 * HOUR;
        let mut store = BTreeMap::new();
        ingest(
            &c,
            &mut store,
            &[
                activity("EV1", WK1, start, "Offline", "Available", HOUR),
                activity("EV2", WK1, end, "Available", "Offline", end - start),
            ],
        );
        let s = run(
            &c,
            &[("from", date), ("to", date), ("by", "hour")],
            "2026-12-01T00:00:00Z",
            &items(&store),
        );
        assert_eq!(s.series.len(), buckets, "{date}");
        assert_eq!(s.closed_hours, buckets);
        for r in &s.series {
            assert_eq!(
                figures(r).activity_seconds.get("Available"),
                Some(&3600.0),
                "{date} {}",
                r.label
            );
        }
        assert_eq!(s.totals.observed_seconds, buckets as f64 * 3600.0);
        let d = run(
            &c,
            &[("from", date), ("to", date), ("by", "date")],
            "2026-12-01T00:00:00Z",
            &items(&store),
        );
        assert_eq!(d.series.len(), 1);
        assert_eq!(figures(&d.series[0]).agent_hours, buckets);
    }
}

#[test]
fn a_busy_agent_hour_fits_one_item() {
    // 90 reservations with every step (three chats at a time, two minutes each) and 40 activity
    // changes, among 8 activities and 10 dispositions of 64 characters each, all in one hour.
    let c = config("UTC");
    let hour = ms("2026-11-04T10:00:00Z");
    let long = |p: &str, i: usize| format!("{p}{i:02}{}", "x".repeat(61));
    let mut events = Vec::new();
    for i in 0..40 {
        events.push(activity(
            &format!("EV{i:032x}"),
            WK1,
            hour + i as i64 * 89_999,
            &long("A", i % 8),
            &long("A", (i + 1) % 8),
            89_999,
        ));
    }
    for i in 0..90 {
        let r = format!("WR{i:032x}");
        for (k, step) in ["accepted", "wrapup", "completed"].into_iter().enumerate() {
            let sid = format!("EV{:032x}", 1000 + i * 3 + k);
            events.push(reservation(
                &sid,
                WK1,
                hour + 3_000_000 + (i as i64) * 6_666 + k as i64 * 1111,
                step,
                &r,
                Some(&long("D", i % 10)),
            ));
        }
    }
    let mut store = BTreeMap::new();
    ingest(&c, &mut store, &events);
    assert_eq!(store.len(), 1, "one item");
    let size = store.values().next().unwrap().to_string().len();
    println!("busy agent-hour: {size} bytes");
    assert!(size <= ITEM_LIMIT, "{size} bytes");
    const { assert!(ITEM_LIMIT < 16 * 1024) };
    // Far past it: 500 reservations in an hour spill into further chunks, none over the limit,
    // and every one counts once.
    let mut more = Vec::new();
    for i in 0..500 {
        let r = format!("WR{i:032x}");
        more.push(reservation(
            &format!("EV{i:032x}"),
            WK2,
            hour + i as i64 * 7_000,
            "completed",
            &r,
            Some("Sold"),
        ));
    }
    let mut store = BTreeMap::new();
    ingest(&c, &mut store, &more);
    assert!(store.len() > 1);
    assert!(store.values().all(|v| v.to_string().len() <= ITEM_LIMIT));
    assert!(store.keys().any(|(_, k)| k == &item_key(hour, WK2, 1)));
    ingest(&c, &mut store, &more); // duplicates, wherever their first copy went
    let s = run(
        &c,
        &[("from", "2026-11-04T10:00"), ("to", "2026-11-04T11:00")],
        "2026-11-05T00:00:00Z",
        &items(&store),
    );
    assert_eq!(s.totals.completed, 500);
}

#[test]
fn records_round_trip_and_junk_is_ignored() {
    let c = config("UTC");
    let mut store = BTreeMap::new();
    ingest(&c, &mut store, &morning());
    for v in store.values() {
        let r = Record::from_value(v).unwrap();
        assert_eq!(&r.to_value(), v);
    }
    assert_eq!(Record::from_value(&json!({"v": 2})), None);
    let junk = json!({"v": 1, "w": WK1, "h": "2026-11-04T10:00:00Z", "n": ["A"],
                      "c": {"EV1": [99_999_999, 0, 0, 1], "EV2": "x", "EV3": [5, 7, 9, -1]},
                      "r": {"WR1": [-1, -1], "WR2": 4}});
    let r = Record::from_value(&junk).unwrap();
    assert!(r.changes.is_empty() && r.reservations.is_empty());
    let s = run(
        &c,
        &[("range", "last7")],
        "2026-11-05T00:00:00Z",
        &[junk, json!(null), json!("x")],
    );
    assert_eq!(s.totals.observed_seconds, 0.0);
}

#[test]
fn huge_stored_numbers_saturate_instead_of_overflowing() {
    let c = config("UTC");
    let big = json!({"v": 1, "start": "2026-11-04T10:00:00Z", "end": "2026-11-04T11:00:00Z", "chunk": 0, "chunks": 1,
        "n": ["Available", "Sold"],
        "a": {WK1: {"r": [i64::MAX, 1, 1, 1, i64::MAX, i64::MAX, i64::MAX, i64::MAX, 1], "t": [0, i64::MAX, 0, i64::MAX], "d": [1, i64::MAX, 1, i64::MAX], "e": 0},
              WK2: {"r": [i64::MAX, 1, 1, 1, i64::MAX, i64::MAX, i64::MAX, i64::MAX, 1], "t": [0, i64::MAX], "d": [1, i64::MAX], "e": 0}}});
    let q = query(
        &c,
        &params(&[("from", "2026-11-04T10:00"), ("to", "2026-11-04T11:00")]),
        ms("2026-11-05T00:00:00Z") as f64,
    )
    .unwrap();
    let (s, _) = rollup::aggregate_hours(&c, &q, &[big], &[]);
    assert_eq!(s.totals.accepted, i64::MAX as u64 * 2);
    assert!(s.totals.observed_seconds > 0.0);
}

#[test]
fn retention_deletes_hours_past_400_days() {
    let c = config("UTC");
    let now = ms("2026-12-03T10:20:00Z");
    let ranges = record::expired(&c, now);
    assert_eq!(ranges.len(), 4);
    // 400 days before 10:00 is 2025-10-29T10:00; the hour before it is the last deleted.
    assert_eq!(ranges[0].2, "20251029T09Z.~");
    assert!(item_key(ms("2025-10-29T09:00:00Z"), WK1, 3) <= ranges[0].2);
    assert!(item_key(ms("2025-10-29T10:00:00Z"), WK1, 0) > ranges[0].2);
}

#[test]
fn a_month_of_200_agents() {
    let c = config("UTC");
    let start = ms("2026-10-01T00:00:00Z");
    let items = bench::month_items(200, 30, start);
    let bytes: usize = items.iter().map(|v| v.to_string().len()).sum();
    println!(
        "30 days x 200 agents: {} record items, {bytes} bytes of JSON",
        items.len()
    );
    let now = (start + 31 * 24 * HOUR) as f64;
    let q = query(
        &c,
        &params(&[("from", "2026-10-01"), ("to", "2026-10-30"), ("by", "date")]),
        now,
    )
    .unwrap();
    let s = aggregate(&c, &q, &items, &[]);
    assert_eq!(s.series.len(), 30);
    assert_eq!(s.totals.agents, 200);
    assert_eq!(s.totals.completed, 200 * 30 * bench::TASKS_PER_DAY);
    assert_eq!(s.totals.observed_seconds, 200.0 * 30.0 * 86_400.0);
    assert_eq!(s.totals.logged_in_seconds, 200.0 * 30.0 * 9.0 * 3600.0);
    assert_eq!(
        s.totals.activity_seconds.get("Break"),
        Some(&(200.0 * 30.0 * 1800.0))
    );
    assert_eq!(
        (s.totals.avg_handle, s.totals.avg_wrapup),
        (Some(360.0), Some(60.0))
    );
    assert_eq!(s.totals.dispositions.get("Sold"), Some(&(200 * 30 * 12)));
    for r in &s.series {
        assert_eq!(figures(r).completed, 200 * bench::TASKS_PER_DAY);
    }
    assert!(items.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
}

/// A random agent timeline: activities and durations, with reservations along the way.
fn timeline_events(
    steps: &[(u8, u32)],
    tasks: &[(u32, u32, u32, u8)],
    base: i64,
) -> (Vec<Value>, i64, i64) {
    const NAMES: [&str; 4] = ["Available", "Busy", "Break", "Offline"];
    let mut events: Vec<Value> = Vec::new();
    let mut at = base;
    let mut prev = "Offline";
    let mut since = base - 5 * MIN;
    let first_start = since;
    for (i, (a, secs)) in steps.iter().enumerate() {
        let next = NAMES[*a as usize % 4];
        events.push(activity(
            &format!("EVa{i}"),
            WK1,
            at,
            prev,
            next,
            at - since,
        ));
        prev = next;
        since = at;
        at += i64::from(*secs) * 1000 + i64::from(*secs % 997);
    }
    for (i, (start, accept, dur, kind)) in tasks.iter().enumerate() {
        let r = format!("WR{i:032x}");
        let t0 = base + i64::from(*start) * 1000;
        match kind % 4 {
            0 => {
                let a = t0 + i64::from(*accept) * 1000;
                events.push(reservation(
                    &format!("EVr{i}a"),
                    WK1,
                    a,
                    "accepted",
                    &r,
                    None,
                ));
                events.push(reservation(
                    &format!("EVr{i}w"),
                    WK1,
                    a + i64::from(*dur) * 500,
                    "wrapup",
                    &r,
                    None,
                ));
                let outcome = ["Sold", "Callback", "No answer"][i % 3];
                events.push(reservation(
                    &format!("EVr{i}c"),
                    WK1,
                    a + i64::from(*dur) * 1000,
                    "completed",
                    &r,
                    Some(outcome),
                ));
            }
            1 => events.push(reservation(
                &format!("EVr{i}j"),
                WK1,
                t0,
                "rejected",
                &r,
                None,
            )),
            2 => events.push(reservation(
                &format!("EVr{i}t"),
                WK1,
                t0,
                "timeout",
                &r,
                None,
            )),
            _ => events.push(reservation(
                &format!("EVr{i}x"),
                WK1,
                t0,
                "canceled",
                &r,
                None,
            )),
        }
    }
    let last = events
        .iter()
        .filter_map(|e| e["EventDateMs"].as_str()?.parse::<i64>().ok())
        .max()
        .unwrap_or(at)
        .max(at);
    (events, first_start, last)
}

fn shuffle(v: &mut [Value], seed: u64) {
    let mut state = seed | 1;
    for i in (1..v.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        v.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Duplicated, shuffled events give the same items as the clean ordered stream, and so the same
    /// series; and each hour's seconds add up to its observed time, the range's to the time from
    /// the first known instant to the end of the range.
    #[test]
    fn duplicates_and_order_change_nothing(
        steps in proptest::collection::vec((0u8..4, 1u32..20_000), 1..25),
        tasks in proptest::collection::vec((0u32..100_000, 0u32..600, 1u32..3000, 0u8..4), 0..20),
        dups in proptest::collection::vec(0usize..1000, 0..30),
        seed in any::<u64>(),
        zone in prop::sample::select(vec!["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
        day in 0i64..400,
    ) {
        let c = config(zone);
        // Around a DST change in some cases (day 0 = 2026-03-06 00:00 UTC).
        let base = ms("2026-03-06T00:00:00Z") + day * 24 * HOUR + 7 * HOUR;
        let (events, first_start, last) = timeline_events(&steps, &tasks, base);
        let mut clean = BTreeMap::new();
        ingest(&c, &mut clean, &events);
        let mut noisy_events = events.clone();
        for d in dups {
            noisy_events.push(events[d % events.len()].clone());
        }
        shuffle(&mut noisy_events, seed);
        let mut noisy = BTreeMap::new();
        ingest(&c, &mut noisy, &noisy_events);
        prop_assert_eq!(&noisy, &clean);

        let from = history::time::iso(chrono::DateTime::from_timestamp_millis(base - 2 * HOUR).unwrap());
        let to = history::time::iso(chrono::DateTime::from_timestamp_millis(last + 3 * HOUR).unwrap());
        let now = history::time::iso(chrono::DateTime::from_timestamp_millis(last + 30 * HOUR).unwrap());
        let q = query(&c, &params(&[("from", &from), ("to", &to), ("by", "hour")]), ms(&now) as f64).unwrap();
        let s = aggregate(&c, &q, &items(&clean), &[]);
        let q_from = ms(&q.from);
        let q_to = ms(&q.to);
        // Seconds are whole milliseconds / 1000: add them as integers, exactly.
        let whole = |x: f64| (x * 1000.0).round() as i64;
        let observed: i64 = s.series.iter().map(|r| whole(figures(r).observed_seconds)).sum();
        prop_assert_eq!(observed, q_to - first_start.max(q_from));
        prop_assert_eq!(whole(s.totals.observed_seconds), observed);
        for r in &s.series {
            let f = figures(r);
            let sum: i64 = f.activity_seconds.values().map(|x| whole(*x)).sum();
            prop_assert_eq!(sum, whole(f.observed_seconds));
            let len = ms(r.end.as_deref().unwrap()) - ms(r.start.as_deref().unwrap());
            let observed = whole(f.observed_seconds);
            prop_assert!(observed <= len);
            if ms(r.start.as_deref().unwrap()) >= first_start {
                prop_assert_eq!(observed, len, "a fully known hour is fully observed");
            }
        }
        let completed = tasks.iter().filter(|t| t.3 % 4 == 0).count() as u64;
        prop_assert_eq!(s.totals.completed, completed);
        prop_assert_eq!(s.totals.handled, completed);
        let noisy_series = aggregate(&c, &q, &items(&noisy), &[]);
        prop_assert_eq!(&noisy_series, &s);
        // Closed hour by hour, they give the same series and nothing is missing.
        let closed = close_hours(&c, &noisy, &q.from, &q.to);
        let (from_hours, missing) = rollup::aggregate_hours(&c, &q, &closed, &[]);
        prop_assert_eq!(&from_hours, &s);
        prop_assert!(missing.is_empty());
        // And their whole days summed: the same series again, by hour and by date.
        let day_items = close_days(&c, &closed, &q.from, &q.to);
        prop_assert_eq!(close::answer_from(&c, &q, &day_items, &closed, &[], &[]).0, s);
        let by_date = query(&c, &params(&[("from", &from), ("to", &to), ("by", "date")]), ms(&now) as f64).unwrap();
        prop_assert_eq!(
            close::answer_from(&c, &by_date, &day_items, &closed, &[], &[]).0,
            rollup::aggregate_hours(&c, &by_date, &closed, &[]).0
        );
    }

    /// No input makes the readers panic, and whatever a record takes stays within the size limit.
    #[test]
    fn never_panics_and_stays_small(junk in any::<String>(), n in any::<i64>(), f in any::<f64>()) {
        let names = BTreeMap::new();
        let path = vec!["conversations".to_string(), "outcome".to_string()];
        for v in [
            json!(junk), json!({"EventType": "worker.activity.update", "WorkerSid": junk, "WorkerActivityName": junk,
                 "EventDateMs": n, "WorkerTimeInPreviousActivityMs": f}),
            json!({"EventType": "reservation.completed", "WorkerSid": "WK1", "ReservationSid": junk,
                 "Timestamp": junk, "TaskAttributes": junk, "EventDateMs": f}),
        ] {
            if let Some(e) = read_event(&v, &names, &path) {
                let mut r = Record::new(&e.worker, record::utc_hour(e.at_ms), 0);
                let _ = r.apply(&e);
                prop_assert!(r.to_value().to_string().len() <= ITEM_LIMIT);
                prop_assert_eq!(Record::from_value(&r.to_value()), Some(r));
            }
            let _ = Record::from_value(&v);
        }
        let c = config("UTC");
        let _ = query(&c, &params(&[("agent", &junk), ("from", &junk), ("by", &junk)]), f);
    }
}

/// Closing each hour from the records from its look-back on (every later one included: the
/// final state once the hours [`rollup::reclose`] names are closed again), and the previous
/// hour's items.
fn close_hours(
    c: &Config,
    store: &BTreeMap<(String, String), Value>,
    from: &str,
    to: &str,
) -> Vec<Value> {
    let records: Vec<Record> = store.values().filter_map(Record::from_value).collect();
    let zone = c.time_zone;
    let mut out: Vec<Value> = Vec::new();
    let mut previous: Vec<Value> = Vec::new();
    for h in history::time::hours(
        zone,
        values::instant::parse(from).unwrap(),
        values::instant::parse(to).unwrap(),
    ) {
        let end = history::time::next_hour(zone, h);
        let first = record::utc_hour(rollup::records_from(h).timestamp_millis());
        let wanted: Vec<Record> = records
            .iter()
            .filter(|r| r.hour_ms >= first)
            .cloned()
            .collect();
        let items = rollup::close_hour(zone, h, end, &wanted, &previous);
        assert!(items.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
        out.extend(items.iter().cloned());
        previous = items;
    }
    out
}

#[test]
fn closed_hours_give_the_series_the_records_give() {
    let c = config("America/New_York");
    let mut store = BTreeMap::new();
    ingest(&c, &mut store, &morning());
    let closed = close_hours(&c, &store, "2026-11-04T11:00:00Z", "2026-11-04T17:00:00Z");
    for by in ["hour", "date", "agent", "activity", "disposition"] {
        let q = query(
            &c,
            &params(&[
                ("from", "2026-11-04T07:00"),
                ("to", "2026-11-04T11:00"),
                ("by", by),
            ]),
            ms("2026-11-04T18:00:00Z") as f64,
        )
        .unwrap();
        let from_records = aggregate(&c, &q, &items(&store), &[]);
        let (from_hours, missing) = rollup::aggregate_hours(&c, &q, &closed, &[]);
        assert_eq!(from_hours, from_records, "by={by}");
        assert!(missing.is_empty());
    }
    // Without the 10:00 hour's items, that hour is missing and the rest still reads.
    let q = query(
        &c,
        &params(&[("from", "2026-11-04T07:00"), ("to", "2026-11-04T11:00")]),
        ms("2026-11-04T18:00:00Z") as f64,
    )
    .unwrap();
    let partial: Vec<Value> = closed
        .iter()
        .filter(|v| v["start"] != json!("2026-11-04T15:00:00Z"))
        .cloned()
        .collect();
    let (s, missing) = rollup::aggregate_hours(&c, &q, &partial, &[]);
    assert_eq!(missing, ["2026-11-04T15:00:00Z"]);
    assert_eq!(s.totals.observed_seconds, 3.0 * 3600.0);
    let hours = q.hours.unwrap();
    assert_eq!(
        (hours.map.as_str(), hours.from.as_str(), hours.to.as_str()),
        ("agentHours", "20261104T1200Z.", "20261104T1500Z.~")
    );
}

/// Offline for three days: no records after the first evening, yet every closed hour is observed,
/// carried forward from the hour before.
#[test]
fn closed_hours_carry_an_idle_agent_forward() {
    let c = config("UTC");
    let mut store = BTreeMap::new();
    let t = ms("2026-11-02T17:00:00Z");
    ingest(
        &c,
        &mut store,
        &[activity("EV1", WK1, t, "Available", "Offline", 8 * HOUR)],
    );
    let closed = close_hours(&c, &store, "2026-11-02T00:00:00Z", "2026-11-05T00:00:00Z");
    let q = query(
        &c,
        &params(&[("from", "2026-11-04"), ("to", "2026-11-04"), ("by", "hour")]),
        ms("2026-11-06T00:00:00Z") as f64,
    )
    .unwrap();
    let (s, missing) = rollup::aggregate_hours(&c, &q, &closed, &[]);
    assert!(missing.is_empty());
    assert_eq!(s.totals.activity_seconds.get("Offline"), Some(&86_400.0));
    // The records alone reach back 12 hours only: the third day is unobserved from them.
    let listed: Vec<Value> = store
        .iter()
        .filter(|((map, key), _)| {
            q.list
                .iter()
                .any(|l| &l.map == map && l.from <= *key && *key <= l.to)
        })
        .map(|(_, v)| v.clone())
        .collect();
    assert!(listed.is_empty());
    assert_eq!(aggregate(&c, &q, &listed, &[]).totals.observed_seconds, 0.0);
}

#[test]
fn a_month_of_200_agents_in_closed_hours() {
    let c = config("UTC");
    let start = ms("2026-10-01T00:00:00Z");
    let items = bench::month_items(200, 30, start);
    let records: Vec<Record> = items.iter().filter_map(Record::from_value).collect();
    let end = start + 30 * 24 * HOUR;
    let hours = agent_hours(c.time_zone, &records, start, end);
    let mut closed = Vec::new();
    let mut h = start;
    while h < end {
        let at = chrono::DateTime::from_timestamp_millis(h).unwrap();
        let next = chrono::DateTime::from_timestamp_millis(h + HOUR).unwrap();
        closed.extend(rollup::hour_items(at, next, &hours, &BTreeMap::new()));
        h += HOUR;
    }
    let bytes: usize = closed.iter().map(|v| v.to_string().len()).sum();
    println!(
        "30 days x 200 agents: {} closed-hour items, {bytes} bytes of JSON",
        closed.len()
    );
    assert!(closed.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
    let q = query(
        &c,
        &params(&[("from", "2026-10-01"), ("to", "2026-10-30"), ("by", "date")]),
        (end + 24 * HOUR) as f64,
    )
    .unwrap();
    let (s, missing) = rollup::aggregate_hours(&c, &q, &closed, &[]);
    assert!(missing.is_empty());
    assert_eq!(s, aggregate(&c, &q, &items, &[]));
    assert_eq!(s.totals.completed, 200 * 30 * bench::TASKS_PER_DAY);
}

#[test]
fn which_closed_hours_an_event_reopens() {
    let c = config("UTC");
    let names = BTreeMap::new();
    let ev = |v: Value| read_event(&v, &names, &c.disposition_attribute).unwrap();
    let closed_until = chrono::DateTime::from_timestamp_millis(ms("2026-11-04T11:00:00Z")).unwrap();
    let t = |s: &str| ms(&format!("2026-11-04T{s}:00Z"));
    let hour = |s: &str| Some(values::instant::parse(&format!("2026-11-04T{s}:00:00Z")).unwrap());
    // 10:50 Available was recorded; at 11:10 the agent leaves it: nothing closed changes.
    let mut earlier = Record::new(WK1, t("10:00"), 0);
    earlier.apply(&ev(activity(
        "EV1",
        WK1,
        t("10:50"),
        "Offline",
        "Available",
        HOUR,
    )));
    let now = ev(activity(
        "EV2",
        WK1,
        t("11:10"),
        "Available",
        "Break",
        20 * MIN,
    ));
    assert_eq!(
        rollup::reclose(
            c.time_zone,
            &now,
            closed_until,
            std::slice::from_ref(&earlier)
        ),
        None
    );
    // The same event with no recorded start (the agent's first event): 10:00 is closed again.
    let reopened = rollup::reclose(c.time_zone, &now, closed_until, &[]);
    assert_eq!(reopened.map(|r| Some(r.0)), Some(hour("10")));
    // A change whose span lies in open hours only.
    let open = ev(activity(
        "EV3",
        WK1,
        t("11:40"),
        "Break",
        "Available",
        30 * MIN,
    ));
    assert_eq!(rollup::reclose(c.time_zone, &open, closed_until, &[]), None);
    // Late: a reservation of 09:30 arriving now re-closes from 09:00; an activity change of
    // 10:30 that began 08:15 from 08:00.
    let late = ev(reservation("EV4", WK1, t("09:30"), "accepted", "WR1", None));
    assert_eq!(
        rollup::reclose(c.time_zone, &late, closed_until, &[]).map(|r| Some(r.0)),
        Some(hour("09"))
    );
    let late = ev(activity(
        "EV5",
        WK1,
        t("10:30"),
        "Offline",
        "Available",
        2 * HOUR + 15 * MIN,
    ));
    assert_eq!(
        rollup::reclose(c.time_zone, &late, closed_until, &[]),
        Some((hour("08").unwrap(), closed_until))
    );
    // A reservation step in an open hour never reopens anything.
    let fresh = ev(reservation(
        "EV6",
        WK1,
        t("11:30"),
        "completed",
        "WR1",
        Some("Sold"),
    ));
    assert_eq!(
        rollup::reclose(c.time_zone, &fresh, closed_until, &[]),
        None
    );
}

/// Lord Howe falls back half an hour (02:00 +11:00 → 01:30 +10:30, at 15:00Z): every instant goes
/// to the bucket the day's tiling has, including 14:30Z, where `hour_start` alone says 14:00Z.
#[test]
fn half_hour_fall_back_buckets() {
    let zone: chrono_tz::Tz = "Australia/Lord_Howe".parse().unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2027, 4, 4).unwrap();
    let hours = history::time::hours(
        zone,
        history::time::day_start(zone, date),
        history::time::next_day_start(zone, date),
    );
    for h in &hours {
        let start = h.timestamp_millis();
        let end = history::time::next_hour(zone, *h).timestamp_millis();
        for ms in [start, start + 1, (start + end) / 2, end - 1] {
            assert_eq!(timeline::bucket(zone, ms), start, "{h}");
        }
    }
    let t = ms("2027-04-03T14:30:00Z");
    assert_eq!(timeline::bucket(zone, t), t);
}

/// The day items of every whole local day in `[from, to)` from closed hour items.
fn close_days(c: &Config, closed: &[Value], from: &str, to: &str) -> Vec<Value> {
    let zone = c.time_zone;
    days::whole_days(
        zone,
        values::instant::parse(from).unwrap(),
        values::instant::parse(to).unwrap(),
    )
    .into_iter()
    .flat_map(|d| days::day_items(zone, d, closed, 7).unwrap())
    .collect()
}

/// Closed days answer exactly what their closed hours answer, for every grouping and agent
/// selection (by hour of chosen agents, days are not planned: hours are read); a range that starts
/// and ends inside days reads its edges from hours; a day missing a chunk is read from its hours.
#[test]
fn closed_days_give_the_series_closed_hours_give() {
    let c = config("America/New_York");
    let start = ms("2026-11-01T00:00:00Z");
    let items = bench::month_items(7, 5, start);
    let store: BTreeMap<(String, String), Value> = items
        .iter()
        .enumerate()
        .map(|(i, v)| (("m".to_string(), format!("{i:06}")), v.clone()))
        .collect();
    let closed = close_hours(&c, &store, "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z");
    let day_items = close_days(&c, &closed, "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z");
    assert!(day_items.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
    // Days read, and the first one's items are the whole day's.
    assert_eq!(days::read_days(&day_items).len(), 4);
    let directory: Vec<AgentInfo> = (0..7)
        .map(|i| AgentInfo {
            sid: format!("WK{i:032x}"),
            name: format!("Agent {i}"),
            team: Some(if i % 2 == 1 { "Blue" } else { "Green" }.to_string()),
        })
        .collect();
    let two = format!("WK{:032x},WK{:032x}", 1, 4);
    let now = "2026-11-07T00:00:00Z";
    for (from, to) in [
        ("2026-11-01T09:00", "2026-11-05T13:00"),
        ("2026-11-02", "2026-11-04"),
    ] {
        for agent in ["all", "team:Blue", two.as_str()] {
            for by in [
                "hour",
                "date",
                "dayOfWeek",
                "agent",
                "activity",
                "disposition",
            ] {
                let q = query(
                    &c,
                    &params(&[("from", from), ("to", to), ("by", by), ("agent", agent)]),
                    ms(now) as f64,
                )
                .unwrap();
                let (from_hours, n) = close::answer(&c, &q, &closed, &[], &directory);
                assert_eq!(n, 0);
                let (from_days, m, d) =
                    close::answer_from(&c, &q, &day_items, &closed, &[], &directory);
                assert!(m.is_empty());
                assert_eq!(from_days, from_hours, "{from}..{to} agent={agent} by={by}");
                let planned = close::day_dates(&c, &q).len();
                assert_eq!(d, planned, "{from}..{to} agent={agent} by={by}");
                if by == "hour" && agent != "all" {
                    assert_eq!(planned, 0);
                } else {
                    assert!(planned >= 3);
                }
            }
        }
    }
    // Only the hours outside whole days are planned from agentHours.
    let q = query(
        &c,
        &params(&[("from", "2026-11-01T09:00"), ("to", "2026-11-05T13:00")]),
        ms(now) as f64,
    )
    .unwrap();
    let plan = close::plan(&c, &q);
    assert_eq!(plan.days.len(), 1);
    assert_eq!(
        (plan.days[0].from.as_str(), plan.days[0].to.as_str()),
        ("20261102.", "20261104.~")
    );
    assert_eq!(
        plan.hours.first().map(|r| r.from.as_str()),
        Some("20261101T1400Z.")
    );
    assert_eq!(
        plan.hours.last().map(|r| r.to.as_str()),
        Some("20261105T1700Z.~")
    );
    // A day missing a chunk (or a build mixing two generations) is read from its hours.
    let mut torn: Vec<Value> = day_items.clone();
    let other = days::day_items(c.time_zone, "2026-11-03".parse().unwrap(), &closed, 8).unwrap();
    torn.retain(|v| v["date"] != json!("2026-11-03") || v["chunk"] != json!(0));
    torn.push(other[0].clone());
    torn.retain(|v| v["date"] != json!("2026-11-03") || v["chunk"] == json!(0));
    let (s, _, d) = close::answer_from(&c, &q, &torn, &closed, &[], &directory);
    let gaps = close::day_gaps(&c, &q, &torn);
    if other.len() > 1 {
        assert_eq!(d, 2);
        assert!(!gaps.is_empty());
    }
    assert_eq!(s, close::answer(&c, &q, &closed, &[], &directory).0);
    // A day whose hours are not all closed is not summed.
    let some: Vec<Value> = closed
        .iter()
        .filter(|v| v["start"] != json!("2026-11-03T10:00:00Z"))
        .cloned()
        .collect();
    assert!(days::day_items(c.time_zone, "2026-11-03".parse().unwrap(), &some, 1).is_none());
}

/// 30 days × 200 agents in closed days: a few items a day, each under the limit, and the same
/// series as their hours.
#[test]
fn a_month_of_200_agents_in_closed_days() {
    let c = config("UTC");
    let start = ms("2026-10-01T00:00:00Z");
    let items = bench::month_items(200, 30, start);
    let records: Vec<Record> = items.iter().filter_map(Record::from_value).collect();
    let end = start + 30 * 24 * HOUR;
    let hours = agent_hours(c.time_zone, &records, start, end);
    let mut closed = Vec::new();
    let mut h = start;
    while h < end {
        let at = chrono::DateTime::from_timestamp_millis(h).unwrap();
        let next = chrono::DateTime::from_timestamp_millis(h + HOUR).unwrap();
        closed.extend(rollup::hour_items(at, next, &hours, &BTreeMap::new()));
        h += HOUR;
    }
    let day_items = close_days(&c, &closed, "2026-10-01T00:00:00Z", "2026-10-31T00:00:00Z");
    let bytes: usize = day_items.iter().map(|v| v.to_string().len()).sum();
    println!(
        "30 days x 200 agents: {} closed-day items, {bytes} bytes of JSON",
        day_items.len()
    );
    assert!(day_items.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
    assert!(day_items.len() <= 30 * 3, "{}", day_items.len());
    for by in ["hour", "date", "agent"] {
        let q = query(
            &c,
            &params(&[("from", "2026-10-01"), ("to", "2026-10-30"), ("by", by)]),
            (end + 24 * HOUR) as f64,
        )
        .unwrap();
        let (s, m, d) = close::answer_from(&c, &q, &day_items, &[], &[], &[]);
        assert_eq!((m.len(), d), (0, 30));
        assert_eq!(s, aggregate(&c, &q, &items, &[]), "by={by}");
    }
}

/// A late event: the hours were closed without it; the agent's rows closed again from its
/// records (`patch_agent`) give the hours a closing with every event gives — other agents' rows
/// untouched, and patching again changes nothing.
#[test]
fn a_late_event_closes_the_agents_rows_again() {
    let c = config("America/New_York");
    let zone = c.time_zone;
    let all = morning();
    // WK2 works too, on time.
    let t = |hm: &str| ms(&format!("2026-11-04T{hm}:00-05:00"));
    let mut events = all.clone();
    events.push(activity(
        "EV20",
        WK2,
        t("08:10"),
        "Offline",
        "Available",
        10 * HOUR,
    ));
    events.push(activity(
        "EV21",
        WK2,
        t("09:40"),
        "Available",
        "Offline",
        90 * MIN,
    ));
    // Withheld: the break (EV02, EV03) and a reservation step.
    let late: Vec<Value> = events
        .iter()
        .filter(|e| ["EV02", "EV03", "EV06"].contains(&e["Sid"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    let on_time: Vec<Value> = events
        .iter()
        .filter(|e| !late.contains(e))
        .cloned()
        .collect();
    let (from, to) = ("2026-11-04T12:00:00Z", "2026-11-04T17:00:00Z");
    let mut partial = BTreeMap::new();
    ingest(&c, &mut partial, &on_time);
    let mut stored: BTreeMap<String, Value> = BTreeMap::new();
    let keyed = |items: Vec<Value>| -> Vec<(String, Value)> {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        items
            .into_iter()
            .map(|v| {
                let s = values::instant::parse(v["start"].as_str().unwrap()).unwrap();
                let i = n.entry(v["start"].to_string()).or_default();
                *i += 1;
                (rollup::rollup_key(s, *i - 1), v)
            })
            .collect()
    };
    for (k, v) in keyed(close_hours(&c, &partial, from, to)) {
        stored.insert(k, v);
    }
    let mut full = BTreeMap::new();
    ingest(&c, &mut full, &events);
    let truth = close_hours(&c, &full, from, to);
    let records: Vec<Record> = full.values().filter_map(Record::from_value).collect();
    let q = query(
        &c,
        &params(&[("from", "2026-11-04T07:00"), ("to", "2026-11-04T12:00")]),
        ms("2026-11-04T18:00:00Z") as f64,
    )
    .unwrap();
    let before = close::answer(
        &c,
        &q,
        &stored.values().cloned().collect::<Vec<_>>(),
        &[],
        &[],
    )
    .0;
    let expected = close::answer(&c, &q, &truth, &[], &[]).0;
    assert_ne!(before, expected);
    let patch = |stored: &BTreeMap<String, Value>| {
        let list: Vec<(String, Value)> =
            stored.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        rollup::patch_agent(
            zone,
            WK1,
            values::instant::parse(from).unwrap(),
            values::instant::parse(to).unwrap(),
            &list,
            &records,
        )
    };
    let patches = patch(&stored);
    assert!(!patches.is_empty());
    let untouched = stored.clone();
    for (k, v) in patches {
        let old = stored.insert(k, v.clone()).unwrap();
        // WK2's row is what it was.
        assert_eq!(old["a"].get(WK2).is_some(), v["a"].get(WK2).is_some());
        if let Some(row) = old["a"].get(WK2) {
            let (a, b) = (
                rollup::decode(
                    row,
                    &serde_json::from_value::<Vec<String>>(old["n"].clone()).unwrap(),
                ),
                rollup::decode(
                    &v["a"][WK2],
                    &serde_json::from_value::<Vec<String>>(v["n"].clone()).unwrap(),
                ),
            );
            assert_eq!(a, b);
        }
    }
    assert_ne!(stored, untouched);
    let after = close::answer(
        &c,
        &q,
        &stored.values().cloned().collect::<Vec<_>>(),
        &[],
        &[],
    )
    .0;
    assert_eq!(after, expected);
    assert!(patch(&stored).is_empty(), "patching again changes nothing");
    // The late event's step: its hour is closed (latest 16:00Z), so the hours from its span's to
    // the last closed one are closed again.
    let names = BTreeMap::new();
    let e = read_event(&late[0], &names, &c.disposition_attribute).unwrap();
    match close::reclose_step(&c, &e, Some("20261104T1600Z.0"), None) {
        close::RecloseStep::Hours(r) => {
            // Its span (Available since 07:50 New York, 12:50Z) reaches back to the 12:00Z hour.
            assert_eq!(
                (r.from.as_str(), r.to.as_str()),
                ("2026-11-04T12:00:00Z", to)
            );
            assert_eq!(r.hours.from, "20261104T1100Z.");
            assert_eq!(r.hours.to, "20261104T1600Z.~");
            // The agent's records from 00Z (12 hours before) to 17Z (now), one listing an hour.
            let hours: Vec<Value> = stored.values().cloned().collect();
            let listings = close::reclose_records(&c, &r, &hours, ms("2026-11-04T17:30:00Z"));
            assert_eq!(listings.len(), 18);
            assert_eq!(listings[0].from, format!("20261104T00Z.{WK1}."));
            // An event older than the first closed hour's look-back changes nothing closed.
            let old = close::Reclose {
                at: ms("2026-11-03T20:00:00Z"),
                ..r.clone()
            };
            assert!(
                close::reclose_records(&c, &old, &hours, ms("2026-11-04T17:30:00Z")).is_empty()
            );
        }
        other => panic!("{other:?}"),
    }
    // Nothing closed yet: nothing to do.
    assert_eq!(
        close::reclose_step(&c, &e, None, None),
        close::RecloseStep::None
    );
}

/// Closed hours keyed as the hook stores them (`<hour>.<chunk>`).
fn keyed_hours(items: &[Value]) -> BTreeMap<String, Value> {
    let mut n: BTreeMap<String, usize> = BTreeMap::new();
    items
        .iter()
        .map(|v| {
            let s = values::instant::parse(v["start"].as_str().unwrap()).unwrap();
            let i = n.entry(v["start"].to_string()).or_default();
            *i += 1;
            (rollup::rollup_key(s, *i - 1), v.clone())
        })
        .collect()
}

/// Every whole local day of `[from, to)` built with teams (`teams`: worker → team at closing):
/// its `agentDays` items and its `agentDayHours` items.
fn build_days(
    c: &Config,
    closed: &[Value],
    from: &str,
    to: &str,
    generation: u64,
    teams: &BTreeMap<String, String>,
) -> (Vec<Value>, Vec<Value>) {
    build_days_as(c, closed, from, to, generation, teams, &|_| {
        days::DetailLayout::PerAgent
    })
}

/// [`build_days`] with the `layout` of each day (by its index) for the agents' hours.
fn build_days_as(
    c: &Config,
    closed: &[Value],
    from: &str,
    to: &str,
    generation: u64,
    teams: &BTreeMap<String, String>,
    layout: &dyn Fn(usize) -> days::DetailLayout,
) -> (Vec<Value>, Vec<Value>) {
    let zone = c.time_zone;
    let mut days_out = Vec::new();
    let mut detail = Vec::new();
    for (i, d) in days::whole_days(
        zone,
        values::instant::parse(from).unwrap(),
        values::instant::parse(to).unwrap(),
    )
    .into_iter()
    .enumerate()
    {
        let b = days::build_day_as(zone, d, closed, generation, Some(teams), layout(i)).unwrap();
        assert!(b.days.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
        assert!(b.detail.iter().all(|v| v.to_string().len() <= ITEM_LIMIT));
        assert!(!b.detail.is_empty());
        days_out.extend(b.days);
        detail.extend(b.detail);
    }
    (days_out, detail)
}

fn team_directory(n: usize, blue: impl Fn(usize) -> bool) -> Vec<AgentInfo> {
    (0..n)
        .map(|i| AgentInfo {
            sid: format!("WK{i:032x}"),
            name: format!("Agent {i}"),
            team: Some(if blue(i) { "Blue" } else { "Green" }.to_string()),
        })
        .collect()
}

fn teams_of(directory: &[AgentInfo]) -> BTreeMap<String, String> {
    directory
        .iter()
        .filter_map(|a| Some((a.sid.clone(), a.team.clone()?)))
        .collect()
}

/// What the shim does: days, then the detail buckets `detail_keys` names (fetched from
/// `detail`), then the hours of the days not answered, then the answer.
fn answer_read(
    c: &Config,
    q: &Query,
    day_items: &[Value],
    detail: &[Value],
    closed: &[Value],
    directory: &[AgentInfo],
) -> (Series, usize, usize) {
    let keys = close::detail_keys(c, q, day_items, directory);
    // The shim lists them: one page of each listing, as Sync answers (key order from `from`,
    // `pageSize` items), keeping the keys up to `to`.
    let mut stored: Vec<(String, Value)> = detail
        .iter()
        .map(|v| (days::detail_item_key(v).unwrap(), v.clone()))
        .collect();
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    let listings = close::detail_listings(c, q, day_items, directory);
    for k in &keys {
        assert!(
            listings.iter().any(|l| k.key >= l.from && k.key <= l.to),
            "{} in no listing",
            k.key
        );
    }
    let fetched: Vec<Value> = listings
        .iter()
        .flat_map(|l| {
            stored
                .iter()
                .filter(|(k, _)| *k >= l.from)
                .take(l.page_size as usize)
                .filter(|(k, _)| *k <= l.to)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let plan = close::plan(c, q);
    let mut ranges = plan.hours.clone();
    ranges.extend(close::day_gaps_with(c, q, day_items, &fetched, directory));
    let hours: Vec<Value> = keyed_hours(closed)
        .into_iter()
        .filter(|(k, _)| ranges.iter().any(|r| *k >= r.from && *k <= r.to))
        .map(|(_, v)| v)
        .collect();
    let (s, rest, d) = close::answer_with(c, q, day_items, &fetched, &hours, &[], directory);
    assert!(rest.is_empty());
    (s, d, hours.len())
}

/// By hour of a team or of named agents, closed days built with teams answer exactly what the
/// closed hours answer (a DST day among them): a team from its hour sums (no hour item read),
/// named agents from their detail buckets; a team whose members changed since the days were
/// built from its members' buckets; a day without detail, or whose detail is of another build,
/// from its hours. Every other grouping and selection is unchanged.
#[test]
fn closed_days_answer_by_hour_of_a_team_and_of_named_agents_as_their_hours() {
    by_hour_of_chosen_agents(&|_| days::DetailLayout::PerAgent);
}

/// The same from days built with the first layout of the agents' hours (buckets), and from a
/// mix of both layouts (days built before and after the change): the same series.
#[test]
fn days_of_either_detail_layout_answer_the_same() {
    by_hour_of_chosen_agents(&|_| days::DetailLayout::Buckets);
    by_hour_of_chosen_agents(&|i| {
        if i % 2 == 0 {
            days::DetailLayout::Buckets
        } else {
            days::DetailLayout::PerAgent
        }
    });
}

fn by_hour_of_chosen_agents(layout: &dyn Fn(usize) -> days::DetailLayout) {
    let c = config("America/New_York");
    let start = ms("2026-10-30T00:00:00Z");
    let n = 9;
    let items = bench::month_items(n, 6, start);
    let store: BTreeMap<(String, String), Value> = items
        .iter()
        .enumerate()
        .map(|(i, v)| (("m".to_string(), format!("{i:06}")), v.clone()))
        .collect();
    let (from, to) = ("2026-10-30T04:00:00Z", "2026-11-05T05:00:00Z");
    let closed = close_hours(&c, &store, from, to);
    let at_closing = team_directory(n, |i| i % 2 == 1);
    let (day_items, detail) =
        build_days_as(&c, &closed, from, to, 5, &teams_of(&at_closing), layout);
    // A team change after the days were built: agent 2 joined Blue, agent 3 left it.
    let moved = team_directory(n, |i| (i % 2 == 1 && i != 3) || i == 2);
    let one = format!("WK{:032x}", 4);
    let two = format!("WK{:032x},WK{:032x}", 1, 6);
    let now = "2026-11-06T00:00:00Z";
    // 2026-11-01 is New York's fall-back day: 25 hours.
    for (qf, qt) in [
        ("2026-10-31", "2026-11-03"),
        ("2026-10-31T09:00", "2026-11-04T13:00"),
    ] {
        for agent in [
            "all",
            "team:Blue",
            "team:Green",
            "team:Nobody",
            one.as_str(),
            two.as_str(),
        ] {
            for by in [
                "hour",
                "date",
                "dayOfWeek",
                "agent",
                "activity",
                "disposition",
            ] {
                for directory in [&at_closing, &moved] {
                    let q = query(
                        &c,
                        &params(&[("from", qf), ("to", qt), ("by", by), ("agent", agent)]),
                        ms(now) as f64,
                    )
                    .unwrap();
                    let (expected, m) = close::answer(&c, &q, &closed, &[], directory);
                    assert_eq!(m, 0);
                    let (got, d, hour_items) =
                        answer_read(&c, &q, &day_items, &detail, &closed, directory);
                    let what = format!(
                        "{qf}..{qt} agent={agent} by={by} moved={}",
                        directory == &moved
                    );
                    assert_eq!(got, expected, "{what}");
                    assert!(d >= 3, "{what}: {d} days");
                    if by == "hour" && agent.starts_with("team:") && directory == &at_closing {
                        // Whole days from the team's sums: only the edges' hours are read.
                        assert!(
                            hour_items * 3 < closed.len(),
                            "{what}: {hour_items} of {} hour items",
                            closed.len()
                        );
                    }
                }
            }
        }
    }
    let q = query(
        &c,
        &params(&[
            ("from", "2026-10-31"),
            ("to", "2026-11-03"),
            ("agent", &one),
        ]),
        ms(now) as f64,
    )
    .unwrap();
    // One named agent: one item a day; with buckets, one listing of one item a day; with its
    // own items, one listing of its days (neighbours in key order).
    assert_eq!(close::detail_keys(&c, &q, &day_items, &at_closing).len(), 4);
    let listings = close::detail_listings(&c, &q, &day_items, &at_closing);
    let bucketed = (0..4)
        .filter(|i| layout(*i) == days::DetailLayout::Buckets)
        .count();
    assert_eq!(listings.len(), bucketed + usize::from(bucketed < 4));
    assert!(listings
        .iter()
        .filter(|l| l.from.starts_with('2'))
        .all(|l| l.page_size == 1 && l.from == l.to));
    if bucketed == 0 {
        assert_eq!(
            listings[0].from,
            days::agent_detail_key(&one, "2026-10-31".parse().unwrap())
        );
        assert_eq!(
            listings[0].to,
            days::agent_detail_key(&one, "2026-11-03".parse().unwrap())
        );
        assert_eq!(listings[0].page_size, 4);
    }
    let qt = query(
        &c,
        &params(&[
            ("from", "2026-10-31"),
            ("to", "2026-11-03"),
            ("agent", "team:Blue"),
        ]),
        ms(now) as f64,
    )
    .unwrap();
    assert!(close::detail_keys(&c, &qt, &day_items, &at_closing).is_empty());
    assert!(!close::detail_keys(&c, &qt, &day_items, &moved).is_empty());
    // Without their detail (not written yet), or with another build's, days are read from hours.
    let expected = close::answer(&c, &q, &closed, &[], &at_closing).0;
    for stale in [
        vec![],
        build_days_as(&c, &closed, from, to, 4, &teams_of(&at_closing), layout).1,
    ] {
        let gaps = close::day_gaps_with(&c, &q, &day_items, &stale, &at_closing);
        assert!(!gaps.is_empty());
        let hours: Vec<Value> = keyed_hours(&closed)
            .into_iter()
            .filter(|(k, _)| {
                gaps.iter()
                    .chain(close::plan(&c, &q).hours.iter())
                    .any(|r| *k >= r.from && *k <= r.to)
            })
            .map(|(_, v)| v)
            .collect();
        let (s, rest, d) = close::answer_with(&c, &q, &day_items, &stale, &hours, &[], &at_closing);
        assert_eq!((s, rest.len(), d), (expected.clone(), 0, 0));
    }
    // Days built without teams (before this) answer by hour of chosen agents from their hours.
    let plain = close_days(&c, &closed, from, to);
    let (s, d, _) = answer_read(&c, &qt, &plain, &[], &closed, &at_closing);
    assert_eq!(
        (s, d),
        (close::answer(&c, &qt, &closed, &[], &at_closing).0, 0)
    );
}

/// A late event closes an agent's rows again and its day is built again (a new generation): the
/// team's sums and the agent's detail of the new build answer what the patched hours answer;
/// the previous build's detail is never mixed in.
#[test]
fn a_late_event_rebuilds_the_team_sums_and_the_agents_hours() {
    let c = config("America/New_York");
    let zone = c.time_zone;
    let start = ms("2026-11-03T00:00:00Z");
    let n = 5;
    let items = bench::month_items(n, 3, start);
    let full: BTreeMap<(String, String), Value> = items
        .iter()
        .enumerate()
        .map(|(i, v)| (("m".to_string(), format!("{i:06}")), v.clone()))
        .collect();
    // Agent 1's records of 2026-11-04 12Z to 13Z (its break) arrive late.
    let late_worker = format!("WK{:032x}", 1);
    let late_hour = ms("2026-11-04T12:00:00Z");
    let partial: BTreeMap<(String, String), Value> = full
        .iter()
        .filter(|(_, v)| {
            Record::from_value(v)
                .is_some_and(|r| !(r.worker == late_worker && r.hour_ms == late_hour))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let records_full: Vec<Record> = full.values().filter_map(Record::from_value).collect();
    let records_partial: Vec<Record> = partial.values().filter_map(Record::from_value).collect();
    let dropped: Vec<&Record> = records_full
        .iter()
        .filter(|r| !records_partial.contains(r))
        .collect();
    assert!(!dropped.is_empty(), "the test withholds some records");
    let (from, to) = ("2026-11-03T05:00:00Z", "2026-11-05T05:00:00Z");
    let stored = keyed_hours(&close_hours(&c, &partial, from, to));
    let directory = team_directory(n, |i| i % 2 == 1);
    let teams = teams_of(&directory);
    let before: Vec<Value> = stored.values().cloned().collect();
    let (days_before, detail_before) = build_days(&c, &before, from, to, 1, &teams);
    // The late records are in: the agent's rows closed again, the days built again.
    let list: Vec<(String, Value)> = stored.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let patches = rollup::patch_agent(
        zone,
        &late_worker,
        values::instant::parse(from).unwrap(),
        values::instant::parse(to).unwrap(),
        &list,
        &records_full,
    );
    assert!(!patches.is_empty());
    let mut patched = stored.clone();
    for (k, v) in patches {
        patched.insert(k, v);
    }
    let after: Vec<Value> = patched.values().cloned().collect();
    let (days_after, detail_after) = build_days(&c, &after, from, to, 2, &teams);
    let now = ms("2026-11-06T00:00:00Z") as f64;
    for agent in ["team:Blue", late_worker.as_str()] {
        let q = query(
            &c,
            &params(&[
                ("from", "2026-11-03"),
                ("to", "2026-11-04"),
                ("agent", agent),
            ]),
            now,
        )
        .unwrap();
        let expected = close::answer(&c, &q, &after, &[], &directory).0;
        assert_ne!(
            expected,
            close::answer(&c, &q, &before, &[], &directory).0,
            "{agent}"
        );
        let (got, d, _) = answer_read(&c, &q, &days_after, &detail_after, &after, &directory);
        assert_eq!((got, d), (expected.clone(), 2), "{agent}");
        // The new days with the previous build's detail: never mixed, read from hours instead.
        let (got, _, _) = answer_read(&c, &q, &days_after, &detail_before, &after, &directory);
        assert_eq!(got, expected, "{agent}");
        // Before the rebuild, the old build answers what the old hours answered.
        let (old, _, _) = answer_read(&c, &q, &days_before, &detail_before, &before, &directory);
        assert_eq!(
            old,
            close::answer(&c, &q, &before, &[], &directory).0,
            "{agent}"
        );
    }
}

/// A day's needed detail buckets are read in key order (`.0`, `.1`, `.10`, `.11`… as text), one
/// listing per run with at most `DETAIL_GAP` unneeded buckets between two needed ones, each one
/// Sync page that holds exactly the run.
#[test]
fn detail_listings_cover_the_needed_buckets_in_few_pages() {
    let date: chrono::NaiveDate = "2026-11-01".parse().unwrap();
    let key = |b: usize| days::detail_key(date, b);
    // Sync's order of 32 buckets' keys.
    let mut order: Vec<String> = (0..32).map(key).collect();
    order.sort();
    let one = close::day_listings(date, 32, &[5].into_iter().collect());
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].from.as_str(), one[0].to.as_str(), one[0].page_size),
        ("20261101.5", "20261101.5", 1)
    );
    // Every bucket: one page of 32.
    let all = close::day_listings(date, 32, &(0..32).collect());
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].from.as_str(), all[0].to.as_str(), all[0].page_size),
        ("20261101.0", "20261101.9", 32)
    );
    for needed in [
        vec![0, 1, 31],
        vec![2, 9, 17, 30],
        vec![3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        vec![0, 9],
    ] {
        let set: BTreeSet<usize> = needed.iter().copied().collect();
        let listings = close::day_listings(date, 32, &set);
        for b in &needed {
            assert!(
                listings
                    .iter()
                    .any(|l| key(*b) >= l.from && key(*b) <= l.to),
                "{needed:?}: {b}"
            );
        }
        for l in &listings {
            // The page from `from` of `pageSize` items ends at `to`.
            let at = order.iter().position(|k| *k == l.from).unwrap();
            assert_eq!(order[at + l.page_size as usize - 1], l.to, "{needed:?}");
            // A run starts and ends with a needed bucket, with no wide gap inside.
            let run: Vec<bool> = order[at..at + l.page_size as usize]
                .iter()
                .map(|k| set.iter().any(|b| key(*b) == *k))
                .collect();
            assert!(run[0] && run[run.len() - 1]);
            let mut gap = 0;
            for need in run {
                gap = if need { 0 } else { gap + 1 };
                assert!(gap <= close::DETAIL_GAP);
            }
        }
    }
}

/// An in-memory Twilio answering the machine's effects as the executor does (Sync map items in
/// key order from `from`, `bounds`, `pageSize`/`limit`; TaskRouter's workers); listings of a map
/// `fail` names fail with a 500. Answers the machine's answer and the effects it asked for.
fn drive_read(
    mut turn: machine::Turn,
    sync: &BTreeMap<String, BTreeMap<String, Value>>,
    workers: &[Value],
    fail: &dyn Fn(&str) -> bool,
) -> (effects::Answer, usize) {
    let mut asked = 0;
    for _ in 0..1000 {
        let (state, run) = match turn.step {
            effects::Step::Answer(a) => return (a, asked),
            effects::Step::Run { state, effects } => (state, effects),
        };
        asked += run.len();
        let outcomes: Vec<effects::Outcome> = run
            .iter()
            .map(|e| match &e.op {
                effects::Op::ListWorkers { .. } if fail("workers") => {
                    effects::Outcome::Failed(effects::Failure {
                        status: Some(503),
                        message: "injected".into(),
                        attempted: true,
                        ..Default::default()
                    })
                }
                effects::Op::ListWorkers { .. } => effects::Outcome::Done(json!(workers)),
                effects::Op::ListSyncItems { map, .. } if fail(map) => {
                    effects::Outcome::Failed(effects::Failure {
                        status: Some(500),
                        code: Some(20500),
                        message: "injected".into(),
                        attempted: true,
                        ..Default::default()
                    })
                }
                effects::Op::ListSyncItems {
                    map,
                    from,
                    bounds,
                    paging: effects::Paging { page_size, limit },
                    ..
                } => match sync.get(map) {
                    None => effects::Outcome::Failed(effects::Failure {
                        status: Some(404),
                        code: Some(20404),
                        message: "not found".into(),
                        attempted: true,
                        ..Default::default()
                    }),
                    Some(items) => {
                        let from = from.clone().unwrap_or_default();
                        let exclusive = bounds.as_deref() == Some("exclusive");
                        let n = (*limit).min(page_size.unwrap_or(50)) as usize;
                        let page: Vec<Value> = items
                            .iter()
                            .filter(|(k, _)| if exclusive { **k > from } else { **k >= from })
                            .take(n)
                            .map(|(k, v)| json!({"key": k, "data": v, "revision": "0"}))
                            .collect();
                        effects::Outcome::Done(Value::Array(page))
                    }
                },
                other => panic!("unexpected effect {other:?}"),
            })
            .collect();
        // As the executor carries the state: the read's JSON text and its items' texts.
        let carried = serde_json::to_string(&state.carry()).unwrap();
        let state = serde_json::from_str::<machine::Carried>(&carried)
            .unwrap()
            .read()
            .unwrap();
        turn = machine::resume(state, outcomes, 0.0);
    }
    panic!("the machine did not answer");
}

/// GET /agent-history's machine answers what the crate answers from every closed hour and the
/// records (closed days with their team sums and agents' hours, a DST day among them, records of
/// the hours not closed, read page by page); a failing records listing is named in `missing`, a
/// failing `agentDays` listing falls back to hours, the wallboard key asking for agents is 403,
/// a bad parameter 400, a failing directory 502.
#[test]
fn the_read_machine_answers_what_the_crate_answers() {
    let c = config("America/New_York");
    let env: BTreeMap<String, String> = [
        ("QUEUE_STATS_TIME_ZONE", "America/New_York"),
        ("WORKSPACE_SID", "WS1"),
        ("TWILIO_FLEX_SYNC_SID", "IS1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let start = ms("2026-10-30T00:00:00Z");
    let n = 24;
    let records = bench::month_items(n, 7, start);
    let (from, to) = ("2026-10-30T04:00:00Z", "2026-11-05T05:00:00Z");
    let store: BTreeMap<(String, String), Value> = records
        .iter()
        .enumerate()
        .map(|(i, v)| (("m".to_string(), format!("{i:06}")), v.clone()))
        .collect();
    let closed = close_hours(&c, &store, from, to);
    let directory = team_directory(n, |i| i % 2 == 1);
    let mut sync: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for v in &records {
        let r = Record::from_value(v).unwrap();
        sync.entry(record::map_name(&c, &r.worker))
            .or_default()
            .insert(item_key(r.hour_ms, &r.worker, r.chunk), v.clone());
    }
    sync.insert(
        "agentHours".into(),
        keyed_hours(&closed).into_iter().collect(),
    );
    for d in days::whole_days(
        c.time_zone,
        values::instant::parse(from).unwrap(),
        values::instant::parse(to).unwrap(),
    ) {
        let b = days::build_day(c.time_zone, d, &closed, 7, Some(&teams_of(&directory))).unwrap();
        for (i, v) in b.days.into_iter().enumerate() {
            sync.entry(days::DAYS_MAP.into())
                .or_default()
                .insert(days::day_key(d, i), v);
        }
        for v in b.detail {
            sync.entry(days::DETAIL_MAP.into())
                .or_default()
                .insert(days::detail_item_key(&v).unwrap(), v);
        }
    }
    let workers: Vec<Value> = directory
        .iter()
        .map(|a| json!({"sid": a.sid, "friendlyName": a.name, "attributes": format!("{{\"team_name\":\"{}\"}}", a.team.clone().unwrap_or_default())}))
        .collect();
    let settings = |names: bool| machine::Settings { names };
    let now = "2026-11-05T15:30:00Z";
    let all_values: Vec<Value> = records.clone();
    let several = format!("WK{:032x},WK{:032x},WK{:032x}", 1, 6, 13);
    let never = |_: &str| false;
    for agent in [
        "all",
        "team:Blue",
        "WK00000000000000000000000000000004",
        several.as_str(),
    ] {
        for by in ["hour", "date", "agent", "activity"] {
            let p = params(&[
                ("from", "2026-10-31"),
                ("to", "2026-11-05T12:00"),
                ("by", by),
                ("agent", agent),
            ]);
            let q = query(&c, &p, ms(now) as f64).unwrap();
            let (expected, _) = close::answer(&c, &q, &closed, &all_values, &directory);
            let turn =
                machine::start(env.clone(), &p, &settings(true), None, ms(now) as f64).unwrap();
            let (a, _) = drive_read(turn, &sync, &workers, &never);
            assert_eq!(a.status, 200, "{agent} {by}: {}", a.body);
            let what = format!("agent={agent} by={by}");
            assert_eq!(
                a.body["series"],
                serde_json::to_value(&expected).unwrap()["series"],
                "{what}"
            );
            assert_eq!(
                a.body["totals"],
                serde_json::to_value(&expected).unwrap()["totals"],
                "{what}"
            );
            assert!(
                a.body["fromDays"].as_u64().unwrap() >= 4,
                "{what}: {}",
                a.body["fromDays"]
            );
            assert!(a.body["fromRecords"].as_u64().unwrap() > 0, "{what}");
            assert_eq!(a.body["missing"], json!([]), "{what}");
        }
    }
    // A records listing that fails is named; an agentDays listing that fails reads the hours.
    let p = params(&[("from", "2026-10-31"), ("to", "2026-11-05T12:00")]);
    let q = query(&c, &p, ms(now) as f64).unwrap();
    let (expected, _) = close::answer(&c, &q, &closed, &all_values, &directory);
    let fail_records = |m: &str| m.starts_with("agentHistory.");
    let remembered = machine::Directory {
        at_ms: ms(now) as f64,
        workers: workers.clone(),
    };
    let turn = machine::start(
        env.clone(),
        &p,
        &settings(true),
        Some(&remembered),
        ms(now) as f64,
    )
    .unwrap();
    let (a, asked) = drive_read(turn, &sync, &workers, &fail_records);
    assert!(asked > 0);
    let missing = a.body["missing"].as_array().unwrap();
    assert!(!missing.is_empty());
    assert!(missing
        .iter()
        .all(|m| m["map"].as_str().unwrap().starts_with("agentHistory.")
            && m["reason"] == "Sync failed: 500 injected"));
    let fail_days = |m: &str| m == days::DAYS_MAP;
    let turn = machine::start(env.clone(), &p, &settings(true), None, ms(now) as f64).unwrap();
    let (a, _) = drive_read(turn, &sync, &workers, &fail_days);
    assert_eq!(a.body["fromDays"], 0);
    assert_eq!(
        a.body["series"],
        serde_json::to_value(&expected).unwrap()["series"]
    );
    // The key: aggregates only; agents refused at the start.
    let turn = machine::start(env.clone(), &p, &settings(false), None, ms(now) as f64).unwrap();
    let (a, _) = drive_read(turn, &sync, &workers, &never);
    assert_eq!(a.body["agents"], json!([]));
    let named = params(&[("agent", "WK00000000000000000000000000000004")]);
    let e =
        machine::start(env.clone(), &named, &settings(false), None, ms(now) as f64).unwrap_err();
    assert_eq!(wasm_face::FaceError::status(&e), 403);
    let bad = params(&[("by", "week")]);
    let e = machine::start(env.clone(), &bad, &settings(true), None, ms(now) as f64).unwrap_err();
    let mut unset = env.clone();
    unset.remove("TWILIO_FLEX_SYNC_SID");
    let missing = machine::start(unset, &p, &settings(true), None, ms(now) as f64).unwrap_err();
    assert_eq!(
        wasm_face::FaceError::parameter(&missing),
        Some("TWILIO_FLEX_SYNC_SID")
    );
    assert_eq!(wasm_face::FaceError::parameter(&e), Some("by"));
    // The directory failing is the answer (Twilio's 503 after retries: 502).
    let turn = machine::start(env.clone(), &p, &settings(true), None, ms(now) as f64).unwrap();
    let (a, _) = drive_read(turn, &sync, &workers, &|m| m == "workers");
    assert_eq!(a.status, 502, "{}", a.body);
    // Every effect failing, or an unreadable state, ends in an answer, never a panic.
    let turn = machine::start(
        env.clone(),
        &p,
        &settings(true),
        Some(&remembered),
        ms(now) as f64,
    )
    .unwrap();
    let (a, _) = drive_read(turn, &sync, &workers, &|_| true);
    assert_eq!(a.status, 200);
}

#[test]
fn every_setting_the_sources_read_is_in_settings() {
    let sources = [
        include_str!("config.rs"),
        include_str!("hook.rs"),
        include_str!("machine.rs"),
        include_str!("wasm.rs"),
        include_str!("hook_wasm.rs"),
    ];
    let prefixes = [
        "AGENT_HISTORY_",
        "QUEUE_STATS_",
        "TWILIO_FLEX_",
        "WORKSPACE_",
        "SYNC_",
    ];
    values::env::settings_listed(&sources, &prefixes, crate::SETTINGS, "AGENT_HISTORY_MAPS")
        .unwrap();
}
