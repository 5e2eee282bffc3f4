//! The audio frame passed between codecs, mixers and detectors.

use std::time::Duration;

/// Interleaved 16-bit PCM with its rate and channel count.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AudioFrame {
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Channels (interleaved).
    pub channels: u8,
    /// The samples, `channels` per instant.
    pub samples: Vec<i16>,
}

impl AudioFrame {
    /// A mono frame.
    pub fn mono(sample_rate: u32, samples: Vec<i16>) -> AudioFrame {
        AudioFrame {
            sample_rate,
            channels: 1,
            samples,
        }
    }

    /// Sampling instants in the frame.
    pub fn len(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// Whether the frame holds no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// How long the frame plays.
    pub fn duration(&self) -> Duration {
        if self.sample_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.len() as u64 * 1_000_000_000 / u64::from(self.sample_rate))
    }

    /// The frame mixed down to mono (channels averaged).
    pub fn to_mono(&self) -> AudioFrame {
        let ch = usize::from(self.channels.max(1));
        if ch == 1 {
            return self.clone();
        }
        let samples = self
            .samples
            .chunks_exact(ch)
            .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / ch as i32) as i16)
            .collect();
        AudioFrame::mono(self.sample_rate, samples)
    }
}
