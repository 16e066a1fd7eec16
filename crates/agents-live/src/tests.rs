use serde_json::{json, Value};

use crate::config::{Config, Env};
use crate::view::{board, summary_of, Options};
use crate::*;

const WK: &str = "WK00000000000000000000000000000001";
const WK2: &str = "WK00000000000000000000000000000002";
const WQ: &str = "WQ00000000000000000000000000000001";
const WT: &str = "WT00000000000000000000000000000001";
const T0: f64 = 1_764_763_200_000.0; // 2025-12-03T12:00:00Z

fn ev(kind: &str, sid: &str, at: f64, extra: Value) -> Value {
    let mut e = json!({"EventType": kind, "Sid": sid, "WorkerSid": WK, "WorkerName": "Alice",
        "WorkerAttributes": "{\"team_name\":\"Blue\"}", "EventDateMs": at.to_string()});
    if let (Some(m), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            m.insert(k.clone(), v.clone());
        }
    }
    e
}

fn task(kind: &str, sid: &str, at: f64) -> Value {
    ev(
        kind,
        sid,
        at,
        json!({"TaskSid": WT, "TaskChannelUniqueName": "voice"}),
    )
}

fn run(
    config: &Config,
    stored: Option<&Value>,
    events: &[Value],
    fetched: Fetched,
    now: f64,
) -> Applied {
    let shard = shard_of(WK, config.shards);
    let inputs: Vec<Input> = events
        .iter()
        .map(|e| Input {
            event: e.clone(),
            fetched: fetched.clone(),
        })
        .collect();
    apply_batch(config, shard, stored, &inputs, now)
}

fn queues() -> Fetched {
    Fetched {
        queues: Some(vec![shard::QueueRef {
            sid: WQ.into(),
            friendly_name: "Sales".into(),
        }]),
        parked: None,
    }
}

fn a_day() -> Vec<Value> {
    vec![
        ev(
            "worker.activity.update",
            "EV01",
            T0,
            json!({"WorkerActivityName": "Available"}),
        ),
        task("reservation.created", "EV02", T0 + 1000.0),
        task("reservation.accepted", "EV03", T0 + 5000.0),
        task("reservation.wrapup", "EV04", T0 + 65_000.0),
        task("reservation.completed", "EV05", T0 + 95_000.0),
        ev(
            "worker.activity.update",
            "EV06",
            T0 + 100_000.0,
            json!({"WorkerActivityName": "Break"}),
        ),
    ]
}

#[test]
fn a_task_from_offer_to_completion() {
    let config = Config::default();
    let out = run(&config, None, &a_day(), queues(), T0 + 120_000.0);
    assert!(out.changed && out.counts_changed);
    let agent = &out.document["agents"][WK];
    assert_eq!(agent["n"], "Alice");
    assert_eq!(agent["tm"], "Blue");
    assert_eq!(agent["a"], "Break");
    assert_eq!(agent["s"], T0 + 100_000.0);
    assert_eq!(agent["k"], json!([]));
    assert_eq!(agent["c"], json!([1, 0, 0]));
    assert_eq!(agent["h"], json!([90_000.0, 1.0]));
    assert_eq!(agent["w"], json!([30_000.0, 1.0]));
    assert_eq!(out.counts["activities"], json!({"Break": 1}));
    assert_eq!(
        out.counts["queues"][WQ],
        json!({"name": "Sales", "loggedIn": 1, "available": 0, "activities": {"Break": 1}})
    );
    assert!(
        !out.counts.to_string().contains("Alice"),
        "counts carry no names"
    );
    assert!(
        !out.counts.to_string().contains(WK),
        "counts carry no worker SIDs"
    );
}

#[test]
fn duplicates_and_reordering_change_nothing() {
    let config = Config::default();
    let once = run(&config, None, &a_day(), queues(), T0 + 120_000.0);
    // The same events again, one by one, over the stored document: no write.
    let again = run(
        &config,
        Some(&once.document),
        &a_day(),
        Fetched::default(),
        T0 + 130_000.0,
    );
    assert!(!again.changed, "{:?}", again.ignored);
    // Late duplicates of counted steps, beyond the ring of recent ids, count nothing.
    let mut doc = once.document.clone();
    for i in 0..6 {
        let other = ev(
            "worker.activity.update",
            &format!("EVX{i}"),
            T0 + 200_000.0 + f64::from(i),
            json!({"WorkerActivityName": if i % 2 == 0 {"Available"} else {"Break"}}),
        );
        doc = run(
            &config,
            Some(&doc),
            &[other],
            Fetched::default(),
            T0 + 300_000.0,
        )
        .document;
    }
    let late = run(
        &config,
        Some(&doc),
        &[
            task("reservation.accepted", "EV03b", T0 + 5000.0),
            task("reservation.completed", "EV05b", T0 + 95_000.0),
            task("reservation.created", "EV02b", T0 + 1000.0),
        ],
        Fetched::default(),
        T0 + 300_000.0,
    );
    assert_eq!(late.document["agents"][WK]["c"], json!([1, 0, 0]));
    assert_eq!(late.document["agents"][WK]["k"], json!([]));
    // An older activity change does not overwrite a newer one.
    let older = run(
        &config,
        Some(&doc),
        &[ev(
            "worker.activity.update",
            "EVold",
            T0 + 150_000.0,
            json!({"WorkerActivityName": "Lunch"}),
        )],
        Fetched::default(),
        T0 + 300_000.0,
    );
    assert!(!older.changed);
}

#[test]
fn rejected_and_timed_out_count_once_and_reset_at_midnight() {
    let config = Config::default();
    let evs = vec![
        task("reservation.created", "EV1", T0),
        task("reservation.rejected", "EV2", T0 + 1000.0),
        task("reservation.rejected", "EV2", T0 + 1000.0),
        ev(
            "reservation.created",
            "EV3",
            T0 + 2000.0,
            json!({"TaskSid": "WT00000000000000000000000000000002"}),
        ),
        ev(
            "reservation.timeout",
            "EV4",
            T0 + 3000.0,
            json!({"TaskSid": "WT00000000000000000000000000000002"}),
        ),
    ];
    let out = run(&config, None, &evs, queues(), T0 + 5000.0);
    assert_eq!(out.document["agents"][WK]["c"], json!([0, 1, 1]));
    // Next day: the figures read as zero, and the next event starts a new day.
    let tomorrow = T0 + 86_400_000.0;
    let summary = summary_of(std::slice::from_ref(&out.counts), tomorrow);
    assert_eq!((summary.rejected, summary.timed_out), (0, 0));
    let next = run(
        &config,
        Some(&out.document),
        &[task("reservation.rejected", "EV5", tomorrow)],
        Fetched::default(),
        tomorrow,
    );
    assert_eq!(next.document["agents"][WK]["c"], json!([0, 1, 0]));
}

#[test]
fn day_ends_at_local_midnight_including_dst() {
    let ny: chrono_tz::Tz = "America/New_York".parse().unwrap_or(chrono_tz::Tz::UTC);
    // 2026-03-08 is 23 hours long in New York; 2026-11-01 is 25.
    let mar8 = 1_772_958_600_000.0; // 2026-03-08T08:30:00Z = 03:30 EDT
    let end = shard::day_end(ny, mar8);
    assert_eq!(end, 1_773_028_800_000.0); // 2026-03-09T04:00:00Z
    let nov1 = 1_793_534_400_000.0; // 2026-11-01T12:00:00Z
    assert_eq!(shard::day_end(ny, nov1), 1_793_595_600_000.0); // 2026-11-02T05:00:00Z
}

#[test]
fn parked_calls_are_counted_without_caller_details() {
    let config = Config::default();
    let fetched = Fetched {
        queues: None,
        parked: Some(vec![
            json!({"callSid": "CA1", "dateCreated": "2025-12-03T11:59:00.000Z", "name": "+15551234567", "workerSid": WK}),
            json!({"callSid": "CA2", "dateCreated": "2025-12-03T11:58:00.000Z", "callerHangup": true}),
        ]),
    };
    let out = run(
        &config,
        None,
        &[task("reservation.wrapup", "EV1", T0)],
        fetched,
        T0,
    );
    assert_eq!(out.document["agents"][WK]["p"], 1);
    assert_eq!(out.document["agents"][WK]["ps"], T0 - 60_000.0);
    assert!(!out.document.to_string().contains("+1555"));
    assert_eq!(out.counts["parked"], 1);
}

fn unheard(n: Value, at: f64) -> Value {
    json!({"EventType": "voicemail.unheard", "WorkerSid": WK, "EventDateMs": at, "VoicemailUnheard": n})
}

#[test]
fn unheard_voicemails_counted_per_agent_and_per_queue_newest_count_wins() {
    let config = Config::default();
    // The count alone makes no agent (no name, no activity): nothing to write.
    let none = run(
        &config,
        None,
        &[unheard(json!(2), T0)],
        Fetched::default(),
        T0,
    );
    assert!(!none.changed);
    let first = run(&config, None, &a_day()[..1], queues(), T0);
    let stored = first.document.clone();
    assert!(
        !stored.to_string().contains("\"vm\""),
        "no count stored while zero"
    );
    let two = run(
        &config,
        Some(&stored),
        &[unheard(json!(2), T0 + 10.0)],
        Fetched::default(),
        T0 + 10.0,
    );
    assert!(two.changed && two.counts_changed);
    assert_eq!(two.document["agents"][WK]["vm"], 2);
    assert_eq!(
        (
            two.counts["unheard"].clone(),
            two.counts["queues"][WQ]["unheard"].clone()
        ),
        (json!(2), json!(2))
    );
    assert!(
        !two.counts.to_string().contains("Alice"),
        "counts name no agent"
    );
    // The same count again, or an older count arriving late: no write.
    let again = run(
        &config,
        Some(&two.document),
        &[unheard(json!(2), T0 + 20.0)],
        Fetched::default(),
        T0 + 20.0,
    );
    assert!(!again.changed);
    let late = run(
        &config,
        Some(&two.document),
        &[unheard(json!(5), T0 + 5.0)],
        Fetched::default(),
        T0 + 20.0,
    );
    assert!(!late.changed);
    // Heard / deleted: back to zero, and the field leaves the document.
    let zero = run(
        &config,
        Some(&two.document),
        &[unheard(json!(0), T0 + 30.0)],
        Fetched::default(),
        T0 + 30.0,
    );
    assert!(zero.changed && zero.counts_changed);
    assert!(zero.document["agents"][WK].get("vm").is_none());
    assert_eq!(zero.counts["unheard"], 0);
    // The supervisor's rows and the key's summary show it.
    let b = board(
        &config,
        std::slice::from_ref(&two.document),
        &Options::default(),
        T0 + 10.0,
    );
    let row = b
        .groups
        .iter()
        .flat_map(|g| g.agents.iter())
        .find(|r| r.sid == WK);
    assert_eq!(row.map(|r| r.unheard), Some(2));
    let s = summary_of(std::slice::from_ref(&two.counts), T0 + 10.0);
    assert_eq!(s.unheard, 2);
    assert_eq!(
        s.queues.iter().map(|q| q.unheard).collect::<Vec<_>>(),
        vec![2]
    );
    // It costs no TaskRouter call and no Sync read; bad counts are refused.
    let p = plan(&config, &unheard(json!(1), T0), None);
    assert_eq!(
        (p.action, p.fetch_queues, p.fetch_parked),
        ("apply", false, false)
    );
    for bad in [json!(-1), json!("3"), json!(1.5), json!(null), json!(1e12)] {
        assert_eq!(plan(&config, &unheard(bad, T0), None).action, "ignore");
    }
}

#[test]
fn plan_fetches_membership_when_unknown_or_old_and_parking_on_reservations() {
    let config = Config::default();
    let p = plan(&config, &a_day()[0], None);
    assert_eq!(
        (p.action, p.fetch_queues, p.fetch_parked),
        ("apply", true, false)
    );
    assert_eq!(p.document, Some(document_name(shard_of(WK, 200))));
    assert!(!plan(&config, &a_day()[0], Some(1000.0)).fetch_queues);
    assert!(plan(&config, &a_day()[0], Some(MEMBERSHIP_MAX_AGE_MS + 1.0)).fetch_queues);
    let p = plan(&config, &a_day()[2], Some(1000.0));
    assert!(p.fetch_parked && !p.fetch_queues);
    for bad in [
        json!({}),
        json!({"EventType": "task.created"}),
        json!({"EventType": "worker.activity.update", "WorkerSid": "nope"}),
        json!(null),
        json!([1]),
    ] {
        assert_eq!(plan(&config, &bad, None).action, "ignore");
    }
}

#[test]
fn key_reads_counts_only_unless_configured() {
    let config = Config::default();
    assert_eq!(
        viewer(&config, true),
        Viewer {
            identity: READER_IDENTITY,
            names: false
        }
    );
    assert_eq!(
        viewer(&config, false),
        Viewer {
            identity: SUPERVISOR_IDENTITY,
            names: true
        }
    );
    let mut env = Env::new();
    env.insert("AGENTS_LIVE_KEY_SHOWS_NAMES".into(), "true".into());
    let named = Config::from_env(&env).unwrap_or_default();
    assert!(viewer(&named, true).names);
    assert_eq!(readers(true), vec![SUPERVISOR_IDENTITY]);
    assert!(readers(false).contains(&READER_IDENTITY));
}

#[test]
fn bad_settings_name_the_variable() {
    for (k, v) in [
        ("AGENTS_LIVE_SHARDS", "0"),
        ("AGENTS_LIVE_SHARDS", "x"),
        ("AGENTS_LIVE_SHARDS", "1001"),
        ("AGENTS_LIVE_TEAM_ATTRIBUTE", "a..b"),
        ("AGENTS_LIVE_KEY_SHOWS_NAMES", "maybe"),
        ("QUEUE_STATS_TIME_ZONE", "Mars/Base"),
    ] {
        let mut env = Env::new();
        env.insert(k.into(), v.into());
        let err = Config::from_env(&env)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(k), "{k}={v}: {err}");
    }
    let mut env = Env::new();
    env.insert("AGENTS_LIVE_TEAM_ATTRIBUTE".into(), "routing.team".into());
    env.insert("AGENTS_LIVE_SHARDS".into(), "7".into());
    let c = Config::from_env(&env).unwrap_or_default();
    assert_eq!((c.shards, c.team_attribute.len()), (7, 2));
}

#[test]
fn board_sorts_by_what_a_supervisor_acts_on_and_groups() {
    let config = Config {
        shards: 1,
        ..Config::default()
    };
    let mk = |sid: &str, name: &str, activity: &str, since: f64, timed_out: u32, team: &str| {
        (
            sid.to_string(),
            json!({"n": name, "tm": team, "a": activity, "s": since, "q": [WQ], "k": [], "c": [0, 0, timed_out], "h": [0, 0], "w": [0, 0], "dy": T0 + 86_400_000.0}),
        )
    };
    let agents: serde_json::Map<String, Value> = [
        mk(WK, "Ann", "Available", T0, 3, "Blue"),
        mk(WK2, "Bob", "Break", T0 - 600_000.0, 0, "Red"),
        mk(
            "WK00000000000000000000000000000003",
            "Cy",
            "Break",
            T0 - 60_000.0,
            5,
            "Blue",
        ),
        mk(
            "WK00000000000000000000000000000004",
            "Di",
            "Offline",
            T0 - 9e6,
            9,
            "Red",
        ),
        mk(
            "WK00000000000000000000000000000005",
            "Ed",
            "Available",
            T0,
            0,
            "Blue",
        ),
    ]
    .into_iter()
    .collect();
    let doc = json!({"shard": 0, "queues": {WQ: "Sales"}, "agents": agents});
    let b = board(&config, std::slice::from_ref(&doc), &Options::default(), T0);
    let names: Vec<&str> = b.groups[0].agents.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Bob", "Cy", "Ann", "Ed", "Di"]);
    let by_timeout = board(
        &config,
        std::slice::from_ref(&doc),
        &Options {
            sort: "timedOut".into(),
            ..Options::default()
        },
        T0,
    );
    assert_eq!(by_timeout.groups[0].agents[0].name, "Di");
    let teams = board(
        &config,
        std::slice::from_ref(&doc),
        &Options {
            group_by: "team".into(),
            hide_offline: true,
            ..Options::default()
        },
        T0,
    );
    assert_eq!(
        teams
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.agents.len(), g.available))
            .collect::<Vec<_>>(),
        [("Blue", 3, 2), ("Red", 1, 0)]
    );
    let queue = board(
        &config,
        std::slice::from_ref(&doc),
        &Options {
            group_by: "queue".into(),
            filter: "cy".into(),
            ..Options::default()
        },
        T0,
    );
    assert_eq!((queue.groups[0].name.as_str(), queue.shown), ("Sales", 1));
    assert_eq!(b.summary.queues[0].logged_in, 4);
    assert_eq!(b.summary.queues[0].available, 2);
    assert_eq!(b.summary.activities[0].name, "Available");
}

#[test]
fn a_full_shard_is_refused_with_a_message_not_written() {
    let config = Config {
        shards: 1,
        ..Config::default()
    };
    let mut doc: Option<Value> = None;
    let mut too_large = None;
    for i in 0..200u32 {
        let sid = format!("WK{:032x}", i);
        let e = json!({"EventType": "worker.activity.update", "Sid": format!("EV{i}"), "WorkerSid": sid, "WorkerName": "x".repeat(60), "WorkerActivityName": "Available", "EventDateMs": T0});
        let out = apply_batch(
            &config,
            0,
            doc.as_ref(),
            &[Input {
                event: e,
                fetched: queues(),
            }],
            T0,
        );
        if out.too_large.is_some() {
            too_large = out.too_large.clone();
            assert!(!out.changed);
            break;
        }
        doc = Some(out.document);
    }
    assert!(too_large.is_some_and(|m| m.contains("AGENTS_LIVE_SHARDS")));
}

#[test]
fn two_thousand_agents_fit_in_the_default_shards() {
    let config = Config::default();
    let mut docs: Vec<Option<Value>> = vec![None; config.shards as usize];
    for i in 0..2000u32 {
        let sid = format!("WK{:032x}", u128::from(i) * 7919);
        let s = shard_of(&sid, config.shards);
        let evs = [
            json!({"EventType": "worker.activity.update", "Sid": format!("EVa{i}"), "WorkerSid": sid, "WorkerName": format!("Agent number {i:04}"), "WorkerAttributes": "{\"team_name\":\"Team 12\"}", "WorkerActivityName": "Available", "EventDateMs": T0}),
            json!({"EventType": "reservation.accepted", "Sid": format!("EVb{i}"), "WorkerSid": sid, "TaskSid": format!("WT{:032x}", i), "TaskChannelUniqueName": "voice", "EventDateMs": T0 + 1.0}),
        ];
        let fetched = Fetched {
            queues: Some(
                (0..3)
                    .map(|q| shard::QueueRef {
                        sid: format!("WQ{:032x}", (i + q) % 40),
                        friendly_name: format!("Queue {q}"),
                    })
                    .collect(),
            ),
            parked: None,
        };
        let idx = s as usize;
        let inputs: Vec<Input> = evs
            .iter()
            .map(|e| Input {
                event: e.clone(),
                fetched: fetched.clone(),
            })
            .collect();
        let out = apply_batch(&config, s, docs[idx].as_ref(), &inputs, T0);
        assert!(out.too_large.is_none(), "{:?}", out.too_large);
        docs[idx] = Some(out.document);
    }
    let max = docs
        .iter()
        .flatten()
        .map(|d| d.to_string().len())
        .max()
        .unwrap_or(0);
    assert!(max < MAX_DOCUMENT_BYTES, "largest shard {max} bytes");
}

#[test]
fn junk_never_panics() {
    let config = Config::default();
    for stored in [
        json!(null),
        json!([1, 2]),
        json!({"agents": {"WK1": 5}}),
        json!({"seq": -1, "agents": []}),
    ] {
        let out = apply_batch(
            &config,
            0,
            Some(&stored),
            &[Input {
                event: json!({"EventType": 5}),
                fetched: Fetched::default(),
            }],
            f64::NAN,
        );
        assert!(!out.changed);
    }
    let b = board(
        &config,
        &[json!("x"), json!({"agents": {"WK": {"s": "bad"}}})],
        &Options::default(),
        f64::INFINITY,
    );
    assert_eq!(b.shown, 0);
    let _ = summary_of(&[json!(1), json!({"activities": {"a": -3}})], 0.0);
}

#[test]
fn every_setting_the_sources_read_is_in_settings() {
    let prefixes = [
        "AGENTS_LIVE_",
        "QUEUE_STATS_",
        "WALLBOARD_",
        "TWILIO_FLEX_",
        "SYNC_SERVICE_",
        "WORKSPACE_",
    ];
    let sources = [
        include_str!("config.rs"),
        include_str!("machine.rs"),
        include_str!("web.rs"),
        include_str!("wasm.rs"),
    ];
    values::env::settings_listed(&sources, &prefixes, crate::SETTINGS, "AGENTS_LIVE_SHARDS")
        .unwrap();
}
