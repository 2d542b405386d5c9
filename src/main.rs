//! The `controlgate` binary: parses arguments into request structs and calls the library.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use clap::{Parser, Subcommand, ValueEnum};
use controlgate::{Error, ExitCode, ReportRequest, pipeline};

#[derive(Parser)]
#[command(
    name = "controlgate",
    version,
    about = "Test results and coverage → SOC 2 controls → a gate verdict and retained evidence."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read test results, map tests to SOC 2 controls and evaluate the gates.
    ///
    /// Exit status: 0 all gates pass, 1 a gate failed, 2 bad input, usage or config error.
    Report(Box<ReportArgs>),
    /// Print the SOC 2 Trust Services Criteria catalog, or validate a config file.
    Controls(ControlsArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Json,
}

#[derive(clap::Args)]
struct ReportArgs {
    /// JUnit XML files or globs (quote globs); several merge into one run.
    #[arg(long, value_name = "GLOB", num_args = 1.., required = true)]
    junit: Vec<String>,
    /// Config file [default: .github/controlgate.yml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Also write summary.md and report.json into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// HAR files or globs recorded by the tests (API coverage; needs `api.specs`).
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    har: Vec<String>,
    /// Exchange logs (JSON Lines, see docs/api-coverage.md) or globs.
    #[arg(long = "api-log", value_name = "GLOB", num_args = 1..)]
    api_log: Vec<String>,
    /// The base (merge-base) API description, for drift and new-operation checks.
    #[arg(long = "api-base-spec", value_name = "FILE", num_args = 1..)]
    api_base_spec: Vec<PathBuf>,
    /// Coverage reports (LCOV, Cobertura, JaCoCo; detected by content) for patch and
    /// project coverage.
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    coverage: Vec<String>,
    /// Base branch to compare with [default: the PR base, else origin/HEAD's branch, else main].
    #[arg(long, value_name = "REF", conflicts_with = "diff")]
    base: Option<String>,
    /// Changed lines from a unified diff instead of git (for machines without history).
    #[arg(long, value_name = "FILE")]
    diff: Option<PathBuf>,
    /// The base commit's coverage report(s), for the project coverage delta.
    #[arg(long = "base-coverage", value_name = "GLOB", num_args = 1..)]
    base_coverage: Vec<String>,
    /// Repository root for git and coverage paths [default: the working directory].
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ControlsArgs {
    /// Validate the config file instead of printing the catalog.
    #[arg(long)]
    check: bool,
    /// Config file [default: .github/controlgate.yml].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn main() -> ProcessExit {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Report(args) => report(*args),
        Command::Controls(args) => controls(args),
    };
    match result {
        Ok(code) => ProcessExit::from(code as u8),
        Err(e) => {
            eprintln!("error: {e}");
            ProcessExit::from(e.exit_code() as u8)
        }
    }
}

fn workdir() -> Result<PathBuf, Error> {
    std::env::current_dir().map_err(|e| Error::io(".", e))
}

fn report(args: ReportArgs) -> Result<ExitCode, Error> {
    let mut req = ReportRequest::new(args.junit, workdir()?);
    req.config = args.config;
    req.har = args.har;
    req.api_log = args.api_log;
    req.api_base_spec = args.api_base_spec;
    req.coverage = args.coverage;
    req.base_coverage = args.base_coverage;
    req.base_ref = args.base;
    req.diff = args.diff;
    req.repo = args.repo;
    req.secrets = runtime_secrets();
    let out = controlgate::report(&req)?;
    if let Some(dir) = &args.out {
        out.write_to(dir)?;
    }
    let text = match args.format {
        Format::Markdown => &out.markdown,
        Format::Json => &out.json,
    };
    print_inert(text);
    Ok(out.exit_code())
}

/// The values of this run's own secrets, redacted wherever they appear: the GitHub token the
/// action runs with and every line of `CONTROLGATE_SECRETS`.
fn runtime_secrets() -> Vec<String> {
    let mut out = Vec::new();
    for var in [
        "GITHUB_TOKEN",
        "INPUT_GITHUB-TOKEN",
        "INPUT_GITHUB_TOKEN",
        "INPUT_TOKEN",
    ] {
        if let Ok(v) = std::env::var(var) {
            out.push(v);
        }
    }
    if let Ok(v) = std::env::var("CONTROLGATE_SECRETS") {
        out.extend(v.lines().map(str::to_owned));
    }
    out.retain(|s| !s.trim().is_empty());
    out
}

/// Prints the report. Under GitHub Actions stdout is the job log, where a line like
/// `::set-output name=x::y` from a test's output would be run as a workflow command; the text
/// is wrapped in `::stop-commands::<token>` … `::<token>::` with a token the text does not
/// contain, so nothing in it is interpreted.
fn print_inert(text: &str) {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        print!("{text}");
        return;
    }
    let token = stop_token(text);
    println!("::stop-commands::{token}");
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    println!("::{token}::");
}

/// A token that does not occur in `text`: a hash of the text, the time and the process id.
fn stop_token(text: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut n = 0u64;
    loop {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write(text.as_bytes());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        h.write_u64(n);
        let token = format!("controlgate-{:016x}", h.finish());
        if !text.contains(&token) {
            return token;
        }
        n += 1;
    }
}

fn controls(args: ControlsArgs) -> Result<ExitCode, Error> {
    let dir = workdir()?;
    if args.check {
        let (config, path) = pipeline::load_config(args.config.as_deref(), &dir)?;
        let Some(path) = path else {
            return Err(Error::Usage(format!(
                "no config file: {} does not exist (pass --config FILE)",
                pipeline::DEFAULT_CONFIG
            )));
        };
        println!(
            "{}: ok ({} mapping rule(s), {} required control(s))",
            path.display(),
            config.rules.len(),
            config.required_controls().len()
        );
        return Ok(ExitCode::Pass);
    }
    println!("{:<7} {:<21} SUMMARY", "ID", "CATEGORY");
    for c in controlgate::model::controls::catalog() {
        let org = if c.organisational {
            " [organisational]"
        } else {
            ""
        };
        println!(
            "{:<7} {:<21} {}{org}",
            c.id.to_string(),
            c.category.as_str(),
            c.summary
        );
    }
    Ok(ExitCode::Pass)
}
