//! The one gate model: every gate family (tests, controls, coverage, API, tickets, suites)
//! turns its check into a [`Check`] and goes through [`Gate::decide`] with its [`GatePolicy`].
//!
//! A check has three results: it held, it did not, or it could not be evaluated (no tests in
//! scope, no base to compare with, the base record failed verification...). A gate that could
//! not be evaluated fails unless its policy says `when_unavailable: pass`, and the summary says
//! why; a base that failed verification always fails (an attacker who can edit the store must
//! not be able to turn a gate green through `when_unavailable`).

use serde::{Deserialize, Serialize};

/// The run's verdict: it fails when any gate counts as failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// What a gate does to the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    Pass,
    Fail,
    /// The gate is `informational: true`: its outcome is shown but never fails the run.
    Informational,
}

/// What the check itself found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateResult {
    Pass,
    Fail,
    /// The check could not be made; `detail` says why.
    NotEvaluated,
}

/// `when_unavailable:` the outcome of a gate whose check could not be evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenUnavailable {
    /// Fail closed (the default).
    #[default]
    Fail,
    Pass,
}

impl WhenUnavailable {
    pub fn as_str(self) -> &'static str {
        match self {
            WhenUnavailable::Fail => "fail",
            WhenUnavailable::Pass => "pass",
        }
    }
}

/// How a gate's outcome counts, from its config setting (`informational`, `when_unavailable`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GatePolicy {
    pub informational: bool,
    pub when_unavailable: WhenUnavailable,
}

impl GatePolicy {
    /// Counts, and fails closed.
    pub const STRICT: GatePolicy = GatePolicy {
        informational: false,
        when_unavailable: WhenUnavailable::Fail,
    };
    /// Shown, never fails the run.
    pub const INFORMATIONAL: GatePolicy = GatePolicy {
        informational: true,
        when_unavailable: WhenUnavailable::Fail,
    };
}

/// Why a check could not be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Nothing to evaluate (no tests in scope, no base run yet, no change context):
    /// `when_unavailable` decides.
    Missing,
    /// What the check needed failed verification (a tampered ledger or base bundle): fails
    /// whatever `when_unavailable` says (still shown only, when informational).
    Untrusted,
}

/// A gate's check, before its policy applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Held(String),
    Broken(String),
    Unavailable(Unavailable, String),
}

impl Check {
    /// `Held` or `Broken` by `ok`, with the same detail.
    pub fn from_bool(ok: bool, detail: String) -> Check {
        if ok {
            Check::Held(detail)
        } else {
            Check::Broken(detail)
        }
    }

    /// Nothing to evaluate: the reason, e.g. "no control-tagged tests ran".
    pub fn missing(reason: impl Into<String>) -> Check {
        Check::Unavailable(Unavailable::Missing, reason.into())
    }

    /// What the check needed failed verification.
    pub fn untrusted(reason: impl Into<String>) -> Check {
        Check::Unavailable(Unavailable::Untrusted, reason.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub name: String,
    pub status: GateStatus,
    /// What the check found (`not_evaluated`: it could not be made; `detail` says why).
    pub result: GateResult,
    /// Whether the check itself held (an informational gate can have `passed: false`).
    pub passed: bool,
    pub detail: String,
}

impl Gate {
    /// The gate `name` from its check and policy: the only place a gate outcome is decided.
    pub fn decide(name: impl Into<String>, policy: GatePolicy, check: Check) -> Gate {
        let (result, counts_as_pass, detail) = match check {
            Check::Held(d) => (GateResult::Pass, true, d),
            Check::Broken(d) => (GateResult::Fail, false, d),
            Check::Unavailable(kind, why) => {
                let pass = kind == Unavailable::Missing
                    && policy.when_unavailable == WhenUnavailable::Pass;
                let how = match (kind, policy.informational, pass) {
                    (Unavailable::Untrusted, false, _) => {
                        "fails: a base that failed verification is never used".to_owned()
                    }
                    (_, true, _) => "informational".to_owned(),
                    (_, false, true) => "passes (when_unavailable: pass)".to_owned(),
                    (_, false, false) => "fails closed (when_unavailable: fail)".to_owned(),
                };
                (
                    GateResult::NotEvaluated,
                    pass,
                    format!("not evaluated: {why}; {how}"),
                )
            }
        };
        let status = match (policy.informational, counts_as_pass) {
            (true, _) => GateStatus::Informational,
            (false, true) => GateStatus::Pass,
            (false, false) => GateStatus::Fail,
        };
        Gate {
            name: name.into(),
            status,
            result,
            passed: result == GateResult::Pass,
            detail,
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    fn policy(informational: bool, when_unavailable: WhenUnavailable) -> GatePolicy {
        GatePolicy {
            informational,
            when_unavailable,
        }
    }

    #[test]
    fn every_result_under_every_policy() {
        use GateResult as R;
        use GateStatus as S;
        use WhenUnavailable::{Fail as F, Pass as P};
        let cases = [
            (Check::Held("ok".into()), policy(false, F), S::Pass, R::Pass),
            (
                Check::Broken("no".into()),
                policy(false, P),
                S::Fail,
                R::Fail,
            ),
            (
                Check::Broken("no".into()),
                policy(true, F),
                S::Informational,
                R::Fail,
            ),
            (
                Check::missing("none"),
                policy(false, F),
                S::Fail,
                R::NotEvaluated,
            ),
            (
                Check::missing("none"),
                policy(false, P),
                S::Pass,
                R::NotEvaluated,
            ),
            (
                Check::missing("none"),
                policy(true, F),
                S::Informational,
                R::NotEvaluated,
            ),
            (
                Check::untrusted("edited"),
                policy(false, P),
                S::Fail,
                R::NotEvaluated,
            ),
        ];
        for (check, p, status, result) in cases {
            let g = Gate::decide("g", p, check.clone());
            assert_eq!((g.status, g.result), (status, result), "{check:?} {p:?}");
            assert_eq!(g.passed, result == R::Pass);
        }
        let g = Gate::decide("g", policy(false, F), Check::missing("no tests ran"));
        assert_eq!(
            g.detail,
            "not evaluated: no tests ran; fails closed (when_unavailable: fail)"
        );
    }
}

crate::redact_fields!(Gate: name, detail);
