//! Publishing a new configuration through the Serverless API without losing anyone's work.
//!
//! The admin API edits the service it runs in: `update` uploads the config as a new version of the
//! environment's **config asset** (a Serverless Asset of its own per environment, so builds made by
//! the admin API are recognisable) and creates a build; `publish` deploys that build. These
//! functions decide, from facts the admin machines read (`machine.rs`) (the environment's deployed build found through
//! `build_sid`, its deployments, the service's builds), what may happen:
//!
//! - **The new build keeps everything** ([`update_plan`]): every function version, every other
//!   asset version, the dependencies and the runtime of the *deployed* build; only `/config.json`
//!   is replaced.
//! - **`version`** (what `list` answered, echoed back by the plugin) is the deployed build's
//!   `/config.json` asset version SID: the version of the data `list` showed.
//! - **Pending config builds** are config builds of this environment that were created since the
//!   deployed build was deployed, have not failed, and are younger than [`ABANDONED_AFTER_MINUTES`]
//!   (the plugin publishes seconds after a build completes; an older one was abandoned, e.g. the
//!   browser closed while polling). While one exists, `versionIsDeployed` is false and any other
//!   `update` is a 409: publishing it would silently overwrite that admin's change.
//! - **Two updates at the same time** both pass the first check and both create a build; each
//!   then re-reads the pending builds ([`after_create`]), and the earliest (creation time, then
//!   SID) wins; the other answers 409. Both reach the same verdict from the same facts.
//! - **`publish`** ([`publish_check`]) deploys only a completed config build of this service and
//!   environment, built on the deployed build's functions, created since the last deployment, and
//!   first in line; anything else is a 409 naming why.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::Reply;

/// The path every config build replaces.
pub const CONFIG_PATH: &str = "/config.json";
/// A config build not published within this time counts as abandoned.
pub const ABANDONED_AFTER_MINUTES: i64 = 10;

/// A function or asset version inside a build (the API's raw snake_case object).
#[derive(Debug, Clone, Deserialize)]
pub struct VersionRef {
    pub sid: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub asset_sid: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildFacts {
    pub sid: String,
    #[serde(default)]
    pub status: String,
    pub date_created: String,
    #[serde(default)]
    pub asset_versions: Vec<VersionRef>,
    #[serde(default)]
    pub function_versions: Vec<VersionRef>,
    #[serde(default)]
    pub dependencies: serde_json::Value,
    #[serde(default)]
    pub runtime: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentFacts {
    /// The build deployed (none: the environment was emptied).
    #[serde(default)]
    pub build_sid: Option<String>,
    pub date_created: String,
}

/// What the shim knows about the environment it runs in.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// The environment's config asset, if `update` ever created it.
    #[serde(default)]
    pub config_asset_sid: Option<String>,
    /// The build the environment runs (`environment.build_sid`).
    pub deployed: BuildFacts,
    /// The environment's deployments.
    #[serde(default)]
    pub deployments: Vec<DeploymentFacts>,
    /// The service's builds.
    #[serde(default)]
    pub builds: Vec<BuildFacts>,
    pub now_ms: f64,
}

/// The build `update` creates: the config version SID is appended after the upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildSpec {
    pub function_versions: Vec<String>,
    pub asset_versions: Vec<String>,
    /// JSON text, as the Builds API takes it.
    pub dependencies: String,
    pub runtime: Option<String>,
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn conflict(code: &str, message: String) -> Reply {
    Reply {
        status: 409,
        body: serde_json::json!({"success": false, "error": message, "message": message, "code": code}),
    }
}

impl BuildFacts {
    fn config(&self) -> Option<&VersionRef> {
        self.asset_versions.iter().find(|v| v.path == CONFIG_PATH)
    }

    fn created(&self) -> Option<DateTime<Utc>> {
        instant(&self.date_created)
    }

    fn key(&self) -> (Option<DateTime<Utc>>, &str) {
        (self.created(), self.sid.as_str())
    }
}

impl Facts {
    /// The deployed build's config version: what `list`'s data is.
    pub fn deployed_version(&self) -> &str {
        self.deployed
            .config()
            .map(|v| v.sid.as_str())
            .unwrap_or("none")
    }

    /// When the deployed build was deployed (its build time if no deployment is listed).
    fn deployed_at(&self) -> Option<DateTime<Utc>> {
        self.deployments
            .iter()
            .filter(|d| d.build_sid.as_deref() == Some(self.deployed.sid.as_str()))
            .filter_map(|d| instant(&d.date_created))
            .max()
            .or_else(|| self.deployed.created())
    }

    fn is_config_build(&self, build: &BuildFacts) -> bool {
        match (&self.config_asset_sid, build.config()) {
            (Some(asset), Some(v)) => v.asset_sid.as_deref() == Some(asset.as_str()),
            _ => false,
        }
    }

    /// Config builds waiting to be published, first in line first.
    pub fn pending(&self) -> Vec<&BuildFacts> {
        let since = self.deployed_at();
        let now = values::instant::from_millis(self.now_ms);
        let mut out: Vec<&BuildFacts> = self
            .builds
            .iter()
            .filter(|b| b.sid != self.deployed.sid && b.status != "failed")
            .filter(|b| self.is_config_build(b))
            .filter(|b| match (b.created(), since) {
                (Some(c), Some(s)) => c >= s,
                _ => false,
            })
            .filter(|b| match (b.created(), now) {
                (Some(c), Some(n)) => n - c < Duration::minutes(ABANDONED_AFTER_MINUTES),
                _ => true,
            })
            .collect();
        out.sort_by(|a, b| a.key().cmp(&b.key()));
        out
    }

    /// `list`'s `version` and `versionIsDeployed`.
    pub fn list_version(&self) -> (String, bool) {
        (
            self.deployed_version().to_string(),
            self.pending().is_empty(),
        )
    }
}

/// `update`: a 409 if `version` is stale or another change is waiting; else the build to create.
pub fn update_plan(facts: &Facts, version: &str) -> Result<BuildSpec, Reply> {
    let deployed = facts.deployed_version();
    if version.trim() != deployed {
        return Err(conflict(
            "stale_version",
            format!(
                "Provided version {version:?} is not the deployed config version {deployed:?}: the schedules were published by someone else since you loaded them. Reload and edit again."
            ),
        ));
    }
    if let Some(waiting) = facts.pending().first() {
        return Err(conflict(
            "change_pending",
            format!(
                "Another admin's change (build {}, created {}) is waiting to be published; publishing yours would overwrite it. Reload once it is published.",
                waiting.sid, waiting.date_created
            ),
        ));
    }
    Ok(BuildSpec {
        function_versions: facts
            .deployed
            .function_versions
            .iter()
            .map(|v| v.sid.clone())
            .collect(),
        asset_versions: facts
            .deployed
            .asset_versions
            .iter()
            .filter(|v| v.path != CONFIG_PATH)
            .map(|v| v.sid.clone())
            .collect(),
        dependencies: serde_json::to_string(&facts.deployed.dependencies)
            .unwrap_or_else(|_| "[]".into()),
        runtime: facts.deployed.runtime.clone(),
    })
}

/// How long after the end of a build's creation second a concurrent build is surely listed.
pub const SETTLE_MARGIN_MS: i64 = 300;

/// What `update` does after creating its build, when no other build goes first yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settle {
    /// Wait this long and ask again (0: settled, the build is first in line).
    pub wait_ms: u64,
}

/// After `update` created `build_sid`: a 409 if another update's build goes first. Creation times
/// have whole seconds, so a build made in the same second may sort first without being listed yet:
/// until that second is over (plus a margin) the answer is "wait and ask again".
pub fn after_create(facts: &Facts, build_sid: &str) -> Result<Settle, Reply> {
    if let Some(first) = facts.pending().first() {
        if first.sid != build_sid {
            return Err(conflict(
                "concurrent_update",
                format!(
                    "Another admin's update (build {}) was made at the same time and goes first; yours (build {build_sid}) will not be published. Reload and edit again.",
                    first.sid
                ),
            ));
        }
    }
    let created = facts
        .builds
        .iter()
        .find(|b| b.sid == build_sid)
        .and_then(BuildFacts::created);
    let wait_ms = match created {
        // Not listed yet: ask again in a second.
        None => 1000,
        Some(c) => {
            let settled = c.timestamp() * 1000 + 1000 + SETTLE_MARGIN_MS;
            (settled - facts.now_ms as i64).clamp(0, 1000 + SETTLE_MARGIN_MS) as u64
        }
    };
    Ok(Settle { wait_ms })
}

fn function_sids(build: &BuildFacts) -> Vec<&str> {
    let mut sids: Vec<&str> = build
        .function_versions
        .iter()
        .map(|f| f.sid.as_str())
        .collect();
    sids.sort_unstable();
    sids
}

/// `publish`: whether `build_sid` may be deployed to this environment.
pub fn publish_check(facts: &Facts, build_sid: &str) -> Result<(), Reply> {
    let refuse = |code, why: String| {
        Err(conflict(
            code,
            format!("Build {build_sid} cannot be published: {why}"),
        ))
    };
    let Some(build) = facts.builds.iter().find(|b| b.sid == build_sid) else {
        return refuse("unknown_build", "it is not a build of this service".into());
    };
    if build.sid == facts.deployed.sid {
        return refuse("already_deployed", "it is already deployed".into());
    }
    match build.status.as_str() {
        "completed" => {}
        "failed" => return refuse("build_failed", "its build failed".into()),
        other => {
            return refuse(
                "not_completed",
                format!("it is {other}; wait until update-status answers completed"),
            )
        }
    }
    let same_functions = function_sids(build) == function_sids(&facts.deployed);
    if !facts.is_config_build(build) || !same_functions {
        return refuse(
            "not_a_config_build",
            "it is not a schedule config build of this environment's deployed functions".into(),
        );
    }
    match (build.created(), facts.deployed_at()) {
        (Some(created), Some(deployed_at)) if created >= deployed_at => {}
        _ => {
            return refuse(
                "older_than_deployed",
                format!(
                    "it was made before the deployed build {} was deployed; publishing it would undo newer changes",
                    facts.deployed.sid
                ),
            )
        }
    }
    match facts.pending().first() {
        Some(first) if first.sid != build.sid => refuse(
            "not_first",
            format!("build {} was made before it and goes first", first.sid),
        ),
        _ => Ok(()),
    }
}

/// `update-status`'s answer: always `building`, `completed` or `failed` (an unknown or vanished
/// build is `failed`, since the plugin polls until one of the last two).
pub fn status_reply(build_sid: &str, status: Option<&str>) -> Reply {
    let (status, error) = match status {
        Some(s @ ("building" | "completed" | "failed")) => (s, None),
        Some(other) => (
            "failed",
            Some(format!("build {build_sid} has status {other:?}")),
        ),
        None => (
            "failed",
            Some(format!("build {build_sid} does not exist in this service")),
        ),
    };
    let mut body = serde_json::json!({"success": true, "buildStatus": status});
    if let Some(e) = error {
        body["error"] = e.into();
    }
    Reply { status: 200, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(
        sid: &str,
        status: &str,
        at: &str,
        config_asset: &str,
        fns: &[&str],
    ) -> serde_json::Value {
        serde_json::json!({
            "sid": sid, "status": status, "dateCreated": at, "runtime": "node22",
            "dependencies": [{"name": "twilio", "version": "6.2.0"}],
            "functionVersions": fns.iter().map(|f| serde_json::json!({"sid": f, "path": "/f"})).collect::<Vec<_>>(),
            "assetVersions": [
                {"sid": format!("ZN{sid}"), "path": "/config.json", "asset_sid": config_asset},
                {"sid": "ZNwasm", "path": "/wasm/schedule_bg.wasm", "asset_sid": "ZHwasm"}
            ]
        })
    }

    /// ZB0, the deployed build the CLI made.
    fn deployed_build() -> serde_json::Value {
        build(
            "ZB0",
            "completed",
            "2024-01-01T10:00:00Z",
            "ZHcli",
            &["ZF1"],
        )
    }

    /// ZB0 deployed, then ZB1 and ZB2, two config builds completed in the same second.
    fn deployed_then_two_in_one_second() -> Vec<serde_json::Value> {
        let update = |sid| build(sid, "completed", "2024-01-01T10:05:00Z", "ZHcfg", &["ZF1"]);
        vec![deployed_build(), update("ZB1"), update("ZB2")]
    }

    fn facts(
        builds: Vec<serde_json::Value>,
        deployed: usize,
        deployed_at: &str,
        now: &str,
    ) -> Facts {
        let d = builds[deployed].clone();
        serde_json::from_value(serde_json::json!({
            "configAssetSid": "ZHcfg", "deployed": d,
            "deployments": [{"buildSid": d["sid"], "dateCreated": deployed_at}],
            "builds": builds,
            "nowMs": instant(now).unwrap().timestamp_millis() as f64,
        }))
        .unwrap()
    }

    #[test]
    fn update_keeps_everything_but_the_config_and_guards_the_version() {
        let f = facts(
            vec![build(
                "ZB0",
                "completed",
                "2024-01-01T10:00:00Z",
                "ZHcli",
                &["ZF1", "ZF2"],
            )],
            0,
            "2024-01-01T10:00:10Z",
            "2024-01-01T11:00:00Z",
        );
        assert_eq!(f.list_version(), ("ZNZB0".to_string(), true));
        let spec = update_plan(&f, "ZNZB0").unwrap();
        assert_eq!(spec.function_versions, vec!["ZF1", "ZF2"]);
        assert_eq!(spec.asset_versions, vec!["ZNwasm"]);
        assert_eq!(spec.runtime.as_deref(), Some("node22"));
        assert_eq!(
            spec.dependencies,
            r#"[{"name":"twilio","version":"6.2.0"}]"#
        );
        let stale = update_plan(&f, "ZNold").unwrap_err();
        assert_eq!(
            (stale.status, stale.body["code"].as_str()),
            (409, Some("stale_version"))
        );
    }

    #[test]
    fn a_pending_build_blocks_others_until_abandoned_and_publish_rules() {
        let mut builds = deployed_then_two_in_one_second();
        builds.extend([
            build("ZB3", "failed", "2024-01-01T10:06:00Z", "ZHcfg", &["ZF1"]),
            build(
                "ZB4",
                "completed",
                "2024-01-01T10:06:00Z",
                "ZHcfg",
                &["ZFother"],
            ),
            build(
                "ZB5",
                "completed",
                "2024-01-01T09:00:00Z",
                "ZHcfg",
                &["ZF1"],
            ),
            build("ZB6", "building", "2024-01-01T10:07:00Z", "ZHcfg", &["ZF1"]),
        ]);
        let f = facts(
            builds.clone(),
            0,
            "2024-01-01T10:01:00Z",
            "2024-01-01T10:08:00Z",
        );
        let pending: Vec<&str> = f.pending().iter().map(|b| b.sid.as_str()).collect();
        assert_eq!(pending, vec!["ZB1", "ZB2", "ZB4", "ZB6"]);
        assert!(!f.list_version().1);
        assert_eq!(
            update_plan(&f, "ZNZB0").unwrap_err().body["code"],
            "change_pending"
        );
        // Made in the same second as others and still within it: wait, then it is settled.
        assert_eq!(after_create(&f, "ZB1").unwrap().wait_ms, 0);
        assert_eq!(
            after_create(&f, "ZB2").unwrap_err().body["code"],
            "concurrent_update"
        );
        assert!(publish_check(&f, "ZB1").is_ok());
        let code = |sid| {
            publish_check(&f, sid).unwrap_err().body["code"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(code("ZB2"), "not_first");
        assert_eq!(code("ZB3"), "build_failed");
        assert_eq!(code("ZB4"), "not_a_config_build");
        assert_eq!(code("ZB5"), "older_than_deployed");
        assert_eq!(code("ZB6"), "not_completed");
        assert_eq!(code("ZB0"), "already_deployed");
        assert_eq!(code("ZBforeign"), "unknown_build");
        // Twenty minutes later nobody published: the waiting builds are abandoned.
        let later = facts(builds, 0, "2024-01-01T10:01:00Z", "2024-01-01T10:30:00Z");
        assert!(later.list_version().1);
        assert!(update_plan(&later, "ZNZB0").is_ok());
    }

    #[test]
    fn a_fresh_build_waits_for_its_creation_second_to_end() {
        let builds = vec![
            deployed_build(),
            build("ZB9", "building", "2024-01-01T10:05:00Z", "ZHcfg", &["ZF1"]),
        ];
        let f = facts(
            builds,
            0,
            "2024-01-01T10:01:00Z",
            "2024-01-01T10:05:00.400Z",
        );
        assert_eq!(after_create(&f, "ZB9").unwrap().wait_ms, 900);
        assert_eq!(
            after_create(&f, "ZBmissing").unwrap_err().body["code"],
            "concurrent_update"
        );
    }

    #[test]
    fn after_publishing_the_loser_is_older_than_the_deployment() {
        let builds = deployed_then_two_in_one_second();
        let f = facts(builds, 1, "2024-01-01T10:05:03Z", "2024-01-01T10:06:00Z");
        assert_eq!(f.list_version(), ("ZNZB1".to_string(), true));
        assert_eq!(
            publish_check(&f, "ZB2").unwrap_err().body["code"],
            "older_than_deployed"
        );
    }

    #[test]
    fn update_status_always_ends() {
        assert_eq!(
            status_reply("ZB1", Some("building")).body["buildStatus"],
            "building"
        );
        assert_eq!(
            status_reply("ZB1", Some("completed")).body["buildStatus"],
            "completed"
        );
        assert_eq!(status_reply("ZB1", None).body["buildStatus"], "failed");
        assert_eq!(
            status_reply("ZB1", Some("weird")).body["buildStatus"],
            "failed"
        );
    }
}
