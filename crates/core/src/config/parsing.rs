//! Parsing a config document into [`Config`]: errors located by line, with a did-you-mean
//! suggestion for an unknown key.

// Parsed with `serde_yaml_ng`, a maintained fork of the archived `serde_yaml` with the same API
// and YAML 1.2 behaviour via `unsafe-libyaml`. Unknown keys are errors (`deny_unknown_fields`).

use std::path::Path;

use super::document::Config;
use super::validation::validate;
use crate::error::{Error, Location};

/// Parses and validates a config document. `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let err = |location: Location, message: String| Error::Config {
        path: path.to_owned(),
        location,
        message,
    };
    crate::ingest::yaml::check_depth(text).map_err(|e| err(e.location, e.message))?;
    let config: Config = if text.trim().is_empty() {
        Config::default()
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| {
            let location = Location {
                line: e.location().map(|l| l.line() as u64),
                byte: None,
            };
            err(location, with_suggestion(&e.to_string()))
        })?
    };
    validate(&config).map_err(|m| {
        let line = m.split(':').next().and_then(|key| key_line(text, key));
        err(Location { line, byte: None }, m)
    })?;
    Ok(config)
}

/// The line of a dotted key path (`controls.required`, `rules[1].match`) in the document: each
/// segment is looked up after the previous one (a `[n]` index is skipped). Best effort, for
/// messages only; `None` when not found.
fn key_line(text: &str, path: &str) -> Option<u64> {
    let mut from = 0usize;
    for seg in path.split('.') {
        let name = seg.split('[').next().unwrap_or(seg).trim();
        if name.is_empty() || name.contains(' ') {
            return None;
        }
        let found = text.lines().enumerate().skip(from).find(|(_, l)| {
            let l = l
                .trim_start()
                .trim_start_matches("- ")
                .trim_start_matches(['{', ' ']);
            l.strip_prefix(name)
                .is_some_and(|r| r.trim_start().starts_with(':'))
                || l.contains(&format!("{{{name}:"))
                || l.contains(&format!(", {name}:"))
        })?;
        from = found.0;
    }
    Some(from as u64 + 1)
}

/// serde says "unknown field `requird`, expected one of `required`, ..."; add the closest
/// expected name when it is close enough to be a typo.
fn with_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `").or_else(|| {
        message
            .find("unknown field `")
            .map(|i| &message[i + "unknown field `".len()..])
    }) else {
        return message.to_owned();
    };
    let Some((unknown, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (strsim::jaro_winkler(unknown, cand), cand))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, cand)) if score >= 0.8 => format!("{message} (did you mean `{cand}`?)"),
        _ => message.to_owned(),
    }
}

/// [`parse`] with a fixed path, the error as its message (for tests).
#[cfg(test)]
pub(super) fn parse_str(s: &str) -> Result<Config, String> {
    parse(s, Path::new("c.yml")).map_err(|e| e.to_string())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn unknown_keys_get_a_did_you_mean() {
        let e = parse_str("controls:\n  requird: [CC6.1]\n").unwrap_err();
        assert!(e.contains("did you mean `required`?"), "{e}");
        assert!(e.starts_with("config c.yml:2"), "{e}");
        let e =
            parse_str("controls:\n  required: {value: [CC6.1], informatonal: true}\n").unwrap_err();
        assert!(e.contains("did you mean `informational`?"), "{e}");
        let e = parse_str("zzz: 1\n").unwrap_err();
        assert!(
            e.contains("unknown field `zzz`") && !e.contains("did you mean"),
            "{e}"
        );
    }
}
