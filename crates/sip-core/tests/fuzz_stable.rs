//! The fuzz entry points (`sip_core::fuzzing`, also driven by cargo-fuzz in
//! `fuzz/`) on stable Rust: 24,000 random and mutated inputs, deterministic
//! seed, no panic allowed. A panic names the input (hex) to reproduce it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use sip_core::fuzzing;

include!("../benches/corpus.rs");

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[&[u8]] = &[
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"\r",
    b" ",
    b"\t",
    b":",
    b";",
    b",",
    b"\"",
    b"\\",
    b"<",
    b">",
    b"%",
    b"%0",
    b"@",
    b"[",
    b"]",
    b"=",
    b"?",
    b"/",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"4294967296",
    b"99999999999999999999",
    b"-1",
    b"0",
    b"SIP/2.0",
    b"sip:",
    b"sips:[",
    b"tel:+",
    b";tag=",
    b";branch=",
    b"Content-Length: ",
    b"l: 9",
    b"Via: ",
    b"v=0\r\n",
    b"m=audio ",
    b"a=rtpmap:",
    b"c=IN IP6 ",
    b"\r\n ",
    b"::ffff:",
    b":::",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(len + 1);
                let ins = INTERESTING[rng.below(INTERESTING.len())];
                v.splice(i..i, ins.iter().copied());
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(32)).min(len);
                v.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            4 => v.truncate(rng.below(len + 1)),
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            6 => {
                let i = rng.below(len + 1);
                let byte = INTERESTING[rng.below(INTERESTING.len())][0];
                let n = 1 + rng.below(2000);
                v.splice(i..i, std::iter::repeat_n(byte, n));
            }
            7 if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            _ => {
                let i = rng.below(len + 1);
                let n = rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(i..i, bytes);
            }
        }
    }
    v
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = CORPUS.iter().map(|(_, m)| m.to_vec()).collect();
    for dir in ["rfc4475", "rfc5118"] {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", dir]
            .iter()
            .collect();
        for e in std::fs::read_dir(path).expect("fixtures") {
            out.push(std::fs::read(e.expect("entry").path()).expect("read"));
        }
    }
    out
}

fn run(name: &str, f: fn(&[u8]), input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
        let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
        panic!("{name} panicked on input (hex): {hex}");
    }
}

#[test]
fn twenty_four_thousand_inputs_never_panic() {
    let seeds = seeds();
    let uris: Vec<Vec<u8>> = [
        "sip:alice:secret@atlanta.example.com:5060;transport=tcp;lr?subject=hi",
        "sips:[2001:db8::1]:5061;maddr=239.255.255.1",
        "sip:user;par=u%40example.net@example.com",
        "tel:+1-201-555-0123;ext=1234",
        "tel:7042;phone-context=example.com",
        "sip:[::ffff:192.0.2.1]",
        "urn:service:sos",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let sdps: Vec<Vec<u8>> = [
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendonly\r\n",
        "v=0\r\no=- 1 2 IN IP6 ::1\r\ns=x\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP6 ::1\r\na=rtcp:9 IN IP6 ::1\r\na=rtcp-mux\r\na=setup:actpass\r\na=mid:0\r\na=fingerprint:sha-256 AB:CD\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();

    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let mut count = 0usize;
    // 12,000 mutated messages, as datagrams and as streams.
    for _ in 0..12_000 {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, &seeds, base);
        run("message", fuzzing::message, &input);
        run("stream", fuzzing::stream, &input);
        count += 1;
    }
    // 4,000 random byte strings through every entry point.
    for _ in 0..4_000 {
        let n = rng.below(512);
        let input: Vec<u8> = (0..n)
            .map(|_| {
                if rng.below(4) == 0 {
                    rng.next() as u8
                } else {
                    b" :;,<>\"@\r\nSIPsipv=/0123abc"[rng.below(26)]
                }
            })
            .collect();
        run("message", fuzzing::message, &input);
        run("stream", fuzzing::stream, &input);
        run("uri", fuzzing::uri, &input);
        run("sdp", fuzzing::sdp, &input);
        count += 1;
    }
    // 4,000 mutated URIs and 4,000 mutated SDP bodies.
    for _ in 0..4_000 {
        let pick = rng.below(uris.len());
        let input = mutate(&mut rng, &uris, &uris[pick]);
        run("uri", fuzzing::uri, &input);
        let pick = rng.below(sdps.len());
        let input = mutate(&mut rng, &sdps, &sdps[pick]);
        run("sdp", fuzzing::sdp, &input);
        count += 2;
    }
    assert!(count >= 20_000, "{count} inputs");
}

#[test]
fn seeds_exercise_the_entry_points() {
    // The unmutated seeds go through too (so a regression on valid input shows up here first).
    for s in seeds() {
        run("message", fuzzing::message, &s);
        run("stream", fuzzing::stream, &s);
    }
}
