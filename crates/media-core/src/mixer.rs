//! An N-way mix-minus conference mixer: every tick each participant hears
//! the sum of everyone else, never itself.
//!
//! The mixer runs at one rate and frame duration. Each participant has its
//! own rate (8, 16, 24, 32 or 48 kHz; other rates are resampled to and from
//! the mixer's), an input gain (how loud the others hear it) and an output
//! gain (how loud it hears the others). A tick is: [`Mixer::push`] a frame
//! for each participant that has one (the others contribute silence), then
//! [`Mixer::mix`], then read each participant's frame with
//! [`Mixer::output`].
//!
//! Arithmetic is integer: gains are Q12 fixed point, the sum is a 32-bit
//! accumulator that cannot overflow within [`MAX_PARTICIPANTS`] at the
//! highest gain, and each output saturates to 16 bits.
//!
//! ```
//! use media_core::mixer::{Mixer, MixerConfig};
//!
//! let mut mixer = Mixer::new(MixerConfig { sample_rate: 8000, ptime_ms: 20 }).unwrap();
//! let a = mixer.add(8000).unwrap();
//! let b = mixer.add(8000).unwrap();
//! let c = mixer.add(8000).unwrap();
//! mixer.push(a, &[1000; 160]).unwrap();
//! mixer.push(b, &[200; 160]).unwrap();
//! mixer.mix();
//! assert_eq!(mixer.output(a).unwrap()[0], 200); // hears b, not itself
//! assert_eq!(mixer.output(b).unwrap()[0], 1000);
//! assert_eq!(mixer.output(c).unwrap()[0], 1200); // hears both
//! ```

use std::fmt;

use codec_core::resample::Resampler;

/// Most participants one mixer holds: at the highest gain the 32-bit sum
/// of this many full-scale inputs still fits.
pub const MAX_PARTICIPANTS: usize = 8192;

/// Highest gain in dB (about ×7.9).
pub const MAX_GAIN_DB: f64 = 18.0;

/// Q12 unity gain.
const UNITY: i32 = 1 << 12;

/// The mixer's rate and frame duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MixerConfig {
    /// Samples per second the mix is computed at.
    pub sample_rate: u32,
    /// Frame duration in milliseconds.
    pub ptime_ms: u32,
}

impl Default for MixerConfig {
    /// 8 kHz, 20 ms: narrowband telephony.
    fn default() -> MixerConfig {
        MixerConfig {
            sample_rate: 8000,
            ptime_ms: 20,
        }
    }
}

/// Names one participant of one mixer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId {
    index: u32,
    generation: u32,
}

/// What the mixer refused.
#[derive(Clone, Debug, PartialEq)]
pub enum MixError {
    /// A sample rate the resampler does not convert.
    Rate(u32),
    /// A frame duration that is not a whole number of samples at some rate.
    Ptime(u32),
    /// The mixer already holds [`MAX_PARTICIPANTS`].
    Full,
    /// The participant was removed, or belongs to another mixer.
    UnknownParticipant(ParticipantId),
    /// A pushed frame of the wrong length.
    FrameLength {
        /// Samples expected at the participant's rate.
        expected: usize,
        /// Samples given.
        got: usize,
    },
    /// A gain that is NaN or above [`MAX_GAIN_DB`].
    Gain(f64),
}

impl fmt::Display for MixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MixError::Rate(r) => write!(
                f,
                "unsupported sample rate {r} Hz (8, 16, 24, 32 or 48 kHz)"
            ),
            MixError::Ptime(p) => write!(f, "frame duration {p} ms is not whole samples"),
            MixError::Full => write!(f, "the mixer holds {MAX_PARTICIPANTS} participants already"),
            MixError::UnknownParticipant(id) => write!(f, "no participant {}", id.index),
            MixError::FrameLength { expected, got } => {
                write!(f, "frame of {got} samples, expected {expected}")
            }
            MixError::Gain(g) => write!(f, "gain {g} dB (at most {MAX_GAIN_DB} dB, not NaN)"),
        }
    }
}

impl std::error::Error for MixError {}

/// dB as Q12 (−∞ mutes).
fn q12(db: f64) -> Result<i32, MixError> {
    if db.is_nan() || db > MAX_GAIN_DB {
        return Err(MixError::Gain(db));
    }
    Ok((10f64.powf(db / 20.0) * f64::from(UNITY)).round() as i32)
}

struct Participant {
    generation: u32,
    /// Samples per frame at the participant's rate.
    frame: usize,
    input_gain: i32,
    output_gain: i32,
    /// Converters to and from the mix rate, when the rates differ.
    to_mix: Option<Resampler>,
    from_mix: Option<Resampler>,
    /// This tick's contribution at the mix rate, gain applied.
    contribution: Vec<i32>,
    has_input: bool,
    /// Scratch for resampling at the mix rate.
    scratch: Vec<i16>,
    /// The last mix this participant hears, at its own rate.
    out: Vec<i16>,
}

/// The mix-minus mixer; see the module documentation.
pub struct Mixer {
    rate: u32,
    ptime_ms: u32,
    frame: usize,
    slots: Vec<Option<Participant>>,
    /// The generation the next participant in each slot gets.
    generations: Vec<u32>,
    free: Vec<u32>,
    count: usize,
    sum: Vec<i32>,
}

fn check_rate(rate: u32, ptime_ms: u32) -> Result<usize, MixError> {
    if ![8000, 16000, 24000, 32000, 48000].contains(&rate) {
        return Err(MixError::Rate(rate));
    }
    let samples = u64::from(rate) * u64::from(ptime_ms);
    if ptime_ms == 0 || !samples.is_multiple_of(1000) || ptime_ms > 1000 {
        return Err(MixError::Ptime(ptime_ms));
    }
    Ok((samples / 1000) as usize)
}

impl Mixer {
    /// An empty mixer.
    pub fn new(config: MixerConfig) -> Result<Mixer, MixError> {
        let frame = check_rate(config.sample_rate, config.ptime_ms)?;
        Ok(Mixer {
            rate: config.sample_rate,
            ptime_ms: config.ptime_ms,
            frame,
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            count: 0,
            sum: vec![0; frame],
        })
    }

    /// Samples per frame at the mixer's rate.
    pub fn frame_len(&self) -> usize {
        self.frame
    }

    /// Participants in the mix.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nobody is in the mix.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a participant whose frames are at `sample_rate`, with unity
    /// gains. It hears silence until the next [`Mixer::mix`].
    pub fn add(&mut self, sample_rate: u32) -> Result<ParticipantId, MixError> {
        let frame = check_rate(sample_rate, self.ptime_ms)?;
        if self.count >= MAX_PARTICIPANTS {
            return Err(MixError::Full);
        }
        let converters = if sample_rate == self.rate {
            (None, None)
        } else {
            let up =
                Resampler::new(sample_rate, self.rate).map_err(|_| MixError::Rate(sample_rate))?;
            let down =
                Resampler::new(self.rate, sample_rate).map_err(|_| MixError::Rate(sample_rate))?;
            (Some(up), Some(down))
        };
        let index = self.free.pop().unwrap_or(self.slots.len() as u32);
        if index as usize == self.slots.len() {
            self.slots.push(None);
            self.generations.push(0);
        }
        let generation = self.generations[index as usize];
        self.slots[index as usize] = Some(Participant {
            generation,
            frame,
            input_gain: UNITY,
            output_gain: UNITY,
            to_mix: converters.0,
            from_mix: converters.1,
            contribution: vec![0; self.frame],
            has_input: false,
            scratch: Vec::with_capacity(self.frame),
            out: vec![0; frame],
        });
        self.count += 1;
        Ok(ParticipantId { index, generation })
    }

    fn get(&mut self, id: ParticipantId) -> Result<&mut Participant, MixError> {
        match self.slots.get_mut(id.index as usize) {
            Some(Some(p)) if p.generation == id.generation => Ok(p),
            _ => Err(MixError::UnknownParticipant(id)),
        }
    }

    /// Removes a participant; its id is dead from now on.
    pub fn remove(&mut self, id: ParticipantId) -> Result<(), MixError> {
        self.get(id)?;
        self.slots[id.index as usize] = None;
        self.generations[id.index as usize] = id.generation.wrapping_add(1);
        self.free.push(id.index);
        self.count -= 1;
        Ok(())
    }

    /// Sets how loud the others hear `id`, in dB (`f64::NEG_INFINITY`
    /// mutes it).
    pub fn set_input_gain(&mut self, id: ParticipantId, db: f64) -> Result<(), MixError> {
        let g = q12(db)?;
        self.get(id)?.input_gain = g;
        Ok(())
    }

    /// Sets how loud `id` hears the others, in dB (`f64::NEG_INFINITY`
    /// deafens it).
    pub fn set_output_gain(&mut self, id: ParticipantId, db: f64) -> Result<(), MixError> {
        let g = q12(db)?;
        self.get(id)?.output_gain = g;
        Ok(())
    }

    /// Gives this tick's frame of `id`: exactly one frame duration at the
    /// participant's rate. A second push in the same tick replaces the
    /// first.
    pub fn push(&mut self, id: ParticipantId, pcm: &[i16]) -> Result<(), MixError> {
        let p = self.get(id)?;
        if pcm.len() != p.frame {
            return Err(MixError::FrameLength {
                expected: p.frame,
                got: pcm.len(),
            });
        }
        let at_mix_rate = match &mut p.to_mix {
            Some(r) => {
                p.scratch.clear();
                // The length was checked, so the ratio divides evenly.
                r.process(pcm, &mut p.scratch)
                    .map_err(|_| MixError::FrameLength {
                        expected: p.frame,
                        got: pcm.len(),
                    })?;
                &p.scratch[..]
            }
            None => pcm,
        };
        let gain = p.input_gain;
        if gain == UNITY {
            for (c, &x) in p.contribution.iter_mut().zip(at_mix_rate) {
                *c = i32::from(x);
            }
        } else {
            for (c, &x) in p.contribution.iter_mut().zip(at_mix_rate) {
                *c = (i32::from(x) * gain) >> 12;
            }
        }
        p.has_input = true;
        Ok(())
    }

    /// Mixes this tick: afterwards [`Mixer::output`] gives each participant
    /// everyone else's sum, and the inputs are cleared for the next tick.
    pub fn mix(&mut self) {
        self.sum.fill(0);
        for p in self.slots.iter().flatten() {
            if p.has_input {
                for (s, &c) in self.sum.iter_mut().zip(&p.contribution) {
                    *s += c;
                }
            }
        }
        for p in self.slots.iter_mut().flatten() {
            let target = if p.from_mix.is_some() {
                p.scratch.resize(self.frame, 0);
                &mut p.scratch[..]
            } else {
                &mut p.out[..]
            };
            mix_minus(
                &self.sum,
                p.has_input.then_some(&p.contribution[..]),
                p.output_gain,
                target,
            );
            if let Some(r) = &mut p.from_mix {
                p.out.clear();
                // Frame lengths were checked when the participant joined.
                if r.process(&p.scratch, &mut p.out).is_err() {
                    p.out.resize(p.frame, 0);
                }
            }
            p.has_input = false;
        }
    }

    /// What `id` hears after the last [`Mixer::mix`], at its own rate.
    pub fn output(&self, id: ParticipantId) -> Result<&[i16], MixError> {
        match self.slots.get(id.index as usize) {
            Some(Some(p)) if p.generation == id.generation => Ok(&p.out),
            _ => Err(MixError::UnknownParticipant(id)),
        }
    }
}

/// `out = saturate(gain · (sum − own))`.
fn mix_minus(sum: &[i32], own: Option<&[i32]>, gain: i32, out: &mut [i16]) {
    let sat = |v: i64| v.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
    match (own, gain == UNITY) {
        (Some(own), true) => {
            for ((o, &s), &c) in out.iter_mut().zip(sum).zip(own) {
                *o = (s - c).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
        }
        (None, true) => {
            for (o, &s) in out.iter_mut().zip(sum) {
                *o = s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
        }
        (Some(own), false) => {
            for ((o, &s), &c) in out.iter_mut().zip(sum).zip(own) {
                *o = sat((i64::from(s - c) * i64::from(gain)) >> 12);
            }
        }
        (None, false) => {
            for (o, &s) in out.iter_mut().zip(sum) {
                *o = sat((i64::from(s) * i64::from(gain)) >> 12);
            }
        }
    }
}
