//! Agent-hours grouped into the series of `GET /agent-history`, weighted like the queue history:
//! every group adds its agent-hours' milliseconds and counts, then divides once — never an average
//! of averages. Averages are weighted by counts (average handle = Σ handle / Σ handled tasks),
//! shares by time (time in an activity = Σ its seconds / Σ logged-in seconds of the group).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::query::{Agents, By, Query};
use crate::record::Record;
use crate::timeline::{agent_hours, AgentHour, HourFigures};
use history::time::{day_of_week, day_start, iso, local_date, next_day_start, next_hour};

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// What the shim knows of an agent (from TaskRouter's workers): name and team attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub sid: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub team: Option<String>,
}

impl AgentInfo {
    /// From a TaskRouter worker as listed (`sid`, `friendly_name` or `friendlyName`, `attributes`
    /// as JSON text or object): the team is the configured attribute (`AGENT_HISTORY_TEAM_ATTRIBUTE`).
    pub fn from_worker(config: &Config, worker: &Value) -> Option<AgentInfo> {
        let sid = worker.get("sid").and_then(Value::as_str)?.to_string();
        let name = ["friendly_name", "friendlyName"]
            .iter()
            .find_map(|k| worker.get(*k).and_then(Value::as_str))
            .unwrap_or("")
            .chars()
            .take(100)
            .collect();
        let team = worker
            .get("attributes")
            .and_then(|a| crate::config::attribute(a, &config.team_attribute))
            .map(|t| t.chars().take(100).collect());
        Some(AgentInfo { sid, name, team })
    }
}

/// The figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    /// Distinct agents with anything in the group.
    pub agents: usize,
    /// Agent-hours with anything observed.
    pub agent_hours: usize,
    pub observed_seconds: f64,
    /// Seconds in activities other than `AGENT_HISTORY_OFFLINE_ACTIVITIES`.
    pub logged_in_seconds: f64,
    pub activity_seconds: BTreeMap<String, f64>,
    /// Per logged-in activity: its seconds / logged-in seconds.
    pub activity_share: BTreeMap<String, Option<f64>>,
    pub accepted: u64,
    pub rejected: u64,
    pub timed_out: u64,
    pub canceled: u64,
    pub completed: u64,
    /// Σ handle time / Σ tasks with one (accepted → completed, wrap-up included).
    pub avg_handle: Option<f64>,
    pub handled: u64,
    /// Σ wrap-up time / Σ tasks with one.
    pub avg_wrapup: Option<f64>,
    pub wrapped: u64,
    pub dispositions: BTreeMap<String, u64>,
}

/// A row of a time or agent grouping.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub key: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// `by=activity`: seconds in it; share of logged-in time (of observed time for an offline
    /// activity). `by=disposition`: tasks with it; share of the tasks with a disposition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<Option<f64>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub figures: Option<Figures>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentName {
    pub sid: String,
    pub name: String,
}

/// The answer of `GET /agent-history`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub zone: String,
    pub by: By,
    pub from: String,
    pub to: String,
    pub agents: Vec<AgentName>,
    pub series: Vec<Row>,
    pub totals: Figures,
    pub closed_hours: usize,
}

/// What a series is made of, besides agent-hours: one agent's figures over a unit — an hour or,
/// from closed days ([`crate::days`]), a whole local day (`hours` agent-hours).
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub worker: &'a str,
    pub start: DateTime<Utc>,
    /// A whole local day (not an hour): it counts in every grouping but `by=hour`.
    pub day: bool,
    pub hours: usize,
    pub figures: &'a HourFigures,
}

/// Every agent's sums over one hour, standing for that hour's agent-hours in `by=hour` rows of
/// `agent=all` where the hour's day is read from closed days.
#[derive(Debug, Clone, Copy)]
pub struct Sum<'a> {
    pub start: DateTime<Utc>,
    pub agents: usize,
    pub figures: &'a HourFigures,
}

#[derive(Default)]
struct Acc<'a> {
    sum: HourFigures,
    agents: BTreeSet<&'a str>,
    /// Agents counted by hour sums (never mixed with `agents` in one group).
    counted: usize,
    agent_hours: usize,
}

impl<'a> Acc<'a> {
    fn add(&mut self, p: &Part<'a>) {
        crate::days::add(&mut self.sum, p.figures);
        self.agents.insert(p.worker);
        self.agent_hours += p.hours;
    }

    fn add_sum(&mut self, s: &Sum<'a>) {
        crate::days::add(&mut self.sum, s.figures);
        self.counted += s.agents;
        self.agent_hours += s.agents;
    }

    fn logged_in_ms(&self, config: &Config) -> i64 {
        self.sum
            .activity_ms
            .iter()
            .filter(|(a, _)| config.logged_in(a))
            .fold(0i64, |sum, (_, ms)| sum.saturating_add(*ms))
    }

    fn figures(&self, config: &Config) -> Figures {
        let s = &self.sum;
        let ratio = |n: f64, d: f64| if d > 0.0 { Some(n / d) } else { None };
        let logged_in = self.logged_in_ms(config);
        Figures {
            agents: self.agents.len() + self.counted,
            agent_hours: self.agent_hours,
            observed_seconds: s.observed_ms() as f64 / 1000.0,
            logged_in_seconds: logged_in as f64 / 1000.0,
            activity_seconds: s
                .activity_ms
                .iter()
                .map(|(a, ms)| (a.clone(), *ms as f64 / 1000.0))
                .collect(),
            activity_share: s
                .activity_ms
                .iter()
                .filter(|(a, _)| config.logged_in(a))
                .map(|(a, ms)| (a.clone(), ratio(*ms as f64, logged_in as f64)))
                .collect(),
            accepted: s.accepted,
            rejected: s.rejected,
            timed_out: s.timed_out,
            canceled: s.canceled,
            completed: s.completed,
            avg_handle: ratio(s.handle_ms as f64 / 1000.0, s.handled as f64),
            handled: s.handled,
            avg_wrapup: ratio(s.wrapup_ms as f64 / 1000.0, s.wrapped as f64),
            wrapped: s.wrapped,
            dispositions: s.dispositions.clone(),
        }
    }
}

fn instant(s: &str) -> Option<DateTime<Utc>> {
    values::instant::parse(s)
}

fn time_row(
    by: By,
    zone: Tz,
    h: DateTime<Utc>,
) -> (String, String, Option<String>, Option<String>) {
    match by {
        By::Date => {
            let d = local_date(zone, h);
            (
                d.to_string(),
                d.format("%a %Y-%m-%d").to_string(),
                Some(iso(day_start(zone, d))),
                Some(iso(next_day_start(zone, d))),
            )
        }
        By::DayOfWeek => {
            let d = day_of_week(zone, h);
            let label = DAYS
                .get((d as usize).saturating_sub(1))
                .copied()
                .unwrap_or("?");
            (d.to_string(), label.to_string(), None, None)
        }
        _ => (
            iso(h),
            h.with_timezone(&zone)
                .format("%Y-%m-%d %H:%M %:z")
                .to_string(),
            Some(iso(h)),
            Some(iso(next_hour(zone, h))),
        ),
    }
}

/// Whether `worker` is asked for.
fn wanted(agents: &Agents, directory: &BTreeMap<&str, &AgentInfo>, worker: &str) -> bool {
    match agents {
        Agents::All => true,
        Agents::List(sids) => sids.iter().any(|s| s == worker),
        Agents::Team(team) => directory
            .get(worker)
            .and_then(|a| a.team.as_deref())
            .is_some_and(|t| t == team),
    }
}

impl Series {
    /// The answer for the wallboard key: aggregates only, no agent SIDs or names.
    pub fn without_agents(mut self) -> Series {
        self.agents.clear();
        if self.by == By::Agent {
            self.series.clear();
        }
        self
    }
}

/// Agent-hours as the parts a series sums (one hour each).
pub(crate) fn hour_parts(hours: &[AgentHour]) -> Vec<Part<'_>> {
    hours
        .iter()
        .map(|h| Part {
            worker: &h.worker,
            start: h.hour,
            day: false,
            hours: 1,
            figures: &h.figures,
        })
        .collect()
}

/// The series of `query` from agent-hours (any order).
pub fn series(
    config: &Config,
    query: &Query,
    hours: &[AgentHour],
    directory: &[AgentInfo],
) -> Series {
    series_of(config, query, &hour_parts(hours), &[], directory)
}

/// The series of `query` from parts (agent-hours and agents' days, any order) and hour sums.
/// Every hour of the range is in exactly one of: an hour part, a day part, or (for `by=hour`)
/// both a day part and a sum — the caller's plan ([`crate::close::answer`]) sees to it.
pub fn series_of(
    config: &Config,
    query: &Query,
    parts: &[Part],
    sums: &[Sum],
    directory: &[AgentInfo],
) -> Series {
    let zone = config.time_zone;
    let dir: BTreeMap<&str, &AgentInfo> = directory.iter().map(|a| (a.sid.as_str(), a)).collect();
    let name = |sid: &str| {
        dir.get(sid)
            .map(|a| a.name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| sid.to_string())
    };
    let (from, to) = (instant(&query.from), instant(&query.to));
    let in_range = |h: &DateTime<Utc>| from.is_some_and(|f| *h >= f) && to.is_some_and(|t| *h < t);
    let chosen: Vec<&Part> = parts
        .iter()
        .filter(|h| in_range(&h.start) && wanted(&query.agents, &dir, h.worker))
        .collect();
    // The caller passes hour sums of the chosen agents only (all agents, or a team's).
    let sums: Vec<&Sum> = sums.iter().filter(|s| in_range(&s.start)).collect();
    let mut totals = Acc::default();
    for h in &chosen {
        totals.add(h);
    }
    let agents: Vec<AgentName> = totals
        .agents
        .iter()
        .map(|sid| AgentName {
            sid: sid.to_string(),
            name: name(sid),
        })
        .collect();
    let row = |key: String, label: String| Row {
        key,
        label,
        start: None,
        end: None,
        seconds: None,
        count: None,
        share: None,
        figures: None,
    };
    let series: Vec<Row> = match query.by {
        By::Hour | By::Date | By::DayOfWeek => {
            let mut groups: BTreeMap<String, (Row, Acc)> = BTreeMap::new();
            // Each hour's group key, worked out once per hour (not once per agent-hour).
            let mut key_of: BTreeMap<DateTime<Utc>, String> = BTreeMap::new();
            // Every closed hour has its group: an hour or day with nobody is a zero, not a hole.
            if let (Some(f), Some(t)) = (from, to) {
                let mut h = f;
                while h < t {
                    let (key, label, start, end) = time_row(query.by, zone, h);
                    key_of.insert(h, key.clone());
                    groups.entry(key.clone()).or_insert_with(|| {
                        let mut r = row(key, label);
                        r.start = start;
                        r.end = end;
                        (r, Acc::default())
                    });
                    let next = next_hour(zone, h);
                    if next <= h {
                        break;
                    }
                    h = next;
                }
            }
            // By hour, a day part counts in the totals only: its hours are in the sums.
            let by_hour = query.by == By::Hour;
            for h in chosen.iter().filter(|h| !(by_hour && h.day)) {
                if let Some(entry) = key_of.get(&h.start).and_then(|k| groups.get_mut(k)) {
                    entry.1.add(h);
                    continue;
                }
                let (key, label, start, end) = time_row(query.by, zone, h.start);
                let entry = groups.entry(key.clone()).or_insert_with(|| {
                    let mut r = row(key, label);
                    r.start = start;
                    r.end = end;
                    (r, Acc::default())
                });
                entry.1.add(h);
            }
            if by_hour {
                for s in &sums {
                    if let Some(entry) = key_of.get(&s.start).and_then(|k| groups.get_mut(k)) {
                        entry.1.add_sum(s);
                    }
                }
            }
            let mut rows: Vec<Row> = groups
                .into_values()
                .map(|(mut r, acc)| {
                    r.figures = Some(acc.figures(config));
                    r
                })
                .collect();
            if query.by != By::DayOfWeek {
                rows.sort_by(|a, b| a.start.cmp(&b.start));
            }
            rows
        }
        By::Agent => {
            let mut groups: BTreeMap<&str, Acc> = BTreeMap::new();
            for h in &chosen {
                groups.entry(h.worker).or_default().add(h);
            }
            let mut rows: Vec<Row> = groups
                .into_iter()
                .map(|(sid, acc)| {
                    let mut r = row(sid.to_string(), name(sid));
                    r.figures = Some(acc.figures(config));
                    r
                })
                .collect();
            rows.sort_by(|a, b| (&a.label, &a.key).cmp(&(&b.label, &b.key)));
            rows
        }
        By::Activity => {
            let logged_in = totals.logged_in_ms(config);
            let observed = totals.sum.observed_ms();
            totals
                .sum
                .activity_ms
                .iter()
                .map(|(a, ms)| {
                    let whole = if config.logged_in(a) {
                        logged_in
                    } else {
                        observed
                    };
                    let mut r = row(a.clone(), a.clone());
                    r.seconds = Some(*ms as f64 / 1000.0);
                    r.share = Some((whole > 0).then(|| *ms as f64 / whole as f64));
                    r
                })
                .collect()
        }
        By::Disposition => {
            let all: u64 = totals.sum.dispositions.values().sum();
            totals
                .sum
                .dispositions
                .iter()
                .map(|(d, n)| {
                    let mut r = row(d.clone(), d.clone());
                    r.count = Some(*n);
                    r.share = Some((all > 0).then(|| *n as f64 / all as f64));
                    r
                })
                .collect()
        }
    };
    Series {
        zone: query.zone.clone(),
        by: query.by,
        from: query.from.clone(),
        to: query.to.clone(),
        agents,
        series,
        totals: totals.figures(config),
        closed_hours: query.closed_hours,
    }
}

/// The series of `query` from stored record items (any order, any maps; non-records ignored).
pub fn aggregate(
    config: &Config,
    query: &Query,
    items: &[Value],
    directory: &[AgentInfo],
) -> Series {
    let records: Vec<Record> = items.iter().filter_map(Record::from_value).collect();
    let (Some(from), Some(to)) = (instant(&query.from), instant(&query.to)) else {
        return series(config, query, &[], directory);
    };
    let hours = agent_hours(
        config.time_zone,
        &records,
        from.timestamp_millis(),
        to.timestamp_millis(),
    );
    series(config, query, &hours, directory)
}
