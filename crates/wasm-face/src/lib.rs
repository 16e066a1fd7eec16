//! What every domain crate's wasm face shares.
//!
//! A domain crate is pure Rust; its `wasm` module (compiled only for `wasm32`) is a thin face that
//! takes plain JS objects, calls the crate, and hands back plain JS objects. Two things make every
//! face behave the same for the JavaScript shims:
//!
//! - **Errors** implement [`FaceError`]: a stable machine-readable `code`, the HTTP `status` the
//!   function answers with, and the offending `parameter` when there is one. On wasm they become a
//!   JS `Error` carrying those three properties, which `common/wasm`'s `callWasm` turns into the
//!   JSON answer `{error, code, parameter}`.
//! - **Values** cross as JSON-compatible plain objects (`to_js`, `from_js`): objects, not `Map`s;
//!   `null` for `None`; what `JSON.stringify`, Studio and the Flex plugins expect.
//! - **Returns**: an export that hands back a JS value returns `Result<JsValue, JsValue>`, even
//!   one that never fails (then always `Ok`), never a bare `JsValue`. A bare `JsValue` is a wasm
//!   function with one `externref` result; Node 20 and 22 (V8 11.3 to 12.4) inline such a call
//!   into optimized JavaScript, and if that code is deoptimized while the call runs (the wasm calls
//!   back into JS, which invalidates it) V8 aborts the process: "Fatal error in , line 0 /
//!   unreachable code" in `Deoptimizer::DoComputeBuiltinContinuation`. A `Result` comes back as
//!   several values, a call V8 does not inline. `tests/wasm-exports.test.js` checks every module.
//!
//! No function here panics: a value that does not deserialize is a 400 naming what was being read.

/// An error a domain crate reports to its caller.
pub trait FaceError: std::fmt::Display {
    /// A stable, machine-readable code (`snake_case`).
    fn code(&self) -> &'static str;
    /// The HTTP status the function answers with.
    fn status(&self) -> u16;
    /// The request parameter or environment variable at fault, when there is one.
    fn parameter(&self) -> Option<&str> {
        None
    }
}

/// A bad environment variable (`values::env::EnvError`): the service's fault, a 500 naming it.
impl FaceError for values::env::EnvError {
    fn code(&self) -> &'static str {
        values::env::EnvError::code(self)
    }
    fn status(&self) -> u16 {
        500
    }
    fn parameter(&self) -> Option<&str> {
        Some(self.variable)
    }
}

/// A setting set under two of its names with different values (`values::env::Conflict`): the
/// service's fault, a 500 naming the canonical name.
impl FaceError for values::env::Conflict {
    fn code(&self) -> &'static str {
        "invalid_config"
    }
    fn status(&self) -> u16 {
        500
    }
    fn parameter(&self) -> Option<&str> {
        Some(self.canonical)
    }
}

#[cfg(target_arch = "wasm32")]
mod js {
    use serde::de::DeserializeOwned;
    use serde::Serialize;
    use wasm_bindgen::JsValue;

    use crate::FaceError;

    /// A JS `Error` with `code`, `status` and (when given) `parameter` properties.
    pub fn js_error(code: &str, message: &str, status: u16, parameter: Option<&str>) -> JsValue {
        let error = js_sys::Error::new(message);
        // Setting properties on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
        let _ = js_sys::Reflect::set(&error, &"status".into(), &JsValue::from(status));
        if let Some(p) = parameter {
            let _ = js_sys::Reflect::set(&error, &"parameter".into(), &p.into());
        }
        error.into()
    }

    /// The JS error for a crate's error.
    pub fn fail<E: FaceError>(e: E) -> JsValue {
        js_error(e.code(), &e.to_string(), e.status(), e.parameter())
    }

    /// A JSON-compatible plain JS value (objects, not Maps; `null` for None).
    pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        value
            .serialize(&serializer)
            .map_err(|e| js_error("serialize", &e.to_string(), 500, None))
    }

    /// [`to_js`] for faces that return a value and never throw: a value that cannot be
    /// serialized is answered as the error object itself.
    pub fn to_js_value<T: Serialize + ?Sized>(value: &T) -> JsValue {
        to_js(value).unwrap_or_else(|e| e)
    }

    /// A serde value from a plain JS value; a mismatch is a 400 naming `what` was being read.
    pub fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
        serde_wasm_bindgen::from_value(value)
            .map_err(|e| js_error("invalid_request", &format!("{what}: {e}"), 400, None))
    }

    /// `to_js` of a crate result, its error through [`fail`].
    pub fn answer<T: Serialize, E: FaceError>(result: Result<T, E>) -> Result<JsValue, JsValue> {
        result.map_err(fail).and_then(|v| to_js(&v))
    }

    /// [`answer`], an error carrying `log(&error)` as its `log` property when there is one: a line
    /// for the operator's log (common/http prints it), never part of the answer.
    pub fn answer_logged<T: Serialize, E: FaceError>(
        result: Result<T, E>,
        log: impl FnOnce(&E) -> Option<String>,
    ) -> Result<JsValue, JsValue> {
        result
            .map_err(|e| {
                let line = log(&e);
                let error = fail(e);
                if let Some(line) = line {
                    let _ = js_sys::Reflect::set(&error, &"log".into(), &line.into());
                }
                error
            })
            .and_then(|v| to_js(&v))
    }
}

#[cfg(target_arch = "wasm32")]
pub use js::{answer, answer_logged, fail, from_js, js_error, to_js, to_js_value};
