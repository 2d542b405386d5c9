//! Byte tests eight bytes at a time, on a `u64` word: the readers and the mapping run them on
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

/// The last bytes of a slice (fewer than eight) as a word, zero above them (a zero byte is
/// below 0x20: where that matters, test the bytes themselves).
#[inline]
pub(crate) fn partial_word(rest: &[u8]) -> u64 {
    rest.iter()
        .enumerate()
        .fold(0, |w, (i, &b)| w | (u64::from(b) << (8 * i)))
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
        assert_eq!(partial_word(b"ab"), u64::from_le_bytes(*b"ab\0\0\0\0\0\0"));
        assert_eq!(partial_word(b""), 0);
    }
}
