//! Character classes and small scanners shared by every parser (RFC 3261 §25.1).
//!
//! All scanners work on `&str`/`&[u8]`, never allocate and never index out of
//! bounds: positions they return are always `<= input.len()`.

/// Byte classes, one bit each in [`CLASS`]: a scanner tests any class with
/// one table load.
pub(crate) mod class {
    /// `token` (RFC 3261 §25.1).
    pub(crate) const TOKEN: u8 = 1;
    /// `word`: token plus `( ) < > : \ " / [ ] ? { }`.
    pub(crate) const WORD: u8 = 2;
    /// A generic-param value that is not quoted: token or `:` (hosts, IPv4).
    pub(crate) const GEN_VALUE: u8 = 4;
    /// Hostname bytes: alphanumerics, `-`, `.`, `_`.
    pub(crate) const HOST: u8 = 8;
}

/// The classes of every byte value.
pub(crate) static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let token = matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
            | b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        let word_extra = matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'{'
                | b'}'
        );
        let host = matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_');
        let mut c = 0;
        if token {
            c |= class::TOKEN | class::WORD | class::GEN_VALUE;
        }
        if word_extra {
            c |= class::WORD;
        }
        if b == b':' {
            c |= class::GEN_VALUE;
        }
        if host {
            c |= class::HOST;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// True when `b` is in any of the classes `c`.
#[inline(always)]
pub(crate) const fn is(b: u8, c: u8) -> bool {
    CLASS[b as usize] & c != 0
}

/// The end of the run of class-`c` bytes starting at `i` (`b.len()` at most).
#[inline(always)]
pub(crate) fn span_of(b: &[u8], i: usize, c: u8) -> usize {
    match b.get(i..) {
        Some(rest) => i + rest.iter().position(|&x| !is(x, c)).unwrap_or(rest.len()),
        None => i,
    }
}

/// `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~".
#[inline(always)]
pub(crate) const fn is_token_byte(b: u8) -> bool {
    is(b, class::TOKEN)
}

/// `n` in decimal, written into the end of `buf` (no allocation, no
/// formatting machinery); returns the digits.
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// `a` in dotted decimal, written into `buf` (no formatting machinery,
/// which costs several times more per octet); returns the text.
pub fn ipv4(a: std::net::Ipv4Addr, buf: &mut [u8; 15]) -> &str {
    let mut n = 0;
    for (i, octet) in a.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    std::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// Appends `addr` as `ip:port` (IPv6 in brackets), as its `Display` does.
pub fn push_socket_addr(out: &mut String, addr: std::net::SocketAddr) {
    match addr {
        std::net::SocketAddr::V4(a) => out.push_str(ipv4(*a.ip(), &mut [0; 15])),
        std::net::SocketAddr::V6(a) => {
            use std::fmt::Write;
            let _ = write!(out, "[{}]", a.ip());
        }
    }
    out.push(':');
    out.push_str(decimal(u64::from(addr.port()), &mut [0; 20]));
}

/// True when `s` is a non-empty `token`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && all_in(s.as_bytes(), class::TOKEN)
}

/// True when every byte of `b` is in class `c` (one class, one bit):
/// eight bytes at a time, their class bits AND-ed and tested once.
#[inline]
pub(crate) fn all_in(b: &[u8], c: u8) -> bool {
    debug_assert!(c.is_power_of_two(), "one class");
    let (chunks, tail) = b.as_chunks::<8>();
    chunks
        .iter()
        .all(|w| w.iter().fold(c, |all, &x| all & CLASS[x as usize]) != 0)
        && tail.iter().fold(c, |all, &x| all & CLASS[x as usize]) != 0
}

/// True when `s` is a `callid` (RFC 3261 §25.1): `word [ "@" word ]`
/// (`@` is not a word byte, so the first `@` splits the two).
pub(crate) fn is_call_id(s: &str) -> bool {
    let b = s.as_bytes();
    match crate::scan::find_byte(b, 0, b'@') {
        None => !b.is_empty() && all_in(b, class::WORD),
        Some(at) => {
            at > 0
                && at + 1 < b.len()
                && all_in(&b[..at], class::WORD)
                && all_in(&b[at + 1..], class::WORD)
        }
    }
}

/// Skips linear white space, including folded line breaks (`CRLF` or bare `LF`
/// followed by SP/HTAB). Returns the index of the first other byte.
#[inline]
pub(crate) fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() {
        match s[i] {
            b' ' | b'\t' => i += 1,
            b'\r' if s.get(i + 1) == Some(&b'\n') && matches!(s.get(i + 2), Some(b' ' | b'\t')) => {
                i += 3
            }
            b'\n' if matches!(s.get(i + 1), Some(b' ' | b'\t')) => i += 2,
            _ => break,
        }
    }
    i
}

/// Trims LWS (including folds) from both ends.
#[inline]
pub(crate) fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let mut start = 0;
    let mut end = b.len();
    while start < end && is_ws(b[start]) {
        start += 1;
    }
    while end > start && is_ws(b[end - 1]) {
        end -= 1;
    }
    // Only ASCII bytes were skipped, so both ends are char boundaries.
    s.get(start..end).unwrap_or("")
}

/// Given `s[start] == '"'`, returns the index just past the closing quote.
/// Handles quoted-pairs; `None` when the string is unterminated or contains a
/// bare CR/LF that is not a fold.
pub(crate) fn quoted_end(s: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        // Everything else inside the quotes is taken as it is.
        i = crate::scan::find_any(s, i, [b'"', b'\\', b'\r', b'\n'])?;
        match s[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                match s.get(i + 1) {
                    Some(b'\r' | b'\n') | None => return None,
                    Some(_) => i += 2,
                }
            }
            _ => {
                let j = skip_lws(s, i);
                if j == i {
                    return None;
                }
                i = j;
            }
        }
    }
}

/// Removes the quotes and quoted-pair escapes of a quoted-string.
pub fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    let inner = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s);
    if !inner.contains('\\') {
        return std::borrow::Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Quotes `s` as a quoted-string, escaping `"` and `\`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Finds the first `delim` byte at nesting level zero: outside quoted strings
/// and outside `<...>`. Returns `None` if absent (or if a quote is unbalanced,
/// in which case the caller's parse fails anyway).
pub(crate) fn find_top_level(s: &[u8], from: usize, delim: u8) -> Option<usize> {
    // Most values hold no delimiter at all (one Via, one Contact): one
    // single-byte scan tells, before the three-byte one below.
    crate::scan::find_byte(s, from, delim)?;
    let mut i = from;
    loop {
        // Jump to the next byte that matters, eight bytes per step.
        i = crate::scan::find_any(s, i, [delim, b'"', b'<'])?;
        match s[i] {
            b'"' if delim != b'"' => i = quoted_end(s, i)?,
            b'<' if delim != b'<' => i = crate::scan::find_byte(s, i, b'>')? + 1,
            _ => return Some(i),
        }
    }
}

/// Splits a header value into its comma-separated elements (RFC 3261 §7.3.1),
/// ignoring commas inside quoted strings and angle brackets. Elements are
/// trimmed; empty elements are returned as empty strings so that callers can
/// reject `a,,b` where the grammar forbids it.
pub(crate) fn split_commas(s: &str) -> CommaSplit<'_> {
    CommaSplit {
        s,
        pos: 0,
        done: s.is_empty(),
    }
}

/// Iterator returned by [`split_commas`].
pub(crate) struct CommaSplit<'a> {
    s: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.s.as_bytes();
        let end = match find_top_level(bytes, self.pos, b',') {
            Some(e) => e,
            None => {
                self.done = true;
                self.s.len()
            }
        };
        let item = trim_lws(self.s.get(self.pos..end).unwrap_or(""));
        self.pos = end + 1;
        Some(item)
    }
}

/// Parses a non-negative decimal integer of at most `max` value. Leading zeros
/// are allowed (RFC 4475 §3.1.1.1); overflow is an error.
pub(crate) fn parse_u64(s: &str, max: u64) -> Option<u64> {
    parse_u64_bytes(s.as_bytes(), max)
}

/// [`parse_u64`] on bytes, in one pass.
#[inline]
pub(crate) fn parse_u64_bytes(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
        if v > max {
            return None;
        }
    }
    Some(v)
}

/// Percent-decodes an `escaped` string (RFC 3261 §19.1.2). Invalid escapes are
/// kept literally. Returns bytes because `%00` and non-UTF-8 are legal.
pub fn unescape(s: &str) -> std::borrow::Cow<'_, [u8]> {
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h << 4) | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// True when every `%` in `s` starts a valid `%HH` escape.
pub(crate) fn escapes_valid(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            match (
                s.get(i + 1).copied().and_then(hex),
                s.get(i + 2).copied().and_then(hex),
            ) {
                (Some(_), Some(_)) => i += 3,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_runs_agree_with_a_byte_by_byte_reference() {
        let word = |b: &[u8]| b.iter().all(|&c| is(c, class::WORD));
        let call_id = |s: &str| match s.split_once('@') {
            None => !s.is_empty() && word(s.as_bytes()),
            Some((a, b)) => {
                !a.is_empty() && !b.is_empty() && word(a.as_bytes()) && word(b.as_bytes())
            }
        };
        let samples = [
            "",
            "@",
            "a@",
            "@a",
            "a@b",
            "a@b@c",
            "3848276298220188511@atlanta.example.com",
            "abcdefgh",
            "abcdefg h",
            "abcdefghijklmnop@",
            "x<y>@z",
            "a b@c",
            "abcdefghi\u{e9}",
            "z9hG4bK74bf9a2b",
            "z9hG4bK74bf9a2:b",
            "12345678901234567",
            "1234567890123456\"",
        ];
        for s in samples {
            assert_eq!(is_call_id(s), call_id(s), "{s:?}");
            let token = !s.is_empty() && s.bytes().all(is_token_byte);
            assert_eq!(is_token(s), token, "{s:?}");
        }
        for len in 0..40 {
            for bad in 0..len {
                let mut v = vec![b'a'; len];
                v[bad] = b' ';
                let s = std::str::from_utf8(&v).unwrap_or_default();
                assert!(!is_token(s) && !is_call_id(s), "{len} {bad}");
                v[bad] = b'a';
                let s = std::str::from_utf8(&v).unwrap_or_default();
                assert!(is_token(s) && is_call_id(s));
            }
        }
    }

    #[test]
    fn ipv4_and_socket_addresses_print_as_display_does() {
        for a in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.30.40",
            "255.255.255.255",
            "192.168.100.9",
        ] {
            let ip: std::net::Ipv4Addr = a.parse().expect("ip");
            assert_eq!(ipv4(ip, &mut [0; 15]), a);
        }
        for a in [
            "127.0.0.1:5060",
            "1.2.3.4:0",
            "[::1]:65535",
            "[2001:db8::7]:5061",
        ] {
            let sa: std::net::SocketAddr = a.parse().expect("addr");
            let mut s = String::from("udp:");
            push_socket_addr(&mut s, sa);
            assert_eq!(s, format!("udp:{sa}"));
        }
    }

    #[test]
    fn lws_and_quotes() {
        assert_eq!(skip_lws(b"  \r\n  x", 0), 6);
        assert_eq!(skip_lws(b" \r\nx", 0), 1);
        assert_eq!(quoted_end(br#""a\"b" rest"#, 0), Some(6));
        assert_eq!(quoted_end(br#""unterminated"#, 0), None);
        assert_eq!(quoted_end(b"\"a\r\n b\" x", 0), Some(7));
        assert_eq!(quoted_end(b"\"a\r\nb\"", 0), None);
        assert_eq!(quoted_end(b"\"a\nb\"", 0), None);
        assert_eq!(quoted_end(b"\"a\\\r\"", 0), None);
        assert_eq!(quoted_end(b"\"abc\\", 0), None);
    }

    /// The byte-at-a-time definition `quoted_end` must agree with.
    fn quoted_end_bytewise(s: &[u8], start: usize) -> Option<usize> {
        let mut i = start + 1;
        while i < s.len() {
            match s[i] {
                b'"' => return Some(i + 1),
                b'\\' => match s.get(i + 1) {
                    Some(b'\r' | b'\n') | None => return None,
                    Some(_) => i += 2,
                },
                b'\r' | b'\n' => {
                    let j = skip_lws(s, i);
                    if j == i {
                        return None;
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn quoted_end_agrees_with_the_bytewise_scan(
            body in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'"', b'\\', b'\r', b'\n', b' ', b'\t', 0x80]),
                0..40,
            )
        ) {
            let mut s = vec![b'"'];
            s.extend_from_slice(&body);
            proptest::prop_assert_eq!(quoted_end(&s, 0), quoted_end_bytewise(&s, 0));
        }
    }

    #[test]
    fn quote_and_unquote() {
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), r#"J Rosenberg \""#);
        assert_eq!(quote(r#"a"b\"#), r#""a\"b\\""#);
    }

    #[test]
    fn commas() {
        let v: Vec<_> = split_commas(r#""a,b" <sip:x;a=1,2>, c ,,d"#).collect();
        assert_eq!(v, vec![r#""a,b" <sip:x;a=1,2>"#, "c", "", "d"]);
        assert_eq!(split_commas("").count(), 0);
    }

    #[test]
    fn numbers_and_escapes() {
        assert_eq!(parse_u64("0068", 255), Some(68));
        assert_eq!(parse_u64("300", 255), None);
        assert_eq!(parse_u64("36893488147419103232", u64::MAX), None);
        assert_eq!(&*unescape("%75se%72"), b"user");
        assert_eq!(&*unescape("null-%00-null"), b"null-\0-null");
        assert_eq!(&*unescape("100%"), b"100%");
        assert!(!escapes_valid(b"%Z%45"));
        assert!(escapes_valid(b"a%41"));
    }

    #[test]
    fn byte_classes_follow_the_grammar() {
        for b in 0..=255u8 {
            let alnum = b.is_ascii_alphanumeric();
            let token = alnum || b"-.!%*_+`'~".contains(&b);
            assert_eq!(is_token_byte(b), token, "{b:#x}");
            assert_eq!(
                is(b, class::WORD),
                token || b"()<>:\\\"/[]?{}".contains(&b),
                "{b:#x}"
            );
            assert_eq!(is(b, class::GEN_VALUE), token || b == b':', "{b:#x}");
            assert_eq!(is(b, class::HOST), alnum || b"-._".contains(&b), "{b:#x}");
        }
    }
}
