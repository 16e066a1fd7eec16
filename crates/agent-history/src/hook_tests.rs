//! The event callback's hook machine (`crate::hook`) against an in-memory Twilio answering its
//! effects as the executor does (Sync maps with revisions, `If-Match`, 404 for a missing map, 409
//! for a taken key; TaskRouter's activities and workers), the state sent through JSON text
//! between steps as the wasm face does: the items it writes are the items the crate makes for
//! the same events, duplicates write nothing, and any failure ends in an answer.

use std::collections::BTreeMap;

use effects::{Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::hook::{self, Input, Memory};
use crate::record::{self, place, Applied, Record};
use crate::*;

const WK1: &str = "WK00000000000000000000000000000001";
const WK2: &str = "WK00000000000000000000000000000002";
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const ZONE: &str = "America/New_York";

fn config() -> Config {
    Config::from_env(&Env {
        time_zone: Some(ZONE.into()),
        ..Env::default()
    })
    .unwrap()
}

fn ms(s: &str) -> i64 {
    values::instant::parse(s).unwrap().timestamp_millis()
}

/// Sync and TaskRouter in memory.
#[derive(Default, Clone)]
struct Twilio {
    maps: BTreeMap<String, BTreeMap<String, (Value, u64)>>,
    activities: Vec<Value>,
    workers: Vec<Value>,
    /// Operations performed, by kind.
    asked: Vec<String>,
}

fn failure(status: u16, code: u32, message: &str) -> Outcome {
    Outcome::Failed(Failure {
        status: Some(status),
        code: Some(code),
        message: message.into(),
        attempted: true,
        more_info: None,
    })
}

fn item(key: &str, data: &Value, rev: u64) -> Value {
    json!({"key": key, "data": data, "revision": rev.to_string()})
}

impl Twilio {
    fn perform(&mut self, op: &Op) -> Outcome {
        let kind = serde_json::to_value(op).unwrap()["kind"]
            .as_str()
            .unwrap()
            .to_string();
        self.asked.push(kind);
        let gone = || failure(404, 20404, "not found");
        match op {
            Op::FetchSyncItem { map, key, .. } => match self.maps.get(map).and_then(|m| m.get(key))
            {
                Some((d, r)) => Outcome::Done(item(key, d, *r)),
                None => gone(),
            },
            Op::ListSyncItems {
                map,
                from,
                bounds,
                order,
                paging,
                ..
            } => {
                let Some(items) = self.maps.get(map) else {
                    return gone();
                };
                let n = paging.limit.min(paging.page_size.unwrap_or(50)) as usize;
                let exclusive = bounds.as_deref() == Some("exclusive");
                let keep = |k: &String| match from {
                    None => true,
                    Some(f) if order.as_deref() == Some("desc") => {
                        if exclusive {
                            k < f
                        } else {
                            k <= f
                        }
                    }
                    Some(f) => {
                        if exclusive {
                            k > f
                        } else {
                            k >= f
                        }
                    }
                };
                let mut page: Vec<Value> = items
                    .iter()
                    .filter(|(k, _)| keep(k))
                    .map(|(k, (d, r))| item(k, d, *r))
                    .collect();
                if order.as_deref() == Some("desc") {
                    page.reverse();
                }
                page.truncate(n);
                Outcome::Done(Value::Array(page))
            }
            Op::CreateSyncMap { unique_name, .. } => {
                if self.maps.contains_key(unique_name) {
                    return failure(409, 54301, "unique name taken");
                }
                self.maps.insert(unique_name.clone(), BTreeMap::new());
                Outcome::Done(json!({"uniqueName": unique_name}))
            }
            Op::CreateSyncItem { map, key, data, .. } => {
                let Some(items) = self.maps.get_mut(map) else {
                    return gone();
                };
                if items.contains_key(key) {
                    return failure(409, 54208, "key exists");
                }
                items.insert(key.clone(), (data.clone(), 0));
                Outcome::Done(item(key, data, 0))
            }
            Op::UpdateSyncItem {
                map,
                key,
                data,
                if_match,
                ..
            } => match self.maps.get_mut(map).and_then(|m| m.get_mut(key)) {
                None => gone(),
                Some((_, r)) if if_match.as_ref().is_some_and(|m| *m != r.to_string()) => {
                    failure(412, 54103, "revision moved on")
                }
                Some(slot) => {
                    *slot = (data.clone(), slot.1 + 1);
                    Outcome::Done(item(key, data, slot.1))
                }
            },
            Op::DeleteSyncItem { map, key, .. } => {
                match self.maps.get_mut(map).and_then(|m| m.remove(key)) {
                    Some(_) => Outcome::Done(json!(true)),
                    None => gone(),
                }
            }
            Op::ListActivities { .. } => Outcome::Done(json!(self.activities)),
            Op::ListWorkers { .. } => Outcome::Done(json!(self.workers)),
            other => panic!("unexpected operation {other:?}"),
        }
    }

    fn data(&self, map: &str) -> BTreeMap<String, Value> {
        self.maps
            .get(map)
            .map(|m| m.iter().map(|(k, (d, _))| (k.clone(), d.clone())).collect())
            .unwrap_or_default()
    }

    /// Every agentHistory.<n> item.
    fn records(&self) -> BTreeMap<(String, String), Value> {
        self.maps
            .iter()
            .filter(|(m, _)| m.starts_with("agentHistory."))
            .flat_map(|(m, items)| {
                items
                    .iter()
                    .map(move |(k, (d, _))| ((m.clone(), k.clone()), d.clone()))
            })
            .collect()
    }

    fn writes(&self) -> usize {
        self.asked
            .iter()
            .filter(|k| {
                k.starts_with("create") || k.starts_with("update") || k.starts_with("delete")
            })
            .count()
    }
}

fn input(event: Value, owner: &str, now: i64) -> Input {
    Input {
        event,
        env: [
            ("QUEUE_STATS_TIME_ZONE", ZONE),
            ("TWILIO_FLEX_WORKSPACE_SID", "WS1"),
            ("TWILIO_FLEX_SYNC_SID", "IS1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into(),
        owner: owner.into(),
        run: format!("run-{now}-{owner}"),
        nonce: 7,
        now_ms: now as f64,
        close_hour: None,
        record_only: false,
    }
}

/// Runs the machine to its answer against `tw`, with `fail` deciding an operation's failure.
fn drive_with(
    tw: &mut Twilio,
    mem: &mut Memory,
    input: Input,
    fail: &mut dyn FnMut(&Op) -> Option<Outcome>,
) -> Value {
    let mut step = hook::start(input, mem);
    for _ in 0..500 {
        match step {
            Step::Answer(a) => {
                assert_eq!(a.status, 200);
                return a.body;
            }
            Step::Run { state, effects } => {
                // Every write is paced by the executor (a Sync write has its object).
                for e in &effects {
                    let write = matches!(
                        e.op,
                        Op::CreateSyncItem { .. }
                            | Op::UpdateSyncItem { .. }
                            | Op::DeleteSyncItem { .. }
                    );
                    assert_eq!(
                        write,
                        e.pace.is_some() && !matches!(e.op, Op::CreateSyncMap { .. })
                    );
                }
                let outcomes: Vec<Outcome> = effects
                    .iter()
                    .map(|e| fail(&e.op).unwrap_or_else(|| tw.perform(&e.op)))
                    .collect();
                // Through JSON, as the executor and the wasm face carry them.
                let outcomes: Vec<Outcome> =
                    serde_json::from_str(&serde_json::to_string(&outcomes).unwrap()).unwrap();
                step = hook::resume(&state, outcomes, mem);
            }
        }
    }
    panic!("the hook did not answer");
}

fn drive(tw: &mut Twilio, mem: &mut Memory, input: Input) -> Value {
    drive_with(tw, mem, input, &mut |_| None)
}

/// A `worker.activity.update` callback.
fn activity(sid: &str, worker: &str, at: i64, prev: &str, next: &str, prev_ms: i64) -> Value {
    json!({"EventType": "worker.activity.update", "Sid": sid, "WorkerSid": worker,
           "WorkerActivityName": next, "WorkerPreviousActivityName": prev,
           "WorkerTimeInPreviousActivityMs": prev_ms.to_string(),
           "EventDateMs": at.to_string()})
}

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

fn at_of(e: &Value) -> i64 {
    e["EventDateMs"].as_str().unwrap().parse().unwrap()
}

/// A morning of two agents (New York, 2026-11-04), some events in the hour before.
fn morning() -> Vec<Value> {
    let t = |hm: &str| ms(&format!("2026-11-04T{hm}:00-05:00"));
    vec![
        activity("EV01", WK1, t("08:05"), "Offline", "Available", 9 * HOUR),
        reservation("EV02", WK1, t("08:10"), "accepted", "WR01", None),
        reservation("EV03", WK1, t("08:14"), "wrapup", "WR01", None),
        reservation("EV04", WK1, t("08:16"), "completed", "WR01", Some("Sale")),
        activity("EV05", WK1, t("08:20"), "Available", "Break", 15 * MIN),
        activity("EV06", WK1, t("08:35"), "Break", "Available", 15 * MIN),
        reservation("EV07", WK1, t("08:40"), "rejected", "WR02", None),
        reservation("EV08", WK1, t("08:50"), "accepted", "WR03", None),
        reservation("EV09", WK1, t("09:05"), "wrapup", "WR03", None),
        reservation(
            "EV10",
            WK1,
            t("09:06"),
            "completed",
            "WR03",
            Some("Callback"),
        ),
        activity("EV11", WK1, t("09:30"), "Available", "Offline", 55 * MIN),
        activity("EV20", WK2, t("08:10"), "Offline", "Available", 10 * HOUR),
        reservation("EV21", WK2, t("08:30"), "timeout", "WR04", None),
        activity("EV22", WK2, t("09:40"), "Available", "Offline", 90 * MIN),
    ]
}

/// What the crate makes of `events` (each applied to its record, as the hook's shim once did).
fn crate_items(events: &[Value]) -> BTreeMap<(String, String), Value> {
    let c = config();
    let mut store: BTreeMap<(String, String), Value> = BTreeMap::new();
    for v in events {
        let Some(e) = read_event(v, &BTreeMap::new(), &c.disposition_attribute) else {
            continue;
        };
        let mut chunk = 0;
        loop {
            let at = place(&c, &e, chunk);
            let slot = (at.map.clone(), at.key.clone());
            let mut r = store
                .get(&slot)
                .and_then(Record::from_value)
                .unwrap_or_else(|| Record::new(&e.worker, record::utc_hour(e.at_ms), chunk));
            r.chunk = chunk;
            match r.apply(&e) {
                Applied::Changed => {
                    store.insert(slot, r.to_value());
                    break;
                }
                Applied::Full => chunk += 1,
                _ => break,
            }
        }
    }
    store
}

#[test]
fn the_hook_writes_the_records_the_crate_makes_and_duplicates_write_nothing() {
    let events = morning();
    let mut tw = Twilio::default();
    let mut mem = Memory::default();
    // Delivered an hour before the hours could close (nothing to close yet: the tick is empty).
    let mut first = None;
    let mut maps = std::collections::BTreeSet::new();
    let mut writes = 0;
    for e in &events {
        let out = drive(&mut tw, &mut mem, input(e.clone(), "c1", at_of(e) + 1000));
        assert_eq!(out["kept"], true, "{out}");
        assert_eq!(out["written"], true, "{out}");
        writes += out["syncWrites"].as_u64().unwrap();
        first.get_or_insert(out["syncReads"].as_u64().unwrap());
        let e = read_event(e, &BTreeMap::new(), &config().disposition_attribute).unwrap();
        maps.insert(record::map_name(&config(), &e.worker));
    }
    // One read; the first event also lists each of the 4 maps for records past retention.
    assert_eq!(first, Some(1 + 4));
    // One write per event, two more for each map's first item (the refused create, the map).
    assert_eq!(writes as usize, events.len() + 2 * maps.len());
    let expected = crate_items(&events);
    assert_eq!(tw.records(), expected, "the same items, byte for byte");
    // Every event again, newest first: nothing written.
    let before = tw.writes();
    for e in events.iter().rev() {
        let out = drive(&mut tw, &mut mem, input(e.clone(), "c1", at_of(e) + 2000));
        assert_eq!(out["written"], false, "{out}");
        assert_eq!(out["syncWrites"], 0, "{out}");
    }
    assert_eq!(tw.writes(), before);
    // Shuffled, into another Sync: the same items.
    let mut tw2 = Twilio::default();
    let mut mem2 = Memory::default();
    let mut shuffled = events.clone();
    shuffled.reverse();
    shuffled.swap(1, 7);
    for e in &shuffled {
        drive(&mut tw2, &mut mem2, input(e.clone(), "c2", at_of(e) + 1000));
    }
    assert_eq!(tw2.records(), expected);
}

#[test]
fn the_previous_activity_by_sid_is_named_from_one_listing() {
    let t = ms("2026-11-04T08:00:00-05:00");
    let mut tw = Twilio {
        activities: vec![
            json!({"sid": "WA1", "friendlyName": "Offline"}),
            json!({"sid": "WA2", "friendlyName": "Available"}),
        ],
        ..Twilio::default()
    };
    let mut mem = Memory::default();
    let by_sid = |sid: &str, at: i64, prev: &str, next: (&str, &str)| {
        json!({"EventType": "worker.activity.update", "Sid": sid, "WorkerSid": WK1,
               "WorkerActivitySid": next.0, "WorkerActivityName": next.1,
               "WorkerPreviousActivitySid": prev, "WorkerTimeInPreviousActivityMs": "60000",
               "EventDateMs": at.to_string()})
    };
    let a = drive(
        &mut tw,
        &mut mem,
        input(by_sid("EV1", t, "WA1", ("WA2", "Available")), "c", t + 1),
    );
    assert_eq!(a["taskrouterCalls"], 1, "{a}");
    let b = drive(
        &mut tw,
        &mut mem,
        input(
            by_sid("EV2", t + MIN, "WA2", ("WA1", "Offline")),
            "c",
            t + MIN + 1,
        ),
    );
    assert_eq!(b["taskrouterCalls"], 0, "{b}");
    let named: Vec<Value> = vec![
        activity("EV1", WK1, t, "Offline", "Available", 60_000),
        activity("EV2", WK1, t + MIN, "Available", "Offline", 60_000),
    ];
    // The same facts as the events naming their previous activity.
    let mut expected = crate_items(&named);
    for v in expected.values_mut() {
        *v = Record::from_value(v).unwrap().to_value();
    }
    let got: Vec<Record> = tw
        .records()
        .values()
        .filter_map(Record::from_value)
        .collect();
    let want: Vec<Record> = expected.values().filter_map(Record::from_value).collect();
    assert_eq!(
        got.iter()
            .map(|r| r.to_value()["changes"].clone())
            .collect::<Vec<_>>(),
        want.iter()
            .map(|r| r.to_value()["changes"].clone())
            .collect::<Vec<_>>()
    );
}

/// Closes `[from, to)` hour by hour with the crate alone, from every record (the truth).
fn crate_hours(records: &[Record], from: i64, to: i64) -> BTreeMap<String, Value> {
    let zone = config().time_zone;
    let mut out = BTreeMap::new();
    let mut previous: Vec<Value> = Vec::new();
    for h in history::time::hours(
        zone,
        chrono::DateTime::from_timestamp_millis(from).unwrap(),
        chrono::DateTime::from_timestamp_millis(to).unwrap(),
    ) {
        let end = history::time::next_hour(zone, h);
        let first = record::utc_hour(rollup::records_from(h).timestamp_millis());
        let wanted: Vec<Record> = records
            .iter()
            .filter(|r| r.hour_ms >= first)
            .cloned()
            .collect();
        let items = rollup::close_hour(zone, h, end, &wanted, &previous);
        for (i, v) in items.iter().enumerate() {
            out.insert(rollup::rollup_key(h, i), v.clone());
        }
        previous = items;
    }
    out
}

#[test]
fn the_hook_closes_the_last_hour_a_few_listings_per_event_once() {
    let events = morning();
    let mut tw = Twilio::default();
    let mut mem = Memory::default();
    for e in &events {
        drive(&mut tw, &mut mem, input(e.clone(), "c1", at_of(e) + 1000));
    }
    let records: Vec<Record> = tw
        .records()
        .values()
        .filter_map(Record::from_value)
        .collect();
    // 10:01:05 New York: 09:00-10:00 ended over a minute ago. Events of the afternoon drive it.
    let now = ms("2026-11-04T10:01:05-05:00");
    let mut closed = None;
    let mut calls = 0;
    for i in 0..20 {
        let e = reservation(
            &format!("EVx{i}"),
            WK2,
            now + i * 1000,
            "rejected",
            &format!("WRx{i}"),
            None,
        );
        let out = drive(&mut tw, &mut mem, input(e, "c1", now + i * 1000 + 1));
        calls += 1;
        let closing = &out["closing"];
        assert!(closing.get("error").is_none(), "{out}");
        // Bounded work per event: at most 4 records listings (one page each here), plus the
        // hour's writes when it closes.
        if let Some(n) = closing.get("closed") {
            closed = Some(n.as_u64().unwrap());
            break;
        }
    }
    let closed = closed.expect("the hour was closed");
    assert!(
        closed >= 1 && calls >= 1,
        "{closed} items after {calls} events"
    );
    // The events closed 07:00, 08:00 and 09:00 as they came (each a minute after it ended):
    // the same items as the crate closing them one after another from every record.
    let hour = ms("2026-11-04T09:00:00-05:00");
    let expected = crate_hours(&records, hour - 2 * HOUR, hour + HOUR);
    assert_eq!(tw.data("agentHours"), expected);
    // The next events cost nothing: the last ended hour is closed.
    let out = drive(
        &mut tw,
        &mut mem,
        input(
            reservation("EVy", WK2, now + 60_000, "rejected", "WRy", None),
            "c1",
            now + 60_000,
        ),
    );
    assert_eq!(
        out["closing"],
        json!({"syncReads": 0, "syncWrites": 0}),
        "{out}"
    );

    // Another container: the hour is found stored (no write); an hour claimed by another
    // container is left to it; a free hour is closed at once, the same as the crate's.
    let mut other = Memory::default();
    let one = |tw: &mut Twilio, mem: &mut Memory, start: i64| {
        let mut i = input(Value::Null, "c2", now + 120_000);
        i.close_hour = Some(start as f64);
        drive(tw, mem, i)
    };
    let again = one(&mut tw, &mut other, hour);
    assert_eq!(again["state"], "stored", "{again}");
    assert_eq!(again["syncWrites"], 0);
    let held_hour = hour - 5 * HOUR;
    let key =
        history::claim::claim_key(chrono::DateTime::from_timestamp_millis(held_hour).unwrap());
    tw.maps.entry(close::CLAIMS_MAP.into()).or_default().insert(
        key,
        (json!({"hour": "x", "owner": "another", "kind": "hook", "atMs": now as f64, "untilMs": now as f64 + 300_000.0}), 0),
    );
    let held = one(&mut tw, &mut other, held_hour);
    assert_eq!(held["state"], "held", "{held}");
    assert_eq!(held["syncWrites"], 0);
    let free = hour - 4 * HOUR;
    let before = one(&mut tw, &mut other, free);
    assert_eq!(before["state"], "closed", "{before}");
    let mut want = crate_hours(&records, free, free + HOUR);
    want.extend(expected);
    assert_eq!(tw.data("agentHours"), want);
}

#[test]
fn a_late_event_closes_the_agents_rows_again_and_the_day_again() {
    let all = morning();
    let late: Vec<Value> = all
        .iter()
        .filter(|e| ["EV05", "EV06", "EV08"].contains(&e["Sid"].as_str().unwrap()))
        .cloned()
        .collect();
    let mut tw = Twilio {
        workers: vec![
            json!({"sid": WK1, "friendlyName": "Ann", "attributes": "{\"team_name\":\"Blue\"}"}),
            json!({"sid": WK2, "friendlyName": "Bob", "attributes": "{\"team_name\":\"Green\"}"}),
        ],
        ..Twilio::default()
    };
    let mut mem = Memory::default();
    for e in all.iter().filter(|e| !late.contains(e)) {
        drive(&mut tw, &mut mem, input(e.clone(), "c1", at_of(e) + 1000));
    }
    // The whole local day is closed (its last hour sums it into agentDays), then the late events.
    let day_start = ms("2026-11-04T00:00:00-05:00");
    let day_end = ms("2026-11-05T00:00:00-05:00");
    let now = day_end + 2 * MIN;
    let mut c = Memory::default();
    let mut h = day_start;
    while h < day_end {
        let mut i = input(Value::Null, "closer", now);
        i.close_hour = Some(h as f64);
        let out = drive(&mut tw, &mut c, i);
        // (the hook closed the hours before the events' own hours as they came)
        assert!(
            out["state"] == "closed" || out["state"] == "stored",
            "{out}"
        );
        h += HOUR;
    }
    assert!(!tw.data("agentDays").is_empty());
    assert!(!tw.data("agentDayHours").is_empty());
    // The hook learns the latest closed hour; the late events reach back into closed hours.
    let mut patched = 0;
    for e in &late {
        let out = drive(&mut tw, &mut mem, input(e.clone(), "c1", now + 1000));
        assert_eq!(out["written"], true, "{out}");
        let r = &out["reclose"];
        assert!(
            r.get("error").is_none() && r.get("hours").is_some(),
            "{out}"
        );
        patched += r["patched"].as_u64().unwrap();
        assert!(r["days"].as_u64().unwrap() >= 1, "{out}");
    }
    assert!(patched >= 2, "{patched}");
    // The hours now equal the crate's closing of every event; the day equals the day built
    // from them (same generation as the last build: compare without it).
    let records: Vec<Record> = tw
        .records()
        .values()
        .filter_map(Record::from_value)
        .collect();
    assert_eq!(records.len(), crate_items(&all).len());
    let truth = crate_hours(&records, day_start, day_end);
    let stored = tw.data("agentHours");
    // The same series as the crate's closing (an agent's activities may be numbered differently
    // in a patched item: compare what they mean).
    let c = config();
    let q = query(
        &c,
        &serde_json::from_value(
            json!({"from": "2026-11-04", "to": "2026-11-04T23:00", "by": "hour"}),
        )
        .unwrap(),
        now as f64,
    )
    .unwrap();
    let series = |items: Vec<Value>| close::answer(&c, &q, &items, &[], &[]).0;
    assert_eq!(
        series(stored.values().cloned().collect()),
        series(truth.values().cloned().collect())
    );
    let hours: Vec<Value> = stored.values().cloned().collect();
    let teams: BTreeMap<String, String> = [
        (WK1.to_string(), "Blue".to_string()),
        (WK2.to_string(), "Green".to_string()),
    ]
    .into();
    let built = days::build_day(
        config().time_zone,
        "2026-11-04".parse().unwrap(),
        &hours,
        0,
        Some(&teams),
    )
    .unwrap();
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("g");
        v
    };
    let days_now: Vec<Value> = tw.data("agentDays").values().map(strip).collect();
    assert_eq!(days_now, built.days.iter().map(strip).collect::<Vec<_>>());
    // Every event again: nothing written, nothing closed again (the hook's closing work only
    // writes the rebuilt day's agents' hours, one bucket per event).
    let (hours_before, days_before) = (tw.data("agentHours"), tw.data("agentDays"));
    for e in &all {
        let out = drive(&mut tw, &mut mem, input(e.clone(), "c1", now + 5000));
        assert_eq!(out["written"], false);
        assert!(out.get("reclose").is_none());
    }
    assert_eq!(tw.data("agentHours"), hours_before);
    assert_eq!(tw.data("agentDays"), days_before);
    assert!(
        mem.detail.is_empty(),
        "the rebuilt day's buckets were written"
    );
}

#[test]
fn failures_are_answered_and_leave_nothing_half_written() {
    let events = morning();
    let mut tw = Twilio::default();
    let mut mem = Memory::default();
    let e = &events[0];
    let out = drive_with(
        &mut tw,
        &mut mem,
        input(e.clone(), "c1", at_of(e) + 1),
        &mut |op| matches!(op, Op::FetchSyncItem { .. }).then(|| failure(400, 54009, "injected")),
    );
    assert!(out["error"].as_str().unwrap().contains("injected"), "{out}");
    assert!(tw.records().is_empty());
    // A run that never finished (its invocation died mid-way) leaves its reads in the memory
    // until a later run finds it stale.
    for e in &events {
        drive(&mut tw, &mut mem, input(e.clone(), "c1", at_of(e) + 1000));
    }
    let hour = ms("2026-11-04T09:00:00-05:00");
    let mut closing = input(Value::Null, "c1", hour + 2 * HOUR);
    closing.close_hour = Some((hour - 6 * HOUR) as f64);
    let mut step = hook::start(closing, &mut mem);
    while mem.bags.is_empty() {
        let Step::Run { state, effects } = step else {
            panic!("the hour's records were read into the memory")
        };
        let outcomes: Vec<Outcome> = effects.iter().map(|e| tw.perform(&e.op)).collect();
        step = hook::resume(&state, outcomes, &mut mem);
    }
    assert!(matches!(step, Step::Run { .. }));
    assert_eq!(mem.runs.len(), 1);
    let later = hour + 2 * HOUR + 2 * hook::STALE_RUN_MS as i64;
    drive(&mut tw, &mut mem, input(events[2].clone(), "c1", later));
    assert!(mem.runs.is_empty(), "{:?}", mem.runs);
    assert!(mem.bags.keys().all(|k| k == "job"), "{:?}", mem.bags.keys());
    // A state this module did not write.
    let step = hook::resume("{\"nonsense\": 1}", vec![], &mut mem);
    assert!(step.as_answer().unwrap().body["error"].is_string());
    // Off.
    let mut i = input(e.clone(), "c1", 0);
    i.env
        .insert("AGENT_HISTORY_ENABLED".into(), " FALSE ".into());
    assert_eq!(drive(&mut tw, &mut mem, i), json!({"off": true}));
    // Without Flex's Sync service, or with the workspace under two names and two values: an
    // error naming the setting, before any request.
    let mut i = input(e.clone(), "c1", 0);
    i.env.remove("TWILIO_FLEX_SYNC_SID");
    let body = drive_with(&mut tw, &mut mem, i, &mut |op| panic!("no request: {op:?}"));
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("TWILIO_FLEX_SYNC_SID is not set"), "{body}");
    let mut i = input(e.clone(), "c1", 0);
    i.env.insert("WORKSPACE_SID".into(), "WS2".into());
    let body = drive_with(&mut tw, &mut mem, i, &mut |op| panic!("no request: {op:?}"));
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("set only WORKSPACE_SID"), "{body}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Any failure of any operation, at any point, ends in an answer (never a panic), and a
    /// record item is only ever one the crate could have made.
    #[test]
    fn any_failures_end_in_an_answer(fails in proptest::collection::vec(0u8..8, 1..80)) {
        let events = morning();
        let mut tw = Twilio::default();
        let mut mem = Memory::default();
        let mut n = 0usize;
        let mut fail = |_: &Op| {
            n += 1;
            match fails.get(n % fails.len()).copied().unwrap_or(0) {
                1 => Some(failure(412, 54103, "moved")),
                2 => Some(failure(409, 54208, "exists")),
                3 => Some(failure(404, 20404, "gone")),
                4 => Some(Outcome::Failed(Failure { status: None, code: None, message: "timeout".into(), attempted: true, more_info: None })),
                5 => Some(Outcome::Failed(Failure { status: None, code: None, message: "deadline".into(), attempted: false, more_info: None })),
                _ => None,
            }
        };
        let now = ms("2026-11-04T10:01:05-05:00");
        for e in &events {
            let out = drive_with(&mut tw, &mut mem, input(e.clone(), "c1", now), &mut fail);
            prop_assert!(out.is_object());
        }
        for (k, v) in tw.records() {
            prop_assert!(Record::from_value(&v).is_some(), "{k:?}");
        }
    }
}
