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
