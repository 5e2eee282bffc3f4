//! Loopback tests of the UDP and TCP transports with real sockets.

mod common;

use common::{next, reply_ok};
use std::time::Duration;

use bytes::Bytes;
use sip_core::header::Via;
use sip_core::{Message, StatusCode};
use sip_test::msg;
use sip_transport::{Config, Transport, Transports, transport_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

#[tokio::test]
async fn udp_request_gets_rport_and_received_and_the_response_comes_back() {
    let mut server = Transports::bind(Config::loopback()).await.expect("bind");
    let server_addr = server.local_addr(Transport::Udp).expect("udp");
    // The client sends from one port while its Via names another (NAT-like).
    let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
    let mut req = msg::options("udp-rport@example.com", "a");
    req.set_header(
        "Via",
        "SIP/2.0/UDP 192.0.2.10:5099;branch=z9hG4bKudp1;rport",
    );
    client
        .send_to(&req.to_bytes(), server_addr)
        .await
        .expect("send");
    let rx = next(&mut server).await;
    assert_eq!(rx.transport, Transport::Udp);
    assert_eq!(rx.source, client.local_addr().expect("addr"));
    let via: Via<'_> = rx.message.header().expect("via").expect("valid");
    assert_eq!(
        via.rport(),
        Some(Some(rx.source.port())),
        "RFC 3581: rport filled with the source port"
    );
    assert_eq!(
        via.received(),
        Some(rx.source.ip()),
        "received added (sent-by differs)"
    );
    // The response goes to the source address (rport), not to sent-by port 5099.
    let resp = msg::reply(&rx.message, StatusCode::OK, "s");
    server
        .send(Transport::Udp, rx.source, resp.to_bytes())
        .await
        .expect("respond");
    let mut buf = vec![0u8; 4096];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf))
        .await
        .expect("in time")
        .expect("recv");
    assert_eq!(from, server_addr);
    let got = Message::parse(Bytes::copy_from_slice(&buf[..n])).expect("response");
    assert_eq!(got.status(), Some(StatusCode::OK));
    let via: Via<'_> = got.header().expect("via").expect("valid");
    assert_eq!(
        via.rport(),
        Some(Some(rx.source.port())),
        "the response carries the stamped Via"
    );
}

#[tokio::test]
async fn tcp_response_and_ack_reuse_the_request_connection() {
    let mut a = Transports::bind(Config::loopback()).await.expect("bind a");
    let mut b = Transports::bind(Config::loopback()).await.expect("bind b");
    let b_addr = b.local_addr(Transport::Tcp).expect("tcp");
    let invite = msg::invite("tcp-reuse@example.com", "a");
    a.send(Transport::Tcp, b_addr, invite.to_bytes())
        .await
        .expect("send");
    let rx = next(&mut b).await;
    assert_eq!(rx.transport, Transport::Tcp);
    // B answers to the source: that is A's connection, not a new one.
    let busy = msg::reply(&rx.message, StatusCode::BUSY_HERE, "b");
    b.send(Transport::Tcp, rx.source, busy.to_bytes())
        .await
        .expect("respond");
    let resp = next(&mut a).await;
    assert_eq!(resp.message.status(), Some(StatusCode::BUSY_HERE));
    // A's ACK to B's listener goes over the same connection.
    let ack = Bytes::from(
        String::from_utf8_lossy(&invite.to_bytes())
            .replacen("INVITE sip:", "ACK sip:", 1)
            .replace("1 INVITE", "1 ACK"),
    );
    a.send(Transport::Tcp, b_addr, ack).await.expect("ack");
    let ack_rx = next(&mut b).await;
    assert_eq!(ack_rx.message.method(), Some(&sip_core::Method::Ack));
    assert_eq!(
        ack_rx.source, rx.source,
        "same connection (same source port)"
    );
    assert_eq!(a.connection_count(), 1);
    assert_eq!(b.connection_count(), 1);
}

#[tokio::test]
async fn a_2000_byte_request_goes_over_tcp() {
    // RFC 3261 §18.1.1: above 1300 bytes (MTU unknown) UDP becomes TCP.
    assert_eq!(transport_for(Transport::Udp, 2000), Transport::Tcp);
    assert_eq!(transport_for(Transport::Udp, 1000), Transport::Udp);
    assert_eq!(transport_for(Transport::Tls, 5000), Transport::Tls);
    let a = Transports::bind(Config::loopback()).await.expect("bind a");
    let mut b = Transports::bind(Config::loopback()).await.expect("bind b");
    let mut big = msg::options("big@example.com", "a");
    big.push_header("X-Padding", "p".repeat(1800));
    let bytes = big.to_bytes();
    assert!(bytes.len() > 2000);
    let chosen = transport_for(Transport::Udp, bytes.len());
    a.send(chosen, b.local_addr(chosen).expect("addr"), bytes.clone())
        .await
        .expect("send");
    let rx = next(&mut b).await;
    assert_eq!(rx.transport, Transport::Tcp);
    assert_eq!(
        rx.message
            .fields_by_name("X-Padding")
            .next()
            .map(|f| f.value.len()),
        Some(1800)
    );
}

#[tokio::test]
async fn garbage_closes_only_its_own_connection_and_keepalives_are_answered() {
    let mut b = Transports::bind(Config::loopback()).await.expect("bind");
    let addr = b.local_addr(Transport::Tcp).expect("tcp");
    let mut bad = TcpStream::connect(addr).await.expect("connect bad");
    let mut good = TcpStream::connect(addr).await.expect("connect good");
    // RFC 5626 §3.5.1: a CRLF CRLF ping is answered with a CRLF pong.
    good.write_all(b"\r\n\r\n").await.expect("ping");
    let mut pong = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), good.read_exact(&mut pong))
        .await
        .expect("pong in time")
        .expect("pong");
    assert_eq!(&pong, b"\r\n");
    // A message without Content-Length cannot be framed on a stream: close.
    bad.write_all(b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\ngarbage")
        .await
        .expect("write");
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), bad.read(&mut buf))
        .await
        .expect("closed in time")
        .unwrap_or(0);
    assert_eq!(n, 0, "the garbage connection is closed");
    // The other connection still works.
    good.write_all(&msg::options("still-good@example.com", "a").to_bytes())
        .await
        .expect("write good");
    let rx = next(&mut b).await;
    assert_eq!(rx.message.call_id(), Some("still-good@example.com"));
}

#[tokio::test]
async fn a_thousand_connections_from_one_peer_are_capped() {
    let mut config = Config::loopback();
    config.max_connections_per_ip = 50;
    let b = Transports::bind(config).await.expect("bind");
    let addr = b.local_addr(Transport::Tcp).expect("tcp");
    let mut streams = Vec::new();
    for _ in 0..1000 {
        if let Ok(s) = TcpStream::connect(addr).await {
            streams.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        b.connection_count() <= 50,
        "capped at 50, got {}",
        b.connection_count()
    );
    // The refused ones are closed by the server: reading gives EOF.
    let mut closed = 0;
    for s in streams.iter_mut().skip(900) {
        let mut buf = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 100, "connections beyond the cap are closed");
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let mut config = Config::loopback();
    config.idle_timeout = Duration::from_millis(200);
    let b = Transports::bind(config).await.expect("bind");
    let mut s = TcpStream::connect(b.local_addr(Transport::Tcp).expect("tcp"))
        .await
        .expect("connect");
    let mut buf = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("closed in time")
        .unwrap_or(0);
    assert_eq!(n, 0);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(b.connection_count(), 0);
}

#[tokio::test]
async fn an_announced_alias_reuses_the_connection() {
    // RFC 5923: `alias` in the Via asks the receiver to send its own requests
    // for the sent-by address over this connection.
    let mut a = Transports::bind(Config::loopback()).await.expect("a");
    let mut b = Transports::bind(Config::loopback()).await.expect("b");
    let mut req = msg::options("alias@example.com", "a");
    req.set_header(
        "Via",
        "SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKalias;alias",
    );
    a.send(
        Transport::Tcp,
        b.local_addr(Transport::Tcp).expect("tcp"),
        req.to_bytes(),
    )
    .await
    .expect("send");
    let _ = next(&mut b).await;
    // Nothing listens on 5999: only the alias can carry this request to A.
    let back = msg::options("alias-back@example.com", "b");
    b.send(
        Transport::Tcp,
        "127.0.0.1:5999".parse().expect("addr"),
        back.to_bytes(),
    )
    .await
    .expect("send via alias");
    let rx = next(&mut a).await;
    assert_eq!(rx.message.call_id(), Some("alias-back@example.com"));
    assert_eq!(b.connection_count(), 1);
}

#[tokio::test]
async fn ipv6_udp_and_tcp() {
    let v6: std::net::SocketAddr = "[::1]:0".parse().expect("addr");
    let config = Config {
        udp: vec![v6],
        tcp: vec![v6],
        ..Config::loopback()
    };
    let mut a = Transports::bind(config.clone())
        .await
        .expect("bind a on ::1");
    let mut b = Transports::bind(config).await.expect("bind b on ::1");
    for transport in [Transport::Udp, Transport::Tcp] {
        let dest = b.local_addr(transport).expect("addr");
        assert!(dest.is_ipv6());
        let mut req = msg::options(&format!("v6-{transport:?}@example.com"), "a");
        req.set_header(
            "Via",
            format!(
                "SIP/2.0/{} [::1]:5060;branch=z9hG4bKv6{transport:?};rport",
                transport.as_str()
            ),
        );
        a.send(transport, dest, req.to_bytes()).await.expect("send");
        let rx = next(&mut b).await;
        assert!(rx.source.is_ipv6());
        let via: Via<'_> = rx.message.header().expect("via").expect("valid");
        assert_eq!(via.rport(), Some(Some(rx.source.port())));
        reply_ok(&b, &rx).await;
        let resp = next(&mut a).await;
        assert_eq!(resp.message.status(), Some(StatusCode::OK));
    }
}

#[tokio::test]
async fn keepalive_ping_gets_a_pong() {
    // RFC 5626 §3.5.1: the client pings with CRLF CRLF, the server answers CRLF.
    let a = Transports::bind(Config::loopback()).await.expect("a");
    let mut b = Transports::bind(Config::loopback()).await.expect("b");
    let dest = b.local_addr(Transport::Tcp).expect("tcp");
    a.send(
        Transport::Tcp,
        dest,
        msg::options("ka@example.com", "a").to_bytes(),
    )
    .await
    .expect("open");
    let _ = next(&mut b).await;
    assert_eq!(a.last_pong(Transport::Tcp, dest), None);
    let before = std::time::Instant::now();
    a.ping(Transport::Tcp, dest).await.expect("ping");
    let mut waited = 0;
    while a.last_pong(Transport::Tcp, dest).is_none() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert!(
        a.last_pong(Transport::Tcp, dest)
            .is_some_and(|t| t >= before),
        "pong recorded"
    );
    assert!(
        a.ping(Transport::Tcp, "127.0.0.1:9".parse().expect("addr"))
            .await
            .is_err(),
        "no connection, no ping"
    );
}

#[tokio::test]
async fn messages_are_queued_by_call_id() {
    let a = Transports::bind(Config::loopback()).await.expect("a");
    let mut b = Transports::bind(Config {
        inbound_queues: 3,
        ..Config::loopback()
    })
    .await
    .expect("b");
    let dest = b.local_addr(Transport::Udp).expect("udp");
    let mut queues = b.take_inbound();
    assert_eq!(queues.len(), 3);
    for n in 0..12 {
        let call_id = format!("call-{n}@example.com");
        let req = msg::options(&call_id, "a");
        a.send(Transport::Udp, dest, req.to_bytes())
            .await
            .expect("send");
        let queue = &mut queues[sip_transport::queue_of(&call_id, 3)];
        let got = tokio::time::timeout(Duration::from_secs(5), queue.recv())
            .await
            .expect("in time")
            .expect("open");
        assert_eq!(got.message.call_id(), Some(call_id.as_str()));
    }
}
