//! Evidence stores. Every store is a create-only key space with the same layout:
//! `bundles/<digest>/<path>` and `ledger/<seq:010>.json` (under a per-repository prefix in
//! object stores). A key, once written, is never written again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::bundle::{Blob, Bundle, bundle_key, changed, read_checked};
use super::ledger::{Entry, EntryDraft, MAX_SEQ, Tip, entry_key, seq_of_key};
use crate::error::{Error, Result};
use crate::hashing::HashingReader;

pub use crate::config::{EvidenceConfig, StoreConfig};

/// Result of a create-only write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The key existed; nothing was written.
    AlreadyExists,
}

/// A create-only evidence store.
pub trait EvidenceStore: Send + Sync {
    /// Human-readable location of a key (a path or URL), for reports and audit output.
    fn location(&self, key: &str) -> String;

    /// Writes `bytes` at `key` unless the key exists; never overwrites.
    fn put_create(&self, key: &str, bytes: &[u8]) -> Result<Created>;

    /// Copies the file at `path` to `key` unless the key exists, failing if the copy does
    /// not hash to `sha256` (the file changed after the bundle was built). The default reads
    /// the file whole; stores that can stream override it.
    fn put_create_file(&self, key: &str, path: &Path, sha256: &str) -> Result<Created> {
        self.put_create(key, &read_checked(path, sha256)?)
    }

    /// The bytes at `key`, `None` if absent.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// SHA-256 (hex) and size of the bytes at `key`, `None` if absent. The default reads them
    /// whole; stores that can stream override it.
    fn hash(&self, key: &str) -> Result<Option<(String, u64)>> {
        Ok(self
            .get(key)?
            .map(|b| (super::canonical::sha256_hex(&b), b.len() as u64)))
    }

    /// Every key under `prefix` (which ends with `/`), relative to the store root, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;

    /// Brings a local view up to date before reading everything (`verify`, `audit`; git:
    /// fetches the whole tip). Default: nothing.
    fn refresh(&self) -> Result<()> {
        Ok(())
    }

    /// Brings a local view up to date before reading a few keys near the tip — the ledger's
    /// last entries and one bundle, as a PR run's base lookup does (git: fetches the tip's
    /// top trees, then each key as it is read). Default: [`EvidenceStore::refresh`].
    fn refresh_tip(&self) -> Result<()> {
        self.refresh()
    }

    /// The bytes at each of `keys` (`None` if absent), in order. Stores that fetch override it
    /// to read them in one round trip.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(k)).collect()
    }

    /// Stores the bundle and appends the entry chained to the current tip. The default works
    /// for any create-only key space: bundle files first, then `ledger/<seq>.json` create-only,
    /// retrying on the next seq if a concurrent writer took it.
    fn append(&self, bundle: &Bundle, draft: &EntryDraft) -> Result<Entry> {
        for (path, blob) in &bundle.files {
            put_blob(self, &bundle_key(&bundle.digest, path), blob)?;
        }
        let mut tip = match self.tip_hint() {
            Some(t) => Some(t),
            None => read_tip(self)?,
        };
        for _ in 0..MAX_APPEND_TRIES {
            let entry = draft.follow(tip.as_ref())?;
            let key = entry_key(entry.seq);
            let bytes = entry.to_bytes();
            match self.put_create(&key, &bytes)? {
                Created::Created => {
                    self.set_tip_hint(Tip::of_entry(&entry));
                    return Ok(entry);
                }
                // This very entry, there already: a write that was stored though its answer
                // was lost (a retried request). Appending again would record the run twice.
                Created::AlreadyExists if self.get(&key)?.as_deref() == Some(&bytes[..]) => {
                    self.set_tip_hint(Tip::of_entry(&entry));
                    return Ok(entry);
                }
                Created::AlreadyExists => tip = read_tip(self)?,
            }
        }
        Err(Error::Store(format!(
            "evidence store: could not append to the ledger at {} after {MAX_APPEND_TRIES} tries (concurrent writers)",
            self.location("ledger/")
        )))
    }

    /// The tip this store last appended or read, if it remembers one (a hint: a wrong hint
    /// only costs a retry, because entries are created only if absent).
    fn tip_hint(&self) -> Option<Tip> {
        None
    }
    fn set_tip_hint(&self, _tip: Tip) {}
}

pub(crate) const MAX_APPEND_TRIES: usize = 64;

/// Writes one bundle file create-only. A key that already exists must hold the same content
/// (the same bundle stored before); anything else is an error.
pub(crate) fn put_blob(
    store: &(impl EvidenceStore + ?Sized),
    key: &str,
    blob: &Blob,
) -> Result<()> {
    let created = match blob {
        Blob::Bytes(bytes) => store.put_create(key, bytes)?,
        Blob::File { path, sha256, .. } => store.put_create_file(key, path, sha256)?,
    };
    if created == Created::AlreadyExists
        && store
            .hash(key)?
            .is_none_or(|(existing, _)| existing != blob.sha256())
    {
        return Err(Error::Store(format!(
            "evidence store: {} exists with other content",
            store.location(key)
        )));
    }
    Ok(())
}

/// The last entry of the ledger in `store` (by key order), `None` if empty.
pub fn read_tip(store: &(impl EvidenceStore + ?Sized)) -> Result<Option<Tip>> {
    let keys = store.list("ledger/")?;
    let Some((seq, key)) = keys
        .iter()
        .filter_map(|k| seq_of_key(k).map(|s| (s, k)))
        .max()
    else {
        return Ok(None);
    };
    let bytes = store
        .get(key)?
        .ok_or_else(|| Error::Store(format!("evidence store: {} vanished", store.location(key))))?;
    let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Store(format!(
            "evidence store: ledger tip {} is unreadable ({e}); run `controlgate verify`",
            store.location(key)
        ))
    })?;
    let seq = seq.max(entry.seq);
    // The next entry's seq must be a number RFC 8785 readers hold exactly: a tip at or past
    // 2^53 (planted: no writer gets there) would make every later entry unwritable.
    if seq >= MAX_SEQ {
        return Err(Error::Store(format!(
            "evidence store: ledger tip {} is entry {seq}, beyond the last entry number a \
             ledger can hold (2^53); run `controlgate verify`",
            store.location(key)
        )));
    }
    Ok(Some(Tip {
        seq,
        ..Tip::of_entry(&entry)
    }))
}

/// A local directory. Writes go to a temp file in `<root>/.tmp`, are flushed to disk, then
/// hard-linked to the final name (which fails if the name exists): a crash never leaves a
/// partial file under a final name, and nothing is overwritten.
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    fsync: bool,
    tip: Mutex<Option<Tip>>,
}

impl DirStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirStore {
            root: root.into(),
            fsync: true,
            tip: Mutex::new(None),
        }
    }

    /// Skips fsync (bulk generation in tests and benches only).
    pub fn without_fsync(mut self) -> Self {
        self.fsync = false;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        if key
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
            || key.contains('\\')
        {
            return Err(Error::Store(format!("evidence store: invalid key {key:?}")));
        }
        Ok(self.root.join(key))
    }

    /// Create-only write: `fill` writes a temp file in `<root>/.tmp`, which is flushed, then
    /// hard-linked to the key's path (failing if it exists). A failed `fill` leaves nothing.
    fn create_with(
        &self,
        key: &str,
        fill: impl FnOnce(&mut tempfile::NamedTempFile) -> Result<()>,
    ) -> Result<Created> {
        let path = self.path(key)?;
        if path.exists() {
            return Ok(Created::AlreadyExists);
        }
        let tmp_dir = self.root.join(".tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| Error::io(&tmp_dir, e))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let mut tmp =
            tempfile::NamedTempFile::new_in(&tmp_dir).map_err(|e| Error::io(&tmp_dir, e))?;
        fill(&mut tmp)?;
        if self.fsync {
            tmp.as_file()
                .sync_all()
                .map_err(|e| Error::io(tmp.path(), e))?;
        }
        let created = match std::fs::hard_link(tmp.path(), &path) {
            Ok(()) => Created::Created,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Created::AlreadyExists,
            Err(e) => return Err(Error::io(&path, e)),
        };
        if self.fsync
            && created == Created::Created
            && let Some(parent) = path.parent()
            && let Ok(dir) = std::fs::File::open(parent)
        {
            let _ = dir.sync_all();
        }
        Ok(created)
    }
}

/// Opens a file of a `dir` store for reading, `None` if absent. Only a regular file is one:
/// this store writes nothing else, and a link (to `/dev/zero`, say), a pipe or a device put in
/// a file's place would be followed, or block, or never end.
fn open_plain(path: &Path) -> Result<Option<std::fs::File>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Not following a link; not waiting on a pipe's writer.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let not_plain = || {
        Error::Altered(format!(
            "evidence store: {} is not a regular file (a link, pipe or device, which \
             controlgate never writes): the store was altered; nothing is read through it",
            path.display()
        ))
    };
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(not_plain()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(not_plain());
    }
    Ok(Some(file))
}

impl EvidenceStore for DirStore {
    fn location(&self, key: &str) -> String {
        self.root.join(key).display().to_string()
    }

    fn put_create(&self, key: &str, bytes: &[u8]) -> Result<Created> {
        self.create_with(key, |tmp| {
            tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))
        })
    }

    /// Streams the file through the hash into the temp file: memory stays flat however large
    /// the input.
    fn put_create_file(&self, key: &str, path: &Path, sha256: &str) -> Result<Created> {
        self.create_with(key, |tmp| {
            let src = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let mut hashing = HashingReader::new(src);
            std::io::copy(&mut hashing, tmp.as_file_mut()).map_err(|e| Error::io(tmp.path(), e))?;
            let (copied, _) = hashing.finish().map_err(|e| Error::io(path, e))?;
            if copied != sha256 {
                return Err(changed(path));
            }
            Ok(())
        })
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(key)?;
        let Some(mut f) = open_plain(&path)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).map_err(|e| Error::io(&path, e))?;
        Ok(Some(bytes))
    }

    fn hash(&self, key: &str) -> Result<Option<(String, u64)>> {
        let path = self.path(key)?;
        let Some(f) = open_plain(&path)? else {
            return Ok(None);
        };
        HashingReader::new(f)
            .finish()
            .map(Some)
            .map_err(|e| Error::io(&path, e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let start = self.root.join(prefix.trim_end_matches('/'));
        let mut stack = vec![(start, prefix.trim_end_matches('/').to_string())];
        while let Some((dir, rel)) = stack.pop() {
            let rd = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&dir, e)),
            };
            for item in rd {
                let item = item.map_err(|e| Error::io(&dir, e))?;
                let name = item.file_name().to_string_lossy().into_owned();
                let key = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let ft = item.file_type().map_err(|e| Error::io(item.path(), e))?;
                if ft.is_dir() {
                    // No writer leaves an empty directory: listed (`key/`), it is named where
                    // it stands (a directory in an entry's place hid the ledger's last entry).
                    let empty = std::fs::read_dir(item.path())
                        .map_err(|e| Error::io(item.path(), e))?
                        .next()
                        .is_none();
                    if empty {
                        out.push(format!("{key}/"));
                    } else {
                        stack.push((item.path(), key));
                    }
                } else {
                    out.push(key);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn tip_hint(&self) -> Option<Tip> {
        self.tip.lock().ok().and_then(|t| t.clone())
    }

    fn set_tip_hint(&self, tip: Tip) {
        if let Ok(mut t) = self.tip.lock() {
            *t = Some(tip);
        }
    }
}
