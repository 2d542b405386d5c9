//! Report → text. Every renderer is a pure function returning `String`; untrusted text goes
//! through [`escape`].

pub mod api;
pub mod badge;
pub mod changes;
pub mod coverage;
pub mod escape;
pub mod markdown;
pub mod tickets;

use std::io::Write as _;

use crate::model::report::Report;

/// `report.json`: the contract documented in `docs/report.md`.
pub fn json(report: &Report) -> String {
    let mut bytes = Vec::new();
    // Writing plain data into a Vec cannot fail.
    let _ = write_json(report, &mut bytes);
    String::from_utf8(bytes).unwrap_or_default()
}

/// [`json`] streamed into `w`, for reports too large to hold twice.
pub fn write_json(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    // The serializer makes a write per token; through `dyn Write` each is an indirect call.
    // A concrete buffer in front takes them inline and passes `w` large blocks.
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, w);
    let mut serializer = serde_json::Serializer::with_formatter(&mut w, Pretty::default());
    serde::Serialize::serialize(report, &mut serializer)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// `report.json`'s layout: serde_json's pretty printing (two spaces a level), byte for byte,
/// with each line's break and indentation written at once. serde_json writes the indentation
/// a level at a time, a write each: a case of a large report is fifteen keys three levels deep,
/// so sixty writes where fifteen do.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    /// `,` + newline + the indentation of [`Pretty::LEVELS`] levels: each line break is a
    /// slice of it.
    const BREAK: &'static [u8] =
        b",\n                                                                ";
    /// The deepest level [`Pretty::BREAK`] indents in one write.
    const LEVELS: usize = (Self::BREAK.len() - 2) / 2;

    /// A line break (after a `,` unless `first`) and this level's indentation.
    fn line<W: ?Sized + std::io::Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        let from = usize::from(first);
        if self.level <= Self::LEVELS {
            return w.write_all(&Self::BREAK[from..2 + 2 * self.level]);
        }
        w.write_all(&Self::BREAK[from..2])?;
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Starts an array or an object: its bracket, one level deeper, nothing in it yet.
    fn open<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// Ends an array or an object: its bracket on a line of its own when it holds anything.
    fn close<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        bracket: &[u8],
    ) -> std::io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn printed(value: &serde_json::Value) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, super::Pretty::default());
        serde::Serialize::serialize(value, &mut ser).unwrap();
        out
    }

    /// JSON values of any shape, nested deeper than the one-write indentation reaches.
    fn values() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[a-z\"\\\\\n é]{0,6}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(48, 256, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::btree_map("[a-c]{1,3}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// `report.json` is laid out as serde_json's pretty printer lays it out, at any depth.
        #[test]
        fn the_layout_is_serde_jsons_pretty_printing(value in values()) {
            prop_assert_eq!(printed(&value), serde_json::to_vec_pretty(&value).unwrap());
        }
    }

    /// Deeper than one write indents, on both sides of the limit.
    #[test]
    fn deep_nesting_is_laid_out_alike() {
        for depth in [
            0,
            1,
            super::Pretty::LEVELS - 1,
            super::Pretty::LEVELS,
            40,
            70,
        ] {
            let mut value = serde_json::json!({"k": [1, {"x": null}]});
            for i in 0..depth {
                value = if i % 2 == 0 {
                    serde_json::json!([value, 2])
                } else {
                    serde_json::json!({"a": value, "b": {}})
                };
            }
            assert_eq!(
                printed(&value),
                serde_json::to_vec_pretty(&value).unwrap(),
                "{depth}"
            );
        }
    }
}
