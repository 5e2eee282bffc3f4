//! Endpoints on loopback: calls, in-dialog requests, sharding under
//! concurrent calls, and graceful shutdown.

use std::time::Duration;

use dialog_core::{
    ClientEvent, DialogEvent, DialogId, EndReason, Endpoint, EndpointConfig, EndpointEvent, Error,
    Incoming,
};
use sip_core::{Method, StatusCode};
use transaction_core::{Target, Transport};

async fn endpoint(name: &str, transport: Transport) -> (Endpoint, Incoming) {
    let mut config = EndpointConfig::loopback();
    config.dialog.user = name.to_owned();
    config.shards = 2;
    if transport == Transport::Ws {
        config.transport.ws = vec![([127, 0, 0, 1], 0).into()];
    }
    Endpoint::start(config).await.expect("start")
}

/// A UAS application: rings, answers INVITEs 200, and answers every other
/// request 200, until its event stream ends.
fn serve(mut incoming: Incoming) -> tokio::task::JoinHandle<Vec<EndpointEvent>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(e) = incoming.next().await {
            if let EndpointEvent::Request(r) = &e {
                if r.request.method() == Some(&Method::Invite) && r.dialog.is_none() {
                    r.reply(StatusCode::RINGING).await.expect("180");
                }
                r.answer(StatusCode::OK, |b| b.header("X-App", "served"))
                    .await
                    .expect("200");
            }
            seen.push(e);
        }
        seen
    })
}

/// A request from alice to bob outside any dialog.
fn from_alice(alice: &Endpoint, method: Method, bob: Target) -> sip_core::builder::Builder {
    let uri = format!("sip:bob@{}", bob.addr);
    alice.new_request(
        method,
        &uri,
        bob,
        "<sip:alice@example.com>",
        &format!("<{uri}>"),
    )
}

/// Places a call; returns its dialog and how many 1xx arrived before the
/// 200 (a 180 lost in a UDP burst is never retransmitted).
async fn call(alice: &Endpoint, bob: Target) -> (DialogId, usize) {
    let invite = from_alice(alice, Method::Invite, bob)
        .build()
        .expect("INVITE");
    let mut tx = alice.send(invite, bob).await.expect("send");
    let mut provisional = 0;
    loop {
        match tx.next().await.expect("response") {
            ClientEvent::Response { response, dialog } => {
                let code = response.status().expect("status");
                if code.is_provisional() {
                    provisional += 1;
                    continue;
                }
                assert_eq!(code, StatusCode::OK);
                let app = response
                    .fields()
                    .find(|f| f.raw_name == "X-App")
                    .map(|f| f.value);
                assert_eq!(app, Some(&b"served"[..]));
                return (dialog.expect("dialog"), provisional);
            }
            other => panic!("{other:?}"),
        }
    }
}

async fn call_and_hang_up(transport: Transport) {
    let (alice, _alice_events) = endpoint("alice", transport).await;
    let (bob, bob_events) = endpoint("bob", transport).await;
    let served = serve(bob_events);
    let target = Target {
        transport,
        addr: bob.local_addr(transport).expect("bob's address"),
    };
    let (dialog, provisional) = call(&alice, target).await;
    assert_eq!(provisional, 1, "the 180 came first");
    let (info, _) = alice
        .send_in_dialog(&dialog, Method::Info, |b| {
            b.body("Signal=5\r\n", "application/dtmf-relay")
        })
        .await
        .expect("INFO")
        .final_response()
        .await
        .expect("INFO answered");
    assert_eq!(info.status(), Some(StatusCode::OK));
    let (bye, _) = alice
        .bye(&dialog)
        .await
        .expect("BYE")
        .final_response()
        .await
        .expect("BYE answered");
    assert_eq!(bye.status(), Some(StatusCode::OK));
    assert_eq!(alice.dialog_count().await, 0);
    bob.shutdown().await;
    let seen = served.await.expect("bob's app");
    let ack = seen
        .iter()
        .any(|e| matches!(e, EndpointEvent::Dialog(DialogEvent::Ack { .. })));
    let info = seen.iter().any(|e| matches!(e, EndpointEvent::Request(r) if r.request.method() == Some(&Method::Info) && r.dialog.is_some()));
    let ended = seen.iter().any(|e| {
        matches!(
            e,
            EndpointEvent::Dialog(DialogEvent::Terminated {
                reason: EndReason::RemoteBye,
                ..
            })
        )
    });
    assert!(
        ack && info && ended,
        "bob saw ACK {ack}, INFO {info}, BYE {ended}"
    );
    alice.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_over_udp() {
    call_and_hang_up(Transport::Udp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_over_tcp() {
    call_and_hang_up(Transport::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_over_websocket() {
    call_and_hang_up(Transport::Ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_across_shards() {
    let (alice, _alice_events) = endpoint("alice", Transport::Udp).await;
    let (bob, bob_events) = endpoint("bob", Transport::Udp).await;
    let served = serve(bob_events);
    let target = Target {
        transport: Transport::Udp,
        addr: bob.local_addr(Transport::Udp).expect("addr"),
    };
    let mut calls = Vec::new();
    for _ in 0..200 {
        let alice = alice.clone();
        calls.push(tokio::spawn(async move { call(&alice, target).await.0 }));
    }
    let mut dialogs = Vec::new();
    for c in calls {
        dialogs.push(c.await.expect("call"));
    }
    assert_eq!(alice.dialog_count().await, 200);
    assert_eq!(bob.dialog_count().await, 200);
    for d in &dialogs {
        let (bye, _) = alice
            .bye(d)
            .await
            .expect("BYE")
            .final_response()
            .await
            .expect("answered");
        assert_eq!(bye.status(), Some(StatusCode::OK));
    }
    assert_eq!(bob.dialog_count().await, 0);
    bob.shutdown().await;
    let seen = served.await.expect("app");
    let ended = seen
        .iter()
        .filter(|e| matches!(e, EndpointEvent::Dialog(DialogEvent::Terminated { .. })))
        .count();
    assert_eq!(ended, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_live_transactions_and_refuses_new_ones() {
    let (alice, _alice_events) = endpoint("alice", Transport::Udp).await;
    let (bob, mut bob_events) = endpoint("bob", Transport::Udp).await;
    let target = Target {
        transport: Transport::Udp,
        addr: bob.local_addr(Transport::Udp).expect("addr"),
    };
    let uri = format!("sip:bob@{}", target.addr);
    let options = |alice: &Endpoint| {
        alice
            .new_request(
                Method::Options,
                &uri,
                target,
                "<sip:alice@example.com>",
                "<sip:bob@example.com>",
            )
            .build()
            .expect("OPTIONS")
    };
    // An OPTIONS the application holds unanswered while shutdown starts.
    let mut held = alice.send(options(&alice), target).await.expect("send");
    let Some(EndpointEvent::Request(pending)) = bob_events.next().await else {
        panic!("bob got the OPTIONS");
    };
    let stopping = {
        let bob = bob.clone();
        tokio::spawn(async move { bob.shutdown().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A new request during the drain is refused with 503.
    let (refused, _) = alice
        .send(options(&alice), target)
        .await
        .expect("send")
        .final_response()
        .await
        .expect("answered");
    assert_eq!(refused.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the held request"
    );
    pending
        .reply(StatusCode::OK)
        .await
        .expect("answer the held one");
    let (ok, _) = held.final_response().await.expect("held answered");
    assert_eq!(ok.status(), Some(StatusCode::OK));
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("shutdown ends")
        .expect("task");
    // The event stream ends, and bob no longer listens.
    assert!(bob_events.next().await.is_none());
    let mut late = alice.send(options(&alice), target).await.expect("send");
    let _ = &mut late;
    let cancel = alice
        .new_request(
            Method::Invite,
            &uri,
            target,
            "<sip:a@example.com>",
            "<sip:b@example.com>",
        )
        .build()
        .expect("INVITE");
    let invite = alice.send(cancel, target).await.expect("send");
    invite
        .cancel()
        .await
        .expect("cancel before any response waits");
    drop(invite);
    let err = tokio::time::timeout(Duration::from_secs(1), late.final_response()).await;
    assert!(
        err.is_err() || matches!(err, Ok(Err(Error::Timeout))),
        "nobody answers now"
    );
    alice.shutdown().await;
}

/// A subscription between two Endpoints: SUBSCRIBE answered 202 makes a
/// dialog on both sides, the notifier's NOTIFYs reach the subscriber in
/// it, and the NOTIFY saying `terminated` ends it on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_over_udp() {
    let (alice, mut alice_in) = endpoint("alice", Transport::Udp).await;
    let (bob, mut bob_in) = endpoint("bob", Transport::Udp).await;
    let bob_at = Target {
        transport: Transport::Udp,
        addr: bob.local_addr(Transport::Udp).expect("addr"),
    };
    let subscribe = from_alice(&alice, Method::Subscribe, bob_at)
        .header("Event", "presence")
        .header("Expires", 600)
        .build()
        .expect("SUBSCRIBE");
    let mut tx = alice.send(subscribe, bob_at).await.expect("send");
    let wait = Duration::from_secs(5);
    // Bob's application accepts the subscription.
    let bob_dialog = loop {
        match tokio::time::timeout(wait, bob_in.next())
            .await
            .expect("bob")
        {
            Some(EndpointEvent::Request(r)) => {
                assert_eq!(r.request.method(), Some(&Method::Subscribe));
                r.reply(StatusCode::ACCEPTED).await.expect("202");
            }
            Some(EndpointEvent::Dialog(DialogEvent::Created { dialog, .. })) => break dialog,
            other => panic!("{other:?}"),
        }
    };
    let (accepted, alice_dialog) = tx.final_response().await.expect("202");
    assert_eq!(accepted.status(), Some(StatusCode::ACCEPTED));
    let alice_dialog = alice_dialog.expect("alice's dialog");
    for state in ["active;expires=600", "terminated;reason=noresource"] {
        let mut notify = bob
            .send_in_dialog(&bob_dialog, Method::Notify, move |b| {
                b.header("Event", "presence")
                    .header("Subscription-State", state)
            })
            .await
            .expect("NOTIFY");
        loop {
            match tokio::time::timeout(wait, alice_in.next())
                .await
                .expect("alice")
            {
                Some(EndpointEvent::Request(r)) => {
                    assert_eq!(r.request.method(), Some(&Method::Notify));
                    assert_eq!(r.dialog.as_ref(), Some(&alice_dialog));
                    r.reply(StatusCode::OK).await.expect("200");
                    break;
                }
                Some(EndpointEvent::Dialog(_)) => {}
                other => panic!("{other:?}"),
            }
        }
        let (ok, _) = notify.final_response().await.expect("NOTIFY answered");
        assert_eq!(ok.status(), Some(StatusCode::OK));
    }
    for (name, incoming, dialog) in [
        ("alice", &mut alice_in, &alice_dialog),
        ("bob", &mut bob_in, &bob_dialog),
    ] {
        let ended = loop {
            match tokio::time::timeout(wait, incoming.next())
                .await
                .expect(name)
            {
                Some(EndpointEvent::Dialog(DialogEvent::Terminated { dialog, reason })) => {
                    break (dialog, reason);
                }
                Some(_) => {}
                None => panic!("{name}: stream ended"),
            }
        };
        assert_eq!(
            ended,
            (dialog.clone(), EndReason::SubscriptionTerminated),
            "{name}"
        );
    }
    assert_eq!(
        (alice.dialog_count().await, bob.dialog_count().await),
        (0, 0)
    );
    alice.shutdown().await;
    bob.shutdown().await;
}

/// Answers OPTIONS itself, keeps MESSAGE to answer from a task of its own,
/// and passes every other request to the application.
struct Front;

impl dialog_core::Responder for Front {
    fn handle(&self, incoming: dialog_core::IncomingRequest) -> dialog_core::Handled {
        use dialog_core::Handled;
        match incoming.request.method() {
            Some(Method::Options) => {
                let response = sip_core::builder::response_to(
                    &incoming.request,
                    StatusCode::OK,
                    Some("front"),
                )
                .header("X-Front", "at once")
                .build()
                .expect("200");
                Handled::Respond(response)
            }
            Some(Method::Message) => {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    incoming
                        .answer(StatusCode::ACCEPTED, |b| b.header("X-Front", "later"))
                        .await
                        .expect("202");
                });
                Handled::Later
            }
            _ => Handled::Pass(incoming),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_answers_in_the_endpoint_or_passes_requests_on() {
    let (alice, _alice_events) = endpoint("alice", Transport::Udp).await;
    let mut config = EndpointConfig::loopback();
    config.shards = 2;
    let (bob, bob_events) = Endpoint::start_with(config, Some(std::sync::Arc::new(Front)))
        .await
        .expect("start");
    let app = serve(bob_events);
    let target = Target {
        transport: Transport::Udp,
        addr: bob.local_addr(Transport::Udp).expect("udp"),
    };
    for (method, code, mark) in [
        (Method::Options, StatusCode::OK, Some("at once")),
        (Method::Message, StatusCode::ACCEPTED, Some("later")),
        (Method::Info, StatusCode::OK, None),
        (Method::Options, StatusCode::OK, Some("at once")),
    ] {
        let request = from_alice(&alice, method.clone(), target)
            .build()
            .expect("request");
        let mut tx = alice.send(request, target).await.expect("send");
        let (response, _) = tx.final_response().await.expect("answer");
        assert_eq!(response.status(), Some(code), "{method}");
        let value = |name: &str| {
            response
                .fields_by_name(name)
                .next()
                .map(|f| String::from_utf8_lossy(f.value).into_owned())
        };
        assert_eq!(value("X-Front").as_deref(), mark, "{method}");
        let served = mark.is_none().then_some("served");
        assert_eq!(value("X-App").as_deref(), served, "{method}");
    }
    bob.shutdown().await;
    let seen = app.await.expect("app");
    // Only the INFO reached the application.
    let requests: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            EndpointEvent::Request(r) => r.request.method().cloned(),
            _ => None,
        })
        .collect();
    assert_eq!(requests, [Method::Info]);
    alice.shutdown().await;
}

/// Challenges every REGISTER statelessly, and every MESSAGE too but from a
/// task of its own; answers OPTIONS with state; counts the requests it sees.
struct Challenger(std::sync::atomic::AtomicUsize);

impl dialog_core::Responder for Challenger {
    fn handle(&self, incoming: dialog_core::IncomingRequest) -> dialog_core::Handled {
        use dialog_core::Handled;
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let code = match incoming.request.method() {
            Some(Method::Register | Method::Message) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        };
        // The same request gets the same tag: here, its Call-ID.
        let tag = incoming.request.call_id().unwrap_or("none").to_owned();
        let response = sip_core::builder::response_to(&incoming.request, code, Some(&tag))
            .build()
            .expect("response");
        match incoming.request.method() {
            Some(Method::Register) => Handled::RespondStateless(response),
            Some(Method::Message) => {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    incoming.respond_stateless(response).await.expect("401");
                });
                Handled::Later
            }
            _ => Handled::Respond(response),
        }
    }
}

#[tokio::test]
async fn a_stateless_answer_leaves_retransmissions_to_the_responder() {
    let challenger = std::sync::Arc::new(Challenger(Default::default()));
    let (bob, _events) = Endpoint::start_with(EndpointConfig::loopback(), Some(challenger.clone()))
        .await
        .expect("start");
    let bob_addr = bob.local_addr(Transport::Udp).expect("udp");
    let phone = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let me = phone.local_addr().expect("addr");
    let request = |method: &str, branch: &str| {
        format!(
            "{method} sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\n\
             To: <sip:alice@example.com>\r\nCall-ID: {branch}\r\nCSeq: 1 {method}\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let mut buf = vec![0u8; 4096];
    let mut exchange = async |text: &str| {
        phone
            .send_to(text.as_bytes(), bob_addr)
            .await
            .expect("send");
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), phone.recv_from(&mut buf))
            .await
            .expect("an answer")
            .expect("recv");
        let response =
            sip_core::Message::parse(bytes::Bytes::copy_from_slice(&buf[..n])).expect("parse");
        let tag = response
            .tag(sip_core::header::HeaderName::To)
            .map(str::to_owned);
        (response.status(), tag)
    };
    let seen = || challenger.0.load(std::sync::atomic::Ordering::SeqCst);
    // Each request is sent twice (the same branch: a retransmission). A
    // REGISTER answered statelessly at once, and a MESSAGE answered so
    // later from a task, reach the responder both times; an OPTIONS
    // answered with state is answered again by its transaction. Every
    // answer carries the same To tag both times.
    let cases = [
        ("REGISTER", "reg1", StatusCode::UNAUTHORIZED, 2),
        ("OPTIONS", "opt1", StatusCode::OK, 3),
        ("MESSAGE", "msg1", StatusCode::UNAUTHORIZED, 5),
    ];
    for (method, branch, code, seen_after) in cases {
        let text = request(method, branch);
        let first = exchange(&text).await;
        let again = exchange(&text).await;
        assert_eq!(first, (Some(code), Some(branch.to_owned())), "{method}");
        assert_eq!(again, first, "{method}");
        assert_eq!(seen(), seen_after, "{method}: requests the responder saw");
    }
    bob.shutdown().await;
}
