//! Authorization / Proxy-Authorization / WWW-Authenticate / Proxy-Authenticate
//! (RFC 3261 §20.7, §20.27, §20.28, §20.44; RFC 7616 Digest; RFC 8898 Bearer).

use std::borrow::Cow;
use std::fmt;

use super::{Header, HeaderName};
use crate::text::{self, is_token};
use crate::{Error, Result};

/// A scheme and its parameters: `Digest realm="x", nonce="y"`,
/// `Bearer <token>`, or another scheme kept opaque.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Credentials<'a> {
    /// `Digest`, `Bearer`, or any other token (case-insensitive).
    pub scheme: &'a str,
    /// Everything after the scheme, as written.
    pub rest: &'a str,
}

impl<'a> Credentials<'a> {
    fn parse(value: &'a str, what: &str) -> Result<Credentials<'a>> {
        let v = text::trim_lws(value);
        let end = v.find([' ', '\t', '\r', '\n']).unwrap_or(v.len());
        let scheme = &v[..end];
        let rest = text::trim_lws(&v[end..]);
        if !is_token(scheme) {
            return Err(Error::malformed(&format!("{what} header")));
        }
        let c = Credentials { scheme, rest };
        if c.is_digest() {
            // auth-param = token LWS "=" LWS ( token / quoted-string ), comma-separated.
            for item in crate::text::split_commas(rest) {
                let ok = item.split_once('=').is_some_and(|(n, v)| {
                    let n = text::trim_lws(n);
                    let v = text::trim_lws(v);
                    is_token(n)
                        && (is_token(v)
                            || (v.starts_with('"')
                                && text::quoted_end(v.as_bytes(), 0) == Some(v.len())))
                });
                if !ok {
                    return Err(Error::malformed(&format!("{what} header")));
                }
            }
        } else if c.is_bearer() {
            // token68
            let ok = !rest.is_empty()
                && rest
                    .trim_end_matches('=')
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
            if !ok {
                return Err(Error::malformed(&format!("{what} header")));
            }
        }
        Ok(c)
    }

    /// True for the Digest scheme.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("digest")
    }

    /// True for the Bearer scheme (RFC 8898).
    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }

    /// The bearer token.
    pub fn token(&self) -> Option<&'a str> {
        self.is_bearer().then_some(self.rest)
    }

    /// Digest (or other comma-separated auth-param) values: `name=value` pairs
    /// with quotes still on.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let digest = !self.is_bearer();
        crate::text::split_commas(if digest { self.rest } else { "" }).filter_map(|item| {
            let (n, v) = item.split_once('=')?;
            Some((text::trim_lws(n), text::trim_lws(v)))
        })
    }

    /// A parameter's value with quotes removed (`realm`, `nonce`, `qop`, ...).
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| text::unquote(v))
    }
}

impl fmt::Display for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rest.is_empty() {
            f.write_str(self.scheme)
        } else {
            write!(f, "{} {}", self.scheme, self.rest)
        }
    }
}

macro_rules! auth_header {
    ($(#[$doc:meta])* $ty:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a>(pub Credentials<'a>);

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            fn parse(value: &'a str) -> Result<Self> {
                Credentials::parse(value, $label).map($ty)
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<'a> std::ops::Deref for $ty<'a> {
            type Target = Credentials<'a>;
            fn deref(&self) -> &Credentials<'a> {
                &self.0
            }
        }
    };
}

auth_header!(/// `Authorization` credentials.
    Authorization, "Authorization");
auth_header!(/// `Proxy-Authorization` credentials.
    ProxyAuthorization, "Proxy-Authorization");
auth_header!(/// `WWW-Authenticate` challenge.
    WwwAuthenticate, "WWW-Authenticate");
auth_header!(/// `Proxy-Authenticate` challenge.
    ProxyAuthenticate, "Proxy-Authenticate");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_bearer_opaque() {
        let a = Authorization::parse("Digest username=\"bob\", realm=\"biloxi.com\", nonce=\"dcd98b\", uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae4\", algorithm=SHA-256").expect("digest");
        assert!(a.is_digest());
        assert_eq!(a.param("username").as_deref(), Some("bob"));
        assert_eq!(a.param("nc").as_deref(), Some("00000001"));
        assert_eq!(a.param("algorithm").as_deref(), Some("SHA-256"));
        let b = Authorization::parse("Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln")
            .expect("bearer");
        assert_eq!(b.token(), Some("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"));
        let o = Authorization::parse("NoOneKnowsThisScheme opaque-data=here").expect("opaque");
        assert_eq!(o.scheme, "NoOneKnowsThisScheme");
        assert!(Authorization::parse("Digest realm").is_err());
        assert!(Authorization::parse("Bearer ").is_err());
    }
}
