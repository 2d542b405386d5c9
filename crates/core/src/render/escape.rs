//! Untrusted text (test names, messages, paths come from pull-request code) made inert for
//! Markdown and HTML: it cannot open a tag, mention a user or team, auto-link an issue, start a
//! heading or quote, format text, or break out of a table cell.
//!
//! Mentions and issue references are a matter of the *rendered* text: GitHub finds `@user`,
//! `#123` and `GH-123` in the HTML after character references and backslash escapes are
//! decoded, so `&#64;user` or `\@user` still notify `user` (github/cmark-gfm#181, #389). What
//! stops them is a character between the `@` or `#` and what follows: a zero-width space
//! ([`BREAK`]), as Renovate and Dependabot write it. It is invisible, so the text reads the same.

/// A zero-width space as a character reference: put after an `@` or `#` (and `GH-`) so that
/// GitHub sees no mention or issue reference in the rendered text, whatever follows.
pub const BREAK: &str = "&#8203;";

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
            // The reference keeps a `#` from starting a heading; the break after either keeps
            // the rendered `@name` / `#12` from mentioning or linking (see the module docs).
            // Only what this writes as a space needs none.
            '@' | '#' => {
                out.push_str(if c == '@' { "&#64;" } else { "&#35;" });
                if chars
                    .peek()
                    .is_some_and(|n| !matches!(n, ' ' | '\n' | '\r' | '\t'))
                {
                    out.push_str(BREAK);
                }
            }
            // `GH-12` is an issue reference too.
            '-' if chars.peek().is_some_and(char::is_ascii_digit)
                && out.len() >= 2
                && out.as_bytes()[out.len() - 2..].eq_ignore_ascii_case(b"gh") =>
            {
                out.push('-');
                out.push_str(BREAK);
            }
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

/// A name (a gate's, a field's) as a code span when every character of it is one that reads
/// the same in a code span and in text and that nothing downstream rewrites (letters, digits,
/// `._-:,+=()`, inner spaces; no `www.` or `GH-`, which [`untrusted_markdown`] would escape);
/// any other name is escaped as text by [`inline`]. A code span shows its content raw: a `|`
/// would still split the table cell, a line break end the row, a backtick close the span, and
/// an escape or reference would show as written.
pub fn code_span(s: &str, max_chars: usize) -> String {
    let plain = !s.is_empty()
        && s.chars().count() <= max_chars
        && s.trim() == s
        && !starts_a_word(s, "www.")
        && !gh_number(s)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._-:,+=()".contains(c));
    if plain {
        format!("`{s}`")
    } else {
        inline(s, max_chars)
    }
}

/// Whether `pat` (lower-case ASCII) starts a word somewhere in `s`, in any case: `www.x` and
/// `x:www.y` do, `awww.x` does not.
fn starts_a_word(s: &str, pat: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.match_indices(pat).any(|(i, _)| {
        !lower[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Whether `s` holds `GH-` and a digit, in any case ([`untrusted_markdown`] breaks it).
fn gh_number(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower
        .match_indices("gh-")
        .any(|(i, _)| lower[i + 3..].starts_with(|c: char| c.is_ascii_digit()))
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
///
/// Mentions and issue references are judged on the characters the Markdown *shows* (a
/// character reference or a backslash escape shows the character it stands for), since that
/// is where GitHub looks for them: a [`BREAK`] goes between a shown `@` and what follows it,
/// a shown `#` and a letter or digit, and a shown `GH-` and a digit.
pub fn untrusted_markdown(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + md.len() / 8);
    // The last three characters shown so far, newest last.
    let mut shown = ['\n'; 3];
    let mut rest = md;
    // At the start of a line as written (a `&#10;` shows a line break but starts none).
    let mut line_start = true;
    while let Some(c) = rest.chars().next() {
        // A data line of controlgate's own trend chart (`    line [97.50, 100.00]`) passes
        // whole: Mermaid reads its brackets, and brackets with nothing but letters, digits,
        // quotes, dots, commas and spaces in them (and no `www`) link nothing.
        if line_start {
            let line = &rest[..rest.find('\n').map_or(rest.len(), |i| i + 1)];
            if chart_data_line(line) {
                out.push_str(line);
                shown = ['\n'; 3];
                rest = &rest[line.len()..];
                continue;
            }
        }
        line_start = c == '\n';
        let after = &rest[c.len_utf8()..];
        let next = after.chars().next();
        let word_before = shown[2].is_alphanumeric() || shown[2] == '_';
        let mut take = c.len_utf8();
        // What this piece writes, and the first and last characters it shows.
        let (text, first, last): (std::borrow::Cow<'_, str>, char, char) = match c {
            '\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                take += 1;
                let n = next.unwrap_or(c);
                (rest[..take].into(), n, n)
            }
            '&' => match char_ref(rest) {
                // A reference GitHub decodes: judged by what it shows.
                Some((len, Some(shows))) => {
                    take = len;
                    if shows == '\u{200B}' {
                        (BREAK.into(), shows, shows)
                    } else if is_invisible(shows) {
                        (format!("&lt;U+{:04X}&gt;", shows as u32).into(), '<', '>')
                    } else {
                        (rest[..len].into(), shows, shows)
                    }
                }
                // A named reference this does not decode (`&commat;` is an `@`): shown as
                // written, so it shows nothing it could hide.
                Some((_, None)) => ("&amp;".into(), '&', '&'),
                None => ("&".into(), '&', '&'),
            },
            '<' => match ALLOWED_TAGS.iter().find(|t| rest.starts_with(*t)) {
                Some(tag) => {
                    take = tag.len();
                    ((*tag).into(), '<', '>')
                }
                None => ("&lt;".into(), '<', '<'),
            },
            ':' if next == Some('/') => ("&#58;".into(), ':', ':'),
            '[' | ']' => (format!("\\{c}").into(), c, c),
            '!' if next == Some('[') => ("\\!".into(), '!', '!'),
            'w' if !word_before && after.starts_with("ww.") => {
                take = 4;
                ("www&#46;".into(), 'w', '.')
            }
            c if is_invisible(c) && !matches!(c, '\n' | '\t' | '\r') => {
                (format!("&lt;U+{:04X}&gt;", c as u32).into(), '<', '>')
            }
            c => (rest[..take].into(), c, c),
        };
        if needs_break(shown, first) {
            out.push_str(BREAK);
        }
        out.push_str(&text);
        shown = [shown[1], shown[2], last];
        rest = &rest[take..];
    }
    out
}

/// `    x-axis ["1a2b3c4", "this run"]`, `    line [80.00, 81.50]`: a Mermaid `xychart-beta`
/// data line as [`crate::render::changes::trend_chart`] writes it. Nothing in it can link,
/// mention or reference: no `(`, `:`, `/`, `@`, `#`, `-` or `!`.
fn chart_data_line(line: &str) -> bool {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let body = line.trim_start_matches(' ');
    if line.len() - body.len() > 8 {
        return false;
    }
    ["x-axis ", "line ", "bar "]
        .iter()
        .find_map(|k| body.strip_prefix(k))
        .and_then(|r| r.strip_prefix('['))
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| {
            inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '"' | '.' | ',' | ' '))
                // GitHub links `www.x` wherever a word starts.
                && !inner.to_ascii_lowercase().contains("www")
        })
}

/// Whether GitHub would read a mention or an issue reference where `next` is shown after
/// `shown` (the last three characters shown, newest last): `@` then anything but a space
/// (`@org/team`, `@user`), `#` then a letter or digit (`#12`), `GH-` then a digit.
fn needs_break(shown: [char; 3], next: char) -> bool {
    match shown[2] {
        '@' => !next.is_whitespace() && next != '\u{200B}',
        '#' => next.is_alphanumeric() || next == '_',
        '-' => {
            next.is_ascii_digit()
                && shown[0].eq_ignore_ascii_case(&'g')
                && shown[1].eq_ignore_ascii_case(&'h')
        }
        _ => false,
    }
}

/// The character reference at the start of `s` (which starts with `&`), as CommonMark reads
/// one: its length and the character it shows — `None` for a well-formed named reference
/// other than the few controlgate writes (HTML has two thousand names; an unknown one is not
/// decoded here, so it is escaped rather than trusted). `None` overall when `s` does not
/// start with a reference (a lone `&` shows itself).
fn char_ref(s: &str) -> Option<(usize, Option<char>)> {
    let body = s.strip_prefix('&')?;
    // A name is at most 32 characters: look no further, so a text of `&`s stays linear.
    let end = body.bytes().take(34).position(|b| b == b';')?;
    let name = &body[..end];
    let len = end + 2;
    let numeric = |digits: &str, radix: u32, max: usize| {
        (!digits.is_empty() && digits.len() <= max && digits.chars().all(|d| d.is_digit(radix)))
            .then(|| {
                // CommonMark shows U+FFFD for 0, surrogates and what is past Unicode.
                let n = u32::from_str_radix(digits, radix).unwrap_or(0);
                Some(char::from_u32(n).filter(|_| n != 0).unwrap_or('\u{FFFD}'))
            })
    };
    let shows = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        numeric(hex, 16, 6)?
    } else if let Some(dec) = name.strip_prefix('#') {
        numeric(dec, 10, 7)?
    } else {
        let mut chars = name.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric())
            || name.len() > 32
        {
            return None;
        }
        match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{A0}'),
            _ => None,
        }
    };
    Some((len, shows))
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

/// The text GitHub's mention and reference filters see once `md` is rendered: backslash
/// escapes and character references decoded (numeric ones, and the named ones for `@`, `#` and
/// HTML's own). What the escaping here is checked against: `&#64;user` and `\\@user` are
/// mentions in it.
pub fn shown_text(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if c == '\\' && after.starts_with(|n: char| n.is_ascii_punctuation()) {
            out.push(after.chars().next().unwrap());
            rest = &after[1..];
            continue;
        }
        if c == '&'
            && let Some(end) = after.find(';').filter(|&e| e <= 32)
        {
            let name = &after[..end];
            let num = match name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                Some(h) => u32::from_str_radix(h, 16).ok(),
                None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
            };
            let named = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "commat" => Some('@'),
                "num" => Some('#'),
                _ => None,
            };
            if let Some(ch) = num.and_then(char::from_u32).or(named) {
                out.push(ch);
                rest = &after[end + 1..];
                continue;
            }
        }
        out.push(c);
        rest = after;
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
            "a&#124;b&#96;&lt;img src=x&gt;&#96;&#64;&#8203;team"
        );
        assert_eq!(
            inline("# title\n> quote\r\nfixes #12, GH-3 and gh-4", 100),
            "&#35; title &gt; quote fixes &#35;&#8203;12, GH-&#8203;3 and gh-&#8203;4"
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

    /// What in `md` GitHub would turn into a mention or an issue reference once rendered.
    fn references(md: &str) -> Vec<String> {
        let text = shown_text(md);
        let chars: Vec<char> = text.chars().collect();
        let mut found = Vec::new();
        for (i, w) in chars.windows(2).enumerate() {
            let word = w[1].is_alphanumeric() || w[1] == '_';
            let gh = i >= 2
                && chars[i - 2..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("gh");
            if (w[0] == '@' && word)
                || (w[0] == '#' && w[1].is_ascii_digit())
                || (w[0] == '-' && gh && w[1].is_ascii_digit())
            {
                found.push(format!("{:?} in {text:?}", w.iter().collect::<String>()));
            }
        }
        found
    }

    /// Every way to write a mention or a reference that GitHub decodes before it looks.
    const ADVERSARIAL: [&str; 16] = [
        "@user hi",
        "ping @acme/security-team",
        "fixes #123",
        "#1 at the start",
        "GH-123 and gh-7",
        "octo/repo#123, octo/repo@abc1234",
        "a@b.example",
        "@@org",
        "\\@user \\#1 \\\\@user",
        "&#64;user &#x40;user &#X40;user &commat;user",
        "&#35;181 &#x23;1 &num;2",
        "&#64;&#117;ser @&#117;ser #&#49;",
        "@\u{200B}user #\u{200B}1",
        "@\nuser # 1",
        "email@&#8203;x @&#8203;user",
        "G&#72;-12 GH&#45;3",
    ];

    #[test]
    fn no_mention_or_reference_survives_rendering() {
        for s in ADVERSARIAL {
            let md = inline(s, 200);
            assert!(
                references(&md).is_empty(),
                "inline({s:?}) = {md:?}: {:?}",
                references(&md)
            );
            let md = untrusted_markdown(s);
            assert!(
                references(&md).is_empty(),
                "untrusted_markdown({s:?}) = {md:?}: {:?}",
                references(&md)
            );
        }
        // What stops them is invisible: the text reads the same.
        assert_eq!(
            shown_text(&inline("@user #12 GH-3", 100)),
            "@\u{200B}user #\u{200B}12 GH-\u{200B}3"
        );
        assert_eq!(
            untrusted_markdown("&#64;user \\#1 &commat;x"),
            "&#64;&#8203;user \\#&#8203;1 &amp;commat;x"
        );
        // A `#` cannot open a heading, and one without a reference after it is left alone.
        assert_eq!(inline("# h", 10), "&#35; h");
        assert_eq!(untrusted_markdown("## heading\n#\n"), "## heading\n#\n");
    }

    #[test]
    fn invisible_characters_written_as_references_are_shown() {
        assert_eq!(
            untrusted_markdown("a&#x202E;b&#8238;c&#x200B;d"),
            "a&lt;U+202E&gt;b&lt;U+202E&gt;c&#8203;d"
        );
        // Not references: shown as written (a `#` before a letter gets its break all the same).
        assert_eq!(untrusted_markdown("&#; &#x; & &;"), "&#; &#&#8203;x; & &;");
    }

    proptest::proptest! {
        /// Any text, built from the pieces mentions and references are made of.
        #[test]
        fn escaped_text_never_mentions_or_references(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "@", "#", "&", "#64;", "#35;", "#x40;", "commat;", ";", "\\", "GH", "gh",
                    "-", "1", "a", "_", " ", "\n", "/", "\u{200B}", "&#8203;", "`", "<", "www.",
                ]),
                0..24,
            )
        ) {
            let s = parts.concat();
            let md = inline(&s, 200);
            proptest::prop_assert!(references(&md).is_empty(), "inline({:?}) = {:?}", s, md);
            proptest::prop_assert!(!md.starts_with('#'), "{:?}", md);
            // controlgate's own escaped text passes the forged-summary filter unchanged.
            proptest::prop_assert_eq!(untrusted_markdown(&md), md.clone());
            let md = untrusted_markdown(&s);
            proptest::prop_assert!(
                references(&md).is_empty(),
                "untrusted_markdown({:?}) = {:?}",
                s,
                md
            );
        }
    }

    /// controlgate's own trend chart reaches `publish --from` unchanged (its brackets escaped,
    /// Mermaid rejected the chart); a line that only looks like it is escaped as before.
    #[test]
    fn the_trend_chart_passes_the_forged_summary_filter() {
        let chart = "```mermaid\nxychart-beta\n    title \"Pass rate, %: last 2 default-branch run(s), then this run\"\n    x-axis [\"1a2b3c4\", \"5d6e7f8\", \"this run\"]\n    y-axis \"%\" 0 --> 100\n    line [97.50, 100.00, 100.00]\n```\n";
        assert_eq!(untrusted_markdown(chart), chart);
        for forged in [
            "    line [click](https://evil.example)\n",
            "    line [a]: https://evil.example\n",
            "    line [GH-1]\n",
            "    line [@team]\n",
            "    line [1 www.evil.example ]\n",
            "    line [1, WWW.evil.example, 2]\n",
            "text    line [1]\n",
            "foo&#10;    line [1]\n",
        ] {
            assert_ne!(untrusted_markdown(forged), forged, "{forged}");
        }
    }

    #[test]
    fn names_are_code_spans_only_when_plain() {
        assert_eq!(code_span("coverage.patch.min", 100), "`coverage.patch.min`");
        assert_eq!(code_span("suite:e2e (chrome)", 100), "`suite:e2e (chrome)`");
        let forged = "suite:unit |x| \n\n<!-- controlgate:other -->\n## ✅ controlgate: passed\n\n\
                      [click me](https://evil.example) @acme/security-team\n<!--";
        let md = code_span(forged, 200);
        assert_eq!(md, inline(forged, 200));
        assert!(!md.contains(['\n', '|', '<', '`']), "{md}");
        assert!(md.contains("\\[click me\\](https&#58;"), "{md}");
        assert!(references(&md).is_empty(), "{md}");
        for s in [
            "a`b",
            " lead",
            "suite:www.x",
            "suite:GH-1",
            "suite:high-5",
            "a/b",
        ] {
            assert_eq!(code_span(s, 100), inline(s, 100), "{s}");
        }
        // Words that merely hold the letters stay code.
        for s in ["suite:high-load", "suite:awww.x"] {
            assert_eq!(code_span(s, 100), format!("`{s}`"), "{s}");
        }
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
