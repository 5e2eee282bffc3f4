//! Test signals and measures shared by the codec checks: sums of sines and
//! the signal-to-noise ratio of a decoded signal against its source.

use std::f64::consts::PI;

/// `len` samples at `rate` Hz of a sum of sines, each `(hz, amplitude)` on
/// the 16-bit scale, rounded and saturated.
pub fn tones(rate: u32, len: usize, parts: &[(f64, f64)]) -> Vec<i16> {
    (0..len)
        .map(|n| {
            let t = n as f64 / f64::from(rate);
            let v: f64 = parts
                .iter()
                .map(|(hz, amp)| amp * (2.0 * PI * hz * t).sin())
                .sum();
            v.round().clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// Signal-to-noise ratio in dB of `got` against `want` over their common
/// length (very large when they are equal).
pub fn snr_db(want: &[i16], got: &[i16]) -> f64 {
    let (mut s, mut n) = (0f64, 0f64);
    for (a, b) in want.iter().zip(got) {
        s += f64::from(*a).powi(2);
        n += (f64::from(*a) - f64::from(*b)).powi(2);
    }
    10.0 * (s / n.max(1e-9)).log10()
}

/// The best SNR of `got` against `want` over lags `0..=max_lag` samples of
/// `got` (codecs with look-ahead delay their output); returns (dB, lag).
pub fn aligned_snr_db(want: &[i16], got: &[i16], max_lag: usize) -> (f64, usize) {
    (0..=max_lag.min(got.len()))
        .map(|lag| (snr_db(want, &got[lag..]), lag))
        .fold((f64::MIN, 0), |best, x| if x.0 > best.0 { x } else { best })
}

/// Root-mean-square level of `pcm`.
pub fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    let sum: f64 = pcm.iter().map(|&x| f64::from(x).powi(2)).sum();
    (sum / pcm.len() as f64).sqrt()
}

/// The level in dB (relative to a full-scale sine) of the component of
/// `pcm` at `hz`, by the Goertzel algorithm over the whole block.
pub fn tone_level_db(pcm: &[i16], rate: u32, hz: f64) -> f64 {
    let w = 2.0 * PI * hz / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &x in pcm {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    // A sine of amplitude A over N samples gives power (A·N/2)².
    let amplitude = 2.0 * power.max(0.0).sqrt() / pcm.len().max(1) as f64;
    20.0 * (amplitude / 32767.0).max(1e-12).log10()
}
