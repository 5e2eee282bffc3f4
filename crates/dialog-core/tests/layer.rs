//! The dialog layer end to end: dialog layers talking over the simulated
//! network in virtual time (RFC 3261 §12–§15, RFC 3262, RFC 4028).

mod common;

use std::time::Duration;

use common::{ALICE, BOB, CAROL, FORK, World, is_method, is_status};
use dialog_core::{DialogEvent, DialogId, EndReason, Event};
use sip_core::{Method, StatusCode};
use sip_test::net::Conditions;
use transaction_core::TransactionId;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn alice_bob(conditions: Conditions, seed: u64) -> World {
    World::new(conditions, seed, &[("alice", ALICE), ("bob", BOB)])
}

/// Runs a call from alice to bob until confirmed; returns both dialog ids.
fn establish(w: &mut World) -> (DialogId, DialogId) {
    w.invite("alice", "bob", BOB);
    w.run_for(secs(2.0));
    let a = w.node("alice").confirmed();
    let b = w.node("bob").confirmed();
    assert_eq!((a.len(), b.len()), (1, 1), "one confirmed dialog each");
    (a[0].clone(), b[0].clone())
}

#[test]
fn call_completes_over_30_percent_loss() {
    for seed in 0..25 {
        let mut w = alice_bob(Conditions::hostile(), seed);
        let invite = w.invite("alice", "bob", BOB);
        w.run_for(secs(40.0));
        let alice = w.node("alice");
        assert_eq!(
            alice.finals(invite),
            vec![StatusCode::OK],
            "seed {seed}: one 200 reported"
        );
        let dialogs = alice.confirmed();
        assert_eq!(dialogs.len(), 1, "seed {seed}");
        let d = dialogs[0].clone();
        let bob = w.node("bob");
        assert_eq!(
            bob.count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
            1,
            "seed {seed}: ACK reached bob once"
        );
        assert!(bob.ended().is_empty(), "seed {seed}: {:?}", bob.ended());
        // The mirror image: the same dialog seen from each side.
        let b = bob.confirmed()[0].clone();
        assert_eq!(
            (b.call_id.as_str(), b.local_tag.as_str()),
            (d.call_id.as_str(), d.remote_tag.as_str())
        );

        let now = w.now;
        let bye = w.node("alice").layer.bye(now, &d).expect("BYE");
        w.settle();
        w.run_for(secs(40.0));
        let alice = w.node("alice");
        assert_eq!(alice.finals(bye), vec![StatusCode::OK], "seed {seed}");
        assert_eq!(alice.ended().last().map(|e| e.2), Some(EndReason::LocalBye));
        assert_eq!(alice.layer.dialog_count(), 0);
        let bob = w.node("bob");
        assert_eq!(
            bob.ended().last().map(|e| e.2),
            Some(EndReason::RemoteBye),
            "seed {seed}"
        );
        assert_eq!(bob.layer.dialog_count(), 0);
    }
}

#[test]
fn forked_invite_with_two_200s_keeps_one_dialog_and_byes_the_other() {
    let mut w = World::new(
        Conditions::perfect(),
        7,
        &[("alice", ALICE), ("bob", BOB), ("carol", CAROL)],
    );
    w.node("carol").tu.answer = Some((200, secs(0.3)));
    w.invite("alice", "bob", FORK);
    w.run_for(secs(40.0));
    let alice = w.node("alice");
    // Two early dialogs (one per 180), bob's confirmed first, carol's ended.
    assert_eq!(
        alice.count(|e| matches!(e, Event::Dialog(DialogEvent::Created { .. }))),
        2
    );
    let confirmed = alice.confirmed();
    assert_eq!(confirmed.len(), 1, "{:?}", alice.events);
    assert_eq!(alice.layer.dialog_count(), 1);
    let ended = alice.ended();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, EndReason::ForkNotChosen);
    assert_ne!(ended[0].1, confirmed[0]);
    // Both forks got their ACK; only carol got a BYE.
    assert_eq!(
        w.node("bob")
            .count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
        1
    );
    assert_eq!(
        w.node("carol")
            .count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
        1
    );
    assert!(w.node("bob").ended().is_empty());
    assert_eq!(
        w.node("carol")
            .ended()
            .iter()
            .map(|e| e.2)
            .collect::<Vec<_>>(),
        vec![EndReason::RemoteBye]
    );
    assert_eq!(
        w.node("alice")
            .sent_times(|m| is_method(m, Method::Bye))
            .len(),
        1
    );
}

/// A fork whose first word is a 2xx arriving after another fork's 2xx:
/// the client knows no dialog for its tag, makes one from the INVITE it
/// kept, ACKs it and ends it with BYE; the chosen call is untouched.
#[test]
fn a_late_2xx_from_a_silent_fork_is_acked_and_ended() {
    let mut w = World::new(
        Conditions::perfect(),
        8,
        &[("alice", ALICE), ("bob", BOB), ("carol", CAROL)],
    );
    w.node("carol").tu.provisional = None;
    w.node("carol").tu.answer = Some((200, secs(0.5)));
    w.invite("alice", "bob", FORK);
    w.run_for(secs(40.0));
    let alice = w.node("alice");
    // The fork is made (confirmed by its 2xx) only to be ended at once.
    let first = alice.confirmed()[0].clone();
    assert_eq!(alice.layer.dialog_count(), 1, "bob's call stays up");
    let ended = alice.ended();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, EndReason::ForkNotChosen);
    assert_ne!(ended[0].1, first, "not bob's");
    assert_eq!(
        alice.sent_times(|m| is_method(m, Method::Bye)).len(),
        1,
        "one BYE, to carol"
    );
    let carol = w.node("carol");
    assert_eq!(
        carol.count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
        1
    );
    assert_eq!(
        carol.ended().iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![EndReason::RemoteBye]
    );
    assert!(w.node("bob").ended().is_empty());
}

#[test]
fn glare_on_reinvite_resolves_with_the_section_14_1_delays() {
    let mut w = alice_bob(Conditions::perfect(), 3);
    let (a, b) = establish(&mut w);
    let t = w.elapsed();
    let ra = w.in_dialog("alice", &a, Method::Invite);
    let rb = w.in_dialog("bob", &b, Method::Invite);
    w.run_for(secs(20.0));
    for (name, first, owner) in [("alice", ra, true), ("bob", rb, false)] {
        let node = w.node(name);
        assert_eq!(
            node.finals(first),
            vec![StatusCode::REQUEST_PENDING],
            "{name}"
        );
        let (at, retry) = node
            .events
            .iter()
            .find_map(|(at, e)| match e {
                Event::Retrying { previous, id } if *previous == first => Some((*at, *id)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name} retried"));
        // 491 arrives 10 ms after the crossing INVITEs reach each side.
        let delay = at - t - secs(0.02);
        let range = if owner {
            secs(2.1)..=secs(4.0)
        } else {
            Duration::ZERO..=secs(2.0)
        };
        assert!(range.contains(&delay), "{name} retried after {delay:?}");
        assert_eq!(
            node.finals(retry),
            vec![StatusCode::OK],
            "{name}'s retry succeeds"
        );
        assert_eq!(node.layer.dialog_count(), 1);
    }
    // Each side ACKed the other's accepted re-INVITE.
    assert_eq!(
        w.node("alice")
            .count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
        1
    );
    assert_eq!(
        w.node("bob")
            .count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
        2
    );
}

#[test]
fn prack_flow_over_loss() {
    for seed in 0..10 {
        let mut w = alice_bob(Conditions::hostile(), seed);
        w.node("bob").tu.provisional = Some((183, true));
        w.node("bob").tu.answer = Some((200, secs(3.0)));
        let invite = w.invite("alice", "bob", BOB);
        w.run_for(secs(40.0));
        let alice = w.node("alice");
        let p183 = alice
            .count(|e| matches!(e, Event::Response { response, .. } if is_status(response, 183)));
        assert_eq!(p183, 1, "seed {seed}: the reliable 183 is reported once");
        assert_eq!(alice.finals(invite), vec![StatusCode::OK], "seed {seed}");
        assert!(!alice.sent_times(|m| is_method(m, Method::Prack)).is_empty());
        let bob = w.node("bob");
        // bob's 183 carried RSeq and Require: 100rel; it was PRACKed (else
        // bob would have given up with NoPrack).
        assert!(bob.sent.iter().any(|(_, m)| is_status(m, 183)
            && m.raw_header(sip_core::header::HeaderName::RSeq) == Some(b"1")));
        assert!(bob.ended().is_empty(), "seed {seed}: {:?}", bob.ended());
        assert_eq!(
            bob.count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
            1
        );
    }
}

#[test]
fn unprackd_reliable_provisional_is_retransmitted_then_the_invite_fails() {
    let mut w = alice_bob(Conditions::perfect(), 1);
    w.node("bob").tu.provisional = Some((180, true));
    w.node("bob").tu.answer = None;
    w.drop = Box::new(|_, m| is_method(m, Method::Prack));
    let invite = w.invite("alice", "bob", BOB);
    w.run_for(secs(40.0));
    let bob = w.node("bob");
    let times: Vec<f64> = bob
        .sent_times(|m| is_status(m, 180))
        .iter()
        .map(|t| t.as_secs_f64())
        .collect();
    // RFC 3262 §3: T1, doubling, for 64·T1 (the INVITE reached bob at 10 ms).
    let expected = [0.01, 0.51, 1.51, 3.51, 7.51, 15.51, 31.51];
    assert_eq!(times.len(), expected.len(), "{times:?}");
    for (got, want) in times.iter().zip(expected) {
        assert!((got - want).abs() < 1e-6, "{times:?}");
    }
    assert_eq!(
        bob.ended().iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![EndReason::NoPrack]
    );
    assert_eq!(
        w.node("alice").finals(invite),
        vec![StatusCode::SERVER_INTERNAL_ERROR]
    );
}

#[test]
fn unacked_2xx_is_retransmitted_then_the_dialog_is_ended_with_bye() {
    let mut w = alice_bob(Conditions::perfect(), 2);
    w.node("bob").tu.answer = Some((200, Duration::ZERO));
    w.drop = Box::new(|_, m| is_method(m, Method::Ack));
    w.invite("alice", "bob", BOB);
    w.run_for(secs(40.0));
    let bob = w.node("bob");
    let times: Vec<f64> = bob
        .sent_times(|m| is_status(m, 200))
        .iter()
        .map(|t| t.as_secs_f64())
        .collect();
    // §13.3.1.4: T1 doubling to T2 (4 s) until 64·T1.
    let expected = [
        0.01, 0.51, 1.51, 3.51, 7.51, 11.51, 15.51, 19.51, 23.51, 27.51, 31.51,
    ];
    assert_eq!(times, expected.to_vec());
    let ended = bob.ended();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].2, EndReason::NoAck);
    assert!(
        (ended[0].0.as_secs_f64() - 32.01).abs() < 1e-6,
        "{:?}",
        ended[0].0
    );
    assert_eq!(
        bob.sent_times(|m| is_method(m, Method::Bye)),
        vec![ended[0].0]
    );
    assert_eq!(
        w.node("alice")
            .ended()
            .iter()
            .map(|e| e.2)
            .collect::<Vec<_>>(),
        vec![EndReason::RemoteBye]
    );
}

/// Alice INVITEs bob, who never answers, and cancels at once; after 40 s
/// her INVITE has its 487 and bob was told of the CANCEL once.
fn cancelled_call(conditions: Conditions, seed: u64, bob_events: bool) -> World {
    let mut w = alice_bob(conditions, seed);
    w.node("bob").tu.answer = None;
    w.node("bob").layer.set_dialog_events(bob_events);
    let invite = w.invite("alice", "bob", BOB);
    // Cancelled at once: the CANCEL waits for a provisional response (§9.1).
    let now = w.now;
    w.node("alice").layer.cancel(now, invite).expect("cancel");
    w.run_for(secs(40.0));
    assert_eq!(
        w.node("alice").finals(invite),
        vec![StatusCode::REQUEST_TERMINATED]
    );
    assert_eq!(
        w.node("bob")
            .count(|e| matches!(e, Event::Dialog(DialogEvent::Cancelled { .. }))),
        1
    );
    w
}

#[test]
fn cancel_before_the_answer_gives_487() {
    let mut w = cancelled_call(Conditions::hostile(), 5, true);
    let bob = w.node("bob");
    assert_eq!(
        bob.ended().iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![EndReason::Cancelled]
    );
    let alice = w.node("alice");
    assert_eq!(
        alice.ended().iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![EndReason::Rejected(StatusCode::REQUEST_TERMINATED)]
    );
    assert_eq!(
        alice.layer.dialog_count() + w.node("bob").layer.dialog_count(),
        0
    );
}

#[test]
fn cancel_racing_the_200_leaves_both_sides_agreeing() {
    for offset_ms in [0u64, 5, 10, 15, 20, 30] {
        let mut w = alice_bob(Conditions::perfect(), offset_ms);
        w.node("bob").tu.answer = Some((200, secs(1.0)));
        let invite = w.invite("alice", "bob", BOB);
        w.run_for(secs(1.0) + Duration::from_millis(offset_ms));
        let now = w.now;
        let _ = w.node("alice").layer.cancel(now, invite);
        w.run_for(secs(5.0));
        let finals = w.node("alice").finals(invite);
        assert_eq!(finals.len(), 1, "{offset_ms} ms: {finals:?}");
        if finals[0] == StatusCode::OK {
            // The 200 won: the call is up on both sides; hang up.
            let d = w.node("alice").confirmed()[0].clone();
            assert_eq!(
                w.node("bob")
                    .count(|e| matches!(e, Event::Dialog(DialogEvent::Ack { .. }))),
                1
            );
            let now = w.now;
            w.node("alice").layer.bye(now, &d).expect("BYE");
            w.run_for(secs(5.0));
        } else {
            assert_eq!(finals[0], StatusCode::REQUEST_TERMINATED);
            assert_eq!(
                w.node("bob")
                    .count(|e| matches!(e, Event::Dialog(DialogEvent::Cancelled { .. }))),
                1
            );
        }
        assert_eq!(w.node("alice").layer.dialog_count(), 0, "{offset_ms} ms");
        assert_eq!(w.node("bob").layer.dialog_count(), 0, "{offset_ms} ms");
    }
}

#[test]
fn request_in_an_unknown_dialog_gets_481() {
    let mut w = alice_bob(Conditions::perfect(), 4);
    let now = w.now;
    let target = common::udp(BOB);
    let alice = w.node("alice");
    let info = alice
        .layer
        .new_request(
            Method::Info,
            "sip:bob@192.0.2.20:5060",
            target,
            "<sip:alice@example.com>",
            "<sip:bob@example.com>;tag=never-given",
        )
        .build()
        .expect("INFO");
    let id = alice.layer.send_request(now, info, target).expect("send");
    w.run_for(secs(5.0));
    assert_eq!(
        w.node("alice").finals(id),
        vec![StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST]
    );
    assert_eq!(
        w.node("bob").count(|e| matches!(e, Event::Request { .. })),
        0
    );
}

#[test]
fn info_and_options_inside_a_dialog_reach_the_peer() {
    let mut w = alice_bob(Conditions::perfect(), 6);
    let (a, b) = establish(&mut w);
    let info = w.in_dialog("alice", &a, Method::Info);
    let options = w.in_dialog("bob", &b, Method::Options);
    w.run_for(secs(2.0));
    assert_eq!(w.node("alice").finals(info), vec![StatusCode::OK]);
    assert_eq!(w.node("bob").finals(options), vec![StatusCode::OK]);
    let got = |name: &str, m: Method| {
        w.nodes.iter().find(|n| n.name == name).map_or(0, |n| {
            n.count(|e| matches!(e, Event::Request { request, dialog: Some(_), .. } if request.method() == Some(&m)))
        })
    };
    assert_eq!(got("bob", Method::Info), 1);
    assert_eq!(got("alice", Method::Options), 1);
}

#[test]
fn session_timer_refreshes_and_expires() {
    // RFC 4028: alice asks for 90 s; bob makes her the refresher.
    let mut w = World::with_config(
        Conditions::perfect(),
        8,
        &[("alice", ALICE), ("bob", BOB)],
        |c| {
            c.session_expires = Some(Duration::from_secs(90));
        },
    );
    let (_, b) = establish(&mut w);
    w.run_for(secs(200.0));
    let updates = w.node("alice").sent_times(|m| is_method(m, Method::Update));
    // A refresh every 45 s from the 200 at 0.12 s.
    let got: Vec<u64> = updates.iter().map(|t| t.as_secs()).collect();
    assert_eq!(got, vec![45, 90, 135, 180], "{updates:?}");
    assert_eq!(
        w.node("alice")
            .count(|e| matches!(e, Event::Dialog(DialogEvent::Refreshed { .. }))),
        4
    );
    assert!(w.node("bob").ended().is_empty());
    // alice goes silent: bob ends the session 60 s after the last refresh
    // (90 s minus min(32 s, 30 s)).
    let last = *updates.last().expect("refresh");
    w.drop = Box::new(|from, _| from == common::addr(ALICE));
    w.run_for(secs(120.0));
    let ended = w.node("bob").ended();
    assert_eq!(ended.len(), 1);
    assert_eq!((&ended[0].1, ended[0].2), (&b, EndReason::SessionExpired));
    let after = ended[0].0 - last;
    assert!((after.as_secs_f64() - 60.0).abs() < 0.05, "{after:?}");
}

#[test]
fn session_interval_too_small_is_retried_with_min_se() {
    let mut w = World::with_config(
        Conditions::perfect(),
        9,
        &[("alice", ALICE), ("bob", BOB)],
        |c| {
            c.session_expires = Some(Duration::from_secs(90));
            if c.user == "bob" {
                c.min_se = Duration::from_secs(300);
            }
        },
    );
    let invite = w.invite("alice", "bob", BOB);
    w.run_for(secs(2.0));
    let alice = w.node("alice");
    let retry = alice
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::Retrying { previous, id } if *previous == invite => Some(*id),
            _ => None,
        })
        .expect("retried after 422");
    assert_eq!(
        alice.finals(invite),
        Vec::<StatusCode>::new(),
        "the 422 is handled"
    );
    assert_eq!(alice.finals(retry), vec![StatusCode::OK]);
    let ok = alice.events.iter().find_map(|(_, e)| match e {
        Event::Response { response, .. } if is_status(response, 200) => Some(response.clone()),
        _ => None,
    });
    let se = ok
        .expect("200")
        .raw_header(sip_core::header::HeaderName::SessionExpires)
        .map(|v| String::from_utf8_lossy(v).into_owned());
    assert_eq!(se.as_deref(), Some("300;refresher=uac"));
}

/// Sends a SUBSCRIBE (or REFER) from `from` to `to` outside any dialog.
fn subscribe(w: &mut World, from: &str, to: &str, via: &str, method: Method) -> TransactionId {
    let now = w.now;
    let target = common::udp(via);
    let uri = format!("sip:{to}@{via}");
    let node = w.node(from);
    let mut b = node.layer.new_request(
        method.clone(),
        &uri,
        target,
        &format!("<sip:{from}@example.com>"),
        &format!("<{uri}>"),
    );
    b = match method {
        Method::Refer => b.header("Refer-To", "<sip:carol@example.com>"),
        _ => b.header("Event", "presence").header("Expires", 600),
    };
    let request = b.build().expect("SUBSCRIBE");
    let id = node
        .layer
        .send_request(now, request, target)
        .expect("send SUBSCRIBE");
    w.settle();
    id
}

/// Sends a NOTIFY in `dialog` from `from` with the given state.
fn notify(w: &mut World, from: &str, dialog: &DialogId, state: &str) -> TransactionId {
    let now = w.now;
    let node = w.node(from);
    let request = node
        .layer
        .request(dialog, Method::Notify)
        .expect("in the dialog")
        .header("Event", "presence")
        .header("Subscription-State", state)
        .build()
        .expect("NOTIFY");
    let id = node.layer.send(now, request).expect("send NOTIFY");
    w.settle();
    id
}

fn notifies(w: &mut World, name: &str) -> Vec<Option<DialogId>> {
    w.node(name)
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Request {
                request, dialog, ..
            } if request.method() == Some(&Method::Notify) => Some(dialog.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn subscribe_and_notify_make_and_end_a_subscription_dialog() {
    let mut w = alice_bob(Conditions::perfect(), 11);
    let sub = subscribe(&mut w, "alice", "bob", BOB, Method::Subscribe);
    w.run_for(secs(1.0));
    assert_eq!(w.node("alice").finals(sub), vec![StatusCode::OK]);
    let a = w.node("alice").confirmed();
    let b = w.node("bob").confirmed();
    assert_eq!((a.len(), b.len()), (1, 1), "a subscription dialog each");
    assert_eq!(a[0].call_id, b[0].call_id);
    assert_eq!(
        (&a[0].local_tag, &a[0].remote_tag),
        (&b[0].remote_tag, &b[0].local_tag)
    );
    // The 2xx carried bob's Contact: the dialog's remote target.
    let ok = w
        .node("bob")
        .sent
        .iter()
        .find(|(_, m)| is_status(m, 200))
        .map(|(_, m)| m.clone())
        .expect("bob's 200");
    assert!(
        ok.raw_header(sip_core::header::HeaderName::Contact)
            .is_some()
    );
    let target = w
        .node("alice")
        .layer
        .dialog(&a[0])
        .map(|d| d.remote_target().to_owned());
    assert_eq!(target.as_deref(), Some(format!("sip:bob@{BOB}").as_str()));

    let active = notify(&mut w, "bob", &b[0], "active;expires=600");
    w.run_for(secs(1.0));
    assert_eq!(w.node("bob").finals(active), vec![StatusCode::OK]);
    assert_eq!(notifies(&mut w, "alice"), vec![Some(a[0].clone())]);
    assert_eq!(w.node("alice").layer.dialog_count(), 1);

    let last = notify(&mut w, "bob", &b[0], "terminated;reason=timeout");
    w.run_for(secs(1.0));
    assert_eq!(
        w.node("bob").finals(last),
        vec![StatusCode::OK],
        "answered after the end"
    );
    for (name, d) in [("alice", &a[0]), ("bob", &b[0])] {
        let ended = w.node(name).ended();
        assert_eq!(ended.len(), 1, "{name}");
        assert_eq!(
            (&ended[0].1, ended[0].2),
            (d, EndReason::SubscriptionTerminated)
        );
        assert_eq!(w.node(name).layer.dialog_count(), 0, "{name}");
    }
}

#[test]
fn a_notify_overtaking_the_2xx_creates_the_dialog() {
    let mut w = alice_bob(Conditions::perfect(), 12);
    // Bob's first 200 to the SUBSCRIBE is lost; alice's retransmission
    // brings it again 500 ms later, after bob's NOTIFY.
    let dropped = std::cell::Cell::new(false);
    w.drop = Box::new(move |from, m| {
        let first = from == common::addr(BOB)
            && is_status(m, 200)
            && m.header::<sip_core::header::CSeq>()
                .and_then(Result::ok)
                .is_some_and(|c| c.method == Method::Subscribe)
            && !dropped.get();
        if first {
            dropped.set(true);
        }
        first
    });
    let sub = subscribe(&mut w, "alice", "bob", BOB, Method::Subscribe);
    w.run_for(secs(0.1));
    let b = w.node("bob").confirmed();
    assert_eq!(b.len(), 1, "bob's dialog exists once he answered");
    assert!(w.node("alice").confirmed().is_empty(), "the 200 was lost");
    let first = notify(&mut w, "bob", &b[0], "active;expires=600");
    w.run_for(secs(0.1));
    let a = w.node("alice").confirmed();
    assert_eq!(a.len(), 1, "the NOTIFY made alice's dialog");
    assert_eq!(w.node("bob").finals(first), vec![StatusCode::OK]);
    assert_eq!(notifies(&mut w, "alice"), vec![Some(a[0].clone())]);
    w.run_for(secs(2.0));
    assert_eq!(
        w.node("alice").finals(sub),
        vec![StatusCode::OK],
        "the 200 came later"
    );
    assert_eq!(w.node("alice").confirmed(), a, "and found the same dialog");
    // Alice's refresh continues the SUBSCRIBE's CSeq, so bob takes it.
    let refresh = w.in_dialog("alice", &a[0], Method::Subscribe);
    w.run_for(secs(1.0));
    assert_eq!(w.node("alice").finals(refresh), vec![StatusCode::OK]);
}

#[test]
fn refer_inside_a_call_ends_its_subscription_not_the_call() {
    let mut w = alice_bob(Conditions::perfect(), 13);
    let (a, b) = establish(&mut w);
    let now = w.now;
    let alice = w.node("alice");
    let refer = alice
        .layer
        .request(&a, Method::Refer)
        .expect("in the call")
        .header("Refer-To", "<sip:carol@example.com>")
        .build()
        .expect("REFER");
    let id = alice.layer.send(now, refer).expect("send REFER");
    w.run_for(secs(1.0));
    assert_eq!(w.node("alice").finals(id), vec![StatusCode::OK]);
    let done = notify(&mut w, "bob", &b, "terminated;reason=noresource");
    w.run_for(secs(1.0));
    assert_eq!(w.node("bob").finals(done), vec![StatusCode::OK]);
    assert!(w.node("alice").ended().is_empty() && w.node("bob").ended().is_empty());
    let bye = w.in_dialog("alice", &a, Method::Bye);
    w.run_for(secs(1.0));
    assert_eq!(w.node("alice").finals(bye), vec![StatusCode::OK]);
    assert_eq!(w.node("bob").ended()[0].2, EndReason::RemoteBye);
}

#[test]
fn a_refer_outside_dialogs_makes_an_implicit_subscription() {
    let mut w = alice_bob(Conditions::perfect(), 14);
    let refer = subscribe(&mut w, "alice", "bob", BOB, Method::Refer);
    w.run_for(secs(1.0));
    assert_eq!(w.node("alice").finals(refer), vec![StatusCode::OK]);
    let b = w.node("bob").confirmed();
    assert_eq!(b.len(), 1);
    notify(&mut w, "bob", &b[0], "terminated;reason=noresource");
    w.run_for(secs(1.0));
    assert_eq!(
        w.node("alice").ended()[0].2,
        EndReason::SubscriptionTerminated
    );
    assert_eq!(w.node("bob").layer.dialog_count(), 0);
}

#[test]
fn a_glare_retry_overtaken_by_bye_is_reported_as_not_retried() {
    let mut w = alice_bob(Conditions::perfect(), 15);
    let (a, b) = establish(&mut w);
    let ra = w.in_dialog("alice", &a, Method::Invite);
    let rb = w.in_dialog("bob", &b, Method::Invite);
    // Both got 491 and wait (alice 2.1-4 s, bob up to 2 s); bob hangs up
    // at once, before either retry is due.
    w.run_for(secs(0.05));
    assert_eq!(
        w.node("alice").finals(ra),
        vec![StatusCode::REQUEST_PENDING]
    );
    w.in_dialog("bob", &b, Method::Bye);
    w.run_for(secs(10.0));
    for (name, first) in [("alice", ra), ("bob", rb)] {
        let node = w.node(name);
        let abandoned =
            node.count(|e| matches!(e, Event::NotRetried { previous } if *previous == first));
        let retried =
            node.count(|e| matches!(e, Event::Retrying { previous, .. } if *previous == first));
        assert_eq!((abandoned, retried), (1, 0), "{name}");
        assert_eq!(node.layer.dialog_count(), 0, "{name}");
    }
}

#[test]
fn dialog_events_switched_off_are_not_queued_but_calls_and_cancel_still_work() {
    let mut w = alice_bob(Conditions::perfect(), 3);
    w.node("alice").layer.set_dialog_events(false);
    let invite = w.invite("alice", "bob", BOB);
    w.run_for(secs(2.0));
    let alice = w.node("alice");
    assert_eq!(alice.finals(invite), vec![StatusCode::OK]);
    // The dialog still reaches the TU with the 2xx it came from.
    let dialog = alice
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::Response {
                id,
                dialog: Some(d),
                response,
            } if *id == invite && response.status() == Some(StatusCode::OK) => Some(d.clone()),
            _ => None,
        })
        .expect("the 200 names its dialog");
    let now = w.now;
    let bye = w.node("alice").layer.bye(now, &dialog).expect("BYE");
    w.run_for(secs(2.0));
    let alice = w.node("alice");
    assert_eq!(alice.finals(bye), vec![StatusCode::OK]);
    assert_eq!(alice.layer.dialog_count(), 0);
    assert_eq!(alice.count(|e| matches!(e, Event::Dialog(_))), 0);
    // Bob's events are on: created, ACKed, ended by the BYE.
    let bob = w.node("bob");
    assert_eq!(bob.confirmed().len(), 1);
    assert_eq!(
        bob.ended().iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![EndReason::RemoteBye]
    );

    // Cancelled is always reported: the TU must learn its INVITE is gone.
    let mut w = cancelled_call(Conditions::perfect(), 4, false);
    let bob = w.node("bob");
    assert_eq!(
        bob.count(|e| matches!(e, Event::Dialog(d) if !matches!(d, DialogEvent::Cancelled { .. }))),
        0
    );
}
