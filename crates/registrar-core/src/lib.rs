//! # registrar-core
//!
//! The SIP registrar of RFC 3261 §10.3, sans-IO, and where bindings live.
//!
//! - [`Registrar`] checks a REGISTER in the RFC's order (domain, Require,
//!   then — after the caller authenticates — the AOR from To, Contact
//!   processing with Expires and its default, 423 with Min-Expires, `*`,
//!   Call-ID/CSeq ordering, q-values, a limit per AOR, Path (RFC 3327),
//!   `+sip.instance`/`reg-id` (RFC 5626)) and answers with every current
//!   binding and its remaining time. It arms expiry timers and reports
//!   [`RegistrationEvent`]s. A REGISTER without Contact lists the bindings.
//! - [`LocationStore`] is where bindings are kept: [`MemoryStore`], and
//!   [`SqlStore`] on SQLite or PostgreSQL (bindings survive a restart).
//!
//! Not here: sockets and authentication (the `rvoip registrar` server
//! puts the Endpoint, auth-core and a store around this).
//!
//! ```
//! use std::time::SystemTime;
//! use registrar_core::{Registrar, RegistrarConfig};
//!
//! let register = sip_core::Message::parse(bytes::Bytes::from_static(
//!     b"REGISTER sip:example.com SIP/2.0\r\n\
//!       Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n\
//!       Max-Forwards: 70\r\n\
//!       From: <sip:alice@example.com>;tag=a\r\n\
//!       To: <sip:alice@example.com>\r\n\
//!       Call-ID: reg1\r\n\
//!       CSeq: 1 REGISTER\r\n\
//!       Contact: <sip:alice@192.0.2.1:5060>;expires=600\r\n\
//!       Content-Length: 0\r\n\r\n",
//! )).unwrap();
//! let mut registrar = Registrar::new(RegistrarConfig::default(), 1);
//! let tag = registrar.tag();
//! let aor = registrar.check(&register, &tag).unwrap();
//! let now = SystemTime::now();
//! let decision = registrar.process(now, &register, &aor, &[], "udp:192.0.2.1:5060", &tag);
//! assert_eq!(decision.response.unwrap().status().unwrap().as_u16(), 200);
//! assert_eq!(decision.changes.len(), 1); // one binding to store
//! ```

mod binding;
mod config;
#[cfg(feature = "redis")]
mod redis_store;
mod registrar;
mod sql;
mod store;

pub use binding::{Aor, Binding, Change, from_unix, to_unix};
pub use config::RegistrarConfig;
#[cfg(feature = "redis")]
pub use redis_store::{DEFAULT_PREFIX, RedisStore};
pub use registrar::{Decision, Registrar, RegistrationEvent, SUPPORTED};
pub use sql::SqlStore;
pub use store::{CachedStore, LocationStore, MemoryStore, StoreError};
