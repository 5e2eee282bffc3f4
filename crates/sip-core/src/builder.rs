//! Building requests and responses in code (RFC 3261 §8.1.1, §8.2.6).

use std::fmt::{self, Write};

use bytes::{Bytes, BytesMut};

use crate::header::{HeaderName, To};
use crate::{Message, Method, StatusCode};

/// Builds a message header by header into one buffer, then parses it once,
/// so the result is an ordinary [`Message`] (and prints without copying).
#[derive(Clone, Debug)]
pub struct Builder {
    buf: BytesMut,
    body: Option<(Bytes, String)>,
    /// Header fields added so far.
    fields: usize,
}

impl Builder {
    fn start(line: fmt::Arguments<'_>) -> Builder {
        Builder::start_with_capacity(line, 256)
    }

    fn start_with_capacity(line: fmt::Arguments<'_>, capacity: usize) -> Builder {
        let mut buf = BytesMut::with_capacity(capacity);
        let _ = buf.write_fmt(line);
        buf.extend_from_slice(b"\r\n");
        Builder {
            buf,
            body: None,
            fields: 0,
        }
    }

    /// Starts a request.
    pub fn request(method: Method, uri: impl fmt::Display) -> Builder {
        Builder::start(format_args!("{method} {uri} SIP/2.0"))
    }

    /// Starts a request in a buffer of `capacity` bytes: a caller that knows
    /// roughly how long the message will be avoids both regrowth and slack
    /// (transactions and dialogs keep what is built for up to 64·T1).
    pub fn request_with_capacity(
        method: Method,
        uri: impl fmt::Display,
        capacity: usize,
    ) -> Builder {
        Builder::start_with_capacity(format_args!("{method} {uri} SIP/2.0"), capacity)
    }

    /// Starts a response with the canonical reason phrase.
    pub fn response(code: StatusCode) -> Builder {
        Builder::status_line(code, code.canonical_reason().unwrap_or("Unknown"), 256)
    }

    /// `SIP/2.0 <code> <reason>`, written without the formatting machinery
    /// (this is on every transaction's path).
    fn status_line(code: StatusCode, reason: &str, capacity: usize) -> Builder {
        let mut buf = BytesMut::with_capacity(capacity);
        buf.extend_from_slice(b"SIP/2.0 ");
        let c = code.0.min(999);
        buf.extend_from_slice(&[
            b'0' + (c / 100) as u8,
            b'0' + (c / 10 % 10) as u8,
            b'0' + (c % 10) as u8,
            b' ',
        ]);
        buf.extend_from_slice(reason.as_bytes());
        buf.extend_from_slice(b"\r\n");
        Builder {
            buf,
            body: None,
            fields: 0,
        }
    }

    /// Starts a response with a chosen reason phrase.
    pub fn response_with_reason(code: StatusCode, reason: &str) -> Builder {
        Builder::status_line(code, reason, 256)
    }

    /// Adds a header field; `value` may be a typed header or any text.
    pub fn header(mut self, name: &str, value: impl fmt::Display) -> Builder {
        self.fields += 1;
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b": ");
        let _ = write!(self.buf, "{value}");
        self.buf.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a header field whose value is text (no formatting machinery).
    pub fn header_text(self, name: &str, value: &str) -> Builder {
        self.header_parts(name, &[value])
    }

    /// Adds a header field whose value is `parts` one after the other
    /// (e.g. `&[from, ";tag=", tag]`), without the formatting machinery.
    pub fn header_parts(mut self, name: &str, parts: &[&str]) -> Builder {
        self.fields += 1;
        self.buf.extend_from_slice(name.as_bytes());
        self.buf.extend_from_slice(b": ");
        for p in parts {
            self.buf.extend_from_slice(p.as_bytes());
        }
        self.buf.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a header field copied byte for byte (e.g. from a received
    /// message's [`HeaderField`](crate::HeaderField)).
    pub fn raw_header(mut self, name: &[u8], value: &[u8]) -> Builder {
        self.fields += 1;
        self.buf.extend_from_slice(name);
        self.buf.extend_from_slice(b": ");
        self.buf.extend_from_slice(value);
        self.buf.extend_from_slice(b"\r\n");
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &str) -> Builder {
        self.body = Some((body.into(), content_type.to_owned()));
        self
    }

    /// Finishes: adds Content-Type (with a body) and Content-Length, then
    /// parses the result. Fails when the pieces given do not make a valid
    /// message (e.g. a URI with spaces, a header value with a bare CRLF).
    pub fn build(self) -> crate::Result<Message> {
        let Builder {
            mut buf,
            body,
            fields,
        } = self;
        match body {
            Some((b, ct)) => {
                let _ = write!(
                    buf,
                    "Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                );
                buf.extend_from_slice(&b);
            }
            None => buf.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
        }
        // The given fields, Content-Length, Content-Type with a body.
        Message::parse_built(buf.freeze(), fields + 2)
    }
}

/// A response to `req` per RFC 3261 §8.2.6: copies Via (all, in order),
/// From, To, Call-ID and CSeq (and Record-Route for dialog-creating 2xx/1xx
/// is left to the caller), adding `to_tag` to To when it has none.
pub fn response_to(req: &Message, code: StatusCode, to_tag: Option<&str>) -> Builder {
    // Size the buffer for the copied headers: servers keep responses for
    // retransmission, so slack would be held per transaction.
    let copies = |k| {
        matches!(
            k,
            HeaderName::Via
                | HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
        )
    };
    let copied: usize = req
        .fields_where(copies)
        .map(|f| f.raw_name.len() + f.value.len() + 4)
        .sum();
    let reason = code.canonical_reason().unwrap_or("Unknown");
    let capacity = copied + reason.len() + 16 + to_tag.map_or(0, |t| t.len() + 5) + 24;
    let mut b = Builder::status_line(code, reason, capacity);
    for f in req.fields_where(copies) {
        match f.name {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                b = b.raw_header(f.raw_name.as_bytes(), f.value);
            }
            HeaderName::To => {
                let needs_tag = code.0 != 100
                    && to_tag.is_some()
                    && std::str::from_utf8(f.value)
                        .ok()
                        .and_then(|v| <To<'_> as crate::header::Header<'_>>::parse(v).ok())
                        .is_some_and(|to| !to.params.has("tag"));
                b = b.raw_header(f.raw_name.as_bytes(), f.value);
                if let (true, Some(tag)) = (needs_tag, to_tag) {
                    // Append ";tag=" to the line just written (before its CRLF).
                    let crlf = b.buf.len() - 2;
                    b.buf.truncate(crlf);
                    b.buf.extend_from_slice(b";tag=");
                    b.buf.extend_from_slice(tag.as_bytes());
                    b.buf.extend_from_slice(b"\r\n");
                }
            }
            _ => {}
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{CSeq, From, Via};

    #[test]
    fn header_parts_writes_the_pieces_in_order() {
        let m = Builder::request(Method::Bye, "sip:bob@biloxi.com")
            .header_parts("From", &["<sip:alice@atlanta.com>", ";tag=", "88sja8x"])
            .header_parts("CSeq", &["231", " ", "BYE"])
            .build()
            .expect("valid");
        let from: From<'_> = m.header().expect("from").expect("valid");
        assert_eq!(from.tag(), Some("88sja8x"));
        assert_eq!(
            m.raw_header(crate::header::HeaderName::CSeq),
            Some(&b"231 BYE"[..])
        );
    }

    #[test]
    fn build_request_and_response() {
        let req = Builder::request(Method::Invite, "sip:bob@biloxi.com")
            .header("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8")
            .header("Max-Forwards", 70)
            .header("To", "Bob <sip:bob@biloxi.com>")
            .header("From", "Alice <sip:alice@atlanta.com>;tag=1928301774")
            .header("Call-ID", "a84b4c76e66710")
            .header(
                "CSeq",
                CSeq {
                    seq: 314159,
                    method: Method::Invite,
                },
            )
            .body(&b"v=0\r\n"[..], "application/sdp")
            .build()
            .expect("valid");
        crate::validate::check_syntax(&req).expect("valid request");
        assert_eq!(req.body(), b"v=0\r\n");
        let resp = response_to(&req, StatusCode::RINGING, Some("a6c85cf"))
            .build()
            .expect("valid");
        assert_eq!(resp.status(), Some(StatusCode::RINGING));
        assert_eq!(resp.reason(), Some("Ringing"));
        let to: crate::header::To<'_> = resp.header().expect("to").expect("valid");
        assert_eq!(to.tag(), Some("a6c85cf"));
        let from: From<'_> = resp.header().expect("from").expect("valid");
        assert_eq!(from.tag(), Some("1928301774"));
        let via: Via<'_> = resp.header().expect("via").expect("valid");
        assert_eq!(via.branch(), Some("z9hG4bKnashds8"));
        crate::validate::check_syntax(&resp).expect("valid response");
        let trying = response_to(&req, StatusCode::TRYING, Some("x"))
            .build()
            .expect("valid");
        assert!(
            Builder::request(Method::Options, "sip:a b@c")
                .build()
                .is_err(),
            "bad URI is an error"
        );
        let to: crate::header::To<'_> = trying.header().expect("to").expect("valid");
        assert_eq!(to.tag(), None);
    }
}
