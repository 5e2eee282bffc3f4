//! Jitter-buffer cost per packet: push one packet and pop one frame, in
//! order and with neighbours swapped.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rtp_core::jitter::{JitterBuffer, JitterConfig};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("jitter");
    for (name, swap) in [("push+pop in order", false), ("push+pop reordered", true)] {
        g.bench_function(name, |b| {
            let t0 = Instant::now();
            let mut jb = JitterBuffer::new(8000, JitterConfig::default());
            let payload = [0u8; 160];
            let mut i: u64 = 0;
            b.iter(|| {
                let n = if swap { i ^ 1 } else { i };
                let now = t0 + Duration::from_millis(20 * i);
                jb.push(
                    now,
                    n as u16,
                    (n as u32).wrapping_mul(160),
                    false,
                    &payload[..],
                );
                i += 1;
                black_box(jb.pop(now))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
