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
}
