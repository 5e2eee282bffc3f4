//! Client and server transaction layers talking over `sip-test`'s simulated
//! network with 30% loss, 10% duplication and 10% reordering. Every
//! transaction must end exactly as RFC 3261 §17 says: with its final
//! response, or by its timeout timer at exactly 64·T1; each request reaches
//! the TU once however often it is retransmitted or duplicated.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sip_core::{Message, StatusCode};
use sip_test::msg;
use sip_test::net::{Conditions, SimNet};
use transaction_core::{
    Config, Event, Inbound, Target, Timer, TransactionId, TransactionLayer, Transport,
};

const CLIENT: &str = "192.0.2.10:5060";
const SERVER: &str = "192.0.2.20:5060";

struct World {
    t0: Instant,
    net: SimNet,
    client: TransactionLayer,
    server: TransactionLayer,
    client_events: Vec<(Duration, Event)>,
    server_events: Vec<(Duration, Event)>,
    /// Final status the server TU answers with, by Call-ID.
    answers: HashMap<String, u16>,
    /// When the server TU sent its final response, by server transaction.
    answered_at: HashMap<TransactionId, Duration>,
}

impl World {
    /// For client transaction `id`: its timeout (when and which timer) and
    /// when it terminated, as the TU saw them.
    fn client_end(&self, id: &TransactionId) -> (Option<(Duration, Timer)>, Option<Duration>) {
        let timeout = self.client_events.iter().find_map(|(t, e)| match e {
            Event::Timeout { id: r, timer } if r == id => Some((*t, *timer)),
            _ => None,
        });
        let end = self
            .client_events
            .iter()
            .find_map(|(t, e)| matches!(e, Event::Terminated { id: r } if r == id).then_some(*t));
        (timeout, end)
    }

    fn new(seed: u64) -> World {
        World {
            t0: Instant::now(),
            net: SimNet::new(Conditions::hostile(), seed),
            client: TransactionLayer::new(Config::default()),
            server: TransactionLayer::new(Config::default()),
            client_events: Vec::new(),
            server_events: Vec::new(),
            answers: HashMap::new(),
            answered_at: HashMap::new(),
        }
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    fn pump(&mut self, now: Instant) {
        let rel = now - self.t0;
        loop {
            let mut progress = false;
            while let Some(t) = self.client.poll_transmit() {
                self.net
                    .send(now, Self::addr(CLIENT), t.destination, t.payload);
                progress = true;
            }
            while let Some(t) = self.server.poll_transmit() {
                self.net
                    .send(now, Self::addr(SERVER), t.destination, t.payload);
                progress = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.client_events.push((rel, e));
                progress = true;
            }
            while let Some(e) = self.server.poll_event() {
                if let Event::Request { id, request, .. } = &e
                    && request.method() != Some(&sip_core::Method::Ack)
                {
                    // The TU answers at once.
                    let code = self
                        .answers
                        .get(request.call_id().unwrap_or(""))
                        .copied()
                        .unwrap_or(200);
                    let resp = msg::reply(request, StatusCode(code), "srv");
                    self.server.send_response(now, *id, resp).expect("answer");
                    self.answered_at.insert(*id, rel);
                }
                self.server_events.push((rel, e));
                progress = true;
            }
            if !progress {
                break;
            }
        }
    }

    fn run(&mut self, until: Duration) {
        let end = self.t0 + until;
        loop {
            let next = [
                self.client.poll_timeout(),
                self.server.poll_timeout(),
                self.net.next_arrival(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(now) = next.filter(|t| *t <= end) else {
                break;
            };
            self.client.handle_timeout(now);
            self.server.handle_timeout(now);
            while let Some(p) = self.net.receive(now) {
                let Ok(message) = Message::parse(p.payload) else {
                    continue;
                };
                let inbound = Inbound {
                    message,
                    transport: Transport::Udp,
                    source: p.from,
                };
                if p.to == Self::addr(SERVER) {
                    self.server.handle_message(now, inbound);
                } else {
                    self.client.handle_message(now, inbound);
                }
            }
            self.pump(now);
        }
    }
}

fn target() -> Target {
    Target {
        transport: Transport::Udp,
        addr: SERVER.parse().expect("addr"),
    }
}

#[test]
fn non_invite_transactions_over_a_hostile_network() {
    let mut w = World::new(0x000B_ADC0_FFEE);
    let t1x64 = Duration::from_secs(32);
    let mut started = Vec::new();
    for i in 0..300 {
        let req = msg::options(&format!("lossy-{i}@example.com"), "tag");
        let id = w.client.send_request(w.t0, req, target()).expect("start");
        started.push(id);
    }
    w.pump(w.t0);
    w.run(Duration::from_secs(120));
    assert!(w.net.lost > 0 && w.net.duplicated > 0);

    let mut completed = 0;
    for id in &started {
        let finals: Vec<&Duration> = w
            .client_events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::Response { id: r, response }
                    if r == id && response.status().is_some_and(|s| s.is_final()) =>
                {
                    Some(t)
                }
                _ => None,
            })
            .collect();
        let (timeout, end) = w.client_end(id);
        match (finals.first(), timeout) {
            (Some(first), None) => {
                assert_eq!(finals.len(), 1, "one final response reaches the TU");
                assert_eq!(
                    end,
                    Some(**first + Duration::from_secs(5)),
                    "Timer K = T4 after the final (§17.1.2.2)"
                );
                completed += 1;
            }
            (None, Some((t, timer))) => {
                assert_eq!((t, timer), (t1x64, Timer::F), "Timer F at exactly 64·T1");
                assert_eq!(end, Some(t1x64));
            }
            other => panic!("transaction neither completed nor timed out cleanly: {other:?}"),
        }
    }
    assert!(
        completed >= 295,
        "with 30% loss nearly all complete: {completed}/300"
    );

    // Server side: each request reached the TU once; Timer J = 64·T1 after the answer.
    let requests = w
        .server_events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Request { .. }))
        .count();
    let distinct: std::collections::HashSet<String> = w
        .server_events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Request { request, .. } => request.call_id().map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(
        requests,
        distinct.len(),
        "retransmissions and duplicates never reach the TU twice"
    );
    for (t, e) in &w.server_events {
        if let Event::Terminated { id } = e {
            let answered = w.answered_at.get(id).expect("answered");
            assert_eq!(*t, *answered + t1x64, "Timer J (§17.2.2)");
        }
    }
    assert!(
        w.client.is_empty() && w.server.is_empty(),
        "nothing left behind"
    );
}

#[test]
fn invite_rejections_over_a_hostile_network() {
    let mut w = World::new(0x005E_ED0F_1A71);
    let t1x64 = Duration::from_secs(32);
    let mut started = Vec::new();
    for i in 0..100 {
        let call_id = format!("lossy-inv-{i}@example.com");
        w.answers.insert(call_id.clone(), 486);
        let id = w
            .client
            .send_request(w.t0, msg::invite(&call_id, "tag"), target())
            .expect("start");
        started.push(id);
    }
    w.pump(w.t0);
    w.run(Duration::from_secs(120));

    for id in &started {
        let first_final = w.client_events.iter().find_map(|(t, e)| match e {
            Event::Response { id: r, response }
                if r == id && response.status() == Some(StatusCode::BUSY_HERE) =>
            {
                Some(*t)
            }
            _ => None,
        });
        let (timeout, end) = w.client_end(id);
        match (first_final, timeout) {
            (Some(t), None) => assert_eq!(end, Some(t + t1x64), "Timer D = 32 s (§17.1.1.2)"),
            (None, Some(to)) => assert_eq!(to, (t1x64, Timer::B), "Timer B at exactly 64·T1"),
            other => panic!("unexpected end: {other:?}"),
        }
    }
    // Server: each INVITE ends by the ACK (Confirmed, then Timer I = T4) or
    // by Timer H at exactly 64·T1 after the 486.
    let mut confirmed = 0;
    for (t, e) in &w.server_events {
        if let Event::Terminated { id } = e {
            let answered = *w.answered_at.get(id).expect("answered");
            let timed_out = w
                .server_events
                .iter()
                .any(|(_, e)| matches!(e, Event::Timeout { id: r, timer: Timer::H } if r == id));
            if timed_out {
                assert_eq!(*t, answered + t1x64, "Timer H");
            } else {
                assert!(
                    *t >= answered + Duration::from_secs(5),
                    "Timer I runs T4 after the ACK"
                );
                confirmed += 1;
            }
        }
    }
    assert!(
        confirmed >= 95,
        "nearly every 486 is ACKed: {confirmed}/100"
    );
    assert!(
        !w.server_events
            .iter()
            .any(|(_, e)| matches!(e, Event::Ack { .. })),
        "ACKs for non-2xx stay in their transaction"
    );
    assert!(w.client.is_empty() && w.server.is_empty());
}
