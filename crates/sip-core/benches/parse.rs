//! sip-core parse benchmark: for each corpus message, parse and read what a
//! proxy needs (top Via branch and sent-by, From tag, To tag, Call-ID, CSeq,
//! Max-Forwards, Route). Also prints heap allocations per message.
//!
//! Run: `cargo bench -p sip-core --bench parse`. The side-by-side comparison
//! with other Rust SIP parsers is in `benches/compare` (see docs/benchmarks.md).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use sip_core::Message;
use sip_core::header::{CSeq, CallId, From, MaxForwards, Route, To, Via};

include!("corpus.rs");

/// Parses and reads the proxy fields; returns a checksum so nothing is optimised away.
fn work(bytes: Bytes) -> usize {
    let Ok(m) = Message::parse(bytes) else {
        return 0;
    };
    let mut n = 0;
    if let Some(Ok(v)) = m.header::<Via<'_>>() {
        n += v.branch().map_or(0, str::len) + v.port.map_or(0, usize::from);
        n += matches!(v.host, sip_core::Host::Name(_)) as usize;
    }
    if let Some(Ok(f)) = m.header::<From<'_>>() {
        n += f.tag().map_or(0, str::len);
    }
    if let Some(Ok(t)) = m.header::<To<'_>>() {
        n += t.tag().map_or(0, str::len);
    }
    if let Some(Ok(c)) = m.header::<CallId<'_>>() {
        n += c.0.len();
    }
    if let Some(Ok(c)) = m.header::<CSeq>() {
        n += c.seq as usize + c.method.as_str().len();
    }
    if let Some(Ok(mf)) = m.header::<MaxForwards>() {
        n += usize::from(mf.0);
    }
    for r in m.headers_of::<Route<'_>>().flatten() {
        n += r.addr.uri_str().len();
    }
    n
}

fn bench(c: &mut Criterion) {
    for (name, msg) in CORPUS {
        let bytes = Bytes::from_static(msg);
        assert!(work(bytes.clone()) > 0, "{name} must parse");
        let allocs = allocation_counter::measure(|| {
            black_box(work(bytes.clone()));
        })
        .count_total;
        // As the UDP transport hands it over: a buffer of its own, built
        // from a `Vec` (outside the count). Keeping the checked header text
        // as a second handle on it makes it shared: one more allocation.
        let received = Bytes::from(msg.to_vec());
        let allocs_received = allocation_counter::measure(move || {
            black_box(work(received));
        })
        .count_total;
        eprintln!(
            "allocations/message {name}: sip-core {allocs} (static buffer), {allocs_received} (received buffer)"
        );
        let mut g = c.benchmark_group(format!("parse_access/{name}"));
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_function("sip-core", |b| {
            b.iter(|| black_box(work(black_box(bytes.clone()))))
        });
        g.finish();
    }
}

mod harness {
    //! criterion's generated entry points.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(harness::benches);
