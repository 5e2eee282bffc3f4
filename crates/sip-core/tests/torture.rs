//! RFC 4475 §3 and RFC 5118 §4 torture messages: each fixture gets the
//! verdict the RFC gives (OK, or the response a UAS sends).

use std::path::PathBuf;

use bytes::Bytes;
use sip_core::{Limits, Mode, validate};

fn fixture(dir: &str, name: &str) -> Bytes {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        dir,
        &format!("{name}.dat"),
    ]
    .iter()
    .collect();
    Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// (fixture, RFC section, expected: 0 = accepted, else the status code).
const RFC4475: &[(&str, &str, u16)] = &[
    ("wsinv", "3.1.1.1 short tortuous INVITE", 0),
    ("intmeth", "3.1.1.2 wide range of valid characters", 0),
    ("esc01", "3.1.1.3 valid use of % escaping", 0),
    ("escnull", "3.1.1.4 escaped nulls in URIs", 0),
    ("esc02", "3.1.1.5 % when it is not an escape", 0),
    ("lwsdisp", "3.1.1.6 no LWS between display name and <", 0),
    ("longreq", "3.1.1.7 long values in header fields", 0),
    (
        "dblreq",
        "3.1.1.8 extra trailing octets in a UDP datagram",
        0,
    ),
    (
        "semiuri",
        "3.1.1.9 semicolon-separated parameters in user part",
        0,
    ),
    (
        "transports",
        "3.1.1.10 varied and unknown transport types",
        0,
    ),
    ("mpart01", "3.1.1.11 multipart MIME message", 0),
    ("unreason", "3.1.1.12 unusual reason phrase", 0),
    ("noreason", "3.1.1.13 empty reason phrase", 0),
    (
        "badinv01",
        "3.1.2.1 extraneous header field separators",
        400,
    ),
    ("clerr", "3.1.2.2 Content-Length larger than message", 400),
    ("ncl", "3.1.2.3 negative Content-Length", 400),
    (
        "scalar02",
        "3.1.2.4 request scalar fields with overlarge values",
        400,
    ),
    (
        "scalarlg",
        "3.1.2.5 response scalar fields with overlarge values (dropped)",
        400,
    ),
    (
        "quotbal",
        "3.1.2.6 unterminated quoted string in display name",
        400,
    ),
    ("ltgtruri", "3.1.2.7 <> enclosing Request-URI", 400),
    (
        "lwsruri",
        "3.1.2.8 malformed Request-URI (embedded LWS)",
        400,
    ),
    (
        "lwsstart",
        "3.1.2.9 multiple SP separating request-line elements",
        400,
    ),
    ("trws", "3.1.2.10 SP characters at end of request-line", 400),
    (
        "escruri",
        "3.1.2.11 escaped headers in SIP Request-URI",
        400,
    ),
    ("baddate", "3.1.2.12 invalid time zone in Date", 400),
    (
        "regbadct",
        "3.1.2.13 failure to enclose name-addr URI in <>",
        400,
    ),
    ("badaspec", "3.1.2.14 spaces within addr-spec", 400),
    (
        "baddn",
        "3.1.2.15 non-token characters in display name",
        400,
    ),
    ("badvers", "3.1.2.16 unknown protocol version", 505),
    (
        "mismatch01",
        "3.1.2.17 start line and CSeq method mismatch",
        400,
    ),
    (
        "mismatch02",
        "3.1.2.18 unknown method with CSeq method mismatch",
        501,
    ),
    ("bigcode", "3.1.2.19 overlarge response code (dropped)", 400),
    ("badbranch", "3.2.1 missing transaction identifier", 0),
    ("insuf", "3.3.1 missing required header fields", 400),
    ("unkscm", "3.3.2 Request-URI with unknown scheme", 416),
    (
        "novelsc",
        "3.3.3 Request-URI with known but atypical scheme",
        416,
    ),
    (
        "unksm2",
        "3.3.4 unknown URI schemes in header fields (registrar)",
        400,
    ),
    ("bext01", "3.3.5 Proxy-Require and Require", 420),
    ("invut", "3.3.6 unknown Content-Type", 415),
    ("regaut01", "3.3.7 unknown authorization scheme", 0),
    (
        "multi01",
        "3.3.8 multiple values in single value required fields",
        400,
    ),
    ("mcl01", "3.3.9 multiple Content-Length values", 400),
    ("bcast", "3.3.10 200 OK response with broadcast Via", 0),
    ("zeromf", "3.3.11 Max-Forwards of zero", 0),
    (
        "cparam01",
        "3.3.12 REGISTER with a contact header parameter",
        0,
    ),
    ("cparam02", "3.3.13 REGISTER with a url parameter", 0),
    ("regescrt", "3.3.14 REGISTER with a URL escaped header", 0),
    ("sdp01", "3.3.15 unacceptable Accept offering", 406),
    ("inv2543", "3.4.1 INVITE with RFC 2543 syntax", 0),
];

const RFC5118: &[(&str, &str, u16)] = &[
    ("ipv6-good", "4.1 valid message with an IPv6 reference", 0),
    (
        "ipv6-bad",
        "4.2 invalid message with an IPv6 reference",
        400,
    ),
    ("port-ambiguous", "4.3 port ambiguous in a SIP URI", 0),
    ("port-unambiguous", "4.4 port unambiguous in a SIP URI", 0),
    (
        "via-received-param-with-delim",
        "4.5 IPv6 reference delimiters in Via received",
        0,
    ),
    (
        "via-received-param-no-delim",
        "4.5 IPv6 received without delimiters",
        0,
    ),
    ("ipv6-in-sdp", "4.6 IPv6 addresses in SDP body", 0),
    (
        "mult-ip-in-header",
        "4.7 multiple IP addresses in SIP headers",
        0,
    ),
    ("mult-ip-in-sdp", "4.8 multiple IP addresses in SDP", 0),
    ("ipv4-mapped-ipv6", "4.9 IPv4-mapped IPv6 addresses", 0),
    (
        "ipv6-correct-abnf-2-colons",
        "4.10 IPv6 reference, RFC 5954 two-colon form",
        0,
    ),
    (
        "ipv6-correct-abnf-3-colons",
        "4.10 IPv6 reference, three colons (invalid per RFC 5954)",
        400,
    ),
];

fn check(dir: &str, table: &[(&str, &str, u16)]) {
    let mut failures = Vec::new();
    for (name, section, expected) in table {
        let got = match validate::verdict(fixture(dir, name), Mode::Datagram, &Limits::default()) {
            Ok(_) => 0,
            Err(e) => e.status().0,
        };
        if got != *expected {
            failures.push(format!(
                "{dir}/{name} (§{section}): expected {expected}, got {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rfc4475_verdicts() {
    check("rfc4475", RFC4475);
}

#[test]
fn rfc5118_verdicts() {
    check("rfc5118", RFC5118);
}

#[test]
fn every_fixture_has_a_verdict() {
    for (dir, table) in [("rfc4475", RFC4475), ("rfc5118", RFC5118)] {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", dir]
            .iter()
            .collect();
        let mut files: Vec<String> = std::fs::read_dir(&path)
            .expect("fixture dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|f| f.strip_suffix(".dat").map(str::to_owned))
            .collect();
        files.sort();
        let mut names: Vec<String> = table.iter().map(|(n, _, _)| (*n).to_owned()).collect();
        names.sort();
        assert_eq!(files, names, "{dir}");
    }
}

#[test]
fn fixtures_are_crlf_and_print_back_exactly() {
    for (dir, table) in [("rfc4475", RFC4475), ("rfc5118", RFC5118)] {
        for (name, _, expected) in table {
            let bytes = fixture(dir, name);
            let head_end = memchr_find(&bytes, b"\r\n\r\n").expect("CRLF CRLF ends the header");
            assert!(
                !bytes[..head_end]
                    .windows(2)
                    .any(|w| w[1] == b'\n' && w[0] != b'\r'),
                "{name}: bare LF"
            );
            if *expected == 0 {
                // A valid message prints back byte for byte (up to the end of its body).
                let msg = sip_core::Message::parse(bytes.clone()).expect("valid");
                let printed = msg.to_bytes();
                assert_eq!(&printed[..], &bytes[..printed.len()], "{name}");
            }
        }
    }
}

fn memchr_find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

#[test]
fn tortuous_invite_details() {
    use sip_core::header::{CSeq, Contact, From, MaxForwards, Subject, To, Via};
    let m = sip_core::Message::parse(fixture("rfc4475", "wsinv")).expect("wsinv");
    let to: To<'_> = m.header().expect("To").expect("valid");
    assert_eq!(to.tag(), Some("1918181833n"));
    let from: From<'_> = m.header().expect("From").expect("valid");
    assert_eq!(
        from.addr.display_name().as_deref(),
        Some("J Rosenberg \\\"")
    );
    assert_eq!(m.header::<MaxForwards>().expect("MF").expect("valid").0, 68);
    assert_eq!(m.header::<CSeq>().expect("CSeq").expect("valid").seq, 9);
    let vias: Vec<Via<'_>> = m.headers_of().collect::<Result<_, _>>().expect("vias");
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(
        vias[2].host,
        sip_core::Host::V4("192.168.255.111".parse().expect("ip"))
    );
    assert_eq!(m.header::<Subject<'_>>().expect("s").expect("valid").0, "");
    let c: Contact<'_> = m.header().expect("m").expect("valid");
    assert_eq!(c.q(), Some(330));
    let unusual: Vec<_> = m.fields_by_name("unknownheaderwithunusualvalue").collect();
    assert_eq!(unusual[0].value, b";;,,;;,;");
    let esc02 = sip_core::Message::parse(fixture("rfc4475", "esc02")).expect("esc02");
    assert_eq!(
        esc02.headers_of::<Contact<'_>>().count(),
        2,
        "C%6Fntact is not Contact"
    );
    let dbl = sip_core::Message::parse(fixture("rfc4475", "dblreq")).expect("dblreq");
    assert_eq!(dbl.method(), Some(&sip_core::Method::Register));
    assert!(dbl.body().is_empty());
}

#[test]
fn sdp_bodies_of_valid_messages_round_trip() {
    use sip_core::header::ContentType;
    use sip_core::sdp::Sdp;
    let mut checked = 0;
    for (dir, table) in [("rfc4475", RFC4475), ("rfc5118", RFC5118)] {
        for (name, _, expected) in table {
            if *expected != 0 {
                continue;
            }
            let m = sip_core::Message::parse(fixture(dir, name)).expect("valid");
            let is_sdp = matches!(m.header::<ContentType<'_>>(), Some(Ok(ct)) if ct.is("application", "sdp"));
            if !is_sdp {
                continue;
            }
            let text = std::str::from_utf8(m.body()).expect("utf-8 body");
            let sdp = Sdp::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(sdp.to_string(), text, "{name}: printed SDP differs");
            checked += 1;
        }
    }
    assert_eq!(checked, 9, "SDP bodies among the valid fixtures");
    // RFC 5118 §4.8 and §4.9: IPv4 and IPv6 connections, IPv4-mapped addresses.
    let m = sip_core::Message::parse(fixture("rfc5118", "mult-ip-in-sdp")).expect("valid");
    let sdp = Sdp::parse(std::str::from_utf8(m.body()).expect("utf-8")).expect("sdp");
    assert_eq!(
        sdp.media[0].connection().and_then(|c| c.ip()),
        Some("192.0.2.1".parse().expect("ip"))
    );
    assert_eq!(
        sdp.media[1].connection().and_then(|c| c.ip()),
        Some("2001:db8::1".parse().expect("ip"))
    );
    let m = sip_core::Message::parse(fixture("rfc5118", "ipv4-mapped-ipv6")).expect("valid");
    let sdp = Sdp::parse(std::str::from_utf8(m.body()).expect("utf-8")).expect("sdp");
    assert_eq!(
        sdp.connection().and_then(|c| c.ip()),
        Some("::ffff:192.0.2.2".parse().expect("ip"))
    );
}
