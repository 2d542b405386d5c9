//! `memcmp` and `bcmp` for the shipped static musl binary.
//!
//! musl's `memcmp` compares a byte at a time (its `bcmp` calls it). Rust's `==` on slices and
//! strings is a `bcmp` call, and the JUnit path makes two per test case on the suite's name
//! (`ingest::batch`: a batch keeps a text once while it repeats, and the decoding reuses the
//! buffer holding it): on the 200,000-testcase bench that was 2.3 % of every instruction the run
//! executed. The musl link wraps both (`-Wl,--wrap=memcmp,--wrap=bcmp`, from `src/build.rs`), as
//! it wraps `memcpy` (src/memcpy.rs).
//!
//! Eight bytes at a time: the first word that differs is read as big-endian, so comparing the
//! words compares their first differing bytes, as unsigned bytes, which is `memcmp`'s order.
//! The last word overlaps the one before when `n` is not a multiple of eight (bytes already
//! found equal compare equal again). No loop over bytes a compiler could turn back into a call.

/// `memcmp(a, b, n)`: negative, zero or positive as `a[..n]` sorts before, equal to or after
/// `b[..n]`, byte by byte as unsigned values.
///
/// # Safety
/// The C contract: `a` and `b` are valid for reads of `n` bytes.
#[cfg_attr(target_env = "musl", unsafe(no_mangle))]
pub unsafe extern "C" fn __wrap_memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: every read below lies within `[0, n)` of `a` and `b` (the caller's contract):
    // words at `i` only while `i + 8 <= n`, the last word at `n - 8` only when `n >= 8`, and
    // the shorter reads are bounded by their branch's `n`.
    unsafe {
        if n >= 8 {
            let mut i = 0;
            while i + 8 < n {
                let order = compare_words(a.add(i), b.add(i));
                if order != 0 {
                    return order;
                }
                i += 8;
            }
            return compare_words(a.add(n - 8), b.add(n - 8));
        }
        if n >= 4 {
            let head = compare(word32(a), word32(b));
            if head != 0 {
                return head;
            }
            return compare(word32(a.add(n - 4)), word32(b.add(n - 4)));
        }
        // 0..=3 bytes, in order.
        for k in [0, 1, 2] {
            if k >= n {
                return 0;
            }
            let (x, y) = (*a.add(k), *b.add(k));
            if x != y {
                return i32::from(x) - i32::from(y);
            }
        }
        0
    }
}

/// `bcmp(a, b, n)`: zero when the bytes are equal, non-zero otherwise.
///
/// # Safety
/// As [`__wrap_memcmp`].
#[cfg_attr(target_env = "musl", unsafe(no_mangle))]
pub unsafe extern "C" fn __wrap_bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract.
    unsafe { __wrap_memcmp(a, b, n) }
}

/// The eight bytes at `a` and at `b`, compared as `memcmp` compares them.
///
/// # Safety
/// Both valid for reads of eight bytes.
#[inline(always)]
unsafe fn compare_words(a: *const u8, b: *const u8) -> i32 {
    // SAFETY: the caller's contract; unaligned reads.
    let (x, y) = unsafe {
        (
            a.cast::<u64>().read_unaligned(),
            b.cast::<u64>().read_unaligned(),
        )
    };
    if x == y {
        return 0;
    }
    // Big-endian: the first byte in memory is the most significant.
    compare(u64::from_be(x), u64::from_be(y))
}

/// The four bytes at `p`, big-endian (the first byte most significant).
///
/// # Safety
/// Valid for reads of four bytes.
#[inline(always)]
unsafe fn word32(p: *const u8) -> u32 {
    // SAFETY: the caller's contract; an unaligned read.
    u32::from_be(unsafe { p.cast::<u32>().read_unaligned() })
}

#[inline(always)]
fn compare<T: Ord>(x: T, y: T) -> i32 {
    match x.cmp(&y) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::{__wrap_bcmp, __wrap_memcmp};

    /// Every length across each branch's edges, at every alignment of both sides, with the
    /// first difference at every place (and none): the sign is `memcmp`'s, bytes compared as
    /// unsigned (0x80 sorts after 0x7F), and `bcmp` is zero exactly when they are equal.
    #[test]
    fn compares_as_memcmp_at_any_length_alignment_and_difference() {
        let base: Vec<u8> = (0..200u32).map(|i| (i * 37 + 11) as u8).collect();
        for n in 0..=70 {
            for a_at in 0..8 {
                for b_at in 0..8 {
                    for diff in (0..n).map(Some).chain([None]) {
                        for (x, y) in [(0x7Fu8, 0x80u8), (0x80, 0x7F), (0, 0xFF), (0x41, 0x42)] {
                            let mut a = vec![0u8; 8 + n];
                            let mut b = vec![0u8; 8 + n];
                            a[a_at..a_at + n].copy_from_slice(&base[..n]);
                            b[b_at..b_at + n].copy_from_slice(&base[..n]);
                            if let Some(d) = diff {
                                a[a_at + d] = x;
                                b[b_at + d] = y;
                                // Bytes after the first difference must not decide.
                                if d + 1 < n {
                                    a[a_at + d + 1] = 0;
                                    b[b_at + d + 1] = 0xFF;
                                }
                            }
                            let (sa, sb) = (&a[a_at..a_at + n], &b[b_at..b_at + n]);
                            let want = sa.cmp(sb) as i32;
                            // SAFETY: both slices are valid for `n` bytes.
                            let (got, eq) = unsafe {
                                (
                                    __wrap_memcmp(sa.as_ptr(), sb.as_ptr(), n),
                                    __wrap_bcmp(sa.as_ptr(), sb.as_ptr(), n),
                                )
                            };
                            let at = format!("n={n} a_at={a_at} b_at={b_at} diff={diff:?}");
                            assert_eq!(got.signum(), want, "{at} {x:#x} {y:#x}");
                            assert_eq!(eq == 0, sa == sb, "{at}");
                        }
                    }
                }
            }
        }
    }
}
