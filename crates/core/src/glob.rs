//! The one glob dialect of controlgate (globset syntax): on paths `*` and `?` stay within one
//! segment and `**` crosses segments; on names (test ids, classnames, suites) `*` matches anything.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// What a glob is matched against; decides whether `/` separates segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// File paths and request paths: `reports/*.xml` does not match `reports/old/a.xml`.
    Path,
    /// Names that are not paths: `com.acme.*` matches `com.acme.auth/login`.
    Name,
}

/// Parses `pattern` in the dialect for `subject`.
pub fn parse(pattern: &str, subject: Subject) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(subject == Subject::Path)
        .build()
}

/// A compiled matcher for one pattern.
pub fn matcher(pattern: &str, subject: Subject) -> Result<GlobMatcher, globset::Error> {
    Ok(parse(pattern, subject)?.compile_matcher())
}

/// Quotes every meta character of `literal`, so a file name such as `report[1].xml` can be
/// passed on as a pattern that matches exactly that name.
pub fn escape(literal: &str) -> String {
    globset::escape(literal)
}

/// Whether `component` (one path segment of a pattern) holds a meta character.
pub fn is_literal(component: &str) -> bool {
    !component.contains(['*', '?', '[', ']', '{', '}', '\\'])
}

/// The text `pattern` asks a subject to contain, when it is `*text*` on a name (where `*`
/// matches anything): such a glob matches exactly the subjects holding `text`.
pub fn contained_text(pattern: &str, subject: Subject) -> Option<&str> {
    let text = pattern.strip_prefix('*')?.strip_suffix('*')?;
    (subject == Subject::Name && !text.is_empty() && is_literal(text)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_within_a_path_segment_but_not_within_a_name() {
        let path = matcher("reports/*.xml", Subject::Path).unwrap();
        assert!(path.is_match("reports/a.xml"));
        assert!(!path.is_match("reports/old/a.xml"));
        let deep = matcher("reports/**/*.xml", Subject::Path).unwrap();
        assert!(deep.is_match("reports/old/a.xml"));
        assert!(deep.is_match("reports/a.xml"));
        let name = matcher("com.acme.*", Subject::Name).unwrap();
        assert!(name.is_match("com.acme.auth/login"));
    }

    #[test]
    fn escaped_names_match_only_themselves() {
        let m = matcher(&escape("out/report[1]*.xml"), Subject::Path).unwrap();
        assert!(m.is_match("out/report[1]*.xml"));
        assert!(!m.is_match("out/report1x.xml"));
        assert!(is_literal("reports") && !is_literal("*.xml") && !is_literal("a[1]"));
    }

    #[test]
    fn only_star_text_star_on_a_name_is_a_contained_text() {
        assert_eq!(contained_text("*auth::*", Subject::Name), Some("auth::"));
        assert_eq!(contained_text("*auth*", Subject::Path), None);
        for other in ["**", "*", "*a*b*", "a*", "*a", "*[a]*", "*a?*", "*\\**"] {
            assert_eq!(contained_text(other, Subject::Name), None, "{other}");
        }
    }

    #[test]
    fn a_bad_pattern_is_an_error() {
        assert!(parse("a[", Subject::Path).is_err());
        assert!(parse("{a,b", Subject::Name).is_err());
    }
}
