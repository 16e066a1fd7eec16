//! The small pieces every domain crate needs, written once.
//!
//! - [`sid`]: a Twilio SID is a two-letter prefix naming the kind of object (`CA` call, `WK`
//!   worker, `WQ` task queue, `WW` workflow, ...) followed by exactly 32 hexadecimal digits.
//!   Anything else (other lengths, other prefixes, multi-byte characters) is not a SID.
//! - [`instant`]: time enters every crate as milliseconds since 1970 (`Date.now()` in the shim;
//!   no crate reads a clock) and leaves as RFC 3339 UTC text. A millisecond value that is not
//!   finite or lies outside the years 0000 to 9999 (all RFC 3339 can write) is not an instant.
//!
//! - [`xml`]: escaping text and attribute values for TwiML.
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
}
