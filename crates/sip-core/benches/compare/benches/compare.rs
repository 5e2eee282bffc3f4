//! sip-core vs rsip vs rsipstack on the same corpus and the same work.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sip_parse_compare::{CORPUS, rsip, rsipstack, sip_core};

fn bench(c: &mut Criterion) {
    type Parser = (&'static str, fn(&'static [u8]) -> usize);
    let parsers: [Parser; 3] = [("sip-core", sip_core), ("rsip", rsip), ("rsipstack", rsipstack)];
    for (name, msg) in CORPUS {
        let mut line = format!("allocations/message {name}:");
        for (p, f) in parsers {
            assert!(f(msg) > 0, "{p} fails on {name}");
            let allocs = allocation_counter::measure(|| {
                black_box(f(msg));
            })
            .count_total;
            line.push_str(&format!(" {p}={allocs}"));
        }
        eprintln!("{line}");
        let mut g = c.benchmark_group(format!("parse_access/{name}"));
        for (p, f) in parsers {
            g.bench_function(p, |b| b.iter(|| black_box(f(black_box(msg)))));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
