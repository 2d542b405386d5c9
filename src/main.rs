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
    Report(ReportArgs),
    /// Print the SOC 2 Trust Services Criteria catalog, or validate a config file.
    Controls(ControlsArgs),
    /// The GitHub Action: run the suites (or read `junit` results), decide, publish the PR
    /// comment, check run, job summary and outputs. Configured by `INPUT_*` / `GITHUB_*`.
    ///
    /// Exit status: the verdict (0 pass, 1 fail; 2 nothing could be decided).
    Run,
    /// Publish a report directory written by `run` (fork-safe second stage, `on: workflow_run`).
    Publish(PublishArgs),
}

#[derive(clap::Args)]
struct PublishArgs {
    /// The report directory `run` wrote (summary.md, report.json, event.json, context.json).
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
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
        Command::Report(args) => report(args),
        Command::Controls(args) => controls(args),
        Command::Run => run(),
        Command::Publish(args) => publish(args),
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
    let out = controlgate::report(&req)?;
    if let Some(dir) = &args.out {
        out.write_to(dir)?;
    }
    match args.format {
        Format::Markdown => print!("{}", out.markdown),
        Format::Json => print!("{}", out.json),
    }
    Ok(out.exit_code())
}

fn run() -> Result<ExitCode, Error> {
    let ctx = controlgate::actions_env::from_env()?;
    Ok(controlgate::action::run(&ctx, &mut std::io::stdout()))
}

fn publish(args: PublishArgs) -> Result<ExitCode, Error> {
    let ctx = controlgate::actions_env::from_env()?;
    let dir = if args.from.is_absolute() {
        args.from
    } else {
        ctx.workspace.join(args.from)
    };
    controlgate::action::publish_from(&ctx, &dir, &mut std::io::stdout())
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
