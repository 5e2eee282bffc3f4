//! Two TransportLayers on loopback: transactions end to end over real sockets.

use std::time::Duration;

use sip_core::Message;
use sip_core::StatusCode;
use sip_test::msg;
use sip_transport::{Config, Transport, TransportLayer};
use transaction_core::{Event, Target, TransactionId};

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

/// The server's next event, which must be a request.
async fn request(server: &mut TransportLayer) -> (TransactionId, Message) {
    match event(server).await {
        Event::Request { id, request, .. } => (id, request),
        other => panic!("expected a request, got {other:?}"),
    }
}

/// Answers `request` (server transaction `sid`) with `code`.
async fn answer(server: &TransportLayer, sid: TransactionId, request: &Message, code: StatusCode) {
    server
        .send_response(sid, msg::reply(request, code, "s"))
        .await
        .expect("respond");
}

/// The client's next event, which must be a response.
async fn response(client: &mut TransportLayer) -> (TransactionId, Message) {
    match event(client).await {
        Event::Response { id, response } => (id, response),
        other => panic!("expected a response, got {other:?}"),
    }
}

/// Where `server` listens on `transport`.
fn at(server: &TransportLayer, transport: Transport) -> Target {
    Target {
        transport,
        addr: server.local_addr(transport).expect("listening"),
    }
}

#[tokio::test]
async fn options_over_udp() {
    let (mut client, mut server) = pair().await;
    let target = at(&server, Transport::Udp);
    let id = client
        .send_request(msg::options("stack-udp@example.com", "a"), target)
        .await
        .expect("send");
    let (sid, request) = request(&mut server).await;
    answer(&server, sid, &request, StatusCode::OK).await;
    let (rid, response) = response(&mut client).await;
    assert_eq!(rid, id);
    assert_eq!(response.status(), Some(StatusCode::OK));
}

#[tokio::test]
async fn invite_rejected_over_tcp_acks_on_the_same_connection() {
    let (mut client, mut server) = pair().await;
    let target = at(&server, Transport::Tcp);
    let id = client
        .send_request(msg::invite("stack-tcp@example.com", "a"), target)
        .await
        .expect("send");
    let (sid, request) = request(&mut server).await;
    answer(&server, sid, &request, StatusCode::BUSY_HERE).await;
    let (rid, response) = response(&mut client).await;
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
    let (_, request) = request(&mut server).await;
    let via: sip_core::header::Via<'_> = request.header().expect("via").expect("valid");
    assert_eq!(
        via.transport, "TCP",
        "the top Via says TCP after the switch"
    );
}

#[tokio::test]
async fn failover_on_transport_error_keeps_the_transaction_id() {
    let (mut client, mut server) = pair().await;
    let dead_port = sip_test::net::closed_tcp_port();
    let targets = vec![
        Target {
            transport: Transport::Tcp,
            addr: ([127, 0, 0, 1], dead_port).into(),
        },
        at(&server, Transport::Tcp),
    ];
    let id = client
        .send_request_to(msg::options("fo-te@example.com", "a"), targets)
        .await
        .expect("send");
    let (sid, request) = request(&mut server).await;
    let via: sip_core::header::Via<'_> = request.header().expect("via").expect("valid");
    assert!(
        via.branch().is_some_and(|b| b.ends_with(".1")),
        "a new branch for the new target"
    );
    answer(&server, sid, &request, StatusCode::OK).await;
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
        at(&server, Transport::Udp),
    ];
    let started = std::time::Instant::now();
    let id = client
        .send_request_to(msg::options("fo-to@example.com", "a"), targets)
        .await
        .expect("send");
    let (sid, request) = request(&mut server).await;
    assert!(
        started.elapsed() >= Duration::from_millis(640),
        "retried after Timer F (64·T1)"
    );
    answer(&server, sid, &request, StatusCode::OK).await;
    let (rid, _) = response(&mut client).await;
    assert_eq!(rid, id);
    drop(silent);
}

#[tokio::test]
async fn requests_ask_for_rport_and_learn_their_reflexive_address() {
    // RFC 3581 on the client side: ask for rport, read received/rport back.
    let (mut client, mut server) = pair().await;
    let target = at(&server, Transport::Udp);
    let mut req = msg::options("rport-client@example.com", "a");
    req.set_header("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnorport1");
    client.send_request(req, target).await.expect("send");
    let (sid, request) = request(&mut server).await;
    let via: sip_core::header::Via<'_> = request.header().expect("via").expect("valid");
    assert!(
        via.rport().flatten().is_some(),
        "the client asked for rport and the server filled it in"
    );
    answer(&server, sid, &request, StatusCode::OK).await;
    let (_, response) = response(&mut client).await;
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
            let (sid, request) = request(&mut server).await;
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
    let (rid, response) = response(&mut client).await;
    assert_eq!(rid, id);
    assert_eq!(response.status(), Some(StatusCode::OK));
    server.join().expect("server thread");
}
