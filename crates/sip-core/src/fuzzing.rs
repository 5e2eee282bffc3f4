//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the
//! stable-Rust fuzz test (`tests/fuzz_stable.rs`). Each takes arbitrary
//! bytes, must never panic, and checks invariants that hold for any input.

use bytes::Bytes;

use crate::framing::{self, Frame, Mode};
use crate::header::*;
use crate::{Limits, Message, Uri, sdp, validate};

/// Decodes every typed header a message can carry, without panicking.
fn touch_all_headers(m: &Message) {
    macro_rules! all {
        ($($ty:ty),* $(,)?) => {
            $( for h in m.headers_of::<$ty>() { if let Ok(h) = h { let _ = h.to_string(); } } )*
        };
    }
    all!(
        Via<'_>,
        From<'_>,
        To<'_>,
        CallId<'_>,
        CSeq,
        Contact<'_>,
        MaxForwards,
        ContentLength,
        ContentType<'_>,
        ContentEncoding<'_>,
        ContentDisposition<'_>,
        Route<'_>,
        RecordRoute<'_>,
        Path<'_>,
        Expires,
        MinExpires,
        Authorization<'_>,
        ProxyAuthorization<'_>,
        WwwAuthenticate<'_>,
        ProxyAuthenticate<'_>,
        Allow,
        Supported<'_>,
        Require<'_>,
        ProxyRequire<'_>,
        Unsupported<'_>,
        Accept<'_>,
        RSeq,
        RAck,
        Event<'_>,
        AllowEvents<'_>,
        SubscriptionState<'_>,
        ReferTo<'_>,
        ReferredBy<'_>,
        Replaces<'_>,
        SessionExpires<'_>,
        MinSe<'_>,
        PAssertedIdentity<'_>,
        PPreferredIdentity<'_>,
        Privacy<'_>,
        Reason<'_>,
        RetryAfter<'_>,
        Date<'_>,
        Timestamp<'_>,
        Warning<'_>,
        UserAgent<'_>,
        Server<'_>,
        Organization<'_>,
        Subject<'_>,
        Priority<'_>,
        CallInfo<'_>,
        AlertInfo<'_>,
    );
    for f in m.headers_of::<From<'_>>().flatten() {
        let _ = f.addr.uri().map(|u| u.to_string());
        let _ = f.addr.display_name();
    }
    for c in m.headers_of::<Contact<'_>>().flatten() {
        let _ = (c.q(), c.expires(), c.instance(), c.reg_id());
        if let Some(a) = c.addr {
            let _ = a.uri();
        }
    }
    for v in m.headers_of::<Via<'_>>().flatten() {
        let _ = (v.branch(), v.received(), v.rport(), v.ttl(), v.maddr());
    }
    for a in m.headers_of::<Authorization<'_>>().flatten() {
        let _ = (a.param("nonce"), a.token());
    }
}

/// One SIP message as a datagram: parse, validate, decode every header,
/// print and re-parse (must succeed and print the same), then edit.
pub fn message(data: &[u8]) {
    let bytes = Bytes::copy_from_slice(data);
    let limits = Limits::default();
    let _ = validate::verdict(bytes.clone(), Mode::Datagram, &limits);
    let Ok(mut m) = Message::parse_with(bytes, Mode::Datagram, &limits) else {
        return;
    };
    touch_all_headers(&m);
    let _ = (
        m.method(),
        m.status(),
        m.reason(),
        m.version(),
        m.call_id(),
        m.request_uri(),
    );
    if let Ok(text) = std::str::from_utf8(m.body()) {
        let _ = sdp::Sdp::parse(text);
    }
    let printed = m.to_bytes();
    let again = Message::parse_with(printed.clone(), Mode::Datagram, &limits)
        .unwrap_or_else(|e| panic!("a parsed message must re-parse: {e}"));
    assert_eq!(again.to_bytes(), printed, "print is not stable");
    // Edits must keep the message parseable.
    m.remove_first_value(HeaderName::Via);
    m.prepend_header("Via", "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKfuzz");
    m.set_header("Max-Forwards", 69);
    m.remove_header("Route");
    let edited = m.to_bytes();
    if edited.len() <= limits.max_message_bytes {
        Message::parse_with(edited, Mode::Datagram, &limits)
            .unwrap_or_else(|e| panic!("an edited message must re-parse: {e}"));
    }
}

/// A TCP byte stream: frame message after message, parse each frame.
pub fn stream(data: &[u8]) {
    let limits = Limits {
        max_message_bytes: 4096,
        max_body_bytes: 2048,
        ..Limits::default()
    };
    let bytes = Bytes::copy_from_slice(data);
    let mut pos = 0;
    while pos < bytes.len() {
        match framing::frame_stream(&bytes[pos..], &limits) {
            Ok(Frame::Ping(n) | Frame::Pong(n)) => pos += n,
            Ok(Frame::Message(n)) => {
                assert!(n > 0 && pos + n <= bytes.len(), "frame length out of range");
                if let Ok(m) = Message::parse_with(bytes.slice(pos..pos + n), Mode::Stream, &limits)
                {
                    touch_all_headers(&m);
                }
                pos += n;
            }
            Ok(Frame::Incomplete) | Err(_) => break,
        }
    }
}

/// A URI: parse, print, re-parse to an equivalent URI.
pub fn uri(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(u) = Uri::parse(s) else { return };
    let printed = u.to_string();
    let again =
        Uri::parse(&printed).unwrap_or_else(|e| panic!("printed URI {printed:?} must parse: {e}"));
    assert!(
        again.equivalent(&u) || matches!(u, Uri::Other { .. }),
        "{printed:?} not equivalent"
    );
    if let Some(sip) = u.as_sip() {
        let _ = (sip.user_unescaped(), sip.transport(), sip.lr());
    }
}

/// An SDP body: parse, print, re-parse equal, read the typed attributes.
pub fn sdp(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = sdp::Sdp::parse(s) else { return };
    let printed = d.to_string();
    let again = sdp::Sdp::parse(&printed).unwrap_or_else(|e| panic!("printed SDP must parse: {e}"));
    assert_eq!(again, d, "SDP changed in print → parse");
    for m in &d.media {
        let _ = (
            m.direction(),
            m.ptime(),
            m.maxptime(),
            m.rtcp(),
            m.rtcp_mux(),
            m.mid(),
            m.setup(),
            m.fingerprint(),
        );
        for pt in m.media.payload_types() {
            let _ = (m.rtpmap(pt), m.fmtp(pt));
        }
        for c in m.crypto() {
            let _ = c.inline_key();
        }
    }
}
