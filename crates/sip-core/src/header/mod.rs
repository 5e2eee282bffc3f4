//! Typed header values, decoded on demand from the message bytes.
//!
//! Every type borrows from the message (no copies) and prints back in a
//! canonical form; `print → parse` gives an equal value (property-tested).

mod addr;
mod auth;
mod misc;
mod name;
mod simple;
mod via;

use std::fmt;

pub(crate) use addr::quick_tag;
pub use addr::{
    Contact, From, NameAddr, PAssertedIdentity, PPreferredIdentity, Path, RecordRoute, ReferTo,
    ReferredBy, Route, To,
};
pub use auth::{
    Authorization, Credentials, ProxyAuthenticate, ProxyAuthorization, WwwAuthenticate,
};
pub use misc::{
    Accept, AlertInfo, CSeq, CallInfo, ContentDisposition, ContentType, Event, MinSe, RAck, Reason,
    Replaces, RetryAfter, SessionExpires, SubscriptionState, Warning,
};
pub use name::HeaderName;
pub use simple::{
    Allow, AllowEvents, CallId, ContentEncoding, ContentLength, Date, Expires, MaxForwards,
    MinExpires, Organization, Priority, Privacy, ProxyRequire, RSeq, Require, Server, Subject,
    Supported, Timestamp, Unsupported, UserAgent,
};
pub use via::{MAGIC_COOKIE, Via};

use crate::Result;

/// A header whose value can be decoded from text and printed back.
pub trait Header<'a>: Sized + fmt::Display {
    /// Which header this is.
    const NAME: HeaderName;
    /// True when several values may share one field, comma-separated
    /// (RFC 3261 §7.3.1); the message splits them before calling [`Header::parse`].
    const LIST: bool = false;
    /// Decodes one value (one element of a list header).
    fn parse(value: &'a str) -> Result<Self>;
}
