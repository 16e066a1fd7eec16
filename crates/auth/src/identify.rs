//! The identify machine (docs/effects.md): which credential a request presents and, for a Flex
//! token, IAM's verdict on it, the one request authorization makes.
//!
//! [`start_identify`] reads the request ([`crate::presented`]): a wallboard key, no token at all
//! or a token that came from the URL is the credential at once; a Flex token is one effect,
//! `validateFlexToken` (retried after a 429/503 within the deadline), and [`resume_identify`] reads
//! its outcome ([`crate::iam_verdict`]). The machine's answer is a [`Credential`], the input of
//! [`crate::authorize`] and of the machines that decide with it (pickup, the voicemail box), not a
//! function's answer: so a verdict that cannot be had (IAM refused our credentials 500, no verdict
//! 502, never sent 504) is an [`AuthError`], thrown as the rule's refusals are.

use effects::{Effect, Op};
use serde::{Deserialize, Serialize};

use crate::{iam_verdict, presented, AuthError, Credential, IamOutcome, Presented, Request};

/// What the machine waits for between its two steps (the token itself is not kept: the state
/// travels through the executor and need not carry a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "camelCase")]
pub enum Pending {
    /// IAM's verdict on the token sent with `validateFlexToken`.
    IamVerdict,
}

/// A step of the identify machine. On the wire: `{"state": …, "run": [effect]}` or
/// `{"answer": credential}` (the credential as [`Credential`] reads it back).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Identify {
    /// Perform `run`, then [`resume_identify`] with its outcome.
    Run { state: Pending, run: Vec<Effect> },
    /// The request's credential.
    Answer { answer: Credential },
}

/// The first step for `request`: its credential, or IAM's request for a Flex token.
pub fn start_identify(request: &Request) -> Identify {
    let credential = match presented(request) {
        Presented::Flex { token } if token.is_empty() => Credential::Flex { iam: None },
        Presented::Flex { token } => {
            return Identify::Run {
                state: Pending::IamVerdict,
                run: vec![Effect::from(Op::ValidateFlexToken { token })],
            }
        }
        Presented::WallboardKey { key } => Credential::WallboardKey { key },
        Presented::FlexTokenInUrl => Credential::FlexTokenInUrl,
    };
    Identify::Answer { answer: credential }
}

/// The credential once IAM's outcome is in: `{kind: 'flex', iam}` with IAM's verdict, or why there
/// is none ([`crate::iam_verdict`]); outcomes that are not the one the step asked for are a 500.
pub fn resume_identify(state: Pending, outcomes: Vec<IamOutcome>) -> Result<Identify, AuthError> {
    let Pending::IamVerdict = state;
    let count = outcomes.len();
    let Ok([outcome]) = <[IamOutcome; 1]>::try_from(outcomes) else {
        return Err(AuthError::UnreadableStep(format!(
            "one outcome of validateFlexToken was expected, the executor handed back {count}"
        )));
    };
    let iam = iam_verdict(outcome)?;
    Ok(Identify::Answer {
        answer: Credential::Flex { iam: Some(iam) },
    })
}
