//! Evaluation: open or closed at an instant, which rule decided, and when that next changes.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::config::{Book, Rule, Schedule};
use crate::error::CheckError;
use crate::time::{format_rfc3339, minute_of_day, offset_at, When};
use crate::zone::Zone;

/// How far ahead [`Answer::next_change`] looks.
pub const NEXT_CHANGE_HORIZON_DAYS: i64 = 31;

/// The published answer: open or closed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status<'a> {
    pub is_open: bool,
    pub closed_reason: &'a str,
}

/// The whole answer of check-schedule: the published fields plus additive ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer<'a> {
    pub is_open: bool,
    pub closed_reason: &'a str,
    pub time_zone: &'a str,
    /// Name of the rule that decided; `None` for a manual close or when no rule matched.
    pub matched_rule: Option<&'a str>,
    /// RFC 3339 instant, in the schedule's offset, when `is_open` next flips (within 31 days).
    pub next_change: Option<String>,
}

/// An HTTP answer for check-schedule, decided here so the shim only sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpAnswer<'a> {
    pub status: u16,
    pub body: Body<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Body<'a> {
    Answer(Answer<'a>),
    /// Unknown schedule: Studio flows rely on this fail-open body with a 404.
    #[serde(rename_all = "camelCase")]
    FailOpen {
        is_open: bool,
        closed_reason: &'static str,
        error: String,
    },
    Error {
        error: String,
        code: &'static str,
    },
}

impl HttpAnswer<'_> {
    /// The answer as JSON text, exactly as `serde_json` writes it (`{"status":200,"body":{...}}`,
    /// fields in declaration order). check-schedule's wasm face hands this to `JSON.parse`: a
    /// cold container then compiles this writer instead of serde's serializer for JS values.
    pub fn to_json(&self) -> String {
        use crate::json::write_string;
        let mut out = String::with_capacity(192);
        out.push_str("{\"status\":");
        let status = self.status;
        for place in [10_000, 1_000, 100, 10, 1] {
            if status >= place || place == 1 {
                out.push(char::from(b'0' + (status / place % 10) as u8));
            }
        }
        let boolean = |b: bool| if b { "true" } else { "false" };
        let optional = |out: &mut String, value: Option<&str>| match value {
            Some(text) => write_string(out, text),
            None => out.push_str("null"),
        };
        match &self.body {
            Body::Answer(a) => {
                out.push_str(",\"body\":{\"isOpen\":");
                out.push_str(boolean(a.is_open));
                out.push_str(",\"closedReason\":");
                write_string(&mut out, a.closed_reason);
                out.push_str(",\"timeZone\":");
                write_string(&mut out, a.time_zone);
                out.push_str(",\"matchedRule\":");
                optional(&mut out, a.matched_rule);
                out.push_str(",\"nextChange\":");
                optional(&mut out, a.next_change.as_deref());
            }
            Body::FailOpen {
                is_open,
                closed_reason,
                error,
            } => {
                out.push_str(",\"body\":{\"isOpen\":");
                out.push_str(boolean(*is_open));
                out.push_str(",\"closedReason\":");
                write_string(&mut out, closed_reason);
                out.push_str(",\"error\":");
                write_string(&mut out, error);
            }
            Body::Error { error, code } => {
                out.push_str(",\"body\":{\"error\":");
                write_string(&mut out, error);
                out.push_str(",\"code\":");
                write_string(&mut out, code);
            }
        }
        out.push_str("}}");
        out
    }
}

/// Which rule decided, as an index into the book's rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decision<'a> {
    pub(crate) is_open: bool,
    pub(crate) reason: &'a str,
    pub(crate) rule: Option<usize>,
}

impl Book {
    pub(crate) fn schedule(&self, name: &str) -> Result<&Schedule, CheckError> {
        if let Some(cause) = self.broken(name) {
            return Err(CheckError::Broken {
                name: name.to_string(),
                cause: cause.to_string(),
            });
        }
        self.schedules
            .get(name)
            .ok_or_else(|| CheckError::ScheduleNotFound(name.to_string()))
    }

    /// Open or closed, and why: the published `{isOpen, closedReason}`.
    pub fn status(&self, name: &str, when: When) -> Result<Status<'_>, CheckError> {
        let schedule = self.schedule(name)?;
        let wall = local_wall(&schedule.tz, when.instant(&schedule.tz));
        let d = self.decide_at(schedule, wall);
        Ok(Status {
            is_open: d.is_open,
            closed_reason: d.reason,
        })
    }

    /// The whole answer, with the deciding rule and the next change.
    pub fn answer(&self, name: &str, when: When) -> Result<Answer<'_>, CheckError> {
        let schedule = self.schedule(name)?;
        let now = when.instant(&schedule.tz);
        let d = self.decide_at(schedule, local_wall(&schedule.tz, now));
        let next_change = if schedule.manual_close {
            None
        } else {
            let limit = now.checked_add_signed(Duration::days(NEXT_CHANGE_HORIZON_DAYS));
            limit
                .and_then(|limit| {
                    self.next_change(schedule, now, limit, |x: &Decision| x.is_open != d.is_open)
                })
                .map(|t| format_rfc3339(t, &schedule.tz))
        };
        Ok(Answer {
            is_open: d.is_open,
            closed_reason: d.reason,
            time_zone: schedule.tz.name(),
            matched_rule: d
                .rule
                .and_then(|i| self.rules.get(i))
                .map(|r| r.name.as_str()),
            next_change,
        })
    }

    /// check-schedule's HTTP answer for the request parameters; `now_ms` is the shim's clock.
    pub fn respond(
        &self,
        name: Option<&str>,
        simulate: Option<&str>,
        now_ms: f64,
    ) -> HttpAnswer<'_> {
        let result = name
            .filter(|n| !n.is_empty())
            .ok_or(CheckError::MissingName)
            .and_then(|name| {
                let when = When::from_request(simulate, now_ms)?;
                self.answer(name, when)
            });
        match result {
            Ok(answer) => HttpAnswer {
                status: 200,
                body: Body::Answer(answer),
            },
            Err(e @ (CheckError::ScheduleNotFound(_) | CheckError::Broken { .. })) => HttpAnswer {
                status: e.http_status(),
                body: Body::FailOpen {
                    is_open: true,
                    closed_reason: "error",
                    error: e.to_string(),
                },
            },
            Err(e) => HttpAnswer {
                status: e.http_status(),
                body: Body::Error {
                    error: e.to_string(),
                    code: e.code(),
                },
            },
        }
    }

    pub(crate) fn rule(&self, index: usize) -> Option<&Rule> {
        self.rules.get(index)
    }

    /// The decision rules of the crate docs, with `active(position, rule)` saying whether the
    /// schedule's rule at that position applies.
    fn decide<'a>(
        &'a self,
        schedule: &Schedule,
        mut active: impl FnMut(usize, &Rule) -> bool,
    ) -> Decision<'a> {
        if schedule.manual_close {
            return Decision {
                is_open: false,
                reason: "manual",
                rule: None,
            };
        }
        let mut open = None;
        for (position, &index) in schedule.rules.iter().enumerate() {
            let Some(rule) = self.rule(index) else {
                continue;
            };
            if !active(position, rule) {
                continue;
            }
            if !rule.is_open {
                return Decision {
                    is_open: false,
                    reason: &rule.closed_reason,
                    rule: Some(index),
                };
            }
            open = open.or(Some(index));
        }
        match open {
            Some(index) => Decision {
                is_open: true,
                reason: "",
                rule: Some(index),
            },
            None => Decision {
                is_open: false,
                reason: "closed",
                rule: None,
            },
        }
    }

    pub(crate) fn decide_at(&self, schedule: &Schedule, wall: NaiveDateTime) -> Decision<'_> {
        let date = wall.date();
        let minute = minute_of_day(wall);
        let yesterday = date.pred_opt();
        self.decide(schedule, |_, rule| {
            // Cheap time-of-day test first; the date test may walk a recurrence.
            match rule.window {
                crate::config::Window::AllDay => rule.on_date(date),
                crate::config::Window::Within { start, end } => {
                    minute >= start && minute < end && rule.on_date(date)
                }
                crate::config::Window::Overnight { start, end } => {
                    (minute >= start && rule.on_date(date))
                        || (minute < end && yesterday.is_some_and(|y| rule.on_date(y)))
                }
            }
        })
    }

    /// Whether each of the schedule's rules matches `date`, by position.
    fn day_matches(&self, schedule: &Schedule, date: Option<NaiveDate>) -> Vec<bool> {
        schedule
            .rules
            .iter()
            .map(|&i| match (date, self.rule(i)) {
                (Some(d), Some(rule)) => rule.on_date(d),
                _ => false,
            })
            .collect()
    }

    /// The first instant after `now` (before `limit`) at which the decision `differs`. Walks the instant timeline in stretches of constant UTC offset: inside one,
    /// wall time advances with the instant and can only flip at a rule boundary; where the
    /// offset changes, wall time jumps (forward over a gap, back over a fold) and the state is
    /// re-read there.
    pub(crate) fn next_change(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
        limit: DateTime<Utc>,
        differs: impl Fn(&Decision) -> bool + Copy,
    ) -> Option<DateTime<Utc>> {
        let tz = &schedule.tz;
        let mut start = now;
        while start < limit {
            let offset = offset_at(tz, start);
            let end = next_offset_change(tz, start, limit);
            let to_wall = |t: DateTime<Utc>| t.naive_utc() + offset;
            if start != now && differs(&self.decide_at(schedule, to_wall(start))) {
                return Some(start);
            }
            if let Some(wall) = self.first_flip(schedule, to_wall(start), to_wall(end), differs) {
                return Some((wall - offset).and_utc());
            }
            start = end;
        }
        None
    }

    /// The first rule boundary strictly between two wall times at which the decision `differs`.
    fn first_flip(
        &self,
        schedule: &Schedule,
        after: NaiveDateTime,
        before: NaiveDateTime,
        differs: impl Fn(&Decision) -> bool,
    ) -> Option<NaiveDateTime> {
        let mut date = after.date();
        let mut yesterday = self.day_matches(schedule, date.pred_opt());
        while date <= before.date() {
            let today = self.day_matches(schedule, Some(date));
            for &minute in &schedule.boundaries {
                let wall = date.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)?;
                if wall <= after {
                    continue;
                }
                if wall >= before {
                    return None;
                }
                let d = self.decide(schedule, |position, rule| {
                    let matched = |days: &[bool]| days.get(position).copied().unwrap_or(false);
                    rule.active(matched(&today), matched(&yesterday), minute)
                });
                if differs(&d) {
                    return Some(wall);
                }
            }
            yesterday = today;
            date = date.succ_opt()?;
        }
        None
    }
}

pub(crate) fn local_wall(tz: &Zone, t: DateTime<Utc>) -> NaiveDateTime {
    tz.wall_at(t)
}

/// The first instant after `start` (at most `limit`) whose UTC offset differs from `start`'s.
/// Transitions happen on whole seconds, and the answer is exactly that second: a boundary a
/// fraction of a second off would let a wall time of the old offset leak past the transition.
fn next_offset_change(tz: &Zone, start: DateTime<Utc>, limit: DateTime<Utc>) -> DateTime<Utc> {
    let offset = offset_at(tz, start);
    let has_old_offset = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0).is_none_or(|t| offset_at(tz, t) == offset)
    };
    let mut day_start = start;
    while day_start < limit {
        let day_end = (day_start + Duration::days(1)).min(limit);
        if offset_at(tz, day_end) != offset {
            // `lo` still has the old offset, `hi` the new one; narrow down to the second.
            let (mut lo, mut hi) = (day_start.timestamp(), day_end.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if has_old_offset(mid) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return DateTime::from_timestamp(hi, 0).unwrap_or(day_end);
        }
        day_start = day_end;
    }
    limit
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{
      "rules": [
        {"id": "hours", "name": "Hours", "isOpen": true, "startTime": "09:00", "endTime": "17:00",
         "dateRRule": "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
        {"id": "late", "name": "Late", "isOpen": true, "startTime": "17:00", "endTime": "24:00",
         "startDate": "2024-06-03", "endDate": "2024-06-07"},
        {"id": "night", "name": "Night", "isOpen": true, "startTime": "22:00", "endTime": "02:00",
         "startDate": "2024-06-10", "endDate": "2024-06-10"},
        {"id": "morning-off", "name": "Morning off", "isOpen": false, "endTime": "10:00",
         "dateRRule": "RRULE:FREQ=WEEKLY;BYDAY=WE"},
        {"id": "no-reason", "name": "Closed", "isOpen": false, "startDate": "2024-06-14"}
      ],
      "schedules": [
        {"name": "S", "manualClose": false, "timeZone": "America/Chicago",
         "rules": ["gone", "hours", "late", "night", "morning-off", "no-reason"]},
        {"name": "M", "manualClose": true, "timeZone": "UTC", "rules": ["hours"]}
      ]
    }"#;

    fn book() -> Book {
        Book::from_json(CONFIG).unwrap()
    }

    fn at<'a>(book: &'a Book, simulate: &str) -> Answer<'a> {
        book.answer("S", When::from_request(Some(simulate), 0.0).unwrap())
            .unwrap()
    }

    #[test]
    fn open_rules_closed_rules_and_no_rule() {
        let book = book();
        let a = at(&book, "2024-06-04T09:00");
        assert_eq!(
            (a.is_open, a.closed_reason, a.matched_rule),
            (true, "", Some("Hours"))
        );
        // A closed rule wins regardless of order; endTime alone means from midnight.
        let a = at(&book, "2024-06-05T09:30");
        assert_eq!((a.is_open, a.closed_reason), (false, "closed"));
        assert_eq!(a.matched_rule, Some("Morning off"));
        assert_eq!(a.next_change.as_deref(), Some("2024-06-05T10:00:00-05:00"));
        // Nothing matches on a Sunday.
        let a = at(&book, "2024-06-09T12:00");
        assert_eq!(
            (a.is_open, a.closed_reason, a.matched_rule),
            (false, "closed", None)
        );
    }

    #[test]
    fn end_time_24_00_runs_to_midnight_and_date_ranges_are_inclusive() {
        let book = book();
        assert!(at(&book, "2024-06-07T23:59").is_open);
        assert!(!at(&book, "2024-06-08T00:00").is_open);
        assert!(!at(&book, "2024-06-10T17:30").is_open);
    }

    #[test]
    fn an_overnight_rule_continues_after_midnight_of_its_date_only() {
        let book = book();
        assert!(at(&book, "2024-06-10T22:00").is_open);
        let a = at(&book, "2024-06-11T01:59");
        assert_eq!((a.is_open, a.matched_rule), (true, Some("Night")));
        assert_eq!(a.next_change.as_deref(), Some("2024-06-11T02:00:00-05:00"));
        assert!(!at(&book, "2024-06-10T01:00").is_open);
        assert!(!at(&book, "2024-06-12T01:00").is_open);
    }

    #[test]
    fn a_closed_rule_without_reason_says_closed_and_can_close_for_good() {
        let book = book();
        let a = at(&book, "2024-06-14T10:00");
        assert_eq!(
            (a.is_open, a.closed_reason, a.matched_rule),
            (false, "closed", Some("Closed"))
        );
        assert_eq!(a.next_change, None);
    }

    #[test]
    fn manual_close_overrides_everything() {
        let book = book();
        let a = book
            .answer(
                "M",
                When::from_request(Some("2024-06-04T10:00"), 0.0).unwrap(),
            )
            .unwrap();
        assert_eq!(
            (a.is_open, a.closed_reason, a.matched_rule, a.next_change),
            (false, "manual", None, None)
        );
        assert_eq!(a.time_zone, "UTC");
    }

    #[test]
    fn unknown_rule_ids_are_skipped_and_reported() {
        let book = book();
        assert_eq!(book.warnings().len(), 1);
        assert!(book.warnings()[0].contains("\"gone\""));
    }

    #[test]
    fn next_change_after_a_fold_uses_the_exact_transition_second() {
        // Found by the DST property test: Chatham falls back from 03:45 +13:45 to 02:45 +12:45 on
        // 2024-04-07; an evening rule from 03:45 first applies at the second 03:45 (15:00Z).
        let config = r#"{"rules": [{"id": "r", "name": "R", "isOpen": true, "startTime": "03:45", "endTime": "00:00",
            "dateRRule": "RRULE:FREQ=DAILY"}],
            "schedules": [{"name": "C", "timeZone": "Pacific/Chatham", "rules": ["r"]}]}"#;
        let book = Book::from_json(config).unwrap();
        let now = DateTime::parse_from_rfc3339("2024-04-06T10:15:01Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = book.answer("C", When::Instant(now)).unwrap();
        assert!(!a.is_open);
        assert_eq!(a.next_change.as_deref(), Some("2024-04-07T03:45:00+12:45"));
    }

    #[test]
    fn http_answers() {
        let book = book();
        assert_eq!(book.respond(None, None, 0.0).status, 400);
        assert_eq!(book.respond(Some(""), None, 0.0).status, 400);
        assert_eq!(book.respond(Some("S"), Some("noon"), 0.0).status, 400);
        assert_eq!(book.respond(Some("S"), None, f64::NAN).status, 500);
        let not_found = book.respond(Some("X"), None, 0.0);
        assert_eq!(not_found.status, 404);
        assert_eq!(
            serde_json::to_value(&not_found.body).unwrap(),
            serde_json::json!({"isOpen": true, "closedReason": "error", "error": "Schedule X not found"})
        );
        let ok = book.respond(Some("S"), None, 1_717_513_200_000.0); // 2024-06-04T15:00Z, 10:00 CDT
        assert_eq!(ok.status, 200);
        assert_eq!(
            serde_json::to_value(&ok.body).unwrap(),
            serde_json::json!({"isOpen": true, "closedReason": "", "timeZone": "America/Chicago",
                "matchedRule": "Hours", "nextChange": "2024-06-05T00:00:00-05:00"})
        );
    }

    /// The hand-written JSON of an answer is byte for byte what serde_json writes for it.
    #[test]
    fn answers_are_written_as_serde_json_writes_them() {
        let odd = r#"{"rules": [
            {"id": "q", "name": "Quote \" back\\ tab\t bell\u0007 \b\f é 😀", "isOpen": false,
             "closedReason": "line\nbreak / \u001f", "startTime": "09:00", "endTime": "17:00"}],
          "schedules": [{"name": "Odd \"name\"", "timeZone": "Asia/Kolkata", "rules": ["q"]},
                        {"name": "Broken", "timeZone": "Mars/Base", "rules": []}]}"#;
        let plain = book();
        let odd = Book::load(odd);
        let mut cases = Vec::new();
        for ms in [
            0.0,
            1_717_513_200_000.0,
            1_733_000_000_000.0,
            8.64e15,
            -8.64e15,
        ] {
            for name in [None, Some(""), Some("S"), Some("M"), Some("X \"y\"")] {
                for simulate in [None, Some("2024-06-05T09:30"), Some("noon \" \u{1}")] {
                    cases.push(plain.respond(name, simulate, ms));
                }
            }
            for name in ["Odd \"name\"", "Broken"] {
                cases.push(odd.respond(Some(name), None, ms));
                cases.push(odd.respond(Some(name), Some("2024-06-05T12:00"), ms));
            }
            cases.push(plain.respond(Some("S"), None, f64::NAN));
        }
        let bodies: std::collections::HashSet<_> = cases
            .iter()
            .map(|a| std::mem::discriminant(&a.body))
            .collect();
        assert_eq!(bodies.len(), 3);
        for answer in &cases {
            assert_eq!(answer.to_json(), serde_json::to_string(answer).unwrap());
        }
    }
}
