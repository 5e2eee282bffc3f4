//! `a=` attributes with typed views for the ones SIP media needs.

use std::fmt;

use crate::{Error, Result};

/// `a=<name>[:<value>]`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Attribute<'a> {
    /// Name (e.g. `rtpmap`).
    pub name: &'a str,
    /// Value after the colon.
    pub value: Option<&'a str>,
}

impl<'a> Attribute<'a> {
    pub(super) fn parse(v: &'a str) -> Result<Attribute<'a>> {
        let (name, value) = match v.split_once(':') {
            Some((n, val)) => (n, Some(val)),
            None => (v, None),
        };
        if name.is_empty() || !name.bytes().all(crate::text::is_token_byte) {
            return Err(Error::bad_request("Malformed SDP attribute"));
        }
        Ok(Attribute { name, value })
    }

    /// A flag attribute (`a=rtcp-mux`).
    pub fn flag(name: &'a str) -> Attribute<'a> {
        Attribute { name, value: None }
    }

    /// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
    pub fn rtpmap(&self) -> Option<RtpMap<'a>> {
        if self.name != "rtpmap" {
            return None;
        }
        let (pt, rest) = self.value?.split_once(' ')?;
        let mut parts = rest.trim().split('/');
        let encoding = parts.next().filter(|e| !e.is_empty())?;
        let clock_rate = parts.next()?.parse().ok()?;
        let channels = match parts.next() {
            Some(c) => Some(c.parse().ok()?),
            None => None,
        };
        Some(RtpMap {
            payload_type: pt.parse().ok()?,
            encoding,
            clock_rate,
            channels,
        })
    }

    /// `a=fmtp:<pt> <params>`.
    pub fn fmtp(&self) -> Option<Fmtp<'a>> {
        if self.name != "fmtp" {
            return None;
        }
        let (pt, params) = self.value?.split_once(' ')?;
        Some(Fmtp {
            payload_type: pt.parse().ok()?,
            params: params.trim(),
        })
    }

    /// `sendrecv` / `sendonly` / `recvonly` / `inactive`.
    pub fn direction(&self) -> Option<Direction> {
        if self.value.is_some() {
            return None;
        }
        Some(match self.name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// `a=rtcp:<port> [IN IP4 <addr>]` (RFC 3605).
    pub fn rtcp(&self) -> Option<RtcpAttr<'a>> {
        if self.name != "rtcp" {
            return None;
        }
        let mut it = self.value?.split(' ');
        let port = it.next()?.parse().ok()?;
        let address = match (it.next(), it.next(), it.next()) {
            (Some(_net), Some(_ty), Some(addr)) => Some(addr),
            (None, None, None) => None,
            _ => return None,
        };
        Some(RtcpAttr { port, address })
    }

    /// `a=crypto:<tag> <suite> <key-params> [<session-params>]` (RFC 4568).
    pub fn crypto(&self) -> Option<Crypto<'a>> {
        if self.name != "crypto" {
            return None;
        }
        let mut it = self.value?.splitn(4, ' ');
        let tag = it.next()?.parse().ok()?;
        let suite = it.next()?;
        let key_params = it.next()?;
        if !key_params.contains(':') {
            return None;
        }
        Some(Crypto {
            tag,
            suite,
            key_params,
            session_params: it.next(),
        })
    }

    /// `a=setup:active|passive|actpass|holdconn` (RFC 4145).
    pub fn setup(&self) -> Option<Setup> {
        if self.name != "setup" {
            return None;
        }
        Some(match self.value? {
            "active" => Setup::Active,
            "passive" => Setup::Passive,
            "actpass" => Setup::ActPass,
            "holdconn" => Setup::HoldConn,
            _ => return None,
        })
    }

    /// `a=fingerprint:<hash-func> <hex:pairs>` (RFC 8122).
    pub fn fingerprint(&self) -> Option<Fingerprint<'a>> {
        if self.name != "fingerprint" {
            return None;
        }
        let (hash, value) = self.value?.split_once(' ')?;
        Some(Fingerprint { hash, value })
    }
}

impl fmt::Display for Attribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "{}:{v}", self.name),
            None => f.write_str(self.name),
        }
    }
}

/// A decoded `a=rtpmap`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RtpMap<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Encoding name (`PCMU`, `opus`, `telephone-event`).
    pub encoding: &'a str,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channels (audio).
    pub channels: Option<u16>,
}

/// A decoded `a=fmtp`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fmtp<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// Format parameters as written (`minptime=10;useinbandfec=1`).
    pub params: &'a str,
}

impl<'a> Fmtp<'a> {
    /// One `name=value` parameter.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.split(';').find_map(|p| {
            let (n, v) = p.split_once('=')?;
            n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }
}

/// Media direction (RFC 3264 §5.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    /// `a=sendrecv` (default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

/// `a=rtcp` port and optional address.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RtcpAttr<'a> {
    /// RTCP port.
    pub port: u16,
    /// RTCP address when given.
    pub address: Option<&'a str>,
}

/// An SDES `a=crypto` line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Crypto<'a> {
    /// Tag.
    pub tag: u32,
    /// Crypto suite, e.g. `AES_CM_128_HMAC_SHA1_80`.
    pub suite: &'a str,
    /// `inline:<key||salt>[|lifetime][|MKI:length]`.
    pub key_params: &'a str,
    /// Session parameters.
    pub session_params: Option<&'a str>,
}

impl<'a> Crypto<'a> {
    /// The base64 key and salt of the first `inline:` key.
    pub fn inline_key(&self) -> Option<&'a str> {
        let k = self.key_params.strip_prefix("inline:")?;
        k.split('|').next()
    }
}

/// `a=setup` roles.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Setup {
    /// `active`
    Active,
    /// `passive`
    Passive,
    /// `actpass`
    ActPass,
    /// `holdconn`
    HoldConn,
}

/// `a=fingerprint`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fingerprint<'a> {
    /// `sha-256`, ...
    pub hash: &'a str,
    /// Colon-separated hex.
    pub value: &'a str,
}
