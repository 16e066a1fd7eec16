//! TwiML writing: escaping is `values::xml`'s; JSON carried in TwiML text is made XML-safe here.

pub(crate) use values::xml::{attr, is_xml_char, text};

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
    fn forbidden_characters_never_reach_the_document() {
        let json = serde_json::to_string("x\u{FFFE}").unwrap_or_default();
        assert_eq!(xml_safe_json(&json), "\"x\\ufffe\"");
        let back: String = serde_json::from_str(&xml_safe_json(&json)).unwrap_or_default();
        assert_eq!(back, "x\u{FFFE}");
        assert_eq!(xml_safe_json("\"a\u{2028}b\""), "\"a\\u2028b\"");
    }
}
