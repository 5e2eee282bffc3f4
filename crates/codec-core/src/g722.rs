//! G.722 (ITU-T G.722, 2012) at 64 kbit/s: 16 kHz audio split by a
//! 24-tap QMF into two 8 kHz sub-bands, the lower coded with 6-bit and the
//! upper with 2-bit adaptive differential PCM; one byte per two samples.
//!
//! The block names in the comments (`INVQAL`, `LOGSCL`, `UPPOL2`...) are the
//! Recommendation's. In SDP G.722 is `G722/8000` with payload type 9: the RTP
//! clock runs at 8 kHz although the audio is sampled at 16 kHz (RFC 3551
//! §4.5.2). 16-bit samples go in and come out; the QMF keeps one extra bit
//! of headroom in the sub-band signals.

use crate::{CodecInfo, Decoder, Encoder, Error, Result};

/// QMF coefficients (G.722 Table 11), used mirrored.
const QMF: [i32; 12] = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];

/// Lower-band quantizer decision levels (Table 12), scaled by 8.
const Q6: [i32; 30] = [
    0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940,
    1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
];
/// Lower-band codes for negative and positive differences, by interval.
const ILN: [u8; 31] = [
    0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11,
    10, 9, 8, 7, 6, 5, 4,
];
const ILP: [u8; 31] = [
    0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39,
    38, 37, 36, 35, 34, 33, 32,
];
/// 6-bit inverse quantizer output levels (Table 14).
const QM6: [i32; 64] = [
    -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776,
    -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280,
    11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776,
    2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
/// 4-bit inverse quantizer output levels (Table 16), used for prediction.
const QM4: [i32; 16] = [
    0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584,
    1200, 0,
];
/// Lower-band log scale factor multipliers (Table 17) by magnitude code.
const WL: [i32; 8] = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42: [usize; 16] = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
/// Inverse log table for the scale factor (Table 18).
const ILB: [i32; 32] = [
    2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
    2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
];
/// Higher band: decision level 564 (scaled), codes, inverse quantizer,
/// log scale factor multipliers.
const IHN: [u8; 3] = [0, 1, 0];
const IHP: [u8; 3] = [0, 3, 2];
const QM2: [i32; 4] = [-7408, -1616, 7408, 1616];
const WH: [i32; 3] = [0, -214, 798];
const RH2: [usize; 4] = [2, 1, 2, 1];

#[inline]
fn sat16(x: i32) -> i32 {
    x.clamp(-32768, 32767)
}

/// The adaptive predictor and scale factor of one sub-band (blocks 3 and 4).
#[derive(Clone, Debug, Default)]
struct Band {
    /// Signal estimate, its pole and zero parts.
    s: i32,
    sp: i32,
    sz: i32,
    /// Reconstructed signal, partial reconstruction, quantized differences.
    r: [i32; 3],
    p: [i32; 3],
    d: [i32; 7],
    /// Pole and zero predictor coefficients (and their updates).
    a: [i32; 3],
    ap: [i32; 3],
    b: [i32; 7],
    bp: [i32; 7],
    /// Log scale factor and scale factor.
    nb: i32,
    det: i32,
}

impl Band {
    fn new(det: i32) -> Band {
        Band {
            det,
            ..Band::default()
        }
    }

    /// LOGSCL/SCALEL (lower band: `limit` 18432, `shift` 8) and
    /// LOGSCH/SCALEH (higher band: 22528, 10).
    fn adapt_scale(&mut self, w: i32, limit: i32, shift: i32) {
        self.nb = (((self.nb * 127) >> 7) + w).clamp(0, limit);
        let wd1 = ((self.nb >> 6) & 31) as usize;
        let wd2 = shift - (self.nb >> 11);
        let wd3 = if wd2 < 0 {
            ILB[wd1] << -wd2
        } else {
            ILB[wd1] >> wd2
        };
        self.det = wd3 << 2;
    }

    /// Block 4: reconstruction and predictor adaptation for difference `d`.
    fn update(&mut self, d: i32) {
        // RECONS, PARREC
        self.d[0] = d;
        self.r[0] = sat16(self.s + d);
        self.p[0] = sat16(self.sz + d);
        let sign = |x: i32| x >> 15;
        // UPPOL2
        let sg0 = sign(self.p[0]);
        let sg1 = sign(self.p[1]);
        let sg2 = sign(self.p[2]);
        let wd1 = sat16(self.a[1] << 2);
        let wd2 = (if sg0 == sg1 { -wd1 } else { wd1 }).min(32767);
        let mut wd3 = if sg0 == sg2 { 128 } else { -128 };
        wd3 += wd2 >> 7;
        wd3 += (self.a[2] * 32512) >> 15;
        self.ap[2] = wd3.clamp(-12288, 12288);
        // UPPOL1
        let wd1 = if sg0 == sg1 { 192 } else { -192 };
        let wd2 = (self.a[1] * 32640) >> 15;
        let limit = sat16(15360 - self.ap[2]);
        self.ap[1] = sat16(wd1 + wd2).clamp(-limit, limit);
        // UPZERO
        let step = if d == 0 { 0 } else { 128 };
        let sgd = sign(d);
        for i in 1..7 {
            let wd2 = if sign(self.d[i]) == sgd { step } else { -step };
            let wd3 = (self.b[i] * 32640) >> 15;
            self.bp[i] = sat16(wd2 + wd3);
        }
        // DELAYA
        for i in (1..7).rev() {
            self.d[i] = self.d[i - 1];
            self.b[i] = self.bp[i];
        }
        for i in (1..3).rev() {
            self.r[i] = self.r[i - 1];
            self.p[i] = self.p[i - 1];
            self.a[i] = self.ap[i];
        }
        // FILTEP, FILTEZ, PREDIC
        let wd1 = (self.a[1] * sat16(self.r[1] + self.r[1])) >> 15;
        let wd2 = (self.a[2] * sat16(self.r[2] + self.r[2])) >> 15;
        self.sp = sat16(wd1 + wd2);
        let mut sz = 0;
        for i in (1..7).rev() {
            sz += (self.b[i] * sat16(self.d[i] + self.d[i])) >> 15;
        }
        self.sz = sat16(sz);
        self.s = sat16(self.sp + self.sz);
    }
}

/// The codec description for frames of `ptime_ms`.
pub fn info(ptime_ms: u32) -> CodecInfo {
    CodecInfo {
        name: "G722",
        static_payload_type: Some(9),
        clock_rate: 8000,
        sample_rate: 16000,
        channels: 1,
        ptime_ms,
    }
}

/// The G.722 encoder (64 kbit/s mode).
#[derive(Clone, Debug)]
pub struct G722Encoder {
    info: CodecInfo,
    /// QMF input history, oldest first.
    x: [i32; 24],
    low: Band,
    high: Band,
}

impl G722Encoder {
    /// An encoder for frames of `ptime_ms` milliseconds (16 samples per ms).
    pub fn new(ptime_ms: u32) -> Self {
        G722Encoder {
            info: info(ptime_ms),
            x: [0; 24],
            low: Band::new(32),
            high: Band::new(8),
        }
    }

    /// Encodes two 16 kHz samples into one G.722 byte.
    pub fn encode_pair(&mut self, x0: i16, x1: i16) -> u8 {
        // Transmit QMF.
        self.x.copy_within(2.., 0);
        self.x[22] = i32::from(x0);
        self.x[23] = i32::from(x1);
        let (mut odd, mut even) = (0i32, 0i32);
        for i in 0..12 {
            odd += self.x[2 * i] * QMF[i];
            even += self.x[2 * i + 1] * QMF[11 - i];
        }
        let xlow = (even + odd) >> 14;
        let xhigh = (even - odd) >> 14;

        // Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL.
        let low = &mut self.low;
        let el = sat16(xlow - low.s);
        let wd = if el >= 0 { el } else { -(el + 1) };
        let mut i = 1;
        while i < 30 && wd >= (Q6[i] * low.det) >> 12 {
            i += 1;
        }
        let ilow = if el < 0 { ILN[i] } else { ILP[i] };
        let ril = usize::from(ilow >> 2);
        let dlow = (low.det * QM4[ril]) >> 15;
        low.adapt_scale(WL[RL42[ril]], 18432, 8);
        low.update(dlow);

        // Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH.
        let high = &mut self.high;
        let eh = sat16(xhigh - high.s);
        let wd = if eh >= 0 { eh } else { -(eh + 1) };
        let mih = if wd >= (564 * high.det) >> 12 { 2 } else { 1 };
        let ihigh = if eh < 0 { IHN[mih] } else { IHP[mih] };
        let dhigh = (high.det * QM2[usize::from(ihigh)]) >> 15;
        high.adapt_scale(WH[RH2[usize::from(ihigh)]], 22528, 10);
        high.update(dhigh);

        (ihigh << 6) | ilow
    }
}

impl Encoder for G722Encoder {
    fn info(&self) -> CodecInfo {
        self.info
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<usize> {
        self.info.check_frame(pcm)?;
        out.reserve(pcm.len() / 2);
        for pair in pcm.chunks_exact(2) {
            let code = self.encode_pair(pair[0], pair[1]);
            out.push(code);
        }
        Ok(pcm.len() / 2)
    }
}

/// The G.722 decoder (64 kbit/s mode).
#[derive(Clone, Debug)]
pub struct G722Decoder {
    info: CodecInfo,
    /// QMF output history, oldest first.
    x: [i32; 24],
    low: Band,
    high: Band,
}

impl G722Decoder {
    /// A decoder whose nominal frame is `ptime_ms` milliseconds.
    pub fn new(ptime_ms: u32) -> Self {
        G722Decoder {
            info: info(ptime_ms),
            x: [0; 24],
            low: Band::new(32),
            high: Band::new(8),
        }
    }

    /// Decodes one G.722 byte into two 16 kHz samples.
    pub fn decode_byte(&mut self, code: u8) -> [i16; 2] {
        let ilow = usize::from(code & 0x3F);
        let ihigh = usize::from(code >> 6);

        // Lower band: INVQBL (6-bit reconstruction), INVQAL (4-bit for the
        // predictor), LOGSCL, SCALEL.
        let low = &mut self.low;
        let rlow = (low.s + ((low.det * QM6[ilow]) >> 15)).clamp(-16384, 16383);
        let ril = ilow >> 2;
        let dlow = (low.det * QM4[ril]) >> 15;
        low.adapt_scale(WL[RL42[ril]], 18432, 8);
        low.update(dlow);

        // Higher band: INVQAH, LOGSCH, SCALEH.
        let high = &mut self.high;
        let dhigh = (high.det * QM2[ihigh]) >> 15;
        let rhigh = (dhigh + high.s).clamp(-16384, 16383);
        high.adapt_scale(WH[RH2[ihigh]], 22528, 10);
        high.update(dhigh);

        // Receive QMF.
        self.x.copy_within(2.., 0);
        self.x[22] = rlow + rhigh;
        self.x[23] = rlow - rhigh;
        let (mut out1, mut out2) = (0i32, 0i32);
        for i in 0..12 {
            out2 += self.x[2 * i] * QMF[i];
            out1 += self.x[2 * i + 1] * QMF[11 - i];
        }
        [sat16(out1 >> 11) as i16, sat16(out2 >> 11) as i16]
    }
}

impl Decoder for G722Decoder {
    fn info(&self) -> CodecInfo {
        self.info
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize> {
        if payload.is_empty() {
            return Err(Error::BadPayload("empty G.722 payload".into()));
        }
        out.reserve(payload.len() * 2);
        for &code in payload {
            out.extend(self.decode_byte(code));
        }
        Ok(payload.len() * 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{aligned_snr_db, tones};

    fn round_trip(pcm: &[i16]) -> Vec<i16> {
        let mut enc = G722Encoder::new(20);
        let mut dec = G722Decoder::new(20);
        let mut bytes = Vec::new();
        let mut out = Vec::new();
        for frame in pcm.chunks_exact(320) {
            enc.encode(frame, &mut bytes).expect("frame");
        }
        dec.decode(&bytes, &mut out).expect("payload");
        out
    }

    #[test]
    fn speech_band_tones_survive_with_high_snr() {
        let pcm = tones(
            16000,
            16000,
            &[(440.0, 6000.0), (1250.0, 4000.0), (3100.0, 2000.0)],
        );
        let out = round_trip(&pcm);
        // The QMF pair delays by 22 samples.
        let (snr, lag) = aligned_snr_db(&pcm[..15000], &out, 40);
        assert_eq!(lag, 22);
        assert!(snr > 25.0, "snr {snr:.1} dB");
    }

    #[test]
    fn upper_band_is_coded_too() {
        // 6 kHz is only in the upper sub-band.
        let pcm = tones(16000, 16000, &[(6000.0, 8000.0)]);
        let out = round_trip(&pcm);
        let (snr, _) = aligned_snr_db(&pcm[..15000], &out, 40);
        assert!(snr > 10.0, "snr {snr:.1} dB");
    }

    #[test]
    fn silence_stays_quiet_and_full_scale_does_not_overflow() {
        let out = round_trip(&[0; 3200]);
        assert!(out.iter().all(|&s| s.abs() < 16));
        let square: Vec<i16> = (0..3200)
            .map(|n| if n / 20 % 2 == 0 { i16::MAX } else { i16::MIN })
            .collect();
        let out = round_trip(&square);
        assert_eq!(out.len(), 3200);
    }

    #[test]
    fn frame_sizes() {
        let mut enc = G722Encoder::new(20);
        let mut bytes = Vec::new();
        assert!(enc.encode(&[0; 160], &mut bytes).is_err());
        assert_eq!(enc.encode(&[0; 320], &mut bytes), Ok(160));
        assert_eq!(enc.info().frame_ticks(), 160);
        let mut dec = G722Decoder::new(20);
        assert!(dec.decode(&[], &mut Vec::new()).is_err());
    }
}
