//! The operations a machine may ask for, and how the executor is told to perform them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One Twilio request, named by what it does. Field names are the `twilio` client's parameters
/// (camelCase on the wire, `{"kind": "updateCall", "callSid": …}`); an absent optional field is
/// not sent at all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Op {
    /// `GET /2010-04-01/Accounts/{AC}/Calls/{CallSid}.json`: the call.
    FetchCall { call_sid: String },
    /// `POST …/Calls/{CallSid}.json`: redirect (`twiml`, or `url` and `method`), set the status
    /// callback, or end it (`status`).
    UpdateCall {
        call_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        twiml: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_callback: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status_callback_method: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
    /// `GET /v1/Services/{IS}/Maps/{map}/Items/{key}`: the item (404: no map or no item).
    FetchSyncItem {
        service_sid: String,
        map: String,
        key: String,
    },
    /// `GET /v1/Services/{IS}/Maps/{map}/Items`: up to `limit` items in key order (`order`
    /// `asc`/`desc`), from the key `from` (`bounds` `inclusive`/`exclusive`), fetched in pages of
    /// `page_size` (Sync's most: 100). The value is the list of items (404: no map).
    ListSyncItems {
        service_sid: String,
        map: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bounds: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<String>,
        #[serde(flatten)]
        paging: Paging,
    },
    /// `POST /v1/Services/{IS}/Maps`: a map named `unique_name` (409: it exists).
    CreateSyncMap {
        service_sid: String,
        unique_name: String,
    },
    /// `POST …/Maps/{map}/Items`: a new item (409 54208: the key exists; 404: no map).
    CreateSyncItem {
        service_sid: String,
        map: String,
        key: String,
        data: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u32>,
    },
    /// `POST …/Maps/{map}/Items/{key}`: new data, `If-Match` a revision when given (412: the
    /// revision moved on).
    UpdateSyncItem {
        service_sid: String,
        map: String,
        key: String,
        data: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_match: Option<String>,
    },
    /// `DELETE …/Maps/{map}/Items/{key}` (404: it was not there).
    DeleteSyncItem {
        service_sid: String,
        map: String,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_match: Option<String>,
    },
    /// `GET /v1/Services/{IS}/Documents/{document}` (a SID or unique name).
    FetchSyncDocument {
        service_sid: String,
        document: String,
    },
    /// `POST /v1/Services/{IS}/Documents` (409: the unique name exists).
    CreateSyncDocument {
        service_sid: String,
        unique_name: String,
        data: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u32>,
    },
    /// `POST /v1/Services/{IS}/Documents/{document}`, `If-Match` a revision when given.
    UpdateSyncDocument {
        service_sid: String,
        document: String,
        data: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_match: Option<String>,
    },
    /// `DELETE /v1/Services/{IS}/Documents/{document}` (Twilio declares no `If-Match` here).
    DeleteSyncDocument {
        service_sid: String,
        document: String,
    },
    /// `POST /v1/Services/{IS}/Maps/{map}/Permissions/{identity}`: what `identity` may do with
    /// the map (all three flags are required by Twilio).
    UpdateSyncMapPermission {
        service_sid: String,
        map: String,
        identity: String,
        read: bool,
        write: bool,
        manage: bool,
    },
    /// `POST /v1/Services/{IS}/Documents/{document}/Permissions/{identity}`.
    UpdateSyncDocumentPermission {
        service_sid: String,
        document: String,
        identity: String,
        read: bool,
        write: bool,
        manage: bool,
    },
    /// `GET /v1/Workspaces/{WS}/Tasks/{WT}`: the task.
    FetchTask {
        workspace_sid: String,
        task_sid: String,
    },
    /// `GET /v1/Workspaces/{WS}/Tasks`: up to `limit` tasks (a list of them).
    ListTasks {
        workspace_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evaluate_task_attributes: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignment_status: Option<String>,
        limit: u32,
    },
    /// `GET /v1/Workspaces/{WS}/Tasks/{WT}/Reservations`: up to `limit` reservations.
    ListTaskReservations {
        workspace_sid: String,
        task_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worker_sid: Option<String>,
        limit: u32,
    },
    /// (The `twilio` client asks for pages of `limit` items when no `page_size` is given: give
    /// one when `limit` is above the endpoint's page maximum, or Twilio refuses the request.)
    ///
    /// `GET /v1/Workspaces/{WS}/TaskQueues`: the queues (those `worker_sid` is eligible for,
    /// when given), up to `limit`, fetched in pages of `page_size` (TaskRouter's most: 1,000).
    ListTaskQueues {
        workspace_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worker_sid: Option<String>,
        #[serde(flatten)]
        paging: Paging,
    },
    /// `GET /v1/Workspaces/{WS}/Workers`: the workers (of the queue `task_queue_sid`, when
    /// given), up to `limit`, in pages of `page_size`.
    ListWorkers {
        workspace_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_queue_sid: Option<String>,
        #[serde(flatten)]
        paging: Paging,
    },
    /// `GET /v1/Workspaces/{WS}/Activities`: the workspace's activities, up to `limit`.
    ListActivities {
        workspace_sid: String,
        #[serde(flatten)]
        paging: Paging,
    },
    /// `POST /v1/Workspaces/{WS}/Tasks`: a new task. Never retried: see [`Op::retry_safe`].
    CreateTask {
        workspace_sid: String,
        workflow_sid: String,
        task_channel: String,
        priority: u32,
        /// The attributes, a JSON object as text.
        attributes: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<u32>,
    },
    /// `POST /v1/Workspaces/{WS}/Tasks/{WT}`.
    UpdateTask {
        workspace_sid: String,
        task_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attributes: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assignment_status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_match: Option<String>,
    },
    /// `POST /v1/Workspaces/{WS}/Workers/{WK}/Channels/{WC}`.
    UpdateWorkerChannel {
        workspace_sid: String,
        worker_sid: String,
        worker_channel_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        capacity: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        available: Option<bool>,
    },
    /// `GET /v1/Services/{ZS}`: the Serverless service. With `credentials`, read with those
    /// instead of the service's own (fetch-config checks a caller's credentials this way: a
    /// 401/403/404 means they cannot read it).
    FetchServerlessService {
        service_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credentials: Option<Credentials>,
    },
    /// `GET /v1/Services/{ZS}/Environments/{ZE}`: the environment (`buildSid`: what it runs).
    FetchServerlessEnvironment {
        service_sid: String,
        environment_sid: String,
    },
    /// `GET …/Environments/{ZE}/Deployments`: the environment's deployments, newest first, in
    /// pages of `page_size` (Twilio's most: 100), up to `limit` (all when absent).
    ListServerlessDeployments {
        service_sid: String,
        environment_sid: String,
        #[serde(flatten)]
        paging: PagingAll,
    },
    /// `GET /v1/Services/{ZS}/Builds`: the service's builds, newest first (all when no `limit`).
    ListServerlessBuilds {
        service_sid: String,
        #[serde(flatten)]
        paging: PagingAll,
    },
    /// `GET …/Builds/{ZB}`: the build with its function and asset versions.
    FetchServerlessBuild {
        service_sid: String,
        build_sid: String,
    },
    /// `GET …/Builds/{ZB}/Status`: `{status: building|completed|failed}`.
    FetchServerlessBuildStatus {
        service_sid: String,
        build_sid: String,
    },
    /// `POST /v1/Services/{ZS}/Builds`: a build of these versions; `dependencies` is the JSON
    /// text Twilio takes.
    CreateServerlessBuild {
        service_sid: String,
        function_versions: Vec<String>,
        asset_versions: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dependencies: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runtime: Option<String>,
    },
    /// `DELETE …/Builds/{ZB}` (409: it is deployed).
    DeleteServerlessBuild {
        service_sid: String,
        build_sid: String,
    },
    /// `POST …/Environments/{ZE}/Deployments`: deploy the build `build_sid` there.
    CreateServerlessDeployment {
        service_sid: String,
        environment_sid: String,
        build_sid: String,
    },
    /// `GET /v1/Services/{ZS}/Assets`: the service's assets (all when no `limit`).
    ListServerlessAssets {
        service_sid: String,
        #[serde(flatten)]
        paging: PagingAll,
    },
    /// `POST /v1/Services/{ZS}/Assets`: a new asset named `friendly_name`.
    CreateServerlessAsset {
        service_sid: String,
        friendly_name: String,
    },
    /// `POST https://serverless-upload.twilio.com/v1/Services/{ZS}/Assets/{ZH}/Versions`: a new
    /// version of the asset, uploaded as `multipart/form-data` (`Path`, `Visibility` `public`/
    /// `protected`/`private`, and `Content`: the text `content` as a file of `content_type`).
    /// The value is the version (`sid`).
    UploadServerlessAssetVersion {
        service_sid: String,
        asset_sid: String,
        path: String,
        visibility: String,
        content: String,
        content_type: String,
    },
    /// `POST https://iam.twilio.com/v1/Accounts/{AC}/Tokens/validate`, JSON `{token}` (as
    /// twilio-flex-token-validator sends it): IAM's verdict on a Flex token. The value is IAM's
    /// answer `{status, body}` whatever its status but 429/503 (failures, so that they may be
    /// retried): the body's `valid` is the verdict whatever the status; `crates/auth` reads it.
    ValidateFlexToken { token: String },
    /// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/CumulativeStatistics`: the queue's figures over
    /// `start_date`..`end_date` (ISO 8601) or the last `minutes`, for one `task_channel` (absent:
    /// every channel), split at `split_by_wait_time` seconds (`"5,30,60"`). The statistics object.
    FetchTaskQueueCumulativeStatistics {
        workspace_sid: String,
        task_queue_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        split_by_wait_time: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_channel: Option<String>,
    },
    /// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}`: the queue (its `friendlyName`).
    FetchTaskQueue {
        workspace_sid: String,
        task_queue_sid: String,
    },
    /// `GET /v1/Workspaces/{WS}/TaskQueues/{WQ}/Statistics`: the queue's real-time and cumulative
    /// figures together (`{realtime, cumulative}`), cumulative from `start_date` (ISO 8601), for
    /// one `task_channel` (absent: every channel), split at `split_by_wait_time` seconds.
    FetchTaskQueueStatistics {
        workspace_sid: String,
        task_queue_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_channel: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        split_by_wait_time: Option<String>,
    },
    /// `POST /v1/Workspaces/{WS}/TaskQueues/RealTimeStatistics` (the client's
    /// `taskQueues.bulkRealTimeStatistics.create(sids)`): the real-time figures of up to 50
    /// queues in one request (`{taskQueueData: [{task_queue_sid, …}], …}`). A read: it changes
    /// nothing, so it may be repeated. TaskRouter takes at most 5 such requests a second per
    /// workspace: the machine that asks for it sets the effect's `pace`.
    CreateTaskQueueBulkRealTimeStatistics {
        workspace_sid: String,
        task_queue_sids: Vec<String>,
    },
    /// `GET /v1/Workspaces/{WS}/TaskQueues/Statistics`: every queue's statistics (the list of
    /// `{taskQueueSid, cumulative, realtime}`) over the last `minutes`, for one `task_channel`,
    /// in pages of `page_size` (TaskRouter's most: 1,000); all of them unless `limit`.
    ListTaskQueueStatistics {
        workspace_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        minutes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_channel: Option<String>,
        #[serde(flatten)]
        paging: PagingAll,
    },
    /// `GET /v1/Workspaces/{WS}/Events`: the events of `event_type` (absent: every type) from
    /// `start_date` to `end_date` (ISO 8601), of `task_queue_sid` when given, newest first, in
    /// pages of `page_size` (TaskRouter's most: 1,000); every page unless `limit`. The list.
    ListEvents {
        workspace_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_type: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        task_queue_sid: Option<String>,
        #[serde(flatten)]
        paging: PagingAll,
    },
    /// One page of `GET /v1/Workspaces/{WS}/Events` (the same filters as [`Op::ListEvents`]), for
    /// a machine that reads only as far back as it needs, a page per step: the value is
    /// `{"events": [...], "next": {"page", "pageToken"} | null}`; the next page is asked with
    /// `page` and `page_token` from `next` and the same filters.
    ListEventsPage {
        workspace_sid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_type: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_size: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_token: Option<String>,
    },
    /// `GET /v1/Workspaces/{WS}/Workers/{WK}`: the worker (`friendlyName`, `attributes` as JSON
    /// text, `activityName`, `available`).
    FetchWorker {
        workspace_sid: String,
        worker_sid: String,
    },
    /// `GET /v1/Workspaces/{WS}/Workers/{WK}/Channels/{WC}` (`WC`: a channel SID or its unique
    /// name, `voice`): `configuredCapacity`, `assignedTasks`, `available`.
    FetchWorkerChannel {
        workspace_sid: String,
        worker_sid: String,
        worker_channel_sid: String,
    },
    /// `GET /v1/Workspaces/{WS}/Workers?TargetWorkersExpression=…`: the workers the expression
    /// selects, up to `limit`, in pages of `page_size` (one request when `limit <= page_size`).
    /// A variant of its own beside [`Op::ListWorkers`], whose callers never filter by expression.
    ListWorkersMatching {
        workspace_sid: String,
        target_workers_expression: String,
        #[serde(flatten)]
        paging: Paging,
    },
    /// `DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json` (404: already gone).
    DeleteRecording { recording_sid: String },
    /// `GET /2010-04-01/Accounts/{AC}/Recordings/{RE}.{format}` (`wav` or `mp3`): the recording's
    /// audio, with the account's credentials in `Authorization: Basic` (never in the URL). The
    /// value is `{"contentType": <Twilio's header>, "base64": <the bytes>}` (binary cannot travel
    /// as JSON otherwise); a non-2xx answer is a failure with its status.
    FetchRecordingMedia {
        recording_sid: String,
        format: String,
    },
    /// `GET /v1/Services/{IS}`: the Sync service (`aclEnabled` says whether its ACL is on).
    FetchSyncService { service_sid: String },
    /// The emulator only: `GET /emulator/serverless/asset-versions/{ZN}/content`, the text an
    /// asset version was uploaded with (Twilio has no such request: a build's runtime reads its
    /// assets from disk). The value is that text.
    FetchEmulatorAssetContent { version_sid: String },
}

/// How a list is read: pages of `page_size` (absent: the `twilio` client's choice, which is
/// `limit`), up to `limit` items. Flattened into the list operations: on the wire `pageSize` and
/// `limit` stand beside the operation's other fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    pub limit: u32,
}

/// [`Paging`] whose `limit` may be absent: then every item is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PagingAll {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Credentials a request is made with instead of the service's own (`username`: an API key or
/// account SID; `password`: its secret). Never printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <secret>)", self.username)
    }
}

/// A delete's (or a map creation's) share of a second of its Sync object's write budget.
pub const DELETE_COST: f64 = 0.05;

/// The share of one second of a Sync object's write budget that a write of `bytes` of data
/// takes: Twilio documents 20 writes/s per object, fewer for objects above 1 KiB, down to 2/s
/// from 10 KiB; between, about 20 KiB/s is assumed (the emulator's model). So `bytes / 20 KiB`,
/// at least 1/20 and at most 1/2. A map's items count against the map.
pub fn sync_write_cost(bytes: usize) -> f64 {
    // usize to f64 is exact up to 2^53 bytes, far beyond any Sync payload.
    (bytes as f64 / 20_480.0).clamp(DELETE_COST, 0.5)
}

fn json_bytes(data: &Value) -> usize {
    serde_json::to_string(data).map(|s| s.len()).unwrap_or(0)
}

/// The Sync object whose write budget a write spends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pace {
    /// `sync:<service>/map:<map>` or `sync:<service>/document:<document>`.
    pub object: String,
    /// Its share of a second of the object's budget ([`sync_write_cost`]).
    pub cost: f64,
}

impl Op {
    /// Whether the executor may repeat it after a 429 or 503 (Twilio did not carry it out).
    /// Every operation may, except a task creation: the machine sees every answer of a
    /// creation itself and decides (call-status looks the task up, or lets Twilio redeliver).
    pub fn retry_safe(&self) -> bool {
        !matches!(self, Op::CreateTask { .. })
    }

    /// The Sync object a write spends the budget of, and how much; `None` for reads and
    /// non-Sync operations.
    pub fn pace(&self) -> Option<Pace> {
        let map = |service: &str, map: &str, cost: f64| Pace {
            object: format!("sync:{service}/map:{map}"),
            cost,
        };
        let document = |service: &str, document: &str, cost: f64| Pace {
            object: format!("sync:{service}/document:{document}"),
            cost,
        };
        match self {
            Op::CreateSyncMap {
                service_sid,
                unique_name,
            } => Some(map(service_sid, unique_name, DELETE_COST)),
            Op::CreateSyncItem {
                service_sid,
                map: m,
                data,
                ..
            }
            | Op::UpdateSyncItem {
                service_sid,
                map: m,
                data,
                ..
            } => Some(map(service_sid, m, sync_write_cost(json_bytes(data)))),
            Op::DeleteSyncItem {
                service_sid,
                map: m,
                ..
            }
            | Op::UpdateSyncMapPermission {
                service_sid,
                map: m,
                ..
            } => Some(map(service_sid, m, DELETE_COST)),
            Op::CreateSyncDocument {
                service_sid,
                unique_name: d,
                data,
                ..
            }
            | Op::UpdateSyncDocument {
                service_sid,
                document: d,
                data,
                ..
            } => Some(document(service_sid, d, sync_write_cost(json_bytes(data)))),
            Op::DeleteSyncDocument {
                service_sid,
                document: d,
                ..
            }
            | Op::UpdateSyncDocumentPermission {
                service_sid,
                document: d,
                ..
            } => Some(document(service_sid, d, DELETE_COST)),
            _ => None,
        }
    }
}

/// An operation as the executor receives it. On the wire it also carries the operation's
/// request, `call` ([`Op::call`]), which the executor makes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Effect {
    pub op: Op,
    /// Repeat after a 429 or 503, within the invocation's deadline ([`Op::retry_safe`]).
    pub retry: bool,
    /// Wait for room in this Sync object's write budget first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<Pace>,
    /// Wait this many milliseconds before sending it (within the invocation's deadline: a wait
    /// that would pass it is not waited, and the effect is not attempted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl Effect {
    /// The same effect, sent `ms` milliseconds from now (0: at once).
    pub fn after(mut self, ms: u64) -> Effect {
        self.delay_ms = (ms > 0).then_some(ms);
        self
    }
}

impl Serialize for Effect {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("op", &self.op)?;
        map.serialize_entry("call", &self.op.call())?;
        map.serialize_entry("retry", &self.retry)?;
        if let Some(pace) = &self.pace {
            map.serialize_entry("pace", pace)?;
        }
        if let Some(ms) = &self.delay_ms {
            map.serialize_entry("delayMs", ms)?;
        }
        map.end()
    }
}

impl From<Op> for Effect {
    fn from(op: Op) -> Effect {
        Effect {
            retry: op.retry_safe(),
            pace: op.pace(),
            delay_ms: None,
            op,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_read_as_the_executor_sends_them() {
        let op = Op::UpdateCall {
            call_sid: "CA1".into(),
            twiml: Some("<Response/>".into()),
            url: None,
            method: None,
            status_callback: Some("https://x/cb".into()),
            status_callback_method: Some("POST".into()),
            status: None,
        };
        let wire = serde_json::to_value(Effect::from(op.clone())).expect("json");
        assert_eq!(
            wire,
            json!({"op": {"kind": "updateCall", "callSid": "CA1", "twiml": "<Response/>",
                "statusCallback": "https://x/cb", "statusCallbackMethod": "POST"},
                "call": {"client": {"path": [["calls", "CA1"]], "request": "update", "params": {
                    "twiml": "twiml", "statusCallback": "statusCallback",
                    "statusCallbackMethod": "statusCallbackMethod"}}},
                "retry": true})
        );
        let back: Effect = serde_json::from_value(wire).expect("reads back");
        assert_eq!(back.op, op);
        // A field the protocol does not have is refused, not dropped.
        assert!(serde_json::from_value::<Op>(
            json!({"kind": "fetchCall", "callSid": "CA1", "sid": "x"})
        )
        .is_err());
        assert!(serde_json::from_value::<Op>(json!({"kind": "sendFax"})).is_err());
    }

    #[test]
    fn task_creation_is_never_retried_and_sync_writes_are_paced() {
        let create = Op::CreateTask {
            workspace_sid: "WS".into(),
            workflow_sid: "WW".into(),
            task_channel: "voice".into(),
            priority: 1,
            attributes: "{}".into(),
            timeout: None,
        };
        let effect = Effect::from(create);
        assert!(!effect.retry);
        assert_eq!(effect.pace, None);
        let write = Effect::from(Op::CreateSyncItem {
            service_sid: "IS1".into(),
            map: "M".into(),
            key: "k".into(),
            data: json!({"n": "x".repeat(12_000)}),
            ttl: Some(5),
        });
        assert!(write.retry);
        let pace = write.pace.expect("paced");
        assert_eq!(pace.object, "sync:IS1/map:M");
        assert_eq!(pace.cost, 0.5, "12 KiB: the 10 KiB rate");
        let delete = Effect::from(Op::DeleteSyncDocument {
            service_sid: "IS1".into(),
            document: "D".into(),
        });
        assert_eq!(
            delete.pace.map(|p| (p.object, p.cost)),
            Some(("sync:IS1/document:D".into(), DELETE_COST))
        );
    }

    #[test]
    fn an_item_list_names_its_range() {
        let op = Op::ListSyncItems {
            service_sid: "IS1".into(),
            map: "M".into(),
            from: Some("2026-03-08T07".into()),
            bounds: Some("inclusive".into()),
            order: None,
            paging: Paging {
                page_size: Some(100),
                limit: 240,
            },
        };
        let effect = Effect::from(op);
        assert_eq!(effect.pace, None, "a read spends no write budget");
        assert_eq!(
            serde_json::to_value(&effect.op).expect("json"),
            json!({"kind": "listSyncItems", "serviceSid": "IS1", "map": "M",
                "from": "2026-03-08T07", "bounds": "inclusive", "pageSize": 100, "limit": 240})
        );
    }

    /// Paging is flattened: `pageSize` and `limit` stand beside the other fields, an absent one
    /// is not sent, and an unknown field is still refused.
    #[test]
    fn paging_is_flat_on_the_wire() {
        let op = Op::ListEvents {
            workspace_sid: "WS1".into(),
            event_type: Some("task.completed".into()),
            start_date: None,
            end_date: None,
            task_queue_sid: None,
            paging: PagingAll {
                page_size: Some(1000),
                limit: None,
            },
        };
        let wire = json!({"kind": "listEvents", "workspaceSid": "WS1",
            "eventType": "task.completed", "pageSize": 1000});
        assert_eq!(serde_json::to_value(&op).expect("json"), wire);
        assert_eq!(serde_json::from_value::<Op>(wire).expect("reads"), op);
        let unknown =
            json!({"kind": "listWorkers", "workspaceSid": "WS1", "limit": 3, "pagesize": 5});
        assert!(serde_json::from_value::<Op>(unknown).is_err());
        let no_limit = json!({"kind": "listWorkers", "workspaceSid": "WS1", "pageSize": 5});
        assert!(
            serde_json::from_value::<Op>(no_limit).is_err(),
            "limit is required there"
        );
    }

    #[test]
    fn taskrouter_lists_send_only_what_is_given() {
        let op = Op::ListWorkers {
            workspace_sid: "WS1".into(),
            task_queue_sid: None,
            paging: Paging {
                page_size: Some(1000),
                limit: 5000,
            },
        };
        assert_eq!(
            serde_json::to_value(&op).expect("json"),
            json!({"kind": "listWorkers", "workspaceSid": "WS1", "pageSize": 1000, "limit": 5000})
        );
        let queues: Op = serde_json::from_value(
            json!({"kind": "listTaskQueues", "workspaceSid": "WS1", "workerSid": "WK1", "limit": 100}),
        )
        .expect("reads");
        assert!(Effect::from(queues).retry);
    }

    #[test]
    fn a_permission_is_a_small_write_on_its_object() {
        let grant = Effect::from(Op::UpdateSyncDocumentPermission {
            service_sid: "IS1".into(),
            document: "agents-live".into(),
            identity: "board".into(),
            read: true,
            write: false,
            manage: false,
        });
        assert_eq!(
            grant.pace.map(|p| (p.object, p.cost)),
            Some(("sync:IS1/document:agents-live".into(), DELETE_COST))
        );
        assert_eq!(
            serde_json::to_value(&grant.op).expect("json"),
            json!({"kind": "updateSyncDocumentPermission", "serviceSid": "IS1",
                "document": "agents-live", "identity": "board", "read": true, "write": false,
                "manage": false})
        );
    }

    #[test]
    fn serverless_operations_read_as_the_executor_sends_them() {
        let build = Op::CreateServerlessBuild {
            service_sid: "ZS1".into(),
            function_versions: vec!["ZN1".into()],
            asset_versions: vec!["ZN2".into(), "ZN3".into()],
            dependencies: Some(r#"[{"name":"twilio","version":"5"}]"#.into()),
            runtime: None,
        };
        let effect = Effect::from(build.clone()).after(900);
        let wire = serde_json::to_value(&effect).expect("json");
        assert_eq!(
            wire,
            json!({"op": {"kind": "createServerlessBuild", "serviceSid": "ZS1",
                "functionVersions": ["ZN1"], "assetVersions": ["ZN2", "ZN3"],
                "dependencies": r#"[{"name":"twilio","version":"5"}]"#},
                "call": {"client": {"path": ["serverless", "v1", ["services", "ZS1"], "builds"],
                    "request": "create", "params": {"functionVersions": "functionVersions",
                        "assetVersions": "assetVersions", "dependencies": "dependencies"}}},
                "retry": true, "delayMs": 900})
        );
        assert_eq!(
            serde_json::from_value::<Effect>(wire).expect("back").op,
            build
        );
        assert_eq!(
            Effect::from(Op::FetchServerlessEnvironment {
                service_sid: "ZS1".into(),
                environment_sid: "ZE1".into()
            })
            .after(0)
            .delay_ms,
            None
        );
        let upload = Op::UploadServerlessAssetVersion {
            service_sid: "ZS1".into(),
            asset_sid: "ZH1".into(),
            path: "/config.json".into(),
            visibility: "private".into(),
            content: "{}".into(),
            content_type: "application/json".into(),
        };
        let effect = Effect::from(upload);
        assert!(
            effect.retry,
            "a 429/503 upload was not stored: repeating it is safe"
        );
        assert_eq!(effect.pace, None);
        assert_eq!(
            serde_json::to_value(&effect.op).expect("json"),
            json!({"kind": "uploadServerlessAssetVersion", "serviceSid": "ZS1", "assetSid": "ZH1",
                "path": "/config.json", "visibility": "private", "content": "{}",
                "contentType": "application/json"})
        );
        let lists = serde_json::to_value(Op::ListServerlessBuilds {
            service_sid: "ZS1".into(),
            paging: PagingAll {
                page_size: Some(100),
                limit: None,
            },
        })
        .expect("json");
        assert_eq!(
            lists,
            json!({"kind": "listServerlessBuilds", "serviceSid": "ZS1", "pageSize": 100})
        );
        let as_caller = Op::FetchServerlessService {
            service_sid: "ZS1".into(),
            credentials: Some(Credentials {
                username: "SK1".into(),
                password: "hush".into(),
            }),
        };
        assert!(
            !format!("{as_caller:?}").contains("hush"),
            "a secret is never printed"
        );
        assert_eq!(
            serde_json::to_value(&as_caller).expect("json"),
            json!({"kind": "fetchServerlessService", "serviceSid": "ZS1",
                "credentials": {"username": "SK1", "password": "hush"}})
        );
    }

    #[test]
    fn a_token_validation_names_only_the_token() {
        let op = Op::ValidateFlexToken {
            token: "eyJ".into(),
        };
        let effect = Effect::from(op);
        assert!(effect.retry && effect.pace.is_none());
        assert_eq!(
            serde_json::to_value(&effect.op).expect("json"),
            json!({"kind": "validateFlexToken", "token": "eyJ"})
        );
    }

    #[test]
    fn statistics_reads_send_only_what_is_given() {
        let op = Op::FetchTaskQueueCumulativeStatistics {
            workspace_sid: "WS1".into(),
            task_queue_sid: "WQ1".into(),
            start_date: None,
            end_date: None,
            minutes: Some(30),
            split_by_wait_time: None,
            task_channel: Some("voice".into()),
        };
        let effect = Effect::from(op);
        assert!(effect.retry && effect.pace.is_none());
        assert_eq!(
            serde_json::to_value(&effect.op).expect("json"),
            json!({"kind": "fetchTaskQueueCumulativeStatistics", "workspaceSid": "WS1",
                "taskQueueSid": "WQ1", "minutes": 30, "taskChannel": "voice"})
        );
        let list: Op = serde_json::from_value(json!({"kind": "listTaskQueueStatistics",
            "workspaceSid": "WS1", "minutes": 30, "pageSize": 1000}))
        .expect("reads");
        assert_eq!(
            list,
            Op::ListTaskQueueStatistics {
                workspace_sid: "WS1".into(),
                minutes: Some(30),
                task_channel: None,
                paging: PagingAll {
                    page_size: Some(1000),
                    limit: None,
                },
            }
        );
    }

    #[test]
    fn queue_reads_and_the_bulk_statistics_on_the_wire() {
        let queue: Op = serde_json::from_value(
            json!({"kind": "fetchTaskQueue", "workspaceSid": "WS1", "taskQueueSid": "WQ1"}),
        )
        .expect("reads");
        assert_eq!(
            queue,
            Op::FetchTaskQueue {
                workspace_sid: "WS1".into(),
                task_queue_sid: "WQ1".into(),
            }
        );
        let stats = Effect::from(Op::FetchTaskQueueStatistics {
            workspace_sid: "WS1".into(),
            task_queue_sid: "WQ1".into(),
            task_channel: None,
            start_date: Some("2026-12-04T05:00:00Z".into()),
            split_by_wait_time: Some("30,60".into()),
        });
        assert!(stats.retry && stats.pace.is_none());
        assert_eq!(
            serde_json::to_value(&stats.op).expect("json"),
            json!({"kind": "fetchTaskQueueStatistics", "workspaceSid": "WS1", "taskQueueSid": "WQ1",
                "startDate": "2026-12-04T05:00:00Z", "splitByWaitTime": "30,60"})
        );
        let bulk = Effect::from(Op::CreateTaskQueueBulkRealTimeStatistics {
            workspace_sid: "WS1".into(),
            task_queue_sids: vec!["WQ1".into(), "WQ2".into()],
        });
        // A read despite the POST: repeated after a 429; its rate is the machine's to pace.
        assert!(bulk.retry && bulk.pace.is_none());
        assert_eq!(
            serde_json::to_value(&bulk.op).expect("json"),
            json!({"kind": "createTaskQueueBulkRealTimeStatistics", "workspaceSid": "WS1",
                "taskQueueSids": ["WQ1", "WQ2"]})
        );
    }

    #[test]
    fn events_are_listed_whole_or_a_page_at_a_time() {
        let all = Op::ListEvents {
            workspace_sid: "WS1".into(),
            event_type: Some("task.completed".into()),
            start_date: Some("2026-11-16T14:00:00Z".into()),
            end_date: Some("2026-11-16T15:00:00Z".into()),
            task_queue_sid: None,
            paging: PagingAll {
                page_size: Some(1000),
                limit: None,
            },
        };
        assert_eq!(
            serde_json::to_value(&all).expect("json"),
            json!({"kind": "listEvents", "workspaceSid": "WS1", "eventType": "task.completed",
                "startDate": "2026-11-16T14:00:00Z", "endDate": "2026-11-16T15:00:00Z",
                "pageSize": 1000})
        );
        let next: Op = serde_json::from_value(json!({"kind": "listEventsPage",
            "workspaceSid": "WS1", "eventType": "worker.activity.update", "pageSize": 1000,
            "page": 1, "pageToken": "PT1000"}))
        .expect("reads");
        let effect = Effect::from(next);
        assert!(effect.retry && effect.pace.is_none());
        assert!(matches!(
            effect.op,
            Op::ListEventsPage { page: Some(1), .. }
        ));
    }

    #[test]
    fn workers_recordings_and_their_media_read_as_the_executor_sends_them() {
        let worker = Effect::from(Op::FetchWorker {
            workspace_sid: "WS1".into(),
            worker_sid: "WK1".into(),
        });
        assert!(worker.retry && worker.pace.is_none());
        assert_eq!(
            serde_json::to_value(&worker.op).expect("json"),
            json!({"kind": "fetchWorker", "workspaceSid": "WS1", "workerSid": "WK1"})
        );
        let channel: Op = serde_json::from_value(json!({"kind": "fetchWorkerChannel",
            "workspaceSid": "WS1", "workerSid": "WK1", "workerChannelSid": "voice"}))
        .expect("reads");
        assert!(
            matches!(channel, Op::FetchWorkerChannel { ref worker_channel_sid, .. } if worker_channel_sid == "voice")
        );
        let matching = Op::ListWorkersMatching {
            workspace_sid: "WS1".into(),
            target_workers_expression: "directExtension == \"12\"".into(),
            paging: Paging {
                page_size: Some(2),
                limit: 2,
            },
        };
        assert_eq!(
            serde_json::to_value(&matching).expect("json"),
            json!({"kind": "listWorkersMatching", "workspaceSid": "WS1",
                "targetWorkersExpression": "directExtension == \"12\"", "pageSize": 2, "limit": 2})
        );
        let delete = Effect::from(Op::DeleteRecording {
            recording_sid: "RE1".into(),
        });
        assert!(delete.retry && delete.pace.is_none(), "not a Sync write");
        assert_eq!(
            serde_json::to_value(&delete.op).expect("json"),
            json!({"kind": "deleteRecording", "recordingSid": "RE1"})
        );
        let media = Op::FetchRecordingMedia {
            recording_sid: "RE1".into(),
            format: "wav".into(),
        };
        assert_eq!(
            serde_json::to_value(&media).expect("json"),
            json!({"kind": "fetchRecordingMedia", "recordingSid": "RE1", "format": "wav"})
        );
        assert!(serde_json::from_value::<Op>(
            json!({"kind": "fetchRecordingMedia", "recordingSid": "RE1", "format": "wav", "authToken": "x"})
        )
        .is_err(), "no credentials travel in an operation");
    }

    #[test]
    fn write_costs() {
        assert_eq!(sync_write_cost(0), 0.05);
        assert_eq!(sync_write_cost(1024), 0.05);
        assert_eq!(sync_write_cost(10_240), 0.5);
        assert_eq!(sync_write_cost(16_384), 0.5);
        assert!((sync_write_cost(4096) - 0.2).abs() < 1e-12);
    }

    #[test]
    fn the_emulators_asset_content_is_a_plain_retried_read() {
        let read = Effect::from(Op::FetchEmulatorAssetContent {
            version_sid: "ZN1".into(),
        });
        assert!(read.retry && read.pace.is_none());
        assert_eq!(
            serde_json::to_value(&read.op).expect("json"),
            json!({"kind": "fetchEmulatorAssetContent", "versionSid": "ZN1"})
        );
        assert!(
            serde_json::from_value::<Op>(json!({"kind": "fetchEmulatorAssetContent"})).is_err()
        );
    }

    #[test]
    fn a_sync_service_read_is_a_plain_retried_read() {
        let read = Effect::from(Op::FetchSyncService {
            service_sid: "IS1".into(),
        });
        assert_eq!(
            serde_json::to_value(&read).expect("json"),
            json!({"op": {"kind": "fetchSyncService", "serviceSid": "IS1"},
                "call": {"client": {"path": ["sync", "v1", ["services", "IS1"]], "request": "fetch"}},
                "retry": true})
        );
        assert!(serde_json::from_value::<Op>(
            json!({"kind": "fetchSyncService", "serviceSid": "IS1", "aclEnabled": true})
        )
        .is_err());
    }
}
