//! `voicemail-twiml`: the voicemail leg's TwiML ([`crate::twiml`]).
//!
//! `step=greeting`: read the worker (their greeting URL and name; a failed read, or no workspace
//! set, gives the default greeting naming nobody), answer the greeting and `<Record>`.
//! `step=done` (the `<Record>` action): store what it carries when it carries a recording (the
//! [`store`](crate::machine::store) machine; whatever storing does, a failure only goes to the
//! log), then answer the goodbye.

use effects::{Answer, Op, Outcome};
use serde::{Deserialize, Serialize};

use crate::machine::{store, Machine, Notes, Turn};
use crate::record::{self, CallbackFields};
use crate::settings::{Env, Settings};
use crate::twiml::{self, TwimlPlan, TwimlRequest, WorkerInfo};
use crate::VoicemailError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "camelCase")]
pub enum Twiml {
    /// Reading the worker for the greeting.
    Worker { plan: TwimlPlan, settings: Settings },
    /// Storing the action's recording, then the goodbye.
    Store { store: Box<store::Store> },
}

fn xml(body: String) -> Answer {
    Answer::text(200, body, "text/xml")
}

fn goodbye(notes: Notes) -> Turn {
    Turn::answer(xml(twiml::GOODBYE.to_string())).with(notes)
}

/// Checks the query (400 naming it) and the settings (500 naming a variable); `fields` are the
/// request's form fields (the `<Record>` action's `RecordingSid`, `CallSid`…).
pub fn start(
    request: &TwimlRequest,
    fields: &CallbackFields,
    env: &Env,
) -> Result<Turn, VoicemailError> {
    let plan = twiml::plan(request)?;
    let settings = Settings::from_env(env)?;
    if plan.step == "done" {
        if fields.recording_sid.is_none() {
            return Ok(goodbye(Notes::default()));
        }
        let fields = CallbackFields {
            worker_sid: Some(plan.worker_sid.clone()),
            ..fields.clone()
        };
        let begun = settings
            .sync_service(env)
            .and_then(|sid| record::parse_callback(&fields).map(|part| (sid, part)));
        return Ok(match begun {
            Ok((sid, part)) => embed(store::begin(sid, part, env.board())),
            Err(e) => goodbye(Notes {
                warning: Some(format!(
                    "voicemail-twiml: the action could not store {}: {e}",
                    fields.call_sid.as_deref().unwrap_or("its call")
                )),
                ..Notes::default()
            }),
        });
    }
    Ok(match env.workspace()? {
        Some(workspace_sid) => {
            let op = Op::FetchWorker {
                workspace_sid,
                worker_sid: plan.worker_sid.clone(),
            };
            Turn::one(
                Machine::Twiml(Box::new(Twiml::Worker { plan, settings })),
                op,
            )
        }
        None => Turn::answer(xml(twiml::greeting_twiml(&plan, None, &settings))),
    })
}

/// The store's turn inside this machine: its answer becomes the goodbye (a failure logged).
fn embed(turn: Turn) -> Turn {
    let Turn { step, mut notes } = turn;
    match step {
        effects::Step::Run { state, effects } => match state {
            Machine::Store(store) => {
                Turn::run(Machine::Twiml(Box::new(Twiml::Store { store })), effects)
            }
            _ => Turn::answer(crate::machine::unreadable("not a store")),
        },
        effects::Step::Answer(a) => {
            if a.status != 200 {
                let stored = notes.warning.take();
                notes.warning = Some(format!(
                    "voicemail-twiml: the action could not store its recording: {}{}",
                    a.body,
                    stored.map(|w| format!(" ({w})")).unwrap_or_default()
                ));
            }
            goodbye(notes)
        }
    }
}

pub(crate) fn resume(m: Twiml, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
    match m {
        Twiml::Worker { plan, settings } => {
            let (worker, warning) = match effects::first(outcomes).into_result() {
                Ok(w) => (
                    Some(WorkerInfo {
                        friendly_name: w
                            .get("friendlyName")
                            .and_then(|v| v.as_str())
                            .map(str::to_string),
                        attributes: w
                            .get("attributes")
                            .and_then(|v| v.as_str())
                            .map(str::to_string),
                    }),
                    None,
                ),
                Err(f) => (
                    None,
                    Some(format!(
                        "voicemail-twiml: worker {} could not be read ({}); the default greeting names nobody",
                        plan.worker_sid, f.message
                    )),
                ),
            };
            Turn::answer(xml(twiml::greeting_twiml(
                &plan,
                worker.as_ref(),
                &settings,
            )))
            .with(Notes {
                warning,
                ..Notes::default()
            })
        }
        Twiml::Store { store } => embed(store::resume(*store, effects::first(outcomes), now_ms)),
    }
}
