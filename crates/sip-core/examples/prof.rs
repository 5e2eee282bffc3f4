//! Temporary profiling helper.
use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use sip_core::Message;
use sip_core::header::{CSeq, CallId, From, MaxForwards, Route, To, Via};

include!("../benches/corpus.rs");

fn main() {
    let bytes = Bytes::from_static(CORPUS[0].1);
    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        black_box(memchr::memchr_iter(b'\n', black_box(&bytes[..])).count());
    }
    println!("memchr lines: {:?}/msg", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        black_box(black_box(&bytes[..]).iter().map(|&b| b as u32).sum::<u32>());
    }
    println!("byte sum: {:?}/msg ({} bytes)", t.elapsed() / n, bytes.len());
    let t = Instant::now();
    for _ in 0..n {
        black_box(Message::parse(black_box(bytes.clone())).ok());
    }
    println!("parse only: {:?}/msg", t.elapsed() / n);
    let m = Message::parse(bytes.clone()).expect("ok");
    macro_rules! time {
        ($name:expr, $e:expr) => {{
            let t = Instant::now();
            for _ in 0..n {
                black_box($e);
            }
            println!("{}: {:?}", $name, t.elapsed() / n);
        }};
    }
    time!("via", m.header::<Via<'_>>().map(|r| r.map(|v| v.branch().map(str::len))));
    time!("from", m.header::<From<'_>>().map(|r| r.map(|v| v.tag().map(str::len))));
    time!("to", m.header::<To<'_>>().map(|r| r.map(|v| v.tag().map(str::len))));
    time!("callid", m.header::<CallId<'_>>().map(|r| r.map(|v| v.0.len())));
    time!("cseq", m.header::<CSeq>().map(|r| r.map(|v| v.seq)));
    time!("mf", m.header::<MaxForwards>().map(|r| r.map(|v| v.0)));
    time!("route", m.headers_of::<Route<'_>>().count());
    time!("name", sip_core::header::HeaderName::from_bytes(black_box(b"Content-Length")));
}

#[allow(dead_code)]
fn calibrate() {}
