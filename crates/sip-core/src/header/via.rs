//! `Via` (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).

use std::fmt;
use std::net::IpAddr;

use super::{Header, HeaderName};
use crate::params::{Kind, Params, split_params};
use crate::text::{self, is_token};
use crate::uri::{Host, parse_hostport};
use crate::{Error, Result};

/// One Via value: `SIP/2.0/UDP host:port;branch=...;received=...;rport`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Via<'a> {
    /// `SIP` (as written).
    pub protocol: &'a str,
    /// `2.0` (as written).
    pub version: &'a str,
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` or an extension token.
    pub transport: &'a str,
    /// sent-by host.
    pub host: Host<'a>,
    /// sent-by port.
    pub port: Option<u16>,
    /// via-params.
    pub params: Params<'a>,
}

/// The RFC 3261 magic cookie that starts every compliant branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

impl<'a> Via<'a> {
    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.params.value("branch")
    }

    /// True when the branch starts with the RFC 3261 magic cookie.
    pub fn has_magic_cookie(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    /// The `received` address (with or without IPv6 brackets).
    pub fn received(&self) -> Option<IpAddr> {
        let r = self.params.value("received")?;
        let r = r
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(r);
        r.parse().ok()
    }

    /// `None` when absent, `Some(None)` for a bare `rport`, `Some(Some(p))` when filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| text::parse_u64(p, 65535)).map(|p| p as u16))
    }

    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.value("maddr")
    }

    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .value("ttl")
            .and_then(|t| text::parse_u64(t, 255))
            .map(|t| t as u8)
    }
}

/// Splits at `/` with optional LWS around it.
fn slash_parts(s: &str) -> Option<(&str, &str)> {
    let i = s.find('/')?;
    Some((text::trim_lws(&s[..i]), text::trim_lws(&s[i + 1..])))
}

impl<'a> Header<'a> for Via<'a> {
    const NAME: HeaderName = HeaderName::Via;
    const LIST: bool = true;
    fn parse(value: &'a str) -> Result<Self> {
        let bad = || Error::malformed("Via header");
        let (head, params) =
            split_params(text::trim_lws(value), Kind::Header).map_err(|_| bad())?;
        let (protocol, rest) = slash_parts(head).ok_or_else(bad)?;
        let (version, rest) = slash_parts(rest).ok_or_else(bad)?;
        let b = rest.as_bytes();
        let t_end = b
            .iter()
            .position(|&c| !text::is_token_byte(c))
            .unwrap_or(b.len());
        let transport = &rest[..t_end];
        let sent_by = text::trim_lws(&rest[t_end..]);
        if !is_token(protocol)
            || !is_token(version)
            || !is_token(transport)
            || sent_by.is_empty()
            || t_end == rest.len() && sent_by.is_empty()
        {
            return Err(bad());
        }
        if t_end < rest.len() && !matches!(b[t_end], b' ' | b'\t' | b'\r' | b'\n') {
            return Err(bad());
        }
        let (host, port) = parse_hostport(sent_by).map_err(|_| bad())?;
        // One pass over the parameters validates the ones with a grammar.
        for (name, value) in params.items() {
            let ok = if name.eq_ignore_ascii_case("branch") {
                value.is_some_and(is_token)
            } else if name.eq_ignore_ascii_case("received") {
                value.is_some_and(|r| {
                    let r = r.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(r);
                    r.parse::<IpAddr>().is_ok()
                })
            } else if name.eq_ignore_ascii_case("rport") {
                value.is_none_or(|p| text::parse_u64(p, 65535).is_some())
            } else if name.eq_ignore_ascii_case("ttl") {
                value.is_some_and(|t| text::parse_u64(t, 255).is_some())
            } else if name.eq_ignore_ascii_case("maddr") {
                value.is_some_and(|m| Host::parse(m).is_ok())
            } else {
                true
            };
            if !ok {
                return Err(Error::bad_request(format!("Malformed {name} parameter in Via header")));
            }
        }
        let via = Via { protocol, version, transport, host, port, params };
        Ok(via)
    }
}

impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tortuous_and_ipv6() {
        let v =
            Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").expect("wsinv");
        assert_eq!((v.protocol, v.version, v.transport), ("SIP", "2.0", "UDP"));
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.has_magic_cookie());
        let v = Via::parse(
            "SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8",
        )
        .expect("wsinv 2");
        assert_eq!(v.host, Host::Name("spindle.example.com"));
        assert!(v.has_magic_cookie());
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:255];branch=z9hG4bKas3-111;rport=5070").expect("v6");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().expect("ip")));
        assert_eq!(v.rport(), Some(Some(5070)));
        let v = Via::parse("SIP/2.0/UDP 192.0.2.1;rport;received=2001:db8::9:255;branch=z9hG4bK1")
            .expect("bare v6 received");
        assert_eq!(v.rport(), Some(None));
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0 host",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP host;branch=",
            "SIP/2.0/UDP host:99999",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Via::parse("SIP/2.0/TLS [::1]:5061;branch=z9hG4bKx")
                .expect("ok")
                .to_string(),
            "SIP/2.0/TLS [::1]:5061;branch=z9hG4bKx"
        );
    }
}
