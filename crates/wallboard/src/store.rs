//! The page's records and what changed on screen since the last look.
//!
//! A board with 2,000 queues gets a record at a time and redraws every second (the oldest wait
//! ticks). Handing every record to the rules and redrawing every tile each second is what made a
//! 303-queue board spend 15–20 % of its main thread redrawing. [`Store`] keeps the records where
//! the rules are, and [`Store::delta`] answers only the tiles whose content changed since the
//! previous call, the tiles' order when it changed, and the roll-up: the page touches the DOM of
//! those tiles only.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::{board_of, text, Config, Summary, Tile, View};

/// What changed since the previous [`Store::delta`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delta {
    /// The SIDs on screen in order, when the order or the set of tiles changed; `None` otherwise.
    pub order: Option<Vec<String>>,
    /// The tiles whose content changed (or that are new).
    pub changed: Vec<Tile>,
    /// The roll-up of every tile on screen.
    pub summary: Summary,
}

/// The records received, by SID, and the tiles last answered.
#[derive(Debug, Default)]
pub struct Store {
    records: BTreeMap<String, Value>,
    shown: HashMap<String, Tile>,
    order: Vec<String>,
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Keeps `record` (one `queueStats` record); one without a SID is ignored. Answers whether it
    /// was kept.
    pub fn set(&mut self, record: Value) -> bool {
        match text(&record, "sid").map(str::to_string) {
            Some(sid) if record.is_object() => {
                self.records.insert(sid, record);
                true
            }
            _ => false,
        }
    }

    /// Forgets the record of `sid`.
    pub fn remove(&mut self, sid: &str) {
        self.records.remove(sid);
    }

    /// The records kept, by SID.
    pub fn records(&self) -> impl Iterator<Item = &Value> {
        self.records.values()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Forgets what was answered: the next [`Store::delta`] answers every tile and the order.
    pub fn redraw(&mut self) {
        self.shown.clear();
        self.order.clear();
    }

    /// The board now, as a change from the previous call.
    pub fn delta(&mut self, config: &Config, view: &View, now_ms: f64, connected: bool) -> Delta {
        let b = board_of(self.records.values(), config, view, now_ms, connected);
        let order: Vec<String> = b.tiles.iter().map(|t| t.sid.clone()).collect();
        let order_changed = order != self.order;
        let mut changed = Vec::new();
        let mut shown = HashMap::with_capacity(b.tiles.len());
        for t in b.tiles {
            if self.shown.get(&t.sid) != Some(&t) {
                changed.push(t.clone());
            }
            shown.insert(t.sid.clone(), t);
        }
        self.shown = shown;
        self.order = order;
        Delta {
            order: order_changed.then(|| self.order.clone()),
            changed,
            summary: b.summary,
        }
    }
}
