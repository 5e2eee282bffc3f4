//! # sip-test
//!
//! Test support shared by rvoip's crates (a dev-dependency only): the RFC 4475
//! and RFC 5118 torture fixtures, builders for the messages of a typical call
//! and registration, and a deterministic random generator for randomized
//! tests, and [`net::SimNet`], a simulated lossy network in virtual time
//! that the transaction and dialog tests run on (DESIGN.md §3).
//!
//! ```
//! let invite = sip_test::msg::invite("call-1@example.com", "from-tag-1");
//! assert_eq!(invite.method(), Some(&sip_core::Method::Invite));
//! let wsinv = sip_test::fixtures::load("rfc4475", "wsinv");
//! assert!(sip_core::Message::parse(wsinv).is_ok());
//! ```

pub mod fixtures {
    //! The byte-exact torture messages kept in sip-core.

    use std::path::PathBuf;

    use bytes::Bytes;

    /// Fixture directories: `rfc4475` (RFC 4475 §3) and `rfc5118` (RFC 5118 §4).
    pub const SETS: [&str; 2] = ["rfc4475", "rfc5118"];

    /// The directory holding one set.
    pub fn dir(set: &str) -> PathBuf {
        [
            env!("CARGO_MANIFEST_DIR"),
            "..",
            "sip-core",
            "tests",
            "fixtures",
            set,
        ]
        .iter()
        .collect()
    }

    /// The path of one fixture.
    pub fn path(set: &str, name: &str) -> PathBuf {
        dir(set).join(format!("{name}.dat"))
    }

    /// Reads one fixture. Panics with the path when it is missing (a test bug).
    pub fn load(set: &str, name: &str) -> Bytes {
        let p = path(set, name);
        match std::fs::read(&p) {
            Ok(v) => Bytes::from(v),
            Err(e) => panic!("fixture {}: {e}", p.display()),
        }
    }

    /// Every fixture of a set as `(name, bytes)`, sorted by name.
    pub fn all(set: &str) -> Vec<(String, Bytes)> {
        let mut out: Vec<(String, Bytes)> = match std::fs::read_dir(dir(set)) {
            Ok(rd) => rd
                .filter_map(|e| {
                    let p = e.ok()?.path();
                    let name = p.file_name()?.to_str()?.strip_suffix(".dat")?.to_owned();
                    Some((name, Bytes::from(std::fs::read(&p).ok()?)))
                })
                .collect(),
            Err(e) => panic!("fixture dir {}: {e}", dir(set).display()),
        };
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

pub mod msg {
    //! Well-formed messages of a typical call, built with sip-core's builder.

    use sip_core::builder::{Builder, response_to};
    use sip_core::{Message, Method, StatusCode};

    /// A minimal SDP offer for one PCMU audio stream.
    pub const SDP_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
m=audio 49170 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

    fn base(method: Method, uri: &str, call_id: &str, from_tag: &str, cseq: u32) -> Builder {
        let branch = format!("z9hG4bK{call_id}{cseq}").replace(['@', '.'], "-");
        Builder::request(method.clone(), uri)
            .header(
                "Via",
                format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport"),
            )
            .header("Max-Forwards", 70)
            .header("From", format!("<sip:alice@example.com>;tag={from_tag}"))
            .header("To", "<sip:bob@example.com>")
            .header("Call-ID", call_id)
            .header("CSeq", format!("{cseq} {method}"))
    }

    /// An INVITE with an SDP offer.
    pub fn invite(call_id: &str, from_tag: &str) -> Message {
        base(Method::Invite, "sip:bob@example.com", call_id, from_tag, 1)
            .header("Contact", "<sip:alice@192.0.2.10:5060>")
            .body(SDP_OFFER, "application/sdp")
            .build()
            .unwrap_or_else(|e| panic!("test INVITE: {e}"))
    }

    /// A REGISTER for `alice@example.com` with the given expiry.
    pub fn register(call_id: &str, from_tag: &str, cseq: u32, expires: u32) -> Message {
        Builder::request(Method::Register, "sip:example.com")
            .header(
                "Via",
                format!("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKreg{cseq}"),
            )
            .header("Max-Forwards", 70)
            .header("From", format!("<sip:alice@example.com>;tag={from_tag}"))
            .header("To", "<sip:alice@example.com>")
            .header("Call-ID", call_id)
            .header("CSeq", format!("{cseq} REGISTER"))
            .header(
                "Contact",
                format!("<sip:alice@192.0.2.10:5060>;expires={expires}"),
            )
            .build()
            .unwrap_or_else(|e| panic!("test REGISTER: {e}"))
    }

    /// An OPTIONS out of dialog.
    pub fn options(call_id: &str, from_tag: &str) -> Message {
        base(Method::Options, "sip:bob@example.com", call_id, from_tag, 1)
            .build()
            .unwrap_or_else(|e| panic!("test OPTIONS: {e}"))
    }

    /// A response to `req` with a To tag (§8.2.6).
    pub fn reply(req: &Message, code: StatusCode, to_tag: &str) -> Message {
        response_to(req, code, Some(to_tag))
            .build()
            .unwrap_or_else(|e| panic!("test response: {e}"))
    }
}

#[cfg(feature = "idp")]
pub mod idp;
pub mod net;
#[cfg(feature = "pki")]
pub mod pki;
pub mod tools;

/// A deterministic xorshift64* generator for randomized tests (seeded, so a
/// failure reproduces).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed (zero is replaced by a constant).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// True with probability `p` (0.0 ..= 1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }

    /// A value in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip_core::validate;

    #[test]
    fn builders_make_valid_messages() {
        let inv = msg::invite("c1@example.com", "t1");
        validate::check_request(&inv, &validate::Policy::default()).expect("valid INVITE");
        assert_eq!(inv.body(), msg::SDP_OFFER.as_bytes());
        let reg = msg::register("c2@example.com", "t2", 3, 600);
        validate::check_request(&reg, &validate::Policy::default()).expect("valid REGISTER");
        let ok = msg::reply(&inv, sip_core::StatusCode::OK, "b1");
        validate::check_syntax(&ok).expect("valid 200");
        validate::check_syntax(&msg::options("c3", "t3")).expect("valid OPTIONS");
    }

    #[test]
    fn fixtures_and_rng() {
        assert_eq!(fixtures::all("rfc4475").len(), 49);
        assert_eq!(fixtures::all("rfc5118").len(), 12);
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        assert_eq!(
            (0..10).map(|_| a.below(100)).collect::<Vec<_>>(),
            (0..10).map(|_| b.below(100)).collect::<Vec<_>>()
        );
        assert_eq!(Rng::new(1).below(0), 0);
    }
}
