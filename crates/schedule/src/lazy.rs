//! Tolerant loading on demand, for check-schedule's cold start: a [`LazyBook`] reads the
//! document structurally when it loads, and compiles a schedule (its time zone, its rules'
//! RRULEs, their validation) on its first check, keeping the result.
//!
//! The answers are those of [`Book::load`]: a schedule is compiled together with everything of
//! the document its outcome can depend on, at the same positions and under the same limits:
//!
//! - every schedule entry with that name (a repeated name breaks them all);
//! - every rule with an id those entries list (a repeated id breaks the rule);
//! - when one of those rules' `dateRRule` mentions COUNT, every rule before the last such one whose
//!   `dateRRule` mentions COUNT: COUNT rules share one allowance of days in document order, so a
//!   COUNT rule's verdict depends on the COUNT rules before it (and no other rule's does);
//! - the evaluation weight is shared by the schedules in document order too. When even the most
//!   the document's rule references could weigh stays within [`MAX_EVALUATION_WEIGHT`] (a rule
//!   weighs more than 1 only with BYSETPOS), no schedule can exceed it and each is compiled alone;
//!   otherwise the whole document is compiled on the first check, as [`Book::load`] does.
//!
//! A document of at most [`EAGER_MAX_BYTES`] is compiled whole when it loads, as [`Book::load`]
//! does. The size limit and the JSON syntax are checked when the book loads: a document that fails
//! them fails every schedule open at once. [`LazyBook::full`] compiles everything, for
//! `problems()`, `warnings()` and the schedule names.

use std::collections::{HashMap, HashSet};

use crate::config::{Document, Selection, MAX_EVALUATION_WEIGHT};
use crate::json::Json;
use crate::Book;

/// Documents up to this size are compiled whole when they load: the bookkeeping of compiling on
/// demand is code a cold container must compile too, and cost the shipped 3 KB config about
/// 0.5 ms more than compiling its few rules at once (docs/schedule-manager.md, "Cold start").
/// A judgment, not a measured crossover: the largest valid config (227 KB) gains 10 to 20 ms.
pub const EAGER_MAX_BYTES: usize = 16_384;

/// The most a rule reference may weigh (a yearly rule with BYSETPOS; see the config limits).
const MAX_RULE_WEIGHT: u32 = 732;

/// A configuration whose schedules are compiled on their first check; see the module docs.
#[derive(Debug)]
pub struct LazyBook {
    /// `None` once everything is compiled (or the document failed to parse).
    document: Option<Document>,
    /// Whether each schedule can be compiled alone (the weight limit cannot be reached).
    independent: bool,
    /// The names the document's schedule entries carry.
    names: HashSet<String>,
    /// Compiled books, by the schedule name they answer for.
    books: HashMap<String, Book>,
    /// The whole document compiled: a fatal document, a strict book, or after [`LazyBook::full`].
    full: Option<Book>,
    /// The answer for a name no schedule carries (an empty compilation).
    absent: Option<Book>,
}

/// A rule or schedule entry's id or name as the loader keys it: a string, or a number's text.
fn key(value: Option<&Json>) -> Option<String> {
    value.and_then(Json::key_text).map(str::to_string)
}

/// Whether a rule's `dateRRule` text contains `word`, in any case (over-approximating is safe).
fn rrule_mentions(rule: &Json, word: &str) -> bool {
    rule.get("dateRRule")
        .and_then(Json::as_str)
        .is_some_and(|text| text.to_ascii_uppercase().contains(word))
}

impl LazyBook {
    /// Reads the document structurally (a small one is compiled at once); never fails (see
    /// [`Book::load`]).
    pub fn load(json: &str) -> LazyBook {
        Self::load_with(json, EAGER_MAX_BYTES)
    }

    /// [`LazyBook::load`] with documents up to `eager_max_bytes` compiled whole at once.
    pub fn load_with(json: &str, eager_max_bytes: usize) -> LazyBook {
        let mut lazy = LazyBook {
            document: None,
            independent: false,
            names: HashSet::new(),
            books: HashMap::new(),
            full: None,
            absent: None,
        };
        match Book::parse(json) {
            Err(e) => lazy.full = Some(Book::unreadable(e)),
            Ok(document) if json.len() <= eager_max_bytes => {
                lazy.full = Some(Book::compile(&document, None));
            }
            Ok(document) => {
                lazy.names = document
                    .schedules
                    .iter()
                    .filter_map(|s| s.get("name").and_then(|n| n.as_str()).map(str::to_string))
                    .collect();
                lazy.independent = Self::weight_bound(&document) <= MAX_EVALUATION_WEIGHT;
                lazy.document = Some(document);
            }
        }
        lazy
    }

    /// A book already compiled in full (a strictly validated one).
    pub fn ready(book: Book) -> LazyBook {
        LazyBook {
            document: None,
            independent: false,
            names: HashSet::new(),
            books: HashMap::new(),
            full: Some(book),
            absent: None,
        }
    }

    /// The most the document's schedules could weigh in all: each rule reference weighs at most
    /// [`MAX_RULE_WEIGHT`] when a rule with that id mentions BYSETPOS, else at most 1.
    fn weight_bound(document: &Document) -> u32 {
        let heavy: HashSet<String> = document
            .rules
            .iter()
            .filter(|r| rrule_mentions(r, "BYSETPOS"))
            .filter_map(|r| key(r.get("id")))
            .collect();
        document
            .schedules
            .iter()
            .filter_map(|s| s.get("rules").and_then(|r| r.as_array()))
            .flatten()
            .map(|id| match key(Some(id)) {
                Some(id) if heavy.contains(&id) => MAX_RULE_WEIGHT,
                _ => 1,
            })
            .fold(0u32, u32::saturating_add)
    }

    /// What schedule `name`'s outcome depends on (see the module docs).
    fn selection(document: &Document, name: &str) -> Selection {
        let schedules: Vec<bool> = document
            .schedules
            .iter()
            .map(|s| s.get("name").and_then(|n| n.as_str()) == Some(name))
            .collect();
        let ids: HashSet<String> = document
            .schedules
            .iter()
            .zip(&schedules)
            .filter(|(_, &picked)| picked)
            .filter_map(|(s, _)| s.get("rules").and_then(|r| r.as_array()))
            .flatten()
            .filter_map(|id| key(Some(id)))
            .collect();
        let mut rules: Vec<bool> = document
            .rules
            .iter()
            .map(|r| key(r.get("id")).is_some_and(|id| ids.contains(&id)))
            .collect();
        // Only a COUNT rule's verdict depends on the COUNT rules before it.
        let last_count = rules
            .iter()
            .zip(&document.rules)
            .rposition(|(&picked, rule)| picked && rrule_mentions(rule, "COUNT"));
        if let Some(last) = last_count {
            for (picked, rule) in rules.iter_mut().zip(&document.rules).take(last) {
                *picked = *picked || rrule_mentions(rule, "COUNT");
            }
        }
        Selection { rules, schedules }
    }

    /// The book that answers for schedule `name`, compiling it on first use.
    pub fn book_for(&mut self, name: &str) -> &Book {
        if self.full.is_none() && !self.independent {
            return self.full();
        }
        let Some(document) = self.document.as_ref().filter(|_| self.full.is_none()) else {
            return self.full();
        };
        if !self.names.contains(name) {
            return self
                .absent
                .get_or_insert_with(|| Book::compile(document, Some(&Selection::default())));
        }
        self.books
            .entry(name.to_string())
            .or_insert_with(|| Book::compile(document, Some(&Self::selection(document, name))))
    }

    /// The whole document compiled, as [`Book::load`] gives it.
    pub fn full(&mut self) -> &Book {
        let document = self.document.take();
        self.books.clear();
        self.absent = None;
        self.full.get_or_insert_with(|| match document {
            Some(document) => Book::compile(&document, None),
            None => Book::compile(
                &Document {
                    rules: Vec::new(),
                    schedules: Vec::new(),
                },
                None,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::When;
    use serde_json::json;

    /// Every name's answer from the lazy book equals the eager one's, at several instants.
    fn same_answers(text: &str, names: &[&str]) {
        let eager = Book::load(text);
        let mut lazy = LazyBook::load_with(text, 0);
        for name in names {
            for ms in [
                1_733_000_000_000.0,
                1_735_000_000_000.0,
                1_760_000_000_000.0,
            ] {
                let want = serde_json::to_value(eager.respond(Some(name), None, ms)).unwrap();
                let got = serde_json::to_value(lazy.book_for(name).respond(Some(name), None, ms))
                    .unwrap();
                assert_eq!(got, want, "{name} at {ms}");
                let when = When::from_request(None, ms).unwrap();
                assert_eq!(
                    lazy.book_for(name)
                        .status(name, when)
                        .map_err(|e| e.to_string()),
                    eager.status(name, when).map_err(|e| e.to_string())
                );
            }
        }
        let full = lazy.full();
        assert_eq!(full.problems(), eager.problems());
        assert_eq!(full.warnings(), eager.warnings());
        assert_eq!(full.schedule_names(), eager.schedule_names());
    }

    fn rule(id: &str, rrule: &str, open: bool) -> serde_json::Value {
        json!({"id": id, "name": format!("Rule {id}"), "isOpen": open, "dateRRule": rrule,
               "startDate": "2024-01-01", "startTime": "08:00", "endTime": "18:00"})
    }

    fn schedule(name: &str, zone: &str, rules: &[&str]) -> serde_json::Value {
        json!({"name": name, "timeZone": zone, "rules": rules})
    }

    const FRIDAY_13: &str = "RRULE:FREQ=DAILY;COUNT=10000;BYMONTHDAY=13;BYDAY=FR";

    #[test]
    fn broken_rules_duplicates_and_count_allowance_answer_as_the_eager_loader() {
        let text = json!({
            "rules": [
                rule("weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", true),
                rule("c1", FRIDAY_13, false),
                rule("c2", FRIDAY_13, false),
                rule("bad", "FREQ=SOMETIMES", true),
                rule("dup", "FREQ=DAILY", true),
                rule("dup", "FREQ=DAILY", true),
                {"id": 7, "name": "Numeric", "isOpen": true},
                {"id": "shape", "isOpen": "yes"},
                rule("late", "FREQ=DAILY", false),
            ],
            "schedules": [
                schedule("Fine", "Europe/London", &["weekdays", "gone"]),
                schedule("Count1", "America/New_York", &["c1", "weekdays"]),
                schedule("Count2", "America/New_York", &["c2"]),
                schedule("Bad", "UTC", &["bad"]),
                schedule("Dup", "UTC", &["dup"]),
                json!({"name": "Num", "timeZone": "UTC", "rules": [7, "late"]}),
                schedule("Shape", "UTC", &["shape"]),
                schedule("Zone", "Mars/Olympus", &["weekdays"]),
                schedule("Twice", "UTC", &["weekdays"]),
                schedule("Twice", "UTC", &["late"]),
                json!({"name": "NoZone", "rules": []}),
            ]
        })
        .to_string();
        same_answers(
            &text,
            &[
                "Fine", "Count1", "Count2", "Bad", "Dup", "Num", "Shape", "Zone", "Twice",
                "NoZone", "Missing",
            ],
        );
    }

    #[test]
    fn a_count_rule_is_judged_after_the_count_rules_before_it() {
        // Four daily COUNT=10000 rules span the 40,000 days a configuration may: the fifth is
        // refused, though alone it would pass; the schedule using it fails open.
        let mut rules: Vec<_> = (1..=5)
            .map(|i| rule(&format!("d{i}"), "FREQ=DAILY;COUNT=10000", true))
            .collect();
        rules.push(rule("plain", "FREQ=DAILY", true));
        let text = json!({"rules": rules, "schedules": [
            schedule("Fifth", "UTC", &["d5"]),
            schedule("First", "UTC", &["d1"]),
            schedule("Plain", "UTC", &["plain"]),
        ]})
        .to_string();
        let mut lazy = LazyBook::load_with(&text, 0);
        assert!(lazy.book_for("Fifth").broken("Fifth").is_some());
        assert!(lazy.book_for("First").broken("First").is_none());
        // Rules after the last one a schedule uses are not compiled, nor COUNT rules before a
        // rule without COUNT.
        assert_eq!(lazy.book_for("First").rules.len(), 1);
        assert_eq!(lazy.book_for("Plain").rules.len(), 1);
        same_answers(&text, &["Fifth", "First", "Plain"]);
    }

    #[test]
    fn a_document_over_the_weight_bound_is_compiled_whole() {
        let rules = vec![rule(
            "last-workday",
            "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            true,
        )];
        let schedules: Vec<_> = (1..=4)
            .map(|i| schedule(&format!("Y{i}"), "UTC", &["last-workday"]))
            .collect();
        let text = json!({"rules": rules, "schedules": schedules}).to_string();
        let lazy = LazyBook::load_with(&text, 0);
        assert!(!lazy.independent);
        same_answers(&text, &["Y1", "Y3", "Y4"]);
    }

    #[test]
    fn an_unreadable_document_fails_every_schedule_open() {
        for text in ["{", "[]", r#"{"rules": []}"#] {
            same_answers(text, &["Any"]);
        }
        same_answers(
            &format!("{{\"pad\": \"{}\"}}", "x".repeat(300_000)),
            &["Any"],
        );
    }

    #[test]
    fn a_small_document_is_compiled_when_it_loads() {
        let text = json!({"rules": [rule("a", "FREQ=DAILY", true)],
                          "schedules": [schedule("A", "UTC", &["a"])]})
        .to_string();
        let lazy = LazyBook::load(&text);
        assert!(lazy.full.is_some() && lazy.document.is_none());
        let lazy = LazyBook::load_with(&text, 0);
        assert!(lazy.full.is_none() && lazy.document.is_some());
    }

    #[test]
    fn only_the_checked_schedule_is_compiled() {
        let text = json!({
            "rules": [rule("a", "FREQ=DAILY", true), rule("b", "FREQ=WEEKLY;BYDAY=SA", true)],
            "schedules": [schedule("A", "UTC", &["a"]), schedule("B", "Asia/Tokyo", &["b"])]
        })
        .to_string();
        let mut lazy = LazyBook::load_with(&text, 0);
        let book = lazy.book_for("A");
        assert_eq!(book.rules.len(), 1);
        assert_eq!(book.schedule_names(), vec!["A"]);
        same_answers(&text, &["A", "B", "C"]);
    }
}
