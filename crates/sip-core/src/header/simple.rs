//! Headers whose value is a number, a text, or a list of tokens.

use std::fmt;

use super::{Header, HeaderName};
use crate::text::{self, is_token};
use crate::{Error, Method, Result};

macro_rules! int_header {
    ($(#[$doc:meta])* $ty:ident, $int:ty, $max:expr, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty(pub $int);

        impl Header<'_> for $ty {
            const NAME: HeaderName = HeaderName::$ty;
            fn parse(value: &str) -> Result<Self> {
                text::parse_u64(text::trim_lws(value), $max as u64)
                    .map(|v| $ty(v as $int))
                    .ok_or_else(|| Error::malformed(concat!($label, " header")))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

int_header!(/// `Max-Forwards` (0..=255, RFC 3261 §20.22).
    MaxForwards, u8, 255, "Max-Forwards");
int_header!(/// `Content-Length` in bytes.
    ContentLength, u32, u32::MAX, "Content-Length");
int_header!(/// `Expires` in seconds (delta-seconds, at most 2^32-1).
    Expires, u32, u32::MAX, "Expires");
int_header!(/// `Min-Expires` in seconds.
    MinExpires, u32, u32::MAX, "Min-Expires");
int_header!(/// `RSeq` (RFC 3262).
    RSeq, u32, u32::MAX, "RSeq");

macro_rules! text_header {
    ($(#[$doc:meta])* $ty:ident, $allow_empty:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a>(pub &'a str);

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            fn parse(value: &'a str) -> Result<Self> {
                let v = text::trim_lws(value);
                if (!$allow_empty && v.is_empty()) || v.bytes().any(|b| b == b'\r' || b == b'\n') && !folded_ok(v) {
                    return Err(Error::malformed(concat!(stringify!($ty), " header")));
                }
                Ok($ty(v))
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
    };
}

/// CR/LF inside a value are only allowed as folds (CRLF followed by WSP).
fn folded_ok(v: &str) -> bool {
    let b = v.as_bytes();
    b.iter().enumerate().all(|(i, &c)| match c {
        b'\n' => matches!(b.get(i + 1), Some(b' ' | b'\t')),
        b'\r' => b.get(i + 1) == Some(&b'\n'),
        _ => true,
    })
}

text_header!(/// `User-Agent`: products and comments, kept as text.
    UserAgent, false);
text_header!(/// `Server`: products and comments, kept as text.
    Server, false);
text_header!(/// `Organization` (may be empty).
    Organization, true);
text_header!(/// `Subject` (may be empty, RFC 4475 §3.1.1.1).
    Subject, true);

/// `Call-ID`: `word [ "@" word ]` (RFC 3261 §25.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct CallId<'a>(pub &'a str);

impl<'a> Header<'a> for CallId<'a> {
    const NAME: HeaderName = HeaderName::CallId;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        let ok = text::is_call_id(v);
        if ok {
            Ok(CallId(v))
        } else {
            Err(Error::malformed("Call-ID header"))
        }
    }
}

impl fmt::Display for CallId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// `Date`: an RFC 1123 date that must be in GMT (RFC 3261 §20.17),
/// e.g. `Sat, 13 Nov 2010 23:29:00 GMT`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Date<'a>(pub &'a str);

impl<'a> Header<'a> for Date<'a> {
    const NAME: HeaderName = HeaderName::Date;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        let parts: Vec<&str> = v.split_ascii_whitespace().collect();
        const DAYS: [&str; 7] = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let ok = parts.len() == 6
            && DAYS.contains(&parts[0])
            && parts[1].len() == 2
            && text::parse_u64(parts[1], 31).is_some()
            && MONTHS.contains(&parts[2])
            && parts[3].len() == 4
            && text::parse_u64(parts[3], 9999).is_some()
            && {
                let t: Vec<&str> = parts[4].split(':').collect();
                t.len() == 3
                    && t.iter().all(|x| x.len() == 2)
                    && text::parse_u64(t[0], 23).is_some()
                    && text::parse_u64(t[1], 59).is_some()
                    && text::parse_u64(t[2], 60).is_some()
            }
            && parts[5] == "GMT";
        if ok {
            Ok(Date(v))
        } else {
            Err(Error::malformed("Date header"))
        }
    }
}

impl fmt::Display for Date<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// `Timestamp: 1*DIGIT ["." *DIGIT] [LWS delay]` (RFC 3261 §20.38).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Timestamp<'a> {
    /// The time value as written.
    pub value: &'a str,
    /// The optional delay.
    pub delay: Option<&'a str>,
}

fn is_decimal(s: &str) -> bool {
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) && f.bytes().all(|b| b.is_ascii_digit())
}

impl<'a> Header<'a> for Timestamp<'a> {
    const NAME: HeaderName = HeaderName::Timestamp;
    fn parse(value: &'a str) -> Result<Self> {
        let mut it = text::trim_lws(value).split_ascii_whitespace();
        let v = it
            .next()
            .filter(|v| is_decimal(v))
            .ok_or_else(|| Error::malformed("Timestamp header"))?;
        let delay = it.next();
        if delay.is_some_and(|d| !is_decimal(d)) || it.next().is_some() {
            return Err(Error::malformed("Timestamp header"));
        }
        Ok(Timestamp { value: v, delay })
    }
}

impl fmt::Display for Timestamp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value)?;
        if let Some(d) = self.delay {
            write!(f, " {d}")?;
        }
        Ok(())
    }
}

macro_rules! token_list {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        /// One element of the comma-separated list (the message splits the list).
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a>(pub &'a str);

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            const LIST: bool = true;
            fn parse(value: &'a str) -> Result<Self> {
                let v = text::trim_lws(value);
                if is_token(v) { Ok($ty(v)) } else { Err(Error::malformed(concat!(stringify!($ty), " header"))) }
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
    };
}

token_list!(/// `Supported`: an option tag.
    Supported);
token_list!(/// `Require`: an option tag.
    Require);
token_list!(/// `Proxy-Require`: an option tag.
    ProxyRequire);
token_list!(/// `Unsupported`: an option tag.
    Unsupported);
token_list!(/// `Content-Encoding`: a content coding.
    ContentEncoding);
token_list!(/// `Allow-Events` (RFC 6665): an event type.
    AllowEvents);

/// `Allow`: one method of the list.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct Allow(pub Method);

impl Header<'_> for Allow {
    const NAME: HeaderName = HeaderName::Allow;
    const LIST: bool = true;
    fn parse(value: &str) -> Result<Self> {
        Method::parse(text::trim_lws(value))
            .map(Allow)
            .ok_or_else(|| Error::malformed("Allow header"))
    }
}

impl fmt::Display for Allow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// `Priority`: emergency / urgent / normal / non-urgent or an extension token.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Priority<'a>(pub &'a str);

impl<'a> Header<'a> for Priority<'a> {
    const NAME: HeaderName = HeaderName::Priority;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        if is_token(v) {
            Ok(Priority(v))
        } else {
            Err(Error::malformed("Priority header"))
        }
    }
}

impl fmt::Display for Priority<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// `Privacy` (RFC 3323): priv-values separated by `;`, e.g. `id;header`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Privacy<'a>(pub &'a str);

impl<'a> Privacy<'a> {
    /// The individual values (`header`, `session`, `user`, `none`, `critical`, `id`, ...).
    pub fn values(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0.split(';').map(text::trim_lws)
    }
}

impl<'a> Header<'a> for Privacy<'a> {
    const NAME: HeaderName = HeaderName::Privacy;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        let p = Privacy(v);
        if !v.is_empty() && p.values().all(is_token) {
            Ok(p)
        } else {
            Err(Error::malformed("Privacy header"))
        }
    }
}

impl fmt::Display for Privacy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_id_is_word_at_word() {
        for good in [
            "a",
            "a@b",
            "3848276298220188511@atlanta.example.com",
            "f81d4<>:/?{}@[::1]",
        ] {
            assert_eq!(CallId::parse(good).map(|c| c.0), Ok(good), "{good}");
        }
        assert_eq!(CallId::parse("  a@b \t").map(|c| c.0), Ok("a@b"));
        for bad in ["", "@", "a@", "@b", "a@b@c", "a b", "a@b c", "a;b", "é@b"] {
            assert!(CallId::parse(bad).is_err(), "{bad}");
        }
    }
}
