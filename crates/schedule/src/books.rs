//! The deployed configs a container keeps loaded, by key (a config version, or `asset` for the
//! shipped file): check-schedule loads the running config once per version and answers from it
//! (`functions/common/schedule-config`). At most [`BOOKS_KEPT`]: a local publish (the emulator)
//! makes a new version, and the oldest loaded goes.

use thiserror::Error;

use crate::LazyBook;

/// How many configs a container keeps loaded.
pub const BOOKS_KEPT: usize = 4;

/// A check asked of a key no config is loaded under.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no schedule config is loaded under {0:?}: load its text first")]
pub struct NotLoaded(pub String);

impl wasm_face::FaceError for NotLoaded {
    fn code(&self) -> &'static str {
        "config_not_loaded"
    }
    /// The caller's glue skipped the load: the service's fault.
    fn status(&self) -> u16 {
        500
    }
}

/// Loaded configs, oldest first.
#[derive(Debug, Default)]
pub struct Books {
    loaded: Vec<(String, LazyBook)>,
}

impl Books {
    pub fn new() -> Books {
        Books::default()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.loaded.iter().position(|(k, _)| k == key)
    }

    /// Whether a config is loaded under `key`.
    pub fn has(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Loads `json` tolerantly ([`LazyBook::load`]) under `key`, replacing what was under it;
    /// past [`BOOKS_KEPT`] the oldest loaded is dropped.
    pub fn load(&mut self, key: &str, json: &str) {
        // `remove` alone (no `retain`): less code for check-schedule's cold start to compile.
        match self.position(key) {
            Some(at) => drop(self.loaded.remove(at)),
            None if self.loaded.len() >= BOOKS_KEPT => drop(self.loaded.remove(0)),
            None => {}
        }
        self.loaded.push((key.to_string(), LazyBook::load(json)));
    }

    /// The keys loaded, oldest first.
    pub fn keys(&self) -> Vec<&str> {
        self.loaded.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The config loaded under `key`.
    pub fn get_mut(&mut self, key: &str) -> Result<&mut LazyBook, NotLoaded> {
        let at = self.position(key);
        at.and_then(|at| self.loaded.get_mut(at))
            .map(|(_, book)| book)
            .ok_or_else(|| NotLoaded(key.to_string()))
    }

    /// check-schedule's whole answer (`HttpAnswer::to_json`) from the config under `key`.
    pub fn check(
        &mut self,
        key: &str,
        name: Option<&str>,
        simulate: Option<&str>,
        now_ms: f64,
    ) -> Result<String, NotLoaded> {
        let book = self.get_mut(key)?.book_for(name.unwrap_or_default());
        Ok(book.respond(name, simulate, now_ms).to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    const NOW: f64 = 1_795_000_000_000.0; // 2026-11-18

    fn config(name: &str, open: bool) -> String {
        json!({
            "rules": [{"id": "r", "name": "All day", "isOpen": open, "closedReason": "shut"}],
            "schedules": [{"name": name, "manualClose": false, "timeZone": "UTC", "rules": ["r"]}],
        })
        .to_string()
    }

    fn answer(books: &mut Books, key: &str, name: &str) -> Value {
        let text = books.check(key, Some(name), None, NOW).expect("loaded");
        serde_json::from_str(&text).expect("json")
    }

    #[test]
    fn a_loaded_config_answers_under_its_key() {
        let mut books = Books::new();
        assert!(!books.has("asset"));
        books.load("asset", &config("Support", true));
        books.load("ZN1", &config("Support", false));
        assert!(books.has("asset") && books.has("ZN1"));
        assert_eq!(
            answer(&mut books, "asset", "Support")["body"]["isOpen"],
            json!(true)
        );
        let closed = answer(&mut books, "ZN1", "Support");
        assert_eq!(closed["status"], json!(200));
        assert_eq!(closed["body"]["closedReason"], json!("shut"));
        assert_eq!(answer(&mut books, "ZN1", "Sales")["status"], json!(404));
        let missing = books.check("ZN1", None, None, NOW).expect("loaded");
        assert!(missing.contains("400"), "{missing}");
    }

    #[test]
    fn a_key_not_loaded_is_an_error_naming_it() {
        let mut books = Books::new();
        let err = books.check("ZN9", Some("Support"), None, NOW).unwrap_err();
        assert_eq!(err, NotLoaded("ZN9".into()));
        assert!(err.to_string().contains("\"ZN9\""));
        assert_eq!(wasm_face::FaceError::status(&err), 500);
    }

    #[test]
    fn past_four_the_oldest_goes_and_a_reload_replaces() {
        let mut books = Books::new();
        for key in ["a", "b", "c", "d"] {
            books.load(key, &config("S", true));
        }
        assert_eq!(books.keys(), ["a", "b", "c", "d"]);
        books.load("b", &config("S", false));
        assert_eq!(
            books.keys(),
            ["a", "c", "d", "b"],
            "replaced, now the newest"
        );
        assert_eq!(answer(&mut books, "b", "S")["body"]["isOpen"], json!(false));
        books.load("e", &config("S", true));
        assert_eq!(books.keys(), ["c", "d", "b", "e"]);
        assert!(!books.has("a"));
    }

    #[test]
    fn a_broken_text_loads_and_fails_its_schedules_open() {
        let mut books = Books::new();
        books.load("bad", "{\"rules\": [");
        let broken = answer(&mut books, "bad", "Support");
        assert_eq!(broken["status"], json!(500));
        assert_eq!(broken["body"]["isOpen"], json!(true));
    }
}
