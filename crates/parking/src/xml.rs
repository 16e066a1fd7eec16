//! Just enough XML writing for TwiML: escaping that is correct for any Rust string.

/// Whether XML 1.0 allows `c` in a document at all (the `Char` production).
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Escapes character data (element text). `>` is escaped too, so `]]>` cannot appear.
/// Characters XML cannot carry at all are written as U+FFFD.
pub(crate) fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value for use between double quotes; whitespace other than space is
/// written as a character reference so that attribute-value normalization keeps it.
pub(crate) fn attr(s: &str) -> String {
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

/// JSON text whose every character XML carries unchanged: characters XML forbids, and the line
/// separators some parsers normalize to `\n` (U+0085, U+2028, U+2029, XML 1.1 line ends), can
/// only occur inside JSON strings, so they become `\uXXXX` escapes, which JSON reads back as is.
pub(crate) fn xml_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_xml_char(c) && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", unit));
            }
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
        let json = serde_json::to_string("x\u{FFFE}").unwrap_or_default();
        assert_eq!(xml_safe_json(&json), "\"x\\ufffe\"");
        let back: String = serde_json::from_str(&xml_safe_json(&json)).unwrap_or_default();
        assert_eq!(back, "x\u{FFFE}");
        assert_eq!(xml_safe_json("\"a\u{2028}b\""), "\"a\\u2028b\"");
    }
}
