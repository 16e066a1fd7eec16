use proptest::prelude::*;
use serde_json::json;

use super::*;

const ALICE: &str = "WKaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const BOB: &str = "WKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

fn token(worker: Option<&str>, roles: &[&str]) -> Credential {
    Credential::Flex {
        iam: Some(IamAnswer {
            valid: true,
            message: None,
            identity: Some("alice@example.com".into()),
            worker_sid: worker.map(String::from),
            roles: Some(roles.iter().map(|r| r.to_string()).collect()),
        }),
    }
}

fn act_for(worker: &str) -> Access {
    Access::ActFor {
        worker_sid: Some(worker.into()),
    }
}

fn keyed() -> Settings {
    Settings {
        wallboard_key: Some(KEY.into()),
    }
}

fn code(r: Result<Grant, AuthError>) -> &'static str {
    r.map(|_| "ok").unwrap_or_else(|e| e.code())
}

#[test]
fn an_agent_acts_for_their_own_worker_only() {
    let s = Settings::default();
    let grant = authorize(&token(Some(ALICE), &["agent"]), &act_for(ALICE), &s).unwrap();
    assert_eq!(grant.worker_sid.as_deref(), Some(ALICE));
    assert!(!grant.supervisor);

    let err = authorize(&token(Some(ALICE), &["agent"]), &act_for(BOB), &s).unwrap_err();
    assert_eq!((err.code(), err.status()), ("wrong_worker", 403));
    let message = err.to_string();
    assert!(
        message.contains(ALICE) && message.contains(BOB),
        "{message}"
    );
}

#[test]
fn supervisors_and_admins_act_for_anyone() {
    for role in ["supervisor", "admin", " Admin "] {
        let grant = authorize(
            &token(Some(ALICE), &["agent", role]),
            &act_for(BOB),
            &Settings::default(),
        );
        assert!(grant.unwrap().supervisor, "{role}");
    }
}

#[test]
fn a_token_must_be_present_valid_and_a_workers() {
    let s = Settings::default();
    let none = Credential::Flex { iam: None };
    assert_eq!(
        code(authorize(
            &none,
            &Access::AnyWorker {
                wallboard_key: false
            },
            &s
        )),
        "missing_token"
    );

    let invalid = Credential::Flex {
        iam: Some(IamAnswer {
            valid: false,
            message: Some("Access Token expired".into()),
            ..IamAnswer::default()
        }),
    };
    let err = authorize(
        &invalid,
        &Access::AnyWorker {
            wallboard_key: false,
        },
        &s,
    )
    .unwrap_err();
    assert_eq!((err.code(), err.status()), ("invalid_token", 403));
    assert!(err.to_string().contains("Access Token expired"));

    // An admin who is not a worker still acts on nothing.
    let err = authorize(&token(None, &["admin"]), &act_for(BOB), &s).unwrap_err();
    assert_eq!(err.code(), "not_a_worker");
    assert!(err.to_string().contains("alice@example.com"));
    assert_eq!(
        code(authorize(
            &token(Some("  "), &["admin"]),
            &Access::Supervise {
                wallboard_key: false
            },
            &s
        )),
        "not_a_worker"
    );
}

#[test]
fn the_worker_asked_for_must_be_a_worker_sid() {
    let s = Settings::default();
    let cred = token(Some(ALICE), &["admin"]);
    let missing = authorize(&cred, &Access::ActFor { worker_sid: None }, &s).unwrap_err();
    assert_eq!(
        (missing.code(), missing.status(), missing.parameter()),
        ("missing_parameter", 400, Some("workerSid"))
    );
    let bad = authorize(&cred, &act_for("WK123"), &s).unwrap_err();
    assert_eq!((bad.code(), bad.status()), ("invalid_parameter", 400));
}

#[test]
fn supervisor_screens_need_supervisor_or_admin() {
    let s = Settings::default();
    let access = Access::Supervise {
        wallboard_key: true,
    };
    let err = authorize(&token(Some(ALICE), &["agent"]), &access, &s).unwrap_err();
    assert_eq!((err.code(), err.status()), ("role_required", 403));
    assert!(err.to_string().contains("supervisor or admin") && err.to_string().contains("agent"));
    assert_eq!(
        code(authorize(&token(Some(ALICE), &["supervisor"]), &access, &s)),
        "ok"
    );
}

#[test]
fn schedule_writes_need_a_configured_role_admin_by_default() {
    let s = Settings::default();
    let default = Access::Roles {
        roles: None,
        purpose: "editing schedules".into(),
    };
    assert_eq!(
        code(authorize(&token(Some(ALICE), &["admin"]), &default, &s)),
        "ok"
    );
    let err = authorize(&token(Some(ALICE), &["supervisor"]), &default, &s).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Forbidden: editing schedules needs the role admin; this token has supervisor"
    );

    let configured = Access::Roles {
        roles: Some(" supervisor , admin,".into()),
        purpose: "editing schedules".into(),
    };
    assert_eq!(
        code(authorize(
            &token(Some(ALICE), &["supervisor"]),
            &configured,
            &s
        )),
        "ok"
    );
    assert_eq!(
        code(authorize(&token(Some(ALICE), &[]), &configured, &s)),
        "role_required"
    );
}

#[test]
fn a_wallboard_key_reads_only_where_allowed() {
    let key = Credential::WallboardKey { key: KEY.into() };
    let grant = authorize(
        &key,
        &Access::Supervise {
            wallboard_key: true,
        },
        &keyed(),
    )
    .unwrap();
    assert_eq!((grant.via, grant.worker_sid), ("wallboardKey", None));
    assert_eq!(
        code(authorize(
            &key,
            &Access::AnyWorker {
                wallboard_key: true
            },
            &keyed()
        )),
        "ok"
    );
    for access in [
        Access::Supervise {
            wallboard_key: false,
        },
        act_for(ALICE),
        Access::Roles {
            roles: None,
            purpose: "x".into(),
        },
    ] {
        assert_eq!(
            code(authorize(&key, &access, &keyed())),
            "wallboard_key_not_accepted"
        );
    }
}

#[test]
fn a_wallboard_key_must_match_a_long_configured_key() {
    let access = Access::Supervise {
        wallboard_key: true,
    };
    let key = |k: &str| Credential::WallboardKey { key: k.into() };
    assert_eq!(
        code(authorize(&key(KEY), &access, &Settings::default())),
        "wrong_wallboard_key"
    );
    assert_eq!(
        code(authorize(&key(""), &access, &keyed())),
        "wrong_wallboard_key"
    );
    assert_eq!(
        code(authorize(&key(&KEY[..KEY.len() - 1]), &access, &keyed())),
        "wrong_wallboard_key"
    );
}

#[test]
fn a_request_learns_nothing_about_the_configured_key() {
    let access = Access::Supervise {
        wallboard_key: true,
    };
    let key = |k: &str| Credential::WallboardKey { key: k.into() };
    let configured = |k: Option<&str>| Settings {
        wallboard_key: k.map(str::to_string),
    };
    // Wrong key, no key configured, a key too short (even presented exactly): one answer.
    let answers: Vec<(u16, &str, Option<String>, String)> = [
        (key("guess"), configured(Some(KEY))),
        (key("guess"), configured(None)),
        (key("short"), configured(Some("short"))),
        (key("guess"), configured(Some("short"))),
        (key(&"x".repeat(31)), configured(Some(&"x".repeat(31)))),
    ]
    .iter()
    .map(|(k, s)| {
        let err = authorize(k, &access, s).unwrap_err();
        (
            err.status(),
            err.code(),
            err.parameter().map(str::to_string),
            err.to_string(),
        )
    })
    .collect();
    for a in &answers {
        assert_eq!(a, &answers[0]);
    }
    assert_eq!((answers[0].0, answers[0].1), (403, "wrong_wallboard_key"));
    assert!(!answers[0].3.contains("WALLBOARD_KEY") && !answers[0].3.contains("31"));
    // The operator's log says what is wrong.
    let short = wallboard_key_problem(&configured(Some("short"))).expect("a problem");
    assert!(
        short.contains("5 characters") && short.contains("32"),
        "{short}"
    );
    assert!(wallboard_key_problem(&configured(None))
        .expect("a problem")
        .contains("not set"));
    assert_eq!(wallboard_key_problem(&configured(Some(KEY))), None);
    // A usable key still works.
    assert!(authorize(&key(KEY), &access, &configured(Some(KEY))).is_ok());
}

#[test]
fn the_face_reads_the_shapes_the_shims_send() {
    let credential: Credential = serde_json::from_value(json!({
        "kind": "flex",
        "iam": {"valid": true, "code": 0, "identity": "a", "worker_sid": ALICE, "roles": ["agent"], "expiration": "x"}
    }))
    .unwrap();
    let access: Access =
        serde_json::from_value(json!({"kind": "actFor", "workerSid": ALICE})).unwrap();
    let settings: Settings = serde_json::from_value(json!({"wallboardKey": null})).unwrap();
    assert_eq!(code(authorize(&credential, &access, &settings)), "ok");
    let access: Access =
        serde_json::from_value(json!({"kind": "supervise", "wallboardKey": true})).unwrap();
    assert_eq!(
        access,
        Access::Supervise {
            wallboard_key: true
        }
    );
    let access: Access = serde_json::from_value(json!({"kind": "roles", "purpose": "p"})).unwrap();
    assert_eq!(
        access,
        Access::Roles {
            roles: None,
            purpose: "p".into()
        }
    );
}

proptest! {
    // Whatever IAM says and whatever is asked for, an agent never gets another worker.
    #[test]
    fn an_agent_never_acts_for_another_worker(
        roles in proptest::collection::vec("[a-z ]{0,12}", 0..4),
        own in "WK[0-9a-f]{32}",
        other in "WK[0-9a-f]{32}",
    ) {
        let supervising = roles.iter().any(|r| ["supervisor", "admin"].contains(&r.trim()));
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let result = authorize(&token(Some(&own), &roles), &act_for(&other), &Settings::default());
        prop_assert_eq!(result.is_ok(), own == other || supervising);
    }

    #[test]
    fn keys_match_exactly(given in ".{0,48}") {
        let result = authorize(
            &Credential::WallboardKey { key: given.clone() },
            &Access::Supervise { wallboard_key: true },
            &keyed(),
        );
        prop_assert_eq!(result.is_ok(), given.trim() == KEY);
    }

    #[test]
    fn constant_time_eq_is_eq(a in proptest::collection::vec(any::<u8>(), 0..40), b in proptest::collection::vec(any::<u8>(), 0..40)) {
        prop_assert_eq!(constant_time_eq(&a, &b), a == b);
    }
}

#[test]
fn the_wallboard_sync_token_names_who_and_lasts_as_configured() {
    let key = authorize(
        &Credential::WallboardKey { key: KEY.into() },
        &Access::Supervise {
            wallboard_key: true,
        },
        &keyed(),
    )
    .unwrap();
    let plan = wallboard_sync_token(&key, None).unwrap();
    assert_eq!(
        (plan.identity, plan.viewer.as_str(), plan.ttl_seconds),
        ("wallboard-reader", "wallboard-key", 3600)
    );
    assert_eq!(
        plan.permission,
        SyncPermission {
            read: true,
            write: false,
            manage: false
        }
    );
    let sup = authorize(
        &token(Some(ALICE), &["supervisor"]),
        &Access::Supervise {
            wallboard_key: true,
        },
        &keyed(),
    )
    .unwrap();
    let plan = wallboard_sync_token(&sup, Some(" 600 ")).unwrap();
    assert_eq!(
        (plan.identity, plan.viewer.as_str()),
        ("wallboard-reader", "alice@example.com")
    );
    assert_eq!(
        wallboard_sync_token(&sup, Some("")).unwrap().ttl_seconds,
        3600
    );
    for bad in ["4", "86401", "1.5", "-1", "hour"] {
        let err = wallboard_sync_token(&sup, Some(bad)).unwrap_err();
        assert_eq!(
            (err.status(), err.parameter()),
            (500, Some("WALLBOARD_TOKEN_TTL")),
            "{bad}"
        );
    }
}

#[test]
fn a_token_from_the_url_is_refused_for_every_access() {
    let credential: Credential =
        serde_json::from_value(json!({"kind": "flexTokenInUrl"})).expect("shape");
    for access in [
        Access::AnyWorker {
            wallboard_key: true,
        },
        Access::Supervise {
            wallboard_key: true,
        },
        Access::ActFor {
            worker_sid: Some(ALICE.into()),
        },
    ] {
        let err = authorize(&credential, &access, &Settings::default()).unwrap_err();
        assert_eq!(
            (err.status(), err.code(), err.parameter()),
            (400, "token_in_url", Some("Token"))
        );
        assert!(err.to_string().contains("Authorization: Bearer"));
    }
}

fn iam(outcome: serde_json::Value) -> Result<IamAnswer, AuthError> {
    iam_verdict(serde_json::from_value(outcome).expect("an executor outcome"))
}

fn answered(status: u16, body: serde_json::Value) -> Result<IamAnswer, AuthError> {
    iam(json!({"ok": true, "value": {"status": status, "body": body}}))
}

#[test]
fn iams_verdict_is_the_body_whatever_the_status() {
    let ok = answered(
        200,
        json!({"valid": true, "identity": "ada", "worker_sid": "WK1", "roles": ["admin"],
            "realm_user_id": "US1", "code": 0}),
    )
    .expect("a verdict");
    assert!(ok.valid);
    assert_eq!(ok.worker_sid.as_deref(), Some("WK1"));
    assert_eq!(ok.roles, Some(vec!["admin".to_string()]));
    for status in [200, 400, 401] {
        let bad = answered(
            status,
            json!({"valid": false, "message": "Access Token expired", "code": 20104}),
        )
        .expect("a verdict");
        assert!(!bad.valid && bad.message.as_deref() == Some("Access Token expired"));
    }
    // A token IAM refused is refused by the rule: 403 invalid_token naming IAM's reason.
    let bad = answered(
        200,
        json!({"valid": false, "message": "Invalid Access Token"}),
    )
    .expect("verdict");
    let refused = authorize(
        &Credential::Flex { iam: Some(bad) },
        &Access::AnyWorker {
            wallboard_key: false,
        },
        &Settings::default(),
    )
    .expect_err("refused");
    assert_eq!((refused.code(), refused.status()), ("invalid_token", 403));
    for (status, body, says) in [
        (200, json!({"valid": "yes"}), "without a verdict"),
        (200, json!("text"), "without a verdict"),
        (500, json!(null), "HTTP 500 without JSON"),
        (
            500,
            json!({"code": 20500, "message": "oops"}),
            "HTTP 500 without a verdict",
        ),
    ] {
        let e = answered(status, body.clone()).expect_err("no verdict");
        assert_eq!((e.code(), e.status()), ("iam_failed", 502), "{body}");
        assert!(e.to_string().contains(says), "{e}");
    }
    assert!(iam(json!({"ok": true})).is_err(), "no answer at all");
}

#[test]
fn a_rest_refusal_is_the_tokens_fault_unless_it_is_ours() {
    for status in [401, 403] {
        let a = answered(
            status,
            json!({"code": 20101, "message": "Invalid Access Token"}),
        )
        .expect("the token's fault");
        assert!(!a.valid);
        assert_eq!(
            a.message.as_deref(),
            Some("Invalid Access Token (code 20101)")
        );
        let e = answered(status, json!({"code": 20003, "message": "Authenticate"}))
            .expect_err("our credentials");
        assert_eq!((e.code(), e.status()), ("iam_credentials", 500));
        assert!(e.to_string().contains("ACCOUNT_SID and AUTH_TOKEN"));
        let plain = answered(status, json!(null)).expect("a refusal");
        assert_eq!(plain.message, Some(format!("IAM answered HTTP {status}")));
    }
    let cases = [
        (
            json!({"ok": false, "status": 429, "code": 20429, "message": "Too many"}),
            502,
        ),
        (json!({"ok": false, "message": "socket hang up"}), 502),
        (
            json!({"ok": false, "attempted": false, "message": "Ran out of time"}),
            504,
        ),
    ];
    for (outcome, status) in cases {
        let e = iam(outcome.clone()).expect_err("no verdict");
        assert_eq!(e.status(), status, "{outcome}");
    }
}

proptest! {
    #[test]
    fn any_outcome_reads_without_a_panic(ok in any::<bool>(), status in any::<u16>(), code in any::<Option<u32>>(), valid in any::<Option<bool>>(), text in ".*") {
        let outcome = json!({"ok": ok, "status": status, "message": text,
            "value": {"status": status, "body": {"valid": valid, "code": code, "message": text}}});
        if let Ok(o) = serde_json::from_value::<IamOutcome>(outcome) {
            let _ = iam_verdict(o);
        }
    }
}

fn request(
    token: Option<&str>,
    content_type: Option<&str>,
    authorization: Option<&str>,
) -> Request {
    Request {
        token: token.map(String::from),
        content_type: content_type.map(String::from),
        authorization: authorization.map(String::from),
    }
}

#[test]
fn a_token_without_a_parsed_body_came_from_the_url_and_is_refused() {
    let form = Some("application/x-www-form-urlencoded");
    assert_eq!(
        presented(&request(Some("t"), None, None)),
        Presented::FlexTokenInUrl
    );
    assert_eq!(
        presented(&request(Some("t"), Some("text/plain"), Some("Bearer b"))),
        Presented::FlexTokenInUrl,
        "a token in the URL is refused even beside a good header"
    );
    assert_eq!(
        presented(&request(Some("t"), Some("application/jsonx"), None)),
        Presented::FlexTokenInUrl
    );
    for body in [form, Some(" Application/JSON; charset=utf-8")] {
        assert_eq!(
            presented(&request(Some(" t "), body, None)),
            Presented::Flex { token: "t".into() }
        );
    }
}

#[test]
fn the_authorization_header_wins_over_the_body_token() {
    let json = Some("application/json");
    assert_eq!(
        presented(&request(Some("body"), json, Some("Wallboard  k e y "))),
        Presented::WallboardKey {
            key: "k e y".into()
        }
    );
    assert_eq!(
        presented(&request(Some("body"), json, Some("bearer tok"))),
        Presented::Flex {
            token: "tok".into()
        }
    );
    // An unknown scheme, or a scheme without a value, leaves the body's token.
    for header in ["Basic abc", "Wallboard", "Bearer   ", ""] {
        assert_eq!(
            presented(&request(Some("body"), json, Some(header))),
            Presented::Flex {
                token: "body".into()
            },
            "{header:?}"
        );
    }
    assert_eq!(
        presented(&request(None, None, None)),
        Presented::Flex {
            token: String::new()
        }
    );
}

/// A step through JSON as the executor carries it: `{state, run}` or `{answer}`.
fn wire(step: &Identify) -> serde_json::Value {
    serde_json::to_value(step).expect("a step serializes")
}

/// The identify machine run against an executor that gives `outcome` for its effect: the step
/// goes through JSON both ways, as in `common/effects`' `run`.
fn identified(request: &Request, outcome: serde_json::Value) -> Result<Credential, AuthError> {
    let step = wire(&start_identify(request));
    let answer = if step.get("run").is_some() {
        let state: Pending = serde_json::from_value(step["state"].clone()).expect("its state");
        let outcomes = serde_json::from_value(json!([outcome])).expect("an executor outcome");
        wire(&resume_identify(state, outcomes)?)["answer"].clone()
    } else {
        step["answer"].clone()
    };
    Ok(serde_json::from_value(answer).expect("the answer reads back as a credential"))
}

#[test]
fn identify_answers_at_once_when_there_is_nothing_to_ask_iam() {
    let json = Some("application/json");
    let cases = [
        (
            request(None, None, None),
            json!({"kind": "flex", "iam": null}),
        ),
        (
            request(None, None, Some("Wallboard k")),
            json!({"kind": "wallboardKey", "key": "k"}),
        ),
        (
            request(Some("t"), None, Some("Bearer b")),
            json!({"kind": "flexTokenInUrl"}),
        ),
        (
            request(Some("  "), json, None),
            json!({"kind": "flex", "iam": null}),
        ),
    ];
    for (req, want) in cases {
        assert_eq!(
            wire(&start_identify(&req)),
            json!({ "answer": want }),
            "{req:?}"
        );
    }
}

#[test]
fn identify_asks_iam_once_with_retries_and_answers_its_verdict() {
    let json = Some("application/json");
    let mut step = wire(&start_identify(&request(
        Some("body"),
        json,
        Some("Bearer tok"),
    )));
    // How the executor makes the request is effects' (`Op::call`, tested there): IAM's host.
    let call = step["run"][0]
        .as_object_mut()
        .and_then(|e| e.remove("call"));
    assert!(call.is_some_and(|c| c["raw"]["product"] == "iam"));
    assert_eq!(
        step,
        json!({"state": {"stage": "iamVerdict"},
               "run": [{"op": {"kind": "validateFlexToken", "token": "tok"}, "retry": true}]})
    );
    assert!(
        !step["state"].to_string().contains("tok"),
        "the state carries no token"
    );
    let valid = json!({"ok": true, "value": {"status": 200, "body":
        {"valid": true, "identity": "ada", "worker_sid": ALICE, "roles": ["agent"]}}});
    let credential = identified(&request(Some("t"), json, None), valid).unwrap();
    let Credential::Flex { iam: Some(iam) } = &credential else {
        panic!("a Flex credential with IAM's answer: {credential:?}");
    };
    assert_eq!(
        (
            iam.valid,
            iam.identity.as_deref(),
            iam.worker_sid.as_deref()
        ),
        (true, Some("ada"), Some(ALICE))
    );
    let access = act_for(ALICE);
    assert_eq!(
        code(authorize(&credential, &access, &Settings::default())),
        "ok"
    );
    // A bad token is a verdict: the rule refuses it (403), identify does not.
    let invalid = json!({"ok": true, "value": {"status": 200, "body": {"valid": false, "message": "expired"}}});
    let credential = identified(&request(Some("t"), json, None), invalid).unwrap();
    assert_eq!(
        code(authorize(&credential, &access, &Settings::default())),
        "invalid_token"
    );
}

#[test]
fn identify_throws_when_iam_gives_no_verdict() {
    let json = Some("application/json");
    let cases = [
        (
            json!({"ok": true, "value": {"status": 401, "body": {"code": 20003, "message": "Authenticate"}}}),
            (500, "iam_credentials"),
        ),
        (
            json!({"ok": false, "attempted": true, "status": 503, "message": "busy"}),
            (502, "iam_failed"),
        ),
        (
            json!({"ok": false, "attempted": false, "message": "deadline"}),
            (504, "deadline"),
        ),
    ];
    for (outcome, want) in cases {
        let err = identified(&request(Some("t"), json, None), outcome).unwrap_err();
        assert_eq!((err.status(), err.code()), want);
    }
    // Outcomes the step did not ask for: a 500 saying so, never a credential.
    let never = json!({"ok": false, "attempted": false, "message": "m"});
    for outcomes in [json!([]), json!([never, never])] {
        let outcomes = serde_json::from_value(outcomes).expect("executor outcomes");
        let err = resume_identify(Pending::IamVerdict, outcomes).unwrap_err();
        assert_eq!((err.status(), err.code()), (500, "invalid_state"));
        assert!(err.to_string().contains("validateFlexToken"), "{err}");
    }
    assert!(serde_json::from_value::<Pending>(json!({"stage": "park"})).is_err());
}

#[test]
fn only_a_refused_wallboard_key_logs_what_is_wrong_with_the_configured_key() {
    let configured = |k: Option<&str>| Settings {
        wallboard_key: k.map(str::to_string),
    };
    let refused = |s: &Settings| {
        let err = authorize(
            &Credential::WallboardKey {
                key: "guess".into(),
            },
            &BOARD_ACCESS,
            s,
        )
        .unwrap_err();
        refusal_log(Some(err.code()), s)
    };
    let short = refused(&configured(Some("short"))).expect("a line");
    assert!(
        short.starts_with("A wallboard key was refused: WALLBOARD_KEY is 5 characters"),
        "{short}"
    );
    assert!(refused(&configured(None))
        .expect("a line")
        .contains("WALLBOARD_KEY is not set"));
    assert_eq!(refused(&keyed()), None, "a wrong key against a usable one");
    // Any other refusal (a key where none is accepted included), or none: nothing to log.
    let s = configured(None);
    let not_accepted = authorize(
        &Credential::WallboardKey { key: KEY.into() },
        &act_for(ALICE),
        &s,
    );
    assert_eq!(code(not_accepted), "wallboard_key_not_accepted");
    for other in [
        Some("wallboard_key_not_accepted"),
        Some("missing_token"),
        None,
    ] {
        assert_eq!(refusal_log(other, &s), None, "{other:?}");
    }
}

#[test]
fn the_board_token_is_for_the_supervisor_screens_or_the_key() {
    let key = Credential::WallboardKey { key: KEY.into() };
    let plan = board_sync_token(&key, &keyed(), Some("60")).unwrap();
    assert_eq!(
        (plan.via, plan.viewer.as_str(), plan.ttl_seconds),
        ("wallboardKey", "wallboard-key", 60)
    );
    let agent = token(Some(ALICE), &["agent"]);
    let err = board_sync_token(&agent, &keyed(), None).unwrap_err();
    assert_eq!(err.code(), "role_required");
    let sup = token(Some(ALICE), &["supervisor"]);
    assert_eq!(
        board_sync_token(&sup, &keyed(), None).unwrap().viewer,
        "alice@example.com"
    );
    let err = board_sync_token(&sup, &keyed(), Some("hour")).unwrap_err();
    assert_eq!(err.parameter(), Some("WALLBOARD_TOKEN_TTL"));
}

proptest! {
    // Whatever the request and whatever the executor hands back, the machine ends without a panic.
    #[test]
    fn identify_ends_without_a_panic_on_any_input(
        token in proptest::option::of(".{0,12}"),
        content_type in proptest::option::of("(application/json|text/plain|.{0,8})"),
        authorization in proptest::option::of("(Bearer|Wallboard|Basic|)( .{0,8})?"),
        ok in any::<bool>(), status in any::<u16>(), attempted in any::<bool>(), n in 0usize..3,
    ) {
        let req = request(token.as_deref(), content_type.as_deref(), authorization.as_deref());
        let _ = wire(&start_identify(&req));
        let outcome = json!({"ok": ok, "attempted": attempted, "status": status, "message": "m",
            "value": {"status": status, "body": {"valid": ok}}});
        let outcomes = serde_json::from_value(json!(vec![outcome; n])).expect("executor outcomes");
        if let Ok(step) = resume_identify(Pending::IamVerdict, outcomes) {
            prop_assert!(wire(&step).get("answer").is_some());
        }
    }
}
