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

use crate::{sort_tile_refs, summary_of, text, tile, Config, Summary, Tile, View};

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

/// A tile as last computed, and whether it must be computed again.
#[derive(Debug)]
struct Cached {
    tile: Tile,
    /// Its record changed since.
    dirty: bool,
}

/// The records received, by SID, and the tiles last answered. A tile is computed again only when
/// its record changed, when something waits in it (the oldest wait ages), or when the view or the
/// connection changed; a board of 2,000 quiet queues costs a sort and nothing else each second.
#[derive(Debug, Default)]
pub struct Store {
    records: BTreeMap<String, Value>,
    cache: HashMap<String, Cached>,
    order: Vec<String>,
    seen: Option<(View, bool)>,
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
                if let Some(c) = self.cache.get_mut(&sid) {
                    c.dirty = true;
                }
                self.records.insert(sid, record);
                true
            }
            _ => false,
        }
    }

    /// Forgets the record of `sid`.
    pub fn remove(&mut self, sid: &str) {
        self.records.remove(sid);
        self.cache.remove(sid);
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
        self.cache.clear();
        self.order.clear();
    }

    /// The board now, as a change from the previous call.
    pub fn delta(&mut self, config: &Config, view: &View, now_ms: f64, connected: bool) -> Delta {
        if self.seen.as_ref() != Some(&(view.clone(), connected)) {
            // Another channel, selection, order or connection state: every tile is computed again
            // (and answered when it differs from what is on screen).
            for c in self.cache.values_mut() {
                c.dirty = true;
            }
            self.seen = Some((view.clone(), connected));
        }
        let mut changed = Vec::new();
        let mut on_screen: Vec<&str> = Vec::with_capacity(self.records.len());
        for (sid, record) in &self.records {
            if !view.selects(record) {
                // Off screen: forgotten, so it is answered again when it comes back.
                self.cache.remove(sid);
                continue;
            }
            on_screen.push(sid);
            let fresh = match self.cache.get(sid) {
                Some(c) if !c.dirty && !ticks(&c.tile) => continue,
                _ => tile(record, config, view.channel.as_deref(), now_ms, connected),
            };
            if self.cache.get(sid).map(|c| &c.tile) != Some(&fresh) {
                changed.push(fresh.clone());
            }
            self.cache.insert(
                sid.clone(),
                Cached {
                    tile: fresh,
                    dirty: false,
                },
            );
        }
        let mut tiles: Vec<&Tile> = on_screen
            .iter()
            .filter_map(|sid| self.cache.get(*sid).map(|c| &c.tile))
            .collect();
        sort_tile_refs(&mut tiles, view.order);
        let order: Vec<String> = tiles.iter().map(|t| t.sid.clone()).collect();
        let summary = summary_of(tiles.iter().copied());
        let order_changed = order != self.order;
        self.order = order;
        Delta {
            order: order_changed.then(|| self.order.clone()),
            changed,
            summary,
        }
    }
}

/// The tile's figures move with the clock: something waits (its oldest wait ages).
fn ticks(t: &Tile) -> bool {
    t.figures.oldest_seconds.is_some()
}
