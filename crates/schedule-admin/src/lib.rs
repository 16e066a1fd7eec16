//! The Schedule Manager admin API as its own wasm module.
//!
//! The admin functions (`functions/admin/*`) run the machines of [`machine`] on the effects
//! protocol (docs/effects.md): list, update, publish, update-status and fetch-config decide here
//! which Serverless requests to make and what their outcomes mean. The configuration rules
//! (`schedule::admin`: update validation, preview, the list answer; `schedule::publishing`: which
//! build may be created, published or polled) are the `schedule` crate's. A module of its own
//! keeps `check-schedule`, which Studio calls on every inbound call, on a module with evaluation
//! alone: it does not pay, in module size and cold start, for code only admins use.

pub mod admin;
pub mod machine;
pub mod publishing;

#[cfg(test)]
mod tests;

#[cfg(target_arch = "wasm32")]
mod wasm;
