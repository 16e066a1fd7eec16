//! What the page shows: agent rows grouped, filtered and sorted (supervisor), and the summary of
//! counts (every board). Compiled for the browser (`web.rs`); the page only draws the answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::counts::{counts, Counts};
use crate::shard::Shard;

/// The page's choices.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    /// `queue`, `team` or `none` (default).
    #[serde(default)]
    pub group_by: String,
    /// Case-insensitive text matched against name, team, activity and queue names.
    #[serde(default)]
    pub filter: String,
    /// Only agents in this activity (empty: all).
    #[serde(default)]
    pub activity: String,
    /// `attention` (default: longest in an unavailable state first, then most timed out),
    /// `timedOut`, `name`.
    #[serde(default)]
    pub sort: String,
    /// Leave out agents in an offline activity.
    #[serde(default)]
    pub hide_offline: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRow {
    pub channel: String,
    pub status: String,
    pub seconds: i64,
}

/// One agent as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub sid: String,
    pub name: String,
    pub team: Option<String>,
    pub activity: String,
    /// `unavailable` (logged in, not taking tasks), `available` or `offline`.
    pub state: &'static str,
    pub seconds: i64,
    pub tasks: Vec<TaskRow>,
    pub parked: u32,
    pub parked_seconds: Option<i64>,
    /// Unheard voicemails in the agent's box.
    pub unheard: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub timed_out: u32,
    pub avg_handle_seconds: Option<i64>,
    pub avg_wrapup_seconds: Option<i64>,
    pub queues: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub key: String,
    pub name: String,
    pub agents: Vec<Row>,
    pub logged_in: u32,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    pub groups: Vec<Group>,
    pub agents: usize,
    pub shown: usize,
    pub activities: Vec<String>,
    pub summary: Summary,
}

fn seconds(now_ms: f64, since_ms: f64) -> i64 {
    let s = ((now_ms - since_ms) / 1000.0).floor();
    if s.is_finite() {
        s.clamp(0.0, 1e12) as i64
    } else {
        0
    }
}

fn average(total_ms: f64, n: f64) -> Option<i64> {
    (n >= 1.0 && total_ms.is_finite()).then(|| (total_ms / n / 1000.0).round() as i64)
}

fn state_rank(state: &str) -> u8 {
    match state {
        "unavailable" => 0,
        "available" => 1,
        _ => 2,
    }
}

/// Rows of every agent of the shards, grouped and sorted as asked.
pub fn board(config: &Config, shards: &[Value], options: &Options, now_ms: f64) -> Board {
    let parsed: Vec<Shard> = shards
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let n = v.get("shard").and_then(Value::as_u64).unwrap_or(i as u64);
            Shard::from_value(u32::try_from(n).unwrap_or(0), Some(v))
        })
        .collect();
    let queue_names: BTreeMap<&String, &String> =
        parsed.iter().flat_map(|s| s.queues.iter()).collect();
    let filter = options.filter.trim().to_lowercase();
    let mut activities: Vec<String> = Vec::new();
    let mut total = 0;
    let mut rows: Vec<Row> = Vec::new();
    for shard in &parsed {
        for (sid, a) in &shard.agents {
            total += 1;
            if !activities.contains(&a.activity) {
                activities.push(a.activity.clone());
            }
            let state = if config.is_offline(&a.activity) {
                "offline"
            } else if config.is_available(&a.activity) {
                "available"
            } else {
                "unavailable"
            };
            if options.hide_offline && state == "offline" {
                continue;
            }
            if !options.activity.is_empty() && options.activity != a.activity {
                continue;
            }
            let queues: Vec<String> = a
                .queues
                .iter()
                .map(|q| {
                    queue_names
                        .get(q)
                        .map(|n| (*n).clone())
                        .unwrap_or_else(|| q.clone())
                })
                .collect();
            if !filter.is_empty() {
                let hay = [
                    a.name.as_str(),
                    a.team.as_deref().unwrap_or(""),
                    a.activity.as_str(),
                ];
                let hit = hay.iter().any(|h| h.to_lowercase().contains(&filter))
                    || queues.iter().any(|q| q.to_lowercase().contains(&filter));
                if !hit {
                    continue;
                }
            }
            let (c, h, w) = a.today(now_ms);
            rows.push(Row {
                sid: sid.clone(),
                name: a.name.clone(),
                team: a.team.clone(),
                activity: a.activity.clone(),
                state,
                seconds: seconds(now_ms, a.since),
                tasks: a
                    .tasks
                    .iter()
                    .map(|t| TaskRow {
                        channel: t.channel.clone(),
                        status: t.status.clone(),
                        seconds: seconds(now_ms, t.since),
                    })
                    .collect(),
                parked: a.parked,
                parked_seconds: a.parked_since.map(|p| seconds(now_ms, p)),
                unheard: a.unheard,
                accepted: c[0],
                rejected: c[1],
                timed_out: c[2],
                avg_handle_seconds: average(h[0], h[1]),
                avg_wrapup_seconds: average(w[0], w[1]),
                queues,
            });
        }
    }
    let shown = rows.len();
    match options.sort.as_str() {
        "name" => rows.sort_by(|x, y| {
            x.name
                .to_lowercase()
                .cmp(&y.name.to_lowercase())
                .then(x.sid.cmp(&y.sid))
        }),
        "timedOut" => rows.sort_by(|x, y| {
            y.timed_out
                .cmp(&x.timed_out)
                .then(state_rank(x.state).cmp(&state_rank(y.state)))
                .then(y.seconds.cmp(&x.seconds))
                .then(x.sid.cmp(&y.sid))
        }),
        _ => rows.sort_by(|x, y| {
            state_rank(x.state)
                .cmp(&state_rank(y.state))
                .then_with(|| {
                    if x.state == "unavailable" {
                        y.seconds.cmp(&x.seconds)
                    } else {
                        std::cmp::Ordering::Equal
                    }
                })
                .then(y.timed_out.cmp(&x.timed_out))
                .then(x.name.to_lowercase().cmp(&y.name.to_lowercase()))
                .then(x.sid.cmp(&y.sid))
        }),
    }
    activities.sort();
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        let keys: Vec<(String, String)> = match options.group_by.as_str() {
            "queue" => {
                let agent = parsed.iter().find_map(|s| s.agents.get(&row.sid));
                let sids = agent.map(|a| a.queues.clone()).unwrap_or_default();
                if sids.is_empty() {
                    vec![(String::new(), "No queue".into())]
                } else {
                    sids.iter()
                        .map(|q| {
                            (
                                q.clone(),
                                queue_names
                                    .get(q)
                                    .map(|n| (*n).clone())
                                    .unwrap_or_else(|| q.clone()),
                            )
                        })
                        .collect()
                }
            }
            "team" => vec![match &row.team {
                Some(t) => (t.clone(), t.clone()),
                None => (String::new(), "No team".into()),
            }],
            _ => vec![(String::new(), "All agents".into())],
        };
        for (key, name) in keys {
            let i = *index.entry(key.clone()).or_insert_with(|| {
                groups.push(Group {
                    key: key.clone(),
                    name: name.clone(),
                    agents: Vec::new(),
                    logged_in: 0,
                    available: 0,
                });
                groups.len() - 1
            });
            if let Some(g) = groups.get_mut(i) {
                if row.state != "offline" {
                    g.logged_in += 1;
                }
                if row.state == "available" {
                    g.available += 1;
                }
                g.agents.push(row.clone());
            }
        }
    }
    groups.sort_by_key(|g| (g.key.is_empty(), g.name.to_lowercase()));
    let all: Vec<Counts> = parsed.iter().map(|s| counts(config, s, now_ms)).collect();
    Board {
        groups,
        agents: total,
        shown,
        activities,
        summary: summary(&all, now_ms),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLine {
    pub name: String,
    pub agents: u32,
    pub longest_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueLine {
    pub sid: String,
    pub name: String,
    pub logged_in: u32,
    pub available: u32,
    /// Unheard voicemails of the queue's agents.
    pub unheard: u32,
    pub activities: BTreeMap<String, u32>,
}

/// Every shard's counts added up: what a board without names shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub agents: u32,
    pub logged_in: u32,
    pub available: u32,
    pub activities: Vec<ActivityLine>,
    pub queues: Vec<QueueLine>,
    pub tasks: BTreeMap<String, BTreeMap<String, u32>>,
    pub parked: u32,
    /// Unheard voicemails of all agents.
    pub unheard: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub timed_out: u32,
    pub avg_handle_seconds: Option<i64>,
    pub avg_wrapup_seconds: Option<i64>,
}

/// Adds up shard counts (stored `agentsLive.counts.<n>` documents, or computed).
pub fn summary(all: &[Counts], now_ms: f64) -> Summary {
    let mut activities: BTreeMap<String, (u32, f64)> = BTreeMap::new();
    let mut queues: BTreeMap<String, QueueLine> = BTreeMap::new();
    let mut tasks: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let (mut agents, mut logged_in, mut available, mut parked) = (0, 0, 0, 0);
    let mut unheard: u32 = 0;
    let (mut accepted, mut rejected, mut timed_out) = (0, 0, 0);
    let (mut handle, mut handled, mut wrap, mut wrapped) = (0.0, 0.0, 0.0, 0.0);
    for c in all {
        agents += c.agents;
        logged_in += c.logged_in;
        available += c.available;
        parked += c.parked;
        unheard = unheard.saturating_add(c.unheard);
        for (name, n) in &c.activities {
            let since = c.longest.get(name).copied().unwrap_or(now_ms);
            let e = activities.entry(name.clone()).or_insert((0, since));
            e.0 += n;
            e.1 = e.1.min(since);
        }
        for (sid, q) in &c.queues {
            let line = queues.entry(sid.clone()).or_insert_with(|| QueueLine {
                sid: sid.clone(),
                name: q.name.clone(),
                logged_in: 0,
                available: 0,
                unheard: 0,
                activities: BTreeMap::new(),
            });
            line.logged_in += q.logged_in;
            line.unheard = line.unheard.saturating_add(q.unheard);
            line.available += q.available;
            for (a, n) in &q.activities {
                *line.activities.entry(a.clone()).or_default() += n;
            }
        }
        for (ch, by) in &c.tasks {
            for (st, n) in by {
                *tasks
                    .entry(ch.clone())
                    .or_default()
                    .entry(st.clone())
                    .or_default() += n;
            }
        }
        // Today's totals of a shard last written before its day ended are yesterday's.
        if c.day_end == 0.0 || now_ms < c.day_end {
            accepted += c.today.accepted;
            rejected += c.today.rejected;
            timed_out += c.today.timed_out;
            handle += c.today.handle_ms;
            handled += f64::from(c.today.handled);
            wrap += c.today.wrapup_ms;
            wrapped += f64::from(c.today.wrapped);
        }
    }
    let mut activity_lines: Vec<ActivityLine> = activities
        .into_iter()
        .map(|(name, (n, since))| ActivityLine {
            name,
            agents: n,
            longest_seconds: seconds(now_ms, since),
        })
        .collect();
    activity_lines.sort_by(|a, b| b.agents.cmp(&a.agents).then(a.name.cmp(&b.name)));
    let mut queue_lines: Vec<QueueLine> = queues.into_values().collect();
    queue_lines.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.sid.cmp(&b.sid))
    });
    Summary {
        agents,
        logged_in,
        available,
        activities: activity_lines,
        queues: queue_lines,
        tasks,
        parked,
        unheard,
        accepted,
        rejected,
        timed_out,
        avg_handle_seconds: average(handle, handled),
        avg_wrapup_seconds: average(wrap, wrapped),
    }
}

/// The summary of stored counts documents (anything unreadable counts as empty).
pub fn summary_of(values: &[Value], now_ms: f64) -> Summary {
    let all: Vec<Counts> = values
        .iter()
        .map(|v| serde_json::from_value::<Counts>(v.clone()).unwrap_or_default())
        .collect();
    summary(&all, now_ms)
}
