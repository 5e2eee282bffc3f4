//! URIs: `sip:`/`sips:` (RFC 3261 §19.1), `tel:` (RFC 3966), and any other
//! absoluteURI kept opaque. Parsed without copying; printing is canonical.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::params::{Kind, Params};
use crate::{Error, Result};
use crate::{scan, text};

/// A host: domain name, IPv4 address, or IPv6 reference (`[...]` on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Host<'a> {
    /// A domain name as written.
    Name(&'a str),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address; printed in brackets.
    V6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parses `hostname / IPv4address / IPv6reference`.
    pub fn parse(s: &'a str) -> Result<Host<'a>> {
        if let Some(inner) = s.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| Error::malformed("host"))?;
            return parse_v6(inner)
                .map(Host::V6)
                .ok_or_else(|| Error::malformed("IPv6 reference"));
        }
        if s.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && let Some(v4) = parse_v4(s.as_bytes())
        {
            return Ok(Host::V4(v4));
        }
        // hostname: labels of alphanumerics, '-' and '_' separated by single dots.
        let mut prev = b'.';
        let ok = !s.is_empty()
            && s.len() <= 255
            && s.bytes().all(|b| {
                let fine = text::is(b, text::class::HOST) && !(b == b'.' && prev == b'.');
                prev = b;
                fine
            });
        if ok {
            Ok(Host::Name(s))
        } else {
            Err(Error::malformed("host"))
        }
    }

    /// Case-insensitive comparison for names, value comparison for addresses.
    pub fn eq_host(&self, other: &Host<'_>) -> bool {
        match (self, other) {
            (Host::Name(a), Host::Name(b)) => a.eq_ignore_ascii_case(b),
            (Host::V4(a), Host::V4(b)) => a == b,
            (Host::V6(a), Host::V6(b)) => a == b,
            _ => false,
        }
    }
}

/// Parses a dotted-quad IPv4 address as `Ipv4Addr::from_str` does (four
/// decimal octets up to 255, no leading zeros), in one pass.
fn parse_v4(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u16 = 0;
        while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            v = v * 10 + u16::from(d - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        let len = i - start;
        if len == 0 || v > 255 || (len > 1 && b[start] == b'0') {
            return None;
        }
        *octet = v as u8;
    }
    (i == b.len()).then_some(Ipv4Addr::from(octets))
}

/// Parses an IPv6 address in the RFC 5954 form: an embedded IPv4 address is
/// preceded by exactly the colons RFC 4291 allows (`::ffff:1.2.3.4`), so the
/// three-colon form RFC 3261's ABNF wrongly permitted is rejected.
fn parse_v6(s: &str) -> Option<Ipv6Addr> {
    if s.contains(":::") {
        return None;
    }
    s.parse().ok()
}

impl Host<'_> {
    /// The text of a name or IPv4 address (written into `buf`), or the
    /// IPv6 address, which is printed in brackets by the formatter.
    fn plain<'s>(&'s self, buf: &'s mut [u8; 15]) -> std::result::Result<&'s str, Ipv6Addr> {
        match self {
            Host::Name(n) => Ok(n),
            Host::V4(a) => Ok(crate::text::ipv4(*a, buf)),
            Host::V6(a) => Err(*a),
        }
    }

    /// Appends the host as [`Display`](fmt::Display) prints it, without
    /// the formatting machinery for names and IPv4 (the common cases on a
    /// per-message path).
    pub fn push_to(&self, out: &mut String) {
        match self.plain(&mut [0; 15]) {
            Ok(text) => out.push_str(text),
            Err(a) => {
                use fmt::Write;
                let _ = write!(out, "[{a}]");
            }
        }
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.plain(&mut [0; 15]) {
            Ok(text) => f.write_str(text),
            Err(a) => write!(f, "[{a}]"),
        }
    }
}

/// The index of the first `c` (ASCII) in `s`: eight bytes per step, with
/// none of the set-up `str::find` pays on these short strings.
fn find(s: &str, c: u8) -> Option<usize> {
    scan::find_byte(s.as_bytes(), 0, c)
}

/// Splits `host[:port]` where host may be an IPv6 reference.
pub(crate) fn parse_hostport(s: &str) -> Result<(Host<'_>, Option<u16>)> {
    let (host, port) = if s.starts_with('[') {
        let close = find(s, b']').ok_or_else(|| Error::malformed("IPv6 reference"))?;
        let rest = &s[close + 1..];
        let port = match rest.strip_prefix(':') {
            Some(p) => Some(p),
            None if rest.is_empty() => None,
            None => return Err(Error::malformed("host")),
        };
        (&s[..=close], port)
    } else {
        match s.rfind(':') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => Some(text::parse_u64(p, 65535).ok_or_else(|| Error::malformed("port"))? as u16),
        None => None,
    };
    Ok((Host::parse(host)?, port))
}

/// A `sip:` or `sips:` URI.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct SipUri<'a> {
    /// `sips:` when true.
    pub secure: bool,
    /// The user part, still escaped as written.
    pub user: Option<&'a str>,
    /// The password, still escaped.
    pub password: Option<&'a str>,
    /// Host.
    pub host: Host<'a>,
    /// Explicit port.
    pub port: Option<u16>,
    /// `uri-parameters`.
    pub params: Params<'a>,
    /// `headers` after `?`, as written (escaped).
    pub headers: Option<&'a str>,
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

impl<'a> SipUri<'a> {
    /// A URI with just a host.
    pub fn new(secure: bool, host: Host<'a>) -> SipUri<'a> {
        SipUri {
            secure,
            user: None,
            password: None,
            host,
            port: None,
            params: Params::EMPTY,
            headers: None,
        }
    }

    fn parse_rest(secure: bool, s: &'a str) -> Result<SipUri<'a>> {
        let bad = || Error::malformed("SIP URI");
        let (userinfo, rest) = match find(s, b'@') {
            Some(at) => (Some(&s[..at]), &s[at + 1..]),
            None => (None, s),
        };
        if scan::has_byte(rest.as_bytes(), b'@') {
            return Err(bad());
        }
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (u, p) = match find(ui, b':') {
                    Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                    None => (ui, None),
                };
                let user_ok = !u.is_empty()
                    && u.bytes()
                        .all(|b| is_unreserved(b) || b"%&=+$,;?/".contains(&b))
                    && text::escapes_valid(u.as_bytes());
                let pass_ok = p.is_none_or(|p| {
                    p.bytes()
                        .all(|b| is_unreserved(b) || b"%&=+$,".contains(&b))
                        && text::escapes_valid(p.as_bytes())
                });
                if !user_ok || !pass_ok {
                    return Err(bad());
                }
                (Some(u), p)
            }
        };
        let (before_q, headers) = match find(rest, b'?') {
            Some(q) => (&rest[..q], Some(&rest[q + 1..])),
            None => (rest, None),
        };
        if let Some(h) = headers {
            let ok = h.split('&').all(|hv| {
                let (n, v) = hv.split_once('=').unwrap_or((hv, ""));
                !n.is_empty()
                    && (n.bytes().chain(v.bytes()))
                        .all(|b| is_unreserved(b) || b"%[]/?:+$".contains(&b))
                    && text::escapes_valid(hv.as_bytes())
            });
            if !ok {
                return Err(Error::malformed("URI headers"));
            }
        }
        let (hostport, params) = match find(before_q, b';') {
            Some(i) => (
                &before_q[..i],
                Params::parse(&before_q[i + 1..], Kind::Uri)?,
            ),
            None => (before_q, Params::EMPTY),
        };
        let (host, port) = parse_hostport(hostport)?;
        Ok(SipUri {
            secure,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }

    /// The user part with escapes decoded (may contain any byte, even NUL).
    pub fn user_unescaped(&self) -> Option<Cow<'a, [u8]>> {
        self.user.map(text::unescape)
    }

    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.params.value("transport")
    }

    /// True when the URI has the `lr` parameter (RFC 3261 §19.1.1).
    pub fn lr(&self) -> bool {
        self.params.has("lr")
    }

    /// URI equivalence per RFC 3261 §19.1.4.
    pub fn equivalent(&self, other: &SipUri<'_>) -> bool {
        let esc_eq = |a: Option<&str>, b: Option<&str>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => text::unescape(a) == text::unescape(b),
            _ => false,
        };
        if self.secure != other.secure
            || !esc_eq(self.user, other.user)
            || !esc_eq(self.password, other.password)
            || !self.host.eq_host(&other.host)
            || self.port != other.port
        {
            return false;
        }
        // user, ttl, method, maddr, transport must match when either has them.
        for special in ["user", "ttl", "method", "maddr", "transport"] {
            let a = self.params.get(special);
            let b = other.params.get(special);
            if !param_eq(a, b) {
                return false;
            }
        }
        // Other parameters are compared only when present in both.
        for (name, v) in self.params.items() {
            if let Some(ov) = other.params.get(name)
                && !param_eq(Some(v), Some(ov))
            {
                return false;
            }
        }
        // Header components must match exactly (order-insensitive).
        fn hs(h: Option<&str>) -> Vec<(Vec<u8>, Vec<u8>)> {
            let mut v: Vec<(Vec<u8>, Vec<u8>)> = h
                .unwrap_or("")
                .split('&')
                .filter(|x| !x.is_empty())
                .map(|x| {
                    let (n, val) = x.split_once('=').unwrap_or((x, ""));
                    (
                        text::unescape(n).to_ascii_lowercase(),
                        text::unescape(val).into_owned(),
                    )
                })
                .collect();
            v.sort();
            v
        }
        hs(self.headers) == hs(other.headers)
    }
}

fn param_eq(a: Option<Option<&str>>, b: Option<Option<&str>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let a = text::unescape(a.unwrap_or(""));
            let b = text::unescape(b.unwrap_or(""));
            a.eq_ignore_ascii_case(&b)
        }
        _ => false,
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = self.user {
            f.write_str(u)?;
            if let Some(p) = self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        if let Some(h) = self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

/// A `tel:` URI (RFC 3966): the number as written plus parameters.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct TelUri<'a> {
    /// `+1-201-555-0123` (global) or a local number.
    pub number: &'a str,
    /// `;ext=...;phone-context=...` and others.
    pub params: Params<'a>,
}

impl<'a> TelUri<'a> {
    fn parse_rest(s: &'a str) -> Result<TelUri<'a>> {
        let (number, params) = match s.find(';') {
            Some(i) => (&s[..i], Params::parse(&s[i + 1..], Kind::Uri)?),
            None => (s, Params::EMPTY),
        };
        let digits = number.strip_prefix('+').unwrap_or(number);
        let ok = !digits.is_empty()
            && digits
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b"-.()*#".contains(&b))
            && digits
                .bytes()
                .any(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#');
        if !ok {
            return Err(Error::malformed("tel URI"));
        }
        if !number.starts_with('+') && !params.has("phone-context") {
            return Err(Error::bad_request("Local tel URI without phone-context"));
        }
        Ok(TelUri { number, params })
    }

    /// True for a global number (`+` prefix).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The digits only (visual separators removed), for comparison.
    pub fn digits(&self) -> String {
        self.number
            .chars()
            .filter(|c| !"-.()".contains(*c))
            .collect()
    }
}

impl fmt::Display for TelUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}{}", self.number, self.params)
    }
}

/// Any URI a SIP message can carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Uri<'a> {
    /// `sip:` / `sips:`.
    Sip(SipUri<'a>),
    /// `tel:`.
    Tel(TelUri<'a>),
    /// Any other absoluteURI, kept opaque.
    Other {
        /// The scheme, as written.
        scheme: &'a str,
        /// Everything after `scheme:`.
        rest: &'a str,
    },
}

impl<'a> Uri<'a> {
    /// Parses any absolute URI. Whitespace and angle brackets are errors.
    pub fn parse(s: &'a str) -> Result<Uri<'a>> {
        let colon = find(s, b':').ok_or_else(|| Error::malformed("URI"))?;
        let scheme = &s[..colon];
        let rest = &s[colon + 1..];
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if !scheme_ok
            || rest.is_empty()
            || s.bytes()
                .any(|b| b <= 0x20 || b >= 0x7f || b == b'<' || b == b'>' || b == b'"')
        {
            return Err(Error::malformed("URI"));
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_rest(false, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_rest(true, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_rest(rest).map(Uri::Tel)
        } else {
            Ok(Uri::Other { scheme, rest })
        }
    }

    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// The scheme in lower case for sip/sips/tel, as written otherwise.
    pub fn scheme(&self) -> &'a str {
        match self {
            Uri::Sip(u) if u.secure => "sips",
            Uri::Sip(_) => "sip",
            Uri::Tel(_) => "tel",
            Uri::Other { scheme, .. } => scheme,
        }
    }

    /// Equivalence: §19.1.4 for SIP, digits and parameters for tel,
    /// case-insensitive scheme and exact text otherwise.
    pub fn equivalent(&self, other: &Uri<'_>) -> bool {
        match (self, other) {
            (Uri::Sip(a), Uri::Sip(b)) => a.equivalent(b),
            (Uri::Tel(a), Uri::Tel(b)) => {
                a.digits().eq_ignore_ascii_case(&b.digits())
                    && a.params.items().count() == b.params.items().count()
                    && a.params
                        .items()
                        .all(|(n, v)| param_eq(Some(v), b.params.get(n)))
            }
            (
                Uri::Other {
                    scheme: s1,
                    rest: r1,
                },
                Uri::Other {
                    scheme: s2,
                    rest: r2,
                },
            ) => s1.eq_ignore_ascii_case(s2) && r1 == r2,
            _ => false,
        }
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Tel(u) => u.fmt(f),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri<'_> {
        match Uri::parse(s).expect(s) {
            Uri::Sip(u) => u,
            other => panic!("not sip: {other:?}"),
        }
    }

    #[test]
    fn push_to_appends_what_display_prints() {
        for text in [
            "Example.COM",
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "[2001:db8::1]",
            "[::ffff:1.2.3.4]",
        ] {
            let (host, _) = parse_hostport(text).expect("host");
            let mut out = String::from("x");
            host.push_to(&mut out);
            assert_eq!(out, format!("x{host}"), "{text}");
        }
    }

    #[test]
    fn parts() {
        let u = sip(
            "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&priority=urgent",
        );
        assert!(u.secure);
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.password, Some("secret"));
        assert_eq!(u.host, Host::V6("2001:db8::10".parse().expect("v6")));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.transport(), Some("tcp"));
        assert!(u.lr());
        assert_eq!(u.headers, Some("subject=hi&priority=urgent"));
        assert_eq!(
            u.to_string(),
            "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&priority=urgent"
        );
        let esc = sip("sip:sips%3Auser%40example.com@example.net");
        assert_eq!(
            esc.user_unescaped().as_deref(),
            Some(&b"sips:user@example.com"[..])
        );
        let semi = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(semi.user, Some("user;par=u%40example.net"));
    }

    #[test]
    fn ipv6_forms() {
        assert!(Uri::parse("sip:[::ffff:192.0.2.1]").is_ok());
        assert!(Uri::parse("sip:[2001:db8::192.0.2.1]").is_ok());
        assert!(Uri::parse("sip:[2001:db8:::192.0.2.1]").is_err());
        assert!(Uri::parse("sip:2001:db8::10").is_err());
        let amb = sip("sip:[2001:db8::10:5070]");
        assert_eq!(amb.port, None);
        assert_eq!(sip("sip:[2001:db8::10]:5070").port, Some(5070));
    }

    #[test]
    fn comparison_rfc3261_19_1_4() {
        let eq = |a: &str, b: &str| Uri::parse(a).expect(a).equivalent(&Uri::parse(b).expect(b));
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        assert!(eq("tel:+1-201-555-0123", "tel:+12015550123"));
    }

    #[test]
    fn other_schemes_and_errors() {
        assert_eq!(
            Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent")
                .expect("opaque")
                .scheme(),
            "nobodyKnowsThisScheme"
        );
        assert!(matches!(
            Uri::parse("tel:+1-201-555-0123;ext=1").expect("tel"),
            Uri::Tel(_)
        ));
        assert!(Uri::parse("tel:5550123").is_err());
        assert!(Uri::parse("tel:5550123;phone-context=example.com").is_ok());
        for bad in [
            "sip:",
            "<sip:a@b>",
            "sip:a b@c",
            "sip:a@b:99999",
            "sip:@b",
            "sip:a@b@c",
            ":x",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv4_parsing_matches_std() {
        let cases = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3.4 ",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "1234.1.1.1",
            "1.2.3.4a",
            "192.0.2.10",
            "10.0.0.255",
            "0.1.2.3",
            "00.1.2.3",
            "1.2.3.999",
            "",
        ];
        for c in cases {
            assert_eq!(super::parse_v4(c.as_bytes()), c.parse().ok(), "{c}");
        }
    }
}
