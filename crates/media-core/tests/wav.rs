//! WAV files: exact round trips, and ffmpeg reading ours and writing ones
//! we read, for PCM16 and both G.711 laws at telephony rates.

use media_core::wav::{Wav, WavFormat};
use sip_test::tools::{Scratch, ffmpeg};

/// ffmpeg's decode of a file to interleaved s16le.
fn ffmpeg_samples(path: &std::path::Path) -> Vec<i16> {
    let raw = ffmpeg(&["-i", path.to_str().expect("path"), "-f", "s16le", "-"]);
    raw.chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn sweep(rate: u32, channels: u16, n: usize) -> Vec<i16> {
    (0..n * usize::from(channels))
        .map(|i| {
            let t = (i / usize::from(channels)) as f64 / f64::from(rate);
            let f = 200.0 + 3000.0 * t + 500.0 * (i % usize::from(channels)) as f64;
            (12_000.0 * (2.0 * std::f64::consts::PI * f * t).sin()) as i16
        })
        .collect()
}

const FORMATS: [WavFormat; 3] = [WavFormat::Pcm16, WavFormat::ALaw, WavFormat::MuLaw];

#[test]
fn every_format_rate_and_layout_round_trips() {
    for format in FORMATS {
        for rate in [8000, 16_000, 48_000] {
            for channels in [1u16, 2] {
                let wav = Wav {
                    format,
                    sample_rate: rate,
                    channels,
                    samples: sweep(rate, channels, 801),
                };
                let back = Wav::parse(&wav.to_bytes()).expect("parse");
                assert_eq!(
                    (back.format, back.sample_rate, back.channels),
                    (format, rate, channels)
                );
                if format == WavFormat::Pcm16 {
                    assert_eq!(back.samples, wav.samples);
                } else {
                    // G.711 keeps every sample within one quantization step.
                    for (a, b) in back.samples.iter().zip(&wav.samples) {
                        let step = (i32::from(*b).abs() / 16).max(16);
                        assert!((i32::from(*a) - i32::from(*b)).abs() <= step, "{a} vs {b}");
                    }
                    // And decoding is idempotent on what the file holds.
                    let again = Wav::parse(&back.to_bytes()).expect("again");
                    assert_eq!(again.samples, back.samples);
                }
            }
        }
    }
}

#[test]
fn ffmpeg_reads_our_files() {
    let dir = Scratch::new("media-wav-ours");
    for (format, rate, channels) in [
        (WavFormat::Pcm16, 48_000, 2u16),
        (WavFormat::ALaw, 8000, 1),
        (WavFormat::MuLaw, 16_000, 2),
    ] {
        let wav = Wav {
            format,
            sample_rate: rate,
            channels,
            samples: sweep(rate, channels, 4001),
        };
        let path = dir.path(&format!("ours-{format:?}-{rate}-{channels}.wav"));
        std::fs::write(&path, wav.to_bytes()).expect("write");
        let decoded = Wav::parse(&wav.to_bytes()).expect("parse").samples;
        assert_eq!(ffmpeg_samples(&path), decoded, "{format:?}");
        let probe = ffmpeg(&["-i", path.to_str().expect("path"), "-f", "null", "-"]);
        assert!(probe.is_empty());
    }
}

#[test]
fn we_read_ffmpeg_files() {
    let dir = Scratch::new("media-wav-theirs");
    for (codec, format, rate, layout) in [
        ("pcm_s16le", WavFormat::Pcm16, "16000", "1"),
        ("pcm_alaw", WavFormat::ALaw, "8000", "1"),
        ("pcm_mulaw", WavFormat::MuLaw, "48000", "2"),
    ] {
        let path = dir.path(&format!("theirs-{codec}-{rate}.wav"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=700:sample_rate={rate}:duration=0.5"),
            "-ac",
            layout,
            "-c:a",
            codec,
            path.to_str().expect("path"),
        ]);
        let wav = Wav::parse(&std::fs::read(&path).expect("read")).expect("parse");
        assert_eq!(wav.format, format);
        assert_eq!(wav.sample_rate.to_string(), rate);
        assert_eq!(wav.channels.to_string(), layout);
        assert_eq!(wav.samples, ffmpeg_samples(&path), "{codec}");
        assert!(wav.samples.len() >= 4000);
    }
}

#[test]
fn bad_files_are_named_errors() {
    assert!(Wav::parse(b"").is_err());
    assert!(
        Wav::parse(b"RIFF\0\0\0\0AVI LIST")
            .expect_err("avi")
            .to_string()
            .contains("RIFF/WAVE")
    );
    let dir = Scratch::new("media-wav-s24");
    let path = dir.path("s24.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=0.1",
        "-c:a",
        "pcm_s24le",
        path.to_str().expect("path"),
    ]);
    let e = Wav::parse(&std::fs::read(&path).expect("read")).expect_err("24-bit");
    assert!(e.to_string().contains("24 bits"), "{e}");
    let good = Wav {
        format: WavFormat::Pcm16,
        sample_rate: 8000,
        channels: 1,
        samples: vec![1; 100],
    }
    .to_bytes();
    for cut in [20, 30, 40] {
        assert!(Wav::parse(&good[..cut]).is_err(), "cut at {cut}");
    }
    // A truncated data chunk yields the samples present.
    assert_eq!(Wav::parse(&good[..60]).expect("partial").samples.len(), 8);
}
