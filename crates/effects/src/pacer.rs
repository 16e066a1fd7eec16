//! The executor's pacing of an effect's `pace: {object, cost}`: how long a write waits for room
//! in its object's budget.

use std::collections::{HashMap, VecDeque};

/// The share of an object's budget one container's writes take in any second: the rest is left
/// for another container.
pub const SHARE: f64 = 0.8;

/// How many objects a pacer remembers before it forgets those idle for a second.
const OBJECTS: usize = 1_000;

/// The writes of the last second per object ([`crate::Pace`]'s `object`), of one container.
#[derive(Debug, Default)]
pub struct Pacer {
    writes: HashMap<String, VecDeque<(f64, f64)>>,
}

impl Pacer {
    /// The milliseconds a write of `cost` (a share of a second's budget, [`crate::sync_write_cost`])
    /// on `object` at `now_ms` must wait; 0: it goes now, and is counted. It goes when the
    /// object's writes of the last second and it fit in [`SHARE`], or when there were none (a
    /// write above the share alone still goes); else it waits until the oldest leaves the second.
    pub fn wait(&mut self, object: &str, cost: f64, now_ms: f64) -> f64 {
        if self.writes.len() > OBJECTS {
            self.writes
                .retain(|_, w| w.back().is_some_and(|&(at, _)| now_ms - at < 1000.0));
        }
        let recent = self.writes.entry(object.to_string()).or_default();
        // NaN compares false: a write at an unknown time is not recent, and leaves.
        let recent_at = |at: f64| now_ms - at < 1000.0;
        while recent.front().is_some_and(|&(at, _)| !recent_at(at)) {
            recent.pop_front();
        }
        let used: f64 = recent.iter().map(|&(_, c)| c).sum();
        let fits = used + cost <= SHARE;
        match recent.front() {
            Some(&(oldest, _)) if !fits => oldest + 1000.0 - now_ms,
            _ => {
                recent.push_back((now_ms, cost));
                0.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_take_at_most_the_share_of_a_second() {
        let mut p = Pacer::default();
        for i in 0..3 {
            assert_eq!(
                p.wait("sync:IS1/map:M", 0.25, 1000.0 + i as f64),
                0.0,
                "write {i}"
            );
        }
        // 4 × 0.25 > 0.8: the 4th waits until the first leaves the second.
        assert_eq!(p.wait("sync:IS1/map:M", 0.25, 1020.0), 980.0);
        assert_eq!(p.wait("sync:IS1/map:M", 0.25, 2000.0), 0.0);
        // Small writes: the 20th of a second's 1/20 never fits in 80 %.
        let small = (0..20).filter(|i| p.wait("s", 0.05, 3000.0 + *i as f64) == 0.0);
        assert!((15..=16).contains(&small.count()));
        // Another object has its own budget.
        assert_eq!(p.wait("sync:IS1/map:N", 0.5, 1020.0), 0.0);
    }

    #[test]
    fn a_large_write_goes_alone() {
        let mut p = Pacer::default();
        assert_eq!(p.wait("o", 0.5, 0.0), 0.0);
        assert_eq!(p.wait("o", 0.5, 10.0), 990.0, "0.5 + 0.5 > 0.8");
        assert_eq!(p.wait("o", 0.9, 1000.0), 0.0, "above the share, but alone");
        // Queue statistics' bulk pace: 0.16 lets 5 a second through.
        let sent = (0..6).filter(|i| p.wait("b", 0.16, 5000.0 + *i as f64) == 0.0);
        assert_eq!(sent.count(), 5);
    }

    #[test]
    fn odd_clocks_and_costs_never_panic_or_block_forever() {
        let mut p = Pacer::default();
        assert_eq!(p.wait("o", f64::NAN, 0.0), 0.0);
        assert!(
            p.wait("o", f64::NAN, 1.0) > 0.0,
            "an unknown cost waits for room"
        );
        assert_eq!(
            p.wait("o", 0.05, f64::NAN),
            0.0,
            "no clock: nothing is recent"
        );
        assert_eq!(p.wait("o", 0.05, -5.0), 0.0);
        for i in 0..2_000 {
            p.wait(&format!("o{i}"), 0.05, i as f64 * 2000.0);
        }
        assert!(p.writes.len() <= OBJECTS + 2, "idle objects are forgotten");
    }
}
