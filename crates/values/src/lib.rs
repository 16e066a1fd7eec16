//! The small pieces every domain crate needs, written once.
//!
//! - [`sid`]: a Twilio SID is a two-letter prefix naming the kind of object (`CA` call, `WK`
//!   worker, `WQ` task queue, `WW` workflow, ...) followed by exactly 32 hexadecimal digits.
//!   Anything else (other lengths, other prefixes, multi-byte characters) is not a SID.
//! - [`instant`]: time enters every crate as milliseconds since 1970 (`Date.now()` in the shim;
//!   no crate reads a clock) and leaves as RFC 3339 UTC text. A millisecond value that is not
//!   finite or lies outside the years 0000 to 9999 (all RFC 3339 can write) is not an instant.
//!
//! - [`time`]: wall times in a time zone and the instants they stand for, with the service's one
//!   rule for wall times that a daylight-saving change skips or repeats ([`time::DST_RULE`]).
//! - [`xml`]: escaping text and attribute values for TwiML.
//! - [`sync`]: Twilio Sync's write budget per object, as the share of a second a write takes.
//! - [`env`]: the one shape of "this environment variable cannot be used": the variable, its
//!   value and what is expected instead (on the wire: a 500 `invalid_config` naming the variable,
//!   see `wasm-face`).
//!
//! No function panics on any input.

/// Twilio SIDs.
pub mod sid {
    /// Whether `value` is `prefix` followed by 32 hexadecimal digits.
    pub fn is_sid(value: &str, prefix: &str) -> bool {
        value.len() == prefix.len() + 32
            && value.starts_with(prefix)
            && value
                .bytes()
                .skip(prefix.len())
                .all(|b| b.is_ascii_hexdigit())
    }
}

/// Instants.
pub mod instant {
    use chrono::{DateTime, SecondsFormat, Utc};

    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: RFC 3339 writes four-digit years only,
    /// so an instant outside them could be written but never read back.
    const MIN_MS: f64 = -62_167_219_200_000.0;
    const MAX_MS: f64 = 253_402_300_799_999.0;

    /// `ms` since 1970 as a UTC instant (fractions of a millisecond dropped), or `None` when it is
    /// not finite or outside the years 0000 to 9999.
    pub fn from_millis(ms: f64) -> Option<DateTime<Utc>> {
        if !ms.is_finite() || ms.trunc() < MIN_MS || ms.trunc() > MAX_MS {
            return None;
        }
        // In range by the check above, so the cast neither saturates nor wraps.
        DateTime::from_timestamp_millis(ms.trunc() as i64)
    }

    /// `2024-05-01T12:00:00.000Z` (milliseconds, as JavaScript's `toISOString()`).
    pub fn iso_millis(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// `2024-05-01T12:00:00Z` (whole seconds, as Twilio's REST APIs write dates).
    pub fn iso_seconds(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// RFC 3339 text with any offset, or a number of milliseconds since 1970.
    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        let text = text.trim();
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(at.with_timezone(&Utc));
        }
        text.parse::<f64>().ok().and_then(from_millis)
    }
}

/// Wall times and instants in a time zone: the one place a local wall time becomes an instant.
///
/// Where a zone's clocks jump, a wall time is not one instant: in a **gap** (clocks spring
/// forward, 2026-03-08 02:30 does not happen in New York) it is none, in a **fold** (clocks fall
/// back, 2026-11-01 01:30 happens twice) it is two. Every crate reads such a time by the one rule
/// [`DST_RULE`]: schedules (`simulate`, rule boundaries), queue history and agent history (`from`,
/// `to`, the start of a day) and live queue statistics (the start of "today").
///
/// A zone is anything that answers its UTC offset at an instant ([`Offsets`]): every chrono
/// [`TimeZone`](chrono::TimeZone) (chrono-tz's `Tz`, as the statistics crates use) and the
/// schedule crate's own compact zone reader.
pub mod time {
    use chrono::{
        DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
    };

    /// How a wall time is read where a zone's clocks jump.
    ///
    /// There is one rule for the whole service, [`DST_RULE`]; the enum names it so that code and
    /// documentation can point at it. Choices considered and not taken: reading a gap time as the
    /// first minute that exists (the instant the clocks jumped: it maps the whole gap to one
    /// instant, so 02:10 and 02:50 would be the same moment), refusing it (a Studio flow or a
    /// report link must always get an answer), or taking the later instant of a fold (it would
    /// skip the first hour of a fall-back night).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum DstRule {
        /// A wall time in a gap is read with the UTC offset in force just before the gap, which
        /// moves it forward by the gap's length (02:30 on a New York spring-forward day is 03:30
        /// EDT, 07:30Z); a wall time in a fold is the earlier of its two instants (01:30 on a New
        /// York fall-back day is 01:30 EDT, 05:30Z). This is RFC 5545's rule for local times
        /// (section 3.3.5) and the `compatible` disambiguation of JavaScript's Temporal, jiff and
        /// luxon, so a browser or a calendar reads the same wall time as the same instant. A day
        /// whose midnight falls in a gap (zones that spring forward at 00:00) starts when the
        /// clocks jumped, as the gap's first minute moves to its end.
        Compatible,
    }

    /// The service's rule for wall times in gaps and folds (see [`DstRule::Compatible`]).
    pub const DST_RULE: DstRule = DstRule::Compatible;

    /// A time zone as far as this module needs one: its UTC offset at any instant.
    pub trait Offsets {
        /// The UTC offset in force at `t`.
        fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset;
    }

    impl<Z: TimeZone> Offsets for Z {
        fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset {
            self.offset_from_utc_datetime(&t.naive_utc()).fix()
        }
    }

    /// The wall clock in `zone` at `t` (`t`'s UTC wall time at the ends of chrono's range).
    pub fn wall_at(zone: &impl Offsets, t: DateTime<Utc>) -> NaiveDateTime {
        let wall = t.naive_utc();
        wall.checked_add_offset(zone.offset_at(t)).unwrap_or(wall)
    }

    /// The local date in `zone` at `t`.
    pub fn local_date(zone: &impl Offsets, t: DateTime<Utc>) -> NaiveDate {
        wall_at(zone, t).date()
    }

    /// The instant at which `zone`'s clocks show `wall`, by [`DST_RULE`]. Transitions are
    /// assumed to be more than a day apart, as they are in the whole IANA database.
    pub fn instant_of(zone: &impl Offsets, wall: NaiveDateTime) -> DateTime<Utc> {
        let DstRule::Compatible = DST_RULE;
        // The offsets a day before and a day after cover both sides of any transition near `wall`.
        let probe = |days: i64| {
            let t = wall
                .checked_add_signed(Duration::days(days))
                .unwrap_or(wall)
                .and_utc();
            zone.offset_at(t)
        };
        let (before, after) = (probe(-1), probe(1));
        let read = |offset: FixedOffset| wall.checked_sub_offset(offset).unwrap_or(wall).and_utc();
        let candidate = |offset: FixedOffset| {
            let t = read(offset);
            (zone.offset_at(t) == offset).then_some(t)
        };
        match (candidate(before), candidate(after)) {
            // A fold: the earlier instant.
            (Some(a), Some(b)) => a.min(b),
            (Some(t), None) | (None, Some(t)) => t,
            // A gap: read with the offset in force just before it, i.e. moved forward by its length.
            (None, None) => read(before),
        }
    }

    /// The first instant of the local date `date` in `zone`: its midnight by [`DST_RULE`].
    pub fn day_start(zone: &impl Offsets, date: NaiveDate) -> DateTime<Utc> {
        instant_of(zone, NaiveDateTime::new(date, NaiveTime::MIN))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use chrono_tz::Tz;

        fn wall(text: &str) -> NaiveDateTime {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
        }

        fn utc(text: &str) -> DateTime<Utc> {
            DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc)
        }

        #[test]
        fn a_gap_moves_forward_by_its_length_and_a_fold_takes_the_earlier_instant() {
            let ny: Tz = "America/New_York".parse().unwrap();
            assert_eq!(
                instant_of(&ny, wall("2026-03-08T02:30")),
                utc("2026-03-08T07:30:00Z")
            );
            assert_eq!(
                instant_of(&ny, wall("2026-03-08T02:00")),
                utc("2026-03-08T07:00:00Z")
            );
            assert_eq!(
                instant_of(&ny, wall("2026-03-08T03:00")),
                utc("2026-03-08T07:00:00Z")
            );
            assert_eq!(
                instant_of(&ny, wall("2026-11-01T01:30")),
                utc("2026-11-01T05:30:00Z")
            );
            assert_eq!(
                instant_of(&ny, wall("2026-07-01T12:00")),
                utc("2026-07-01T16:00:00Z")
            );
            // Lord Howe's half-hour gap.
            let lord_howe: Tz = "Australia/Lord_Howe".parse().unwrap();
            assert_eq!(
                instant_of(&lord_howe, wall("2026-10-04T02:15")),
                utc("2026-10-03T15:45:00Z")
            );
        }

        #[test]
        fn a_day_whose_midnight_is_skipped_starts_when_the_clocks_jump() {
            // Santiago springs forward at 24:00 on 2024-09-07: 00:00 to 01:00 does not happen.
            let santiago: Tz = "America/Santiago".parse().unwrap();
            let date = NaiveDate::from_ymd_opt(2024, 9, 8).unwrap();
            assert_eq!(day_start(&santiago, date), utc("2024-09-08T04:00:00Z"));
            assert_eq!(local_date(&santiago, utc("2024-09-08T04:00:00Z")), date);
            assert_eq!(
                local_date(&santiago, utc("2024-09-08T03:59:59Z")),
                date.pred_opt().unwrap()
            );
        }

        /// In every zone of the database and every day from 1970 to 2040 near an offset change,
        /// the day starts on its own date and the instant before it is the day before: a skipped
        /// midnight never moves the start past the day's first instant (every gap that holds a
        /// midnight begins at it). Other days have one midnight and nothing to check.
        #[test]
        fn every_day_of_every_zone_starts_on_its_first_instant() {
            for zone in chrono_tz::TZ_VARIANTS {
                let noon =
                    |d: NaiveDate| zone.offset_at(d.and_hms_opt(12, 0, 0).unwrap().and_utc());
                let mut date = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
                let end = NaiveDate::from_ymd_opt(2040, 1, 1).unwrap();
                let mut previous = noon(date);
                while date < end {
                    let next = date.succ_opt().unwrap();
                    let offset = noon(next);
                    if offset != previous {
                        for d in [date.pred_opt().unwrap(), date, next] {
                            let start = day_start(&zone, d);
                            if local_date(&zone, start) == d {
                                let before = start - Duration::seconds(1);
                                assert!(local_date(&zone, before) < d, "{zone} {d}: {start}");
                            }
                        }
                    }
                    previous = offset;
                    date = next;
                }
            }
        }

        #[test]
        fn wall_times_that_exist_once_agree_with_chrono() {
            use chrono::LocalResult;
            let mut w = wall("2026-01-01T00:00");
            for name in [
                "America/Chicago",
                "Europe/London",
                "Australia/Lord_Howe",
                "Pacific/Chatham",
            ] {
                let zone: Tz = name.parse().unwrap();
                while w < wall("2027-01-01T00:00") {
                    match zone.from_local_datetime(&w) {
                        LocalResult::Single(t) => assert_eq!(instant_of(&zone, w), t),
                        LocalResult::Ambiguous(a, _) => assert_eq!(instant_of(&zone, w), a),
                        LocalResult::None => {
                            // Moved forward, by no more than these zones' gaps (an hour).
                            let shown = wall_at(&zone, instant_of(&zone, w));
                            assert!(shown > w && shown - w <= Duration::hours(1), "{name} {w}");
                        }
                    }
                    w += Duration::minutes(15);
                }
                w = wall("2026-01-01T00:00");
            }
        }

        #[test]
        fn extreme_wall_times_do_not_panic() {
            for w in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
                let _ = instant_of(&chrono_tz::America::New_York, w);
                let _ = wall_at(&chrono_tz::America::New_York, w.and_utc());
            }
        }
    }
}

/// Twilio Sync's limits as every crate that writes Sync plans by them.
pub mod sync {
    /// Sync's largest item or document data, in bytes (16 KiB).
    pub const MAX_DATA_BYTES: usize = 16 * 1024;

    /// The share of one second of a Sync object's write budget that a write of `bytes` of data
    /// takes. Twilio documents 20 writes/s per object up to 1 KiB, fewer for larger payloads, down
    /// to 2 writes/s sustained from 10 KiB; between, about 20 KiB/s is assumed (the emulator's
    /// model, docs/emulator.md): `bytes / 20 KiB`, at least 1/20 and at most 1/2. Items count
    /// against their map; a delete costs as an empty write (1/20).
    pub fn write_cost(bytes: usize) -> f64 {
        // Payloads are at most 16 KiB, so the conversion is exact.
        (bytes as f64 / 20_480.0).clamp(0.05, 0.5)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn costs_follow_the_size_budget() {
            assert_eq!(write_cost(0), 0.05);
            assert_eq!(write_cost(1024), 0.05);
            assert_eq!(write_cost(4096), 0.2);
            assert_eq!(write_cost(10 * 1024), 0.5);
            assert_eq!(write_cost(MAX_DATA_BYTES), 0.5);
        }
    }
}

/// Environment variables a crate cannot use.
pub mod env {
    use std::fmt;

    /// A setting (an environment variable) that cannot be used: the service is misconfigured,
    /// not the request. Displayed as `VARIABLE="value" what is expected instead`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct EnvError {
        /// The environment variable, e.g. `QUEUE_STATS_TIME_ZONE`.
        pub variable: &'static str,
        /// The value as given (empty when the variable is missing).
        pub value: String,
        /// What is wrong with it and what is expected instead.
        pub problem: String,
        /// How the message reads.
        pub phrasing: Phrasing,
    }

    /// The two ways an [`EnvError`] reads.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Phrasing {
        /// `VARIABLE="value" problem` ([`EnvError::new`]).
        ValueFirst,
        /// `VARIABLE must be expected (got "value")` ([`EnvError::must_be`]).
        MustBe,
        /// The problem says it all, naming the variables ([`EnvError::unset`], a [`Conflict`]).
        Whole,
    }

    impl EnvError {
        pub fn new(variable: &'static str, value: &str, problem: impl Into<String>) -> EnvError {
            EnvError {
                variable,
                value: value.to_string(),
                problem: problem.into(),
                phrasing: Phrasing::ValueFirst,
            }
        }

        /// `variable` is not what it must be: `expected` says what that is.
        pub fn must_be(
            variable: &'static str,
            value: &str,
            expected: impl Into<String>,
        ) -> EnvError {
            EnvError {
                phrasing: Phrasing::MustBe,
                ..EnvError::new(variable, value, expected)
            }
        }

        /// Setting `variable` is set under none of its names (canonical, then its aliases).
        pub fn unset(variable: &'static str) -> EnvError {
            let (canonical, all) = names(variable);
            let aliases = &all[1..];
            let also = match aliases {
                [] => String::new(),
                _ => format!(" (or its alias {})", aliases.join(", ")),
            };
            EnvError {
                variable: aliased(variable).map_or(variable, |(c, _)| c),
                value: String::new(),
                problem: format!(
                    "Server misconfigured: the environment variable {canonical}{also} is not set (see .env.example)."
                ),
                phrasing: Phrasing::Whole,
            }
        }

        /// The machine-readable code every face answers with.
        pub fn code(&self) -> &'static str {
            "invalid_config"
        }
    }

    impl fmt::Display for EnvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.phrasing {
                Phrasing::ValueFirst => {
                    write!(f, "{}={:?} {}", self.variable, self.value, self.problem)
                }
                Phrasing::MustBe => write!(
                    f,
                    "{} must be {} (got {:?})",
                    self.variable, self.problem, self.value
                ),
                Phrasing::Whole => f.write_str(&self.problem),
            }
        }
    }

    impl std::error::Error for EnvError {}

    /// A set variable's trimmed text, or `None` when it is unset or blank (blank means "default").
    pub fn given(text: Option<&str>) -> Option<&str> {
        text.map(str::trim).filter(|v| !v.is_empty())
    }

    /// A comma-separated list's names, trimmed, blanks left out.
    pub fn list(text: &str) -> Vec<String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// `variable`'s text as a whole number from `min` to `max`.
    pub fn whole_number(
        variable: &'static str,
        text: &str,
        min: u32,
        max: u32,
    ) -> Result<u32, EnvError> {
        match text.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(EnvError::new(
                variable,
                text,
                format!("is not a whole number from {min} to {max}"),
            )),
        }
    }

    /// One name per setting: each canonical name, then the older names still accepted for it
    /// (documented aliases: the published Flex dashboard's names, the scripts' key names).
    /// `SYNC_SERVICE_SID` and `TWILIO_FLEX_SYNC_SID` are not a pair: the parked calls (and
    /// voicemail) may live in a Sync service of their own while the dashboard's records are in
    /// Flex's, so they are two settings.
    pub const ALIASES: &[(&str, &[&str])] = &[
        ("WORKSPACE_SID", &["TWILIO_FLEX_WORKSPACE_SID"]),
        ("API_KEY", &["TWILIO_API_KEY"]),
        ("API_SECRET", &["TWILIO_API_SECRET"]),
    ];

    /// The canonical name of setting `name` (itself when it is no alias) and every name it may be
    /// set under, canonical first. A name outside [`ALIASES`] is its own and only name.
    pub fn names(name: &str) -> (&str, Vec<&str>) {
        match aliased(name) {
            Some((canonical, aliases)) => {
                let mut all = vec![canonical];
                all.extend_from_slice(aliases);
                (canonical, all)
            }
            None => (name, vec![name]),
        }
    }

    /// The row of [`ALIASES`] that names `name`, canonical or alias.
    fn aliased(name: &str) -> Option<(&'static str, &'static [&'static str])> {
        ALIASES
            .iter()
            .find(|(canonical, aliases)| *canonical == name || aliases.contains(&name))
            .map(|(canonical, aliases)| (*canonical, *aliases))
    }

    /// A setting read under any of its names: the variable it was found under and its trimmed value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Setting {
        pub variable: String,
        pub value: String,
    }

    /// A setting set under two of its names with different values: which one to use is not
    /// guessed (the service would read one object and write another), both names are given
    /// (not the values, which may be secret).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Conflict {
        pub canonical: &'static str,
        pub first: Setting,
        pub second: Setting,
    }

    impl fmt::Display for Conflict {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // Without the values: a secret (API_SECRET) must not reach an answer or a log.
            write!(
                f,
                "{} and {} name the same setting with different values: set only {}",
                self.first.variable, self.second.variable, self.canonical
            )
        }
    }

    /// Setting `name` (canonical or alias) from `lookup`: `None` when it is set under none of
    /// its names (blank counts as unset), the same value under several names is fine, and
    /// different values are a [`Conflict`].
    pub fn setting<'a>(
        name: &str,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Option<Setting>, Conflict> {
        let (_, all) = names(name);
        let mut found: Option<Setting> = None;
        for variable in all {
            let Some(value) = given(lookup(variable)) else {
                continue;
            };
            let here = Setting {
                variable: variable.to_string(),
                value: value.to_string(),
            };
            match &found {
                None => found = Some(here),
                Some(first) if first.value == here.value => {}
                Some(first) => {
                    // Two names: the name belongs to a row of ALIASES.
                    let canonical = aliased(name).map_or("", |(c, _)| c);
                    return Err(Conflict {
                        canonical,
                        first: first.clone(),
                        second: here,
                    });
                }
            }
        }
        Ok(found)
    }

    /// A setting two names may carry, as an [`EnvError`] naming its canonical name: the crates'
    /// faces answer it as a 500 `invalid_config` whose `parameter` is that name.
    impl From<Conflict> for EnvError {
        fn from(conflict: Conflict) -> EnvError {
            EnvError {
                variable: conflict.canonical,
                value: String::new(),
                problem: format!("Server misconfigured: {conflict}."),
                phrasing: Phrasing::Whole,
            }
        }
    }

    /// Setting `name` read by [`setting`]: its trimmed value, or `None` when it is set under none
    /// of its names; different values under two names are an error naming both.
    pub fn optional<'a>(
        name: &'static str,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Option<String>, EnvError> {
        Ok(setting(name, lookup)?.map(|found| found.value))
    }

    /// Setting `name` read by [`setting`]; unset under every name is an error naming it.
    pub fn required<'a>(
        name: &'static str,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<String, EnvError> {
        optional(name, lookup)?.ok_or_else(|| EnvError::unset(name))
    }

    /// Flex's TaskRouter workspace and Sync service, `(WORKSPACE_SID, TWILIO_FLEX_SYNC_SID)`, as
    /// [`required`] reads them (the workspace under its alias too): the pair every machine that
    /// reads TaskRouter and writes Flex's Sync service needs. The error names the setting.
    pub fn flex_services<'a>(
        lookup: impl Fn(&str) -> Option<&'a str> + Copy,
    ) -> Result<(String, String), EnvError> {
        Ok((
            required("WORKSPACE_SID", lookup)?,
            required("TWILIO_FLEX_SYNC_SID", lookup)?,
        ))
    }

    /// The wallboard's own Sync service (`WALLBOARD_SYNC_SID`), when it is set and is neither
    /// Flex's (`TWILIO_FLEX_SYNC_SID`) nor parking's (`SYNC_SERVICE_SID`): the live agents view's
    /// documents hold agents' names, readable only through the ACL of a service of its own.
    /// Whoever writes the view (`agents-live`) or feeds it (`voicemail`'s unheard count) asks here.
    pub fn board_service<'a>(lookup: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
        let given = |name: &str| lookup(name).map(str::trim).filter(|v| !v.is_empty());
        let sid = given("WALLBOARD_SYNC_SID")?;
        let other = |name: &str| given(name) == Some(sid);
        (!other("TWILIO_FLEX_SYNC_SID") && !other("SYNC_SERVICE_SID")).then(|| sid.to_string())
    }

    /// The setting names quoted in a Rust `source` that start with one of `prefixes`.
    pub fn quoted_settings<'a>(source: &'a str, prefixes: &[&str]) -> Vec<&'a str> {
        source
            .split('"')
            .filter(|s| {
                s.len() > 4
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    && prefixes.iter().any(|p| s.starts_with(p))
            })
            .collect()
    }

    /// For a crate's unit test: every setting its `sources` quote (names starting with one of
    /// `prefixes`) is in `listed`, the list the functions hand its machines (a name missing
    /// there is a setting silently ignored). `example`, a name the sources do read, proves the
    /// scan finds names at all. The error names what is wrong.
    pub fn settings_listed(
        sources: &[&str],
        prefixes: &[&str],
        listed: &[&str],
        example: &str,
    ) -> Result<(), String> {
        let read: Vec<&str> = sources
            .iter()
            .flat_map(|s| quoted_settings(s, prefixes))
            .collect();
        if !read.contains(&example) {
            return Err(format!(
                "the scan did not find {example}; it found {read:?}"
            ));
        }
        let missing: Vec<&str> = read.into_iter().filter(|n| !listed.contains(n)).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("read but not listed: {missing:?}"))
        }
    }

    /// The invocation's time budget in milliseconds (FUNCTION_BUDGET_MS; unset or blank: 9000):
    /// Twilio stops a Function after 10 s, so at most 9500, leaving time to answer.
    pub fn function_budget_ms(text: Option<&str>) -> Result<u32, EnvError> {
        given(text).map_or(Ok(9000), |v| whole_number("FUNCTION_BUDGET_MS", v, 1, 9500))
    }

    /// How requests Twilio refused with 429 or 503 (it did not carry them out) are repeated: up to
    /// `limit` times, waiting a random time from `min_ms` to a bound that doubles per attempt up
    /// to `max_ms` (TWILIO_SERVICE_RETRY_LIMIT, TWILIO_SERVICE_MIN_BACKOFF,
    /// TWILIO_SERVICE_MAX_BACKOFF; defaults 5, 100 and 1000 ms: the 1 s cap lets a write wait out
    /// Sync's throttle of a 10 KiB object, 2 writes/s).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Retry {
        pub limit: u32,
        pub min_ms: u32,
        pub max_ms: u32,
    }

    impl Retry {
        /// The settings from `lookup` (unset or blank: the default); a value that is not a whole
        /// number in range, or a maximum below the minimum, is an error naming its variable.
        pub fn from_env<'a>(lookup: impl Fn(&str) -> Option<&'a str>) -> Result<Retry, EnvError> {
            // More retries than fit in a Function's 10 s are pointless; longer waits too.
            let read = |variable: &'static str, default: u32, max: u32| {
                given(lookup(variable)).map_or(Ok(default), |v| whole_number(variable, v, 0, max))
            };
            let retry = Retry {
                limit: read("TWILIO_SERVICE_RETRY_LIMIT", 5, 20)?,
                min_ms: read("TWILIO_SERVICE_MIN_BACKOFF", 100, 10_000)?,
                max_ms: read("TWILIO_SERVICE_MAX_BACKOFF", 1000, 10_000)?,
            };
            if retry.max_ms < retry.min_ms {
                let given = lookup("TWILIO_SERVICE_MAX_BACKOFF").unwrap_or_default();
                return Err(EnvError::new(
                    "TWILIO_SERVICE_MAX_BACKOFF",
                    given,
                    format!("is below TWILIO_SERVICE_MIN_BACKOFF ({} ms)", retry.min_ms),
                ));
            }
            Ok(retry)
        }

        /// Whether a request Twilio answered with HTTP `status` is repeated: 429 (too many
        /// requests) and 503 (unavailable) mean it was not carried out. Anything else (a timeout,
        /// another error) may have been, so it is not.
        pub fn retried(status: Option<u16>) -> bool {
            matches!(status, Some(429 | 503))
        }

        /// The wait in ms before repeating a request whose attempt `attempt` (0: the first
        /// request) was refused, or `None` when `limit` repeats were made already. `unit` is a
        /// random number from 0 to 1 (outside that range it is clamped): the wait is `min_ms`
        /// plus `unit` times the distance to a bound that doubles per attempt, `min_ms` *
        /// 2^attempt, capped at `max_ms`.
        pub fn delay_ms(&self, attempt: u32, unit: f64) -> Option<u64> {
            if attempt >= self.limit {
                return None;
            }
            let min = u64::from(self.min_ms);
            let max = u64::from(self.max_ms).max(min);
            let doubled = 1u64
                .checked_shl(attempt)
                .map_or(u64::MAX, |f| min.saturating_mul(f));
            let bound = doubled.min(max);
            let unit = if unit.is_nan() {
                0.0
            } else {
                unit.clamp(0.0, 1.0)
            };
            // bound - min <= 10_000 ms, exact in f64; the product is within 0..=bound - min.
            Some(min + (unit * (bound - min) as f64) as u64)
        }
    }

    /// TWILIO_REGION and TWILIO_EDGE (each `None` when unset or blank): every request goes to
    /// `<product>[.<edge>].<region>.twilio.com` (region us1 when only the edge is set), and
    /// Sync tokens name the region.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Regional {
        pub region: Option<String>,
        pub edge: Option<String>,
    }

    impl Regional {
        /// The settings from `lookup`; a Region that is not two letters and a digit (us1, ie1,
        /// au1) or an Edge that is not lowercase words joined by `-` (dublin, sydney) is an
        /// error naming its variable.
        pub fn from_env<'a>(
            lookup: impl Fn(&str) -> Option<&'a str>,
        ) -> Result<Regional, EnvError> {
            let region = given(lookup("TWILIO_REGION"));
            if let Some(r) = region {
                let b = r.as_bytes();
                if !(b.len() == 3
                    && b[..2].iter().all(u8::is_ascii_lowercase)
                    && b[2].is_ascii_digit())
                {
                    return Err(EnvError::must_be(
                        "TWILIO_REGION",
                        r,
                        "a Twilio Region such as us1, ie1 or au1",
                    ));
                }
            }
            let edge = given(lookup("TWILIO_EDGE"));
            if let Some(e) = edge {
                let words = e
                    .split('-')
                    .all(|w| !w.is_empty() && w.bytes().all(|c| c.is_ascii_lowercase()));
                if !words {
                    return Err(EnvError::must_be(
                        "TWILIO_EDGE",
                        e,
                        "a Twilio Edge location such as dublin or sydney",
                    ));
                }
            }
            Ok(Regional {
                region: region.map(str::to_string),
                edge: edge.map(str::to_string),
            })
        }

        /// The host of Twilio `product` (`api`, `sync`, `iam`…): `<product>.twilio.com` when
        /// neither is set, else `<product>[.<edge>].<region or us1>.twilio.com`; IAM in us1
        /// without an edge is `iam.twilio.com` (its only us1 host).
        pub fn host(&self, product: &str) -> String {
            if self.region.is_none() && self.edge.is_none() {
                return format!("{product}.twilio.com");
            }
            let region = self.region.as_deref().unwrap_or("us1");
            if product == "iam" && region == "us1" && self.edge.is_none() {
                return "iam.twilio.com".to_string();
            }
            match &self.edge {
                Some(edge) => format!("{product}.{edge}.{region}.twilio.com"),
                None => format!("{product}.{region}.twilio.com"),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn shared_readers() {
            assert_eq!(given(Some("  ")), None);
            assert_eq!(given(Some(" x ")), Some("x"));
            assert_eq!(list(" Offline, ,Break ,"), ["Offline", "Break"]);
            assert_eq!(whole_number("N", "400", 1, 3660), Ok(400));
            let bad = whole_number("QUEUE_HISTORY_RETENTION_DAYS", "0", 1, 3660).unwrap_err();
            assert_eq!(
                bad.to_string(),
                "QUEUE_HISTORY_RETENTION_DAYS=\"0\" is not a whole number from 1 to 3660"
            );
            assert!(whole_number("N", "-1", 0, 5).is_err());
            assert!(whole_number("N", "1.5", 0, 5).is_err());
        }

        #[test]
        fn the_function_budget_is_read_or_refused_by_name() {
            assert_eq!(function_budget_ms(None), Ok(9000));
            assert_eq!(function_budget_ms(Some(" ")), Ok(9000));
            assert_eq!(function_budget_ms(Some("1500")), Ok(1500));
            for bad in ["0", "10000", "9s", "-5"] {
                let e = function_budget_ms(Some(bad)).unwrap_err();
                assert_eq!(e.variable, "FUNCTION_BUDGET_MS", "{bad}");
            }
        }

        #[test]
        fn settings_listed_names_a_setting_read_but_not_listed() {
            let source = r#"env.get("APP_A"); env.get("APP_B"); let x = "app_c"; "OTHER_D""#;
            assert_eq!(
                settings_listed(&[source], &["APP_"], &["APP_A", "APP_B"], "APP_A"),
                Ok(())
            );
            let err = settings_listed(&[source], &["APP_"], &["APP_A"], "APP_A").unwrap_err();
            assert!(err.contains("APP_B"), "{err}");
            assert!(settings_listed(&[source], &["APP_"], &["APP_A", "APP_B"], "APP_Z").is_err());
        }

        #[test]
        fn retry_settings_are_read_or_refused_by_name() {
            let env = |pairs: &'static [(&'static str, &'static str)]| {
                move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
            };
            let defaults = Retry::from_env(env(&[])).unwrap();
            assert_eq!(
                (defaults.limit, defaults.min_ms, defaults.max_ms),
                (5, 100, 1000)
            );
            let set = Retry::from_env(env(&[
                ("TWILIO_SERVICE_RETRY_LIMIT", "0"),
                ("TWILIO_SERVICE_MIN_BACKOFF", " 1 "),
                ("TWILIO_SERVICE_MAX_BACKOFF", "5"),
            ]))
            .unwrap();
            assert_eq!((set.limit, set.min_ms, set.max_ms), (0, 1, 5));
            let bad = Retry::from_env(env(&[("TWILIO_SERVICE_RETRY_LIMIT", "five")])).unwrap_err();
            assert_eq!(bad.variable, "TWILIO_SERVICE_RETRY_LIMIT");
            let bad = Retry::from_env(env(&[("TWILIO_SERVICE_MIN_BACKOFF", "-1")])).unwrap_err();
            assert_eq!(bad.variable, "TWILIO_SERVICE_MIN_BACKOFF");
            let bad = Retry::from_env(env(&[("TWILIO_SERVICE_MAX_BACKOFF", "50")])).unwrap_err();
            assert_eq!(
                bad.to_string(),
                "TWILIO_SERVICE_MAX_BACKOFF=\"50\" is below TWILIO_SERVICE_MIN_BACKOFF (100 ms)"
            );
        }

        #[test]
        fn retried_are_429_and_503_alone() {
            assert!(Retry::retried(Some(429)));
            assert!(Retry::retried(Some(503)));
            for other in [
                None,
                Some(200),
                Some(400),
                Some(409),
                Some(500),
                Some(502),
                Some(504),
            ] {
                assert!(!Retry::retried(other), "{other:?}");
            }
        }

        #[test]
        fn the_delay_grows_from_min_doubling_to_max_and_ends_at_the_limit() {
            let r = Retry {
                limit: 5,
                min_ms: 100,
                max_ms: 1000,
            };
            // unit 0: the minimum; unit 1: the bound, 100 * 2^attempt capped at 1000.
            let low: Vec<_> = (0..6).map(|a| r.delay_ms(a, 0.0)).collect();
            assert_eq!(
                low,
                [Some(100), Some(100), Some(100), Some(100), Some(100), None]
            );
            let high: Vec<_> = (0..6).map(|a| r.delay_ms(a, 1.0)).collect();
            assert_eq!(
                high,
                [Some(100), Some(200), Some(400), Some(800), Some(1000), None]
            );
            assert_eq!(r.delay_ms(2, 0.5), Some(250));
            // Out of range units are clamped; huge attempts do not overflow.
            assert_eq!(r.delay_ms(3, f64::NAN), Some(100));
            assert_eq!(r.delay_ms(3, -2.0), Some(100));
            assert_eq!(r.delay_ms(3, 7.0), Some(800));
            let many = Retry {
                limit: u32::MAX,
                min_ms: 10_000,
                max_ms: 10_000,
            };
            assert_eq!(many.delay_ms(200, 0.9), Some(10_000));
            assert_eq!(many.delay_ms(63, 1.0), Some(10_000));
            let none = Retry {
                limit: 0,
                min_ms: 1,
                max_ms: 5,
            };
            assert_eq!(none.delay_ms(0, 0.5), None);
        }

        #[test]
        fn region_and_edge_are_read_or_refused_by_name() {
            let env = |region: Option<&'static str>, edge: Option<&'static str>| {
                move |k: &str| match k {
                    "TWILIO_REGION" => region,
                    "TWILIO_EDGE" => edge,
                    _ => None,
                }
            };
            assert_eq!(
                Regional::from_env(env(None, Some(" "))),
                Ok(Regional::default())
            );
            let ie = Regional::from_env(env(Some(" ie1 "), Some("dublin"))).unwrap();
            assert_eq!(
                (ie.region.as_deref(), ie.edge.as_deref()),
                (Some("ie1"), Some("dublin"))
            );
            let edge = Regional::from_env(env(None, Some("sao-paulo"))).unwrap();
            assert_eq!(edge.edge.as_deref(), Some("sao-paulo"));
            let bad = Regional::from_env(env(Some("Ireland"), None)).unwrap_err();
            assert_eq!(bad.variable, "TWILIO_REGION");
            assert_eq!(
                bad.to_string(),
                "TWILIO_REGION must be a Twilio Region such as us1, ie1 or au1 (got \"Ireland\")"
            );
            for region in ["IE1", "ie", "ie12", "1e1", "ié1"] {
                assert!(
                    Regional::from_env(env(Some(region), None)).is_err(),
                    "{region}"
                );
            }
            let bad = Regional::from_env(env(Some("au1"), Some("Sydney"))).unwrap_err();
            assert_eq!(
                bad.to_string(),
                "TWILIO_EDGE must be a Twilio Edge location such as dublin or sydney (got \"Sydney\")"
            );
            for edge in ["-dublin", "dublin-", "a--b", "dub lin", "dublin1"] {
                let e = Regional::from_env(env(None, Some(edge))).unwrap_err();
                assert_eq!(e.variable, "TWILIO_EDGE", "{edge}");
            }
        }

        #[test]
        fn a_product_host_names_edge_and_region() {
            let at = |region: Option<&str>, edge: Option<&str>| Regional {
                region: region.map(str::to_string),
                edge: edge.map(str::to_string),
            };
            assert_eq!(at(None, None).host("api"), "api.twilio.com");
            assert_eq!(at(None, None).host("iam"), "iam.twilio.com");
            assert_eq!(at(Some("ie1"), None).host("sync"), "sync.ie1.twilio.com");
            assert_eq!(
                at(Some("ie1"), Some("dublin")).host("iam"),
                "iam.dublin.ie1.twilio.com"
            );
            assert_eq!(
                at(None, Some("sydney")).host("api"),
                "api.sydney.us1.twilio.com"
            );
            assert_eq!(at(Some("us1"), None).host("api"), "api.us1.twilio.com");
            // IAM has no iam.us1.twilio.com: us1 without an edge is iam.twilio.com.
            assert_eq!(at(Some("us1"), None).host("iam"), "iam.twilio.com");
            assert_eq!(
                at(Some("us1"), Some("ashburn")).host("iam"),
                "iam.ashburn.us1.twilio.com"
            );
        }

        #[test]
        fn env_errors_read_value_first_or_must_be() {
            let e = EnvError::new("N", "x", "is not a number");
            assert_eq!(e.to_string(), "N=\"x\" is not a number");
            let e = EnvError::must_be("N", "x", "a number");
            assert_eq!(e.to_string(), "N must be a number (got \"x\")");
            assert_eq!(e.code(), "invalid_config");
        }
    }
}

/// Escaping for TwiML: correct for any Rust string (parking and voicemail write TwiML).
pub mod xml {
    /// Whether XML 1.0 allows `c` in a document at all (the `Char` production).
    pub fn is_xml_char(c: char) -> bool {
        matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    }

    /// Escapes character data (element text). `>` is escaped too, so `]]>` cannot appear.
    /// Characters XML cannot carry at all are written as U+FFFD.
    pub fn text(s: &str) -> String {
        escape(s, false)
    }

    /// Escapes an attribute value for use between double quotes; whitespace other than space is
    /// written as a character reference so that attribute-value normalization keeps it.
    pub fn attr(s: &str) -> String {
        escape(s, true)
    }

    fn escape(s: &str, attribute: bool) -> String {
        let mut out = String::with_capacity(s.len() + 16);
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' if attribute => out.push_str("&quot;"),
                '\t' if attribute => out.push_str("&#9;"),
                '\n' if attribute => out.push_str("&#10;"),
                '\r' => out.push_str("&#13;"),
                c if !is_xml_char(c) => out.push('\u{FFFD}'),
                c => out.push(c),
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn escapes_markup_and_cdata_end() {
            assert_eq!(text("a<b&c]]>d"), "a&lt;b&amp;c]]&gt;d");
            assert_eq!(attr("say \"hi\"\n"), "say &quot;hi&quot;&#10;");
            assert_eq!(text("é😀"), "é😀");
        }

        #[test]
        fn forbidden_characters_never_reach_the_document() {
            assert_eq!(text("a\u{0}b\u{FFFF}"), "a\u{FFFD}b\u{FFFD}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sids() {
        let good = format!("CA{}", "a1".repeat(16));
        assert!(sid::is_sid(&good, "CA"));
        assert!(!sid::is_sid(&good, "WK"));
        assert!(!sid::is_sid("CAxyz", "CA"));
        assert!(!sid::is_sid(&format!("CA{}", "g".repeat(32)), "CA"));
        assert!(!sid::is_sid(&"é".repeat(17), "CA"));
    }

    #[test]
    fn instants() {
        let at = instant::from_millis(1_714_564_800_123.0).expect("valid");
        assert_eq!(instant::iso_millis(at), "2024-05-01T12:00:00.123Z");
        assert_eq!(instant::iso_seconds(at), "2024-05-01T12:00:00Z");
        assert_eq!(instant::parse("2024-05-01T14:00:00.123+02:00"), Some(at));
        assert_eq!(instant::parse("1714564800123"), Some(at));
        assert_eq!(instant::parse("yesterday"), None);
        let last = instant::from_millis(253_402_300_799_999.0).expect("the last RFC 3339 instant");
        assert_eq!(instant::iso_millis(last), "9999-12-31T23:59:59.999Z");
        let first =
            instant::from_millis(-62_167_219_200_000.0).expect("the first RFC 3339 instant");
        assert_eq!(instant::iso_millis(first), "0000-01-01T00:00:00.000Z");
        for bad in [
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            1e300,
            -8.7e15,
            -2_023_837_353_999_035.3,
            253_402_300_800_000.0,
        ] {
            assert_eq!(instant::from_millis(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), p in "[A-Z]{0,3}", ms in any::<f64>()) {
            let _ = sid::is_sid(&s, &p);
            let _ = instant::parse(&s);
            if let Some(at) = instant::from_millis(ms) {
                prop_assert_eq!(instant::parse(&instant::iso_millis(at)), Some(at));
            }
        }
    }
    #[test]
    fn a_setting_is_read_under_its_canonical_name_or_an_alias() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
        };
        let found = |variable: &str, value: &str| {
            Ok(Some(env::Setting {
                variable: variable.to_string(),
                value: value.to_string(),
            }))
        };
        // The alias alone works, asked for by either name.
        let alias_only = env(&[("TWILIO_FLEX_WORKSPACE_SID", " WS1 ")]);
        assert_eq!(
            env::setting("WORKSPACE_SID", alias_only),
            found("TWILIO_FLEX_WORKSPACE_SID", "WS1")
        );
        assert_eq!(
            env::setting("TWILIO_FLEX_WORKSPACE_SID", alias_only),
            found("TWILIO_FLEX_WORKSPACE_SID", "WS1")
        );
        // Two Sync settings, not one: different services are fine.
        let services = env(&[("SYNC_SERVICE_SID", "IS1"), ("TWILIO_FLEX_SYNC_SID", "IS2")]);
        assert_eq!(
            env::setting("TWILIO_FLEX_SYNC_SID", services),
            found("TWILIO_FLEX_SYNC_SID", "IS2")
        );
        // Both set to the same value: the canonical name is the one reported.
        let both = env(&[
            ("WORKSPACE_SID", "WS1"),
            ("TWILIO_FLEX_WORKSPACE_SID", "WS1"),
        ]);
        assert_eq!(
            env::setting("TWILIO_FLEX_WORKSPACE_SID", both),
            found("WORKSPACE_SID", "WS1")
        );
        // A blank canonical value is unset: the alias is used.
        let blank = env(&[("API_KEY", "  "), ("TWILIO_API_KEY", "SK1")]);
        assert_eq!(
            env::setting("API_KEY", blank),
            found("TWILIO_API_KEY", "SK1")
        );
        // Different values: refused, naming both variables and the name to keep.
        let clash = env(&[("API_SECRET", "a"), ("TWILIO_API_SECRET", "b")]);
        let err = env::setting("API_SECRET", clash).unwrap_err();
        assert_eq!(
            err.to_string(),
            "API_SECRET and TWILIO_API_SECRET name the same setting with different values: set only API_SECRET"
        );
        // Unset under every name, and a name that has no aliases.
        assert_eq!(env::setting("SYNC_SERVICE_SID", env(&[])), Ok(None));
        // `required` and `optional`: the value, or an error naming the setting (never a value).
        assert_eq!(
            env::required("TWILIO_FLEX_WORKSPACE_SID", alias_only),
            Ok("WS1".to_string())
        );
        assert_eq!(env::optional("SYNC_SERVICE_SID", env(&[])), Ok(None));
        let unset = env::required("TWILIO_FLEX_WORKSPACE_SID", env(&[])).unwrap_err();
        assert_eq!(unset.variable, "WORKSPACE_SID");
        assert_eq!(
            unset.to_string(),
            "Server misconfigured: the environment variable WORKSPACE_SID (or its alias TWILIO_FLEX_WORKSPACE_SID) is not set (see .env.example)."
        );
        let unset = env::required("TWILIO_FLEX_SYNC_SID", env(&[])).unwrap_err();
        assert_eq!(
            (unset.variable, unset.to_string().as_str()),
            ("TWILIO_FLEX_SYNC_SID", "Server misconfigured: the environment variable TWILIO_FLEX_SYNC_SID is not set (see .env.example).")
        );
        // `flex_services`: the workspace (under its alias too) and Flex's Sync service.
        let flex = env(&[
            ("TWILIO_FLEX_WORKSPACE_SID", "WS1"),
            ("TWILIO_FLEX_SYNC_SID", "IS1"),
        ]);
        assert_eq!(env::flex_services(flex), Ok(("WS1".into(), "IS1".into())));
        let no_sync = env::flex_services(alias_only).unwrap_err();
        assert_eq!(no_sync.variable, "TWILIO_FLEX_SYNC_SID");
        let clash = env::required("API_SECRET", clash).unwrap_err();
        assert_eq!(
            (clash.variable, clash.code()),
            ("API_SECRET", "invalid_config")
        );
        assert_eq!(
            clash.to_string(),
            "Server misconfigured: API_SECRET and TWILIO_API_SECRET name the same setting with different values: set only API_SECRET."
        );
        assert_eq!(
            env::setting("WALLBOARD_KEY", env(&[("WALLBOARD_KEY", "k")])),
            found("WALLBOARD_KEY", "k")
        );
        assert_eq!(
            env::names("TWILIO_API_KEY"),
            ("API_KEY", vec!["API_KEY", "TWILIO_API_KEY"])
        );
        // Every alias belongs to one canonical name only, and no canonical name is another's alias.
        let all: Vec<&str> = env::ALIASES
            .iter()
            .flat_map(|(c, a)| std::iter::once(*c).chain(a.iter().copied()))
            .collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn the_board_has_a_service_of_its_own_or_none() {
        let board = |pairs: &[(&str, &'static str)]| {
            let pairs = pairs.to_vec();
            env::board_service(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
        };
        let own = [
            ("WALLBOARD_SYNC_SID", " IS1 "),
            ("TWILIO_FLEX_SYNC_SID", "IS2"),
        ];
        assert_eq!(board(&own), Some("IS1".to_string()));
        assert_eq!(board(&[]), None);
        assert_eq!(board(&[("WALLBOARD_SYNC_SID", "  ")]), None);
        let flex = [
            ("WALLBOARD_SYNC_SID", "IS1"),
            ("TWILIO_FLEX_SYNC_SID", "IS1"),
        ];
        assert_eq!(board(&flex), None, "Flex's service is not the board's");
        let parking = [("WALLBOARD_SYNC_SID", "IS1"), ("SYNC_SERVICE_SID", "IS1 ")];
        assert_eq!(
            board(&parking),
            None,
            "parking's service is not the board's"
        );
    }
}
