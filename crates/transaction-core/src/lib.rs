//! # transaction-core
//!
//! The SIP transaction layer of RFC 3261 §17 with the RFC 6026 changes, as a
//! sans-IO state machine: no sockets, no clock, no tokio. Inputs are
//! [`TransactionLayer::handle_message`], [`TransactionLayer::send_request`],
//! [`TransactionLayer::send_response`], [`TransactionLayer::handle_transport_error`]
//! and [`TransactionLayer::handle_timeout`], each given the current time;
//! outputs are pulled with [`TransactionLayer::poll_transmit`],
//! [`TransactionLayer::poll_event`] and [`TransactionLayer::poll_timeout`].
//!
//! The four machines follow RFC 3261 Figures 5–8 (INVITE and non-INVITE,
//! client and server) with RFC 6026's Accepted states and Timers L and M;
//! T1, T2 and T4 are configurable ([`Config`]).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use transaction_core::{Config, Event, Target, Transport, TransactionLayer};
//!
//! let mut layer = TransactionLayer::new(Config::default());
//! let t0 = Instant::now();
//! let target = Target { transport: Transport::Udp, addr: "192.0.2.1:5060".parse().unwrap() };
//! let options = sip_test::msg::options("c1@example.com", "t1");
//! let id = layer.send_request(t0, options, target).unwrap();
//! let first = layer.poll_transmit().unwrap();        // sent at once
//! assert_eq!(first.destination, target.addr);
//! assert_eq!(layer.poll_timeout(), Some(t0 + Duration::from_millis(500))); // Timer E
//! # let _ = id;
//! ```

mod client;
mod completed;
mod ids;
mod key;
mod layer;
mod server;
mod timer;

use std::net::SocketAddr;

use bytes::Bytes;
use sip_core::{Message, StatusCode};

pub use ids::{IdHasher, IdMap, IdSet};
pub use layer::TransactionLayer;
pub use sip_core::Transport;
pub use timer::{Config, Timer};

/// Where a client transaction sends its request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Target {
    /// Transport to use.
    pub transport: Transport,
    /// Destination address.
    pub addr: SocketAddr,
}

/// A message that arrived from the network.
#[derive(Clone, Debug)]
pub struct Inbound {
    /// The parsed message.
    pub message: Message,
    /// Transport it came on.
    pub transport: Transport,
    /// The peer's address.
    pub source: SocketAddr,
}

/// A handle to a transaction: small, `Copy`, stale after the transaction ends.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct TransactionId {
    index: u32,
    generation: u32,
}

/// Bytes to send, produced by the layer.
#[derive(Clone, Debug)]
pub struct Transmit {
    /// The transaction that sent it (none for stateless forwarding of ACKs).
    pub transaction: Option<TransactionId>,
    /// Transport to send on.
    pub transport: Transport,
    /// Destination.
    pub destination: SocketAddr,
    /// The printed message.
    pub payload: Bytes,
}

/// What the transaction user must know.
#[derive(Clone, Debug)]
pub enum Event {
    /// A new request created a server transaction. `cancels` is the INVITE
    /// server transaction a CANCEL matches (RFC 3261 §9.2).
    Request {
        /// The new server transaction.
        id: TransactionId,
        /// The request.
        request: Message,
        /// Where it came from.
        source: SocketAddr,
        /// For CANCEL: the INVITE transaction it cancels, if one matches.
        cancels: Option<TransactionId>,
    },
    /// A response for a client transaction (1xx, and every 2xx of an INVITE,
    /// retransmissions included, per RFC 6026).
    Response {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: Message,
    },
    /// An ACK that matches no transaction (the ACK for a 2xx, RFC 3261
    /// §17.2.3 / RFC 6026): it belongs to the dialog layer.
    Ack {
        /// The ACK.
        request: Message,
        /// Where it came from.
        source: SocketAddr,
    },
    /// A response that matches no client transaction (e.g. a 2xx from a
    /// forked INVITE after the transaction ended), for the TU or a proxy.
    StrayResponse {
        /// The response.
        response: Message,
    },
    /// Timer B or F fired (client: no final response), or Timer H (server:
    /// no ACK for a non-2xx final). RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1.
    Timeout {
        /// The transaction.
        id: TransactionId,
        /// Which timer.
        timer: Timer,
    },
    /// The transport failed for this transaction (RFC 3261 §17.1.4).
    TransportError {
        /// The transaction.
        id: TransactionId,
    },
    /// The transaction reached Terminated and its handle is now stale.
    Terminated {
        /// The transaction.
        id: TransactionId,
    },
}

/// Errors from the TU-facing calls (API misuse, not network input).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Error {
    /// The request has no usable top Via with a branch, or no CSeq.
    InvalidRequest(&'static str),
    /// A client transaction with this branch and method already exists.
    DuplicateTransaction,
    /// The id names no live server transaction.
    UnknownTransaction,
    /// The response does not fit the transaction's state (e.g. a second final
    /// response for a non-INVITE, or a 1xx after a final).
    InvalidState(&'static str),
    /// The response is malformed (no status, bad code).
    InvalidResponse(StatusCode),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            Error::DuplicateTransaction => f.write_str("duplicate client transaction"),
            Error::UnknownTransaction => f.write_str("unknown transaction"),
            Error::InvalidState(why) => write!(f, "invalid transaction state: {why}"),
            Error::InvalidResponse(code) => write!(f, "invalid response status {code}"),
        }
    }
}

impl std::error::Error for Error {}
