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
    /// `challenge`: a WWW-/Proxy-Authenticate value, where Bearer takes
    /// auth-params (RFC 8898 §2.3) rather than a token68.
    fn parse(value: &'a str, what: &str, challenge: bool) -> Result<Credentials<'a>> {
        let v = text::trim_lws(value);
        let end = v.find([' ', '\t', '\r', '\n']).unwrap_or(v.len());
        let scheme = &v[..end];
        let rest = text::trim_lws(&v[end..]);
        if !is_token(scheme) {
            return Err(Error::malformed(&format!("{what} header")));
        }
        let c = Credentials { scheme, rest };
        if c.is_digest() || (c.is_bearer() && challenge) {
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
        } else if c.is_bearer() && !is_token68(rest) {
            return Err(Error::malformed(&format!("{what} header")));
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

    /// The bearer token (of Bearer credentials; a Bearer challenge has
    /// parameters instead).
    pub fn token(&self) -> Option<&'a str> {
        (self.is_bearer() && is_token68(self.rest)).then_some(self.rest)
    }

    /// Digest (or other comma-separated auth-param) values: `name=value` pairs
    /// with quotes still on. None for a bearer token.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let list = if self.token().is_some() {
            ""
        } else {
            self.rest
        };
        crate::text::split_commas(list).filter_map(|item| {
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

/// RFC 7235 token68: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

macro_rules! auth_header {
    ($(#[$doc:meta])* $ty:ident, $label:literal, $challenge:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a>(pub Credentials<'a>);

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            fn parse(value: &'a str) -> Result<Self> {
                Credentials::parse(value, $label, $challenge).map($ty)
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
    Authorization, "Authorization", false);
auth_header!(/// `Proxy-Authorization` credentials.
    ProxyAuthorization, "Proxy-Authorization", false);
auth_header!(/// `WWW-Authenticate` challenge.
    WwwAuthenticate, "WWW-Authenticate", true);
auth_header!(/// `Proxy-Authenticate` challenge.
    ProxyAuthenticate, "Proxy-Authenticate", true);

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
        assert!(Authorization::parse("Bearer realm=\"x\"").is_err());
        // A Bearer challenge (RFC 8898 §2.3) has parameters, not a token.
        let c = WwwAuthenticate::parse(
            "Bearer realm=\"atlanta.com\", scope=\"sip\", authz_server=\"https://as.example.com/token\"",
        )
        .expect("bearer challenge");
        assert!(c.is_bearer());
        assert_eq!(c.token(), None);
        assert_eq!(c.param("realm").as_deref(), Some("atlanta.com"));
        assert_eq!(
            c.param("authz_server").as_deref(),
            Some("https://as.example.com/token")
        );
        assert!(ProxyAuthenticate::parse("Bearer realm").is_err());
    }
}
