//! Randomness for tags, branches, Call-IDs and nonces. Protocol code does
//! not draw from the OS itself: it is handed a seed and counts through
//! SplitMix64 (a counter stepped by the golden ratio, then mixed), so a
//! test with a fixed seed is repeatable.

/// The golden-ratio increment between successive SplitMix64 inputs.
pub const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function: well-mixed 64 bits from a counter.
pub fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Appends `x` as 16 lower-case hex digits.
pub fn push_hex(s: &mut String, x: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..16).rev() {
        s.push(char::from(HEX[((x >> (i * 4)) & 0xf) as usize]));
    }
}

/// `x` as a 16-hex-digit token (tags, Call-IDs, branches, client nonces).
pub fn token(x: u64) -> String {
    let mut s = String::with_capacity(16);
    push_hex(&mut s, x);
    s
}

/// A seeded SplitMix64 sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMix {
    state: u64,
}

impl SplitMix {
    /// The sequence that starts after `seed`.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix { state: seed }
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        splitmix(self.state)
    }

    /// The next number as a 16-hex-digit token.
    pub fn token(&mut self) -> String {
        token(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // The first outputs of SplitMix64 seeded with 0 (Vigna's reference).
        let mut r = SplitMix::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(token(0xab), "00000000000000ab");
    }
}
