//! Which controls a test evidences, and through which carrier (issue carriers a–e).

use globset::{GlobSet, GlobSetBuilder};
use regex::Regex;

use crate::config::{Config, RuleTarget};
use crate::model::controls::{self, ControlId};
use crate::model::{Carrier, PropertyScope, TestCase};
use crate::words;

/// A tag that looked like a control claim but named no criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub tag: String,
    pub carrier: Carrier,
}

/// The controls of one test, deduplicated by (control, carrier) and in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub controls: Vec<(ControlId, Carrier)>,
    pub unknown: Vec<Unknown>,
}

impl Mapping {
    fn add(&mut self, id: ControlId, carrier: Carrier) {
        if !self.controls.iter().any(|(i, c)| *i == id && *c == carrier) {
            self.controls.push((id, carrier));
        }
    }

    fn claim(&mut self, tag: &str, carrier: Carrier, strict: bool) {
        match controls::lookup(tag) {
            Ok(c) => self.add(c.id, carrier),
            Err(Some(_)) => self.unknown.push(Unknown {
                tag: tag.to_owned(),
                carrier,
            }),
            Err(None) if strict => self.unknown.push(Unknown {
                tag: tag.to_owned(),
                carrier,
            }),
            Err(None) => {}
        }
    }

    /// The distinct controls, catalog-ordered.
    pub fn control_ids(&self) -> Vec<ControlId> {
        let mut ids: Vec<ControlId> = self.controls.iter().map(|(i, _)| *i).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

thread_local! {
    /// A test's id for the rules that match on it, reused test after test: built and freed
    /// for each test, its allocation churned the allocator's pages (each freed page returned
    /// to the system at once, a TLB flush on every core).
    static ID: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Compiled tag sources and rules, built once per run.
pub struct Mapper {
    properties: Vec<String>,
    strict: Vec<String>,
    markers: Option<Markers>,
    /// (1-based number, pattern, controls) per config rule.
    rules: Vec<(usize, String, Vec<ControlId>)>,
    /// One automaton per rule target over all its rules' globs (indices into `rules`): a test
    /// is matched once per target, however many rules there are.
    rule_sets: Vec<(RuleTarget, GlobSet, Vec<usize>)>,
    /// Rules `*text*` on a name: a substring search, where the glob set would run a regex over
    /// every test (a fifth of a large run's analysis time with five such rules).
    contains: Vec<(RuleTarget, memchr::memmem::Finder<'static>, usize)>,
}

enum Markers {
    /// `[cc6-1]`, `@cc6-1`, or `cc6_1` as a token between non-alphanumerics.
    Default,
    Custom(Regex),
}

impl Mapper {
    /// Builds the mapper; the config was validated at load, so patterns compile.
    pub fn new(config: &Config) -> Result<Mapper, crate::Error> {
        let tags = &config.tags;
        let markers = if !tags.markers {
            None
        } else if let Some(p) = &tags.marker_pattern {
            Some(Markers::Custom(Regex::new(p).map_err(|e| {
                crate::Error::setting("tags.marker_pattern", e)
            })?))
        } else {
            Some(Markers::Default)
        };
        let mut rules = Vec::new();
        let mut by_target: Vec<(RuleTarget, GlobSetBuilder, Vec<usize>)> = Vec::new();
        let mut contains = Vec::new();
        for (i, r) in config.rules.iter().enumerate() {
            let glob = crate::glob::parse(&r.pattern, r.on.glob_subject())
                .map_err(|e| crate::Error::setting(format!("rules[{i}].pattern"), e))?;
            let ids = r
                .controls
                .iter()
                .filter_map(|t| ControlId::parse_shape(t))
                .collect();
            rules.push((i + 1, r.pattern.clone(), ids));
            if let Some(text) = crate::glob::contained_text(&r.pattern, r.on.glob_subject()) {
                let finder = memchr::memmem::Finder::new(text.as_bytes()).into_owned();
                contains.push((r.on, finder, i));
                continue;
            }
            let slot = match by_target.iter().position(|(t, _, _)| *t == r.on) {
                Some(k) => k,
                None => {
                    by_target.push((r.on, GlobSetBuilder::new(), Vec::new()));
                    by_target.len() - 1
                }
            };
            by_target[slot].1.add(glob);
            by_target[slot].2.push(i);
        }
        let mut rule_sets = Vec::with_capacity(by_target.len());
        for (target, builder, idx) in by_target {
            let set = builder
                .build()
                .map_err(|e| crate::Error::setting("rules", e))?;
            rule_sets.push((target, set, idx));
        }
        Ok(Mapper {
            properties: tags
                .properties
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            strict: tags
                .strict_properties
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
            markers,
            rules,
            rule_sets,
            contains,
        })
    }

    pub fn map(&self, case: &TestCase, suite_defaults: &[(ControlId, String)]) -> Mapping {
        let mut m = Mapping::default();
        for p in &case.properties {
            // Compared without a lowercased copy of each name (a report's properties are read
            // by the ten thousand; the configured names are few and lowercase already).
            let listed = |names: &[String]| names.iter().any(|n| n.eq_ignore_ascii_case(&p.name));
            if !listed(&self.properties) {
                continue;
            }
            let strict = listed(&self.strict);
            let carrier = match p.scope {
                PropertyScope::Case => Carrier::Property {
                    name: p.name.clone(),
                },
                PropertyScope::Suite => Carrier::SuiteProperty {
                    name: p.name.clone(),
                },
                PropertyScope::SystemOut => Carrier::SystemOut {
                    name: p.name.clone(),
                },
            };
            for tag in p
                .value
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            {
                if !tag.is_empty() {
                    m.claim(tag, carrier.clone(), strict);
                }
            }
        }
        if let Some(markers) = &self.markers {
            markers.scan(&case.name, Carrier::NameMarker, &mut m);
            markers.scan(&case.classname, Carrier::ClassnameMarker, &mut m);
        }
        if !self.rule_sets.is_empty() || !self.contains.is_empty() {
            ID.with_borrow_mut(|id| {
                id.clear();
                case.write_id(id);
                self.map_rules(case, id, &mut m);
            });
        }
        for (cid, suite) in suite_defaults {
            m.add(
                *cid,
                Carrier::SuiteDefault {
                    suite: suite.clone(),
                },
            );
        }
        m
    }

    /// The config rules `case` (its id `id`) matches, their controls added to `m`.
    fn map_rules(&self, case: &TestCase, id: &str, m: &mut Mapping) {
        let subject = |target: &RuleTarget| match target {
            RuleTarget::Id => id,
            RuleTarget::Classname => case.classname.as_str(),
            RuleTarget::Name => case.name.as_str(),
            RuleTarget::File => case.file.as_deref().unwrap_or(""),
            RuleTarget::Suite => case.suite.as_str(),
        };
        let mut hits: Vec<usize> = Vec::new();
        for (target, set, idx) in &self.rule_sets {
            let subject = subject(target);
            if !subject.is_empty() {
                hits.extend(set.matches(subject).into_iter().map(|k| idx[k]));
            }
        }
        for (target, finder, i) in &self.contains {
            if finder.find(subject(target).as_bytes()).is_some() {
                hits.push(*i);
            }
        }
        // Carriers in config order, whatever the targets.
        hits.sort_unstable();
        for i in hits {
            let (n, pattern, ids) = &self.rules[i];
            for cid in ids {
                m.add(
                    *cid,
                    Carrier::ConfigRule {
                        rule: *n,
                        pattern: pattern.clone(),
                    },
                );
            }
        }
    }
}

impl Markers {
    fn scan(&self, text: &str, carrier: Carrier, m: &mut Mapping) {
        match self {
            Markers::Custom(re) => {
                for caps in re.captures_iter(text) {
                    if let Some(tag) = caps.get(1) {
                        m.claim(tag.as_str(), carrier.clone(), true);
                    }
                }
            }
            Markers::Default => {
                for (start, end) in default_markers(text.as_bytes()) {
                    m.claim(&text[start..end], carrier.clone(), true);
                }
            }
        }
    }
}

/// Finds `cc6_1`-shaped tokens: series letters (CC, PI, A, C, P) at a token start, one or two
/// digits, one of `-_.`, one or two digits, then a token end. A hand-written scan rather than a
/// regex: it runs on every test name and classname, and most names hold no marker. It looks
/// only where a digit follows a letter (every marker has one; [`LetterDigits`] finds those
/// eight bytes at a time) and checks the one or two letters before it from there.
fn default_markers(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let alnum = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let digits = move |from: usize| {
        let n = b[from.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (1..=2).contains(&n).then_some(from + n)
    };
    // A marker holds no other candidate (no letter follows its series), and the byte after
    // it is none (it ends a token): the next one is looked at from the next candidate on.
    let mut candidates = LetterDigits::new(b);
    std::iter::from_fn(move || {
        for digit in candidates.by_ref() {
            // A series is one or two letters starting a token: with a letter two bytes back,
            // the run is at least two long and must start there; else it is the one letter.
            let start = if digit >= 2 && b[digit - 2].is_ascii_alphabetic() {
                digit - 2
            } else {
                digit - 1
            };
            if start > 0 && alnum(start - 1) {
                continue;
            }
            let series = &b[start..digit];
            let known = [&b"cc"[..], b"pi", b"a", b"c", b"p"];
            if !known.iter().any(|k| series.eq_ignore_ascii_case(k)) {
                continue;
            }
            let Some(after_major) = digits(digit) else {
                continue;
            };
            if !matches!(b.get(after_major), Some(b'-' | b'_' | b'.')) {
                continue;
            }
            let Some(end) = digits(after_major + 1) else {
                continue;
            };
            if alnum(end) {
                continue;
            }
            return Some((start, end));
        }
        None
    })
}

/// The places of the ASCII digits that directly follow an ASCII letter, in order, found
/// sixteen bytes at a time: a per-byte search for digits was most of the mapping's time on a
/// large report, where most names have none after a letter (`test_parse_3`, `tests.pkg_000`)
/// and many have one that starts no marker (`testTaskMeta19`).
struct LetterDigits<'a> {
    blocks: std::slice::ChunksExact<'a, u8>,
    /// The remainder (fewer than sixteen bytes), not yet looked at.
    rest: Option<&'a [u8]>,
    /// Where the current block starts, where the next one does, and the current block's
    /// flags not yet handed out.
    at: usize,
    next: usize,
    flags: u32,
    /// Whether the block before ended with a letter (a digit starting this block pairs with it).
    letter_before: u32,
}

impl<'a> LetterDigits<'a> {
    fn new(b: &'a [u8]) -> Self {
        let blocks = b.chunks_exact(16);
        let rest = Some(blocks.remainder());
        LetterDigits {
            blocks,
            rest,
            at: 0,
            next: 0,
            flags: 0,
            letter_before: 0,
        }
    }
}

impl Iterator for LetterDigits<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.flags == 0 {
            let mut last = [0u8; 16];
            let block = match self.blocks.next() {
                Some(block) => block.try_into().unwrap_or(&last),
                None => {
                    // Zeros after the last bytes: neither letters nor digits.
                    let rest = self.rest.take()?;
                    last[..rest.len()].copy_from_slice(rest);
                    &last
                }
            };
            (self.at, self.next) = (self.next, self.next + 16);
            let (letters, digits) = words::letters_and_digits(block);
            // Byte k+1 is a digit where byte k is a letter.
            self.flags = ((letters << 1) | self.letter_before) & digits;
            self.letter_before = letters >> 15;
        }
        let k = self.flags.trailing_zeros() as usize;
        self.flags &= self.flags - 1;
        Some(self.at + k)
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    /// The scan as first written (every token start, then its letters): what the scan from
    /// the digits must find.
    fn reference_markers(b: &[u8]) -> Vec<(usize, usize)> {
        let alnum = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
        let digits = |from: usize| {
            let n = b[from.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            (1..=2).contains(&n).then_some(from + n)
        };
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let start = i;
            if !b[i].is_ascii_alphabetic() || (i > 0 && alnum(i - 1)) {
                i += 1;
                continue;
            }
            let letters = b[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            i += letters;
            let series = &b[start..start + letters];
            if ![&b"cc"[..], b"pi", b"a", b"c", b"p"]
                .iter()
                .any(|k| series.eq_ignore_ascii_case(k))
            {
                continue;
            }
            let Some(after_major) = digits(i) else {
                continue;
            };
            if !matches!(b.get(after_major), Some(b'-' | b'_' | b'.')) {
                continue;
            }
            let Some(end) = digits(after_major + 1) else {
                continue;
            };
            if alnum(end) {
                continue;
            }
            i = end;
            out.push((start, end));
        }
        out
    }

    #[test]
    fn a_letter_then_a_digit_is_found_across_words() {
        let found = |b: &[u8]| LetterDigits::new(b).collect::<Vec<_>>();
        for at in 0..23 {
            let mut b = vec![b'_'; 24];
            b[at] = b'c';
            b[at + 1] = b'6';
            assert_eq!(found(&b), [at + 1], "letter at {at}");
            b[at] = b'-';
            assert_eq!(found(&b), [0usize; 0], "none at {at}");
        }
        // Every place of several in one word and across words, in order.
        assert_eq!(
            found(b"a1b2c3d4e5f6g7h8i9"),
            [1, 3, 5, 7, 9, 11, 13, 15, 17]
        );
        assert_eq!(found(b""), [0usize; 0]);
        assert_eq!(found("é1\u{e1}9".as_bytes()), [0usize; 0]);
    }

    proptest::proptest! {
        /// Bytes at the edges of each range, and non-ASCII bytes whose low seven bits are a
        /// letter or a digit, at every place in a word.
        #[test]
        fn the_word_check_is_the_pair_check(
            bytes in proptest::collection::vec(
                proptest::sample::select(vec![
                    b'a', b'z', b'A', b'Z', b'0', b'9', b'@', b'[', b'`', b'{', b'/', b':', b'_',
                    b' ', 0xC1, 0xE1, 0xDA, 0xB0, 0xB9, 0x80, 0xFF,
                ]),
                0..40,
            )
        ) {
            let pairs: Vec<usize> = (1..bytes.len())
                .filter(|&i| bytes[i - 1].is_ascii_alphabetic() && bytes[i].is_ascii_digit())
                .collect();
            proptest::prop_assert_eq!(
                LetterDigits::new(&bytes).collect::<Vec<_>>(),
                pairs,
                "{:?}",
                bytes
            );
        }

        #[test]
        fn the_marker_scan_finds_what_the_token_scan_finds(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "c", "C", "cc", "p", "i", "a", "x", "1", "6", "12", "0", "-", "_", ".",
                    " ", "[", "@", "é", "cc6", "-1", "test",
                ]),
                0..20,
            )
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(
                default_markers(text.as_bytes()).collect::<Vec<_>>(),
                reference_markers(text.as_bytes()),
                "{:?}", text
            );
        }
    }
    use crate::model::RawProperty;
    use std::path::Path;

    fn case(classname: &str, name: &str, props: &[(&str, &str, PropertyScope)]) -> TestCase {
        TestCase {
            suite: "suite".into(),
            classname: classname.into(),
            name: name.into(),
            file: Some("tests/auth/test_login.py".into()),
            properties: props
                .iter()
                .map(|(n, v, s)| RawProperty {
                    name: (*n).into(),
                    value: (*v).into(),
                    scope: *s,
                })
                .collect(),
            ..TestCase::empty(0)
        }
    }

    fn mapper(yaml: &str) -> Mapper {
        Mapper::new(&crate::config::parse(yaml, Path::new("t.yml")).unwrap()).unwrap()
    }

    fn ids(m: &Mapping) -> Vec<String> {
        m.controls
            .iter()
            .map(|(i, c)| format!("{i} via {c}"))
            .collect()
    }

    #[test]
    fn testcase_properties_split_on_commas_and_spaces_and_repeat() {
        let c = case(
            "c",
            "n",
            &[
                ("control", "cc6-1, CC6.2 cc8_1", PropertyScope::Case),
                ("controls", "CC6.1", PropertyScope::Case),
                ("requirement", "CC7.1", PropertyScope::Case),
            ],
        );
        let m = mapper("").map(&c, &[]);
        assert_eq!(
            ids(&m),
            [
                "CC6.1 via property `control`",
                "CC6.2 via property `control`",
                "CC8.1 via property `control`",
                "CC6.1 via property `controls`"
            ]
        );
        assert_eq!(m.control_ids().len(), 3);
        assert!(m.unknown.is_empty());
    }

    #[test]
    fn suite_properties_and_system_out_lines_have_their_own_carrier() {
        let c = case(
            "c",
            "n",
            &[
                ("soc2", "A1.2", PropertyScope::Suite),
                ("control", "PI1.3", PropertyScope::SystemOut),
            ],
        );
        assert_eq!(
            ids(&mapper("").map(&c, &[])),
            [
                "A1.2 via suite property `soc2`",
                "PI1.3 via system-out `control`"
            ]
        );
    }

    #[test]
    fn loose_properties_ignore_labels_but_strict_ones_report_them() {
        let c = case(
            "c",
            "n",
            &[
                ("tags", "smoke cc6-1 cc9-5", PropertyScope::Case),
                ("control", "ISO27001-A.9.4.2", PropertyScope::Case),
            ],
        );
        let m = mapper("").map(&c, &[]);
        assert_eq!(ids(&m), ["CC6.1 via property `tags`"]);
        let unknown: Vec<&str> = m.unknown.iter().map(|u| u.tag.as_str()).collect();
        assert_eq!(unknown, ["cc9-5", "ISO27001-A.9.4.2"]);
    }

    /// Property names are matched without regard to ASCII case, the configured ones and the
    /// report's alike; a name that only starts like a listed one is not listed.
    #[test]
    fn property_names_match_in_any_case() {
        let c = case(
            "c",
            "n",
            &[
                ("Control", "cc6-1", PropertyScope::Case),
                ("TAGS", "smoke cc7-2", PropertyScope::Case),
                ("SOC2", "not-a-control", PropertyScope::Case),
                ("Evidence", "A1.2", PropertyScope::Case),
                ("controlled", "CC8.1", PropertyScope::Case),
            ],
        );
        let m = mapper(
            "tags:\n  properties: [control, tags, soc2, EVIDENCE]\n  strict_properties: [Soc2]\n",
        )
        .map(&c, &[]);
        assert_eq!(
            ids(&m),
            [
                "CC6.1 via property `Control`",
                "CC7.2 via property `TAGS`",
                "A1.2 via property `Evidence`"
            ]
        );
        let unknown: Vec<&str> = m.unknown.iter().map(|u| u.tag.as_str()).collect();
        assert_eq!(unknown, ["not-a-control"]);
    }

    #[test]
    fn markers_in_names_and_classnames_are_whole_tokens() {
        let c = case(
            "tests.cc6_1.test_auth",
            "test_login [cc6-2] @CC8.1 xcc7_1 cc7_12a",
            &[],
        );
        assert_eq!(
            ids(&mapper("").map(&c, &[])),
            [
                "CC6.2 via name marker",
                "CC8.1 via name marker",
                "CC6.1 via classname marker"
            ]
        );
        let rust = case("auth", "auth::cc6_3::rejects_expired_token", &[]);
        assert_eq!(ids(&mapper("").map(&rust, &[])), ["CC6.3 via name marker"]);
        assert!(
            mapper("tags: {markers: false}")
                .map(&c, &[])
                .controls
                .is_empty()
        );
    }

    #[test]
    fn go_subtest_path_segments_carry_markers() {
        // `go test` names subtests by their path, `/`-separated, spaces as `_`.
        let m = mapper("");
        let sub = case("example.com/m/auth", "TestLogin/cc6_1/expired_token", &[]);
        assert_eq!(ids(&m.map(&sub, &[])), ["CC6.1 via name marker"]);
        let spaced = case("example.com/m/auth", "TestLogin/cc6-1_rejects_expired", &[]);
        assert_eq!(ids(&m.map(&spaced, &[])), ["CC6.1 via name marker"]);
        let last = case("example.com/m/auth", "TestBackup/A1.2", &[]);
        assert_eq!(ids(&m.map(&last, &[])), ["A1.2 via name marker"]);
        let package = case("example.com/m/cc8_1/deploy", "TestRollback", &[]);
        assert_eq!(ids(&m.map(&package, &[])), ["CC8.1 via classname marker"]);
        // Inside an identifier a marker is no token.
        let glued = case("example.com/m/auth", "TestCC6_1Login/xcc6_1", &[]);
        assert!(m.map(&glued, &[]).controls.is_empty());
    }

    #[test]
    fn custom_marker_pattern_uses_its_capture_group() {
        let c = case("c", "test_login {SOC2:CC6.6}", &[]);
        let m = mapper("tags:\n  marker_pattern: '\\{SOC2:([^}]+)\\}'\n").map(&c, &[]);
        assert_eq!(ids(&m), ["CC6.6 via name marker"]);
    }

    #[test]
    fn config_rules_match_globs_over_id_classname_or_file() {
        let yaml = "rules:\n  - match: 'tests/auth/**'\n    on: file\n    controls: [CC6.1]\n  - match: 'com.acme.*::test*'\n    controls: [cc8-1]\n  - match: 'nomatch*'\n    on: classname\n    controls: [A1.2]\n";
        let m = mapper(yaml).map(&case("com.acme.Deploy", "testRollback", &[]), &[]);
        assert_eq!(
            ids(&m),
            [
                "CC6.1 via config rule #1 `tests/auth/**`",
                "CC8.1 via config rule #2 `com.acme.*::test*`"
            ]
        );
    }

    #[test]
    fn contained_text_rules_match_as_their_globs_do() {
        // `*text*` rules skip the glob set; the answers must be the glob's, on any subject.
        let patterns = [
            "*auth::*", "*::*", "*é*", "*a*", "*/*", "*a*b*", "*[a]*", "a*", "*a",
        ];
        let subjects = [
            "",
            "a",
            "auth::x",
            "x::auth::",
            "x/auth::/y",
            "é",
            "a\nb",
            "p/q",
            "ab",
            "ba",
            "[a]",
            "auth:",
        ];
        for pattern in patterns {
            for on in ["id", "classname", "name", "suite", "file"] {
                let yaml = format!(
                    "rules:\n  - match: '{pattern}'\n    on: {on}\n    controls: [CC6.1]\n"
                );
                let config = crate::config::parse(&yaml, Path::new("t.yml")).unwrap();
                let glob = crate::glob::matcher(pattern, config.rules[0].on.glob_subject());
                let glob = glob.unwrap();
                let m = Mapper::new(&config).unwrap();
                for s in subjects {
                    let mut c = case(s, s, &[]);
                    c.suite = s.to_owned();
                    c.file = Some(s.to_owned());
                    let subject = if on == "id" { c.id() } else { s.to_owned() };
                    let want = !subject.is_empty() && glob.is_match(&subject);
                    let got = !m.map(&c, &[]).controls.is_empty();
                    assert_eq!(got, want, "{pattern} on {on} over {subject:?}");
                }
            }
        }
    }

    #[test]
    fn suite_defaults_apply_to_every_case() {
        let id = ControlId::parse_shape("CC7.2").unwrap();
        let m = mapper("").map(&case("c", "n", &[]), &[(id, "e2e".into())]);
        assert_eq!(ids(&m), ["CC7.2 via suite `e2e` default"]);
    }
}
