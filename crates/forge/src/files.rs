//! The file-system seam: expands globs and reads input files, hashing them while they are
//! parsed so each byte is read once.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use controlgate_core::glob;
pub use controlgate_core::hashing::{HashingReader, hex};
use controlgate_core::ingest::junit::READ_BLOCK;
use sha2::{Digest as _, Sha256};

use crate::error::Error;
use crate::model::InputFile;

/// Expands each glob (relative to `base`, in the dialect of `controlgate_core::glob`) into
/// files, sorted, without duplicates. A pattern that matches no file is an error: a misspelt path
/// must not pass as "no tests".
pub fn expand(patterns: &[String], base: &Path, what: &str) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<PathBuf> = Vec::new();
    for pattern in patterns {
        let mut matched = matching_files(pattern, base)
            .map_err(|e| Error::Usage(format!("--{what} `{pattern}`: bad glob: {e}")))?;
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

/// The files one pattern matches. The pattern's leading literal directories are joined to
/// `base` as they are (so `base` itself may hold `[` or `*`); only the rest is a glob, matched
/// against paths relative to that directory, walking no deeper than the glob can reach.
fn matching_files(pattern: &str, base: &Path) -> Result<Vec<PathBuf>, globset::Error> {
    let normalised = pattern.replace('\\', "/");
    let pattern = if cfg!(windows) {
        normalised.as_str()
    } else {
        pattern
    };
    let mut root = if Path::new(pattern).is_absolute() {
        PathBuf::new()
    } else {
        base.to_path_buf()
    };
    let mut rest: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        if rest.is_empty() && glob::is_literal(part) {
            root.push(if part.is_empty() { "/" } else { part });
        } else {
            rest.push(part);
        }
    }
    if rest.is_empty() {
        return Ok(if root.is_file() {
            vec![root]
        } else {
            Vec::new()
        });
    }
    let rest = rest.join("/");
    let matcher = glob::matcher(&rest, glob::Subject::Path)?;
    let depth = if rest.contains("**") {
        usize::MAX
    } else {
        rest.split('/').count()
    };
    // Links are followed like a shell glob does; walkdir reports a link loop as an error entry,
    // which is skipped.
    let found = walkdir::WalkDir::new(&root)
        .follow_links(true)
        .min_depth(1)
        .max_depth(depth)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .strip_prefix(&root)
                .is_ok_and(|rel| matcher.is_match(rel))
        })
        .map(walkdir::DirEntry::into_path)
        .collect();
    Ok(found)
}

/// Reads a whole file, like `std::fs::read`. A large one (a coverage report of tens of MB)
/// goes into memory the kernel is asked to back with 2 MiB pages: reading 42 MB into fresh
/// 4 KiB pages costs ten thousand page faults, half the time of the read here.
pub fn read_whole(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    // One more byte than the file holds: a file that grew is read whole all the same.
    bytes.try_reserve_exact(len.saturating_add(1))?;
    if len >= HUGE_PAGES_FROM {
        advise_huge_pages(&mut bytes);
    }
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Files from this size on are read into huge pages ([`read_whole`]).
const HUGE_PAGES_FROM: usize = 4 << 20;

/// Asks for transparent huge pages over the whole 2 MiB pages inside `bytes`' spare capacity
/// (advice only: where the kernel has none to give, or does not know the call, nothing
/// changes).
fn advise_huge_pages(bytes: &mut Vec<u8>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let spare = bytes.spare_capacity_mut();
        let at = spare.as_mut_ptr() as usize;
        let start = at.next_multiple_of(HUGE);
        let end = (at + spare.len()) / HUGE * HUGE;
        if end > start {
            // SAFETY: [start, end) lies inside this vector's allocation, which nothing else
            // references; MADV_HUGEPAGE changes how its pages are backed, never their contents
            // or whether they may be accessed.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

/// Opens `path` for a streaming parser; `parse` gets a buffered reader whose bytes are hashed,
/// on a second thread for a large file (the SHA-256 of a large report is a tenth of its parse,
/// taken off the parser's path). The digest is of exactly the bytes the parser read, then of the
/// rest of the file it left unread.
pub fn read_hashed<T>(
    path: &Path,
    display: &str,
    parse: impl FnOnce(&mut BufReader<&mut TeeReader<'_, File>>) -> Result<T, Error>,
) -> Result<(T, InputFile), Error> {
    read_hashed_from(path, display, HASH_THREAD_FROM, parse)
}

/// Files smaller than this are hashed inline: a thread costs more than hashing them, and a run
/// may read a thousand small result files.
const HASH_THREAD_FROM: u64 = 2 << 20;

/// [`read_hashed`], with the size from which the hashing thread is used.
fn read_hashed_from<T>(
    path: &Path,
    display: &str,
    thread_from: u64,
    parse: impl FnOnce(&mut BufReader<&mut TeeReader<'_, File>>) -> Result<T, Error>,
) -> Result<(T, InputFile), Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    std::thread::scope(|scope| {
        let mut tee = if len < thread_from {
            TeeReader::Inline(HashingReader::new(file))
        } else {
            TeeReader::threaded(file, scope).map_err(|e| Error::io(path, e))?
        };
        let value = {
            // The XML readers' block size: each of their reads passes this buffer by (one copy).
            let mut buf = BufReader::with_capacity(READ_BLOCK, &mut tee);
            parse(&mut buf)?
        };
        let (sha256, bytes) = tee.finish().map_err(|e| Error::io(path, e))?;
        Ok((
            value,
            InputFile {
                path: display.to_owned(),
                sha256,
                bytes,
            },
        ))
    })
}

/// A reader that hashes every byte it reads: inline for a small file, else passing them in
/// blocks to a hashing thread (blocks come back emptied for reuse, so a file of any size costs
/// a few).
pub enum TeeReader<'scope, R> {
    Inline(HashingReader<R>),
    Thread {
        inner: R,
        pending: Vec<u8>,
        to_hasher: std::sync::mpsc::SyncSender<Vec<u8>>,
        spare: std::sync::mpsc::Receiver<Vec<u8>>,
        hasher: std::thread::ScopedJoinHandle<'scope, (String, u64)>,
    },
}

impl<'scope, R> TeeReader<'scope, R> {
    const BLOCK: usize = 1 << 20;

    /// Starts the hashing thread ("input-hasher") in `scope`.
    fn threaded<'env>(
        inner: R,
        scope: &'scope std::thread::Scope<'scope, 'env>,
    ) -> std::io::Result<Self> {
        let (to_hasher, blocks) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let (give_back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
        let hasher = std::thread::Builder::new()
            .name("input-hasher".into())
            .spawn_scoped(scope, move || {
                let mut hasher = Sha256::new();
                let mut bytes = 0u64;
                for mut block in blocks {
                    hasher.update(&block);
                    bytes += block.len() as u64;
                    block.clear();
                    // The reader may be gone already: the block is then simply dropped.
                    let _ = give_back.send(block);
                }
                (hex(&hasher.finalize()), bytes)
            })?;
        Ok(TeeReader::Thread {
            inner,
            pending: Vec::with_capacity(Self::BLOCK),
            to_hasher,
            spare,
            hasher,
        })
    }

    /// Hands the pending block to the hashing thread.
    fn send(&mut self) {
        if let TeeReader::Thread {
            pending,
            to_hasher,
            spare,
            ..
        } = self
        {
            let next = spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(Self::BLOCK));
            let full = std::mem::replace(pending, next);
            // The hashing thread lives until this reader is finished or dropped; should it have
            // died, `finish` reports it.
            let _ = to_hasher.send(full);
        }
    }
}

impl<R: std::io::Read> TeeReader<'_, R> {
    /// Drains what the parser left unread (trailing bytes still belong to the file's digest)
    /// and returns (sha256 hex, bytes).
    fn finish(mut self) -> std::io::Result<(String, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        self.send();
        match self {
            TeeReader::Inline(hashing) => hashing.finish(),
            TeeReader::Thread {
                to_hasher, hasher, ..
            } => {
                // The thread ends when its channel closes.
                drop(to_hasher);
                hasher
                    .join()
                    .map_err(|_| std::io::Error::other("the thread hashing the input failed"))
            }
        }
    }
}

impl<R: std::io::Read> std::io::Read for TeeReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            TeeReader::Inline(hashing) => hashing.read(buf),
            TeeReader::Thread { inner, pending, .. } => {
                let n = inner.read(buf)?;
                pending.extend_from_slice(&buf[..n]);
                if pending.len() >= Self::BLOCK {
                    self.send();
                }
                Ok(n)
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_whole_reads_every_byte_of_small_and_huge_page_files() {
        let dir = tempfile::tempdir().unwrap();
        for len in [
            0usize,
            1,
            HUGE_PAGES_FROM - 1,
            HUGE_PAGES_FROM,
            HUGE_PAGES_FROM + (2 << 20) + 12_345,
        ] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4096) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            let read = read_whole(&path).unwrap();
            assert_eq!(read.len(), len);
            assert!(read == bytes, "{len} bytes read back differently");
        }
        let missing = read_whole(&dir.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn the_digest_is_of_every_byte_whatever_the_parser_reads() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().unwrap();
        // Sizes around the hashing thread's block, and a file of several blocks.
        for len in [
            0usize,
            1,
            65_537,
            (1 << 20) - 1,
            1 << 20,
            (1 << 20) + 1,
            3_500_001,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.path().join(format!("in-{len}"));
            std::fs::write(&path, &data).unwrap();
            let want = hex(&Sha256::digest(&data));
            for (read, thread_from) in [0, len / 3, len]
                .into_iter()
                .flat_map(|read| [(read, 0), (read, u64::MAX)])
            {
                let (got, file) = read_hashed_from(&path, "in", thread_from, |r| {
                    let mut head = vec![0u8; read];
                    r.read_exact(&mut head).unwrap();
                    Ok(head)
                })
                .unwrap();
                assert_eq!(got, data[..read], "{len} {read} {thread_from}");
                assert_eq!(
                    (file.sha256.as_str(), file.bytes),
                    (want.as_str(), len as u64)
                );
            }
        }
        for thread_from in [0, u64::MAX] {
            let failed = read_hashed_from(&dir.path().join("in-1"), "in", thread_from, |_| {
                Err::<(), _>(Error::io(
                    Path::new("in"),
                    std::io::Error::other("bad input"),
                ))
            });
            assert!(failed.unwrap_err().to_string().contains("bad input"));
        }
    }

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    fn rels(found: &[PathBuf], base: &Path) -> Vec<String> {
        found.iter().map(|p| display_path(p, base)).collect()
    }

    #[test]
    fn globs_expand_like_a_shell_under_a_base_that_holds_meta_characters() {
        let dir = tempfile::tempdir().unwrap();
        // The base itself has glob meta characters: they must be taken literally.
        let base = dir.path().join("ws[1]*");
        for f in [
            "reports/a.xml",
            "reports/b.xml",
            "reports/old/c.xml",
            "reports/notes.txt",
            "out/report[1].xml",
        ] {
            touch(&base, f);
        }
        let one = |p: &str| expand(&[p.to_owned()], &base, "junit").map(|v| rels(&v, &base));
        assert_eq!(
            one("reports/*.xml").unwrap(),
            ["reports/a.xml", "reports/b.xml"]
        );
        assert_eq!(
            one("reports/**/*.xml").unwrap(),
            ["reports/a.xml", "reports/b.xml", "reports/old/c.xml"]
        );
        assert_eq!(one("./reports/old/c.xml").unwrap(), ["reports/old/c.xml"]);
        assert_eq!(
            one(&glob::escape("out/report[1].xml")).unwrap(),
            ["out/report[1].xml"]
        );
        // Absolute patterns are not joined to the base.
        let abs = format!(
            "{}/*.xml",
            glob::escape(&base.join("reports").to_string_lossy())
        );
        assert_eq!(one(&abs).unwrap().len(), 2);
        // Several patterns: sorted per pattern, without duplicates.
        let both = expand(
            &["reports/b.xml".into(), "reports/*.xml".into()],
            &base,
            "junit",
        )
        .unwrap();
        assert_eq!(rels(&both, &base), ["reports/b.xml", "reports/a.xml"]);
        let e = one("reports/*.json").unwrap_err().to_string();
        assert!(e.contains("matches no file"), "{e}");
        let e = one("reports/[.xml").unwrap_err().to_string();
        assert!(e.contains("bad glob"), "{e}");
    }
}
