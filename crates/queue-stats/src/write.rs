//! The write plan: what to do in Sync with a queue's freshly built record.
//!
//! The shim knows four things besides the record, and hands them to [`write_plan`]:
//!
//! - **where the previous record came from** ([`Known`]): read from Sync during this refresh,
//!   remembered by this container (its own last write or read), read and found absent, or never
//!   looked at;
//! - whether every `Statistics` call answered **404**: the queue no longer exists in TaskRouter;
//! - whether this container has seen the queue's `task-queue.deleted` event;
//! - in the documents layout, whether this container has **confirmed** the queue's index entry.
//!
//! # Rules
//!
//! 1. **A deleted queue stays deleted.** Statistics 404 with no record: the queue is gone, write
//!    nothing (a late event). Statistics 404 with a record: remove the record (and its index
//!    entry). A queue this container saw deleted: write nothing.
//! 2. **Never resurrect.** When a record is known to exist, the write is an *update only*: if Sync
//!    answers 404 the record was deleted meanwhile (by `task-queue.deleted` in any container), and
//!    it is not created again. Creating is allowed only when the record was looked for and is
//!    absent, or never looked for.
//! 3. **No correcting write is skipped on one container's memory.** An unchanged record is skipped
//!    only when the comparison was against what Sync holds: the record read from Sync in this
//!    refresh, or this container's remembered copy once a read of Sync's revision shows it is
//!    still the revision this container read or wrote (the shim then says [`Known::Read`]).
//!    Otherwise (another container may have written since) it is written.
//! 4. **The index repairs itself.** In the documents layout, a queue whose index entry this
//!    container has not confirmed gets it checked (read, and written when missing) once. (The map
//!    layout has none: `index_confirmed` is not read there.)
//! 5. **Pacing.** Each write's cost against its object's budget is [`write_cost`] of its size.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Config, Layout};
use crate::{document_name, index_entry, INDEX_MAP_NAME, MAP_NAME};

/// Where the previous record the new one was built over came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Known {
    /// Read from Sync during this refresh, or remembered and confirmed by Sync's revision.
    Read,
    /// This container's remembered copy (its last write or read).
    Cached,
    /// Looked for in Sync during this refresh: there is none.
    Absent,
}

/// What the shim knows besides the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteInput {
    pub queue_sid: String,
    /// The built record (`null` when nothing was built).
    #[serde(default)]
    pub record: Value,
    /// The built record differs in content from the previous one.
    #[serde(default)]
    pub changed: bool,
    pub known: Known,
    /// Every `Statistics` call answered 404.
    #[serde(default)]
    pub gone: bool,
    /// This container saw `task-queue.deleted` for the queue.
    #[serde(default)]
    pub deleted_here: bool,
    /// This container confirmed the queue's index entry (documents layout).
    #[serde(default)]
    pub index_confirmed: bool,
}

/// Where a record lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// `map` or `document`.
    pub kind: String,
    /// The map's or the document's unique name.
    pub object: String,
    /// The item key (map layout); the queue SID.
    pub key: String,
}

/// One queue's Sync steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum WritePlan {
    /// Write nothing.
    Skip { reason: String },
    /// Write the record: update; create only when `may_create`. Then, if `index` is set, make
    /// sure that index entry exists (read it, write it when missing).
    #[serde(rename_all = "camelCase")]
    Write {
        target: Target,
        record: Value,
        may_create: bool,
        /// Cost of the write against its object's budget ([`write_cost`]).
        cost: f64,
        bytes: usize,
        index: Option<IndexEntry>,
    },
    /// Remove the record (and the index entry in the documents layout).
    #[serde(rename_all = "camelCase")]
    Remove {
        target: Target,
        index: Option<IndexEntry>,
        reason: String,
    },
}

/// A documents-layout index entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub map: String,
    pub key: String,
    pub data: Value,
    pub cost: f64,
}

/// Twilio Sync's write budget per object, by payload size: the fraction of one second's budget a
/// write of `bytes` uses (the one model every crate paces by).
pub use values::sync::write_cost;

/// Where the record of `sid` lives in `layout`.
pub fn target(layout: Layout, sid: &str) -> Target {
    match layout {
        Layout::Map => Target {
            kind: "map".into(),
            object: MAP_NAME.into(),
            key: sid.into(),
        },
        Layout::Documents => Target {
            kind: "document".into(),
            object: document_name(sid),
            key: sid.into(),
        },
    }
}

fn index(layout: Layout, sid: &str, record: &Value) -> Option<IndexEntry> {
    if layout != Layout::Documents {
        return None;
    }
    let name = record
        .get("friendlyName")
        .and_then(Value::as_str)
        .unwrap_or(sid);
    let data = index_entry(sid, name);
    let bytes = serde_json::to_string(&data).map(|s| s.len()).unwrap_or(0);
    Some(IndexEntry {
        map: INDEX_MAP_NAME.into(),
        key: sid.into(),
        data,
        cost: write_cost(bytes),
    })
}

/// Decides one queue's Sync steps (see the module docs for the rules).
pub fn write_plan(config: &Config, input: &WriteInput) -> WritePlan {
    plan_for(config.layout, input)
}

/// The queue is gone from TaskRouter: every `Statistics` call of the refresh answered 404 (and
/// there was at least one).
pub fn gone(statuses: &[Option<u16>]) -> bool {
    !statuses.is_empty() && statuses.iter().all(|s| *s == Some(404))
}

/// [`write_plan`] for a layout.
pub fn plan_for(layout: Layout, input: &WriteInput) -> WritePlan {
    let sid = input.queue_sid.as_str();
    if !values::sid::is_sid(sid, "WQ") {
        return WritePlan::Skip {
            reason: format!("{sid:?} is not a queue SID"),
        };
    }
    if input.deleted_here {
        return WritePlan::Skip {
            reason: format!("{sid} was deleted (task-queue.deleted): nothing is written"),
        };
    }
    let exists = matches!(input.known, Known::Read | Known::Cached);
    if input.gone {
        return if exists {
            WritePlan::Remove {
                target: target(layout, sid),
                index: index(layout, sid, &input.record),
                reason: format!(
                    "{sid} no longer exists (its Statistics answer 404): its record is removed"
                ),
            }
        } else {
            WritePlan::Skip {
                reason: format!("{sid} no longer exists (its Statistics answer 404) and has no record: nothing is written"),
            }
        };
    }
    if !input.record.is_object() {
        return WritePlan::Skip {
            reason: format!("no record was built for {sid}"),
        };
    }
    // Only the documents layout has an index.
    let needs_index = layout == Layout::Documents && !input.index_confirmed;
    if !input.changed && input.known == Known::Read && !needs_index {
        return WritePlan::Skip {
            reason: format!("{sid}: the record in Sync already says this"),
        };
    }
    let bytes = serde_json::to_string(&input.record)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    WritePlan::Write {
        target: target(layout, sid),
        record: input.record.clone(),
        may_create: !exists,
        cost: write_cost(bytes),
        bytes,
        index: if needs_index {
            index(layout, sid, &input.record)
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Env;
    use serde_json::json;

    const Q: &str = "WQ0123456789abcdef0123456789abcdef";

    fn config(layout: &str) -> Config {
        Config::from_env(&Env {
            layout: Some(layout.into()),
            ..Env::default()
        })
        .expect("config")
    }

    fn input(known: Known) -> WriteInput {
        WriteInput {
            queue_sid: Q.into(),
            record: json!({"sid": Q, "friendlyName": "Sales"}),
            changed: true,
            known,
            gone: false,
            deleted_here: false,
            index_confirmed: true,
        }
    }

    fn action(plan: &WritePlan) -> &'static str {
        match plan {
            WritePlan::Skip { .. } => "skip",
            WritePlan::Write { .. } => "write",
            WritePlan::Remove { .. } => "remove",
        }
    }

    #[test]
    fn a_deleted_queue_stays_deleted() {
        let map = config("map");
        let plan = write_plan(
            &map,
            &WriteInput {
                gone: true,
                ..input(Known::Absent)
            },
        );
        assert_eq!(action(&plan), "skip", "a late event writes nothing");
        for known in [Known::Read, Known::Cached] {
            let plan = write_plan(
                &map,
                &WriteInput {
                    gone: true,
                    ..input(known)
                },
            );
            assert_eq!(action(&plan), "remove");
        }
        let plan = write_plan(
            &map,
            &WriteInput {
                deleted_here: true,
                ..input(Known::Absent)
            },
        );
        assert_eq!(action(&plan), "skip");
        // A record known to exist is only ever updated: a 404 then means deleted meanwhile.
        let WritePlan::Write { may_create, .. } = write_plan(&map, &input(Known::Cached)) else {
            panic!()
        };
        assert!(!may_create);
        let WritePlan::Write { may_create, .. } = write_plan(&map, &input(Known::Absent)) else {
            panic!()
        };
        assert!(may_create);
    }

    #[test]
    fn unchanged_is_skipped_only_against_sync() {
        let map = config("map");
        let same = |known| WriteInput {
            changed: false,
            ..input(known)
        };
        assert_eq!(action(&write_plan(&map, &same(Known::Read))), "skip");
        assert_eq!(
            action(&write_plan(&map, &same(Known::Cached))),
            "write",
            "another container may have written since"
        );
    }

    #[test]
    fn the_documents_index_is_checked_until_confirmed() {
        let docs = config("documents");
        let plan = write_plan(
            &docs,
            &WriteInput {
                changed: false,
                index_confirmed: false,
                ..input(Known::Read)
            },
        );
        let WritePlan::Write {
            target,
            index: Some(entry),
            ..
        } = plan
        else {
            panic!("{plan:?}")
        };
        assert_eq!(
            (target.kind.as_str(), target.object.as_str()),
            ("document", format!("queueStats.{Q}").as_str())
        );
        assert_eq!(
            (entry.map.as_str(), entry.data["friendlyName"].clone()),
            ("queueStats.index", json!("Sales"))
        );
        let plan = write_plan(
            &config("map"),
            &WriteInput {
                index_confirmed: false,
                ..input(Known::Read)
            },
        );
        let WritePlan::Write { index, .. } = plan else {
            panic!()
        };
        assert_eq!(index, None, "the map layout has no index");
    }
}
