//! # sip-core
//!
//! The SIP vocabulary of rvoip: the message model, a zero-copy parser that
//! never panics, typed headers decoded on demand, URIs, a printer and
//! builders, framing for datagrams and streams, and SDP (RFC 8866).
//!
//! It does no I/O and keeps no state between messages; transports,
//! transactions and dialogs live in other crates.
//!
//! ```
//! use sip_core::{Message, header::{Via, CSeq, From}};
//!
//! let bytes = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9\r\n\
//! Max-Forwards: 70\r\n\
//! From: <sip:alice@example.com>;tag=9fxced76sl\r\n\
//! To: <sip:bob@example.com>\r\n\
//! Call-ID: 3848276298220188511@atlanta.example.com\r\n\
//! CSeq: 63104 OPTIONS\r\n\
//! Content-Length: 0\r\n\r\n";
//! let msg = Message::parse(&bytes[..]).unwrap();
//! let via: Via<'_> = msg.header().unwrap().unwrap();
//! assert_eq!(via.branch(), Some("z9hG4bK74bf9"));
//! let from: From<'_> = msg.header().unwrap().unwrap();
//! assert_eq!(from.tag(), Some("9fxced76sl"));
//! let cseq: CSeq = msg.header().unwrap().unwrap();
//! assert_eq!(cseq.seq, 63104);
//!
//! // A response per RFC 3261 §8.2.6, then printed.
//! let resp = sip_core::builder::response_to(&msg, sip_core::StatusCode::OK, Some("a6c85cf")).build().unwrap();
//! assert!(resp.to_bytes().starts_with(b"SIP/2.0 200 OK\r\n"));
//! ```

pub mod builder;
mod error;
pub mod framing;
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
mod limits;
mod message;
mod method;
mod params;
pub mod rng;
mod scan;
pub mod sdp;
mod status;
pub mod text;
mod transport;
mod uri;
pub mod validate;

pub use error::{Error, Result};
pub use framing::{Frame, Mode};
pub use limits::Limits;
pub use message::{HeaderField, Message};
pub use method::Method;
pub use params::{ParamIter, Params};
pub use status::StatusCode;
pub use transport::Transport;
pub use uri::{Host, SipUri, TelUri, Uri};
