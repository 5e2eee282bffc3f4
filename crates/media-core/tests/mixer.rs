//! The mix-minus mixer: exact sums, gains, saturation, mixed rates, errors.

use codec_core::signal::{tone_level_db, tones};
use media_core::mixer::{MAX_PARTICIPANTS, MixError, Mixer, MixerConfig, ParticipantId};

fn mixer(rate: u32) -> Mixer {
    Mixer::new(MixerConfig {
        sample_rate: rate,
        ptime_ms: 20,
    })
    .expect("config")
}

/// A deterministic pseudo-random frame.
fn noise(seed: u32, len: usize, amp: i32) -> Vec<i16> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((x % (2 * amp as u32 + 1)) as i32 - amp) as i16
        })
        .collect()
}

#[test]
fn everyone_hears_exactly_the_others() {
    let mut m = mixer(8000);
    let ids: Vec<ParticipantId> = (0..6).map(|_| m.add(8000).expect("add")).collect();
    for tick in 0..5u32 {
        // Participant 5 stays silent (pushes nothing).
        let frames: Vec<Vec<i16>> = (0..5)
            .map(|i| noise(tick * 10 + i + 1, 160, 3000))
            .collect();
        for (id, f) in ids.iter().zip(&frames) {
            m.push(*id, f).expect("push");
        }
        m.mix();
        for (k, id) in ids.iter().enumerate() {
            let want: Vec<i16> = (0..160)
                .map(|n| {
                    frames
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != k)
                        .map(|(_, f)| i32::from(f[n]))
                        .sum::<i32>() as i16
                })
                .collect();
            assert_eq!(
                m.output(*id).expect("output"),
                &want[..],
                "tick {tick} participant {k}"
            );
        }
    }
}

#[test]
fn gains_mute_and_deafen() {
    let mut m = mixer(8000);
    let (a, b, c) = (
        m.add(8000).expect("mixer"),
        m.add(8000).expect("mixer"),
        m.add(8000).expect("mixer"),
    );
    m.set_input_gain(a, -6.0206).expect("mixer");
    m.set_output_gain(c, 6.0206).expect("mixer");
    m.push(a, &[10000; 160]).expect("mixer");
    m.push(b, &[-1000; 160]).expect("mixer");
    m.mix();
    // b hears a at half level; c hears (a/2 + b) doubled.
    assert_eq!(m.output(b).expect("mixer")[0], 5000);
    assert_eq!(m.output(c).expect("mixer")[0], 8000);
    assert_eq!(m.output(a).expect("mixer")[0], -1000);

    m.set_input_gain(a, f64::NEG_INFINITY).expect("mixer");
    m.set_output_gain(b, f64::NEG_INFINITY).expect("mixer");
    m.push(a, &[10000; 160]).expect("mixer");
    m.push(b, &[-1000; 160]).expect("mixer");
    m.mix();
    assert!(m.output(b).expect("mixer").iter().all(|&s| s == 0), "deaf");
    // c still hears at +6 dB, b alone.
    assert!(
        m.output(c).expect("mixer").iter().all(|&s| s == -2000),
        "a is muted"
    );
}

#[test]
fn sums_saturate_instead_of_wrapping() {
    let mut m = mixer(8000);
    let ids: Vec<ParticipantId> = (0..4).map(|_| m.add(8000).expect("mixer")).collect();
    m.set_input_gain(ids[0], 18.0).expect("mixer");
    for (i, id) in ids[..3].iter().enumerate() {
        let v = if i == 2 { -32768 } else { 32767 };
        m.push(*id, &[v; 160]).expect("mixer");
    }
    m.mix();
    // ids[3] hears 7.9·32767 + 32767 − 32768: clipped high, not wrapped.
    assert!(
        m.output(ids[3])
            .expect("mixer")
            .iter()
            .all(|&s| s == i16::MAX)
    );
    m.set_input_gain(ids[0], 0.0).expect("mixer");
    for id in &ids[..3] {
        m.push(*id, &[-32768; 160]).expect("mixer");
    }
    m.mix();
    assert!(
        m.output(ids[3])
            .expect("mixer")
            .iter()
            .all(|&s| s == i16::MIN)
    );
    assert!(
        m.output(ids[0])
            .expect("mixer")
            .iter()
            .all(|&s| s == i16::MIN)
    );
}

#[test]
fn mixed_rates_are_resampled_both_ways() {
    let mut m = mixer(16000);
    let narrow = m.add(8000).expect("mixer");
    let wide = m.add(16000).expect("mixer");
    let full = m.add(48000).expect("mixer");
    let (mut heard_narrow, mut heard_wide, mut heard_full) = (Vec::new(), Vec::new(), Vec::new());
    let narrow_tone = tones(8000, 8000, &[(500.0, 8000.0)]);
    let wide_tone = tones(16000, 16000, &[(3000.0, 8000.0)]);
    for t in 0..50 {
        m.push(narrow, &narrow_tone[t * 160..(t + 1) * 160])
            .expect("mixer");
        m.push(wide, &wide_tone[t * 320..(t + 1) * 320])
            .expect("mixer");
        m.mix();
        assert_eq!(m.output(narrow).expect("mixer").len(), 160);
        assert_eq!(m.output(full).expect("mixer").len(), 960);
        heard_narrow.extend_from_slice(m.output(narrow).expect("mixer"));
        heard_wide.extend_from_slice(m.output(wide).expect("mixer"));
        heard_full.extend_from_slice(m.output(full).expect("mixer"));
    }
    // Skip the first 100 ms (filter start-up) when measuring.
    let level = 20.0 * (8000.0f64 / 32767.0).log10();
    let wide_500 = tone_level_db(&heard_wide[1600..], 16000, 500.0);
    assert!(
        (wide_500 - level).abs() < 0.5,
        "wide hears 500 Hz at {wide_500:.1} dB"
    );
    let full_500 = tone_level_db(&heard_full[4800..], 48000, 500.0);
    let full_3k = tone_level_db(&heard_full[4800..], 48000, 3000.0);
    assert!(
        (full_500 - level).abs() < 0.5,
        "48k hears 500 Hz at {full_500:.1} dB"
    );
    assert!(
        (full_3k - level).abs() < 0.5,
        "48k hears 3 kHz at {full_3k:.1} dB"
    );
    // The narrowband participant hears the 3 kHz tone (inside its band)
    // and never itself.
    let own = tone_level_db(&heard_narrow[800..], 8000, 500.0);
    assert!(own < level - 60.0, "no echo of its own tone: {own:.1} dB");
    let other = tone_level_db(&heard_narrow[800..], 8000, 3000.0);
    assert!(
        (other - level).abs() < 0.5,
        "narrow hears 3 kHz at {other:.1} dB"
    );
    let own_wide = tone_level_db(&heard_wide[1600..], 16000, 3000.0);
    assert!(
        own_wide < level - 60.0,
        "no echo for wide: {own_wide:.1} dB"
    );
}

#[test]
fn bad_input_is_refused() {
    assert_eq!(
        Mixer::new(MixerConfig {
            sample_rate: 11025,
            ptime_ms: 20
        })
        .err(),
        Some(MixError::Rate(11025))
    );
    assert!(matches!(
        Mixer::new(MixerConfig {
            sample_rate: 8000,
            ptime_ms: 0
        }),
        Err(MixError::Ptime(0))
    ));
    let mut m = mixer(8000);
    assert_eq!(m.add(44100).err(), Some(MixError::Rate(44100)));
    let a = m.add(8000).expect("mixer");
    assert_eq!(
        m.push(a, &[0; 80]),
        Err(MixError::FrameLength {
            expected: 160,
            got: 80
        })
    );
    assert!(matches!(
        m.set_input_gain(a, f64::NAN),
        Err(MixError::Gain(_))
    ));
    assert!(matches!(m.set_output_gain(a, 30.0), Err(MixError::Gain(_))));
    m.remove(a).expect("mixer");
    assert_eq!(m.remove(a), Err(MixError::UnknownParticipant(a)));
    // The slot is reused under a new id; the old one stays dead.
    let b = m.add(8000).expect("mixer");
    assert_ne!(a, b);
    assert_eq!(m.output(a).err(), Some(MixError::UnknownParticipant(a)));
    assert_eq!(m.len(), 1);
    assert!(m.output(b).expect("mixer").iter().all(|&s| s == 0));
}

#[test]
fn holds_max_participants_and_no_more() {
    let mut m = mixer(8000);
    let ids: Vec<ParticipantId> = (0..MAX_PARTICIPANTS)
        .map(|_| m.add(8000).expect("mixer"))
        .collect();
    assert_eq!(m.add(8000).err(), Some(MixError::Full));
    for id in &ids {
        m.push(*id, &[32767; 160]).expect("mixer");
    }
    m.mix();
    assert!(
        m.output(ids[0])
            .expect("mixer")
            .iter()
            .all(|&s| s == i16::MAX)
    );
}
