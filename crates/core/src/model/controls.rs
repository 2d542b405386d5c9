//! The SOC 2 Trust Services Criteria catalog, built into the binary from `data/controls.tsv`,
//! and tag normalisation (`cc6-1`, `CC6.1`, `cc6_1` → `CC6.1`).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const CATALOG_TSV: &str = include_str!("../../data/controls.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    Security,
    Availability,
    Confidentiality,
    #[serde(rename = "Processing Integrity")]
    ProcessingIntegrity,
    Privacy,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Security => "Security",
            Category::Availability => "Availability",
            Category::Confidentiality => "Confidentiality",
            Category::ProcessingIntegrity => "Processing Integrity",
            Category::Privacy => "Privacy",
        }
    }

    fn parse(s: &str) -> Option<Category> {
        Some(match s {
            "Security" => Category::Security,
            "Availability" => Category::Availability,
            "Confidentiality" => Category::Confidentiality,
            "Processing Integrity" => Category::ProcessingIntegrity,
            "Privacy" => Category::Privacy,
            _ => return None,
        })
    }
}

/// A criterion ID in canonical form (`CC6.1`). Ordered as the catalog lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ControlId {
    series: Series,
    major: u8,
    minor: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Series {
    CC,
    A,
    C,
    PI,
    P,
}

impl Series {
    fn as_str(self) -> &'static str {
        match self {
            Series::CC => "CC",
            Series::A => "A",
            Series::C => "C",
            Series::PI => "PI",
            Series::P => "P",
        }
    }
}

impl ControlId {
    /// Parses a tag into a TSC-shaped ID, case- and punctuation-insensitively: the series
    /// letters, the criterion group, one separator (`.`, `-`, `_`, space or none) and the
    /// number. Does not check the catalog: `cc9-5` parses (and is then reported as unknown).
    pub fn parse_shape(tag: &str) -> Option<ControlId> {
        let t = tag.trim();
        let b = t.as_bytes();
        let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let series = match t[..letters].to_ascii_uppercase().as_str() {
            "CC" => Series::CC,
            "A" => Series::A,
            "C" => Series::C,
            "PI" => Series::PI,
            "P" => Series::P,
            _ => return None,
        };
        let rest = &b[letters..];
        let d1 = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if d1 == 0 || d1 > 2 {
            return None;
        }
        let mut i = d1;
        if i < rest.len() && matches!(rest[i], b'.' | b'-' | b'_' | b' ') {
            i += 1;
        } else if d1 == 2 {
            // "cc61" is read as CC6.1 only without a separator and with one digit each.
            let major = rest[0] - b'0';
            let minor_digits = &rest[1..];
            if minor_digits.len() == 1 && rest.len() == 2 {
                return Some(ControlId {
                    series,
                    major,
                    minor: minor_digits[0] - b'0',
                });
            }
            return None;
        }
        let minor_bytes = &rest[i..];
        if minor_bytes.is_empty()
            || minor_bytes.len() > 2
            || !minor_bytes.iter().all(u8::is_ascii_digit)
        {
            return None;
        }
        let num = |s: &[u8]| s.iter().fold(0u8, |acc, d| acc * 10 + (d - b'0'));
        Some(ControlId {
            series,
            major: num(&rest[..d1]),
            minor: num(minor_bytes),
        })
    }

    /// The catalog entry for this ID, if the criterion exists.
    pub fn control(self) -> Option<&'static Control> {
        catalog().iter().find(|c| c.id == self)
    }

    /// CC1–CC5 describe the organisation (governance, risk assessment, monitoring), not system
    /// behaviour a test can show.
    pub fn is_organisational(self) -> bool {
        self.series == Series::CC && self.major <= 5
    }
}

impl std::fmt::Display for ControlId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}.{}", self.series.as_str(), self.major, self.minor)
    }
}

impl Serialize for ControlId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Only the canonical form (`CC6.1`, as [`Serialize`] writes it): a report read back is not
/// a place for tag normalisation.
impl<'de> Deserialize<'de> for ControlId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        ControlId::parse_shape(&s)
            .filter(|id| id.to_string() == s)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("`{s}` is not a criterion ID such as CC6.1"))
            })
    }
}

/// One criterion of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Control {
    pub id: ControlId,
    pub category: Category,
    pub summary: &'static str,
    pub organisational: bool,
}

/// The 61 criteria, in catalog order.
pub fn catalog() -> &'static [Control] {
    static CATALOG: OnceLock<Vec<Control>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        CATALOG_TSV
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut cols = l.split('\t');
                let (id, cat, summary) = (cols.next(), cols.next(), cols.next());
                let id = id
                    .and_then(ControlId::parse_shape)
                    .expect("data/controls.tsv: bad id");
                let category = cat
                    .and_then(Category::parse)
                    .expect("data/controls.tsv: bad category");
                let summary = summary.expect("data/controls.tsv: missing summary");
                Control {
                    id,
                    category,
                    summary,
                    organisational: id.is_organisational(),
                }
            })
            .collect()
    })
}

/// Looks a tag up in the catalog: `Ok` for a known criterion, `Err(Some(id))` for a TSC-shaped
/// ID that does not exist (`cc9-5`), `Err(None)` for text that is not shaped like one.
pub fn lookup(tag: &str) -> Result<&'static Control, Option<ControlId>> {
    match ControlId::parse_shape(tag) {
        Some(id) => id.control().ok_or(Some(id)),
        None => Err(None),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn catalog_has_the_61_criteria_in_order() {
        let c = catalog();
        assert_eq!(c.len(), 61);
        assert_eq!(c[0].id.to_string(), "CC1.1");
        assert_eq!(c[60].id.to_string(), "P8.1");
        let mut sorted: Vec<_> = c.iter().map(|c| c.id).collect();
        sorted.sort();
        assert_eq!(sorted, c.iter().map(|c| c.id).collect::<Vec<_>>());
        assert_eq!(c.iter().filter(|c| c.organisational).count(), 17);
        assert_eq!(
            c.iter().filter(|c| c.category == Category::Privacy).count(),
            18
        );
    }

    #[test]
    fn tags_normalise_case_and_punctuation_insensitively() {
        for tag in [
            "cc6-1", "CC6.1", "cc6_1", "CC6-1", "Cc6 1", " cc6.1 ", "cc61",
        ] {
            assert_eq!(
                lookup(tag).map(|c| c.id.to_string()),
                Ok("CC6.1".into()),
                "{tag}"
            );
        }
        assert_eq!(lookup("pi1-3").unwrap().id.to_string(), "PI1.3");
        assert_eq!(lookup("p6_7").unwrap().id.to_string(), "P6.7");
        assert_eq!(lookup("a1.2").unwrap().category, Category::Availability);
    }

    #[test]
    fn unknown_but_shaped_ids_are_distinguished_from_non_ids() {
        assert_eq!(
            lookup("cc9-5").unwrap_err().map(|i| i.to_string()),
            Some("CC9.5".into())
        );
        assert_eq!(
            lookup("CC6.10").unwrap_err().map(|i| i.to_string()),
            Some("CC6.10".into())
        );
        for junk in [
            "smoke",
            "security",
            "ISO27001-A.9.4.2",
            "cc",
            "cc6",
            "cc6.",
            "cc6.1.2",
            "x6.1",
            "",
        ] {
            assert_eq!(lookup(junk).unwrap_err(), None, "{junk}");
        }
    }

    #[test]
    fn organisational_criteria_are_cc1_to_cc5() {
        assert!(lookup("CC5.3").unwrap().organisational);
        assert!(!lookup("CC6.1").unwrap().organisational);
        assert!(!lookup("P1.1").unwrap().organisational);
    }
}
