//! The Schedule Manager admin API as its own wasm module.
//!
//! Every rule lives in the `schedule` crate (`schedule::admin`: update validation, preview, the
//! list answer; `schedule::publishing`: which build may be created, published or polled). This
//! crate only gives those rules a wasm face of their own, so that `check-schedule`, which Studio
//! calls on every inbound call, loads a module with evaluation alone and does not pay, in module
//! size and cold start, for code only admins use.

#[cfg(target_arch = "wasm32")]
mod wasm;
