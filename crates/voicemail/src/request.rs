//! The voicemail box's requests (`GET|POST /voicemail`).
//!
//! | `action` | also | does |
//! |---|---|---|
//! | `list` (default) | `pageSize` (1–100, default 100), `pageToken` (an answer's `nextPageToken`) | one page of the box (by key), newest first within it, with the unheard count |
//! | `heard` | `callSid`, `heard` (`true` default, or `false`) | marks it heard (or unheard) |
//! | `delete` | `callSid` | deletes the Twilio recording, then the voicemail |
//! | `media` | `callSid` | the recording's audio, streamed with the account's credentials |
//!
//! Whose box: `workerSid` when given, else the token's own worker. Whether the token may act for
//! that worker is `crates/auth`'s `actFor` rule (an agent their own box only, a supervisor or
//! admin anyone's).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::record::Voicemail;
use crate::{box_map, is_sid, VoicemailError};

pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoxFields {
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub worker_sid: Option<String>,
    #[serde(default)]
    pub call_sid: Option<String>,
    #[serde(default)]
    pub heard: Option<String>,
    #[serde(default)]
    pub page_size: Option<String>,
    #[serde(default)]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoxPlan {
    pub action: String,
    /// The box's owner.
    pub worker_sid: String,
    /// Its Sync map.
    pub map: String,
    pub call_sid: Option<String>,
    pub heard: bool,
    pub page_size: u32,
    pub page_token: Option<String>,
}

fn field(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Validates a box request; `token_worker` is the Flex token's own worker (none for a token
/// without one). 400 naming the first bad parameter.
pub fn plan(f: &BoxFields, token_worker: Option<&str>) -> Result<BoxPlan, VoicemailError> {
    let action = match field(&f.action) {
        None => "list",
        Some(a @ ("list" | "heard" | "delete" | "media")) => a,
        Some(a) => {
            return Err(VoicemailError::invalid(
                "action",
                format!("{a:?}; expected list, heard, delete or media"),
            ))
        }
    };
    let worker_sid = match field(&f.worker_sid) {
        Some(w) if is_sid(w, "WK") => w.to_string(),
        Some(w) => {
            return Err(VoicemailError::invalid(
                "workerSid",
                format!("{w:?} is not a worker SID (WK…)"),
            ))
        }
        None => token_worker
            .filter(|w| is_sid(w, "WK"))
            .map(str::to_string)
            .ok_or(VoicemailError::MissingParameter("workerSid"))?,
    };
    let call_sid = match field(&f.call_sid) {
        Some(c) if is_sid(c, "CA") => Some(c.to_string()),
        Some(c) => {
            return Err(VoicemailError::invalid(
                "callSid",
                format!("{c:?} is not a call SID (CA…)"),
            ))
        }
        None if action == "list" => None,
        None => return Err(VoicemailError::MissingParameter("callSid")),
    };
    let heard = match field(&f.heard).map(str::to_ascii_lowercase).as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(h) => {
            return Err(VoicemailError::invalid(
                "heard",
                format!("{h:?}; expected true or false"),
            ))
        }
    };
    let page_size = match field(&f.page_size) {
        None => MAX_PAGE_SIZE,
        Some(p) => match p.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(VoicemailError::invalid(
                    "pageSize",
                    format!("{p:?}; expected a whole number from 1 to {MAX_PAGE_SIZE}"),
                ))
            }
        },
    };
    let page_token = match field(&f.page_token) {
        None => None,
        // The last key of the previous page (a call SID): the next page starts after it.
        Some(t) if is_sid(t, "CA") => Some(t.to_string()),
        Some(_) => {
            return Err(VoicemailError::invalid(
                "pageToken",
                "not a page token from an earlier answer",
            ))
        }
    };
    Ok(BoxPlan {
        action: action.to_string(),
        map: box_map(&worker_sid),
        worker_sid,
        call_sid,
        heard,
        page_size,
        page_token,
    })
}

/// One page of a box, as `/voicemail` answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAnswer {
    pub worker_sid: String,
    /// Newest first.
    pub voicemails: Vec<Voicemail>,
    /// Unheard voicemails on this page.
    pub unheard: usize,
    /// `true` when there are more pages, so the box holds at least `unheard` unheard ones;
    /// `false`: `unheard` is the box's count.
    pub unheard_at_least: bool,
    pub next_page_token: Option<String>,
}

/// The page answer from the map items read (`data` of each), newest first.
pub fn list_answer(
    worker_sid: &str,
    items: &[Value],
    next_page_token: Option<String>,
) -> ListAnswer {
    let mut voicemails: Vec<Voicemail> = items
        .iter()
        .filter_map(|v| serde_json::from_value::<Voicemail>(v.clone()).ok())
        .filter(|v| v.worker_sid == worker_sid)
        .collect();
    voicemails.sort_by(|a, b| {
        b.date_created
            .cmp(&a.date_created)
            .then_with(|| a.call_sid.cmp(&b.call_sid))
    });
    let unheard = voicemails.iter().filter(|v| !v.heard).count();
    ListAnswer {
        worker_sid: worker_sid.to_string(),
        voicemails,
        unheard,
        unheard_at_least: next_page_token.is_some(),
        next_page_token,
    }
}

/// The stored item as a voicemail of `plan`'s box, or 404.
pub fn stored(plan: &BoxPlan, data: Option<&Value>) -> Result<Voicemail, VoicemailError> {
    let not_found = || VoicemailError::NotFound {
        worker_sid: plan.worker_sid.clone(),
        call_sid: plan.call_sid.clone().unwrap_or_default(),
    };
    let v: Voicemail = data
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .ok_or_else(not_found)?;
    if v.worker_sid != plan.worker_sid {
        return Err(not_found());
    }
    Ok(v)
}
