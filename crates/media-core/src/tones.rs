//! Tone generation: DTMF digits and the call-progress tones (dial,
//! ringback, busy, congestion) with each country's frequencies and
//! cadence, as ITU-T E.180 Supplement 2 lists them.
//!
//! A tone is a [`ToneSpec`]: a cadence of segments, each a set of
//! frequencies (or silence) played for a number of milliseconds; the
//! cadence repeats, and a segment without a duration plays for ever. Specs
//! parse from the common text notation:
//!
//! ```text
//! 350+440                          two frequencies summed, continuous
//! 480+620/500,0/500                on 500 ms, off 500 ms, repeated
//! 400+450/400,0/200,400+450/400,0/2000   double ring
//! 400*25                           400 Hz amplitude-modulated by 25 Hz
//! ```
//!
//! Levels are in dBm0 per frequency, with 0 dBm0 a sine 3.17 dB below a
//! full-scale one (the G.711 µ-law digital milliwatt).
//!
//! ```
//! use media_core::tones::{CallProgress, ToneGenerator, tone_plan};
//!
//! let busy = tone_plan("de").unwrap().tone(CallProgress::Busy);
//! assert_eq!(busy.to_string(), "425/480,0/480");
//! let mut generator = ToneGenerator::new(&busy, 8000, -10.0);
//! let mut frame = [0i16; 160];
//! generator.fill(&mut frame);
//! ```

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// The linear peak amplitude of a sine at `dbm0`.
pub fn dbm0_amplitude(dbm0: f64) -> f64 {
    32768.0 * 10f64.powf((dbm0 - 3.17) / 20.0)
}

/// What one segment of a cadence sounds like.
#[derive(Clone, Debug, PartialEq)]
pub enum Sound {
    /// Nothing.
    Silence,
    /// These frequencies (Hz) summed, each at the tone's level.
    Sum(Vec<f64>),
    /// `carrier` Hz amplitude-modulated (fully) by `modulator` Hz.
    Modulated {
        /// The audible frequency.
        carrier: f64,
        /// The modulating frequency.
        modulator: f64,
    },
}

/// One step of a cadence.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// What plays.
    pub sound: Sound,
    /// For how long, in milliseconds; `None` plays for ever.
    pub duration_ms: Option<u32>,
}

/// A tone: segments played in order, the whole repeated.
#[derive(Clone, Debug, PartialEq)]
pub struct ToneSpec {
    /// The cadence, at least one segment; only the last may be endless.
    pub segments: Vec<Segment>,
}

/// A tone spec that does not parse, naming the offending part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToneSpecError(String);

impl fmt::Display for ToneSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad tone spec: {}", self.0)
    }
}

impl std::error::Error for ToneSpecError {}

fn parse_hz(s: &str, whole: &str) -> Result<f64, ToneSpecError> {
    match s.trim().parse::<f64>() {
        Ok(hz) if hz > 0.0 && hz <= 20_000.0 => Ok(hz),
        _ => Err(ToneSpecError(format!(
            "frequency {s:?} in {whole:?} (1 to 20000 Hz)"
        ))),
    }
}

impl FromStr for ToneSpec {
    type Err = ToneSpecError;

    fn from_str(s: &str) -> Result<ToneSpec, ToneSpecError> {
        let mut segments = Vec::new();
        for part in s.split(',') {
            if segments
                .last()
                .is_some_and(|seg: &Segment| seg.duration_ms.is_none())
            {
                return Err(ToneSpecError(format!(
                    "{part:?} follows an endless segment in {s:?}"
                )));
            }
            let (sound, duration) = match part.split_once('/') {
                Some((sound, ms)) => (sound.trim(), Some(ms.trim())),
                None => (part.trim(), None),
            };
            let duration_ms = match duration {
                None => None,
                Some(ms) => match ms.parse::<u32>() {
                    Ok(ms) if ms > 0 => Some(ms),
                    _ => {
                        return Err(ToneSpecError(format!(
                            "duration {ms:?} in {part:?} (milliseconds, more than 0)"
                        )));
                    }
                },
            };
            let sound = if sound == "0" {
                Sound::Silence
            } else if let Some((carrier, modulator)) = sound.split_once('*') {
                Sound::Modulated {
                    carrier: parse_hz(carrier, part)?,
                    modulator: parse_hz(modulator, part)?,
                }
            } else {
                Sound::Sum(
                    sound
                        .split('+')
                        .map(|f| parse_hz(f, part))
                        .collect::<Result<_, _>>()?,
                )
            };
            segments.push(Segment { sound, duration_ms });
        }
        Ok(ToneSpec { segments })
    }
}

impl fmt::Display for ToneSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &seg.sound {
                Sound::Silence => f.write_str("0")?,
                Sound::Sum(freqs) => {
                    for (j, hz) in freqs.iter().enumerate() {
                        if j > 0 {
                            f.write_str("+")?;
                        }
                        write!(f, "{hz}")?;
                    }
                }
                Sound::Modulated { carrier, modulator } => write!(f, "{carrier}*{modulator}")?,
            }
            if let Some(ms) = seg.duration_ms {
                write!(f, "/{ms}")?;
            }
        }
        Ok(())
    }
}

/// The DTMF keypad: rows (low group) and columns (high group), Hz.
pub const DTMF_LOW: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// The DTMF high-group frequencies, Hz.
pub const DTMF_HIGH: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// The keypad, row by row.
pub const DTMF_KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The (low, high) frequencies of a DTMF digit (`0`–`9`, `*`, `#`, `A`–`D`
/// in either case).
pub fn dtmf_frequencies(digit: char) -> Option<(f64, f64)> {
    let d = digit.to_ascii_uppercase();
    DTMF_KEYS.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|&k| k == d)
            .map(|c| (DTMF_LOW[r], DTMF_HIGH[c]))
    })
}

/// The call-progress tones a country defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallProgress {
    /// The line is ready for dialling.
    Dial,
    /// The called party is being alerted.
    Ringback,
    /// The called party is busy.
    Busy,
    /// The network cannot complete the call (reorder, fast busy).
    Congestion,
}

/// One country's call-progress tones.
#[derive(Clone, Debug, PartialEq)]
pub struct TonePlan {
    /// ISO 3166 code (lower case), or `itu` for E.180's recommendation.
    pub country: &'static str,
    dial: ToneSpec,
    ringback: ToneSpec,
    busy: ToneSpec,
    congestion: ToneSpec,
}

impl TonePlan {
    /// The spec of one tone.
    pub fn tone(&self, which: CallProgress) -> ToneSpec {
        match which {
            CallProgress::Dial => self.dial.clone(),
            CallProgress::Ringback => self.ringback.clone(),
            CallProgress::Busy => self.busy.clone(),
            CallProgress::Congestion => self.congestion.clone(),
        }
    }
}

/// Country, dial, ringback, busy, congestion.
const PLANS: &[[&str; 5]] = &[
    [
        "itu",
        "425",
        "425/1000,0/4000",
        "425/500,0/500",
        "425/250,0/250",
    ],
    [
        "au",
        "413+438",
        "413+438/400,0/200,413+438/400,0/2000",
        "425/375,0/375",
        "425/375,0/375",
    ],
    [
        "br",
        "425",
        "425/1000,0/4000",
        "425/250,0/250",
        "425/250,0/250,425/750,0/250",
    ],
    [
        "ca",
        "350+440",
        "440+480/2000,0/4000",
        "480+620/500,0/500",
        "480+620/250,0/250",
    ],
    [
        "cn",
        "450",
        "450/1000,0/4000",
        "450/350,0/350",
        "450/700,0/700",
    ],
    [
        "de",
        "425",
        "425/1000,0/4000",
        "425/480,0/480",
        "425/240,0/240",
    ],
    [
        "es",
        "425",
        "425/1500,0/3000",
        "425/200,0/200",
        "425/200,0/200,425/200,0/200,425/200,0/600",
    ],
    [
        "fr",
        "440",
        "440/1500,0/3500",
        "440/500,0/500",
        "440/250,0/250",
    ],
    [
        "gb",
        "350+440",
        "400+450/400,0/200,400+450/400,0/2000",
        "400/375,0/375",
        "400/400,0/350,400/225,0/525",
    ],
    [
        "in",
        "400*25",
        "400*25/400,0/200,400*25/400,0/2000",
        "400/750,0/750",
        "400/250,0/250",
    ],
    [
        "it",
        "425/200,0/200,425/600,0/1000",
        "425/1000,0/4000",
        "425/500,0/500",
        "425/200,0/200",
    ],
    [
        "jp",
        "400",
        "400*16/1000,0/2000",
        "400/500,0/500",
        "400/500,0/500",
    ],
    [
        "nl",
        "425",
        "425/1000,0/4000",
        "425/500,0/500",
        "425/250,0/250",
    ],
    [
        "us",
        "350+440",
        "440+480/2000,0/4000",
        "480+620/500,0/500",
        "480+620/250,0/250",
    ],
];

/// The countries [`tone_plan`] knows.
pub fn tone_plan_countries() -> impl Iterator<Item = &'static str> {
    PLANS.iter().map(|p| p[0])
}

/// The tones of a country by ISO 3166 code (`uk` is taken for `gb`), or
/// of `itu` for the E.180 recommendation.
pub fn tone_plan(country: &str) -> Option<TonePlan> {
    let code = country.to_ascii_lowercase();
    let code = if code == "uk" { "gb".to_owned() } else { code };
    let row = PLANS.iter().find(|p| p[0] == code)?;
    let spec = |s: &str| ToneSpec::from_str(s).ok();
    Some(TonePlan {
        country: row[0],
        dial: spec(row[1])?,
        ringback: spec(row[2])?,
        busy: spec(row[3])?,
        congestion: spec(row[4])?,
    })
}

/// A sine oscillator: a unit phasor rotated one sample at a time.
#[derive(Clone, Debug)]
struct Oscillator {
    re: f64,
    im: f64,
    step_re: f64,
    step_im: f64,
}

impl Oscillator {
    fn new(hz: f64, rate: u32) -> Oscillator {
        let w = 2.0 * PI * hz / f64::from(rate);
        Oscillator {
            re: 1.0,
            im: 0.0,
            step_re: w.cos(),
            step_im: w.sin(),
        }
    }

    /// The current sine value, then one step on.
    fn next(&mut self) -> f64 {
        let v = self.im;
        let (re, im) = (
            self.re * self.step_re - self.im * self.step_im,
            self.re * self.step_im + self.im * self.step_re,
        );
        self.re = re;
        self.im = im;
        v
    }

    /// Pulls the phasor back onto the unit circle (rounding drift).
    fn renormalize(&mut self) {
        let norm = (self.re * self.re + self.im * self.im).sqrt();
        if norm > 0.0 {
            self.re /= norm;
            self.im /= norm;
        }
    }
}

/// One segment ready to play.
#[derive(Clone, Debug)]
struct Playing {
    /// Oscillators with their amplitudes; a modulated segment has the
    /// carrier then the modulator.
    oscs: Vec<(Oscillator, f64)>,
    modulated: bool,
    /// Length in samples; `None`: endless.
    len: Option<u64>,
}

/// Plays a [`ToneSpec`] as PCM, frame after frame with no seams.
#[derive(Clone, Debug)]
pub struct ToneGenerator {
    segments: Vec<Playing>,
    index: usize,
    /// Samples already played of the current segment.
    played: u64,
}

impl ToneGenerator {
    /// A generator for `spec` at `sample_rate`, each frequency at
    /// `level_dbm0`.
    pub fn new(spec: &ToneSpec, sample_rate: u32, level_dbm0: f64) -> ToneGenerator {
        let amplitude = dbm0_amplitude(level_dbm0);
        let segments = spec
            .segments
            .iter()
            .map(|seg| {
                let (oscs, modulated) = match &seg.sound {
                    Sound::Silence => (Vec::new(), false),
                    Sound::Sum(freqs) => (
                        freqs
                            .iter()
                            .map(|&hz| (Oscillator::new(hz, sample_rate), amplitude))
                            .collect(),
                        false,
                    ),
                    Sound::Modulated { carrier, modulator } => (
                        vec![
                            (Oscillator::new(*carrier, sample_rate), amplitude),
                            (Oscillator::new(*modulator, sample_rate), 1.0),
                        ],
                        true,
                    ),
                };
                let len = seg
                    .duration_ms
                    .map(|ms| (u64::from(ms) * u64::from(sample_rate) / 1000).max(1));
                Playing {
                    oscs,
                    modulated,
                    len,
                }
            })
            .collect();
        ToneGenerator {
            segments,
            index: 0,
            played: 0,
        }
    }

    /// A generator for one DTMF digit, played continuously, with the low
    /// and high group at their own levels (the high group is usually 2 dB
    /// above the low). `None` for a character that is not a digit.
    pub fn dtmf(
        digit: char,
        sample_rate: u32,
        low_dbm0: f64,
        high_dbm0: f64,
    ) -> Option<ToneGenerator> {
        let (low, high) = dtmf_frequencies(digit)?;
        Some(ToneGenerator {
            segments: vec![Playing {
                oscs: vec![
                    (Oscillator::new(low, sample_rate), dbm0_amplitude(low_dbm0)),
                    (
                        Oscillator::new(high, sample_rate),
                        dbm0_amplitude(high_dbm0),
                    ),
                ],
                modulated: false,
                len: None,
            }],
            index: 0,
            played: 0,
        })
    }

    /// Writes the next `out.len()` samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        let mut pos = 0;
        while pos < out.len() {
            let Some(Playing {
                oscs,
                modulated,
                len,
            }) = self.segments.get_mut(self.index)
            else {
                out[pos..].fill(0);
                return;
            };
            let n = match len {
                Some(len) => ((*len - self.played) as usize).min(out.len() - pos),
                None => out.len() - pos,
            };
            for o in &mut out[pos..pos + n] {
                let v = if *modulated {
                    let (carrier, amp) = &mut oscs[0];
                    let c = carrier.next() * *amp;
                    // Full modulation: the envelope swings 0..1.
                    c * (1.0 + oscs[1].0.next()) / 2.0
                } else {
                    oscs.iter_mut().map(|(osc, amp)| osc.next() * *amp).sum()
                };
                *o = v.round().clamp(-32768.0, 32767.0) as i16;
            }
            for (osc, _) in oscs.iter_mut() {
                osc.renormalize();
            }
            pos += n;
            self.played += n as u64;
            if len.is_some_and(|len| self.played >= len) {
                self.played = 0;
                self.index = (self.index + 1) % self.segments.len();
            }
        }
    }

    /// `samples` samples of the tone in a new vector.
    pub fn take(&mut self, samples: usize) -> Vec<i16> {
        let mut out = vec![0; samples];
        self.fill(&mut out);
        out
    }
}
