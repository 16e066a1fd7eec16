//! A synthetic month for benchmarks and tests: `agents` agents, `days` days from `start_ms` (a
//! UTC midnight), each agent every day Offline until 08:00 UTC, Available to 17:00 with a Break
//! 12:00–12:30, three tasks an hour outside 12:00–13:00 (accepted at :00, :20 and :40 plus 1 min,
//! wrap-up 5 min later, completed 1 min after that), dispositions alternating `Sold` and
//! `No answer`. Records are built directly (the same items the event path writes).

use serde_json::Value;

use crate::event::Step;
use crate::record::{utc_hour, ActivityChange, Record, Reservation};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// Tasks each agent completes a day.
pub const TASKS_PER_DAY: u64 = 24;

fn worker(i: usize) -> String {
    format!("WK{i:032x}")
}

/// The record items of the synthetic month (see the module documentation).
pub fn month_items(agents: usize, days: i64, start_ms: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for a in 0..agents {
        let w = worker(a);
        let mut records: std::collections::BTreeMap<i64, Record> = Default::default();
        fn record<'a>(
            records: &'a mut std::collections::BTreeMap<i64, Record>,
            w: &str,
            at: i64,
        ) -> &'a mut Record {
            records
                .entry(utc_hour(at))
                .or_insert_with(|| Record::new(w, utc_hour(at), 0))
        }
        for d in 0..days {
            let day = start_ms + d * 24 * HOUR;
            let changes = [
                (8 * HOUR, "Offline", "Available", 15 * HOUR + 30 * MIN),
                (12 * HOUR, "Available", "Break", 4 * HOUR),
                (12 * HOUR + 30 * MIN, "Break", "Available", 30 * MIN),
                (17 * HOUR, "Available", "Offline", 4 * HOUR + 30 * MIN),
            ];
            for (i, (t, prev, next, ms)) in changes.into_iter().enumerate() {
                // The first day's first change says Offline for 16 h: the whole range is observed.
                let ms = if d == 0 && i == 0 { 16 * HOUR } else { ms };
                let at = day + t;
                record(&mut records, &w, at).changes.insert(
                    format!("EV{a:08x}{d:08x}{i:016x}"),
                    ActivityChange {
                        at_ms: at,
                        previous: Some(prev.into()),
                        activity: next.into(),
                        previous_ms: Some(ms),
                    },
                );
            }
            let mut n = 0u64;
            for hour in (8..17).filter(|h| *h != 12) {
                for slot in 0..3 {
                    let accepted = day + hour * HOUR + slot * 20 * MIN + MIN;
                    let sid = format!("WR{a:08x}{d:08x}{n:016x}");
                    for (step, at) in [
                        (Step::Accepted, accepted),
                        (Step::Wrapup, accepted + 5 * MIN),
                        (Step::Completed, accepted + 6 * MIN),
                    ] {
                        let mut r = Reservation::default();
                        if let Some(s) = r.steps.get_mut(step as usize) {
                            *s = Some(at);
                        }
                        if step == Step::Completed {
                            r.disposition = Some(
                                if n.is_multiple_of(2) {
                                    "Sold"
                                } else {
                                    "No answer"
                                }
                                .into(),
                            );
                        }
                        record(&mut records, &w, at)
                            .reservations
                            .entry(sid.clone())
                            .or_default()
                            .merge(&r);
                    }
                    n += 1;
                }
            }
        }
        out.extend(records.values().map(Record::to_value));
    }
    out
}
