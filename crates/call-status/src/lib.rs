//! What a call-status callback means for a parked call, and the wrap-up it may need.
//!
//! When a call is parked, its status callback points at `call-status-handler` (with Twilio's
//! connection overrides `#rc=3&rp=5xx,ct,rt`: redeliver up to 3 times on a 5xx answer or a
//! timeout). Twilio posts `CallSid`, `CallStatus`, `SequenceNumber` and `Timestamp` there as the
//! call changes state. This crate decides everything about such a callback without I/O, as a
//! machine of the effects protocol (`crates/effects`, docs/effects.md): [`start`] checks the
//! callback and gives the first [`Step`](effects::Step); the executor performs its operation and
//! passes the [`Outcome`](effects::Outcome) to [`resume`], which gives the next one, until an
//! answer. The same machine serves pickup-parked-call when it finds the call already ended
//! (Twilio error 21220) and park-call when the call ended while it was being parked (both embed
//! it: `crates/call-handling`, which also carries the wasm face).
//!
//! # Statuses
//!
//! | `CallStatus` | meaning here |
//! |---|---|
//! | `completed`, `busy`, `failed`, `no-answer`, `canceled` | terminal: the caller is gone ([`is_terminal`]) |
//! | `queued`, `initiated`, `ringing`, `in-progress` | not terminal: nothing to do |
//! | anything else | rejected as an invalid parameter |
//!
//! # The wrap-up, step by step
//!
//! 1. **Read** the call's `Global.ParkedCalls` entry. None: not parked, nothing to do. Marked
//!    `pickedUp` by a live pickup: nothing to do (the caller is with an agent); by a pickup that
//!    is over: remove the leftover entries, no task. Claimed (`wrapUp`) by another live request:
//!    nothing to do.
//! 2. **Claim**: write the `wrapUp` marker with this request's unique token, `If-Match` the
//!    revision read. Sync applies one conditional update per revision, so of any number of
//!    concurrent callbacks one wins; the others re-read and find the claim. A claim whose answer
//!    was lost (timeout, 5xx) is re-read too: finding its own token, the request goes on.
//! 3. **Find** an existing wrap-up task (TaskRouter `EvaluateTaskAttributes`, [`task_expression`])
//!    whenever one may exist: after taking over a claim (ours, released or abandoned) and after an
//!    ambiguous task creation. Task creation is never retried blindly.
//! 4. **Create** the wrap-up task (the record's workflow, channel `voice`, priority 1000,
//!    attributes from [`parking::hangup_task_attributes`]).
//! 5. **Mark the worker's entry** `callerHangup: true` (TTL 120 s, the plugin's notice).
//! 6. **Remove the global entry.**
//!
//! A failure after the claim **releases** it (`released: true`, with the task SID once there is
//! one) and answers **503**, so Twilio's redelivery takes over at once and finishes without a
//! second task. The answer is 503 exactly when a redelivery can finish the job: an unreadable
//! entry, or TaskRouter refusing the task (a 4xx other than 429), is a 200 with the error.
//!
//! # The exactly-once rule
//!
//! *A wrap-up task is created only by the holder of the claim, and only after looking for one
//! whenever an earlier attempt may have created it.* Claims live in Sync (never in memory), carry
//! their writer's token, and expire after [`parking::LEASE_MS`] (10 s, the longest a Function
//! runs), so duplicates, concurrent containers, lost answers, dead requests and redeliveries all
//! end with one task.
//!
//! Time is an input (`now_ms`); the crate never reads a clock.

mod error;
mod machine;

pub use error::CallStatusError;
pub use machine::{
    is_terminal, resume, start, task_expression, Callback, Env, Next, Stage, State, FIND_LIMIT,
    HANGUP_ENTRY_TTL, MAX_CREATES, MAX_ROUNDS, NON_TERMINAL_STATUSES, TASK_CHANNEL,
    TERMINAL_STATUSES, WRAP_UP_PRIORITY,
};

#[cfg(test)]
mod tests;
