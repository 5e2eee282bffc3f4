//! Packet loss concealment for codecs without their own (G.711, G.722),
//! after the method of ITU-T G.711 Appendix I: repeat the last pitch
//! period, blend every seam by overlap-add, and fade out.
//!
//! - The output runs 3.75 ms behind the input, so the last quarter pitch
//!   period before a loss can still be blended into the synthetic signal.
//! - On a loss the pitch period (5 to 15 ms) is found by normalised
//!   cross-correlation over the last 20 ms, and the last period is
//!   repeated. After 10 ms of loss the last two periods are cycled, after
//!   20 ms the last three, which keeps long losses from buzzing.
//! - From 10 ms on the synthetic signal is attenuated by 20% per 10 ms, so
//!   it is silent 60 ms into the loss.
//! - The first good frame after a loss is cross-faded with the synthetic
//!   signal's continuation over a quarter period plus 4 ms for every 10 ms
//!   lost beyond the first (at most 10 ms).
//!
//! Rates are 8 kHz (the Appendix's) or 16 kHz (every length doubled).
//!
//! ```
//! use media_core::plc::Plc;
//!
//! let mut plc = Plc::new(8000).unwrap();
//! let mut out = Vec::new();
//! plc.good(&[100; 160], &mut out);
//! plc.lost(160, &mut out);
//! assert_eq!(out.len(), 320);
//! ```

use std::fmt;

/// The rate [`Plc::new`] cannot conceal at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedRate(pub u32);

impl fmt::Display for UnsupportedRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no packet loss concealment at {} Hz (8000 or 16000)",
            self.0
        )
    }
}

impl std::error::Error for UnsupportedRate {}

/// The concealment in progress.
#[derive(Clone, Debug)]
struct Loss {
    /// The pitch period in samples.
    pitch: usize,
    /// The blend length at seams: a quarter period.
    overlap: usize,
    /// The last three periods and an overlap before them, as they were
    /// when the loss began.
    source: Vec<f32>,
    /// Periods being cycled (1 to 3), and the read position in that cycle.
    periods: usize,
    pos: usize,
    /// Samples concealed so far.
    done: usize,
}

/// Conceals lost frames of one stream; see the module documentation.
#[derive(Clone, Debug)]
pub struct Plc {
    /// Lengths at this rate: 10 ms, the output delay, the pitch range and
    /// the correlation window.
    ms10: usize,
    delay: usize,
    min_pitch: usize,
    max_pitch: usize,
    corr_len: usize,
    /// The signal so far (real or synthetic), newest last; the last
    /// `delay` samples are not yet output.
    history: Vec<f32>,
    loss: Option<Loss>,
}

impl Plc {
    /// A concealer for a stream at `sample_rate` (8000 or 16000).
    pub fn new(sample_rate: u32) -> Result<Plc, UnsupportedRate> {
        let scale = match sample_rate {
            8000 => 1,
            16000 => 2,
            other => return Err(UnsupportedRate(other)),
        };
        let max_pitch = 120 * scale;
        Ok(Plc {
            ms10: 80 * scale,
            delay: max_pitch / 4,
            min_pitch: 40 * scale,
            max_pitch,
            corr_len: 160 * scale,
            // Three periods and an overlap: 48.75 ms.
            history: vec![0.0; 3 * max_pitch + max_pitch / 4],
            loss: None,
        })
    }

    /// Samples the output lags the input by (3.75 ms).
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// The pitch period of the loss being concealed, in samples.
    pub fn pitch(&self) -> Option<usize> {
        self.loss.as_ref().map(|l| l.pitch)
    }

    /// Takes a received frame and appends as many samples of output.
    pub fn good(&mut self, frame: &[i16], out: &mut Vec<i16>) {
        let start = self.history.len();
        self.history.extend(frame.iter().map(|&s| f32::from(s)));
        if let Some(mut loss) = self.loss.take() {
            // Cross-fade from the synthetic signal into the real one.
            let lost_10ms = loss.done.div_ceil(self.ms10);
            let len = (loss.overlap + lost_10ms.saturating_sub(1) * self.ms10 * 2 / 5)
                .min(self.ms10)
                .min(frame.len());
            for i in 0..len {
                let w = (i + 1) as f32 / (len + 1) as f32;
                let synthetic = synthesize(self.ms10, &mut loss);
                let s = &mut self.history[start + i];
                *s = *s * w + synthetic * (1.0 - w);
            }
        }
        self.emit(frame.len(), out);
    }

    /// Conceals `samples` lost samples, appending as many of output.
    pub fn lost(&mut self, samples: usize, out: &mut Vec<i16>) {
        let mut loss = match self.loss.take() {
            Some(loss) => loss,
            None => self.begin_loss(),
        };
        let ms10 = self.ms10;
        self.history
            .extend((0..samples).map(|_| synthesize(ms10, &mut loss)));
        self.loss = Some(loss);
        self.emit(samples, out);
    }

    /// Outputs the `n` samples that the newest `n` pushed out of the delay,
    /// and trims the history.
    fn emit(&mut self, n: usize, out: &mut Vec<i16>) {
        let end = self.history.len() - self.delay;
        out.extend(
            self.history[end - n..end]
                .iter()
                .map(|&s| s.round().clamp(-32768.0, 32767.0) as i16),
        );
        let keep = 3 * self.max_pitch + self.max_pitch / 4;
        if self.history.len() > keep {
            let cut = self.history.len() - keep;
            self.history.drain(..cut);
        }
    }

    /// Finds the pitch, keeps the periods to repeat, and blends the
    /// not-yet-output tail of the history into the repetition.
    fn begin_loss(&mut self) -> Loss {
        let pitch = self.find_pitch();
        let overlap = (pitch / 4).max(1);
        let n = self.history.len();
        let source = self.history[n - 3 * pitch - overlap..].to_vec();
        // The repetition starts one period back; blend the last quarter
        // period towards what preceded that point, so the jump back is
        // seamless.
        for i in 0..overlap {
            let w = (i + 1) as f32 / (overlap + 1) as f32;
            let k = n - overlap + i;
            self.history[k] = self.history[k] * (1.0 - w) + self.history[k - pitch] * w;
        }
        Loss {
            pitch,
            overlap,
            source,
            periods: 1,
            pos: 0,
            done: 0,
        }
    }

    /// The period in [min_pitch, max_pitch] whose lag best correlates the
    /// last `corr_len` samples with the history before them.
    fn find_pitch(&self) -> usize {
        let h = &self.history;
        let end = h.len();
        let recent = &h[end - self.corr_len..];
        let mut best = (self.min_pitch, f64::MIN);
        for lag in self.min_pitch..=self.max_pitch {
            let past = &h[end - self.corr_len - lag..end - lag];
            let (mut cross, mut energy) = (0f64, 0f64);
            for (a, b) in recent.iter().zip(past) {
                cross += f64::from(*a) * f64::from(*b);
                energy += f64::from(*b) * f64::from(*b);
            }
            // Normalised by the lagged window's energy: cross / sqrt(energy).
            let score = if energy > 0.0 {
                cross / energy.sqrt()
            } else {
                0.0
            };
            if score > best.1 {
                best = (lag, score);
            }
        }
        best.0
    }
}

/// The next synthetic sample of `loss` (`ms10`: samples in 10 ms).
fn synthesize(ms10: usize, loss: &mut Loss) -> f32 {
    let n = loss.source.len();
    // From 10 ms and 20 ms into the loss, cycle over two and three
    // periods: continuing at the same source sample keeps the switch
    // seamless, once no seam blend is under way.
    let want = (1 + loss.done / ms10).min(3);
    if want > loss.periods && loss.periods * loss.pitch - loss.pos > loss.overlap {
        loss.pos += (want - loss.periods) * loss.pitch;
        loss.periods = want;
    }
    let len = loss.periods * loss.pitch;
    let at = n - len + loss.pos;
    let mut v = loss.source[at];
    // Approaching the end of the cycle, blend towards what precedes its
    // start, where the cycle jumps back to.
    let to_end = len - loss.pos;
    if to_end <= loss.overlap {
        let w = (loss.overlap - to_end + 1) as f32 / (loss.overlap + 1) as f32;
        v = v * (1.0 - w) + loss.source[at - len] * w;
    }
    loss.pos = (loss.pos + 1) % len;
    // Full level for 10 ms, then 20% less per 10 ms: silent at 60 ms.
    let gain = if loss.done < ms10 {
        1.0
    } else {
        (1.0 - 0.2 * (loss.done - ms10) as f32 / ms10 as f32).max(0.0)
    };
    loss.done += 1;
    v * gain
}
