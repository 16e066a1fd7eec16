//! The configuration file (`assets/config.private.json`, the Schedule Manager's `config.json`) and
//! its validation into a [`Book`] that evaluates quickly.

use std::collections::HashMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::rrule::Recurrence;
use crate::time::{parse_date, parse_hhmm, DAY_MINUTES};

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
    pub tz: Tz,
    /// Indices into [`Book::rules`], in the schedule's order, unknown ids left out.
    pub rules: Vec<usize>,
    /// Sorted, deduplicated minutes of the day at which some rule of the schedule may flip,
    /// midnight included (date criteria change there).
    pub boundaries: Vec<u16>,
}

/// A validated configuration, ready to answer checks.
#[derive(Debug, Clone)]
pub struct Book {
    pub(crate) rules: Vec<Rule>,
    pub(crate) schedules: HashMap<String, Schedule>,
    warnings: Vec<String>,
}

impl Book {
    /// Parses and validates a configuration. Every value is checked; the first problem is
    /// reported with the rule or schedule it belongs to.
    pub fn from_json(json: &str) -> Result<Book, ConfigError> {
        let file: ConfigFile =
            serde_json::from_str(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        Book::from_config(file)
    }

    pub fn from_config(file: ConfigFile) -> Result<Book, ConfigError> {
        let mut rules = Vec::with_capacity(file.rules.len());
        let mut index = HashMap::with_capacity(file.rules.len());
        for config in &file.rules {
            let id = config.id.key();
            let rule = compile_rule(config, &id)?;
            if index.insert(id.clone(), rules.len()).is_some() {
                return Err(rule_error(
                    config,
                    &id,
                    "id",
                    &id,
                    "is used by more than one rule",
                ));
            }
            rules.push(rule);
        }

        let mut warnings = Vec::new();
        let mut schedules = HashMap::with_capacity(file.schedules.len());
        for config in file.schedules {
            let schedule = compile_schedule(config, &index, &rules, &mut warnings)?;
            if schedules.contains_key(&schedule.name) {
                return Err(ConfigError::Schedule {
                    schedule: schedule.name.clone(),
                    field: "name",
                    value: schedule.name,
                    problem: "is used by more than one schedule".into(),
                });
            }
            schedules.insert(schedule.name.clone(), schedule);
        }
        Ok(Book {
            rules,
            schedules,
            warnings,
        })
    }

    /// Things that are legal but probably not meant, such as a schedule naming a deleted rule.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Schedule names, sorted.
    pub fn schedule_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.schedules.keys().map(String::as_str).collect();
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
    index: &HashMap<String, usize>,
    rules: &[Rule],
    warnings: &mut Vec<String>,
) -> Result<Schedule, ConfigError> {
    let tz: Tz = config
        .time_zone
        .trim()
        .parse()
        .map_err(|_| ConfigError::Schedule {
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
            Some(&i) => ids.push(i),
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
