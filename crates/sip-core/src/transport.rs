//! Transport protocols as named in Via headers (RFC 3261 §18, RFC 7118).

/// A SIP transport protocol. Reliable ones (everything but UDP) have no
/// retransmissions and zero-length wait timers (RFC 3261 §17).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// SCTP.
    Sctp,
    /// WebSocket (RFC 7118).
    Ws,
    /// Secure WebSocket.
    Wss,
}

impl Transport {
    /// Every transport.
    pub const ALL: [Transport; 6] = [
        Transport::Udp,
        Transport::Tcp,
        Transport::Tls,
        Transport::Sctp,
        Transport::Ws,
        Transport::Wss,
    ];

    /// True for every transport but UDP.
    pub fn is_reliable(self) -> bool {
        self != Transport::Udp
    }

    /// The Via transport token.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Sctp => "SCTP",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// The lower-case form used in a URI's `transport=` parameter (and in
    /// `udp:192.0.2.1:5060` flow names).
    pub fn param(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Sctp => "sctp",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// Parses a Via transport token (case-insensitive).
    pub fn from_via(token: &str) -> Option<Transport> {
        // Compared in place: this runs for every message's Via.
        Transport::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(token))
    }
}

#[cfg(test)]
mod tests {
    use super::Transport;

    #[test]
    fn tokens_and_reliability() {
        for t in Transport::ALL {
            assert_eq!(Transport::from_via(t.as_str()), Some(t));
            assert_eq!(Transport::from_via(t.param()), Some(t));
            assert_eq!(t.param(), t.as_str().to_ascii_lowercase());
        }
        assert!(!Transport::Udp.is_reliable());
        assert!(Transport::Tcp.is_reliable());
        assert_eq!(Transport::from_via("QUIC"), None);
    }
}
