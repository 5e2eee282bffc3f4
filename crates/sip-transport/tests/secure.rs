//! TLS, WebSocket and secure WebSocket on loopback, with certificates made
//! at test time by rcgen (a CA and a leaf for 127.0.0.1).

mod common;

use common::{next, reply_ok};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    SanType,
};
use sip_core::StatusCode;
use sip_test::msg;
use sip_transport::{Config, TlsConfig, Transport, Transports};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// A CA and a leaf certificate for 127.0.0.1, written as PEM files.
    fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("rvoip-pki-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let leaf = params.signed_by(&key, &ca).expect("leaf");
        std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write");
        std::fs::write(dir.join("cert.pem"), leaf.pem()).expect("write");
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).expect("write");
        Pki { dir }
    }

    fn files(&self, require_client_cert: bool, present_client_cert: bool) -> TlsConfig {
        TlsConfig {
            cert_chain: self.dir.join("cert.pem"),
            private_key: self.dir.join("key.pem"),
            ca: Some(self.dir.join("ca.pem")),
            require_client_cert,
            present_client_cert,
        }
    }
}

fn secure_config(files: TlsConfig) -> Config {
    let any = ([127, 0, 0, 1], 0).into();
    Config {
        tls: vec![any],
        ws: vec![any],
        wss: vec![any],
        tls_files: Some(files),
        ..Config::loopback()
    }
}

async fn round_trip(transport: Transport, a: &mut Transports, b: &mut Transports) {
    let dest = b.local_addr(transport).expect("listening");
    let req = msg::options(&format!("{transport:?}-rt@example.com"), "a");
    a.send(transport, dest, req.to_bytes()).await.expect("send");
    let rx = next(b).await;
    assert_eq!(rx.transport, transport);
    assert_eq!(rx.message.call_id(), req.call_id());
    reply_ok(b, &rx).await;
    let resp = next(a).await;
    assert_eq!(
        (resp.transport, resp.message.status()),
        (transport, Some(StatusCode::OK))
    );
    assert_eq!(
        a.connection_count(),
        1,
        "{transport:?}: the response reused the connection"
    );
}

#[tokio::test]
async fn tls_ws_and_wss_round_trips() {
    let pki = Pki::new("rt");
    for transport in [Transport::Tls, Transport::Ws, Transport::Wss] {
        let mut a = Transports::bind(secure_config(pki.files(false, false)))
            .await
            .expect("a");
        let mut b = Transports::bind(secure_config(pki.files(false, false)))
            .await
            .expect("b");
        round_trip(transport, &mut a, &mut b).await;
    }
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate() {
    let pki = Pki::new("mtls");
    let mut server = Transports::bind(secure_config(pki.files(true, false)))
        .await
        .expect("server");
    let dest = server.local_addr(Transport::Tls).expect("tls");
    let without = Transports::bind(Config::loopback()).await.expect("plain");
    assert!(
        without
            .send(Transport::Tls, dest, msg::options("m1", "a").to_bytes())
            .await
            .is_err(),
        "no TLS configured"
    );
    let anonymous = Transports::bind(secure_config(pki.files(false, false)))
        .await
        .expect("anonymous");
    let _ = anonymous
        .send(
            Transport::Tls,
            dest,
            msg::options("m2@example.com", "a").to_bytes(),
        )
        .await;
    let with_cert = Transports::bind(secure_config(pki.files(false, true)))
        .await
        .expect("with cert");
    with_cert
        .send(
            Transport::Tls,
            dest,
            msg::options("m3@example.com", "a").to_bytes(),
        )
        .await
        .expect("send");
    let rx = next(&mut server).await;
    assert_eq!(
        rx.message.call_id(),
        Some("m3@example.com"),
        "only the client with a certificate got through"
    );
}

#[tokio::test]
async fn untrusted_server_certificate_is_refused() {
    let trusted = Pki::new("trusted");
    let other = Pki::new("other");
    let server = Transports::bind(secure_config(other.files(false, false)))
        .await
        .expect("server");
    let client = Transports::bind(secure_config(trusted.files(false, false)))
        .await
        .expect("client");
    let dest = server.local_addr(Transport::Tls).expect("tls");
    assert!(
        client
            .send(Transport::Tls, dest, msg::options("u1", "a").to_bytes())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn websocket_without_the_sip_subprotocol_is_rejected() {
    let pki = Pki::new("ws");
    let server = Transports::bind(secure_config(pki.files(false, false)))
        .await
        .expect("server");
    let mut s = tokio::net::TcpStream::connect(server.local_addr(Transport::Ws).expect("ws"))
        .await
        .expect("connect");
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").await.expect("write");
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("answer")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn a_bad_certificate_file_is_named() {
    let mut files = Pki::new("bad").files(false, false);
    files.cert_chain = PathBuf::from("/nonexistent/cert.pem");
    let err = Transports::bind(secure_config(files))
        .await
        .err()
        .expect("must fail");
    assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
}
