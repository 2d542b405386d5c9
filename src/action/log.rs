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
/// one line) and cut to [`crate::console::VALUE_MAX`] bytes.
pub(super) fn notice(out: &mut dyn Write, level: &str, msg: &str) {
    let mut end = msg.len().min(crate::console::VALUE_MAX);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    let _ = writeln!(
        out,
        "::{level} title=controlgate::{}",
        cmd_escape(&msg[..end])
    );
}

/// Input text for one log line (see [`crate::console::log_text`]).
pub(super) fn shown(s: &str) -> String {
    crate::console::log_text(s, crate::console::VALUE_MAX)
}
