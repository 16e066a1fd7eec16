//! Walking a rule's periods: INTERVAL, BYSETPOS positions, and the first COUNT occurrences.

use chrono::{Datelike, Days, NaiveDate};

use super::calendar::{
    day_number, days_in_month, first_of_next_month, month_number, week_start_number,
    weekday_offset, year_len,
};
use super::filter::SetPos;
use super::{Freq, Recurrence, MAX_COUNT_SPAN_DAYS};

impl Recurrence {
    /// Whether the period containing `date` (on or after DTSTART) is one INTERVAL keeps.
    pub(super) fn in_kept_period(&self, date: NaiveDate) -> bool {
        let (Some(start), true) = (self.start, self.interval > 1) else {
            return true;
        };
        let interval = i64::from(self.interval);
        let periods = match self.freq {
            Freq::Daily => day_number(date) - day_number(start),
            Freq::Weekly => {
                (week_start_number(date, self.wkst) - week_start_number(start, self.wkst)) / 7
            }
            Freq::Monthly => month_number(date) - month_number(start),
            Freq::Yearly => i64::from(date.year()) - i64::from(start.year()),
        };
        periods % interval == 0
    }

    /// `date` passed the filters; is it at a position BYSETPOS picks within its period?
    pub(super) fn picked_by_set_pos(&self, date: NaiveDate, set_pos: &SetPos) -> bool {
        let Some((first, last)) = self.period_of(date) else {
            return false;
        };
        // Count the matching dates before `date`, and after it, only as far as the largest
        // position needs: BYSETPOS=-1 looks no further than the next match.
        let mut budget = u32::MAX;
        let before = self.count_up_to(first, date.pred_opt(), set_pos.max_from_start, &mut budget);
        if before < set_pos.max_from_start && set_pos.from_start.has(before + 1) {
            return true;
        }
        let after = self.count_up_to(
            date.succ_opt(),
            Some(last),
            set_pos.max_from_end,
            &mut budget,
        );
        after < set_pos.max_from_end && set_pos.from_end.has(after + 1)
    }

    /// How many dates from `first` to `last` pass the filters, counting no further than `cap`.
    fn count_up_to(
        &self,
        first: impl Into<Option<NaiveDate>>,
        last: Option<NaiveDate>,
        cap: u32,
        budget: &mut u32,
    ) -> u32 {
        let (Some(first), Some(last), true) = (first.into(), last, cap > 0) else {
            return 0;
        };
        let mut count = 0;
        self.scan(first, last, budget, |_| {
            count += 1;
            count < cap
        });
        count
    }

    /// First and last date of the FREQ period containing `date`. As in dateutil, the period that
    /// contains DTSTART starts there for WEEKLY, so BYSETPOS counts from DTSTART in that week.
    fn period_of(&self, date: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        match self.freq {
            Freq::Daily => Some((date, date)),
            Freq::Weekly => {
                let back = u64::from(weekday_offset(date, self.wkst));
                let first = date
                    .checked_sub_days(Days::new(back))
                    .unwrap_or(NaiveDate::MIN);
                let last = first
                    .checked_add_days(Days::new(6))
                    .unwrap_or(NaiveDate::MAX);
                let first = match self.start {
                    Some(start) if start > first && start <= last => start,
                    _ => first,
                };
                Some((first, last))
            }
            Freq::Monthly => {
                let first = date.with_day(1)?;
                let last = date.with_day(days_in_month(date.year(), date.month()))?;
                Some((first, last))
            }
            Freq::Yearly => {
                let first = date.with_ordinal(1)?;
                let last = date.with_ordinal(year_len(date.year()))?;
                Some((first, last))
            }
        }
    }

    /// The first date of the period INTERVAL periods after the one starting on `first`.
    fn next_period_start(&self, first: NaiveDate) -> Option<NaiveDate> {
        let interval = u64::from(self.interval);
        match self.freq {
            Freq::Daily => first.checked_add_days(Days::new(interval)),
            Freq::Weekly => {
                let back = u64::from(weekday_offset(first, self.wkst));
                first.checked_add_days(Days::new(interval.checked_mul(7)?.checked_sub(back)?))
            }
            Freq::Monthly => {
                let month = month_number(first).checked_add(i64::from(self.interval))?;
                let year = i32::try_from(month.div_euclid(12)).ok()?;
                let month = u32::try_from(month.rem_euclid(12)).ok()? + 1;
                NaiveDate::from_ymd_opt(year, month, 1)
            }
            Freq::Yearly => {
                let year = first
                    .year()
                    .checked_add(i32::try_from(self.interval).ok()?)?;
                NaiveDate::from_ymd_opt(year, 1, 1)
            }
        }
    }

    /// Calls `visit` on every date from `first` to `last` that passes the filters, in order,
    /// until it returns false, spending one unit of `budget` per date examined and skipping
    /// months BYMONTH excludes.
    fn scan(
        &self,
        first: NaiveDate,
        last: NaiveDate,
        budget: &mut u32,
        mut visit: impl FnMut(NaiveDate) -> bool,
    ) {
        let mut date = first;
        while date <= last && *budget > 0 {
            *budget -= 1;
            if self.filter.months >> date.month() & 1 == 0 {
                match first_of_next_month(date) {
                    Some(next) => date = next,
                    None => return,
                }
                continue;
            }
            if self.filter.matches(date, self.wkst) && !visit(date) {
                return;
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => return,
            }
        }
    }

    /// The first `count` occurrences from `start` up to `end` (inclusive), walking the kept
    /// periods in order; fewer when `end` comes first. Each period is examined whole, so that
    /// BYSETPOS positions count the same dates as they do in [`Recurrence::contains`].
    pub(super) fn first_occurrences(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        count: u32,
    ) -> Vec<NaiveDate> {
        let count = count as usize;
        let mut found = Vec::with_capacity(count.min(1024));
        // Examined dates: at most the span plus a period on either side; a backstop only.
        let mut budget = MAX_COUNT_SPAN_DAYS.saturating_add(800);
        let mut period = self.period_of(start);
        let mut in_period = Vec::new();
        while let Some((first, last)) = period {
            if first > end || budget == 0 {
                break;
            }
            in_period.clear();
            self.scan(first, last, &mut budget, |d| {
                in_period.push(d);
                true
            });
            let len = u32::try_from(in_period.len()).unwrap_or(u32::MAX);
            for (index, &date) in (0u32..).zip(in_period.iter()) {
                let picked = self.set_pos.as_ref().is_none_or(|p| p.picks(index, len));
                if picked && date >= start && date <= end {
                    found.push(date);
                    if found.len() == count {
                        return found;
                    }
                }
            }
            let mut next = self.next_period_start(first);
            if self.freq == Freq::Daily {
                next = self.skip_excluded_months(next, &mut budget);
            }
            period = next.and_then(|next| self.period_of(next));
        }
        found
    }

    /// For DAILY, the first day on the INTERVAL grid from `day` on that is in a month BYMONTH
    /// allows, so that a search does not walk excluded months one day at a time.
    fn skip_excluded_months(
        &self,
        mut day: Option<NaiveDate>,
        budget: &mut u32,
    ) -> Option<NaiveDate> {
        let interval = i64::from(self.interval);
        while let Some(d) = day {
            if self.filter.months >> d.month() & 1 == 1 || *budget == 0 {
                break;
            }
            *budget -= 1;
            let gap = day_number(first_of_next_month(d)?) - day_number(d);
            let steps = (gap + interval - 1) / interval;
            day = d.checked_add_days(Days::new(u64::try_from(steps * interval).ok()?));
        }
        day
    }
}
