//! Sample-rate conversion between telephony rates (8, 16, 24, 32 and
//! 48 kHz): a polyphase windowed-sinc FIR for the ratio `L/M` in lowest
//! terms, streaming frame by frame with its history kept between calls.
//!
//! The low-pass cuts at 45% of the lower rate (3.6 kHz between 8 and
//! 48 kHz) with a Blackman window, whose stopband is about 74 dB down; the
//! group delay is [`Resampler::delay`] output samples.

use crate::{Error, Result};

/// Taps per polyphase branch: sets the transition band width.
const TAPS_PER_PHASE: usize = 32;

/// Converts mono PCM from one rate to another.
#[derive(Clone, Debug)]
pub struct Resampler {
    from: u32,
    to: u32,
    up: usize,
    down: usize,
    /// Filter taps at the up-sampled rate, gain `up` folded in.
    taps: Vec<f32>,
    /// The last inputs, oldest first, then the current frame.
    buf: Vec<f32>,
    /// How many past inputs the filter reaches back.
    history: usize,
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Resampler {
    /// A converter from `from` Hz to `to` Hz. Both must be one of 8000,
    /// 16000, 24000, 32000, 48000.
    pub fn new(from: u32, to: u32) -> Result<Self> {
        const RATES: [u32; 5] = [8000, 16000, 24000, 32000, 48000];
        if !RATES.contains(&from) || !RATES.contains(&to) {
            return Err(Error::Unsupported(format!(
                "resampling {from} Hz to {to} Hz (8, 16, 24, 32 or 48 kHz)"
            )));
        }
        let g = gcd(from, to);
        let (up, down) = ((to / g) as usize, (from / g) as usize);
        let len = TAPS_PER_PHASE * up.max(down) + 1;
        // Cut-off as a fraction of the up-sampled rate.
        let cutoff = 0.45 * f64::from(from.min(to)) / (f64::from(from) * up as f64);
        let mid = (len - 1) as f64 / 2.0;
        let taps: Vec<f32> = (0..len)
            .map(|n| {
                let t = n as f64 - mid;
                let sinc = if t == 0.0 {
                    2.0 * cutoff
                } else {
                    (2.0 * std::f64::consts::PI * cutoff * t).sin() / (std::f64::consts::PI * t)
                };
                let w = 2.0 * std::f64::consts::PI * n as f64 / (len - 1) as f64;
                let window = 0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos();
                (sinc * window * up as f64) as f32
            })
            .collect();
        let history = len.div_ceil(up);
        Ok(Resampler {
            from,
            to,
            up,
            down,
            taps,
            buf: vec![0.0; history],
            history,
        })
    }

    /// Input rate.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Output rate.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// Output samples the filter delays the signal by.
    pub fn delay(&self) -> usize {
        (self.taps.len() - 1) / 2 / self.down
    }

    /// Output samples produced for `input` samples.
    pub fn output_len(&self, input: usize) -> usize {
        input * self.up / self.down
    }

    /// Converts one frame, appending the output. The frame length times
    /// `to / gcd` must be a multiple of `from / gcd` (any whole number of
    /// milliseconds works at these rates).
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) -> Result<usize> {
        if !(input.len() * self.up).is_multiple_of(self.down) {
            return Err(Error::BadFrame(format!(
                "{} samples do not resample evenly from {} to {} Hz",
                input.len(),
                self.from,
                self.to
            )));
        }
        // `buf` holds exactly the `history` last inputs between calls.
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        let n_out = self.output_len(input.len());
        out.reserve(n_out);
        let base = self.history as isize;
        for m in 0..n_out {
            // Output m sits at up-sampled time t = m·down (time 0 is the
            // frame's first input); taps j with t - j ≡ 0 (mod up) touch
            // input (t - j) / up.
            let t = m * self.down;
            let mut acc = 0f32;
            let mut j = t % self.up;
            while j < self.taps.len() {
                let idx = base + (t as isize - j as isize) / self.up as isize;
                acc += self.taps[j] * self.buf[idx as usize];
                j += self.up;
            }
            out.push(acc.round().clamp(-32768.0, 32767.0) as i16);
        }
        // Keep the last `history` inputs for the next frame.
        let keep = self.buf.len() - self.history;
        self.buf.drain(..keep);
        Ok(n_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{rms, tones};

    fn run(from: u32, to: u32, pcm: &[i16]) -> Vec<i16> {
        let mut r = Resampler::new(from, to).expect("rates");
        let mut out = Vec::new();
        for frame in pcm.chunks(from as usize / 50) {
            r.process(frame, &mut out).expect("frame");
        }
        out
    }

    #[test]
    fn a_tone_keeps_its_frequency_and_level_in_every_direction() {
        for (from, to) in [
            (8000, 16000),
            (8000, 48000),
            (16000, 48000),
            (48000, 8000),
            (16000, 8000),
            (48000, 16000),
        ] {
            let pcm = tones(from, from as usize, &[(1000.0, 10000.0)]);
            let out = run(from, to, &pcm);
            assert_eq!(out.len(), to as usize);
            let r = Resampler::new(from, to).expect("rates");
            let want = tones(to, to as usize, &[(1000.0, 10000.0)]);
            let d = r.delay();
            // Skip the onset, where the filter still sees the silence before.
            let snr = crate::signal::snr_db(&want[3 * d..to as usize - 2 * d], &out[4 * d..]);
            assert!(snr > 40.0, "{from}->{to}: snr {snr:.1} dB (delay {d})");
        }
    }

    #[test]
    fn downsampling_removes_what_the_lower_rate_cannot_carry() {
        // 6 kHz cannot exist at 8 kHz: it must not alias to 2 kHz.
        let pcm = tones(48000, 48000, &[(6000.0, 20000.0)]);
        let out = run(48000, 8000, &pcm);
        let level = rms(&out[200..]) / (20000.0 / 2f64.sqrt());
        assert!(
            20.0 * level.log10() < -60.0,
            "alias at {:.1} dB",
            20.0 * level.log10()
        );
    }

    #[test]
    fn bad_rates_and_frames_are_refused() {
        assert!(Resampler::new(44100, 48000).is_err());
        let mut r = Resampler::new(48000, 8000).expect("rates");
        assert!(r.process(&[0; 7], &mut Vec::new()).is_err());
        assert_eq!(r.process(&[0; 480], &mut Vec::new()), Ok(80));
    }
}
