// Generated from the `names!` table in name.rs: dispatch on length, then
// first letter, then compare (exact bytes first, the common case).

use super::HeaderName;

#[inline]
fn one(name: &[u8], candidates: &[(HeaderName, &[u8])]) -> HeaderName {
    for (h, n) in candidates {
        if name == *n || name.eq_ignore_ascii_case(n) {
            return *h;
        }
    }
    HeaderName::Other
}

#[inline]
pub(super) fn lookup_long(name: &[u8]) -> HeaderName {
    let first = name[0] | 0x20;
    match name.len() {
        2 => match first {
            b't' => one(name, &[(HeaderName::To, b"To")]),
            _ => HeaderName::Other,
        },
        3 => match first {
            b'v' => one(name, &[(HeaderName::Via, b"Via")]),
            _ => HeaderName::Other,
        },
        4 => match first {
            b'c' => one(name, &[(HeaderName::CSeq, b"CSeq")]),
            b'd' => one(name, &[(HeaderName::Date, b"Date")]),
            b'f' => one(name, &[(HeaderName::From, b"From")]),
            b'p' => one(name, &[(HeaderName::Path, b"Path")]),
            b'r' => one(
                name,
                &[(HeaderName::RSeq, b"RSeq"), (HeaderName::RAck, b"RAck")],
            ),
            _ => HeaderName::Other,
        },
        5 => match first {
            b'a' => one(name, &[(HeaderName::Allow, b"Allow")]),
            b'e' => one(name, &[(HeaderName::Event, b"Event")]),
            b'r' => one(name, &[(HeaderName::Route, b"Route")]),
            _ => HeaderName::Other,
        },
        6 => match first {
            b'a' => one(name, &[(HeaderName::Accept, b"Accept")]),
            b'm' => one(name, &[(HeaderName::MinSe, b"Min-SE")]),
            b'r' => one(name, &[(HeaderName::Reason, b"Reason")]),
            b's' => one(name, &[(HeaderName::Server, b"Server")]),
            _ => HeaderName::Other,
        },
        7 => match first {
            b'c' => one(
                name,
                &[
                    (HeaderName::CallId, b"Call-ID"),
                    (HeaderName::Contact, b"Contact"),
                ],
            ),
            b'e' => one(name, &[(HeaderName::Expires, b"Expires")]),
            b'p' => one(name, &[(HeaderName::Privacy, b"Privacy")]),
            b'r' => one(name, &[(HeaderName::Require, b"Require")]),
            b's' => one(name, &[(HeaderName::Subject, b"Subject")]),
            b'w' => one(name, &[(HeaderName::Warning, b"Warning")]),
            _ => HeaderName::Other,
        },
        8 => match first {
            b'i' => one(name, &[(HeaderName::Identity, b"Identity")]),
            b'p' => one(name, &[(HeaderName::Priority, b"Priority")]),
            b'r' => one(
                name,
                &[
                    (HeaderName::ReferTo, b"Refer-To"),
                    (HeaderName::Replaces, b"Replaces"),
                    (HeaderName::ReplyTo, b"Reply-To"),
                ],
            ),
            _ => HeaderName::Other,
        },
        9 => match first {
            b'c' => one(name, &[(HeaderName::CallInfo, b"Call-Info")]),
            b's' => one(name, &[(HeaderName::Supported, b"Supported")]),
            b't' => one(name, &[(HeaderName::Timestamp, b"Timestamp")]),
            _ => HeaderName::Other,
        },
        10 => match first {
            b'a' => one(name, &[(HeaderName::AlertInfo, b"Alert-Info")]),
            b'e' => one(name, &[(HeaderName::ErrorInfo, b"Error-Info")]),
            b'u' => one(name, &[(HeaderName::UserAgent, b"User-Agent")]),
            _ => HeaderName::Other,
        },
        11 => match first {
            b'i' => one(name, &[(HeaderName::InReplyTo, b"In-Reply-To")]),
            b'm' => one(name, &[(HeaderName::MinExpires, b"Min-Expires")]),
            b'r' => one(
                name,
                &[
                    (HeaderName::ReferredBy, b"Referred-By"),
                    (HeaderName::RetryAfter, b"Retry-After"),
                ],
            ),
            b'u' => one(name, &[(HeaderName::Unsupported, b"Unsupported")]),
            _ => HeaderName::Other,
        },
        12 => match first {
            b'a' => one(name, &[(HeaderName::AllowEvents, b"Allow-Events")]),
            b'c' => one(name, &[(HeaderName::ContentType, b"Content-Type")]),
            b'm' => one(
                name,
                &[
                    (HeaderName::MaxForwards, b"Max-Forwards"),
                    (HeaderName::MimeVersion, b"MIME-Version"),
                ],
            ),
            b'o' => one(name, &[(HeaderName::Organization, b"Organization")]),
            b'r' => one(name, &[(HeaderName::RecordRoute, b"Record-Route")]),
            _ => HeaderName::Other,
        },
        13 => match first {
            b'a' => one(name, &[(HeaderName::Authorization, b"Authorization")]),
            b'i' => one(name, &[(HeaderName::IdentityInfo, b"Identity-Info")]),
            b'p' => one(name, &[(HeaderName::ProxyRequire, b"Proxy-Require")]),
            b's' => one(name, &[(HeaderName::ServiceRoute, b"Service-Route")]),
            _ => HeaderName::Other,
        },
        14 => match first {
            b'a' => one(name, &[(HeaderName::AcceptContact, b"Accept-Contact")]),
            b'c' => one(name, &[(HeaderName::ContentLength, b"Content-Length")]),
            b'r' => one(name, &[(HeaderName::RejectContact, b"Reject-Contact")]),
            _ => HeaderName::Other,
        },
        15 => match first {
            b'a' => one(
                name,
                &[
                    (HeaderName::AcceptEncoding, b"Accept-Encoding"),
                    (HeaderName::AcceptLanguage, b"Accept-Language"),
                ],
            ),
            b's' => one(name, &[(HeaderName::SessionExpires, b"Session-Expires")]),
            _ => HeaderName::Other,
        },
        16 => match first {
            b'c' => one(
                name,
                &[
                    (HeaderName::ContentEncoding, b"Content-Encoding"),
                    (HeaderName::ContentLanguage, b"Content-Language"),
                ],
            ),
            b'w' => one(name, &[(HeaderName::WwwAuthenticate, b"WWW-Authenticate")]),
            _ => HeaderName::Other,
        },
        18 => match first {
            b'p' => one(
                name,
                &[(HeaderName::ProxyAuthenticate, b"Proxy-Authenticate")],
            ),
            b's' => one(
                name,
                &[(HeaderName::SubscriptionState, b"Subscription-State")],
            ),
            _ => HeaderName::Other,
        },
        19 => match first {
            b'a' => one(
                name,
                &[(HeaderName::AuthenticationInfo, b"Authentication-Info")],
            ),
            b'c' => one(
                name,
                &[(HeaderName::ContentDisposition, b"Content-Disposition")],
            ),
            b'p' => one(
                name,
                &[
                    (HeaderName::ProxyAuthorization, b"Proxy-Authorization"),
                    (HeaderName::PAssertedIdentity, b"P-Asserted-Identity"),
                ],
            ),
            b'r' => one(
                name,
                &[(HeaderName::RequestDisposition, b"Request-Disposition")],
            ),
            _ => HeaderName::Other,
        },
        20 => match first {
            b'p' => one(
                name,
                &[(HeaderName::PPreferredIdentity, b"P-Preferred-Identity")],
            ),
            _ => HeaderName::Other,
        },
        _ => HeaderName::Other,
    }
}
