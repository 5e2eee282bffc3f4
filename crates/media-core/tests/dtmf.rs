//! DTMF detection: RFC 4733 event reception, and the in-band detector
//! against ITU-T Q.24 — all 16 digits at 15 dB SNR, duration, frequency,
//! twist and level limits, drop-outs, and no digits from speech-like audio.

use std::time::{Duration, Instant};

use codec_core::telephone_event::{TelephoneEvent, packets_for};
use media_core::dtmf::{
    DigitEvent, DigitEventKind, DtmfDetector, DtmfDetectorConfig, Rfc4733Receiver,
};
use media_core::tones::{dbm0_amplitude, dtmf_frequencies};

const RATE: u32 = 8000;

/// A tiny deterministic generator (xorshift) for noise and jitter.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A DTMF tone with each group at its own level and frequency factor.
fn dual_tone(
    low: f64,
    high: f64,
    low_dbm0: f64,
    high_dbm0: f64,
    ms: usize,
    phase: f64,
) -> Vec<f64> {
    let n = ms * RATE as usize / 1000;
    let (a, b) = (dbm0_amplitude(low_dbm0), dbm0_amplitude(high_dbm0));
    let w = |hz: f64| 2.0 * std::f64::consts::PI * hz / f64::from(RATE);
    (0..n)
        .map(|i| {
            a * (w(low) * i as f64 + phase).sin() + b * (w(high) * i as f64 + 2.0 * phase).sin()
        })
        .collect()
}

fn digit_tone(digit: char, ms: usize) -> Vec<f64> {
    let (l, h) = dtmf_frequencies(digit).expect("digit");
    dual_tone(l, h, -8.0, -6.0, ms, 0.3)
}

/// Adds white noise `snr_db` below the power of `signal` (measured over
/// `reference`, the tones alone) and rounds to PCM.
fn with_noise(signal: &[f64], reference_power: f64, snr_db: f64, rng: &mut Rng) -> Vec<i16> {
    let sigma = (reference_power / 10f64.powf(snr_db / 10.0)).sqrt();
    signal
        .iter()
        .map(|&x| (x + sigma * rng.normal()).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn pcm(signal: &[f64]) -> Vec<i16> {
    signal
        .iter()
        .map(|&x| x.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

fn silence(ms: usize) -> Vec<f64> {
    vec![0.0; ms * RATE as usize / 1000]
}

/// Runs the detector over `pcm` in 20 ms frames and returns the digits
/// that began, with every event for inspection.
fn detect(pcm: &[i16]) -> (String, Vec<DigitEvent>) {
    detect_with(DtmfDetectorConfig::default(), pcm)
}

fn detect_with(config: DtmfDetectorConfig, pcm: &[i16]) -> (String, Vec<DigitEvent>) {
    let mut d = DtmfDetector::new(config);
    let mut events = Vec::new();
    for frame in pcm.chunks(160) {
        d.process(frame);
        while let Some(e) = d.poll_event() {
            events.push(e);
        }
    }
    // Trailing silence to flush the last digit.
    d.process(&[0; 480]);
    while let Some(e) = d.poll_event() {
        events.push(e);
    }
    let digits = events
        .iter()
        .filter(|e| e.kind == DigitEventKind::Begin)
        .map(|e| e.digit)
        .collect();
    (digits, events)
}

#[test]
fn all_sixteen_digits_at_15_db_snr() {
    let digits = "0123456789*#ABCD";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..5 {
        let mut signal = silence(30 + round * 7);
        for d in digits.chars() {
            signal.extend(digit_tone(d, 50));
            signal.extend(silence(50));
        }
        // Noise 15 dB below the power of the tones while they sound.
        let power = {
            let t = digit_tone('5', 1000);
            t.iter().map(|x| x * x).sum::<f64>() / t.len() as f64
        };
        let (got, events) = detect(&with_noise(&signal, power, 15.0, &mut rng));
        assert_eq!(got, digits, "round {round}");
        // Every digit also ends, with a duration near 50 ms.
        let ends: Vec<&DigitEvent> = events
            .iter()
            .filter(|e| e.kind == DigitEventKind::End)
            .collect();
        assert_eq!(ends.len(), 16);
        for e in ends {
            assert!((260..=560).contains(&e.duration), "{e:?}");
        }
    }
}

#[test]
fn forty_ms_always_twenty_ms_never() {
    for offset in (0..106).step_by(7) {
        let mut long = silence(offset);
        let mut short = silence(offset);
        for d in "1470".chars() {
            long.extend(digit_tone(d, 40));
            long.extend(silence(40));
            short.extend(digit_tone(d, 20));
            short.extend(silence(40));
        }
        // Offsets here are in samples, not ms.
        let long: Vec<f64> = long.into_iter().skip(offset * 7).collect();
        let short: Vec<f64> = short.into_iter().skip(offset * 7).collect();
        assert_eq!(detect(&pcm(&long)).0, "1470", "40 ms, offset {offset}");
        assert_eq!(detect(&pcm(&short)).0, "", "20 ms, offset {offset}");
    }
}

#[test]
fn frequency_within_one_and_a_half_percent_only() {
    for digit in "0123456789*#ABCD".chars() {
        let (l, h) = dtmf_frequencies(digit).expect("digit");
        for (kl, kh) in [
            (1.015, 1.015),
            (0.985, 0.985),
            (1.015, 0.985),
            (0.985, 1.015),
        ] {
            let t = dual_tone(l * kl, h * kh, -8.0, -6.0, 60, 0.1);
            assert_eq!(
                detect(&pcm(&t)).0,
                digit.to_string(),
                "{digit} at {kl}/{kh}"
            );
        }
        for (kl, kh) in [(1.035, 1.0), (0.965, 1.0), (1.0, 1.035), (1.0, 0.965)] {
            let t = dual_tone(l * kl, h * kh, -8.0, -6.0, 60, 0.1);
            assert_eq!(detect(&pcm(&t)).0, "", "{digit} at {kl}/{kh}");
        }
    }
}

#[test]
fn twist_and_level_limits() {
    for digit in "1569CD*".chars() {
        let (l, h) = dtmf_frequencies(digit).expect("digit");
        let case = |low: f64, high: f64| detect(&pcm(&dual_tone(l, h, low, high, 60, 0.2))).0;
        // Normal twist (high above low) up to 8 dB, reverse up to 4 dB.
        assert_eq!(case(-14.0, -7.0), digit.to_string(), "{digit} +7 dB");
        assert_eq!(case(-7.0, -10.0), digit.to_string(), "{digit} -3 dB");
        assert_eq!(case(-17.0, -7.0), "", "{digit} +10 dB");
        assert_eq!(case(-7.0, -13.0), "", "{digit} -6 dB");
        // Levels: −25 dBm0 per tone is heard, −35 is not.
        assert_eq!(case(-25.0, -25.0), digit.to_string(), "{digit} -25 dBm0");
        assert_eq!(case(0.0, 0.0), digit.to_string(), "{digit} 0 dBm0");
        assert_eq!(case(-35.0, -35.0), "", "{digit} -35 dBm0");
    }
}

#[test]
fn drop_outs_and_pauses() {
    // A 10 ms break inside a tone is one digit; a 40 ms pause makes two.
    let mut s = digit_tone('8', 80);
    s.extend(silence(10));
    s.extend(digit_tone('8', 80));
    assert_eq!(detect(&pcm(&s)).0, "8");
    let mut s = digit_tone('8', 80);
    s.extend(silence(40));
    s.extend(digit_tone('8', 80));
    assert_eq!(detect(&pcm(&s)).0, "88");
    // A single frequency is no digit, nor is a chord of low-group tones.
    assert_eq!(
        detect(&pcm(&dual_tone(697.0, 1209.0, -8.0, -80.0, 200, 0.0))).0,
        ""
    );
    assert_eq!(
        detect(&pcm(&dual_tone(697.0, 852.0, -8.0, -8.0, 200, 0.0))).0,
        ""
    );
    // Timestamps count samples from the start of the stream.
    let mut s = silence(100);
    s.extend(digit_tone('3', 100));
    let (_, events) = detect(&pcm(&s));
    assert_eq!(events[0].kind, DigitEventKind::Begin);
    assert!(
        (800..=906).contains(&events[0].timestamp),
        "{:?}",
        events[0]
    );
}

/// A synthetic talker: a glottal pulse train with drifting pitch through
/// four formant resonators whose targets move from vowel to vowel, with
/// occasional fricative noise, at about −20 dBov.
fn speech(seconds: usize, base_pitch: f64, rng: &mut Rng) -> Vec<i16> {
    const VOWELS: [[f64; 4]; 8] = [
        [730.0, 1090.0, 2440.0, 3400.0],
        [270.0, 2290.0, 3010.0, 3500.0],
        [300.0, 870.0, 2240.0, 3300.0],
        [530.0, 1840.0, 2480.0, 3500.0],
        [570.0, 840.0, 2410.0, 3300.0],
        [660.0, 1720.0, 2410.0, 3400.0],
        [440.0, 1020.0, 2240.0, 3300.0],
        [390.0, 1990.0, 2550.0, 3400.0],
    ];
    const BANDWIDTH: [f64; 4] = [70.0, 90.0, 120.0, 160.0];
    let fs = f64::from(RATE);
    let n = seconds * RATE as usize;
    let mut out = Vec::with_capacity(n);
    let mut formants = VOWELS[0];
    let mut target = VOWELS[1];
    let mut state = [[0f64; 2]; 4];
    let mut phase = 0f64;
    let mut segment_left = 0usize;
    let mut fricative = false;
    for i in 0..n {
        if segment_left == 0 {
            target = VOWELS[(rng.next() % 8) as usize];
            segment_left = (0.08 * fs + rng.uniform() * 0.25 * fs) as usize;
            fricative = rng.uniform() < 0.15;
        }
        segment_left -= 1;
        for k in 0..4 {
            formants[k] += (target[k] - formants[k]) * 0.002;
        }
        let t = i as f64 / fs;
        let pitch = base_pitch
            * (1.0 + 0.15 * (2.0 * std::f64::consts::PI * 0.6 * t).sin())
            * (1.0 + 0.01 * rng.normal());
        phase += pitch / fs;
        let source = if fricative {
            0.3 * rng.normal()
        } else if phase >= 1.0 {
            phase -= 1.0;
            1.0
        } else {
            0.0
        };
        let mut x = source;
        for k in 0..4 {
            let r = (-std::f64::consts::PI * BANDWIDTH[k] / fs).exp();
            let c = 2.0 * r * (2.0 * std::f64::consts::PI * formants[k] / fs).cos();
            let y = x * (1.0 - r) + c * state[k][0] - r * r * state[k][1];
            state[k][1] = state[k][0];
            state[k][0] = y;
            x = y;
        }
        out.push(x);
    }
    let rms = (out.iter().map(|x| x * x).sum::<f64>() / n as f64).sqrt();
    let gain = 3277.0 / rms.max(1e-12);
    out.iter()
        .map(|x| (x * gain).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[test]
fn speech_like_audio_gives_no_digits() {
    let mut rng = Rng(42);
    for pitch in [85.0, 110.0, 140.0, 190.0, 230.0, 300.0] {
        let talk = speech(20, pitch, &mut rng);
        let (got, _) = detect(&talk);
        assert_eq!(got, "", "pitch {pitch} Hz");
    }
}

#[test]
fn works_at_16_khz() {
    let config = DtmfDetectorConfig {
        sample_rate: 16000,
        ..DtmfDetectorConfig::default()
    };
    let mut s = Vec::new();
    for d in "*9#".chars() {
        let mut g = media_core::tones::ToneGenerator::dtmf(d, 16000, -8.0, -6.0).expect("digit");
        s.extend(g.take(960));
        s.extend(vec![0; 960]);
    }
    assert_eq!(detect_with(config, &s).0, "*9#");
}

fn payload(event: u8, end: bool, duration: u16) -> Vec<u8> {
    let mut out = Vec::new();
    TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    }
    .write(&mut out);
    out
}

fn drain(r: &mut Rfc4733Receiver) -> Vec<DigitEvent> {
    std::iter::from_fn(|| r.poll_event()).collect()
}

#[test]
fn rfc4733_one_digit_per_event_despite_redundancy() {
    let t0 = Instant::now();
    let mut r = Rfc4733Receiver::default();
    let mut ts = 16_000u32;
    let mut got = Vec::new();
    for (i, digit) in "19#".chars().enumerate() {
        let code = TelephoneEvent::code_of(digit).expect("digit");
        for p in packets_for(code, 10, 800, 160) {
            let now = t0 + Duration::from_millis(u64::from(ts / 8 + p.send_at / 8));
            let mut bytes = Vec::new();
            p.event.write(&mut bytes);
            r.handle_packet(now, ts, &bytes).expect("payload");
            // Network duplicates of every packet change nothing.
            r.handle_packet(now, ts, &bytes).expect("payload");
        }
        got.extend(drain(&mut r));
        ts = ts.wrapping_add(8000 + i as u32);
    }
    let kinds: Vec<(char, DigitEventKind, u32)> =
        got.iter().map(|e| (e.digit, e.kind, e.duration)).collect();
    assert_eq!(
        kinds,
        [
            ('1', DigitEventKind::Begin, 160),
            ('1', DigitEventKind::End, 800),
            ('9', DigitEventKind::Begin, 160),
            ('9', DigitEventKind::End, 800),
            ('#', DigitEventKind::Begin, 160),
            ('#', DigitEventKind::End, 800),
        ]
    );
    assert_eq!(got[0].timestamp, 16_000);
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn rfc4733_lost_packets_and_stragglers() {
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut r = Rfc4733Receiver::default();
    // First packets lost: the digit begins at the first that arrives.
    r.handle_packet(ms(40), 1000, &payload(5, false, 320))
        .expect("payload");
    // Every end packet lost, and the next digit arrives: the first ends.
    r.handle_packet(ms(300), 3000, &payload(7, false, 160))
        .expect("payload");
    // A straggler from the first event is ignored.
    r.handle_packet(ms(310), 1000, &payload(5, true, 800))
        .expect("payload");
    let got = drain(&mut r);
    assert_eq!(
        got.iter()
            .map(|e| (e.digit, e.kind, e.timestamp))
            .collect::<Vec<_>>(),
        [
            ('5', DigitEventKind::Begin, 1000),
            ('5', DigitEventKind::End, 1000),
            ('7', DigitEventKind::Begin, 3000),
        ]
    );
    assert_eq!(got[1].duration, 320);
    // Nothing more arrives: the event times out.
    assert_eq!(r.poll_timeout(), Some(ms(800)));
    r.handle_timeout(ms(799));
    assert!(r.poll_event().is_none());
    r.handle_timeout(ms(800));
    assert_eq!(
        r.poll_event().map(|e| (e.digit, e.kind, e.duration)),
        Some(('7', DigitEventKind::End, 160))
    );
    // Only the end packets arrive: begin and end at once.
    r.handle_packet(ms(900), 5000, &payload(11, true, 640))
        .expect("payload");
    r.handle_packet(ms(920), 5000, &payload(11, true, 640))
        .expect("payload");
    assert_eq!(
        drain(&mut r)
            .iter()
            .map(|e| (e.digit, e.kind))
            .collect::<Vec<_>>(),
        [('#', DigitEventKind::Begin), ('#', DigitEventKind::End)]
    );
    // Non-DTMF events are ignored; malformed payloads are errors.
    r.handle_packet(ms(950), 7000, &payload(70, false, 160))
        .expect("payload");
    assert!(r.poll_event().is_none());
    assert!(r.handle_packet(ms(960), 7100, &[1, 2, 3]).is_err());
    // Timestamps wrap.
    r.handle_packet(ms(1000), u32::MAX - 100, &payload(1, true, 400))
        .expect("payload");
    r.handle_packet(ms(1100), 300, &payload(2, true, 400))
        .expect("payload");
    assert_eq!(
        drain(&mut r).iter().map(|e| e.digit).collect::<String>(),
        "1122"
    );
}
