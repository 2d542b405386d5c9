//! Secret redaction: failure messages and captured output come from code under review and
//! from test runs that had credentials in their environment. Before anything is rendered,
//! posted or stored, known secret shapes, the run's own secret values and configured patterns
//! are replaced with `[REDACTED:<kind>]`, and each replacement is counted.
//!
//! Pure: no environment access. The caller passes the secret values (see `main.rs`).
//!
//! Kinds: `github_token` (`ghp_`, `gho_`, `ghs_`, `ghu_`, `ghr_`, `github_pat_`),
//! `aws_access_key` (`AKIA…`/`ASIA…`), `aws_secret_key` (the 40-character value after
//! `aws_secret_access_key`), `slack_token` (`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`),
//! `jwt` (three base64url segments, the first starting `eyJ`), `authorization` (the value of an
//! `Authorization:`/`Proxy-Authorization:` header), `private_key` (PEM private-key blocks, to
//! the end of the text when the block was cut), `secret` (exact runtime values) and `pattern`
//! (configured regexes, `redact.patterns`).
//!
//! Shapes match wherever they start (`token%3Dghp_…`, `\nAKIA…`): no word boundary is needed
//! before them. Each runtime secret is also redacted in its common encodings
//! ([`secret_variants`]): URL-encoded, JSON-escaped, and base64 (standard and URL-safe) at
//! any byte offset, so `base64("user:" + token)` in a `Basic` header is caught without
//! knowing the user.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::sync::{Arc, OnceLock};

use regex::{Captures, Regex, RegexSet};
use serde::{Deserialize, Serialize};

/// Shortest runtime secret value that is redacted: shorter ones would mangle ordinary text.
pub const MIN_SECRET_LEN: usize = 6;

/// Text that may hold secrets (it came from input), redacted in place. Every model type that
/// reaches an output implements it for its text fields ([`redact_fields!`]), so one call on
/// the report redacts what the comment, the check run, `report.json` and the evidence show.
pub trait Redact {
    fn redact_with(&mut self, redactor: &Redactor, counts: &mut Redactions);
}

impl Redact for String {
    fn redact_with(&mut self, redactor: &Redactor, counts: &mut Redactions) {
        redactor.apply(self, counts);
    }
}

impl<T: Redact> Redact for Option<T> {
    fn redact_with(&mut self, redactor: &Redactor, counts: &mut Redactions) {
        if let Some(v) = self {
            v.redact_with(redactor, counts);
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redact_with(&mut self, redactor: &Redactor, counts: &mut Redactions) {
        for v in self {
            v.redact_with(redactor, counts);
        }
    }
}

impl<T: Redact> Redact for Box<T> {
    fn redact_with(&mut self, redactor: &Redactor, counts: &mut Redactions) {
        (**self).redact_with(redactor, counts);
    }
}

/// `redact_fields!(Type: a, b, c)`: [`Redact`] for `Type` over its fields `a`, `b`, `c` (text,
/// or types that implement it). List every field that can hold input text.
#[macro_export]
macro_rules! redact_fields {
    ($t:ty: $($f:ident),* $(,)?) => {
        impl $crate::redact::Redact for $t {
            fn redact_with(
                &mut self,
                redactor: &$crate::redact::Redactor,
                counts: &mut $crate::redact::Redactions,
            ) {
                $( $crate::redact::Redact::redact_with(&mut self.$f, redactor, counts); )*
            }
        }
    };
}

/// The run's secret values, gathered once at the edge; `Debug` shows how many, never them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretValues(Vec<String>);

impl SecretValues {
    pub fn new(values: Vec<String>) -> Self {
        SecretValues(values)
    }

    pub fn values(&self) -> &[String] {
        &self.0
    }

    /// A redactor for these values and the built-in shapes (no configured patterns).
    pub fn redactor(&self) -> Result<Redactor, crate::Error> {
        Redactor::new(&self.0, &[])
    }
}

impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValues({} value(s))", self.0.len())
    }
}

/// Redactions made in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redactions {
    pub total: u64,
    pub by_kind: BTreeMap<String, u64>,
}

impl Redactions {
    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Redactions) {
        self.total += other.total;
        for (k, n) in &other.by_kind {
            *self.by_kind.entry(k.clone()).or_default() += n;
        }
    }

    fn add(&mut self, kind: &str) {
        self.total += 1;
        *self.by_kind.entry(kind.to_owned()).or_default() += 1;
    }
}

#[derive(Clone)]
struct Rule {
    kind: &'static str,
    re: Regex,
    /// Capture group holding the secret (the rest of the match is kept, e.g. the header name).
    group: usize,
}

/// The built-in rules: (kind, regex, capture group holding the secret).
const BUILTIN_SPECS: [(&str, &str, usize); 9] = [
    (
        "private_key",
        r"(?s)-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY( BLOCK)?-----.*?(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY( BLOCK)?-----|\z)",
        0,
    ),
    (
        "github_token",
        r"(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{30,255})",
        0,
    ),
    ("aws_access_key", r"(?:AKIA|ASIA)[0-9A-Z]{16}", 0),
    (
        "aws_secret_key",
        r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        1,
    ),
    ("slack_token", r"xox[abprs]-[A-Za-z0-9-]{10,250}", 0),
    (
        "jwt",
        r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        0,
    ),
    (
        "authorization",
        r#"(?i)(?:proxy-)?authorization["']?\s*[:=]\s*["']?((?:(?:bearer|basic|token|digest|negotiate|bot|apikey|aws4-hmac-sha256)\s+)?[A-Za-z0-9._~+/=:,-]{8,})"#,
        1,
    ),
    // A recorded header as JSON (HAR: `{"name": "Authorization", "value": "Basic …"}`).
    (
        "authorization",
        r#"(?i)"name"\s*:\s*"(?:proxy-)?authorization"\s*,\s*"value"\s*:\s*"([^"]{8,})""#,
        1,
    ),
    // A bearer token without the header name (`curl -H "Bearer …"` echoes, logs).
    ("authorization", r"Bearer\s+([A-Za-z0-9._~+/=-]{16,})", 1),
];

/// Built-in rules, compiled when first needed (text containing none of
/// [`BUILTIN_LITERALS`] or a secret never needs them; most runs never do). The regexes are
/// constants: compiling them cannot fail at run time, and a failure would only drop that rule
/// (never panic).
fn builtin() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        BUILTIN_SPECS
            .into_iter()
            .filter_map(|(kind, re, group)| {
                Some(Rule {
                    kind,
                    re: Regex::new(re).ok()?,
                    group,
                })
            })
            .collect()
    })
}

/// Redacts text with the built-in rules, the run's secret values and configured patterns.
#[derive(Clone)]
pub struct Redactor {
    /// The alternation of the run's secret values: checked first.
    secrets: Option<Rule>,
    /// `redact.patterns`: checked after the built-in rules.
    patterns: Vec<Rule>,
    /// Quick "anything to do?" check over all rules, compiled when first needed (shared by
    /// clones).
    any: Arc<OnceLock<Option<RegexSet>>>,
    /// Without `redact.patterns`, every rule's match contains one of [`BUILTIN_LITERALS`] or a
    /// secret value: text containing none of them (nearly all test names, messages and report
    /// lines) skips the regexes. `None` with patterns (arbitrary regexes).
    literals: Option<Literals>,
}

/// A literal each built-in rule's match contains (ASCII case-insensitive).
const BUILTIN_LITERALS: [&str; 14] = [
    "private key",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "akia",
    "asia",
    "secret",
    "xox",
    "eyj",
    "authorization",
    "bearer",
];

fn builtin_literals() -> &'static Literals {
    static LITERALS: OnceLock<Literals> = OnceLock::new();
    LITERALS.get_or_init(|| Literals::new(&BUILTIN_LITERALS))
}

/// The search for any of a redactor's literals, ASCII case ignored: the first step of every
/// redaction, over every name, message and line a run writes.
#[derive(Clone)]
enum Literals {
    /// The literals in lower case, searched with SIMD (Teddy) in the text lowered a window at
    /// a time: several times the automaton's speed, which steps byte by byte through text
    /// where nearly every letter may start a literal.
    Packed {
        searcher: aho_corasick::packed::Searcher,
        /// The longest literal's length: windows overlap by one less, so a literal across a
        /// window's end is found in the next.
        longest: usize,
        /// No literal holds a NUL byte: texts joined by NULs are searched at once.
        joinable: bool,
    },
    /// Where the packed search cannot be built (no SIMD, too many or too long literals).
    Automaton(aho_corasick::AhoCorasick),
    /// The literals could not be compiled: every text is looked at by the rules.
    Any,
}

/// Bytes of text lowered at a time for [`Literals::Packed`].
const LOWERED_WINDOW: usize = 16 * 1024;

thread_local! {
    /// Where [`Literals::Packed`] lowers text, reused call after call.
    static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Literals {
    fn new<S: AsRef<str>>(literals: &[S]) -> Literals {
        let lowered: Vec<Vec<u8>> = literals
            .iter()
            .map(|l| l.as_ref().as_bytes().to_ascii_lowercase())
            .collect();
        let longest = lowered.iter().map(Vec::len).max().unwrap_or(0);
        if (1..=LOWERED_WINDOW / 4).contains(&longest)
            && lowered.iter().all(|l| !l.is_empty())
            && let Some(searcher) = aho_corasick::packed::Config::new()
                .builder()
                .extend(&lowered)
                .build()
        {
            let joinable = lowered.iter().all(|l| !l.contains(&0));
            return Literals::Packed {
                searcher,
                longest,
                joinable,
            };
        }
        match aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(literals.iter().map(|l| l.as_ref()))
        {
            Ok(automaton) => Literals::Automaton(automaton),
            Err(_) => Literals::Any,
        }
    }

    /// Whether any of `texts` holds one of the literals: short texts are searched as one,
    /// joined by NULs (no literal holds a NUL, so none is found across a join), a search set
    /// up once.
    fn any_match(&self, texts: &[&str]) -> bool {
        let Literals::Packed {
            searcher,
            joinable: true,
            ..
        } = self
        else {
            return texts.iter().any(|t| self.is_match(t));
        };
        let joined: usize = texts.iter().map(|t| t.len() + 1).sum();
        if joined > LOWERED_WINDOW {
            return texts.iter().any(|t| self.is_match(t));
        }
        LOWERED.with_borrow_mut(|lowered| {
            lowered.clear();
            for t in texts {
                lowered.extend_from_slice(t.as_bytes());
                lowered.push(0);
            }
            lowered.make_ascii_lowercase();
            searcher.find(lowered.as_slice()).is_some()
        })
    }

    /// Whether `text` holds one of the literals, ASCII case ignored.
    fn is_match(&self, text: &str) -> bool {
        let (searcher, longest) = match self {
            Literals::Packed {
                searcher, longest, ..
            } => (searcher, *longest),
            Literals::Automaton(automaton) => return automaton.is_match(text),
            Literals::Any => return true,
        };
        LOWERED.with_borrow_mut(|lowered| {
            let bytes = text.as_bytes();
            let mut at = 0;
            loop {
                let end = (at + LOWERED_WINDOW).min(bytes.len());
                lowered.clear();
                // Copied, then lowered in place: a loop the compiler vectorises (lowering
                // byte by byte as they are pushed does not).
                lowered.extend_from_slice(&bytes[at..end]);
                lowered.make_ascii_lowercase();
                if searcher.find(lowered.as_slice()).is_some() {
                    return true;
                }
                if end == bytes.len() {
                    return false;
                }
                at = end - (longest - 1);
            }
        })
    }
}

/// The built-in rules' quick check, compiled once per process: a run builds several redactors
/// (the log's, the config check's, the decision's), most with no secret or pattern of their own.
fn builtin_any() -> &'static Option<RegexSet> {
    static ANY: OnceLock<Option<RegexSet>> = OnceLock::new();
    ANY.get_or_init(|| RegexSet::new(builtin().iter().map(|r| r.re.as_str())).ok())
}

/// A runtime secret and the encodings it travels in: URL-encoded (`%3D`), escaped for JSON (as
/// serde and as Go write it: `\u0026`), for XML (`&amp;`, the quotes as entities or not), hex,
/// and base64 in both alphabets at each of the three byte offsets it can sit at inside a longer
/// encoded text (the characters that also depend on neighbouring bytes are left out), so
/// `Basic base64(email:token)` or git's `base64(x-access-token:token)` are found without
/// knowing what precedes the token. Encoded forms shorter than 8 characters are skipped.
pub fn secret_variants(secret: &str) -> Vec<String> {
    secret_forms(secret).into_iter().map(|(v, _)| v).collect()
}

/// [`secret_variants`], each with whether it is a piece of base64 (whose neighbouring
/// characters carry bits of the secret too: the whole base64 text around it is redacted).
fn secret_forms(secret: &str) -> Vec<(String, bool)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut out = vec![(secret.to_owned(), false)];
    let mut plain = |v: String| out.push((v, false));
    // URL encodings as encoders write them: everything but letters and digits (form
    // encoders), or leaving RFC 3986's unreserved `-_.~` (Go's QueryEscape, Python's quote),
    // also `/` (Python's default), or also `!*'()` (JavaScript's encodeURIComponent); a space
    // as `%20` or `+`; hex digits in capitals or, as .NET writes them, in small letters.
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    const PATH: &AsciiSet = &UNRESERVED.remove(b'/');
    const COMPONENT: &AsciiSet = &UNRESERVED
        .remove(b'!')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    for set in [NON_ALPHANUMERIC, UNRESERVED, PATH, COMPONENT] {
        let url = percent_encoding::utf8_percent_encode(secret, set).to_string();
        let lower = lower_hex_escapes(&url);
        for v in [url, lower] {
            plain(v.replace("%20", "+"));
            plain(v);
        }
    }
    // In a workflow command's message (`::error::…`), `%`, CR and LF are escaped.
    plain(
        secret
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    );
    if let Ok(json) = serde_json::to_string(secret) {
        let json = &json[1..json.len() - 1];
        // Go's encoding/json writes `&`, `<` and `>` as `\u0026`, `\u003c`, `\u003e`; some
        // writers escape `/`.
        plain(
            json.replace('&', "\\u0026")
                .replace('<', "\\u003c")
                .replace('>', "\\u003e"),
        );
        plain(json.replace('/', "\\/"));
        plain(json.to_owned());
    }
    // XML: `&` and `<` always escaped, `>` usually; the quotes as writers choose.
    let xml = secret.replace('&', "&amp;").replace('<', "&lt;");
    for quotes in [["\"", "'"], ["&quot;", "&apos;"], ["&#34;", "&#39;"]] {
        for gt in [">", "&gt;"] {
            plain(
                xml.replace('>', gt)
                    .replace('"', quotes[0])
                    .replace('\'', quotes[1]),
            );
        }
    }
    plain(hex::encode(secret));
    plain(hex::encode_upper(secret));
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for shift in 0..3usize {
            let mut bytes = vec![0u8; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = engine.encode(&bytes);
            // Leading characters carry bits of the filler bytes; with a partial last group,
            // the last character carries bits of whatever follows the secret.
            let skip = [0, 2, 3][shift];
            let trim_end = usize::from(bytes.len() % 3 != 0);
            if encoded.len() > skip + trim_end {
                out.push((encoded[skip..encoded.len() - trim_end].to_owned(), true));
            }
        }
    }
    let mut out: Vec<(String, bool)> = out
        .into_iter()
        .enumerate()
        .filter(|(i, (v, _))| *i == 0 || v.len() >= 8)
        .map(|(_, v)| v)
        .collect();
    // A form that is both (a secret of base64 characters is its own URL encoding) is redacted
    // as base64: the wider of the two.
    out.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// `s` with the hex digits of each `%XX` escape in small letters.
fn lower_hex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..=i]);
        let hex = rest.get(i + 1..i + 3).unwrap_or("");
        out.push_str(&hex.to_ascii_lowercase());
        rest = &rest[i + 1 + hex.len()..];
    }
    out.push_str(rest);
    out
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the rules: one of them is the alternation of the run's secret values.
        f.debug_struct("Redactor")
            .field(
                "rules",
                &(usize::from(self.secrets.is_some()) + BUILTIN_SPECS.len() + self.patterns.len()),
            )
            .finish_non_exhaustive()
    }
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(&[], &[]).unwrap_or(Redactor {
            secrets: None,
            patterns: Vec::new(),
            any: Arc::default(),
            literals: None,
        })
    }
}

impl Redactor {
    /// `secrets`: exact values (the action's own secrets); values shorter than
    /// [`MIN_SECRET_LEN`] are ignored. `patterns`: regexes from `redact.patterns`; an invalid one
    /// is an error naming it.
    pub fn new(secrets: &[String], patterns: &[String]) -> Result<Self, crate::Error> {
        let mut forms: Vec<(String, bool)> = secrets
            .iter()
            .map(|s| s.trim())
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .flat_map(secret_forms)
            .collect();
        // Longest first, so a secret containing another is replaced whole; a form two secrets
        // share is kept as base64 when either has it so (the wider redaction).
        forms.sort_by(|a, b| {
            (b.0.len().cmp(&a.0.len()))
                .then_with(|| a.0.cmp(&b.0))
                .then(b.1.cmp(&a.1))
        });
        forms.dedup_by(|a, b| a.0 == b.0);
        let values: Vec<String> = forms.iter().map(|(v, _)| v.clone()).collect();
        // Runtime secrets come first: a token that is also a known shape counts as `secret`.
        let secret_rule = if values.is_empty() {
            None
        } else {
            // A piece of base64 is redacted with the base64 text around it (either alphabet,
            // its padding): the characters next to it carry bits of the secret too.
            const B64: &str = "[A-Za-z0-9+/_-]*";
            let alt: Vec<String> = forms
                .iter()
                .map(|(v, base64)| match base64 {
                    true => format!("{B64}{}{B64}={{0,2}}", regex::escape(v)),
                    false => regex::escape(v),
                })
                .collect();
            let re = regex::RegexBuilder::new(&alt.join("|"))
                .size_limit(64 << 20)
                .build()
                .map_err(|e| crate::Error::setting("secret values", e))?;
            Some(Rule {
                kind: "secret",
                re,
                group: 0,
            })
        };
        let mut own_patterns = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let re = regex::RegexBuilder::new(p)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| crate::Error::setting(format!("redact.patterns[{i}]"), e))?;
            own_patterns.push(Rule {
                kind: "pattern",
                re,
                group: 0,
            });
        }
        let literals = if !patterns.is_empty() {
            None
        } else if values.is_empty() {
            Some(builtin_literals().clone())
        } else {
            let all: Vec<&str> = BUILTIN_LITERALS
                .iter()
                .copied()
                .chain(values.iter().map(String::as_str))
                .collect();
            Some(Literals::new(&all))
        };
        Ok(Redactor {
            secrets: secret_rule,
            patterns: own_patterns,
            any: Arc::default(),
            literals,
        })
    }

    /// Every rule, in the order they apply: the secret values, the built-in rules, the
    /// configured patterns.
    fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.secrets.iter().chain(builtin()).chain(&self.patterns)
    }

    /// The quick check over [`Redactor::rules`]: the built-in rules' own when there are no
    /// others.
    fn any(&self) -> &Option<RegexSet> {
        if self.secrets.is_none() && self.patterns.is_empty() {
            return builtin_any();
        }
        self.any
            .get_or_init(|| RegexSet::new(self.rules().map(|r| r.re.as_str())).ok())
    }

    /// Whether [`Redactor::redact`] might change any of `texts`: `false` when none holds a
    /// literal every rule needs (checked for all at once: a test's name, class, suite and file
    /// are a few dozen bytes each, and a search costs more to start than to run on them).
    pub fn may_change_any(&self, texts: &[&str]) -> bool {
        match &self.literals {
            Some(literals) => literals.any_match(texts),
            None => true,
        }
    }

    /// Returns `text` with every secret replaced by `[REDACTED:<kind>]`, counting each.
    pub fn redact<'t>(&self, text: &'t str, counts: &mut Redactions) -> Cow<'t, str> {
        if let Some(literals) = &self.literals
            && !literals.is_match(text)
        {
            return Cow::Borrowed(text);
        }
        if let Some(any) = self.any()
            && !any.is_match(text)
        {
            return Cow::Borrowed(text);
        }
        let mut out = Cow::Borrowed(text);
        for rule in self.rules() {
            if !rule.re.is_match(&out) {
                continue;
            }
            let replaced = rule
                .re
                .replace_all(&out, |c: &Captures<'_>| {
                    let Some(whole) = c.get(0) else {
                        return String::new();
                    };
                    let secret = c.get(rule.group).unwrap_or(whole);
                    if secret.as_str().is_empty() {
                        return whole.as_str().to_owned();
                    }
                    counts.add(rule.kind);
                    let w = whole.as_str();
                    let (s, e) = (secret.start() - whole.start(), secret.end() - whole.start());
                    format!("{}[REDACTED:{}]{}", &w[..s], rule.kind, &w[e..])
                })
                .into_owned();
            out = Cow::Owned(replaced);
        }
        out
    }

    /// Redacts `s` in place.
    pub fn apply(&self, s: &mut String, counts: &mut Redactions) {
        if let Cow::Owned(r) = self.redact(s, counts) {
            *s = r;
        }
    }

    /// Copies `reader` to `writer` with every secret redacted, for raw inputs kept as
    /// evidence: memory stays bounded however large the file. Text goes through [`redact`]
    /// a chunk of whole lines at a time (about 1 MiB; a private-key block opened in a chunk is
    /// read to its end, up to 64 KiB more; a single line is cut at 4 MiB). Bytes that are not
    /// UTF-8 are copied as they are.
    ///
    /// [`redact`]: Redactor::redact
    pub fn redact_stream(
        &self,
        mut reader: impl BufRead,
        writer: &mut dyn Write,
        counts: &mut Redactions,
    ) -> std::io::Result<()> {
        const CHUNK: usize = 1 << 20;
        const LINE_MAX: usize = 4 << 20;
        const KEY_BLOCK_MAX: usize = 64 << 10;
        let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
        loop {
            let mut eof = false;
            while chunk.len() < CHUNK {
                let room = (LINE_MAX.saturating_sub(chunk.len())).max(1) as u64;
                if (&mut reader).take(room).read_until(b'\n', &mut chunk)? == 0 {
                    eof = true;
                    break;
                }
            }
            let mut extra = 0;
            while !eof && extra < KEY_BLOCK_MAX && opens_key_block(&chunk) {
                let n = (&mut reader)
                    .take((KEY_BLOCK_MAX - extra) as u64)
                    .read_until(b'\n', &mut chunk)?;
                eof = n == 0;
                extra += n;
            }
            // A UTF-8 sequence cut by the size limits waits for the next chunk.
            let mut keep = match std::str::from_utf8(&chunk) {
                Err(e) if e.error_len().is_none() && !eof => chunk.len() - e.valid_up_to(),
                _ => 0,
            };
            if !eof && chunk[..chunk.len() - keep].last() != Some(&b'\n') {
                // A line cut at LINE_MAX: its last bytes wait for the next chunk too, from
                // where no secret found here spans, so one the cut goes through is read whole.
                keep = chunk.len() - self.safe_cut(&chunk[..chunk.len() - keep]);
            }
            self.write_redacted(&chunk[..chunk.len() - keep], writer, counts)?;
            chunk.drain(..chunk.len() - keep);
            if eof {
                return Ok(());
            }
        }
    }

    /// Where a long line's chunk is cut before its last [`CUT_HOLD`] bytes: not inside any
    /// secret the rules find in it. The whole chunk when it is not text or a match spans it.
    fn safe_cut(&self, bytes: &[u8]) -> usize {
        const CUT_HOLD: usize = 4096;
        let Ok(text) = std::str::from_utf8(bytes) else {
            return bytes.len();
        };
        let mut cut = text.len().saturating_sub(CUT_HOLD);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let spans: Vec<(usize, usize)> = self
            .rules()
            .flat_map(|r| r.re.find_iter(text).map(|m| (m.start(), m.end())))
            .collect();
        while let Some(&(start, _)) = spans.iter().find(|(s, e)| *s < cut && cut < *e) {
            cut = start;
        }
        if cut == 0 { bytes.len() } else { cut }
    }

    fn write_redacted(
        &self,
        bytes: &[u8],
        writer: &mut dyn Write,
        counts: &mut Redactions,
    ) -> std::io::Result<()> {
        match std::str::from_utf8(bytes) {
            Ok(text) => writer.write_all(self.redact(text, counts).as_bytes()),
            Err(_) => {
                for line in bytes.split_inclusive(|b| *b == b'\n') {
                    match std::str::from_utf8(line) {
                        Ok(text) => writer.write_all(self.redact(text, counts).as_bytes())?,
                        Err(_) => {
                            // Searched as text with the invalid bytes as U+FFFD: a line that
                            // holds a secret is written so (redacted); any other line is
                            // copied byte for byte.
                            let lossy = String::from_utf8_lossy(line);
                            let before = counts.total;
                            let redacted = self.redact(&lossy, counts);
                            if counts.total > before {
                                writer.write_all(redacted.as_bytes())?;
                            } else {
                                writer.write_all(line)?;
                            }
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// Whether the last PEM boundary in `chunk` opens a private-key block.
fn opens_key_block(chunk: &[u8]) -> bool {
    let begin = memchr::memmem::rfind(chunk, b"-----BEGIN");
    let end = memchr::memmem::rfind(chunk, b"-----END");
    match begin {
        Some(b) if end.is_none_or(|e| e < b) => {
            let line_end = memchr::memchr(b'\n', &chunk[b..]).map_or(chunk.len(), |n| b + n);
            memchr::memmem::find(&chunk[b..line_end], b"PRIVATE KEY").is_some()
        }
        _ => false,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn red(s: &str) -> (String, Redactions) {
        let mut c = Redactions::default();
        let r = Redactor::default().redact(s, &mut c).into_owned();
        (r, c)
    }

    #[test]
    fn builtin_kinds() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        let (r, c) = red(&format!("token {gh} leaked"));
        assert_eq!(r, "token [REDACTED:github_token] leaked");
        assert_eq!(c.by_kind["github_token"], 1);
        let (r, _) = red("key AKIAIOSFODNN7EXAMPLE here");
        assert_eq!(r, "key [REDACTED:aws_access_key] here");
        let (r, _) = red("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        assert_eq!(r, "aws_secret_access_key = [REDACTED:aws_secret_key]\n");
        let (r, _) = red("Authorization: Bearer abc.def-ghi_jkl");
        assert_eq!(r, "Authorization: [REDACTED:authorization]");
    }

    #[test]
    fn shapes_match_whatever_precedes_or_follows_them() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        for (text, kind) in [
            (format!("token%3D{gh}&x=1"), "github_token"),
            (format!("x{gh}_y"), "github_token"),
            ("line\\nAKIAIOSFODNN7EXAMPLE".to_owned(), "aws_access_key"),
            ("idAKIAIOSFODNN7EXAMPLEZ".to_owned(), "aws_access_key"),
            ("x-xoxb-1234567890-abcdef".to_owned(), "slack_token"),
            (
                "tok=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"
                    .to_owned(),
                "jwt",
            ),
            ("h:xBearer abcdefghijklmnop1234".to_owned(), "authorization"),
        ] {
            let (r, c) = red(&text);
            assert_eq!(c.by_kind.get(kind), Some(&1), "{text} → {r}");
            assert!(!r.contains("a1B2a1B2") && !r.contains("IOSFODNN7"), "{r}");
        }
    }

    #[test]
    fn runtime_secrets_are_found_in_their_encodings_at_any_offset() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let secret = "Zq9/x+y=p@ss wörd&<\"'>";
        let r = Redactor::new(&[secret.to_owned()], &[]).unwrap();
        let url: String =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let texts = vec![
            secret.to_owned(),
            url,
            serde_json::to_string(secret).unwrap(),
            // As Go's encoding/json writes it.
            "\"Zq9/x+y=p@ss wörd\\u0026\\u003c\\\"'\\u003e\"".to_owned(),
            // As XML writers do, in an attribute or in text.
            "Zq9/x+y=p@ss wörd&amp;&lt;&quot;&apos;&gt;".to_owned(),
            "Zq9/x+y=p@ss wörd&amp;&lt;\"'>".to_owned(),
            "Zq9/x+y=p@ss wörd&amp;&lt;&#34;&#39;&gt;".to_owned(),
            hex::encode(secret),
            hex::encode_upper(secret),
            // encodeURIComponent (`-_.!~*'()` kept), Python's quote (`/` kept), .NET's small
            // hex digits, and a workflow command's message (`%` as `%25`).
            "Zq9%2Fx%2By%3Dp%40ss%20w%C3%B6rd%26%3C%22'%3E".to_owned(),
            "Zq9/x%2By%3Dp%40ss%20w%C3%B6rd%26%3C%22%27%3E".to_owned(),
            "Zq9%2fx%2by%3dp%40ss+w%c3%b6rd%26%3c%22%27%3e".to_owned(),
        ];
        let mut base64 = Vec::new();
        for prefix in ["", "u", "us", "use", "user:", "x-access-token:"] {
            for suffix in ["", "!", "!!", "\n"] {
                let raw = format!("{prefix}{secret}{suffix}");
                base64.push(STANDARD.encode(&raw));
                base64.push(URL_SAFE_NO_PAD.encode(&raw));
            }
        }
        for text in texts.iter().chain(&base64) {
            let line = format!("Authorization: Basic-ish {text} end");
            let mut c = Redactions::default();
            let out = r.redact(&line, &mut c).into_owned();
            assert!(c.by_kind.contains_key("secret"), "{line} → {out}");
            let chars: Vec<char> = text.chars().collect();
            let inner: String = chars[4..chars.len() - 4].iter().collect();
            assert!(!out.contains(&inner), "{out}");
        }
        // Base64 goes whole, padding included: the characters that also encode neighbouring
        // bytes carry bits of the secret too.
        for text in &base64 {
            let line = format!("Authorization: Basic {text}\n");
            let out = r.redact(&line, &mut Redactions::default()).into_owned();
            assert_eq!(out, "Authorization: Basic [REDACTED:secret]\n", "{text}");
        }
        // A secret holding `%`, as a workflow command's message escapes it.
        let pct = Redactor::new(&["Sess%Tok-0123456789".to_owned()], &[]).unwrap();
        let out = pct
            .redact(
                "::error::denied Sess%25Tok-0123456789",
                &mut Redactions::default(),
            )
            .into_owned();
        assert!(!out.contains("Tok-0123456789"), "{out}");
        // A token of `-_` and letters, URL-encoded leaving them (its `=` encoded).
        let jira = Redactor::new(&["ATATT3x-abc_DEF9=xyz".to_owned()], &[]).unwrap();
        let out = jira
            .redact(
                "?token=ATATT3x-abc_DEF9%3Dxyz&x=1",
                &mut Redactions::default(),
            )
            .into_owned();
        assert!(!out.contains("abc_DEF9"), "{out}");
        // Short values are not redacted (they would mangle ordinary text).
        assert!(secret_variants("abcdef").contains(&"abcdef".to_owned()));
        let r = Redactor::new(&["abc".to_owned()], &[]).unwrap();
        assert_eq!(r.redact("abc abc", &mut Redactions::default()), "abc abc");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        for s in [
            "commit 3f9a1c2e4b5d6f7a8b9c0d1e2f3a4b5c6d7e8f90 failed",
            "id 123e4567-e89b-12d3-a456-426614174000",
            "data: SGVsbG8sIFdvcmxkIQ== and QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
            "authorization failed for user bob",
            "Authorization: denied",
            "expected 'ghp_' prefix",
        ] {
            assert_eq!(red(s).0, s);
            assert_eq!(red(s).1.total, 0, "{s}");
        }
    }

    fn streamed(input: &[u8]) -> (Vec<u8>, Redactions) {
        let mut out = Vec::new();
        let mut c = Redactions::default();
        Redactor::default()
            .redact_stream(
                std::io::BufReader::with_capacity(4096, input),
                &mut out,
                &mut c,
            )
            .unwrap();
        (out, c)
    }

    #[test]
    fn streaming_redacts_like_the_whole_text_across_chunks() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        let filler = format!("{}\n", "x".repeat(99));
        let mut text = String::new();
        // A 2 KB private-key block that opens 76 bytes before the first 1 MiB chunk is full.
        while text.len() + filler.len() <= (1 << 20) - 40 {
            text.push_str(&filler);
        }
        text.push_str("-----BEGIN RSA PRIVATE KEY-----\n");
        for _ in 0..30 {
            text.push_str(&format!("{}\n", "MIIEowIBAAKCAQEA7".repeat(4)));
        }
        text.push_str("-----END RSA PRIVATE KEY-----\n");
        for i in 0..15_000 {
            text.push_str(&format!("line {i} é€ token {gh}\r\n"));
        }
        // One 5 MiB line: cut at 4 MiB, its token (near the start) still found.
        text.push_str(&format!(
            "Authorization: Bearer abcdefgh12345678 {}",
            "y".repeat(5 << 20)
        ));
        let (out, c) = streamed(text.as_bytes());
        let (whole, cw) = red(&text);
        assert_eq!(c, cw);
        assert_eq!(c.by_kind["private_key"], 1);
        assert_eq!(c.by_kind["github_token"], 15_000);
        assert!(
            out == whole.as_bytes(),
            "streamed output differs from the whole-text redaction"
        );
    }

    /// A single line past the stream's 4 MiB cut: a token the cut goes through is redacted
    /// whole, as in the whole text.
    #[test]
    fn a_secret_across_a_long_lines_cut_is_redacted() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        for at in [(4 << 20) - 10, (4 << 20) - 3000, (4 << 20) + 5] {
            let text = format!("{}{gh} tail\nnext\n", "x".repeat(at));
            let (out, c) = streamed(text.as_bytes());
            let out = String::from_utf8(out).unwrap();
            assert!(!out.contains("a1B2a1B2"), "token shown (at {at})");
            assert_eq!(c.by_kind.get("github_token"), Some(&1), "at {at}");
            assert_eq!(out, red(&text).0, "at {at}");
        }
    }

    #[test]
    fn streaming_copies_bytes_that_are_not_utf8_and_loses_nothing() {
        let gh = format!("ghp_{}", "a1B2".repeat(9));
        let mut input = b"ok \xff\xfe line\nno newline at the end \xe2\x82".to_vec();
        assert_eq!(
            streamed(&input).0,
            input,
            "nothing to redact: byte for byte"
        );
        input = format!("clean\n{gh}\n").into_bytes();
        input.extend_from_slice(b"bad \xff ");
        input.extend_from_slice(gh.as_bytes());
        let (out, c) = streamed(&input);
        // A line that is not UTF-8 but holds a secret is redacted (its invalid bytes shown as
        // U+FFFD); the line without one above was copied byte for byte.
        let expected =
            "clean\n[REDACTED:github_token]\nbad \u{FFFD} [REDACTED:github_token]".as_bytes();
        assert_eq!(out, expected);
        assert_eq!(c.total, 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD search over lowered windows answers as the case-blind automaton does: literals
    /// in any case, across each window's end at every offset, after non-ASCII text, and long
    /// ones (a secret's encodings are up to a few hundred bytes).
    #[test]
    fn the_packed_literal_search_finds_what_the_automaton_finds() {
        let long = "Zq9".repeat(60);
        let literals = [
            "secret",
            "ghp_",
            "authorization",
            "private key",
            long.as_str(),
        ];
        let packed = Literals::new(&literals);
        // This machine (and every x86-64 runner) has the SIMD the packed search needs.
        assert!(matches!(packed, Literals::Packed { .. }));
        let automaton = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(literals)
            .unwrap();
        let mut checked = 0;
        for needle in [
            "SeCrEt",
            "GHP_",
            "AUTHORIZATION",
            "Private Key",
            &long.to_lowercase(),
        ] {
            for window in [1, 2] {
                let cut = window * LOWERED_WINDOW;
                for at in cut.saturating_sub(needle.len() + 2)..cut + 3 {
                    for lead in ["", "é"] {
                        let mut text = lead.to_owned();
                        text.push_str(&"x".repeat(at.saturating_sub(lead.len())));
                        text.push_str(needle);
                        text.push_str(&"y".repeat(40));
                        assert!(packed.is_match(&text), "{needle} at {at}");
                        assert_eq!(packed.is_match(&text), automaton.is_match(&text));
                        // One byte short of the literal: found by neither.
                        let cut_short = text.replacen(needle, &needle[1..], 1);
                        assert!(!packed.is_match(&cut_short), "{needle} at {at}");
                        assert!(!automaton.is_match(&cut_short));
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100);
        assert!(!packed.is_match(""));
        assert!(packed.is_match("SECRET"));
    }

    /// Several texts checked at once answer as each checked alone: a literal in any of them
    /// (any case, first or last), none split across two, a text with a NUL of its own, texts
    /// longer than a window together; and with configured patterns every text may change.
    #[test]
    fn texts_checked_together_answer_as_each_alone() {
        let r = Redactor::new(&["tok-1234567890".to_owned()], &[]).unwrap();
        assert!(r.may_change_any(&["a", "b", "x-SeCrEt"]));
        assert!(r.may_change_any(&["TOK-1234567890", "b"]));
        assert!(!r.may_change_any(&["tests.pkg::Test", "", "test_parse_3", "f.py"]));
        assert!(!r.may_change_any(&["sec", "ret"]));
        assert!(!r.may_change_any(&["tok-12345", "67890"]));
        assert!(r.may_change_any(&["a\0b", "ghp_"]));
        let long = "y".repeat(LOWERED_WINDOW);
        assert!(r.may_change_any(&[&long, "bearer"]));
        assert!(!r.may_change_any(&[&long, "b"]));
        // What the single-text path redacts, the joined check lets through.
        for t in [
            "Bearer abcdefghijklmnop",
            "AKIAABCDEFGHIJKLMNOP",
            "tok-1234567890",
        ] {
            let changed = r.redact(t, &mut Redactions::default()) != t;
            assert!(changed && r.may_change_any(&["x", t]), "{t}");
        }
        let patterns = Redactor::new(&[], &["nothing-here".to_owned()]).unwrap();
        assert!(patterns.may_change_any(&["a", "b"]));
    }

    /// Compiled on first need, the built-in rules all still compile (a failure would drop one
    /// silently) and apply, after the run's secrets and before the configured patterns.
    #[test]
    fn built_in_rules_compile_and_apply_in_order_when_first_needed() {
        assert_eq!(builtin().len(), BUILTIN_SPECS.len());
        let token = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let text = format!("pushed with {token}; ticket XYZ-1234");
        let mut counts = Redactions::default();
        let plain = Redactor::new(&[], &[]).unwrap();
        let out = plain.redact(&text, &mut counts);
        assert_eq!(out, "pushed with [REDACTED:github_token]; ticket XYZ-1234");
        // The same token given as the run's secret counts as one; a pattern applies after.
        let mut counts = Redactions::default();
        let own = Redactor::new(&[token.to_owned()], &["XYZ-[0-9]+".to_owned()]).unwrap();
        let out = own.redact(&text, &mut counts);
        assert_eq!(
            out,
            "pushed with [REDACTED:secret]; ticket [REDACTED:pattern]"
        );
        assert_eq!(counts.by_kind.get("secret"), Some(&1));
        assert_eq!(counts.by_kind.get("github_token"), None);
        // A clone shares what was compiled, and answers the same.
        let mut counts = Redactions::default();
        assert_eq!(own.clone().redact(&text, &mut counts), out);
        assert_eq!(
            plain.redact("nothing to see", &mut counts),
            "nothing to see"
        );
    }
}
