//! RTP and RTCP for rvoip. Everything but [`net`] is sans-IO: packets are
//! parsed from and written to byte buffers, statistics and timers are
//! driven by the time passed in; [`net`] is the tokio shell around them.
//!
//! - [`jitter`]: an adaptive jitter buffer;
//! - [`latch`]: symmetric RTP latching limited to the signalled peer;
//! - [`net`]: the tokio shell, a batched UDP driver and an RTP port pool;
//! - [`packet`]: RTP packets (RFC 3550 §5.1) with CSRCs, padding and RFC
//!   8285 header extensions; RTP/RTCP demultiplexing on one port (RFC 5761);
//! - [`rtcp`]: SR, RR, SDES, BYE and APP in compound packets;
//! - [`sdes`]: SDES keying, the `a=crypto` attribute (RFC 4568);
//! - [`session`]: a sans-IO RTP session (RTCP scheduling, RTT, SSRC collisions);
//! - [`srtp`]: SRTP/SRTCP (RFC 3711, RFC 7714) with replay protection;
//! - [`stats`]: per-source receive statistics (loss, fraction lost,
//!   jitter per RFC 3550 A.1, A.3, A.8) and the G.107 E-model.
//!
//! ```
//! use rtp_core::packet::{RtpHeader, RtpPacket};
//!
//! let mut buf = Vec::new();
//! RtpHeader { payload_type: 0, sequence: 1, timestamp: 160, ssrc: 7, ..Default::default() }
//!     .write(&[0xFF; 160], &mut buf)
//!     .unwrap();
//! let p = RtpPacket::parse(&buf).unwrap();
//! assert_eq!((p.sequence(), p.timestamp(), p.payload().len()), (1, 160, 160));
//! ```

use std::fmt;

mod interval;
pub mod jitter;
pub mod latch;
pub mod net;
pub mod packet;
pub mod rtcp;
pub mod sdes;
pub mod session;
pub mod srtp;
pub mod stats;

/// Why a packet was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// The packet ends before the named part.
    Truncated(&'static str),
    /// The named part is not valid.
    Invalid(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated(what) => write!(f, "truncated {what}"),
            Error::Invalid(what) => write!(f, "invalid: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// Appends zero bytes until the bytes written since `start` fill whole
/// 32-bit words.
pub(crate) fn pad_to_word(out: &mut Vec<u8>, start: usize) {
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
}
