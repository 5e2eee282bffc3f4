//! Voice activity on synthetic signals: stationary noise at any level is
//! learned as silence, bursts above it are voice with a short attack and
//! a hangover.

use media_core::level::dbov;
use media_core::vad::{Vad, VadConfig};

/// Deterministic white noise at roughly `level` dBov, `n` samples.
fn noise(seed: &mut u64, level: f64, n: usize) -> Vec<i16> {
    let amp = 32768.0 * 10f64.powf(level / 20.0) * 3f64.sqrt();
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (*seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            (amp * u) as i16
        })
        .collect()
}

fn tone(level: f64, n: usize, phase0: usize) -> Vec<i16> {
    let amp = 32768.0 * 10f64.powf(level / 20.0) * 2f64.sqrt();
    (0..n)
        .map(|i| {
            (amp * (2.0 * std::f64::consts::PI * 440.0 * (phase0 + i) as f64 / 8000.0).sin()) as i16
        })
        .collect()
}

#[test]
fn stationary_noise_of_any_level_is_silence() {
    for level in [-60.0, -45.0, -30.0] {
        let mut seed = 1;
        let mut vad = Vad::new(VadConfig::default());
        let mut active = 0;
        for _ in 0..250 {
            let frame = noise(&mut seed, level, 160);
            assert!(
                (dbov(&frame) - level).abs() < 2.0,
                "{} vs {level}",
                dbov(&frame)
            );
            active += usize::from(vad.process(&frame));
        }
        assert_eq!(active, 0, "noise at {level} dBov");
        assert!(
            (vad.noise_floor() - level).abs() < 1.5,
            "{}",
            vad.noise_floor()
        );
    }
    assert!(!Vad::new(VadConfig::default()).process(&[0; 160]));
}

#[test]
fn bursts_over_noise_are_voice_with_attack_and_hangover() {
    let mut seed = 7;
    let mut vad = Vad::new(VadConfig::default());
    let mut wrong = 0;
    let mut total = 0;
    // 1 s of noise, then 10 cycles of 400 ms voice / 600 ms pause.
    for _ in 0..50 {
        assert!(!vad.process(&noise(&mut seed, -50.0, 160)));
    }
    for _ in 0..10 {
        for f in 0..20 {
            let mut frame = noise(&mut seed, -50.0, 160);
            for (s, t) in frame.iter_mut().zip(tone(-20.0, 160, f * 160)) {
                *s = s.saturating_add(t);
            }
            let speech = vad.process(&frame);
            // The attack takes the first frame; the rest must be voice.
            if f >= 1 {
                wrong += usize::from(!speech);
                total += 1;
            }
        }
        for f in 0..30u32 {
            let speech = vad.process(&noise(&mut seed, -50.0, 160));
            // The hangover holds 10 frames, then silence.
            match f {
                0..10 => assert!(speech, "hangover frame {f}"),
                10.. => {
                    wrong += usize::from(speech);
                    total += 1;
                }
            }
        }
    }
    assert_eq!(wrong, 0, "{wrong} of {total} frames misjudged");
}
