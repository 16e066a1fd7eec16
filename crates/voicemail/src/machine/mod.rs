//! The voicemail functions as machines of the effects protocol (`crates/effects`,
//! docs/effects.md): each shim reads its input and starts a machine here; the one executor
//! (`functions/common/effects`) performs the Twilio operations it asks for until it answers.
//!
//! | function | machine | operations, in order |
//! |---|---|---|
//! | `voicemail` (the box) | [`mailbox`] | list: the box's items (one more than a page, to know there is more); heard: the item, its update `If-Match` (again after a 412, three times); delete: the item, the Twilio recording, the item's delete; media: the item, the recording's audio |
//! | `voicemail-recorded` | [`store`] | the item; the call (its caller, once, when no part says it); the create (creating a missing map) or the update `If-Match` (again after a 409 or 412, three times) |
//! | `voicemail-twiml` | [`twiml`] | greeting: the worker; done: the [`store`] of what the `<Record>` action carries |
//! | the event callback's hook | [`hook`] | the claim; its create (creating a missing map) or take-over `If-Match`; the call's redirect (never repeated); the claim's release or new state with the task's cancel |
//! | the last step of `voicemail` and `voicemail-recorded` (and `voicemail-twiml`'s action) when a box changed and the live agents view has its service | [`unheard`] | the box's items (up to [`unheard::BOX_LIMIT`]) |
//!
//! Every machine's state is a [`Machine`]; [`resume`] continues any of them. What the shim does
//! beside the answer is in its [`Notes`]: the changed box's unheard count (for the live agents
//! view), a warning for the log, and whether the body is binary (base64).
//!
//! No function panics on any input; time (`now_ms`) and tokens are inputs.

pub mod hook;
pub mod mailbox;
pub mod store;
pub mod twiml;
pub mod unheard;

use effects::{Answer, Effect, Failure, Op, Outcome, Step};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The state of any machine of this crate, as the executor carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "machine", content = "state", rename_all = "camelCase")]
pub enum Machine {
    Mailbox(Box<mailbox::Mailbox>),
    Store(Box<store::Store>),
    Twiml(Box<twiml::Twiml>),
    Hook(Box<hook::Hook>),
    Unheard(Box<unheard::Unheard>),
}

/// What the shim does beside answering.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notes {
    /// The worker whose box changed (a voicemail stored, marked or deleted): [`resume`] counts it
    /// ([`unheard`]) when the live agents view reads the count. Not on the wire.
    #[serde(skip)]
    pub changed_box: Option<String>,
    /// `changedBox` on the wire: the changed box's unheard count, for the live agents view.
    #[serde(rename = "changedBox", skip_serializing_if = "Option::is_none")]
    pub counted: Option<unheard::Counted>,
    /// Something for the server's log (the answer does not say it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The body is binary, as base64 text (the recording's audio).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub base64: bool,
}

/// A machine's next step, with its notes (meaningful with an answer).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub step: Step<Machine>,
    pub notes: Notes,
}

impl Turn {
    pub fn run(state: Machine, effects: Vec<Effect>) -> Turn {
        Turn {
            step: Step::Run { state, effects },
            notes: Notes::default(),
        }
    }

    pub fn one(state: Machine, op: Op) -> Turn {
        Turn::run(state, vec![op.into()])
    }

    pub fn answer(answer: Answer) -> Turn {
        Turn {
            step: Step::Answer(answer),
            notes: Notes::default(),
        }
    }

    pub fn with(mut self, notes: Notes) -> Turn {
        self.notes = notes;
        self
    }

    /// The answer, if this turn is one.
    pub fn as_answer(&self) -> Option<&Answer> {
        self.step.as_answer()
    }
}

impl Machine {
    /// The voicemail service, when this machine may change a box whose unheard count the live
    /// agents view reads (`Env::board`).
    fn counted_in(&self) -> Option<String> {
        let store = |s: &store::Store| s.board.then(|| s.service_sid.clone());
        match self {
            Machine::Mailbox(m) => m.board.then(|| m.service_sid.clone()),
            Machine::Store(s) => store(s),
            Machine::Twiml(t) => match t.as_ref() {
                twiml::Twiml::Store { store: s } => store(s),
                twiml::Twiml::Worker { .. } => None,
            },
            Machine::Hook(_) | Machine::Unheard(_) => None,
        }
    }
}

/// Continues `machine` with the outcomes of the effects it asked for (in their order). An answer
/// that changed a box the live agents view reads goes on to count it ([`unheard::after`]).
pub fn resume(machine: Machine, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
    let counted_in = machine.counted_in();
    let turn = match machine {
        Machine::Mailbox(m) => mailbox::resume(*m, outcomes, now_ms),
        Machine::Store(m) => store::resume(*m, effects::first(outcomes), now_ms),
        Machine::Twiml(m) => twiml::resume(*m, outcomes, now_ms),
        Machine::Hook(m) => hook::resume(*m, outcomes, now_ms),
        Machine::Unheard(m) => unheard::resume(*m, effects::first(outcomes)),
    };
    unheard::after(turn, counted_in, now_ms)
}

/// The answer when the executor hands back a state that is not one of ours (it never should).
pub fn unreadable(problem: &str) -> Answer {
    Answer::json(
        500,
        json!({ "error": format!("The request's state could not be read ({problem}); nothing further was done") }),
    )
}

/// A Sync item as Twilio answered it: its data and revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub data: serde_json::Value,
    pub revision: String,
}

impl Item {
    pub fn of(value: &serde_json::Value) -> Item {
        let revision = match value.get("revision") {
            Some(serde_json::Value::String(r)) => r.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        Item {
            data: value.get("data").cloned().unwrap_or_default(),
            revision,
        }
    }
}

/// The `data` of each item of a list outcome's value (anything else: none).
pub(crate) fn datas(list: &serde_json::Value) -> Vec<serde_json::Value> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("data").cloned())
                .collect()
        })
        .unwrap_or_default()
}

/// The key of each item of a list outcome's value.
pub(crate) fn keys(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("key").and_then(|k| k.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `now_ms` as the records write instants, or a 500 answer.
pub(crate) fn iso(now_ms: f64) -> Result<String, Answer> {
    values::instant::from_millis(now_ms)
        .map(values::instant::iso_millis)
        .ok_or_else(|| {
            Answer::json(
                500,
                json!({ "error": "the current time is not an instant" }),
            )
        })
}

/// A failure's message as the summaries and logs carry it.
pub(crate) fn message(f: &Failure) -> String {
    f.message.clone()
}

#[cfg(test)]
mod tests;
