//! The `controlgate` binary: parses arguments into request structs and calls the library.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;

use anyhow::Context as _;
use controlgate::console::{self, LogWriter};
use controlgate::redact::SecretValues;
use controlgate::retain;
use controlgate::{Error, ExitCode, ReportRequest, actions_env, pipeline};

/// The job log: every line redacted and inert (see `controlgate::console`).
type Log = LogWriter<std::io::Stdout>;

// musl's `memcpy` is built for size too; the x86_64 musl link routes every call to this one.
#[cfg(all(target_arch = "x86_64", any(target_env = "musl", test)))]
mod memcpy;
// So are its `memcmp` and `bcmp` (slice and string equality); the same link routes them here.
#[cfg(all(target_arch = "x86_64", any(target_env = "musl", test)))]
mod memcmp;

// The shipped binary is static musl, whose allocator is built for size, not speed: with it every
// parse path ran 1.5–2× slower than the glibc build (bench/README.md has the figures).
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The allocator's settings (`controlgate::allocator`), before the first allocation that
/// creates an arena, and libgit2's allocator.
#[cfg(target_env = "musl")]
fn tune_allocator() {
    controlgate::allocator::bound_memory();
    git_allocator();
}

/// libgit2 allocates through musl's `malloc` otherwise, which maps and unmaps small regions as
/// it goes: walking a tree of 5,000 files made 300 `mmap`/`munmap` pairs, each unmapping a TLB
/// flush on both cores while the reports are parsed (3 ms of the LCOV bench's 60, measured on
/// interleaved runs). Set before libgit2 starts (git2 starts it on first use), as its
/// `git_libgit2_opts` documentation asks: it keeps an allocator set before its init.
#[cfg(target_env = "musl")]
fn git_allocator() {
    use std::ffi::{c_char, c_int, c_void};
    /// `git_allocator` of libgit2's `git2/sys/alloc.h` (libgit2-sys does not declare it).
    #[repr(C)]
    struct GitAllocator {
        gmalloc: unsafe extern "C" fn(usize, *const c_char, c_int) -> *mut c_void,
        grealloc: unsafe extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void,
        gfree: unsafe extern "C" fn(*mut c_void),
    }
    unsafe extern "C" fn gmalloc(n: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
        // SAFETY: mimalloc's `malloc`; any size.
        unsafe { libmimalloc_sys::mi_malloc(n) }
    }
    unsafe extern "C" fn grealloc(
        p: *mut c_void,
        n: usize,
        _file: *const c_char,
        _line: c_int,
    ) -> *mut c_void {
        // SAFETY: `p` is null or came from `gmalloc`/`grealloc`: every libgit2 block does,
        // the allocator being set before libgit2 made any.
        unsafe { libmimalloc_sys::mi_realloc(p, n) }
    }
    unsafe extern "C" fn gfree(p: *mut c_void) {
        // SAFETY: as for `grealloc`.
        unsafe { libmimalloc_sys::mi_free(p) }
    }
    static ALLOCATOR: GitAllocator = GitAllocator {
        gmalloc,
        grealloc,
        gfree,
    };
    // SAFETY: libgit2 copies the three pointers (`git_allocator_setup`); called first thing
    // in `main`, before anything uses git2.
    unsafe {
        libgit2_sys::git_libgit2_opts(
            libgit2_sys::GIT_OPT_SET_ALLOCATOR as c_int,
            &raw const ALLOCATOR,
        );
    }
}

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
    /// Combine matrix legs (directories written by `report --leg NAME --out DIR` or the
    /// Action's `leg` input) into one decided report: tests deduplicated by identity (the worst
    /// run wins; passed on one leg and failed on another is flaky), coverage merged, and the
    /// config's `expect:` legs required.
    ///
    /// Exit status: 0 all gates pass, 1 a gate failed (a missing leg fails `expect.legs`),
    /// 2 bad input (a directory that is not a leg, a copy that changed).
    Merge(Box<MergeArgs>),
    /// Print the SOC 2 Trust Services Criteria catalog, or validate a config file.
    Controls(ControlsArgs),
    /// The GitHub Action: run the suites (or read `results` files), decide, publish the PR
    /// comment, check run, job summary and outputs. Configured by `INPUT_*` / `GITHUB_*`.
    ///
    /// Exit status: the verdict (0 pass, 1 fail; 2 nothing could be decided).
    Run,
    /// Publish a report directory written by `run` (fork-safe second stage, `on: workflow_run`).
    Publish(PublishArgs),
    /// Re-compute every bundle digest and the ledger's hash chain.
    ///
    /// Exit status: 0 intact, 1 tampered (the first broken entry is named), 2 unusable input.
    Verify(VerifyArgs),
    /// The auditor's view of a period: per control, per change, and a reproducible sample.
    ///
    /// Verifies the ledger first; exit status 1 when the chain is not intact.
    Audit(AuditArgs),
    /// Export retained runs for other tools: an in-toto Statement (test-result predicate) of
    /// one run, or OSCAL assessment results of a period.
    ///
    /// Only verified evidence is exported. Exit status: 0 written, 1 the chain or a bundle is
    /// not intact (nothing written), 2 unusable input.
    Export(ExportArgs),
    /// Shields-style SVG badges of a branch's last run (verdict, coverage, SOC 2 controls
    /// evidenced), from the verified ledger.
    ///
    /// Exit status: 0 written, 1 the ledger is not intact (nothing written), 2 no run of the
    /// branch or unusable input.
    Badge(BadgeArgs),
}

/// Where the evidence is: `--store DIR`, else the config's `evidence.store`.
#[derive(clap::Args)]
struct StoreArgs {
    /// A `dir` evidence store [default: the config file's `evidence.store`].
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Config file [default: .github/controlgate.yml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The repository the entries must belong to (`owner/name`) [default: the first entry's].
    #[arg(long, value_name = "OWNER/NAME")]
    repository: Option<String>,
}

#[derive(clap::Args)]
struct VerifyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Check the chain only, without re-hashing every bundle file.
    #[arg(long)]
    chain_only: bool,
    /// The ledger tip recorded elsewhere (`SEQ:DIGEST`, e.g. from a PR summary): also
    /// detects entries removed from the end.
    #[arg(long, value_name = "SEQ:DIGEST")]
    expect_tip: Option<String>,
    #[command(flatten)]
    anchors: AnchorArgs,
    /// First day of the workflow runs whose anchors are read (UTC) [default: a year before
    /// --to].
    #[arg(long, value_name = "DATE", requires = "anchors")]
    from: Option<chrono::NaiveDate>,
    /// Last day of the workflow runs whose anchors are read (UTC) [default: today].
    #[arg(long, value_name = "DATE", requires = "anchors")]
    to: Option<chrono::NaiveDate>,
}

/// `--anchors github`: check the chain against the tips the check runs recorded on GitHub.
#[derive(clap::Args)]
struct AnchorArgs {
    /// Also check the chain against the ledger tips each run recorded in its check run's
    /// `external_id` on GitHub (`GITHUB_TOKEN`, `GITHUB_API_URL`; the repository from
    /// `--repository`, else `GITHUB_REPOSITORY`): detects a truncated ledger and one
    /// rewritten from a point on.
    #[arg(long, value_enum, value_name = "SOURCE")]
    anchors: Option<PopulationSource>,
    /// The check run name the runs used (the action's `check-name`).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "controlgate",
        requires = "anchors"
    )]
    check_name: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditFormatArg {
    Markdown,
    Csv,
    Json,
    /// One self-contained HTML file: per-control tables and charts, the sample's runs.
    Html,
}

#[derive(clap::Args)]
struct AuditArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// First day of the period (UTC, inclusive), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    from: chrono::NaiveDate,
    /// Last day of the period (UTC, inclusive), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    to: chrono::NaiveDate,
    /// Only this control (`CC8.1`, `cc8-1`).
    #[arg(long, value_name = "ID")]
    control: Option<String>,
    #[arg(long, value_enum, default_value = "markdown")]
    format: AuditFormatArg,
    /// Draw a reproducible random sample of N runs.
    #[arg(long, value_name = "N", requires = "seed")]
    sample: Option<usize>,
    /// Seed of the sample.
    #[arg(long, value_name = "S", requires = "sample")]
    seed: Option<u64>,
    /// Write the audit to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Join the period's merged pull requests and direct pushes to `--branch`, listed from
    /// GitHub's API (`GITHUB_TOKEN`; `GITHUB_API_URL`; the repository from `--repository`,
    /// else `GITHUB_REPOSITORY`), with the ledger, and report every change it cannot account
    /// for: no ledger entry, a failing verdict on the merged head, no ticket, an untested head.
    #[arg(long, value_enum, value_name = "SOURCE")]
    population: Option<PopulationSource>,
    /// The branch changes reach [default: main].
    #[arg(
        long,
        value_name = "BRANCH",
        default_value = "main",
        requires = "population"
    )]
    branch: String,
    /// Exit 1 when the population has exceptions.
    #[arg(long, requires = "population")]
    fail_on_exceptions: bool,
    #[command(flatten)]
    anchors: AnchorArgs,
}

/// Where `--population` and `--anchors` are read from.
#[derive(Clone, Copy, ValueEnum)]
enum PopulationSource {
    /// GitHub's REST API.
    Github,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    /// An in-toto Statement v1 with the test-result predicate, subjects the commit and bundle.
    InToto,
    /// Only the test-result predicate (for `actions/attest`, which writes the Statement).
    InTotoPredicate,
    /// An OSCAL assessment-results document, one result per run of the period.
    Oscal,
}

#[derive(clap::Args)]
struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(long, value_enum)]
    format: ExportFormatArg,
    /// The run (ledger entry number) to export [default: the last entry]. in-toto only.
    #[arg(long, value_name = "N", conflicts_with_all = ["from", "to"])]
    seq: Option<u64>,
    /// First day of the period (UTC, inclusive), YYYY-MM-DD. OSCAL only.
    #[arg(long, value_name = "DATE", requires = "to")]
    from: Option<chrono::NaiveDate>,
    /// Last day of the period (UTC, inclusive), YYYY-MM-DD. OSCAL only.
    #[arg(long, value_name = "DATE", requires = "from")]
    to: Option<chrono::NaiveDate>,
    /// Write the document to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
struct BadgeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The branch whose last run (not a pull request's) the badges show.
    #[arg(long, value_name = "BRANCH", default_value = "main")]
    branch: String,
    /// Directory to write verdict.svg, coverage.svg and controls.svg into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
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
    /// Test result files or globs (quote globs); several merge into one run. Any mix of JUnit
    /// XML, TRX, NUnit 2/3, xUnit.net v2, `go test -json`, Dart and Mocha JSON, detected by
    /// content. `--junit` is the same option.
    #[arg(
        long = "results",
        visible_alias = "junit",
        value_name = "GLOB",
        num_args = 1..,
        required = true
    )]
    results: Vec<String>,
    /// HAR files or globs recorded by the tests (API coverage; needs `api.specs`).
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    har: Vec<String>,
    /// Exchange logs (JSON Lines, see docs/api-coverage.md) or globs.
    #[arg(long = "api-log", value_name = "GLOB", num_args = 1..)]
    api_log: Vec<String>,
    /// The base (merge-base) API description, for drift and new-operation checks.
    #[arg(long = "api-base-spec", value_name = "FILE", num_args = 1..)]
    api_base_spec: Vec<PathBuf>,
    /// Coverage reports (LCOV, Cobertura, JaCoCo, Clover; detected by content) for patch and
    /// project coverage.
    #[arg(long, value_name = "GLOB", num_args = 1..)]
    coverage: Vec<String>,
    #[command(flatten)]
    decide: DecideArgs,
    /// This run is matrix leg NAME: `--out DIR` also receives `leg.json` and copies of the
    /// result and coverage files read, for `controlgate merge`.
    #[arg(long, value_name = "NAME", requires = "out")]
    leg: Option<String>,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// The legs' directories.
    #[arg(value_name = "DIR", required = true, num_args = 1..)]
    legs: Vec<PathBuf>,
    #[command(flatten)]
    decide: DecideArgs,
}

/// What `report` and `merge` share: the config, the output, the base and the evidence.
#[derive(clap::Args)]
struct DecideArgs {
    /// Config file [default: .github/controlgate.yml when it exists].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
    /// Also write summary.md and report.json into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
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
    /// Retain the run: write its evidence bundle and ledger entry into this directory store
    /// [default: the config file's `evidence.store`, if any].
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
}

impl DecideArgs {
    /// Sets the shared options on `req` (relative directories from where the user stands).
    fn apply(self, req: &mut ReportRequest, secrets: &SecretValues) -> (Option<PathBuf>, Format) {
        req.config = self.config;
        req.base_coverage = self.base_coverage;
        req.base_ref = self.base;
        req.diff = self.diff;
        req.repo = self.repo;
        // A directory given on the command line is relative to where the user stands (the
        // config's `evidence.store.path` is relative to the repository root).
        req.evidence_dir = self.evidence.map(|d| req.workdir.join(d));
        req.secrets = secrets.clone();
        req.env = actions_env::EnvVars(actions_env::process_vars());
        (self.out, self.format)
    }
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

/// The job's credentials are in this process's environment, and the suites (the code under
/// review) and git's children run as the same user: they could read them from
/// `/proc/<pid>/environ` or its memory. A process that is not dumpable has those files open to
/// a privileged one only (in the Docker action, root without `CAP_SYS_PTRACE`: none). No core
/// dump, which would hold them too, is written either.
#[cfg(target_os = "linux")]
fn keep_memory_private() {
    // SAFETY: PR_SET_DUMPABLE takes integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

fn main() -> ProcessExit {
    #[cfg(target_os = "linux")]
    keep_memory_private();
    #[cfg(target_env = "musl")]
    tune_allocator();
    let cli = Cli::parse();
    // Secrets are gathered once, here, for every command: whatever is printed, written or
    // posted is redacted of them (and their encodings).
    let secrets = SecretValues::new(actions_env::secrets_from(&actions_env::process_vars()));
    let redactor = match secrets.redactor() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the run's secrets cannot be redacted ({e}); nothing was done");
            return ProcessExit::from(ExitCode::BadInput as u8);
        }
    };
    let mut stdout = LogWriter::new(std::io::stdout(), redactor.clone());
    let result = match cli.command {
        Command::Report(args) => report(*args, &secrets, &mut stdout),
        Command::Merge(args) => merge(*args, &secrets, &mut stdout),
        Command::Controls(args) => controls(args, &mut stdout),
        Command::Run => run(&mut stdout),
        Command::Publish(args) => publish(args, &mut stdout),
        Command::Verify(args) => verify(args, &mut stdout),
        Command::Audit(args) => audit(args, &mut stdout),
        Command::Export(args) => export(args, &mut stdout),
        Command::Badge(args) => badge(args),
    };
    let _ = stdout.finish();
    match result {
        Ok(code) => ProcessExit::from(code as u8),
        Err(e) => {
            // Error messages quote input (paths, keys, values): one inert, bounded line.
            eprintln!("error: {}", console::inert(&error_line(&e), &redactor));
            // The first error of the chain that is controlgate's decides the code: the
            // binary's contexts ("retaining the evidence") come first and are no kind of error.
            let code = e
                .chain()
                .find_map(controlgate::error::own_exit_code)
                .unwrap_or(ExitCode::BadInput);
            ProcessExit::from(code as u8)
        }
    }
}

fn workdir() -> Result<PathBuf, Error> {
    std::env::current_dir().map_err(|e| Error::io(".", e))
}

/// A library error, kept typed inside the `anyhow` chain (its exit code is read from it).
fn lib<T>(r: Result<T, impl Into<Error>>) -> Result<T, Error> {
    r.map_err(Into::into)
}

fn report(args: ReportArgs, secrets: &SecretValues, log: &mut Log) -> anyhow::Result<ExitCode> {
    let mut req = ReportRequest::new(args.results, workdir()?);
    req.har = args.har;
    req.api_log = args.api_log;
    req.api_base_spec = args.api_base_spec;
    req.coverage = args.coverage;
    let (out, format) = args.decide.apply(&mut req, secrets);
    decide_and_deliver(&req, out.as_deref(), args.leg.as_deref(), format, log)
}

fn merge(args: MergeArgs, secrets: &SecretValues, log: &mut Log) -> anyhow::Result<ExitCode> {
    let mut req = ReportRequest::new(Vec::new(), workdir()?);
    let dirs: Vec<PathBuf> = args.legs.iter().map(|d| req.workdir.join(d)).collect();
    let legs = lib(controlgate::legs::read_legs(&dirs))?;
    controlgate::legs::merge_into(&mut req, &legs);
    let (out, format) = args.decide.apply(&mut req, secrets);
    decide_and_deliver(&req, out.as_deref(), None, format, log)
}

/// Decides the run, retains the evidence, writes `out` (and the leg's files), prints.
fn decide_and_deliver(
    req: &ReportRequest,
    out_dir: Option<&std::path::Path>,
    leg: Option<&str>,
    format: Format,
    log: &mut Log,
) -> anyhow::Result<ExitCode> {
    let out = controlgate::report(req)?;
    // The evidence first, as the Action does: once the run is decided its evidence must reach
    // the store (or the fallback directory), whatever fails after it (an `--out` that cannot
    // be written).
    let retained = match out.evidence.clone() {
        None => Ok(()),
        Some(evidence) => {
            let base_dir = req.repo.clone().unwrap_or_else(|| req.workdir.clone());
            let ev = pipeline::EvidenceRequest { evidence, base_dir };
            pipeline::retain_evidence(&out, req, &ev)
                .map(|written| {
                    eprintln!(
                        "evidence: bundle {} retained at {}; ledger entry #{} ({})",
                        written.bundle_digest,
                        console::inert(&written.location, &out.redactor),
                        written.entry_seq,
                        written.entry_digest
                    );
                })
                .context("retaining the evidence")
        }
    };
    if let Some(dir) = out_dir {
        let written = out
            .write_to(dir)
            .with_context(|| format!("writing the report to {}", dir.display()))
            .and_then(|()| match leg {
                Some(name) => lib(controlgate::legs::write_leg(&out, req, name, dir))
                    .with_context(|| format!("writing leg `{name}` to {}", dir.display())),
                None => Ok(()),
            });
        if let Err(e) = written {
            // Evidence that was not retained is the error the caller must see (exit 1, where
            // the bundle was kept); the report's own failure is said beside it.
            if retained.is_err() {
                eprintln!("error: {}", console::inert(&error_line(&e), &out.redactor));
            } else {
                return Err(e);
            }
        }
    }
    retained?;
    let markdown = |w: &mut dyn std::io::Write| w.write_all(out.markdown.as_bytes());
    let json = |w: &mut dyn std::io::Write| controlgate::render::write_json(&out.report, w);
    let write: &controlgate::inputs::WriteFn = match format {
        Format::Markdown => &markdown,
        Format::Json => &json,
    };
    print_inert(write, log).context("writing the report to stdout")?;
    let code = out.exit_code();
    // The process ends next: freeing a large run's report piece by piece only delays the exit
    // (plain data, nothing to flush or close).
    std::mem::forget(out);
    Ok(code)
}

fn run(log: &mut Log) -> anyhow::Result<ExitCode> {
    let ctx = lib(actions_env::from_env())?;
    Ok(controlgate::action::run(&ctx, log))
}

fn publish(args: PublishArgs, log: &mut Log) -> anyhow::Result<ExitCode> {
    let ctx = lib(actions_env::from_env())?;
    let dir = if args.from.is_absolute() {
        args.from
    } else {
        ctx.workspace.join(args.from)
    };
    Ok(controlgate::action::publish_from(&ctx, &dir, log)?)
}

/// Prints the report. Under GitHub Actions stdout is the job log, where a line like
/// `::set-output name=x::y` from a test's output would be run as a workflow command; the text
/// is wrapped in `::stop-commands::<token>` … `::<token>::` with a token the text does not
/// contain, so nothing in it is interpreted.
fn print_inert(write: &controlgate::inputs::WriteFn, log: &mut Log) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(log.raw()?);
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        write(&mut w)?;
        return w.flush();
    }
    let token = stop_token();
    writeln!(w, "::stop-commands::{token}")?;
    write(&mut w)?;
    // Every rendering ends with a newline, so the closing command starts its own line.
    writeln!(w, "::{token}::")?;
    w.flush()
}

/// A 128-bit token no output can guess (it would have to appear in the text to end the
/// stop-commands block early).
fn stop_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        h.write_u32(std::process::id());
        h.write_u64(salt);
        h.finish()
    };
    format!("controlgate-{:016x}{:016x}", half(1), half(2))
}

fn controls(args: ControlsArgs, log: &mut Log) -> anyhow::Result<ExitCode> {
    let dir = workdir()?;
    if args.check {
        let (config, path) = pipeline::load_config(args.config.as_deref(), &dir)?;
        let Some(path) = path else {
            return Err(Error::Usage(format!(
                "no config file: {} does not exist (pass --config FILE)",
                pipeline::DEFAULT_CONFIG
            ))
            .into());
        };
        writeln!(
            log,
            "{}: ok ({} mapping rule(s), {} required control(s))",
            console::log_text(&path.display().to_string(), console::VALUE_MAX),
            config.rules.len(),
            config.required_controls().len()
        )
        .context("writing to stdout")?;
        return Ok(ExitCode::Pass);
    }
    writeln!(log, "{:<7} {:<21} SUMMARY", "ID", "CATEGORY").context("writing to stdout")?;
    for c in controlgate::model::controls::catalog() {
        let org = if c.organisational {
            " [organisational]"
        } else {
            ""
        };
        writeln!(
            log,
            "{:<7} {:<21} {}{org}",
            c.id.to_string(),
            c.category.as_str(),
            c.summary
        )
        .context("writing to stdout")?;
    }
    Ok(ExitCode::Pass)
}

/// The store to verify or audit, and how to open it.
fn store_of(args: &StoreArgs) -> Result<(retain::StoreConfig, retain::OpenContext), Error> {
    let dir = workdir()?;
    let store = match &args.store {
        Some(path) => retain::StoreConfig::Dir { path: path.clone() },
        None => {
            let (config, _) = pipeline::load_config(args.config.as_deref(), &dir)?;
            match config.evidence {
                Some(ev) => ev.store,
                None => {
                    return Err(Error::Usage(
                        "no evidence store: pass --store DIR or set `evidence.store` in the config"
                            .into(),
                    ));
                }
            }
        }
    };
    let vars = actions_env::process_vars();
    // Where runs wrote: `--repository`, else the Action's repository (`GITHUB_REPOSITORY`,
    // `owner/name`, as the Action's run identity takes it), else what `report` uses.
    let from_env = vars
        .iter()
        .find(|(k, v)| k == "GITHUB_REPOSITORY" && v.contains('/'))
        .map(|(_, v)| v.as_str());
    let repository = controlgate::retain::store_repository(args.repository.as_deref().or(from_env));
    Ok((
        store,
        retain::OpenContext {
            base_dir: dir,
            repository,
            env: actions_env::EnvVars(vars),
        },
    ))
}

fn verify(args: VerifyArgs, log: &mut Log) -> anyhow::Result<ExitCode> {
    let (store, context) = store_of(&args.store)?;
    let expect_tip = match &args.expect_tip {
        None => None,
        Some(t) => {
            let (seq, digest) = t
                .split_once(':')
                .and_then(|(s, d)| Some((s.parse::<u64>().ok()?, d.to_owned())))
                .filter(|(seq, d)| *seq > 0 && retain::canonical::is_digest(d))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "--expect-tip `{}`: expected SEQ:DIGEST (an entry number and its 64 \
                         lower-case hex SHA-256)",
                        console::log_text(t, 200)
                    ))
                })?;
            Some(retain::Tip {
                seq,
                digest,
                of: None,
            })
        }
    };
    let anchors = match args.anchors.anchors {
        None => Vec::new(),
        Some(PopulationSource::Github) => {
            let to = args.to.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let from = args.from.unwrap_or_else(|| to - chrono::Days::new(365));
            github_anchors(&args.store, &args.anchors.check_name, from, to, log)?
        }
    };
    let options = retain::VerifyOptions {
        bundles: !args.chain_only,
        expect_tip,
        repository: args.store.repository.clone(),
        anchors,
    };
    let outcome = lib(retain::verify(&retain::VerifyRequest {
        store,
        context,
        options,
    }))
    .context("verifying the evidence")?;
    writeln!(log, "{}", console::log_text(&outcome.summary(), 64 * 1024))
        .context("writing to stdout")?;
    Ok(outcome.exit_code())
}

fn audit(args: AuditArgs, log: &mut Log) -> anyhow::Result<ExitCode> {
    let (store, context) = store_of(&args.store)?;
    if args.from > args.to {
        return Err(Error::Usage(format!("--from {} is after --to {}", args.from, args.to)).into());
    }
    // A control that does not exist would audit nothing and say "0 runs", as if none ran.
    if let Some(c) = &args.control
        && controlgate::model::controls::lookup(c).is_err()
    {
        return Err(Error::Usage(format!(
            "--control `{}`: not a SOC 2 criterion (`controlgate controls` lists them: CC1.1 … \
             P8.1)",
            c.escape_debug()
        ))
        .into());
    }
    let format = match args.format {
        AuditFormatArg::Markdown => retain::AuditFormat::Markdown,
        AuditFormatArg::Csv => retain::AuditFormat::Csv,
        AuditFormatArg::Json => retain::AuditFormat::Json,
        AuditFormatArg::Html => retain::AuditFormat::Html,
    };
    let anchors = match args.anchors.anchors {
        None => Vec::new(),
        Some(PopulationSource::Github) => github_anchors(
            &args.store,
            &args.anchors.check_name,
            args.from,
            args.to,
            log,
        )?,
    };
    let population = match args.population {
        None => None,
        Some(PopulationSource::Github) => {
            let (access, repository) = github_access(&args.store)?;
            let changes = controlgate::gather::history::github_population(
                &access,
                &repository,
                &args.branch,
                args.from,
                args.to,
                github_log(log),
            )?;
            Some(retain::population::Population {
                source: "github".into(),
                repository,
                changes,
            })
        }
    };
    let request = retain::AuditRequest {
        store,
        context,
        query: retain::AuditQuery {
            from: args.from,
            to: args.to,
            control: args.control,
            sample: args.sample.zip(args.seed),
            population,
        },
        format,
        verify: retain::VerifyOptions {
            repository: args.store.repository.clone(),
            anchors,
            ..Default::default()
        },
    };
    let outcome = lib(retain::audit(&request)).context("auditing the evidence")?;
    // Ledger texts were redacted when they were written; older ledgers are redacted here.
    let audit_text = log
        .redactor()
        .redact(&outcome.text, &mut Default::default())
        .into_owned();
    emit(audit_text, args.output.as_deref(), log).context("writing the audit")?;
    let exceptions = outcome
        .report
        .population
        .as_ref()
        .map_or(0, |p| p.exceptions.len());
    if args.fail_on_exceptions && exceptions > 0 {
        eprintln!("controlgate: the population has {exceptions} exception(s)");
        return Ok(ExitCode::Fail);
    }
    Ok(outcome.exit_code())
}

/// The error and its causes on one line, as `{:#}` writes them, without a cause the message
/// before it already quotes (an I/O error's message ends with its cause).
fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.is_empty() {
            line = text;
        } else if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Writes a document to `output`, else to stdout (inert under GitHub Actions). Ends it with a
/// newline.
fn emit(mut text: String, output: Option<&std::path::Path>, log: &mut Log) -> anyhow::Result<()> {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match output {
        Some(path) => {
            std::fs::write(path, text.as_bytes()).with_context(|| format!("{}", path.display()))
        }
        None => {
            print_inert(&|w: &mut dyn Write| w.write_all(text.as_bytes()), log).context("stdout")
        }
    }
}

fn export(args: ExportArgs, log: &mut Log) -> anyhow::Result<ExitCode> {
    let kind = match (args.format, args.from.zip(args.to)) {
        (ExportFormatArg::InToto, None) => retain::export::ExportKind::InToto { seq: args.seq },
        (ExportFormatArg::InTotoPredicate, None) => {
            retain::export::ExportKind::InTotoPredicate { seq: args.seq }
        }
        (ExportFormatArg::Oscal, Some((from, to))) if args.seq.is_none() => {
            retain::export::ExportKind::Oscal { from, to }
        }
        (ExportFormatArg::Oscal, _) => {
            return Err(Error::Usage(
                "--format oscal exports a period: give --from and --to (not --seq)".into(),
            )
            .into());
        }
        (_, Some(_)) => {
            return Err(Error::Usage(
                "--format in-toto exports one run: give --seq N (default: the last entry), \
                 not --from/--to"
                    .into(),
            )
            .into());
        }
    };
    let (store, context) = store_of(&args.store)?;
    let store = lib(retain::open_store(&store, &context))?;
    let verify = retain::VerifyOptions {
        repository: args.store.repository.clone(),
        ..Default::default()
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let outcome = lib(retain::export::export_store(
        store.as_ref(),
        &kind,
        &verify,
        &now,
    ))
    .context("exporting the evidence")?;
    let text = match outcome {
        retain::export::ExportOutcome::Exported(text) => text,
        retain::export::ExportOutcome::NotIntact(why) => {
            eprintln!(
                "{}; nothing was exported",
                console::inert(&why, log.redactor())
            );
            return Ok(ExitCode::Fail);
        }
    };
    // Ledger texts were redacted when they were written; older ledgers are redacted here.
    let text = log
        .redactor()
        .redact(&text, &mut Default::default())
        .into_owned();
    emit(text, args.output.as_deref(), log).context("writing the export")?;
    Ok(ExitCode::Pass)
}

/// GitHub's address and token from the environment, and the repository to read.
fn github_access(
    store: &StoreArgs,
) -> anyhow::Result<(controlgate::gather::history::GitHubAccess, String)> {
    let vars = actions_env::process_vars();
    let repository = store
        .repository
        .clone()
        .or_else(|| {
            vars.iter()
                .find(|(k, v)| k == "GITHUB_REPOSITORY" && !v.is_empty())
                .map(|(_, v)| v.clone())
        })
        .ok_or_else(|| {
            Error::Usage("reading GitHub: which repository? give --repository OWNER/NAME".into())
        })?;
    let access = controlgate::gather::history::GitHubAccess::from_vars(&vars)?;
    Ok((access, repository))
}

/// Progress lines of the GitHub client: on stderr, redacted and inert.
fn github_log(log: &Log) -> Box<dyn Fn(&str)> {
    let redactor = log.redactor().clone();
    Box::new(move |m| eprintln!("controlgate: {}", console::inert(m, &redactor)))
}

/// The ledger tips recorded on GitHub for the workflow runs of `from..=to`.
fn github_anchors(
    store: &StoreArgs,
    check_name: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    log: &Log,
) -> anyhow::Result<Vec<retain::Anchor>> {
    let (access, repository) = github_access(store)?;
    let anchors = controlgate::gather::history::github_anchors(
        &access,
        &repository,
        check_name,
        from,
        to,
        github_log(log),
    )?;
    eprintln!(
        "controlgate: {} ledger tip(s) recorded by check runs on GitHub",
        anchors.len()
    );
    Ok(anchors)
}

fn badge(args: BadgeArgs) -> anyhow::Result<ExitCode> {
    let (store, context) = store_of(&args.store)?;
    let store = lib(retain::open_store(&store, &context))?;
    let verify = retain::VerifyOptions {
        repository: args.store.repository.clone(),
        ..Default::default()
    };
    match lib(retain::badge::badge_store(
        store.as_ref(),
        &args.branch,
        &verify,
    ))
    .context("drawing the badges")?
    {
        retain::badge::BadgeOutcome::NotIntact(why) => {
            eprintln!("{}; no badge was drawn", console::log_text(&why, 64 * 1024));
            Ok(ExitCode::Fail)
        }
        retain::badge::BadgeOutcome::Drawn { seq, files } => {
            std::fs::create_dir_all(&args.out)
                .with_context(|| format!("creating {}", args.out.display()))?;
            for (name, svg) in &files {
                let path = args.out.join(name);
                std::fs::write(&path, svg).with_context(|| format!("{}", path.display()))?;
            }
            eprintln!(
                "controlgate: badges of ledger entry {seq} written to {}",
                console::log_text(&args.out.display().to_string(), 1000)
            );
            Ok(ExitCode::Pass)
        }
    }
}
