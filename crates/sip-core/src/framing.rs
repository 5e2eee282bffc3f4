//! Message framing: datagrams (RFC 3261 §18.3) and streams (two phases:
//! "is a whole message here?", then parse), plus RFC 5626 §3.5.1 keep-alives.

use crate::{Error, Limits, Result, StatusCode};

/// How a message arrived, which decides how its body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// UDP: Content-Length frames the body when present, bytes after it are
    /// ignored; without it the body runs to the end of the datagram.
    Datagram,
    /// TCP/TLS: Content-Length is mandatory.
    Stream,
}

/// What the start of a stream buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet; read more and call again.
    Incomplete,
    /// A keep-alive ping (`CRLF CRLF`) of this many bytes: answer with a pong.
    Ping(usize),
    /// A keep-alive pong (`CRLF`) of this many bytes.
    Pong(usize),
    /// A whole message of this many bytes; parse it with
    /// [`Message::parse_with`](crate::Message::parse_with) in [`Mode::Stream`].
    Message(usize),
}

/// Looks at the front of a stream buffer. Errors mean the stream is
/// unrecoverable (no way to find the next message) and the connection should
/// be answered with the error's status if possible and closed.
pub fn frame_stream(buf: &[u8], limits: &Limits) -> Result<Frame> {
    if buf.starts_with(b"\r\n\r\n") {
        return Ok(Frame::Ping(4));
    }
    if buf.starts_with(b"\r\n") {
        // A lone CRLF is a pong. (A ping split after its first CRLF would
        // read as two pongs and go unanswered; the client's flow check then
        // reconnects, RFC 5626 §4.4.1.)
        return Ok(match buf.get(2) {
            Some(b'\r') if buf.len() == 3 => Frame::Incomplete,
            _ => Frame::Pong(2),
        });
    }
    if buf == b"\r" {
        return Ok(Frame::Incomplete);
    }
    let Some(hdr_end) = memchr::memmem::find(buf, b"\r\n\r\n") else {
        if buf.len() > limits.max_message_bytes {
            return Err(Error::new(
                StatusCode::MESSAGE_TOO_LARGE,
                "Message Too Large",
            ));
        }
        return Ok(Frame::Incomplete);
    };
    let body_start = hdr_end + 4;
    let cl = content_length(&buf[..hdr_end + 2])?
        .ok_or_else(|| Error::bad_request("Missing Content-Length header"))?;
    if cl > limits.max_body_bytes {
        return Err(Error::new(
            StatusCode::REQUEST_ENTITY_TOO_LARGE,
            "Body Too Large",
        ));
    }
    let total = body_start + cl;
    if total > limits.max_message_bytes {
        return Err(Error::new(
            StatusCode::MESSAGE_TOO_LARGE,
            "Message Too Large",
        ));
    }
    Ok(if buf.len() >= total {
        Frame::Message(total)
    } else {
        Frame::Incomplete
    })
}

/// Finds the Content-Length value in a header block (lines ending in CRLF).
fn content_length(head: &[u8]) -> Result<Option<usize>> {
    let mut found = None;
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let v = std::str::from_utf8(line[colon + 1..].trim_ascii()).unwrap_or("");
            let n = crate::text::parse_u64(v, u32::MAX as u64)
                .ok_or_else(|| Error::bad_request("Malformed Content-Length header"))?;
            if found.is_some_and(|f| f != n) {
                return Err(Error::bad_request("Conflicting Content-Length headers"));
            }
            found = Some(n);
        }
    }
    Ok(found.map(|n| n as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_phases() {
        let l = Limits::default();
        let msg = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabcNEXT";
        assert_eq!(frame_stream(&msg[..10], &l), Ok(Frame::Incomplete));
        assert_eq!(frame_stream(&msg[..46], &l), Ok(Frame::Incomplete));
        assert_eq!(frame_stream(msg, &l), Ok(Frame::Message(msg.len() - 4)));
        assert_eq!(frame_stream(b"\r\n\r\nOPTIONS", &l), Ok(Frame::Ping(4)));
        assert_eq!(frame_stream(b"\r\nOPTIONS", &l), Ok(Frame::Pong(2)));
        assert_eq!(frame_stream(b"\r\n", &l), Ok(Frame::Pong(2)));
        assert_eq!(frame_stream(b"\r\n\r", &l), Ok(Frame::Incomplete));
        let nocl = b"OPTIONS sip:a@b SIP/2.0\r\nTo: x\r\n\r\n";
        assert_eq!(frame_stream(nocl, &l).map_err(|e| e.status().0), Err(400));
        let big = vec![b'a'; l.max_message_bytes + 1];
        assert_eq!(frame_stream(&big, &l).map_err(|e| e.status().0), Err(513));
    }
}
