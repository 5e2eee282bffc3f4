//! Tone generation: DTMF pairs and levels, cadences sample-exact, seamless
//! frames, every country plan, and spec errors.

use codec_core::signal::tone_level_db;
use media_core::level::dbov;
use media_core::tones::{
    CallProgress, DTMF_HIGH, DTMF_LOW, ToneGenerator, ToneSpec, dbm0_amplitude, dtmf_frequencies,
    tone_plan, tone_plan_countries,
};

/// dB relative to full-scale sine of a sine at `dbm0`.
fn dbfs(dbm0: f64) -> f64 {
    20.0 * (dbm0_amplitude(dbm0) / 32767.0).log10()
}

#[test]
fn dtmf_digits_have_their_pair_at_their_levels() {
    for digit in "0123456789*#ABCD".chars() {
        let (low, high) = dtmf_frequencies(digit).expect("digit");
        let mut g = ToneGenerator::dtmf(digit, 8000, -8.0, -6.0).expect("digit");
        let pcm = g.take(800);
        let l = tone_level_db(&pcm, 8000, low);
        let h = tone_level_db(&pcm, 8000, high);
        assert!((l - dbfs(-8.0)).abs() < 0.3, "{digit} low {l:.2}");
        assert!((h - dbfs(-6.0)).abs() < 0.3, "{digit} high {h:.2}");
        for f in DTMF_LOW.iter().chain(&DTMF_HIGH) {
            if *f != low && *f != high {
                let other = tone_level_db(&pcm, 8000, *f);
                assert!(other < l - 20.0, "{digit} leaks {f} Hz at {other:.1}");
            }
        }
    }
    assert_eq!(dtmf_frequencies('x'), None);
    assert_eq!(dtmf_frequencies('a'), Some((697.0, 1633.0)));
    assert!(ToneGenerator::dtmf('x', 8000, -8.0, -6.0).is_none());
}

#[test]
fn frames_join_without_seams() {
    let spec: ToneSpec = "350+440".parse().expect("spec");
    let whole = ToneGenerator::new(&spec, 16000, -10.0).take(16000);
    let mut g = ToneGenerator::new(&spec, 16000, -10.0);
    let mut framed = Vec::new();
    for _ in 0..50 {
        framed.extend(g.take(320));
    }
    assert_eq!(whole, framed);
    // And the oscillators do not drift in amplitude over a minute.
    let mut g = ToneGenerator::new(&"1000".parse().expect("spec"), 48000, 0.0);
    let first = dbov(&g.take(4800));
    for _ in 0..599 {
        g.take(4800);
    }
    let last = dbov(&g.take(4800));
    assert!((first - last).abs() < 0.01, "{first} vs {last}");
}

/// The on/off pattern of `pcm` in 5 ms steps at 8 kHz: true where a 5 ms
/// block has energy.
fn pattern(pcm: &[i16]) -> Vec<bool> {
    pcm.chunks(40).map(|c| dbov(c) > -60.0).collect()
}

/// Expands a cadence of (on, ms) into 5 ms steps.
fn expected(cadence: &[(bool, usize)], steps: usize) -> Vec<bool> {
    cadence
        .iter()
        .flat_map(|&(on, ms)| std::iter::repeat_n(on, ms / 5))
        .cycle()
        .take(steps)
        .collect()
}

#[test]
fn cadences_are_sample_exact() {
    let us = tone_plan("us").expect("us");
    let ring = ToneGenerator::new(&us.tone(CallProgress::Ringback), 8000, -19.0).take(8000 * 13);
    assert_eq!(
        pattern(&ring),
        expected(&[(true, 2000), (false, 4000)], 2600)
    );
    // The switch falls on the exact sample.
    assert!(ring[15999] != 0 || ring[15998] != 0);
    assert!(ring[16000..16100].iter().all(|&s| s == 0));
    assert!((tone_level_db(&ring[..16000], 8000, 440.0) - dbfs(-19.0)).abs() < 0.3);
    assert!((tone_level_db(&ring[..16000], 8000, 480.0) - dbfs(-19.0)).abs() < 0.3);

    let uk = tone_plan("uk").expect("uk");
    assert_eq!(uk.country, "gb");
    let ring = ToneGenerator::new(&uk.tone(CallProgress::Ringback), 8000, -19.0).take(8000 * 6);
    assert_eq!(
        pattern(&ring),
        expected(
            &[(true, 400), (false, 200), (true, 400), (false, 2000)],
            1200
        )
    );
    let congestion =
        ToneGenerator::new(&uk.tone(CallProgress::Congestion), 8000, -19.0).take(8000 * 3);
    assert_eq!(
        pattern(&congestion),
        expected(&[(true, 400), (false, 350), (true, 225), (false, 525)], 600)
    );
    let busy = ToneGenerator::new(
        &tone_plan("de").expect("de").tone(CallProgress::Busy),
        8000,
        -10.0,
    )
    .take(8000 * 4);
    assert_eq!(pattern(&busy), expected(&[(true, 480), (false, 480)], 800));
    // Dial tone never stops.
    let dial = ToneGenerator::new(&us.tone(CallProgress::Dial), 8000, -10.0).take(8000 * 30);
    assert!(pattern(&dial).iter().all(|&on| on));
}

#[test]
fn modulated_tones_have_sidebands() {
    let india = tone_plan("in").expect("in");
    let dial = ToneGenerator::new(&india.tone(CallProgress::Dial), 8000, -10.0).take(8000);
    let carrier = tone_level_db(&dial, 8000, 400.0);
    let lower = tone_level_db(&dial, 8000, 375.0);
    let upper = tone_level_db(&dial, 8000, 425.0);
    // Full modulation: each sideband 6 dB under the carrier.
    assert!((carrier - lower - 6.02).abs() < 0.3, "{carrier} {lower}");
    assert!((carrier - upper - 6.02).abs() < 0.3, "{carrier} {upper}");
}

#[test]
fn every_plan_parses_and_prints_back() {
    let mut n = 0;
    for country in tone_plan_countries() {
        let plan = tone_plan(country).expect(country);
        for which in [
            CallProgress::Dial,
            CallProgress::Ringback,
            CallProgress::Busy,
            CallProgress::Congestion,
        ] {
            let spec = plan.tone(which);
            let again: ToneSpec = spec.to_string().parse().expect("round trip");
            assert_eq!(spec, again, "{country} {which:?}");
            // Busy and congestion interrupt; dial tone is continuous in
            // most places.
            if matches!(which, CallProgress::Busy | CallProgress::Congestion) {
                assert!(spec.segments.len() >= 2, "{country} {which:?}");
            }
        }
        n += 1;
    }
    assert!(n >= 14);
    assert!(tone_plan("zz").is_none());
}

#[test]
fn bad_specs_name_the_part() {
    for (bad, part) in [
        ("", "\"\""),
        ("350+", "\"350+\""),
        ("350/xx", "\"xx\""),
        ("350/0", "\"0\""),
        ("350,0/500", "follows an endless"),
        ("abc", "\"abc\""),
        ("90000", "90000"),
        ("400*", "400*"),
    ] {
        let err = bad.parse::<ToneSpec>().expect_err(bad).to_string();
        assert!(err.contains(part), "{bad:?}: {err}");
    }
}
