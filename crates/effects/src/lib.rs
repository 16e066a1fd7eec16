//! The effects protocol: how a crate asks for Twilio requests without making them.
//!
//! A function's decisions live in a **machine** (a crate): it is started with the request's
//! input and answers a [`Step`]: either a batch of [`Effect`]s to perform, with the state to
//! resume from, or the [`Answer`] to give. One JavaScript executor (`functions/common/effects`)
//! performs every effect of a batch (at once), hands the machine one [`Outcome`] per effect, in
//! the batch's order, and repeats until the machine answers. The machine never reads a clock or
//! draws a random number: the shim passes `now` and tokens in.
//!
//! ```text
//!   shim ──start(input, env, now)──▶ machine ──Step::Run{state, effects}──▶ executor
//!                                       ▲                                     │ performs
//!                                       └────resume(state, outcomes, now)─────┘
//!   shim ◀──────────────Step::Answer{status, body, contentType}───── machine
//! ```
//!
//! - [`Op`] is the closed set of operations: fetch and update a call; Sync map items and
//!   documents read, create, update (optionally `If-Match`), delete, and map creation; TaskRouter
//!   task, task list and reservation reads, task creation and update, worker channel update;
//!   Serverless service, environment, build, deployment and asset reads, build creation and
//!   removal, deployment, asset creation and version upload.
//!   Adding one means adding it here, with its request in [`Op::call`] and its name in
//!   [`KINDS`] (docs/effects.md says how).
//! - [`Effect`] is an operation as the executor receives it: its request ([`Op::call`]: a path
//!   on the `twilio` client, or a [`Raw`] request), whether a 429/503 may be retried,
//!   and how much of a Sync object's write budget it takes ([`sync_write_cost`]).
//! - [`Outcome`] is what came of it: the resource Twilio answered (plain JSON, the `twilio`
//!   client's camelCase field names), or a [`Failure`] with Twilio's status, code and message.
//!   What a failure *means* is decided here: [`Failure::ambiguous`] (the request may have been
//!   carried out), [`Failure::answer`] (the HTTP answer our caller gets).
//! - [`Pacer`] is how long a paced write waits for room in its object's budget.
//! - [`Upsert`] is a small machine other machines embed: create a map item, or update it if it
//!   exists, creating a missing map.
//!
//! No function here panics, whatever the input.

mod call;
mod op;
mod outcome;
mod pacer;
mod step;
mod upsert;

pub use call::{multipart, next_page, Call, Raw, Read, KINDS};
pub use op::{sync_write_cost, Credentials, Effect, Op, Pace, Paging, PagingAll, DELETE_COST};
pub use outcome::{first, Failure, Outcome};
pub use pacer::{Pacer, SHARE};
pub use step::{Answer, Step};
pub use upsert::{Progress, Upsert, UpsertStage};

/// Twilio's error code for "the map item already exists" (a create of an existing key).
pub const SYNC_ITEM_EXISTS: u32 = 54208;
