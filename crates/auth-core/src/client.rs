//! The client side of digest authentication (RFC 3261 §22.2–22.3,
//! RFC 7616 §3.4, RFC 8760): answering a 401 or 407 with the strongest
//! algorithm offered, a client nonce and a nonce-count.

use sip_core::Message;
use sip_core::header::{Credentials, HeaderName, ProxyAuthenticate, WwwAuthenticate};
use sip_core::rng::SplitMix;

use crate::Algorithm;

/// A user's credentials and the nonce-count state for answering
/// challenges. One per registration or call leg.
#[derive(Clone, Debug)]
pub struct DigestClient {
    username: String,
    password: String,
    /// Drives client nonces (injected randomness, sans-IO).
    cnonces: SplitMix,
    /// The last nonce answered and its count, so a reused nonce counts up.
    last: Option<(String, u32)>,
}

/// Why a challenge could not be answered.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientError {
    /// The response carries no Digest challenge we can answer (unknown
    /// algorithms only, or a qop other than `auth`).
    NoUsableChallenge,
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no digest challenge with a supported algorithm and qop")
    }
}

impl std::error::Error for ClientError {}

impl DigestClient {
    /// A client for `username` with `password`; `seed` (random) drives the
    /// client nonces.
    pub fn new(
        username: impl Into<String>,
        password: impl Into<String>,
        seed: u64,
    ) -> DigestClient {
        DigestClient {
            username: username.into(),
            password: password.into(),
            cnonces: SplitMix::new(seed),
            last: None,
        }
    }

    /// The challenge this client would answer among `challenges`: the
    /// strongest algorithm with `qop=auth` (or no qop) offered.
    pub fn choose<'a>(
        challenges: impl IntoIterator<Item = Credentials<'a>>,
    ) -> Option<(Algorithm, Credentials<'a>)> {
        challenges
            .into_iter()
            .filter(|c| c.is_digest())
            .filter_map(|c| {
                let alg = match c.param("algorithm") {
                    None => Algorithm::Md5,
                    Some(name) => Algorithm::from_name(&name)?,
                };
                let qop_ok = c.param("qop").is_none_or(|q| offers_auth(&q));
                (qop_ok && c.param("nonce").is_some() && c.param("realm").is_some())
                    .then_some((alg, c))
            })
            .max_by_key(|(alg, _)| *alg)
    }

    /// The credentials answering `challenge` for a request with `method`
    /// to `uri`: the value of an `Authorization` (401) or
    /// `Proxy-Authorization` (407) header.
    pub fn answer(
        &mut self,
        challenge: &Credentials<'_>,
        method: &str,
        uri: &str,
    ) -> Result<String, ClientError> {
        let (algorithm, challenge) =
            DigestClient::choose([*challenge]).ok_or(ClientError::NoUsableChallenge)?;
        let realm = challenge
            .param("realm")
            .ok_or(ClientError::NoUsableChallenge)?;
        let nonce = challenge
            .param("nonce")
            .ok_or(ClientError::NoUsableChallenge)?;
        let ha1 = algorithm.ha1(&self.username, &realm, &self.password);
        let mut out = format!(
            "Digest username=\"{}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\"",
            quote(&self.username)
        );
        let qop = challenge.param("qop").is_some();
        let response = if qop {
            let nc = match &mut self.last {
                Some((n, count)) if *n == *nonce => {
                    *count += 1;
                    *count
                }
                last => {
                    *last = Some((nonce.to_string(), 1));
                    1
                }
            };
            let nc = format!("{nc:08x}");
            let cnonce = self.cnonces.token();
            let r = algorithm.response(&ha1, &nonce, Some((&nc, &cnonce)), method, uri);
            out.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
            r
        } else {
            algorithm.response(&ha1, &nonce, None, method, uri)
        };
        out.push_str(&format!(", response=\"{response}\", algorithm={algorithm}"));
        if let Some(opaque) = challenge.param("opaque") {
            out.push_str(&format!(", opaque=\"{opaque}\""));
        }
        Ok(out)
    }

    /// Answers the challenges of a 401 or 407 `response` for a request
    /// with `method` to `uri`: the header name (`Authorization` or
    /// `Proxy-Authorization`) and value to add to the retried request.
    pub fn authorize(
        &mut self,
        response: &Message,
        method: &str,
        uri: &str,
    ) -> Result<(HeaderName, String), ClientError> {
        let (name, challenges): (HeaderName, Vec<Credentials<'_>>) =
            if response.status().is_some_and(|s| s.as_u16() == 407) {
                (
                    HeaderName::ProxyAuthorization,
                    response
                        .headers_of::<ProxyAuthenticate<'_>>()
                        .filter_map(|h| h.ok().map(|h| h.0))
                        .collect(),
                )
            } else {
                (
                    HeaderName::Authorization,
                    response
                        .headers_of::<WwwAuthenticate<'_>>()
                        .filter_map(|h| h.ok().map(|h| h.0))
                        .collect(),
                )
            };
        let (_, challenge) =
            DigestClient::choose(challenges).ok_or(ClientError::NoUsableChallenge)?;
        Ok((name, self.answer(&challenge, method, uri)?))
    }
}

/// True when a `qop` list offers `auth`.
fn offers_auth(qop: &str) -> bool {
    qop.split(',')
        .any(|q| q.trim().eq_ignore_ascii_case("auth"))
}

/// A user name as the inside of a quoted-string.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
