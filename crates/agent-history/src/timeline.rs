//! From the records' facts to figures per agent and **local** hour.
//!
//! **Activities.** An agent's activity changes, sorted by instant, make a timeline:
//!
//! - before the first change, the agent was in its `previous` activity for `previous_ms`
//!   (TaskRouter's `WorkerTimeInPreviousActivityMs`): `[t − previous_ms, t)`;
//! - between two changes, in the first one's new activity — except that when the second change
//!   says its previous activity began later (a change between them is missing), the part from
//!   then on is the second change's previous activity;
//! - after the last change, in its new activity up to the end of the range (only closed hours are
//!   asked for, and any later change is after them).
//!
//! The timeline is cut exactly at local hour boundaries, in integer milliseconds, so an agent-hour's
//! seconds per activity add up to its observed time exactly, and the observed time of the range is
//! the sum over its hours. Time before the first known instant is not observed (not guessed).
//!
//! **Reservations** count in the local hour of the step: accepted, rejected, timed out, canceled.
//! **Tasks completed** count in the hour of `reservation.completed`, with their **handle time**
//! (accepted → completed, wrap-up included, the queue history's rule) when the acceptance is known,
//! their **wrap-up time** (wrap-up → completed) when the wrap-up is known, and their disposition.
//!
//! Every figure is a function of the set of facts, merged across records and chunks by key, so
//! duplicates and order change nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::event::Step;
use crate::record::{ActivityChange, Record, Reservation};
use history::time::{hour_start, next_hour};

/// Hours of records read before the range, so acceptances and wrap-ups of tasks completed in it,
/// and the activity at its start, are known (the queue history's handle-time look-back).
pub const LOOKBACK_HOURS: i64 = 12;

/// One agent's figures for one local hour. Times in integer milliseconds: they add exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourFigures {
    pub activity_ms: BTreeMap<String, i64>,
    pub accepted: u64,
    pub rejected: u64,
    pub timed_out: u64,
    pub canceled: u64,
    pub completed: u64,
    pub handle_ms: i64,
    pub handled: u64,
    pub wrapup_ms: i64,
    pub wrapped: u64,
    pub dispositions: BTreeMap<String, u64>,
}

impl HourFigures {
    /// Milliseconds with a known activity.
    pub fn observed_ms(&self) -> i64 {
        self.activity_ms
            .values()
            .fold(0i64, |sum, ms| sum.saturating_add(*ms))
    }

    pub fn is_empty(&self) -> bool {
        *self == HourFigures::default()
    }
}

/// One agent and one local hour (its start instant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentHour {
    pub worker: String,
    pub hour: DateTime<Utc>,
    pub figures: HourFigures,
}

/// One agent's facts from every record and chunk, merged by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub changes: BTreeMap<String, ActivityChange>,
    pub reservations: BTreeMap<String, Reservation>,
}

/// The facts of each agent in `records`.
pub fn merge(records: &[Record]) -> BTreeMap<String, Facts> {
    let mut out: BTreeMap<String, Facts> = BTreeMap::new();
    for r in records {
        let facts = out.entry(r.worker.clone()).or_default();
        for (sid, c) in &r.changes {
            facts
                .changes
                .entry(sid.clone())
                .or_insert_with(|| c.clone());
        }
        for (sid, res) in &r.reservations {
            facts
                .reservations
                .entry(sid.clone())
                .or_default()
                .merge(res);
        }
    }
    out
}

struct Range {
    zone: Tz,
    from: i64,
    to: i64,
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// The start (ms) of the hour bucket containing `ms`: the one `history::time::hours` tiles the
/// day with. `hour_start` alone can answer an earlier instant where a zone shifts by half an hour
/// (Lord Howe's fall-back: 14:30Z is 01:30 +11:00, and the bucket from 14:00Z ends at 14:30Z).
pub fn bucket(zone: Tz, ms: i64) -> i64 {
    let mut h = hour_start(zone, at(ms)).timestamp_millis();
    for _ in 0..4 {
        let next = next_hour(zone, at(h)).timestamp_millis();
        if next > ms || next <= h {
            break;
        }
        h = next;
    }
    h
}

impl Range {
    fn hour_of(&self, ms: i64) -> Option<i64> {
        (self.from..self.to)
            .contains(&ms)
            .then(|| bucket(self.zone, ms))
    }

    /// Adds `[a, b)` in `activity`, cut at local hours, clipped to the range.
    fn span(&self, hours: &mut BTreeMap<i64, HourFigures>, a: i64, b: i64, activity: &str) {
        let (a, b) = (a.max(self.from), b.min(self.to));
        if a >= b {
            return;
        }
        let mut h = bucket(self.zone, a);
        loop {
            let next = next_hour(self.zone, at(h)).timestamp_millis();
            let end = b.min(next);
            let ms = end - a.max(h);
            if ms > 0 {
                let total = hours
                    .entry(h)
                    .or_default()
                    .activity_ms
                    .entry(activity.to_string())
                    .or_default();
                *total = total.saturating_add(ms);
            }
            if end >= b || next <= h {
                break;
            }
            h = next;
        }
    }
}

fn activities(range: &Range, facts: &Facts, hours: &mut BTreeMap<i64, HourFigures>) {
    let mut changes: Vec<(&String, &ActivityChange)> = facts.changes.iter().collect();
    changes.sort_by(|x, y| (x.1.at_ms, x.0).cmp(&(y.1.at_ms, y.0)));
    let Some((_, first)) = changes.first() else {
        return;
    };
    if let (Some(previous), Some(ms)) = (&first.previous, first.previous_ms) {
        range.span(hours, first.at_ms.saturating_sub(ms), first.at_ms, previous);
    }
    for pair in changes.windows(2) {
        let (Some((_, c)), Some((_, d))) = (pair.first(), pair.get(1)) else {
            continue;
        };
        // Where `d`'s previous activity began, if it says so and it is after `c`.
        let split = match (&d.previous, d.previous_ms) {
            (Some(_), Some(ms)) => d.at_ms.saturating_sub(ms).clamp(c.at_ms, d.at_ms),
            _ => d.at_ms,
        };
        range.span(hours, c.at_ms, split, &c.activity);
        if let Some(previous) = &d.previous {
            range.span(hours, split, d.at_ms, previous);
        }
    }
    if let Some((_, last)) = changes.last() {
        range.span(hours, last.at_ms, range.to, &last.activity);
    }
}

fn reservations(range: &Range, facts: &Facts, hours: &mut BTreeMap<i64, HourFigures>) {
    for r in facts.reservations.values() {
        for (step, count) in [
            (Step::Accepted, 0),
            (Step::Rejected, 1),
            (Step::TimedOut, 2),
            (Step::Canceled, 3),
        ] {
            let Some(h) = r.at(step).and_then(|t| range.hour_of(t)) else {
                continue;
            };
            let f = hours.entry(h).or_default();
            match count {
                0 => f.accepted += 1,
                1 => f.rejected += 1,
                2 => f.timed_out += 1,
                _ => f.canceled += 1,
            }
        }
        let Some(done) = r.at(Step::Completed) else {
            continue;
        };
        let Some(h) = range.hour_of(done) else {
            continue;
        };
        let f = hours.entry(h).or_default();
        f.completed += 1;
        if let Some(a) = r.at(Step::Accepted).filter(|a| *a <= done) {
            f.handle_ms = f.handle_ms.saturating_add(done - a);
            f.handled += 1;
        }
        if let Some(w) = r.at(Step::Wrapup).filter(|w| *w <= done) {
            f.wrapup_ms = f.wrapup_ms.saturating_add(done - w);
            f.wrapped += 1;
        }
        if let Some(d) = &r.disposition {
            *f.dispositions.entry(d.clone()).or_default() += 1;
        }
    }
}

/// Figures per agent and local hour of `zone` in `[from_ms, to_ms)` (give hour boundaries), from
/// records of any agents, hours and chunks (include [`LOOKBACK_HOURS`] before `from_ms`). Hours with
/// nothing observed are left out. Sorted by agent, then hour.
pub fn agent_hours(zone: Tz, records: &[Record], from_ms: i64, to_ms: i64) -> Vec<AgentHour> {
    let range = Range {
        zone,
        from: from_ms,
        to: to_ms,
    };
    let mut out = Vec::new();
    for (worker, facts) in merge(records) {
        let mut hours: BTreeMap<i64, HourFigures> = BTreeMap::new();
        activities(&range, &facts, &mut hours);
        reservations(&range, &facts, &mut hours);
        for (h, figures) in hours {
            if !figures.is_empty() {
                out.push(AgentHour {
                    worker: worker.clone(),
                    hour: at(h),
                    figures,
                });
            }
        }
    }
    out
}
