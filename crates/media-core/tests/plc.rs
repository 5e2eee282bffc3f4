//! G.711 Appendix I style concealment: transparent without loss, pitch
//! found, lost frames filled far better than silence or frame repetition,
//! no clicks at the seams, fade-out by 60 ms, exact recovery.

use codec_core::g711::{Law, decode_into, encode_into};
use codec_core::signal::snr_db;
use media_core::plc::{Plc, UnsupportedRate};

/// A voiced sound: harmonics of `f0` with a formant-like envelope,
/// through G.711 µ-law and back.
fn voiced(rate: u32, f0: f64, seconds: f64) -> Vec<i16> {
    let n = (f64::from(rate) * seconds) as usize;
    let pcm: Vec<i16> = (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let mut v = 0.0;
            let mut h = 1.0;
            while h * f0 < 3400.0 {
                let f = h * f0;
                // Peaks near 500 and 1500 Hz.
                let env = 1.0 / (1.0 + ((f - 500.0) / 300.0).powi(2))
                    + 0.5 / (1.0 + ((f - 1500.0) / 400.0).powi(2));
                v += env * (2.0 * std::f64::consts::PI * f * t + h * 0.7).sin();
                h += 1.0;
            }
            (v * 2500.0).round().clamp(-32768.0, 32767.0) as i16
        })
        .collect();
    let mut bytes = Vec::new();
    encode_into(Law::Mu, &pcm, &mut bytes);
    let mut out = Vec::new();
    decode_into(Law::Mu, &bytes, &mut out);
    out
}

/// Runs `signal` in 20 ms frames through `plc`, losing the frames `lost`
/// says; returns the output realigned with the input.
fn run(plc: &mut Plc, signal: &[i16], frame: usize, lost: impl Fn(usize) -> bool) -> Vec<i16> {
    let mut out = Vec::new();
    for (k, f) in signal.chunks(frame).enumerate() {
        if lost(k) {
            plc.lost(f.len(), &mut out);
        } else {
            plc.good(f, &mut out);
        }
    }
    assert_eq!(out.len(), signal.len());
    out.drain(..plc.delay());
    out
}

fn max_step(x: &[i16]) -> i32 {
    x.windows(2)
        .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
        .max()
        .unwrap_or(0)
}

#[test]
fn without_loss_the_output_is_the_input_delayed() {
    let s = voiced(8000, 120.0, 1.0);
    let mut plc = Plc::new(8000).expect("rate");
    assert_eq!(plc.delay(), 30);
    let out = run(&mut plc, &s, 160, |_| false);
    assert_eq!(out[..], s[..out.len()]);
    assert_eq!(Plc::new(44100).err(), Some(UnsupportedRate(44100)));
}

#[test]
fn finds_the_pitch_period() {
    for (f0, period) in [
        (200.0, 40),
        (125.0, 64),
        (100.0, 80),
        (80.0, 100),
        (66.67, 120),
    ] {
        let s = voiced(8000, f0, 0.3);
        let mut plc = Plc::new(8000).expect("rate");
        let mut out = Vec::new();
        for f in s.chunks(160) {
            plc.good(f, &mut out);
        }
        plc.lost(160, &mut out);
        let p = plc.pitch().expect("concealing");
        assert!(
            p.abs_diff(period) <= 1,
            "{f0} Hz: {p} samples, want {period}"
        );
    }
}

#[test]
fn concealment_beats_silence_and_repetition() {
    for (rate, f0) in [(8000u32, 118.0), (8000, 210.0), (16000, 95.0)] {
        let frame = rate as usize / 50;
        let s = voiced(rate, f0, 2.0);
        let lost = |k: usize| k % 10 == 5;
        let mut plc = Plc::new(rate).expect("rate");
        let out = run(&mut plc, &s, frame, lost);
        // Compare only where frames were lost.
        let (mut want, mut ours, mut silence, mut repeat) = (vec![], vec![], vec![], vec![]);
        for k in (0..s.len() / frame).filter(|&k| lost(k)) {
            let r = k * frame..(k + 1) * frame;
            want.extend_from_slice(&s[r.clone()]);
            ours.extend_from_slice(&out[r.clone()]);
            silence.extend(std::iter::repeat_n(0i16, frame));
            repeat.extend_from_slice(&s[r.start - frame..r.start]);
        }
        let (ours, silence, repeat) = (
            snr_db(&want, &ours),
            snr_db(&want, &silence),
            snr_db(&want, &repeat),
        );
        println!(
            "{rate} Hz, f0 {f0}: PLC {ours:.1} dB, silence {silence:.1} dB, repeat {repeat:.1} dB"
        );
        assert!(ours > 8.0, "{ours}");
        assert!(ours > repeat + 6.0, "{ours} vs repetition {repeat}");
        // No clicks: the output never jumps more than the signal does.
        assert!(
            max_step(&out) <= max_step(&s) * 6 / 5,
            "{} vs {}",
            max_step(&out),
            max_step(&s)
        );
    }
}

#[test]
fn long_losses_fade_to_silence_and_recover_exactly() {
    let s = voiced(8000, 140.0, 1.0);
    let mut plc = Plc::new(8000).expect("rate");
    // Frames 10..15 (100 ms) lost.
    let out = run(&mut plc, &s, 160, |k| (10..15).contains(&k));
    let loss_start = 1600;
    // 60 ms into the loss and on, silence.
    assert!(
        out[loss_start + 480..loss_start + 800]
            .iter()
            .all(|&x| x == 0)
    );
    // The peak level falls steadily after the first 10 ms.
    let peak = |k: usize| {
        let r = loss_start + k * 80..loss_start + (k + 1) * 80;
        out[r]
            .iter()
            .map(|&x| i32::from(x).abs())
            .max()
            .unwrap_or(0)
    };
    let peaks: Vec<i32> = (0..6).map(peak).collect();
    assert!(peaks[1..].windows(2).all(|w| w[1] <= w[0]), "{peaks:?}");
    assert!(peaks[5] < peaks[0] / 4, "{peaks:?}");
    // Recovery fades in over at most 10 ms, then the input is exact.
    let back = loss_start + 800;
    assert_eq!(out[back + 80..], s[back + 80..out.len()]);
    assert!(max_step(&out[back - 10..back + 100]) <= max_step(&s));
}

#[test]
fn short_frames_and_back_to_back_losses() {
    // 10 ms frames, two lost in a row, many times.
    let s = voiced(8000, 160.0, 1.0);
    let mut plc = Plc::new(8000).expect("rate");
    let out = run(&mut plc, &s, 80, |k| k % 8 == 3 || k % 8 == 4);
    assert!(max_step(&out) <= max_step(&s) * 6 / 5);
    let good: Vec<usize> = (0..out.len()).filter(|i| (i / 80) % 8 == 7).collect();
    assert!(
        good.iter().all(|&i| out[i] == s[i]),
        "recovered by the next loss"
    );
}
