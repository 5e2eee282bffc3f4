//! `Via` (RFC 3261 §20.42, §18.2.1; RFC 3581 rport).

use std::fmt;
use std::net::IpAddr;

use super::{Header, HeaderName};
use crate::params::{Kind, Params, find_value};
use crate::scan;
use crate::text::{self, is_token};
use crate::uri::Host;
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

impl Via<'_> {
    /// Finds parameter `name` of the first Via value in `field` (a Via
    /// header field's value as received) by a byte scan, without parsing
    /// the header: for the hot path, where every Via has the common shape.
    /// `Some(None)` for a parameter without a value, `Some(Some(v))` with
    /// its value trimmed. `None` when the parameter is absent or the scan
    /// cannot be sure (a quoted string could hide separators): callers then
    /// parse the header.
    pub fn scan_param<'f>(field: &'f [u8], name: &str) -> Option<Option<&'f [u8]>> {
        let params = Via::scan_params(field)?;
        find_value(params, name.as_bytes()).map(|v| v.and_then(|r| params.get(r)))
    }

    /// Whether the first Via value in `field` has parameter `name`, when a
    /// byte scan can be sure (see [`scan_param`](Via::scan_param)); `None`
    /// sends the caller to the parse.
    pub fn scan_has_param(field: &[u8], name: &str) -> Option<bool> {
        Via::scan_params(field).map(|params| find_value(params, name.as_bytes()).is_some())
    }

    /// The parameter text of the first Via value: from its first `;` to
    /// the comma that ends the value. `None` without parameters, or when a
    /// quote (or a comma first) could hide separators. Eight bytes per step.
    fn scan_params(field: &[u8]) -> Option<&[u8]> {
        let semi = scan::find_any(field, 0, [b';', b',', b'"'])?;
        if field[semi] != b';' {
            return None;
        }
        let end = match scan::find_any(field, semi + 1, [b',', b'"']) {
            Some(i) if field[i] == b'"' => return None,
            Some(comma) => comma,
            None => field.len(),
        };
        Some(&field[semi + 1..end])
    }
}

impl Via<'_> {
    /// The transport of the first Via value in `field` (a Via header
    /// field's value as received) when it has the common shape
    /// `SIP/2.0/TRANSPORT` and a space: what the parse of a valid header
    /// gives, without parsing. `None` for any other shape (a folded or spaced
    /// sent-protocol, another version): callers then parse the header.
    pub fn scan_transport(field: &[u8]) -> Option<&str> {
        Via::scan_sent_protocol(field).map(|(transport, _)| transport)
    }

    /// The sent-by (`host[:port]`) of the first Via value in `field`, when
    /// it has the shape [`scan_transport`](Via::scan_transport) reads: the
    /// bytes after the transport and its one space up to the parameters,
    /// the comma or whitespace. Callers still check what they take from it
    /// (an empty or odd sent-by is theirs to refuse and parse instead).
    pub fn scan_sent_by(field: &[u8]) -> Option<&[u8]> {
        let (_, rest) = Via::scan_sent_protocol(field)?;
        let end = rest
            .iter()
            .position(|&c| matches!(c, b';' | b',' | b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    }

    /// `SIP/2.0/TRANSPORT` and one space or tab: the transport, and what
    /// follows the space.
    fn scan_sent_protocol(field: &[u8]) -> Option<(&str, &[u8])> {
        let rest = field
            .strip_prefix(b"SIP/2.0/")
            .or_else(|| field.strip_prefix(b"sip/2.0/"))?;
        let end = text::span_of(rest, 0, text::class::TOKEN);
        if end == 0 || !matches!(rest.get(end), Some(b' ' | b'\t')) {
            return None;
        }
        let transport = std::str::from_utf8(&rest[..end]).ok()?;
        Some((transport, &rest[end + 1..]))
    }
}

/// The grammar of the Via parameters that have one (RFC 3261 §20.42, RFC 3581).
fn check_via_param(name: &str, value: Option<&str>) -> bool {
    let is = |n: &str| name.len() == n.len() && name.eq_ignore_ascii_case(n);
    match name.len() {
        6 if is("branch") => value.is_some_and(is_token),
        8 if is("received") => value.is_some_and(|r| {
            let r = r
                .strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(r);
            r.parse::<IpAddr>().is_ok()
        }),
        5 if is("rport") => value.is_none_or(|p| text::parse_u64(p, 65535).is_some()),
        3 if is("ttl") => value.is_some_and(|t| text::parse_u64(t, 255).is_some()),
        5 if is("maddr") => value.is_some_and(|m| Host::parse(m).is_ok()),
        _ => true,
    }
}

impl<'a> Header<'a> for Via<'a> {
    const NAME: HeaderName = HeaderName::Via;
    const LIST: bool = true;
    fn parse(value: &'a str) -> Result<Self> {
        let bad = || Error::malformed("Via header");
        let b = value.as_bytes();
        // sent-protocol = name SLASH version SLASH transport, SLASH = SWS "/" SWS.
        let mut i = text::skip_lws(b, 0);
        let mut parts = [""; 3];
        for (n, part) in parts.iter_mut().enumerate() {
            let end = text::span_of(b, i, text::class::TOKEN);
            if end == i {
                return Err(bad());
            }
            *part = &value[i..end];
            i = text::skip_lws(b, end);
            if n < 2 {
                if b.get(i) != Some(&b'/') {
                    return Err(bad());
                }
                i = text::skip_lws(b, i + 1);
            } else if i == end {
                return Err(bad()); // LWS required before sent-by
            }
        }
        let [protocol, version, transport] = parts;
        // sent-by = host [ COLON port ]
        let host_start = i;
        if b.get(i) == Some(&b'[') {
            i += b[i..].iter().position(|&c| c == b']').ok_or_else(bad)? + 1;
        } else {
            // Host bytes; whatever follows must be a port, parameters or
            // the end, which the code below checks.
            i = text::span_of(b, i, text::class::HOST);
        }
        let host = Host::parse(&value[host_start..i]).map_err(|_| bad())?;
        i = text::skip_lws(b, i);
        let mut port = None;
        if b.get(i) == Some(&b':') {
            let start = text::skip_lws(b, i + 1);
            let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            port = Some(text::parse_u64(&value[start..end], 65535).ok_or_else(bad)? as u16);
            i = text::skip_lws(b, end);
        }
        let params = match b.get(i) {
            None => Params::EMPTY,
            Some(b';') => Params::parse_checked(
                text::trim_lws(&value[i + 1..]),
                Kind::Header,
                check_via_param,
            )
            .map_err(|e| Error::bad_request(format!("{} in Via header", e.reason())))?,
            Some(_) => return Err(bad()),
        };
        let via = Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
        };
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
    fn scan_transport_agrees_with_the_parse() {
        let cases: &[(&str, Option<&str>)] = &[
            ("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1", Some("UDP")),
            ("SIP/2.0/tcp a.example.com;rport", Some("tcp")),
            ("sip/2.0/WSS x.invalid, SIP/2.0/UDP b", Some("WSS")),
            ("SIP/2.0/UDP\t192.0.2.1", Some("UDP")),
            ("SIP / 2.0 / UDP 192.0.2.1", None),
            ("SIP/2.0/UDP", None),
            ("SIP/2.0/ UDP 192.0.2.1", None),
            ("SIP/2.0/UDP;branch=x", None),
            ("SIP/3.0/UDP 192.0.2.1", None),
        ];
        for (value, expected) in cases {
            let scanned = Via::scan_transport(value.as_bytes());
            assert_eq!(scanned, *expected, "{value}");
            if let Some(t) = scanned {
                let parsed: Via<'_> = crate::text::split_commas(value)
                    .next()
                    .and_then(|v| Via::parse(v).ok())
                    .expect(value);
                assert_eq!(parsed.transport, t, "{value}");
            }
        }
    }

    #[test]
    fn scan_sent_by_stops_at_the_parameters() {
        fn sent_by(f: &str) -> Option<&[u8]> {
            Via::scan_sent_by(f.as_bytes())
        }
        assert_eq!(
            sent_by("SIP/2.0/UDP 192.0.2.1:5060;branch=z"),
            Some(&b"192.0.2.1:5060"[..])
        );
        assert_eq!(
            sent_by("SIP/2.0/TCP a.example.com, SIP/2.0/UDP b"),
            Some(&b"a.example.com"[..])
        );
        assert_eq!(sent_by("SIP/2.0/UDP [::1]:5060"), Some(&b"[::1]:5060"[..]));
        assert_eq!(sent_by("SIP/2.0/UDP  a;branch=z"), Some(&b""[..]));
        assert_eq!(sent_by("SIP / 2.0 / UDP a"), None);
    }

    #[test]
    fn scan_param_reads_the_first_value_only() {
        let f =
            b"SIP/2.0/UDP 192.0.2.1:5060;rport ; BRANCH = z9hG4bK1, SIP/2.0/UDP b;received=1.2.3.4";
        assert_eq!(Via::scan_param(f, "branch"), Some(Some(&b"z9hG4bK1"[..])));
        assert_eq!(Via::scan_param(f, "rport"), Some(None));
        assert_eq!(Via::scan_param(f, "received"), None, "second value");
        assert_eq!(
            Via::scan_param(b"SIP/2.0/UDP a;x=\"q;branch=no\";branch=z", "branch"),
            None
        );
    }

    /// Wherever the scan answers, it answers what the parse of the first
    /// value says; it declines (None) rather than guess.
    #[test]
    fn scan_param_agrees_with_the_parse() {
        let fields = [
            "SIP/2.0/UDP 127.0.0.1:16071;branch=z9hG4bKfbfdde90b9be1f0f;rport",
            "SIP/2.0/UDP 127.0.0.1:16071;rport=5060;received=10.0.0.1;branch=z9hG4bK1",
            "SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK-x;maddr=224.2.0.1;ttl=16",
            "SIP/2.0/UDP a.example.com;BRANCH=Z9HG4BKa;RPort , SIP/2.0/UDP b;branch=z9hG4bKb",
            "SIP/2.0/UDP a\r\n ;branch\r\n =\r\n z9hG4bKfold ;rport",
            "SIP/2.0/UDP a;x=\"q;branch=no\";branch=z9hG4bKq",
            "SIP/2.0/UDP a, SIP/2.0/UDP b;branch=z9hG4bKsecond",
            "SIP/2.0/UDP a;branchx=1;branch=z9hG4bKlong;rportx;rport",
            "SIP/2.0/UDP a;branch=z9hG4bK1 ;rport = 5060 ",
            "SIP/2.0/UDP a",
        ];
        for f in fields {
            let parsed = Via::parse(f.split(", SIP").next().expect("first")).expect(f);
            for name in ["branch", "rport", "received", "maddr", "ttl", "x"] {
                if let Some(fast) = Via::scan_param(f.as_bytes(), name) {
                    let slow = parsed.params.get(name).map(|v| v.map(str::as_bytes));
                    assert_eq!(Some(fast), slow, "{f} {name}");
                }
            }
        }
        for f in fields {
            let parsed = Via::parse(f.split(", SIP").next().expect("first")).expect(f);
            for name in ["branch", "rport", "received", "maddr", "ttl", "x"] {
                if let Some(fast) = Via::scan_has_param(f.as_bytes(), name) {
                    assert_eq!(fast, parsed.params.get(name).is_some(), "{f} {name}");
                }
            }
        }
        assert_eq!(
            Via::scan_has_param(fields[0].as_bytes(), "rport"),
            Some(true)
        );
        assert_eq!(
            Via::scan_has_param(fields[0].as_bytes(), "received"),
            Some(false)
        );
        assert_eq!(Via::scan_has_param(fields[5].as_bytes(), "branch"), None);
        let hot = fields[0].as_bytes();
        assert_eq!(
            Via::scan_param(hot, "branch"),
            Some(Some(&b"z9hG4bKfbfdde90b9be1f0f"[..]))
        );
        assert_eq!(Via::scan_param(hot, "rport"), Some(None));
        assert_eq!(Via::scan_param(hot, "received"), None);
        assert_eq!(Via::scan_param(fields[6].as_bytes(), "branch"), None);
    }

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
