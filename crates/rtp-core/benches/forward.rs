//! RTP forwarding through the tokio UDP driver on loopback, in packets per
//! second per core: a sender blasts G.711-sized RTP packets at a relay
//! socket, the relay (one thread, its CPU time measured from
//! /proc/thread-self/schedstat) forwards each to its destination. Beside
//! it, the same relay written with plain tokio `recv_from`/`send_to`.
//!
//! Run: cargo bench -p rtp-core --bench forward

#![allow(missing_docs)]

use std::net::{Ipv4Addr, SocketAddr, UdpSocket as StdSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rtp_core::net::{RecvBatch, SendBatch, UdpDriver};
use rtp_core::packet::RtpHeader;

const PACKETS: u64 = 2_000_000;
const LIMIT: Duration = Duration::from_secs(15);

fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = s
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[derive(Clone, Copy)]
enum Relay {
    Batched,
    PlainTokio,
}

/// Forwards for `LIMIT` or `PACKETS`; returns (packets, CPU time).
fn relay(
    kind: Relay,
    socket: StdSocket,
    sinks: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
) -> (u64, Duration) {
    runtime().block_on(async move {
        let end = Instant::now() + LIMIT;
        let cpu0 = thread_cpu();
        let mut forwarded = 0u64;
        match kind {
            Relay::Batched => {
                let driver = UdpDriver::from_std(socket).expect("driver");
                let mut batch = RecvBatch::new(&driver);
                let mut out = SendBatch::new(&driver);
                while forwarded < PACKETS && Instant::now() < end {
                    let Ok(r) = tokio::time::timeout(
                        Duration::from_millis(200),
                        driver.recv_batch(&mut batch),
                    )
                    .await
                    else {
                        continue;
                    };
                    r.expect("recv");
                    for (_, d) in batch.iter() {
                        // The stream is chosen by the SSRC's low byte.
                        let to = sinks[usize::from(d[11]) % sinks.len()];
                        out.push(to, d);
                        forwarded += 1;
                    }
                    driver.send_batch(&mut out).await.expect("send");
                }
            }
            Relay::PlainTokio => {
                let socket = tokio::net::UdpSocket::from_std(socket).expect("socket");
                let mut buf = [0u8; 2048];
                while forwarded < PACKETS && Instant::now() < end {
                    let Ok(r) = tokio::time::timeout(
                        Duration::from_millis(200),
                        socket.recv_from(&mut buf),
                    )
                    .await
                    else {
                        continue;
                    };
                    let (n, _) = r.expect("recv");
                    let to = sinks[usize::from(buf[11]) % sinks.len()];
                    socket.send_to(&buf[..n], to).await.expect("send");
                    forwarded += 1;
                }
            }
        }
        let cpu = thread_cpu() - cpu0;
        stop.store(true, Ordering::Relaxed);
        (forwarded, cpu)
    })
}

fn sender(to: SocketAddr, streams: u32, stop: Arc<AtomicBool>) {
    runtime().block_on(async move {
        let driver = UdpDriver::bind((Ipv4Addr::LOCALHOST, 0).into()).expect("sender");
        let mut out = SendBatch::new(&driver);
        let mut seq = 0u16;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..64 {
                let mut p = Vec::with_capacity(172);
                RtpHeader {
                    sequence: seq,
                    ssrc: u32::from(seq) % streams,
                    ..Default::default()
                }
                .write(&[0xD5; 160], &mut p)
                .expect("rtp");
                out.push(to, &p);
                seq = seq.wrapping_add(1);
            }
            driver.send_batch(&mut out).await.expect("send");
            tokio::task::yield_now().await;
        }
    });
}

fn run(kind: Relay, streams: u32) -> f64 {
    let socket = StdSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("relay");
    socket.set_nonblocking(true).expect("nonblocking");
    let addr = socket.local_addr().expect("addr");
    // Destinations nobody reads: the kernel drops what overflows them.
    let sinks: Vec<StdSocket> = (0..streams)
        .map(|_| StdSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("sink"))
        .collect();
    let sink_addrs: Vec<SocketAddr> = sinks
        .iter()
        .map(|s| s.local_addr().expect("addr"))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = Arc::clone(&stop);
    let tx = std::thread::spawn(move || sender(addr, streams, s2));
    let (n, cpu) = std::thread::spawn(move || relay(kind, socket, sink_addrs, stop))
        .join()
        .expect("relay");
    tx.join().expect("sender");
    n as f64 / cpu.as_secs_f64()
}

fn main() {
    // `cargo test` runs benches with --bench absent: only run when asked.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    for streams in [1u32, 64] {
        let batched = run(Relay::Batched, streams);
        let plain = run(Relay::PlainTokio, streams);
        println!(
            "forward/{streams} stream(s): batched driver {:.0} packets/s per core, plain tokio {:.0} packets/s per core, ratio {:.2}",
            batched,
            plain,
            batched / plain
        );
    }
}
