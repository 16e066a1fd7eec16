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

fn pickup_req(attributes: &str, date_created: &str) -> PickupRequest {
    PickupRequest {
        attributes: s(attributes),
        call_sid: s(CALL),
        date_created: s(date_created),
        name: s("Ada"),
        queue_name: s("Support"),
        worker_sid: s(WORKER),
        workflow_sid: s(WORKFLOW),
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
        "https://example-1234.twil.io/call-status-handler"
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
    let err = pickup(
        &PickupRequest {
            date_created: None,
            ..pickup_req("{}", "x")
        },
        NOW,
    )
    .unwrap_err();
    assert_eq!(err.parameter(), Some("dateCreated"));
    let err = pickup(&pickup_req("{}", "last tuesday"), NOW).unwrap_err();
    assert_eq!(
        (err.code(), err.parameter()),
        ("invalid_parameter", Some("dateCreated"))
    );
}

#[test]
fn pickup_merges_attributes_and_escapes_everything() {
    let hostile = "<b>&amp; \"q\" 'a' ]]> é 😀 \u{FFFE} \r\n";
    let attrs = json!({"name": hostile, "custom": {"keep": true}, "conversations": {"conversation_id": "WT1", "queue": "Sales"}});
    let plan = pickup(
        &pickup_req(&attrs.to_string(), "2024-05-01T11:58:45.500Z"),
        NOW,
    )
    .expect("pickup");
    assert_eq!(plan.hold_time, 74);
    let expected = json!({
        "name": hostile, "custom": {"keep": true}, "autoAnswer": true, "isParkPickup": true, "targetWorker": WORKER,
        "conversations": {"conversation_id": "WT1", "queue": "Sales", "hold_time": 74, "queue_time": 0}
    });
    assert_eq!(Value::Object(plan.task_attributes.clone()), expected);
    assert!(plan.twiml.starts_with(&format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Enqueue workflowSid="{WORKFLOW}"><Task priority="1000">"#
    )));
    assert!(plan.twiml.ends_with("</Task></Enqueue></Response>"));
    assert!(!plan.twiml.contains("]]>"));
    let back: Value = serde_json::from_str(&task_text(&plan.twiml)).expect("task text is JSON");
    assert_eq!(back, expected);
    let deletes: Vec<_> = plan.sync.iter().map(|d| d.map.clone()).collect();
    assert_eq!(
        deletes,
        vec![format!("{WORKER}.ParkedCalls"), GLOBAL_MAP.to_string()]
    );
}

#[test]
fn pickup_fills_name_and_queue_only_when_missing() {
    let plan = pickup(
        &pickup_req(
            r#"{"name":"","conversations":null}"#,
            "2024-05-01T12:00:10Z",
        ),
        NOW,
    )
    .expect("ok");
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
fn oversized_attributes_fail_before_anything_happens() {
    let big = json!({"blob": "x".repeat(5000)}).to_string();
    let err = pickup(&pickup_req(&big, "2024-05-01T12:00:00Z"), NOW).unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("twiml_too_long", 413));
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

proptest! {
    #[test]
    fn pickup_twiml_carries_any_attribute_value_intact(value in any::<String>(), key in "[a-z\u{e9}<&\"]{1,8}") {
        let attrs = json!({ key.clone(): value.clone() });
        if let Ok(plan) = pickup(&pickup_req(&attrs.to_string(), "2024-05-01T12:00:00Z"), NOW) {
            let back: Value = serde_json::from_str(&task_text(&plan.twiml)).expect("JSON");
            prop_assert_eq!(&back[&key], &json!(value));
            prop_assert!(plan.twiml.chars().all(crate::xml::is_xml_char));
            prop_assert_eq!(plan.twiml.matches("<Task").count(), 1);
        }
    }

    #[test]
    fn no_input_panics(attrs in any::<String>(), sid in any::<String>(), date in any::<String>(), now in any::<f64>()) {
        let req = PickupRequest { attributes: Some(attrs.clone()), call_sid: Some(sid.clone()), date_created: Some(date),
            name: Some(sid.clone()), queue_name: None, worker_sid: Some(sid.clone()), workflow_sid: Some(sid.clone()) };
        let _ = pickup(&req, now);
        let _ = park(&ParkRequest { attributes: Some(attrs), call_sid: Some(sid.clone()), ..Default::default() }, &Settings { domain_name: Some(sid.clone()), hold_music_path: Some(sid.clone()) }, now);
        let _ = capacity(&CapacityRequest { capacity: Some(sid.clone()), worker_channel_sid: Some(sid.clone()), worker_sid: Some(sid) });
    }
}
