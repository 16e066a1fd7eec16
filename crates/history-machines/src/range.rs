//! Reading a key range of a Sync map, one page per step: the stored hours of queue history.
//!
//! Sync lists at most 100 items a page ([`PAGE_SIZE`]), in key order from a key. The reader asks
//! for the first page from `from` (inclusive), then for the next page after the last key it got
//! (exclusive), and stops at the first key past `to`, at a short page, or when the map does not
//! exist (404: nothing stored yet). Any other failure is the caller's to answer.

use effects::{Failure, Op, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Sync's largest page of map items.
pub const PAGE_SIZE: u32 = 100;

/// One range being read: where it is, and the items (their keys, data and revisions) so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeRead {
    pub service_sid: String,
    pub map: String,
    pub from: String,
    pub to: String,
    /// The last key read: the next page starts after it.
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub items: Vec<StoredItem>,
}

/// An item of a page as listed, its data left as JSON text.
#[derive(Debug, Deserialize)]
pub struct RawItem<'a> {
    pub key: String,
    #[serde(borrow)]
    pub data: &'a serde_json::value::RawValue,
}

/// An item read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredItem {
    pub key: String,
    pub data: Value,
    #[serde(default)]
    pub revision: Option<String>,
}

impl RangeRead {
    pub fn new(service_sid: &str, map: &str, from: &str, to: &str) -> RangeRead {
        RangeRead {
            service_sid: service_sid.to_string(),
            map: map.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            after: None,
            items: Vec::new(),
        }
    }

    /// The request for the next page.
    pub fn op(&self) -> Op {
        Op::ListSyncItems {
            service_sid: self.service_sid.clone(),
            map: self.map.clone(),
            from: Some(self.after.clone().unwrap_or_else(|| self.from.clone())),
            bounds: self.after.as_ref().map(|_| "exclusive".to_string()),
            order: Some("asc".into()),
            paging: effects::Paging {
                page_size: Some(PAGE_SIZE),
                limit: PAGE_SIZE,
            },
        }
    }

    /// Takes a page's outcome: `Ok(true)` when the range is read, `Ok(false)` when another page
    /// is needed ([`RangeRead::op`]), or the failure.
    pub fn take(&mut self, outcome: Outcome) -> Result<bool, Failure> {
        let Some(page) = outcome.found()? else {
            return Ok(true);
        };
        let list = page.as_array().cloned().unwrap_or_default();
        let mut past = false;
        for item in &list {
            let Some(key) = item.get("key").and_then(Value::as_str) else {
                continue;
            };
            if key > self.to.as_str() {
                past = true;
                continue;
            }
            self.after = Some(key.to_string());
            self.items.push(StoredItem {
                key: key.to_string(),
                data: item.get("data").cloned().unwrap_or(Value::Null),
                revision: item
                    .get("revision")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        let full = u32::try_from(list.len()).is_ok_and(|n| n >= PAGE_SIZE);
        Ok(past || !full || self.after.is_none())
    }

    /// Takes a page given as its items' keys and data texts (a page read without building its
    /// items): the data of the items within the range, and whether the range is read.
    pub fn take_raw<'a>(&mut self, page: &[RawItem<'a>]) -> (Vec<&'a str>, bool) {
        let mut past = false;
        let mut kept = Vec::new();
        for item in page {
            if item.key.as_str() > self.to.as_str() {
                past = true;
                continue;
            }
            self.after = Some(item.key.clone());
            kept.push(item.data.get());
        }
        let full = u32::try_from(page.len()).is_ok_and(|n| n >= PAGE_SIZE);
        (kept, past || !full || self.after.is_none())
    }

    /// The items' data, in key order.
    pub fn data(&self) -> Vec<Value> {
        self.items.iter().map(|i| i.data.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(keys: std::ops::Range<u32>) -> Outcome {
        Outcome::Done(Value::Array(
            keys.map(|k| json!({"key": format!("k{k:04}"), "data": {"n": k}, "revision": "1"}))
                .collect(),
        ))
    }

    #[test]
    fn pages_until_the_end_of_the_range() {
        let mut r = RangeRead::new("IS1", "M", "k0000", "k0150");
        assert_eq!(
            serde_json::to_value(r.op()).expect("json"),
            json!({"kind": "listSyncItems", "serviceSid": "IS1", "map": "M", "from": "k0000",
                "order": "asc", "pageSize": 100, "limit": 100})
        );
        assert_eq!(r.take(page(0..100)), Ok(false));
        assert_eq!(
            serde_json::to_value(r.op()).expect("json")["bounds"],
            json!("exclusive")
        );
        assert_eq!(r.after.as_deref(), Some("k0099"));
        // The next page runs past `to`: done, nothing past it kept.
        assert_eq!(r.take(page(100..200)), Ok(true));
        assert_eq!(r.items.len(), 151);
        assert_eq!(r.data()[150], json!({"n": 150}));
    }

    #[test]
    fn a_short_page_or_no_map_ends_it_and_other_failures_are_returned() {
        let mut r = RangeRead::new("IS1", "M", "a", "z");
        assert_eq!(r.take(page(0..3)), Ok(true));
        let mut none = RangeRead::new("IS1", "M", "a", "z");
        let missing = Failure {
            status: Some(404),
            attempted: true,
            ..Failure::default()
        };
        assert_eq!(none.take(Outcome::Failed(missing)), Ok(true));
        assert!(none.items.is_empty());
        let refused = Failure {
            status: Some(429),
            attempted: true,
            ..Failure::default()
        };
        assert!(none.take(Outcome::Failed(refused)).is_err());
        // Junk pages end the read without a panic.
        assert_eq!(none.take(Outcome::Done(json!({"x": 1}))), Ok(true));
        assert_eq!(none.take(Outcome::Done(json!([1, {"key": 2}]))), Ok(true));
    }
}
