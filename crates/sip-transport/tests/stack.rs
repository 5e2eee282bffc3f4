//! Two TransportLayers on loopback: transactions end to end over real sockets.

use std::time::Duration;

use sip_core::StatusCode;
use sip_test::msg;
use sip_transport::{Config, Transport, TransportLayer};
use transaction_core::{Event, Target};

async fn event(l: &mut TransportLayer) -> Event {
    tokio::time::timeout(Duration::from_secs(5), l.next_event())
        .await
        .expect("event in time")
        .expect("running")
}

async fn pair() -> (TransportLayer, TransportLayer) {
    let timers = transaction_core::Config::default();
    (
        TransportLayer::start(Config::loopback(), timers)
            .await
            .expect("client"),
        TransportLayer::start(Config::loopback(), timers)
            .await
            .expect("server"),
    )
}

#[tokio::test]
async fn options_over_udp() {
    let (mut client, mut server) = pair().await;
    let target = Target {
        transport: Transport::Udp,
        addr: server.local_addr(Transport::Udp).expect("udp"),
    };
    let id = client
        .send_request(msg::options("stack-udp@example.com", "a"), target)
        .await
        .expect("send");
    let Event::Request {
        id: sid, request, ..
    } = event(&mut server).await
    else {
        panic!("expected a request")
    };
    server
        .send_response(sid, msg::reply(&request, StatusCode::OK, "s"))
        .await
        .expect("respond");
    match event(&mut client).await {
        Event::Response { id: rid, response } => {
            assert_eq!(rid, id);
            assert_eq!(response.status(), Some(StatusCode::OK));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn invite_rejected_over_tcp_acks_on_the_same_connection() {
    let (mut client, mut server) = pair().await;
    let target = Target {
        transport: Transport::Tcp,
        addr: server.local_addr(Transport::Tcp).expect("tcp"),
    };
    let id = client
        .send_request(msg::invite("stack-tcp@example.com", "a"), target)
        .await
        .expect("send");
    let Event::Request {
        id: sid, request, ..
    } = event(&mut server).await
    else {
        panic!("expected INVITE")
    };
    server
        .send_response(sid, msg::reply(&request, StatusCode::BUSY_HERE, "s"))
        .await
        .expect("486");
    let Event::Response { id: rid, response } = event(&mut client).await else {
        panic!("expected 486")
    };
    assert_eq!((rid, response.status()), (id, Some(StatusCode::BUSY_HERE)));
    // Client: Completed with Timer D = 0 over TCP → terminated at once.
    assert!(matches!(event(&mut client).await, Event::Terminated { id: t } if t == id));
    // Server: the transaction-built ACK arrived → Confirmed, Timer I = 0 → terminated (no Timer H).
    assert!(matches!(event(&mut server).await, Event::Terminated { id: t } if t == sid));
}

#[tokio::test]
async fn an_oversized_udp_request_travels_over_tcp() {
    let (client, mut server) = pair().await;
    // Asked for UDP, but over 1300 bytes: the layer sends it over TCP to the
    // same address (here the server's TCP listener).
    let target = Target {
        transport: Transport::Udp,
        addr: server.local_addr(Transport::Tcp).expect("tcp"),
    };
    let mut big = msg::options("stack-big@example.com", "a");
    big.push_header("X-Padding", "p".repeat(2000));
    client.send_request(big, target).await.expect("send");
    let Event::Request { request, .. } = event(&mut server).await else {
        panic!("expected a request")
    };
    let via: sip_core::header::Via<'_> = request.header().expect("via").expect("valid");
    assert_eq!(
        via.transport, "TCP",
        "the top Via says TCP after the switch"
    );
}

#[tokio::test]
async fn failover_on_transport_error_keeps_the_transaction_id() {
    let (mut client, mut server) = pair().await;
    let dead_port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let targets = vec![
        Target {
            transport: Transport::Tcp,
            addr: ([127, 0, 0, 1], dead_port).into(),
        },
        Target {
            transport: Transport::Tcp,
            addr: server.local_addr(Transport::Tcp).expect("tcp"),
        },
    ];
    let id = client
        .send_request_to(msg::options("fo-te@example.com", "a"), targets)
        .await
        .expect("send");
    let Event::Request {
        id: sid, request, ..
    } = event(&mut server).await
    else {
        panic!("expected the retry")
    };
    let via: sip_core::header::Via<'_> = request.header().expect("via").expect("valid");
    assert!(
        via.branch().is_some_and(|b| b.ends_with(".1")),
        "a new branch for the new target"
    );
    server
        .send_response(sid, msg::reply(&request, StatusCode::OK, "s"))
        .await
        .expect("respond");
    match event(&mut client).await {
        Event::Response { id: rid, response } => {
            assert_eq!(rid, id, "reported under the first id");
            assert_eq!(response.status(), Some(StatusCode::OK));
        }
        other => panic!("the TU sees no error from the dead target, got {other:?}"),
    }
}

#[tokio::test]
async fn failover_on_timeout() {
    let timers = transaction_core::Config {
        t1: Duration::from_millis(10),
        ..transaction_core::Config::default()
    };
    let mut client = TransportLayer::start(Config::loopback(), timers)
        .await
        .expect("client");
    let mut server = TransportLayer::start(Config::loopback(), timers)
        .await
        .expect("server");
    // A UDP socket that never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("silent");
    let targets = vec![
        Target {
            transport: Transport::Udp,
            addr: silent.local_addr().expect("addr"),
        },
        Target {
            transport: Transport::Udp,
            addr: server.local_addr(Transport::Udp).expect("udp"),
        },
    ];
    let started = std::time::Instant::now();
    let id = client
        .send_request_to(msg::options("fo-to@example.com", "a"), targets)
        .await
        .expect("send");
    let Event::Request {
        id: sid, request, ..
    } = event(&mut server).await
    else {
        panic!("expected the retry")
    };
    assert!(
        started.elapsed() >= Duration::from_millis(640),
        "retried after Timer F (64·T1)"
    );
    server
        .send_response(sid, msg::reply(&request, StatusCode::OK, "s"))
        .await
        .expect("respond");
    let Event::Response { id: rid, .. } = event(&mut client).await else {
        panic!("expected the 200, not a timeout")
    };
    assert_eq!(rid, id);
    drop(silent);
}

#[tokio::test]
async fn requests_ask_for_rport_and_learn_their_reflexive_address() {
    // RFC 3581 on the client side: ask for rport, read received/rport back.
    let (mut client, mut server) = pair().await;
    let target = Target {
        transport: Transport::Udp,
        addr: server.local_addr(Transport::Udp).expect("udp"),
    };
    let mut req = msg::options("rport-client@example.com", "a");
    req.set_header("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnorport1");
    client.send_request(req, target).await.expect("send");
    let Event::Request {
        id: sid, request, ..
    } = event(&mut server).await
    else {
        panic!("expected a request")
    };
    let via: sip_core::header::Via<'_> = request.header().expect("via").expect("valid");
    assert!(
        via.rport().flatten().is_some(),
        "the client asked for rport and the server filled it in"
    );
    server
        .send_response(sid, msg::reply(&request, StatusCode::OK, "s"))
        .await
        .expect("respond");
    let Event::Response { response, .. } = event(&mut client).await else {
        panic!("expected the 200")
    };
    let seen =
        sip_transport::reflexive_address(&response).expect("received and rport in the response");
    assert_eq!(
        seen,
        client.local_addr(Transport::Udp).expect("udp"),
        "the server saw our real address"
    );
}

/// `respond` only queues the response; `flush` is what lets a server whose
/// runtime ends right after answering still get its last response out.
#[tokio::test]
async fn a_flushed_fire_and_forget_response_survives_runtime_shutdown() {
    let timers = transaction_core::Config::default();
    let mut client = TransportLayer::start(Config::loopback(), timers)
        .await
        .expect("client");
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut server = TransportLayer::start(Config::loopback(), timers)
                .await
                .expect("server");
            addr_tx
                .send(server.local_addr(Transport::Udp).expect("udp"))
                .expect("addr");
            let Event::Request {
                id: sid, request, ..
            } = event(&mut server).await
            else {
                panic!("expected a request")
            };
            let handle = server.handle();
            handle
                .respond(sid, msg::reply(&request, StatusCode::OK, "s"))
                .await;
            handle.flush().await;
        });
        // The runtime, and with it the transport task, ends here.
    });
    let target = Target {
        transport: Transport::Udp,
        addr: addr_rx.recv().expect("server address"),
    };
    let id = client
        .send_request(msg::options("stack-flush@example.com", "a"), target)
        .await
        .expect("send");
    match event(&mut client).await {
        Event::Response { id: rid, response } => {
            assert_eq!(rid, id);
            assert_eq!(response.status(), Some(StatusCode::OK));
        }
        other => panic!("unexpected {other:?}"),
    }
    server.join().expect("server thread");
}
