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
    serde_json::to_writer_pretty(&mut w, report)?;
    w.write_all(b"\n")?;
    w.flush()
}
