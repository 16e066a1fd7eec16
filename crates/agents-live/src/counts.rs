//! The name-free counts of one shard (`agentsLive.counts.<n>`), what a wallboard key's board reads.
//!
//! Nothing here names an agent: counts per activity (and since when the longest-serving agent of
//! each activity has been in it), per queue (logged in, available, per activity), tasks per
//! channel and status, parked calls, and today's totals. A board sums the shards' counts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::shard::Shard;

/// Counts of a queue's agents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueCounts {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub logged_in: u32,
    #[serde(default)]
    pub available: u32,
    #[serde(default)]
    pub activities: BTreeMap<String, u32>,
    /// Unheard voicemails of the queue's agents (a number, no name; left out while zero).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unheard: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Today's totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Today {
    pub accepted: u32,
    pub rejected: u32,
    pub timed_out: u32,
    pub handle_ms: f64,
    pub handled: u32,
    pub wrapup_ms: f64,
    pub wrapped: u32,
}

/// One shard's counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    #[serde(default)]
    pub shard: u32,
    /// The shard document's `seq` these were computed from.
    #[serde(default)]
    pub seq: u64,
    #[serde(default)]
    pub updated_at: f64,
    #[serde(default)]
    pub agents: u32,
    #[serde(default)]
    pub logged_in: u32,
    #[serde(default)]
    pub available: u32,
    #[serde(default)]
    pub activities: BTreeMap<String, u32>,
    /// Per activity: since when its longest-serving agent has been in it (ms).
    #[serde(default)]
    pub longest: BTreeMap<String, f64>,
    #[serde(default)]
    pub queues: BTreeMap<String, QueueCounts>,
    /// Per channel, per task status (reserved, assigned, wrapping): tasks held.
    #[serde(default)]
    pub tasks: BTreeMap<String, BTreeMap<String, u32>>,
    #[serde(default)]
    pub parked: u32,
    /// Unheard voicemails of the shard's agents.
    #[serde(default)]
    pub unheard: u32,
    #[serde(default)]
    pub today: Today,
    /// When today's figures roll over (ms): the earliest day end among the agents.
    #[serde(default)]
    pub day_end: f64,
}

impl Counts {
    /// The same counts, ignoring what every write changes (`seq`, `updatedAt`).
    pub fn same_content(&self, other: &Counts) -> bool {
        let strip = |c: &Counts| Counts {
            seq: 0,
            updated_at: 0.0,
            ..c.clone()
        };
        strip(self) == strip(other)
    }
}

/// The counts of a shard as of `now_ms`.
pub fn counts(config: &Config, shard: &Shard, now_ms: f64) -> Counts {
    let mut c = Counts {
        shard: shard.shard,
        seq: shard.seq,
        updated_at: shard.updated_at,
        ..Counts::default()
    };
    let mut day_end = f64::INFINITY;
    for agent in shard.agents.values() {
        c.agents += 1;
        let logged_in = !config.is_offline(&agent.activity);
        let available = logged_in && config.is_available(&agent.activity);
        *c.activities.entry(agent.activity.clone()).or_default() += 1;
        let longest = c
            .longest
            .entry(agent.activity.clone())
            .or_insert(agent.since);
        *longest = longest.min(agent.since);
        if logged_in {
            c.logged_in += 1;
        }
        if available {
            c.available += 1;
        }
        for q in &agent.queues {
            let entry = c.queues.entry(q.clone()).or_insert_with(|| QueueCounts {
                name: shard.queues.get(q).cloned().unwrap_or_else(|| q.clone()),
                ..QueueCounts::default()
            });
            if logged_in {
                entry.logged_in += 1;
            }
            if available {
                entry.available += 1;
            }
            *entry.activities.entry(agent.activity.clone()).or_default() += 1;
            entry.unheard = entry.unheard.saturating_add(agent.unheard);
        }
        for t in &agent.tasks {
            *c.tasks
                .entry(t.channel.clone())
                .or_default()
                .entry(t.status.clone())
                .or_default() += 1;
        }
        c.parked += agent.parked;
        c.unheard = c.unheard.saturating_add(agent.unheard);
        let (counts, handle, wrapup) = agent.today(now_ms);
        c.today.accepted += counts[0];
        c.today.rejected += counts[1];
        c.today.timed_out += counts[2];
        c.today.handle_ms += handle[0];
        c.today.handled += handle[1] as u32;
        c.today.wrapup_ms += wrapup[0];
        c.today.wrapped += wrapup[1] as u32;
        if agent.day_end > now_ms {
            day_end = day_end.min(agent.day_end);
        }
    }
    c.day_end = if day_end.is_finite() { day_end } else { 0.0 };
    c
}
