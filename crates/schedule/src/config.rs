//! The configuration file (`assets/config.private.json`, the Schedule Manager's `config.json`) and
//! its validation into a [`Book`] that evaluates quickly.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::rrule::Recurrence;
use crate::time::{parse_date, parse_hhmm, DAY_MINUTES};
use crate::zone::{Zone, ZoneCache};

/// The JSON document, as the Schedule Manager plugin writes it. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub struct ConfigFile {
    pub rules: Vec<RuleConfig>,
    pub schedules: Vec<ScheduleConfig>,
}

/// A rule id: a string in the plugin's files; older tools wrote numbers, which mean the same as
/// their decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleId(pub String);

impl RuleId {
    fn key(&self) -> String {
        self.0.clone()
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = RuleId;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a rule id (a string or an integer)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RuleId, E> {
                Ok(RuleId(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RuleId, E> {
                Ok(RuleId(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RuleId, E> {
                Ok(RuleId(v.to_string()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleConfig {
    pub id: RuleId,
    #[serde(default)]
    pub name: String,
    pub is_open: bool,
    #[serde(default)]
    pub closed_reason: Option<String>,
    #[serde(default, rename = "dateRRule")]
    pub date_rrule: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleConfig {
    pub name: String,
    #[serde(default)]
    pub manual_close: bool,
    pub time_zone: String,
    #[serde(default)]
    pub rules: Vec<RuleId>,
}

/// When in a day a rule applies, in minutes since local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    AllDay,
    /// `start <= minute < end` on a matching date.
    Within {
        start: u16,
        end: u16,
    },
    /// From `start` on a matching date to `end` (exclusive) on the next day.
    Overnight {
        start: u16,
        end: u16,
    },
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub is_open: bool,
    pub closed_reason: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub recurrence: Option<Recurrence>,
    pub window: Window,
}

impl Rule {
    /// Whether the rule's date criteria hold on local date `date`.
    #[inline]
    pub fn on_date(&self, date: NaiveDate) -> bool {
        self.start_date.is_none_or(|d| date >= d)
            && self.end_date.is_none_or(|d| date <= d)
            && self.recurrence.as_ref().is_none_or(|r| r.contains(date))
    }

    /// Whether the rule applies at `minute` of a day, given whether it matched that date and the
    /// day before (an overnight rule started yesterday still runs this morning).
    #[inline]
    pub fn active(&self, today: bool, yesterday: bool, minute: u16) -> bool {
        match self.window {
            Window::AllDay => today,
            Window::Within { start, end } => today && minute >= start && minute < end,
            Window::Overnight { start, end } => {
                (today && minute >= start) || (yesterday && minute < end)
            }
        }
    }

    /// Minutes of the day at which this rule can start or stop applying.
    pub fn boundaries(&self) -> impl Iterator<Item = u16> {
        let (a, b) = match self.window {
            Window::AllDay => (None, None),
            Window::Within { start, end } | Window::Overnight { start, end } => {
                (Some(start), Some(end))
            }
        };
        a.into_iter().chain(b).filter(|m| *m < DAY_MINUTES)
    }
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub manual_close: bool,
    pub tz: Zone,
    /// Indices into [`Book::rules`], in the schedule's order, unknown ids left out.
    pub rules: Vec<usize>,
    /// Sorted, deduplicated minutes of the day at which some rule of the schedule may flip,
    /// midnight included (date criteria change there).
    pub boundaries: Vec<u16>,
}

/// A configuration, ready to answer checks.
///
/// [`Book::from_json`] is strict: any invalid value rejects the whole document (what `update`,
/// `npm run build` and the config CLI use). [`Book::load`] is tolerant, for a config that is
/// already deployed: an invalid rule or schedule is recorded as a problem and only the schedules
/// that depend on it are broken (they fail open); every other schedule answers normally.
#[derive(Debug, Clone)]
pub struct Book {
    pub(crate) rules: Vec<Rule>,
    pub(crate) schedules: HashMap<String, Schedule>,
    warnings: Vec<String>,
    /// Every invalid value, in document order.
    problems: Vec<ConfigError>,
    /// Schedules that cannot be evaluated, by name, with the reason.
    pub(crate) broken: HashMap<String, String>,
    /// The whole document is unreadable: every schedule fails open with this reason.
    pub(crate) fatal: Option<String>,
}

/// A schedule entry's name for messages: its `name` when it has one, else its position.
fn entry_label(value: &serde_json::Value, key: &str, position: usize) -> String {
    match value.get(key) {
        Some(serde_json::Value::String(s)) => format!("{s:?}"),
        Some(serde_json::Value::Number(n)) => format!("{:?}", n.to_string()),
        _ => format!("#{} (no {key})", position + 1),
    }
}

impl Book {
    /// Parses and validates a configuration. Every value is checked; the first problem is
    /// reported with the rule or schedule it belongs to.
    pub fn from_json(json: &str) -> Result<Book, ConfigError> {
        let book = Book::load(json);
        match book.problems.first() {
            Some(problem) => Err(problem.clone()),
            None => Ok(book),
        }
    }

    /// Every problem of a configuration, in document order (empty when it is valid).
    pub fn validate(json: &str) -> Vec<ConfigError> {
        Book::load(json).problems
    }

    /// Loads a configuration tolerantly: see the type's docs. Never fails.
    pub fn load(json: &str) -> Book {
        let mut book = Book {
            rules: Vec::new(),
            schedules: HashMap::new(),
            warnings: Vec::new(),
            problems: Vec::new(),
            broken: HashMap::new(),
            fatal: None,
        };
        let document: serde_json::Value = match serde_json::from_str(json) {
            Ok(v) => v,
            Err(e) => return book.with_fatal(ConfigError::Json(e.to_string())),
        };
        let (Some(rules), Some(schedules)) = (
            document.get("rules").and_then(|v| v.as_array()),
            document.get("schedules").and_then(|v| v.as_array()),
        ) else {
            return book.with_fatal(ConfigError::Json(
                "expected an object with a \"rules\" array and a \"schedules\" array".into(),
            ));
        };

        // Rule id -> index into `book.rules`, or the reason the rule is invalid.
        let mut index: HashMap<String, Result<usize, String>> = HashMap::new();
        for (position, value) in rules.iter().enumerate() {
            let compiled = RuleConfig::deserialize(value)
                .map_err(|e| ConfigError::RuleShape {
                    rule: entry_label(value, "name", position),
                    problem: e.to_string(),
                })
                .and_then(|config| {
                    let id = config.id.key();
                    compile_rule(&config, &id).map(|rule| (id, rule, config))
                });
            match compiled {
                Ok((id, rule, config)) => match index.entry(id) {
                    std::collections::hash_map::Entry::Occupied(mut entry) => {
                        let id = entry.key().clone();
                        let e =
                            rule_error(&config, &id, "id", &id, "is used by more than one rule");
                        *entry.get_mut() = Err(e.to_string());
                        book.problems.push(e);
                    }
                    std::collections::hash_map::Entry::Vacant(entry) => {
                        entry.insert(Ok(book.rules.len()));
                        book.rules.push(rule);
                    }
                },
                Err(e) => {
                    // The id, when one can be read, marks the schedules that depend on this rule.
                    let id = match value.get("id") {
                        Some(serde_json::Value::String(s)) => Some(s.clone()),
                        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    };
                    if let Some(id) = id {
                        index.insert(id, Err(e.to_string()));
                    }
                    book.problems.push(e);
                }
            }
        }

        let mut zones = ZoneCache::default();
        for (position, value) in schedules.iter().enumerate() {
            let label = entry_label(value, "name", position);
            let name = value
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let compiled = ScheduleConfig::deserialize(value)
                .map_err(|e| ConfigError::ScheduleShape {
                    schedule: label,
                    problem: e.to_string(),
                })
                .and_then(|config| {
                    compile_schedule(config, &index, &book.rules, &mut zones, &mut book.warnings)
                });
            match compiled {
                Ok(schedule)
                    if book.schedules.contains_key(&schedule.name)
                        || book.broken.contains_key(&schedule.name) =>
                {
                    let e = ConfigError::Schedule {
                        schedule: schedule.name.clone(),
                        field: "name",
                        value: schedule.name.clone(),
                        problem: "is used by more than one schedule".into(),
                    };
                    book.schedules.remove(&schedule.name);
                    book.broken.insert(schedule.name, e.to_string());
                    book.problems.push(e);
                }
                Ok(schedule) => {
                    book.schedules.insert(schedule.name.clone(), schedule);
                }
                Err(e) => {
                    // A schedule using an invalid rule is broken by that rule's problem, which is
                    // already listed; anything else wrong with the schedule is a problem of its own.
                    if !matches!(e, ConfigError::UsesBrokenRule { .. }) {
                        book.problems.push(e.clone());
                    }
                    if let Some(name) = name {
                        book.schedules.remove(&name);
                        book.broken.insert(name, e.to_string());
                    }
                }
            }
        }
        book
    }

    fn with_fatal(mut self, e: ConfigError) -> Book {
        self.fatal = Some(e.to_string());
        self.problems.push(e);
        self
    }

    /// Things that are legal but probably not meant, such as a schedule naming a deleted rule.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Every invalid value found by [`Book::load`], in document order.
    pub fn problems(&self) -> &[ConfigError] {
        &self.problems
    }

    /// Why schedule `name` cannot be evaluated, if it cannot.
    pub fn broken(&self, name: &str) -> Option<&str> {
        self.fatal
            .as_deref()
            .or_else(|| self.broken.get(name).map(String::as_str))
    }

    /// Schedule names (broken ones included), sorted.
    pub fn schedule_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .schedules
            .keys()
            .chain(self.broken.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names
    }
}

/// `""` in the plugin's files means "not set".
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn describe_rule(config: &RuleConfig, id: &str) -> String {
    if config.name.is_empty() {
        format!("(id {id:?})")
    } else {
        format!("{:?} (id {id:?})", config.name)
    }
}

fn rule_error(
    config: &RuleConfig,
    id: &str,
    field: &'static str,
    value: &str,
    problem: &str,
) -> ConfigError {
    ConfigError::Rule {
        rule: describe_rule(config, id),
        field,
        value: value.to_string(),
        problem: problem.to_string(),
    }
}

fn compile_rule(config: &RuleConfig, id: &str) -> Result<Rule, ConfigError> {
    let err = |field, value: &str, problem: &str| rule_error(config, id, field, value, problem);
    let date = |field, value: Option<&str>| -> Result<Option<NaiveDate>, ConfigError> {
        value
            .map(|v| {
                parse_date(v).ok_or_else(|| err(field, v, "is not a date; expected YYYY-MM-DD"))
            })
            .transpose()
    };
    let time = |field, value: Option<&str>| -> Result<Option<u16>, ConfigError> {
        value
            .map(|v| {
                parse_hhmm(v).ok_or_else(|| {
                    err(
                        field,
                        v,
                        "is not a time; expected HH:MM from 00:00 to 24:00",
                    )
                })
            })
            .transpose()
    };

    let start_date = date("startDate", present(&config.start_date))?;
    let end_date = date("endDate", present(&config.end_date))?;
    if let (Some(s), Some(e)) = (start_date, end_date) {
        if e < s {
            return Err(err(
                "endDate",
                &e.to_string(),
                &format!("is before startDate {s}; the rule could never apply"),
            ));
        }
    }

    let start = time("startTime", present(&config.start_time))?;
    let end = time("endTime", present(&config.end_time))?;
    let window = match (start, end) {
        (None, None) => Window::AllDay,
        (Some(DAY_MINUTES), _) => {
            return Err(err(
                "startTime",
                "24:00",
                "is the end of the day; a rule cannot start there",
            ))
        }
        (s, e) => {
            let (s, e) = (s.unwrap_or(0), e.unwrap_or(DAY_MINUTES));
            if s == e {
                let value = present(&config.start_time).unwrap_or_default();
                return Err(err(
                    "startTime",
                    value,
                    "equals endTime, so the rule would never apply; leave both out for a whole day",
                ));
            }
            match (s, e) {
                (0, DAY_MINUTES) => Window::AllDay,
                (s, e) if s < e => Window::Within { start: s, end: e },
                (s, e) => Window::Overnight { start: s, end: e },
            }
        }
    };

    let recurrence = present(&config.date_rrule)
        .map(|text| {
            Recurrence::parse(text, start_date)
                .map_err(|e| err("dateRRule", text, &format!("is invalid: {e}")))
        })
        .transpose()?;

    let closed_reason = match present(&config.closed_reason) {
        Some(reason) => reason.to_string(),
        None if config.is_open => String::new(),
        None => "closed".to_string(),
    };

    Ok(Rule {
        name: config.name.clone(),
        is_open: config.is_open,
        closed_reason,
        start_date,
        end_date,
        recurrence,
        window,
    })
}

fn compile_schedule(
    config: ScheduleConfig,
    index: &HashMap<String, Result<usize, String>>,
    rules: &[Rule],
    zones: &mut ZoneCache,
    warnings: &mut Vec<String>,
) -> Result<Schedule, ConfigError> {
    let tz = zones
        .get(config.time_zone.trim())
        .ok_or_else(|| ConfigError::Schedule {
            schedule: config.name.clone(),
            field: "timeZone",
            value: config.time_zone.clone(),
            problem: "is not an IANA time zone name (such as America/New_York or Europe/London)"
                .into(),
        })?;
    let mut ids = Vec::with_capacity(config.rules.len());
    for id in &config.rules {
        let key = id.key();
        match index.get(&key) {
            Some(Ok(i)) => ids.push(*i),
            Some(Err(cause)) => {
                return Err(ConfigError::UsesBrokenRule {
                    schedule: config.name.clone(),
                    cause: cause.clone(),
                })
            }
            None => warnings.push(format!(
                "schedule {:?} references rule id {key:?}, which does not exist; it is skipped",
                config.name
            )),
        }
    }
    let mut boundaries: Vec<u16> = std::iter::once(0)
        .chain(
            ids.iter()
                .filter_map(|&i| rules.get(i))
                .flat_map(Rule::boundaries),
        )
        .collect();
    boundaries.sort_unstable();
    boundaries.dedup();
    Ok(Schedule {
        name: config.name,
        manual_close: config.manual_close,
        tz,
        rules: ids,
        boundaries,
    })
}
