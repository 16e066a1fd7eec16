//! `GET /agent-history` as a machine of the effects protocol (docs/effects.md): every decision of
//! the read — what to list, in which order, how many at once, what a failure means, the answer —
//! is here; `functions/common/effects` performs the listings.
//!
//! 1. TaskRouter's workers (names, teams; remembered by the container for [`DIRECTORY_TTL_MS`]),
//!    the whole days from `agentDays` and the other hours from `agentHours` ([`close::plan`]);
//! 2. by hour of named agents (or of a team whose members changed), the days' `agentDayHours`
//!    buckets, one page per run of buckets ([`close::detail_listings`]);
//! 3. the hours of the days not answered from `agentHours` ([`close::day_gaps_with`]);
//! 4. the records of the hours still not closed ([`close::record_listings`]), then the answer.
//!
//! At most [`IN_FLIGHT`] listings at once; a listing reads pages of 100 from its first key until a
//! key past its last (a detail listing: its one page). A failing `agentDays`, `agentHours` or
//! `agentDayHours` listing only sends its hours to the next step; a failing records listing is
//! named in the answer's `missing` (a partial answer, never a silently wrong one); a failing
//! directory listing is the answer (`effects::Failure::answer`).

use std::collections::BTreeMap;

use effects::{Answer, Failure, Op, Outcome, Paging, Step};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::aggregate::AgentInfo;
use crate::close;
use crate::query::{key_access, KeyRange};
use crate::{query, AgentHistoryError, Agents, Config, Env, Params, Query};

/// Listings in flight at once.
pub const IN_FLIGHT: usize = 16;
/// Sync's largest page of map items.
pub const PAGE: u32 = 100;
/// How long a container uses the workers it listed.
pub const DIRECTORY_TTL_MS: f64 = 60_000.0;
/// TaskRouter's page of workers (the workspace's whole directory).
const WORKERS_LIMIT: u32 = 1000;

/// What the shim passes besides the query parameters and the settings (the services among them).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// A supervisor's or admin's token (names and SIDs); `false`: the wallboard key.
    pub names: bool,
}

/// `AGENT_HISTORY_KEY_SEES_NAMES`: `true` (any case, blanks around) lets the key see names.
pub fn key_sees_names(env: &BTreeMap<String, String>) -> bool {
    env.get("AGENT_HISTORY_KEY_SEES_NAMES")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// TaskRouter's workers as a container remembers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub at_ms: f64,
    /// `{sid, friendlyName, attributes}` as listed.
    pub workers: Vec<Value>,
}

impl Directory {
    /// Whether it may still be used at `now_ms`.
    pub fn fresh(&self, now_ms: f64) -> bool {
        let age = now_ms - self.at_ms;
        age.is_finite() && (0.0..=DIRECTORY_TTL_MS).contains(&age)
    }
}

/// One key range being listed, page after page (or one page of `page_size`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub map: String,
    pub from: String,
    pub to: String,
    /// A detail listing's one page; `None`: pages of [`PAGE`] until past `to`.
    #[serde(default)]
    pub page_size: Option<u32>,
    /// The last key read: the next page starts after it.
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub done: bool,
    /// Why it failed (Twilio's answer), when it did.
    #[serde(default)]
    pub failed: Option<String>,
    /// The data of the items read, as JSON texts joined by commas; not in the state's JSON: it
    /// travels beside it as a text of its own ([`Carried`]), never scanned between steps.
    #[serde(skip)]
    pub items: String,
    /// How many items were read.
    #[serde(default)]
    pub count: usize,
}

impl Listing {
    fn of(r: &KeyRange) -> Listing {
        Listing {
            map: r.map.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            page_size: None,
            after: None,
            done: false,
            failed: None,
            items: String::new(),
            count: 0,
        }
    }

    fn op(&self, service_sid: &str) -> Op {
        let size = self.page_size.unwrap_or(PAGE).clamp(1, PAGE);
        Op::ListSyncItems {
            service_sid: service_sid.to_string(),
            map: self.map.clone(),
            from: Some(self.after.clone().unwrap_or_else(|| self.from.clone())),
            bounds: self.after.as_ref().map(|_| "exclusive".to_string()),
            order: Some("asc".into()),
            paging: Paging {
                page_size: Some(size),
                limit: size,
            },
        }
    }

    /// Takes a page (an outcome as its JSON text): read to the end (a key past `to`, a short page,
    /// one page of `page_size`, no such map), or another page to ask for; a failure ends it with
    /// the reason. Items' data are kept as the text they came in (not parsed); `keep` (a detail
    /// listing) drops the rows of agents the read does not need.
    fn take(&mut self, outcome: &RawValue, keep: Option<&dyn Fn(&str) -> bool>) {
        #[derive(Deserialize)]
        struct Item<'a> {
            #[serde(default)]
            key: Option<Value>,
            #[serde(borrow, default)]
            data: Option<&'a RawValue>,
        }
        // A page read in one pass: its items' keys, their data as text.
        #[derive(Deserialize)]
        struct Page<'a> {
            ok: bool,
            #[serde(borrow, default)]
            value: Option<Vec<Item<'a>>>,
        }
        #[derive(Deserialize)]
        struct Head {
            ok: bool,
        }
        let page: Option<Page> = serde_json::from_str(outcome.get()).ok();
        let ok = match &page {
            Some(p) => p.ok,
            // Not a page of items (a failure, or a value of another shape).
            None => serde_json::from_str::<Head>(outcome.get()).is_ok_and(|h| h.ok),
        };
        let list = match (ok, page) {
            (true, Some(p)) => p.value.unwrap_or_default(),
            (true, None) => Vec::new(),
            _ => {
                let failed: Outcome = serde_json::from_str(outcome.get())
                    .unwrap_or(Outcome::Failed(Failure::missing()));
                self.done = true;
                if let Err(f) = failed.found() {
                    self.failed = Some(reason(&f));
                }
                return;
            }
        };
        let mut past = false;
        let mut last = None;
        for item in &list {
            let Some(key) = item.key.as_ref().and_then(Value::as_str) else {
                continue;
            };
            last = Some(key.to_string());
            if key > self.to.as_str() {
                past = true;
            } else if let Some(data) = item.data {
                if self.count > 0 {
                    self.items.push(',');
                }
                match keep {
                    Some(keep) => crate::days::push_detail_of(&mut self.items, data, keep),
                    None => self.items.push_str(data.get()),
                }
                self.count += 1;
            }
        }
        let full = list.len() >= self.page_size.unwrap_or(PAGE) as usize;
        // A page that did not move on (no key) ends it too: never ask the same page again.
        let moved = last.is_some() && last != self.after;
        if past || !full || self.page_size.is_some() || !moved {
            self.done = true;
        } else {
            self.after = last;
        }
    }
}

/// A failed listing as the answer names it (`missing[].reason`).
fn reason(f: &Failure) -> String {
    let status = f.status.map(|s| s.to_string()).unwrap_or_default();
    format!("Sync failed: {status} {}", f.message)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// The directory (when not remembered), days and hours.
    First,
    Detail,
    Gaps,
    Records,
}

/// A read in progress (plain JSON between steps).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Read {
    pub env: BTreeMap<String, String>,
    pub service_sid: String,
    pub workspace_sid: String,
    pub query: Query,
    /// Names and SIDs in the answer.
    pub names: bool,
    pub stage: Stage,
    /// `None` while the workers are being listed.
    pub directory: Option<Vec<Value>>,
    /// Whether this read lists the workers (the first step's first effect).
    pub lists_workers: bool,
    /// When the read started: the instant its workers are remembered as listed at.
    #[serde(default)]
    pub started_ms: f64,
    pub days: Vec<Listing>,
    pub hours: Vec<Listing>,
    #[serde(default)]
    pub detail: Vec<Listing>,
    #[serde(default)]
    pub gaps: Vec<Listing>,
    #[serde(default)]
    pub records: Vec<Listing>,
}

/// A read as it crosses the wasm boundary between steps: the read without its items as one JSON
/// text, and the items of each listing (in the order of [`Read::listings`]) as texts of their
/// own — megabytes that cross as strings, copied, never escaped nor scanned between steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Carried {
    pub json: String,
    pub items: Vec<String>,
}

impl Read {
    /// Every listing, in one fixed order.
    fn listings(&mut self) -> impl Iterator<Item = &mut Listing> {
        self.days
            .iter_mut()
            .chain(self.hours.iter_mut())
            .chain(self.detail.iter_mut())
            .chain(self.gaps.iter_mut())
            .chain(self.records.iter_mut())
    }

    /// The read as it crosses the boundary.
    pub fn carry(mut self) -> Carried {
        let items = self
            .listings()
            .map(|l| std::mem::take(&mut l.items))
            .collect();
        Carried {
            json: serde_json::to_string(&self).unwrap_or_default(),
            items,
        }
    }
}

impl Carried {
    /// The read again; `None` when it is not one [`Read::carry`] made.
    pub fn read(self) -> Option<Read> {
        let mut read: Read = serde_json::from_str(&self.json).ok()?;
        let mut items = self.items.into_iter();
        for l in read.listings() {
            l.items = items.next()?;
        }
        items.next().is_none().then_some(read)
    }
}

/// A step, and the workers to remember (listed in this step).
#[derive(Debug)]
pub struct Turn {
    pub step: Step<Read>,
    pub remember: Option<Directory>,
}

fn config_of(env: &BTreeMap<String, String>) -> Result<Config, AgentHistoryError> {
    let value = serde_json::to_value(env).unwrap_or(Value::Null);
    let env: Env = serde_json::from_value(value).unwrap_or_default();
    Config::from_env(&env)
}

/// Starts `GET /agent-history`: a bad parameter (400) or the key asking for agents (403) is
/// refused before any request.
pub fn start(
    env: BTreeMap<String, String>,
    params: &Params,
    settings: &Settings,
    remembered: Option<&Directory>,
    now_ms: f64,
) -> Result<Turn, AgentHistoryError> {
    let config = config_of(&env)?;
    let (workspace_sid, service_sid) = crate::hook::services_of(&env)?;
    let q = query(&config, params, now_ms)?;
    let sees = settings.names || key_sees_names(&env);
    if !settings.names {
        key_access(&q, sees)?;
    }
    let plan = close::plan(&config, &q);
    let directory = remembered
        .filter(|d| d.fresh(now_ms))
        .map(|d| d.workers.clone());
    let read = Read {
        env,
        service_sid,
        workspace_sid,
        names: sees,
        query: q,
        stage: Stage::First,
        lists_workers: directory.is_none(),
        started_ms: now_ms,
        directory,
        days: plan.days.iter().map(Listing::of).collect(),
        hours: plan.hours.iter().map(Listing::of).collect(),
        detail: Vec::new(),
        gaps: Vec::new(),
        records: Vec::new(),
    };
    Ok(next(read, &config, None))
}

/// The listings of the current stage, in order.
fn stage_listings(read: &mut Read) -> Vec<&mut Listing> {
    match read.stage {
        Stage::First => read.days.iter_mut().chain(read.hours.iter_mut()).collect(),
        Stage::Detail => read.detail.iter_mut().collect(),
        Stage::Gaps => read.gaps.iter_mut().collect(),
        Stage::Records => read.records.iter_mut().collect(),
    }
}

/// The indexes (in [`stage_listings`]) of the listings asked in this step: the first
/// [`IN_FLIGHT`] not done.
fn asked(read: &mut Read) -> Vec<usize> {
    stage_listings(read)
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.done)
        .map(|(i, _)| i)
        .take(IN_FLIGHT)
        .collect()
}

/// Continues with the outcomes of the step `read` asked for.
pub fn resume(read: Read, outcomes: Vec<Outcome>, now_ms: f64) -> Turn {
    let text = serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".into());
    resume_text(read, &text, now_ms)
}

/// [`resume`] with the outcomes as the JSON text of their array (what crosses the wasm
/// boundary): the listings' items are kept as the text they came in, never parsed into values
/// until the answer; a detail bucket keeps only the chosen agents' rows.
pub fn resume_text(mut read: Read, outcomes: &str, _now_ms: f64) -> Turn {
    let config = match config_of(&read.env) {
        Ok(c) => c,
        Err(e) => return answer_turn(Answer::error(&e)),
    };
    let list: Vec<&RawValue> = serde_json::from_str(outcomes).unwrap_or_default();
    let mut outcomes = list.into_iter();
    let mut remember = None;
    if read.stage == Stage::First && read.directory.is_none() {
        let first: Outcome = outcomes
            .next()
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(Outcome::Failed(Failure::missing()));
        match first {
            Outcome::Done(list) => {
                let workers: Vec<Value> = list
                    .as_array()
                    .map(|ws| {
                        ws.iter()
                            .map(|w| {
                                json!({"sid": w.get("sid"), "friendlyName": w.get("friendlyName"), "attributes": w.get("attributes")})
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                remember = Some(Directory {
                    at_ms: read.started_ms,
                    workers: workers.clone(),
                });
                read.directory = Some(workers);
            }
            Outcome::Failed(f) => {
                return answer_turn(f.answer("Listing TaskRouter's workers"));
            }
        }
    }
    let which = asked(&mut read);
    // A day's buckets hold every agent's hours: only the chosen agents' are kept (the state
    // carries them from step to step).
    let chosen: Option<std::collections::BTreeSet<String>> =
        (read.stage == Stage::Detail).then(|| {
            let dir = workers(&config, &read);
            match &read.query.agents {
                Agents::All => Default::default(),
                Agents::List(sids) => sids.iter().cloned().collect(),
                Agents::Team(team) => dir
                    .into_iter()
                    .filter(|a| a.team.as_deref() == Some(team.as_str()))
                    .map(|a| a.sid)
                    .collect(),
            }
        });
    let keep = |w: &str| chosen.as_ref().is_some_and(|c| c.contains(w));
    {
        let mut listings = stage_listings(&mut read);
        let missing = serde_json::to_string(&Outcome::Failed(Failure::missing()))
            .ok()
            .and_then(|t| RawValue::from_string(t).ok());
        for i in which {
            let outcome = outcomes.next().or(missing.as_deref());
            if let (Some(l), Some(outcome)) = (listings.get_mut(i), outcome) {
                l.take(
                    outcome,
                    chosen.is_some().then_some(&keep as &dyn Fn(&str) -> bool),
                );
            }
        }
    }
    next(read, &config, remember)
}

fn answer_turn(answer: Answer) -> Turn {
    Turn {
        step: Step::answer(answer),
        remember: None,
    }
}

/// The items the listings read (their data).
fn items(listings: &[Listing]) -> Vec<Value> {
    let texts: Vec<&str> = listings
        .iter()
        .filter(|l| l.count > 0)
        .map(|l| l.items.as_str())
        .collect();
    serde_json::from_str(&format!("[{}]", texts.join(","))).unwrap_or_default()
}

fn workers(config: &Config, read: &Read) -> Vec<AgentInfo> {
    read.directory
        .iter()
        .flatten()
        .filter_map(|w| AgentInfo::from_worker(config, w))
        .collect()
}

/// The next step: the current stage's next listings, or the next stage, or the answer.
fn next(mut read: Read, config: &Config, remember: Option<Directory>) -> Turn {
    // The days and the detail read, parsed once per call (stages can follow one another here).
    let mut parsed: Option<(Vec<Value>, Vec<Value>)> = None;
    loop {
        let pending = asked(&mut read);
        let first_step = read.stage == Stage::First && read.directory.is_none();
        if !pending.is_empty() || first_step {
            let service = read.service_sid.clone();
            let mut ops = Vec::new();
            if first_step {
                ops.push(Op::ListWorkers {
                    workspace_sid: read.workspace_sid.clone(),
                    task_queue_sid: None,
                    paging: Paging {
                        page_size: Some(WORKERS_LIMIT),
                        limit: WORKERS_LIMIT,
                    },
                });
            }
            {
                let listings = stage_listings(&mut read);
                for i in &pending {
                    if let Some(l) = listings.get(*i) {
                        ops.push(l.op(&service));
                    }
                }
            }
            return Turn {
                step: Step::all(read, ops),
                remember,
            };
        }
        let dir = workers(config, &read);
        let (days, detail) = parsed
            .take()
            .unwrap_or_else(|| (items(&read.days), items(&read.detail)));
        match read.stage {
            Stage::First => {
                read.detail = close::detail_listings(config, &read.query, &days, &dir)
                    .into_iter()
                    .map(|d| Listing {
                        map: d.map,
                        from: d.from,
                        to: d.to,
                        page_size: Some(d.page_size),
                        after: None,
                        done: false,
                        failed: None,
                        items: String::new(),
                        count: 0,
                    })
                    .collect();
                read.stage = Stage::Detail;
            }
            Stage::Detail => {
                read.gaps = close::day_gaps_with(config, &read.query, &days, &detail, &dir)
                    .iter()
                    .map(Listing::of)
                    .collect();
                read.stage = Stage::Gaps;
            }
            Stage::Gaps => {
                let hours = [items(&read.hours), items(&read.gaps)].concat();
                let covered =
                    close::covered_with(config, &read.query, &days, &detail, &hours, &dir);
                read.records = close::record_listings(config, &read.query, &covered)
                    .iter()
                    .map(Listing::of)
                    .collect();
                read.stage = Stage::Records;
            }
            Stage::Records => {
                return Turn {
                    step: Step::answer(answer(config, &read, &days, &detail, &dir)),
                    remember,
                };
            }
        }
        parsed = Some((days, detail));
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(flatten)]
    series: crate::aggregate::Series,
    from_records: usize,
    from_days: usize,
    missing: Vec<Value>,
    records: usize,
    hour_items: usize,
    day_items: usize,
    detail_items: usize,
}

/// The series from what was read (every figure the crate's `answer_with`).
fn answer(
    config: &Config,
    read: &Read,
    days: &[Value],
    detail: &[Value],
    dir: &[AgentInfo],
) -> Answer {
    let hours = [items(&read.hours), items(&read.gaps)].concat();
    let records = items(&read.records);
    let (series, from_records, from_days) =
        close::answer_with(config, &read.query, days, detail, &hours, &records, dir);
    let series = if read.names {
        series
    } else {
        series.without_agents()
    };
    let missing = read
        .records
        .iter()
        .filter_map(|l| {
            let reason = l.failed.as_ref()?;
            Some(json!({"map": l.map, "from": l.from, "to": l.to, "reason": reason}))
        })
        .collect();
    let body = Body {
        series,
        from_records: from_records.len(),
        from_days,
        missing,
        records: records.len(),
        hour_items: hours.len(),
        day_items: days.len(),
        detail_items: detail.len(),
    };
    Answer::json(200, serde_json::to_value(&body).unwrap_or(Value::Null))
}

/// A state or outcomes that cannot be read (500).
pub fn unreadable() -> Answer {
    Answer::json(
        500,
        json!({"error": "The agent history read could not be resumed: its state is not one this module wrote", "code": "bad_state"}),
    )
}
