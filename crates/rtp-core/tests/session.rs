//! Two RTP sessions talking through a simulated network in virtual time:
//! loss, delay and RTT come out of the reports as the network made them.

use std::time::{Duration, Instant};

use rtp_core::session::{RtpSession, SessionConfig, SessionEvent};
use rtp_core::stats::CodecImpairment;

const MS: Duration = Duration::from_millis(1);

fn config(ssrc: u32, seed: u64) -> SessionConfig {
    SessionConfig {
        ssrc,
        seed,
        cname: format!("user{ssrc}@example.test"),
        initial_sequence: (seed * 7919) as u16,
        initial_timestamp: (seed * 104_729) as u32,
        ntp_at_start: 0xE000_0000_0000_0000 + (seed << 32),
        ..SessionConfig::default()
    }
}

/// A packet in flight: arrival time, destination (0 = A, 1 = B), RTCP?
type Flight = (Instant, usize, bool, Vec<u8>);

struct Net {
    t0: Instant,
    sessions: [RtpSession; 2],
    flights: Vec<Flight>,
    events: [Vec<SessionEvent>; 2],
    reports_sent: [Vec<Instant>; 2],
}

impl Net {
    fn new(one_way: Duration) -> (Net, Duration) {
        let t0 = Instant::now();
        let net = Net {
            t0,
            sessions: [
                RtpSession::new(t0, config(0xA, 1)),
                RtpSession::new(t0, config(0xB, 2)),
            ],
            flights: Vec::new(),
            events: [Vec::new(), Vec::new()],
            reports_sent: [Vec::new(), Vec::new()],
        };
        (net, one_way)
    }

    /// Runs both sides sending 20 ms frames for `secs`; A→B RTP packets
    /// whose index is a multiple of `drop_every` are lost.
    fn run(&mut self, secs: u64, one_way: Duration, drop_every: u64) {
        let end = self.t0 + Duration::from_secs(secs);
        let mut frame = 0u64;
        loop {
            let next_frame = self.t0 + 20 * MS * frame as u32;
            let next_timer = self
                .sessions
                .iter()
                .filter_map(RtpSession::poll_timeout)
                .min();
            let next_flight = self.flights.iter().map(|f| f.0).min();
            let now = [Some(next_frame), next_timer, next_flight]
                .into_iter()
                .flatten()
                .min()
                .expect("time");
            if now >= end {
                break;
            }
            if now == next_frame {
                for side in 0..2 {
                    let mut buf = Vec::new();
                    self.sessions[side]
                        .write_rtp(now, frame as u32 * 160, frame == 0, &[0xD5; 160], &mut buf)
                        .expect("write");
                    if !(side == 0 && drop_every > 0 && frame % drop_every == drop_every - 1) {
                        self.flights.push((now + one_way, 1 - side, false, buf));
                    }
                }
                frame += 1;
            }
            for side in 0..2 {
                if self.sessions[side].poll_timeout().is_some_and(|t| t <= now) {
                    self.sessions[side].handle_timeout(now);
                }
                while let Some(rtcp) = self.sessions[side].poll_transmit() {
                    self.reports_sent[side].push(now);
                    self.flights.push((now + one_way, 1 - side, true, rtcp));
                }
            }
            let (due, rest): (Vec<Flight>, Vec<Flight>) =
                self.flights.drain(..).partition(|f| f.0 <= now);
            self.flights = rest;
            for (_, to, rtcp, bytes) in due {
                if rtcp {
                    self.sessions[to].handle_rtcp(now, &bytes).expect("rtcp");
                } else {
                    self.sessions[to].handle_rtp(now, &bytes).expect("rtp");
                }
            }
            for side in 0..2 {
                while let Some(e) = self.sessions[side].poll_event() {
                    self.events[side].push(e);
                }
            }
        }
    }
}

#[test]
fn loss_jitter_and_rtt_are_what_the_network_did() {
    let (mut net, one_way) = Net::new(40 * MS);
    net.run(60, one_way, 50);
    // B measured A's stream: one packet in 50 lost, no jitter.
    let at_b = &net.sessions[1].sources()[0];
    assert_eq!(at_b.ssrc, 0xA);
    assert_eq!(at_b.cname.as_deref(), Some("user10@example.test"));
    assert!(at_b.expected > 2900, "{at_b:?}");
    assert_eq!(at_b.lost, i64::from(at_b.expected) / 50, "{at_b:?}");
    assert!(at_b.jitter < Duration::from_micros(200), "{at_b:?}");
    // A hears about it in B's reports, and measures 80 ms of RTT.
    let at_a = &net.sessions[0].sources()[0];
    let rtt = at_a.rtt.expect("rtt");
    assert!(
        rtt.abs_diff(80 * MS) < Duration::from_micros(100),
        "{rtt:?}"
    );
    let remote = at_a.remote_report.expect("report");
    assert_eq!(remote.fraction_lost, 5, "2% of 256 is 5");
    let rtts: Vec<Duration> = net.events[0]
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Report { rtt, .. } => *rtt,
            _ => None,
        })
        .collect();
    assert!(rtts.len() >= 8, "{} reports with RTT", rtts.len());
    // The quality estimate comes from these measurements.
    let clean = &net.sessions[0].sources()[0];
    let q_b = at_b.quality(CodecImpairment::G711_PLC, 40 * MS);
    let q_a = clean.quality(CodecImpairment::G711_PLC, 40 * MS);
    assert!(q_b.mos < q_a.mos, "lossy {q_b:?} vs clean {q_a:?}");
    assert!(q_a.r_factor < 93.2 && q_a.r_factor > 85.0, "{q_a:?}");
}

#[test]
fn rtcp_goes_out_every_five_seconds_on_average() {
    let (mut net, one_way) = Net::new(10 * MS);
    net.run(600, one_way, 0);
    for sent in &net.reports_sent {
        let first = sent[0].duration_since(net.t0).as_secs_f64();
        assert!(
            (2.5 * 0.5 / 1.218..=2.5 * 1.5 / 1.218).contains(&first),
            "first at {first}"
        );
        let mean = (sent[sent.len() - 1] - sent[0]).as_secs_f64() / (sent.len() - 1) as f64;
        assert!((3.5..=6.5).contains(&mean), "mean interval {mean}");
    }
}

#[test]
fn an_ssrc_collision_changes_ours_and_says_bye() {
    let t0 = Instant::now();
    let mut a = RtpSession::new(t0, config(0xA, 1));
    let mut intruder = RtpSession::new(t0, config(0xA, 9));
    let mut buf = Vec::new();
    intruder
        .write_rtp(t0, 0, false, b"x", &mut buf)
        .expect("write");
    assert!(a.handle_rtp(t0, &buf).is_err());
    let Some(SessionEvent::SsrcChanged { old, new }) = a.poll_event() else {
        panic!("no SSRC change");
    };
    assert_eq!((old, a.ssrc()), (0xA, new));
    assert_ne!(new, 0xA);
    let bye = a.poll_transmit().expect("bye");
    let mut b = RtpSession::new(t0, config(0xB, 2));
    // B heard A before; the BYE removes it.
    let mut hello = Vec::new();
    intruder
        .write_rtp(t0, 160, false, b"x", &mut hello)
        .expect("write");
    b.handle_rtp(t0, &hello).expect("rtp");
    b.handle_rtcp(t0, &bye).expect("bye");
    assert!(b.sources().is_empty());
    let events: Vec<SessionEvent> = std::iter::from_fn(|| b.poll_event()).collect();
    assert!(events.iter().any(|e| matches!(e, SessionEvent::SourceLeft { ssrc: 0xA, reason: Some(r) } if r == b"SSRC collision")));
}

#[test]
fn silent_sources_time_out_and_the_table_is_bounded() {
    let t0 = Instant::now();
    let mut a = RtpSession::new(
        t0,
        SessionConfig {
            max_sources: 3,
            ..config(0xA, 1)
        },
    );
    for ssrc in 1..=4u32 {
        let mut peer = RtpSession::new(t0, config(ssrc << 8, u64::from(ssrc) + 10));
        let mut buf = Vec::new();
        peer.write_rtp(t0, 0, false, b"x", &mut buf).expect("write");
        assert_eq!(a.handle_rtp(t0, &buf).is_ok(), ssrc <= 3);
    }
    // Nothing more heard: after five intervals (25 s at the minimum) all go.
    let mut now = t0;
    while now < t0 + Duration::from_secs(60) {
        now = a.poll_timeout().expect("timer");
        a.handle_timeout(now);
    }
    assert!(a.sources().is_empty());
    let timed_out = std::iter::from_fn(|| a.poll_event())
        .filter(|e| matches!(e, SessionEvent::SourceTimedOut(_)))
        .count();
    assert_eq!(timed_out, 3);
}
