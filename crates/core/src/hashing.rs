//! Hashing bytes as they stream through (a `Read` adapter: no I/O of its own), and the hex
//! form of digests.

use std::io::Read;

use sha2::{Digest, Sha256};

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
        Ok((hex(&self.hasher.finalize()), self.bytes))
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

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Lower-case hex SHA-256 of `bytes`: the one digest format of inputs, suites, configs and
/// evidence.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}
