//! # auth-core
//!
//! SIP authentication, sans-IO: no sockets, no clock, no database.
//!
//! - [`DigestServer`]: digest challenges and verification (RFC 7616 with
//!   the SIP algorithms of RFC 8760: MD5, SHA-256, SHA-512-256; `qop=auth`
//!   and answers without qop from old clients). Nonces are stateless and
//!   HMAC-signed ([`NonceKey`]), expire (`stale=true`), and each nonce's
//!   nonce-count must rise, so a replayed request is refused. Compares are
//!   constant-time, and an unknown user is indistinguishable from a wrong
//!   password. Verification is split around the credential lookup, which
//!   the caller does (from users-core or any store of HA1 values).
//! - [`FailureLimiter`]: bans a source address or a user name after too
//!   many failed attempts in a window.
//! - [`CredentialStore`]: where HA1 values come from (users-core's
//!   database, or [`MemoryCredentials`]).
//! - [`DigestClient`]: answers a 401/407 with the strongest algorithm
//!   offered, a client nonce and a nonce-count.
//!
//! - Bearer tokens (RFC 8898, feature `tokens`): [`JwtVerifier`] checks
//!   JWTs (RS256, ES256, EdDSA, HS256 …; `exp`/`nbf` with leeway, `iss`,
//!   `aud`) against JWKS keys, [`Introspection`] reads RFC 7662 answers,
//!   both sans-IO; [`BearerVerifier`] is their HTTPS shell (keys cached
//!   with a TTL and refetched, rate limited, for an unknown `kid`;
//!   introspection answers cached), configured by [`BearerConfig`] with
//!   Keycloak and Google presets ([`IssuerPreset`]).
//!
//! Not here: the SIP I/O around it (the registrar and proxies call this).
//!
//! ```
//! use std::time::SystemTime;
//! use auth_core::{Algorithm, DigestClient, DigestConfig, DigestServer};
//! use sip_core::header::WwwAuthenticate;
//! use sip_core::header::Header;
//!
//! let now = SystemTime::now();
//! let mut server = DigestServer::new(DigestConfig::default(), b"a long random secret", 7);
//! let challenge = server.challenges(now, "example.com", false).remove(0); // SHA-256 first
//!
//! let mut phone = DigestClient::new("alice", "correct horse", 1);
//! let challenge = WwwAuthenticate::parse(&challenge).unwrap();
//! let answer = phone.answer(&challenge, "REGISTER", "sip:example.com").unwrap();
//!
//! let answer = sip_core::header::Authorization::parse(&answer).unwrap();
//! let attempt = server.inspect(&answer, "example.com", "sip:example.com").unwrap();
//! assert_eq!(attempt.username, "alice");
//! let ha1 = attempt.algorithm.ha1("alice", "example.com", "correct horse");
//! assert_eq!(server.verify(now, "REGISTER", &attempt, Some(&ha1)), Ok(()));
//! // The same request again is a replay.
//! assert!(server.verify(now, "REGISTER", &attempt, Some(&ha1)).is_err());
//! # let _ = Algorithm::Md5;
//! ```

mod algorithm;
#[cfg(feature = "tokens")]
mod bearer;
mod client;
mod limiter;
mod nonce;
mod server;
mod store;
#[cfg(feature = "tokens")]
mod token;

pub use algorithm::Algorithm;
#[cfg(feature = "tokens")]
pub use bearer::{BearerConfig, BearerConfigError, BearerVerifier};
pub use client::{ClientError, DigestClient};
pub use infra_common::StoreError;
pub use limiter::{Ban, FailureLimiter, Limit, LimiterConfig};
pub use nonce::{NonceInfo, NonceKey};
pub use server::{Attempt, DigestConfig, DigestServer, Reject};
pub use store::{CachedCredentials, CredentialStore, MemoryCredentials};
#[cfg(feature = "tokens")]
pub use token::{
    Introspection, IssuerPreset, JwtVerifier, TokenAlgorithm, TokenConfig, TokenError,
    TokenIdentity, account_of, bearer_challenge, bearer_token,
};
