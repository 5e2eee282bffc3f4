//! Digest hash algorithms (RFC 7616 §3.4.1, RFC 8760 for SIP) and the
//! hashes of §3.4: `H(data)` as lower-case hex, `HA1`, `HA2`, `response`.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

/// A digest algorithm. The `-sess` variants are not offered: SIP clients
/// rarely support them and they add nothing over `qop=auth` here.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Algorithm {
    /// MD5 (RFC 2617; what most deployed phones speak).
    Md5,
    /// SHA-256 (RFC 7616, RFC 8760).
    Sha256,
    /// SHA-512/256 (RFC 7616, RFC 8760).
    Sha512_256,
}

impl Algorithm {
    /// Every algorithm, weakest first.
    pub const ALL: [Algorithm; 3] = [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256];

    /// The name used in the `algorithm` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha512_256 => "SHA-512-256",
        }
    }

    /// The algorithm named `name` (case-insensitive); `None` for unknown
    /// names and the `-sess` variants.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// `H(parts joined by ':')` as lower-case hex.
    pub fn hash(self, parts: &[&[u8]]) -> String {
        fn run<D: Digest>(parts: &[&[u8]]) -> String {
            let mut d = D::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    d.update(b":");
                }
                d.update(p);
            }
            hex(&d.finalize())
        }
        match self {
            Algorithm::Md5 => run::<Md5>(parts),
            Algorithm::Sha256 => run::<Sha256>(parts),
            Algorithm::Sha512_256 => run::<Sha512_256>(parts),
        }
    }

    /// `HA1 = H(username:realm:password)` (§3.4.2), what a credential store
    /// keeps instead of the password.
    pub fn ha1(self, username: &str, realm: &str, password: &str) -> String {
        self.hash(&[username.as_bytes(), realm.as_bytes(), password.as_bytes()])
    }

    /// The `response` value (§3.4.1) for `qop=auth` (`Some((nc, cnonce))`)
    /// or, without qop, the RFC 2069 form `H(HA1:nonce:HA2)`.
    pub fn response(
        self,
        ha1: &str,
        nonce: &str,
        qop_auth: Option<(&str, &str)>,
        method: &str,
        uri: &str,
    ) -> String {
        let ha2 = self.hash(&[method.as_bytes(), uri.as_bytes()]);
        match qop_auth {
            Some((nc, cnonce)) => self.hash(&[
                ha1.as_bytes(),
                nonce.as_bytes(),
                nc.as_bytes(),
                cnonce.as_bytes(),
                b"auth",
                ha2.as_bytes(),
            ]),
            None => self.hash(&[ha1.as_bytes(), nonce.as_bytes(), ha2.as_bytes()]),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1: the worked example for MD5 and SHA-256.
    #[test]
    fn rfc7616_example() {
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let uri = "/dir/index.html";
        let ha1 = Algorithm::Md5.ha1("Mufasa", "http-auth@example.org", "Circle of Life");
        assert_eq!(
            Algorithm::Md5.response(&ha1, nonce, Some(("00000001", cnonce)), "GET", uri),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        let ha1 = Algorithm::Sha256.ha1("Mufasa", "http-auth@example.org", "Circle of Life");
        assert_eq!(
            Algorithm::Sha256.response(&ha1, nonce, Some(("00000001", cnonce)), "GET", uri),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    /// RFC 2617 §3.5 (MD5, qop=auth) and RFC 2069's form without qop.
    #[test]
    fn rfc2617_example_and_no_qop() {
        let ha1 = Algorithm::Md5.ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
        assert_eq!(
            Algorithm::Md5.response(
                &ha1,
                nonce,
                Some(("00000001", "0a4f113b")),
                "GET",
                "/dir/index.html"
            ),
            "6629fae49393a05397450978507c4ef1"
        );
        // RFC 2069: H(HA1:nonce:H(method:uri)).
        let ha2 = Algorithm::Md5.hash(&[b"GET", b"/dir/index.html"]);
        assert_eq!(
            Algorithm::Md5.response(&ha1, nonce, None, "GET", "/dir/index.html"),
            Algorithm::Md5.hash(&[ha1.as_bytes(), nonce.as_bytes(), ha2.as_bytes()])
        );
    }

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(&a.name().to_lowercase()), Some(a));
        }
        assert_eq!(Algorithm::from_name("MD5-sess"), None);
        // SHA-512/256 of "abc" (FIPS 180-4 example).
        assert_eq!(
            Algorithm::Sha512_256.hash(&[b"abc"]),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
    }
}
