//! Two Endpoints complete calls (INVITE/180/200/ACK/BYE) through a UDP
//! relay that drops 30% of the datagrams each way, in virtual time: tokio's
//! clock is paused and jumps to the next timer whenever every task waits,
//! so the retransmission timers (T1 doubling up to T2, the 2xx resent until
//! the ACK) run their real course in milliseconds of wall time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dialog_core::{
    ClientEvent, DialogEvent, EndReason, Endpoint, EndpointConfig, EndpointEvent, Incoming,
};
use sip_core::{Method, StatusCode};
use tokio::net::UdpSocket;
use transaction_core::{Target, Transport};

/// Datagrams the relay forwarded and dropped.
#[derive(Default)]
struct Counts {
    forwarded: AtomicUsize,
    dropped: AtomicUsize,
    /// Of all datagrams, those from bob's side (responses to alice's
    /// requests, and bob's own).
    from_bob: AtomicUsize,
}

/// A relay between alice and bob: what reaches `toward_bob` goes to bob
/// from `toward_alice`, and back; each datagram is dropped with
/// probability `loss` (seeded, so a run is repeatable).
fn relay(
    toward_bob: UdpSocket,
    toward_alice: UdpSocket,
    alice: SocketAddr,
    bob: SocketAddr,
    loss: f64,
    seed: u64,
    counts: Arc<Counts>,
) {
    tokio::spawn(async move {
        let mut rng = seed.max(1);
        let mut drop = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            ((rng >> 11) as f64 / (1u64 << 53) as f64) < loss
        };
        let (mut a, mut b) = (vec![0u8; 65536], vec![0u8; 65536]);
        loop {
            let (out, to, len) = tokio::select! {
                r = toward_bob.recv_from(&mut a) => (&toward_alice, bob, r.map(|(n, _)| n)),
                r = toward_alice.recv_from(&mut b) => (&toward_bob, alice, r.map(|(n, _)| n)),
            };
            let Ok(len) = len else { continue };
            let payload = if to == bob {
                &a[..len]
            } else {
                counts.from_bob.fetch_add(1, Ordering::Relaxed);
                &b[..len]
            };
            if drop() {
                counts.dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                counts.forwarded.fetch_add(1, Ordering::Relaxed);
                let _ = out.send_to(payload, to).await;
            }
        }
    });
}

/// Bob's application: rings, answers every INVITE 200 and every other
/// request 200; reports dialog events on a channel.
fn serve(mut incoming: Incoming) -> tokio::sync::mpsc::UnboundedReceiver<DialogEvent> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(e) = incoming.next().await {
            match e {
                EndpointEvent::Request(r) => {
                    if r.request.method() == Some(&Method::Invite) && r.dialog.is_none() {
                        r.reply(StatusCode::RINGING).await.expect("180");
                    }
                    r.reply(StatusCode::OK).await.expect("200");
                }
                EndpointEvent::Dialog(d) => {
                    let _ = tx.send(d);
                }
            }
        }
    });
    rx
}

async fn start(name: &str, advertised: SocketAddr) -> (Endpoint, Incoming) {
    let mut config = EndpointConfig::loopback();
    config.transport.tcp.clear();
    config.dialog.user = name.to_owned();
    config.shards = 2;
    config.advertised = vec![(Transport::Udp, advertised)];
    Endpoint::start(config).await.expect("start")
}

#[tokio::test(start_paused = true)]
async fn calls_complete_over_30_percent_loss_in_virtual_time() {
    for seed in [0x005E_ED0F_1055, 7, 0xC0FFEE, 0xDEAD_BEEF_F00D] {
        calls_through_a_lossy_relay(seed).await;
    }
}

async fn calls_through_a_lossy_relay(seed: u64) {
    let toward_bob = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let toward_alice = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let (via_bob, via_alice) = (
        toward_bob.local_addr().expect("addr"),
        toward_alice.local_addr().expect("addr"),
    );
    // Each side advertises the relay socket the other side sees it at, so
    // responses and in-dialog requests also cross the relay.
    let (alice, _alice_events) = start("alice", via_alice).await;
    let (bob, bob_events) = start("bob", via_bob).await;
    let counts = Arc::new(Counts::default());
    relay(
        toward_bob,
        toward_alice,
        alice.local_addr(Transport::Udp).expect("alice"),
        bob.local_addr(Transport::Udp).expect("bob"),
        0.3,
        seed,
        counts.clone(),
    );
    let mut bob_dialogs = serve(bob_events);
    let target = Target {
        transport: Transport::Udp,
        addr: via_bob,
    };
    let began = tokio::time::Instant::now();
    let wall = std::time::Instant::now();
    const CALLS: usize = 20;
    for call in 0..CALLS {
        let uri = format!("sip:bob@{via_bob}");
        let invite = alice
            .new_request(
                Method::Invite,
                &uri,
                target,
                "<sip:alice@example.com>",
                &format!("<{uri}>"),
            )
            .build()
            .expect("INVITE");
        let mut tx = alice.send(invite, target).await.expect("send");
        let dialog = loop {
            match tx.next().await.expect("a response before Timer B") {
                ClientEvent::Response { response, dialog } => {
                    let code = response.status().expect("status");
                    if code.is_provisional() {
                        continue;
                    }
                    assert_eq!(code, StatusCode::OK, "call {call}");
                    break dialog.expect("dialog");
                }
                other => panic!("call {call}: {other:?}"),
            }
        };
        // Bob's 2xx is resent until an ACK gets through.
        loop {
            match bob_dialogs.recv().await.expect("bob's events") {
                DialogEvent::Ack { .. } => break,
                DialogEvent::Created { .. } | DialogEvent::Confirmed { .. } => {}
                other => panic!("call {call}: bob saw {other:?} before the ACK"),
            }
        }
        let (bye, _) = alice
            .bye(&dialog)
            .await
            .expect("BYE")
            .final_response()
            .await
            .expect("BYE answered");
        assert_eq!(bye.status(), Some(StatusCode::OK), "call {call}");
        match bob_dialogs.recv().await.expect("bob's events") {
            DialogEvent::Terminated {
                reason: EndReason::RemoteBye,
                ..
            } => {}
            other => panic!("call {call}: bob saw {other:?}, not the BYE"),
        }
    }
    assert_eq!(alice.dialog_count().await, 0);
    assert_eq!(bob.dialog_count().await, 0);
    let (forwarded, dropped) = (
        counts.forwarded.load(Ordering::Relaxed),
        counts.dropped.load(Ordering::Relaxed),
    );
    let virtual_time = began.elapsed();
    println!(
        "seed {seed:#x}, {CALLS} calls: {forwarded} datagrams forwarded, {dropped} dropped, {:.1} s of virtual time in {:.2} s",
        virtual_time.as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
    // Six messages a call without loss; the losses cost retransmissions,
    // and those took the timers' time, not the wall clock's.
    assert!(
        dropped * 10 >= (forwarded + dropped) * 2,
        "about 30% dropped"
    );
    assert!(forwarded + dropped > CALLS * 6);
    // Advertising the relay's addresses made the responses and in-dialog
    // requests cross it too: 180, 200, 200 per call at least.
    assert!(counts.from_bob.load(Ordering::Relaxed) >= CALLS * 3);
    assert!(virtual_time > Duration::from_secs(5), "{virtual_time:?}");
    alice.shutdown().await;
    bob.shutdown().await;
}
