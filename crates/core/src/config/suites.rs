//! `suites:`: the test suites `controlgate run` executes, and their timeouts (`90`, `90s`, `15m`,
//! `1h`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// A test suite `controlgate run` executes (issue 4): a shell command and the result files it
/// leaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Suite {
    pub name: String,
    /// Run with `sh -c`.
    pub run: String,
    /// Relative to the workspace.
    #[serde(default)]
    pub working_directory: Option<PathBuf>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Result globs (any format `ingest::results` reads), relative to the suite's working
    /// directory. `results:` is the same key.
    #[serde(default, alias = "results")]
    pub junit: Vec<String>,
    #[serde(default)]
    pub coverage: Vec<String>,
    /// Controls every test of the suite evidences.
    #[serde(default)]
    pub controls: Vec<String>,
    /// `90`, `90s`, `15m`, `1h`.
    #[serde(default, deserialize_with = "de_timeout")]
    pub timeout: Option<Duration>,
}

fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let v = serde_yaml_ng::Value::deserialize(d)?;
    let text = match &v {
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        serde_yaml_ng::Value::String(s) => s.trim().to_owned(),
        serde_yaml_ng::Value::Null => return Ok(None),
        _ => return Err(D::Error::custom("timeout: expected seconds or e.g. `15m`")),
    };
    let (num, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text.as_str(), "s"),
    };
    let mult = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        u => {
            return Err(D::Error::custom(format!(
                "timeout: unknown unit `{u}` (s, m or h)"
            )));
        }
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && (n * mult).is_finite() => Ok(Some(Duration::from_secs_f64(n * mult))),
        _ => Err(D::Error::custom(format!(
            "timeout: `{text}` is not a positive duration"
        ))),
    }
}

#[cfg(test)]
mod unit {
    use std::path::Path;

    use super::*;
    use crate::config::parsing::parse_str;

    #[test]
    fn suites_parse_with_kebab_keys_and_durations() {
        let c = parse_str(
            "suites:\n  - name: unit\n    run: cargo test\n    working-directory: core\n    env: {RUST_LOG: debug}\n    junit: [target/junit.xml]\n    controls: [cc8-1]\n    timeout: 15m\n  - name: e2e\n    run: make e2e\n    junit: [out/*.xml]\n    timeout: 90\n",
        )
        .unwrap();
        assert_eq!(c.suites.len(), 2);
        assert_eq!(c.suites[0].timeout, Some(Duration::from_secs(900)));
        assert_eq!(c.suites[1].timeout, Some(Duration::from_secs(90)));
        assert_eq!(
            c.suites[0].working_directory.as_deref(),
            Some(Path::new("core"))
        );
        let e = parse_str("suites:\n  - name: a\n    run: x\n    junit: [a]\n    timout: 3\n")
            .unwrap_err();
        assert!(e.contains("did you mean `timeout`?"), "{e}");
        let e = parse_str("suites:\n  - name: a\n    run: x\n").unwrap_err();
        assert!(e.contains("`junit` is empty"), "{e}");
        let e =
            parse_str("suites:\n  - name: a\n    run: x\n    junit: [a]\n    controls: [cc9-5]\n")
                .unwrap_err();
        assert!(e.contains("suites[0].controls"), "{e}");
        let e = parse_str("suites:\n  - name: a\n    run: x\n    junit: [a]\n    timeout: 5d\n")
            .unwrap_err();
        assert!(e.contains("unknown unit"), "{e}");
    }
}
