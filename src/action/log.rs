//! What controlgate itself writes to the step log: its own workflow commands (`::warning …::`)
//! and input text made inert for one log line.

use std::io::Write;

/// Escapes a workflow-command message (`%`, CR, LF).
pub(super) fn cmd_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command of controlgate's own (`::warning …::`), its message escaped (so it is
/// one line). Not cut here: the log writer cuts the line after redacting it, where a cut made
/// first could split a secret and leave a piece of it that no longer matches.
pub(super) fn notice(out: &mut dyn Write, level: &str, msg: &str) {
    let _ = writeln!(out, "::{level} title=controlgate::{}", cmd_escape(msg));
}

/// Input text for one log line (see [`crate::console::log_text`]). Cut only past the log
/// writer's own line cap by a secret's length: the writer redacts the line, then cuts it at
/// [`crate::console::LINE_MAX`], so a secret this cut splits is never shown in part.
pub(super) fn shown(s: &str) -> String {
    crate::console::log_text(s, crate::console::LINE_MAX + crate::console::VALUE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret where a cut of the message would have gone (4 KiB in), or holding the `%` the
    /// command escapes, is redacted whole: the message is escaped, not cut, before the log
    /// writer redacts the line.
    #[test]
    fn a_notice_is_redacted_before_it_is_cut() {
        let secret = "Sess%Tok-0123456789abcdef";
        let redactor = crate::redact::Redactor::new(&[secret.to_owned()], &[]).unwrap();
        let mut out = Vec::new();
        {
            let mut log = crate::console::LogWriter::new(&mut out, redactor);
            let msg = format!("{} {secret} end", "p".repeat(crate::console::VALUE_MAX - 8));
            notice(&mut log, "error", &msg);
            let long = format!("{} {secret}", "q".repeat(crate::console::VALUE_MAX - 8));
            let _ = writeln!(log, "error: {}", shown(&long));
        }
        let text = String::from_utf8(out).unwrap();
        for piece in ["Sess", "Tok-0123", "89abcdef"] {
            assert!(!text.contains(piece), "{piece}: {text}");
        }
        assert_eq!(text.matches("[REDACTED:secret]").count(), 2, "{text}");
    }
}
