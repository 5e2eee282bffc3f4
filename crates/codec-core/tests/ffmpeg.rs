//! Cross-checks against ffmpeg, an implementation nobody here wrote
//! (Debian `ffmpeg`, installed by `.ci/run`): our encoder feeds ffmpeg's
//! decoder and ffmpeg's encoder feeds ours, on the same signal, with an SNR
//! threshold a broken codec fails. Missing ffmpeg fails the tests.

mod ogg;

use std::path::Path;

use codec_core::g711::{G711Decoder, Law};
use codec_core::g722::{G722Decoder, G722Encoder};
use codec_core::opus::{OpusConfig, OpusDecoder, OpusEncoder};
use codec_core::signal::{aligned_snr_db, tone_level_db, tones};
use codec_core::{Decoder, Encoder};
use sip_test::tools::{Scratch, ffmpeg};

/// `ffmpeg <in_args> -i <input> <out_args> <output>`, arguments split on spaces.
fn convert(in_args: &str, input: &Path, out_args: &str, output: &Path) {
    let mut args: Vec<&str> = in_args.split_whitespace().collect();
    args.extend(["-i", s(input)]);
    args.extend(out_args.split_whitespace());
    args.push(s(output));
    ffmpeg(&args);
}

fn write_pcm(path: &Path, pcm: &[i16]) {
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(path, bytes).expect("write pcm");
}

fn read_pcm(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .expect("read pcm")
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A speech-band test signal: a few harmonics with a slow tremolo.
fn voice(rate: u32, seconds: usize) -> Vec<i16> {
    let base = tones(
        rate,
        rate as usize * seconds,
        &[
            (220.0, 5000.0),
            (440.0, 3000.0),
            (1330.0, 1500.0),
            (2650.0, 800.0),
        ],
    );
    base.iter()
        .enumerate()
        .map(|(n, &x)| {
            let t = n as f64 / f64::from(rate);
            (f64::from(x) * (0.6 + 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).sin())) as i16
        })
        .collect()
}

#[test]
fn g711_decoding_matches_ffmpeg_for_every_code() {
    let dir = Scratch::new("codec-g711");
    let codes: Vec<u8> = (0..=255).collect();
    std::fs::write(dir.path("codes"), &codes).expect("write");
    for (law, format) in [(Law::Mu, "mulaw"), (Law::A, "alaw")] {
        let out = dir.path(&format!("{format}.raw"));
        convert(
            &format!("-f {format} -ar 8000 -ac 1"),
            &dir.path("codes"),
            "-f s16le",
            &out,
        );
        let theirs = read_pcm(&out);
        let mut ours = Vec::new();
        G711Decoder::new(law, 20)
            .decode(&codes, &mut ours)
            .expect("decode");
        assert_eq!(ours, theirs, "{law:?}");
    }
}

#[test]
fn g711_encoding_is_within_one_step_of_ffmpeg_for_every_input() {
    // ffmpeg builds its encoder tables from the decoder's midpoints rather
    // than G.191's bit arithmetic, so codes may differ right at interval
    // boundaries: by one step, on a small fraction of the 65,536 inputs.
    let dir = Scratch::new("codec-g711enc");
    let pcm: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    write_pcm(&dir.path("in.raw"), &pcm);
    for (law, format) in [(Law::Mu, "mulaw"), (Law::A, "alaw")] {
        let out = dir.path(&format!("{format}.bin"));
        convert(
            "-f s16le -ar 8000 -ac 1",
            &dir.path("in.raw"),
            &format!("-f {format}"),
            &out,
        );
        let theirs = std::fs::read(&out).expect("read");
        let mut ours = Vec::new();
        codec_core::g711::encode_into(law, &pcm, &mut ours);
        assert_eq!(ours.len(), theirs.len());
        let mut differ = 0;
        for ((x, &a), &b) in pcm.iter().zip(&ours).zip(&theirs) {
            if a != b {
                differ += 1;
                let (da, db) = (i32::from(law.decode(a)), i32::from(law.decode(b)));
                // Neighbouring levels: nothing lies between them.
                let between = (0..=255u8)
                    .map(|c| i32::from(law.decode(c)))
                    .filter(|&v| v > da.min(db) && v < da.max(db))
                    .count();
                assert_eq!(between, 0, "{law:?} x={x}: ours {da}, ffmpeg {db}");
            }
        }
        assert!(differ * 50 < pcm.len(), "{law:?}: {differ} inputs differ");
    }
}

#[test]
fn g722_against_ffmpeg_both_ways() {
    let dir = Scratch::new("codec-g722");
    let pcm = voice(16000, 2);
    write_pcm(&dir.path("in.raw"), &pcm);

    // Ours → ffmpeg's decoder.
    let mut ours = Vec::new();
    let mut enc = G722Encoder::new(20);
    for frame in pcm.chunks_exact(320) {
        enc.encode(frame, &mut ours).expect("encode");
    }
    std::fs::write(dir.path("ours.g722"), &ours).expect("write");
    convert(
        "-f g722",
        &dir.path("ours.g722"),
        "-f s16le -ar 16000",
        &dir.path("ours.raw"),
    );
    let decoded = read_pcm(&dir.path("ours.raw"));
    let (snr, lag) = aligned_snr_db(&pcm[..30000], &decoded, 64);
    eprintln!("ours -> ffmpeg: {snr:.1} dB at lag {lag}");
    assert!(snr > 20.0, "ours -> ffmpeg: {snr:.1} dB at lag {lag}");

    // ffmpeg's encoder → ours.
    convert(
        "-f s16le -ar 16000 -ac 1",
        &dir.path("in.raw"),
        "-c:a g722 -f g722",
        &dir.path("theirs.g722"),
    );
    let theirs = std::fs::read(dir.path("theirs.g722")).expect("read");
    let mut decoded = Vec::new();
    G722Decoder::new(20)
        .decode(&theirs, &mut decoded)
        .expect("decode");
    let (snr, lag) = aligned_snr_db(&pcm[..30000], &decoded, 64);
    eprintln!("ffmpeg -> ours: {snr:.1} dB at lag {lag}");
    assert!(snr > 20.0, "ffmpeg -> ours: {snr:.1} dB at lag {lag}");

    // Both follow the Recommendation's arithmetic: the same bytes.
    let same = ours.iter().zip(&theirs).filter(|(a, b)| a == b).count();
    assert_eq!(same, ours.len().min(theirs.len()), "encoders differ");
}

/// The voice signal's tones must come out at their level (±3 dB) and
/// nothing else strong: a spectral match that a broken codec fails.
fn assert_spectrum(what: &str, source: &[i16], decoded: &[i16], rate: u32) {
    for hz in [220.0, 440.0, 1330.0, 2650.0] {
        let want = tone_level_db(source, rate, hz);
        let got = tone_level_db(decoded, rate, hz);
        eprintln!("{what}: {hz} Hz {want:.1} dB -> {got:.1} dB");
        assert!(
            (want - got).abs() < 3.0,
            "{what}: {hz} Hz {want:.1} dB -> {got:.1} dB"
        );
    }
    for hz in [1000.0, 3500.0, 5000.0] {
        let got = tone_level_db(decoded, rate, hz);
        assert!(got < -45.0, "{what}: {hz} Hz at {got:.1} dB");
    }
}

fn opus_packets(config: OpusConfig, pcm: &[i16]) -> Vec<Vec<u8>> {
    let mut enc = OpusEncoder::new(config).expect("encoder");
    pcm.chunks_exact(enc.info().frame_len())
        .map(|frame| {
            let mut p = Vec::new();
            enc.encode(frame, &mut p).expect("encode");
            p
        })
        .collect()
}

#[test]
fn opus_against_ffmpeg_both_ways() {
    let dir = Scratch::new("codec-opus");
    let config = OpusConfig {
        sample_rate: 48000,
        bitrate: Some(64000),
        ..OpusConfig::default()
    };
    let pcm = voice(48000, 2);

    // Ours → ffmpeg's own Opus decoder (not libopus).
    let packets = opus_packets(config, &pcm);
    std::fs::write(
        dir.path("ours.opus"),
        ogg::write_opus(&packets, 1, 48000, 960),
    )
    .expect("write");
    convert(
        "-c:a opus",
        &dir.path("ours.opus"),
        "-f s16le -ar 48000 -ac 1",
        &dir.path("ours.raw"),
    );
    let decoded = read_pcm(&dir.path("ours.raw"));
    let mut own = Vec::new();
    let mut dec = OpusDecoder::new(config).expect("decoder");
    for p in &packets {
        dec.decode(p, &mut own).expect("decode");
    }
    let (agree, lag) = aligned_snr_db(&own[..90000], &decoded, 2000);
    eprintln!("ffmpeg's decoder vs libopus on our packets: {agree:.1} dB at lag {lag}");
    assert!(agree > 20.0, "decoders disagree: {agree:.1} dB");
    assert_spectrum(
        "ours -> ffmpeg",
        &pcm[..90000],
        &decoded[2000..92000],
        48000,
    );

    // ffmpeg's own encoder → ours.
    write_pcm(&dir.path("in.raw"), &pcm);
    convert(
        "-f s16le -ar 48000 -ac 1",
        &dir.path("in.raw"),
        "-c:a opus -strict -2 -b:a 96k",
        &dir.path("theirs.opus"),
    );
    let data = std::fs::read(dir.path("theirs.opus")).expect("read");
    let packets = ogg::read_packets(&data);
    assert!(packets[0].starts_with(b"OpusHead"), "not Ogg Opus");
    let channels = packets[0][9];
    let pre_skip = usize::from(u16::from_le_bytes([packets[0][10], packets[0][11]]));
    let mut dec = OpusDecoder::new(OpusConfig { channels, ..config }).expect("decoder");
    let mut decoded = Vec::new();
    for p in &packets[2..] {
        dec.decode(p, &mut decoded).expect("decode");
    }
    let mono: Vec<i16> = decoded
        .chunks(usize::from(channels))
        .map(|c| c[0])
        .collect();
    let (snr, lag) = aligned_snr_db(&pcm[..90000], &mono[pre_skip.min(mono.len())..], 960);
    eprintln!("ffmpeg -> ours: {snr:.1} dB at lag {lag}");
    assert!(snr > 15.0, "ffmpeg -> ours: {snr:.1} dB at lag {lag}");
    assert_spectrum("ffmpeg -> ours", &pcm[..90000], &mono[2000..92000], 48000);
}
