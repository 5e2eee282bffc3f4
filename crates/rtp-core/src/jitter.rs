//! An adaptive jitter buffer, sans-IO: packets are pushed as they arrive
//! and frames are pulled at their playout time, both with `now` passed in.
//!
//! Packets are reordered by extended sequence number; duplicates and
//! packets whose playout time has passed are dropped and counted. The
//! playout delay follows the measured delay variation: each packet's
//! transit time (arrival minus RTP timestamp) is kept over a sliding
//! window, and the target delay is the spread between the lowest transit
//! and its 95th percentile, within `[min_delay, max_delay]`. The delay
//! grows at once when packets start arriving late. It shrinks at the start
//! of a talkspurt (marker bit), where a jump is inaudible, and during
//! continuous speech by discarding one frame at a time, at most one per
//! `window` frames.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rtp_core::jitter::{JitterBuffer, JitterConfig, Playout};
//!
//! let t0 = Instant::now();
//! let mut jb = JitterBuffer::new(8000, JitterConfig::default());
//! jb.push(t0, 2, 160, false, "second");
//! jb.push(t0, 1, 0, true, "first");
//! let due = jb.poll_timeout().unwrap();
//! assert!(matches!(jb.pop(due), Some(Playout::Frame { payload: "first", .. })));
//! assert!(matches!(jb.pop(due + Duration::from_millis(20)), Some(Playout::Frame { payload: "second", .. })));
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// Tuning of a [`JitterBuffer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JitterConfig {
    /// Smallest playout delay (beyond the fastest packet's transit).
    pub min_delay: Duration,
    /// Largest playout delay.
    pub max_delay: Duration,
    /// Delay used until enough packets have been measured.
    pub initial_delay: Duration,
    /// Packets the buffer holds at most; a packet beyond is dropped.
    pub capacity: usize,
    /// Packets of transit history the delay estimate looks at.
    pub window: usize,
}

impl Default for JitterConfig {
    fn default() -> JitterConfig {
        JitterConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(400),
            initial_delay: Duration::from_millis(60),
            capacity: 256,
            window: 250,
        }
    }
}

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pushed {
    /// Buffered for playout.
    Accepted,
    /// The same sequence number is buffered or was played.
    Duplicate,
    /// Its playout time has passed (it was played as lost).
    Late,
    /// The buffer is full.
    Overflow,
    /// The sequence number jumped so far that the stream restarted; the
    /// buffer was flushed and this packet starts it again.
    Restarted,
}

/// One frame of playout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Playout<T> {
    /// A received packet, due now.
    Frame {
        /// RTP sequence number.
        sequence: u16,
        /// RTP timestamp.
        timestamp: u32,
        /// The payload pushed.
        payload: T,
    },
    /// The packet with this sequence number did not arrive in time: play a
    /// concealment frame.
    Lost {
        /// RTP sequence number of the missing packet.
        sequence: u16,
    },
}

/// Counters of a [`JitterBuffer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets pushed.
    pub received: u64,
    /// Frames played from packets.
    pub played: u64,
    /// Frames played as lost.
    pub lost: u64,
    /// Packets dropped because their time had passed.
    pub late: u64,
    /// Packets dropped as duplicates.
    pub duplicates: u64,
    /// Packets dropped because the buffer was full.
    pub overflow: u64,
    /// Packets discarded to shrink the delay during continuous speech.
    pub discarded: u64,
    /// Stream restarts.
    pub restarts: u64,
    /// The current target playout delay.
    pub target_delay: Duration,
}

struct Entry<T> {
    timestamp: i64,
    payload: T,
}

/// A jitter buffer for one RTP source.
pub struct JitterBuffer<T> {
    clock_rate: u32,
    config: JitterConfig,
    packets: BTreeMap<u64, Entry<T>>,
    /// Arrival clock origin.
    epoch: Option<Instant>,
    /// Highest extended sequence number and timestamp seen.
    top_seq: u64,
    top_ts: i64,
    /// Next sequence number to play and the timestamp it should carry.
    next_seq: Option<u64>,
    /// Played sequence numbers just behind `next_seq` (bit n = next - 1 - n).
    played: u64,
    /// Whether a frame has been played since the last (re)start.
    started: bool,
    /// Transit times (µs) of recent packets, oldest first.
    transits: VecDeque<i64>,
    /// Room to order `transits` in for the percentile, kept between uses.
    scratch: Vec<i64>,
    /// Playout time of timestamp 0, in µs since `epoch`.
    offset: Option<i64>,
    /// Timestamp ticks per packet, as last measured.
    frame_ticks: i64,
    /// Frames played since the delay last shrank.
    since_shrink: usize,
    stats: JitterStats,
}

const RESTART_GAP: u64 = 3000;

impl<T> JitterBuffer<T> {
    /// An empty buffer for a stream on an RTP clock of `clock_rate` Hz.
    pub fn new(clock_rate: u32, config: JitterConfig) -> Self {
        JitterBuffer {
            clock_rate: clock_rate.max(1),
            config,
            packets: BTreeMap::new(),
            epoch: None,
            top_seq: 0,
            top_ts: 0,
            next_seq: None,
            played: 0,
            started: false,
            transits: VecDeque::with_capacity(config.window),
            scratch: Vec::with_capacity(config.window),
            offset: None,
            frame_ticks: i64::from(clock_rate / 50),
            since_shrink: 0,
            stats: JitterStats {
                target_delay: config.initial_delay,
                ..JitterStats::default()
            },
        }
    }

    /// The counters and the current target delay.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether no packet is waiting.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    fn micros(&self, now: Instant) -> i64 {
        self.epoch
            .map_or(0, |e| now.saturating_duration_since(e).as_micros() as i64)
    }

    fn ticks_to_micros(&self, ticks: i64) -> i64 {
        ticks * 1_000_000 / i64::from(self.clock_rate)
    }

    /// The extension of `seq` nearest the highest seen.
    fn extend_seq(&self, seq: u16) -> u64 {
        let delta = i64::from(seq.wrapping_sub(self.top_seq as u16) as i16);
        (self.top_seq as i64 + delta).max(0) as u64
    }

    fn extend_ts(&self, ts: u32) -> i64 {
        self.top_ts + i64::from(ts.wrapping_sub(self.top_ts as u32) as i32)
    }

    fn reset(&mut self, seq: u16, ts: u32) {
        self.packets.clear();
        self.top_seq = 1 << 32 | u64::from(seq);
        self.top_ts = 1 << 40 | i64::from(ts);
        self.next_seq = None;
        self.played = 0;
        self.started = false;
        self.transits.clear();
        self.offset = None;
    }

    fn target_delay(&mut self) -> Duration {
        let n = self.transits.len();
        if n < 10 {
            return self.config.initial_delay;
        }
        let sorted = &mut self.scratch;
        sorted.clear();
        sorted.extend(self.transits.iter().copied());
        let p95 = *sorted.select_nth_unstable((n * 95).div_ceil(100) - 1).1;
        let min = sorted.iter().copied().min().unwrap_or(p95);
        let spread = Duration::from_micros((p95 - min).max(0) as u64);
        spread.clamp(self.config.min_delay, self.config.max_delay)
    }

    /// Re-anchors playout so that the fastest recent packet waits exactly
    /// the target delay.
    fn retarget(&mut self, grow_only: bool) {
        let target = self.target_delay();
        let Some(&fastest) = self.transits.iter().min() else {
            return;
        };
        let offset = fastest + target.as_micros() as i64;
        match self.offset {
            Some(old) if grow_only && offset <= old => {}
            _ => {
                self.offset = Some(offset);
                self.stats.target_delay = target;
            }
        }
    }

    fn due(&self, ts: i64) -> Option<i64> {
        self.offset.map(|o| o + self.ticks_to_micros(ts))
    }

    /// Buffers a packet that arrived at `now`.
    pub fn push(
        &mut self,
        now: Instant,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: T,
    ) -> Pushed {
        self.stats.received += 1;
        let mut result = Pushed::Accepted;
        if self.epoch.is_none() {
            self.epoch = Some(now);
            self.reset(seq, timestamp);
        }
        let mut ext = self.extend_seq(seq);
        if ext.abs_diff(self.top_seq) > RESTART_GAP {
            self.stats.restarts += 1;
            self.reset(seq, timestamp);
            ext = self.top_seq;
            result = Pushed::Restarted;
        }
        let ts = self.extend_ts(timestamp);
        if let Some(next) = self.next_seq
            && self.started
            && ext < next
        {
            let back = next - 1 - ext;
            if back < 64 && self.played & (1 << back) != 0 {
                self.stats.duplicates += 1;
                return Pushed::Duplicate;
            }
            self.stats.late += 1;
            self.grow_for_late(now, ts);
            return Pushed::Late;
        }
        if self.packets.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Pushed::Duplicate;
        }
        if self.packets.len() >= self.config.capacity {
            self.stats.overflow += 1;
            return Pushed::Overflow;
        }
        if ext > self.top_seq {
            let (dseq, dts) = (ext - self.top_seq, ts - self.top_ts);
            if dseq > 0 && dts > 0 && dts / dseq as i64 > 0 {
                self.frame_ticks = dts / dseq as i64;
            }
            self.top_seq = ext;
            self.top_ts = ts;
        }
        let transit = self.micros(now) - self.ticks_to_micros(ts);
        if self.transits.len() == self.config.window {
            self.transits.pop_front();
        }
        self.transits.push_back(transit);
        if self.offset.is_none() {
            self.offset = Some(transit + self.config.initial_delay.as_micros() as i64);
        } else if marker && self.packets.is_empty() {
            self.retarget(false);
        }
        if !self.started {
            self.next_seq = Some(self.next_seq.map_or(ext, |n| n.min(ext)));
        }
        self.packets.insert(
            ext,
            Entry {
                timestamp: ts,
                payload,
            },
        );
        result
    }

    /// A late packet: record its transit so the estimate sees it, and push
    /// the playout point out if the target now lies further.
    fn grow_for_late(&mut self, now: Instant, ts: i64) {
        let transit = self.micros(now) - self.ticks_to_micros(ts);
        if self.transits.len() == self.config.window {
            self.transits.pop_front();
        }
        self.transits.push_back(transit);
        self.retarget(true);
    }

    fn advance(&mut self) {
        if let Some(next) = self.next_seq.as_mut() {
            *next += 1;
        }
        self.played <<= 1;
    }

    /// Discards the next packet and plays one frame earlier from then on,
    /// when the delay has exceeded the target by a frame for a whole window.
    fn shrink(&mut self) {
        if self.since_shrink < self.config.window {
            return;
        }
        // Looked at once per window, whether or not it shrinks.
        self.since_shrink = 0;
        let (Some(offset), Some(&fastest), Some(next)) =
            (self.offset, self.transits.iter().min(), self.next_seq)
        else {
            return;
        };
        let target = self.target_delay();
        let frame = self.ticks_to_micros(self.frame_ticks);
        if offset - (fastest + target.as_micros() as i64) < frame
            || self.packets.keys().next() != Some(&next)
        {
            return;
        }
        self.packets.remove(&next);
        self.advance();
        self.played |= 1;
        self.stats.discarded += 1;
        self.offset = Some(offset - frame);
        self.stats.target_delay = target;
    }

    /// When the next frame is due, if a packet is waiting.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let (epoch, next) = (self.epoch?, self.next_seq?);
        let (&seq, entry) = self.packets.first_key_value()?;
        // A gap plays its lost frames one frame-time apart before the packet.
        let ts = entry.timestamp - (seq - next) as i64 * self.frame_ticks;
        let due = self.due(ts)?;
        Some(epoch + Duration::from_micros(due.max(0) as u64))
    }

    /// The frame due at `now`, if any: the next packet in sequence, or a
    /// lost frame when its packet is missing and a later one is due.
    pub fn pop(&mut self, now: Instant) -> Option<Playout<T>> {
        let due = self.poll_timeout()?;
        if now < due {
            return None;
        }
        let next = self.next_seq?;
        let first = *self.packets.keys().next()?;
        self.started = true;
        if first > next {
            self.advance();
            self.stats.lost += 1;
            return Some(Playout::Lost {
                sequence: next as u16,
            });
        }
        let entry = self.packets.remove(&first)?;
        self.advance();
        self.played |= 1;
        self.stats.played += 1;
        self.since_shrink += 1;
        self.shrink();
        Some(Playout::Frame {
            sequence: first as u16,
            timestamp: entry.timestamp as u32,
            payload: entry.payload,
        })
    }
}
