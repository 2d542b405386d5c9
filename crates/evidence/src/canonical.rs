//! Canonical JSON, the byte form every digest in the evidence store is taken over.
//!
//! Ledger entries of format 3 and bundle manifests of format 2 are canonicalised with RFC 8785,
//! the JSON Canonicalization Scheme (JCS): object members sorted by the UTF-16 code units of
//! their keys, no insignificant whitespace, strings escaped as ECMAScript's `JSON.stringify`
//! escapes them, numbers as ECMAScript prints doubles. Any JCS implementation recomputes every
//! digest (`docs/evidence.md` has the recipe). Integers beyond ±2^53 are refused: JCS reads
//! every number as a double and would round them.
//!
//! Entries of formats 1 and 2 were written with the form this module used before JCS (members
//! sorted by UTF-8 bytes, numbers as `serde_json` prints them); [`legacy_value_to_canonical`]
//! keeps them verifying.

use serde::Serialize;
use serde_json::Value;

/// The largest integer a double holds exactly (2^53); JCS readers parse numbers as doubles.
const MAX_SAFE_INTEGER: u64 = 1 << 53;

/// RFC 8785 bytes of `value`.
pub fn to_canonical<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    value_to_canonical(&serde_json::to_value(value)?)
}

/// RFC 8785 bytes of an already parsed value.
pub fn value_to_canonical(value: &Value) -> Result<Vec<u8>, serde_json::Error> {
    if let Some(n) = unsafe_integer(value) {
        return Err(serde::ser::Error::custom(format!(
            "the integer {n} is beyond 2^53: RFC 8785 readers would round it"
        )));
    }
    serde_json_canonicalizer::to_vec(value)
}

/// The first integer in `value` that a double cannot hold exactly.
fn unsafe_integer(value: &Value) -> Option<&serde_json::Number> {
    match value {
        Value::Number(n) => {
            let safe = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u <= MAX_SAFE_INTEGER,
                (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
                (None, None) => true,
            };
            (!safe).then_some(n)
        }
        Value::Array(items) => items.iter().find_map(unsafe_integer),
        Value::Object(map) => map.values().find_map(unsafe_integer),
        _ => None,
    }
}

/// The canonical form of ledger formats 1 and 2: members sorted by the UTF-8 bytes of their
/// keys, no insignificant whitespace, strings and numbers as `serde_json` writes them (floats
/// in ryu's shortest round-trip form). Only read back, never written.
pub fn legacy_value_to_canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // Writing into a Vec cannot fail and a `Value` always serializes.
    let _ = write_legacy(value, &mut out);
    out
}

fn write_legacy(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k)?;
                out.push(b':');
                write_legacy(v, out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_legacy(v, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

/// The one digest format of inputs, suites, configs and evidence.
pub use controlgate_core::hashing::sha256_hex;

/// Whether `s` looks like a SHA-256 hex digest (64 lower-case hex digits).
pub fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_form_sorts_keys_by_utf8_without_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[1,2,{"y":"x","c":null}],"a":1.5}}"#).unwrap();
        assert_eq!(
            String::from_utf8(legacy_value_to_canonical(&v)).unwrap(),
            r#"{"a":{"a":1.5,"z":[1,2,{"c":null,"y":"x"}]},"b":1}"#
        );
    }

    /// Where RFC 8785 and the legacy form part: keys above the BMP sort by UTF-16 code units
    /// (a surrogate pair sorts before U+E000..U+FFFF), and doubles print as ECMAScript does.
    #[test]
    fn jcs_sorts_by_utf16_and_prints_numbers_as_ecmascript() {
        let v: Value = serde_json::from_str(
            "{\"\u{ff21}\":1,\"\u{1f600}\":2,\"a\":[100.0,1e21,1e-7,0.000001]}",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(value_to_canonical(&v).unwrap()).unwrap(),
            "{\"a\":[100,1e+21,1e-7,0.000001],\"\u{1f600}\":2,\"\u{ff21}\":1}"
        );
        assert_eq!(
            String::from_utf8(legacy_value_to_canonical(&v)).unwrap(),
            "{\"a\":[100.0,1e+21,1e-7,1e-6],\"\u{ff21}\":1,\"\u{1f600}\":2}"
        );
    }

    #[test]
    fn integers_a_double_cannot_hold_are_refused() {
        assert!(to_canonical(&serde_json::json!({"n": 1u64 << 53})).is_ok());
        let err = to_canonical(&serde_json::json!({"a": [{"n": (1u64 << 53) + 1}]})).unwrap_err();
        assert!(err.to_string().contains("9007199254740993"), "{err}");
        assert!(to_canonical(&serde_json::json!(-(1i64 << 53) - 1)).is_err());
    }
}
