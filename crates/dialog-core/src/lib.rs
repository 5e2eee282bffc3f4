//! # dialog-core
//!
//! SIP dialogs (RFC 3261 §12) as plain state: created from the request and
//! response that establish them on either side, they build in-dialog
//! requests (route set, loose or strict routing, CSeq) and check incoming
//! ones (CSeq order, remote target refresh). [`Dialogs`] matches requests to
//! dialogs and tells which get 481. No I/O and no clock; the `Endpoint` that
//! drives dialogs over transactions and transports builds on this.
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
mod layer;
mod table;
mod uac;
mod uas;
mod usage;

pub use dialog::{Dialog, DialogError, DialogId, DialogState, Role};
pub use layer::{ALLOW, Config, DialogLayer, Error, Event};
pub use table::{Dialogs, Match};
pub use usage::EndReason;
