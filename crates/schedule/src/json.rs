//! A small JSON reader and writer for check-schedule's cold path.
//!
//! A fresh container compiles, on first call, every WebAssembly function its first answer runs
//! (docs/schedule-manager.md, "Cold start"). Reading the configuration through `serde_json` into
//! values, then into typed rules with serde's derived readers, and handing the answer back through
//! `serde-wasm-bindgen`, was generic code a first answer compiled only to read a few kilobytes of
//! JSON. This module reads RFC 8259 JSON into [`Json`] (objects keep their keys in document
//! order; a repeated key reads as its last value, as `serde_json` maps do) and writes the few
//! shapes the answers need.
//!
//! Nothing here panics, whatever the text: every read is checked, nesting is limited to
//! [`MAX_DEPTH`] (as `serde_json`'s recursion limit), and a syntax error says what was expected
//! where (line and column).

use std::fmt::Write as _;

/// The deepest nesting of arrays and objects read (`serde_json` stops at 128 too).
pub const MAX_DEPTH: u32 = 128;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Json>),
    /// Members in document order; [`Json::get`] reads a repeated key's last value.
    Object(Vec<(String, Json)>),
}

/// A number as written in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The text of the number, exactly as written (valid JSON number syntax).
    pub text: String,
    /// Whether it is an integer that fits 64 bits (no fraction, no exponent; not `-0`).
    pub integer: bool,
}

impl Json {
    /// The value of member `key` of an object (its last one when repeated); `None` otherwise.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A string's text, or a number's: how rule ids and schedule names are keyed.
    pub fn key_text(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            Json::Number(n) => Some(&n.text),
            _ => None,
        }
    }

    /// What the value is, for a message: `the string "yes"`, `the number 5`, `an array`...
    pub fn describe(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => format!("the boolean {b}"),
            Json::Number(n) => format!("the number {}", n.text),
            Json::String(s) => format!("the string {s:?}"),
            Json::Array(_) => "an array".into(),
            Json::Object(_) => "an object".into(),
        }
    }

    /// Takes the object's members, a repeated key keeping its last value; `None` if not an object.
    pub fn into_members(self) -> Option<Vec<(String, Json)>> {
        match self {
            Json::Object(members) => {
                let mut out: Vec<(String, Json)> = Vec::with_capacity(members.len());
                for (key, value) in members {
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = value,
                        None => out.push((key, value)),
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}

/// Why a text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub problem: &'static str,
    /// 1-based line and column (in characters) of the offending character.
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.problem, self.line, self.column
        )
    }
}

/// Reads a whole JSON text (surrounding whitespace allowed, nothing else after the value).
pub fn parse(text: &str) -> Result<Json, SyntaxError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let value = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos < reader.bytes.len() {
        return Err(reader.error("trailing characters after the JSON value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, problem: &'static str) -> SyntaxError {
        let before = self.text.get(..self.pos).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        SyntaxError {
            problem,
            line,
            column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `word` (after its first byte was seen) or fails.
    fn literal(&mut self, word: &'static [u8], value: Json) -> Result<Json, SyntaxError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: u32) -> Result<Json, SyntaxError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("the document ends where a value was expected")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn nest(&self, depth: u32) -> Result<(), SyntaxError> {
        if depth > MAX_DEPTH {
            Err(self.error("arrays and objects nested more than 128 deep"))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: u32) -> Result<Json, SyntaxError> {
        self.nest(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                None => return Err(self.error("the document ends inside an array")),
                Some(_) => return Err(self.error("expected ',' or ']' in an array")),
            }
        }
    }

    fn object(&mut self, depth: u32) -> Result<Json, SyntaxError> {
        self.nest(depth)?;
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.error("the document ends inside an object")),
                Some(_) => return Err(self.error("expected a member name (a string) in an object")),
            }
            let key = self.string()?;
            self.skip_whitespace();
            match self.peek() {
                Some(b':') => self.pos += 1,
                None => return Err(self.error("the document ends inside an object")),
                Some(_) => return Err(self.error("expected ':' after a member name")),
            }
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                None => return Err(self.error("the document ends inside an object")),
                Some(_) => return Err(self.error("expected ',' or '}' in an object")),
            }
        }
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
            n = n * 16 + digit;
            self.pos += 1;
        }
        Ok(n)
    }

    /// A string starting at its opening quote.
    fn string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // `start` and `pos` sit just after an ASCII byte or at the text's start or end, so
            // both are character boundaries.
            out.push_str(self.text.get(start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.error("the document ends inside a string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            out.push(self.unicode_escape()?);
                            continue;
                        }
                        _ => return Err(self.error("invalid escape in a string")),
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                Some(_) => return Err(self.error("control character inside a string")),
            }
        }
    }

    /// The character of a `\uXXXX` escape (after the `u`), a surrogate pair read whole.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.error("lone leading surrogate in a \\u escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("invalid trailing surrogate in a \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in a \\u escape")),
            n => n,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.digits() {
            0 => return Err(self.error("expected a digit in a number")),
            n if n > 1 && self.bytes.get(int_start) == Some(&b'0') => {
                return Err(self.error("a number may not start with 0"));
            }
            _ => {}
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(self.error("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit in an exponent"));
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        // As serde_json reads numbers: `-0` and integers past 64 bits are floating point.
        let integer = integer
            && match text.strip_prefix('-') {
                Some(_) => text.parse::<i64>().is_ok_and(|n| n != 0),
                None => text.parse::<u64>().is_ok(),
            };
        Ok(Json::Number(Number {
            text: text.to_string(),
            integer,
        }))
    }
}

/// Appends `text` to `out` as a JSON string, quoted and escaped exactly as `serde_json` writes it.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our reading of `text` agrees with serde_json's (numbers compared by value).
    fn same_as_serde(text: &str) {
        fn convert(v: &serde_json::Value) -> Json {
            match v {
                serde_json::Value::Null => Json::Null,
                serde_json::Value::Bool(b) => Json::Bool(*b),
                serde_json::Value::Number(n) => Json::Number(Number {
                    text: n.to_string(),
                    integer: n.is_i64() || n.is_u64(),
                }),
                serde_json::Value::String(s) => Json::String(s.clone()),
                serde_json::Value::Array(a) => Json::Array(a.iter().map(convert).collect()),
                serde_json::Value::Object(m) => {
                    Json::Object(m.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
                }
            }
        }
        /// Objects sorted by key, repeated keys collapsed, numbers as serde_json writes them.
        fn normal(v: Json) -> Json {
            match v {
                Json::Number(n) => {
                    let parsed: serde_json::Number = serde_json::from_str(&n.text).unwrap();
                    Json::Number(Number {
                        text: parsed.to_string(),
                        integer: n.integer,
                    })
                }
                Json::Array(a) => Json::Array(a.into_iter().map(normal).collect()),
                object @ Json::Object(_) => {
                    let mut members: Vec<_> = object
                        .into_members()
                        .unwrap()
                        .into_iter()
                        .map(|(k, v)| (k, normal(v)))
                        .collect();
                    members.sort_by(|a, b| a.0.cmp(&b.0));
                    Json::Object(members)
                }
                other => other,
            }
        }
        let serde: Result<serde_json::Value, _> = serde_json::from_str(text);
        let ours = parse(text);
        match (serde, ours) {
            (Ok(s), Ok(o)) => assert_eq!(normal(o), normal(convert(&s)), "{text:?}"),
            (Err(_), Err(_)) => {}
            (s, o) => panic!("{text:?}: serde_json {s:?}, ours {o:?}"),
        }
    }

    #[test]
    fn reads_what_serde_json_reads_and_refuses_what_it_refuses() {
        for text in [
            r#"{"rules": [], "schedules": []}"#,
            r#" { "a" : [1, -2, 3.5, 1e3, -0.25E-2, 0, 18446744073709551615, -9223372036854775808] } "#,
            r#"{"s": "tab\tquote\" back\\ slash\/ \u00e9 \ud83d\ude00 \b\f\n\r", "t": true, "f": false, "n": null}"#,
            r#"{"dup": 1, "dup": 2}"#,
            r#"[[], {}, [{}], "é", "日本"]"#,
            "\"plain\"",
            "12",
            // Refused by both.
            "",
            "   ",
            "{",
            "[1,]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a: 1}"#,
            "[01]",
            "[1.]",
            "[.5]",
            "[1e]",
            "[-]",
            "[+1]",
            "tru",
            "nul",
            r#""\x""#,
            r#""\u12""#,
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            "\"line\nbreak\"",
            "[1] [2]",
            "{} x",
            "\u{feff}{}",
        ] {
            same_as_serde(text);
        }
    }

    #[test]
    fn nesting_is_limited_without_overflowing() {
        assert!(parse(&format!("{}{}", "[".repeat(128), "]".repeat(128))).is_ok());
        let e = parse(&format!("{}{}", "[".repeat(129), "]".repeat(129))).unwrap_err();
        assert!(e.problem.contains("nested"), "{e}");
        assert!(parse(&"[{\"a\":".repeat(100_000)).is_err());
    }

    #[test]
    fn errors_say_where() {
        let e = parse("{\n  \"rules\": [\n    1,\n  ]\n}").unwrap_err();
        assert_eq!(e.to_string(), "expected a value at line 4 column 3");
        let e = parse("{\"é\": tru}").unwrap_err();
        assert_eq!(e.to_string(), "expected a value at line 1 column 7");
        let e = parse("[\"abc").unwrap_err();
        assert_eq!(
            e.to_string(),
            "the document ends inside a string at line 1 column 6"
        );
    }

    #[test]
    fn repeated_keys_read_their_last_value() {
        let v = parse(r#"{"a": 1, "b": 2, "a": "x"}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Json::String("x".into())));
        let members = v.into_members().unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0], ("a".to_string(), Json::String("x".into())));
    }

    #[test]
    fn numbers_keep_their_text() {
        let v = parse("[7, 1.50, -3, 99999999999999999999]").unwrap();
        let texts: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|n| match n {
                Json::Number(n) => (n.text.as_str(), n.integer),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            texts,
            [
                ("7", true),
                ("1.50", false),
                ("-3", true),
                ("99999999999999999999", false)
            ]
        );
    }

    #[test]
    fn written_strings_read_back() {
        for text in [
            "",
            "plain",
            "quote \" and \\ and \n\t\r",
            "\u{1}\u{1f}",
            "é 日本 😀",
        ] {
            let mut out = String::new();
            write_string(&mut out, text);
            assert_eq!(parse(&out), Ok(Json::String(text.to_string())), "{out}");
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text, "{out}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_agrees_with_serde_json(text in "[\\[\\]{}\",:0-9a-z.eE+\\- \\\\u]{0,40}") {
            same_as_serde(&text);
        }
    }
}
