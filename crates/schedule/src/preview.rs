//! A schedule's open and closed intervals over a span of time: the evaluation behind the admin
//! API's preview (`schedule-admin` decides the span, the limits and the answer).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::Book;
use crate::error::CheckError;
use crate::eval::{local_wall, Decision};
use crate::time::format_rfc3339;

/// A stretch of time during which a schedule's decision does not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Interval {
    /// RFC 3339, in the schedule's offset at that instant.
    pub start: String,
    pub end: String,
    pub is_open: bool,
    pub closed_reason: String,
    /// Name of the deciding rule; `None` for a manual close or when no rule applies.
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePreview {
    pub name: String,
    pub time_zone: String,
    pub intervals: Vec<Interval>,
    /// The intervals stop before the preview's end: the answer reached its limit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Book {
    /// The intervals of schedule `name` from `from` over `days` days, at most `max_intervals`.
    pub fn preview_schedule(
        &self,
        name: &str,
        from: DateTime<Utc>,
        days: u32,
        max_intervals: usize,
    ) -> Result<SchedulePreview, CheckError> {
        let schedule = self.schedule(name)?;
        let limit = from
            .checked_add_signed(Duration::days(i64::from(days)))
            .ok_or(CheckError::InvalidNow)?;
        let rule_name = |d: &Decision| d.rule.and_then(|i| self.rule(i)).map(|r| r.name.clone());
        let mut intervals = Vec::new();
        let mut start = from;
        while start < limit {
            if intervals.len() >= max_intervals {
                return Ok(SchedulePreview {
                    name: name.to_string(),
                    time_zone: schedule.tz.name().to_string(),
                    intervals,
                    truncated: true,
                });
            }
            let d = self.decide_at(schedule, local_wall(&schedule.tz, start));
            let end = if schedule.manual_close {
                limit
            } else {
                let same = |x: &Decision| {
                    x.is_open != d.is_open || x.reason != d.reason || x.rule != d.rule
                };
                self.next_change(schedule, start, limit, same)
                    .unwrap_or(limit)
            };
            intervals.push(Interval {
                start: format_rfc3339(start, &schedule.tz),
                end: format_rfc3339(end, &schedule.tz),
                is_open: d.is_open,
                closed_reason: d.reason.to_string(),
                rule: rule_name(&d),
            });
            if end <= start {
                break; // cannot happen (changes are strictly later); never loop forever
            }
            start = end;
        }
        Ok(SchedulePreview {
            name: name.to_string(),
            time_zone: schedule.tz.name().to_string(),
            intervals,
            truncated: false,
        })
    }
}
