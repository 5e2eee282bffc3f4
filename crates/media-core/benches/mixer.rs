//! Mixer capacity: one 20 ms tick of a G.711 µ-law conference where every
//! participant talks: decode each payload, mix-minus, encode each output.
//! Participants per core in real time = N × 20 ms / time per tick.
#![allow(missing_docs)]

use codec_core::g711::{Law, decode_into, encode_into};
use codec_core::signal::tones;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use media_core::mixer::{Mixer, MixerConfig, ParticipantId};

fn conference(c: &mut Criterion) {
    let mut group = c.benchmark_group("mixer_g711_tick");
    for &n in &[100usize, 2000] {
        let mut mixer = Mixer::new(MixerConfig::default()).expect("config");
        let ids: Vec<ParticipantId> = (0..n).map(|_| mixer.add(8000).expect("add")).collect();
        // Each participant's 20 ms payload: a tone at its own pitch.
        let payloads: Vec<Vec<u8>> = (0..n)
            .map(|i| {
                let pcm = tones(8000, 160, &[(200.0 + i as f64, 300.0)]);
                let mut out = Vec::with_capacity(160);
                encode_into(Law::Mu, &pcm, &mut out);
                out
            })
            .collect();
        let mut pcm = Vec::with_capacity(160);
        let mut encoded: Vec<Vec<u8>> = vec![Vec::with_capacity(160); n];
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                for (id, payload) in ids.iter().zip(&payloads) {
                    pcm.clear();
                    decode_into(Law::Mu, payload, &mut pcm);
                    mixer.push(*id, &pcm).expect("push");
                }
                mixer.mix();
                for (id, out) in ids.iter().zip(&mut encoded) {
                    out.clear();
                    encode_into(Law::Mu, mixer.output(*id).expect("output"), out);
                }
                encoded[0][0]
            })
        });
    }
    group.finish();
}

criterion_group!(benches, conference);
criterion_main!(benches);
