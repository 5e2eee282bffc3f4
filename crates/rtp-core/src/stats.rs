//! Receive statistics of one RTP source, measured from the packets as they
//! arrive: sequence validation and extended sequence numbers (RFC 3550
//! A.1), expected and lost packets and the fraction lost per interval
//! (A.3), interarrival jitter (A.8), and the report block that carries
//! them; plus an E-model (ITU-T G.107) estimate of call quality.

use std::time::{Duration, Instant};

use crate::rtcp::ReportBlock;

const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
/// Packets in sequence before a new source is believed (A.1).
const MIN_SEQUENTIAL: u32 = 2;
const SEQ_MOD: u32 = 1 << 16;

/// What the statistics made of one packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Counted.
    Valid,
    /// The source is still on probation (A.1), or a lone packet far out of
    /// sequence that a second one may confirm as a restart.
    NotYet,
}

/// Receive statistics of one source.
#[derive(Clone, Debug)]
pub struct ReceiverStats {
    clock_rate: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Arrival clock origin and the previous packet's transit time.
    epoch: Option<Instant>,
    transit: Option<f64>,
    /// Jitter estimate in timestamp units.
    jitter: f64,
}

impl ReceiverStats {
    /// Statistics for a source first heard with sequence number `seq`, on
    /// an RTP clock of `clock_rate` Hz.
    pub fn new(seq: u16, clock_rate: u32) -> Self {
        let mut s = ReceiverStats {
            clock_rate,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: 0,
            probation: MIN_SEQUENTIAL,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            epoch: None,
            transit: None,
            jitter: 0.0,
        };
        s.init_seq(seq);
        s.max_seq = seq.wrapping_sub(1);
        s
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// Records a packet with sequence `seq` and timestamp `timestamp`
    /// that arrived at `now`.
    pub fn on_packet(&mut self, seq: u16, timestamp: u32, now: Instant) -> Verdict {
        if !self.update_seq(seq) {
            return Verdict::NotYet;
        }
        // A.8: D(i,j) = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16.
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = now.duration_since(epoch).as_secs_f64() * f64::from(self.clock_rate);
        let transit = arrival - f64::from(timestamp);
        if let Some(prev) = self.transit {
            // Timestamps wrap at 2^32: take the difference modulo it.
            let mut d = transit - prev;
            let wrap = 4_294_967_296.0;
            if d > wrap / 2.0 {
                d -= wrap;
            } else if d < -wrap / 2.0 {
                d += wrap;
            }
            self.jitter += (d.abs() - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
        Verdict::Valid
    }

    /// A.1 `update_seq`: true when the packet is counted.
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return false;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += SEQ_MOD; // wrapped
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= SEQ_MOD - u32::from(MAX_MISORDER) {
            // A very large jump: a restart if the next packet follows it.
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
                self.transit = None;
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (SEQ_MOD - 1);
                return false;
            }
        }
        // else: duplicate or reordered, counted as received.
        self.received += 1;
        true
    }

    /// The extended highest sequence number received.
    pub fn extended_highest(&self) -> u32 {
        self.cycles + u32::from(self.max_seq)
    }

    /// Packets expected since the source was validated.
    pub fn expected(&self) -> u32 {
        self.extended_highest()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }

    /// Packets received (duplicates included, as A.3 counts them).
    pub fn received(&self) -> u32 {
        self.received
    }

    /// Cumulative packets lost (negative when duplicates outnumber losses).
    pub fn cumulative_lost(&self) -> i64 {
        i64::from(self.expected()) - i64::from(self.received)
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Interarrival jitter as a duration.
    pub fn jitter_duration(&self) -> Duration {
        Duration::from_secs_f64(self.jitter / f64::from(self.clock_rate.max(1)))
    }

    /// Loss over the interval since the previous call, in 1/256 (A.3);
    /// starts a new interval.
    pub fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost = i64::from(expected_interval) - i64::from(received_interval);
        if expected_interval == 0 || lost <= 0 {
            0
        } else {
            ((lost << 8) / i64::from(expected_interval)).min(255) as u8
        }
    }

    /// The report block for this source, closing the loss interval.
    /// `last_sr` and `delay_since_last_sr` come from the session's record of
    /// the source's last sender report (zero when none).
    pub fn report_block(
        &mut self,
        ssrc: u32,
        last_sr: u32,
        delay_since_last_sr: u32,
    ) -> ReportBlock {
        ReportBlock {
            ssrc,
            fraction_lost: self.take_fraction_lost(),
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            highest_sequence: self.extended_highest(),
            jitter: self.jitter.round() as u32,
            last_sr,
            delay_since_last_sr,
        }
    }
}

/// A codec's equipment impairment factor and packet-loss robustness
/// (ITU-T G.113 Appendix I).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct CodecImpairment {
    /// Ie: impairment without loss.
    pub ie: f64,
    /// Bpl: robustness to random loss.
    pub bpl: f64,
}

impl CodecImpairment {
    /// G.711 with packet loss concealment (G.711 Appendix I).
    pub const G711_PLC: CodecImpairment = CodecImpairment { ie: 0.0, bpl: 25.1 };
    /// G.711 without concealment.
    pub const G711: CodecImpairment = CodecImpairment { ie: 0.0, bpl: 4.3 };
}

/// An E-model estimate.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Quality {
    /// Transmission rating R, 0–100 (93.2 is a perfect narrowband call).
    pub r_factor: f64,
    /// The mean opinion score it predicts, 1–4.5.
    pub mos: f64,
}

/// The G.107 E-model with its default parameters (R0 − Is = 93.2) for a
/// one-way mouth-to-ear delay, a packet loss percentage (network loss
/// plus late packets the jitter buffer discarded) and its burstiness
/// (`burst_ratio` 1 for random loss). The delay impairment uses the
/// Cole–Rosenbluth fit of G.107's Id for those defaults.
pub fn e_model(
    delay: Duration,
    loss_percent: f64,
    burst_ratio: f64,
    codec: CodecImpairment,
) -> Quality {
    let d = delay.as_secs_f64() * 1000.0;
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let ppl = loss_percent.clamp(0.0, 100.0);
    let burst = burst_ratio.max(1.0);
    let ie_eff = codec.ie + (95.0 - codec.ie) * ppl / (ppl / burst + codec.bpl);
    let r = (93.2 - id - ie_eff).clamp(0.0, 100.0);
    Quality {
        r_factor: r,
        mos: mos_from_r(r),
    }
}

/// G.107 Annex B: MOS from R.
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probation_then_counting() {
        let t0 = Instant::now();
        let mut s = ReceiverStats::new(100, 8000);
        assert_eq!(s.on_packet(100, 0, t0), Verdict::NotYet);
        assert_eq!(s.on_packet(101, 160, t0), Verdict::Valid);
        assert_eq!((s.expected(), s.received(), s.cumulative_lost()), (1, 1, 0));
        // A lone far jump is held back; a second in sequence restarts.
        assert_eq!(s.on_packet(40000, 0, t0), Verdict::NotYet);
        assert_eq!(s.on_packet(40001, 160, t0), Verdict::Valid);
        assert_eq!((s.expected(), s.received()), (1, 1));
    }

    #[test]
    fn wraparound_extends_the_sequence() {
        let t0 = Instant::now();
        let mut s = ReceiverStats::new(65530, 8000);
        for i in 0..20u16 {
            s.on_packet(65530u16.wrapping_add(i), u32::from(i) * 160, t0);
        }
        assert_eq!(s.extended_highest(), 65536 + 13);
        assert_eq!((s.expected(), s.received()), (19, 19));
    }

    #[test]
    fn e_model_reference_points() {
        let q = e_model(Duration::ZERO, 0.0, 1.0, CodecImpairment::G711_PLC);
        assert!((q.r_factor - 93.2).abs() < 1e-9);
        assert!((q.mos - 4.41).abs() < 0.01, "{}", q.mos);
        // 2% random loss with PLC: Ie,eff = 95·2/(2+25.1) = 7.011.
        let q = e_model(Duration::ZERO, 2.0, 1.0, CodecImpairment::G711_PLC);
        assert!((q.r_factor - (93.2 - 190.0 / 27.1)).abs() < 1e-9);
        // 200 ms one way: Id = 4.8 + 0.11·22.7.
        let q = e_model(
            Duration::from_millis(200),
            0.0,
            1.0,
            CodecImpairment::G711_PLC,
        );
        assert!((q.r_factor - (93.2 - 4.8 - 0.11 * 22.7)).abs() < 1e-9);
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
    }
}
