//! The configuration file (`assets/config.private.json`, the Schedule Manager's `config.json`) and
//! its validation into a [`Book`] that evaluates quickly.
//!
//! # Limits
//!
//! Loading a configuration and evaluating it must stay cheap whatever an admin publishes:
//! check-schedule loads it on Studio's call path, and `/admin/preview` evaluates every schedule
//! over up to 62 days within Twilio's 10-second limit. So a configuration may hold at most:
//!
//! - [`MAX_CONFIG_BYTES`] bytes of JSON (as stored: pretty-printed), [`MAX_RULES`] rules and
//!   [`MAX_SCHEDULES`] schedules; ids, names and closed reasons of [`MAX_NAME_CHARS`] characters;
//! - [`MAX_RULES_PER_SCHEDULE`] rule ids in one schedule;
//! - [`MAX_EVALUATION_WEIGHT`] as the sum, over every rule id of every schedule, of that rule's
//!   evaluation weight: 1 for most rules, up to twice its FREQ period in days for a rule with
//!   BYSETPOS, whose positions are counted within the period (a yearly one weighs 732);
//! - [`MAX_COUNT_DAYS`] days spanned by its COUNT rules in all, from each one's start date to its
//!   last occurrence (each rule at most [`crate::rrule::MAX_COUNT_SPAN_DAYS`]): COUNT occurrences
//!   are found by walking the calendar when the configuration loads.
//!
//! What goes past a limit is a problem naming the rule or schedule and the limit: strict loading
//! refuses the document; tolerant loading (a deployed config) skips that rule or schedule without
//! doing its work, and the schedules depending on it fail open.

use std::collections::HashMap;

use crate::error::ConfigError;
use crate::json::{self, Json};
use crate::rrule::{thousands, CountSpan, RRuleError, Recurrence};
use crate::time::{parse_date, parse_hhmm, DAY_MINUTES};
use crate::zone::{Zone, ZoneCache};
use chrono::NaiveDate;

/// The largest configuration document, in bytes of JSON.
pub const MAX_CONFIG_BYTES: usize = 250_000;
/// The most rules a configuration may hold.
pub const MAX_RULES: usize = 250;
/// The most schedules a configuration may hold.
pub const MAX_SCHEDULES: usize = 100;
/// The most rule ids one schedule may list.
pub const MAX_RULES_PER_SCHEDULE: usize = 100;
/// The most evaluation weight all schedules' rule ids may add up to (see the module docs).
pub const MAX_EVALUATION_WEIGHT: u32 = 2_500;
/// The most days a configuration's COUNT rules may span in all.
pub const MAX_COUNT_DAYS: u32 = 40_000;
/// The longest rule id, rule name, closed reason or schedule name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A rule id: a string in the plugin's files; older tools wrote numbers, which mean the same as
/// their decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleId(pub String);

impl RuleId {
    fn key(&self) -> String {
        self.0.clone()
    }

    /// A string, or an integer's decimal text; `field` names it in the error (called only then).
    fn read(value: &Json, field: impl FnOnce() -> String) -> Result<RuleId, String> {
        match value {
            Json::String(s) => Ok(RuleId(s.clone())),
            Json::Number(n) if n.integer => Ok(RuleId(n.text.clone())),
            other => Err(wrong_type(
                &field(),
                other,
                "a rule id (a string or an integer)",
            )),
        }
    }
}

/// A rule as the Schedule Manager plugin writes it. Unknown fields are ignored.
#[derive(Debug)]
pub struct RuleConfig {
    pub id: RuleId,
    pub name: String,
    pub is_open: bool,
    pub closed_reason: Option<String>,
    pub date_rrule: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// A schedule as the Schedule Manager plugin writes it. Unknown fields are ignored.
#[derive(Debug)]
pub struct ScheduleConfig {
    pub name: String,
    pub manual_close: bool,
    pub time_zone: String,
    pub rules: Vec<RuleId>,
}

// The readers below take the document's values field by field (crate::json): serde's derived
// readers were most of the code a cold check-schedule compiled to read a few kilobytes. The
// problem names the field: `isOpen is the string "yes", expected a boolean`.

#[cold]
#[inline(never)]
fn wrong_type(field: &str, value: &Json, expected: &str) -> String {
    format!("{field} is {}, expected {expected}", value.describe())
}

#[cold]
#[inline(never)]
fn missing(field: &str) -> String {
    format!("missing field `{field}`")
}

/// An optional string field: absent or `null` is `None`.
fn optional_string(entry: &Json, field: &str) -> Result<Option<String>, String> {
    match entry.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong_type(field, other, "a string")),
    }
}

fn required_string(entry: &Json, field: &str) -> Result<String, String> {
    match entry.get(field) {
        None => Err(missing(field)),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(other) => Err(wrong_type(field, other, "a string")),
    }
}

/// A boolean field; absent is `default` (`None`: required).
fn boolean(entry: &Json, field: &str, default: Option<bool>) -> Result<bool, String> {
    match (entry.get(field), default) {
        (Some(Json::Bool(b)), _) => Ok(*b),
        (Some(other), _) => Err(wrong_type(field, other, "a boolean")),
        (None, Some(default)) => Ok(default),
        (None, None) => Err(missing(field)),
    }
}

fn object<'a>(entry: &'a Json, what: &str) -> Result<&'a Json, String> {
    match entry {
        Json::Object(_) => Ok(entry),
        other => Err(format!(
            "the {what} is {}, expected an object",
            other.describe()
        )),
    }
}

impl RuleConfig {
    /// Reads a rule entry; the error names the field at fault.
    pub fn read(entry: &Json) -> Result<RuleConfig, String> {
        let entry = object(entry, "rule")?;
        Ok(RuleConfig {
            id: RuleId::read(entry.get("id").ok_or_else(|| missing("id"))?, || {
                "id".into()
            })?,
            name: match entry.get("name") {
                None => String::new(),
                Some(_) => required_string(entry, "name")?,
            },
            is_open: boolean(entry, "isOpen", None)?,
            closed_reason: optional_string(entry, "closedReason")?,
            date_rrule: optional_string(entry, "dateRRule")?,
            start_date: optional_string(entry, "startDate")?,
            end_date: optional_string(entry, "endDate")?,
            start_time: optional_string(entry, "startTime")?,
            end_time: optional_string(entry, "endTime")?,
        })
    }
}

impl ScheduleConfig {
    /// Reads a schedule entry; the error names the field at fault.
    pub fn read(entry: &Json) -> Result<ScheduleConfig, String> {
        let entry = object(entry, "schedule")?;
        let rules = match entry.get("rules") {
            None => Vec::new(),
            Some(Json::Array(ids)) => ids
                .iter()
                .enumerate()
                .map(|(i, id)| RuleId::read(id, || format!("rules[{i}]")))
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(wrong_type("rules", other, "an array of rule ids")),
        };
        Ok(ScheduleConfig {
            name: required_string(entry, "name")?,
            manual_close: boolean(entry, "manualClose", Some(false))?,
            time_zone: required_string(entry, "timeZone")?,
            rules,
        })
    }
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

    /// How many dates one date test of this rule may examine (see the module docs).
    pub fn evaluation_weight(&self) -> u32 {
        self.recurrence
            .as_ref()
            .map_or(1, Recurrence::evaluation_weight)
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

/// A configuration document read structurally: its rules and schedules, not yet validated.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) rules: Vec<Json>,
    pub(crate) schedules: Vec<Json>,
}

/// Which rules and schedules [`Book::compile`] compiles, by position in the document.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub(crate) rules: Vec<bool>,
    pub(crate) schedules: Vec<bool>,
}

/// A schedule entry's name for messages: its `name` when it has one, else its position.
fn entry_label(value: &Json, key: &str, position: usize) -> String {
    match value.get(key).and_then(Json::key_text) {
        Some(text) => format!("{text:?}"),
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
        match Book::parse(json) {
            Ok(document) => Book::compile(&document, None),
            Err(e) => Book::unreadable(e),
        }
    }

    /// The structural stage of [`Book::load`]: the size limit and the JSON, read into the
    /// `rules` and `schedules` arrays. A document that fails here makes every schedule fail open
    /// with the reason (see [`Book::unreadable`]).
    pub(crate) fn parse(json: &str) -> Result<Document, ConfigError> {
        if json.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::OverLimit {
                subject: "the configuration".into(),
                problem: format!(
                    "is {} bytes of JSON (as stored, pretty-printed); at most {} are allowed",
                    thousands_usize(json.len()),
                    thousands_usize(MAX_CONFIG_BYTES)
                ),
            });
        }
        let document = json::parse(json).map_err(|e| ConfigError::Json(e.to_string()))?;
        let mut members = document.into_members().unwrap_or_default();
        let mut take = |key: &str| {
            members
                .iter_mut()
                .find(|(k, _)| k == key)
                .map(|(_, v)| std::mem::replace(v, Json::Null))
        };
        match (take("rules"), take("schedules")) {
            (Some(Json::Array(rules)), Some(Json::Array(schedules))) => {
                Ok(Document { rules, schedules })
            }
            _ => Err(ConfigError::Json(
                "expected an object with a \"rules\" array and a \"schedules\" array".into(),
            )),
        }
    }

    /// The book of a document [`Book::parse`] refused: every schedule fails open with `e`.
    pub(crate) fn unreadable(e: ConfigError) -> Book {
        Book::compile(
            &Document {
                rules: Vec::new(),
                schedules: Vec::new(),
            },
            None,
        )
        .with_fatal(e)
    }

    /// Validates and compiles a parsed document. With a `select`ion, only the rules and
    /// schedules it marks (by position) are compiled; every other is left out as if skipped, with
    /// positions, counts and limits still those of the whole document.
    pub(crate) fn compile(document: &Document, select: Option<&Selection>) -> Book {
        let (rules, schedules) = (&document.rules, &document.schedules);
        let mut book = Book {
            rules: Vec::new(),
            schedules: HashMap::new(),
            warnings: Vec::new(),
            problems: Vec::new(),
            broken: HashMap::new(),
            fatal: None,
        };
        // Rule id -> index into `book.rules`, or the reason the rule is invalid.
        let mut index: HashMap<String, Result<usize, String>> = HashMap::new();
        let mut count_days_left = MAX_COUNT_DAYS;
        for (position, value) in rules.iter().enumerate() {
            if select.is_some_and(|s| !s.rules.get(position).copied().unwrap_or(false)) {
                continue;
            }
            let compiled = RuleConfig::read(value)
                .map_err(|problem| ConfigError::RuleShape {
                    rule: entry_label(value, "name", position),
                    problem,
                })
                .and_then(|config| {
                    let id = config.id.key();
                    if position >= MAX_RULES {
                        return Err(too_many_rules(&config, &id, position, rules.len()));
                    }
                    let span = CountSpan::config_remainder(count_days_left, MAX_COUNT_DAYS);
                    let mut spent = 0;
                    let rule = compile_rule(&config, &id, span, &mut spent);
                    // A refused COUNT rule's search counts too: the allowance bounds the work.
                    count_days_left = count_days_left.saturating_sub(spent);
                    rule.map(|rule| (id, rule, config))
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
                    if let Some(id) = value.get("id").and_then(Json::key_text) {
                        index.insert(id.to_string(), Err(e.to_string()));
                    }
                    book.problems.push(e);
                }
            }
        }

        let mut zones = ZoneCache::default();
        let mut weight_left = MAX_EVALUATION_WEIGHT;
        for (position, value) in schedules.iter().enumerate() {
            if select.is_some_and(|s| !s.schedules.get(position).copied().unwrap_or(false)) {
                continue;
            }
            let name = value
                .get("name")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            let compiled = ScheduleConfig::read(value)
                .map_err(|problem| ConfigError::ScheduleShape {
                    schedule: entry_label(value, "name", position),
                    problem,
                })
                .and_then(|config| {
                    check_schedule_size(&config, position, schedules.len())?;
                    compile_schedule(config, &index, &book.rules, &mut zones, &mut book.warnings)
                })
                .and_then(|schedule| {
                    let weight = schedule
                        .rules
                        .iter()
                        .filter_map(|&i| book.rules.get(i))
                        .map(Rule::evaluation_weight)
                        .fold(0u32, u32::saturating_add);
                    match weight_left.checked_sub(weight) {
                        Some(left) => {
                            weight_left = left;
                            Ok(schedule)
                        }
                        None => Err(too_heavy(&schedule.name, weight, weight_left)),
                    }
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

// Messages are built out of line (and only on failure): a cold container compiles each function
// it calls whole, so formatting code inlined into the loader would be compiled on every load.

#[cold]
#[inline(never)]
fn too_many_rules(config: &RuleConfig, id: &str, position: usize, total: usize) -> ConfigError {
    ConfigError::OverLimit {
        subject: format!("rule {}", describe_rule(config, id)),
        problem: format!(
            "is rule number {} of {}; a configuration may hold at most {} rules",
            thousands_usize(position + 1),
            thousands_usize(total),
            thousands_usize(MAX_RULES)
        ),
    }
}

#[cold]
#[inline(never)]
fn too_heavy(schedule: &str, weight: u32, weight_left: u32) -> ConfigError {
    ConfigError::OverLimit {
        subject: format!("schedule {schedule:?}"),
        problem: format!(
            "its rules weigh {} to evaluate and the schedules before it leave {} of the {} a \
             configuration may use (a rule weighs 1, or with BYSETPOS twice its FREQ period in \
             days); use fewer rules, or rules without BYSETPOS",
            thousands(weight),
            thousands(weight_left),
            thousands(MAX_EVALUATION_WEIGHT)
        ),
    }
}

fn thousands_usize(n: usize) -> String {
    thousands(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Why `text` is too long for an id, name or reason, if it is.
fn too_long(text: &str) -> Option<String> {
    if text.len() <= MAX_NAME_CHARS {
        return None; // at most as many characters as bytes
    }
    let chars = text.chars().count();
    (chars > MAX_NAME_CHARS)
        .then(|| format!("is {chars} characters long; at most {MAX_NAME_CHARS} are allowed"))
}

/// The start of a long value, for a message.
#[cold]
#[inline(never)]
fn shortened(text: &str) -> String {
    let head: String = text.chars().take(40).collect();
    format!("{head}...")
}

/// A schedule past [`MAX_SCHEDULES`] or listing more than [`MAX_RULES_PER_SCHEDULE`] rule ids.
fn check_schedule_size(
    config: &ScheduleConfig,
    position: usize,
    total: usize,
) -> Result<(), ConfigError> {
    if let Some(problem) = too_long(&config.name) {
        return Err(ConfigError::Schedule {
            schedule: shortened(&config.name),
            field: "name",
            value: shortened(&config.name),
            problem,
        });
    }
    // Formatted only on failure: a cold check compiles no formatting it does not run.
    let subject = || format!("schedule {:?}", config.name);
    if position >= MAX_SCHEDULES {
        return Err(ConfigError::OverLimit {
            subject: subject(),
            problem: format!(
                "is schedule number {} of {}; a configuration may hold at most {} schedules",
                thousands_usize(position + 1),
                thousands_usize(total),
                thousands_usize(MAX_SCHEDULES)
            ),
        });
    }
    if config.rules.len() > MAX_RULES_PER_SCHEDULE {
        return Err(ConfigError::OverLimit {
            subject: subject(),
            problem: format!(
                "lists {} rule ids; a schedule may list at most {}",
                thousands_usize(config.rules.len()),
                thousands_usize(MAX_RULES_PER_SCHEDULE)
            ),
        });
    }
    Ok(())
}

/// `""` in the plugin's files means "not set".
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cold]
#[inline(never)]
fn describe_rule(config: &RuleConfig, id: &str) -> String {
    if config.name.is_empty() {
        format!("(id {id:?})")
    } else {
        format!("{:?} (id {id:?})", config.name)
    }
}

#[cold]
#[inline(never)]
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

/// Compiles one rule; `spent` is set to the days its COUNT search examined (refused or not).
fn compile_rule(
    config: &RuleConfig,
    id: &str,
    span: CountSpan,
    spent: &mut u32,
) -> Result<Rule, ConfigError> {
    let err = |field, value: &str, problem: &str| rule_error(config, id, field, value, problem);
    let texts = [
        ("id", Some(id)),
        ("name", Some(config.name.as_str())),
        ("closedReason", config.closed_reason.as_deref()),
    ];
    for (field, text) in texts {
        if let Some(problem) = text.and_then(too_long) {
            return Err(err(field, &shortened(text.unwrap_or_default()), &problem));
        }
    }
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
            Recurrence::parse_within(text, start_date, span)
                .inspect(|r| *spent = r.count_span_days())
                .map_err(|e| {
                    if matches!(e, RRuleError::CountTooCostly { .. }) {
                        *spent = span.days();
                    }
                    err("dateRRule", text, &format!("is invalid: {e}"))
                })
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

#[cfg(test)]
mod limit_tests {
    use super::*;
    use serde_json::json;

    fn rule(id: &str, rrule: &str, start: Option<&str>) -> serde_json::Value {
        let mut r =
            json!({"id": id, "name": format!("Rule {id}"), "isOpen": false, "dateRRule": rrule});
        if let Some(start) = start {
            r["startDate"] = json!(start);
        }
        r
    }

    fn schedule(name: &str, rules: &[String]) -> serde_json::Value {
        json!({"name": name, "timeZone": "America/New_York", "rules": rules})
    }

    fn document(rules: Vec<serde_json::Value>, schedules: Vec<serde_json::Value>) -> String {
        json!({"rules": rules, "schedules": schedules}).to_string()
    }

    const FRIDAY_13: &str = "RRULE:FREQ=DAILY;COUNT=10000;BYMONTHDAY=13;BYDAY=FR";

    #[test]
    fn sixty_costly_count_rules_are_refused_naming_the_rule_and_the_limit() {
        let rules: Vec<_> = (1..=60)
            .map(|i| rule(&format!("r{i}"), FRIDAY_13, Some("2024-01-01")))
            .collect();
        let ids: Vec<String> = (1..=60).map(|i| format!("r{i}")).collect();
        let text = document(rules, vec![schedule("Support", &ids[..50])]);
        let e = Book::from_json(&text).unwrap_err();
        assert_eq!(e.code(), "invalid_rule");
        let message = e.to_string();
        assert!(
            message.starts_with(&format!(
                "rule \"Rule r1\" (id \"r1\"): dateRRule \"{FRIDAY_13}\" is invalid: COUNT=10000 \
                 is too costly"
            )),
            "{message}"
        );
        assert!(
            message.contains("a rule may span at most 36,600 days"),
            "{message}"
        );
        let problems = Book::validate(&text);
        assert_eq!(problems.len(), 60);
        // The first search uses 36,600 of the configuration's 40,000 days, the second what is
        // left, and every later one is refused without a search.
        assert!(
            problems[1].to_string().contains("leave 3,400"),
            "{}",
            problems[1]
        );
        assert!(
            problems[2].to_string().contains("leave 0;"),
            "{}",
            problems[2]
        );
        assert!(problems[59].to_string().contains("(id \"r60\")"));
    }

    #[test]
    fn count_rules_share_the_configuration_allowance() {
        // Four daily COUNT=10000 rules span 40,000 days: the fifth is one too many.
        let rules: Vec<_> = (1..=5)
            .map(|i| {
                rule(
                    &format!("d{i}"),
                    "FREQ=DAILY;COUNT=10000",
                    Some("2024-01-01"),
                )
            })
            .collect();
        let problems = Book::validate(&document(rules.clone(), vec![]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let message = problems[0].to_string();
        assert!(
            message.starts_with("rule \"Rule d5\" (id \"d5\")"),
            "{message}"
        );
        assert!(
            message.contains(
                "the COUNT rules of a configuration may span 40,000 days in all, of which the \
                 rules before this one leave 0"
            ),
            "{message}"
        );
        assert!(Book::validate(&document(rules[..4].to_vec(), vec![])).is_empty());
    }

    #[test]
    fn a_deployed_config_past_the_count_allowance_fails_open_only_where_used() {
        let mut rules: Vec<_> = (1..=3)
            .map(|i| rule(&format!("r{i}"), FRIDAY_13, Some("2024-01-01")))
            .collect();
        rules.push(rule("weekend", "FREQ=WEEKLY;BYDAY=SA,SU", None));
        let text = document(
            rules,
            vec![
                schedule("Costly", &["r2".to_string()]),
                schedule("Fine", &["weekend".to_string()]),
            ],
        );
        let book = Book::load(&text);
        assert_eq!(book.problems().len(), 3);
        assert!(book.broken("Costly").is_some());
        assert!(book.broken("Fine").is_none());
    }

    #[test]
    fn rules_and_schedules_are_counted() {
        let rules: Vec<_> = (1..=MAX_RULES + 1)
            .map(|i| rule(&format!("r{i}"), "FREQ=WEEKLY;BYDAY=MO", None))
            .collect();
        let problems = Book::validate(&document(rules.clone(), vec![]));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code(), "over_limit");
        assert_eq!(
            problems[0].to_string(),
            "rule \"Rule r251\" (id \"r251\"): is rule number 251 of 251; a configuration may \
             hold at most 250 rules"
        );

        let ids: Vec<String> = (1..=MAX_RULES_PER_SCHEDULE + 1)
            .map(|i| format!("r{i}"))
            .collect();
        let problems = Book::validate(&document(
            rules[..MAX_RULES].to_vec(),
            vec![schedule("Big", &ids)],
        ));
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "schedule \"Big\": lists 101 rule ids; a schedule may list at most 100"
        );

        let schedules: Vec<_> = (1..=MAX_SCHEDULES + 1)
            .map(|i| schedule(&format!("S{i}"), &ids[..1]))
            .collect();
        let problems = Book::validate(&document(rules[..1].to_vec(), schedules));
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "schedule \"S101\": is schedule number 101 of 101; a configuration may hold at most \
             100 schedules"
        );
    }

    #[test]
    fn bysetpos_rules_weigh_their_period() {
        let rules = vec![
            rule(
                "last-workday",
                "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                None,
            ),
            rule("plain", "FREQ=WEEKLY;BYDAY=MO", None),
        ];
        let uses = |id: &str| vec![id.to_string()];
        // 3 x 732 = 2,196, then a fourth yearly BYSETPOS schedule passes 2,500.
        let mut schedules: Vec<_> = (1..=4)
            .map(|i| schedule(&format!("Y{i}"), &uses("last-workday")))
            .collect();
        schedules.push(schedule("P", &uses("plain")));
        let problems = Book::validate(&document(rules, schedules));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            "schedule \"Y4\": its rules weigh 732 to evaluate and the schedules before it leave \
             304 of the 2,500 a configuration may use (a rule weighs 1, or with BYSETPOS twice \
             its FREQ period in days); use fewer rules, or rules without BYSETPOS"
        );
    }

    #[test]
    fn the_document_size_is_capped() {
        let rules: Vec<_> = (0..5_000)
            .map(|i| json!({"id": format!("{i:0>90}"), "name": "x", "isOpen": true}))
            .collect();
        let text = document(rules, vec![]);
        let problems = Book::validate(&text);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].to_string().starts_with("the configuration: is 625,026 bytes of JSON (as stored, pretty-printed); at most 250,000"),
            "{}",
            problems[0]
        );
        assert!(Book::load(&text).broken("any").is_some());
    }

    #[test]
    fn names_are_at_most_100_characters() {
        let long = "n".repeat(101);
        let problems = Book::validate(&document(
            vec![json!({"id": "a", "name": long, "isOpen": false, "closedReason": "ok"})],
            vec![json!({"name": "s".repeat(101), "timeZone": "UTC", "rules": []})],
        ));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0].to_string(),
            format!(
                "rule \"{long}\" (id \"a\"): name \"{}...\" is 101 characters long; at most 100 \
                 are allowed",
                "n".repeat(40)
            )
        );
        assert!(problems[1].to_string().contains("is 101 characters long"));
        let fine = "é".repeat(100);
        assert!(Book::validate(&document(
            vec![json!({"id": fine, "name": fine, "isOpen": false, "closedReason": fine})],
            vec![]
        ))
        .is_empty());
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;

    fn problems(rules: &str, schedules: &str) -> Vec<String> {
        Book::validate(&format!(
            r#"{{"rules": {rules}, "schedules": {schedules}}}"#
        ))
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[test]
    fn a_misshapen_rule_or_schedule_names_the_field() {
        assert_eq!(
            problems(r#"[{"id": "a", "name": "A", "isOpen": "yes"}]"#, "[]"),
            [
                r#"rule "A": not valid JSON for a rule: isOpen is the string "yes", expected a boolean"#
            ]
        );
        assert_eq!(
            problems(r#"[{"id": "a", "name": "A"}]"#, "[]"),
            ["rule \"A\": not valid JSON for a rule: missing field `isOpen`"]
        );
        assert_eq!(
            problems(r#"[{"name": "A", "isOpen": true}]"#, "[]"),
            ["rule \"A\": not valid JSON for a rule: missing field `id`"]
        );
        assert_eq!(
            problems(r#"[{"id": 1.5, "isOpen": true}]"#, "[]"),
            ["rule #1 (no name): not valid JSON for a rule: id is the number 1.5, expected a rule id (a string or an integer)"]
        );
        assert_eq!(
            problems(
                r#"[{"id": "a", "name": "A", "isOpen": true, "startTime": 9}]"#,
                "[]"
            ),
            [
                r#"rule "A": not valid JSON for a rule: startTime is the number 9, expected a string"#
            ]
        );
        assert_eq!(
            problems(r#"["a"]"#, "[]"),
            [
                r#"rule #1 (no name): not valid JSON for a rule: the rule is the string "a", expected an object"#
            ]
        );
        assert_eq!(
            problems(
                "[]",
                r#"[{"name": "S", "timeZone": "UTC", "rules": [{"id": "r1"}]}]"#
            ),
            [
                r#"schedule "S": not valid JSON for a schedule: rules[0] is an object, expected a rule id (a string or an integer)"#
            ]
        );
        assert_eq!(
            problems(
                "[]",
                r#"[{"name": "S", "timeZone": "UTC", "manualClose": null}]"#
            ),
            [
                r#"schedule "S": not valid JSON for a schedule: manualClose is null, expected a boolean"#
            ]
        );
        assert_eq!(
            problems("[]", r#"[{"name": "S"}]"#),
            ["schedule \"S\": not valid JSON for a schedule: missing field `timeZone`"]
        );
        assert_eq!(
            problems("[]", r#"[{"name": 7, "timeZone": "UTC"}]"#),
            [
                r#"schedule "7": not valid JSON for a schedule: name is the number 7, expected a string"#
            ]
        );
    }

    #[test]
    fn optional_fields_may_be_null_or_absent_and_ids_may_be_integers() {
        let text = r#"{"rules": [
            {"id": 7, "isOpen": false, "closedReason": null, "dateRRule": null, "startDate": null,
             "endDate": null, "startTime": null, "endTime": null, "unknown": [1, {"x": 2}]},
            {"id": "8", "name": "Eight", "isOpen": true, "isOpen": false}],
          "schedules": [{"name": "S", "timeZone": "UTC", "rules": [7, "8", -3]}]}"#;
        let book = Book::from_json(text).unwrap();
        assert_eq!(book.rules.len(), 2);
        // A repeated key reads as its last value (as serde_json's maps do).
        assert!(!book.rules[1].is_open);
        assert_eq!(book.rules[0].closed_reason, "closed");
        assert_eq!(book.schedules["S"].rules, vec![0, 1]);
        assert_eq!(
            book.warnings(),
            ["schedule \"S\" references rule id \"-3\", which does not exist; it is skipped"]
        );
    }

    #[test]
    fn an_unreadable_document_says_where() {
        let problems = Book::validate("{\"rules\": [\n  {\"id\": \"a\",}\n], \"schedules\": []}");
        assert_eq!(
            problems[0].to_string(),
            "config is not valid JSON for a schedule configuration: expected a member name (a \
             string) in an object at line 2 column 14"
        );
        assert_eq!(
            Book::validate(r#"{"rules": {}, "schedules": []}"#)[0].to_string(),
            "config is not valid JSON for a schedule configuration: expected an object with a \
             \"rules\" array and a \"schedules\" array"
        );
    }
}
