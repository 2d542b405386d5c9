//! A file mapped into memory that another process may cut short while it is read.
//!
//! Reading a page of a mapping past its file's end raises SIGBUS, which ends the process: the
//! run failed, but with no word of why (exit 135 in the job's log). While a [`Mapped`] lives,
//! its range is registered with a SIGBUS handler that answers such a fault by mapping zeros
//! over the rest of the range and marking it [`Mapped::cut_short`]: the reader goes on over
//! bytes that are not the file's, and the caller, which asks before using anything read, fails
//! the run with a message naming the file. A SIGBUS anywhere else goes to the handler that was
//! there before (Rust's, then the default: the process ends as it would have).

use std::fs::File;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How many mappings can be registered at once: a run maps one or two files at a time.
const SLOTS: usize = 16;
/// A slot's `start` while it is taken and being filled in.
const FILLING: usize = 1;

struct Slot {
    /// The range's first byte; 0 when free, [`FILLING`] while being taken.
    start: AtomicUsize,
    /// One past its last byte.
    end: AtomicUsize,
    cut: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    cut: AtomicBool::new(false),
};
static REGISTERED: [Slot; SLOTS] = [FREE; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
static INSTALL: Once = Once::new();
/// Whether the handler is in place (installing it can fail; nothing is mapped then).
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The SIGBUS action before ours, set once before ours is installed.
static PREVIOUS: std::sync::OnceLock<libc::sigaction> = std::sync::OnceLock::new();

/// A read-only private mapping of a whole file, registered with the SIGBUS handler while it
/// lives.
pub struct Mapped {
    slot: usize,
    // Dropped after `drop` has let go of the slot: no fault is ever answered over a range
    // already unmapped.
    map: memmap2::Mmap,
}

impl Mapped {
    /// Maps `file` whole (`populate`: its pages read in now). `None` where it cannot be mapped
    /// safely (mapping refused, no handler, every slot taken): the caller reads it instead.
    pub fn map(file: &File, populate: bool) -> Option<Mapped> {
        install();
        if !INSTALLED.load(Ordering::Acquire) {
            return None;
        }
        let mut options = memmap2::MmapOptions::new();
        if populate {
            options.populate();
        }
        // SAFETY: read only and private to this process. Its bytes change under it only if
        // another process writes the file: cut short, the handler answers (`cut_short`);
        // rewritten, the caller's stamp of the file finds out after the read.
        let map = unsafe { options.map(file) }.ok()?;
        let slot = REGISTERED.iter().position(|s| {
            s.start
                .compare_exchange(0, FILLING, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        let s = &REGISTERED[slot];
        let start = map.as_ptr() as usize;
        s.end.store(start + map.len(), Ordering::Release);
        s.cut.store(false, Ordering::Release);
        // Last: the handler reads `start` first and then trusts `end`.
        s.start.store(start.max(FILLING + 1), Ordering::Release);
        Some(Mapped { slot, map })
    }

    /// Whether the file ended before the mapping did when a page of it was read: the bytes
    /// from there on were zeros, not the file's.
    pub fn cut_short(&self) -> bool {
        REGISTERED[self.slot].cut.load(Ordering::Acquire)
    }

    pub fn map_ref(&self) -> &memmap2::Mmap {
        &self.map
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        REGISTERED[self.slot].start.store(0, Ordering::Release);
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf has no preconditions; the sigaction structs are zeroed plain data,
        // filled in as the man page says, and the handler only uses atomics, mmap and sigaction.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE);
            if page > 0 {
                PAGE.store(page as usize, Ordering::Relaxed);
            }
            let mut previous: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut previous) != 0 {
                return;
            }
            let _ = PREVIOUS.set(previous);
            let mut ours: libc::sigaction = std::mem::zeroed();
            ours.sa_sigaction = on_sigbus as *const () as usize;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut ours.sa_mask);
            if libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
}

/// Async-signal-safe: atomics, `mmap` and `sigaction` only.
extern "C" fn on_sigbus(_: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel hands a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for s in &REGISTERED {
        let start = s.start.load(Ordering::Acquire);
        if start <= FILLING || addr < start || addr >= s.end.load(Ordering::Acquire) {
            continue;
        }
        let from = addr & !(page - 1);
        let len = s.end.load(Ordering::Acquire) - from;
        // SAFETY: [from, end) lies in this live mapping (its pages are ours alone); fixed
        // anonymous pages replace the file's there, read only like the rest.
        let zeros = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            s.cut.store(true, Ordering::Release);
            // The read that faulted is tried again, over the zeros.
            return;
        }
    }
    // Not a mapping of ours (or no zeros to give it): the action before ours takes the fault
    // when the read is tried again.
    if let Some(previous) = PREVIOUS.get() {
        // SAFETY: restores the action read from the kernel at install.
        unsafe { libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file cut short under its mapping reads as zeros past its new end and says so; one
    /// left alone says nothing; and the slots are given back (twice as many rounds as slots).
    #[test]
    fn a_file_cut_short_while_mapped_reads_as_zeros_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..(SLOTS * 2) {
            let path = dir.path().join(format!("f{round}"));
            let bytes: Vec<u8> = (0..3 * 65_536 + 123).map(|i| (i % 251 + 1) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            let file = File::open(&path).unwrap();
            let mapped = Mapped::map(&file, round % 2 == 0).expect("mapped");
            assert!(!mapped.cut_short());
            assert!(*mapped == bytes[..]);
            let keep: usize = 65_536 + 7;
            let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            writer.set_len(keep as u64).unwrap();
            // The page holding the new end is still the file's; past it, zeros.
            let page = PAGE.load(Ordering::Relaxed);
            let whole = keep.div_ceil(page) * page;
            let sum: u64 = mapped.iter().map(|&b| u64::from(b)).sum();
            let want: u64 = bytes[..keep].iter().map(|&b| u64::from(b)).sum();
            assert_eq!(sum, want, "round {round}");
            assert!(mapped[whole..].iter().all(|&b| b == 0));
            assert!(mapped.cut_short(), "round {round}");
            drop(mapped);
            // A mapping left alone is not cut short.
            let path = dir.path().join(format!("g{round}"));
            std::fs::write(&path, &bytes).unwrap();
            let file = File::open(&path).unwrap();
            let mapped = Mapped::map(&file, false).expect("mapped");
            assert!(*mapped == bytes[..]);
            assert!(!mapped.cut_short());
        }
    }
}
