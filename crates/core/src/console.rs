//! The process's output seam: what controlgate prints on stdout and stderr, which under GitHub
//! Actions is the job log, where a line can be a workflow command (`::set-output …`,
//! `::add-mask::…`, and the older `##[command]` form, acted on anywhere in a line).
//!
//! Two rules make printed input text inert: every value taken from input is passed through
//! [`log_text`] (one line, control characters as `<U+XXXX>`, cut to [`VALUE_MAX`] bytes), and
//! every line leaves through a [`LogWriter`], which redacts the run's secrets, breaks the
//! `##[` marker and caps the line's length. controlgate's own commands (`::group::`,
//! `::warning …::`) are written by controlgate and never hold a raw input value.

use std::io::Write;

use crate::redact::{Redactions, Redactor};

/// Bytes of one input value shown in a log line.
pub const VALUE_MAX: usize = 4096;
/// Bytes of one log line (longer lines are cut, saying how much was left out).
pub const LINE_MAX: usize = 16 * 1024;

/// `s` as one inert piece of a log line: control characters (newlines included) and bidi or
/// zero-width characters shown as `<U+XXXX>`, the `##[` command marker broken, at most `max`
/// bytes (then `… (N bytes)`).
pub fn log_text(s: &str, max: usize) -> String {
    let mut shown = String::with_capacity(s.len().min(max + 64));
    for c in s.chars() {
        if shown.len() > max + 16 {
            break;
        }
        if c != '\t' && crate::render::escape::is_invisible(c) {
            shown.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            shown.push(c);
        }
    }
    let mut out = shown.replace("##[", "##<U+005B>");
    if out.len() > max {
        let mut end = max;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str(&format!("… ({} bytes)", s.len()));
    }
    out
}

/// One line for the log from text that may hold secrets: redacted, then [`log_text`].
pub fn inert(s: &str, redactor: &Redactor) -> String {
    log_text(&redactor.redact(s, &mut Redactions::default()), VALUE_MAX)
}

/// A writer for the job log: buffers to the end of each line, then redacts the run's secrets,
/// breaks `##[` and caps the line at [`LINE_MAX`] bytes. Partial lines wait for their newline
/// (so a secret split across writes is still seen whole) unless they grow past the cap;
/// [`LogWriter::finish`] (or drop) writes what is left.
pub struct LogWriter<W: Write> {
    inner: W,
    redactor: Redactor,
    line: Vec<u8>,
    /// The rest of a line cut for its length is dropped until its end: written as lines of
    /// their own, the first would start inside a secret the cut went through.
    dropping: bool,
}

impl<W: Write> LogWriter<W> {
    pub fn new(inner: W, redactor: Redactor) -> Self {
        LogWriter {
            inner,
            redactor,
            line: Vec::new(),
            dropping: false,
        }
    }

    /// The redactor every line goes through (the run's secrets and the built-in shapes).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The underlying writer, after the pending partial line: for data printed whole
    /// (`report.json`, the audit), whose lines must not be cut or altered. Its text is
    /// redacted where it is made, and under Actions it goes inside a stop-commands block.
    pub fn raw(&mut self) -> std::io::Result<&mut W> {
        self.finish()?;
        Ok(&mut self.inner)
    }

    /// Writes the pending partial line.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.emit(&line)?;
        }
        self.inner.flush()
    }

    fn emit(&mut self, line: &[u8]) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(line);
        let redacted = self.redactor.redact(&text, &mut Redactions::default());
        let mut out = redacted.replace("##[", "##<U+005B>");
        let ends = out.ends_with('\n');
        if out.len() > LINE_MAX {
            let mut end = LINE_MAX;
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            let total = out.len();
            out.truncate(end);
            out.push_str(&format!("… (line cut: {total} bytes)"));
            if ends {
                out.push('\n');
            }
        }
        self.inner.write_all(out.as_bytes())
    }
}

impl<W: Write> Write for LogWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            if std::mem::take(&mut self.dropping) {
                rest = &rest[i + 1..];
                continue;
            }
            self.line.extend_from_slice(&rest[..=i]);
            let line = std::mem::take(&mut self.line);
            self.emit(&line)?;
            rest = &rest[i + 1..];
        }
        if self.dropping {
            return Ok(buf.len());
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > LINE_MAX + 4096 {
            // A line that never ends: write what there is (cut at LINE_MAX, after redacting:
            // the 4 KiB past the cut hold any secret the buffer's end splits) and drop the
            // rest of it.
            let line = std::mem::take(&mut self.line);
            self.emit(&line)?;
            self.inner.write_all(b"\n")?;
            self.dropping = true;
        }
        Ok(buf.len())
    }

    /// Flushes what is complete; a partial line waits for its end.
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for LogWriter<W> {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn values_stay_on_their_line_and_bounded() {
        assert_eq!(
            log_text("a\n::error title=x::y\r##[set-output name=v;]1\0", 100),
            "a<U+000A>::error title=x::y<U+000D>##<U+005B>set-output name=v;]1<U+0000>"
        );
        let big = "p".repeat(5 << 20);
        let t = log_text(&big, VALUE_MAX);
        assert!(
            t.len() < VALUE_MAX + 32 && t.ends_with("(5242880 bytes)"),
            "{}",
            t.len()
        );
    }

    #[test]
    fn the_writer_redacts_whole_lines_across_writes() {
        let secret = "hunter2-very-secret";
        let r = Redactor::new(&[secret.to_owned()], &[]).unwrap();
        let mut out = Vec::new();
        {
            let mut w = LogWriter::new(&mut out, r);
            w.write_all(b"key: hunter2-ve").unwrap();
            w.flush().unwrap();
            w.write_all(b"ry-secret end\nnext ##[stop-commands]x\npartial")
                .unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "key: [REDACTED:secret] end\nnext ##<U+005B>stop-commands]x\npartial"
        );
    }

    /// A line that never ends is written cut and the rest of it dropped to its end: a secret
    /// the buffer's end split shows neither its head (past the cut) nor its tail (dropped).
    #[test]
    fn a_line_too_long_is_cut_and_its_rest_dropped() {
        let secret = "SuperSecretValue-98765";
        let r = Redactor::new(&[secret.to_owned()], &[]).unwrap();
        let mut out = Vec::new();
        {
            let mut w = LogWriter::new(&mut out, r);
            // The buffer passes its cap 10 bytes into the secret.
            let head = "x".repeat(LINE_MAX + 4096 - 9);
            w.write_all(head.as_bytes()).unwrap();
            w.write_all(&secret.as_bytes()[..10]).unwrap();
            w.write_all(&secret.as_bytes()[10..]).unwrap();
            w.write_all(b" and more of the same line\nnext line\n")
                .unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        for piece in ["SuperSecret", "Value-98765", "more of the same"] {
            assert!(!text.contains(piece), "{piece} shown");
        }
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{:?}", &lines[1..]);
        assert!(lines[0].len() < LINE_MAX + 64 && lines[0].contains("line cut"));
        assert_eq!(lines[1], "next line");
    }
}
