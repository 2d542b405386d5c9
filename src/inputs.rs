//! The file-system seam: expands globs and reads input files, hashing them while they are
//! parsed so each byte is read once.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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

/// Reads through to the inner reader, keeping a SHA-256 and a byte count of everything read.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Drains what the parser left unread (trailing bytes still belong to the file's digest)
    /// and returns (sha256 hex, bytes).
    pub fn finish(mut self) -> std::io::Result<(String, u64)> {
        std::io::copy(
            &mut self.inner,
            &mut HashSink(&mut self.hasher, &mut self.bytes),
        )?;
        Ok((hex::encode(self.hasher.finalize()), self.bytes))
    }
}

struct HashSink<'a>(&'a mut Sha256, &'a mut u64);

impl std::io::Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        *self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
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
