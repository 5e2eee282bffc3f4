//! RFC 3261 §18.2.1 and RFC 3581 §4: a server adds `received` to the top
//! Via of a request when the packet's source IP differs from the sent-by
//! host (or when `rport` was asked for), and fills in `rport` with the
//! source port.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use sip_core::header::{HeaderName, Via};
use sip_core::{Host, Message};

/// Stamps the top Via of `request` with `received`/`rport` as needed.
pub fn stamp_via(request: &mut Message, source: SocketAddr) {
    if let Some(field) = request.raw_header(HeaderName::Via)
        && nothing_to_stamp(field, source.ip())
    {
        return;
    }
    let Some(Ok(via)) = request.header::<Via<'_>>() else {
        return;
    };
    let wants_rport = via.rport().is_some();
    let host_matches = match via.host {
        Host::V4(a) => IpAddr::V4(a) == source.ip(),
        Host::V6(a) => IpAddr::V6(a) == source.ip(),
        Host::Name(_) => false,
    };
    if host_matches && !wants_rport {
        return;
    }
    let mut params = String::new();
    for (name, value) in via.params.items() {
        if !name.eq_ignore_ascii_case("received") && !name.eq_ignore_ascii_case("rport") {
            push_param(&mut params, name, value);
        }
    }
    let _ = write!(params, ";received={}", source.ip());
    if wants_rport {
        let _ = write!(params, ";rport={}", source.port());
    }
    let stamped = via_line(&via, via.transport, &params);
    replace_top_via(request, stamped);
}

/// The common case read from the bytes of the top Via's `field`, without
/// parsing it: `SIP/2.0/TRANSPORT host[:port];params` whose host is the
/// source address itself and whose parameters ask for no `rport`, so
/// nothing is stamped. `false` for any other shape or when the scan cannot
/// be sure; the parse then decides.
fn nothing_to_stamp(field: &[u8], source: IpAddr) -> bool {
    let Some(sent_by) = Via::scan_sent_by(field) else {
        return false;
    };
    let host = match sent_by.iter().rposition(|&c| c == b':') {
        Some(colon) => &sent_by[..colon],
        None => sent_by,
    };
    let same = match std::str::from_utf8(host).map(Host::parse) {
        Ok(Ok(Host::V4(a))) => IpAddr::V4(a) == source,
        _ => false, // names and IPv6 references: the parse decides
    };
    same && Via::scan_has_param(field, "rport") == Some(false)
}

/// Appends `;name` or `;name=value` to `params`.
pub(crate) fn push_param(params: &mut String, name: &str, value: Option<&str>) {
    let _ = match value {
        Some(v) => write!(params, ";{name}={v}"),
        None => write!(params, ";{name}"),
    };
}

/// `via` printed with `transport` and `params` (`;name[=value]...`) instead
/// of its own.
pub(crate) fn via_line(via: &Via<'_>, transport: &str, params: impl fmt::Display) -> String {
    let mut line = format!(
        "{}/{}/{} {}",
        via.protocol, via.version, transport, via.host
    );
    if let Some(port) = via.port {
        let _ = write!(line, ":{port}");
    }
    let _ = write!(line, "{params}");
    line
}

/// Puts `line` in place of the first Via value of `message`.
pub(crate) fn replace_top_via(message: &mut Message, line: String) {
    message.remove_first_value(HeaderName::Via);
    message.prepend_header("Via", line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_and_rport() {
        let mut m = sip_test::msg::options("s1", "a"); // Via: 192.0.2.10:5060;branch=...;rport
        stamp_via(&mut m, "198.51.100.7:40000".parse().expect("addr"));
        let via: Via<'_> = m.header().expect("via").expect("valid");
        assert_eq!(via.received(), Some("198.51.100.7".parse().expect("ip")));
        assert_eq!(via.rport(), Some(Some(40000)));
        assert!(via.branch().is_some(), "other params kept");
        let reparsed = Message::parse(m.to_bytes()).expect("still valid");
        assert!(sip_core::validate::check_syntax(&reparsed).is_ok());
    }

    /// Where the byte scan says there is nothing to stamp, the parse agrees
    /// (the message is left exactly as it was); and it does say so for the
    /// common shape.
    #[test]
    fn the_byte_scan_agrees_with_the_parse() {
        let vias = [
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1",
            "SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1;rport",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1;RPORT=9",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1;received=127.0.0.1",
            "SIP/2.0/UDP 127.0.0.2:5061;branch=z9hG4bK1",
            "SIP/2.0/UDP 127.0.0.1 : 5061;branch=z9hG4bK1",
            "SIP/2.0/UDP  127.0.0.1:5061;branch=z9hG4bK1",
            "SIP/2.0/TCP localhost:5061;branch=z9hG4bK1",
            "SIP/2.0/UDP [::1]:5061;branch=z9hG4bK1",
            "SIP/2.0/UDP 127.0.0.1:5061;x=\"a;rport\";branch=z9hG4bK1",
            "SIP/2.0/UDP 127.0.0.1:5061, SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK2",
            "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1, SIP/2.0/UDP 10.0.0.1;rport",
            "SIP / 2.0 / UDP 127.0.0.1;branch=z9hG4bK1",
        ];
        let source: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let mut fast = 0;
        for via in vias {
            let text = format!(
                "OPTIONS sip:b@example.com SIP/2.0\r\nVia: {via}\r\nFrom: <sip:a@b>;tag=1\r\n\
                 To: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\
                 Content-Length: 0\r\n\r\n"
            );
            let original = Message::parse(text).expect(via);
            let mut stamped = original.clone();
            stamp_via(&mut stamped, source);
            let field = original.raw_header(HeaderName::Via).expect("via");
            if nothing_to_stamp(field, source.ip()) {
                fast += 1;
                assert_eq!(stamped.to_bytes(), original.to_bytes(), "{via}");
                // The parse, on its own, also leaves it alone.
                let parsed: Via<'_> = original.header().expect("via").expect(via);
                assert!(parsed.rport().is_none(), "{via}");
                assert_eq!(parsed.host, Host::V4([127, 0, 0, 1].into()), "{via}");
            }
        }
        assert_eq!(fast, 5, "the common shapes are decided from the bytes");
    }
}
