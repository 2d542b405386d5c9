//! The file-system seam: expands globs and reads input files, hashing them while they are
//! parsed so each byte is read once.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

pub use controlgate_core::hashing::{HashingReader, hex};

use crate::error::Error;
use crate::model::InputFile;

/// Expands each glob (relative to `base`) into files, sorted, without duplicates. A pattern
/// that matches no file is an error: a misspelt path must not pass as "no tests".
pub fn expand(patterns: &[String], base: &Path, what: &str) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        let full = if Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            base.join(pattern).to_string_lossy().into_owned()
        };
        let paths = glob::glob(&full)
            .map_err(|e| Error::Usage(format!("--{what} `{pattern}`: bad glob: {e}")))?;
        let mut matched: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(Error::Usage(format!(
                "--{what} `{pattern}` matches no file (looked in {}); check the path or the glob",
                base.display()
            )));
        }
        matched.sort();
        for p in matched {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// Opens `path` for a streaming parser; `parse` gets a buffered, hashing reader.
pub fn read_hashed<T>(
    path: &Path,
    display: &str,
    parse: impl FnOnce(&mut BufReader<&mut HashingReader<File>>) -> Result<T, Error>,
) -> Result<(T, InputFile), Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hashing = HashingReader::new(file);
    let value = {
        let mut buf = BufReader::with_capacity(256 * 1024, &mut hashing);
        parse(&mut buf)?
    };
    let (sha256, bytes) = hashing.finish().map_err(|e| Error::io(path, e))?;
    Ok((
        value,
        InputFile {
            path: display.to_owned(),
            sha256,
            bytes,
        },
    ))
}

/// Shows `path` relative to `base` when it is inside it.
pub fn display_path(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Writes files into `dir` all-or-nothing: each goes to a temporary file first and is renamed
/// into place only when every one was written, so a failure leaves no partial output.
pub fn write_all_or_nothing(dir: &Path, files: &[(&str, &str)]) -> Result<(), Error> {
    let writers: Vec<(&str, Box<WriteFn>)> = files
        .iter()
        .map(|(name, text)| {
            let write: Box<WriteFn> = Box::new(move |w| w.write_all(text.as_bytes()));
            (*name, write)
        })
        .collect();
    let refs: Vec<(&str, &WriteFn)> = writers.iter().map(|(n, f)| (*n, f.as_ref())).collect();
    write_all_or_nothing_with(dir, &refs)
}

/// Produces one file's content into a writer (so large files need not be held as a string).
pub type WriteFn<'a> = dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()> + 'a;

/// [`write_all_or_nothing`] with each file streamed by its writer function.
pub fn write_all_or_nothing_with(dir: &Path, files: &[(&str, &WriteFn)]) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut staged = Vec::new();
    for (name, write) in files {
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        {
            let mut buf = std::io::BufWriter::new(tmp.as_file_mut());
            write(&mut buf)
                .and_then(|()| std::io::Write::flush(&mut buf))
                .map_err(|e| Error::io(dir.join(name), e))?;
        }
        staged.push((tmp, dir.join(name)));
    }
    for (tmp, target) in staged {
        tmp.persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
    }
    Ok(())
}
