//! RFC 3261 §18.2.1 and RFC 3581 §4: a server adds `received` to the top
//! Via of a request when the packet's source IP differs from the sent-by
//! host (or when `rport` was asked for), and fills in `rport` with the
//! source port.

use std::net::SocketAddr;

use sip_core::header::{HeaderName, Via};
use sip_core::{Host, Message};

/// Stamps the top Via of `request` with `received`/`rport` as needed.
pub fn stamp_via(request: &mut Message, source: SocketAddr) {
    let Some(Ok(via)) = request.header::<Via<'_>>() else {
        return;
    };
    let wants_rport = via.rport().is_some();
    let host_matches = match via.host {
        Host::V4(a) => std::net::IpAddr::V4(a) == source.ip(),
        Host::V6(a) => std::net::IpAddr::V6(a) == source.ip(),
        Host::Name(_) => false,
    };
    if host_matches && !wants_rport {
        return;
    }
    let mut params: Vec<String> = via
        .params
        .items()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("received") && !n.eq_ignore_ascii_case("rport"))
        .map(|(n, v)| match v {
            Some(v) => format!("{n}={v}"),
            None => n.to_owned(),
        })
        .collect();
    let ip = match source.ip() {
        std::net::IpAddr::V4(a) => a.to_string(),
        std::net::IpAddr::V6(a) => a.to_string(),
    };
    params.push(format!("received={ip}"));
    if wants_rport {
        params.push(format!("rport={}", source.port()));
    }
    let port = via.port.map(|p| format!(":{p}")).unwrap_or_default();
    let stamped = format!(
        "{}/{}/{} {}{};{}",
        via.protocol,
        via.version,
        via.transport,
        via.host,
        port,
        params.join(";")
    );
    request.remove_first_value(HeaderName::Via);
    request.prepend_header("Via", stamped);
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
