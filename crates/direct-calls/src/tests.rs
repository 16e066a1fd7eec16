use super::*;

fn worker(sid: &str, ext: &str, available: bool) -> WorkerRow {
    WorkerRow {
        sid: sid.into(),
        friendly_name: Some(format!("{sid}@example.com")),
        activity_name: Some(if available { "Available" } else { "Offline" }.into()),
        available,
        attributes: Some(format!(
            r#"{{"directExtension":"{ext}","full_name":"Ada {sid}"}}"#
        )),
    }
}

fn input(ext: &str, workers: Vec<WorkerRow>, voice: Option<VoiceChannel>) -> AnswerInput {
    AnswerInput {
        extension: Some(ext.into()),
        workers,
        voice,
    }
}

#[test]
fn extensions_are_digits_of_bounded_length() {
    assert_eq!(parse_extension(Some(" 1234 ")), Ok("1234".into()));
    assert_eq!(parse_extension(None), Err(DirectError::MissingExtension));
    assert_eq!(
        parse_extension(Some("  ")),
        Err(DirectError::MissingExtension)
    );
    assert!(matches!(
        parse_extension(Some("12a4")),
        Err(DirectError::NotDigits { .. })
    ));
    assert!(matches!(
        parse_extension(Some("12#")),
        Err(DirectError::NotDigits { .. })
    ));
    assert!(matches!(
        parse_extension(Some("١٢٣")),
        Err(DirectError::NotDigits { .. })
    ));
    assert_eq!(parse_extension(Some("1234567890")), Ok("1234567890".into()));
    assert!(matches!(
        parse_extension(Some("12345678901")),
        Err(DirectError::TooLong { len: 11, .. })
    ));
    let long = "9".repeat(10_000);
    let err = parse_extension(Some(&long)).unwrap_err();
    assert!(
        err.to_string().len() < 200,
        "the message quotes a bounded prefix: {err}"
    );
}

#[test]
fn errors_name_the_parameter_and_status() {
    use wasm_face::FaceError;
    let e = parse_extension(Some("x")).unwrap_err();
    assert_eq!(
        (e.code(), e.status(), e.parameter()),
        ("invalid_extension", 400, Some("extension"))
    );
    let e = cache_seconds(Some("61")).unwrap_err();
    assert_eq!(
        (e.code(), e.status(), e.parameter()),
        (
            // One code for every bad environment variable (values::env::EnvError); it was
            // "invalid_configuration" here alone.
            "invalid_config",
            500,
            Some("DIRECT_EXTENSION_CACHE_SECONDS")
        )
    );
    assert_eq!(cache_seconds(None), Ok(DEFAULT_CACHE_SECONDS));
    assert_eq!(cache_seconds(Some("0")), Ok(0));
    assert!(cache_seconds(Some("-1")).is_err());
}

#[test]
fn the_plan_makes_one_read_at_most() {
    let mut p = PlanInput {
        extension: Some("1234".into()),
        ..Default::default()
    };
    assert_eq!(
        plan(&p).unwrap().read,
        Read::Workers {
            target_workers_expression: r#"directExtension == "1234""#.into(),
            page_size: 2
        }
    );
    p.directory_age_ms = Some(1000.0);
    p.directory_workers = vec!["WK1".into()];
    assert_eq!(
        plan(&p).unwrap().read,
        Read::VoiceChannel {
            worker_sid: "WK1".into()
        }
    );
    p.voice_age_ms = Some(10.0);
    assert_eq!(plan(&p).unwrap().read, Read::None);
    // A stale list is read again whatever else is cached.
    p.directory_age_ms = Some(5000.0);
    assert!(matches!(plan(&p).unwrap().read, Read::Workers { .. }));
    // No worker, or a shared extension, needs no channel.
    p.directory_age_ms = Some(0.0);
    p.directory_workers = vec![];
    p.voice_age_ms = None;
    assert_eq!(plan(&p).unwrap().read, Read::None);
    p.directory_workers = vec!["WK1".into(), "WK2".into()];
    assert_eq!(plan(&p).unwrap().read, Read::None);
    // Cache off: always the list.
    p.cache_seconds = Some("0".into());
    assert!(matches!(plan(&p).unwrap().read, Read::Workers { .. }));
    // Nonsense ages are not fresh.
    p.cache_seconds = None;
    p.directory_age_ms = Some(f64::NAN);
    assert!(matches!(plan(&p).unwrap().read, Read::Workers { .. }));
    p.directory_age_ms = Some(-5.0);
    assert!(matches!(plan(&p).unwrap().read, Read::Workers { .. }));
}

#[test]
fn a_valid_available_extension() {
    let a = answer(&input("1234", vec![worker("WK1", "1234", true)], None)).unwrap();
    assert!(a.valid && a.available && !a.capacity_checked);
    assert_eq!(a.worker_sid.as_deref(), Some("WK1"));
    assert_eq!(a.worker_name.as_deref(), Some("Ada WK1"));
    assert_eq!(a.reason, None);
}

#[test]
fn unknown_and_shared_extensions_name_nobody() {
    let a = answer(&input("1234", vec![], None)).unwrap();
    assert_eq!(
        (a.valid, a.available, a.reason),
        (false, false, Some(Reason::NotFound))
    );
    let a = answer(&input(
        "1234",
        vec![worker("WK1", "1234", true), worker("WK2", "1234", true)],
        None,
    ))
    .unwrap();
    assert_eq!((a.valid, a.reason), (false, Some(Reason::SharedExtension)));
    assert_eq!((a.worker_sid, a.worker_name), (None, None));
    // A row that does not really hold the digits (a looser match) is not an owner.
    let a = answer(&input("12", vec![worker("WK1", "1234", true)], None)).unwrap();
    assert_eq!(a.reason, Some(Reason::NotFound));
}

#[test]
fn numeric_attribute_and_missing_full_name() {
    let row = WorkerRow {
        sid: "WK9".into(),
        friendly_name: Some("bob".into()),
        available: true,
        attributes: Some(r#"{"directExtension":42}"#.into()),
        ..Default::default()
    };
    let a = answer(&input("42", vec![row], None)).unwrap();
    assert!(a.valid);
    assert_eq!(a.worker_name.as_deref(), Some("bob"));
    let broken = WorkerRow {
        sid: "WK8".into(),
        attributes: Some("{not json".into()),
        available: true,
        ..Default::default()
    };
    assert_eq!(
        answer(&input("42", vec![broken], None)).unwrap().reason,
        Some(Reason::NotFound)
    );
}

#[test]
fn offline_voice_off_and_at_capacity() {
    let a = answer(&input("1234", vec![worker("WK1", "1234", false)], None)).unwrap();
    assert_eq!(
        (a.valid, a.available, a.reason),
        (true, false, Some(Reason::Offline))
    );
    assert_eq!(a.activity_name.as_deref(), Some("Offline"));
    let full = VoiceChannel {
        worker_sid: "WK1".into(),
        configured_capacity: 1,
        assigned_tasks: 1,
        available: true,
    };
    let a = answer(&input(
        "1234",
        vec![worker("WK1", "1234", true)],
        Some(full.clone()),
    ))
    .unwrap();
    assert_eq!(
        (a.available, a.reason, a.capacity_checked),
        (false, Some(Reason::AtCapacity), true)
    );
    let room = VoiceChannel {
        configured_capacity: 2,
        ..full.clone()
    };
    assert!(
        answer(&input(
            "1234",
            vec![worker("WK1", "1234", true)],
            Some(room)
        ))
        .unwrap()
        .available
    );
    let off = VoiceChannel {
        available: false,
        configured_capacity: 2,
        ..full.clone()
    };
    assert_eq!(
        answer(&input("1234", vec![worker("WK1", "1234", true)], Some(off)))
            .unwrap()
            .reason,
        Some(Reason::VoiceUnavailable)
    );
    // Another worker's channel is ignored.
    let other = VoiceChannel {
        worker_sid: "WK2".into(),
        ..full
    };
    let a = answer(&input(
        "1234",
        vec![worker("WK1", "1234", true)],
        Some(other),
    ))
    .unwrap();
    assert!(a.available && !a.capacity_checked);
}

#[test]
fn serialized_shape_is_what_studio_reads() {
    let a = answer(&input("1234", vec![worker("WK1", "1234", false)], None)).unwrap();
    let v = serde_json::to_value(&a).unwrap();
    for key in [
        "valid",
        "extension",
        "workerSid",
        "workerName",
        "available",
        "reason",
        "activityName",
        "capacityChecked",
        "message",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!(v["reason"], "offline");
    let p = serde_json::to_value(
        plan(&PlanInput {
            extension: Some("7".into()),
            ..Default::default()
        })
        .unwrap(),
    )
    .unwrap();
    assert_eq!(p["read"]["kind"], "workers");
    assert_eq!(
        p["read"]["targetWorkersExpression"],
        "directExtension == \"7\""
    );
}

mod machines {
    use effects::{Failure, Op, Outcome, Step};
    use serde_json::json;

    use crate::machine::{resume, start, Cache, Env, Lookup, Request};

    const WS: &str = "WS0123456789abcdef0123456789abcdef";
    const ADA: &str = "WK0123456789abcdef0123456789abcdef";
    const T0: f64 = 1_714_564_800_000.0;

    fn env(seconds: &str) -> Env {
        Env {
            cache_seconds: Some(seconds.into()),
            workspace_sid: None,
            twilio_flex_workspace_sid: Some(WS.into()),
        }
    }

    fn ask(ext: &str) -> Request {
        Request {
            extension: Some(ext.into()),
        }
    }

    fn row(sid: &str) -> serde_json::Value {
        json!({"sid": sid, "friendlyName": "ada@example.com", "activityName": "Available", "available": true,
            "attributes": json!({"directExtension": "1234", "full_name": "Ada"}).to_string()})
    }

    fn failed(status: Option<u16>) -> Outcome {
        Outcome::Failed(Failure {
            status,
            message: "nope".into(),
            attempted: true,
            ..Failure::default()
        })
    }

    /// The one operation a step asks for, and its state.
    fn one(step: Step<Lookup>) -> (Lookup, Op) {
        match step {
            Step::Run { state, mut effects } if effects.len() == 1 => (state, effects.remove(0).op),
            other => panic!("not one read: {other:?}"),
        }
    }

    #[test]
    fn a_call_makes_one_read_then_the_cache_answers() {
        let mut cache = Cache::default();
        let (state, op) = one(start(&ask(" 1234 "), &env("60"), &mut cache, T0).expect("starts"));
        assert_eq!(
            serde_json::to_value(&op).expect("json"),
            json!({"kind": "listWorkersMatching", "workspaceSid": WS,
                "targetWorkersExpression": "directExtension == \"1234\"", "pageSize": 2, "limit": 2})
        );
        let state: Lookup =
            serde_json::from_value(serde_json::to_value(&state).expect("json")).expect("back");
        let first = resume(
            state,
            Outcome::Done(json!([row(ADA)])),
            &mut cache,
            T0 + 5.0,
        );
        let a = first.as_answer().expect("answers");
        assert_eq!(
            (
                a.status,
                a.body["workerSid"].clone(),
                a.body["capacityChecked"].clone()
            ),
            (200, json!(ADA), json!(false))
        );
        // Then the voice channel.
        let (state, op) =
            one(start(&ask("1234"), &env("60"), &mut cache, T0 + 10.0).expect("starts"));
        assert!(
            matches!(&op, Op::FetchWorkerChannel { worker_sid, worker_channel_sid, .. } if worker_sid == ADA && worker_channel_sid == "voice")
        );
        let busy = json!({"configuredCapacity": 1, "assignedTasks": 1, "available": true});
        let second = resume(state, Outcome::Done(busy), &mut cache, T0 + 11.0);
        let a = second.as_answer().expect("answers");
        assert_eq!(
            (a.body["reason"].clone(), a.body["capacityChecked"].clone()),
            (json!("at_capacity"), json!(true))
        );
        // Then nothing.
        let third = start(&ask("1234"), &env("60"), &mut cache, T0 + 20.0).expect("starts");
        assert_eq!(
            third.as_answer().map(|a| a.body["reason"].clone()),
            Some(json!("at_capacity"))
        );
        // Past the cache: the list again.
        let (_, op) =
            one(start(&ask("1234"), &env("60"), &mut cache, T0 + 61_000.0).expect("starts"));
        assert!(matches!(op, Op::ListWorkersMatching { .. }));
    }

    #[test]
    fn failures_and_a_deleted_worker() {
        let mut cache = Cache::default();
        let (state, _) = one(start(&ask("1234"), &env("60"), &mut cache, T0).expect("starts"));
        let a = resume(state, failed(Some(503)), &mut cache, T0);
        assert_eq!(a.as_answer().map(|a| a.status), Some(502));
        assert!(cache.directory.is_empty(), "a failed read is not kept");
        let (state, _) = one(start(&ask("1234"), &env("60"), &mut cache, T0).expect("starts"));
        let _ = resume(state, Outcome::Done(json!([row(ADA)])), &mut cache, T0);
        let (state, _) =
            one(start(&ask("1234"), &env("60"), &mut cache, T0 + 1.0).expect("starts"));
        let gone = resume(state, failed(Some(404)), &mut cache, T0 + 1.0);
        let a = gone.as_answer().expect("answers");
        assert_eq!(
            (a.status, a.body["valid"].clone(), a.body["reason"].clone()),
            (200, json!(false), json!("not_found"))
        );
        let (state, _) =
            one(start(&ask("1234"), &env("60"), &mut cache, T0 + 61_000.0).expect("starts"));
        let unsent = Outcome::Failed(Failure {
            attempted: false,
            message: "deadline".into(),
            ..Failure::default()
        });
        assert_eq!(
            resume(state, unsent, &mut cache, T0)
                .as_answer()
                .map(|a| a.status),
            Some(504)
        );
        // Bad digits and a missing workspace are refused before any read.
        assert!(start(&ask("12a"), &env("60"), &mut cache, T0).is_err());
        let none = Env {
            twilio_flex_workspace_sid: None,
            ..env("5")
        };
        let err = start(&ask("999"), &none, &mut Cache::default(), T0).expect_err("refused");
        assert_eq!(wasm_face::FaceError::parameter(&err), Some("WORKSPACE_SID"));
        // The workspace under either name; two different values are refused, not guessed.
        let alias = Env {
            workspace_sid: Some(WS.into()),
            ..env("5")
        };
        assert!(
            start(&ask("999"), &alias, &mut Cache::default(), T0).is_ok(),
            "the same value twice"
        );
        let two = Env {
            workspace_sid: Some("WS1".into()),
            ..env("5")
        };
        let err = start(&ask("999"), &two, &mut Cache::default(), T0).expect_err("refused");
        assert_eq!(wasm_face::FaceError::code(&err), "invalid_config");
        assert!(
            err.to_string().contains("TWILIO_FLEX_WORKSPACE_SID"),
            "{err}"
        );
    }

    #[test]
    fn the_cache_stays_bounded() {
        let mut cache = Cache::default();
        for i in 0..1200 {
            cache.directory.insert(format!("{i}"), (T0, Vec::new()));
        }
        let _ = start(&ask("1"), &env("5"), &mut cache, T0 + 120_000.0);
        assert!(cache.directory.len() <= 1, "old entries dropped past 1,000");
    }
}
