//! G.711 (ITU-T G.711, 1988): µ-law (PCMU, payload type 0) and A-law
//! (PCMA, payload type 8), one byte per 8 kHz sample.
//!
//! Bit-exact to the ITU-T G.191 software tool library: the encoder takes the
//! 14-bit (µ-law) or 13-bit (A-law) magnitude of the left-justified 16-bit
//! sample, negative values through their one's complement, and the decoder
//! returns the reconstruction value at the middle of each interval.

use crate::{CodecInfo, Decoder, Encoder, Result};

/// Companding law.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Law {
    /// µ-law (North America, Japan): `PCMU`.
    Mu,
    /// A-law (everywhere else): `PCMA`.
    A,
}

impl Law {
    /// Encodes one sample.
    #[inline]
    pub fn encode(self, x: i16) -> u8 {
        match self {
            Law::Mu => ulaw_encode(x),
            Law::A => alaw_encode(x),
        }
    }

    /// Decodes one byte.
    #[inline]
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Law::Mu => ULAW_TO_LINEAR[usize::from(code)],
            Law::A => ALAW_TO_LINEAR[usize::from(code)],
        }
    }

    /// The codec description for frames of `ptime_ms`.
    pub fn info(self, ptime_ms: u32) -> CodecInfo {
        let (name, pt) = match self {
            Law::Mu => ("PCMU", 0),
            Law::A => ("PCMA", 8),
        };
        CodecInfo {
            name,
            static_payload_type: Some(pt),
            clock_rate: 8000,
            sample_rate: 8000,
            channels: 1,
            ptime_ms,
        }
    }
}

/// The magnitude G.191 quantizes: one's complement for negative samples.
#[inline]
fn magnitude(x: i16) -> i32 {
    let x = i32::from(x);
    if x < 0 { !x } else { x }
}

/// µ-law: 14-bit magnitude plus the bias 33, segment from its bit length.
#[inline]
pub fn ulaw_encode(x: i16) -> u8 {
    let abs = ((magnitude(x) >> 2) + 33).min(0x1FFF);
    let segment = 1 + (32 - (abs >> 6).leading_zeros()) as i32; // 1..=8
    let high = 8 - segment;
    let low = 15 - ((abs >> segment) & 15);
    let code = ((high << 4) | low) as u8;
    if x >= 0 { code | 0x80 } else { code }
}

/// A-law: 12-bit magnitude, segment 0 linear, then a mantissa with its
/// leading one dropped; even bits inverted.
#[inline]
pub fn alaw_encode(x: i16) -> u8 {
    let mut ix = magnitude(x) >> 4;
    if ix > 15 {
        let mut exponent = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            exponent += 1;
        }
        ix = ix - 16 + (exponent << 4);
    }
    let code = if x >= 0 { ix | 0x80 } else { ix };
    (code ^ 0x55) as u8
}

const fn ulaw_decode(code: u8) -> i16 {
    let inverted = !code;
    let exponent = ((inverted >> 4) & 7) as i32;
    let mantissa = (inverted & 15) as i32;
    let step = 4 << (exponent + 1);
    let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
    if code < 0x80 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode(code: u8) -> i16 {
    let ix = ((code ^ 0x55) & 0x7F) as i32;
    let exponent = ix >> 4;
    let mut mantissa = ix & 15;
    if exponent > 0 {
        mantissa += 16;
    }
    mantissa = (mantissa << 4) + 8;
    if exponent > 1 {
        mantissa <<= exponent - 1;
    }
    if code > 127 {
        mantissa as i16
    } else {
        -mantissa as i16
    }
}

const fn table(law: Law) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match law {
            Law::Mu => ulaw_decode(i as u8),
            Law::A => alaw_decode(i as u8),
        };
        i += 1;
    }
    t
}

static ULAW_TO_LINEAR: [i16; 256] = table(Law::Mu);
static ALAW_TO_LINEAR: [i16; 256] = table(Law::A);

/// Encodes a block of samples, appending one byte per sample.
pub fn encode_into(law: Law, pcm: &[i16], out: &mut Vec<u8>) {
    match law {
        Law::Mu => out.extend(pcm.iter().map(|&x| ulaw_encode(x))),
        Law::A => out.extend(pcm.iter().map(|&x| alaw_encode(x))),
    }
}

/// Decodes a block of bytes, appending one sample per byte.
pub fn decode_into(law: Law, payload: &[u8], out: &mut Vec<i16>) {
    let t = match law {
        Law::Mu => &ULAW_TO_LINEAR,
        Law::A => &ALAW_TO_LINEAR,
    };
    out.extend(payload.iter().map(|&c| t[usize::from(c)]));
}

/// A G.711 encoder for frames of a fixed duration.
#[derive(Clone, Debug)]
pub struct G711Encoder {
    law: Law,
    info: CodecInfo,
}

impl G711Encoder {
    /// An encoder for frames of `ptime_ms` milliseconds.
    pub fn new(law: Law, ptime_ms: u32) -> Self {
        G711Encoder {
            law,
            info: law.info(ptime_ms),
        }
    }
}

impl Encoder for G711Encoder {
    fn info(&self) -> CodecInfo {
        self.info
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<usize> {
        self.info.check_frame(pcm)?;
        encode_into(self.law, pcm, out);
        Ok(pcm.len())
    }
}

/// A G.711 decoder; any payload length is one sample per byte.
#[derive(Clone, Debug)]
pub struct G711Decoder {
    law: Law,
    info: CodecInfo,
}

impl G711Decoder {
    /// A decoder whose nominal frame is `ptime_ms` milliseconds.
    pub fn new(law: Law, ptime_ms: u32) -> Self {
        G711Decoder {
            law,
            info: law.info(ptime_ms),
        }
    }
}

impl Decoder for G711Decoder {
    fn info(&self) -> CodecInfo {
        self.info
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize> {
        decode_into(self.law, payload, out);
        Ok(payload.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The G.711 quantizer described from its tables rather than its bit
    /// tricks: the segment end points (on the 14- or 13-bit magnitude scale)
    /// and 16 equal intervals per segment; a magnitude maps to the interval
    /// holding it, and decoding gives that interval's middle.
    fn reference(law: Law, x: i16) -> i16 {
        let (shift, ends, bias): (u32, [i32; 8], i32) = match law {
            // µ-law segments on the biased 14-bit scale (magnitude + 33).
            Law::Mu => (2, [64, 128, 256, 512, 1024, 2048, 4096, 8192], 33),
            // A-law on the 12-bit scale: segments 0 and 1 are both 16 wide.
            Law::A => (4, [16, 32, 64, 128, 256, 512, 1024, 2048], 0),
        };
        let negative = x < 0;
        let m = (magnitude(x) >> shift) + bias;
        let top = ends[7] - 1;
        let m = m.min(top);
        let seg = ends.iter().position(|&e| m < e).unwrap_or(7);
        let lo = match (law, seg) {
            (Law::Mu, 0) => 32,
            (Law::A, 0) => 0,
            _ => ends[seg - 1],
        };
        let width = (ends[seg] - lo) / 16;
        let mid2 = 2 * (lo + (m - lo) / width * width) + width; // twice the middle
        let value = (mid2 - 2 * bias) << shift >> 1;
        if negative {
            -value as i16
        } else {
            value as i16
        }
    }

    #[test]
    fn every_input_value_matches_the_quantizer() {
        for law in [Law::Mu, Law::A] {
            for x in i16::MIN..=i16::MAX {
                let code = law.encode(x);
                assert_eq!(
                    law.decode(code),
                    reference(law, x),
                    "{law:?} x={x} code={code:#04x}"
                );
                // The sign bit follows the sign of the input.
                assert_eq!(code & 0x80 != 0, x >= 0, "{law:?} x={x}");
            }
        }
    }

    #[test]
    fn decoding_then_encoding_returns_the_code() {
        for law in [Law::Mu, Law::A] {
            for code in 0..=255u8 {
                let back = law.encode(law.decode(code));
                // µ-law's negative zero (0x7F) decodes to 0, a positive value.
                if law == Law::Mu && code == 0x7F {
                    assert_eq!(back, 0xFF);
                } else {
                    assert_eq!(back, code, "{law:?} code={code:#04x}");
                }
            }
        }
    }

    #[test]
    fn known_codes() {
        // The G.711 tables' end points and the idle codes.
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(Law::Mu.decode(0x80), 32124);
        assert_eq!(Law::Mu.decode(0x00), -32124);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(Law::A.decode(0xD5), 8);
        assert_eq!(Law::A.decode(0xAA), 32256);
        assert_eq!(Law::A.decode(0x2A), -32256);
    }

    #[test]
    fn frames_are_checked() {
        let mut enc = G711Encoder::new(Law::A, 20);
        let mut out = Vec::new();
        assert!(enc.encode(&[0; 159], &mut out).is_err());
        assert_eq!(enc.encode(&[0; 160], &mut out), Ok(160));
        let mut dec = G711Decoder::new(Law::A, 20);
        let mut pcm = Vec::new();
        assert_eq!(dec.decode(&out, &mut pcm), Ok(160));
        assert!(pcm.iter().all(|&s| s == 8));
    }
}
