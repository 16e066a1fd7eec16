use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const NOW: f64 = 1_714_575_600_000.0; // 2024-05-01T15:00:00Z

fn record(
    sid: &str,
    name: &str,
    waiting: u64,
    entered_s_ago: Option<u64>,
    accepted: u64,
    abandoned: u64,
    level30: Option<f64>,
) -> Value {
    let entered = entered_s_ago.map(|s| {
        chrono::DateTime::from_timestamp_millis(NOW as i64 - s as i64 * 1000)
            .unwrap()
            .to_rfc3339()
    });
    json!({
        "sid": sid, "friendlyName": name, "slaTarget": 0.8, "updatedAt": "2024-05-01T14:59:59.000Z",
        "oldestTaskEnteredAt": entered,
        "realTimeStats_all": {
            "activityStatistics": [{"friendly_name": "Available", "workers": 2}, {"friendly_name": "Offline", "workers": 1}, {"friendly_name": "Break", "workers": 1}],
            "tasksByStatus": {"pending": waiting, "reserved": 0, "assigned": 1, "wrapping": 0},
            "availableWorkers": 2, "eligibleWorkers": 4, "oldestTaskEnteredAt": entered
        },
        "cumulativeStats_all": {
            "rAccepted": accepted, "tCanc": abandoned, "avgTaskAcceptanceTime": 12,
            "serviceLevel": {"30": {"level": level30, "breached": level30.is_some_and(|l| l < 0.8)}, "60": {"level": 1.0, "breached": false}, "120": {"level": null, "breached": false}}
        }
    })
}

#[test]
fn a_tile_reads_the_channel_block_and_ages_the_oldest_task() {
    let c = Config::default();
    let t = tile(
        &record("WQ1", "Sales", 2, Some(95), 9, 1, Some(0.9)),
        &c,
        None,
        NOW,
        true,
    );
    assert_eq!((t.figures.waiting, t.figures.oldest_seconds), (2, Some(95)));
    assert_eq!(
        (t.figures.available, t.figures.busy, t.figures.eligible),
        (2, 1, 4),
        "busy = eligible - available - offline"
    );
    assert_eq!(
        (
            t.figures.accepted,
            t.figures.abandoned,
            t.figures.asa_seconds
        ),
        (9, 1, Some(12.0))
    );
    assert_eq!(
        t.service_levels
            .iter()
            .map(|l| l.threshold.as_str())
            .collect::<Vec<_>>(),
        ["30", "60", "120"]
    );
    assert_eq!(
        (t.sla_threshold.as_deref(), t.sla_level, t.sla_target),
        (Some("30"), Some(0.9), 0.8)
    );
    assert_eq!(t.status, Status::Warn, "oldest wait 1:35 ≥ 1:00");
    assert_eq!(t.reasons, ["longest wait 1:35 ≥ 1:00"]);
    // One second later the wait has grown by one second, with no new record.
    assert_eq!(
        tile(
            &record("WQ1", "Sales", 2, Some(95), 9, 1, Some(0.9)),
            &c,
            None,
            NOW + 1000.0,
            true
        )
        .figures
        .oldest_seconds,
        Some(96)
    );
    let voice = tile(
        &record("WQ1", "Sales", 2, Some(95), 9, 1, Some(0.9)),
        &c,
        Some("voice"),
        NOW,
        true,
    );
    assert!(!voice.present);
    assert_eq!(
        (voice.figures.waiting, voice.figures.oldest_seconds),
        (0, None)
    );
}

#[test]
fn sla_below_target_is_an_alert_near_it_a_warning_and_null_neither() {
    let c = Config::default();
    let at = |l: Option<f64>| tile(&record("WQ1", "Q", 0, None, 5, 0, l), &c, None, NOW, true);
    assert_eq!(at(Some(0.62)).status, Status::Alert);
    assert_eq!(at(Some(0.62)).reasons, ["SLA 30 s 62% < 80%"]);
    assert_eq!(at(Some(0.82)).status, Status::Warn);
    assert_eq!(at(Some(0.9)).status, Status::Ok);
    assert_eq!(at(None).status, Status::Ok);
    assert!(at(None).reasons.is_empty());
}

#[test]
fn waiting_and_oldest_wait_limits_with_per_queue_overrides() {
    let c = Config::parse(r#"{"waitingTasks": {"warn": 3, "alert": 6}, "queues": {"VIP": {"waitingTasks": {"alert": 2}, "slaTarget": 0.95, "ahtSeconds": 240}, "WQ2": {"longestWaitSeconds": {"warn": 10}}}}"#).unwrap();
    let t = tile(
        &record("WQ9", "VIP", 2, Some(5), 0, 0, Some(0.9)),
        &c,
        None,
        NOW,
        true,
    );
    assert_eq!(t.status, Status::Alert);
    assert_eq!(t.reasons, ["SLA 30 s 90% < 95%", "waiting 2 ≥ 2"]);
    assert_eq!(
        (
            t.staffing.aht_seconds,
            t.staffing.aht_from,
            t.staffing.target
        ),
        (Some(240.0), "queue", 0.95)
    );
    let t = tile(
        &record("WQ2", "Other", 1, Some(12), 0, 0, None),
        &c,
        None,
        NOW,
        true,
    );
    assert_eq!(t.reasons, ["longest wait 0:12 ≥ 0:10"]);
    assert_eq!(t.staffing.aht_from, "server");
    let t = tile(
        &record("WQ3", "Big", 7, Some(130), 0, 0, None),
        &c,
        None,
        NOW,
        true,
    );
    assert_eq!(t.reasons, ["waiting 7 ≥ 6", "longest wait 2:10 ≥ 2:00"]);
}

#[test]
fn stale_when_disconnected_or_when_the_record_says_its_figures_are_old() {
    let c = Config::default();
    let mut r = record("WQ1", "Q", 0, None, 0, 0, None);
    assert!(!tile(&r, &c, None, NOW, true).stale);
    assert!(tile(&r, &c, None, NOW, false).stale);
    r["realTimeStatsMessage"] = json!("TaskRouter answered 503");
    let t = tile(&r, &c, None, NOW, true);
    assert!(t.stale);
    assert_eq!(t.message.as_deref(), Some("TaskRouter answered 503"));
}

#[test]
fn the_summary_sums_takes_the_max_wait_and_weights_sla_by_accepted_plus_abandoned() {
    let c = Config::default();
    let records = [
        record("WQ1", "A", 2, Some(30), 9, 1, Some(0.9)),
        record("WQ2", "B", 5, Some(200), 25, 5, Some(0.5)),
        record("WQ3", "C", 0, None, 0, 0, None),
    ];
    let b = board(&records, &c, &View::default(), NOW, true);
    let s = &b.summary;
    assert_eq!(
        (s.queues, s.figures.waiting, s.figures.oldest_seconds),
        (3, 7, Some(200))
    );
    assert_eq!(
        (
            s.figures.available,
            s.figures.busy,
            s.figures.eligible,
            s.figures.accepted,
            s.figures.abandoned
        ),
        (6, 3, 12, 34, 6)
    );
    let expected = (0.9 * 10.0 + 0.5 * 30.0) / 40.0;
    assert!((s.sla_level.unwrap() - expected).abs() < 1e-12);
    assert_eq!(s.figures.asa_seconds, Some(12.0));
    assert_eq!(
        b.tiles
            .iter()
            .map(|t| t.friendly_name.as_str())
            .collect::<Vec<_>>(),
        ["A", "B", "C"]
    );
}

#[test]
fn the_view_selects_queues_by_name_or_sid() {
    let c = Config::default();
    let records = [
        record("WQ1", "A", 0, None, 0, 0, None),
        record("WQ2", "B", 0, None, 0, 0, None),
        json!("junk"),
        json!({"no": "sid"}),
    ];
    let view = View {
        channel: None,
        queues: vec!["B".into(), "WQ1".into()],
        ..View::default()
    };
    assert_eq!(board(&records, &c, &view, NOW, true).tiles.len(), 2);
    let view = View {
        channel: None,
        queues: vec!["Z".into()],
        ..View::default()
    };
    assert!(board(&records, &c, &view, NOW, true).tiles.is_empty());
}

#[test]
fn bad_config_fields_are_named() {
    for (text, field) in [
        (r#"{"slaTarget": 1.5}"#, "slaTarget"),
        (
            r#"{"waitingTasks": {"warn": -1, "alert": 3}}"#,
            "waitingTasks.warn",
        ),
        (r#"{"ahtSeconds": 0}"#, "ahtSeconds"),
        (r#"{"kiosk": {"columns": 0}}"#, "kiosk"),
        (
            r#"{"queues": {"Sales": {"slaWarnMargin": 2}}}"#,
            "queues.Sales.slaWarnMargin",
        ),
        (r#"{"slaThresholdSeconds": "thirty"}"#, "(file)"),
    ] {
        let err = Config::parse(text).unwrap_err();
        assert_eq!(err.field, field, "{text}: {err}");
    }
    assert_eq!(
        Config::parse(include_str!("../../../assets/wallboard/config.json"))
            .unwrap()
            .limits
            .aht_seconds,
        Some(300.0)
    );
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,8}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from)
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("sid".to_string()),
                    Just("realTimeStats_all".to_string()),
                    Just("cumulativeStats_all".to_string()),
                    Just("tasksByStatus".to_string()),
                    Just("pending".to_string()),
                    Just("serviceLevel".to_string()),
                    Just("30".to_string()),
                    Just("level".to_string()),
                    Just("oldestTaskEnteredAt".to_string()),
                    Just("activityStatistics".to_string()),
                    ".{0,6}".prop_map(|s| s)
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_record_makes_a_tile_without_panicking(r in any_json(), now in any::<f64>(), connected in any::<bool>()) {
        let c = Config::default();
        let b = board(std::slice::from_ref(&r), &c, &View::default(), now, connected);
        for t in &b.tiles {
            prop_assert!(t.figures.busy <= t.figures.eligible);
            prop_assert!(t.stale || connected);
        }
        let _ = tile(&r, &c, Some("voice"), now, connected);
    }
}

#[test]
fn staffing_is_one_batch_for_every_tile_up_to_the_batch_limit() {
    assert_eq!(STAFFING_BATCH_MAX, staffing::MAX_BATCH_QUEUES);
    let c =
        Config::parse(r#"{"ahtSeconds": 300, "queues": {"Sales": {"ahtSeconds": 240}}}"#).unwrap();
    let view = View {
        channel: Some("voice".into()),
        queues: vec![],
        ..View::default()
    };
    let records = [
        record("WQ1", "Sales", 0, None, 0, 0, None),
        record("WQ2", "Support", 0, None, 0, 0, None),
    ];
    let tiles = board(&records, &c, &view, NOW, true).tiles;
    let batches = staffing_requests(&tiles, None);
    assert_eq!(batches.len(), 1);
    let body = serde_json::to_value(&batches[0]).unwrap();
    assert_eq!(
        body,
        json!({"queues": [
            {"queueSid": "WQ1", "thresholdSeconds": "30", "target": 0.8, "channel": "voice", "ahtSeconds": 240.0},
            {"queueSid": "WQ2", "thresholdSeconds": "30", "target": 0.8, "channel": "voice", "fallbackAhtSeconds": 300.0}
        ]})
    );
    let only = staffing_requests(&tiles, Some(&["WQ2".to_string()]));
    assert_eq!(only[0].queues.len(), 1);
    assert!(
        staffing_requests(&tiles, Some(&[])).is_empty(),
        "nothing changed: no request"
    );
    let many: Vec<Value> = (0..2_001)
        .map(|i| record(&format!("WQ{i}"), &format!("Q{i:04}"), 0, None, 0, 0, None))
        .collect();
    let tiles = board(&many, &c, &View::default(), NOW, true).tiles;
    let sizes: Vec<usize> = staffing_requests(&tiles, None)
        .iter()
        .map(|b| b.queues.len())
        .collect();
    assert_eq!(sizes, vec![2_000, 1]);
}

#[test]
fn asa_is_absent_while_nothing_was_accepted() {
    let c = Config::default();
    let t = tile(
        &record("WQ1", "Sales", 0, None, 0, 2, None),
        &c,
        None,
        NOW,
        true,
    );
    assert_eq!(
        t.figures.asa_seconds, None,
        "ASA of a queue with nothing accepted"
    );
    assert_eq!(summary(&[t]).figures.asa_seconds, None);
}

#[test]
fn alerts_first_orders_by_status_then_name() {
    let c = Config::default();
    let records = vec![
        record("WQ1", "Alpha", 0, None, 10, 0, Some(0.95)),
        record("WQ2", "Bravo", 7, Some(10), 10, 0, Some(0.95)), // alert: waiting 7 ≥ 6
        record("WQ3", "Charlie", 4, Some(10), 10, 0, Some(0.95)), // warn: waiting 4 ≥ 3
        record("WQ4", "Delta", 0, None, 10, 0, Some(0.5)),      // alert: SLA
    ];
    let names = |order| {
        let view = View {
            order,
            ..View::default()
        };
        board(&records, &c, &view, NOW, true)
            .tiles
            .into_iter()
            .map(|t| t.friendly_name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Order::Name), ["Alpha", "Bravo", "Charlie", "Delta"]);
    assert_eq!(names(Order::Alerts), ["Bravo", "Delta", "Charlie", "Alpha"]);
    let s = board(&records, &c, &View::default(), NOW, true).summary;
    assert_eq!((s.alerts, s.warnings, s.stale), (2, 1, 0));
}

#[test]
fn kiosk_layout_and_order_config() {
    let c = Config::default();
    assert_eq!(
        (c.kiosk.columns, c.kiosk.rows, c.kiosk.order, c.order),
        (None, None, Order::Alerts, Order::Name),
        "wallboard mode: the densest readable grid, alerts first; normal mode by name"
    );
    let c = Config::parse(r#"{"order": "alerts", "kiosk": {"columns": 4, "rows": null, "order": "name", "cycleSeconds": 60}}"#).unwrap();
    assert_eq!(
        (
            c.order,
            c.kiosk.order,
            c.kiosk.columns,
            c.kiosk.rows,
            c.kiosk.cycle_seconds
        ),
        (Order::Alerts, Order::Name, Some(4), None, 60.0)
    );
    for text in [
        r#"{"order": "loudest"}"#,
        r#"{"kiosk": {"order": 3}}"#,
        r#"{"kiosk": {"cycleSeconds": 0}}"#,
    ] {
        assert!(Config::parse(text).is_err(), "{text}");
    }
    let shipped = Config::parse(include_str!("../../../assets/wallboard/config.json")).unwrap();
    assert_eq!(shipped.kiosk.order, Order::Alerts);
}

#[test]
fn the_store_answers_only_what_changed() {
    let c = Config::default();
    let view = View::default();
    let mut store = Store::new();
    assert!(!store.set(json!({"friendlyName": "no sid"})));
    for (sid, name) in [("WQ1", "Alpha"), ("WQ2", "Bravo"), ("WQ3", "Charlie")] {
        assert!(store.set(record(sid, name, 0, None, 5, 0, Some(0.9))));
    }
    let first = store.delta(&c, &view, NOW, true);
    assert_eq!(
        first.order.as_deref(),
        Some(&["WQ1".to_string(), "WQ2".into(), "WQ3".into()][..])
    );
    assert_eq!(first.changed.len(), 3);
    assert_eq!(first.summary.queues, 3);

    let idle = store.delta(&c, &view, NOW + 1000.0, true);
    assert_eq!(
        (idle.order, idle.changed.len()),
        (None, 0),
        "nothing changed, nothing answered"
    );

    // One record changes: one tile answered; a waiting task ages: its tile is answered each second.
    store.set(record("WQ2", "Bravo", 1, Some(5), 5, 0, Some(0.9)));
    let one = store.delta(&c, &view, NOW + 1000.0, true);
    assert_eq!(one.order, None);
    assert_eq!(
        one.changed
            .iter()
            .map(|t| t.sid.as_str())
            .collect::<Vec<_>>(),
        ["WQ2"]
    );
    let ticked = store.delta(&c, &view, NOW + 2000.0, true);
    assert_eq!(
        ticked
            .changed
            .iter()
            .map(|t| t.sid.as_str())
            .collect::<Vec<_>>(),
        ["WQ2"]
    );
    assert_eq!(ticked.changed[0].figures.oldest_seconds, Some(7));

    // Alerts first: a tile turning red moves to the front, and the new order is answered.
    let alerts = View {
        order: Order::Alerts,
        ..View::default()
    };
    store.set(record("WQ3", "Charlie", 9, Some(5), 5, 0, Some(0.9)));
    let moved = store.delta(&c, &alerts, NOW + 2000.0, true);
    assert_eq!(moved.order.as_deref().map(|o| o[0].as_str()), Some("WQ3"));

    // Removed: gone from the order. Disconnected: every tile changes (stale).
    store.remove("WQ1");
    let removed = store.delta(&c, &alerts, NOW + 2000.0, true);
    assert_eq!(removed.order.map(|o| o.len()), Some(2));
    let stale = store.delta(&c, &alerts, NOW + 2000.0, false);
    assert_eq!(stale.changed.len(), 2);
    assert_eq!(stale.summary.stale, 2);
    store.redraw();
    assert_eq!(
        store.delta(&c, &alerts, NOW + 2000.0, false).changed.len(),
        2
    );
    assert_eq!(store.len(), 2);

    // A queue deselected and selected again is answered again (the page dropped its tile).
    let only = View {
        queues: vec!["WQ2".into()],
        ..alerts.clone()
    };
    assert_eq!(
        store
            .delta(&c, &only, NOW + 2000.0, false)
            .order
            .map(|o| o.len()),
        Some(1)
    );
    let back = store.delta(&c, &alerts, NOW + 2000.0, false);
    assert_eq!(
        back.changed
            .iter()
            .map(|t| t.sid.as_str())
            .collect::<Vec<_>>(),
        ["WQ3"]
    );
}
