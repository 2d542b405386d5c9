//! Untrusted text (test names, messages, paths come from pull-request code) made inert for
//! Markdown and HTML: it cannot open a tag, mention a user or team, auto-link an issue, start a
//! heading or quote, format text, or break out of a table cell.

/// Escapes `s` for a Markdown table cell or inline text, keeping at most `max_chars` visible
/// characters (an ellipsis marks the cut).
pub fn inline(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 2) + 8);
    let mut last_space = true;
    let mut chars = s.chars().peekable();
    let mut shown = 0usize;
    while let Some(c) = chars.next() {
        if shown >= max_chars {
            out.push('…');
            break;
        }
        shown += 1;
        match c {
            '\n' | '\r' | '\t' => {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
                continue;
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '@' => out.push_str("&#64;"),
            '#' => out.push_str("&#35;"),
            ':' if chars.peek() == Some(&'/') => out.push_str("&#58;"),
            // GitHub links `www.example.com` with no scheme.
            '.' if out.len() >= 3
                && out.as_bytes()[out.len() - 3..].eq_ignore_ascii_case(b"www") =>
            {
                out.push_str("&#46;")
            }
            '\\' | '*' | '_' | '~' | '[' | ']' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if is_invisible(c) => {
                out.push_str(&format!("&lt;U+{:04X}&gt;", c as u32));
            }
            c => out.push(c),
        }
        last_space = c == ' ';
    }
    out.truncate(out.trim_end().len());
    out
}

/// The only HTML controlgate's own Markdown uses.
pub const ALLOWED_TAGS: [&str; 7] = [
    "<br>",
    "<sub>",
    "</sub>",
    "<details>",
    "</details>",
    "<summary>",
    "</summary>",
];

/// Markdown from an untrusted source — the `summary.md` of a fork's artifact that `publish
/// --from` posts with a write token — made inert without re-rendering it: no HTML but the
/// tags controlgate itself writes, no mention, issue auto-link, URL auto-link, link or image,
/// no invisible character. Backslash escapes are kept whole, so `\\[` cannot unescape a
/// bracket. controlgate's own summaries already escape all of these in their text and pass
/// through unchanged; a forged one loses its links and tags, not its text.
pub fn untrusted_markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + md.len() / 8);
    let mut prev = '\n';
    let mut rest = md;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        let next = after.chars().next();
        let word_before = prev.is_alphanumeric() || prev == '_' || prev == '&';
        let mut take = c.len_utf8();
        match c {
            '\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                take += 1;
                out.push_str(&rest[..take]);
            }
            '<' => match ALLOWED_TAGS.iter().find(|t| rest.starts_with(*t)) {
                Some(tag) => {
                    take = tag.len();
                    out.push_str(tag);
                }
                None => out.push_str("&lt;"),
            },
            '@' if !word_before && next.is_some_and(|n| n.is_ascii_alphanumeric()) => {
                out.push_str("&#64;")
            }
            '#' if !word_before && next.is_some_and(|n| n.is_ascii_digit()) => {
                out.push_str("&#35;")
            }
            ':' if next == Some('/') => out.push_str("&#58;"),
            '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '!' if next == Some('[') => out.push_str("\\!"),
            'w' if !word_before && after.starts_with("ww.") => {
                take = 4;
                out.push_str("www&#46;");
            }
            c if is_invisible(c) && !matches!(c, '\n' | '\t' | '\r') => {
                out.push_str(&format!("&lt;U+{:04X}&gt;", c as u32));
            }
            c => out.push(c),
        }
        prev = rest[..take].chars().last().unwrap_or(c);
        rest = &rest[take..];
    }
    out
}

/// Plain text (check-run annotation messages and titles, which GitHub does not render as
/// Markdown): controls, bidi overrides and zero-width characters become a visible `<U+XXXX>`
/// so a message cannot hide or reorder text or carry terminal escapes. `multiline` keeps line
/// breaks and tabs (stack traces); otherwise they become spaces.
pub fn plain(s: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' if multiline => out.push(c),
            '\r' if multiline => {}
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_invisible(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Text for an HTML element or a quoted attribute value: `& < > " '` as character references,
/// controls, bidi overrides and zero-width characters as a visible `<U+XXXX>`, line breaks
/// and tabs as spaces, at most `max_chars` characters (an ellipsis marks the cut).
pub fn html(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(2)) + 8);
    for (shown, c) in s.chars().enumerate() {
        if shown >= max_chars {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_invisible(c) => out.push_str(&format!("&lt;U+{:04X}&gt;", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Controls, bidi overrides and zero-width characters: shown as their code point so a name
/// cannot hide or reorder text.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0x00AD
                | 0x061C | 0x180E)
}

/// A fenced code block whose fence is longer than any backtick run inside, so the content
/// cannot close it.
pub fn code_block(s: &str, lang: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let body: String = s
        .chars()
        .map(|c| {
            if is_invisible(c) && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    format!("{fence}{lang}\n{}\n{fence}\n", body.trim_end_matches('\n'))
}

/// Thousands separators: `12,345`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn table_breakers_html_and_mentions_are_inert() {
        assert_eq!(
            inline("a|b`<img src=x>`@team", 100),
            "a&#124;b&#96;&lt;img src=x&gt;&#96;&#64;team"
        );
        assert_eq!(
            inline("# title\n> quote\r\nfixes #12", 100),
            "&#35; title &gt; quote fixes &#35;12"
        );
        assert_eq!(
            inline("[x](https://evil) **b** _i_ ~s~", 100),
            "\\[x\\](https&#58;//evil) \\*\\*b\\*\\* \\_i\\_ \\~s\\~"
        );
        // Links without a scheme.
        assert_eq!(
            inline("www.evil.com/p?q=1 (WWW.x.org) é.www.y", 100),
            "www&#46;evil.com/p?q=1 (WWW&#46;x.org) é.www&#46;y"
        );
        assert_eq!(
            inline("a\u{202E}b\u{200B}c\u{1b}[31m", 100),
            "a&lt;U+202E&gt;b&lt;U+200B&gt;c&lt;U+001B&gt;\\[31m"
        );
    }

    #[test]
    fn html_text_cannot_open_a_tag_or_leave_an_attribute() {
        assert_eq!(
            html("<img src=x onerror='a(1)'>\"&\u{202E}\n", 100),
            "&lt;img src=x onerror=&#39;a(1)&#39;&gt;&quot;&amp;&lt;U+202E&gt; "
        );
        assert_eq!(html("ééé", 2), "éé…");
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        assert_eq!(inline("ééééé", 3), "ééé…");
        assert_eq!(inline(&"x".repeat(100_000), 10).chars().count(), 11);
    }

    #[test]
    fn code_fence_outgrows_backticks_inside() {
        assert_eq!(code_block("a ```` b", ""), "`````\na ```` b\n`````\n");
        assert_eq!(code_block("plain\n", "text"), "```text\nplain\n```\n");
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
    }
}
