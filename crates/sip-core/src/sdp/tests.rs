use super::*;

const WEBRTC: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 101\r\n\
c=IN IP4 0.0.0.0\r\n\
b=AS:64\r\n\
a=rtcp:9 IN IP4 0.0.0.0\r\n\
a=mid:0\r\n\
a=setup:actpass\r\n\
a=fingerprint:sha-256 AB:CD:EF:01\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=fmtp:111 minptime=10;useinbandfec=1\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=maxptime:120\r\n\
a=rtcp-mux\r\n\
a=recvonly\r\n\
x=unknown line kept\r\n";

#[test]
fn webrtc_attributes_and_round_trip() {
    let sdp = Sdp::parse(WEBRTC).expect("parse");
    assert_eq!(sdp.to_string(), WEBRTC);
    let m = &sdp.media[0];
    assert_eq!(m.media.formats, vec!["111", "0", "8", "101"]);
    assert_eq!(
        m.rtpmap(111),
        Some(RtpMap {
            payload_type: 111,
            encoding: "opus",
            clock_rate: 48000,
            channels: Some(2)
        })
    );
    assert_eq!(m.fmtp(111).and_then(|f| f.param("useinbandfec")), Some("1"));
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.maxptime(), Some(120));
    assert!(m.rtcp_mux());
    assert_eq!(
        m.rtcp(),
        Some(RtcpAttr {
            port: 9,
            address: Some("0.0.0.0")
        })
    );
    assert_eq!(m.mid(), Some("0"));
    assert_eq!(m.setup(), Some(Setup::ActPass));
    assert_eq!(m.fingerprint().map(|f| f.hash), Some("sha-256"));
    assert_eq!(m.direction(), Direction::RecvOnly);
    assert!(m.connection().expect("c=").is_hold());
    assert!(m.lines.contains(&Line::Other('x', "unknown line kept")));
}

#[test]
fn crypto_ipv6_and_lf_lines() {
    let text = "v=0\no=alice 1 1 IN IP6 2001:db8::1\ns=call\nc=IN IP6 2001:db8::1\nt=0 0\n\
m=audio 5004 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\na=inactive\n";
    let sdp = Sdp::parse(text).expect("parse");
    let c = sdp.connection().expect("c=");
    assert_eq!(c.ip(), Some("2001:db8::1".parse().expect("ip")));
    let cr = sdp.media[0].crypto().next().expect("crypto");
    assert_eq!(cr.suite, "AES_CM_128_HMAC_SHA1_80");
    assert_eq!(
        cr.inline_key(),
        Some("PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR")
    );
    assert_eq!(sdp.media[0].direction(), Direction::Inactive);
    // Printed with CRLF; parsing that gives the same description.
    let printed = sdp.to_string();
    assert_eq!(Sdp::parse(&printed).expect("reparse"), sdp);
}

#[test]
fn multicast_connection_forms() {
    let sdp =
        Sdp::parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 233.252.0.1/127/3\r\nt=0 0\r\n")
            .expect("parse");
    let c = sdp.connection().expect("c");
    assert_eq!((c.ttl, c.count), (Some(127), Some(3)));
    let sdp6 =
        Sdp::parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP6 ff00::db8:0:101/3\r\nt=0 0\r\n")
            .expect("parse");
    assert_eq!(sdp6.connection().expect("c").count, Some(3));
    assert_eq!(
        sdp6.to_string(),
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP6 ff00::db8:0:101/3\r\nt=0 0\r\n"
    );
}

#[test]
fn errors() {
    for bad in [
        "",
        "o=- 1 1 IN IP4 h\r\nv=0\r\ns=-\r\n",
        "v=1\r\no=- 1 1 IN IP4 h\r\ns=-\r\n",
        "v=0\r\ns=-\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\n",
        "v=0\r\no=- 1 IN IP4 h\r\ns=-\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio x RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nm=audio 5004 RTP/AVP\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1/999\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 2001:db8::1\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nbad line\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=now\r\n",
    ] {
        assert!(Sdp::parse(bad).is_err(), "{bad:?}");
    }
}
