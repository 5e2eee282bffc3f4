//! The jitter buffer driven in virtual time by simulated streams with
//! known reordering, loss and delay variation.

use std::time::{Duration, Instant};

use rtp_core::jitter::{JitterBuffer, JitterConfig, JitterStats, Playout, Pushed};

const MS: Duration = Duration::from_millis(1);

/// One packet's arrival: offset from the start, sequence, timestamp, marker.
type Arrival = (Duration, u16, u32, bool);

/// Feeds `arrivals` (sorted by time) and plays out every frame when it is
/// due; returns the played sequence (Some = packet, None = lost) and stats.
fn run(arrivals: &[Arrival], config: JitterConfig) -> (Vec<Option<u16>>, JitterStats, Vec<Pushed>) {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(8000, config);
    let (mut out, mut pushed) = (Vec::new(), Vec::new());
    let mut i = 0;
    loop {
        let next_arrival = arrivals.get(i).map(|a| t0 + a.0);
        let next_play = jb.poll_timeout();
        let now = match (next_arrival, next_play) {
            (None, None) => break,
            (Some(a), Some(p)) if p < a => p,
            (Some(a), _) => a,
            (None, Some(p)) => p,
        };
        if next_arrival == Some(now) {
            let (_, seq, ts, marker) = arrivals[i];
            pushed.push(jb.push(now, seq, ts, marker, seq));
            i += 1;
        }
        while let Some(p) = jb.pop(now) {
            out.push(match p {
                Playout::Frame {
                    sequence, payload, ..
                } => {
                    assert_eq!(sequence, payload);
                    Some(sequence)
                }
                Playout::Lost { sequence } => {
                    let _ = sequence;
                    None
                }
            });
        }
    }
    (out, jb.stats(), pushed)
}

fn stream(n: u16, first_seq: u16, first_ts: u32, delay: impl Fn(u16) -> Duration) -> Vec<Arrival> {
    let mut v: Vec<Arrival> = (0..n)
        .map(|i| {
            let seq = first_seq.wrapping_add(i);
            let ts = first_ts.wrapping_add(u32::from(i) * 160);
            (20 * MS * u32::from(i) + delay(i), seq, ts, i == 0)
        })
        .collect();
    v.sort_by_key(|a| a.0);
    v
}

#[test]
fn reorders_and_drops_duplicates() {
    // Packet 1 overtakes 0, packet 3 arrives twice.
    let arrivals = [
        (Duration::ZERO, 1, 160, false),
        (MS, 0, 0, true),
        (2 * MS, 2, 320, false),
        (3 * MS, 3, 480, false),
        (4 * MS, 3, 480, false),
        (60 * MS, 4, 640, false),
    ];
    let (out, stats, pushed) = run(&arrivals, JitterConfig::default());
    assert_eq!(out, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(pushed[4], Pushed::Duplicate);
    assert_eq!(
        (stats.duplicates, stats.played, stats.lost, stats.late),
        (1, 5, 0, 0)
    );
}

#[test]
fn a_missing_packet_plays_as_lost_and_a_late_one_is_dropped() {
    let mut arrivals = stream(10, 100, 0, |_| Duration::ZERO);
    // Packet 104 arrives 500 ms late, long after its slot.
    let late = arrivals.iter().position(|a| a.1 == 104).expect("104");
    arrivals[late].0 += 500 * MS;
    arrivals.sort_by_key(|a| a.0);
    let (out, stats, pushed) = run(&arrivals, JitterConfig::default());
    let expect: Vec<Option<u16>> = (100..110).map(|s| (s != 104).then_some(s)).collect();
    assert_eq!(out, expect);
    assert_eq!(pushed.last(), Some(&Pushed::Late));
    assert_eq!((stats.lost, stats.late, stats.played), (1, 1, 9));
}

/// Uniform pseudo-random delay in [0, max) from a fixed seed.
fn uniform(seed: u64, max: Duration) -> impl Fn(u16) -> Duration {
    move |i| {
        let mut x = seed ^ (u64::from(i) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 31;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 29;
        max.mul_f64((x % 10_000) as f64 / 10_000.0)
    }
}

#[test]
fn the_delay_follows_the_measured_jitter() {
    for (jitter_ms, low, high) in [(0u64, 20, 20), (40, 34, 42), (100, 85, 102)] {
        let arrivals = stream(3000, 7, 9, uniform(jitter_ms + 1, MS * jitter_ms as u32));
        let (out, stats, _) = run(&arrivals, JitterConfig::default());
        let target = stats.target_delay.as_millis() as u64;
        assert!(
            (low..=high).contains(&target),
            "jitter {jitter_ms} ms: target {target} ms"
        );
        // The 95th-percentile target lets a few packets in a hundred be late.
        let late = stats.late as f64 / 3000.0;
        eprintln!("jitter {jitter_ms} ms: target {target} ms, {stats:?}");
        assert!(
            late < 0.03,
            "jitter {jitter_ms} ms: {:.1}% late",
            late * 100.0
        );
        assert_eq!(out.len() as u64, stats.played + stats.lost);
        assert_eq!(stats.played + stats.late + stats.discarded, 3000);
        if jitter_ms == 0 {
            assert_eq!(stats.late + stats.lost, 0);
        }
    }
}

#[test]
fn the_delay_shrinks_at_a_talkspurt_when_jitter_falls() {
    let noisy = uniform(3, 120 * MS);
    let mut arrivals = stream(3000, 0, 0, |i| if i < 1500 { noisy(i) } else { 5 * MS });
    // A talkspurt every second from the middle on: a 100 ms pause before it.
    for a in arrivals.iter_mut() {
        let i = a.1;
        if i >= 1500 {
            a.0 += 100 * MS * u32::from((i - 1500) / 50 + 1);
            a.3 = i % 50 == 0;
            a.2 += 800 * u32::from((i - 1500) / 50 + 1);
        }
    }
    let (_, stats, _) = run(&arrivals, JitterConfig::default());
    assert!(
        stats.target_delay <= 25 * MS,
        "target {:?}",
        stats.target_delay
    );
}

#[test]
fn sequence_and_timestamp_wrap() {
    let arrivals = stream(200, 65_500, u32::MAX - 8000, uniform(5, 10 * MS));
    let (out, stats, _) = run(&arrivals, JitterConfig::default());
    let expect: Vec<Option<u16>> = (0..200u16)
        .map(|i| Some(65_500u16.wrapping_add(i)))
        .collect();
    assert_eq!(out, expect);
    assert_eq!(stats.late + stats.lost, 0);
}

#[test]
fn a_sequence_jump_restarts_and_a_full_buffer_refuses() {
    let mut arrivals = stream(20, 0, 0, |_| Duration::ZERO);
    arrivals.extend(
        stream(20, 40_000, 0, |_| Duration::ZERO)
            .into_iter()
            .map(|mut a| {
                a.0 += 600 * MS;
                a
            }),
    );
    let (out, stats, pushed) = run(&arrivals, JitterConfig::default());
    assert_eq!(stats.restarts, 1);
    assert_eq!(pushed[20], Pushed::Restarted);
    assert_eq!(out.len(), 40);
    assert!(out.iter().all(Option::is_some));

    let t0 = Instant::now();
    let config = JitterConfig {
        capacity: 4,
        ..JitterConfig::default()
    };
    let mut jb = JitterBuffer::new(8000, config);
    let results: Vec<Pushed> = (0..6u16)
        .map(|s| jb.push(t0, s, u32::from(s) * 160, false, ()))
        .collect();
    assert_eq!(&results[4..], [Pushed::Overflow, Pushed::Overflow]);
    assert_eq!(jb.len(), 4);
}
