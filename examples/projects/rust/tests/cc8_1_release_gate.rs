//! Release-gate checks run against a canary before promotion.
//! The binary name carries the control marker, so it shows in the JUnit classname.

use payments_core::deploy::pending;

#[test]
fn release_has_no_pending_migrations() {
    let plan = pending(&["0001_init", "0002_refunds"], &["0001_init", "0002_refunds"]).unwrap();
    assert!(plan.is_empty(), "pending migrations: {plan:?}");
}

/// Simulated canary that is still warming up on the first probe of a run.
///
/// DELIBERATELY FLAKY for the example data: the first attempt of each nextest run
/// fails, the retry passes, so the JUnit report shows a `<flakyFailure>`.
#[test]
fn canary_health_check_passes() {
    let run = std::env::var("NEXTEST_RUN_ID").unwrap_or_else(|_| "no-run-id".into());
    let marker = std::env::temp_dir().join(format!("payments-core-canary-{run}"));
    let warmed_up = marker.exists();
    if !warmed_up {
        std::fs::write(&marker, b"probed").unwrap();
    }
    let status = if warmed_up { 200 } else { 503 };
    println!("GET /healthz -> {status}");
    assert_eq!(status, 200, "canary not healthy yet");
    let _ = std::fs::remove_file(&marker);
}
