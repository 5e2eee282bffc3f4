//! `;name[=value]` parameter lists for URIs and header values, kept as the
//! original text and looked up on demand.

use std::fmt;

use crate::scan;
use crate::text::{self, class};
use crate::{Error, Result};

/// Parameters as written, without the leading `;` (e.g. `transport=tcp;lr`).
/// Lookups are case-insensitive on the name; values are returned as written
/// (quoted strings keep their quotes; use [`text::unquote`](crate::text::unquote)).
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug, Hash)]
pub struct Params<'a> {
    raw: &'a str,
}

/// Most parameters accepted in one URI.
const MAX_URI_PARAMS: usize = 64;

/// Which grammar the values follow.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `uri-parameter`: paramchar (unreserved, escaped, `[]/:&+$`).
    Uri,
    /// `generic-param`: token [ = token / host / quoted-string ].
    Header,
}

fn is_paramchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_'
                | b'.'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
                | b'%'
                | b'['
                | b']'
                | b'/'
                | b':'
                | b'&'
                | b'+'
                | b'$'
        )
}

impl<'a> Params<'a> {
    /// An empty list.
    pub const EMPTY: Params<'static> = Params { raw: "" };

    /// Wraps text that [`Params::parse_header`] accepts, without the leading `;`.
    pub fn parse_header(raw: &'a str) -> Result<Params<'a>> {
        Self::parse(raw, Kind::Header)
    }

    pub(crate) fn parse(raw: &'a str, kind: Kind) -> Result<Params<'a>> {
        Self::parse_checked(raw, kind, |_, _| true)
    }

    /// Like [`Params::parse`], with an extra check for parameters whose
    /// values have their own grammar (`branch`, `received`, `q`, ...).
    pub(crate) fn parse_checked(
        raw: &'a str,
        kind: Kind,
        extra: impl Fn(&str, Option<&str>) -> bool,
    ) -> Result<Params<'a>> {
        match kind {
            Kind::Header => validate_generic(raw, extra)?,
            Kind::Uri => validate_uri(raw, extra)?,
        }
        Ok(Params { raw })
    }
}

/// `generic-param *(SEMI generic-param)` with `generic-param = token [EQUAL
/// gen-value]`, `gen-value = token / host / quoted-string` (RFC 3261 §25.1),
/// checked in one pass over the bytes; `extra` sees each exact name/value.
fn validate_generic(raw: &str, extra: impl Fn(&str, Option<&str>) -> bool) -> Result<()> {
    let b = raw.as_bytes();
    let n = b.len();
    let mut i = 0;
    loop {
        let start = i;
        i = text::span_of(b, i, class::TOKEN);
        if i == start {
            return Err(Error::bad_request(if i < n && b[i] == b';' {
                "Empty parameter"
            } else {
                "Malformed parameter name"
            }));
        }
        let name = &raw[start..i];
        i = text::skip_lws(b, i);
        let mut value = None;
        if i < n && b[i] == b'=' {
            i = text::skip_lws(b, i + 1);
            let vs = i;
            match b.get(i) {
                Some(b'"') => i = text::quoted_end(b, i).ok_or_else(|| malformed(name))?,
                Some(b'[') => {
                    let close = i + memchr::memchr(b']', &b[i..]).ok_or_else(|| malformed(name))?;
                    if raw[i + 1..close].parse::<std::net::Ipv6Addr>().is_err() {
                        return Err(malformed(name));
                    }
                    i = close + 1;
                }
                _ => {
                    i = text::span_of(b, i, class::GEN_VALUE);
                    if i == vs {
                        return Err(malformed(name));
                    }
                }
            }
            value = Some(&raw[vs..i]);
            i = text::skip_lws(b, i);
        }
        if !extra(name, value) {
            return Err(Error::bad_request(format!("Malformed {name} parameter")));
        }
        match b.get(i) {
            None => return Ok(()),
            Some(b';') => i = text::skip_lws(b, i + 1),
            Some(_) => return Err(malformed(name)),
        }
    }
}

fn malformed(name: &str) -> Error {
    Error::bad_request(format!("Malformed parameter {name}"))
}

/// `uri-parameters`: paramchar names and values, escapes valid, each name at
/// most once (RFC 3261 §19.1.1; equivalence is undefined otherwise), at most
/// [`MAX_URI_PARAMS`] so the repeat check stays cheap on hostile input.
fn validate_uri(raw: &str, extra: impl Fn(&str, Option<&str>) -> bool) -> Result<()> {
    let p = Params { raw };
    for (n, (name, value)) in p.items().enumerate() {
        if n >= MAX_URI_PARAMS {
            return Err(Error::bad_request("Too many URI parameters"));
        }
        if p.items()
            .take(n)
            .any(|(other, _)| other.eq_ignore_ascii_case(name))
        {
            return Err(Error::bad_request(format!("Repeated URI parameter {name}")));
        }
        if name.is_empty() {
            return Err(Error::bad_request("Empty parameter"));
        }
        if !extra(name, value) {
            return Err(Error::bad_request(format!("Malformed {name} parameter")));
        }
        let ok = |s: &str| s.bytes().all(is_paramchar) && text::escapes_valid(s.as_bytes());
        if !ok(name) || value.is_some_and(|v| !ok(v)) {
            return Err(Error::bad_request("Malformed URI parameter"));
        }
    }
    Ok(())
}

impl<'a> Params<'a> {
    /// The text as written, without the leading `;`.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// `(name, value)` pairs in order; names and values trimmed of LWS.
    pub fn items(&self) -> ParamIter<'a> {
        ParamIter {
            raw: self.raw,
            pos: 0,
            done: self.raw.is_empty(),
        }
    }

    /// `Some(value)` when the parameter is present (`Some(None)` without a value).
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        find_value(self.raw.as_bytes(), name.as_bytes()).map(|v| v.and_then(|r| self.raw.get(r)))
    }

    /// The value of a parameter that has one.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).flatten()
    }

    /// True when the parameter is present, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl fmt::Display for Params<'_> {
    /// Prints `;a=b;c` (nothing when empty).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.raw.is_empty() {
            return Ok(());
        }
        write!(f, ";{}", self.raw)
    }
}

/// Bytes that end or structure a parameter: `;`, `=` and `"`.
static PARAM_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b';' as usize] = true;
    t[b'=' as usize] = true;
    t[b'"' as usize] = true;
    t
};

/// Where the parameter after the one at `i` starts (past the next `;`
/// outside quotes).
#[inline]
/// Where the value of parameter `name` lies in the parameter text `b`
/// (already validated): `Some(None)` for a parameter without a value.
/// Compares the name where each parameter starts and jumps over the rest;
/// only the match is split into name and value.
pub(crate) fn find_value(b: &[u8], n: &[u8]) -> Option<Option<std::ops::Range<usize>>> {
    let mut start = 0;
    loop {
        start = text::skip_lws(b, start);
        if let Some(candidate) = b.get(start..start + n.len())
            && candidate.eq_ignore_ascii_case(n)
            && matches!(
                b.get(start + n.len()),
                None | Some(b'=' | b';' | b' ' | b'\t' | b'\r' | b'\n')
            )
        {
            let mut i = text::skip_lws(b, start + n.len());
            if b.get(i) != Some(&b'=') {
                return Some(None);
            }
            i = text::skip_lws(b, i + 1);
            // A validated value is a quoted string, or runs to the next
            // `;` (it cannot hold one) less trailing LWS.
            let mut end = match b.get(i) {
                Some(b'"') => text::quoted_end(b, i).unwrap_or(b.len()),
                _ => scan::find_byte(b, i, b';').unwrap_or(b.len()),
            };
            while end > i && matches!(b[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
                end -= 1;
            }
            return Some(Some(i..end));
        }
        start = next_param(b, start)?;
    }
}

fn next_param(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(&c) = b.get(i) {
        if PARAM_SPECIAL[c as usize] {
            match c {
                b';' => return Some(i + 1),
                b'"' => {
                    i = text::quoted_end(b, i)?;
                    continue;
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Iterator over `(name, value)` pairs of [`Params`].
#[derive(Clone, Debug)]
pub struct ParamIter<'a> {
    raw: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let b = self.raw.as_bytes();
        let start = self.pos;
        let mut i = start;
        let mut eq = None;
        // Scan to the next ';' outside quotes, remembering the first '='.
        // One table lookup per ordinary byte; lists are too short for SIMD.
        while i < b.len() {
            if !PARAM_SPECIAL[b[i] as usize] {
                i += 1;
                continue;
            }
            match b[i] {
                b';' => break,
                b'=' => {
                    eq.get_or_insert(i);
                    i += 1;
                }
                _ => i = text::quoted_end(b, i).unwrap_or(b.len()),
            }
        }
        if i >= b.len() {
            self.done = true;
        }
        self.pos = i + 1;
        let end = i.min(b.len());
        let item = |s: usize, e: usize| text::trim_lws(self.raw.get(s..e).unwrap_or(""));
        Some(match eq {
            Some(e) if e < end => (item(start, e), Some(item(e + 1, end))),
            _ => (item(start, end), None),
        })
    }
}

/// Splits `value` at the first top-level `;`: `(head, params)`. The params
/// part is validated with `kind`.
pub(crate) fn split_params(value: &str, kind: Kind) -> Result<(&str, Params<'_>)> {
    match text::find_top_level(value.as_bytes(), 0, b';') {
        Some(i) => {
            let raw = text::trim_lws(&value[i + 1..]);
            Ok((text::trim_lws(&value[..i]), Params::parse(raw, kind)?))
        }
        None => Ok((value, Params::EMPTY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_validation() {
        let p = Params::parse_header("tag = 98asjd8 ;q=0.33; newparam").expect("valid");
        assert_eq!(p.value("TAG"), Some("98asjd8"));
        assert_eq!(p.get("newparam"), Some(None));
        assert!(p.get("x").is_none());
        assert!(Params::parse_header(";tag=1").is_err());
        assert!(
            Params::parse_header("a=\"x;y\";b")
                .expect("quoted")
                .has("b")
        );
        assert!(Params::parse_header("received=[2001:db8::9:255]").is_ok());
        assert!(Params::parse("lr;transport=tcp", Kind::Uri).is_ok());
        assert!(Params::parse("l r", Kind::Uri).is_err());
    }

    #[test]
    fn get_agrees_with_the_items() {
        let lists = [
            "tag=1;branch=z9hG4bK1;rport",
            "a=\"x;tag=2\";tag=3",
            "tagx=1;tag",
            "TAG = 98 ; q=0.5;lr",
            "lr;transport=tcp;maddr=[2001:db8::1]",
            "t=1;ta=2;tag=3;tagg=4",
            "x=\"\\\";tag=5\";tag=6",
        ];
        for raw in lists {
            let p = Params::parse_header(raw).expect(raw);
            for name in [
                "tag",
                "TAG",
                "t",
                "ta",
                "tagg",
                "q",
                "lr",
                "rport",
                "branch",
                "x",
                "a",
                "maddr",
                "transport",
                "",
            ] {
                let slow = p
                    .items()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v);
                assert_eq!(p.get(name), slow, "{raw} / {name}");
            }
        }
    }
}
