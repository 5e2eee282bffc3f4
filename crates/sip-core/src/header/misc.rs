//! Structured headers: CSeq, RAck, media types, events, session timers,
//! Replaces, Reason, Retry-After, Warning, Call-Info, Alert-Info.

use std::fmt;

use super::{Header, HeaderName};
use crate::params::{Kind, Params, split_params};
use crate::text::{self, is_token};
use crate::{Error, Method, Result, Uri};

fn bad(what: &str) -> Error {
    Error::malformed(&format!("{what} header"))
}

/// `CSeq: 314159 INVITE` (RFC 3261 §20.16). The number must be below 2^31.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct CSeq {
    /// Sequence number.
    pub seq: u32,
    /// Method.
    pub method: Method,
}

impl Header<'_> for CSeq {
    const NAME: HeaderName = HeaderName::CSeq;
    fn parse(value: &str) -> Result<Self> {
        let v = text::trim_lws(value);
        let b = v.as_bytes();
        let n_end = b
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(b.len());
        let seq = text::parse_u64(&v[..n_end], (1u64 << 31) - 1).ok_or_else(|| bad("CSeq"))? as u32;
        let m = text::trim_lws(&v[n_end..]);
        if n_end == b.len() || text::skip_lws(b, n_end) == n_end {
            return Err(bad("CSeq"));
        }
        let method = Method::parse(m).ok_or_else(|| bad("CSeq"))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// `RAck: 776656 1 INVITE` (RFC 3262 §7.2).
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct RAck {
    /// The RSeq being acknowledged.
    pub rseq: u32,
    /// CSeq number of the request.
    pub cseq: u32,
    /// CSeq method.
    pub method: Method,
}

impl Header<'_> for RAck {
    const NAME: HeaderName = HeaderName::RAck;
    fn parse(value: &str) -> Result<Self> {
        let mut it = text::trim_lws(value).split_ascii_whitespace();
        let rseq = it
            .next()
            .and_then(|x| text::parse_u64(x, u32::MAX as u64))
            .ok_or_else(|| bad("RAck"))?;
        let cseq = it
            .next()
            .and_then(|x| text::parse_u64(x, u32::MAX as u64))
            .ok_or_else(|| bad("RAck"))?;
        let method = it
            .next()
            .and_then(Method::parse)
            .ok_or_else(|| bad("RAck"))?;
        if it.next().is_some() || rseq == 0 {
            return Err(bad("RAck"));
        }
        Ok(RAck {
            rseq: rseq as u32,
            cseq: cseq as u32,
            method,
        })
    }
}

impl fmt::Display for RAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rseq, self.cseq, self.method)
    }
}

fn media_type<'a>(
    value: &'a str,
    what: &str,
    allow_wild: bool,
) -> Result<(&'a str, &'a str, Params<'a>)> {
    let (head, params) = split_params(text::trim_lws(value), Kind::Header)?;
    let (t, s) = head.split_once('/').ok_or_else(|| bad(what))?;
    let (t, s) = (text::trim_lws(t), text::trim_lws(s));
    let ok_part = |p: &str| is_token(p) && (allow_wild || p != "*");
    if !ok_part(t) || !ok_part(s) || (t == "*" && s != "*") {
        return Err(bad(what));
    }
    Ok((t, s, params))
}

macro_rules! media_header {
    ($(#[$doc:meta])* $ty:ident, $label:literal, $list:expr, $wild:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a> {
            /// Type, e.g. `application`.
            pub mtype: &'a str,
            /// Subtype, e.g. `sdp`.
            pub subtype: &'a str,
            /// Parameters such as `charset` or `boundary`.
            pub params: Params<'a>,
        }

        impl<'a> $ty<'a> {
            /// True when type and subtype match (case-insensitive).
            pub fn is(&self, mtype: &str, subtype: &str) -> bool {
                self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
            }
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            const LIST: bool = $list;
            fn parse(value: &'a str) -> Result<Self> {
                let (mtype, subtype, params) = media_type(value, $label, $wild)?;
                Ok($ty { mtype, subtype, params })
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}{}", self.mtype, self.subtype, self.params)
            }
        }
    };
}

media_header!(/// `Content-Type` (RFC 3261 §20.15).
    ContentType, "Content-Type", false, false);
media_header!(/// One `Accept` media range (RFC 3261 §20.1); `*/*` and `type/*` allowed.
    Accept, "Accept", true, true);

macro_rules! token_params_header {
    ($(#[$doc:meta])* $ty:ident, $field:ident, $label:literal, $list:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a> {
            #[doc = concat!("The ", stringify!($field), " token.")]
            pub $field: &'a str,
            /// Parameters.
            pub params: Params<'a>,
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            const LIST: bool = $list;
            fn parse(value: &'a str) -> Result<Self> {
                let (head, params) = split_params(text::trim_lws(value), Kind::Header)?;
                if !is_token(head) {
                    return Err(bad($label));
                }
                Ok($ty { $field: head, params })
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.$field, self.params)
            }
        }
    };
}

token_params_header!(/// `Content-Disposition`: `session`, `render`, `icon`, `alert` + params.
    ContentDisposition, disposition, "Content-Disposition", false);
token_params_header!(/// `Event` (RFC 6665): package and `id` parameter.
    Event, package, "Event", false);
token_params_header!(/// `Subscription-State`: `active` / `pending` / `terminated` + expires, reason.
    SubscriptionState, state, "Subscription-State", false);
token_params_header!(/// One `Reason` value (RFC 3326): protocol with `cause` and `text`.
    Reason, protocol, "Reason", true);

impl<'a> Event<'a> {
    /// The `id` parameter.
    pub fn id(&self) -> Option<&'a str> {
        self.params.value("id")
    }
}

impl<'a> SubscriptionState<'a> {
    /// The `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params
            .value("expires")
            .and_then(|v| text::parse_u64(v, u32::MAX as u64))
            .map(|v| v as u32)
    }
}

impl<'a> Reason<'a> {
    /// The `cause` parameter.
    pub fn cause(&self) -> Option<u16> {
        self.params
            .value("cause")
            .and_then(|v| text::parse_u64(v, 65535))
            .map(|v| v as u16)
    }
}

macro_rules! seconds_params_header {
    ($(#[$doc:meta])* $ty:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a> {
            /// Seconds.
            pub seconds: u32,
            /// Parameters.
            pub params: Params<'a>,
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            fn parse(value: &'a str) -> Result<Self> {
                let (head, params) = split_params(text::trim_lws(value), Kind::Header)?;
                let seconds = text::parse_u64(head, u32::MAX as u64).ok_or_else(|| bad($label))? as u32;
                Ok($ty { seconds, params })
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", self.seconds, self.params)
            }
        }
    };
}

seconds_params_header!(/// `Session-Expires` (RFC 4028) with the `refresher` parameter.
    SessionExpires, "Session-Expires");
seconds_params_header!(/// `Min-SE` (RFC 4028).
    MinSe, "Min-SE");

impl<'a> SessionExpires<'a> {
    /// `uac` or `uas`.
    pub fn refresher(&self) -> Option<&'a str> {
        self.params.value("refresher")
    }
}

/// `Replaces` (RFC 3891): a Call-ID with `to-tag`, `from-tag`, `early-only`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Replaces<'a> {
    /// The dialog's Call-ID.
    pub call_id: &'a str,
    /// Parameters.
    pub params: Params<'a>,
}

impl<'a> Header<'a> for Replaces<'a> {
    const NAME: HeaderName = HeaderName::Replaces;
    fn parse(value: &'a str) -> Result<Self> {
        // callid = word ["@" word]: a word may hold '"', never ';', so the
        // Call-ID ends at the first ';' (not a quote-aware split).
        let v = text::trim_lws(value);
        let (head, raw) = v.split_once(';').ok_or_else(|| bad("Replaces"))?;
        let head = text::trim_lws(head);
        let params = Params::parse(text::trim_lws(raw), Kind::Header)?;
        if !text::is_call_id(head) || !params.has("to-tag") || !params.has("from-tag") {
            return Err(bad("Replaces"));
        }
        Ok(Replaces {
            call_id: head,
            params,
        })
    }
}

impl fmt::Display for Replaces<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.call_id, self.params)
    }
}

/// `Retry-After: 18000;duration=3600` with an optional comment.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct RetryAfter<'a> {
    /// Seconds.
    pub seconds: u32,
    /// The comment with its parentheses.
    pub comment: Option<&'a str>,
    /// Parameters (`duration`).
    pub params: Params<'a>,
}

impl<'a> Header<'a> for RetryAfter<'a> {
    const NAME: HeaderName = HeaderName::RetryAfter;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        let b = v.as_bytes();
        let n_end = b
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(b.len());
        let seconds =
            text::parse_u64(&v[..n_end], u32::MAX as u64).ok_or_else(|| bad("Retry-After"))? as u32;
        let mut rest = text::trim_lws(&v[n_end..]);
        let mut comment = None;
        if rest.starts_with('(') {
            let close = rest.rfind(')').ok_or_else(|| bad("Retry-After"))?;
            comment = Some(&rest[..=close]);
            rest = text::trim_lws(&rest[close + 1..]);
        }
        let params = match rest.strip_prefix(';') {
            Some(p) => Params::parse(text::trim_lws(p), Kind::Header)?,
            None if rest.is_empty() => Params::EMPTY,
            None => return Err(bad("Retry-After")),
        };
        Ok(RetryAfter {
            seconds,
            comment,
            params,
        })
    }
}

impl fmt::Display for RetryAfter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.seconds)?;
        if let Some(c) = self.comment {
            write!(f, " {c}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// One `Warning` value: `307 isi.edu "Session parameter 'foo' not understood"`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Warning<'a> {
    /// Three-digit warn-code.
    pub code: u16,
    /// warn-agent (host[:port] or pseudonym).
    pub agent: &'a str,
    /// warn-text with its quotes.
    pub text: &'a str,
}

impl<'a> Header<'a> for Warning<'a> {
    const NAME: HeaderName = HeaderName::Warning;
    const LIST: bool = true;
    fn parse(value: &'a str) -> Result<Self> {
        let v = text::trim_lws(value);
        let (code, rest) = v.split_once(' ').ok_or_else(|| bad("Warning"))?;
        let rest = text::trim_lws(rest);
        let (agent, txt) = rest.split_once(' ').ok_or_else(|| bad("Warning"))?;
        let txt = text::trim_lws(txt);
        let code_ok = code.len() == 3 && text::parse_u64(code, 999).is_some();
        let text_ok =
            txt.starts_with('"') && text::quoted_end(txt.as_bytes(), 0) == Some(txt.len());
        if !code_ok || !text_ok || agent.is_empty() {
            return Err(bad("Warning"));
        }
        Ok(Warning {
            code: text::parse_u64(code, 999).unwrap_or(0) as u16,
            agent,
            text: txt,
        })
    }
}

impl fmt::Display for Warning<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03} {} {}", self.code, self.agent, self.text)
    }
}

macro_rules! uri_params_header {
    ($(#[$doc:meta])* $ty:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
        pub struct $ty<'a> {
            /// The URI inside `<>`.
            pub uri: Uri<'a>,
            /// Parameters (`purpose`, `appearance`, ...).
            pub params: Params<'a>,
        }

        impl<'a> Header<'a> for $ty<'a> {
            const NAME: HeaderName = HeaderName::$ty;
            const LIST: bool = true;
            fn parse(value: &'a str) -> Result<Self> {
                let v = text::trim_lws(value);
                let inner = v.strip_prefix('<').ok_or_else(|| bad($label))?;
                let gt = inner.find('>').ok_or_else(|| bad($label))?;
                let uri = Uri::parse(&inner[..gt]).map_err(|_| bad($label))?;
                let rest = text::trim_lws(&inner[gt + 1..]);
                let params = match rest.strip_prefix(';') {
                    Some(p) => Params::parse(text::trim_lws(p), Kind::Header)?,
                    None if rest.is_empty() => Params::EMPTY,
                    None => return Err(bad($label)),
                };
                Ok($ty { uri, params })
            }
        }

        impl fmt::Display for $ty<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<{}>{}", self.uri, self.params)
            }
        }
    };
}

uri_params_header!(/// One `Call-Info` value (RFC 3261 §20.9).
    CallInfo, "Call-Info");
uri_params_header!(/// One `Alert-Info` value (RFC 3261 §20.4).
    AlertInfo, "Alert-Info");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured() {
        let c = CSeq::parse("0009\r\n  INVITE").expect("wsinv cseq");
        assert_eq!((c.seq, c.method), (9, Method::Invite));
        assert!(CSeq::parse("36893488147419103232 INVITE").is_err());
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("1INVITE").is_err());
        let r = RAck::parse("776656 1 INVITE").expect("rack");
        assert_eq!((r.rseq, r.cseq), (776656, 1));
        let ct = ContentType::parse("multipart/mixed;boundary=\"----=_NextPart\"").expect("ct");
        assert!(ct.is("MULTIPART", "mixed"));
        assert!(ContentType::parse("*/*").is_err());
        assert!(Accept::parse("*/*").is_ok());
        assert_eq!(Event::parse("dialog;id=1").expect("event").id(), Some("1"));
        assert_eq!(
            SessionExpires::parse("1800;refresher=uac")
                .expect("se")
                .refresher(),
            Some("uac")
        );
        let ra = RetryAfter::parse("18000 (in a meeting);duration=3600").expect("ra");
        assert_eq!(ra.comment, Some("(in a meeting)"));
        let w = Warning::parse("307 isi.edu \"Session parameter 'foo' not understood\"")
            .expect("warning");
        assert_eq!(w.code, 307);
        let rp = Replaces::parse("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff")
            .expect("replaces");
        assert_eq!(rp.params.value("to-tag"), Some("ff87ff"));
        assert!(Replaces::parse("98732@sip.example.com").is_err());
        assert_eq!(
            Reason::parse("SIP ;cause=200 ;text=\"Call completed elsewhere\"")
                .expect("reason")
                .cause(),
            Some(200)
        );
        assert!(CallInfo::parse("<http://wwww.example.com/alice/photo.jpg> ;purpose=icon").is_ok());
    }
}
