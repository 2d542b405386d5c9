//! The gate-setting wrapper [`Gated`]: a bare value, or the long form that adds `informational`
//! and `when_unavailable`.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::model::gate::{GatePolicy, WhenUnavailable};

/// A gate setting: either the bare value (`min_pass_rate: 95`) or the long form
/// `{ value: 95, informational: true, when_unavailable: pass }`. An informational gate is
/// reported but never fails the run; `when_unavailable` (default `fail`) is the outcome when
/// the gate cannot be evaluated (see [`crate::model::gate`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Gated<T> {
    pub value: T,
    pub informational: bool,
    pub when_unavailable: WhenUnavailable,
}

impl<T> Gated<T> {
    pub fn new(value: T) -> Self {
        Gated {
            value,
            informational: false,
            when_unavailable: WhenUnavailable::Fail,
        }
    }

    /// How the gate's outcome counts.
    pub fn policy(&self) -> GatePolicy {
        GatePolicy {
            informational: self.informational,
            when_unavailable: self.when_unavailable,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GatedFull<T> {
    /// `result` is the name `coverage.patch.when_no_lines` has always used.
    #[serde(alias = "result")]
    value: T,
    #[serde(default)]
    informational: bool,
    #[serde(default)]
    when_unavailable: WhenUnavailable,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Gated<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml_ng::Value::deserialize(d)?;
        let full = matches!(&v, serde_yaml_ng::Value::Mapping(m)
        if m.keys().any(|k| k.as_str().is_some_and(|k| {
            matches!(k, "value" | "result" | "informational" | "when_unavailable")
        })));
        if full {
            let f: GatedFull<T> = serde_yaml_ng::from_value(v).map_err(D::Error::custom)?;
            Ok(Gated {
                value: f.value,
                informational: f.informational,
                when_unavailable: f.when_unavailable,
            })
        } else {
            serde_yaml_ng::from_value(v)
                .map(Gated::new)
                .map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::config::parsing::parse_str;

    #[test]
    fn gates_take_bare_or_informational_form() {
        let c = parse_str(
            "tests:\n  min_pass_rate: {value: 95, informational: true}\ncontrols:\n  required: [cc6-1, CC8.1]\n",
        )
        .unwrap();
        assert_eq!(
            c.min_pass_rate(),
            Gated {
                informational: true,
                ..Gated::new(95.0)
            }
        );
        let req: Vec<String> = c
            .required_controls()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(req, ["CC6.1", "CC8.1"]);
        assert!(!c.controls.required.unwrap().informational);
    }
}
