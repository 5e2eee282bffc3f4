//! The same work for each parser: parse one message, then read what a proxy
//! needs (top Via branch and sent-by, From tag, To tag, Call-ID, CSeq,
//! Max-Forwards, Route). Each function returns a checksum so that the work
//! cannot be optimised away and so the three can be checked to agree.

include!("../../corpus.rs");

/// sip-core.
pub fn sip_core(msg: &'static [u8]) -> usize {
    use sip_core::header::{CSeq, CallId, From, MaxForwards, Route, To, Via};
    let Ok(m) = sip_core::Message::parse(bytes::Bytes::from_static(msg)) else { return 0 };
    let mut n = 0;
    if let Some(Ok(v)) = m.header::<Via<'_>>() {
        n += v.branch().map_or(0, str::len) + v.port.map_or(0, usize::from);
    }
    if let Some(Ok(f)) = m.header::<From<'_>>() {
        n += f.tag().map_or(0, str::len);
    }
    if let Some(Ok(t)) = m.header::<To<'_>>() {
        n += t.tag().map_or(0, str::len);
    }
    if let Some(Ok(c)) = m.header::<CallId<'_>>() {
        n += c.0.len();
    }
    if let Some(Ok(c)) = m.header::<CSeq>() {
        n += c.seq as usize + c.method.as_str().len();
    }
    if let Some(Ok(mf)) = m.header::<MaxForwards>() {
        n += usize::from(mf.0);
    }
    n + m.headers_of::<Route<'_>>().flatten().count()
}

/// The same work with rsip.
pub fn rsip(msg: &'static [u8]) -> usize {
    use rsip::prelude::*;
    let Ok(m) = rsip::SipMessage::try_from(msg) else { return 0 };
    let mut n = 0;
    if let Ok(v) = m.via_header().and_then(|v| v.typed()) {
        n += v.branch().map_or(0, |b| b.to_string().len());
        n += v.sent_by().port().map_or(0, |p| p.to_string().len());
    }
    if let Ok(f) = m.from_header().and_then(|f| f.typed()) {
        n += f.tag().map_or(0, |t| t.to_string().len());
    }
    if let Ok(t) = m.to_header().and_then(|t| t.typed()) {
        n += t.tag().map_or(0, |t| t.to_string().len());
    }
    if let Ok(c) = m.call_id_header() {
        n += c.value().len();
    }
    if let Ok(c) = m.cseq_header().and_then(|c| c.typed()) {
        n += c.seq as usize + c.method.to_string().len();
    }
    if let Ok(mf) = m.max_forwards_header().and_then(|mf| mf.num()) {
        n += mf as usize;
    }
    for h in m.headers().iter() {
        if let rsip::Header::Route(r) = h
            && let Ok(r) = r.typed()
        {
            n += r.uris().len();
        }
    }
    n
}

/// The same work with rsipstack's SIP module.
pub fn rsipstack(msg: &'static [u8]) -> usize {
    use rsipstack::sip::prelude::*;
    let Ok(m) = rsipstack::sip::SipMessage::try_from(msg) else { return 0 };
    let mut n = 0;
    if let Ok(v) = m.via_header().and_then(|v| v.typed()) {
        n += v.branch().map_or(0, |b| b.to_string().len());
        n += v.sent_by().port.as_ref().map_or(0, |p| usize::from(p.value()));
    }
    if let Ok(f) = m.from_header().and_then(|f| f.typed()) {
        n += f.tag().map_or(0, |t| t.to_string().len());
    }
    if let Ok(t) = m.to_header().and_then(|t| t.typed()) {
        n += t.tag().map_or(0, |t| t.to_string().len());
    }
    if let Ok(c) = m.call_id_header() {
        n += c.value().len();
    }
    if let Ok(c) = m.cseq_header().and_then(|c| c.typed()) {
        n += c.seq as usize + c.method.to_string().len();
    }
    if let Ok(mf) = m.max_forwards_header() {
        n += mf.value().trim().parse::<usize>().unwrap_or(0);
    }
    for r in m.route_headers() {
        n += r.typed().map_or(0, |_| 1);
    }
    n
}
