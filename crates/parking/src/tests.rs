use super::*;
use proptest::prelude::*;
use serde_json::json;

const CALL: &str = "CA0123456789abcdef0123456789abcdef";
const WORKER: &str = "WK0123456789abcdef0123456789abcdef";
const WORKFLOW: &str = "WW0123456789abcdef0123456789abcdef";
const TASK: &str = "WT0123456789abcdef0123456789abcdef";
const CHANNEL: &str = "WC0123456789abcdef0123456789abcdef";
/// 2024-05-01T12:00:00.000Z
const NOW: f64 = 1_714_564_800_000.0;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn settings() -> Settings {
    Settings {
        domain_name: s("example-1234.twil.io"),
        hold_music_path: None,
    }
}

fn park_req(attributes: &str) -> ParkRequest {
    ParkRequest {
        attributes: s(attributes),
        call_sid: s(CALL),
        name: s("Ada"),
        queue_name: s("Support"),
        task_sid: s(TASK),
        worker_sid: s(WORKER),
        workflow_sid: s(WORKFLOW),
    }
}

fn pickup_req() -> PickupRequest {
    PickupRequest {
        call_sid: s(CALL),
        ..PickupRequest::default()
    }
}

/// The Global.ParkedCalls entry park would have written for `attributes`, parked at `parked_ms`.
fn entry(attributes: &str, parked_ms: f64) -> StoredItem {
    let plan = park(&park_req(attributes), &settings(), parked_ms).expect("parks");
    StoredItem {
        data: serde_json::to_value(&plan.record).expect("json"),
        revision: "0".into(),
    }
}

/// The pickup TwiML, whichever way it reaches the call (inline, or through pickup-twiml).
fn delivered_twiml(plan: &PickupPlan) -> String {
    match (&plan.call_update.twiml, &plan.pickup_item) {
        (Some(twiml), None) => twiml.clone(),
        (None, Some(item)) => {
            pickup_twiml(Some(CALL), Some(&item.data)).expect("pickup-twiml answers")
        }
        other => panic!("a pickup redirects exactly one way: {other:?}"),
    }
}

/// Reads back the text of `<Task>` (enough XML unescaping for what this crate writes).
fn task_text(twiml: &str) -> String {
    let start = twiml
        .find("<Task priority=\"1000\">")
        .map(|i| i + 22)
        .unwrap_or(0);
    let end = twiml.find("</Task>").unwrap_or(twiml.len());
    twiml
        .get(start..end)
        .unwrap_or("")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#13;", "\r")
        .replace("&amp;", "&")
}

#[test]
fn park_plans_hold_music_callback_record_and_both_entries() {
    let plan = park(
        &park_req(r#"{"conversations":{"conversation_id":"WT1"},"x":[1]}"#),
        &settings(),
        NOW,
    )
    .expect("parks");
    assert_eq!(
        plan.twiml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Play loop="99">https://example-1234.twil.io/hold_music_1.mp3</Play></Response>"#
    );
    assert_eq!(
        plan.status_callback,
        "https://example-1234.twil.io/call-status-handler#rc=3&rp=5xx,ct,rt"
    );
    assert_eq!(plan.record.date_created, "2024-05-01T12:00:00.000Z");
    let data = serde_json::to_value(&plan.record).expect("json");
    assert_eq!(
        data,
        json!({"attributes": {"conversations": {"conversation_id": "WT1"}, "x": [1]}, "callSid": CALL,
               "dateCreated": "2024-05-01T12:00:00.000Z", "name": "Ada", "queueName": "Support",
               "workerSid": WORKER, "workflowSid": WORKFLOW})
    );
    let maps: Vec<_> = plan
        .sync
        .iter()
        .map(|w| (w.map.as_str(), w.key.as_str(), w.ttl))
        .collect();
    assert_eq!(
        maps,
        vec![
            (format!("{WORKER}.ParkedCalls").as_str(), CALL, 86_400),
            ("Global.ParkedCalls", CALL, 86_400)
        ]
    );
    assert!(plan.sync.iter().all(|w| w.data == data));
}

#[test]
fn hold_music_path_is_configurable_and_encoded() {
    let mut cfg = settings();
    cfg.hold_music_path = s("/music/my tune&co.mp3");
    assert_eq!(
        hold_music_url(&cfg).expect("url"),
        "https://example-1234.twil.io/music/my%20tune%26co.mp3"
    );
    cfg.hold_music_path = s("../secret");
    assert_eq!(
        hold_music_url(&cfg).unwrap_err().parameter(),
        Some("HOLD_MUSIC_PATH")
    );
    cfg.hold_music_path = None;
    cfg.domain_name = s("evil.com/\"><x");
    let err = hold_music_url(&cfg).unwrap_err();
    assert_eq!(
        (err.parameter(), err.http_status()),
        (Some("DOMAIN_NAME"), 500)
    );
}

#[test]
fn every_missing_parameter_is_named() {
    let full = park_req("{}");
    let cases: Vec<(&str, ParkRequest)> = vec![
        (
            "attributes",
            ParkRequest {
                attributes: None,
                ..full.clone()
            },
        ),
        (
            "callSid",
            ParkRequest {
                call_sid: None,
                ..full.clone()
            },
        ),
        (
            "name",
            ParkRequest {
                name: s(""),
                ..full.clone()
            },
        ),
        (
            "queueName",
            ParkRequest {
                queue_name: None,
                ..full.clone()
            },
        ),
        (
            "taskSid",
            ParkRequest {
                task_sid: None,
                ..full.clone()
            },
        ),
        (
            "workerSid",
            ParkRequest {
                worker_sid: None,
                ..full.clone()
            },
        ),
        (
            "workflowSid",
            ParkRequest {
                workflow_sid: None,
                ..full.clone()
            },
        ),
    ];
    for (name, req) in cases {
        let err = park(&req, &settings(), NOW).unwrap_err();
        assert_eq!(
            (err.code(), err.parameter(), err.http_status()),
            ("missing_parameter", Some(name), 400)
        );
        assert!(err.to_string().contains(name));
    }
    let err = pickup_target(&PickupRequest::default()).unwrap_err();
    assert_eq!(
        (err.code(), err.parameter()),
        ("missing_parameter", Some("callSid"))
    );
    let err = pickup(&pickup_req(), None, "t", &settings(), NOW).unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("not_parked", 404));
}

#[test]
fn pickup_merges_attributes_and_escapes_everything() {
    let hostile = "<b>&amp; \"q\" 'a' ]]> é 😀 \u{FFFE} \r\n";
    let attrs = json!({"name": hostile, "custom": {"keep": true}, "conversations": {"conversation_id": "WT1", "queue": "Sales"}});
    // Parked at 11:58:45.500, picked up at 12:00:00.
    let stored = entry(&attrs.to_string(), NOW - 74_500.0);
    let plan = pickup(&pickup_req(), Some(&stored), "tok", &settings(), NOW).expect("pickup");
    assert_eq!(plan.hold_time, 74);
    assert_eq!(plan.worker_sid, WORKER);
    let expected = json!({
        "name": hostile, "custom": {"keep": true}, "autoAnswer": true, "isParkPickup": true, "targetWorker": WORKER,
        "conversations": {"conversation_id": "WT1", "queue": "Sales", "hold_time": 74, "queue_time": 0}
    });
    assert_eq!(Value::Object(plan.task_attributes.clone()), expected);
    let twiml = plan.call_update.twiml.clone().expect("inline");
    assert!(twiml.starts_with(&format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue workflowSid="{WORKFLOW}"><Task priority="1000">"#
    )));
    assert!(twiml.ends_with("</Task></Enqueue></Response>"));
    assert!(!twiml.contains("]]>"));
    let back: Value = serde_json::from_str(&task_text(&twiml)).expect("task text is JSON");
    assert_eq!(back, expected);
    let deletes: Vec<_> = plan.sync.iter().map(|d| d.map.clone()).collect();
    assert_eq!(
        deletes,
        vec![format!("{WORKER}.ParkedCalls"), GLOBAL_MAP.to_string()]
    );
    assert_eq!(plan.mark.if_match.as_deref(), Some("0"));
    assert_eq!(plan.mark.data[PICKUP_FIELD]["token"], json!("tok"));
    assert_eq!(plan.unmark.data, stored.data, "unmark restores the record");
}

#[test]
fn pickup_refuses_entries_it_must_not_touch() {
    let stored = entry("{}", NOW);
    let Value::Object(data) = &stored.data else {
        panic!()
    };
    let marked = |field: &str, token: &str, at_ms: f64| StoredItem {
        data: Value::Object(marker::with_marker(
            data,
            field,
            &Marker::new(token, time::instant(at_ms).expect("instant")),
        )),
        revision: "3".into(),
    };
    let code = |e: &StoredItem, token: &str| {
        pickup(&pickup_req(), Some(e), token, &settings(), NOW)
            .err()
            .map(|e| e.code())
    };
    assert_eq!(
        code(&marked(CLAIM_FIELD, "other", NOW), "me"),
        Some("call_ended")
    );
    assert_eq!(
        code(&marked(CLAIM_FIELD, "other", NOW - 60_000.0), "me"),
        Some("call_ended")
    );
    assert_eq!(
        code(&marked(PICKUP_FIELD, "other", NOW - 1_000.0), "me"),
        Some("pickup_in_progress")
    );
    assert_eq!(
        code(&marked(PICKUP_FIELD, "other", NOW - 11_000.0), "me"),
        None,
        "a stale pickup mark is taken over"
    );
    let junk = StoredItem {
        data: json!({"callSid": CALL}),
        revision: "1".into(),
    };
    assert_eq!(code(&junk, "me"), Some("unreadable_record"));
    let other_call = StoredItem {
        data: json!({"callSid": format!("CA{}", "f".repeat(32)), "attributes": {}, "dateCreated": "x", "workerSid": WORKER, "workflowSid": WORKFLOW}),
        revision: "1".into(),
    };
    assert_eq!(code(&other_call, "me"), Some("unreadable_record"));
}

#[test]
fn pickup_fills_name_and_queue_only_when_missing() {
    let stored = entry(r#"{"name":"","conversations":null}"#, NOW + 10_000.0);
    let plan = pickup(&pickup_req(), Some(&stored), "t", &settings(), NOW).expect("ok");
    assert_eq!(
        plan.hold_time, 0,
        "a parking time in the future counts as 0"
    );
    assert_eq!(plan.task_attributes["name"], json!("Ada"));
    assert_eq!(
        plan.task_attributes["conversations"],
        json!({"queue": "Support", "hold_time": 0, "queue_time": 0})
    );
}

#[test]
fn large_attributes_are_picked_up_through_pickup_twiml() {
    let big = json!({"blob": "x<".repeat(6 * 1024)}).to_string();
    let stored = entry(&big, NOW);
    let plan =
        pickup(&pickup_req(), Some(&stored), "t", &settings(), NOW).expect("large pickups work");
    assert_eq!(plan.call_update.twiml, None);
    assert_eq!(
        plan.call_update.url.as_deref(),
        Some("https://example-1234.twil.io/pickup-twiml")
    );
    let item = plan.pickup_item.clone().expect("pickup item");
    assert_eq!((item.map.as_str(), item.key.as_str()), (PICKUPS_MAP, CALL));
    let twiml = delivered_twiml(&plan);
    assert!(twiml.chars().count() > 4000);
    let back: Value = serde_json::from_str(&task_text(&twiml)).expect("JSON");
    assert_eq!(back["blob"], json!("x<".repeat(6 * 1024)));
    assert_eq!(
        pickup_twiml(Some(CALL), None).unwrap_err().code(),
        "not_parked"
    );
    assert_eq!(
        pickup_twiml(Some("CA1"), None).unwrap_err().parameter(),
        Some("CallSid")
    );
}

#[test]
fn oversized_attributes_fail_before_anything_happens() {
    let huge = json!({"blob": "x".repeat(17_000)}).to_string();
    assert_eq!(
        park(&park_req(&huge), &settings(), NOW).unwrap_err().code(),
        "record_too_large"
    );
}

#[test]
fn hangup_attributes_keep_the_original_and_add_the_outcome() {
    let record = ParkedCall {
        attributes: serde_json::from_value(
            json!({"from": "+1555", "conversations": {"conversation_id": "WT9"}}),
        )
        .expect("map"),
        call_sid: CALL.into(),
        date_created: "2024-05-01T11:59:00.000Z".into(),
        name: "Ada".into(),
        queue_name: "Support".into(),
        worker_sid: WORKER.into(),
        workflow_sid: WORKFLOW.into(),
    };
    let hold = hold_time(&record, NOW);
    assert_eq!(hold, 60);
    assert_eq!(
        Value::Object(hangup_task_attributes(&record, hold)),
        json!({"from": "+1555", "isParkHangup": true, "targetWorker": WORKER, "autoComplete": false, "call_sid": CALL,
               "name": "Ada", "conversations": {"conversation_id": "WT9", "outcome": "Hangup While Parked", "hold_time": 60}})
    );
}

#[test]
fn capacity_is_validated() {
    let ok = capacity(&CapacityRequest {
        capacity: s("2"),
        worker_channel_sid: s(CHANNEL),
        worker_sid: s(WORKER),
    })
    .expect("ok");
    assert_eq!(ok.capacity, 2);
    for (bad, name) in [
        ("-1", "capacity"),
        ("1.5", "capacity"),
        ("51", "capacity"),
        ("two", "capacity"),
    ] {
        let err = capacity(&CapacityRequest {
            capacity: s(bad),
            worker_channel_sid: s(CHANNEL),
            worker_sid: s(WORKER),
        })
        .unwrap_err();
        assert_eq!(err.parameter(), Some(name), "{bad}");
    }
    let err = capacity(&CapacityRequest {
        capacity: s("1"),
        worker_channel_sid: s(WORKER),
        worker_sid: s(WORKER),
    })
    .unwrap_err();
    assert_eq!(err.parameter(), Some("workerChannelSid"));
    let err = capacity(&CapacityRequest {
        capacity: s("1"),
        worker_channel_sid: s(CHANNEL),
        worker_sid: None,
    })
    .unwrap_err();
    assert_eq!(err.code(), "missing_parameter");
}

/// Strings a caller can put anywhere: markup, quotes, `]]>`, control and non-characters, emoji.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"' \\]\u{0}-\u{1f}\u{fffe}\u{ffff}\u{d7ff}\u{e000}\u{1f600}\u{2028}\u{85}a-z]{0,40}",
        Just("]]><![CDATA[</Task></Enqueue><Hangup/>".to_string()),
    ]
}

proptest! {
    #[test]
    fn pickup_twiml_carries_any_attribute_value_intact(value in hostile(), key in "[a-z\u{e9}<&\"]{1,8}", name in hostile(), queue in hostile(), pad in 0usize..15_000) {
        // Well-formed requests with hostile values, of every size park accepts.
        let attrs = json!({ key.clone(): value.clone(), "pad": "p".repeat(pad) });
        let req = ParkRequest { name: Some(format!("n{name}")), queue_name: Some(format!("q{queue}")), ..park_req(&attrs.to_string()) };
        let parked = park(&req, &settings(), NOW);
        if pad < 12_000 {
            prop_assert!(parked.is_ok(), "{:?}", parked.err());
        }
        let Ok(parked) = parked else {
            prop_assert_eq!(parked.unwrap_err().code(), "record_too_large");
            return Ok(());
        };
        let stored = StoredItem { data: serde_json::to_value(&parked.record).expect("json"), revision: "1".into() };
        // Every call park accepts can be picked up: no caller is stranded by size.
        let plan = pickup(&pickup_req(), Some(&stored), "t", &settings(), NOW + 5_000.0);
        prop_assert!(plan.is_ok(), "{:?}", plan.err());
        let plan = plan.expect("checked");
        let twiml = delivered_twiml(&plan);
        let back: Value = serde_json::from_str(&task_text(&twiml)).expect("JSON");
        prop_assert_eq!(&back[&key], &json!(value));
        prop_assert_eq!(&back["targetWorker"], &json!(WORKER));
        prop_assert!(twiml.chars().all(crate::xml::is_xml_char));
        prop_assert_eq!(twiml.matches("<Task").count(), 1);
        prop_assert_eq!(plan.call_update.twiml.is_some(), twiml.chars().count() <= 4000);
        prop_assert!(serde_json::to_string(&parked.record).expect("json").len() <= SYNC_ITEM_MAX_BYTES);
    }

    #[test]
    fn no_input_panics(attrs in any::<String>(), sid in any::<String>(), data in any::<String>(), now in any::<f64>()) {
        let req = PickupRequest { call_sid: Some(sid.clone()), ..PickupRequest::default() };
        let stored = StoredItem { data: json!({"callSid": sid.clone(), "attributes": data.clone(), "pickedUp": data.clone()}), revision: data.clone() };
        let _ = pickup(&req, Some(&stored), &data, &settings(), now);
        let _ = pickup_twiml(Some(&sid), Some(&json!({"workflowSid": data, "taskAttributes": {}})));
        let _ = park(&ParkRequest { attributes: Some(attrs), call_sid: Some(sid.clone()), ..Default::default() }, &Settings { domain_name: Some(sid.clone()), hold_music_path: Some(sid.clone()) }, now);
        let _ = capacity(&CapacityRequest { capacity: Some(sid.clone()), worker_channel_sid: Some(sid.clone()), worker_sid: Some(sid) });
    }
}
