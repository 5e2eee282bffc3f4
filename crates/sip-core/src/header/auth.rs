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
            let mut params = AuthParams::new(rest);
            loop {
                match params.step() {
                    Step::Param(..) => {}
                    Step::End => break,
                    Step::Bad => return Err(Error::malformed(&format!("{what} header"))),
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
        // Digest parameters were checked by `parse`: one forward pass. Other
        // schemes' lists are split leniently, skipping items without `=`.
        let strict = self.is_digest();
        let mut fast = AuthParams::new(if strict { list } else { "" });
        let lenient =
            crate::text::split_commas(if strict { "" } else { list }).filter_map(|item| {
                let (n, v) = item.split_once('=')?;
                Some((text::trim_lws(n), text::trim_lws(v)))
            });
        std::iter::from_fn(move || match fast.step() {
            Step::Param(n, v) => Some((n, v)),
            Step::End | Step::Bad => None,
        })
        .chain(lenient)
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

/// One step of [`AuthParams`].
enum Step<'a> {
    Param(&'a str, &'a str),
    End,
    Bad,
}

/// `auth-param *(COMMA auth-param)` read in one forward pass: each
/// `token LWS "=" LWS (token / quoted-string)` with the quotes kept, LWS
/// around the commas, no empty element.
struct AuthParams<'a> {
    s: &'a str,
    i: usize,
    /// A comma was read: another element must follow.
    after_comma: bool,
}

impl<'a> AuthParams<'a> {
    fn new(s: &'a str) -> AuthParams<'a> {
        AuthParams {
            s,
            i: 0,
            after_comma: false,
        }
    }

    fn step(&mut self) -> Step<'a> {
        let b = self.s.as_bytes();
        let start = text::skip_lws(b, self.i);
        if start >= b.len() {
            return if self.after_comma {
                Step::Bad
            } else {
                Step::End
            };
        }
        let token_end = |from: usize| {
            from + b
                .get(from..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&c| text::is_token_byte(c))
                .count()
        };
        let name_end = token_end(start);
        let eq = text::skip_lws(b, name_end);
        if name_end == start || b.get(eq) != Some(&b'=') {
            return Step::Bad;
        }
        let value_start = text::skip_lws(b, eq + 1);
        let value_end = match b.get(value_start) {
            Some(b'"') => match text::quoted_end(b, value_start) {
                Some(e) => e,
                None => return Step::Bad,
            },
            _ => token_end(value_start),
        };
        if value_end == value_start {
            return Step::Bad;
        }
        let next = text::skip_lws(b, value_end);
        match b.get(next) {
            None => {
                self.i = b.len();
                self.after_comma = false;
            }
            Some(b',') => {
                self.i = next + 1;
                self.after_comma = true;
            }
            Some(_) => return Step::Bad,
        }
        match (
            self.s.get(start..name_end),
            self.s.get(value_start..value_end),
        ) {
            (Some(n), Some(v)) => Step::Param(n, v),
            _ => Step::Bad,
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

    /// The comma-split reading the one-pass one replaced: which lists it
    /// accepts, and the pairs it gives.
    fn split_reading(rest: &str) -> Option<Vec<(&str, &str)>> {
        let mut out = Vec::new();
        for item in crate::text::split_commas(rest) {
            let (n, v) = item.split_once('=')?;
            let (n, v) = (text::trim_lws(n), text::trim_lws(v));
            let quoted = v.starts_with('"') && text::quoted_end(v.as_bytes(), 0) == Some(v.len());
            if !is_token(n) || !(is_token(v) || quoted) {
                return None;
            }
            out.push((n, v));
        }
        Some(out)
    }

    #[test]
    fn one_pass_params_read_as_the_comma_split_did() {
        // Folds but no bare line ends: a parsed header value has none.
        let names = ["a", "nc", "realm", "x-y", "", "q r", "\""];
        let values = [
            "b",
            "\"x y\"",
            "\"a,b\"",
            "\"\\\"q\"",
            "00000001",
            "",
            "\"open",
            "x:y",
            "<z>",
            "=",
        ];
        let seps = [",", ", ", " ,\r\n ", ",,", " ", "", "\t,"];
        let lws = ["", "", " ", "\t", "\r\n "];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut valid = 0;
        for _ in 0..30_000 {
            let mut next = |n: usize| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % n as u64) as usize
            };
            let mut rest = String::new();
            for p in 0..next(5) {
                if p > 0 {
                    rest.push_str(seps[next(seps.len())]);
                }
                // Mostly well-formed names and values, now and then not.
                let name = names[if next(4) == 0 {
                    next(names.len())
                } else {
                    next(4)
                }];
                let value = values[if next(4) == 0 {
                    next(values.len())
                } else {
                    next(5)
                }];
                for piece in [lws[next(5)], name, lws[next(5)], "=", lws[next(5)], value] {
                    rest.push_str(piece);
                }
            }
            let rest = text::trim_lws(&rest);
            let value = format!("Digest {rest}");
            let parsed = Authorization::parse(&value).ok();
            let expected = split_reading(rest);
            assert_eq!(parsed.is_some(), expected.is_some(), "{value:?}");
            if let (Some(c), Some(pairs)) = (parsed, expected) {
                assert_eq!(c.params().collect::<Vec<_>>(), pairs, "{value:?}");
                valid += usize::from(pairs.len() > 1);
            }
        }
        // Both verdicts were exercised, lists of several parameters too.
        assert!((1_000..29_000).contains(&valid), "{valid} valid lists");
    }

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
