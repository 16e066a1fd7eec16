//! Who a request comes from and what it may touch: the one authorization rule of every function
//! called by people.
//!
//! People reach our functions with one of two credentials:
//!
//! - a **Flex token** (`Token`), which the identify machine ([`start_identify`], on the effects
//!   protocol) has the executor send to Twilio IAM for validation. IAM's answer ([`IamAnswer`])
//!   says whether it is valid and who it belongs to: the TaskRouter `worker_sid`, the Flex
//!   `roles` (`agent`, `supervisor`, `admin`) and an `identity`. JavaScript only performs that
//!   request; everything below decides with its outcome.
//! - a **wallboard key** (`WALLBOARD_KEY`), a long random secret for a TV on the floor that has no
//!   Flex login. It is compared in constant time and only ever reads statistics.
//!
//! The rule, for each kind of [`Access`]:
//!
//! 1. A Flex token must be present, valid, and belong to a worker (IAM names a `worker_sid`);
//!    otherwise 403. This holds for every access: a valid token of a user who is not a worker acts
//!    on nothing.
//! 2. [`Access::ActFor`] a worker (their capacity, their parked calls): an agent only for their own
//!    worker; `supervisor` and `admin` for anyone. A mismatch is a 403 that names both workers.
//! 3. [`Access::Supervise`] (wallboard, history): `supervisor` or `admin`.
//! 4. [`Access::Roles`] (schedule writes): one of the configured roles, `admin` by default
//!    (`SCHEDULE_ADMIN_ROLES`, a comma-separated list).
//! 5. [`Access::AnyWorker`]: any worker's valid token.
//! 6. A wallboard key is accepted only where the access says `wallboardKey: true` (read-only
//!    screens); it is refused everywhere else, and refused everywhere when no key is configured.
//!    A request never learns anything about the configured key: a wrong key, no key configured and
//!    a configured key too short to be safe ([`MIN_WALLBOARD_KEY_CHARS`]) all answer the same 403
//!    `wrong_wallboard_key`; the shim logs the line [`refusal_log`] gives, what is wrong with the
//!    configuration ([`wallboard_key_problem`]), for the operator.
//!
//! Role names compare without regard to case or surrounding spaces. Every refusal is an
//! [`AuthError`] with a stable code, the HTTP status, and a message that says what was missing.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use wasm_face::FaceError;

mod identify;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use identify::{resume_identify, start_identify, Identify, Pending};

/// The roles that may act for any worker and read supervisor screens.
const SUPERVISING_ROLES: [&str; 2] = ["supervisor", "admin"];
/// A wallboard key shorter than this is a configuration error: it must not be guessable.
pub const MIN_WALLBOARD_KEY_CHARS: usize = 32;

/// IAM's answer to `POST /v1/Accounts/{AC}/Tokens/validate`, the fields the rule reads. A body
/// is IAM's verdict only when it has a boolean `valid` ([`IamBody::Verdict`]), so `valid` is
/// required; [`iam_verdict`] always gives one, and that is what a [`Credential::Flex`] carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct IamAnswer {
    pub valid: bool,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub identity: Option<String>,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// The credential a request carries: the identify machine's answer ([`Identify`]), read back by
/// [`authorize`] and by the machines that decide with it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Credential {
    /// A Flex token: IAM's answer, or `null` when the request carried no token.
    Flex { iam: Option<IamAnswer> },
    /// A wallboard key as the request gave it.
    WallboardKey { key: String },
    /// A Flex token that can only have come from the URL's query string (the request has no body
    /// the runtime parses): refused before it is validated, whatever it is.
    FlexTokenInUrl,
}

/// What a request shows of itself, as the runtime gives it: the `Token` field (form, JSON body or
/// query string: twilio-run merges them), its `Content-Type` and `Authorization` headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub authorization: Option<String>,
}

/// The credential a request presents, before IAM is asked about a Flex token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Presented {
    /// A Flex token to validate (empty: none given; the rule answers 401 without asking IAM).
    Flex { token: String },
    /// `Authorization: Wallboard <key>`.
    WallboardKey { key: String },
    /// A `Token` that can only have come from the URL: refused, whatever it is.
    FlexTokenInUrl,
}

/// Which credential a request presents. The runtime merges the query string and a parsed body
/// (form or JSON) into one event and tells us only the headers, not the method nor the URL: so a
/// `Token` is known to come from the URL exactly when the request has no body the runtime parses
/// (a GET, typically), and that is refused (secrets stay out of URLs and logs). Otherwise the
/// `Authorization` header wins: `Wallboard <key>`, then `Bearer <token>`; then the `Token` field
/// (the Flex plugins send it in the body).
pub fn presented(request: &Request) -> Presented {
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
    let token = text(&request.token);
    let content_type = text(&request.content_type).to_ascii_lowercase();
    let parsed_body = ["application/x-www-form-urlencoded", "application/json"]
        .iter()
        .any(|t| {
            content_type.strip_prefix(t).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with(';') || rest.starts_with(' ')
            })
        });
    if !token.is_empty() && !parsed_body {
        return Presented::FlexTokenInUrl;
    }
    let header = text(&request.authorization);
    let mut words = header.split_whitespace();
    let scheme = words.next().unwrap_or("");
    let value = words.collect::<Vec<_>>().join(" ");
    if !value.is_empty() && scheme.eq_ignore_ascii_case("wallboard") {
        return Presented::WallboardKey { key: value };
    }
    if !value.is_empty() && scheme.eq_ignore_ascii_case("bearer") {
        return Presented::Flex { token: value };
    }
    Presented::Flex { token }
}

/// What the request wants to do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Access {
    /// Any worker's valid token (reading schedules, staffing).
    #[serde(rename_all = "camelCase")]
    AnyWorker {
        #[serde(default)]
        wallboard_key: bool,
    },
    /// Act for worker `worker_sid` (their capacity, their parked calls).
    #[serde(rename_all = "camelCase")]
    ActFor {
        #[serde(default)]
        worker_sid: Option<String>,
    },
    /// Supervisor screens (wallboard, history).
    #[serde(rename_all = "camelCase")]
    Supervise {
        #[serde(default)]
        wallboard_key: bool,
    },
    /// One of `roles` (comma-separated as configured; empty or absent means `admin`), to do `purpose`.
    Roles {
        #[serde(default)]
        roles: Option<String>,
        purpose: String,
    },
}

/// Server settings the rule needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `WALLBOARD_KEY`; absent or empty: wallboard keys are refused.
    #[serde(default)]
    pub wallboard_key: Option<String>,
}

/// Who was let in, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// `"flex"` or `"wallboardKey"`.
    pub via: &'static str,
    /// The token's worker (none for a wallboard key).
    pub worker_sid: Option<String>,
    pub identity: Option<String>,
    pub roles: Vec<String>,
    /// The token may act for any worker and read supervisor screens.
    pub supervisor: bool,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    #[error(
        "Unauthorized: Token was not provided (send the Flex user token as the Token parameter)"
    )]
    MissingToken,
    #[error("Unauthorized: the Flex token is not valid ({0})")]
    InvalidToken(String),
    #[error(
        "Forbidden: the Flex token of {identity} belongs to no TaskRouter worker, and only workers \
         may use this function"
    )]
    NotAWorker { identity: String },
    #[error(
        "Forbidden: this Flex token belongs to worker {token_worker}, not to {requested}; only a \
         supervisor or admin may act for another worker"
    )]
    WrongWorker {
        token_worker: String,
        requested: String,
    },
    #[error("Forbidden: {purpose} needs the role {needed}; this token has {has}")]
    RoleRequired {
        purpose: String,
        needed: String,
        has: String,
    },
    #[error("missing required parameter: workerSid (the worker to act for)")]
    MissingWorker,
    #[error(
        "invalid parameter workerSid: {0:?} is not a worker SID (WK followed by 32 hex digits)"
    )]
    InvalidWorker(String),
    #[error(
        "a Flex token is not accepted in the URL's query string (URLs end up in logs and \
         browser history): send it in the header `Authorization: Bearer <token>` (or as Token in \
         a POST body)"
    )]
    TokenInUrl,
    #[error("Forbidden: this function does not accept a wallboard key; sign in to Flex")]
    WallboardKeyNotAccepted,
    /// A wrong key, or no usable key configured: the same answer, so that a request learns
    /// nothing about `WALLBOARD_KEY` (see [`wallboard_key_problem`] for the server's log).
    #[error("Forbidden: this wallboard key is not accepted")]
    WrongWallboardKey,
    #[error(
        "Server misconfigured: WALLBOARD_TOKEN_TTL={0:?} is not a whole number of seconds from \
         {MIN_SYNC_TOKEN_TTL} to {MAX_SYNC_TOKEN_TTL}"
    )]
    InvalidTokenTtl(String),
    /// IAM refused this service's own credentials (`Authenticate`, 20003): our configuration.
    #[error(
        "Server misconfigured: IAM refused this service's credentials (HTTP {0}, code 20003); \
         check ACCOUNT_SID and AUTH_TOKEN"
    )]
    IamRefusedUs(u16),
    /// IAM gave no verdict: no answer, an error, or an answer without one.
    #[error("Could not validate the Flex token: {0}")]
    IamFailed(String),
    /// The token validation was never sent: the invocation's deadline had come.
    #[error("Validating the Flex token was not attempted: {0}")]
    IamNotAttempted(String),
    /// The identify machine was handed back a state or outcomes it did not ask for.
    #[error("The token validation's state could not be read ({0}); nothing further was done")]
    UnreadableStep(String),
}

impl FaceError for AuthError {
    fn code(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::InvalidToken(_) => "invalid_token",
            AuthError::NotAWorker { .. } => "not_a_worker",
            AuthError::WrongWorker { .. } => "wrong_worker",
            AuthError::RoleRequired { .. } => "role_required",
            AuthError::MissingWorker => "missing_parameter",
            AuthError::InvalidWorker(_) => "invalid_parameter",
            AuthError::WallboardKeyNotAccepted => "wallboard_key_not_accepted",
            AuthError::WrongWallboardKey => "wrong_wallboard_key",
            AuthError::TokenInUrl => "token_in_url",
            AuthError::InvalidTokenTtl(_) => "invalid_config",
            AuthError::IamRefusedUs(_) => "iam_credentials",
            AuthError::IamFailed(_) => "iam_failed",
            AuthError::IamNotAttempted(_) => "deadline",
            AuthError::UnreadableStep(_) => "invalid_state",
        }
    }

    fn status(&self) -> u16 {
        match self {
            AuthError::MissingWorker | AuthError::InvalidWorker(_) | AuthError::TokenInUrl => 400,
            AuthError::InvalidTokenTtl(_)
            | AuthError::IamRefusedUs(_)
            | AuthError::UnreadableStep(_) => 500,
            AuthError::IamFailed(_) => 502,
            AuthError::IamNotAttempted(_) => 504,
            _ => 403,
        }
    }

    fn parameter(&self) -> Option<&str> {
        match self {
            AuthError::MissingToken | AuthError::InvalidToken(_) | AuthError::TokenInUrl => {
                Some("Token")
            }
            AuthError::MissingWorker
            | AuthError::InvalidWorker(_)
            | AuthError::WrongWorker { .. } => Some("workerSid"),
            AuthError::InvalidTokenTtl(_) => Some("WALLBOARD_TOKEN_TTL"),
            _ => None,
        }
    }
}

fn same_role(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn has_any_role(roles: &[String], wanted: &[&str]) -> bool {
    roles.iter().any(|r| wanted.iter().any(|w| same_role(r, w)))
}

/// `WK` followed by 32 hex digits.
fn is_worker_sid(s: &str) -> bool {
    values::sid::is_sid(s, "WK")
}

/// Equal in time that depends only on the lengths, never on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

fn list(roles: &[String]) -> String {
    if roles.is_empty() {
        "no role".to_string()
    } else {
        roles.join(", ")
    }
}

/// Decides whether `credential` may do `access`.
pub fn authorize(
    credential: &Credential,
    access: &Access,
    settings: &Settings,
) -> Result<Grant, AuthError> {
    let iam = match credential {
        Credential::WallboardKey { key } => return wallboard(key, access, settings),
        Credential::FlexTokenInUrl => return Err(AuthError::TokenInUrl),
        Credential::Flex { iam: None } => return Err(AuthError::MissingToken),
        Credential::Flex { iam: Some(iam) } => iam,
    };
    if !iam.valid {
        let why = iam
            .message
            .as_deref()
            .unwrap_or("IAM gave no reason")
            .trim();
        return Err(AuthError::InvalidToken(why.to_string()));
    }
    let identity = iam.identity.clone().filter(|s| !s.trim().is_empty());
    let worker_sid = match iam.worker_sid.as_deref().map(str::trim) {
        Some(sid) if !sid.is_empty() => sid.to_string(),
        _ => {
            let identity = identity.clone().unwrap_or_else(|| "this user".to_string());
            return Err(AuthError::NotAWorker { identity });
        }
    };
    let roles = iam.roles.clone().unwrap_or_default();
    let supervisor = has_any_role(&roles, &SUPERVISING_ROLES);
    match access {
        Access::AnyWorker { .. } => {}
        Access::ActFor { worker_sid: wanted } => {
            let wanted = wanted.as_deref().map(str::trim).unwrap_or("");
            if wanted.is_empty() {
                return Err(AuthError::MissingWorker);
            }
            if !is_worker_sid(wanted) {
                return Err(AuthError::InvalidWorker(wanted.to_string()));
            }
            if wanted != worker_sid && !supervisor {
                return Err(AuthError::WrongWorker {
                    token_worker: worker_sid,
                    requested: wanted.to_string(),
                });
            }
        }
        Access::Supervise { .. } if !supervisor => {
            return Err(AuthError::RoleRequired {
                purpose: "this supervisor screen".to_string(),
                needed: "supervisor or admin".to_string(),
                has: list(&roles),
            });
        }
        Access::Supervise { .. } => {}
        Access::Roles {
            roles: wanted,
            purpose,
        } => {
            let wanted: Vec<&str> = wanted
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .collect();
            let wanted = if wanted.is_empty() {
                vec!["admin"]
            } else {
                wanted
            };
            if !has_any_role(&roles, &wanted) {
                return Err(AuthError::RoleRequired {
                    purpose: purpose.clone(),
                    needed: wanted.join(" or "),
                    has: list(&roles),
                });
            }
        }
    }
    Ok(Grant {
        via: "flex",
        worker_sid: Some(worker_sid),
        identity,
        roles,
        supervisor,
    })
}

fn configured_key(settings: &Settings) -> &str {
    settings
        .wallboard_key
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
}

/// What is wrong with the configured `WALLBOARD_KEY`, for the server's log only (never for an
/// answer): not set (keys are refused), or too short to be safe (refused too). `None` when usable.
pub fn wallboard_key_problem(settings: &Settings) -> Option<String> {
    let chars = configured_key(settings).chars().count();
    if chars == 0 {
        Some("WALLBOARD_KEY is not set: every wallboard key is refused".into())
    } else if chars < MIN_WALLBOARD_KEY_CHARS {
        Some(format!(
            "WALLBOARD_KEY is {chars} characters, so every wallboard key is refused; use a \
             random key of at least {MIN_WALLBOARD_KEY_CHARS} (for example `openssl rand -hex 24`)"
        ))
    } else {
        None
    }
}

/// The line for the server's log after a refusal whose code is `code`: for a refused wallboard
/// key (`wrong_wallboard_key`), what is wrong with `WALLBOARD_KEY` when something is
/// ([`wallboard_key_problem`]); nothing for any other refusal, nor for a wrong key against a usable
/// configuration. The answer itself never says it.
pub fn refusal_log(code: Option<&str>, settings: &Settings) -> Option<String> {
    if code != Some(AuthError::WrongWallboardKey.code()) {
        return None;
    }
    wallboard_key_problem(settings).map(|problem| format!("A wallboard key was refused: {problem}"))
}

fn wallboard(key: &str, access: &Access, settings: &Settings) -> Result<Grant, AuthError> {
    let accepted = match access {
        Access::AnyWorker { wallboard_key } | Access::Supervise { wallboard_key } => *wallboard_key,
        Access::ActFor { .. } | Access::Roles { .. } => false,
    };
    if !accepted {
        return Err(AuthError::WallboardKeyNotAccepted);
    }
    let configured = configured_key(settings);
    // Compared whatever the configuration, so the answer and its work say nothing about it.
    let same = constant_time_eq(key.trim().as_bytes(), configured.as_bytes());
    if !same || wallboard_key_problem(settings).is_some() {
        return Err(AuthError::WrongWallboardKey);
    }
    Ok(Grant {
        via: "wallboardKey",
        worker_sid: None,
        identity: None,
        roles: Vec::new(),
        supervisor: false,
    })
}

/// The bounds of `WALLBOARD_TOKEN_TTL` (seconds); the default is an hour.
pub const MIN_SYNC_TOKEN_TTL: u32 = 5;
pub const MAX_SYNC_TOKEN_TTL: u32 = 86_400;
const DEFAULT_SYNC_TOKEN_TTL: u32 = 3_600;

/// The one Sync identity of every board token (`values::sync::BOARD_IDENTITY`: the statistics
/// writer grants it [`BOARD_PERMISSION`] on each object it creates).
pub const BOARD_IDENTITY: &str = values::sync::BOARD_IDENTITY;

/// A Sync permission (`Read`, `Write`, `Manage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncPermission {
    pub read: bool,
    pub write: bool,
    pub manage: bool,
}

/// What [`BOARD_IDENTITY`] may do with a statistics object (`values::sync::BOARD_PERMISSION`):
/// read it, never change or delete it.
pub const BOARD_PERMISSION: SyncPermission = SyncPermission {
    read: values::sync::BOARD_PERMISSION.read,
    write: values::sync::BOARD_PERMISSION.write,
    manage: values::sync::BOARD_PERMISSION.manage,
};

/// Who a wallboard's Sync token is minted for: its identity (the one Sync permissions are granted
/// to), who is watching, and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncTokenPlan {
    /// How the request was let in (the grant's `via`).
    pub via: &'static str,
    /// Always [`BOARD_IDENTITY`].
    pub identity: &'static str,
    /// Who asked: `wallboard-key`, or the Flex user's identity (else worker SID).
    pub viewer: String,
    pub permission: SyncPermission,
    pub ttl_seconds: u32,
}

/// The Sync token a grant gets for the wallboard: the shared identity [`BOARD_IDENTITY`] with
/// [`BOARD_PERMISSION`]; `viewer` says who asked (logs, the answer). `ttl` is
/// `WALLBOARD_TOKEN_TTL` as configured (absent or empty: an hour).
pub fn wallboard_sync_token(grant: &Grant, ttl: Option<&str>) -> Result<SyncTokenPlan, AuthError> {
    let ttl_text = ttl.map(str::trim).unwrap_or("");
    let ttl_seconds = if ttl_text.is_empty() {
        DEFAULT_SYNC_TOKEN_TTL
    } else {
        ttl_text
            .parse::<u32>()
            .ok()
            .filter(|t| (MIN_SYNC_TOKEN_TTL..=MAX_SYNC_TOKEN_TTL).contains(t))
            .ok_or_else(|| AuthError::InvalidTokenTtl(ttl_text.to_string()))?
    };
    let viewer = if grant.via == "wallboardKey" {
        "wallboard-key".to_string()
    } else {
        grant
            .identity
            .as_deref()
            .or(grant.worker_sid.as_deref())
            .unwrap_or("unknown")
            .to_string()
    };
    Ok(SyncTokenPlan {
        via: grant.via,
        identity: BOARD_IDENTITY,
        viewer,
        permission: BOARD_PERMISSION,
        ttl_seconds,
    })
}

/// The access a wallboard's Sync token needs: the supervisor screens, or the wallboard key.
pub const BOARD_ACCESS: Access = Access::Supervise {
    wallboard_key: true,
};

/// Authorizes `credential` for [`BOARD_ACCESS`], then plans its wallboard Sync token
/// ([`wallboard_sync_token`]; `ttl` is `WALLBOARD_TOKEN_TTL` as configured).
pub fn board_sync_token(
    credential: &Credential,
    settings: &Settings,
    ttl: Option<&str>,
) -> Result<SyncTokenPlan, AuthError> {
    authorize(credential, &BOARD_ACCESS, settings)
        .and_then(|grant| wallboard_sync_token(&grant, ttl))
}

#[cfg(test)]
mod tests;

/// What came of the effect `validateFlexToken` (the effects executor's outcome, docs/effects.md):
/// `{ok: true, value: {status, body}}` for any answer IAM gave but a 429/503 (`body`: its JSON, or
/// null), or `{ok: false, attempted, status?, code?, message}` (a 429/503 after the executor's
/// retries, no answer at all, or never sent).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IamOutcome {
    pub ok: bool,
    #[serde(default)]
    pub value: Option<IamHttp>,
    #[serde(default = "sent")]
    pub attempted: bool,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub message: String,
}

fn sent() -> bool {
    true
}

/// IAM's HTTP answer.
#[derive(Debug, Clone, Deserialize)]
pub struct IamHttp {
    pub status: u16,
    #[serde(default)]
    pub body: Option<IamBody>,
}

/// IAM's body: an object with a boolean `valid` is a verdict; another object may be a REST error.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IamBody {
    Verdict(IamAnswer),
    Rest(RestError),
    Other(serde::de::IgnoredAny),
}

#[derive(Debug, Clone, Deserialize)]
pub struct RestError {
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub message: Option<String>,
}

/// IAM's verdict on a Flex token, as [`authorize`] reads it (docs/authorization.md). Like
/// twilio-flex-token-validator, a body with a boolean `valid` is IAM's verdict, whatever the
/// status. A 401/403 without one is a REST error: code 20003 (`Authenticate`, Twilio's answer to
/// wrong account credentials) is our misconfiguration (500); any other refusal is taken as a bad
/// token (an invalid answer naming IAM's message and code). No answer, a 429/503 after retries, or
/// a body without a verdict is a 502; a validation never sent (the deadline) a 504.
pub fn iam_verdict(outcome: IamOutcome) -> Result<IamAnswer, AuthError> {
    if !outcome.ok {
        if !outcome.attempted {
            return Err(AuthError::IamNotAttempted(outcome.message));
        }
        return Err(AuthError::IamFailed(match outcome.status {
            Some(s) => format!("IAM answered {s} ({})", outcome.message),
            None => format!("IAM did not answer ({})", outcome.message),
        }));
    }
    let Some(IamHttp { status, body }) = outcome.value else {
        return Err(AuthError::IamFailed("IAM's answer is missing".into()));
    };
    match (status, body) {
        (_, Some(IamBody::Verdict(answer))) => Ok(answer),
        (
            401 | 403,
            Some(IamBody::Rest(RestError {
                code: Some(20003), ..
            })),
        ) => Err(AuthError::IamRefusedUs(status)),
        (401 | 403, body) => {
            let (code, message) = match body {
                Some(IamBody::Rest(e)) => (e.code, e.message),
                _ => (None, None),
            };
            let why = message.unwrap_or_else(|| format!("IAM answered HTTP {status}"));
            Ok(IamAnswer {
                valid: false,
                message: Some(match code {
                    Some(code) => format!("{why} (code {code})"),
                    None => why,
                }),
                ..IamAnswer::default()
            })
        }
        (_, None) => Err(AuthError::IamFailed(format!(
            "IAM answered HTTP {status} without JSON"
        ))),
        (_, Some(_)) => Err(AuthError::IamFailed(format!(
            "IAM answered HTTP {status} without a verdict"
        ))),
    }
}
