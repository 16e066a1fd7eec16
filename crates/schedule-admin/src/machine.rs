//! The admin API's functions as machines of the effects protocol (docs/effects.md): each says
//! which Serverless requests to make and what their outcomes mean; `functions/common/effects`
//! makes them. The shims only read the request, authorize it and run the machine.
//!
//! - **list**: the environment (which build runs), then at once the deployed build, the
//!   deployments, the builds and the assets; the answer is the running config with each
//!   schedule's status, `version` and `versionIsDeployed` ([`publishing::Facts::list_version`]).
//! - **update**: the config is validated first (400, nothing read); the same facts; a stale
//!   version or a waiting change is a 409 ([`publishing::update_plan`]); the environment's config
//!   asset is found (or created, then found again: the earliest wins should two updates create
//!   one); the config is uploaded as its new `/config.json` version; the build is created with
//!   everything else of the deployed build. Then up to [`SETTLE_ROUNDS`] rounds re-read the facts
//!   ([`publishing::after_create`]): another update's build going first is a 409 and ours is
//!   removed; a build made within its creation second waits until that second is over (the
//!   re-read is delayed by `waitMs`); a failed re-read also removes our build (nobody could
//!   publish it, and it would block everyone's updates for 10 minutes) and answers the failure.
//! - **publish**: the facts, [`publishing::publish_check`], then the deployment.
//! - **update-status**: the build's status; a build Twilio does not know (404, or 400 for a SID
//!   of another kind) is `failed` ([`publishing::status_reply`]).
//! - **fetch-config**: credentials only in `Authorization: Basic`; they are checked by reading
//!   this service with them (a 401/403/404 is our 401); the answer is the running config text.
//!
//! A failed request answers as [`effects::Failure::answer`] decides, naming the step
//! ("Reading the environment failed: …").

use crate::admin::{list_body, prepare_update, Rejection, Reply};
use crate::publishing::{self, BuildFacts, BuildSpec, DeploymentFacts, Facts, CONFIG_PATH};
use effects::{Answer, Credentials, Effect, Failure, Op, Outcome, Step};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How many times `update` re-reads the builds after creating its own before answering.
pub const SETTLE_ROUNDS: u8 = 3;
/// Serverless list pages (Twilio's most).
pub const PAGE_SIZE: u32 = 100;

/// The service and environment the function runs in (`context.SERVICE_SID`, `ENVIRONMENT_SID`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Env {
    pub service_sid: String,
    pub environment_sid: String,
}

/// The friendly name of the Asset holding this environment's admin-made config versions.
pub fn config_asset_name(environment_sid: &str) -> String {
    format!("schedule-config {environment_sid}")
}

/// Where a facts read is: the environment first, then the rest at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Reading {
    Environment,
    Rest,
}

/// A machine's state between steps (plain JSON the executor carries back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "machine",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Machine {
    List {
        env: Env,
        config: String,
        reading: Reading,
    },
    Update {
        env: Env,
        stage: UpdateStage,
    },
    Publish {
        env: Env,
        build_sid: String,
        reading: Option<Reading>,
    },
    Status {
        build_sid: String,
    },
    FetchConfig {
        config: String,
    },
    /// Against the emulator only: the `/config.json` the environment runs.
    RunningConfig {
        env: Env,
        stage: RunningStage,
    },
}

/// Where a running-config read is: the environment, its build, then the config's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum RunningStage {
    Environment,
    Build,
    Content { version_sid: String },
}

/// The key of the shipped `/config.json` in a running-config answer (a version SID otherwise).
pub const SHIPPED_CONFIG: &str = "asset";

/// Where an update is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum UpdateStage {
    /// Reading the facts the version and pending checks need.
    Check {
        version: String,
        config: String,
        reading: Reading,
    },
    /// Creating the environment's config asset (none existed).
    CreateAsset { config: String, spec: BuildSpec },
    /// Listing the assets again after creating one.
    FindAsset { config: String, spec: BuildSpec },
    /// Uploading the config as a new version of the asset.
    Upload { spec: BuildSpec },
    /// Creating the build.
    Build,
    /// Re-reading the facts after the build was created (`round` from 0).
    Settle {
        build_sid: String,
        round: u8,
        reading: Reading,
    },
    /// Removing our build; then `answer`.
    Remove { answer: Answer },
}

type AdminStep = Step<Machine>;

fn reply(r: Reply) -> Answer {
    Answer::json(r.status, r.body)
}

fn missing(parameter: &str, what: &str) -> Answer {
    Answer::json(
        400,
        json!({"error": format!("Missing {parameter}: {what}"), "parameter": parameter}),
    )
}

fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn unreadable(what: &str, e: impl std::fmt::Display) -> Answer {
    Answer::json(
        502,
        json!({"error": format!("{what} failed: Twilio's answer could not be read ({e})")}),
    )
}

// ---- reading the facts -------------------------------------------------------------------

fn read_environment(env: &Env) -> Op {
    Op::FetchServerlessEnvironment {
        service_sid: env.service_sid.clone(),
        environment_sid: env.environment_sid.clone(),
    }
}

/// The environment's deployed build, or our answer (its read failed; nothing is deployed).
fn deployed_build(outcome: Outcome) -> Result<String, Answer> {
    let environment = outcome
        .into_result()
        .map_err(|f| f.answer("Reading the environment"))?;
    match environment.get("buildSid").and_then(Value::as_str) {
        Some(sid) if !sid.is_empty() => Ok(sid.to_string()),
        _ => {
            let sid = environment.get("sid").and_then(Value::as_str).unwrap_or("");
            let message = format!("Environment {sid} has no deployed build yet: deploy the service first (npm run deploy).");
            Err(Answer::json(
                409,
                json!({"error": message, "code": "nothing_deployed"}),
            ))
        }
    }
}

fn read_rest(env: &Env, build_sid: String) -> Vec<Op> {
    vec![
        Op::FetchServerlessBuild {
            service_sid: env.service_sid.clone(),
            build_sid,
        },
        Op::ListServerlessDeployments {
            service_sid: env.service_sid.clone(),
            environment_sid: env.environment_sid.clone(),
            paging: effects::PagingAll {
                page_size: Some(PAGE_SIZE),
                limit: None,
            },
        },
        Op::ListServerlessBuilds {
            service_sid: env.service_sid.clone(),
            paging: effects::PagingAll {
                page_size: Some(PAGE_SIZE),
                limit: None,
            },
        },
        list_assets(env),
    ]
}

fn list_assets(env: &Env) -> Op {
    Op::ListServerlessAssets {
        service_sid: env.service_sid.clone(),
        paging: effects::PagingAll {
            page_size: Some(PAGE_SIZE),
            limit: None,
        },
    }
}

/// The environment's config asset among `assets`: the earliest (creation time, then SID), should
/// two updates have created one at once.
pub fn config_asset(env: &Env, assets: &Value) -> Option<String> {
    let name = config_asset_name(&env.environment_sid);
    let mut mine: Vec<(Option<i64>, &str)> = assets
        .as_array()?
        .iter()
        .filter(|a| a.get("friendlyName").and_then(Value::as_str) == Some(name.as_str()))
        .filter_map(|a| {
            let sid = a.get("sid").and_then(Value::as_str)?;
            let created = a
                .get("dateCreated")
                .and_then(Value::as_str)
                .and_then(values::instant::parse)
                .map(|t| t.timestamp_millis());
            Some((created, sid))
        })
        .collect();
    // An asset without a readable creation time sorts last.
    mine.sort_by_key(|(created, sid)| (created.is_none(), *created, *sid));
    mine.first().map(|(_, sid)| sid.to_string())
}

/// The facts from the batch [`read_rest`] asked for.
fn facts(env: &Env, outcomes: Vec<Outcome>, now_ms: f64) -> Result<Facts, Answer> {
    let mut outcomes = outcomes.into_iter();
    let mut next = |what: &str| {
        outcomes
            .next()
            .unwrap_or_else(|| Outcome::Failed(Failure::missing()))
            .into_result()
            .map_err(|f| f.answer(what))
    };
    let deployed = next("Reading the deployed build")?;
    let deployments = next("Listing the deployments")?;
    let builds = next("Listing the builds")?;
    let assets = next("Listing the assets")?;
    let deployed: BuildFacts = serde_json::from_value(deployed)
        .map_err(|e| unreadable("Reading the deployed build", e))?;
    let deployments: Vec<DeploymentFacts> = serde_json::from_value(deployments)
        .map_err(|e| unreadable("Listing the deployments", e))?;
    let builds: Vec<BuildFacts> =
        serde_json::from_value(builds).map_err(|e| unreadable("Listing the builds", e))?;
    Ok(Facts {
        config_asset_sid: config_asset(env, &assets),
        deployed,
        deployments,
        builds,
        now_ms,
    })
}

/// One step of a facts read: the next batch, the facts, or the answer.
enum Read {
    More(Vec<Op>),
    Facts(Facts),
    Stop(Answer),
}

fn read(env: &Env, reading: Reading, outcomes: Vec<Outcome>, now_ms: f64) -> Read {
    match reading {
        Reading::Environment => match deployed_build(effects::first(outcomes)) {
            Ok(build_sid) => Read::More(read_rest(env, build_sid)),
            Err(answer) => Read::Stop(answer),
        },
        Reading::Rest => match facts(env, outcomes, now_ms) {
            Ok(f) => Read::Facts(f),
            Err(answer) => Read::Stop(answer),
        },
    }
}

// ---- starts ------------------------------------------------------------------------------

/// `/admin/list`: `config` is the running config's text (common/schedule-config).
pub fn list(env: Env, config: String) -> AdminStep {
    let op = read_environment(&env);
    Step::one(
        Machine::List {
            env,
            config,
            reading: Reading::Environment,
        },
        op,
    )
}

/// `/admin/update` with the request's `data` and `version` (form fields as text).
pub fn update(env: Env, data: Option<String>, version: Option<String>) -> AdminStep {
    let Some(data) = given(data) else {
        return Step::answer(missing(
            "data",
            "the schedule configuration {rules, schedules}",
        ));
    };
    let Some(version) = given(version) else {
        return Step::answer(missing("version", "the version /admin/list answered"));
    };
    let config = match prepare_update(&data) {
        Ok(config) => config,
        Err(rejection) => return Step::answer(rejected(&rejection)),
    };
    let op = read_environment(&env);
    Step::one(
        Machine::Update {
            env,
            stage: UpdateStage::Check {
                version,
                config,
                reading: Reading::Environment,
            },
        },
        op,
    )
}

fn rejected(rejection: &Rejection) -> Answer {
    Answer::json(
        Rejection::STATUS,
        serde_json::to_value(rejection).unwrap_or(Value::Null),
    )
}

/// `/admin/publish` of `build_sid`.
pub fn publish(env: Env, build_sid: Option<String>) -> AdminStep {
    let Some(build_sid) = given(build_sid) else {
        return Step::answer(missing("buildSid", "the build /admin/update answered"));
    };
    let op = read_environment(&env);
    Step::one(
        Machine::Publish {
            env,
            build_sid,
            reading: Some(Reading::Environment),
        },
        op,
    )
}

/// `/admin/update-status` of `build_sid`.
pub fn update_status(env: Env, build_sid: Option<String>) -> AdminStep {
    let Some(build_sid) = given(build_sid) else {
        return Step::answer(missing("buildSid", "the build /admin/update answered"));
    };
    let op = Op::FetchServerlessBuildStatus {
        service_sid: env.service_sid,
        build_sid: build_sid.clone(),
    };
    Step::one(Machine::Status { build_sid }, op)
}

/// What `/admin/fetch-config` reads of its request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FetchConfigRequest {
    /// `apiKey` or `apiSecret` was sent as a parameter (query string or body).
    #[serde(default)]
    pub credentials_in_parameters: bool,
    /// The `Authorization` header.
    #[serde(default)]
    pub authorization: Option<String>,
}

const BASIC_HINT: &str = "send Authorization: Basic base64(apiKey:apiSecret)";

/// `/admin/fetch-config`: `config` is the running config's text.
pub fn fetch_config(service_sid: &str, request: &FetchConfigRequest, config: String) -> AdminStep {
    if request.credentials_in_parameters {
        return Step::answer(Answer::json(
            400,
            json!({"error": format!("Credentials are not accepted as parameters (they end up in URLs and logs); {BASIC_HINT}"), "parameter": "apiKey"}),
        ));
    }
    let Some(credentials) = request.authorization.as_deref().and_then(basic_credentials) else {
        return Step::answer(Answer::json(
            401,
            json!({"error": format!("Unauthorized: {BASIC_HINT} with an API key of this account")}),
        ));
    };
    Step::one(
        Machine::FetchConfig { config },
        Op::FetchServerlessService {
            service_sid: service_sid.to_string(),
            credentials: Some(credentials),
        },
    )
}

/// The credentials of an `Authorization: Basic base64(user:secret)` header (the secret may hold
/// colons; the user may not be empty).
pub fn basic_credentials(header: &str) -> Option<Credentials> {
    let (scheme, encoded) = header.trim().split_once(char::is_whitespace)?;
    let encoded = encoded.trim_start();
    if !scheme.eq_ignore_ascii_case("basic") || encoded.contains(char::is_whitespace) {
        return None;
    }
    let decoded = base64_decode(encoded)?;
    let text = String::from_utf8_lossy(&decoded);
    let (user, secret) = text.split_once(':')?;
    (!user.is_empty()).then(|| Credentials {
        username: user.to_string(),
        password: secret.to_string(),
    })
}

/// Standard base64 (padding optional); `None` for anything else.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.as_bytes().chunks(4) {
        let mut bits = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            bits |= value(*c)? << (18 - 6 * i);
        }
        let bytes = bits.to_be_bytes();
        out.extend(bytes.iter().skip(1).take(chunk.len() - 1));
    }
    Some(out)
}

// ---- resume ------------------------------------------------------------------------------

/// The next step of any admin machine.
pub fn resume(machine: Machine, outcomes: Vec<Outcome>, now_ms: f64) -> AdminStep {
    match machine {
        Machine::List {
            env,
            config,
            reading,
        } => match read(&env, reading, outcomes, now_ms) {
            Read::More(ops) => Step::all(
                Machine::List {
                    env,
                    config,
                    reading: Reading::Rest,
                },
                ops,
            ),
            Read::Facts(f) => {
                let (version, deployed) = f.list_version();
                Step::answer(reply(list_body(&config, now_ms, &version, deployed)))
            }
            Read::Stop(answer) => Step::answer(answer),
        },
        Machine::Update { env, stage } => resume_update(env, stage, outcomes, now_ms),
        Machine::Publish {
            env,
            build_sid,
            reading,
        } => resume_publish(env, build_sid, reading, outcomes, now_ms),
        Machine::Status { build_sid } => {
            let status = match effects::first(outcomes).found() {
                Ok(Some(value)) => Some(match value.get("status") {
                    Some(Value::String(s)) => s.clone(),
                    other => other.map(Value::to_string).unwrap_or_default(),
                }),
                Ok(None) => None,
                // A SID of another kind is Twilio's 400: no such build either.
                Err(f) if f.is(400) => None,
                Err(f) => return Step::answer(f.answer("Reading the build status")),
            };
            Step::answer(reply(publishing::status_reply(
                &build_sid,
                status.as_deref(),
            )))
        }
        Machine::RunningConfig { env, stage } => {
            resume_running_config(env, stage, effects::first(outcomes))
        }
        Machine::FetchConfig { config } => match effects::first(outcomes).into_result() {
            Ok(_) => Step::answer(running_config(config)),
            Err(f) if f.is(401) || f.is(403) || f.is(404) => Step::answer(Answer::json(
                401,
                json!({"error": "Unauthorized: these credentials cannot read this service"}),
            )),
            Err(f) => Step::answer(f.answer("Checking the credentials")),
        },
    }
}

/// Against the emulator (`common/schedule-config`): the `/config.json` the environment runs.
/// The environment, then its build, then that build's `/config.json` version's content; the
/// answer is `{key: versionSid, text}`, or `{key: "asset", text: null}` when nothing is deployed
/// or the build has no `/config.json` (the shipped asset is the config, read from disk). A failed
/// read is the answer, naming it.
pub fn running_config_source(env: Env) -> AdminStep {
    let op = read_environment(&env);
    Step::one(
        Machine::RunningConfig {
            env,
            stage: RunningStage::Environment,
        },
        op,
    )
}

/// The `/config.json` asset version of a build (`fetchServerlessBuild`'s value), if it has one.
pub fn running_config_version(build: &Value) -> Option<String> {
    build
        .get("assetVersions")
        .and_then(Value::as_array)?
        .iter()
        .find(|v| v.get("path").and_then(Value::as_str) == Some(CONFIG_PATH))
        .and_then(|v| v.get("sid").and_then(Value::as_str))
        .map(str::to_string)
}

fn resume_running_config(env: Env, stage: RunningStage, outcome: Outcome) -> AdminStep {
    let shipped = || {
        Step::answer(Answer::json(
            200,
            json!({"key": SHIPPED_CONFIG, "text": null}),
        ))
    };
    let value = match outcome.into_result() {
        Ok(v) => v,
        Err(f) => {
            let what = match stage {
                RunningStage::Content { .. } => "Reading the deployed config from the emulator",
                _ => "Reading the deployed build from the emulator",
            };
            return Step::answer(f.answer(what));
        }
    };
    let next = |env: Env, stage: RunningStage, op: Op| {
        Step::one(Machine::RunningConfig { env, stage }, op)
    };
    match stage {
        RunningStage::Environment => match value.get("buildSid").and_then(Value::as_str) {
            Some(build_sid) if !build_sid.is_empty() => {
                let op = Op::FetchServerlessBuild {
                    service_sid: env.service_sid.clone(),
                    build_sid: build_sid.to_string(),
                };
                next(env, RunningStage::Build, op)
            }
            _ => shipped(),
        },
        RunningStage::Build => match running_config_version(&value) {
            Some(version_sid) => {
                let op = Op::FetchEmulatorAssetContent {
                    version_sid: version_sid.clone(),
                };
                next(env, RunningStage::Content { version_sid }, op)
            }
            None => shipped(),
        },
        RunningStage::Content { version_sid } => match value {
            Value::String(text) => {
                Step::answer(Answer::json(200, json!({"key": version_sid, "text": text})))
            }
            _ => Step::answer(unreadable(
                "Reading the deployed config from the emulator",
                "its content is not text",
            )),
        },
    }
}

/// The running config as it is stored (its text, so its keys keep their order), if it is JSON.
fn running_config(config: String) -> Answer {
    match serde_json::from_str::<serde::de::IgnoredAny>(&config) {
        Ok(_) => Answer::text(200, config, "application/json"),
        Err(e) => Answer::json(
            500,
            json!({"error": format!("The deployed config is not JSON ({e}); fix assets/config.private.json and deploy")}),
        ),
    }
}

fn resume_publish(
    env: Env,
    build_sid: String,
    reading: Option<Reading>,
    outcomes: Vec<Outcome>,
    now_ms: f64,
) -> AdminStep {
    let Some(reading) = reading else {
        // The deployment was made.
        return Step::answer(match effects::first(outcomes).into_result() {
            Ok(deployment) => match deployment.get("sid").and_then(Value::as_str) {
                Some(sid) => Answer::json(200, json!({"success": true, "deploymentSid": sid})),
                None => unreadable("Deploying the build", "no deployment SID"),
            },
            Err(f) => f.answer("Deploying the build"),
        });
    };
    match read(&env, reading, outcomes, now_ms) {
        Read::More(ops) => Step::all(
            Machine::Publish {
                env,
                build_sid,
                reading: Some(Reading::Rest),
            },
            ops,
        ),
        Read::Facts(f) => match publishing::publish_check(&f, &build_sid) {
            Err(r) => Step::answer(reply(r)),
            Ok(()) => {
                let op = Op::CreateServerlessDeployment {
                    service_sid: env.service_sid.clone(),
                    environment_sid: env.environment_sid.clone(),
                    build_sid: build_sid.clone(),
                };
                Step::one(
                    Machine::Publish {
                        env,
                        build_sid,
                        reading: None,
                    },
                    op,
                )
            }
        },
        Read::Stop(answer) => Step::answer(answer),
    }
}

fn update_step(env: Env, stage: UpdateStage, ops: Vec<Op>) -> AdminStep {
    Step::all(Machine::Update { env, stage }, ops)
}

fn upload(env: Env, asset_sid: String, config: String, spec: BuildSpec) -> AdminStep {
    let op = Op::UploadServerlessAssetVersion {
        service_sid: env.service_sid.clone(),
        asset_sid,
        path: CONFIG_PATH.to_string(),
        visibility: "private".into(),
        content: config,
        content_type: "application/json".into(),
    };
    update_step(env, UpdateStage::Upload { spec }, vec![op])
}

/// Remove our build, then answer `answer` (whether or not the removal went through: an
/// abandoned build also stops counting after [`publishing::ABANDONED_AFTER_MINUTES`]).
fn remove(env: Env, build_sid: String, answer: Answer) -> AdminStep {
    let op = Op::DeleteServerlessBuild {
        service_sid: env.service_sid.clone(),
        build_sid,
    };
    update_step(env, UpdateStage::Remove { answer }, vec![op])
}

fn resume_update(env: Env, stage: UpdateStage, outcomes: Vec<Outcome>, now_ms: f64) -> AdminStep {
    match stage {
        UpdateStage::Check {
            version,
            config,
            reading,
        } => match read(&env, reading, outcomes, now_ms) {
            Read::More(ops) => update_step(
                env,
                UpdateStage::Check {
                    version,
                    config,
                    reading: Reading::Rest,
                },
                ops,
            ),
            Read::Stop(answer) => Step::answer(answer),
            Read::Facts(f) => match publishing::update_plan(&f, &version) {
                Err(r) => Step::answer(reply(r)),
                Ok(spec) => match f.config_asset_sid {
                    Some(asset) => upload(env, asset, config, spec),
                    None => {
                        let op = Op::CreateServerlessAsset {
                            service_sid: env.service_sid.clone(),
                            friendly_name: config_asset_name(&env.environment_sid),
                        };
                        update_step(env, UpdateStage::CreateAsset { config, spec }, vec![op])
                    }
                },
            },
        },
        UpdateStage::CreateAsset { config, spec } => {
            if let Err(f) = effects::first(outcomes).into_result() {
                return Step::answer(f.answer("Creating the config asset"));
            }
            let op = list_assets(&env);
            update_step(env, UpdateStage::FindAsset { config, spec }, vec![op])
        }
        UpdateStage::FindAsset { config, spec } => {
            let assets = match effects::first(outcomes).into_result() {
                Ok(assets) => assets,
                Err(f) => return Step::answer(f.answer("Listing the assets")),
            };
            match config_asset(&env, &assets) {
                Some(asset) => upload(env, asset, config, spec),
                None => Step::answer(unreadable(
                    "Creating the config asset",
                    "the new asset is not listed",
                )),
            }
        }
        UpdateStage::Upload { spec } => {
            let version = match effects::first(outcomes).into_result() {
                Ok(version) => version,
                Err(f) => return Step::answer(f.answer("Uploading the config")),
            };
            let Some(version_sid) = version.get("sid").and_then(Value::as_str) else {
                return Step::answer(Answer::json(
                    502,
                    json!({"error": "Uploading the config failed: the answer has no version SID"}),
                ));
            };
            let mut asset_versions = spec.asset_versions;
            asset_versions.push(version_sid.to_string());
            let op = Op::CreateServerlessBuild {
                service_sid: env.service_sid.clone(),
                function_versions: spec.function_versions,
                asset_versions,
                dependencies: Some(spec.dependencies),
                runtime: spec.runtime,
            };
            update_step(env, UpdateStage::Build, vec![op])
        }
        UpdateStage::Build => {
            let build = match effects::first(outcomes).into_result() {
                Ok(build) => build,
                Err(f) => return Step::answer(f.answer("Creating the build")),
            };
            let Some(build_sid) = build.get("sid").and_then(Value::as_str) else {
                return Step::answer(unreadable("Creating the build", "no build SID"));
            };
            settle(env, build_sid.to_string(), 0, 0)
        }
        UpdateStage::Settle {
            build_sid,
            round,
            reading,
        } => match read(&env, reading, outcomes, now_ms) {
            Read::More(ops) => update_step(
                env,
                UpdateStage::Settle {
                    build_sid,
                    round,
                    reading: Reading::Rest,
                },
                ops,
            ),
            Read::Stop(answer) => remove(env, build_sid, answer),
            Read::Facts(f) => match publishing::after_create(&f, &build_sid) {
                Err(r) => remove(env, build_sid, reply(r)),
                Ok(s) if s.wait_ms == 0 || round + 1 >= SETTLE_ROUNDS => {
                    Step::answer(created(&build_sid))
                }
                Ok(s) => settle(env, build_sid, round + 1, s.wait_ms),
            },
        },
        UpdateStage::Remove { answer } => Step::answer(answer),
    }
}

fn created(build_sid: &str) -> Answer {
    Answer::json(200, json!({"success": true, "buildSid": build_sid}))
}

/// Settle round `round`: read the facts again, `wait_ms` from now.
fn settle(env: Env, build_sid: String, round: u8, wait_ms: u64) -> AdminStep {
    let effect = Effect::from(read_environment(&env)).after(wait_ms);
    Step::Run {
        state: Machine::Update {
            env,
            stage: UpdateStage::Settle {
                build_sid,
                round,
                reading: Reading::Environment,
            },
        },
        effects: vec![effect],
    }
}

/// The answer for a state the executor handed back that this crate did not write.
pub fn unreadable_state() -> Answer {
    Answer::json(
        500,
        json!({"error": "The admin machine could not read its state or the outcomes the executor handed back", "code": "unreadable_state"}),
    )
}
