//! Checks beyond the schema: control IDs, globs, regexes, suites and percentages. Each error
//! starts with the key path (`rules[1].match`) that [`super::parsing`] locates by line.

use super::document::Config;
use crate::model::controls;
use crate::render::escape::is_invisible;

/// Longest suite name, in characters: a name, not a description.
const MAX_SUITE_NAME: usize = 100;

pub(super) fn validate(config: &Config) -> Result<(), String> {
    let check = |tag: &str, what: &str| match controls::lookup(tag) {
        Ok(_) => Ok(()),
        Err(Some(id)) => Err(format!("{what}: `{tag}` ({id}) is not a SOC 2 criterion")),
        Err(None) => Err(format!(
            "{what}: `{tag}` is not a control ID (expected e.g. CC6.1)"
        )),
    };
    if let Some(req) = &config.controls.required {
        for t in &req.value {
            check(t, "controls.required")?;
        }
    }
    for (i, rule) in config.rules.iter().enumerate() {
        crate::glob::parse(&rule.pattern, rule.on.glob_subject())
            .map_err(|e| format!("rules[{i}].match: bad glob `{}`: {e}", rule.pattern))?;
        if rule.controls.is_empty() {
            return Err(format!("rules[{i}]: `controls` is empty"));
        }
        for t in &rule.controls {
            check(t, &format!("rules[{i}].controls"))?;
        }
    }
    for (i, suite) in config.suites.iter().enumerate() {
        let what = format!("suites[{i}]");
        if suite.name.trim().is_empty() {
            return Err(format!("{what}.name is empty"));
        }
        // The name becomes the gate `suite:<name>` in the summary, the log group's title and
        // the evidence: one line of text. A line break or an invisible character in it is a
        // mistake or an attempt to forge the summary (which escapes it regardless). Neither the
        // name nor the character is echoed raw: the message goes to the log.
        if let Some(c) = suite.name.chars().find(|&c| is_invisible(c)) {
            return Err(format!(
                "{what}.name: contains U+{:04X} (a line break, control or invisible \
                 character); a suite name is one line of text",
                c as u32
            ));
        }
        let chars = suite.name.chars().count();
        if chars > MAX_SUITE_NAME {
            return Err(format!(
                "{what}.name: {chars} characters; a suite name is at most {MAX_SUITE_NAME}"
            ));
        }
        if config.suites[..i].iter().any(|s| s.name == suite.name) {
            return Err(format!("{what}.name: `{}` is used twice", suite.name));
        }
        if suite.run.trim().is_empty() {
            return Err(format!("{what}.run is empty"));
        }
        if suite.junit.is_empty() {
            return Err(format!(
                "{what} (`{}`): `junit` is empty: name the result files the command writes",
                suite.name
            ));
        }
        for g in suite.junit.iter().chain(&suite.coverage) {
            crate::glob::parse(g, crate::glob::Subject::Path)
                .map_err(|e| format!("{what}: bad glob `{g}`: {e}"))?;
        }
        for t in &suite.controls {
            check(t, &format!("{what}.controls"))?;
        }
    }
    if let Some(p) = &config.tags.marker_pattern {
        let re = regex::Regex::new(p).map_err(|e| format!("tags.marker_pattern: {e}"))?;
        if re.captures_len() < 2 {
            return Err("tags.marker_pattern: needs a capture group for the tag".into());
        }
    }
    let api = &config.api;
    for (what, ids) in [
        ("api.controls.coverage", &api.controls.coverage),
        ("api.controls.negative_auth", &api.controls.negative_auth),
        (
            "api.controls.confidential_fields",
            &api.controls.confidential_fields,
        ),
    ] {
        for t in ids {
            check(t, what)?;
        }
    }
    for (i, g) in api.ignore_paths.iter().enumerate() {
        crate::glob::parse(g, crate::glob::Subject::Path)
            .map_err(|e| format!("api.ignore_paths[{i}]: bad glob `{g}`: {e}"))?;
    }
    config.tickets.validate()?;
    crate::redact::Redactor::new(&[], &config.redact.patterns).map_err(|e| e.to_string())?;
    // Every threshold is a finite percentage (YAML's `.nan` and `.inf` are numbers): a NaN
    // compares false both ways and would make a gate pass or fail by accident.
    let cov = &config.coverage;
    for (what, gate) in [
        ("tests.min_pass_rate", &config.tests.min_pass_rate),
        ("api.min_coverage", &api.min_coverage),
        ("coverage.project.min", &cov.project.min),
        ("coverage.project.max_drop", &cov.project.max_drop),
        ("coverage.patch.min", &cov.patch.min),
    ] {
        if let Some(g) = gate
            && !(g.value.is_finite() && (0.0..=100.0).contains(&g.value))
        {
            return Err(format!(
                "{what}: {} is not a percentage (a number from 0 to 100)",
                g.value
            ));
        }
    }
    if let Some(e) = &config.expect {
        match (e.runs, e.legs.is_empty()) {
            (None, true) => return Err("expect: give `runs: N` or `legs: [names]`".into()),
            (Some(0), _) => return Err("expect.runs: 0 is not a number of legs".into()),
            (Some(n), false) if n != e.legs.len() => {
                return Err(format!(
                    "expect: `runs: {n}` and {} named legs disagree",
                    e.legs.len()
                ));
            }
            _ => {}
        }
    }
    if config.tests.history == Some(0) || config.tests.history.is_some_and(|n| n > 1000) {
        return Err(format!(
            "tests.history: {} is not a number of runs from 1 to 1000",
            config.tests.history.unwrap_or_default()
        ));
    }
    if cov.renames.threshold > 100 {
        return Err(format!(
            "coverage.renames.threshold: {} is not a percentage (0-100)",
            cov.renames.threshold
        ));
    }
    Ok(())
}

#[cfg(test)]
mod unit {
    use crate::config::parsing::parse_str;

    #[test]
    fn invalid_values_are_rejected_with_the_key() {
        let e = parse_str("controls:\n  required: [CC9.5]\n").unwrap_err();
        assert!(
            e.contains("controls.required: `CC9.5` (CC9.5) is not a SOC 2 criterion"),
            "{e}"
        );
        let e = parse_str("rules:\n  - match: 'a['\n    controls: [CC6.1]\n").unwrap_err();
        assert!(e.contains("rules[0].match: bad glob"), "{e}");
        let e = parse_str("tests:\n  min_pass_rate: 140\n").unwrap_err();
        assert!(e.contains("not a percentage"), "{e}");
        let e = parse_str("tags:\n  marker_pattern: 'cc\\d'\n").unwrap_err();
        assert!(e.contains("capture group"), "{e}");
    }

    /// A suite name is one line of plain text: it becomes the gate `suite:<name>` in the
    /// summary, so a line break there could forge a heading or a marker.
    #[test]
    fn a_suite_name_is_one_short_line() {
        let suite = |name: &str| {
            format!(
                "suites:\n  - name: {}\n    run: 'true'\n    junit: [r.xml]\n",
                serde_json::to_string(name).unwrap()
            )
        };
        for (name, why) in [
            (
                "unit |x| \n\n<!-- controlgate:other -->\n## ✅ controlgate: passed\n<!--",
                "U+000A",
            ),
            ("unit\r", "U+000D"),
            ("unit\u{1b}[31m", "U+001B"),
            ("unit\u{202E}gpj.exe", "U+202E"),
            ("un\u{200B}it", "U+200B"),
        ] {
            let e = parse_str(&suite(name)).unwrap_err();
            assert!(
                e.contains("suites[0].name: contains") && e.contains(why),
                "{e}"
            );
            assert!(
                !e.contains("controlgate:other"),
                "the name is not echoed: {e}"
            );
        }
        let e = parse_str(&suite(&"u".repeat(101))).unwrap_err();
        assert!(e.contains("101 characters"), "{e}");
        // Ordinary names, punctuation and all, are fine.
        for name in ["unit", "e2e (chrome)", "api: contract/v2", &"é".repeat(100)] {
            parse_str(&suite(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
