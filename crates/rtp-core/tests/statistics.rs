//! Receive statistics under simulated streams whose loss and jitter are
//! known, compared with the values RFC 3550's formulas give analytically.

use std::time::{Duration, Instant};

use rtp_core::packet::{RtpHeader, RtpPacket};
use rtp_core::rtcp::{RtcpPacket, parse_compound};
use rtp_core::stats::{CodecImpairment, ReceiverStats, Verdict, e_model};

/// 20 ms G.711 packets: sequence `seq`, timestamp 160 per packet.
fn packet(seq: u16) -> Vec<u8> {
    let mut buf = Vec::new();
    RtpHeader {
        payload_type: 0,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0xCAFE,
        ..RtpHeader::default()
    }
    .write(&[0xFF; 160], &mut buf)
    .expect("write");
    buf
}

#[test]
fn every_tenth_packet_lost_gives_ten_percent() {
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(0, 8000);
    for seq in 0..1000u16 {
        if seq % 10 == 5 {
            continue; // lost
        }
        let buf = packet(seq);
        let p = RtpPacket::parse(&buf).expect("parse");
        let at = t0 + Duration::from_millis(20 * u64::from(seq));
        stats.on_packet(p.sequence(), p.timestamp(), at);
    }
    // Packet 0 is the probation packet, so the base is 1: 999 expected
    // (1..=999), of which 100 lost (5, 15, ... 995).
    assert_eq!(stats.expected(), 999);
    assert_eq!(stats.cumulative_lost(), 100);
    // Fraction lost: floor(100·256 / 999) = 25.
    let block = stats.report_block(0xCAFE, 0, 0);
    assert_eq!(block.fraction_lost, 25);
    assert_eq!(block.cumulative_lost, 100);
    assert_eq!(block.highest_sequence, 999);
    // Perfectly regular arrivals: no jitter.
    assert_eq!(block.jitter, 0);
    // The next interval has no new packets: nothing lost in it.
    assert_eq!(stats.take_fraction_lost(), 0);
    // The block survives the trip through an RR.
    let mut buf = Vec::new();
    RtcpPacket::ReceiverReport {
        ssrc: 1,
        reports: vec![block],
    }
    .write(&mut buf)
    .expect("write");
    assert_eq!(
        parse_compound(&buf),
        Ok(vec![RtcpPacket::ReceiverReport {
            ssrc: 1,
            reports: vec![block]
        }])
    );
}

#[test]
fn alternating_delay_gives_the_analytic_jitter() {
    // Every other packet arrives 5 ms late: |D| = 5 ms = 40 units at each
    // packet after the first counted one, so J_n = 40·(1 − (15/16)^n).
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(0, 8000);
    let mut counted = 0;
    for seq in 0..200u16 {
        let late = if seq % 2 == 1 { 5 } else { 0 };
        let at = t0 + Duration::from_millis(20 * u64::from(seq) + late);
        if stats.on_packet(seq, u32::from(seq) * 160, at) == Verdict::Valid {
            counted += 1;
        }
        if counted > 1 {
            let n = counted - 1;
            let want = 40.0 * (1.0 - (15.0f64 / 16.0).powi(n));
            assert!(
                (stats.jitter() - want).abs() < 1e-6,
                "after {n}: {} vs {want}",
                stats.jitter()
            );
        }
    }
    assert!((stats.jitter_duration().as_secs_f64() - 0.005).abs() < 1e-6);
}

#[test]
fn reordered_and_duplicated_packets() {
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(0, 8000);
    let order = [0u16, 1, 2, 4, 3, 5, 5, 6, 8, 9];
    for &seq in &order {
        stats.on_packet(
            seq,
            u32::from(seq) * 160,
            t0 + Duration::from_millis(20 * u64::from(seq)),
        );
    }
    // Base 1, highest 9: 9 expected; 9 counted (1,2,4,3,5,5,6,8,9) with 7
    // missing and 5 duplicated, so the cumulative loss nets to zero.
    assert_eq!(stats.expected(), 9);
    assert_eq!(stats.received(), 9);
    assert_eq!(stats.cumulative_lost(), 0);
}

#[test]
fn quality_falls_with_loss_and_delay() {
    let q = |ms, loss, burst| {
        e_model(
            Duration::from_millis(ms),
            loss,
            burst,
            CodecImpairment::G711_PLC,
        )
    };
    let (good, lossy, bursty, far) = (
        q(40, 0.0, 1.0),
        q(40, 5.0, 1.0),
        q(40, 5.0, 2.0),
        q(400, 0.0, 1.0),
    );
    assert!(good.mos > 4.3, "{good:?}");
    assert!(lossy.mos < good.mos && bursty.mos < lossy.mos && far.mos < good.mos);
    // 5% random loss with PLC: R = 93.2 − 0.96 − 95·5/(5+25.1).
    assert!((lossy.r_factor - (93.2 - 0.96 - 475.0 / 30.1)).abs() < 1e-9);
}
