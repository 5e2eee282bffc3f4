//! ns per 20 ms frame to encode and to decode, for each codec.

#![allow(missing_docs)]

use std::hint::black_box;

use codec_core::signal::tones;
use codec_core::{Params, Registry};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let registry = Registry::with_defaults();
    let cases = [
        ("PCMU", 8000, Params::default()),
        ("PCMA", 8000, Params::default()),
        ("G722", 8000, Params::default()),
        (
            "opus",
            48000,
            Params {
                bitrate: Some(32000),
                ..Params::default()
            },
        ),
        (
            "opus",
            48000,
            Params {
                sample_rate: Some(16000),
                bitrate: Some(24000),
                ..Params::default()
            },
        ),
    ];
    for (name, clock, params) in cases {
        let mut enc = registry.encoder(name, clock, 1, &params).expect("encoder");
        let mut dec = registry.decoder(name, clock, 1, &params).expect("decoder");
        let info = enc.info();
        let label = format!("{}@{}", info.name, info.sample_rate);
        // One second of a voice-like signal, cycled frame by frame.
        let pcm = tones(
            info.sample_rate,
            info.sample_rate as usize,
            &[(220.0, 6000.0), (700.0, 3000.0), (2400.0, 1000.0)],
        );
        let frames: Vec<&[i16]> = pcm.chunks_exact(info.frame_len()).collect();
        let payloads: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| {
                let mut p = Vec::new();
                enc.encode(f, &mut p).expect("encode");
                p
            })
            .collect();
        let mut i = 0;
        c.bench_function(&format!("encode_20ms/{label}"), |b| {
            b.iter(|| {
                i = (i + 1) % frames.len();
                let mut p = Vec::with_capacity(1500);
                black_box(enc.encode(black_box(frames[i]), &mut p).expect("encode"));
            })
        });
        let mut pcm_out = Vec::with_capacity(2000);
        c.bench_function(&format!("decode_20ms/{label}"), |b| {
            b.iter(|| {
                pcm_out.clear();
                i = (i + 1) % payloads.len();
                black_box(
                    dec.decode(black_box(&payloads[i]), &mut pcm_out)
                        .expect("decode"),
                );
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
