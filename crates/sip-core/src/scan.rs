//! Byte searches for the hot parsing loops.
//!
//! Header lines are short (most under 64 bytes). On x86-64 a single-byte
//! search of sixteen bytes or more uses memchr's SSE2 searcher directly
//! (every x86-64 CPU has SSE2, so there is no run-time dispatch), handed at
//! most 63 bytes at a time: from 64 on it unrolls four vectors at once,
//! which costs more than it saves when the byte is one line away. Anything
//! shorter, the multi-byte searches, and other targets read eight bytes as
//! one `u64` and test them together: no set-up and no `unsafe`.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is zero, and possibly of bytes
/// above the first zero (a borrow can mark them); the lowest set bit is
/// always exact, which is all the searches below use.
#[inline(always)]
const fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// The index of the first `needle` in `word`, if any.
#[inline(always)]
pub(crate) fn first_in_word(word: &[u8; 8], needle: u8) -> Option<usize> {
    let hits = zero_bytes(u64::from_le_bytes(*word) ^ (LO * u64::from(needle)));
    (hits != 0).then(|| (hits.trailing_zeros() / 8) as usize)
}

/// The index of the first `needle` at or after `i`.
#[inline(always)]
pub(crate) fn find_byte(b: &[u8], i: usize, needle: u8) -> Option<usize> {
    // Windows of 63 bytes keep memchr on its one-vector path (see the
    // module documentation); a line end is rarely further away.
    #[cfg(target_arch = "x86_64")]
    if let Some(one) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        let mut from = i;
        while let Some(rest) = b.get(from..)
            && rest.len() >= 16
        {
            let window = &rest[..rest.len().min(63)];
            if let Some(at) = one.find(window) {
                return Some(from + at);
            }
            from += window.len();
        }
        return find_byte_swar(b, from, needle);
    }
    find_byte_swar(b, i, needle)
}

/// [`find_byte`] a word at a time.
#[inline(always)]
fn find_byte_swar(b: &[u8], mut i: usize, needle: u8) -> Option<usize> {
    let pattern = LO * u64::from(needle);
    let word = |c: &[u8; 8]| zero_bytes(u64::from_le_bytes(*c) ^ pattern);
    // Sixteen bytes per step: one branch for both words.
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<16>) {
        let (lo, hi) = chunk.split_at(8);
        let lo = lo.first_chunk::<8>().map_or(0, word);
        let hi = hi.first_chunk::<8>().map_or(0, word);
        if lo | hi != 0 {
            let at = if lo != 0 {
                lo.trailing_zeros() / 8
            } else {
                8 + hi.trailing_zeros() / 8
            };
            return Some(i + at as usize);
        }
        i += 16;
    }
    if let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        if let Some(at) = first_in_word(chunk, needle) {
            return Some(i + at);
        }
        i += 8;
    }
    let tail = b.get(i..)?;
    tail.iter().position(|&c| c == needle).map(|p| i + p)
}

/// The index of the first byte of `set` at or after `i`.
#[inline(always)]
pub(crate) fn find_any<const N: usize>(b: &[u8], mut i: usize, set: [u8; N]) -> Option<usize> {
    let patterns = set.map(|c| LO * u64::from(c));
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let w = u64::from_le_bytes(*chunk);
        let hits = patterns.iter().fold(0, |hits, &p| hits | zero_bytes(w ^ p));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = b.get(i..)?;
    tail.iter().position(|c| set.contains(c)).map(|p| i + p)
}

/// True when `needle` occurs in `b`.
#[inline(always)]
pub(crate) fn has_byte(b: &[u8], needle: u8) -> bool {
    let pattern = LO * u64::from(needle);
    let (chunks, tail) = b.as_chunks::<8>();
    chunks
        .iter()
        .any(|c| zero_bytes(u64::from_le_bytes(*c) ^ pattern) != 0)
        || tail.iter().fold(false, |hit, &c| hit | (c == needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_occurrence_at_every_alignment() {
        for len in 0..40 {
            for at in 0..len {
                let mut b = vec![b'a'; len];
                b[at] = b'\n';
                if at + 3 < len {
                    b[at + 3] = b'\n';
                }
                for from in 0..=at {
                    assert_eq!(find_byte(&b, from, b'\n'), Some(at), "len {len} at {at}");
                }
                assert_eq!(find_byte(&b, at + 4, b'\n'), None);
                assert!(has_byte(&b, b'\n'));
                assert!(!has_byte(&b, b'\r'));
            }
            assert_eq!(find_byte(&vec![b'a'; len], 0, b'\n'), None);
        }
        // Past the first 63-byte window, and at the edges of later ones.
        for len in [64, 126, 127, 128, 200] {
            for at in [0, 15, 16, 62, 63, 64, 125, 126, 127, len - 1] {
                if at >= len {
                    continue;
                }
                let mut b = vec![b'a'; len];
                b[at] = b'\n';
                for from in [0, 1, at.saturating_sub(17), at]
                    .into_iter()
                    .filter(|&f| f <= at)
                {
                    assert_eq!(find_byte(&b, from, b'\n'), Some(at), "len {len} at {at}");
                }
                assert_eq!(find_byte(&b, at + 1, b'\n'), None, "len {len} at {at}");
            }
        }
    }

    #[test]
    fn finds_the_first_in_a_word() {
        for at in 0..8 {
            for later in at..8 {
                let mut w = [b'a'; 8];
                w[at] = b':';
                w[later] = b':';
                assert_eq!(first_in_word(&w, b':'), Some(at));
                // Bytes one above and below the needle are not it.
                w = [b';'; 8];
                w[at] = b'9';
                assert_eq!(first_in_word(&w, b':'), None);
            }
        }
    }

    #[test]
    fn bytes_next_to_the_needle_do_not_confuse_it() {
        // 0x0b - 0x0a = 1 and 0x09 borrows: neither may read as a hit.
        let b = [0x0b, 0x09, 0x0b, 0x8a, 0x0a, 0x00, 0xff, 0x0a, 0x0b];
        assert_eq!(find_byte(&b, 0, 0x0a), Some(4));
        assert_eq!(find_byte(&b, 5, 0x0a), Some(7));
        assert_eq!(find_byte(&b, 0, 0x00), Some(5));
        assert_eq!(find_byte(&b, 0, 0xff), Some(6));
        assert_eq!(find_byte(&b, 100, 0x0a), None);
    }

    #[test]
    fn finds_the_first_of_three() {
        let b = b"sip:a@b;lr>, <sip:c>\"x,y\"";
        assert_eq!(find_any(b, 0, [b',', b'"', b'<']), Some(11));
        assert_eq!(find_any(b, 12, [b',', b'"', b'<']), Some(13));
        assert_eq!(find_any(b, 14, [b',', b'"', b'<']), Some(20));
        assert_eq!(find_any(b, 21, [b',', b'"', b'<']), Some(22));
        assert_eq!(find_any(b, 25, [b',', b'"', b'<']), None);
        for len in 0..30 {
            for at in 0..len {
                let mut v = vec![b'a'; len];
                v[at] = b'<';
                assert_eq!(find_any(&v, 0, [b',', b'"', b'<']), Some(at));
            }
        }
    }

    #[test]
    fn finds_the_first_of_four_and_of_two() {
        let set = [b'"', b'\\', b'\r', b'\n'];
        let b = b"nonce=\"abc\\\"def\" x\r\n";
        assert_eq!(find_any(b, 0, set), Some(6));
        assert_eq!(find_any(b, 7, set), Some(10));
        assert_eq!(find_any(b, 11, set), Some(11));
        assert_eq!(find_any(b, 12, set), Some(15));
        assert_eq!(find_any(b, 16, set), Some(18));
        assert_eq!(find_any(b, 19, set), Some(19));
        assert_eq!(find_any(b, 20, set), None);
        for len in 0..30 {
            for at in 0..len {
                for &c in &set {
                    let mut v = vec![0x0b; len];
                    v[at] = c;
                    assert_eq!(find_any(&v, 0, set), Some(at), "len {len} at {at}");
                }
                let mut v = vec![b'a'; len];
                v[at] = b',';
                assert_eq!(find_any(&v, 0, [b'"', b',']), Some(at));
                assert_eq!(find_any(&v, at + 1, [b'"', b',']), None);
            }
        }
    }
}
