//! Backfill once: the claim rules that make each missing hour fetched from TaskRouter by one
//! request, however many requests (in one container or several) ask for it at the same time.
//!
//! Before closing an hour, a request **claims** it: it creates the item `<hour key>` in the Sync
//! map [`CLAIMS_MAP`] (a create of an existing key fails, so exactly one creator wins), with the
//! data of [`Claim`]. A claim is **held** until its lease ends (`untilMs`); a claim whose lease has
//! ended is **stale** and may be taken over by updating it with `If-Match` on the revision read
//! (two takers: one update wins, the other gets 412 and leaves the hour). Within a container, a
//! request that finds an hour being closed by another request of the same container waits for
//! that work instead (the shim's in-flight map); `owner` is the container.
//!
//! Lease lengths: [`BACKFILL_LEASE_MS`] is longer than a Function may run (10 s), so a claim is
//! never stale while its request can still be working; the event callback's hook closes an hour
//! over several events and holds its claim for [`HOOK_LEASE_MS`]. Claims carry a Sync TTL of
//! [`CLAIM_TTL_S`] so they disappear on their own; whether an hour is done is read from its stored
//! items, never from a claim.
//!
//! Order: missing hours newest first (the hours a supervisor looks at first); a request starts a
//! new hour only while at least [`MIN_START_MS`] of its time budget is left, and every hour it did
//! not get to, or that another request holds, is answered as missing with the code `pending`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Sync map of claims.
pub const CLAIMS_MAP: &str = "queueHistoryClaims";
/// A backfill request's lease: longer than a Function's 10 s.
pub const BACKFILL_LEASE_MS: f64 = 20_000.0;
/// The event hook's lease: it closes an hour a few queues per event.
pub const HOOK_LEASE_MS: f64 = 300_000.0;
/// Sync deletes a claim after this many seconds (Sync's `ItemTtl`).
pub const CLAIM_TTL_S: u32 = 3600;
/// A request does not start closing another hour with less time than this left.
pub const MIN_START_MS: f64 = 3000.0;

/// Who closes an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Backfill,
    Hook,
}

/// The data of a claim item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    pub hour: String,
    pub owner: String,
    pub kind: Kind,
    pub at_ms: f64,
    pub until_ms: f64,
    /// The request (run) of `owner` holding it, when a backfill: another request of the same
    /// container must not close the hour a second time while this one works on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

/// The claim key of the hour starting at `start` (UTC, sorts by time).
pub fn claim_key(start: DateTime<Utc>) -> String {
    start.format("%Y%m%dT%H%MZ").to_string()
}

/// A new claim (or a take-over) of `hour` by `owner` at `now_ms`.
pub fn new_claim(hour: &str, owner: &str, kind: Kind, now_ms: f64) -> Claim {
    let lease = match kind {
        Kind::Backfill => BACKFILL_LEASE_MS,
        Kind::Hook => HOOK_LEASE_MS,
    };
    Claim {
        hour: hour.to_string(),
        owner: owner.to_string(),
        kind,
        at_ms: now_ms,
        until_ms: now_ms + lease,
        run: None,
    }
}

/// [`new_claim`] by the request `run` of `owner` ([`state_of_run`] tells the container's other
/// requests it is held).
pub fn new_run_claim(hour: &str, owner: &str, run: &str, kind: Kind, now_ms: f64) -> Claim {
    Claim {
        run: Some(run.to_string()),
        ..new_claim(hour, owner, kind, now_ms)
    }
}

/// What an existing claim item means for `owner` at `now_ms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum State {
    /// No claim: create one.
    Free,
    /// Claimed by this owner (another request of the same container, or an earlier one).
    Mine,
    /// Claimed by another owner whose lease has not ended: leave the hour.
    Held { owner: String, until_ms: f64 },
    /// The lease ended (or the claim is unreadable): take it over with If-Match.
    Stale,
}

/// The state of the claim `existing` (its data, if any) for `owner` at `now_ms`.
pub fn state(existing: Option<&Value>, owner: &str, now_ms: f64) -> State {
    state_of_run(existing, owner, None, now_ms)
}

/// [`state`] for the request `run` of `owner`: a live claim of the same owner by another
/// request (a claim naming another run, or the event hook's, which names none) is held, not
/// mine. `run: None` (the event hook, which closes an hour over several events) takes any live
/// claim of its owner as its own.
pub fn state_of_run(
    existing: Option<&Value>,
    owner: &str,
    run: Option<&str>,
    now_ms: f64,
) -> State {
    let Some(v) = existing else {
        return State::Free;
    };
    let Ok(claim) = serde_json::from_value::<Claim>(v.clone()) else {
        return State::Stale;
    };
    if !claim.until_ms.is_finite() || claim.until_ms <= now_ms {
        State::Stale
    } else if claim.owner == owner && (run.is_none() || claim.run.as_deref() == run) {
        State::Mine
    } else {
        State::Held {
            owner: claim.owner,
            until_ms: claim.until_ms,
        }
    }
}

/// What a request does with one missing hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub hour: String,
    /// The claim item's key.
    pub key: String,
    /// `create` (no claim), `update` (stale or own claim: If-Match on its revision) or `skip`.
    pub action: &'static str,
}

/// The steps for `hours` (bucket starts) given the claims read (`key` → data), newest first.
/// Hours that are not instants are left out.
pub fn plan(
    hours: &[String],
    claims: &BTreeMap<String, Value>,
    owner: &str,
    now_ms: f64,
) -> Vec<Step> {
    plan_for_run(hours, claims, owner, None, now_ms)
}

/// [`plan`] for the request `run` of `owner` ([`state_of_run`]).
pub fn plan_for_run(
    hours: &[String],
    claims: &BTreeMap<String, Value>,
    owner: &str,
    run: Option<&str>,
    now_ms: f64,
) -> Vec<Step> {
    let mut starts: Vec<(DateTime<Utc>, &String)> = hours
        .iter()
        .filter_map(|h| {
            DateTime::parse_from_rfc3339(h)
                .ok()
                .map(|d| (d.with_timezone(&Utc), h))
        })
        .collect();
    starts.sort_by_key(|s| std::cmp::Reverse(s.0));
    starts.dedup_by(|a, b| a.0 == b.0);
    starts
        .into_iter()
        .map(|(start, hour)| {
            let key = claim_key(start);
            let action = match state_of_run(claims.get(&key), owner, run, now_ms) {
                State::Free => "create",
                State::Mine | State::Stale => "update",
                State::Held { .. } => "skip",
            };
            Step {
                hour: hour.clone(),
                key,
                action,
            }
        })
        .collect()
}

/// Whether a request with `time_left_ms` of its budget may start closing another hour.
pub fn may_start(time_left_ms: f64) -> bool {
    time_left_ms >= MIN_START_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_800_000_000_000.0;

    #[test]
    fn free_mine_held_and_stale() {
        assert_eq!(state(None, "a", NOW), State::Free);
        let c = serde_json::to_value(new_claim("2026-11-16T14:00:00Z", "a", Kind::Backfill, NOW))
            .unwrap();
        assert_eq!(c["untilMs"], json!(NOW + 20_000.0));
        assert_eq!(state(Some(&c), "a", NOW + 1.0), State::Mine);
        assert_eq!(
            state(Some(&c), "b", NOW + 19_999.0),
            State::Held {
                owner: "a".into(),
                until_ms: NOW + 20_000.0
            }
        );
        // The lease is longer than a Function may run: stale only once it has certainly stopped.
        const { assert!(BACKFILL_LEASE_MS > 10_000.0) };
        assert_eq!(state(Some(&c), "b", NOW + 20_000.0), State::Stale);
        assert_eq!(state(Some(&c), "a", NOW + 20_000.0), State::Stale);
        // The hook holds longer.
        let hook = serde_json::to_value(new_claim("x", "h", Kind::Hook, NOW)).unwrap();
        assert!(matches!(
            state(Some(&hook), "b", NOW + 60_000.0),
            State::Held { .. }
        ));
        // Unreadable claims can be taken over; no panic on any input.
        for junk in [
            json!(null),
            json!("x"),
            json!({"owner": "a"}),
            json!({"hour": 1, "owner": "a", "kind": "backfill", "atMs": 0, "untilMs": "soon"}),
        ] {
            assert_eq!(state(Some(&junk), "b", NOW), State::Stale, "{junk}");
        }
    }

    #[test]
    fn plan_is_newest_first_and_skips_held_hours() {
        let hours: Vec<String> = [
            "2026-11-16T12:00:00Z",
            "2026-11-16T14:00:00Z",
            "2026-11-16T13:00:00Z",
            "2026-11-16T14:00:00Z",
            "soon",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut claims = BTreeMap::new();
        claims.insert(
            "20261116T1300Z".to_string(),
            serde_json::to_value(new_claim(
                "2026-11-16T13:00:00Z",
                "other",
                Kind::Backfill,
                NOW,
            ))
            .unwrap(),
        );
        claims.insert(
            "20261116T1200Z".to_string(),
            serde_json::to_value(new_claim(
                "2026-11-16T12:00:00Z",
                "other",
                Kind::Backfill,
                NOW - 30_000.0,
            ))
            .unwrap(),
        );
        let p = plan(&hours, &claims, "me", NOW);
        let got: Vec<(&str, &str, &str)> = p
            .iter()
            .map(|s| (s.hour.as_str(), s.key.as_str(), s.action))
            .collect();
        assert_eq!(
            got,
            [
                ("2026-11-16T14:00:00Z", "20261116T1400Z", "create"),
                ("2026-11-16T13:00:00Z", "20261116T1300Z", "skip"),
                ("2026-11-16T12:00:00Z", "20261116T1200Z", "update"),
            ]
        );
        assert!(may_start(MIN_START_MS) && !may_start(MIN_START_MS - 1.0) && !may_start(f64::NAN));
    }

    #[test]
    fn another_request_of_the_same_container_holds_its_claim() {
        let c = serde_json::to_value(new_run_claim("h", "me", "r1", Kind::Backfill, NOW)).unwrap();
        assert_eq!(c["run"], json!("r1"));
        assert_eq!(state_of_run(Some(&c), "me", Some("r1"), NOW), State::Mine);
        assert!(matches!(
            state_of_run(Some(&c), "me", Some("r2"), NOW),
            State::Held { .. }
        ));
        // The hook (no run) takes its container's claims as its own; stale is stale for all.
        assert_eq!(state_of_run(Some(&c), "me", None, NOW), State::Mine);
        assert_eq!(
            state_of_run(Some(&c), "me", Some("r2"), NOW + 20_000.0),
            State::Stale
        );
        // The hook's claim (no run) is held for the container's requests, the hook's own.
        let hook = serde_json::to_value(new_claim("h", "me", Kind::Hook, NOW)).unwrap();
        assert!(hook.get("run").is_none());
        assert!(matches!(
            state_of_run(Some(&hook), "me", Some("r2"), NOW),
            State::Held { .. }
        ));
        assert_eq!(state_of_run(Some(&hook), "me", None, NOW), State::Mine);
    }
}
