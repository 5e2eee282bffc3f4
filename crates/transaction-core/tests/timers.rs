//! Exact timer schedules in virtual time for every RFC 3261 §17 / RFC 6026
//! timer (A B D E F G H I J K L M and the 100 Trying delay), over an
//! unreliable (UDP) and a reliable (TCP) transport.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_core::{Message, StatusCode};
use sip_test::msg;
use transaction_core::{
    Config, Event, Inbound, Target, Timer, TransactionId, TransactionLayer, Transport,
};

const PEER: &str = "192.0.2.7:5060";

/// Drives a layer in virtual time and records what it does, in seconds.
struct Sim {
    layer: TransactionLayer,
    t0: Instant,
    now: Instant,
    sent: Vec<(f64, String)>,
    events: Vec<(f64, Event)>,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

impl Sim {
    fn new() -> Sim {
        let t0 = Instant::now();
        Sim {
            layer: TransactionLayer::new(Config::default()),
            t0,
            now: t0,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    fn at(&self, s: f64) -> Instant {
        self.t0 + Duration::from_secs_f64(s)
    }

    fn drain(&mut self) {
        let t = secs(self.now - self.t0);
        while let Some(tx) = self.layer.poll_transmit() {
            let line = String::from_utf8_lossy(&tx.payload)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            self.sent.push((t, line));
        }
        while let Some(e) = self.layer.poll_event() {
            self.events.push((t, e));
        }
    }

    /// Runs timers up to `s` seconds (inclusive).
    fn run_to(&mut self, s: f64) {
        let end = self.at(s);
        while let Some(due) = self.layer.poll_timeout() {
            if due > end {
                break;
            }
            self.now = due;
            self.layer.handle_timeout(due);
            self.drain();
        }
        self.now = end;
    }

    fn send_request(&mut self, request: Message, transport: Transport) -> TransactionId {
        let target = Target {
            transport,
            addr: PEER.parse().expect("addr"),
        };
        let id = self
            .layer
            .send_request(self.now, request, target)
            .expect("start");
        self.drain();
        id
    }

    fn receive(&mut self, message: Message, transport: Transport) {
        let source: SocketAddr = PEER.parse().expect("addr");
        self.layer.handle_message(
            self.now,
            Inbound {
                message,
                transport,
                source,
            },
        );
        self.drain();
    }

    fn respond(&mut self, id: TransactionId, response: Message) {
        self.layer
            .send_response(self.now, id, response)
            .expect("respond");
        self.drain();
    }

    fn times_of(&self, start_line_prefix: &str) -> Vec<f64> {
        self.sent
            .iter()
            .filter(|(_, l)| l.starts_with(start_line_prefix))
            .map(|(t, _)| *t)
            .collect()
    }

    fn timeout(&self) -> Option<(f64, Timer)> {
        self.events.iter().find_map(|(t, e)| match e {
            Event::Timeout { timer, .. } => Some((*t, *timer)),
            _ => None,
        })
    }

    fn terminated_at(&self) -> Option<f64> {
        self.events
            .iter()
            .find_map(|(t, e)| matches!(e, Event::Terminated { .. }).then_some(*t))
    }

    fn new_server_transaction(&self) -> TransactionId {
        self.events
            .iter()
            .find_map(|(_, e)| match e {
                Event::Request { id, .. } => Some(*id),
                _ => None,
            })
            .expect("a server transaction")
    }
}

fn reply(req: &Message, code: u16) -> Message {
    msg::reply(req, StatusCode(code), "totag1")
}

// ---- non-INVITE client (RFC 3261 §17.1.2.2, Figure 6) ----------------------

#[test]
fn timer_e_and_f_nict_udp_no_answer() {
    // §17.1.2.2: E starts at T1 and doubles up to T2; F fires at 64·T1.
    let mut s = Sim::new();
    s.send_request(msg::options("nict-1", "a"), Transport::Udp);
    s.run_to(40.0);
    assert_eq!(
        s.times_of("OPTIONS"),
        vec![0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(s.timeout(), Some((32.0, Timer::F)));
    assert_eq!(s.terminated_at(), Some(32.0));
}

#[test]
fn timer_e_runs_at_t2_after_a_provisional() {
    // §17.1.2.2 Proceeding: "Timer E fires ... reset with a value of T2".
    let mut s = Sim::new();
    let req = msg::options("nict-2", "a");
    s.send_request(req.clone(), Transport::Udp);
    s.run_to(1.0);
    s.receive(reply(&req, 100), Transport::Udp);
    s.run_to(40.0);
    assert_eq!(
        s.times_of("OPTIONS"),
        vec![0.0, 0.5, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5]
    );
    assert_eq!(s.timeout(), Some((32.0, Timer::F)));
}

#[test]
fn timer_f_nict_tcp_no_retransmission() {
    // §17.1.2.2: over a reliable transport Timer E is not set; F still fires.
    let mut s = Sim::new();
    s.send_request(msg::options("nict-3", "a"), Transport::Tcp);
    s.run_to(40.0);
    assert_eq!(s.times_of("OPTIONS"), vec![0.0]);
    assert_eq!(s.timeout(), Some((32.0, Timer::F)));
}

#[test]
fn timer_k_after_final_udp_and_tcp() {
    // §17.1.2.2: Completed waits T4 for response retransmissions (0 if reliable).
    for (transport, end) in [(Transport::Udp, 7.0), (Transport::Tcp, 2.0)] {
        let mut s = Sim::new();
        let req = msg::options("nict-4", "a");
        s.send_request(req.clone(), transport);
        s.run_to(2.0);
        s.receive(reply(&req, 200), transport);
        s.receive(reply(&req, 200), transport); // a retransmission is absorbed
        s.run_to(40.0);
        let responses = s
            .events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Response { .. }))
            .count();
        assert_eq!(
            responses, 1,
            "{transport:?}: the retransmitted 200 reaches the TU once"
        );
        assert_eq!(s.terminated_at(), Some(end), "{transport:?}");
        assert_eq!(s.timeout(), None);
    }
}

// ---- INVITE client (RFC 3261 §17.1.1.2, Figure 5; RFC 6026) ----------------

#[test]
fn timer_a_and_b_ict_udp_no_answer() {
    // §17.1.1.2: A starts at T1 and doubles without a cap; B fires at 64·T1.
    let mut s = Sim::new();
    s.send_request(msg::invite("ict-1", "a"), Transport::Udp);
    s.run_to(40.0);
    assert_eq!(
        s.times_of("INVITE"),
        vec![0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    );
    assert_eq!(s.timeout(), Some((32.0, Timer::B)));
    assert_eq!(s.terminated_at(), Some(32.0));
}

#[test]
fn timer_b_ict_tcp() {
    let mut s = Sim::new();
    s.send_request(msg::invite("ict-2", "a"), Transport::Tcp);
    s.run_to(40.0);
    assert_eq!(s.times_of("INVITE"), vec![0.0]);
    assert_eq!(s.timeout(), Some((32.0, Timer::B)));
}

#[test]
fn provisional_stops_a_and_b() {
    // §17.1.1.2: in Proceeding there are no retransmissions and no Timer B.
    let mut s = Sim::new();
    let req = msg::invite("ict-3", "a");
    s.send_request(req.clone(), Transport::Udp);
    s.run_to(0.7);
    s.receive(reply(&req, 180), Transport::Udp);
    s.run_to(100.0);
    assert_eq!(s.times_of("INVITE"), vec![0.0, 0.5]);
    assert_eq!(s.timeout(), None);
    assert_eq!(
        s.terminated_at(),
        None,
        "waits for the final response (Timer C is the proxy's)"
    );
}

#[test]
fn timer_d_and_ack_for_non_2xx() {
    // §17.1.1.2/§17.1.1.3: a 3xx-6xx gets an ACK (again on each retransmission),
    // Completed lasts Timer D = 32 s over UDP and 0 over TCP.
    for (transport, end) in [(Transport::Udp, 33.0), (Transport::Tcp, 1.0)] {
        let mut s = Sim::new();
        let req = msg::invite("ict-4", "a");
        s.send_request(req.clone(), transport);
        s.run_to(1.0);
        s.receive(reply(&req, 486), transport);
        if transport == Transport::Udp {
            s.run_to(2.0);
            s.receive(reply(&req, 486), transport);
        }
        s.run_to(50.0);
        let acks = s.times_of("ACK");
        assert_eq!(
            acks.len(),
            if transport == Transport::Udp { 2 } else { 1 },
            "{transport:?}"
        );
        assert_eq!(s.terminated_at(), Some(end), "{transport:?}");
    }
    // The ACK's headers follow §17.1.1.3.
    let mut s = Sim::new();
    let req = msg::invite("ict-5", "a");
    s.send_request(req.clone(), Transport::Udp);
    let resp = reply(&req, 603);
    s.layer.handle_message(
        s.now,
        Inbound {
            message: resp,
            transport: Transport::Udp,
            source: PEER.parse().expect("addr"),
        },
    );
    let ack = s.layer.poll_transmit().expect("ACK");
    let ack = Message::parse(ack.payload).expect("valid ACK");
    assert_eq!(ack.method(), Some(&sip_core::Method::Ack));
    assert_eq!(ack.request_uri_str(), req.request_uri_str());
    let to: sip_core::header::To<'_> = ack.header().expect("To").expect("valid");
    assert_eq!(to.tag(), Some("totag1"), "To comes from the response");
    let via: sip_core::header::Via<'_> = ack.header().expect("Via").expect("valid");
    let orig: sip_core::header::Via<'_> = req.header().expect("Via").expect("valid");
    assert_eq!(via.branch(), orig.branch(), "same branch as the INVITE");
    let cseq: sip_core::header::CSeq = ack.header().expect("CSeq").expect("valid");
    assert_eq!(cseq.method, sip_core::Method::Ack);
}

#[test]
fn timer_m_accepted_passes_2xx_retransmissions() {
    // RFC 6026 §8.4: Accepted lasts 64·T1; every 2xx goes to the TU.
    let mut s = Sim::new();
    let req = msg::invite("ict-6", "a");
    s.send_request(req.clone(), Transport::Udp);
    s.run_to(1.0);
    s.receive(reply(&req, 200), Transport::Udp);
    s.run_to(3.0);
    s.receive(reply(&req, 200), Transport::Udp);
    s.run_to(50.0);
    let ok = s
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Response { .. }))
        .count();
    assert_eq!(ok, 2);
    assert_eq!(
        s.times_of("ACK"),
        Vec::<f64>::new(),
        "the ACK for a 2xx is the TU's"
    );
    assert_eq!(s.terminated_at(), Some(33.0));
}

// ---- INVITE server (RFC 3261 §17.2.1, Figure 7; RFC 6026) ------------------

#[test]
fn hundred_trying_after_200ms_unless_tu_answers() {
    let mut s = Sim::new();
    s.receive(msg::invite("ist-1", "a"), Transport::Udp);
    s.run_to(1.0);
    assert_eq!(s.times_of("SIP/2.0 100"), vec![0.2]);
    let mut s = Sim::new();
    let inv = msg::invite("ist-2", "a");
    s.receive(inv.clone(), Transport::Udp);
    s.run_to(0.1);
    let id = s.new_server_transaction();
    s.respond(id, reply(&inv, 180));
    s.run_to(1.0);
    assert_eq!(s.times_of("SIP/2.0 100"), Vec::<f64>::new());
    // A retransmitted INVITE gets the last provisional again.
    s.receive(inv, Transport::Udp);
    assert_eq!(s.times_of("SIP/2.0 180"), vec![0.1, 1.0]);
}

#[test]
fn timer_g_and_h_no_ack_udp() {
    // §17.2.1: G starts at T1, doubles up to T2; H fires at 64·T1 without an ACK.
    let mut s = Sim::new();
    let inv = msg::invite("ist-3", "a");
    s.receive(inv.clone(), Transport::Udp);
    s.run_to(1.0);
    let id = s.new_server_transaction();
    s.respond(id, reply(&inv, 486));
    s.run_to(40.0);
    assert_eq!(
        s.times_of("SIP/2.0 486"),
        vec![1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
    );
    assert_eq!(s.timeout(), Some((33.0, Timer::H)));
    assert_eq!(s.terminated_at(), Some(33.0));
}

#[test]
fn timer_h_tcp_no_retransmission() {
    let mut s = Sim::new();
    let inv = msg::invite("ist-4", "a");
    s.receive(inv.clone(), Transport::Tcp);
    let id = s.new_server_transaction();
    s.respond(id, reply(&inv, 486));
    s.run_to(40.0);
    assert_eq!(s.times_of("SIP/2.0 486"), vec![0.0]);
    assert_eq!(s.timeout(), Some((32.0, Timer::H)));
}

fn ack_for(inv: &Message, to_tag: &str) -> Message {
    let text = String::from_utf8_lossy(&inv.to_bytes()).into_owned();
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if i == 0 {
            out.push_str(&line.replacen("INVITE", "ACK", 1));
        } else if line.starts_with("CSeq:") {
            out.push_str("CSeq: 1 ACK");
        } else if line.starts_with("To:") {
            out.push_str(&format!("{line};tag={to_tag}"));
        } else if line.starts_with("Content-") {
            continue;
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    Message::parse(Bytes::from(out)).expect("ACK")
}

#[test]
fn timer_i_after_ack() {
    // §17.2.1: the ACK moves Completed to Confirmed; I = T4 (0 if reliable);
    // further ACKs are absorbed.
    for (transport, end) in [(Transport::Udp, 7.0), (Transport::Tcp, 2.0)] {
        let mut s = Sim::new();
        let inv = msg::invite("ist-5", "a");
        s.receive(inv.clone(), transport);
        let id = s.new_server_transaction();
        s.respond(id, reply(&inv, 486));
        s.run_to(2.0);
        s.receive(ack_for(&inv, "totag1"), transport);
        if transport == Transport::Udp {
            s.receive(ack_for(&inv, "totag1"), transport); // retransmitted ACK, absorbed in Confirmed
        }
        s.run_to(40.0);
        assert_eq!(s.timeout(), None, "{transport:?}");
        assert_eq!(s.terminated_at(), Some(end), "{transport:?}");
        assert!(
            !s.events.iter().any(|(_, e)| matches!(e, Event::Ack { .. })),
            "ACK for non-2xx stays in the transaction"
        );
        if transport == Transport::Udp {
            assert_eq!(
                s.times_of("SIP/2.0 486"),
                vec![0.0, 0.5, 1.5],
                "G stops at the ACK"
            );
        }
    }
}

#[test]
fn timer_l_accepted_and_ack_for_2xx_goes_up() {
    // RFC 6026 §7.1: a 2xx moves to Accepted for 64·T1; the 2xx's ACK (new
    // branch) matches no transaction and goes to the TU.
    let mut s = Sim::new();
    let inv = msg::invite("ist-6", "a");
    s.receive(inv.clone(), Transport::Udp);
    let id = s.new_server_transaction();
    s.respond(id, reply(&inv, 200));
    s.run_to(1.0);
    s.respond(id, reply(&inv, 200)); // the TU's own 2xx retransmission
    s.receive(inv.clone(), Transport::Udp); // INVITE retransmission: absorbed
    let mut ack = ack_for(&inv, "totag1");
    ack.set_header("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKack2xx");
    s.receive(ack, Transport::Udp);
    s.run_to(40.0);
    assert_eq!(s.times_of("SIP/2.0 200"), vec![0.0, 1.0]);
    assert!(s.events.iter().any(|(_, e)| matches!(e, Event::Ack { .. })));
    assert_eq!(s.terminated_at(), Some(32.0));
}

// ---- non-INVITE server (RFC 3261 §17.2.2, Figure 8) ------------------------

#[test]
fn timer_j_udp_and_tcp() {
    // §17.2.2: Completed lasts 64·T1 over UDP (0 over TCP), resending the
    // final response on each request retransmission.
    for (transport, end) in [(Transport::Udp, 33.0), (Transport::Tcp, 1.0)] {
        let mut s = Sim::new();
        let req = msg::options("nist-1", "a");
        s.receive(req.clone(), transport);
        s.run_to(1.0);
        let id = s.new_server_transaction();
        s.respond(id, reply(&req, 200));
        if transport == Transport::Udp {
            s.run_to(5.0);
            s.receive(req.clone(), transport);
        }
        s.run_to(40.0);
        let sent = s.times_of("SIP/2.0 200");
        assert_eq!(
            sent,
            if transport == Transport::Udp {
                vec![1.0, 5.0]
            } else {
                vec![1.0]
            },
            "{transport:?}"
        );
        assert_eq!(s.terminated_at(), Some(end), "{transport:?}");
    }
}

#[test]
fn nist_trying_absorbs_and_proceeding_resends() {
    let mut s = Sim::new();
    let req = msg::options("nist-2", "a");
    s.receive(req.clone(), Transport::Udp);
    s.receive(req.clone(), Transport::Udp); // Trying: absorbed, no second TU event
    assert_eq!(
        s.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Request { .. }))
            .count(),
        1
    );
    let id = s.new_server_transaction();
    s.respond(id, reply(&req, 100));
    s.receive(req.clone(), Transport::Udp); // Proceeding: provisional resent
    assert_eq!(s.times_of("SIP/2.0 100").len(), 2);
    assert!(s.layer.send_response(s.now, id, reply(&req, 200)).is_ok());
    assert!(
        s.layer.send_response(s.now, id, reply(&req, 200)).is_err(),
        "one final response only"
    );
}

#[test]
fn stateless_final_response_keeps_no_timer_j_state() {
    // RFC 3261 §8.2.7: a stateless answer ends the transaction at once; a
    // retransmitted request is a new transaction for the TU to answer again.
    let mut s = Sim::new();
    let req = msg::register("nist-3", "a", 1, 3600);
    s.receive(req.clone(), Transport::Udp);
    let first = s.new_server_transaction();
    s.layer
        .send_response_stateless(s.now, first, reply(&req, 401))
        .expect("stateless");
    s.drain();
    assert_eq!(s.times_of("SIP/2.0 401"), vec![0.0]);
    assert_eq!(s.terminated_at(), Some(0.0), "ends as the 401 leaves");
    assert!(s.layer.is_empty(), "no state is kept");
    assert_eq!(s.layer.poll_timeout(), None, "no Timer J");
    s.run_to(0.5);
    s.receive(req.clone(), Transport::Udp);
    let requests: Vec<TransactionId> = s
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Request { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(requests.len(), 2, "the retransmission reaches the TU");
    assert_ne!(requests[0], requests[1]);
    assert!(
        s.layer
            .send_response_stateless(s.now, first, reply(&req, 401))
            .is_err(),
        "the first transaction is gone"
    );
    s.layer
        .send_response_stateless(s.now, requests[1], reply(&req, 401))
        .expect("stateless");
    s.drain();
    assert_eq!(s.times_of("SIP/2.0 401"), vec![0.0, 0.5]);
    assert!(s.layer.is_empty());

    // After a provisional response the transaction is stateful: the final
    // response is kept for retransmissions as usual.
    let req = msg::register("nist-4", "a", 2, 3600);
    s.receive(req.clone(), Transport::Udp);
    let id = match s.events.last() {
        Some((_, Event::Request { id, .. })) => *id,
        other => panic!("expected a request, got {other:?}"),
    };
    s.respond(id, reply(&req, 100));
    s.layer
        .send_response_stateless(s.now, id, reply(&req, 401))
        .expect("answered");
    s.drain();
    s.receive(req.clone(), Transport::Udp);
    assert_eq!(s.times_of("SIP/2.0 401"), vec![0.0, 0.5, 0.5, 0.5]);
    assert_eq!(
        s.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Request { .. }))
            .count(),
        3,
        "the Completed transaction absorbed the retransmission"
    );
}

// ---- matching, CANCEL, transport errors -----------------------------------

#[test]
fn matching_cancel_and_strays() {
    let mut s = Sim::new();
    let inv = msg::invite("match-1", "a");
    s.receive(inv.clone(), Transport::Udp);
    let invite_tx = s.new_server_transaction();
    // CANCEL: same branch, CSeq method CANCEL (§9.1) → own transaction, linked to the INVITE (§9.2).
    let text = String::from_utf8_lossy(&inv.to_bytes())
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("1 INVITE", "1 CANCEL");
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .replace("Content-Type: application/sdp\r\n", "");
    let head = head
        .lines()
        .filter(|l| !l.starts_with("Content-Length"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let cancel = Message::parse(Bytes::from(format!("{head}\r\nContent-Length: 0\r\n\r\n")))
        .expect("CANCEL");
    s.receive(cancel, Transport::Udp);
    let linked = s.events.iter().find_map(|(_, e)| match e {
        Event::Request {
            cancels, request, ..
        } if request.method() == Some(&sip_core::Method::Cancel) => Some(*cancels),
        _ => None,
    });
    assert_eq!(linked, Some(Some(invite_tx)));
    // A response whose CSeq method differs from the transaction's is not its own (§17.1.3).
    let mut c = Sim::new();
    let req = msg::options("match-2", "a");
    c.send_request(req.clone(), Transport::Udp);
    let mut wrong = reply(&req, 200);
    wrong.set_header("CSeq", "1 INFO");
    c.receive(wrong, Transport::Udp);
    assert!(
        c.events
            .iter()
            .any(|(_, e)| matches!(e, Event::StrayResponse { .. }))
    );
    assert!(
        !c.events
            .iter()
            .any(|(_, e)| matches!(e, Event::Response { .. }))
    );
}

#[test]
fn transport_error_terminates() {
    // §17.1.4: a transport failure is reported to the TU and ends the transaction.
    let mut s = Sim::new();
    let id = s.send_request(msg::options("te-1", "a"), Transport::Tcp);
    s.layer.handle_transport_error(id);
    s.drain();
    assert!(matches!(s.events[0].1, Event::TransportError { .. }));
    assert!(matches!(s.events[1].1, Event::Terminated { .. }));
    assert!(s.layer.is_empty());
    assert_eq!(s.layer.poll_timeout(), None, "no timers left behind");
}

#[test]
fn rport_and_response_destination() {
    // RFC 3581 / §18.2.2: with rport the response goes to the source port;
    // without it to the source IP and the sent-by port.
    let mut s = Sim::new();
    let req = msg::options("dest-1", "a"); // its Via carries ;rport
    s.layer.handle_message(
        s.now,
        Inbound {
            message: req.clone(),
            transport: Transport::Udp,
            source: "198.51.100.9:40000".parse().expect("addr"),
        },
    );
    let id = match s.layer.poll_event() {
        Some(Event::Request { id, .. }) => id,
        other => panic!("{other:?}"),
    };
    s.layer
        .send_response(s.now, id, reply(&req, 200))
        .expect("respond");
    assert_eq!(
        s.layer.poll_transmit().expect("200").destination,
        "198.51.100.9:40000".parse().expect("addr")
    );
    let mut plain = msg::options("dest-2", "a");
    plain.set_header("Via", "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKnorport");
    s.layer.handle_message(
        s.now,
        Inbound {
            message: plain.clone(),
            transport: Transport::Udp,
            source: "198.51.100.9:40000".parse().expect("addr"),
        },
    );
    let id = loop {
        match s.layer.poll_event() {
            Some(Event::Request { id, .. }) => break id,
            Some(_) => continue,
            None => panic!("no request"),
        }
    };
    s.layer
        .send_response(s.now, id, reply(&plain, 200))
        .expect("respond");
    assert_eq!(
        s.layer.poll_transmit().expect("200").destination,
        "198.51.100.9:5070".parse().expect("addr")
    );
}

#[test]
fn timers_l_m_and_trying_over_tcp() {
    // RFC 6026: Accepted lasts 64·T1 over reliable transports too (L server, M client).
    let mut s = Sim::new();
    let inv = msg::invite("tcp-lm-1", "a");
    s.receive(inv.clone(), Transport::Tcp);
    s.run_to(0.5);
    assert_eq!(
        s.times_of("SIP/2.0 100"),
        vec![0.2],
        "100 Trying after 200 ms over TCP as well (§17.2.1)"
    );
    let id = s.new_server_transaction();
    s.respond(id, reply(&inv, 200));
    s.run_to(40.0);
    assert_eq!(s.times_of("SIP/2.0 200"), vec![0.5]);
    assert_eq!(s.terminated_at(), Some(32.5), "Timer L = 64·T1");

    let mut c = Sim::new();
    let req = msg::invite("tcp-lm-2", "a");
    c.send_request(req.clone(), Transport::Tcp);
    c.run_to(1.0);
    c.receive(reply(&req, 200), Transport::Tcp);
    c.run_to(40.0);
    assert_eq!(c.times_of("INVITE"), vec![0.0]);
    assert_eq!(c.terminated_at(), Some(33.0), "Timer M = 64·T1");
}
