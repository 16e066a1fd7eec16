//! What a call-status callback means for a parked call.
//!
//! When a call is parked, its status callback points at `call-status-handler`. Twilio posts
//! `CallSid`, `CallStatus`, `SequenceNumber` and `Timestamp` there as the call changes state. This
//! crate turns one such callback, plus the call's entry in `Global.ParkedCalls` (or its absence),
//! into a [`Decision`]: look the entry up, do nothing, or wrap up a caller who hung up while
//! parked. It performs no I/O; the shim asks [`decide`], fetches the entry when told to
//! ([`Decision::Lookup`]), asks again with it, and carries out the steps in order.
//!
//! # Statuses
//!
//! | `CallStatus` | meaning here |
//! |---|---|
//! | `completed`, `busy`, `failed`, `no-answer`, `canceled` | terminal: the caller is gone ([`is_terminal`]) |
//! | `queued`, `initiated`, `ringing`, `in-progress` | not terminal: nothing to do |
//! | anything else | rejected as an invalid parameter |
//!
//! A callback for a call that is not in `Global.ParkedCalls` (never parked, already picked up,
//! already wrapped up) does nothing.
//!
//! # Wrapping up
//!
//! For a parked call reaching a terminal status, in this order:
//!
//! 1. **Claim**: update the global entry with `If-Match: <revision it was read at>`, adding a
//!    `wrapUp` marker (status, sequence number, time). Sync applies a conditional update
//!    atomically, so of any number of concurrent callbacks exactly one succeeds; the others get
//!    412 (revision mismatch) or 404 (already removed), re-read the entry and, finding the marker
//!    or no entry, do nothing.
//! 2. **Create the wrap-up task** (TaskRouter, the parked call's workflow, channel `voice`,
//!    priority 1000, attributes from [`parking::hangup_task_attributes`]).
//!    If this fails, **release** the claim (write the original record back, `If-Match` the
//!    claim's revision) so that a later callback can try again; nothing is half-done.
//! 3. **Mark the worker's entry** `callerHangup: true`, `callerHangupTime`, TTL 120 s (the Flex
//!    plugin shows the hang-up to the agent, then the entry expires).
//! 4. **Remove the global entry.**
//!
//! # The idempotency rule
//!
//! *A wrap-up task is created only by the request whose conditional update moved the global entry
//! from "parked" to "claimed".* The claim lives in Sync, not in memory, so it holds for duplicate
//! callbacks, for concurrent requests in one container and across containers, and for callbacks
//! arriving out of order (a late `in-progress` is not terminal; a late duplicate `completed` finds
//! the marker or no entry). A claimed entry is never claimed again: if the claimant dies between
//! creating the task and removing the entry (steps 2-4), the entry stays claimed until its TTL,
//! which can leave a stale entry but never a second task.
//!
//! Time is an input (`now_ms`); the crate never reads a clock.

mod decide;
mod error;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use decide::{
    decide, is_terminal, Callback, ConditionalUpdate, Decision, IgnoreReason, Lookup, StoredItem,
    TaskCreate, WrapUp, CLAIM_FIELD, HANGUP_ENTRY_TTL, TASK_CHANNEL, WRAP_UP_PRIORITY,
};
pub use error::CallStatusError;
