//! Levels in dBov, decibels relative to the overload point of 16-bit PCM
//! (a full-scale square wave is 0 dBov, a full-scale sine −3.01 dBov), as
//! RFC 6464 audio-level headers carry them.

/// The quietest level reported, for digital silence.
pub const FLOOR_DBOV: f64 = -127.0;

/// RMS level of `samples` in dBov (at least [`FLOOR_DBOV`]).
pub fn dbov(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return FLOOR_DBOV;
    }
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    energy_dbov(energy / samples.len() as f64)
}

/// Mean-square value (in sample units squared) as dBov.
pub fn energy_dbov(mean_square: f64) -> f64 {
    if mean_square <= 0.0 {
        return FLOOR_DBOV;
    }
    (10.0 * (mean_square / (32768.0 * 32768.0)).log10()).max(FLOOR_DBOV)
}

/// Peak level of `samples` in dBov.
pub fn peak_dbov(samples: &[i16]) -> f64 {
    let peak = samples
        .iter()
        .map(|&s| i32::from(s).abs())
        .max()
        .unwrap_or(0);
    if peak == 0 {
        FLOOR_DBOV
    } else {
        (20.0 * (f64::from(peak) / 32768.0).log10()).max(FLOOR_DBOV)
    }
}

/// A meter that smooths frame levels (integration time set by `alpha`) and
/// keeps the peak, for displays and RFC 6464 headers.
#[derive(Clone, Debug)]
pub struct LevelMeter {
    mean_square: f64,
    peak: i32,
    alpha: f64,
}

impl LevelMeter {
    /// A meter averaging over about `frames` frames.
    pub fn new(frames: u32) -> LevelMeter {
        LevelMeter {
            mean_square: 0.0,
            peak: 0,
            alpha: 1.0 / f64::from(frames.max(1)),
        }
    }

    /// Feeds one frame.
    pub fn push(&mut self, samples: &[i16]) {
        if samples.is_empty() {
            return;
        }
        let ms = samples
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>()
            / samples.len() as f64;
        self.mean_square += (ms - self.mean_square) * self.alpha;
        let peak = samples
            .iter()
            .map(|&s| i32::from(s).abs())
            .max()
            .unwrap_or(0);
        self.peak = self.peak.max(peak);
    }

    /// The smoothed RMS level.
    pub fn level(&self) -> f64 {
        energy_dbov(self.mean_square)
    }

    /// The highest peak since the last [`take_peak`](Self::take_peak), in dBov.
    pub fn take_peak(&mut self) -> f64 {
        let p = std::mem::take(&mut self.peak);
        if p == 0 {
            FLOOR_DBOV
        } else {
            20.0 * (f64::from(p) / 32768.0).log10()
        }
    }

    /// The RFC 6464 level field: −dBov rounded, 0 (loudest) to 127.
    pub fn rfc6464(&self) -> u8 {
        (-self.level()).round().clamp(0.0, 127.0) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_levels() {
        let square: Vec<i16> = (0..160)
            .map(|i| if i % 2 == 0 { 32767 } else { -32767 })
            .collect();
        assert!(dbov(&square).abs() < 0.01);
        let sine: Vec<i16> = (0..8000)
            .map(|i| {
                (32767.0 * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(i) / 8000.0).sin())
                    as i16
            })
            .collect();
        assert!((dbov(&sine) + 3.01).abs() < 0.02, "{}", dbov(&sine));
        assert!(peak_dbov(&sine).abs() < 0.01);
        assert_eq!(dbov(&[0; 160]), FLOOR_DBOV);
        let mut m = LevelMeter::new(1);
        m.push(&sine);
        assert_eq!(m.rfc6464(), 3);
    }
}
