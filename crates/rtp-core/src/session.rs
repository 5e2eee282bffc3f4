//! A sans-IO RTP session for one local source (RFC 3550): sequence numbers,
//! timestamps and SSRC on send; per-source statistics, SSRC collisions,
//! RTT from SR/RR and RTCP scheduling (§6.3) on receive. Time comes in as
//! `now`; RTCP to send comes out of [`RtpSession::poll_transmit`].
//!
//! ```
//! use std::time::Instant;
//! use rtp_core::session::{RtpSession, SessionConfig};
//!
//! let t0 = Instant::now();
//! let mut a = RtpSession::new(t0, SessionConfig { ssrc: 1, ..SessionConfig::default() });
//! let mut b = RtpSession::new(t0, SessionConfig { ssrc: 2, ..SessionConfig::default() });
//! let mut buf = Vec::new();
//! a.write_rtp(t0, 0, true, &[0xFF; 160], &mut buf).unwrap();
//! let got = b.handle_rtp(t0, &buf).unwrap();
//! assert_eq!((got.ssrc, got.payload.len()), (1, 160));
//! // Timer reconsideration may push the first report back; run the timer
//! // until it goes out.
//! let (due, report) = loop {
//!     let due = a.poll_timeout().unwrap();
//!     a.handle_timeout(due);
//!     if let Some(report) = a.poll_transmit() {
//!         break (due, report);
//!     }
//! };
//! b.handle_rtcp(due, &report).unwrap();
//! ```

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::Error;
use crate::interval::{IntervalInputs, average_size, randomized};
use crate::packet::{RtpHeader, RtpPacket};
use crate::rtcp::{
    CNAME, ReportBlock, RtcpPacket, SdesItem, SenderInfo, parse_compound, write_compound,
};
use crate::stats::{CodecImpairment, Quality, ReceiverStats, Verdict, e_model};

/// UDP and IPv4 header octets counted in the RTCP size average (§6.3.3).
const UDP_IP: usize = 28;

/// Settings of an [`RtpSession`].
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Our SSRC (random, chosen by the caller).
    pub ssrc: u32,
    /// Seed of the session's generator (interval randomization, a new
    /// SSRC after a collision).
    pub seed: u64,
    /// RTP clock rate of the payload.
    pub clock_rate: u32,
    /// Payload type we send.
    pub payload_type: u8,
    /// Our canonical name, sent in SDES.
    pub cname: String,
    /// Session bandwidth in bit/s; RTCP gets 5% of it.
    pub session_bandwidth: u32,
    /// The minimum RTCP interval (5 s in RFC 3550).
    pub min_interval: Duration,
    /// First sequence number (random).
    pub initial_sequence: u16,
    /// Timestamp of media time zero (random).
    pub initial_timestamp: u32,
    /// The NTP timestamp (64-bit, 1900 epoch) of the `now` the session is
    /// created at, so that SRs carry wallclock time.
    pub ntp_at_start: u64,
    /// Remote sources tracked at most; RTP from more is refused.
    pub max_sources: usize,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            ssrc: 0x1234_5678,
            seed: 1,
            clock_rate: 8000,
            payload_type: 0,
            cname: "rvoip".into(),
            session_bandwidth: 64_000,
            min_interval: Duration::from_secs(5),
            initial_sequence: 0,
            initial_timestamp: 0,
            ntp_at_start: 0,
            max_sources: 64,
        }
    }
}

/// Something the session noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// A source passed probation.
    NewSource(u32),
    /// A source sent BYE.
    SourceLeft {
        /// The source.
        ssrc: u32,
        /// Its reason, if given.
        reason: Option<Vec<u8>>,
    },
    /// A source was silent for five report intervals (§6.3.5).
    SourceTimedOut(u32),
    /// Another source used our SSRC: we sent BYE and took a new one (§8.2).
    SsrcChanged {
        /// The SSRC given up.
        old: u32,
        /// The SSRC now used.
        new: u32,
    },
    /// A report about our stream arrived.
    Report {
        /// The reporter.
        from: u32,
        /// Its report block about us.
        block: ReportBlock,
        /// Round-trip time, when the block echoes one of our SRs.
        rtt: Option<Duration>,
    },
}

/// An RTP packet accepted by [`RtpSession::handle_rtp`].
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    /// Sender.
    pub ssrc: u32,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// Marker bit.
    pub marker: bool,
    /// Payload type.
    pub payload_type: u8,
    /// Payload.
    pub payload: &'a [u8],
    /// Whether the source is past probation (A.1) and the packet counted.
    pub valid: bool,
}

/// What the session knows about one remote source.
#[derive(Clone, Debug)]
pub struct SourceStats {
    /// The source.
    pub ssrc: u32,
    /// Its CNAME, once an SDES arrived.
    pub cname: Option<String>,
    /// Packets expected from it (A.3).
    pub expected: u32,
    /// Packets received from it.
    pub received: u32,
    /// Packets lost (expected − received).
    pub lost: i64,
    /// Interarrival jitter (A.8).
    pub jitter: Duration,
    /// Round-trip time measured from its reports on our SRs.
    pub rtt: Option<Duration>,
    /// Its latest report about our stream.
    pub remote_report: Option<ReportBlock>,
}

impl SourceStats {
    /// Loss as a percentage of the packets expected.
    pub fn loss_percent(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            (self.lost.max(0) as f64) * 100.0 / f64::from(self.expected)
        }
    }

    /// The E-model estimate for this stream: one-way delay is half the
    /// RTT (zero until one is measured) plus `local_delay` (jitter buffer
    /// and codec), loss is the measured loss.
    pub fn quality(&self, codec: CodecImpairment, local_delay: Duration) -> Quality {
        let delay = self.rtt.unwrap_or_default() / 2 + local_delay;
        e_model(delay, self.loss_percent(), 1.0, codec)
    }
}

#[derive(Debug)]
struct Source {
    stats: Option<ReceiverStats>,
    valid: bool,
    cname: Option<String>,
    /// LSR of its last SR and when it arrived.
    last_sr: Option<(u32, Instant)>,
    last_heard: Instant,
    last_rtp: Option<Instant>,
    rtt: Option<Duration>,
    remote_report: Option<ReportBlock>,
}

impl Source {
    fn new(now: Instant) -> Source {
        Source {
            stats: None,
            valid: false,
            cname: None,
            last_sr: None,
            last_heard: now,
            last_rtp: None,
            rtt: None,
            remote_report: None,
        }
    }
}

/// One local source's RTP session.
#[derive(Debug)]
pub struct RtpSession {
    config: SessionConfig,
    start: Instant,
    rng: u64,
    ssrc: u32,
    sequence: u16,
    sent_packets: u32,
    sent_octets: u32,
    /// RTP timestamp and time of the last packet sent.
    last_sent: Option<(u32, Instant)>,
    sources: HashMap<u32, Source>,
    /// RTCP timing: last and next transmission, previous member count.
    tp: Instant,
    tn: Option<Instant>,
    pmembers: usize,
    avg_rtcp_size: f64,
    initial: bool,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<SessionEvent>,
}

impl RtpSession {
    /// A session started at `now`; the first RTCP report is scheduled.
    pub fn new(now: Instant, config: SessionConfig) -> Self {
        let mut s = RtpSession {
            start: now,
            rng: config.seed,
            ssrc: config.ssrc,
            sequence: config.initial_sequence,
            sent_packets: 0,
            sent_octets: 0,
            last_sent: None,
            sources: HashMap::new(),
            tp: now,
            tn: None,
            pmembers: 1,
            // An SR/RR with one block plus SDES, as the first estimate.
            avg_rtcp_size: (52 + 8 + config.cname.len() + UDP_IP) as f64,
            initial: true,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            config,
        };
        let t = s.interval(now);
        s.tn = Some(now + t);
        s
    }

    /// Our current SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// SplitMix64.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The 64-bit NTP timestamp of `now`.
    fn ntp(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.start);
        let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
        self.config
            .ntp_at_start
            .wrapping_add((d.as_secs() << 32) | frac)
    }

    fn we_sent(&self, now: Instant, td: Duration) -> bool {
        self.last_sent
            .is_some_and(|(_, t)| now.saturating_duration_since(t) < 2 * td)
    }

    fn inputs(&self, now: Instant) -> IntervalInputs {
        let td = self.config.min_interval;
        let senders = self
            .sources
            .values()
            .filter(|s| {
                s.last_rtp
                    .is_some_and(|t| now.saturating_duration_since(t) < 2 * td)
            })
            .count();
        let we_sent = self.we_sent(now, td);
        IntervalInputs {
            members: self.sources.len() + 1,
            senders: senders + usize::from(we_sent),
            rtcp_bw: f64::from(self.config.session_bandwidth) / 8.0 * 0.05,
            we_sent,
            avg_rtcp_size: self.avg_rtcp_size,
            initial: self.initial,
            minimum: self.config.min_interval,
        }
    }

    fn interval(&mut self, now: Instant) -> Duration {
        let unit = (self.next_random() >> 11) as f64 / (1u64 << 53) as f64;
        randomized(self.inputs(now), unit)
    }

    /// Writes the next RTP packet: `media_time` is the payload's sampling
    /// instant in clock-rate units from the stream's start.
    pub fn write_rtp(
        &mut self,
        now: Instant,
        media_time: u32,
        marker: bool,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let timestamp = self.config.initial_timestamp.wrapping_add(media_time);
        RtpHeader {
            marker,
            payload_type: self.config.payload_type,
            sequence: self.sequence,
            timestamp,
            ssrc: self.ssrc,
            ..RtpHeader::default()
        }
        .write(payload, out)?;
        self.sequence = self.sequence.wrapping_add(1);
        self.sent_packets = self.sent_packets.wrapping_add(1);
        self.sent_octets = self.sent_octets.wrapping_add(payload.len() as u32);
        self.last_sent = Some((timestamp, now));
        Ok(())
    }

    /// Takes a new SSRC after a collision and says goodbye for the old one.
    fn change_ssrc(&mut self, now: Instant) {
        let old = self.ssrc;
        let mut new = self.next_random() as u32;
        while new == old || self.sources.contains_key(&new) {
            new = self.next_random() as u32;
        }
        self.queue_bye(now, Some(b"SSRC collision".to_vec()));
        self.ssrc = new;
        self.sent_packets = 0;
        self.sent_octets = 0;
        self.events
            .push_back(SessionEvent::SsrcChanged { old, new });
    }

    fn source(&mut self, ssrc: u32, now: Instant) -> Result<&mut Source, Error> {
        if !self.sources.contains_key(&ssrc) && self.sources.len() >= self.config.max_sources {
            return Err(Error::Invalid("too many sources in the session"));
        }
        Ok(self.sources.entry(ssrc).or_insert_with(|| Source::new(now)))
    }

    /// Accounts an RTP packet that arrived at `now`.
    pub fn handle_rtp<'a>(&mut self, now: Instant, buf: &'a [u8]) -> Result<Received<'a>, Error> {
        let p = RtpPacket::parse(buf)?;
        if p.ssrc() == self.ssrc {
            self.change_ssrc(now);
            return Err(Error::Invalid("SSRC collides with ours"));
        }
        let clock = self.config.clock_rate;
        let src = self.source(p.ssrc(), now)?;
        src.last_heard = now;
        src.last_rtp = Some(now);
        let stats = src
            .stats
            .get_or_insert_with(|| ReceiverStats::new(p.sequence(), clock));
        let valid = stats.on_packet(p.sequence(), p.timestamp(), now) == Verdict::Valid;
        if valid && !src.valid {
            src.valid = true;
            self.events.push_back(SessionEvent::NewSource(p.ssrc()));
        }
        Ok(Received {
            ssrc: p.ssrc(),
            sequence: p.sequence(),
            timestamp: p.timestamp(),
            marker: p.marker(),
            payload_type: p.payload_type(),
            payload: p.payload(),
            valid,
        })
    }

    fn handle_blocks(&mut self, now: Instant, from: u32, reports: &[ReportBlock]) {
        let arrival = (self.ntp(now) >> 16) as u32;
        for block in reports.iter().filter(|b| b.ssrc == self.ssrc) {
            // RTT = A − LSR − DLSR in 1/65536 s (§6.4.1).
            let rtt = (block.last_sr != 0)
                .then(|| {
                    arrival
                        .wrapping_sub(block.last_sr)
                        .wrapping_sub(block.delay_since_last_sr)
                })
                .filter(|&r| r < 1 << 31)
                .map(|r| Duration::from_nanos((u64::from(r) * 1_000_000_000) >> 16));
            if let Some(src) = self.sources.get_mut(&from) {
                src.remote_report = Some(*block);
                if rtt.is_some() {
                    src.rtt = rtt;
                }
            }
            self.events.push_back(SessionEvent::Report {
                from,
                block: *block,
                rtt,
            });
        }
    }

    /// Accounts a compound RTCP packet that arrived at `now`.
    pub fn handle_rtcp(&mut self, now: Instant, buf: &[u8]) -> Result<(), Error> {
        let packets = parse_compound(buf)?;
        self.avg_rtcp_size = average_size(self.avg_rtcp_size, buf.len() + UDP_IP);
        for packet in packets {
            match packet {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                } => {
                    if let Ok(src) = self.source(ssrc, now) {
                        src.last_heard = now;
                        src.last_sr = Some(((info.ntp >> 16) as u32, now));
                    }
                    self.handle_blocks(now, ssrc, &reports);
                }
                RtcpPacket::ReceiverReport { ssrc, reports } => {
                    if let Ok(src) = self.source(ssrc, now) {
                        src.last_heard = now;
                    }
                    self.handle_blocks(now, ssrc, &reports);
                }
                RtcpPacket::SourceDescription(chunks) => {
                    for (ssrc, items) in chunks {
                        let cname = items.iter().find(|i| i.kind == CNAME);
                        if let (Some(src), Some(item)) = (self.sources.get_mut(&ssrc), cname) {
                            src.cname = Some(String::from_utf8_lossy(&item.text).into_owned());
                        }
                    }
                }
                RtcpPacket::Bye { sources, reason } => {
                    for ssrc in sources {
                        if self.sources.remove(&ssrc).is_some() {
                            self.events.push_back(SessionEvent::SourceLeft {
                                ssrc,
                                reason: reason.clone(),
                            });
                        }
                    }
                    self.reverse_reconsider(now);
                }
                RtcpPacket::App { .. } | RtcpPacket::Other { .. } => {}
            }
        }
        Ok(())
    }

    /// §6.3.4: when members leave, bring the next report forward in
    /// proportion.
    fn reverse_reconsider(&mut self, now: Instant) {
        let members = self.sources.len() + 1;
        if members < self.pmembers
            && let Some(tn) = self.tn
        {
            let scale = members as f64 / self.pmembers as f64;
            self.tn = Some(now + tn.saturating_duration_since(now).mul_f64(scale));
            self.tp = now
                .checked_sub(now.saturating_duration_since(self.tp).mul_f64(scale))
                .unwrap_or(now);
        }
        self.pmembers = members;
    }

    /// When the next RTCP report is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.tn
    }

    fn report(&mut self, now: Instant) -> RtcpPacket {
        let mut reports = Vec::new();
        for (&ssrc, src) in self.sources.iter_mut() {
            let Some(stats) = src.stats.as_mut().filter(|_| src.valid) else {
                continue;
            };
            if reports.len() == 31 {
                break;
            }
            let (lsr, dlsr) = src.last_sr.map_or((0, 0), |(lsr, at)| {
                let waited = now.saturating_duration_since(at);
                (lsr, ((waited.as_nanos() << 16) / 1_000_000_000) as u32)
            });
            reports.push(stats.report_block(ssrc, lsr, dlsr));
        }
        match self.last_sent {
            Some((ts, at)) if self.we_sent(now, self.config.min_interval) => {
                let elapsed = now.saturating_duration_since(at);
                let ticks = (elapsed.as_secs_f64() * f64::from(self.config.clock_rate)) as u32;
                RtcpPacket::SenderReport {
                    ssrc: self.ssrc,
                    info: SenderInfo {
                        ntp: self.ntp(now),
                        rtp_timestamp: ts.wrapping_add(ticks),
                        packet_count: self.sent_packets,
                        octet_count: self.sent_octets,
                    },
                    reports,
                }
            }
            _ => RtcpPacket::ReceiverReport {
                ssrc: self.ssrc,
                reports,
            },
        }
    }

    fn sdes(&self) -> RtcpPacket {
        RtcpPacket::SourceDescription(vec![(
            self.ssrc,
            vec![SdesItem {
                kind: CNAME,
                text: self.config.cname.as_bytes().to_vec(),
            }],
        )])
    }

    fn queue(&mut self, packets: &[RtcpPacket]) {
        let mut out = Vec::new();
        if write_compound(packets, &mut out).is_ok() {
            self.avg_rtcp_size = average_size(self.avg_rtcp_size, out.len() + UDP_IP);
            self.transmit.push_back(out);
        }
    }

    fn queue_bye(&mut self, now: Instant, reason: Option<Vec<u8>>) {
        let report = self.report(now);
        let bye = RtcpPacket::Bye {
            sources: vec![self.ssrc],
            reason,
        };
        self.queue(&[report, bye]);
    }

    /// Sends the RTCP report if it is due (with timer reconsideration,
    /// §6.3.6) and drops sources silent for five intervals.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(tn) = self.tn else { return };
        if now < tn {
            return;
        }
        let td = crate::interval::deterministic(self.inputs(now));
        let silent = Duration::from_secs_f64(5.0 * td);
        let gone: Vec<u32> = self
            .sources
            .iter()
            .filter(|(_, s)| now.saturating_duration_since(s.last_heard) > silent)
            .map(|(&k, _)| k)
            .collect();
        for ssrc in gone {
            self.sources.remove(&ssrc);
            self.events.push_back(SessionEvent::SourceTimedOut(ssrc));
        }
        let t = self.interval(now);
        if self.tp + t > now {
            self.tn = Some(self.tp + t);
            return;
        }
        let report = self.report(now);
        let sdes = self.sdes();
        self.queue(&[report, sdes]);
        self.tp = now;
        self.initial = false;
        self.pmembers = self.sources.len() + 1;
        let t = self.interval(now);
        self.tn = Some(now + t);
    }

    /// Leaves the session: queues BYE and stops reporting.
    pub fn bye(&mut self, now: Instant, reason: Option<&str>) {
        self.queue_bye(now, reason.map(|r| r.as_bytes().to_vec()));
        self.tn = None;
    }

    /// The next RTCP compound packet to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Packets and payload octets sent with the current SSRC.
    pub fn sent(&self) -> (u32, u32) {
        (self.sent_packets, self.sent_octets)
    }

    /// Statistics of each remote source.
    pub fn sources(&self) -> Vec<SourceStats> {
        let mut v: Vec<SourceStats> = self
            .sources
            .iter()
            .map(|(&ssrc, s)| SourceStats {
                ssrc,
                cname: s.cname.clone(),
                expected: s.stats.as_ref().map_or(0, ReceiverStats::expected),
                received: s.stats.as_ref().map_or(0, ReceiverStats::received),
                lost: s.stats.as_ref().map_or(0, ReceiverStats::cumulative_lost),
                jitter: s
                    .stats
                    .as_ref()
                    .map_or(Duration::ZERO, ReceiverStats::jitter_duration),
                rtt: s.rtt,
                remote_report: s.remote_report,
            })
            .collect();
        v.sort_by_key(|s| s.ssrc);
        v
    }
}
