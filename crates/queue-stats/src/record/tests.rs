use super::*;
use proptest::prelude::*;
use serde_json::json;

const WQ: &str = "WQaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-05-01T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Shaped like the `TaskQueues/{sid}/Statistics` example in Twilio's REST reference.
fn statistics(
    waiting: u32,
    accepted_below: u32,
    accepted_above: u32,
    canceled_above: u32,
    canceled_below: u32,
) -> Value {
    json!({
        "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "task_queue_sid": WQ,
        "workspace_sid": "WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "url": format!("https://taskrouter.twilio.com/v1/Workspaces/WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/TaskQueues/{WQ}/Statistics"),
        "cumulative": {
            "avg_task_acceptance_time": 12,
            "start_time": "2024-05-01T00:00:00Z",
            "end_time": "2024-05-01T15:00:00Z",
            "reservations_created": 10, "reservations_accepted": accepted_below + accepted_above,
            "reservations_rejected": 1, "reservations_timed_out": 2, "reservations_canceled": 0,
            "reservations_rescinded": 0,
            "split_by_wait_time": {
                "30": {"above": {"tasks_canceled": canceled_above, "reservations_accepted": accepted_above},
                       "below": {"tasks_canceled": canceled_below, "reservations_accepted": accepted_below}},
                "60": {"above": {"tasks_canceled": 0, "reservations_accepted": 0},
                       "below": {"tasks_canceled": canceled_below + canceled_above, "reservations_accepted": accepted_below + accepted_above}},
                "120": {"above": {"tasks_canceled": 0, "reservations_accepted": 0},
                        "below": {"tasks_canceled": 0, "reservations_accepted": 0}}
            },
            "wait_duration_until_accepted": {"avg": 12, "min": 1, "max": 40, "total": 120},
            "wait_duration_until_canceled": {"avg": 0, "min": 0, "max": 0, "total": 0},
            "wait_duration_in_queue_until_accepted": {"avg": 12, "min": 1, "max": 40, "total": 120},
            "tasks_canceled": canceled_above + canceled_below, "tasks_completed": 5, "tasks_deleted": 0,
            "tasks_entered": 12, "tasks_moved": 0
        },
        "realtime": {
            "activity_statistics": [
                {"friendly_name": "Offline", "sid": "WAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "workers": 3},
                {"friendly_name": "Available", "sid": "WAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", "workers": 2}
            ],
            "longest_task_waiting_age": if waiting > 0 { 95 } else { 0 },
            "longest_task_waiting_sid": if waiting > 0 { json!("WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") } else { Value::Null },
            "tasks_by_priority": {"0": waiting},
            "tasks_by_status": {"reserved": 0, "pending": waiting, "assigned": 1, "wrapping": 0},
            "total_available_workers": 2,
            "total_eligible_workers": 5,
            "total_tasks": waiting + 1
        }
    })
}

fn fetched(channel: &str, response: Value) -> Fetched {
    Fetched {
        channel: channel.into(),
        response: Some(response),
        error: None,
    }
}

/// [`build`] for [`queue`] at [`now`].
fn build_now(config: &Config, previous: Option<&Value>, fetched: &[Fetched]) -> Built {
    build(config, &queue(), previous, fetched, now())
}

/// A first record: on `all` and on `channel`, one task waiting and one accepted below every
/// threshold.
fn first_with(config: &Config, channel: &str) -> Built {
    let one = || statistics(1, 1, 0, 0, 0);
    build_now(
        config,
        None,
        &[fetched("all", one()), fetched(channel, one())],
    )
}

fn queue() -> QueueRef {
    QueueRef {
        sid: WQ.into(),
        friendly_name: Some("Sales".into()),
    }
}

#[test]
fn record_has_the_published_shape_and_the_additive_fields() {
    let config = Config::default();
    let s = statistics(2, 8, 1, 1, 3);
    let built = build_now(
        &config,
        None,
        &[fetched("all", s.clone()), fetched("voice", s)],
    );
    let r = &built.record;
    assert!(built.changed && built.errors.is_empty() && built.omitted.is_empty());
    assert_eq!(built.key, WQ);
    assert_eq!(r["sid"], WQ);
    assert_eq!(r["friendlyName"], "Sales");
    let rt = &r["realTimeStats_all"];
    assert_eq!(
        rt["activityStatistics"],
        json!([{"friendly_name": "Offline", "workers": 3}, {"friendly_name": "Available", "workers": 2}])
    );
    assert_eq!(rt["oldestTask"], 95);
    assert_eq!(rt["tasksByPriority"], json!({"0": 2}));
    assert_eq!(rt["tasksByStatus"]["pending"], 2);
    assert_eq!(rt["availableWorkers"], 2);
    assert_eq!(rt["eligibleWorkers"], 5);
    assert_eq!(rt["totalTasks"], 3);
    assert_eq!(rt["oldestTaskEnteredAt"], "2024-05-01T14:58:25.000Z");
    assert_eq!(r["oldestTaskEnteredAt"], "2024-05-01T14:58:25.000Z");
    let cu = &r["cumulativeStats_voice"];
    for (key, value) in [
        ("rCreated", 10),
        ("rRej", 1),
        ("rAccepted", 9),
        ("rTimedOut", 2),
        ("rCancel", 0),
        ("rRescind", 0),
        ("tCompl", 5),
        ("tMoved", 0),
        ("tEnter", 12),
        ("tCanc", 4),
        ("tDel", 0),
        ("avgTaskAcceptanceTime", 12),
    ] {
        assert_eq!(cu[key], value, "{key}");
    }
    assert_eq!(cu["waitUntilAccept"]["max"], 40);
    assert_eq!(cu["waitUntilCancel"]["total"], 0);
    assert_eq!(
        cu["splitByWaitTime"]["30"]["below"]["reservations_accepted"],
        8
    );
    // Left out to save write budget: the plugin does not read them (todayStartedAt, updatedAt).
    assert!(cu.get("startTime").is_none() && cu.get("endTime").is_none());
    // 8 / (8 + 1 + 1): the 3 short abandons count neither way.
    assert_eq!(
        cu["serviceLevel"]["30"],
        json!({"level": 0.8, "breached": false})
    );
    assert_eq!(
        cu["serviceLevel"]["60"],
        json!({"level": 1.0, "breached": false})
    );
    assert_eq!(
        cu["serviceLevel"]["120"],
        json!({"level": null, "breached": false})
    );
    assert_eq!(r["slaTarget"], 0.8);
    assert_eq!(r["updatedAt"], "2024-05-01T15:00:00.000Z");
    assert_eq!(r["todayStartedAt"], "2024-05-01T00:00:00.000Z");
    assert!(
        r.get("realTimeStats_chat").is_none(),
        "channels not refreshed and never seen are absent"
    );
    assert!(r.get("realTimeStatsMessage").is_none());
}

#[test]
fn service_level_breach() {
    let config = Config::default();
    let built = build_now(&config, None, &[fetched("all", statistics(0, 7, 2, 1, 0))]);
    assert_eq!(
        built.record["cumulativeStats_all"]["serviceLevel"]["30"],
        json!({"level": 0.7, "breached": true})
    );
    assert_eq!(
        built.record["realTimeStats_all"]["oldestTaskEnteredAt"],
        Value::Null
    );
}

#[test]
fn the_twilio_clients_camel_case_is_read_too() {
    let config = Config::default();
    let response = json!({
        "realtime": {"activityStatistics": [{"friendlyName": "Available", "workers": "4"}], "longestTaskWaitingAge": 10,
                     "longestTaskWaitingSid": "WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "tasksByPriority": {"10": "1"},
                     "tasksByStatus": {"pending": 1}, "totalAvailableWorkers": 4, "totalEligibleWorkers": 4, "totalTasks": 1},
        "cumulative": {"reservationsAccepted": 3, "tasksEntered": 4, "startTime": "2024-05-01T00:00:00.000Z"}
    });
    let built = build(&config, &queue(), None, &[fetched("all", response)], now());
    let r = &built.record;
    assert_eq!(
        r["realTimeStats_all"]["activityStatistics"],
        json!([{"friendly_name": "Available", "workers": 4}])
    );
    assert_eq!(
        r["realTimeStats_all"]["oldestTaskEnteredAt"],
        "2024-05-01T14:59:50.000Z"
    );
    assert_eq!(r["cumulativeStats_all"]["rAccepted"], 3);
    assert_eq!(r["cumulativeStats_all"]["tEnter"], 4);
    assert_eq!(r["cumulativeStats_all"]["tCompl"], 0);
}

#[test]
fn other_channels_are_kept_and_untracked_ones_dropped() {
    let config = Config::default();
    let first = first_with(&config, "chat");
    let mut previous = first.record.clone();
    previous["realTimeStats_sms"] = json!({"totalTasks": 1});
    previous["somethingElse"] = json!(true);
    let second = build(
        &config,
        &QueueRef {
            sid: WQ.into(),
            friendly_name: None,
        },
        Some(&previous),
        &[fetched("all", statistics(0, 2, 0, 0, 0))],
        now(),
    );
    let r = &second.record;
    assert_eq!(
        r["friendlyName"], "Sales",
        "the name comes from the previous record"
    );
    assert_eq!(r["realTimeStats_chat"], first.record["realTimeStats_chat"]);
    assert_eq!(r["realTimeStats_all"]["totalTasks"], 1);
    assert!(r.get("realTimeStats_sms").is_none() && r.get("somethingElse").is_none());
    assert!(second.changed);
}

#[test]
fn a_failed_call_keeps_the_previous_figures_and_says_so() {
    let config = Config::default();
    let first = first_with(&config, "voice");
    let failed = Fetched {
        channel: "voice".into(),
        response: None,
        error: Some("TaskRouter answered 500: boom".into()),
    };
    let second = build_now(
        &config,
        Some(&first.record),
        &[fetched("all", statistics(1, 1, 0, 0, 0)), failed],
    );
    assert_eq!(second.errors, ["voice: TaskRouter answered 500: boom"]);
    assert_eq!(
        second.record["realTimeStats_voice"],
        first.record["realTimeStats_voice"]
    );
    assert_eq!(
        second.record["realTimeStatsMessage"],
        "voice: TaskRouter answered 500: boom"
    );
    assert_eq!(
        second.record["cumulativeStatsMessage"],
        "voice: TaskRouter answered 500: boom"
    );
    assert!(second.changed, "the message is news");
    // A response without figures is a failure too, not a crash.
    let junk = build_now(
        &config,
        Some(&first.record),
        &[fetched("all", json!({"nope": 1}))],
    );
    assert_eq!(junk.errors.len(), 1);
    assert_eq!(
        junk.record["realTimeStats_all"],
        first.record["realTimeStats_all"]
    );
    // And the next success clears the message.
    let third = build_now(
        &config,
        Some(&second.record),
        &[fetched("voice", statistics(1, 1, 0, 0, 0))],
    );
    assert!(third.record.get("realTimeStatsMessage").is_none());
}

#[test]
fn unchanged_content_is_detected_across_clock_only_differences() {
    let config = Config::default();
    let first = build_now(&config, None, &[fetched("all", statistics(1, 1, 0, 0, 0))]);
    // One second later: the oldest task is a second older, end_time moved; nothing else did.
    let mut later = statistics(1, 1, 0, 0, 0);
    later["realtime"]["longest_task_waiting_age"] = json!(96);
    later["cumulative"]["end_time"] = json!("2024-05-01T15:00:01Z");
    let t = now() + Duration::seconds(1);
    let second = build(
        &config,
        &queue(),
        Some(&first.record),
        &[fetched("all", later)],
        t,
    );
    assert!(!second.changed, "{:#}", second.record);
    assert_eq!(second.record["updatedAt"], "2024-05-01T15:00:01.000Z");
    // A different oldest task (entered 30 s later) is a change.
    let mut other = statistics(1, 1, 0, 0, 0);
    other["realtime"]["longest_task_waiting_age"] = json!(66);
    let third = build(
        &config,
        &queue(),
        Some(&first.record),
        &[fetched("all", other)],
        t,
    );
    assert!(third.changed);
    // So is a new count.
    let fourth = build_now(
        &config,
        Some(&first.record),
        &[fetched("all", statistics(2, 1, 0, 0, 0))],
    );
    assert!(fourth.changed);
}

#[test]
fn numbers_compare_by_value() {
    // Through JavaScript, 1.0 comes back as the integer 1.
    let config = Config::default();
    let first = build_now(&config, None, &[fetched("all", statistics(0, 3, 0, 0, 0))]);
    assert_eq!(
        first.record["cumulativeStats_all"]["serviceLevel"]["30"]["level"],
        json!(1.0)
    );
    let text = serde_json::to_string(&first.record)
        .unwrap()
        .replace("\"level\":1.0", "\"level\":1");
    let roundtrip: Value = serde_json::from_str(&text).unwrap();
    assert_ne!(roundtrip, first.record);
    let again = build_now(
        &config,
        Some(&roundtrip),
        &[fetched("all", statistics(0, 3, 0, 0, 0))],
    );
    assert!(!again.changed);
}

#[test]
fn bulk_entry_replaces_all_realtime_only() {
    let config = Config::default();
    let first = first_with(&config, "voice");
    let entry = json!({"task_queue_sid": WQ, "total_available_workers": 0, "total_eligible_workers": 5, "total_tasks": 2,
        "longest_task_waiting_age": 95, "longest_task_waiting_sid": "WTaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "tasks_by_status": {"pending": 1, "assigned": 1}, "tasks_by_priority": {"0": 1},
        "activity_statistics": [{"friendly_name": "Offline", "workers": 5}, {"friendly_name": "Available", "workers": 0}]});
    let built = apply_realtime_all(
        &config,
        &QueueRef {
            sid: WQ.into(),
            friendly_name: None,
        },
        Some(&first.record),
        &entry,
        now(),
    );
    assert!(built.changed);
    assert_eq!(built.record["realTimeStats_all"]["availableWorkers"], 0);
    assert_eq!(
        built.record["cumulativeStats_all"],
        first.record["cumulativeStats_all"]
    );
    assert_eq!(
        built.record["realTimeStats_voice"],
        first.record["realTimeStats_voice"]
    );
    let again = apply_realtime_all(&config, &queue(), Some(&built.record), &entry, now());
    assert!(!again.changed);
}

#[test]
fn huge_responses_are_bounded_and_say_what_was_left_out() {
    let config = Config::default();
    let mut s = statistics(1, 1, 0, 0, 0);
    let priorities: Map<String, Value> = (0..400).map(|p| (p.to_string(), json!(p))).collect();
    s["realtime"]["tasks_by_priority"] = Value::Object(priorities);
    let all: Vec<Fetched> = config
        .all_channels()
        .iter()
        .map(|c| fetched(c, s.clone()))
        .collect();
    let built = build(&config, &queue(), None, &all, now());
    assert!(built.bytes <= RECORD_LIMIT, "{}", built.bytes);
    assert!(!built.omitted.is_empty());
    assert_eq!(built.record["omitted"], json!(built.omitted));
    assert!(built.record.get("realTimeStats_all").is_some());
    assert_eq!(
        built.omitted.first().map(String::as_str),
        Some("video"),
        "the last channel goes first"
    );
}

#[test]
fn batches_of_fifty() {
    let sids: Vec<String> = (0..120)
        .map(|i| format!("WQ{i:032x}"))
        .chain(["WQ1".to_string(), format!("WQ{:032x}", 0)])
        .collect();
    let b = batches(&sids, crate::BULK_LIMIT);
    assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
}

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,300}".prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 400, 40, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..40).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("realtime".to_string()),
                    Just("cumulative".to_string()),
                    Just("activity_statistics".to_string()),
                    Just("tasks_by_priority".to_string()),
                    Just("split_by_wait_time".to_string()),
                    Just("30".to_string()),
                    Just("below".to_string()),
                    Just("above".to_string()),
                    Just("reservations_accepted".to_string()),
                    Just("longest_task_waiting_age".to_string()),
                    Just("longest_task_waiting_sid".to_string()),
                    ".{0,12}".prop_map(|s| s)
                ],
                inner,
                0..40,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_response_gives_a_bounded_record(
        responses in prop::collection::vec(arb_json(4), 1..5),
        previous in prop::option::of(arb_json(3)),
        name in ".{0,2000}",
    ) {
        let config = Config::default();
        let fetched: Vec<Fetched> = config.all_channels().into_iter().zip(responses).map(|(c, r)| fetched(&c, r)).collect();
        let q = QueueRef { sid: WQ.into(), friendly_name: Some(name) };
        let built = build(&config, &q, previous.as_ref(), &fetched, now());
        prop_assert!(built.bytes <= RECORD_LIMIT);
        prop_assert_eq!(built.bytes, serde_json::to_string(&built.record).unwrap().len());
        prop_assert_eq!(&built.record["sid"], WQ);
        // Rebuilding from the result with the same inputs changes nothing.
        let again = build(&config, &q, Some(&built.record), &fetched, now());
        prop_assert!(!again.changed);
    }

    #[test]
    fn service_level_is_a_fraction(below in 0u32..10_000, above in 0u32..10_000, canceled in 0u32..10_000, short in 0u32..10_000) {
        let s = statistics(0, below, above, canceled, short);
        let level = service_level(&s["cumulative"]["split_by_wait_time"], 30);
        if below + above + canceled == 0 {
            prop_assert!(level.is_none());
        } else {
            let l = level.unwrap();
            prop_assert!((0.0..=1.0).contains(&l));
        }
    }
}
