//! Parse errors, typed by the response a UAS would send.

use std::borrow::Cow;
use std::fmt;

use crate::StatusCode;

/// Why a message (or a part of one) could not be accepted.
///
/// Every error carries the status code a UAS answers with (RFC 3261 §8.2,
/// §21) and a reason phrase that names the defect, e.g.
/// `400 Malformed Via header`. For responses the transport drops the message
/// instead (§18.1.2).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Error {
    status: StatusCode,
    reason: Cow<'static, str>,
}

impl Error {
    /// An error with the given status and reason phrase.
    pub fn new(status: StatusCode, reason: impl Into<Cow<'static, str>>) -> Error {
        Error {
            status,
            reason: reason.into(),
        }
    }

    /// `400` with the reason phrase.
    pub fn bad_request(reason: impl Into<Cow<'static, str>>) -> Error {
        Error::new(StatusCode::BAD_REQUEST, reason)
    }

    /// `400 Malformed <what>` for a header or element that does not parse.
    pub fn malformed(what: &str) -> Error {
        Error::bad_request(format!("Malformed {what}"))
    }

    /// The response a UAS would send.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase naming the defect.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

impl std::error::Error for Error {}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
