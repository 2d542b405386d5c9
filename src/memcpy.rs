//! `memcpy` for the shipped static musl binary.
//!
//! musl's x86_64 `memcpy` copies a byte at a time up to an 8-byte boundary, then `rep movsq`,
//! then a byte at a time again: right for size, slow for the short copies a parser makes by the
//! million (every name, class name and file of a report is copied into a `String`). On the
//! 200,000-testcase JUnit bench it was the reading thread's top symbol, a sixth of its time.
//! The musl link wraps `memcpy` (`-Wl,--wrap=memcpy`, from `src/build.rs`), so every call —
//! Rust's and the C in mimalloc alike — lands here; musl's internal copies (`memmove` forwards
//! to `__memcpy_fwd`) are untouched. Other builds keep their libc's `memcpy` and compile this
//! only for its tests.
//!
//! Up to 128 bytes: overlapping unaligned loads, then the stores, with no loop a compiler could
//! turn back into a call to `memcpy`. Up to 1 KiB: 32-byte blocks copied in assembly. Longer:
//! `rep movsb`, which x86_64 processors since Ivy Bridge run at full speed ("ERMSB") once
//! started; starting it costs more than a struct-sized copy.

use core::arch::asm;

/// `memcpy(dest, src, n)`: copies `n` bytes, returns `dest`.
///
/// # Safety
/// The C contract: `src` and `dest` are valid for `n` bytes and do not overlap.
#[cfg_attr(target_env = "musl", unsafe(no_mangle))]
pub unsafe extern "C" fn __wrap_memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: each branch bounds `n`, so every access is within `src[..n]` / `dest[..n]`; reads
    // and writes are unaligned; the C contract rules out overlap.
    unsafe {
        if n <= 16 {
            if n >= 8 {
                let head = src.cast::<u64>().read_unaligned();
                let tail = src.add(n - 8).cast::<u64>().read_unaligned();
                dest.cast::<u64>().write_unaligned(head);
                dest.add(n - 8).cast::<u64>().write_unaligned(tail);
            } else if n >= 4 {
                let head = src.cast::<u32>().read_unaligned();
                let tail = src.add(n - 4).cast::<u32>().read_unaligned();
                dest.cast::<u32>().write_unaligned(head);
                dest.add(n - 4).cast::<u32>().write_unaligned(tail);
            } else if n > 0 {
                // 1..=3 bytes: the first, middle and last cover them all.
                let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
                *dest = a;
                *dest.add(n / 2) = b;
                *dest.add(n - 1) = c;
            }
        } else if n <= 32 {
            copy_head_tail::<1>(dest, src, n);
        } else if n <= 64 {
            copy_head_tail::<2>(dest, src, n);
        } else if n <= 128 {
            copy_head_tail::<4>(dest, src, n);
        } else if n <= 1024 {
            copy_blocks(dest, src, n);
        } else {
            // The direction flag is clear on entry to any function (System V ABI).
            asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") dest => _,
                inout("rsi") src => _,
                options(nostack, preserves_flags)
            );
        }
    }
    dest
}

/// Copies `n` bytes, `16 * BLOCKS < n <= 32 * BLOCKS`, as `BLOCKS` 16-byte blocks from the
/// start and `BLOCKS` from the end (overlapping in the middle), all loaded before any is stored.
///
/// # Safety
/// As [`__wrap_memcpy`], with `n` in that range.
#[inline(always)]
unsafe fn copy_head_tail<const BLOCKS: usize>(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: `16 * BLOCKS < n`, so both runs of blocks lie within `[0, n)` (the caller's
    // contract); the array is a fixed size, its indexing unrolled, so no loop reaches codegen
    // as a copy it could replace with a `memcpy` call.
    unsafe {
        let mut head = [0u128; BLOCKS];
        let mut tail = [0u128; BLOCKS];
        for i in 0..BLOCKS {
            head[i] = src.add(16 * i).cast::<u128>().read_unaligned();
            tail[i] = src
                .add(n - 16 * (BLOCKS - i))
                .cast::<u128>()
                .read_unaligned();
        }
        for i in 0..BLOCKS {
            dest.add(16 * i).cast::<u128>().write_unaligned(head[i]);
            dest.add(n - 16 * (BLOCKS - i))
                .cast::<u128>()
                .write_unaligned(tail[i]);
        }
    }
}

/// Copies `n` bytes, `32 < n`, as 32-byte blocks from the start, then the last 32 bytes
/// (overlapping the block before). For struct-sized copies: a test case moved into a batch is
/// 360 bytes, and there `rep movsb`'s start-up cost was half of all the time spent copying (perf
/// annotate, 200k-testcase bench).
///
/// # Safety
/// As [`__wrap_memcpy`], with `32 < n`.
#[inline(always)]
unsafe fn copy_blocks(dest: *mut u8, src: *const u8, n: usize) {
    // SAFETY: every block lies within `[0, n)`: the loop's end before `n - 32`, the last at it.
    unsafe {
        let mut at = 0;
        while at + 32 < n {
            copy32(dest.add(at), src.add(at));
            at += 32;
        }
        copy32(dest.add(n - 32), src.add(n - 32));
    }
}

/// Copies 32 bytes. In assembly, so no loop around it reaches codegen as a copy it could
/// replace with a call to `memcpy` (this function).
///
/// # Safety
/// `src` and `dest` are valid for 32 bytes.
#[inline(always)]
unsafe fn copy32(dest: *mut u8, src: *const u8) {
    // SAFETY: the caller's contract; unaligned loads and stores.
    unsafe {
        asm!(
            "movups {a}, [{s}]",
            "movups {b}, [{s} + 16]",
            "movups [{d}], {a}",
            "movups [{d} + 16], {b}",
            s = in(reg) src,
            d = in(reg) dest,
            a = out(xmm_reg) _,
            b = out(xmm_reg) _,
            options(nostack, preserves_flags)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::__wrap_memcpy;

    /// Every length across each branch's edges, at every alignment of source and destination
    /// within a word: the bytes copied are exactly the source's, the bytes around untouched,
    /// and the destination is returned.
    #[test]
    fn copies_exactly_n_bytes_at_any_length_and_alignment() {
        let src: Vec<u8> = (0..1200u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in (0..=600).chain(1000..=1100) {
            for src_at in 0..8 {
                for dest_at in 0..8 {
                    let mut dest = vec![0xA5u8; n + 32];
                    let start = 8 + dest_at;
                    // SAFETY: both ranges lie inside their vectors, which do not overlap.
                    let returned = unsafe {
                        __wrap_memcpy(dest.as_mut_ptr().add(start), src[src_at..].as_ptr(), n)
                    };
                    assert_eq!(returned, dest[start..].as_mut_ptr(), "n={n}");
                    assert_eq!(&dest[start..start + n], &src[src_at..src_at + n], "n={n}");
                    assert!(dest[..start].iter().all(|&b| b == 0xA5), "before, n={n}");
                    assert!(dest[start + n..].iter().all(|&b| b == 0xA5), "after, n={n}");
                }
            }
        }
    }
}
