//! The structured SDP lines: o=, c=, b=, t=, m= (RFC 8866 §5).

use std::fmt;
use std::net::IpAddr;

use super::{Attribute, Line};
use crate::{Error, Result};

fn bad(what: &str) -> Error {
    Error::bad_request(format!("Malformed SDP {what} line"))
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Origin<'a> {
    /// Username (`-` when none).
    pub username: &'a str,
    /// Session id (digits, kept as text: it may exceed 64 bits).
    pub session_id: &'a str,
    /// Session version.
    pub session_version: &'a str,
    /// `IN`.
    pub nettype: &'a str,
    /// `IP4` / `IP6`.
    pub addrtype: &'a str,
    /// Address or domain name.
    pub address: &'a str,
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.nettype,
            self.addrtype,
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <connection-address>[/ttl][/count]`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Connection<'a> {
    /// `IN`.
    pub nettype: &'a str,
    /// `IP4` / `IP6`.
    pub addrtype: &'a str,
    /// The address (or name) without suffixes.
    pub address: &'a str,
    /// Multicast TTL (IPv4).
    pub ttl: Option<u8>,
    /// Number of addresses.
    pub count: Option<u32>,
}

impl Connection<'_> {
    /// The address as an IP address, when it is one of the declared family.
    pub fn ip(&self) -> Option<IpAddr> {
        let ip: IpAddr = self.address.parse().ok()?;
        match (self.addrtype, ip) {
            ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(ip),
            _ => None,
        }
    }

    /// True for the RFC 3264 hold address `0.0.0.0`.
    pub fn is_hold(&self) -> bool {
        self.address == "0.0.0.0"
    }
}

impl fmt::Display for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)?;
        if let Some(t) = self.ttl {
            write!(f, "/{t}")?;
        }
        if let Some(c) = self.count {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// `b=<bwtype>:<bandwidth>`
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Bandwidth<'a> {
    /// `AS`, `CT`, `TIAS`, ...
    pub bwtype: &'a str,
    /// Value (kbit/s for AS and CT, bit/s for TIAS).
    pub value: u64,
}

impl fmt::Display for Bandwidth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bwtype, self.value)
    }
}

/// `t=<start-time> <stop-time>` (NTP seconds; 0 = unbounded).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Timing {
    /// Start.
    pub start: u64,
    /// Stop.
    pub stop: u64,
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.start, self.stop)
    }
}

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Media<'a> {
    /// `audio`, `video`, `application`, ...
    pub media: &'a str,
    /// Port (0 = rejected or disabled stream).
    pub port: u16,
    /// Number of ports.
    pub num_ports: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`, ...
    pub proto: &'a str,
    /// Formats (payload types for RTP).
    pub formats: Vec<&'a str>,
}

impl<'a> Media<'a> {
    pub(super) fn parse(v: &'a str) -> Result<Media<'a>> {
        let mut it = v.split(' ');
        let media = it
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("m="))?;
        let ports = it.next().ok_or_else(|| bad("m="))?;
        let (port, num_ports) = match ports.split_once('/') {
            Some((p, n)) => (p, Some(n.parse::<u16>().map_err(|_| bad("m="))?)),
            None => (ports, None),
        };
        let port = port.parse::<u16>().map_err(|_| bad("m="))?;
        let proto = it
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("m="))?;
        let formats: Vec<&str> = it.collect();
        if formats.is_empty() || formats.iter().any(|f| f.is_empty()) || formats.len() > 256 {
            return Err(bad("m="));
        }
        Ok(Media {
            media,
            port,
            num_ports,
            proto,
            formats,
        })
    }

    /// Formats that are RTP payload type numbers.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse().ok())
    }
}

impl fmt::Display for Media<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.media, self.port)?;
        if let Some(n) = self.num_ports {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt_ in &self.formats {
            write!(f, " {fmt_}")?;
        }
        Ok(())
    }
}

fn fields<'a, const N: usize>(v: &'a str, what: &str) -> Result<[&'a str; N]> {
    let mut out = [""; N];
    let mut it = v.split(' ');
    for slot in out.iter_mut() {
        *slot = it
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(what))?;
    }
    if it.next().is_some() {
        return Err(bad(what));
    }
    Ok(out)
}

pub(super) fn parse_line(kind: u8, v: &str) -> Result<Line<'_>> {
    Ok(match kind {
        b'v' => Line::Version(v.parse().map_err(|_| bad("v="))?),
        b'o' => {
            let [
                username,
                session_id,
                session_version,
                nettype,
                addrtype,
                address,
            ] = fields::<6>(v, "o=")?;
            Line::Origin(Origin {
                username,
                session_id,
                session_version,
                nettype,
                addrtype,
                address,
            })
        }
        b's' => Line::SessionName(v),
        b'i' => Line::Info(v),
        b'u' => Line::Uri(v),
        b'e' => Line::Email(v),
        b'p' => Line::Phone(v),
        b'c' => {
            let [nettype, addrtype, addr] = fields::<3>(v, "c=")?;
            let mut parts = addr.split('/');
            let address = parts.next().unwrap_or("");
            let first = parts.next();
            let second = parts.next();
            if parts.next().is_some() || address.is_empty() {
                return Err(bad("c="));
            }
            let (ttl, count) = match (addrtype, first, second) {
                (_, None, _) => (None, None),
                ("IP4", Some(t), s) => (
                    Some(t.parse::<u8>().map_err(|_| bad("c="))?),
                    s.map(|c| c.parse::<u32>().map_err(|_| bad("c=")))
                        .transpose()?,
                ),
                (_, Some(c), None) => (None, Some(c.parse::<u32>().map_err(|_| bad("c="))?)),
                _ => return Err(bad("c=")),
            };
            let conn = Connection {
                nettype,
                addrtype,
                address,
                ttl,
                count,
            };
            if nettype == "IN"
                && matches!(addrtype, "IP4" | "IP6")
                && address.contains(|c: char| c.is_ascii_digit())
                && address.parse::<IpAddr>().is_ok()
                && conn.ip().is_none()
            {
                return Err(bad("c="));
            }
            Line::Connection(conn)
        }
        b'b' => {
            let (bwtype, value) = v.split_once(':').ok_or_else(|| bad("b="))?;
            let value = value.parse().map_err(|_| bad("b="))?;
            if bwtype.is_empty() {
                return Err(bad("b="));
            }
            Line::Bandwidth(Bandwidth { bwtype, value })
        }
        b't' => {
            let [start, stop] = fields::<2>(v, "t=")?;
            Line::Timing(Timing {
                start: start.parse().map_err(|_| bad("t="))?,
                stop: stop.parse().map_err(|_| bad("t="))?,
            })
        }
        b'r' => Line::Repeat(v),
        b'z' => Line::Zone(v),
        b'k' => Line::Key(v),
        b'a' => Line::Attribute(Attribute::parse(v)?),
        other => Line::Other(other as char, v),
    })
}
