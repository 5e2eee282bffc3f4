//! Header field names: long and compact forms, case-insensitive (RFC 3261 §7.3.3).

use std::fmt;

#[path = "name_lookup.rs"]
mod lookup;

macro_rules! names {
    ($( $var:ident = $long:literal / $lower:literal $(, $compact:literal)? ; )*) => {
        /// A header field name. Known names are variants; anything else is
        /// [`HeaderName::Other`] and keeps its exact bytes in the message.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum HeaderName {
            $(
                #[doc = concat!("`", $long, "`")]
                $var,
            )*
            /// An extension header; compare by its text.
            Other,
        }

        impl HeaderName {
            /// The canonical long form, or `None` for [`HeaderName::Other`].
            pub fn as_str(self) -> Option<&'static str> {
                match self {
                    $(HeaderName::$var => Some($long),)*
                    HeaderName::Other => None,
                }
            }

            /// The registered compact form, if any.
            pub fn compact(self) -> Option<char> {
                match self {
                    $($(HeaderName::$var => Some($compact as char),)?)*
                    _ => None,
                }
            }

            /// Recognises a name in long or compact form, in any case.
            pub fn from_bytes(name: &[u8]) -> HeaderName {
                if name.len() == 1 {
                    return match name[0].to_ascii_lowercase() {
                        $($($compact => HeaderName::$var,)?)*
                        _ => HeaderName::Other,
                    };
                }
                if name.is_empty() {
                    return HeaderName::Other;
                }
                lookup::lookup_long(name)
            }

            /// [`HeaderName::from_bytes`] where `ahead` holds the first eight
            /// bytes at the name's start (bytes past its end are ignored).
            #[inline]
            pub(crate) fn from_bytes_ahead(name: &[u8], ahead: &[u8; 8]) -> HeaderName {
                if name.len() < 2 {
                    return HeaderName::from_bytes(name);
                }
                lookup::lookup_ahead(name, ahead)
            }
        }
    };
}

names! {
    Via = "Via" / b"via", b'v';
    From = "From" / b"from", b'f';
    To = "To" / b"to", b't';
    CallId = "Call-ID" / b"call-id", b'i';
    CSeq = "CSeq" / b"cseq";
    Contact = "Contact" / b"contact", b'm';
    MaxForwards = "Max-Forwards" / b"max-forwards";
    ContentLength = "Content-Length" / b"content-length", b'l';
    ContentType = "Content-Type" / b"content-type", b'c';
    ContentEncoding = "Content-Encoding" / b"content-encoding", b'e';
    ContentDisposition = "Content-Disposition" / b"content-disposition";
    ContentLanguage = "Content-Language" / b"content-language";
    Route = "Route" / b"route";
    RecordRoute = "Record-Route" / b"record-route";
    Path = "Path" / b"path";
    ServiceRoute = "Service-Route" / b"service-route";
    Expires = "Expires" / b"expires";
    MinExpires = "Min-Expires" / b"min-expires";
    Authorization = "Authorization" / b"authorization";
    ProxyAuthorization = "Proxy-Authorization" / b"proxy-authorization";
    WwwAuthenticate = "WWW-Authenticate" / b"www-authenticate";
    ProxyAuthenticate = "Proxy-Authenticate" / b"proxy-authenticate";
    AuthenticationInfo = "Authentication-Info" / b"authentication-info";
    Allow = "Allow" / b"allow";
    Supported = "Supported" / b"supported", b'k';
    Require = "Require" / b"require";
    ProxyRequire = "Proxy-Require" / b"proxy-require";
    Unsupported = "Unsupported" / b"unsupported";
    Accept = "Accept" / b"accept";
    AcceptEncoding = "Accept-Encoding" / b"accept-encoding";
    AcceptLanguage = "Accept-Language" / b"accept-language";
    RSeq = "RSeq" / b"rseq";
    RAck = "RAck" / b"rack";
    Event = "Event" / b"event", b'o';
    AllowEvents = "Allow-Events" / b"allow-events", b'u';
    SubscriptionState = "Subscription-State" / b"subscription-state";
    ReferTo = "Refer-To" / b"refer-to", b'r';
    ReferredBy = "Referred-By" / b"referred-by", b'b';
    Replaces = "Replaces" / b"replaces";
    SessionExpires = "Session-Expires" / b"session-expires", b'x';
    MinSe = "Min-SE" / b"min-se";
    PAssertedIdentity = "P-Asserted-Identity" / b"p-asserted-identity";
    PPreferredIdentity = "P-Preferred-Identity" / b"p-preferred-identity";
    Privacy = "Privacy" / b"privacy";
    Reason = "Reason" / b"reason";
    RetryAfter = "Retry-After" / b"retry-after";
    Date = "Date" / b"date";
    Timestamp = "Timestamp" / b"timestamp";
    Warning = "Warning" / b"warning";
    UserAgent = "User-Agent" / b"user-agent";
    Server = "Server" / b"server";
    Organization = "Organization" / b"organization";
    Subject = "Subject" / b"subject", b's';
    Priority = "Priority" / b"priority";
    CallInfo = "Call-Info" / b"call-info";
    AlertInfo = "Alert-Info" / b"alert-info";
    ErrorInfo = "Error-Info" / b"error-info";
    InReplyTo = "In-Reply-To" / b"in-reply-to";
    ReplyTo = "Reply-To" / b"reply-to";
    MimeVersion = "MIME-Version" / b"mime-version";
    AcceptContact = "Accept-Contact" / b"accept-contact", b'a';
    RejectContact = "Reject-Contact" / b"reject-contact", b'j';
    RequestDisposition = "Request-Disposition" / b"request-disposition", b'd';
    Identity = "Identity" / b"identity", b'y';
    IdentityInfo = "Identity-Info" / b"identity-info", b'n';
}

impl HeaderName {
    /// Headers that may appear at most once (RFC 3261 §7.3.1 and Table 2):
    /// two values of these make a request malformed.
    pub fn is_single_valued(self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::ContentDisposition
                | HeaderName::Expires
                | HeaderName::MinExpires
                | HeaderName::RSeq
                | HeaderName::RAck
                | HeaderName::Event
                | HeaderName::SubscriptionState
                | HeaderName::ReferTo
                | HeaderName::ReferredBy
                | HeaderName::Replaces
                | HeaderName::SessionExpires
                | HeaderName::MinSe
                | HeaderName::RetryAfter
                | HeaderName::Date
                | HeaderName::Timestamp
                | HeaderName::Priority
                | HeaderName::MimeVersion
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("extension-header"))
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderName;

    #[test]
    fn long_compact_and_case() {
        assert_eq!(HeaderName::from_bytes(b"vIa"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(HeaderName::from_bytes(b"I"), HeaderName::CallId);
        assert_eq!(
            HeaderName::from_bytes(b"MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_bytes(b"X-Custom"), HeaderName::Other);
        // A byte that is not a letter or `-` never folds onto one: CR where
        // `-` is, or `@`/`[` (one below the letters), are other names.
        for name in [
            &b"Call\rID"[..],
            b"Max\rForwards",
            b"Min\rSE",
            b"Vi@",
            b"[o",
        ] {
            assert_eq!(HeaderName::from_bytes(name), HeaderName::Other, "{name:?}");
            let mut ahead = [b':'; 8];
            let n = name.len().min(8);
            ahead[..n].copy_from_slice(&name[..n]);
            assert_eq!(
                HeaderName::from_bytes_ahead(name, &ahead),
                HeaderName::Other
            );
        }
        assert_eq!(HeaderName::from_bytes(b"q"), HeaderName::Other);
        for (c, n) in [
            ('i', HeaderName::CallId),
            ('m', HeaderName::Contact),
            ('e', HeaderName::ContentEncoding),
            ('l', HeaderName::ContentLength),
            ('c', HeaderName::ContentType),
            ('f', HeaderName::From),
            ('s', HeaderName::Subject),
            ('k', HeaderName::Supported),
            ('t', HeaderName::To),
            ('v', HeaderName::Via),
            ('o', HeaderName::Event),
            ('u', HeaderName::AllowEvents),
            ('r', HeaderName::ReferTo),
            ('b', HeaderName::ReferredBy),
            ('x', HeaderName::SessionExpires),
            ('y', HeaderName::Identity),
            ('a', HeaderName::AcceptContact),
            ('j', HeaderName::RejectContact),
            ('d', HeaderName::RequestDisposition),
            ('n', HeaderName::IdentityInfo),
        ] {
            assert_eq!(HeaderName::from_bytes(c.to_string().as_bytes()), n);
            assert_eq!(n.compact(), Some(c as u8 as char));
        }
    }

    #[test]
    fn lookup_ahead_ignores_the_bytes_after_the_name() {
        let names = [
            "Via",
            "To",
            "CSeq",
            "Max-Forwards",
            "Content-Length",
            "cALL-id",
            "Route",
            "x",
            "Toe",
            "Vi",
            "From1",
            "Record-Route",
            "P-Preferred-Identity",
            "Supported",
        ];
        for name in names {
            for after in [
                &b": value"[..],
                b"\0\0\0\0\0\0\0\0",
                b"Via:abcdefgh",
                b"\xff",
            ] {
                let mut line = name.as_bytes().to_vec();
                line.extend_from_slice(after);
                line.resize(line.len().max(8), b'z');
                let ahead = line.first_chunk::<8>().expect("padded to 8");
                assert_eq!(
                    HeaderName::from_bytes_ahead(name.as_bytes(), ahead),
                    HeaderName::from_bytes(name.as_bytes()),
                    "{name}"
                );
            }
        }
    }
}
