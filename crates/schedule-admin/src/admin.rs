//! What the Schedule Manager's admin API decides: whether an edited configuration may be stored
//! (and in which form), and a preview of each schedule's open and closed intervals before it is
//! published.
//!
//! - [`prepare_update`] validates the `data` the plugin sends with the same rules as
//!   `Book::from_json` (the build and check-schedule use them too), reports **every** problem,
//!   and drops what the plugin echoes back from `list` but is not part of the model (each
//!   schedule's `status`, and `version` / `versionIsDeployed` if they ended up inside `data`).
//! - [`preview`] evaluates every schedule of a (valid) configuration from an instant over the next
//!   `days` days (default 14, at most 62) and answers the intervals during which the decision is
//!   constant: open or closed, the reason, and the rule that decided (the walk over one schedule
//!   is the evaluator's, `schedule::preview`; the span, the limits and the answer are decided here).

use serde::Serialize;

use schedule::preview::SchedulePreview;
use schedule::{Book, CheckError, ConfigError, Problem, When};

pub const DEFAULT_PREVIEW_DAYS: u32 = 14;
pub const MAX_PREVIEW_DAYS: u32 = 62;
/// The most intervals one preview answer lists (all schedules together): past it the answer is
/// cut, says so (`truncated`), and a preview of one schedule (`name`) shows the rest.
pub const MAX_PREVIEW_INTERVALS: usize = 10_000;

/// A refused configuration: 400 with the first problem as `error` and all of them in `problems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub error: String,
    pub code: &'static str,
    pub problems: Vec<Problem>,
}

impl Rejection {
    fn new(problems: Vec<Problem>) -> Rejection {
        let first = problems
            .first()
            .map(|p| p.message.clone())
            .unwrap_or_default();
        let error = match problems.len() {
            0 | 1 => format!("The schedule configuration is invalid: {first}"),
            n => format!(
                "The schedule configuration is invalid: {first} (and {} more problem{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        Rejection {
            error,
            code: "invalid_config",
            problems,
        }
    }

    pub const STATUS: u16 = 400;
}

/// Fields of the list answer that the plugin sends back and that are not stored.
const ECHOED_TOP_LEVEL: [&str; 2] = ["version", "versionIsDeployed"];

/// Validates `data` (the JSON text of the plugin's `data`) and returns the document to store,
/// pretty-printed, without the echoed fields; or every problem.
pub fn prepare_update(data: &str) -> Result<String, Rejection> {
    let mut document: serde_json::Value = serde_json::from_str(data)
        .map_err(|e| Rejection::new(vec![Problem::from(&ConfigError::Json(e.to_string()))]))?;
    let Some(object) = document.as_object_mut() else {
        return Err(Rejection::new(vec![Problem::from(&ConfigError::Json(
            "data must be an object {rules, schedules}".into(),
        ))]));
    };
    for key in ECHOED_TOP_LEVEL {
        object.remove(key);
    }
    if let Some(schedules) = object.get_mut("schedules").and_then(|s| s.as_array_mut()) {
        for schedule in schedules.iter_mut().filter_map(|s| s.as_object_mut()) {
            schedule.remove("status");
        }
    }
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| Rejection::new(vec![Problem::from(&ConfigError::Json(e.to_string()))]))?;
    let problems = Book::validate(&text);
    if problems.is_empty() {
        Ok(text + "\n")
    } else {
        Err(Rejection::new(problems.iter().map(Problem::from).collect()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub from: String,
    pub days: u32,
    pub schedules: Vec<SchedulePreview>,
    /// Some schedule's intervals were cut at [`MAX_PREVIEW_INTERVALS`] in all.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// `days` as sent (absent: 14): a whole number from 1 to 62.
pub fn parse_days(days: Option<&str>) -> Result<u32, CheckError> {
    match days.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(DEFAULT_PREVIEW_DAYS),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_PREVIEW_DAYS).contains(d))
            .ok_or_else(|| CheckError::InvalidDays(text.to_string())),
    }
}

/// Every schedule's intervals (or only `name`'s), sorted by name, at most
/// [`MAX_PREVIEW_INTERVALS`] in all.
pub fn preview(
    book: &Book,
    name: Option<&str>,
    now_ms: f64,
    days: Option<&str>,
) -> Result<Preview, CheckError> {
    let from = values::instant::from_millis(now_ms).ok_or(CheckError::InvalidNow)?;
    let days = parse_days(days)?;
    let names: Vec<String> = match name.filter(|n| !n.is_empty()) {
        Some(n) => vec![n.to_string()],
        None => book
            .schedule_names()
            .into_iter()
            .map(str::to_string)
            .collect(),
    };
    let mut left = MAX_PREVIEW_INTERVALS;
    let mut schedules = Vec::with_capacity(names.len());
    for n in &names {
        let preview = book.preview_schedule(n, from, days, left)?;
        left = left.saturating_sub(preview.intervals.len());
        schedules.push(preview);
    }
    let truncated = schedules.iter().any(|s| s.truncated);
    Ok(Preview {
        from: from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        days,
        schedules,
        truncated,
    })
}

/// An admin API answer decided here: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
}

fn reply<T: Serialize>(status: u16, body: &T) -> Reply {
    Reply {
        status,
        body: serde_json::to_value(body).unwrap_or(serde_json::Value::Null),
    }
}

fn check_error(e: &CheckError) -> Reply {
    reply(
        e.http_status(),
        &serde_json::json!({"error": e.to_string(), "code": e.code()}),
    )
}

/// `/admin/preview`: the validation problems of `data`, or the intervals of every schedule (or
/// of `name`) over `days` days from `now_ms`.
pub fn preview_reply(data: &str, name: Option<&str>, now_ms: f64, days: Option<&str>) -> Reply {
    let stored = match prepare_update(data) {
        Ok(text) => text,
        Err(rejection) => return reply(Rejection::STATUS, &rejection),
    };
    let book = Book::load(&stored);
    match preview(&book, name, now_ms, days) {
        Ok(preview) => reply(200, &preview),
        Err(e) => check_error(&e),
    }
}

/// `/admin/list`'s body: the deployed document as stored, each schedule with its current
/// `status` (`{isOpen, closedReason}`, plus `error` when the schedule cannot be evaluated), the
/// version and whether it is deployed, and every problem of the deployed document.
pub fn list_body(config: &str, now_ms: f64, version: &str, version_is_deployed: bool) -> Reply {
    let book = Book::load(config);
    let mut data: serde_json::Value = serde_json::from_str(config)
        .ok()
        .filter(|v: &serde_json::Value| v.is_object())
        .unwrap_or_else(|| serde_json::json!({}));
    for key in ["rules", "schedules"] {
        if !data.get(key).is_some_and(|v| v.is_array()) {
            data[key] = serde_json::json!([]);
        }
    }
    let status_of = |name: &str| -> serde_json::Value {
        let when = When::from_request(None, now_ms);
        match when.and_then(|w| book.status(name, w)) {
            Ok(s) => serde_json::json!({"isOpen": s.is_open, "closedReason": s.closed_reason}),
            Err(e) => {
                serde_json::json!({"isOpen": true, "closedReason": "error", "error": e.to_string()})
            }
        }
    };
    if let Some(schedules) = data.get_mut("schedules").and_then(|s| s.as_array_mut()) {
        for schedule in schedules.iter_mut() {
            let name = schedule
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string();
            if let Some(object) = schedule.as_object_mut() {
                object.insert("status".into(), status_of(&name));
            }
        }
    }
    let problems: Vec<Problem> = book.problems().iter().map(Problem::from).collect();
    reply(
        200,
        &serde_json::json!({
            "data": data,
            "version": version,
            "versionIsDeployed": version_is_deployed,
            "problems": problems,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{
      "rules": [
        {"id": "hours", "name": "Hours", "isOpen": true, "startTime": "09:00", "endTime": "17:00",
         "dateRRule": "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
        {"id": "lunch", "name": "Lunch", "isOpen": false, "closedReason": "lunch",
         "startTime": "12:00", "endTime": "13:00", "dateRRule": "RRULE:FREQ=DAILY"},
        {"id": "xmas", "name": "Christmas", "isOpen": false, "closedReason": "holiday",
         "startDate": "2024-12-25", "endDate": "2024-12-25"}
      ],
      "schedules": [
        {"name": "S", "manualClose": false, "timeZone": "America/New_York", "rules": ["xmas", "lunch", "hours"],
         "status": {"isOpen": true, "closedReason": ""}},
        {"name": "M", "manualClose": true, "timeZone": "UTC", "rules": []}
      ],
      "versionIsDeployed": false
    }"#;

    // 2024-12-23T00:00:00-05:00 (Monday)
    const MONDAY_MS: f64 = 1_734_930_000_000.0;

    #[test]
    fn update_strips_echoed_fields_and_keeps_the_rest() {
        let stored = prepare_update(CONFIG).unwrap();
        let value: serde_json::Value = serde_json::from_str(&stored).unwrap();
        assert!(value.get("versionIsDeployed").is_none());
        assert!(value["schedules"][0].get("status").is_none());
        assert_eq!(value["rules"].as_array().unwrap().len(), 3);
        assert!(Book::from_json(&stored).is_ok());
    }

    #[test]
    fn update_reports_every_problem_naming_rule_and_value() {
        let bad = CONFIG
            .replace(r#""startTime": "09:00""#, r#""startTime": "9am""#)
            .replace("America/New_York", "Mars/Olympus");
        let r = prepare_update(&bad).unwrap_err();
        assert_eq!(r.problems.len(), 2, "{r:?}");
        assert!(
            r.error
                .contains(r#"rule "Hours" (id "hours"): startTime "9am""#),
            "{}",
            r.error
        );
        assert!(r.error.contains("and 1 more problem"));
        assert!(r.problems[1].message.contains("Mars/Olympus"));
        assert!(prepare_update("[]").is_err());
        assert!(prepare_update("{").is_err());
        assert!(prepare_update(r#"{"rules": {}, "schedules": []}"#).is_err());
    }

    #[test]
    fn preview_splits_on_every_change_of_decision() {
        let book = Book::from_json(&prepare_update(CONFIG).unwrap()).unwrap();
        let p = preview(&book, Some("S"), MONDAY_MS, Some("3")).unwrap();
        let s = &p.schedules[0];
        let first: Vec<(&str, bool, &str)> = s
            .intervals
            .iter()
            .take(5)
            .map(|i| (i.start.as_str(), i.is_open, i.closed_reason.as_str()))
            .collect();
        assert_eq!(
            first,
            vec![
                ("2024-12-23T00:00:00-05:00", false, "closed"),
                ("2024-12-23T09:00:00-05:00", true, ""),
                ("2024-12-23T12:00:00-05:00", false, "lunch"),
                ("2024-12-23T13:00:00-05:00", true, ""),
                ("2024-12-23T17:00:00-05:00", false, "closed"),
            ]
        );
        let xmas = s
            .intervals
            .iter()
            .find(|i| i.closed_reason == "holiday")
            .unwrap();
        assert_eq!(xmas.start, "2024-12-25T00:00:00-05:00");
        assert_eq!(xmas.end, "2024-12-26T00:00:00-05:00");
        assert_eq!(xmas.rule.as_deref(), Some("Christmas"));
        assert_eq!(s.intervals.last().unwrap().end, "2024-12-26T00:00:00-05:00");
        // Consecutive intervals touch.
        for pair in s.intervals.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
    }

    #[test]
    fn preview_of_every_schedule_and_days_bounds() {
        let book = Book::from_json(&prepare_update(CONFIG).unwrap()).unwrap();
        let p = preview(&book, None, MONDAY_MS, None).unwrap();
        assert_eq!(p.days, 14);
        let names: Vec<&str> = p.schedules.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["M", "S"]);
        assert_eq!(p.schedules[0].intervals.len(), 1);
        assert_eq!(p.schedules[0].intervals[0].closed_reason, "manual");
        for bad in ["0", "63", "-1", "two", "1.5"] {
            assert_eq!(
                preview(&book, None, MONDAY_MS, Some(bad))
                    .unwrap_err()
                    .code(),
                "invalid_days"
            );
        }
        assert!(preview(&book, None, 1_734_930_000_000.0, Some("62")).is_ok());
        assert_eq!(
            preview(&book, Some("nope"), MONDAY_MS, None)
                .unwrap_err()
                .code(),
            "schedule_not_found"
        );
    }

    #[test]
    fn a_broken_rule_breaks_only_the_schedules_that_use_it() {
        let config = r#"{
          "rules": [
            {"id": "ok", "name": "OK", "isOpen": true},
            {"id": "bad", "name": "Bad", "isOpen": false, "startTime": "25:00"},
            {"id": "shapeless", "name": "Shapeless"}
          ],
          "schedules": [
            {"name": "Good", "timeZone": "UTC", "rules": ["ok"]},
            {"name": "UsesBad", "timeZone": "UTC", "rules": ["ok", "bad"]},
            {"name": "UsesShapeless", "timeZone": "UTC", "rules": ["shapeless"]},
            {"name": "BadZone", "timeZone": "Nowhere/City", "rules": ["ok"]}
          ]
        }"#;
        let book = Book::load(config);
        assert_eq!(book.problems().len(), 3, "{:?}", book.problems());
        let good = book.respond(Some("Good"), None, MONDAY_MS);
        assert_eq!(good.status, 200);
        for name in ["UsesBad", "UsesShapeless", "BadZone"] {
            let a = book.respond(Some(name), None, MONDAY_MS);
            assert_eq!(a.status, 500);
            let body = serde_json::to_value(&a.body).unwrap();
            assert_eq!(body["isOpen"], true);
            assert_eq!(body["closedReason"], "error");
            assert!(body["error"].as_str().unwrap().contains(name));
        }
        let uses_bad =
            serde_json::to_value(&book.respond(Some("UsesBad"), None, 0.0).body).unwrap();
        assert!(uses_bad["error"]
            .as_str()
            .unwrap()
            .contains(r#"rule "Bad" (id "bad")"#));
        assert!(Book::from_json(config).is_err());
        assert_eq!(book.schedule_names().len(), 4);
        // An unreadable document fails every schedule open.
        let broken = Book::load("{");
        assert_eq!(broken.respond(Some("Any"), None, 0.0).status, 500);
    }
}

#[cfg(test)]
mod reply_tests {
    use super::*;

    #[test]
    fn list_marks_broken_schedules_and_lists_problems() {
        let config = r#"{"rules": [{"id": "ok", "name": "OK", "isOpen": true},
            {"id": "bad", "name": "Bad", "isOpen": false, "endTime": "7pm"}],
          "schedules": [{"name": "Good", "timeZone": "UTC", "rules": ["ok"]},
            {"name": "Broken", "timeZone": "UTC", "rules": ["bad"]}]}"#;
        let r = list_body(config, 0.0, "ZN1", false);
        assert_eq!(r.status, 200);
        let s = &r.body["data"]["schedules"];
        assert_eq!(
            s[0]["status"],
            serde_json::json!({"isOpen": true, "closedReason": ""})
        );
        assert_eq!(s[1]["status"]["closedReason"], "error");
        assert!(s[1]["status"]["error"]
            .as_str()
            .unwrap()
            .contains(r#"rule "Bad""#));
        assert_eq!(r.body["versionIsDeployed"], false);
        assert_eq!(r.body["problems"].as_array().unwrap().len(), 1);
        let unreadable = list_body("nope", 0.0, "ZN1", true);
        assert_eq!(
            unreadable.body["data"],
            serde_json::json!({"rules": [], "schedules": []})
        );
        assert_eq!(unreadable.body["problems"][0]["code"], "config_json");
    }

    #[test]
    fn preview_reply_statuses() {
        let ok = r#"{"rules": [], "schedules": [{"name": "S", "timeZone": "UTC", "rules": []}]}"#;
        assert_eq!(preview_reply(ok, None, 0.0, None).status, 200);
        assert_eq!(preview_reply(ok, Some("X"), 0.0, None).status, 404);
        assert_eq!(preview_reply(ok, None, 0.0, Some("99")).status, 400);
        let bad = preview_reply(
            r#"{"rules": [], "schedules": [{"name": "S", "timeZone": "X", "rules": []}]}"#,
            None,
            0.0,
            None,
        );
        assert_eq!(bad.status, 400);
        assert_eq!(bad.body["code"], "invalid_config");
    }

    #[test]
    fn a_preview_lists_at_most_max_preview_intervals() {
        // 100 five-minute windows a day flip the decision 200 times a day: 12,400 intervals in 62
        // days, more than one answer lists.
        let rules: Vec<_> = (0..100)
            .map(|i| {
                let start = i * 10;
                serde_json::json!({"id": format!("w{i}"), "name": format!("W{i}"), "isOpen": true,
                    "startTime": format!("{:02}:{:02}", start / 60, start % 60),
                    "endTime": format!("{:02}:{:02}", (start + 5) / 60, (start + 5) % 60)})
            })
            .collect();
        let ids: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let config = serde_json::json!({"rules": rules, "schedules": [
            {"name": "A", "timeZone": "UTC", "rules": ids},
            {"name": "B", "timeZone": "UTC", "rules": []}
        ]})
        .to_string();
        let book = Book::from_json(&config).unwrap();
        let all = preview(&book, None, 1_734_930_000_000.0, Some("62")).unwrap();
        assert!(all.truncated);
        assert_eq!(all.schedules[0].intervals.len(), MAX_PREVIEW_INTERVALS);
        assert!(all.schedules[0].truncated);
        assert!(all.schedules[1].intervals.is_empty() && all.schedules[1].truncated);
        // One schedule at a time for fewer days fits.
        let one = preview(&book, Some("B"), 1_734_930_000_000.0, Some("62")).unwrap();
        assert!(!one.truncated && one.schedules[0].intervals.len() == 1);
        let body = serde_json::to_value(&one).unwrap();
        assert!(body.get("truncated").is_none());
    }
}
