use proptest::prelude::*;
use serde_json::json;

use crate::event::{
    after_redirect, decide, direct_call, plan_event, Claim, ClaimStep, EventPlan, TaskEvent,
};
use crate::record::{mark_heard, merge, parse_callback, CallbackFields, Write};
use crate::request::{list_answer, plan as box_plan, stored, BoxFields};
use crate::settings::{Env, Settings};
use crate::twiml::{greeting_twiml, plan as twiml_plan, TwimlRequest, WorkerInfo};

const WK: &str = "WK0123456789abcdef0123456789abcdef";
const WK2: &str = "WKfedcba9876543210fedcba9876543210";
const CA: &str = "CA0123456789abcdef0123456789abcdef";
const WT: &str = "WT0123456789abcdef0123456789abcdef";
const RE: &str = "RE0123456789abcdef0123456789abcdef";
const RE2: &str = "RE1123456789abcdef0123456789abcdef";
const BASE: &str = "https://svc-1234.twil.io";

fn settings(transcribe: bool) -> Settings {
    Settings::from_env(&Env {
        domain_name: Some("svc-1234.twil.io".into()),
        voicemail_transcribe: Some(transcribe.to_string()),
        ..Env::default()
    })
    .unwrap()
}

fn attrs(worker: &str) -> String {
    json!({"call_sid": CA, "from": "+15551230000", "directCall": {"extension": "204", "workerSid": worker, "workerName": "Alice"}}).to_string()
}

fn event(kind: &str, worker: &str, status: &str) -> TaskEvent {
    TaskEvent {
        event_type: Some(kind.into()),
        task_sid: Some(WT.into()),
        task_attributes: Some(attrs(WK)),
        worker_sid: Some(worker.into()),
        task_assignment_status: Some(status.into()),
    }
}

#[test]
fn direct_call_reads_the_contract() {
    let a: serde_json::Value = serde_json::from_str(&attrs(WK)).unwrap();
    let d = direct_call(&a).unwrap();
    assert_eq!(
        (
            d.worker_sid.as_str(),
            d.call_sid.as_str(),
            d.extension.as_str()
        ),
        (WK, CA, "204")
    );
    assert!(direct_call(&json!({"call_sid": CA})).is_none());
    assert!(direct_call(&json!({"call_sid": CA, "directCall": {"workerSid": "WK1"}})).is_none());
    assert!(
        direct_call(&json!({"directCall": {"workerSid": WK}})).is_none(),
        "no call: nothing to redirect"
    );
}

#[test]
fn timeout_reject_and_workflow_timeout_go_to_voicemail() {
    for (kind, reason, cancel) in [
        ("reservation.timeout", "no_answer", true),
        ("reservation.rejected", "rejected", true),
        ("workflow.timeout", "not_assigned", false),
    ] {
        match plan_event(&event(kind, WK, "pending"), BASE) {
            EventPlan::Voicemail {
                call_sid,
                task_sid,
                reason: r,
                redirect_url,
                cancel_reason,
                claim_key,
                ..
            } => {
                assert_eq!(
                    (
                        call_sid.as_str(),
                        task_sid.as_str(),
                        r.as_str(),
                        claim_key.as_str()
                    ),
                    (CA, WT, reason, CA)
                );
                assert_eq!(
                    redirect_url,
                    format!("{BASE}/voicemail-twiml?workerSid={WK}&reason={reason}")
                );
                assert_eq!(cancel_reason.is_some(), cancel);
            }
            other => panic!("{kind}: {other:?}"),
        }
    }
}

#[test]
fn other_events_and_other_workers_are_ignored() {
    let ignored = |e: TaskEvent| matches!(plan_event(&e, BASE), EventPlan::Ignore { .. });
    assert!(ignored(event("reservation.accepted", WK, "assigned")));
    assert!(ignored(event("task.created", WK, "pending")));
    assert!(
        ignored(event("reservation.rejected", WK2, "pending")),
        "another worker's reservation"
    );
    assert!(
        ignored(event("reservation.timeout", WK, "assigned")),
        "the task is with someone"
    );
    let mut not_direct = event("reservation.rejected", WK, "pending");
    not_direct.task_attributes = Some(json!({"call_sid": CA}).to_string());
    assert!(ignored(not_direct));
    let mut garbage = event("reservation.rejected", WK, "pending");
    garbage.task_attributes = Some("{not json".into());
    assert!(ignored(garbage));
    let mut no_task = event("reservation.rejected", WK, "pending");
    no_task.task_sid = Some("WT-nope".into());
    assert!(ignored(no_task));
}

fn claim(state: &str, at_ms: f64, token: &str) -> Claim {
    Claim {
        call_sid: CA.into(),
        task_sid: WT.into(),
        worker_sid: WK.into(),
        reason: "rejected".into(),
        state: state.into(),
        at_ms,
        token: token.into(),
    }
}

#[test]
fn once_only_rule() {
    let plan = plan_event(&event("reservation.rejected", WK, "pending"), BASE);
    let now = 1_000_000.0;
    assert!(matches!(
        decide(&plan, None, "t1", now),
        Some(ClaimStep::Create { .. })
    ));
    // The same call again (duplicate, or the worker's second reject): only the task is canceled.
    let done = claim("redirected", now - 1.0, "t1");
    assert!(matches!(
        decide(&plan, Some((&done, "1")), "t2", now),
        Some(ClaimStep::Done { .. })
    ));
    let gone = claim("caller_gone", now - 1.0, "t1");
    assert!(matches!(
        decide(&plan, Some((&gone, "1")), "t2", now),
        Some(ClaimStep::Done { .. })
    ));
    // Another request is redirecting it now.
    let busy = claim("redirecting", now - 500.0, "t1");
    assert_eq!(
        decide(&plan, Some((&busy, "1")), "t2", now),
        Some(ClaimStep::InProgress)
    );
    // A request that died: taken over after the lease.
    let stale = claim("redirecting", now - 10_001.0, "t1");
    assert!(
        matches!(decide(&plan, Some((&stale, "7")), "t2", now), Some(ClaimStep::TakeOver { revision, .. }) if revision == "7")
    );
    let ignore = plan_event(&event("task.created", WK, "pending"), BASE);
    assert_eq!(decide(&ignore, None, "t", now), None);
}

#[test]
fn after_the_redirect() {
    let ok = after_redirect(true, None, None, false);
    assert_eq!(
        (ok.state.as_deref(), ok.release, ok.cancel_task),
        (Some("redirected"), false, true)
    );
    let gone = after_redirect(false, Some(400), Some(21220), false);
    assert_eq!(
        (gone.state.as_deref(), gone.cancel_task),
        (Some("caller_gone"), true)
    );
    let unknown = after_redirect(false, Some(502), None, true);
    assert_eq!(
        (unknown.state, unknown.release, unknown.cancel_task),
        (None, false, false)
    );
    let refused = after_redirect(false, Some(400), Some(21201), false);
    assert_eq!((refused.release, refused.cancel_task), (true, false));
}

#[test]
fn settings_are_validated() {
    let bad = |env: Env| Settings::from_env(&env).unwrap_err().parameter();
    let env = |t: Option<&str>, m: Option<&str>, f: Option<&str>| Env {
        domain_name: Some("x.twil.io".into()),
        voicemail_transcribe: t.map(Into::into),
        voicemail_max_seconds: m.map(Into::into),
        voicemail_media_format: f.map(Into::into),
        voicemail_sync_sid: None,
        ..Env::default()
    };
    let sync = |v: &str| Env {
        domain_name: Some("x.twil.io".into()),
        voicemail_sync_sid: Some(v.into()),
        ..Env::default()
    };
    assert_eq!(bad(sync("voicemail")), Some("VOICEMAIL_SYNC_SID"));
    let own = Settings::from_env(&sync("IS0123456789abcdef0123456789abcdef")).unwrap();
    assert_eq!(
        own.sync_service_sid.as_deref(),
        Some("IS0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        Settings::from_env(&sync(" ")).unwrap().sync_service_sid,
        None
    );
    assert_eq!(bad(Env::default()), Some("DOMAIN_NAME"));
    assert_eq!(
        bad(env(Some("yes"), None, None)),
        Some("VOICEMAIL_TRANSCRIBE")
    );
    assert_eq!(
        bad(env(None, Some("0"), None)),
        Some("VOICEMAIL_MAX_SECONDS")
    );
    assert_eq!(
        bad(env(None, Some("3601"), None)),
        Some("VOICEMAIL_MAX_SECONDS")
    );
    assert_eq!(
        bad(env(None, None, Some("ogg"))),
        Some("VOICEMAIL_MEDIA_FORMAT")
    );
    let s = Settings::from_env(&env(None, None, None)).unwrap();
    assert_eq!(
        (s.transcribe, s.max_seconds, s.media_format.as_str()),
        (false, 120, "mp3")
    );
    let wav = Settings::from_env(&env(None, None, Some("WAV"))).unwrap();
    assert_eq!(
        (wav.media_format.as_str(), wav.media_type(), s.media_type()),
        ("wav", "audio/wav", "audio/mpeg")
    );
}

#[test]
fn greeting_names_the_worker_or_plays_theirs() {
    let plan = twiml_plan(&TwimlRequest {
        worker_sid: Some(WK.into()),
        reason: Some("rejected".into()),
        step: None,
    })
    .unwrap();
    let alice = WorkerInfo {
        friendly_name: Some("alice".into()),
        attributes: Some(json!({"full_name": "Alice <&> Smith"}).to_string()),
    };
    let t = greeting_twiml(&plan, Some(&alice), &settings(false));
    assert!(
        t.contains("<Say>You have reached Alice &lt;&amp;&gt; Smith."),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "action=\"{BASE}/voicemail-twiml?workerSid={WK}&amp;step=done\""
        )),
        "{t}"
    );
    assert!(t.contains(&format!("recordingStatusCallback=\"{BASE}/voicemail-recorded?workerSid={WK}&amp;reason=rejected#rc=3&amp;rp=5xx,ct,rt\"")), "{t}");
    assert!(!t.contains("transcribe"), "{t}");
    let t = greeting_twiml(&plan, Some(&alice), &settings(true));
    assert!(t.contains("transcribe=\"true\" transcribeCallback="), "{t}");
    let own = WorkerInfo {
        friendly_name: Some("bob".into()),
        attributes: Some(
            json!({"voicemailGreetingUrl": "https://example.com/bob.mp3"}).to_string(),
        ),
    };
    assert!(greeting_twiml(&plan, Some(&own), &settings(false))
        .contains("<Play>https://example.com/bob.mp3</Play>"));
    let insecure = WorkerInfo {
        friendly_name: Some("bob".into()),
        attributes: Some(json!({"voicemailGreetingUrl": "http://example.com/bob.mp3"}).to_string()),
    };
    assert!(
        greeting_twiml(&plan, Some(&insecure), &settings(false)).contains("You have reached bob.")
    );
    assert!(greeting_twiml(&plan, None, &settings(false)).contains("The person you called"));
}

#[test]
fn twiml_requests_are_validated() {
    let p = |w: Option<&str>, r: Option<&str>, s: Option<&str>| {
        twiml_plan(&TwimlRequest {
            worker_sid: w.map(Into::into),
            reason: r.map(Into::into),
            step: s.map(Into::into),
        })
    };
    assert_eq!(
        p(None, None, None).unwrap_err().parameter(),
        Some("workerSid")
    );
    assert_eq!(
        p(Some("WK1"), None, None).unwrap_err().parameter(),
        Some("workerSid")
    );
    assert_eq!(
        p(Some(WK), Some("bored"), None).unwrap_err().parameter(),
        Some("reason")
    );
    assert_eq!(
        p(Some(WK), None, Some("again")).unwrap_err().parameter(),
        Some("step")
    );
    assert_eq!(p(Some(WK), None, None).unwrap().reason, "unavailable");
    assert_eq!(p(Some(WK), None, Some("done")).unwrap().step, "done");
}

fn recording(from: Option<&str>) -> CallbackFields {
    CallbackFields {
        worker_sid: Some(WK.into()),
        reason: Some("rejected".into()),
        call_sid: Some(CA.into()),
        recording_sid: Some(RE.into()),
        recording_status: Some("completed".into()),
        recording_duration: Some("7".into()),
        from: from.map(Into::into),
        ..CallbackFields::default()
    }
}

#[test]
fn one_voicemail_per_call_whatever_the_order_and_duplicates() {
    let now = "2026-12-03T12:00:00.000Z";
    let rec = parse_callback(&recording(None)).unwrap();
    let Write::Create { voicemail: v } = merge(None, &rec, now) else {
        panic!()
    };
    assert_eq!(
        (v.duration, v.heard, v.from.as_deref(), v.reason.as_deref()),
        (Some(7), false, None, Some("rejected"))
    );
    // The duplicate adds nothing.
    assert!(matches!(merge(Some(&v), &rec, now), Write::Nothing { .. }));
    // The action brings the caller.
    let mut action = recording(Some("+15551230000"));
    action.recording_status = None;
    let Write::Update { voicemail: v2 } = merge(Some(&v), &parse_callback(&action).unwrap(), now)
    else {
        panic!()
    };
    assert_eq!(v2.from.as_deref(), Some("+15551230000"));
    // The transcription, before or after.
    let mut tr = recording(None);
    tr.recording_status = None;
    tr.recording_duration = None;
    tr.transcription_status = Some("completed".into());
    tr.transcription_text = Some("Call me back".into());
    let tpart = parse_callback(&tr).unwrap();
    let Write::Update { voicemail: v3 } = merge(Some(&v2), &tpart, now) else {
        panic!()
    };
    assert_eq!(v3.transcription.as_deref(), Some("Call me back"));
    assert!(matches!(
        merge(Some(&v3), &tpart, now),
        Write::Nothing { .. }
    ));
    let Write::Create { voicemail: early } = merge(None, &tpart, now) else {
        panic!()
    };
    let Write::Update { voicemail: filled } = merge(Some(&early), &rec, now) else {
        panic!()
    };
    assert_eq!(
        (filled.duration, filled.transcription.as_deref()),
        (Some(7), Some("Call me back"))
    );
    // A second recording of the same call is not kept.
    let mut other = recording(None);
    other.recording_sid = Some(RE2.into());
    assert!(matches!(
        merge(Some(&v3), &parse_callback(&other).unwrap(), now),
        Write::Nothing { .. }
    ));
    // No audio: nothing.
    let mut absent = recording(None);
    absent.recording_status = Some("absent".into());
    assert!(matches!(
        merge(None, &parse_callback(&absent).unwrap(), now),
        Write::Nothing { .. }
    ));
    // Heard keeps the rest.
    let h = mark_heard(&v3, true, now).unwrap();
    assert!(h.heard && h.heard_at.is_some() && h.transcription == v3.transcription);
    assert!(mark_heard(&h, true, now).is_none());
}

#[test]
fn callbacks_are_validated() {
    let bad = |f: CallbackFields| parse_callback(&f).unwrap_err().parameter();
    let mut f = recording(None);
    f.worker_sid = None;
    assert_eq!(bad(f), Some("workerSid"));
    let mut f = recording(None);
    f.call_sid = Some("CA12".into());
    assert_eq!(bad(f), Some("CallSid"));
    let mut f = recording(None);
    f.recording_sid = None;
    assert_eq!(bad(f), Some("RecordingSid"));
    let mut f = recording(None);
    f.recording_duration = Some("seven".into());
    assert_eq!(bad(f), Some("RecordingDuration"));
    let mut f = recording(None);
    f.recording_status = Some("in-progress".into());
    assert_eq!(bad(f), Some("RecordingStatus"));
    let mut f = recording(None);
    f.transcription_status = Some("maybe".into());
    assert_eq!(bad(f), Some("TranscriptionStatus"));
    let mut f = recording(None);
    f.recording_duration = Some("-1".into());
    assert_eq!(parse_callback(&f).unwrap().duration, None);
}

#[test]
fn box_requests_and_whose_box() {
    let fields = |a: &[(&str, &str)]| {
        let mut f = BoxFields::default();
        for (k, v) in a {
            let v = Some(v.to_string());
            match *k {
                "action" => f.action = v,
                "workerSid" => f.worker_sid = v,
                "callSid" => f.call_sid = v,
                "heard" => f.heard = v,
                "pageSize" => f.page_size = v,
                _ => f.page_token = v,
            }
        }
        f
    };
    // Default: the token's own box, list, 100 per page.
    let p = box_plan(&fields(&[]), Some(WK)).unwrap();
    assert_eq!(
        (
            p.action.as_str(),
            p.worker_sid.as_str(),
            p.map.as_str(),
            p.page_size
        ),
        (
            "list",
            WK,
            "Voicemail.WK0123456789abcdef0123456789abcdef",
            100
        )
    );
    // A named box (auth decides whether the token may act for it).
    assert_eq!(
        box_plan(&fields(&[("workerSid", WK2)]), Some(WK))
            .unwrap()
            .worker_sid,
        WK2
    );
    let err =
        |a: &[(&str, &str)], w: Option<&str>| box_plan(&fields(a), w).unwrap_err().parameter();
    assert_eq!(
        err(&[], None),
        Some("workerSid"),
        "a token without a worker must name a box"
    );
    assert_eq!(err(&[("action", "burn")], Some(WK)), Some("action"));
    assert_eq!(err(&[("action", "delete")], Some(WK)), Some("callSid"));
    assert_eq!(
        err(&[("action", "media"), ("callSid", "CA1")], Some(WK)),
        Some("callSid")
    );
    assert_eq!(
        err(
            &[("action", "heard"), ("callSid", CA), ("heard", "yes")],
            Some(WK)
        ),
        Some("heard")
    );
    assert_eq!(err(&[("pageSize", "101")], Some(WK)), Some("pageSize"));
    assert_eq!(err(&[("pageSize", "0")], Some(WK)), Some("pageSize"));
    assert_eq!(err(&[("workerSid", "bob")], Some(WK)), Some("workerSid"));
    assert_eq!(err(&[("pageToken", "a b")], Some(WK)), Some("pageToken"));
    assert!(
        !box_plan(
            &fields(&[("action", "heard"), ("callSid", CA), ("heard", "false")]),
            Some(WK)
        )
        .unwrap()
        .heard
    );
}

#[test]
fn list_is_newest_first_with_the_unheard_count() {
    let vm = |call: &str, at: &str, heard: bool| json!({"callSid": call, "workerSid": WK, "recordingSid": RE, "dateCreated": at, "heard": heard});
    let items = vec![
        vm("CA1", "2026-12-01T10:00:00.000Z", true),
        vm("CA2", "2026-12-03T10:00:00.000Z", false),
        vm("CA3", "2026-12-02T10:00:00.000Z", false),
        json!({"garbage": true}),
        json!({"callSid": "CA9", "workerSid": WK2, "recordingSid": RE, "dateCreated": "x"}),
    ];
    let a = list_answer(WK, &items, None);
    assert_eq!(
        a.voicemails
            .iter()
            .map(|v| v.call_sid.as_str())
            .collect::<Vec<_>>(),
        ["CA2", "CA3", "CA1"]
    );
    assert_eq!((a.unheard, a.unheard_at_least), (2, false));
    assert!(list_answer(WK, &items, Some("tok".into())).unheard_at_least);
    let p = box_plan(
        &BoxFields {
            action: Some("media".into()),
            call_sid: Some(CA.into()),
            ..BoxFields::default()
        },
        Some(WK),
    )
    .unwrap();
    assert_eq!(stored(&p, None).unwrap_err().http_status(), 404);
    assert_eq!(stored(&p, Some(&vm(CA, "x", false))).unwrap().call_sid, CA);
    let other = json!({"callSid": CA, "workerSid": WK2, "recordingSid": RE, "dateCreated": "x"});
    assert_eq!(stored(&p, Some(&other)).unwrap_err().http_status(), 404);
}

proptest! {
    #[test]
    fn no_input_panics(kind in ".{0,30}", attrs in ".{0,200}", w in ".{0,40}", s in ".{0,20}", d in ".{0,12}", name in ".{0,200}") {
        let e = TaskEvent { event_type: Some(kind), task_sid: Some(WT.into()), task_attributes: Some(attrs), worker_sid: Some(w.clone()), task_assignment_status: Some(s.clone()) };
        let _ = plan_event(&e, BASE);
        let f = CallbackFields { worker_sid: Some(w.clone()), call_sid: Some(CA.into()), recording_sid: Some(RE.into()), recording_duration: Some(d.clone()), recording_status: Some(s.clone()), transcription_text: Some(name.clone()), ..CallbackFields::default() };
        let _ = parse_callback(&f);
        let plan = twiml_plan(&TwimlRequest { worker_sid: Some(WK.into()), reason: None, step: None }).unwrap();
        let info = WorkerInfo { friendly_name: Some(name.clone()), attributes: Some(json!({"full_name": name, "voicemailGreetingUrl": w}).to_string()) };
        let t = greeting_twiml(&plan, Some(&info), &settings(true));
        prop_assert!(t.starts_with("<?xml") && t.ends_with("</Response>"));
        let _ = box_plan(&BoxFields { action: Some(s), worker_sid: Some(w), page_size: Some(d), ..BoxFields::default() }, None);
    }
}

fn parts() -> [crate::record::Part; 3] {
    let status = parse_callback(&recording(None)).unwrap();
    let mut a = recording(Some("+15551230000"));
    a.recording_status = None;
    let action = parse_callback(&a).unwrap();
    let mut t = recording(None);
    t.recording_status = None;
    t.recording_duration = None;
    t.transcription_status = Some("completed".into());
    t.transcription_text = Some("Call me back".into());
    [status, action, parse_callback(&t).unwrap()]
}

proptest! {
    /// Whatever the order, duplicates and losses of Twilio's three callbacks: exactly one create,
    /// and the stored voicemail holds everything the delivered parts carried.
    #[test]
    fn any_order_of_callbacks_makes_one_voicemail(seq in proptest::collection::vec(0usize..3, 1..12)) {
        let parts = parts();
        let mut stored: Option<crate::record::Voicemail> = None;
        let mut creates = 0;
        for i in &seq {
            let Some(part) = parts.get(*i) else { continue };
            match merge(stored.as_ref(), part, "2026-12-03T12:00:00.000Z") {
                Write::Create { voicemail } => { creates += 1; stored = Some(voicemail); }
                Write::Update { voicemail } => { prop_assert!(stored.is_some()); stored = Some(voicemail); }
                Write::Nothing { .. } => {}
            }
        }
        prop_assert_eq!(creates, 1);
        let v = stored.unwrap();
        prop_assert_eq!(v.recording_sid.as_str(), RE);
        prop_assert_eq!(v.from.is_some(), seq.contains(&1));
        prop_assert_eq!(v.duration.is_some(), seq.contains(&0) || seq.contains(&1));
        prop_assert_eq!(v.transcription.is_some(), seq.contains(&2));
        prop_assert!(!v.heard);
    }
}

#[test]
fn every_setting_the_sources_read_is_in_settings() {
    let prefixes = [
        "VOICEMAIL_",
        "DOMAIN_",
        "SYNC_SERVICE_",
        "WORKSPACE_",
        "TWILIO_FLEX_",
    ];
    let sources = [
        include_str!("settings.rs"),
        include_str!("twiml.rs"),
        include_str!("request.rs"),
        include_str!("machine/mod.rs"),
        include_str!("machine/hook.rs"),
        include_str!("machine/mailbox.rs"),
        include_str!("machine/store.rs"),
        include_str!("machine/twiml.rs"),
        include_str!("machine/unheard.rs"),
    ];
    values::env::settings_listed(
        &sources,
        &prefixes,
        crate::SETTINGS,
        "VOICEMAIL_MAX_SECONDS",
    )
    .unwrap();
}
