// Generated from the `names!` table: dispatch on length and first letter,
// then one case-insensitive compare.

use super::HeaderName;

#[inline]
pub(super) fn lookup_long(name: &[u8]) -> HeaderName {
    let first = name[0].to_ascii_lowercase();
    let candidates: &[(HeaderName, &[u8])] = match (name.len(), first) {
        (2, b't') => &[(HeaderName::To, b"To")],
        (3, b'v') => &[(HeaderName::Via, b"Via")],
        (4, b'c') => &[(HeaderName::CSeq, b"CSeq")],
        (4, b'd') => &[(HeaderName::Date, b"Date")],
        (4, b'f') => &[(HeaderName::From, b"From")],
        (4, b'p') => &[(HeaderName::Path, b"Path")],
        (4, b'r') => &[(HeaderName::RSeq, b"RSeq"), (HeaderName::RAck, b"RAck")],
        (5, b'a') => &[(HeaderName::Allow, b"Allow")],
        (5, b'e') => &[(HeaderName::Event, b"Event")],
        (5, b'r') => &[(HeaderName::Route, b"Route")],
        (6, b'a') => &[(HeaderName::Accept, b"Accept")],
        (6, b'm') => &[(HeaderName::MinSe, b"Min-SE")],
        (6, b'r') => &[(HeaderName::Reason, b"Reason")],
        (6, b's') => &[(HeaderName::Server, b"Server")],
        (7, b'c') => &[(HeaderName::CallId, b"Call-ID"), (HeaderName::Contact, b"Contact")],
        (7, b'e') => &[(HeaderName::Expires, b"Expires")],
        (7, b'p') => &[(HeaderName::Privacy, b"Privacy")],
        (7, b'r') => &[(HeaderName::Require, b"Require")],
        (7, b's') => &[(HeaderName::Subject, b"Subject")],
        (7, b'w') => &[(HeaderName::Warning, b"Warning")],
        (8, b'i') => &[(HeaderName::Identity, b"Identity")],
        (8, b'p') => &[(HeaderName::Priority, b"Priority")],
        (8, b'r') => &[(HeaderName::ReferTo, b"Refer-To"), (HeaderName::Replaces, b"Replaces"), (HeaderName::ReplyTo, b"Reply-To")],
        (9, b'c') => &[(HeaderName::CallInfo, b"Call-Info")],
        (9, b's') => &[(HeaderName::Supported, b"Supported")],
        (9, b't') => &[(HeaderName::Timestamp, b"Timestamp")],
        (10, b'a') => &[(HeaderName::AlertInfo, b"Alert-Info")],
        (10, b'e') => &[(HeaderName::ErrorInfo, b"Error-Info")],
        (10, b'u') => &[(HeaderName::UserAgent, b"User-Agent")],
        (11, b'i') => &[(HeaderName::InReplyTo, b"In-Reply-To")],
        (11, b'm') => &[(HeaderName::MinExpires, b"Min-Expires")],
        (11, b'r') => &[(HeaderName::ReferredBy, b"Referred-By"), (HeaderName::RetryAfter, b"Retry-After")],
        (11, b'u') => &[(HeaderName::Unsupported, b"Unsupported")],
        (12, b'a') => &[(HeaderName::AllowEvents, b"Allow-Events")],
        (12, b'c') => &[(HeaderName::ContentType, b"Content-Type")],
        (12, b'm') => &[(HeaderName::MaxForwards, b"Max-Forwards"), (HeaderName::MimeVersion, b"MIME-Version")],
        (12, b'o') => &[(HeaderName::Organization, b"Organization")],
        (12, b'r') => &[(HeaderName::RecordRoute, b"Record-Route")],
        (13, b'a') => &[(HeaderName::Authorization, b"Authorization")],
        (13, b'i') => &[(HeaderName::IdentityInfo, b"Identity-Info")],
        (13, b'p') => &[(HeaderName::ProxyRequire, b"Proxy-Require")],
        (13, b's') => &[(HeaderName::ServiceRoute, b"Service-Route")],
        (14, b'a') => &[(HeaderName::AcceptContact, b"Accept-Contact")],
        (14, b'c') => &[(HeaderName::ContentLength, b"Content-Length")],
        (14, b'r') => &[(HeaderName::RejectContact, b"Reject-Contact")],
        (15, b'a') => &[(HeaderName::AcceptEncoding, b"Accept-Encoding"), (HeaderName::AcceptLanguage, b"Accept-Language")],
        (15, b's') => &[(HeaderName::SessionExpires, b"Session-Expires")],
        (16, b'c') => &[(HeaderName::ContentEncoding, b"Content-Encoding"), (HeaderName::ContentLanguage, b"Content-Language")],
        (16, b'w') => &[(HeaderName::WwwAuthenticate, b"WWW-Authenticate")],
        (18, b'p') => &[(HeaderName::ProxyAuthenticate, b"Proxy-Authenticate")],
        (18, b's') => &[(HeaderName::SubscriptionState, b"Subscription-State")],
        (19, b'a') => &[(HeaderName::AuthenticationInfo, b"Authentication-Info")],
        (19, b'c') => &[(HeaderName::ContentDisposition, b"Content-Disposition")],
        (19, b'p') => &[(HeaderName::ProxyAuthorization, b"Proxy-Authorization"), (HeaderName::PAssertedIdentity, b"P-Asserted-Identity")],
        (19, b'r') => &[(HeaderName::RequestDisposition, b"Request-Disposition")],
        (20, b'p') => &[(HeaderName::PPreferredIdentity, b"P-Preferred-Identity")],
        _ => return HeaderName::Other,
    };
    for (h, n) in candidates {
        if name.eq_ignore_ascii_case(n) {
            return *h;
        }
    }
    HeaderName::Other
}
