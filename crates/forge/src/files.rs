//! The file-system seam: expands globs and reads input files, hashing them while they are
//! parsed so each byte is read once.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use controlgate_core::glob;
use controlgate_core::hashing;
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

/// A whole input file in memory, for a parser that needs all of it: a large one is mapped
/// from the page cache instead of copied (copying 42 MB into fresh memory took longer here
/// than parsing it), a small one is read.
///
/// Mapped bytes are the file's own: should another process rewrite the file meanwhile, a parse
/// could see a mix of old and new. [`WholeFile::unchanged`] tells whether the file is still as
/// it was opened, and the caller fails the run when it is not; a file cut short while mapped
/// reads as zeros past its new end ([`crate::mapped`]) and is not unchanged either.
pub struct WholeFile {
    bytes: Held,
    file: File,
    opened: Stamp,
}

enum Held {
    Read(Vec<u8>),
    Mapped(crate::mapped::Mapped),
}

/// What tells a rewritten file from the one opened: its identity, size and times.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    identity: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(file: &File) -> std::io::Result<Stamp> {
        Ok(Stamp::from(&file.metadata()?))
    }

    fn from(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            // The change time moves on every write and cannot be set back by the writer.
            #[cfg(unix)]
            identity: {
                use std::os::unix::fs::MetadataExt as _;
                (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
            },
        }
    }
}

/// What [`read_limited`] reads besides regular files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// Regular files only (what a checkout holds).
    None,
    /// Pipes too (`--diff <(git diff …)`).
    Pipes,
    /// Pipes and devices (`--config /dev/null`): the bound keeps `/dev/zero` short.
    Any,
}

/// Reads a small file the user named, whole (a config, a diff, a leg's manifest): a regular
/// file, or what `special` allows besides; never a directory, and at most `max` bytes
/// (`/dev/zero` would otherwise be read until memory ran out).
pub fn read_limited(path: &Path, max: u64, special: Special) -> std::io::Result<Vec<u8>> {
    use std::io::{ErrorKind, Read as _};
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    let pipe = std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type());
    #[cfg(not(unix))]
    let pipe = false;
    let allowed = meta.is_file()
        || match special {
            Special::None => false,
            Special::Pipes => pipe,
            Special::Any => !meta.is_dir(),
        };
    if !allowed {
        return Err(std::io::Error::new(
            ErrorKind::InvalidInput,
            if meta.is_dir() {
                "a directory, not a file"
            } else {
                "not a regular file (a device, socket or pipe)"
            },
        ));
    }
    let mut bytes = Vec::new();
    File::open(path)?.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("larger than {max} bytes, more than such a file holds"),
        ));
    }
    Ok(bytes)
}

/// Files from this size on are mapped ([`read_whole`]); below it a read is as fast.
const MAP_FROM: u64 = 1 << 20;

/// Reads (or maps) the whole file at `path`: see [`WholeFile`].
pub fn read_whole(path: &Path) -> std::io::Result<WholeFile> {
    read_whole_from(path, MAP_FROM)
}

/// [`read_whole`], with the size from which files are mapped.
fn read_whole_from(path: &Path, map_from: u64) -> std::io::Result<WholeFile> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    let opened = Stamp::from(&meta);
    let mapped = if opened.len >= map_from && meta.is_file() {
        crate::mapped::Mapped::map(&file, true)
    } else {
        None
    };
    // Small files, and files where mapping is refused (a file system without it), are read.
    let bytes = match mapped {
        Some(m) => Held::Mapped(m),
        None => Held::Read(read_all(&mut file, opened.len)?),
    };
    Ok(WholeFile {
        bytes,
        file,
        opened,
    })
}

/// The rest of `file`, `len` bytes when it was opened, in one allocation.
fn read_all(file: &mut File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    // One more byte than the file holds: a file that grew is read whole all the same.
    bytes.try_reserve_exact(usize::try_from(len).unwrap_or(0).saturating_add(1))?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl WholeFile {
    /// Whether the file is still the one opened, as it was: same file, size and times, and
    /// not cut short under its mapping while it was read.
    pub fn unchanged(&self) -> std::io::Result<bool> {
        if let Held::Mapped(m) = &self.bytes
            && m.cut_short()
        {
            return Ok(false);
        }
        Ok(Stamp::of(&self.file)? == self.opened)
    }
}

impl AsRef<[u8]> for WholeFile {
    fn as_ref(&self) -> &[u8] {
        match &self.bytes {
            Held::Read(v) => v,
            Held::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for WholeFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.bytes {
            Held::Read(_) => "read",
            Held::Mapped(_) => "mapped",
        };
        write!(f, "WholeFile({} bytes, {how})", self.len())
    }
}

impl std::ops::Deref for WholeFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_ref()
    }
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

/// An input file as [`read_hashed_in_place`] hands it to its parser.
pub enum Input<'a> {
    /// A regular file's bytes, read (a small file) or mapped: parse them in place, calling
    /// `done_before(n)` as the parse passes offset `n` (the bytes before it are hashed behind
    /// the parser, and the pages of a mapped file let go, so memory stays flat on any file).
    Bytes {
        bytes: &'a [u8],
        done_before: &'a mut dyn FnMut(usize),
    },
    /// Anything else (a pipe, or a file that cannot be mapped): a stream, hashed as it is read.
    Stream(&'a mut dyn std::io::BufRead),
}

/// [`read_hashed`] for a parser that can read bytes in place ([`Input::Bytes`]): a regular
/// file is read whole when small and mapped when large (no copy at all; its pages are
/// released behind the parser), anything else is streamed. The digest is of the whole file,
/// and a mapped file written while it was read fails (see [`WholeFile`]): nothing is decided
/// from bytes that may be a mix of two versions.
pub fn read_hashed_in_place<T>(
    path: &Path,
    display: &str,
    parse: impl FnOnce(Input<'_>) -> Result<T, Error>,
) -> Result<(T, InputFile), Error> {
    read_hashed_in_place_from(path, display, MAP_FROM, HASH_THREAD_FROM, parse)
}

/// [`read_hashed_in_place`], with the sizes from which files are mapped and hashed on a thread.
fn read_hashed_in_place_from<T>(
    path: &Path,
    display: &str,
    map_from: u64,
    thread_from: u64,
    parse: impl FnOnce(Input<'_>) -> Result<T, Error>,
) -> Result<(T, InputFile), Error> {
    let io = |e| Error::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let opened = Stamp::from(&meta);
    if !meta.is_file() {
        return read_hashed_file(file, path, display, thread_from, |reader| {
            parse(Input::Stream(reader))
        });
    }
    if opened.len < map_from {
        let bytes = read_all(&mut file, opened.len).map_err(io)?;
        let value = parse(Input::Bytes {
            bytes: &bytes,
            done_before: &mut |_| {},
        })?;
        let sha256 = hashing::sha256_hex(&bytes);
        return Ok((value, input_file(display, sha256, bytes.len() as u64)));
    }
    // Its bytes change under it only if another process writes the file, which `Stamp` (or,
    // cut short, the mapping itself) finds out after the parse, and the run fails.
    let Some(map) = crate::mapped::Mapped::map(&file, false) else {
        return read_hashed_file(file, path, display, thread_from, |reader| {
            parse(Input::Stream(reader))
        });
    };
    // Read-ahead for a file not in the page cache; ignored where unsupported.
    let _ = map.map_ref().advise(memmap2::Advice::Sequential);
    let bytes: &[u8] = &map;
    let (value, sha256) = if opened.len < thread_from {
        let value = parse(Input::Bytes {
            bytes,
            done_before: &mut |_| {},
        });
        (value, hashing::sha256_hex(bytes))
    } else {
        std::thread::scope(|scope| {
            // Bounded: a parser racing through a long text (memchr runs at gigabytes per
            // second, hashing at about one) waits for the hasher, so the pages it has read and
            // the hasher not yet let go stay a few megabytes.
            let (to_hasher, progress) = std::sync::mpsc::sync_channel::<usize>(4);
            let hasher = std::thread::Builder::new()
                .name("input-hasher".into())
                .spawn_scoped(scope, || hash_behind(&map, progress))
                .map_err(io)?;
            let value = parse(Input::Bytes {
                bytes,
                // The hasher outlives the parse: a failed send cannot happen.
                done_before: &mut |n| {
                    let _ = to_hasher.send(n);
                },
            });
            // Then the rest of the file, parsed or not.
            let _ = to_hasher.send(bytes.len());
            drop(to_hasher);
            let sha256 = hasher
                .join()
                .map_err(|_| io(std::io::Error::other("the thread hashing the input failed")))?;
            Ok::<_, Error>((value, sha256))
        })?
    };
    // Checked before the parse's answer is used, an error included: a file written meanwhile
    // may have read as broken.
    if map.cut_short() || Stamp::of(&file).map_err(io)? != opened {
        return Err(changed_while_read(path));
    }
    Ok((value?, input_file(display, sha256, opened.len)))
}

/// Hashes `map` as far as `progress` says the parser has read, releasing the pages behind both.
fn hash_behind(map: &crate::mapped::Mapped, progress: std::sync::mpsc::Receiver<usize>) -> String {
    const PAGE: usize = 4096;
    let mut hasher = Sha256::new();
    let mut hashed = 0;
    let mut released = 0;
    for upto in progress {
        let upto = upto.min(map.len());
        if upto <= hashed {
            continue;
        }
        hashing::update_from_memory(&mut hasher, &map[hashed..upto]);
        hashed = upto;
        let whole_pages = hashed / PAGE * PAGE;
        if whole_pages > released {
            // SAFETY: the mapping is private and never written: a page let go is read again
            // from the file, the same bytes, should anything look at it again (the line count
            // of an error does).
            let _ = unsafe {
                map.map_ref().unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    released,
                    whole_pages - released,
                )
            };
            released = whole_pages;
        }
    }
    hex(&hasher.finalize())
}

fn input_file(display: &str, sha256: String, bytes: u64) -> InputFile {
    InputFile {
        path: display.to_owned(),
        sha256,
        bytes,
    }
}

/// The error for an input written while controlgate read it.
pub fn changed_while_read(path: &Path) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        location: Default::default(),
        message: "changed while controlgate was reading it; nothing was decided from it (run \
                  again once the file is written)"
            .into(),
    }
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
    read_hashed_file(file, path, display, thread_from, parse)
}

/// [`read_hashed_from`] on a file already open.
fn read_hashed_file<T>(
    file: File,
    path: &Path,
    display: &str,
    thread_from: u64,
    parse: impl FnOnce(&mut BufReader<&mut TeeReader<'_, File>>) -> Result<T, Error>,
) -> Result<(T, InputFile), Error> {
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
    fn read_limited_refuses_devices_directories_and_excess() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.yml");
        std::fs::write(&f, "version: 1\n").unwrap();
        assert_eq!(
            read_limited(&f, 11, Special::None).unwrap(),
            b"version: 1\n"
        );
        let e = read_limited(&f, 10, Special::None).unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        let e = read_limited(dir.path(), 10, Special::Any).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        for special in [Special::None, Special::Pipes] {
            let e = read_limited(Path::new("/dev/zero"), 10, special).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        let e = read_limited(Path::new("/dev/zero"), 10, Special::Any).unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        assert!(
            read_limited(Path::new("/dev/null"), 10, Special::Any)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn read_whole_reads_every_byte_of_read_and_mapped_files() {
        let dir = tempfile::tempdir().unwrap();
        let map_from = 64 << 10;
        for len in [0usize, 1, map_from - 1, map_from, map_from + 12_345] {
            let path = dir.path().join(format!("f{len}"));
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4096) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            let read = read_whole_from(&path, map_from as u64).unwrap();
            assert_eq!(
                matches!(read.bytes, Held::Mapped(_)),
                len >= map_from,
                "{len} bytes"
            );
            assert_eq!(read.len(), len);
            assert!(*read == bytes[..], "{len} bytes read back differently");
            assert!(read.unchanged().unwrap());
        }
        let missing = read_whole(&dir.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_file_written_or_replaced_after_it_was_read_is_not_unchanged() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report");
        for map_from in [1, u64::MAX] {
            std::fs::write(&path, b"SF:a\nDA:1,1\nend_of_record\n").unwrap();
            // Appended to.
            let read = read_whole_from(&path, map_from).unwrap();
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap()
                .write_all(b"\n")
                .unwrap();
            assert!(!read.unchanged().unwrap(), "append, map from {map_from}");
            // Same size, other bytes: its change time moves (past the clock's coarse tick).
            let read = read_whole_from(&path, map_from).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .write_all(b"SF:b")
                .unwrap();
            assert!(!read.unchanged().unwrap(), "rewrite, map from {map_from}");
            // Replaced by another file under the same name: the bytes read stay the old
            // file's, and losing its name moves its change time too.
            let read = read_whole_from(&path, map_from).unwrap();
            let other = dir.path().join("other");
            std::fs::write(&other, b"SF:c\n").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::rename(&other, &path).unwrap();
            assert_eq!(&read[..4], b"SF:b");
            assert!(!read.unchanged().unwrap(), "replaced, map from {map_from}");
            // Left alone, it stays unchanged.
            let read = read_whole_from(&path, map_from).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(read.unchanged().unwrap(), "untouched, map from {map_from}");
        }
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

    /// The bytes a parser gets in place, read or mapped, hashed inline or behind it on a thread.
    fn in_place(
        path: &Path,
        map_from: u64,
        thread_from: u64,
        stop_at: usize,
    ) -> (Vec<u8>, InputFile) {
        let (got, file) = read_hashed_in_place_from(path, "in", map_from, thread_from, |input| {
            let Input::Bytes { bytes, done_before } = input else {
                panic!("a regular file is read in place");
            };
            // Progress as a reader reports it, then a stop short of the end.
            for n in (1 << 20..stop_at).step_by(1 << 20) {
                done_before(n);
            }
            Ok(bytes[..stop_at.min(bytes.len())].to_vec())
        })
        .unwrap();
        (got, file)
    }

    #[test]
    fn read_in_place_every_byte_is_handed_over_and_hashed() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 65_537, (1 << 20) + 1, 3_500_001] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let path = dir.path().join(format!("in-{len}"));
            std::fs::write(&path, &data).unwrap();
            let want = hex(&Sha256::digest(&data));
            // Read, mapped and hashed inline, mapped and hashed on a thread; the parser reading
            // all of it or stopping early (the rest is hashed all the same).
            for (map_from, thread_from) in [(u64::MAX, u64::MAX), (0, u64::MAX), (0, 0)] {
                for stop_at in [len, len / 2] {
                    let (got, file) = in_place(&path, map_from, thread_from, stop_at);
                    assert!(got == data[..stop_at], "{len} {map_from} {thread_from}");
                    assert_eq!(
                        (file.sha256.as_str(), file.bytes),
                        (want.as_str(), len as u64),
                        "{len} {map_from} {thread_from} {stop_at}"
                    );
                }
            }
        }
        // A parser's error is the answer.
        for (map_from, thread_from) in [(u64::MAX, u64::MAX), (0, u64::MAX), (0, 0)] {
            let failed = read_hashed_in_place_from(
                &dir.path().join("in-65537"),
                "in",
                map_from,
                thread_from,
                |_| Err::<(), _>(Error::Usage("bad input".into())),
            );
            assert_eq!(failed.unwrap_err().to_string(), "bad input");
        }
    }

    /// What is not a regular file (a pipe) is streamed, and hashed the same.
    #[cfg(unix)]
    #[test]
    fn read_in_place_a_pipe_is_streamed() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let data: Vec<u8> = (0..3_000_001usize).map(|i| (i * 7 % 253) as u8).collect();
        let writer = {
            let (fifo, data) = (fifo.clone(), data.clone());
            std::thread::spawn(move || std::fs::write(fifo, data).unwrap())
        };
        let (got, file) = read_hashed_in_place(&fifo, "fifo", |input| {
            let Input::Stream(reader) = input else {
                panic!("a pipe is streamed");
            };
            let mut all = Vec::new();
            reader.read_to_end(&mut all).unwrap();
            Ok(all)
        })
        .unwrap();
        writer.join().unwrap();
        assert!(got == data);
        assert_eq!(file.sha256, hex(&Sha256::digest(&data)));
    }

    /// A mapped file written while it is parsed fails the read, whatever the parser answered:
    /// its bytes may be a mix of two versions. A small file is read into memory first, so its
    /// parse and digest are of the same bytes, and it passes.
    #[test]
    fn a_file_written_while_it_is_read_in_place_fails() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report");
        let append = |path: &Path| {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            f.write_all(b"<!-- more -->").unwrap();
        };
        for (map_from, thread_from) in [(u64::MAX, u64::MAX), (0, u64::MAX), (0, 0)] {
            for parse_fails in [false, true] {
                std::fs::write(&path, vec![b'x'; 100_000]).unwrap();
                let result =
                    read_hashed_in_place_from(&path, "report", map_from, thread_from, |_| {
                        append(&path);
                        if parse_fails {
                            Err(Error::Usage("bad input".into()))
                        } else {
                            Ok(())
                        }
                    });
                let said = match &result {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => e.to_string(),
                };
                let want = match (map_from, parse_fails) {
                    (u64::MAX, false) => "ok",
                    (u64::MAX, true) => "bad input",
                    _ => "changed while controlgate was reading it",
                };
                assert!(
                    said.contains(want),
                    "{map_from} {thread_from} {parse_fails}: {said}"
                );
            }
            // Left alone, it reads.
            std::fs::write(&path, vec![b'x'; 100_000]).unwrap();
            read_hashed_in_place_from(&path, "report", map_from, thread_from, |_| Ok(())).unwrap();
        }
    }

    /// A mapped file cut short while it is parsed (and hashed behind the parser) fails the
    /// read with the file's error, as one rewritten does; the process is not ended by SIGBUS.
    /// Whatever the parse answers: here it reads every byte, past the new end.
    #[test]
    fn a_file_cut_short_while_it_is_read_in_place_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report");
        let len = 3 << 20;
        for thread_from in [u64::MAX, 0] {
            std::fs::write(&path, vec![b'x'; len]).unwrap();
            let result = read_hashed_in_place_from(&path, "report", 0, thread_from, |input| {
                let Input::Bytes { bytes, done_before } = input else {
                    panic!("a regular file is read in place");
                };
                done_before(1 << 20);
                let cut = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                cut.set_len(10_000).unwrap();
                let xs = bytes.iter().filter(|&&b| b == b'x').count();
                done_before(len);
                Ok(xs)
            });
            let said = result.map(|(xs, _)| xs).unwrap_err().to_string();
            assert!(
                said.contains("report")
                    && said.contains("changed while controlgate was reading it"),
                "{thread_from}: {said}"
            );
        }
        // Mapped whole for a coverage parser: not unchanged once cut, its bytes past the end
        // zeros.
        std::fs::write(&path, vec![b'x'; len]).unwrap();
        let read = read_whole_from(&path, 0).unwrap();
        assert!(matches!(read.bytes, Held::Mapped(_)));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(read.iter().filter(|&&b| b == b'x').count(), 0);
        assert!(!read.unchanged().unwrap());
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
