//! name-addr / addr-spec headers (RFC 3261 §20.10, §25.1): From, To, Contact,
//! Route, Record-Route, Path, Refer-To, Referred-By, P-Asserted-Identity,
//! P-Preferred-Identity.

use std::borrow::Cow;
use std::fmt;

use super::{Header, HeaderName};
use crate::params::{Kind, Params};
use crate::text::{self, is_token_byte};
use crate::{Error, Result, Uri, scan};

/// A display name and URI: `"Alice" <sip:alice@example.com>` or a bare URI.
///
/// Parsing a header only locates the URI; [`NameAddr::uri`] decodes it on
/// demand (and [`crate::validate`] checks it), so reading a tag costs no URI
/// parse.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct NameAddr<'a> {
    /// The display name as written: a quoted string with its quotes, or
    /// tokens separated by LWS.
    pub display: Option<&'a str>,
    uri: &'a str,
}

impl<'a> NameAddr<'a> {
    /// An address from a display name (as it should be written: quoted
    /// string or tokens) and URI text. Fails if the URI does not parse.
    pub fn new(display: Option<&'a str>, uri: &'a str) -> Result<NameAddr<'a>> {
        Uri::parse(uri)?;
        Ok(NameAddr { display, uri })
    }

    /// The URI text as written.
    pub fn uri_str(&self) -> &'a str {
        self.uri
    }

    /// The decoded URI.
    pub fn uri(&self) -> Result<Uri<'a>> {
        Uri::parse(self.uri)
    }

    /// The display name without quotes and escapes.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        self.display.map(|d| {
            if d.starts_with('"') {
                text::unquote(d)
            } else {
                Cow::Borrowed(d)
            }
        })
    }

    /// Parses `name-addr / addr-spec` followed by `;params`. In the addr-spec
    /// form the URI ends at the first `;`, and may contain neither `,` nor `?`
    /// (RFC 3261 §20), so those must be in angle brackets.
    pub(crate) fn parse_with_params(
        value: &'a str,
        what: &str,
    ) -> Result<(NameAddr<'a>, Params<'a>)> {
        let v = text::trim_lws(value);
        let b = v.as_bytes();
        let bad = || Error::malformed(&format!("{what} header"));
        // name-addr when a '<' comes before any ';' (a quoted display name
        // counts as name-addr); otherwise addr-spec, whose URI ends at ';'.
        let (display, lt) = if b.first() == Some(&b'"') {
            let end = text::quoted_end(b, 0).ok_or_else(bad)?;
            let after = text::skip_lws(b, end);
            if b.get(after) != Some(&b'<') {
                return Err(bad());
            }
            (Some(&v[..end]), after)
        } else {
            match b.iter().position(|&c| matches!(c, b'<' | b';' | b'"')) {
                Some(lt) if b[lt] == b'<' => {
                    let name = text::trim_lws(&v[..lt]);
                    // *(token LWS): token characters separated by whitespace.
                    let ok = name
                        .bytes()
                        .all(|c| is_token_byte(c) || matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
                    if !ok {
                        return Err(bad());
                    }
                    (if name.is_empty() { None } else { Some(name) }, lt)
                }
                Some(i) if b[i] == b'"' => return Err(bad()),
                _ => {
                    let (uri, params) = crate::params::split_params(v, Kind::Header)?;
                    let ub = uri.as_bytes();
                    if memchr::memchr(b':', ub).is_none()
                        || ub
                            .iter()
                            .any(|&c| c <= b' ' || matches!(c, b'?' | b',' | b'<' | b'>' | b'"'))
                    {
                        return Err(bad());
                    }
                    return Ok((NameAddr { display: None, uri }, params));
                }
            }
        };
        let gt = scan::find_byte(b, lt + 1, b'>').ok_or_else(bad)?;
        let uri = &v[lt + 1..gt];
        // Only the URI's bounds are checked here (no LWS just inside the
        // brackets, RFC 4475 §3.1.2.14); `uri()` decodes the rest on demand
        // and `validate` rejects a URI that does not parse.
        let ub = uri.as_bytes();
        if ub.len() < 2
            || ub[0] <= b' '
            || ub[ub.len() - 1] <= b' '
            || scan::find_byte(ub, 0, b':').is_none()
        {
            return Err(bad());
        }
        let after = text::trim_lws(&v[gt + 1..]);
        let params = if after.is_empty() {
            Params::EMPTY
        } else {
            let p = after.strip_prefix(';').ok_or_else(bad)?;
            Params::parse(text::trim_lws(p), Kind::Header)?
        };
        Ok((NameAddr { display, uri }, params))
    }
}

impl fmt::Display for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = self.display {
            write!(f, "{d} ")?;
        }
        write!(f, "<{}>", self.uri)
    }
}

macro_rules! addr_header {
    ($(#[$doc:meta])* $ty:ident, $label:literal, $list:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a> {
            /// Display name and URI.
            pub addr: NameAddr<'a>,
            /// Header parameters (after the URI).
            pub params: Params<'a>,
        }

        impl<'a> $ty<'a> {
            /// A value with no parameters.
            pub fn new(addr: NameAddr<'a>) -> Self {
                $ty { addr, params: Params::EMPTY }
            }
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            const LIST: bool = $list;
            fn parse(value: &'a str) -> Result<Self> {
                let (addr, params) = NameAddr::parse_with_params(value, $label)?;
                Ok($ty { addr, params })
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.addr, self.params)
            }
        }
    };
}

addr_header!(/// `From` (RFC 3261 §20.20).
    From, "From", false);
addr_header!(/// `To` (RFC 3261 §20.39).
    To, "To", false);
addr_header!(/// One `Route` value (RFC 3261 §20.34).
    Route, "Route", true);
addr_header!(/// One `Record-Route` value (RFC 3261 §20.30).
    RecordRoute, "Record-Route", true);
addr_header!(/// One `Path` value (RFC 3327).
    Path, "Path", true);
addr_header!(/// `Refer-To` (RFC 3515).
    ReferTo, "Refer-To", false);
addr_header!(/// `Referred-By` (RFC 3892).
    ReferredBy, "Referred-By", false);
addr_header!(/// One `P-Asserted-Identity` value (RFC 3325).
    PAssertedIdentity, "P-Asserted-Identity", true);
addr_header!(/// One `P-Preferred-Identity` value (RFC 3325).
    PPreferredIdentity, "P-Preferred-Identity", true);

impl<'a> From<'a> {
    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag")
    }
}

impl<'a> To<'a> {
    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag")
    }
}

/// The `tag` of a From or To value read straight from its bytes, for the
/// shape nearly every message has: `[display] <uri>;params`, the display
/// name a token list or one quoted string. `Some(None)` when it has no
/// tag; `None` when the scan cannot be sure (a quote elsewhere, an
/// addr-spec whose `;` may belong to the URI, a comma, a tag that is not a
/// token): the caller parses then.
pub(crate) fn quick_tag(b: &[u8]) -> Option<Option<std::ops::Range<usize>>> {
    let mut i = text::skip_lws(b, 0);
    if b.get(i) == Some(&b'"') {
        i = text::quoted_end(b, i)?;
    }
    let lt = scan::find_any(b, i, [b'<', b'"', b','])?;
    if b[lt] != b'<' {
        return None;
    }
    let gt = scan::find_any(b, lt + 1, [b'>', b'"', b','])?;
    if b[gt] != b'>' {
        return None;
    }
    let semi = text::skip_lws(b, gt + 1);
    if semi == b.len() {
        return Some(None);
    }
    if b[semi] != b';' || scan::find_any(b, semi, [b'"', b',']).is_some() {
        return None;
    }
    let start = semi + 1;
    match crate::params::find_value(&b[start..], b"tag") {
        None | Some(None) => Some(None),
        Some(Some(r)) => {
            let r = start + r.start..start + r.end;
            b[r.clone()]
                .iter()
                .all(|c| is_token_byte(*c))
                .then_some(Some(r))
        }
    }
}

/// One `Contact` value (RFC 3261 §20.10): `*` or an address with
/// parameters such as `q`, `expires`, `+sip.instance` and `reg-id`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Contact<'a> {
    /// `None` for the wildcard `*` (only valid in REGISTER with Expires: 0).
    pub addr: Option<NameAddr<'a>>,
    /// contact-params.
    pub params: Params<'a>,
}

impl<'a> Contact<'a> {
    /// True for `Contact: *`.
    pub fn is_star(&self) -> bool {
        self.addr.is_none()
    }

    /// The q-value in thousandths (`q=0.5` → 500).
    pub fn q(&self) -> Option<u16> {
        self.params.value("q").and_then(parse_qvalue)
    }

    /// The `expires` parameter in seconds.
    pub fn expires(&self) -> Option<u32> {
        self.params
            .value("expires")
            .and_then(|e| text::parse_u64(e, u32::MAX as u64))
            .map(|e| e as u32)
    }

    /// The `+sip.instance` value without quotes (RFC 5626).
    pub fn instance(&self) -> Option<Cow<'a, str>> {
        self.params.value("+sip.instance").map(text::unquote)
    }

    /// The `reg-id` parameter (RFC 5626).
    pub fn reg_id(&self) -> Option<u32> {
        self.params
            .value("reg-id")
            .and_then(|e| text::parse_u64(e, u32::MAX as u64))
            .map(|e| e as u32)
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
pub(crate) fn parse_qvalue(s: &str) -> Option<u16> {
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    if f.len() > 3 || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = f
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |a, b| a * 10 + u16::from(b - b'0'));
    match i {
        "0" => Some(frac),
        "1" if frac == 0 => Some(1000),
        _ => None,
    }
}

impl<'a> Header<'a> for Contact<'a> {
    const NAME: HeaderName = HeaderName::Contact;
    const LIST: bool = true;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        if v == "*" {
            return Ok(Contact {
                addr: None,
                params: Params::EMPTY,
            });
        }
        let (addr, params) = NameAddr::parse_with_params(v, "Contact")?;
        let c = Contact {
            addr: Some(addr),
            params,
        };
        if params.has("q") && c.q().is_none() {
            return Err(Error::bad_request(
                "Malformed q parameter in Contact header",
            ));
        }
        if params.has("expires") && c.expires().is_none() {
            return Err(Error::bad_request(
                "Malformed expires parameter in Contact header",
            ));
        }
        if params.has("reg-id") && c.reg_id().is_none() {
            return Err(Error::bad_request(
                "Malformed reg-id parameter in Contact header",
            ));
        }
        Ok(c)
    }
}

impl fmt::Display for Contact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.addr {
            None => f.write_str("*"),
            Some(a) => write!(f, "{a}{}", self.params),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let f = From::parse(
            "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .expect("wsinv From");
        assert_eq!(f.tag(), Some("98asjd8"));
        assert_eq!(f.addr.display_name().as_deref(), Some("J Rosenberg \\\""));
        let t = To::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n")
            .expect("addr-spec");
        assert_eq!(t.tag(), Some("1918181833n"));
        let f = From::parse("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=x")
            .expect("tokens");
        assert_eq!(f.addr.display, Some("token1~` token2'+_ token3*%!.-"));
        let nolws = From::parse("caller<sip:caller@example.com>;tag=323").expect("no LWS before <");
        assert_eq!(nolws.addr.display, Some("caller"));
        for bad in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "\"Watson, Thomas\" < sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=1",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "sip:caller@example.net;;tag=134161461246",
        ] {
            assert!(From::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contact_params() {
        let c = Contact::parse("\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33").expect("wsinv Contact");
        assert_eq!(c.q(), Some(330));
        assert_eq!(c.params.value("newparam"), Some("newvalue"));
        assert!(Contact::parse("*").expect("star").is_star());
        // A quoted '<' in an addr-spec's parameter is not a name-addr.
        let c = Contact::parse("sip:a@192.0.2.1;+sip.instance=\"<urn:uuid:1>\";reg-id=2")
            .expect("addr-spec");
        assert_eq!(c.addr.expect("addr").uri_str(), "sip:a@192.0.2.1");
        assert_eq!(c.reg_id(), Some(2));
        let c = Contact::parse("<sip:a@b>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";reg-id=1;expires=3600").expect("outbound");
        assert_eq!(c.reg_id(), Some(1));
        assert_eq!(c.expires(), Some(3600));
        assert_eq!(
            c.instance().as_deref(),
            Some("<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>")
        );
        assert!(Contact::parse("<sip:a@b>;expires=280297596632815").is_err());
        assert!(Contact::parse("<sip:a@b>;q=2").is_err());
        assert_eq!(parse_qvalue("1.000"), Some(1000));
        assert_eq!(parse_qvalue("0.5"), Some(500));
    }
}
