//! Building requests and responses in code (RFC 3261 §8.1.1, §8.2.6).

use std::fmt;

use bytes::Bytes;

use crate::header::{HeaderName, To};
use crate::{Message, Method, StatusCode};

/// Builds a message header by header, then prints and re-parses it so the
/// result is an ordinary [`Message`].
#[derive(Clone, Debug)]
pub struct Builder {
    msg: Message,
    body: Option<(Bytes, Option<String>)>,
}

impl Builder {
    /// Starts a request.
    pub fn request(method: Method, uri: impl fmt::Display) -> Builder {
        Builder {
            msg: Message::from_parts_request(method, &uri.to_string()),
            body: None,
        }
    }

    /// Starts a response with the canonical reason phrase.
    pub fn response(code: StatusCode) -> Builder {
        let reason = code.canonical_reason().unwrap_or("Unknown");
        Builder {
            msg: Message::from_parts_response(code, reason),
            body: None,
        }
    }

    /// Starts a response with a chosen reason phrase.
    pub fn response_with_reason(code: StatusCode, reason: &str) -> Builder {
        Builder {
            msg: Message::from_parts_response(code, reason),
            body: None,
        }
    }

    /// Adds a header field; `value` may be a typed header or any text.
    pub fn header(mut self, name: &str, value: impl fmt::Display) -> Builder {
        self.msg.push_header(name, value);
        self
    }

    /// Sets the body and its Content-Type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: &str) -> Builder {
        self.body = Some((body.into(), Some(content_type.to_owned())));
        self
    }

    /// Finishes: adds Content-Length and returns the message.
    pub fn build(mut self) -> Message {
        match self.body.take() {
            Some((b, ct)) => self.msg.set_body(b, ct.as_deref()),
            None => self.msg.set_body(Bytes::new(), None),
        }
        // Round-trip through the parser so field spans are uniform.
        Message::parse(self.msg.to_bytes()).unwrap_or(self.msg)
    }
}

/// A response to `req` per RFC 3261 §8.2.6: copies Via (all, in order),
/// From, To, Call-ID and CSeq (and Record-Route for dialog-creating 2xx/1xx
/// is left to the caller), adding `to_tag` to To when it has none.
pub fn response_to(req: &Message, code: StatusCode, to_tag: Option<&str>) -> Builder {
    let mut b = Builder::response(code);
    for f in req.fields() {
        let copy = matches!(
            f.name,
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq
        );
        if copy {
            b = b.header(f.raw_name, String::from_utf8_lossy(f.value));
        } else if f.name == HeaderName::To {
            let value = String::from_utf8_lossy(f.value).into_owned();
            let value = match (to_tag, crate::header::Header::parse(value.as_str())) {
                (Some(tag), Ok(To { params, .. })) if !params.has("tag") && code.0 != 100 => {
                    format!("{value};tag={tag}")
                }
                _ => value.clone(),
            };
            b = b.header(f.raw_name, value);
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{CSeq, From, Via};

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
            .build();
        crate::validate::check_syntax(&req).expect("valid request");
        assert_eq!(req.body(), b"v=0\r\n");
        let resp = response_to(&req, StatusCode::RINGING, Some("a6c85cf")).build();
        assert_eq!(resp.status(), Some(StatusCode::RINGING));
        assert_eq!(resp.reason(), Some("Ringing"));
        let to: crate::header::To<'_> = resp.header().expect("to").expect("valid");
        assert_eq!(to.tag(), Some("a6c85cf"));
        let from: From<'_> = resp.header().expect("from").expect("valid");
        assert_eq!(from.tag(), Some("1928301774"));
        let via: Via<'_> = resp.header().expect("via").expect("valid");
        assert_eq!(via.branch(), Some("z9hG4bKnashds8"));
        crate::validate::check_syntax(&resp).expect("valid response");
        let trying = response_to(&req, StatusCode::TRYING, Some("x")).build();
        let to: crate::header::To<'_> = trying.header().expect("to").expect("valid");
        assert_eq!(to.tag(), None);
    }
}
