//! How the executor makes each operation's request: a call of the `twilio` client in its own
//! words, or a plain HTTP request for what the client cannot do. [`Op::call`] is the one table;
//! [`Effect`](crate::Effect) carries it on the wire, so the executor reads no table of its own.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Credentials, Op};

/// One operation's request, as the executor makes it.
///
/// On the wire `{"client": {"path": […], "request", "params"?, "positional"?, "as"?, "read"?}}`
/// or `{"raw": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Call {
    /// A call of the `twilio` client.
    Client {
        /// Read from the client in turn: a text is a property (`"sync"`), an array a method
        /// called with the rest as its arguments (`["services", "IS1"]`, `["statistics"]` with
        /// none).
        path: Vec<Value>,
        /// The method then called on it: the request (`fetch`, `update`, `list`, `page`…).
        request: String,
        /// Its parameters: the client's name of each, and the operation's field that holds its
        /// value (`{"data": "data", "pageNumber": "page"}`; the values are not copied: a write's
        /// data crosses into JavaScript once). Neither this nor `positional`: called with nothing.
        #[serde(skip_serializing_if = "Map::is_empty")]
        params: Map<String, Value>,
        /// Or the operation's field whose value is its one argument (`taskQueueSids`).
        #[serde(skip_serializing_if = "Option::is_none")]
        positional: Option<String>,
        /// Made with these credentials instead of the service's own.
        #[serde(rename = "as", skip_serializing_if = "Option::is_none")]
        credentials: Option<Credentials>,
        /// How the answer is read; absent: as it came.
        #[serde(skip_serializing_if = "Option::is_none")]
        read: Option<Read>,
    },
    /// An HTTP request the client cannot make, with the account's credentials (Basic auth).
    Raw(Raw),
}

/// A request made with `fetch`, routed as the client routes its own.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Raw {
    /// A host used as it is (the upload host has no region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// A Twilio product whose host TWILIO_REGION/TWILIO_EDGE decide (`iam`, `api`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The path, with `{AccountSid}` standing for the account's SID.
    pub path: String,
    pub method: String,
    /// Headers to send beside the credentials.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
    /// The body as text (JSON, or a `multipart/form-data` body: [`multipart`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The statuses that are failures (thrown as the client throws Twilio's errors); empty:
    /// every status but 2xx.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fails: Vec<u16>,
    pub read: Read,
}

/// How an answer becomes the outcome's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Read {
    /// A non-2xx answer is a failure; else its JSON body (`{}` when none).
    Json,
    /// `{status, body}` whatever the status (the failures are [`Raw::fails`]).
    Status,
    /// A non-2xx answer is a failure; else `{contentType, base64}` (binary as base64 text).
    Media,
    /// A client page: `{events: its instances, next: next_page(its nextPageUrl)}`.
    Page,
}

/// A path on the `twilio` client being built from an operation's fields: each segment that
/// names a field takes it out, and what is left are the request's parameters.
struct Path {
    fields: Map<String, Value>,
    path: Vec<Value>,
    /// Client names of fields, where they differ (field -> name).
    names: Map<String, Value>,
}

impl Path {
    fn of(op: &Op) -> Path {
        let mut fields = match serde_json::to_value(op) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        fields.remove("kind");
        Path {
            fields,
            path: Vec::new(),
            names: Map::new(),
        }
    }

    /// The property `name`.
    fn get(mut self, name: &str) -> Path {
        self.path.push(Value::String(name.into()));
        self
    }

    /// `name(the op's field)`.
    fn by(mut self, name: &str, field: &str) -> Path {
        let value = self.fields.remove(field).unwrap_or(Value::Null);
        self.path.push(Value::Array(vec![name.into(), value]));
        self
    }

    /// `name()`.
    fn called(mut self, name: &str) -> Path {
        self.path.push(Value::Array(vec![name.into()]));
        self
    }

    fn sync(self) -> Path {
        self.get("sync").get("v1").by("services", "serviceSid")
    }

    fn taskrouter(self) -> Path {
        self.get("taskrouter")
            .get("v1")
            .by("workspaces", "workspaceSid")
    }

    fn serverless(self) -> Path {
        self.get("serverless")
            .get("v1")
            .by("services", "serviceSid")
    }

    /// The field `field` is the client's parameter `name`.
    fn rename(mut self, field: &str, name: &str) -> Path {
        self.names.insert(field.into(), name.into());
        self
    }

    /// The request `method` with the fields left as its parameters (none: no argument); a null
    /// is not sent (the client would send it as the text "null").
    fn request(self, method: &str) -> Call {
        let params = self
            .fields
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(field, _)| {
                let name = self
                    .names
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or(field);
                (name.to_string(), Value::String(field.clone()))
            })
            .collect();
        self.done(method, params, None)
    }

    /// The request `method` with the field `field` as its one positional argument.
    fn positional(self, method: &str, field: &str) -> Call {
        self.done(method, Map::new(), Some(field.into()))
    }

    fn done(self, method: &str, params: Map<String, Value>, positional: Option<String>) -> Call {
        Call::Client {
            path: self.path,
            request: method.into(),
            params,
            positional,
            credentials: None,
            read: None,
        }
    }
}

/// `s` as JavaScript's `encodeURIComponent` writes it (a path segment).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The raw request of the operations the client cannot make.
fn raw(product: &str, path: String, method: &str, read: Read) -> Raw {
    Raw {
        host: None,
        product: Some(product.into()),
        path,
        method: method.into(),
        headers: Map::new(),
        body: None,
        fails: Vec::new(),
        read,
    }
}

impl Op {
    /// How the executor makes this operation's request (docs/effects.md, "Operations").
    pub fn call(&self) -> Call {
        let p = Path::of(self);
        match self {
            Op::FetchCall { .. } => p.by("calls", "callSid").request("fetch"),
            Op::UpdateCall { .. } => p.by("calls", "callSid").request("update"),
            Op::DeleteRecording { .. } => p.by("recordings", "recordingSid").request("remove"),
            Op::FetchSyncService { .. } => p.sync().request("fetch"),
            Op::FetchSyncItem { .. } | Op::UpdateSyncItem { .. } | Op::DeleteSyncItem { .. } => {
                let item = p.sync().by("syncMaps", "map").by("syncMapItems", "key");
                item.request(match self {
                    Op::FetchSyncItem { .. } => "fetch",
                    Op::UpdateSyncItem { .. } => "update",
                    _ => "remove",
                })
            }
            Op::ListSyncItems { .. } => p
                .sync()
                .by("syncMaps", "map")
                .get("syncMapItems")
                .request("list"),
            Op::CreateSyncItem { .. } => p
                .sync()
                .by("syncMaps", "map")
                .get("syncMapItems")
                .request("create"),
            Op::CreateSyncMap { .. } => p.sync().get("syncMaps").request("create"),
            Op::FetchSyncDocument { .. } => p.sync().by("documents", "document").request("fetch"),
            Op::CreateSyncDocument { .. } => p.sync().get("documents").request("create"),
            Op::UpdateSyncDocument { .. } => p.sync().by("documents", "document").request("update"),
            Op::DeleteSyncDocument { .. } => p.sync().by("documents", "document").request("remove"),
            Op::UpdateSyncMapPermission { .. } => p
                .sync()
                .by("syncMaps", "map")
                .by("syncMapPermissions", "identity")
                .request("update"),
            Op::UpdateSyncDocumentPermission { .. } => p
                .sync()
                .by("documents", "document")
                .by("documentPermissions", "identity")
                .request("update"),
            Op::FetchTask { .. } => p.taskrouter().by("tasks", "taskSid").request("fetch"),
            Op::UpdateTask { .. } => p.taskrouter().by("tasks", "taskSid").request("update"),
            Op::ListTasks { .. } => p.taskrouter().get("tasks").request("list"),
            Op::CreateTask { .. } => p.taskrouter().get("tasks").request("create"),
            Op::ListTaskReservations { .. } => p
                .taskrouter()
                .by("tasks", "taskSid")
                .get("reservations")
                .request("list"),
            Op::ListTaskQueues { .. } => p.taskrouter().get("taskQueues").request("list"),
            Op::ListWorkers { .. } | Op::ListWorkersMatching { .. } => {
                p.taskrouter().get("workers").request("list")
            }
            Op::ListActivities { .. } => p.taskrouter().get("activities").request("list"),
            Op::FetchWorker { .. } => p.taskrouter().by("workers", "workerSid").request("fetch"),
            Op::FetchWorkerChannel { .. } | Op::UpdateWorkerChannel { .. } => {
                let channel = p
                    .taskrouter()
                    .by("workers", "workerSid")
                    .by("workerChannels", "workerChannelSid");
                match self {
                    Op::FetchWorkerChannel { .. } => channel.request("fetch"),
                    _ => channel.request("update"),
                }
            }
            Op::FetchTaskQueue { .. } => p
                .taskrouter()
                .by("taskQueues", "taskQueueSid")
                .request("fetch"),
            Op::FetchTaskQueueCumulativeStatistics { .. } => p
                .taskrouter()
                .by("taskQueues", "taskQueueSid")
                .called("cumulativeStatistics")
                .request("fetch"),
            Op::FetchTaskQueueStatistics { .. } => p
                .taskrouter()
                .by("taskQueues", "taskQueueSid")
                .called("statistics")
                .request("fetch"),
            Op::CreateTaskQueueBulkRealTimeStatistics { .. } => p
                .taskrouter()
                .get("taskQueues")
                .get("bulkRealTimeStatistics")
                .positional("create", "taskQueueSids"),
            Op::ListTaskQueueStatistics { .. } => p
                .taskrouter()
                .get("taskQueues")
                .get("statistics")
                .request("list"),
            Op::ListEvents { .. } => p.taskrouter().get("events").request("list"),
            Op::ListEventsPage { .. } => {
                let page = p.taskrouter().get("events").rename("page", "pageNumber");
                let mut call = page.request("page");
                if let Call::Client { read, .. } = &mut call {
                    *read = Some(Read::Page);
                }
                call
            }
            Op::FetchServerlessService { credentials, .. } => {
                let mut p = p.serverless();
                p.fields.remove("credentials");
                let mut call = p.request("fetch");
                if let Call::Client {
                    credentials: as_, ..
                } = &mut call
                {
                    as_.clone_from(credentials);
                }
                call
            }
            Op::FetchServerlessEnvironment { .. } => p
                .serverless()
                .by("environments", "environmentSid")
                .request("fetch"),
            Op::ListServerlessDeployments { .. } | Op::CreateServerlessDeployment { .. } => {
                let deployments = p
                    .serverless()
                    .by("environments", "environmentSid")
                    .get("deployments");
                match self {
                    Op::ListServerlessDeployments { .. } => deployments.request("list"),
                    _ => deployments.request("create"),
                }
            }
            Op::ListServerlessBuilds { .. } => p.serverless().get("builds").request("list"),
            Op::CreateServerlessBuild { .. } => p.serverless().get("builds").request("create"),
            Op::FetchServerlessBuild { .. } => {
                p.serverless().by("builds", "buildSid").request("fetch")
            }
            Op::DeleteServerlessBuild { .. } => {
                p.serverless().by("builds", "buildSid").request("remove")
            }
            Op::FetchServerlessBuildStatus { .. } => p
                .serverless()
                .by("builds", "buildSid")
                .called("buildStatus")
                .request("fetch"),
            Op::ListServerlessAssets { .. } => p.serverless().get("assets").request("list"),
            Op::CreateServerlessAsset { .. } => p.serverless().get("assets").request("create"),
            Op::UploadServerlessAssetVersion {
                service_sid,
                asset_sid,
                path,
                visibility,
                content,
                content_type,
            } => {
                let file = path.rsplit('/').next().filter(|f| !f.is_empty());
                let mut r = raw(
                    "serverless-upload",
                    format!(
                        "/v1/Services/{}/Assets/{}/Versions",
                        encode(service_sid),
                        encode(asset_sid)
                    ),
                    "POST",
                    Read::Json,
                );
                // Twilio's upload host has no regional name: it is used as it is.
                r.product = None;
                r.host = Some("serverless-upload.twilio.com".into());
                let (content_type, body) = multipart(&[
                    ("Path", path, None),
                    ("Visibility", visibility, None),
                    (
                        "Content",
                        content,
                        Some((file.unwrap_or("content"), content_type.as_str())),
                    ),
                ]);
                r.headers.insert("Content-Type".into(), content_type.into());
                r.body = Some(body);
                Call::Raw(r)
            }
            Op::ValidateFlexToken { token } => {
                let mut r = raw(
                    "iam",
                    "/v1/Accounts/{AccountSid}/Tokens/validate".into(),
                    "POST",
                    Read::Status,
                );
                r.headers.insert("Cache-Control".into(), "no-cache".into());
                r.headers
                    .insert("Content-Type".into(), "application/json".into());
                r.body = Some(serde_json::json!({ "token": token }).to_string());
                // IAM's verdict is its answer whatever the status, but what the retry rule
                // repeats (429, 503): a failure, so that it may be repeated.
                r.fails = (100..=599)
                    .filter(|&s| values::env::Retry::retried(Some(s)))
                    .collect();
                Call::Raw(r)
            }
            Op::FetchRecordingMedia {
                recording_sid,
                format,
            } => Call::Raw(raw(
                "api",
                format!(
                    "/2010-04-01/Accounts/{{AccountSid}}/Recordings/{}.{}",
                    encode(recording_sid),
                    encode(format)
                ),
                "GET",
                Read::Media,
            )),
            // The emulator's own endpoint: routed to TWILIO_API_ORIGIN as every request is.
            Op::FetchEmulatorAssetContent { version_sid } => Call::Raw(raw(
                "serverless",
                format!(
                    "/emulator/serverless/asset-versions/{}/content",
                    encode(version_sid)
                ),
                "GET",
                Read::Json,
            )),
        }
    }
}

/// A part of a multipart body: its name, its value, and for a file its file name and type.
pub type Field<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);

/// A `multipart/form-data` body of `parts` (`(name, value, Some((file name, content type)))` for
/// a file): its `Content-Type` header and the body. The boundary is one no part contains.
pub fn multipart(parts: &[Field]) -> (String, String) {
    let mut boundary = String::from("----effects-part");
    while parts.iter().any(|(n, v, f)| {
        v.contains(&boundary)
            || n.contains(&boundary)
            || f.is_some_and(|(f, t)| f.contains(&boundary) || t.contains(&boundary))
    }) {
        boundary.push('x');
    }
    // A name in a header: quotes and line breaks escaped as browsers do.
    let quoted = |s: &str| {
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut body = String::new();
    for (name, value, file) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
            quoted(name)
        ));
        if let Some((file, content_type)) = file {
            body.push_str(&format!(
                "; filename=\"{}\"\r\nContent-Type: {}",
                quoted(file),
                quoted(content_type)
            ));
        }
        body.push_str(&format!("\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Every operation's `kind`, as [`Op`] names them on the wire.
pub const KINDS: [&str; 50] = [
    "fetchCall",
    "updateCall",
    "fetchSyncItem",
    "listSyncItems",
    "createSyncMap",
    "createSyncItem",
    "updateSyncItem",
    "deleteSyncItem",
    "fetchSyncDocument",
    "createSyncDocument",
    "updateSyncDocument",
    "deleteSyncDocument",
    "updateSyncMapPermission",
    "updateSyncDocumentPermission",
    "fetchTask",
    "listTasks",
    "listTaskReservations",
    "listTaskQueues",
    "listWorkers",
    "listActivities",
    "createTask",
    "updateTask",
    "updateWorkerChannel",
    "fetchServerlessService",
    "fetchServerlessEnvironment",
    "listServerlessDeployments",
    "listServerlessBuilds",
    "fetchServerlessBuild",
    "fetchServerlessBuildStatus",
    "createServerlessBuild",
    "deleteServerlessBuild",
    "createServerlessDeployment",
    "listServerlessAssets",
    "createServerlessAsset",
    "uploadServerlessAssetVersion",
    "validateFlexToken",
    "fetchTaskQueueCumulativeStatistics",
    "fetchTaskQueue",
    "fetchTaskQueueStatistics",
    "createTaskQueueBulkRealTimeStatistics",
    "listTaskQueueStatistics",
    "listEvents",
    "listEventsPage",
    "fetchWorker",
    "fetchWorkerChannel",
    "listWorkersMatching",
    "deleteRecording",
    "fetchRecordingMedia",
    "fetchSyncService",
    "fetchEmulatorAssetContent",
];

/// The position of the next page in a page's `nextPageUrl` (its `Page` and `PageToken`), as
/// [`Op::ListEventsPage`] takes it back: `{"page", "pageToken"}`, or `None` when the URL has no
/// page token (the last page).
pub fn next_page(next_page_url: &str) -> Option<Value> {
    let query = next_page_url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or("");
    let mut page = None;
    let mut token = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match decode(name).as_str() {
            "Page" => page = Some(decode(value)),
            "PageToken" => token = Some(decode(value)),
            _ => {}
        }
    }
    let token = token.filter(|t| !t.is_empty())?;
    // As JavaScript's `Number(page) || 0`: a page that is not a whole number is the first.
    let page = page.and_then(|p| p.trim().parse::<u64>().ok()).unwrap_or(0);
    Some(serde_json::json!({ "page": page, "pageToken": token }))
}

/// A query component with `+` as a space and `%XX` escapes decoded (a bad escape is kept as is).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |i: usize| {
        bytes
            .get(i)
            .and_then(|&b| char::from(b).to_digit(16))
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(hi * 16 + lo);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Paging, PagingAll};
    use serde_json::json;

    fn wire(op: Op) -> Value {
        serde_json::to_value(op.call()).expect("json")
    }

    /// Serde names every variant when it refuses an unknown one: that list is `KINDS`.
    #[test]
    fn kinds_name_every_operation() {
        let err = serde_json::from_value::<Op>(json!({"kind": "sendFax"}))
            .expect_err("unknown")
            .to_string();
        let listed: Vec<&str> = err
            .split("expected one of ")
            .nth(1)
            .expect("the variants")
            .split(", ")
            .map(|k| k.trim_matches(|c: char| c == '`' || !c.is_ascii_alphanumeric()))
            .collect();
        assert_eq!(listed, KINDS.to_vec());
    }

    #[test]
    fn sync_writes_name_their_path_and_send_only_what_is_left() {
        let update = Op::UpdateSyncItem {
            service_sid: "IS1".into(),
            map: "M".into(),
            key: "k".into(),
            data: json!({"n": 1}),
            ttl: None,
            if_match: Some("3".into()),
        };
        assert_eq!(
            wire(update),
            json!({"client": {"path": ["sync", "v1", ["services", "IS1"], ["syncMaps", "M"],
                ["syncMapItems", "k"]], "request": "update",
                "params": {"data": "data", "ifMatch": "ifMatch"}}})
        );
        let null = Op::CreateSyncItem {
            service_sid: "IS1".into(),
            map: "M".into(),
            key: "k".into(),
            data: Value::Null,
            ttl: Some(60),
        };
        assert_eq!(
            wire(null)["client"]["params"],
            json!({"key": "key", "ttl": "ttl"})
        );
        let list = Op::ListSyncItems {
            service_sid: "IS1".into(),
            map: "M".into(),
            from: None,
            bounds: None,
            order: Some("asc".into()),
            paging: Paging {
                page_size: Some(100),
                limit: 200,
            },
        };
        assert_eq!(
            wire(list),
            json!({"client": {"path": ["sync", "v1", ["services", "IS1"], ["syncMaps", "M"],
                "syncMapItems"], "request": "list",
                "params": {"order": "order", "pageSize": "pageSize", "limit": "limit"}}})
        );
    }

    #[test]
    fn a_called_segment_a_positional_value_and_a_page() {
        let stats = Op::FetchTaskQueueStatistics {
            workspace_sid: "WS1".into(),
            task_queue_sid: "WQ1".into(),
            task_channel: None,
            start_date: None,
            split_by_wait_time: None,
        };
        assert_eq!(
            wire(stats),
            json!({"client": {"path": ["taskrouter", "v1", ["workspaces", "WS1"],
                ["taskQueues", "WQ1"], ["statistics"]], "request": "fetch"}})
        );
        let every = Op::ListTaskQueueStatistics {
            workspace_sid: "WS1".into(),
            minutes: None,
            task_channel: None,
            paging: PagingAll::default(),
        };
        assert_eq!(
            wire(every),
            json!({"client": {"path": ["taskrouter", "v1", ["workspaces", "WS1"], "taskQueues",
                "statistics"], "request": "list"}})
        );
        let bulk = Op::CreateTaskQueueBulkRealTimeStatistics {
            workspace_sid: "WS1".into(),
            task_queue_sids: vec!["WQ1".into(), "WQ2".into()],
        };
        assert_eq!(
            wire(bulk),
            json!({"client": {"path": ["taskrouter", "v1", ["workspaces", "WS1"], "taskQueues",
                "bulkRealTimeStatistics"], "request": "create", "positional": "taskQueueSids"}})
        );
        let page = Op::ListEventsPage {
            workspace_sid: "WS1".into(),
            event_type: None,
            start_date: None,
            end_date: None,
            page_size: Some(1000),
            page: Some(1),
            page_token: Some("PT".into()),
        };
        assert_eq!(
            wire(page),
            json!({"client": {"path": ["taskrouter", "v1", ["workspaces", "WS1"], "events"],
                "request": "page", "params": {"pageSize": "pageSize", "pageNumber": "page",
                "pageToken": "pageToken"}, "read": "page"}})
        );
        let as_caller = Op::FetchServerlessService {
            service_sid: "ZS1".into(),
            credentials: Some(Credentials {
                username: "SK1".into(),
                password: "pw".into(),
            }),
        };
        assert_eq!(
            wire(as_caller),
            json!({"client": {"path": ["serverless", "v1", ["services", "ZS1"]],
                "request": "fetch", "as": {"username": "SK1", "password": "pw"}}})
        );
    }

    #[test]
    fn what_the_client_cannot_do_is_a_raw_request() {
        assert_eq!(
            wire(Op::ValidateFlexToken {
                token: "ey\"J".into()
            }),
            json!({"raw": {"product": "iam", "path": "/v1/Accounts/{AccountSid}/Tokens/validate",
                "method": "POST", "headers": {"Cache-Control": "no-cache",
                "Content-Type": "application/json"}, "body": r#"{"token":"ey\"J"}"#,
                "fails": [429, 503], "read": "status"}})
        );
        assert_eq!(
            wire(Op::FetchRecordingMedia {
                recording_sid: "RE1/..".into(),
                format: "wav".into()
            }),
            json!({"raw": {"product": "api", "method": "GET", "read": "media",
                "path": "/2010-04-01/Accounts/{AccountSid}/Recordings/RE1%2F...wav"}})
        );
        assert_eq!(
            wire(Op::FetchEmulatorAssetContent {
                version_sid: "ZN1/x".into()
            }),
            json!({"raw": {"product": "serverless", "method": "GET", "read": "json",
                "path": "/emulator/serverless/asset-versions/ZN1%2Fx/content"}})
        );
        assert_eq!(
            wire(Op::UploadServerlessAssetVersion {
                service_sid: "ZS1".into(),
                asset_sid: "ZH1".into(),
                path: "/a/config.json".into(),
                visibility: "private".into(),
                content: "{}".into(),
                content_type: "application/json".into(),
            }),
            json!({"raw": {"host": "serverless-upload.twilio.com", "method": "POST",
                "path": "/v1/Services/ZS1/Assets/ZH1/Versions", "read": "json",
                "headers": {"Content-Type": "multipart/form-data; boundary=----effects-part"},
                "body": "------effects-part\r\nContent-Disposition: form-data; name=\"Path\"\r\n\r\n/a/config.json\r\n\
                    ------effects-part\r\nContent-Disposition: form-data; name=\"Visibility\"\r\n\r\nprivate\r\n\
                    ------effects-part\r\nContent-Disposition: form-data; name=\"Content\"; filename=\"config.json\"\r\nContent-Type: application/json\r\n\r\n{}\r\n\
                    ------effects-part--\r\n"}})
        );
        let (header, body) =
            multipart(&[("Content", "a ----effects-part b", Some(("/", "text/plain")))]);
        assert_eq!(header, "multipart/form-data; boundary=----effects-partx");
        assert!(
            body.starts_with("------effects-partx\r\n")
                && body.ends_with("------effects-partx--\r\n")
        );
        let (_, quoted) = multipart(&[("a\"b", "", Some(("c\r\nd", "t")))]);
        assert!(quoted.contains("name=\"a%22b\"; filename=\"c%0D%0Ad\""));
    }

    #[test]
    fn the_next_page_is_read_from_twilios_url() {
        let url = "https://taskrouter.twilio.com/v1/Workspaces/WS1/Events?PageSize=1&Page=2&PageToken=PA%2Bb%3D&StartDate=x";
        assert_eq!(
            next_page(url),
            Some(json!({"page": 2, "pageToken": "PA+b="}))
        );
        assert_eq!(
            next_page("https://x/Events?PageToken=PT&Page=z"),
            Some(json!({"page": 0, "pageToken": "PT"}))
        );
        assert_eq!(next_page("https://x/Events?Page=1"), None);
        assert_eq!(next_page("https://x/Events?PageToken="), None);
        assert_eq!(next_page("no query"), None);
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("a+b%C3%A9"), "a bé");
    }
}
