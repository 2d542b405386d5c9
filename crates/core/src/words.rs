//! Byte tests eight bytes at a time, on a `u64` word (and sixteen, [`block_flags`]): the readers and the mapping run them on
//! every name, value and line of a report, where a loop byte by byte (or a SIMD search's set-up
//! on a 20-byte value) was a measurable part of a large run. Words are little-endian: byte `k`
//! of a chunk is bits `8k..8k+8` of its word, and each test flags a byte in its high bit.

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGH: u64 = u64::from_le_bytes([0x80; 8]);

/// The word of an eight-byte chunk (from `chunks_exact(8)`).
#[inline]
pub(crate) fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]))
}

/// The bytes of `w` equal to `b`. The lowest byte flagged is exact, and so is "none": a false
/// flag only ever follows a true one (a borrow from it).
#[inline]
pub(crate) fn equal(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The bytes of `w` below `n` (`n <= 0x80`), exact as [`equal`] is.
#[inline]
pub(crate) fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// The bytes of `w` from 0x80 (not ASCII); exact.
#[inline]
pub(crate) fn non_ascii(w: u64) -> u64 {
    w & HIGH
}

/// The ASCII bytes of `w` in `lo..=hi`; exact for every byte. (Each byte's low seven bits plus
/// at most 0x80 stays within the byte: no sum carries into the next.)
#[inline]
pub(crate) fn in_range(w: u64, lo: u8, hi: u8) -> u64 {
    const LOW7: u64 = u64::from_le_bytes([0x7F; 8]);
    let low = w & LOW7;
    let at_least_lo = low + ONES * u64::from(0x80 - lo);
    let above_hi = low + ONES * u64::from(0x7F - hi);
    at_least_lo & !above_hi & !w & HIGH
}

/// The bytes of a 16-byte block equal to one of `bytes`, below `below` (`below < 0x80`) or,
/// with `non_ascii`, from 0x80, as a mask: bit `k` set for byte `k`; exact. An attribute value
/// or a key is 4 to 40 bytes: one or two blocks, where [`equal`] looks at a word once per byte
/// it looks for, over one to five words, and a loop takes each byte in turn.
#[inline]
pub(crate) fn block_flags<const N: usize>(
    block: &[u8; 16],
    bytes: [u8; N],
    below: u8,
    non_ascii: bool,
) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of every x86_64 target; the load reads the 16 bytes `block`
        // borrows (`loadu`: no alignment asked).
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            // A byte's high bit: set from 0x80.
            let high = _mm_movemask_epi8(v) as u32;
            let mut mask = if non_ascii { high } else { 0 };
            if below > 0 {
                // Compared as signed bytes, where those from 0x80 are below too.
                mask |=
                    _mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8(below as i8))) as u32 & !high;
            }
            for b in bytes {
                mask |= _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u32;
            }
            mask
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block
            .iter()
            .enumerate()
            .filter(|&(_, b)| bytes.contains(b) || *b < below || (non_ascii && !b.is_ascii()))
            .fold(0, |mask, (k, _)| mask | 1 << k)
    }
}

/// The ASCII letters and the ASCII digits of a 16-byte block, as two masks (bit `k` set for
/// byte `k`); exact. The mapping looks for a digit after a letter in every name and classname.
#[inline]
pub(crate) fn letters_and_digits(block: &[u8; 16]) -> (u32, u32) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            _mm_and_si128, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // SAFETY: SSE2 is part of every x86_64 target; the load reads the 16 bytes `block`
        // borrows (`loadu`: no alignment asked).
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast());
            // Signed compares: a byte from 0x80 is below every bound, so neither.
            let within = |v, lo: u8, hi: u8| {
                _mm_movemask_epi8(_mm_and_si128(
                    _mm_cmpgt_epi8(v, _mm_set1_epi8((lo - 1) as i8)),
                    _mm_cmplt_epi8(v, _mm_set1_epi8((hi + 1) as i8)),
                )) as u32
            };
            // ASCII letters are the bytes that, with 0x20 set, fall in `a..=z`.
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            (within(lower, b'a', b'z'), within(v, b'0', b'9'))
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block.iter().enumerate().fold((0, 0), |(l, d), (k, b)| {
            (
                l | u32::from(b.is_ascii_alphabetic()) << k,
                d | u32::from(b.is_ascii_digit()) << k,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each test against the byte it stands for, for every byte value at every place of a
    /// word, alone and after a byte that sets it off (exact where the docs say so).
    #[test]
    fn each_test_flags_what_the_byte_comparison_flags() {
        let flagged = |mask: u64| {
            (0..8)
                .filter(|k| mask >> (8 * k + 7) & 1 == 1)
                .collect::<Vec<_>>()
        };
        for k in 0..8 {
            for b in 0..=255u8 {
                for before in [b'a', 0x00, 0x26, 0x7F, 0xFF] {
                    let mut bytes = [b'a'; 8];
                    if k > 0 {
                        bytes[k - 1] = before;
                    }
                    bytes[k] = b;
                    let w = word(&bytes);
                    let lowest = |mask: u64, byte_test: &dyn Fn(u8) -> bool| {
                        let want = bytes.iter().position(|&x| byte_test(x));
                        let got = (mask != 0).then(|| mask.trailing_zeros() as usize / 8);
                        assert_eq!(got, want, "{bytes:?}");
                    };
                    lowest(equal(w, b'&'), &|x| x == b'&');
                    lowest(equal(w, 0xEF), &|x| x == 0xEF);
                    lowest(below(w, 0x20), &|x| x < 0x20);
                    let all = |mask: u64, byte_test: &dyn Fn(u8) -> bool| {
                        let want: Vec<_> = (0..8).filter(|&i| byte_test(bytes[i])).collect();
                        assert_eq!(flagged(mask), want, "{bytes:?}");
                    };
                    all(non_ascii(w), &|x| x >= 0x80);
                    all(in_range(w, b'0', b'9'), &|x| x.is_ascii_digit());
                    all(in_range(w | (ONES * 0x20), b'a', b'z'), &|x| {
                        x.is_ascii_alphabetic()
                    });
                }
            }
        }
    }

    /// The block test flags each byte the byte comparison flags, for every byte value at every
    /// place of a block, among bytes that are flagged and bytes that are not.
    #[test]
    fn block_flags_flags_what_the_byte_comparison_flags() {
        let sets = [[b'"', b'<', b'&'], [b'\'', b'<', b'&'], [0x00, 0xFF, b'a']];
        for set in sets {
            for (below, non_ascii) in [
                (0, false),
                (0, true),
                (0x21, false),
                (0x21, true),
                (0x7F, false),
            ] {
                let flagged = |b: u8| set.contains(&b) || b < below || (non_ascii && b >= 0x80);
                for k in 0..16 {
                    for b in 0..=255u8 {
                        for fill in [b'a', b'"', 0x20, 0x7F, 0x80, 0xFF, 0x00] {
                            let mut block = [fill; 16];
                            block[k] = b;
                            let want = (0..16)
                                .filter(|&i| flagged(block[i]))
                                .fold(0u32, |m, i| m | 1 << i);
                            let got = block_flags(&block, set, below, non_ascii);
                            assert_eq!(got, want, "{block:?} below {below:#x}");
                        }
                    }
                }
            }
        }
    }

    /// Letters and digits as `is_ascii_alphabetic` and `is_ascii_digit` say, for every byte
    /// value at every place of a block, among letters, digits and bytes that are neither.
    #[test]
    fn letters_and_digits_are_the_ascii_ones() {
        for k in 0..16 {
            for b in 0..=255u8 {
                for fill in [b'a', b'Z', b'0', b'9', b'@', b'`', 0x80, 0xE1, 0x00] {
                    let mut block = [fill; 16];
                    block[k] = b;
                    let mask = |test: fn(&u8) -> bool| {
                        (0..16)
                            .filter(|&i| test(&block[i]))
                            .fold(0u32, |m, i| m | 1 << i)
                    };
                    assert_eq!(
                        letters_and_digits(&block),
                        (mask(u8::is_ascii_alphabetic), mask(u8::is_ascii_digit)),
                        "{block:?}"
                    );
                }
            }
        }
    }
}
