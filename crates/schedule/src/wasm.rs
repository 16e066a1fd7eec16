//! The wasm face of the crate: plain JS values in, plain JS objects out.
//!
//! ```js
//! const book = new ScheduleBook(configJsonText);          // throws {code, message} if invalid
//! book.check(name, simulate, Date.now());                 // {status, body} for check-schedule
//! book.isOpen(name, simulate, Date.now());                // {isOpen, closedReason}, throws {code, message}
//! const deployed = ScheduleBook.load(configJsonText);     // tolerant: never throws (deployed configs)
//! deployed.problems();                                    // [{code, message}]
//!
//! const books = new ScheduleBooks();                      // the deployed configs by version (at most 4)
//! if (!books.has(key)) books.load(key, configJsonText);   // tolerant, as ScheduleBook.load
//! books.check(key, name, simulate, Date.now());           // {status, body}; throws if key is not loaded
//! ```
//! The admin API's functions have their own module (crates/schedule-admin), so check-schedule's
//! module holds evaluation alone.
//! Errors go through the shared `wasm-face`: a JS `Error` with `code`, `status` and `parameter`.

use wasm_bindgen::prelude::*;
use wasm_face::fail;

use crate::{Book, Books, LazyBook, Problem, When};

use wasm_face::to_js_value as to_js;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &str) -> Result<JsValue, JsValue>;
}

/// A validated schedule configuration, kept for the life of the container.
#[wasm_bindgen]
pub struct ScheduleBook {
    book: LazyBook,
}

#[wasm_bindgen]
impl ScheduleBook {
    /// Parses and validates `config.json`; throws an Error naming the bad rule or schedule.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str) -> Result<ScheduleBook, JsValue> {
        Book::from_json(config_json)
            .map(|book| ScheduleBook {
                book: LazyBook::ready(book),
            })
            .map_err(fail)
    }

    /// Loads a deployed configuration tolerantly: invalid rules and schedules only break the
    /// schedules that depend on them (they fail open); see `problems()`. Only the document's
    /// size and JSON are read now; each schedule is compiled on its first check (crate::lazy).
    pub fn load(config_json: &str) -> ScheduleBook {
        ScheduleBook {
            book: LazyBook::load(config_json),
        }
    }

    /// Every invalid value of the configuration: `[{code, message}]`.
    pub fn problems(&mut self) -> Result<JsValue, JsValue> {
        let problems: Vec<Problem> = self
            .book
            .full()
            .problems()
            .iter()
            .map(Problem::from)
            .collect();
        Ok(to_js(&problems))
    }

    /// check-schedule's whole HTTP answer: `{status, body}`. Written as JSON text and read by
    /// `JSON.parse` (see `HttpAnswer::to_json`): the same plain object `to_js` would build, with
    /// less code for a cold container to compile.
    pub fn check(
        &mut self,
        name: Option<String>,
        simulate: Option<String>,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let name = name.as_deref();
        let answer =
            self.book
                .book_for(name.unwrap_or_default())
                .respond(name, simulate.as_deref(), now_ms);
        // The text is valid JSON by construction; were it ever refused, the error is answered.
        Ok(json_parse(&answer.to_json()).unwrap_or_else(|e| e))
    }

    /// Just `{isOpen, closedReason}`, without the next change.
    #[wasm_bindgen(js_name = isOpen)]
    pub fn is_open(
        &mut self,
        name: &str,
        simulate: Option<String>,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        When::from_request(simulate.as_deref(), now_ms)
            .and_then(|when| self.book.book_for(name).status(name, when))
            .map(|status| to_js(&status))
            .map_err(fail)
    }

    /// Legal but suspicious things in the configuration (e.g. references to deleted rules).
    pub fn warnings(&mut self) -> Vec<String> {
        self.book.full().warnings().to_vec()
    }

    /// The schedule names, sorted.
    #[wasm_bindgen(js_name = scheduleNames)]
    pub fn schedule_names(&mut self) -> Vec<String> {
        self.book
            .full()
            .schedule_names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// The deployed configs a container keeps, by key (`crate::books`).
#[wasm_bindgen]
pub struct ScheduleBooks {
    books: Books,
}

impl Default for ScheduleBooks {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl ScheduleBooks {
    #[wasm_bindgen(constructor)]
    pub fn new() -> ScheduleBooks {
        ScheduleBooks {
            books: Books::new(),
        }
    }

    /// Whether a config is loaded under `key`.
    pub fn has(&self, key: &str) -> bool {
        self.books.has(key)
    }

    /// Loads a deployed config tolerantly under `key` (the oldest goes past four).
    pub fn load(&mut self, key: &str, config_json: &str) {
        self.books.load(key, config_json);
    }

    /// check-schedule's whole HTTP answer `{status, body}` from the config under `key`; throws
    /// `config_not_loaded` when none is.
    pub fn check(
        &mut self,
        key: &str,
        name: Option<String>,
        simulate: Option<String>,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let text = self
            .books
            .check(key, name.as_deref(), simulate.as_deref(), now_ms)
            .map_err(fail)?;
        Ok(json_parse(&text).unwrap_or_else(|e| e))
    }
}
