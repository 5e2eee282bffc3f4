//! SRTP protect/unprotect of a 160-octet payload (20 ms of G.711): rtp-core
//! beside webrtc-srtp, both with a 64-packet replay window on receive.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rtp_core::srtp::{Profile, SrtpContext};
use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

const CHUNK: u64 = 4096;

fn packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0x00, 0, 0, 0, 0, 0x12, 0x34, 0xCA, 0xFE, 0xBA, 0xBE];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p.extend((0..160).map(|i| i as u8));
    p
}

fn ours(profile: Profile) -> SrtpContext {
    SrtpContext::new(profile, &[3; 16], &vec![4; profile.master_salt_len()]).expect("ctx")
}

fn theirs(profile: Profile) -> Context {
    let p = match profile {
        Profile::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
        Profile::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        Profile::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
    };
    Context::new(
        &[3; 16],
        &vec![4; profile.master_salt_len()],
        p,
        Some(srtp_replay_protection(64)),
        Some(srtcp_replay_protection(64)),
    )
    .expect("ctx")
}

fn bench(c: &mut Criterion) {
    for profile in [
        Profile::AesCm128HmacSha1_80,
        Profile::AesCm128HmacSha1_32,
        Profile::AeadAes128Gcm,
    ] {
        let mut g = c.benchmark_group(format!("srtp/{profile}"));
        let plain: Vec<Vec<u8>> = (0..CHUNK as u16).map(packet).collect();
        let protected: Vec<Vec<u8>> = {
            let mut tx = ours(profile);
            plain
                .iter()
                .map(|p| {
                    let mut b = p.clone();
                    tx.protect_rtp(&mut b).expect("protect");
                    b
                })
                .collect()
        };
        let mut tx = ours(profile);
        let mut buf = Vec::with_capacity(256);
        let mut seq = 0u16;
        g.bench_function("protect/rvoip", |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(&plain[0]);
                buf[2..4].copy_from_slice(&seq.to_be_bytes());
                seq = seq.wrapping_add(1);
                tx.protect_rtp(&mut buf).expect("protect");
                black_box(buf.len())
            })
        });
        let mut tx = theirs(profile);
        let mut p = plain[0].clone();
        let mut seq = 0u16;
        g.bench_function("protect/webrtc-srtp", |b| {
            b.iter(|| {
                p[2..4].copy_from_slice(&seq.to_be_bytes());
                seq = seq.wrapping_add(1);
                black_box(tx.encrypt_rtp(&p).expect("protect").len())
            })
        });
        g.bench_function("unprotect/rvoip", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(CHUNK);
                    let mut rx = ours(profile);
                    let start = Instant::now();
                    for p in &protected[..n as usize] {
                        buf.clear();
                        buf.extend_from_slice(p);
                        rx.unprotect_rtp(&mut buf).expect("unprotect");
                        black_box(buf.len());
                    }
                    total += start.elapsed();
                    left -= n;
                }
                total
            })
        });
        g.bench_function("unprotect/webrtc-srtp", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(CHUNK);
                    let mut rx = theirs(profile);
                    let start = Instant::now();
                    for p in &protected[..n as usize] {
                        black_box(rx.decrypt_rtp(p).expect("unprotect").len());
                    }
                    total += start.elapsed();
                    left -= n;
                }
                total
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
