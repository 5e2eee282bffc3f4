//! Checks a UAS applies before acting on a request (RFC 3261 §8.1.1, §8.2),
//! used by `rvoip sip lint` and by servers. Parsing alone only checks framing
//! and the start line; this decodes the headers every element relies on.

use crate::header::{
    Accept, CSeq, CallId, Contact, ContentLength, ContentType, Date, Expires, From, Header,
    HeaderName, MaxForwards, MinExpires, ProxyRequire, Require, To, Via,
};
use crate::{Error, Message, Result, StatusCode, Uri};

/// What the checking element supports, for the application-level checks
/// (extensions, URI schemes, body types).
#[derive(Clone, Debug)]
pub struct Policy<'a> {
    /// Option tags this element supports (Require / Proxy-Require).
    pub supported: &'a [&'a str],
    /// Request-URI schemes it serves.
    pub schemes: &'a [&'a str],
    /// Body types it understands, as `type/subtype`.
    pub body_types: &'a [&'a str],
}

impl Default for Policy<'_> {
    fn default() -> Self {
        Policy {
            supported: &[
                "100rel",
                "timer",
                "replaces",
                "path",
                "outbound",
                "gruu",
                "norefersub",
            ],
            schemes: &["sip", "sips", "tel"],
            body_types: &[
                "application/sdp",
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "message/sipfrag",
                "application/dtmf-relay",
                "application/pidf+xml",
            ],
        }
    }
}

fn present<'a, H: Header<'a>>(m: &'a Message, what: &str) -> Result<H> {
    match m.header::<H>() {
        Some(r) => r,
        None => Err(Error::bad_request(format!("Missing {what} header"))),
    }
}

/// Syntax checks on the headers every element depends on, for requests and
/// responses: mandatory headers present and well-formed, single-valued
/// headers not repeated, CSeq method matching the request method.
pub fn check_syntax(m: &Message) -> Result<()> {
    // Single-valued headers must not carry two values (RFC 3261 §7.3.1).
    let mut seen: Vec<HeaderName> = Vec::new();
    for f in m.fields() {
        if f.name.is_single_valued() {
            if seen.contains(&f.name) {
                return Err(Error::bad_request(format!("Multiple {} headers", f.name)));
            }
            seen.push(f.name);
        }
    }
    let vias = m.headers_of::<Via<'_>>().collect::<Result<Vec<_>>>()?;
    if vias.is_empty() {
        return Err(Error::bad_request("Missing Via header"));
    }
    let from = present::<From<'_>>(m, "From")?;
    from.addr
        .uri()
        .map_err(|_| Error::malformed("From header"))?;
    let to = present::<To<'_>>(m, "To")?;
    to.addr.uri().map_err(|_| Error::malformed("To header"))?;
    present::<CallId<'_>>(m, "Call-ID")?;
    let cseq = present::<CSeq>(m, "CSeq")?;
    if let Some(method) = m.method() {
        // Max-Forwards is mandatory for RFC 3261 UACs, but RFC 2543 requests
        // lack it and must still be accepted (RFC 4475 §3.4.1); when present
        // it must be valid.
        if let Some(mf) = m.header::<MaxForwards>() {
            mf?;
        }
        if &cseq.method != method {
            // RFC 4475 §3.1.2.18: 501 for a method we do not implement.
            if !method.is_known() {
                return Err(Error::new(StatusCode::NOT_IMPLEMENTED, "Not Implemented"));
            }
            return Err(Error::bad_request(
                "CSeq method does not match request method",
            ));
        }
        match m.request_uri() {
            Some(Ok(Uri::Sip(u))) if u.headers.is_some() => {
                // RFC 4475 §3.1.2.11: headers are not allowed in a Request-URI.
                return Err(Error::bad_request("Request-URI contains escaped headers"));
            }
            Some(Ok(_)) | None => {}
            Some(Err(e)) => {
                return Err(Error::bad_request(format!(
                    "Malformed Request-URI: {}",
                    e.reason()
                )));
            }
        }
    }
    if let Some(r) = m.header::<ContentLength>() {
        r?;
    }
    if let Some(r) = m.header::<Expires>() {
        r?;
    }
    if let Some(r) = m.header::<MinExpires>() {
        r?;
    }
    if let Some(r) = m.header::<ContentType<'_>>() {
        r?;
    }
    if let Some(r) = m.header::<Date<'_>>() {
        r?;
    }
    for c in m.headers_of::<Contact<'_>>() {
        if let Some(a) = c?.addr {
            a.uri().map_err(|_| Error::malformed("Contact header"))?;
        }
    }
    let contacts: Vec<_> = m
        .headers_of::<Contact<'_>>()
        .filter_map(Result::ok)
        .collect();
    if contacts.len() > 1 && contacts.iter().any(Contact::is_star) {
        return Err(Error::bad_request("Contact * mixed with other contacts"));
    }
    for r in m.headers_of::<crate::header::Route<'_>>() {
        r?.addr
            .uri()
            .map_err(|_| Error::malformed("Route header"))?;
    }
    for r in m.headers_of::<crate::header::RecordRoute<'_>>() {
        r?.addr
            .uri()
            .map_err(|_| Error::malformed("Record-Route header"))?;
    }
    Ok(())
}

/// The application-level checks of a UAS (RFC 3261 §8.2.1–§8.2.3) after
/// [`check_syntax`]: URI scheme (416), required extensions (420), body type
/// (415), and Accept offering nothing it can send (406).
pub fn check_request(m: &Message, policy: &Policy<'_>) -> Result<()> {
    check_syntax(m)?;
    let Some(method) = m.method() else {
        return Ok(());
    };
    if let Some(Ok(uri)) = m.request_uri() {
        let scheme = uri.scheme();
        if !policy
            .schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
        {
            return Err(Error::new(
                StatusCode::UNSUPPORTED_URI_SCHEME,
                format!("Unsupported URI Scheme {scheme}"),
            ));
        }
    }
    // RFC 3261 §10.3 / RFC 4475 §3.3.4: a registrar needs a SIP or SIPS AOR in To.
    if *method == crate::Method::Register
        && let Some(Ok(to)) = m.header::<To<'_>>()
        && !matches!(to.addr.uri(), Ok(Uri::Sip(_)))
    {
        return Err(Error::bad_request(
            "To of REGISTER is not a SIP or SIPS URI",
        ));
    }
    let mut unsupported: Vec<String> = Vec::new();
    for tag in m
        .headers_of::<Require<'_>>()
        .map(|r| r.map(|t| t.0))
        .chain(m.headers_of::<ProxyRequire<'_>>().map(|r| r.map(|t| t.0)))
    {
        let tag = tag?;
        if !policy.supported.iter().any(|s| s.eq_ignore_ascii_case(tag)) {
            unsupported.push(tag.to_owned());
        }
    }
    if !unsupported.is_empty() && *method != crate::Method::Cancel && *method != crate::Method::Ack
    {
        return Err(Error::new(
            StatusCode::BAD_EXTENSION,
            format!("Bad Extension {}", unsupported.join(", ")),
        ));
    }
    if !m.body().is_empty() {
        let ok = match m.header::<ContentType<'_>>() {
            Some(Ok(ct)) => policy
                .body_types
                .iter()
                .any(|t| t.split_once('/').is_some_and(|(a, b)| ct.is(a, b))),
            _ => false,
        };
        if !ok {
            return Err(Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type",
            ));
        }
    }
    // §8.2.3/§21.4.7: an INVITE whose Accept excludes every body we could answer with.
    if *method == crate::Method::Invite {
        let accepts: Vec<Accept<'_>> = m.headers_of::<Accept<'_>>().collect::<Result<_>>()?;
        if !accepts.is_empty()
            && !accepts.iter().any(|a| {
                (a.mtype == "*" || a.mtype.eq_ignore_ascii_case("application"))
                    && (a.subtype == "*" || a.subtype.eq_ignore_ascii_case("sdp"))
            })
        {
            return Err(Error::new(StatusCode::NOT_ACCEPTABLE, "Not Acceptable"));
        }
    }
    Ok(())
}

/// The verdict of a UAS with the default [`Policy`] on raw bytes: the parsed
/// message, or the error whose status it would answer with. This is what
/// `rvoip sip lint` reports.
pub fn verdict(bytes: bytes::Bytes, mode: crate::Mode, limits: &crate::Limits) -> Result<Message> {
    let msg = Message::parse_with(bytes, mode, limits)?;
    if msg.is_request() {
        check_request(&msg, &Policy::default())?;
    } else {
        check_syntax(&msg)?;
    }
    Ok(msg)
}
