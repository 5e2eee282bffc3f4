//! `rvoip sip call` against `rvoip sip uas` over each transport (TLS with
//! certificates made at test time), and `rvoip sip ping`'s exit codes.

mod common;
use common::free_port;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn rvoip(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rvoip"));
    cmd.args(["sip"]).args(args);
    cmd
}

/// Runs `rvoip sip uas --calls <calls>` on a fresh port while `client`
/// (given `sip:bob@127.0.0.1:<port>`) runs, both with `extra` flags;
/// returns both outputs.
fn against_uas(transport: &str, calls: &str, client: &[&str], extra: &[&str]) -> (Output, Output) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let uas = rvoip(&["uas", "--listen", &listen, "--transport", transport])
        .args(["--calls", calls])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start uas");
    std::thread::sleep(Duration::from_millis(300));
    let uri = format!("sip:bob@{listen}");
    let out = rvoip(client)
        .args([uri.as_str(), "--transport", transport])
        .args(extra)
        .output()
        .expect("run client");
    let uas = uas.wait_with_output().expect("uas output");
    (out, uas)
}

fn calls_over(transport: &str, extra: &[&str]) {
    let (out, uas) = against_uas(
        transport,
        "20",
        &["call", "--count", "20", "--rate", "200", "--hold", "10"],
        extra,
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transport}: {summary}");
    assert!(summary.contains("calls: 20 ok, 0 failed"), "{summary}");
    let uas = String::from_utf8_lossy(&uas.stdout);
    assert!(
        uas.contains("20 INVITEs, 20 calls ended, 20 BYEs"),
        "{transport}: {uas}"
    );
    assert!(uas.contains("0 2xx never ACKed"), "{uas}");
}

#[test]
fn calls_over_udp() {
    calls_over("udp", &[]);
}

#[test]
fn calls_over_tcp() {
    calls_over("tcp", &[]);
}

#[test]
fn calls_over_websocket() {
    calls_over("ws", &[]);
}

/// A CA and a leaf for 127.0.0.1 as PEM files: (cert, key, ca).
fn pki() -> (String, String, String) {
    let dir = std::env::temp_dir().join(format!("rvoip-tools-pki-{}", std::process::id()));
    let files = sip_test::pki::pki(&dir);
    let s = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (s(files.cert), s(files.key), s(files.ca))
}

#[test]
fn calls_over_tls() {
    let (cert, key, ca) = pki();
    calls_over("tls", &["--cert", &cert, "--key", &key, "--ca", &ca]);
}

#[test]
fn tls_without_certificates_is_a_usage_error() {
    let out = rvoip(&["uas", "--transport", "tls", "--listen", "127.0.0.1:0"])
        .output()
        .expect("uas");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cert"));
    let out = rvoip(&["ping", "sip:bob@127.0.0.1:5061", "--transport", "tls"])
        .output()
        .expect("ping");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ping_exit_codes() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut uas = rvoip(&["uas", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start uas");
    std::thread::sleep(Duration::from_millis(300));
    let ok = rvoip(&["ping", &format!("sip:bob@{listen}")])
        .output()
        .expect("ping");
    let _ = uas.kill();
    let _ = uas.wait();
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("200"), "{text}");
    let bad = rvoip(&["ping", "not a uri"]).output().expect("ping");
    assert_eq!(bad.status.code(), Some(2), "a bad URI is a usage error");
}

#[test]
fn ping_advertises_the_given_address() {
    let server = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    server
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let addr = server.local_addr().expect("addr");
    let ping = rvoip(&[
        "ping",
        "--advertise",
        "127.0.0.9:5999",
        &format!("sip:bob@{addr}"),
    ])
    .stdout(Stdio::piped())
    .spawn()
    .expect("ping");
    let mut buf = [0u8; 4096];
    let (n, from) = server.recv_from(&mut buf).expect("OPTIONS");
    let request = sip_core::Message::parse(buf[..n].to_vec()).expect("parse");
    let via = String::from_utf8_lossy(
        request
            .raw_header(sip_core::header::HeaderName::Via)
            .expect("Via"),
    )
    .into_owned();
    let contact = String::from_utf8_lossy(
        request
            .raw_header(sip_core::header::HeaderName::Contact)
            .unwrap_or_default(),
    )
    .into_owned();
    assert!(via.contains("127.0.0.9:5999"), "{via}");
    assert!(
        contact.is_empty() || contact.contains("127.0.0.9:5999"),
        "{contact}"
    );
    // Answer to where the request came from, so the tool hears it.
    let response = sip_core::builder::response_to(&request, sip_core::StatusCode::OK, Some("x"))
        .build()
        .expect("200");
    server.send_to(&response.to_bytes(), from).expect("send");
    let out = ping.wait_with_output().expect("ping");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
