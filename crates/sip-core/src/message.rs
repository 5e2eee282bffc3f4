//! The SIP message: start line, header fields kept as spans of the original
//! bytes, and the body (RFC 3261 §7).

use std::fmt;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

use crate::framing::Mode;
use crate::header::{Header, HeaderName};
use crate::text::{self, split_commas};
use crate::{Error, Limits, Method, Result, StatusCode, Uri, scan};

/// Marks a [`Span`] whose bytes live in `Message::extra` (added by editing).
const OWNED: u32 = 1 << 31;

/// Bytes of a field: a range of the message buffer, or (with [`OWNED`] set
/// in `start`) the index of bytes added later.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    #[inline]
    fn at(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    #[inline]
    fn get<'a>(self, buf: &'a [u8], extra: &'a [Bytes]) -> &'a [u8] {
        if self.start & OWNED != 0 {
            extra
                .get((self.start & !OWNED) as usize)
                .map_or(&[][..], |b| &b[..])
        } else {
            buf.get(self.start as usize..self.end as usize)
                .unwrap_or_default()
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Field {
    kind: HeaderName,
    name: Span,
    value: Span,
    /// End of the whole line as received (name, colon, value, folds), for
    /// exact printing; 0 for fields added or changed by editing.
    line_end: u32,
}

#[derive(Clone, Debug)]
enum StartLine {
    Request { method: Method, uri: Span },
    Response { code: StatusCode, reason: Span },
}

/// A parsed SIP request or response.
///
/// Parsing validates the framing and the start line and records where each
/// header field is; header values are decoded into typed values only when
/// asked for ([`Message::header`], [`Message::headers_of`]). Printing an
/// unmodified message reproduces its bytes exactly.
#[derive(Clone)]
pub struct Message {
    buf: Bytes,
    start: StartLine,
    version: Span,
    fields: Vec<Field>,
    body: Span,
    /// Bytes added by editing, referenced by spans with [`OWNED`] set.
    extra: Vec<Bytes>,
    /// The start line and header fields as text, when they are valid UTF-8
    /// (checked once at parse, so values are handed out as `&str` without
    /// checking each again); `None` sends every access through a check.
    head: Option<ByteString>,
    /// The buffer is exactly this message as it prints (parsed, unedited,
    /// nothing before the start line or after the body): printing is a
    /// reference-count increment.
    pristine: bool,
}

/// One header field as it appears in the message.
#[derive(Clone, Copy, Debug)]
pub struct HeaderField<'a> {
    /// The recognised name (or [`HeaderName::Other`]).
    pub name: HeaderName,
    /// The name exactly as written (long or compact form, any case).
    pub raw_name: &'a str,
    /// The value without leading/trailing whitespace; folds are kept.
    pub value: &'a [u8],
}

impl<'a> HeaderField<'a> {
    /// The value as text. SIP header values are UTF-8 (RFC 3261 §25.1).
    pub fn value_str(&self) -> Result<&'a str> {
        std::str::from_utf8(self.value)
            .map_err(|_| Error::bad_request(format!("Invalid UTF-8 in {} header", self.raw_name)))
    }
}

impl Message {
    /// Parses a message received as one datagram (RFC 3261 §18.3): the
    /// Content-Length header, when present, frames the body and bytes after
    /// it are ignored; without it the body is the rest of the datagram.
    pub fn parse(bytes: impl Into<Bytes>) -> Result<Message> {
        Self::parse_with(bytes.into(), Mode::Datagram, &Limits::default())
    }

    /// Parses with an explicit framing mode and limits. In
    /// [`Mode::Stream`] the input must be exactly one message as delimited by
    /// [`crate::framing::frame_stream`] and Content-Length is mandatory.
    pub fn parse_with(buf: Bytes, mode: Mode, limits: &Limits) -> Result<Message> {
        parse(buf, mode, limits, 32)
    }

    /// Parses a message built in code whose header count is known, so the
    /// field index is allocated to fit: built messages are the ones kept
    /// (by transactions and dialogs), where slack would be held per call.
    pub(crate) fn parse_built(buf: Bytes, fields: usize) -> Result<Message> {
        parse(buf, Mode::Datagram, &Limits::default(), fields)
    }

    /// True for a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The Request-URI text of a request.
    pub fn request_uri_str(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => self.text(*uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The parsed Request-URI of a request.
    pub fn request_uri(&self) -> Option<Result<Uri<'_>>> {
        self.request_uri_str().map(Uri::parse)
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The reason phrase of a response (may be empty).
    pub fn reason(&self) -> Option<&str> {
        match &self.start {
            StartLine::Response { reason, .. } => Some(self.text(*reason).unwrap_or("")),
            StartLine::Request { .. } => None,
        }
    }

    /// The SIP version text, e.g. `SIP/2.0`.
    pub fn version(&self) -> &str {
        self.text(self.version).unwrap_or("")
    }

    /// Every header field in order.
    pub fn fields(&self) -> impl Iterator<Item = HeaderField<'_>> + '_ {
        self.fields.iter().map(move |f| self.field(f))
    }

    fn field<'a>(&'a self, f: &'a Field) -> HeaderField<'a> {
        HeaderField {
            name: f.kind,
            raw_name: self.text(f.name).unwrap_or(""),
            value: f.value.get(&self.buf, &self.extra),
        }
    }

    /// The fields with a known name.
    pub fn fields_named(&self, name: HeaderName) -> impl Iterator<Item = HeaderField<'_>> + '_ {
        self.fields_where(move |k| k == name)
    }

    /// The fields whose kind `keep` accepts, read only for those (a
    /// response copies five kinds out of every request's fields).
    pub(crate) fn fields_where<'a>(
        &'a self,
        keep: impl Fn(HeaderName) -> bool + 'a,
    ) -> impl Iterator<Item = HeaderField<'a>> + 'a {
        self.fields
            .iter()
            .filter(move |f| keep(f.kind))
            .map(move |f| self.field(f))
    }

    /// The fields whose name is `name` (case-insensitive, long or compact form).
    pub fn fields_by_name<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = HeaderField<'a>> + 'a {
        let kind = HeaderName::from_bytes(name.as_bytes());
        self.fields_where(move |k| k == kind)
            .filter(move |f| kind != HeaderName::Other || f.raw_name.eq_ignore_ascii_case(name))
    }

    /// The raw value of the first field with this name.
    pub fn raw_header(&self, name: HeaderName) -> Option<&[u8]> {
        let f = self.fields.iter().find(|f| f.kind == name)?;
        Some(f.value.get(&self.buf, &self.extra))
    }

    /// The first value of a typed header: `Some(Ok(..))`, `Some(Err(..))`
    /// when it is malformed, `None` when absent. For list headers this is the
    /// first element of the first field (e.g. the top Via).
    pub fn header<'a, H: Header<'a>>(&'a self) -> Option<Result<H>> {
        let f = self.fields.iter().find(|f| f.kind == H::NAME)?;
        let value = match self.value_text(f) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        if H::LIST {
            let first = split_commas(value).next().unwrap_or("");
            Some(H::parse(first))
        } else {
            Some(H::parse(value))
        }
    }

    /// Every value of a typed header across all its fields, splitting comma
    /// lists where the header's grammar allows (RFC 3261 §7.3.1).
    pub fn headers_of<'a, H: Header<'a> + 'a>(&'a self) -> impl Iterator<Item = Result<H>> + 'a {
        self.fields
            .iter()
            .filter(|f| f.kind == H::NAME)
            .flat_map(|f| {
                let (one, many) = match self.value_text(f) {
                    Ok(v) if H::LIST => (None, Some(split_commas(v).map(H::parse))),
                    Ok(v) => (Some(H::parse(v)), None),
                    Err(e) => (Some(Err(e)), None),
                };
                one.into_iter().chain(many.into_iter().flatten())
            })
    }

    /// A span's bytes as text: a slice of the checked head when the span
    /// lies in it, else checked now.
    #[inline]
    fn text(&self, span: Span) -> Option<&str> {
        if span.start & OWNED == 0
            && let Some(t) = self
                .head
                .as_ref()
                .and_then(|h| h.get(span.start as usize..span.end as usize))
        {
            return Some(t);
        }
        std::str::from_utf8(span.get(&self.buf, &self.extra)).ok()
    }

    /// A field's value as text (header values are UTF-8, RFC 3261 §25.1).
    #[inline]
    fn value_text<'a>(&'a self, f: &Field) -> Result<&'a str> {
        self.text(f.value).ok_or_else(|| {
            let name = String::from_utf8_lossy(f.name.get(&self.buf, &self.extra)).into_owned();
            Error::bad_request(format!("Invalid UTF-8 in {name} header"))
        })
    }

    /// The body (empty when there is none).
    pub fn body(&self) -> &[u8] {
        self.body.get(&self.buf, &self.extra)
    }

    /// The `tag` of the From or To header (`name`), as the typed header's
    /// `tag()` gives it. The common shape (`[display] <uri>;params`, the
    /// display name tokens or one quoted string) is read straight from the
    /// field's bytes, without decoding the rest of the header; anything
    /// else is parsed. `None` for any other header.
    pub fn tag(&self, name: HeaderName) -> Option<&str> {
        if !matches!(name, HeaderName::From | HeaderName::To) {
            return None;
        }
        let f = self.fields.iter().find(|f| f.kind == name)?;
        let value = self.text(f.value)?;
        if let Some(quick) = crate::header::quick_tag(value.as_bytes()) {
            return quick.and_then(|r| value.get(r));
        }
        match name {
            HeaderName::From => crate::header::From::parse(value).ok()?.tag(),
            _ => crate::header::To::parse(value).ok()?.tag(),
        }
    }

    /// The Call-ID value.
    pub fn call_id(&self) -> Option<&str> {
        let f = self.fields.iter().find(|f| f.kind == HeaderName::CallId)?;
        self.text(f.value)
    }

    // ---- editing -------------------------------------------------------

    fn own(&mut self, bytes: Bytes) -> Span {
        self.pristine = false;
        let idx = self.extra.len() as u32;
        self.extra.push(bytes);
        Span {
            start: OWNED | idx,
            end: 0,
        }
    }

    fn owned_field(&mut self, name: &str, value: impl fmt::Display) -> Field {
        let kind = HeaderName::from_bytes(name.as_bytes());
        let name = self.own(Bytes::copy_from_slice(name.as_bytes()));
        let value = self.own(Bytes::from(value.to_string()));
        Field {
            kind,
            name,
            value,
            line_end: 0,
        }
    }

    fn is_named(&self, f: &Field, kind: HeaderName, name: &str) -> bool {
        f.kind == kind
            && (kind != HeaderName::Other
                || f.name
                    .get(&self.buf, &self.extra)
                    .eq_ignore_ascii_case(name.as_bytes()))
    }

    /// Appends a header field.
    pub fn push_header(&mut self, name: &str, value: impl fmt::Display) {
        let field = self.owned_field(name, value);
        self.fields.push(field);
    }

    /// Inserts a header field before every other field of the same name
    /// (or at the end when there is none), as a proxy does with Via.
    pub fn prepend_header(&mut self, name: &str, value: impl fmt::Display) {
        let field = self.owned_field(name, value);
        match self
            .fields
            .iter()
            .position(|f| self.is_named(f, field.kind, name))
        {
            Some(i) => self.fields.insert(i, field),
            None => self.fields.push(field),
        }
    }

    /// Removes every field with this name; returns how many were removed.
    pub fn remove_header(&mut self, name: &str) -> usize {
        self.pristine = false;
        let kind = HeaderName::from_bytes(name.as_bytes());
        let keep: Vec<bool> = self
            .fields
            .iter()
            .map(|f| !self.is_named(f, kind, name))
            .collect();
        let before = self.fields.len();
        let mut it = keep.into_iter();
        self.fields.retain(|_| it.next().unwrap_or(true));
        before - self.fields.len()
    }

    /// Removes the first value of a list header (the top Via or Route),
    /// keeping the field's other comma-separated values.
    pub fn remove_first_value(&mut self, name: HeaderName) -> bool {
        self.pristine = false;
        let Some(i) = self.fields.iter().position(|f| f.kind == name) else {
            return false;
        };
        let value = self.fields[i].value.get(&self.buf, &self.extra);
        match text::find_top_level(value, 0, b',') {
            Some(comma) => {
                let rest = &value[comma + 1..];
                let start = text::skip_lws(rest, 0);
                let rest = Bytes::copy_from_slice(&rest[start..]);
                let span = self.own(rest);
                self.fields[i].value = span;
                self.fields[i].line_end = 0;
            }
            None => {
                self.fields.remove(i);
            }
        }
        true
    }

    /// Replaces every field with this name by a single field with `value`,
    /// keeping the position of the first one.
    pub fn set_header(&mut self, name: &str, value: impl fmt::Display) {
        let field = self.owned_field(name, value);
        let kind = field.kind;
        match self
            .fields
            .iter()
            .position(|f| self.is_named(f, kind, name))
        {
            Some(first) => {
                let keep: Vec<bool> = self
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| i <= first || !self.is_named(f, kind, name))
                    .collect();
                self.fields[first] = field;
                let mut it = keep.into_iter();
                self.fields.retain(|_| it.next().unwrap_or(true));
            }
            None => self.fields.push(field),
        }
    }

    /// Replaces the body and sets Content-Length (and Content-Type when given).
    pub fn set_body(&mut self, body: impl Into<Bytes>, content_type: Option<&str>) {
        let body = body.into();
        self.set_header("Content-Length", body.len());
        if let Some(ct) = content_type {
            self.set_header("Content-Type", ct);
        }
        self.body = self.own(body);
    }

    /// Prints the message. An unmodified parsed message prints byte for byte
    /// as received, except that bytes after the body of a datagram are dropped.
    pub fn to_bytes(&self) -> Bytes {
        if self.pristine {
            return self.buf.clone();
        }
        let mut out = BytesMut::with_capacity(self.buf.len() + 64);
        self.write_to(&mut out);
        out.freeze()
    }

    /// The length [`to_bytes`](Self::to_bytes) would have, without printing.
    pub fn wire_len(&self) -> usize {
        if self.pristine {
            return self.buf.len();
        }
        let mut len = Counted(0);
        self.write_to(&mut len);
        len.0
    }

    fn write_to(&self, out: &mut impl Sink) {
        let (b, x) = (&self.buf[..], &self.extra[..]);
        match &self.start {
            StartLine::Request { method, uri } => {
                out.put(method.as_str().as_bytes());
                out.put(b" ");
                out.put(uri.get(b, x));
                out.put(b" ");
                out.put(self.version.get(b, x));
            }
            StartLine::Response { code, reason } => {
                out.put(self.version.get(b, x));
                out.put(b" ");
                out.put(status_digits(code.as_u16(), &mut [b'0'; 5]));
                out.put(b" ");
                out.put(reason.get(b, x));
            }
        }
        out.put(b"\r\n");
        for f in &self.fields {
            if f.line_end != 0 {
                out.put(
                    b.get(f.name.start as usize..f.line_end as usize)
                        .unwrap_or_default(),
                );
                out.put(b"\r\n");
                continue;
            }
            out.put(f.name.get(b, x));
            out.put(b": ");
            out.put(f.value.get(b, x));
            out.put(b"\r\n");
        }
        out.put(b"\r\n");
        out.put(self.body.get(b, x));
    }
}

/// Where [`Message::write_to`] prints: a buffer, or a byte count.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for BytesMut {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

struct Counted(usize);

impl Sink for Counted {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// `code` in decimal, at least three digits (`{code:03}` without allocating).
fn status_digits(code: u16, digits: &mut [u8; 5]) -> &[u8] {
    let mut buf = [0u8; 20];
    let n = text::decimal(u64::from(code), &mut buf).as_bytes();
    let start = digits.len() - n.len();
    digits[start..].copy_from_slice(n);
    &digits[start.min(2)..]
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.to_bytes() == other.to_bytes()
    }
}

// ---- parser --------------------------------------------------------------

fn too_large(what: &'static str) -> Error {
    Error::new(StatusCode::MESSAGE_TOO_LARGE, what)
}

fn parse(buf: Bytes, mode: Mode, limits: &Limits, fields_capacity: usize) -> Result<Message> {
    if buf.len() > limits.max_message_bytes {
        return Err(too_large("Message Too Large"));
    }
    if buf.len() >= OWNED as usize {
        return Err(too_large("Message Too Large"));
    }
    let b: &[u8] = &buf;
    // RFC 3261 §7.5: ignore CRLFs before the start line.
    let mut pos = 0;
    while pos < b.len() && (b[pos] == b'\r' || b[pos] == b'\n') {
        pos += 1;
    }
    let Some(line_end) = scan::find_byte(b, pos, b'\n') else {
        return Err(Error::bad_request("Missing end of start line"));
    };
    let line_stop = if line_end > pos && b[line_end - 1] == b'\r' {
        line_end - 1
    } else {
        line_end
    };
    if line_stop - pos > limits.max_line_bytes {
        return Err(too_large("Start Line Too Long"));
    }
    let (start, version) = parse_start_line(b, pos, line_stop)?;
    // A status line prints as "version code reason": exact only if a space
    // followed the code; request lines always print back as received.
    let exact_start = pos == 0
        && match &start {
            StartLine::Request { .. } => true,
            StartLine::Response { reason, .. } => reason.start as usize > version.end as usize + 4,
        };
    pos = line_end + 1;
    if matches!(b.get(pos), Some(b' ' | b'\t')) {
        return Err(Error::bad_request("Folded start line"));
    }

    let mut fields: Vec<Field> = Vec::with_capacity(fields_capacity);
    let mut content_length: Option<usize> = None;
    let body_start;
    let missing_end = || Error::bad_request("Missing empty line after headers");
    loop {
        // The empty line ends the header section.
        match b.get(pos) {
            Some(b'\n') => {
                body_start = pos + 1;
                break;
            }
            Some(b'\r') if b.get(pos + 1) == Some(&b'\n') => {
                body_start = pos + 2;
                break;
            }
            None => return Err(missing_end()),
            _ => {}
        }
        if fields.len() >= limits.max_headers {
            return Err(too_large("Too Many Headers"));
        }
        // The common shape first: a known name right before the colon.
        // Known names are letters and `-`, and the case-folded match
        // admits exactly those bytes, so a match is a valid token. Anything
        // else takes the byte-by-byte path, which also names the defect.
        // The first eight bytes are loaded once: most names end in them, so
        // they give both the colon and the name's word.
        let ahead = b.get(pos..).and_then(<[u8]>::first_chunk::<8>);
        let colon = match ahead.and_then(|w| scan::first_in_word(w, b':')) {
            Some(at) => Some(pos + at),
            None => scan::find_byte(b, pos, b':'),
        };
        let (kind, name_end, i) = match colon {
            Some(c) if c > pos => {
                let name = &b[pos..c];
                let kind = match ahead {
                    Some(ahead) => HeaderName::from_bytes_ahead(name, ahead),
                    None => HeaderName::from_bytes(name),
                };
                match kind {
                    HeaderName::Other => header_name_slow(b, pos)?,
                    kind => (kind, c, c),
                }
            }
            _ => header_name_slow(b, pos)?,
        };
        let vstart = match (b.get(i + 1), b.get(i + 2)) {
            (Some(b' '), Some(c)) if !matches!(c, b' ' | b'\t' | b'\r' | b'\n') => i + 2,
            _ => text::skip_lws(b, i + 1),
        };
        let mut line_end = scan::find_byte(b, vstart, b'\n').ok_or_else(missing_end)?;
        // Unfold: continuation lines start with SP or HTAB.
        while matches!(b.get(line_end + 1), Some(b' ' | b'\t')) {
            line_end = scan::find_byte(b, line_end + 1, b'\n').ok_or_else(missing_end)?;
        }
        let line_stop = if b[line_end - 1] == b'\r' {
            line_end - 1
        } else {
            line_end
        };
        if line_stop - pos > limits.max_line_bytes {
            return Err(too_large("Header Line Too Long"));
        }
        let vstart = vstart.min(line_stop);
        let mut vend = line_stop;
        while vend > vstart && matches!(b[vend - 1], b' ' | b'\t' | b'\r' | b'\n') {
            vend -= 1;
        }
        if kind == HeaderName::ContentLength {
            let n = text::parse_u64_bytes(&b[vstart..vend], u32::MAX as u64)
                .ok_or_else(|| Error::bad_request("Malformed Content-Length header"))?
                as usize;
            if content_length.is_some_and(|c| c != n) {
                return Err(Error::bad_request("Conflicting Content-Length headers"));
            }
            content_length = Some(n);
        }
        fields.push(Field {
            kind,
            name: Span::at(pos, name_end),
            value: Span::at(vstart, vend),
            line_end: line_stop as u32,
        });
        pos = line_end + 1;
    }

    let available = b.len() - body_start;
    let body_len = match (content_length, mode) {
        (Some(n), _) if n > limits.max_body_bytes => {
            return Err(Error::new(
                StatusCode::REQUEST_ENTITY_TOO_LARGE,
                "Body Too Large",
            ));
        }
        (Some(n), _) if n > available => {
            return Err(Error::bad_request("Content-Length larger than message"));
        }
        (Some(n), _) => n,
        (None, Mode::Datagram) => available,
        (None, Mode::Stream) => return Err(Error::bad_request("Missing Content-Length header")),
    };
    if body_len > limits.max_body_bytes {
        return Err(Error::new(
            StatusCode::REQUEST_ENTITY_TOO_LARGE,
            "Body Too Large",
        ));
    }
    let body = Span::at(body_start, body_start + body_len);
    let head = ByteString::try_from(buf.slice(..body_start)).ok();
    let pristine = exact_start && body_start + body_len == b.len();
    Ok(Message {
        buf,
        start,
        version,
        fields,
        body,
        extra: Vec::new(),
        head,
        pristine,
    })
}

/// A header field name checked byte by byte: the name, optional SP/HTAB,
/// the colon. Returns the name's kind, where it ends and the colon.
#[cold]
fn header_name_slow(b: &[u8], pos: usize) -> Result<(HeaderName, usize, usize)> {
    let mut i = pos;
    while i < b.len() && text::is_token_byte(b[i]) {
        i += 1;
    }
    let name_end = i;
    if name_end == pos {
        return Err(Error::bad_request("Malformed header field name"));
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return Err(Error::bad_request("Malformed header field: missing colon"));
    }
    Ok((HeaderName::from_bytes(&b[pos..name_end]), name_end, i))
}

/// Checks `SIP/x.y`; returns an error with 505 for a well-formed other version.
fn check_version(v: &[u8]) -> Result<()> {
    if v == b"SIP/2.0" {
        return Ok(());
    }
    let ok_shape = v.len() >= 7 && v[..4].eq_ignore_ascii_case(b"SIP/") && {
        let rest = &v[4..];
        let dot = rest.iter().position(|&c| c == b'.');
        match dot {
            Some(d) => {
                d > 0
                    && d + 1 < rest.len()
                    && rest[..d].iter().all(u8::is_ascii_digit)
                    && rest[d + 1..].iter().all(u8::is_ascii_digit)
            }
            None => false,
        }
    };
    if !ok_shape {
        return Err(Error::bad_request("Malformed SIP version"));
    }
    if !v[4..].eq(b"2.0") {
        return Err(Error::new(
            StatusCode::VERSION_NOT_SUPPORTED,
            "Version Not Supported",
        ));
    }
    Ok(())
}

fn parse_start_line(b: &[u8], start: usize, stop: usize) -> Result<(StartLine, Span)> {
    let line = &b[start..stop];
    let span = |s: usize, e: usize| Span::at(start + s, start + e);
    if line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
        let sp = scan::find_byte(line, 0, b' ')
            .ok_or_else(|| Error::bad_request("Malformed status line"))?;
        check_version(&line[..sp])?;
        let rest = &line[sp + 1..];
        let code_end = rest.iter().position(|&c| c == b' ').unwrap_or(rest.len());
        let code = &rest[..code_end];
        if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
            return Err(Error::bad_request("Malformed status code"));
        }
        let n = u16::from(code[0] - b'0') * 100
            + u16::from(code[1] - b'0') * 10
            + u16::from(code[2] - b'0');
        if !(100..=699).contains(&n) {
            return Err(Error::bad_request("Status code out of range"));
        }
        let reason_start = (sp + 1 + code_end + 1).min(line.len());
        if std::str::from_utf8(&line[reason_start..]).is_err() {
            return Err(Error::bad_request("Invalid UTF-8 in reason phrase"));
        }
        return Ok((
            StartLine::Response {
                code: StatusCode(n),
                reason: span(reason_start, line.len()),
            },
            span(0, sp),
        ));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF (exactly one SP each).
    let malformed = || Error::bad_request("Malformed request line");
    let sp1 = scan::find_byte(line, 0, b' ').ok_or_else(malformed)?;
    let sp2 = scan::find_byte(line, sp1 + 1, b' ').ok_or_else(malformed)? - (sp1 + 1);
    let rest = &line[sp1 + 1..];
    let uri = &rest[..sp2];
    let version = &rest[sp2 + 1..];
    // One pass over the URI for both of its checks (the second one below,
    // after the method and version, names the URI as the defect).
    let (mut uri_tab, mut uri_visible) = (false, true);
    for &c in uri {
        uri_tab |= c == b'\t';
        uri_visible &= c > 0x20 && c < 0x7f;
    }
    if uri.is_empty() || uri_tab || version.iter().any(|&c| c == b' ' || c == b'\t') {
        return Err(malformed());
    }
    let method =
        Method::from_bytes(&line[..sp1]).ok_or_else(|| Error::bad_request("Malformed method"))?;
    check_version(version)?;
    if uri[0] == b'<' || !uri_visible {
        return Err(Error::bad_request("Malformed Request-URI"));
    }
    let uri_start = sp1 + 1;
    Ok((
        StartLine::Request {
            method,
            uri: span(uri_start, uri_start + sp2),
        },
        span(uri_start + sp2 + 1, line.len()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Message::tag` answers what the typed From/To `tag()` answers, on
    /// the fast path and off it.
    #[test]
    fn tag_agrees_with_the_typed_headers() {
        let values = [
            "<sip:rvoip@127.0.0.1:16071>;tag=30ed441c0c1611ab",
            "\"Bob\" <sip:bob@example.com>;tag=a6c85cf",
            "Bob <sip:bob@example.com> ; TAG = x1 ;other=2",
            "<sip:bob@example.com>",
            "<sip:bob@example.com>;tagx=1;tag=y",
            "<sip:bob@example.com>;x=\"a;tag=no\";tag=yes",
            "sip:bob@example.com;tag=addr-spec",
            "<sip:bob@example.com;tag=in-uri>;tag=outside",
            "<sip:bob@example.com>;tag",
            "<sip:bob@example.com>\r\n ;tag=folded",
            "\"A \\\"<x>;tag=q\\\" B\" <sip:a@b>;tag=real",
            "\"unterminated <sip:a@b>;tag=t",
            "\"Bob\" \"Jr\" <sip:a@b>;tag=t2",
        ];
        for v in values {
            let raw = format!(
                "OPTIONS sip:b@example.com SIP/2.0\r\nFrom: {v}\r\nTo: {v}\r\n\
                 Call-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            );
            let m = Message::parse(raw).expect(v);
            let typed = m
                .header::<crate::header::From<'_>>()
                .and_then(Result::ok)
                .and_then(|f| f.tag());
            assert_eq!(m.tag(HeaderName::From), typed, "{v}");
            let typed = m
                .header::<crate::header::To<'_>>()
                .and_then(Result::ok)
                .and_then(|t| t.tag());
            assert_eq!(m.tag(HeaderName::To), typed, "{v}");
        }
        let m = Message::parse(
            "OPTIONS sip:b@example.com SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: c\r\n\r\n",
        )
        .expect("parse");
        assert_eq!(m.tag(HeaderName::From), Some("1"));
        assert_eq!(m.tag(HeaderName::To), None, "absent");
        assert_eq!(m.tag(HeaderName::CallId), None, "not a From or To");
        // The common shapes take the fast path (it must not decline them).
        for (v, tag) in [
            (&values[0], Some("30ed441c0c1611ab")),
            (&values[1], Some("a6c85cf")),
            (&values[2], Some("x1")),
            (&values[3], None),
        ] {
            let quick = crate::header::quick_tag(v.as_bytes()).expect(v);
            assert_eq!(quick.and_then(|r| v.get(r)), tag, "{v}");
        }
        assert!(
            crate::header::quick_tag(values[6].as_bytes()).is_none(),
            "addr-spec"
        );
    }
    use crate::header::{CSeq, Via};

    const INVITE: &[u8] = b"INVITE sip:bob@biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.com>\r\n\
From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\r\nTRAILING";

    #[test]
    fn wire_len_is_the_printed_length() {
        let mut m = Message::parse(Bytes::from_static(INVITE)).expect("parse");
        assert_eq!(m.wire_len(), m.to_bytes().len(), "pristine");
        m.prepend_header("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKw");
        assert_eq!(m.wire_len(), m.to_bytes().len(), "edited");
        for code in [100, 200, 486, 699] {
            let r = crate::builder::response_to(&m, StatusCode(code), Some("t"))
                .build()
                .expect("response");
            assert_eq!(r.wire_len(), r.to_bytes().len());
            assert!(
                r.to_bytes()
                    .starts_with(format!("SIP/2.0 {code} ").as_bytes())
            );
        }
    }

    #[test]
    fn status_digits_pad_to_three() {
        for (code, text) in [
            (0, "000"),
            (7, "007"),
            (42, "042"),
            (180, "180"),
            (65535, "65535"),
        ] {
            assert_eq!(status_digits(code, &mut [b'0'; 5]), text.as_bytes());
        }
    }

    #[test]
    fn parses_request_and_prints_back() {
        let m = Message::parse(Bytes::from_static(INVITE)).expect("parse");
        assert!(m.is_request());
        assert_eq!(m.method(), Some(&Method::Invite));
        assert_eq!(m.request_uri_str(), Some("sip:bob@biloxi.com"));
        assert_eq!(m.call_id(), Some("a84b4c76e66710@pc33.atlanta.com"));
        assert_eq!(m.body(), b"v=0\r");
        let printed = m.to_bytes();
        assert_eq!(&printed[..], &INVITE[..INVITE.len() - "\nTRAILING".len()]);
        let cseq: CSeq = m.header().expect("present").expect("valid");
        assert_eq!(cseq.seq, 314159);
        let via: Via<'_> = m.header().expect("present").expect("valid");
        assert_eq!(via.branch(), Some("z9hG4bK776asdhds"));
    }

    #[test]
    fn editing() {
        let mut m = Message::parse(Bytes::from_static(INVITE)).expect("parse");
        m.prepend_header("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew");
        m.set_header("Max-Forwards", 69);
        let vias: Vec<_> = m
            .headers_of::<Via<'_>>()
            .map(|v| v.expect("via").branch().map(str::to_owned))
            .collect();
        assert_eq!(
            vias,
            vec![
                Some("z9hG4bKnew".to_owned()),
                Some("z9hG4bK776asdhds".to_owned())
            ]
        );
        assert!(m.remove_first_value(HeaderName::Via));
        let again = Message::parse(m.to_bytes()).expect("reparse");
        assert_eq!(again.headers_of::<Via<'_>>().count(), 1);
        assert_eq!(again.raw_header(HeaderName::MaxForwards), Some(&b"69"[..]));
        let mut m2 = again.clone();
        m2.set_body(Bytes::from_static(b"hello"), Some("text/plain"));
        let m3 = Message::parse(m2.to_bytes()).expect("reparse");
        assert_eq!(m3.body(), b"hello");
    }

    #[test]
    fn start_line_errors() {
        let cases: &[(&[u8], u16)] = &[
            (b"INVITE  sip:a@b SIP/2.0\r\n\r\n", 400),
            (b"INVITE sip:a@b SIP/2.0 \r\n\r\n", 400),
            (b"INVITE <sip:a@b> SIP/2.0\r\n\r\n", 400),
            (b"INVITE sip:a@b SIP/7.0\r\n\r\n", 505),
            (b"SIP/2.0 4294967301 x\r\n\r\n", 400),
            (b"SIP/2.0 099 x\r\n\r\n", 400),
            (b"garbage", 400),
        ];
        for (input, code) in cases {
            let e = Message::parse(Bytes::from_static(input)).expect_err("must fail");
            assert_eq!(e.status().0, *code, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn content_length_rules() {
        let clerr = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 9999\r\n\r\nshort";
        assert_eq!(
            Message::parse(Bytes::from_static(clerr))
                .expect_err("")
                .status()
                .0,
            400
        );
        let ncl = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\n";
        assert_eq!(
            Message::parse(Bytes::from_static(ncl))
                .expect_err("")
                .status()
                .0,
            400
        );
        let mcl = b"MESSAGE sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab";
        assert_eq!(
            Message::parse(Bytes::from_static(mcl))
                .expect_err("")
                .status()
                .0,
            400
        );
        let nocl = b"MESSAGE sip:a@b SIP/2.0\r\nTo: x\r\n\r\nbody";
        let m = Message::parse(Bytes::from_static(nocl)).expect("datagram without CL");
        assert_eq!(m.body(), b"body");
        let e = Message::parse_with(Bytes::from_static(nocl), Mode::Stream, &Limits::default())
            .expect_err("stream needs CL");
        assert_eq!(e.status().0, 400);
    }
}
