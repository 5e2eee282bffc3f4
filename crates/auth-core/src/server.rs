//! The server side of digest authentication (RFC 7616, RFC 8760; RFC 3261
//! §22.4): challenges, and verification in two steps around the one thing
//! that needs I/O, the credential lookup:
//!
//! ```text
//! request ──inspect──▶ Attempt ──(shell looks up HA1)──▶ verify ──▶ Ok / Reject
//!    │                                                               │
//!    └─ no or unusable credentials: Reject ──▶ 401 with challenges() ◀┘
//! ```
//!
//! Nonces are stateless (see [`NonceKey`]); the only state is the highest
//! nonce-count seen per nonce in use, kept until the nonce expires, so a
//! replayed request is refused.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sip_core::header::Credentials;
use sip_core::rng::SplitMix;
use sip_core::text::unquote;
use subtle::ConstantTimeEq;

use crate::Algorithm;
use crate::nonce::{NonceInfo, NonceKey};

/// Settings of a [`DigestServer`].
#[derive(Clone, Debug)]
pub struct DigestConfig {
    /// Algorithms offered, one challenge each, in this order (the most
    /// preferred first; many phones answer the first they understand).
    pub algorithms: Vec<Algorithm>,
    /// How long a nonce may be used; an older one earns `stale=true`.
    pub nonce_ttl: Duration,
    /// Accept answers without `qop` (RFC 2069 clients). Such a nonce is
    /// good for one request, as no nonce-count can protect a second.
    pub allow_no_qop: bool,
    /// Most nonces whose nonce-count is tracked at once.
    pub max_tracked: usize,
}

impl Default for DigestConfig {
    /// SHA-256 then MD5, nonces for 5 minutes, answers without qop
    /// accepted once per nonce.
    fn default() -> DigestConfig {
        DigestConfig {
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            nonce_ttl: Duration::from_secs(300),
            allow_no_qop: true,
            max_tracked: 1 << 20,
        }
    }
}

/// Why credentials were not accepted. Every case is answered with a fresh
/// challenge (401/407); only [`Reject::BadCredentials`] counts as a failed
/// attempt, and only [`Reject::Stale`] sets `stale=true`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reject {
    /// No credentials for our realm (or none at all).
    NoCredentials,
    /// Credentials that do not parse or lack a required parameter.
    Malformed,
    /// A nonce we did not issue (forged, altered, or from another realm
    /// or secret).
    UnknownNonce,
    /// An algorithm we do not offer.
    Algorithm,
    /// No `qop` while answers without it are refused, or a `qop` other
    /// than `auth`.
    Qop,
    /// The `uri` parameter is not the Request-URI.
    Uri,
    /// The `opaque` parameter is not ours.
    Opaque,
    /// Unknown user or wrong password (indistinguishable by design).
    BadCredentials,
    /// Right password, but the nonce expired (or, without qop, was used).
    Stale,
    /// A nonce-count already seen for this nonce.
    Replay,
}

impl Reject {
    /// True when this counts as a failed password attempt.
    pub fn is_failure(self) -> bool {
        self == Reject::BadCredentials
    }

    /// True when the new challenge should carry `stale=true`.
    pub fn is_stale(self) -> bool {
        self == Reject::Stale
    }
}

/// Credentials that passed every check not needing the stored HA1.
#[derive(Clone, Debug)]
pub struct Attempt<'a> {
    /// The user name given.
    pub username: Cow<'a, str>,
    /// The algorithm answered.
    pub algorithm: Algorithm,
    nonce: Cow<'a, str>,
    info: NonceInfo,
    uri: Cow<'a, str>,
    response: Cow<'a, str>,
    /// `(nc text, nc, cnonce)` when qop=auth.
    qop: Option<(Cow<'a, str>, u32, Cow<'a, str>)>,
}

/// The Digest parameters [`DigestServer::inspect`] reads, quotes still on.
#[derive(Default)]
struct DigestParams<'a> {
    realm: Option<&'a str>,
    username: Option<&'a str>,
    nonce: Option<&'a str>,
    uri: Option<&'a str>,
    response: Option<&'a str>,
    algorithm: Option<&'a str>,
    qop: Option<&'a str>,
    nc: Option<&'a str>,
    cnonce: Option<&'a str>,
    opaque: Option<&'a str>,
}

/// A digest authenticator (sans-IO: time is passed in). The realm is
/// given with each call, so one server serves every domain; a nonce is
/// only good for the realm it was issued for.
pub struct DigestServer {
    config: DigestConfig,
    key: NonceKey,
    opaque: String,
    uniques: SplitMix,
    /// Highest nonce-count per nonce in use (0: used once without qop).
    seen: HashMap<u64, u32>,
    /// Tracked nonces in first-use order, for expiry.
    order: VecDeque<(u64, u64)>,
    /// Nonces issued at or before this time may have been forgotten to
    /// make room, so one of them not in `seen` is treated as used.
    forgotten_before: u64,
    dummy_ha1: [String; 3],
}

fn unix(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl DigestServer {
    /// A server for `config`, signing nonces with `secret`; `seed` (random
    /// at start-up) makes nonces unique across restarts.
    pub fn new(config: DigestConfig, secret: &[u8], seed: u64) -> DigestServer {
        let key = NonceKey::new(secret);
        let opaque = Algorithm::Sha256.hash(&[b"opaque", secret])[..32].to_string();
        let dummy_ha1 = Algorithm::ALL.map(|a| a.ha1("", "", &opaque));
        DigestServer {
            config,
            key,
            opaque,
            uniques: SplitMix::new(seed),
            seen: HashMap::new(),
            order: VecDeque::new(),
            forgotten_before: 0,
            dummy_ha1,
        }
    }

    /// The settings.
    pub fn config(&self) -> &DigestConfig {
        &self.config
    }

    /// The header values of a challenge (`WWW-Authenticate` for a UAS or
    /// registrar, `Proxy-Authenticate` for a proxy): one per offered
    /// algorithm, all with the same fresh nonce for `realm` (which must not
    /// contain `"` or `\\`).
    pub fn challenges(&mut self, now: SystemTime, realm: &str, stale: bool) -> Vec<String> {
        let unique = self.uniques.next_u64();
        let nonce = self.key.issue(
            realm,
            NonceInfo {
                issued: unix(now),
                unique,
            },
        );
        let stale = if stale { ", stale=true" } else { "" };
        self.config
            .algorithms
            .iter()
            .map(|a| {
                let parts = [
                    "Digest realm=\"",
                    realm,
                    "\", nonce=\"",
                    &nonce,
                    "\", opaque=\"",
                    &self.opaque,
                    "\", algorithm=",
                    a.name(),
                    ", qop=\"auth\"",
                    stale,
                ];
                parts.concat()
            })
            .collect()
    }

    /// First step: checks the credentials' form, realm, nonce, algorithm,
    /// qop, uri and opaque for `realm` and a request to `request_uri`.
    pub fn inspect<'a>(
        &self,
        credentials: &Credentials<'a>,
        realm: &str,
        request_uri: &str,
    ) -> Result<Attempt<'a>, Reject> {
        if !credentials.is_digest() {
            return Err(Reject::NoCredentials);
        }
        // One pass over the parameters (the first of a repeated one counts).
        let mut p = DigestParams::default();
        for (name, value) in credentials.params() {
            let slot = match name.len() {
                2 if name.eq_ignore_ascii_case("nc") => &mut p.nc,
                3 if name.eq_ignore_ascii_case("uri") => &mut p.uri,
                3 if name.eq_ignore_ascii_case("qop") => &mut p.qop,
                5 if name.eq_ignore_ascii_case("realm") => &mut p.realm,
                5 if name.eq_ignore_ascii_case("nonce") => &mut p.nonce,
                6 if name.eq_ignore_ascii_case("cnonce") => &mut p.cnonce,
                6 if name.eq_ignore_ascii_case("opaque") => &mut p.opaque,
                8 if name.eq_ignore_ascii_case("username") => &mut p.username,
                8 if name.eq_ignore_ascii_case("response") => &mut p.response,
                9 if name.eq_ignore_ascii_case("algorithm") => &mut p.algorithm,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        let given = p.realm.map(unquote).ok_or(Reject::Malformed)?;
        if given != realm {
            return Err(Reject::NoCredentials);
        }
        let field = |v: Option<&'a str>| v.map(unquote).ok_or(Reject::Malformed);
        let username = field(p.username)?;
        let nonce = field(p.nonce)?;
        let uri = field(p.uri)?;
        let response = field(p.response)?;
        if username.is_empty() || username.len() > 256 {
            return Err(Reject::Malformed);
        }
        let info = self.key.check(realm, &nonce).ok_or(Reject::UnknownNonce)?;
        let algorithm = match p.algorithm.map(unquote) {
            None => Algorithm::Md5,
            Some(name) => Algorithm::from_name(&name).ok_or(Reject::Algorithm)?,
        };
        if !self.config.algorithms.contains(&algorithm) {
            return Err(Reject::Algorithm);
        }
        let qop = match p.qop.map(unquote) {
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                let nc_text = field(p.nc)?;
                let nc = (nc_text.len() == 8)
                    .then(|| u32::from_str_radix(&nc_text, 16).ok())
                    .flatten()
                    .filter(|&nc| nc > 0)
                    .ok_or(Reject::Malformed)?;
                Some((nc_text, nc, field(p.cnonce)?))
            }
            Some(_) => return Err(Reject::Qop),
            None if self.config.allow_no_qop => None,
            None => return Err(Reject::Qop),
        };
        if let Some(opaque) = p.opaque.map(unquote)
            && opaque != self.opaque
        {
            return Err(Reject::Opaque);
        }
        if uri != request_uri && !same_uri(&uri, request_uri) {
            return Err(Reject::Uri);
        }
        Ok(Attempt {
            username,
            algorithm,
            nonce,
            info,
            uri,
            response,
            qop,
        })
    }

    /// Second step: checks the answer against the stored HA1 for the
    /// attempt's user, realm and algorithm (`None` when there is no such
    /// user: the work and the outcome are then those of a wrong password),
    /// then the nonce's age and nonce-count.
    pub fn verify(
        &mut self,
        now: SystemTime,
        method: &str,
        attempt: &Attempt<'_>,
        ha1: Option<&str>,
    ) -> Result<(), Reject> {
        let known = ha1.is_some();
        let ha1 = ha1.unwrap_or(&self.dummy_ha1[attempt.algorithm as usize]);
        let expected = attempt.algorithm.response(
            ha1,
            &attempt.nonce,
            attempt.qop.as_ref().map(|(t, _, c)| (&**t, &**c)),
            method,
            &attempt.uri,
        );
        let right = expected
            .as_bytes()
            .ct_eq(attempt.response.to_ascii_lowercase().as_bytes());
        if !(bool::from(right) && known) {
            return Err(Reject::BadCredentials);
        }
        let now = unix(now);
        let issued = attempt.info.issued;
        if issued.saturating_add(self.config.nonce_ttl.as_secs()) < now
            || issued > now.saturating_add(60)
        {
            return Err(Reject::Stale);
        }
        self.forget_expired(now);
        let nc = attempt.qop.as_ref().map_or(0, |q| q.1);
        match self.seen.get_mut(&attempt.info.unique) {
            // Without qop a nonce is good once; with qop the count must rise.
            Some(_) if nc == 0 => Err(Reject::Stale),
            Some(seen) if nc <= *seen => Err(Reject::Replay),
            Some(seen) => {
                *seen = nc;
                Ok(())
            }
            None if issued <= self.forgotten_before => Err(Reject::Stale),
            None => {
                if self.seen.len() >= self.config.max_tracked
                    && let Some((old_issued, old)) = self.order.pop_front()
                {
                    self.seen.remove(&old);
                    self.forgotten_before = self.forgotten_before.max(old_issued);
                }
                self.seen.insert(attempt.info.unique, nc);
                self.order.push_back((issued, attempt.info.unique));
                Ok(())
            }
        }
    }

    fn forget_expired(&mut self, now: u64) {
        let ttl = self.config.nonce_ttl.as_secs();
        while let Some(&(issued, unique)) = self.order.front() {
            if issued.saturating_add(ttl) >= now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&unique);
        }
    }

    /// Nonces whose nonce-count is being tracked.
    pub fn tracked(&self) -> usize {
        self.seen.len()
    }
}

/// Two URIs equal by RFC 3261 §19.1.4 (clients may re-escape or reorder
/// parameters of the Request-URI in `uri`).
fn same_uri(a: &str, b: &str) -> bool {
    match (sip_core::Uri::parse(a), sip_core::Uri::parse(b)) {
        (Ok(a), Ok(b)) => a.equivalent(&b),
        _ => false,
    }
}
