//! Coverage stage end to end, outside the main CLI (demo, benchmark driver, offline example).
//!
//! cargo run --release --example coverage -- --repo R [--base main | --diff FILE]
//!     --coverage lcov.info [--coverage coverage.xml] [--base-coverage base.xml] [--json out.json]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use controlgate::gather::coverage::{ChangeSource, CoverageRequest, ReportInput, analyze};
use controlgate::render::coverage::render_coverage;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Base ref (default: origin/HEAD's branch, else main).
    #[arg(long)]
    base: Option<String>,
    /// A unified diff instead of git history.
    #[arg(long)]
    diff: Option<PathBuf>,
    #[arg(long, required = true)]
    coverage: Vec<PathBuf>,
    #[arg(long)]
    base_coverage: Vec<PathBuf>,
    #[arg(long)]
    path_fix: Vec<String>,
    #[arg(long)]
    source_root: Vec<String>,
    #[arg(long, env = "GITHUB_WORKSPACE")]
    workspace: Option<String>,
    #[arg(long)]
    json: Option<PathBuf>,
    #[arg(long, default_value_t = 65_000)]
    budget: usize,
    /// Print only a one-line summary (benchmarks).
    #[arg(long)]
    quiet: bool,
}

fn read(paths: &[PathBuf]) -> Result<Vec<ReportInput>, controlgate::Error> {
    paths
        .iter()
        .map(|p| {
            std::fs::read(p)
                .map(|bytes| ReportInput {
                    path: p.clone(),
                    bytes: bytes.into(),
                })
                .map_err(|e| controlgate::Error::io(p, e))
        })
        .collect()
}

fn run(a: Args) -> Result<(), controlgate::Error> {
    let changes = match &a.diff {
        Some(d) => ChangeSource::Diff {
            path: d.clone(),
            text: std::fs::read(d).map_err(|e| controlgate::Error::io(d, e))?,
        },
        None => ChangeSource::Git {
            base_ref: a
                .base
                .clone()
                .unwrap_or_else(|| controlgate::git::default_base_ref(&a.repo, None)),
        },
    };
    let mut req = CoverageRequest::new(&a.repo, changes);
    req.reports = read(&a.coverage)?;
    req.base_reports = read(&a.base_coverage)?;
    req.path_fixes = a.path_fix.clone();
    req.source_roots = a.source_root.clone();
    req.workspace = a.workspace.clone();
    let section = analyze(&req)?;
    if let Some(j) = &a.json {
        let text = serde_json::to_string_pretty(&section)
            .map_err(|e| controlgate::Error::Usage(e.to_string()))?;
        std::fs::write(j, text).map_err(|e| controlgate::Error::io(j, e))?;
    }
    if a.quiet {
        println!(
            "patch {}/{} measured ({} changed), uncovered {}; project {}/{}",
            section.patch.covered,
            section.patch.measured,
            section.patch.changed,
            section.patch.measured - section.patch.covered,
            section.head.lines_covered,
            section.head.lines_measured
        );
    } else {
        print!("{}", render_coverage(&section, a.budget));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
