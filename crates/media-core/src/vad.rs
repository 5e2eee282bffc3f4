//! Energy-based voice activity detection: a frame is active when its level
//! stands `threshold_db` above the noise floor (the quietest frame of the
//! last `noise_window` frames, so stationary noise of any level is learned
//! within that window while pauses between words keep the floor down) and
//! above an absolute minimum. Onsets need `attack` active frames; a
//! `hangover` keeps the decision up through short gaps.

use std::collections::VecDeque;

use crate::level::dbov;

/// Tuning of a [`Vad`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VadConfig {
    /// dB above the noise floor that counts as voice.
    pub threshold_db: f64,
    /// Levels below this (dBov) are never voice.
    pub min_level: f64,
    /// Frames of history the noise floor is the minimum of.
    pub noise_window: usize,
    /// Consecutive active frames before speech starts.
    pub attack: u32,
    /// Frames speech is held after the last active frame.
    pub hangover: u32,
}

impl Default for VadConfig {
    /// Values for 20 ms frames: 9 dB, −55 dBov, 1.5 s, 40 ms, 200 ms.
    fn default() -> VadConfig {
        VadConfig {
            threshold_db: 9.0,
            min_level: -55.0,
            noise_window: 75,
            attack: 2,
            hangover: 10,
        }
    }
}

/// Voice activity state of one stream.
#[derive(Clone, Debug)]
pub struct Vad {
    config: VadConfig,
    levels: VecDeque<f64>,
    run: u32,
    hang: u32,
    speech: bool,
}

impl Vad {
    /// A detector that starts in silence.
    pub fn new(config: VadConfig) -> Vad {
        Vad {
            config,
            levels: VecDeque::with_capacity(config.noise_window),
            run: 0,
            hang: 0,
            speech: false,
        }
    }

    /// The current noise floor in dBov.
    pub fn noise_floor(&self) -> f64 {
        self.levels
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(0.0)
    }

    /// Feeds one frame; returns whether speech is active after it.
    pub fn process(&mut self, samples: &[i16]) -> bool {
        let level = dbov(samples);
        if self.levels.len() == self.config.noise_window.max(1) {
            self.levels.pop_front();
        }
        self.levels.push_back(level);
        let active =
            level > self.noise_floor() + self.config.threshold_db && level > self.config.min_level;
        if active {
            self.run += 1;
            if self.run >= self.config.attack {
                self.speech = true;
                self.hang = self.config.hangover;
            }
        } else {
            self.run = 0;
            if self.hang > 0 {
                self.hang -= 1;
            } else {
                self.speech = false;
            }
        }
        self.speech
    }

    /// Whether speech is active.
    pub fn is_speech(&self) -> bool {
        self.speech
    }
}
