//! Matrix legs and their fan-in. A leg (`report --leg NAME --out DIR`, the Action's `leg`
//! input) writes, besides its own report, `leg.json` and copies of the result and coverage files
//! it read (through the run's redaction) under `DIR/inputs/`; `controlgate merge DIR...` (the
//! Action's `merge` input) reads every leg back — each copy checked against the SHA-256 its
//! `leg.json` records — and decides one report over all of them: tests deduplicated by identity
//! (the worst run wins, a test that passed on one leg and failed on another is flaky), coverage
//! reports merged, and `expect:` naming the legs that must be there.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analyze::gates::{LegSeen, LegSuite};
use crate::error::Error;
use crate::pipeline::{ReportOutput, ReportRequest};

/// `leg.json`'s format.
pub const LEG_FORMAT: &str = "controlgate-leg/2";
pub const LEG_FILE: &str = "leg.json";
/// A leg's manifest lists its files: far below this.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegManifest {
    pub format: String,
    pub name: String,
    /// The tests the leg's results held (`tests.total` of its report).
    pub tests: u64,
    /// The leg's `suite:*` gates as it decided them: the merge cannot run its suites again.
    pub suites: Vec<LegSuite>,
    pub results: Vec<LegFile>,
    pub coverage: Vec<LegFile>,
}

/// A copied input: where it is in the leg directory, where it was read from, its SHA-256 and
/// size as copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegFile {
    pub path: String,
    pub source: String,
    pub sha256: String,
    pub size: u64,
}

/// A leg read back: its name, what it decided of its own, and the copies of its inputs
/// (absolute paths, verified).
#[derive(Debug, Clone)]
pub struct Leg {
    pub name: String,
    pub tests: u64,
    pub suites: Vec<LegSuite>,
    pub dir: PathBuf,
    pub results: Vec<PathBuf>,
    pub coverage: Vec<PathBuf>,
}

/// A leg name: letters, digits, `.`, `_`, `-` (it names files and is shown in the summary).
fn check_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "leg name `{}`: use 1-100 letters, digits, `.`, `_` or `-`",
            name.escape_debug()
        )))
    }
}

/// Writes the leg's manifest and input copies into `dir` (next to its `report.json`).
pub fn write_leg(
    out: &ReportOutput,
    req: &ReportRequest,
    name: &str,
    dir: &Path,
) -> Result<(), Error> {
    check_name(name)?;
    let mut manifest = LegManifest {
        format: LEG_FORMAT.into(),
        name: name.into(),
        tests: out.report.tests.total,
        suites: out
            .report
            .gates
            .iter()
            .filter(|g| g.name.starts_with("suite:"))
            .map(|g| LegSuite {
                gate: g.name.clone(),
                passed: g.passed,
                detail: g.detail.clone(),
            })
            .collect(),
        results: Vec::new(),
        coverage: Vec::new(),
    };
    // Each input is copied from where it was read (`decide::InputSources`: the report's inputs,
    // then the coverage inputs, in order), not from the path the report shows, which is
    // redacted and, for a name that is not UTF-8, not the file's.
    let read = |at: usize, shown: &str| -> PathBuf {
        out.sources
            .0
            .get(at)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(shown))
    };
    let n = out.report.inputs.len();
    let results: Vec<(&str, PathBuf)> = out
        .report
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| (input.path.as_str(), read(i, &input.path)))
        .collect();
    let coverage: Vec<(&str, PathBuf)> = out
        .report
        .coverage
        .iter()
        .flat_map(|c| c.inputs.iter().enumerate())
        .filter(|(_, input)| input.role == "head")
        .map(|(j, input)| (input.path.as_str(), read(n + j, &input.path)))
        .collect();
    for (kind, sources, list) in [
        ("results", results, &mut manifest.results),
        ("coverage", coverage, &mut manifest.coverage),
    ] {
        for (i, (source, read_from)) in sources.into_iter().enumerate() {
            let from = req.workdir.join(read_from);
            let base = Path::new(source)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".into());
            let rel = format!("inputs/{kind}/{i}-{base}");
            let to = dir.join(&rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let copy = crate::retain::bundle::redacted_input(&from, &out.redactor)?;
            let kept = match &copy.redacted {
                Some((temp, _)) => temp.path().to_owned(),
                None => from.clone(),
            };
            std::fs::copy(&kept, &to).map_err(|e| Error::io(&to, e))?;
            let (sha256, size) = file_sha256(&to)?;
            list.push(LegFile {
                path: rel,
                source: source.to_owned(),
                sha256,
                size,
            });
        }
    }
    let json = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    crate::inputs::write_all_or_nothing(dir, &[(LEG_FILE, &json)])?;
    Ok(())
}

/// Reads the legs in `dirs`, each copy checked against its recorded SHA-256 and size. A
/// directory without `leg.json`, a copy that changed, or two legs of one name is bad input.
pub fn read_legs(dirs: &[PathBuf]) -> Result<Vec<Leg>, Error> {
    let mut legs: Vec<Leg> = Vec::new();
    for dir in dirs {
        let path = dir.join(LEG_FILE);
        let text =
            crate::inputs::read_limited(&path, MAX_MANIFEST_BYTES, crate::inputs::Special::None)
                .and_then(|b| {
                    String::from_utf8(b).map_err(|e| {
                        std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error())
                    })
                });
        let text = text.map_err(|e| {
            Error::Usage(format!(
                "{} is not a controlgate leg ({e}): write one with `controlgate report --leg NAME \
                 --out DIR` or the Action's `leg` input",
                path.display()
            ))
        })?;
        let m: LegManifest = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{}: not a leg manifest: {e}", path.display())))?;
        if m.format != LEG_FORMAT {
            return Err(Error::Usage(format!(
                "{}: unknown format {:?} (expected {LEG_FORMAT})",
                path.display(),
                m.format
            )));
        }
        check_name(&m.name)?;
        if let Some(other) = legs.iter().find(|l| l.name == m.name) {
            return Err(Error::Usage(format!(
                "two legs are named `{}`: {} and {}",
                m.name,
                other.dir.display(),
                dir.display()
            )));
        }
        let verified = |files: &[LegFile]| -> Result<Vec<PathBuf>, Error> {
            files
                .iter()
                .map(|f| {
                    let rel = Path::new(&f.path);
                    if rel.is_absolute()
                        || rel.components().any(|c| !matches!(c, std::path::Component::Normal(_)))
                    {
                        return Err(Error::Usage(format!(
                            "{}: `{}` is not a path inside the leg",
                            path.display(),
                            f.path.escape_debug()
                        )));
                    }
                    let p = dir.join(rel);
                    let (sha256, size) = file_sha256(&p)?;
                    if size != f.size || sha256 != f.sha256 {
                        return Err(Error::Usage(format!(
                            "{} does not match the SHA-256 its leg `{}` recorded: changed since the leg wrote it",
                            p.display(),
                            m.name
                        )));
                    }
                    Ok(p)
                })
                .collect()
        };
        legs.push(Leg {
            name: m.name.clone(),
            tests: m.tests,
            suites: m.suites.clone(),
            dir: dir.clone(),
            results: verified(&m.results)?,
            coverage: verified(&m.coverage)?,
        });
    }
    Ok(legs)
}

/// SHA-256 and size of a regular file, streamed (a leg's copies can be hundreds of MB): a
/// pipe or a device in a copy's place would be read forever.
fn file_sha256(path: &Path) -> Result<(String, u64), Error> {
    // Looked at before it is opened: opening a pipe waits for its writer.
    if !std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .is_file()
    {
        return Err(Error::Usage(format!(
            "{}: not a regular file (a leg's copies are files it wrote)",
            path.display()
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    // `finish` drains the reader through the hash.
    crate::hashing::HashingReader::new(file)
        .finish()
        .map_err(|e| Error::io(path, e))
}

/// Sets the request up to decide over `legs`: their result and coverage copies, and which legs
/// came (for `expect:`).
pub fn merge_into(req: &mut ReportRequest, legs: &[Leg]) {
    // Paths, not globs: a leg directory may hold `[` or `*`.
    let literal = |p: &PathBuf| crate::glob::escape(&p.to_string_lossy());
    for leg in legs {
        req.junit.extend(leg.results.iter().map(literal));
        req.coverage.extend(leg.coverage.iter().map(literal));
    }
    req.legs = Some(
        legs.iter()
            .map(|l| LegSeen {
                name: l.name.clone(),
                results: l.results.len(),
                tests: l.tests,
                suites: l.suites.clone(),
            })
            .collect(),
    );
}
