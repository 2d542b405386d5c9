//! A linear pre-check of YAML text before it is parsed: flow collections (`[`, `{`) nested
//! deeper than [`MAX_DEPTH`] are rejected with their line. The YAML parser takes quadratic
//! time on deep flow nesting (an 80 KB file of 40,000 `[` took 10 s to be refused by its
//! recursion limit); real configs and OpenAPI descriptions nest a few levels.

use crate::error::ParseError;

/// Deepest flow nesting accepted (JSON's own parser stops at 128 as well).
pub const MAX_DEPTH: usize = 128;

/// Rejects flow nesting deeper than [`MAX_DEPTH`], in one pass. Brackets count only where a
/// flow collection can start (at the start of a value, or inside a flow collection), not
/// inside quoted scalars or comments, so prose such as `see [1]` never counts.
pub fn check_depth(text: &str) -> Result<(), ParseError> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1u64;
    // The last significant (non-blank) byte on this line, for "can a value start here".
    let mut prev: Option<u8> = None;
    // Inside a plain (unquoted) scalar in block context, where brackets are text.
    let mut plain = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next_is_blank = matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\n' | b'\r'));
        let at_value_start =
            !plain && matches!(prev, None | Some(b'[' | b'{' | b',' | b':' | b'-' | b'?'));
        match c {
            b'\n' => {
                line += 1;
                prev = None;
                plain = false;
            }
            b' ' | b'\t' | b'\r' => {}
            b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            // `key: value`: the value starts after the indicator.
            b':' if depth == 0 && next_is_blank => {
                plain = false;
                prev = Some(c);
            }
            b'-' | b'?' if depth == 0 && !plain && next_is_blank => prev = Some(c),
            b'"' | b'\'' if at_value_start => {
                // A quoted scalar: skip to its closing quote (`\"` escapes in double quotes,
                // `''` in single quotes), counting lines.
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' if c == b'"' => i += 1,
                        b'\'' if c == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
                        q if q == c => break,
                        b'\n' => line += 1,
                        _ => {}
                    }
                    i += 1;
                }
                prev = Some(c);
            }
            b'[' | b'{' if depth > 0 || at_value_start => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ParseError::at_line(
                        line,
                        format!(
                            "flow collections (`[`, `{{`) nested deeper than {MAX_DEPTH} levels"
                        ),
                    ));
                }
                prev = Some(c);
            }
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                prev = Some(c);
            }
            _ => {
                if depth == 0 {
                    plain = true;
                }
                prev = Some(c);
            }
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_refused_with_its_line() {
        let deep = format!("a: 1\ntags: {}\n", "[".repeat(40_000));
        let e = check_depth(&deep).unwrap_err();
        assert_eq!(e.location.line, Some(2));
        let deep = format!("x: {}", "{a: ".repeat(MAX_DEPTH + 1));
        assert!(check_depth(&deep).is_err());
        let ok = format!("x: {}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(check_depth(&ok).is_ok());
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        let many = "[".repeat(1000);
        for text in [
            format!("a: 'x {many}'\n"),
            format!("a: \"x \\\" {many}\"\n"),
            format!("# {many}\na: 1\n"),
            format!("description: see {many} here\n"),
            format!("description: |\n  text {many}\n"),
            format!("a: 'it''s {many}'\n"),
        ] {
            assert!(check_depth(&text).is_ok(), "{text}");
        }
    }
}
