//! The admin machines against an in-memory Serverless API that can fail any operation the ways
//! the executor reports, with the state sent through JSON between steps as the executor does.

use std::collections::HashMap;

use effects::{Answer, Effect, Failure, Op, Outcome, Step};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::machine::{
    self, basic_credentials, config_asset, Env, FetchConfigRequest, Machine, RunningStage,
};

const CONFIG: &str = r#"{"rules": [{"id": "open", "name": "Open", "isOpen": true, "startTime": "00:00", "endTime": "24:00"}], "schedules": [{"name": "Support", "timeZone": "Europe/London", "rules": ["open"]}]}"#;
const T0: f64 = 1_767_225_600_000.0; // 2026-01-01T00:00:00Z

fn env() -> Env {
    Env {
        service_sid: "ZS1".into(),
        environment_sid: "ZE1".into(),
    }
}

fn iso(ms: f64) -> String {
    values::instant::from_millis(ms)
        .map(values::instant::iso_seconds)
        .unwrap_or_default()
}

/// How the fake answers an operation of a kind.
#[derive(Clone)]
enum Fault {
    /// Twilio's error with this status.
    Status(u16),
    /// No answer (a timeout).
    Lost,
    /// Not sent (deadline).
    NotSent,
}

struct Twilio {
    now: f64,
    builds: Vec<Value>,
    deployments: Vec<Value>,
    assets: Vec<Value>,
    versions: Vec<Value>,
    env_build: Option<String>,
    /// (kind, nth call of that kind from 1, fault).
    faults: Vec<(&'static str, usize, Fault)>,
    calls: HashMap<String, usize>,
    /// Every operation, in order: (kind, delay).
    log: Vec<(String, Option<u64>)>,
    /// At this call of fetchServerlessEnvironment, another update's build appears.
    rival: Option<usize>,
    next: u32,
}

fn kind(op: &Op) -> String {
    serde_json::to_value(op).expect("op")["kind"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

impl Twilio {
    fn new() -> Twilio {
        let mut t = Twilio {
            now: T0,
            builds: vec![],
            deployments: vec![],
            assets: vec![],
            versions: vec![],
            env_build: None,
            faults: vec![],
            calls: HashMap::new(),
            log: vec![],
            rival: None,
            next: 0,
        };
        let cli = t.build_of(vec!["ZNcli".into()], "completed", T0 - 3_600_000.0);
        t.deploy(&cli, T0 - 3_000_000.0);
        t
    }

    fn sid(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:03}", self.next)
    }

    fn version(&self, sid: &str) -> Value {
        self.versions
            .iter()
            .find(|v| v["sid"] == sid)
            .cloned()
            .unwrap_or_else(|| json!({"sid": sid, "path": "/config.json", "asset_sid": "ZHcli"}))
    }

    fn build_of(&mut self, asset_versions: Vec<String>, status: &str, at: f64) -> String {
        let sid = self.sid("ZB");
        let mut avs: Vec<Value> = asset_versions.iter().map(|v| self.version(v)).collect();
        avs.push(json!({"sid": "ZNwasm", "path": "/wasm/x.wasm", "asset_sid": "ZHwasm"}));
        self.builds.insert(
            0,
            json!({"sid": sid, "status": status, "dateCreated": iso(at), "runtime": "node22",
                "dependencies": [{"name": "twilio", "version": "5"}],
                "functionVersions": [{"sid": "ZF1", "path": "/admin/list"}],
                "assetVersions": avs}),
        );
        sid
    }

    fn deploy(&mut self, build: &str, at: f64) {
        let sid = self.sid("ZD");
        self.deployments.insert(
            0,
            json!({"sid": sid, "buildSid": build, "dateCreated": iso(at)}),
        );
        self.env_build = Some(build.to_string());
    }

    /// The next call of `kind` fails so.
    fn fail(&mut self, kind: &'static str, fault: Fault) {
        let nth = self.calls.get(kind).copied().unwrap_or(0) + 1;
        self.fail_at(kind, nth, fault);
    }

    /// The `nth` call of `kind` (from 1, counting every call so far) fails so.
    fn fail_at(&mut self, kind: &'static str, nth: usize, fault: Fault) {
        self.faults.push((kind, nth, fault));
    }

    fn perform(&mut self, effect: &Effect) -> Outcome {
        let op = &effect.op;
        let k = kind(op);
        self.log.push((k.clone(), effect.delay_ms));
        if let Some(ms) = effect.delay_ms {
            self.now += ms as f64;
        }
        let nth = {
            let n = self.calls.entry(k.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let fault = self
            .faults
            .iter()
            .find(|(kind, at, _)| *kind == k && *at == nth)
            .map(|(_, _, f)| f.clone());
        if let Some(fault) = fault {
            return Outcome::Failed(match fault {
                Fault::Status(s) => Failure {
                    status: Some(s),
                    code: Some(20000 + u32::from(s)),
                    message: format!("HTTP {s}"),
                    attempted: true,
                    ..Failure::default()
                },
                Fault::Lost => Failure {
                    message: "timeout".into(),
                    attempted: true,
                    ..Failure::default()
                },
                Fault::NotSent => Failure {
                    message: "deadline".into(),
                    attempted: false,
                    ..Failure::default()
                },
            });
        }
        let found = |v: Option<Value>| match v {
            Some(v) => Outcome::Done(v),
            None => Outcome::Failed(Failure {
                status: Some(404),
                code: Some(20404),
                message: "not found".into(),
                attempted: true,
                ..Failure::default()
            }),
        };
        match op {
            Op::FetchServerlessEnvironment {
                environment_sid, ..
            } => {
                if self.rival == Some(nth) {
                    // Another update's build, made in the same second as ours (the newest) and
                    // sorting first (its SID).
                    let mut rival = self.builds[0].clone();
                    rival["sid"] = json!("ZB000");
                    self.builds.insert(0, rival);
                }
                Outcome::Done(json!({"sid": environment_sid, "buildSid": self.env_build}))
            }
            Op::FetchServerlessBuild { build_sid, .. } => {
                found(self.builds.iter().find(|b| b["sid"] == *build_sid).cloned())
            }
            Op::FetchServerlessBuildStatus { build_sid, .. } => found(
                self.builds
                    .iter()
                    .find(|b| b["sid"] == *build_sid)
                    .map(|b| json!({"sid": build_sid, "status": b["status"]})),
            ),
            Op::ListServerlessDeployments { .. } => Outcome::Done(json!(self.deployments)),
            Op::ListServerlessBuilds { .. } => Outcome::Done(json!(self.builds)),
            Op::ListServerlessAssets { .. } => Outcome::Done(json!(self.assets)),
            Op::CreateServerlessAsset { friendly_name, .. } => {
                let sid = self.sid("ZH");
                let a = json!({"sid": sid, "friendlyName": friendly_name, "dateCreated": iso(self.now)});
                self.assets.push(a.clone());
                Outcome::Done(a)
            }
            Op::UploadServerlessAssetVersion {
                asset_sid,
                path,
                content,
                ..
            } => {
                let sid = self.sid("ZN");
                assert!(serde_json::from_str::<Value>(content).is_ok());
                let v = json!({"sid": sid, "path": path, "asset_sid": asset_sid});
                self.versions.push(v.clone());
                Outcome::Done(v)
            }
            Op::CreateServerlessBuild {
                asset_versions,
                function_versions,
                ..
            } => {
                assert_eq!(function_versions, &vec!["ZF1".to_string()]);
                let config: Vec<String> = asset_versions
                    .iter()
                    .filter(|v| v.as_str() != "ZNwasm")
                    .cloned()
                    .collect();
                let now = self.now;
                let sid = self.build_of(config, "building", now);
                Outcome::Done(self.builds[0].clone()).map_sid(&sid)
            }
            Op::DeleteServerlessBuild { build_sid, .. } => {
                let before = self.builds.len();
                self.builds.retain(|b| b["sid"] != *build_sid);
                found((self.builds.len() < before).then_some(json!(true)))
            }
            Op::CreateServerlessDeployment { build_sid, .. } => {
                let now = self.now;
                self.deploy(build_sid, now);
                Outcome::Done(json!({"sid": "ZDnew", "buildSid": build_sid}))
            }
            Op::FetchServerlessService { credentials, .. } => match credentials {
                Some(c) if c.password == "right" => Outcome::Done(json!({"sid": "ZS1"})),
                _ => found(None).with_status(401),
            },
            other => panic!("not a Serverless operation: {other:?}"),
        }
    }

    /// Runs the machine `step` begins to its answer.
    fn run(&mut self, mut step: Step<Machine>) -> Answer {
        for _ in 0..50 {
            match step {
                Step::Answer(a) => return a,
                Step::Run { state, effects } => {
                    let wire = serde_json::to_string(&state).expect("state");
                    let state: Machine = serde_json::from_str(&wire).expect("state reads back");
                    let outcomes: Vec<Outcome> = effects.iter().map(|e| self.perform(e)).collect();
                    let outcomes: Vec<Outcome> =
                        serde_json::from_value(json!(outcomes)).expect("outcomes");
                    self.now += 50.0;
                    step = machine::resume(state, outcomes, self.now);
                }
            }
        }
        panic!("the machine did not answer");
    }

    fn kinds(&self) -> Vec<&str> {
        self.log.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn deployed_version(&self) -> String {
        let b = self
            .builds
            .iter()
            .find(|b| Some(b["sid"].as_str().unwrap_or("")) == self.env_build.as_deref())
            .cloned()
            .unwrap_or_default();
        b["assetVersions"][0]["sid"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn complete_all(&mut self) {
        for b in &mut self.builds {
            if b["status"] == "building" {
                b["status"] = json!("completed");
            }
        }
    }
}

trait OutcomeExt {
    fn map_sid(self, sid: &str) -> Outcome;
    fn with_status(self, status: u16) -> Outcome;
}

impl OutcomeExt for Outcome {
    fn map_sid(self, sid: &str) -> Outcome {
        match self {
            Outcome::Done(mut v) => {
                v["sid"] = json!(sid);
                Outcome::Done(v)
            }
            o => o,
        }
    }
    fn with_status(self, status: u16) -> Outcome {
        match self {
            Outcome::Failed(mut f) => {
                f.status = Some(status);
                Outcome::Failed(f)
            }
            o => o,
        }
    }
}

fn update(t: &mut Twilio, version: &str) -> Answer {
    let start = machine::update(env(), Some(CONFIG.into()), Some(version.into()));
    t.run(start)
}

fn list(t: &mut Twilio) -> Answer {
    t.run(machine::list(env(), CONFIG.into()))
}

#[test]
fn list_answers_the_running_config_its_version_and_whether_a_change_waits() {
    let mut t = Twilio::new();
    let a = list(&mut t);
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["version"], "ZNcli");
    assert_eq!(a.body["versionIsDeployed"], true);
    assert_eq!(a.body["data"]["schedules"][0]["name"], "Support");
    assert_eq!(
        t.kinds(),
        [
            "fetchServerlessEnvironment",
            "fetchServerlessBuild",
            "listServerlessDeployments",
            "listServerlessBuilds",
            "listServerlessAssets"
        ]
    );
    assert_eq!(update(&mut t, "ZNcli").status, 200);
    assert_eq!(list(&mut t).body["versionIsDeployed"], false);
}

#[test]
fn an_update_uploads_builds_on_the_deployed_build_and_settles_its_creation_second() {
    let mut t = Twilio::new();
    let a = update(&mut t, "ZNcli");
    assert_eq!(a.status, 200, "{:?}", a.body);
    let build = a.body["buildSid"].as_str().expect("sid").to_string();
    assert_eq!(a.body, json!({"success": true, "buildSid": build}));
    let kinds = t.kinds();
    assert_eq!(
        &kinds[5..9],
        [
            "createServerlessAsset",
            "listServerlessAssets",
            "uploadServerlessAssetVersion",
            "createServerlessBuild"
        ]
    );
    // Re-read until the creation second is over: the second read is delayed.
    let settles: Vec<Option<u64>> = t
        .log
        .iter()
        .skip(9)
        .filter(|(k, _)| k == "fetchServerlessEnvironment")
        .map(|(_, d)| *d)
        .collect();
    assert_eq!(settles.first(), Some(&None), "the first re-read at once");
    assert!(
        settles
            .iter()
            .skip(1)
            .all(|d| d.is_some_and(|ms| ms > 0 && ms <= 1300)),
        "{settles:?}"
    );
    assert!(settles.len() <= usize::from(machine::SETTLE_ROUNDS));
    // The asset exists now: a second update (after publishing) does not create another.
    t.complete_all();
    let p = t.run(machine::publish(env(), Some(build.clone())));
    assert_eq!(p.body, json!({"success": true, "deploymentSid": "ZDnew"}));
    assert_eq!(t.env_build.as_deref(), Some(build.as_str()));
    let v = t.deployed_version();
    let from = t.log.len();
    assert_eq!(update(&mut t, &v).status, 200);
    assert!(!t.log[from..]
        .iter()
        .any(|(k, _)| k == "createServerlessAsset"));
}

#[test]
fn stale_pending_and_invalid_updates_are_refused_before_anything_is_written() {
    let mut t = Twilio::new();
    let a = update(&mut t, "ZNold");
    assert_eq!(
        (a.status, a.body["code"].clone()),
        (409, json!("stale_version"))
    );
    let bad = t.run(machine::update(
        env(),
        Some("{\"rules\": 3}".into()),
        Some("ZNcli".into()),
    ));
    assert_eq!(
        (bad.status, bad.body["code"].clone()),
        (400, json!("invalid_config"))
    );
    let none = t.run(machine::update(env(), None, Some("ZNcli".into())));
    assert_eq!(none.body["parameter"], "data");
    let none = t.run(machine::update(
        env(),
        Some(CONFIG.into()),
        Some(" ".into()),
    ));
    assert_eq!(none.body["parameter"], "version");
    assert!(t
        .kinds()
        .iter()
        .all(|k| k.starts_with("fetch") || k.starts_with("list")));
    assert_eq!(update(&mut t, "ZNcli").status, 200);
    let pending = update(&mut t, "ZNcli");
    assert_eq!(pending.body["code"], "change_pending");
}

#[test]
fn a_rival_build_made_first_in_the_same_second_wins_and_ours_is_removed() {
    let mut t = Twilio::new();
    // Its first settle read (the check's read is the first) finds the rival.
    t.rival = Some(2);
    let a = update(&mut t, "ZNcli");
    assert_eq!(a.status, 409, "{:?}", a.body);
    assert_eq!(a.body["code"], "concurrent_update");
    assert_eq!(t.kinds().last(), Some(&"deleteServerlessBuild"));
    let waiting: Vec<&Value> = t
        .builds
        .iter()
        .filter(|b| b["status"] == "building")
        .collect();
    assert_eq!(waiting.len(), 1, "ours was removed");
    assert_eq!(waiting[0]["sid"], "ZB000", "the rival waits");
}

#[test]
fn a_failed_settle_read_removes_our_build_and_answers_the_failure() {
    let mut t = Twilio::new();
    // The first listing of builds is the update's check, the second its first settle read.
    t.fail_at("listServerlessBuilds", 2, Fault::Lost);
    let answer = update(&mut t, "ZNcli");
    assert_eq!(answer.status, 502, "{:?}", answer.body);
    assert!(answer.body["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("Listing the builds failed")));
    assert_eq!(t.kinds().last(), Some(&"deleteServerlessBuild"));
    assert!(
        !t.builds.iter().any(|b| b["status"] == "building"),
        "removed"
    );
}

#[test]
fn failures_answer_naming_the_step() {
    for (kind, fault, status, what) in [
        (
            "fetchServerlessEnvironment",
            Fault::Status(401),
            500,
            "Reading the environment failed",
        ),
        (
            "listServerlessAssets",
            Fault::Lost,
            502,
            "Listing the assets failed",
        ),
        (
            "createServerlessAsset",
            Fault::Status(429),
            502,
            "Creating the config asset failed",
        ),
        (
            "uploadServerlessAssetVersion",
            Fault::Status(400),
            400,
            "Uploading the config failed",
        ),
        (
            "createServerlessBuild",
            Fault::NotSent,
            504,
            "Creating the build was not attempted",
        ),
    ] {
        let mut t = Twilio::new();
        t.fail(kind, fault);
        let a = update(&mut t, "ZNcli");
        assert_eq!(a.status, status, "{kind}: {:?}", a.body);
        assert!(
            a.body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with(what)),
            "{kind}: {:?}",
            a.body
        );
        assert!(!t.kinds().contains(&"deleteServerlessBuild"), "{kind}");
    }
}

#[test]
fn nothing_deployed_is_a_409() {
    let mut t = Twilio::new();
    t.env_build = None;
    for a in [
        list(&mut t),
        update(&mut t, "ZNcli"),
        t.run(machine::publish(env(), Some("ZB1".into()))),
    ] {
        assert_eq!(
            (a.status, a.body["code"].clone()),
            (409, json!("nothing_deployed"))
        );
    }
}

#[test]
fn publish_deploys_only_what_the_rules_allow() {
    let mut t = Twilio::new();
    let a = update(&mut t, "ZNcli");
    let build = a.body["buildSid"].as_str().unwrap_or("").to_string();
    let early = t.run(machine::publish(env(), Some(build.clone())));
    assert_eq!(early.body["code"], "not_completed");
    let unknown = t.run(machine::publish(env(), Some("ZBnone".into())));
    assert_eq!(unknown.body["code"], "unknown_build");
    let none = t.run(machine::publish(env(), None));
    assert_eq!(
        (none.status, none.body["parameter"].clone()),
        (400, json!("buildSid"))
    );
    t.complete_all();
    t.fail("createServerlessDeployment", Fault::Status(400));
    let refused = t.run(machine::publish(env(), Some(build.clone())));
    assert_eq!(refused.status, 400);
    assert!(refused.body["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("Deploying the build failed")));
    assert_eq!(t.run(machine::publish(env(), Some(build))).status, 200);
}

#[test]
fn update_status_ends_for_unknown_builds() {
    let mut t = Twilio::new();
    let status = |t: &mut Twilio, sid: &str| t.run(machine::update_status(env(), Some(sid.into())));
    let deployed = t.env_build.clone().unwrap_or_default();
    assert_eq!(status(&mut t, &deployed).body["buildStatus"], "completed");
    assert_eq!(status(&mut t, "ZBnone").body["buildStatus"], "failed");
    t.fail("fetchServerlessBuildStatus", Fault::Status(400));
    assert_eq!(status(&mut t, "XXbad").body["buildStatus"], "failed");
    t.fail("fetchServerlessBuildStatus", Fault::Status(503));
    let a = status(&mut t, &deployed);
    assert_eq!(a.status, 502);
    let missing = t.run(machine::update_status(env(), None));
    assert_eq!(
        missing.body,
        json!({"error": "Missing buildSid: the build /admin/update answered", "parameter": "buildSid"})
    );
}

#[test]
fn fetch_config_checks_the_callers_credentials_and_answers_the_stored_text() {
    let mut t = Twilio::new();
    let header = |user: &str, secret: &str| {
        let text = format!("{user}:{secret}");
        Some(format!("Basic {}", b64(text.as_bytes())))
    };
    let ask = |t: &mut Twilio, request: FetchConfigRequest, config: &str| {
        t.run(machine::fetch_config("ZS1", &request, config.into()))
    };
    let ok = ask(
        &mut t,
        FetchConfigRequest {
            credentials_in_parameters: false,
            authorization: header("SK1", "right"),
        },
        CONFIG,
    );
    assert_eq!(ok.status, 200);
    assert_eq!(ok.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        ok.body,
        json!(CONFIG),
        "the stored text, keys in their order"
    );
    let wrong = ask(
        &mut t,
        FetchConfigRequest {
            credentials_in_parameters: false,
            authorization: header("SK1", "wrong"),
        },
        CONFIG,
    );
    assert_eq!(wrong.status, 401);
    let in_url = ask(
        &mut t,
        FetchConfigRequest {
            credentials_in_parameters: true,
            authorization: header("SK1", "right"),
        },
        CONFIG,
    );
    assert_eq!(
        (in_url.status, in_url.body["parameter"].clone()),
        (400, json!("apiKey"))
    );
    let sent = t.log.len();
    let none = ask(&mut t, FetchConfigRequest::default(), CONFIG);
    assert_eq!(none.status, 401);
    assert_eq!(t.log.len(), sent, "nothing asked without credentials");
    let broken = ask(
        &mut t,
        FetchConfigRequest {
            credentials_in_parameters: false,
            authorization: header("SK1", "right"),
        },
        "{not json",
    );
    assert_eq!(broken.status, 500);
    assert!(broken.body["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("The deployed config is not JSON")));
    t.fail("fetchServerlessService", Fault::Lost);
    let lost = ask(
        &mut t,
        FetchConfigRequest {
            credentials_in_parameters: false,
            authorization: header("SK1", "right"),
        },
        CONFIG,
    );
    assert_eq!(lost.status, 502);
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn basic_credentials_read_as_node_wrote_them() {
    let c = basic_credentials(&format!("Basic {}", b64(b"AC1:se:cret"))).expect("reads");
    assert_eq!(
        (c.username.as_str(), c.password.as_str()),
        ("AC1", "se:cret")
    );
    let c = basic_credentials(&format!("  basic   {} ", b64(b"u:"))).expect("empty secret");
    assert_eq!(c.password, "");
    assert!(
        basic_credentials(&format!("Basic {}", b64(b":x"))).is_none(),
        "no user"
    );
    assert!(basic_credentials(&format!("Basic {}", b64(b"nocolon"))).is_none());
    assert!(basic_credentials(&format!("Bearer {}", b64(b"u:p"))).is_none());
    assert!(basic_credentials("Basic a b").is_none());
    assert!(basic_credentials("Basic !!!!").is_none());
    assert!(basic_credentials("Basic").is_none());
}

#[test]
fn the_config_asset_is_the_earliest_of_this_environment() {
    let assets = json!([
        {"sid": "ZH9", "friendlyName": "schedule-config ZE1", "dateCreated": "2026-01-01T00:00:01Z"},
        {"sid": "ZH5", "friendlyName": "schedule-config ZE2", "dateCreated": "2026-01-01T00:00:00Z"},
        {"sid": "ZH7", "friendlyName": "schedule-config ZE1", "dateCreated": "2026-01-01T00:00:01Z"},
        {"sid": "ZH8", "friendlyName": "schedule-config ZE1", "dateCreated": "garbage"},
    ]);
    assert_eq!(config_asset(&env(), &assets).as_deref(), Some("ZH7"));
    assert_eq!(config_asset(&env(), &json!([])), None);
    assert_eq!(config_asset(&env(), &json!({"x": 1})), None);
}

#[test]
fn a_state_the_machine_did_not_write_is_refused() {
    assert!(serde_json::from_value::<Machine>(json!({"machine": "fax"})).is_err());
    assert_eq!(machine::unreadable_state().status, 500);
}

fn arb_outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        any::<Option<u16>>().prop_map(|s| Outcome::Failed(Failure {
            status: s,
            message: "x".into(),
            attempted: true,
            ..Failure::default()
        })),
        Just(Outcome::Done(json!(null))),
        Just(Outcome::Done(
            json!({"sid": "ZB1", "buildSid": "ZB1", "status": "completed"})
        )),
        Just(Outcome::Done(json!([{"sid": "ZB1"}]))),
        Just(Outcome::Done(json!([]))),
    ]
}

proptest! {
    #[test]
    fn any_outcomes_end_every_machine_without_a_panic(outcomes in proptest::collection::vec(arb_outcome(), 0..40)) {
        let starts = [
            machine::list(env(), CONFIG.into()),
            machine::update(env(), Some(CONFIG.into()), Some("ZNcli".into())),
            machine::publish(env(), Some("ZB1".into())),
            machine::update_status(env(), Some("ZB1".into())),
            machine::running_config_source(env()),
        ];
        for start in starts {
            let mut step = start;
            let mut given = outcomes.iter().cloned();
            for _ in 0..40 {
                match step {
                    Step::Answer(a) => { prop_assert!((200..600).contains(&a.status)); break; }
                    Step::Run { state, effects } => {
                        let batch: Vec<Outcome> = effects.iter().map(|_| given.next().unwrap_or(Outcome::Done(json!([])))).collect();
                        step = machine::resume(state, batch, T0);
                    }
                }
            }
        }
    }
}

#[test]
fn the_running_config_is_the_deployed_builds_config_text() {
    let step_of = |m: Machine, o: Outcome| machine::resume(m, vec![o], T0);
    let run = |step: Step<Machine>| match step {
        Step::Run { state, effects } => {
            (state, effects.into_iter().map(|e| e.op).collect::<Vec<_>>())
        }
        Step::Answer(a) => panic!("answered {a:?}"),
    };
    let answer = |step: Step<Machine>| step.as_answer().map(|a| (a.status, a.body.clone()));
    let shipped = Some((200, json!({"key": "asset", "text": null})));
    let (state, ops) = run(machine::running_config_source(env()));
    assert!(matches!(
        ops.as_slice(),
        [Op::FetchServerlessEnvironment { .. }]
    ));
    // Nothing deployed: the shipped asset.
    assert_eq!(
        answer(step_of(
            state.clone(),
            Outcome::Done(json!({"buildSid": null}))
        )),
        shipped
    );
    assert_eq!(
        answer(step_of(
            state.clone(),
            Outcome::Done(json!({"buildSid": ""}))
        )),
        shipped
    );
    let (build_state, ops) = run(step_of(
        state.clone(),
        Outcome::Done(json!({"buildSid": "ZB1"})),
    ));
    assert!(
        matches!(ops.as_slice(), [Op::FetchServerlessBuild { build_sid, .. }] if build_sid == "ZB1")
    );
    // A build without /config.json: the shipped asset.
    let without = step_of(
        build_state.clone(),
        Outcome::Done(json!({"assetVersions": []})),
    );
    assert_eq!(answer(without), shipped);
    let with = json!({"assetVersions": [{"sid": "ZN0", "path": "/other.json"}, {"sid": "ZN1", "path": "/config.json"}]});
    let (content_state, ops) = run(step_of(build_state, Outcome::Done(with)));
    assert!(
        matches!(ops.as_slice(), [Op::FetchEmulatorAssetContent { version_sid }] if version_sid == "ZN1")
    );
    // The text as uploaded, under its version's key (not parsed: the book loads it tolerantly).
    let text = "{\"schedules\": [], \"rules\": [";
    assert_eq!(
        answer(step_of(content_state.clone(), Outcome::Done(json!(text)))),
        Some((200, json!({"key": "ZN1", "text": text})))
    );
    let (status, body) = answer(step_of(
        content_state.clone(),
        Outcome::Done(json!({"a": 1})),
    ))
    .expect("answer");
    assert_eq!(status, 502);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("not text")),
        "{body}"
    );
    let failed = |status| {
        Outcome::Failed(Failure {
            status: Some(status),
            attempted: true,
            message: "boom".into(),
            ..Failure::default()
        })
    };
    assert_eq!(
        answer(step_of(content_state, failed(404))).map(|(s, b)| (s, b["error"].clone())),
        Some((
            404,
            json!("Reading the deployed config from the emulator failed: boom")
        ))
    );
    assert_eq!(
        answer(step_of(state, failed(500))).map(|(s, b)| (s, b["error"].clone())),
        Some((
            502,
            json!("Reading the deployed build from the emulator failed: boom")
        ))
    );
    // The state travels as JSON between steps.
    let wire = serde_json::to_value(Machine::RunningConfig {
        env: env(),
        stage: RunningStage::Content {
            version_sid: "ZN1".into(),
        },
    })
    .expect("json");
    assert_eq!(wire["stage"], json!({"content": {"versionSid": "ZN1"}}));
    assert!(serde_json::from_value::<Machine>(wire).is_ok());
}
