//! Comfort noise (RFC 3389, payload `CN/8000`, static type 13): a noise
//! level byte and optional reflection coefficients of an all-pole model of
//! the background noise, sent while the speaker is silent.
//!
//! [`analyze`] turns a frame of background noise into a payload (level
//! from its power, spectrum by Levinson–Durbin on its autocorrelation);
//! [`Generator`] turns payloads back into noise with that level and shape.

use crate::{Error, Result};

/// Overload point the levels are relative to: a full-scale square wave.
const FULL_SCALE: f64 = 32767.0;

/// One CN payload.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct ComfortNoise {
    /// Noise level in -dBov, 0–127 (0 is a full-scale square wave).
    pub level: u8,
    /// Reflection coefficients in -1..1, lowest order first (may be empty).
    pub reflection: Vec<f64>,
}

/// RFC 3389 §3.2 quantizes each coefficient to 8 bits: `k = (N - 127) / 128`.
fn quantize(k: f64) -> u8 {
    (k * 128.0 + 127.0).round().clamp(0.0, 255.0) as u8
}

fn dequantize(n: u8) -> f64 {
    (f64::from(n) - 127.0) / 128.0
}

impl ComfortNoise {
    /// Parses a payload; the level's unused top bit must be zero.
    pub fn parse(payload: &[u8]) -> Result<ComfortNoise> {
        let (&level, rest) = payload
            .split_first()
            .ok_or_else(|| Error::BadPayload("empty comfort noise payload".into()))?;
        if level > 127 {
            return Err(Error::BadPayload(format!("comfort noise level {level}")));
        }
        Ok(ComfortNoise {
            level,
            reflection: rest.iter().map(|&n| dequantize(n)).collect(),
        })
    }

    /// Appends the payload.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.level.min(127));
        out.extend(self.reflection.iter().map(|&k| quantize(k)));
    }

    /// The noise power as a mean square on the 16-bit scale.
    pub fn power(&self) -> f64 {
        FULL_SCALE * FULL_SCALE * 10f64.powf(-f64::from(self.level) / 10.0)
    }
}

/// The level in -dBov of a frame, 0–127.
pub fn level_of(pcm: &[i16]) -> u8 {
    let power = pcm.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / pcm.len().max(1) as f64;
    if power <= 0.0 {
        return 127;
    }
    (-10.0 * (power / (FULL_SCALE * FULL_SCALE)).log10())
        .round()
        .clamp(0.0, 127.0) as u8
}

/// Describes a frame of background noise with a model of `order`
/// reflection coefficients (0 for level only; RFC 3389 leaves the order to
/// the sender, 10 is usual at 8 kHz).
pub fn analyze(pcm: &[i16], order: usize) -> ComfortNoise {
    let level = level_of(pcm);
    let order = order.min(pcm.len().saturating_sub(1));
    let x: Vec<f64> = pcm.iter().map(|&s| f64::from(s)).collect();
    let r: Vec<f64> = (0..=order)
        .map(|lag| x.iter().zip(&x[lag..]).map(|(a, b)| a * b).sum())
        .collect();
    let mut reflection = Vec::with_capacity(order);
    if order > 0 && r[0] > 0.0 {
        // Levinson–Durbin with a little white-noise correction for stability;
        // `a[j]` predicts from the sample j + 1 back.
        let mut a = Vec::with_capacity(order);
        let mut err = r[0] * 1.0001;
        for i in 1..=order {
            let acc: f64 = a.iter().enumerate().map(|(j, aj)| aj * r[i - 1 - j]).sum();
            let k = ((r[i] - acc) / err).clamp(-0.999, 0.999);
            push_reflection(&mut a, k);
            err *= 1.0 - k * k;
            reflection.push(k);
        }
    }
    ComfortNoise { level, reflection }
}

/// Produces comfort noise from the latest payload received.
#[derive(Clone, Debug)]
pub struct Generator {
    params: ComfortNoise,
    /// Excitation gain so the filtered output has the payload's power.
    gain: f64,
    /// Direct-form predictor coefficients and the last outputs, newest first.
    poles: Vec<f64>,
    state: Vec<f64>,
    seed: u64,
}

impl Generator {
    /// A generator seeded for its random excitation.
    pub fn new(seed: u64) -> Self {
        let mut g = Generator {
            params: ComfortNoise::default(),
            gain: 0.0,
            poles: Vec::new(),
            state: Vec::new(),
            seed: seed | 1,
        };
        g.update(ComfortNoise {
            level: 127,
            reflection: Vec::new(),
        });
        g
    }

    /// Takes the parameters of a newly received payload.
    pub fn update(&mut self, params: ComfortNoise) {
        // Prediction error power of the all-pole model: Π(1 - k²).
        let shape: f64 = params
            .reflection
            .iter()
            .map(|k| 1.0 - k.clamp(-0.999, 0.999).powi(2))
            .product();
        // Uniform excitation in [-1, 1) has power 1/3.
        self.gain = (params.power() * shape * 3.0).sqrt();
        self.poles = step_up(&params.reflection);
        self.state.resize(params.reflection.len(), 0.0);
        self.params = params;
    }

    fn noise(&mut self) -> f64 {
        // xorshift64*: cheap, and statistically white enough for noise.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        let r = self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Appends `samples` samples of noise.
    pub fn generate(&mut self, samples: usize, out: &mut Vec<i16>) {
        out.reserve(samples);
        for _ in 0..samples {
            // All-pole synthesis: y[n] = e[n] + Σ a_j·y[n-j].
            let mut y = self.noise() * self.gain;
            for (a, past) in self.poles.iter().zip(&self.state) {
                y += a * past;
            }
            if !self.state.is_empty() {
                self.state.rotate_right(1);
                self.state[0] = y;
            }
            out.push(y.round().clamp(-32768.0, 32767.0) as i16);
        }
    }
}

/// Direct-form predictor coefficients from reflection coefficients (the
/// Levinson step-up recursion).
fn step_up(reflection: &[f64]) -> Vec<f64> {
    let mut a = Vec::with_capacity(reflection.len());
    for &k in reflection {
        push_reflection(&mut a, k.clamp(-0.999, 0.999));
    }
    a
}

/// One step-up: the predictor of order `a.len() + 1` from order `a.len()`
/// and the next reflection coefficient, in place (pairs from both ends).
fn push_reflection(a: &mut Vec<f64>, k: f64) {
    let n = a.len();
    for j in 0..n / 2 {
        let (lo, hi) = (a[j], a[n - 1 - j]);
        a[j] = lo - k * hi;
        a[n - 1 - j] = hi - k * lo;
    }
    if n % 2 == 1 {
        a[n / 2] -= k * a[n / 2];
    }
    a.push(k);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_pole_noise(a: f64, len: usize, amplitude: f64) -> Vec<i16> {
        let mut g = Generator::new(7);
        g.update(ComfortNoise {
            level: 0,
            reflection: Vec::new(),
        });
        let mut white = Vec::new();
        g.generate(len, &mut white);
        let mut y = 0.0;
        white
            .iter()
            .map(|&w| {
                y = a * y + f64::from(w) / 32767.0 * amplitude;
                y.round() as i16
            })
            .collect()
    }

    #[test]
    fn payload_round_trip() {
        let cn = ComfortNoise {
            level: 60,
            reflection: vec![0.5, -0.25, 0.0],
        };
        let mut out = Vec::new();
        cn.write(&mut out);
        assert_eq!(out, [60, 191, 95, 127]);
        assert_eq!(ComfortNoise::parse(&out), Ok(cn));
        assert!(ComfortNoise::parse(&[]).is_err());
        assert!(ComfortNoise::parse(&[200]).is_err());
        // Level only (the RFC 1890 draft form) is valid.
        assert_eq!(
            ComfortNoise::parse(&[40]).map(|c| c.reflection.len()),
            Ok(0)
        );
    }

    #[test]
    fn levels_in_dbov() {
        let square: Vec<i16> = (0..160)
            .map(|n| if n % 2 == 0 { 32767 } else { -32767 })
            .collect();
        assert_eq!(level_of(&square), 0);
        assert_eq!(level_of(&[0; 160]), 127);
        // A full-scale sine is 3 dB below the square wave.
        let sine = crate::signal::tones(8000, 8000, &[(1000.0, 32767.0)]);
        assert_eq!(level_of(&sine), 3);
    }

    #[test]
    fn generated_noise_has_the_analyzed_level_and_shape() {
        // Low-pass noise: strong positive correlation between neighbours.
        let noise = one_pole_noise(0.8, 8000, 2000.0);
        let cn = analyze(&noise, 10);
        assert!(cn.reflection[0] > 0.6, "k1 {}", cn.reflection[0]);
        let mut payload = Vec::new();
        cn.write(&mut payload);
        let mut g = Generator::new(99);
        g.update(ComfortNoise::parse(&payload).expect("payload"));
        let mut out = Vec::new();
        g.generate(8000, &mut out);
        assert!(
            (i32::from(level_of(&out)) - i32::from(cn.level)).abs() <= 1,
            "level {} vs {}",
            level_of(&out),
            cn.level
        );
        let again = analyze(&out, 1);
        assert!(
            (again.reflection[0] - cn.reflection[0]).abs() < 0.1,
            "k1 {} vs {}",
            again.reflection[0],
            cn.reflection[0]
        );
    }
}
