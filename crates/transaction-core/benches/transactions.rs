//! Server transactions per second through the sans-IO layer: a request comes
//! in (parsed from bytes), the TU answers with a response built from it, the
//! response is sent, and the transaction ends (at once over TCP; over UDP
//! after Timer J/H/I, which the bench fires by advancing virtual time).
//! Also reports heap bytes per live transaction.
//!
//! Run: `cargo bench -p transaction-core --bench transactions`

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_main};
use sip_core::builder::response_to;
use sip_core::{Message, StatusCode};
use transaction_core::{Config, Event, Inbound, TransactionLayer, Transport};

fn request(method: &str, i: u64) -> Bytes {
    Bytes::from(format!(
        "{method} sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{i:016x};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=a{i}\r\n\
To: <sip:bob@example.com>\r\n\
Call-ID: {i}@bench.example.com\r\n\
CSeq: 1 {method}\r\n\
Content-Length: 0\r\n\r\n"
    ))
}

/// One complete server transaction; returns the number of bytes sent.
fn one(
    layer: &mut TransactionLayer,
    now: Instant,
    bytes: Bytes,
    transport: Transport,
    code: StatusCode,
) -> usize {
    let source: SocketAddr = "192.0.2.10:5060".parse().expect("addr");
    let Ok(message) = Message::parse(bytes) else {
        return 0;
    };
    layer.handle_message(
        now,
        Inbound {
            message,
            transport,
            source,
        },
    );
    let mut sent = 0;
    while let Some(e) = layer.poll_event() {
        if let Event::Request { id, request, .. } = e
            && let Ok(resp) = response_to(&request, code, Some("srv1")).build()
        {
            let _ = layer.send_response(now, id, resp);
        }
    }
    while let Some(t) = layer.poll_transmit() {
        sent += t.payload.len();
    }
    sent
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("server_transaction");
    g.throughput(Throughput::Elements(1));
    for (name, method, code) in [
        ("non_invite", "OPTIONS", StatusCode::OK),
        ("invite_486", "INVITE", StatusCode::BUSY_HERE),
    ] {
        for transport in [Transport::Tcp, Transport::Udp] {
            // Distinct requests prepared outside the timed loop.
            let ring: Vec<Bytes> = (0..65_536).map(|i| request(method, i)).collect();
            g.bench_function(format!("{name}/{transport:?}"), |b| {
                let mut layer = TransactionLayer::new(Config::default());
                let t0 = Instant::now();
                let mut i = 0u64;
                b.iter(|| {
                    i += 1;
                    let now = t0 + Duration::from_micros(i);
                    let bytes = ring[(i % ring.len() as u64) as usize].clone();
                    let sent = one(&mut layer, now, bytes, transport, code);
                    if i.is_multiple_of(1024) {
                        // Advance past Timers J/H/I so finished transactions end.
                        layer.handle_timeout(now + Duration::from_secs(33));
                        while layer.poll_event().is_some() {}
                        while layer.poll_transmit().is_some() {}
                    }
                    black_box(sent)
                });
            });
        }
    }
    g.finish();

    // Memory per live transaction: 10,000 non-INVITE server transactions
    // answered over UDP and waiting in Completed (Timer J pending). The
    // requests are allocated before counting starts; the responses the
    // transactions keep for retransmission are message bytes and are
    // reported apart.
    let mut layer = TransactionLayer::new(Config::default());
    let t0 = Instant::now();
    let msgs: Vec<Bytes> = (0..10_000).map(|i| request("OPTIONS", i)).collect();
    let mut response_bytes = 0usize;
    let info = allocation_counter::measure(|| {
        for m in &msgs {
            response_bytes += one(&mut layer, t0, m.clone(), Transport::Udp, StatusCode::OK);
        }
    });
    let n = layer.len().max(1);
    let held = info.bytes_current as usize;
    eprintln!(
        "live transactions: {}; heap held {} bytes = {} per transaction, of which {} the retained response; {} per transaction besides message bytes",
        layer.len(),
        held,
        held / n,
        response_bytes / n,
        held.saturating_sub(response_bytes) / n
    );
}

mod harness {
    //! criterion's generated entry points.
    #![allow(missing_docs)]
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(harness::benches);
