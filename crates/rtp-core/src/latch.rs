//! Symmetric RTP latching that only follows the signalled peer, so that a
//! stranger sending to our port can neither hijack nor receive the stream
//! (the "RTP Bleed" flaw of latching to whoever speaks).
//!
//! [`Latch::admit`] says whether a datagram from an address may be used at
//! all; once the packet has proven itself (it parsed, its SSRC and payload
//! type were expected, SRTP authenticated) [`Latch::confirm`] makes its
//! address the one media is sent back to.
//!
//! ```
//! use std::time::Instant;
//! use rtp_core::latch::{Latch, LatchPolicy};
//!
//! let now = Instant::now();
//! let mut latch = Latch::new(now, "192.0.2.10:4000".parse().unwrap(), LatchPolicy::SignalledHost);
//! let nat: std::net::SocketAddr = "192.0.2.10:61000".parse().unwrap();
//! assert!(latch.admit(now, nat));
//! latch.confirm(now, nat);
//! assert_eq!(latch.destination(), nat);
//! assert!(!latch.admit(now, "198.51.100.7:4000".parse().unwrap()));
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Which sources may be latched to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatchPolicy {
    /// Only the signalled address and port: no latching at all.
    Exact,
    /// The signalled IP address with any port (a NAT may rewrite ports);
    /// the port of the last confirmed packet is used.
    SignalledHost,
    /// For peers that signal a private address from behind a NAT: the
    /// first source confirmed within `window` of the start (or of the last
    /// re-signalling) is latched and locked; nothing else is admitted.
    FirstSource {
        /// How long after signalling the first source may be learned.
        window: Duration,
    },
}

/// The latching state of one media stream.
#[derive(Clone, Debug)]
pub struct Latch {
    signalled: SocketAddr,
    policy: LatchPolicy,
    since: Instant,
    latched: Option<SocketAddr>,
}

impl Latch {
    /// A stream whose peer signalled `signalled` (SDP `c=`/`m=`) at `now`.
    pub fn new(now: Instant, signalled: SocketAddr, policy: LatchPolicy) -> Latch {
        Latch {
            signalled,
            policy,
            since: now,
            latched: None,
        }
    }

    /// A new offer/answer changed the peer's address: start over.
    pub fn resignal(&mut self, now: Instant, signalled: SocketAddr) {
        *self = Latch::new(now, signalled, self.policy);
    }

    /// Whether a datagram from `from` may be processed.
    pub fn admit(&self, now: Instant, from: SocketAddr) -> bool {
        if from == self.signalled {
            return true;
        }
        match self.policy {
            LatchPolicy::Exact => false,
            LatchPolicy::SignalledHost => from.ip() == self.signalled.ip(),
            LatchPolicy::FirstSource { window } => match self.latched {
                Some(peer) => peer == from,
                None => now.saturating_duration_since(self.since) <= window,
            },
        }
    }

    /// Records that a valid packet came from `from` (already admitted):
    /// media goes back there from now on.
    pub fn confirm(&mut self, now: Instant, from: SocketAddr) {
        if !self.admit(now, from) {
            return;
        }
        match self.policy {
            LatchPolicy::Exact => {}
            LatchPolicy::SignalledHost => self.latched = Some(from),
            LatchPolicy::FirstSource { .. } => {
                if self.latched.is_none() {
                    self.latched = Some(from);
                }
            }
        }
    }

    /// Where to send media: the latched address, else the signalled one.
    pub fn destination(&self) -> SocketAddr {
        self.latched.unwrap_or(self.signalled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    #[test]
    fn exact_never_moves() {
        let t = Instant::now();
        let mut l = Latch::new(t, addr("10.0.0.1:5000"), LatchPolicy::Exact);
        assert!(l.admit(t, addr("10.0.0.1:5000")));
        assert!(!l.admit(t, addr("10.0.0.1:5002")));
        l.confirm(t, addr("10.0.0.1:5002"));
        assert_eq!(l.destination(), addr("10.0.0.1:5000"));
    }

    #[test]
    fn signalled_host_follows_ports_of_that_host_only() {
        let t = Instant::now();
        let mut l = Latch::new(t, addr("[2001:db8::1]:5000"), LatchPolicy::SignalledHost);
        l.confirm(t, addr("[2001:db8::1]:40000"));
        assert_eq!(l.destination(), addr("[2001:db8::1]:40000"));
        // A stranger mid-call is neither admitted nor latched.
        assert!(!l.admit(t, addr("[2001:db8::66]:40000")));
        l.confirm(t, addr("[2001:db8::66]:40000"));
        assert_eq!(l.destination(), addr("[2001:db8::1]:40000"));
    }

    #[test]
    fn first_source_locks_and_the_window_closes() {
        let t = Instant::now();
        let policy = LatchPolicy::FirstSource {
            window: Duration::from_secs(2),
        };
        let mut l = Latch::new(t, addr("192.168.1.20:4000"), policy);
        let nat = addr("203.0.113.9:33333");
        assert!(l.admit(t + Duration::from_millis(300), nat));
        l.confirm(t + Duration::from_millis(300), nat);
        assert_eq!(l.destination(), nat);
        let attacker = addr("198.51.100.1:9");
        assert!(!l.admit(t + Duration::from_millis(400), attacker));
        // Unlatched, the window closes for everyone.
        let mut late = Latch::new(t, addr("192.168.1.20:4000"), policy);
        assert!(!late.admit(t + Duration::from_secs(3), attacker));
        late.confirm(t + Duration::from_secs(3), attacker);
        assert_eq!(late.destination(), addr("192.168.1.20:4000"));
        // Re-signalling opens it again.
        late.resignal(t + Duration::from_secs(3), addr("192.168.1.20:4002"));
        assert!(late.admit(t + Duration::from_secs(4), nat));
    }
}
