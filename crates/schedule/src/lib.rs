//! Business hours for a contact center: schedules made of open and closed rules, evaluated in the
//! schedule's time zone.
//!
//! # The model
//!
//! A [`Book`] is a validated configuration: a list of **rules** and a list of **schedules** that
//! reference rules by id (the `config.json` of the Flex Schedule Manager). A rule says *when* it
//! applies and whether the line is then open or closed:
//!
//! - **dates**: `startDate` / `endDate` (inclusive, `YYYY-MM-DD`) and an optional `dateRRule`, an
//!   RFC 5545 recurrence over dates (see [`rrule`]) whose DTSTART is `startDate` when given;
//! - **times**: `startTime` (inclusive) to `endTime` (exclusive), `HH:MM` with minute resolution;
//!   `"24:00"` is the end of the day, a missing `startTime` is `00:00` and a missing `endTime` is
//!   `24:00`. When `startTime` is after `endTime` the rule is **overnight**: it runs from the start
//!   time on a matching date to the end time on the next day.
//!
//! All of this is read on the schedule's **local date and wall-clock time**, so a rule for 09:00
//! means 09:00 in `timeZone` on every day, whatever its UTC offset that day.
//!
//! # Deciding open or closed
//!
//! For a schedule at an instant:
//!
//! 1. `manualClose` → closed, reason `"manual"`;
//! 2. else the first matching **closed** rule, in the schedule's rule order, gives its
//!    `closedReason` (`"closed"` when it has none);
//! 3. else open if any **open** rule matches (reason `""`, as the published evaluator answers);
//! 4. else closed, reason `"closed"`.
//!
//! A rule id in a schedule that names no rule (a deleted rule) is skipped, and reported by
//! [`Book::warnings`].
//!
//! # Instants, wall times, DST
//!
//! The caller passes the current instant; this crate never reads a clock. A `simulate` value
//! without an offset (`2024-12-24T16:30`) is a wall time in the schedule's zone, as the published
//! function reads it; with `Z` or `±hh:mm` it is that instant. A wall time that does not exist
//! (in a DST gap) or exists twice (in a fold) is resolved like jiff's `compatible` strategy and
//! luxon: a gap moves forward by the gap's length, a fold takes the earlier instant.
//!
//! # Strict and tolerant loading
//!
//! [`Book::from_json`] rejects a document with any invalid value (the build, the config CLI and
//! the admin API's `update` use it, through `schedule_admin::admin::prepare_update`, which reports
//! every problem). A config that is already deployed is loaded with [`Book::load`] instead: an invalid
//! rule only breaks the schedules that use it, which then fail open (`isOpen: true`,
//! `closedReason: "error"`, an error naming the rule); every other schedule answers normally.
//!
//! [`preview`] gives a schedule's open and closed intervals over a span, with the reason and
//! deciding rule, for the admin API's preview. The admin API's own rules (what an update may
//! store, the preview's limits, what may be uploaded, built and deployed) are the
//! `schedule-admin` crate's: this crate is the evaluator.
//!
//! [`Book::answer`] also says when `isOpen` next flips (`nextChange`), searching 31 days ahead on
//! the real instant timeline, so DST transitions and the repeated hour of a fold are accounted
//! for.

pub mod books;
pub mod config;
mod error;
mod eval;
mod json;
pub mod lazy;
pub mod preview;
pub mod rrule;
mod time;
mod tzif;
pub mod zone;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use books::{Books, NotLoaded, BOOKS_KEPT};
pub use config::Book;
pub use error::{CheckError, ConfigError, Problem};
pub use eval::{Answer, HttpAnswer, Status};
pub use lazy::LazyBook;
pub use time::When;
