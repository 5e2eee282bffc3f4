//! DTMF detection, from RFC 4733 telephone-events and in band.
//!
//! Both detectors report [`DigitEvent`]s: a `Begin` once the digit is
//! certain and an `End` with its duration, in timestamp units (RTP
//! timestamp units for RFC 4733, samples for in-band audio).
//!
//! [`Rfc4733Receiver`] turns telephone-event packets into digits: one
//! digit per event timestamp however many updates and end-bit
//! retransmissions arrive, with lost first or last packets tolerated.
//!
//! [`DtmfDetector`] finds digits in audio with Goertzel-style correlation
//! over 13.25 ms blocks at the eight DTMF frequencies, and applies the
//! ITU-T Q.24 acceptance tests: each tone within its frequency tolerance
//! (measured from the phase advance across the block, so a tone 3.5% off
//! is refused even when its energy falls in the right bin), both tones
//! above a minimum level and within the twist limits, each clearly the
//! strongest of its group, together most of the signal's energy (speech
//! spreads its energy over many harmonics), steady across the block, for
//! at least two consecutive blocks (so 40 ms tones are always accepted and
//! 20 ms ones never). A one-block drop-out does not split a digit.

use std::collections::VecDeque;
use std::f64::consts::PI;
use std::time::{Duration, Instant};

use codec_core::telephone_event::TelephoneEvent;

use crate::tones::{DTMF_HIGH, DTMF_KEYS, DTMF_LOW, dbm0_amplitude};

/// Whether a digit started or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigitEventKind {
    /// The digit is being pressed.
    Begin,
    /// The digit was released.
    End,
}

/// A detected digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DigitEvent {
    /// `0`–`9`, `*`, `#`, `A`–`D` (and `!` for an RFC 4733 flash).
    pub digit: char,
    /// Begin or end.
    pub kind: DigitEventKind,
    /// When the digit started, in timestamp units.
    pub timestamp: u32,
    /// How long it lasted, in timestamp units (on `End`; on `Begin`, as far
    /// as known).
    pub duration: u32,
}

/// The event being received.
#[derive(Clone, Debug)]
struct Current {
    timestamp: u32,
    digit: char,
    duration: u32,
    last_update: Instant,
}

/// Receives RFC 4733 telephone-event payloads (sans-IO: time is passed in).
#[derive(Clone, Debug)]
pub struct Rfc4733Receiver {
    current: Option<Current>,
    /// Timestamps of recently ended events: later packets for them are
    /// end-bit retransmissions or stragglers.
    ended: VecDeque<u32>,
    timeout: Duration,
    events: VecDeque<DigitEvent>,
}

impl Default for Rfc4733Receiver {
    fn default() -> Rfc4733Receiver {
        Rfc4733Receiver::new(Duration::from_millis(500))
    }
}

impl Rfc4733Receiver {
    /// A receiver that ends an event on its own when no packet for it has
    /// come for `timeout` (all its end packets lost).
    pub fn new(timeout: Duration) -> Rfc4733Receiver {
        Rfc4733Receiver {
            current: None,
            ended: VecDeque::with_capacity(16),
            timeout,
            events: VecDeque::new(),
        }
    }

    /// Handles one telephone-event payload carried with RTP timestamp
    /// `timestamp`. Payloads that are not 4 bytes (or a multiple: the
    /// first event counts) are refused; events that are not DTMF digits
    /// or flash (codes above 16) are ignored.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), codec_core::Error> {
        if payload.len() > TelephoneEvent::LEN && payload.len().is_multiple_of(TelephoneEvent::LEN)
        {
            // Several events back to back: the first counts.
            return self.handle_packet(now, timestamp, &payload[..TelephoneEvent::LEN]);
        }
        let ev = TelephoneEvent::parse(payload)?;
        let Some(digit) = ev.digit() else {
            return Ok(());
        };
        if self.ended.contains(&timestamp) {
            return Ok(());
        }
        if let Some(cur) = &mut self.current {
            if cur.timestamp == timestamp {
                cur.duration = cur.duration.max(u32::from(ev.duration));
                cur.last_update = now;
                if ev.end {
                    self.finish();
                }
                return Ok(());
            }
            if (timestamp.wrapping_sub(cur.timestamp) as i32) < 0 {
                // A straggler from before the current event.
                return Ok(());
            }
            // A new event while the last never ended: its end was lost.
            self.finish();
        }
        self.current = Some(Current {
            timestamp,
            digit,
            duration: u32::from(ev.duration),
            last_update: now,
        });
        self.events.push_back(DigitEvent {
            digit,
            kind: DigitEventKind::Begin,
            timestamp,
            duration: u32::from(ev.duration),
        });
        if ev.end {
            self.finish();
        }
        Ok(())
    }

    fn finish(&mut self) {
        if let Some(cur) = self.current.take() {
            if self.ended.len() == 16 {
                self.ended.pop_front();
            }
            self.ended.push_back(cur.timestamp);
            self.events.push_back(DigitEvent {
                digit: cur.digit,
                kind: DigitEventKind::End,
                timestamp: cur.timestamp,
                duration: cur.duration,
            });
        }
    }

    /// When [`Rfc4733Receiver::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current.as_ref().map(|c| c.last_update + self.timeout)
    }

    /// Ends an event whose packets stopped coming.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.finish();
        }
    }

    /// The next digit event.
    pub fn poll_event(&mut self) -> Option<DigitEvent> {
        self.events.pop_front()
    }
}

/// The Q.24 acceptance limits of a [`DtmfDetector`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DtmfDetectorConfig {
    /// Samples per second of the audio.
    pub sample_rate: u32,
    /// Weakest tone accepted, dBm0 per frequency.
    pub min_level_dbm0: f64,
    /// How far the high-group tone may be above the low-group one, dB.
    pub max_normal_twist_db: f64,
    /// How far the low-group tone may be above the high-group one, dB.
    pub max_reverse_twist_db: f64,
    /// Largest frequency deviation accepted, as a fraction (Q.24: accept
    /// ±1.5%, refuse ±3.5%; the boundary sits between).
    pub max_deviation: f64,
}

impl Default for DtmfDetectorConfig {
    /// 8 kHz; −30 dBm0; twist +8/−4 dB; 2.5% deviation.
    fn default() -> DtmfDetectorConfig {
        DtmfDetectorConfig {
            sample_rate: 8000,
            min_level_dbm0: -30.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 4.0,
            max_deviation: 0.025,
        }
    }
}

/// Correlators for one frequency over one block: the complex exponential
/// per sample, the first and second half summed separately.
#[derive(Clone, Debug)]
struct Probe {
    hz: f64,
    cos: Vec<f32>,
    sin: Vec<f32>,
    /// The same with each half under a Hann window, whose low side lobes
    /// keep the other group's tone out of the phase and balance
    /// measurements.
    half_cos: Vec<f32>,
    half_sin: Vec<f32>,
}

/// A complex correlation.
type Complex = [f64; 2];

fn correlate(block: &[f32], cos: &[f32], sin: &[f32], r: std::ops::Range<usize>) -> Complex {
    let (mut re, mut im) = (0f32, 0f32);
    for i in r {
        re += block[i] * cos[i];
        im -= block[i] * sin[i];
    }
    [f64::from(re), f64::from(im)]
}

impl Probe {
    fn new(hz: f64, rate: u32, n: usize) -> Probe {
        let w = 2.0 * PI * hz / f64::from(rate);
        let half = n / 2;
        let hann =
            |k: usize, len: usize| 0.5 - 0.5 * (2.0 * PI * (k as f64 + 0.5) / len as f64).cos();
        let table = |window: &dyn Fn(usize) -> f64, f: fn(f64) -> f64| -> Vec<f32> {
            (0..n)
                .map(|i| (window(i) * f(w * i as f64)) as f32)
                .collect()
        };
        Probe {
            hz,
            cos: table(&|_| 1.0, f64::cos),
            sin: table(&|_| 1.0, f64::sin),
            half_cos: table(&|i| hann(i % half, half), f64::cos),
            half_sin: table(&|i| hann(i % half, half), f64::sin),
        }
    }

    /// Mean-square power of the component over the block (unwindowed: a
    /// sine of amplitude A gives |X| = A·N/2, mean square A²/2).
    fn power(&self, block: &[f32]) -> f64 {
        let n = block.len() as f64;
        let x = correlate(block, &self.cos, &self.sin, 0..block.len());
        2.0 * (x[0] * x[0] + x[1] * x[1]) / (n * n)
    }

    /// (balance, deviation) from the windowed halves: the second half's
    /// energy over the first's, and the frequency deviation as a fraction
    /// of the nominal (the phase advance from the first half to the
    /// second is the offset times N/2 samples).
    fn halves(&self, block: &[f32], rate: u32) -> (f64, f64) {
        let half = block.len() / 2;
        let a = correlate(block, &self.half_cos, &self.half_sin, 0..half);
        let b = correlate(block, &self.half_cos, &self.half_sin, half..block.len());
        let energy = |c: Complex| c[0] * c[0] + c[1] * c[1];
        let advance = (b[1] * a[0] - b[0] * a[1]).atan2(b[0] * a[0] + b[1] * a[1]);
        (
            energy(b) / energy(a).max(1e-9),
            advance / (PI * block.len() as f64) * f64::from(rate) / self.hz,
        )
    }
}

/// In-band DTMF detector; see the module documentation.
#[derive(Clone, Debug)]
pub struct DtmfDetector {
    config: DtmfDetectorConfig,
    block_len: usize,
    low: Vec<Probe>,
    high: Vec<Probe>,
    block: Vec<f32>,
    /// Samples consumed before the current block.
    position: u64,
    /// The digit of the last blocks and how many in a row.
    candidate: Option<char>,
    run: u32,
    /// Where the run started.
    run_start: u64,
    /// The digit being reported, its start, and the end of its last block.
    active: Option<(char, u64, u64)>,
    misses: u32,
    events: VecDeque<DigitEvent>,
}

impl DtmfDetector {
    /// A detector; blocks are 13.25 ms (106 samples at 8 kHz).
    pub fn new(config: DtmfDetectorConfig) -> DtmfDetector {
        let block_len = ((f64::from(config.sample_rate) * 0.01325).round() as usize).max(2) & !1;
        let probes = |freqs: &[f64]| -> Vec<Probe> {
            freqs
                .iter()
                .map(|&f| Probe::new(f, config.sample_rate, block_len))
                .collect()
        };
        DtmfDetector {
            config,
            block_len,
            low: probes(&DTMF_LOW),
            high: probes(&DTMF_HIGH),
            block: Vec::with_capacity(block_len),
            position: 0,
            candidate: None,
            run: 0,
            run_start: 0,
            active: None,
            misses: 0,
            events: VecDeque::new(),
        }
    }

    /// Feeds audio in chunks of any length.
    pub fn process(&mut self, pcm: &[i16]) {
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (self.block_len - self.block.len()).min(rest.len());
            self.block
                .extend(rest[..take].iter().map(|&s| f32::from(s)));
            rest = &rest[take..];
            if self.block.len() == self.block_len {
                let digit = self.classify();
                self.step(digit);
                self.block.clear();
                self.position += self.block_len as u64;
            }
        }
    }

    /// The next digit event.
    pub fn poll_event(&mut self) -> Option<DigitEvent> {
        self.events.pop_front()
    }

    /// The digit this block holds, if it passes every test.
    fn classify(&self) -> Option<char> {
        let n = self.block_len as f64;
        let rate = self.config.sample_rate;
        let total: f64 = self
            .block
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            / n;
        let min_power = dbm0_amplitude(self.config.min_level_dbm0).powi(2) / 2.0;
        if total < min_power {
            return None;
        }
        let strongest = |probes: &[Probe]| -> (usize, f64, f64) {
            let powers: [f64; 4] = std::array::from_fn(|i| probes[i].power(&self.block));
            let best = (0..powers.len()).fold(0, |b, i| if powers[i] > powers[b] { i } else { b });
            let second = (0..powers.len())
                .filter(|&i| i != best)
                .map(|i| powers[i])
                .fold(0.0, f64::max);
            (best, powers[best], second)
        };
        let (row, low, low_second) = strongest(&self.low);
        let (col, high, high_second) = strongest(&self.high);
        let db = |x: f64, y: f64| 10.0 * (x / y.max(1e-9)).log10();
        let twist = db(high, low);
        let basic = low >= min_power
            && high >= min_power
            && twist <= self.config.max_normal_twist_db
            && -twist <= self.config.max_reverse_twist_db
            // Each tone stands out of its group.
            && db(low, low_second) >= 8.0
            && db(high, high_second) >= 8.0
            // The pair is most of the signal.
            && (low + high) >= 0.6 * total;
        if !basic {
            return None;
        }
        let (low_balance, low_deviation) = self.low[row].halves(&self.block, rate);
        let (high_balance, high_deviation) = self.high[col].halves(&self.block, rate);
        let ok =
            // Both tones last the whole block (a tone starting or stopping
            // inside it is not counted, which keeps the duration honest).
            (0.5..=2.0).contains(&low_balance)
            && (0.5..=2.0).contains(&high_balance)
            && low_deviation.abs() <= self.config.max_deviation
            && high_deviation.abs() <= self.config.max_deviation;
        ok.then_some(DTMF_KEYS[row][col])
    }

    fn step(&mut self, digit: Option<char>) {
        if digit.is_some() && digit == self.candidate {
            self.run += 1;
        } else {
            self.candidate = digit;
            self.run = u32::from(digit.is_some());
            self.run_start = self.position;
        }
        let block_end = self.position + self.block_len as u64;
        match self.active {
            Some((d, start, _)) if digit == Some(d) => {
                self.active = Some((d, start, block_end));
                self.misses = 0;
            }
            Some((d, start, end)) => {
                // One bad block is a drop-out; two end the digit.
                self.misses += 1;
                if self.misses >= 2 {
                    self.events.push_back(DigitEvent {
                        digit: d,
                        kind: DigitEventKind::End,
                        timestamp: start as u32,
                        duration: (end - start) as u32,
                    });
                    self.active = None;
                    self.misses = 0;
                }
            }
            None => {}
        }
        if self.active.is_none()
            && self.run >= 2
            && let Some(d) = self.candidate
        {
            self.active = Some((d, self.run_start, block_end));
            self.misses = 0;
            self.events.push_back(DigitEvent {
                digit: d,
                kind: DigitEventKind::Begin,
                timestamp: self.run_start as u32,
                duration: (block_end - self.run_start) as u32,
            });
        }
    }
}
