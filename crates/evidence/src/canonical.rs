//! Canonical JSON, the byte form every digest in the evidence store is taken over.
//!
//! Definition (also in `docs/evidence.md`): the value serialized as JSON with object members
//! sorted by key (byte-wise order of the UTF-8 key), no insignificant whitespace, strings
//! escaped as `serde_json` escapes them (only `"`, `\` and control characters; everything else
//! literal UTF-8), integers in decimal, floats in the shortest round-trip form (`serde_json`/ryu).
//! Non-finite floats never occur: the types that hold floats turn them into `null`.

use serde::Serialize;
use serde_json::Value;

/// Canonical JSON bytes of `value`.
pub fn to_canonical<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(512);
    write_value(&value, &mut out)?;
    Ok(out)
}

/// Canonical JSON bytes of an already parsed value.
pub fn value_to_canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    // Writing into a Vec cannot fail and a `Value` always serializes.
    let _ = write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
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
                write_value(v, out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(v, out)?;
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
    fn sorts_keys_recursively_without_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[1,2,{"y":"x","c":null}],"a":1.5}}"#).unwrap();
        assert_eq!(
            String::from_utf8(value_to_canonical(&v)).unwrap(),
            r#"{"a":{"a":1.5,"z":[1,2,{"c":null,"y":"x"}]},"b":1}"#
        );
    }
}
