//! # dialog-core
//!
//! SIP dialogs (RFC 3261 §12) and the endpoint runtime applications use.
//!
//! - [`Dialog`] is one dialog as plain state: created from the request and
//!   response that establish it on either side, it builds in-dialog requests
//!   (route set, loose or strict routing, CSeq) and checks incoming ones.
//!   [`Dialogs`] matches requests to dialogs and tells which get 481.
//! - [`DialogLayer`] is the sans-IO user agent core on top of
//!   transaction-core: dialogs per fork, ACK for every 2xx, the UAS 2xx
//!   retransmitted until its ACK, CANCEL → 487, glare → 491 with the §14.1
//!   retry, PRACK (RFC 3262), session timers (RFC 4028), subscription
//!   usages (RFC 6665 SUBSCRIBE/NOTIFY, RFC 3515 REFER). No I/O and no
//!   clock: `handle_*` in, `poll_*` out.
//! - [`Endpoint`] is the tokio shell: transports from sip-transport, the
//!   dialog layer sharded by Call-ID across tasks, an async API for requests
//!   and responses, an [`Incoming`] stream of requests and dialog events,
//!   and graceful shutdown.
//!
//! ```
//! use dialog_core::{Dialog, DialogState};
//! use sip_core::{Method, StatusCode};
//!
//! let invite = sip_test::msg::invite("d1@example.com", "alice-tag");
//! let ringing = sip_core::builder::response_to(&invite, StatusCode::RINGING, Some("bob-tag"))
//!     .header("Contact", "<sip:bob@192.0.2.20:5060>")
//!     .build()
//!     .unwrap();
//! let mut uac = Dialog::from_uac(&invite, &ringing).unwrap();
//! assert_eq!(uac.state(), DialogState::Early);
//! let bye = uac.request(Method::Bye).build().unwrap();
//! assert_eq!(bye.request_uri_str(), Some("sip:bob@192.0.2.20:5060")); // the remote target
//! ```

mod dialog;
mod endpoint;
mod layer;
mod mailbox;
mod shard;
mod table;
mod uac;
mod uas;
mod usage;

pub use dialog::{Dialog, DialogError, DialogId, DialogState, Role};
pub use endpoint::{
    ClientEvent, ClientTransaction, Endpoint, EndpointConfig, EndpointEvent, Handled, Incoming,
    IncomingRequest, Responder,
};
pub use layer::{ALLOW, Config, DialogEvent, DialogLayer, Error, Event};
pub use table::{Dialogs, Match};
pub use usage::EndReason;
