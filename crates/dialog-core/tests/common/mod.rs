//! A virtual-time world of dialog layers over `sip-test`'s simulated
//! network, with a scripted transaction user per node and an optional
//! stateless forking proxy.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dialog_core::{Config, DialogEvent, DialogId, DialogLayer, EndReason, Event};
use sip_core::header::HeaderName;
use sip_core::{Message, Method, StatusCode};
use sip_test::net::{Conditions, Packet, SimNet};
use transaction_core::{Inbound, Target, TransactionId, Transport};

pub const ALICE: &str = "192.0.2.10:5060";
pub const BOB: &str = "192.0.2.20:5060";
pub const CAROL: &str = "192.0.2.30:5060";
/// A stateless proxy that forks INVITEs and CANCELs to BOB and CAROL.
pub const FORK: &str = "192.0.2.40:5060";

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

pub fn udp(s: &str) -> Target {
    Target {
        transport: Transport::Udp,
        addr: addr(s),
    }
}

/// How a node's transaction user answers.
#[derive(Clone, Copy, Debug)]
pub struct Tu {
    /// First response to a new INVITE, and whether it is reliable.
    pub provisional: Option<(u16, bool)>,
    /// Final response to a new INVITE and its delay.
    pub answer: Option<(u16, Duration)>,
}

impl Default for Tu {
    fn default() -> Tu {
        Tu {
            provisional: Some((180, false)),
            answer: Some((200, Duration::from_millis(100))),
        }
    }
}

pub struct Node {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub layer: DialogLayer,
    pub tu: Tu,
    /// Events, with their time since the start.
    pub events: Vec<(Duration, Event)>,
    /// Messages sent, with their time since the start.
    pub sent: Vec<(Duration, Message)>,
    pending: Vec<(Instant, TransactionId, u16)>,
}

impl Node {
    /// Dialogs this node saw end, with the reason and when.
    pub fn ended(&self) -> Vec<(Duration, DialogId, EndReason)> {
        self.events
            .iter()
            .filter_map(|(t, e)| match e {
                Event::Dialog(DialogEvent::Terminated { dialog, reason }) => {
                    Some((*t, dialog.clone(), *reason))
                }
                _ => None,
            })
            .collect()
    }

    /// Confirmed dialogs in the order they were confirmed (created as
    /// confirmed or confirmed later).
    pub fn confirmed(&self) -> Vec<DialogId> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Dialog(DialogEvent::Confirmed { dialog }) => Some(dialog.clone()),
                Event::Dialog(DialogEvent::Created {
                    dialog,
                    state: dialog_core::DialogState::Confirmed,
                }) => Some(dialog.clone()),
                _ => None,
            })
            .collect()
    }

    /// Final responses to client transaction `id`.
    pub fn finals(&self, id: TransactionId) -> Vec<StatusCode> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Response {
                    id: r, response, ..
                } if *r == id => response.status(),
                _ => None,
            })
            .filter(|c| c.is_final())
            .collect()
    }

    /// Times at which messages matching `f` were sent.
    pub fn sent_times(&self, f: impl Fn(&Message) -> bool) -> Vec<Duration> {
        self.sent
            .iter()
            .filter(|(_, m)| f(m))
            .map(|(t, _)| *t)
            .collect()
    }

    pub fn count(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| f(e)).count()
    }
}

pub fn is_method(m: &Message, method: Method) -> bool {
    m.method() == Some(&method)
}

pub fn is_status(m: &Message, code: u16) -> bool {
    m.status() == Some(StatusCode(code))
}

/// Decides which packets the network drops: (sender, message) → drop.
pub type DropRule = Box<dyn Fn(SocketAddr, &Message) -> bool>;

pub struct World {
    pub t0: Instant,
    pub now: Instant,
    pub net: SimNet,
    pub nodes: Vec<Node>,
    /// Packets for which this returns true are dropped (sender, message).
    pub drop: DropRule,
}

impl World {
    pub fn new(conditions: Conditions, seed: u64, names: &[(&'static str, &str)]) -> World {
        World::with_config(conditions, seed, names, |_| {})
    }

    pub fn with_config(
        conditions: Conditions,
        seed: u64,
        names: &[(&'static str, &str)],
        tweak: impl Fn(&mut Config),
    ) -> World {
        let t0 = Instant::now();
        let nodes = names
            .iter()
            .enumerate()
            .map(|(i, (name, a))| {
                let mut config = Config {
                    local: vec![(Transport::Udp, addr(a))],
                    user: (*name).to_owned(),
                    ..Config::default()
                };
                tweak(&mut config);
                Node {
                    name,
                    addr: addr(a),
                    layer: DialogLayer::new(config, seed.wrapping_mul(31).wrapping_add(i as u64)),
                    tu: Tu::default(),
                    events: Vec::new(),
                    sent: Vec::new(),
                    pending: Vec::new(),
                }
            })
            .collect();
        World {
            t0,
            now: t0,
            net: SimNet::new(conditions, seed),
            nodes,
            drop: Box::new(|_, _| false),
        }
    }

    pub fn node(&mut self, name: &str) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.t0
    }

    /// Sends an INVITE from `from` to `to` (through `via`, usually `to`).
    pub fn invite(&mut self, from: &str, to: &str, via: &str) -> TransactionId {
        let now = self.now;
        let target = udp(via);
        let node = self.node(from);
        let uri = format!("sip:{to}@{via}");
        let invite = node
            .layer
            .new_request(
                Method::Invite,
                &uri,
                target,
                &format!("<sip:{from}@example.com>"),
                &format!("<{uri}>"),
            )
            .build()
            .expect("INVITE");
        let id = node
            .layer
            .send_request(now, invite, target)
            .expect("send INVITE");
        self.settle();
        id
    }

    /// Sends a request inside `dialog` from `from`.
    pub fn in_dialog(&mut self, from: &str, dialog: &DialogId, method: Method) -> TransactionId {
        let now = self.now;
        let node = self.node(from);
        let request = node
            .layer
            .request(dialog, method)
            .expect("in-dialog request")
            .build()
            .expect("build");
        let id = node.layer.send(now, request).expect("send");
        self.settle();
        id
    }

    /// Handles every transmit and event due now, without advancing time.
    pub fn settle(&mut self) {
        let now = self.now;
        let rel = self.now - self.t0;
        loop {
            let mut progress = false;
            for i in 0..self.nodes.len() {
                while let Some(t) = self.nodes[i].layer.poll_transmit() {
                    progress = true;
                    let from = self.nodes[i].addr;
                    if let Ok(m) = Message::parse(t.payload.clone()) {
                        let dropped = (self.drop)(from, &m);
                        self.nodes[i].sent.push((rel, m));
                        if dropped {
                            continue;
                        }
                    }
                    self.net.send(now, from, t.destination, t.payload);
                }
                while let Some(e) = self.nodes[i].layer.poll_event() {
                    progress = true;
                    react(&mut self.nodes[i], now, &e);
                    self.nodes[i].events.push((rel, e));
                }
            }
            if !progress {
                break;
            }
        }
    }

    /// Runs the world for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.settle();
            let mut next = self.net.next_arrival();
            for n in &mut self.nodes {
                for t in n
                    .layer
                    .poll_timeout()
                    .into_iter()
                    .chain(n.pending.iter().map(|p| p.0))
                {
                    next = Some(next.map_or(t, |x| x.min(t)));
                }
            }
            let Some(next) = next.filter(|t| *t <= end) else {
                self.now = end;
                self.settle();
                return;
            };
            self.now = self.now.max(next);
            let now = self.now;
            while let Some(p) = self.net.receive(now) {
                self.deliver(p);
            }
            for n in &mut self.nodes {
                if n.layer.poll_timeout().is_some_and(|t| t <= now) {
                    n.layer.handle_timeout(now);
                }
                let due: Vec<_> = n.pending.iter().filter(|p| p.0 <= now).copied().collect();
                n.pending.retain(|p| p.0 > now);
                for (_, id, code) in due {
                    if let Ok(b) = n.layer.response(id, StatusCode(code)) {
                        let _ = n.layer.respond(now, id, b.build().expect("answer"));
                    }
                }
            }
        }
    }

    fn deliver(&mut self, p: Packet) {
        let now = self.now;
        if p.to == addr(FORK) {
            self.fork(p);
            return;
        }
        let Ok(message) = Message::parse(p.payload) else {
            return;
        };
        if let Some(n) = self.nodes.iter_mut().find(|n| n.addr == p.to) {
            n.layer.handle_message(
                now,
                Inbound {
                    message,
                    transport: Transport::Udp,
                    source: p.from,
                },
            );
        }
    }

    /// The stateless forking proxy: requests go to BOB and CAROL with a Via
    /// of its own (the branch derived from the request's), responses go
    /// back to ALICE without it.
    fn fork(&mut self, p: Packet) {
        let now = self.now;
        let Ok(mut m) = Message::parse(p.payload) else {
            return;
        };
        if m.is_request() {
            let branch = m
                .header::<sip_core::header::Via<'_>>()
                .and_then(Result::ok)
                .and_then(|v| v.branch().map(str::to_owned))
                .unwrap_or_default();
            for (i, to) in [BOB, CAROL].iter().enumerate() {
                let mut copy = m.clone();
                copy.prepend_header(
                    "Via",
                    format_args!("SIP/2.0/UDP {FORK};branch={branch}-f{i}"),
                );
                self.net.send(now, addr(FORK), addr(to), copy.to_bytes());
            }
        } else {
            m.remove_first_value(HeaderName::Via);
            self.net.send(now, addr(FORK), addr(ALICE), m.to_bytes());
        }
    }
}

/// The scripted TU: rings and answers new INVITEs as `tu` says, and
/// answers every other request with 200 at once.
fn react(node: &mut Node, now: Instant, e: &Event) {
    let Event::Request {
        id,
        request,
        dialog,
        ..
    } = e
    else {
        return;
    };
    if dialog.is_none() && request.method() == Some(&Method::Invite) {
        if let Some((code, reliable)) = node.tu.provisional {
            let mut b = node.layer.response(*id, StatusCode(code)).expect("1xx");
            if reliable {
                b = b.header("Require", "100rel");
            }
            node.layer
                .respond(now, *id, b.build().expect("1xx"))
                .expect("send 1xx");
        }
        if let Some((code, delay)) = node.tu.answer {
            node.pending.push((now + delay, *id, code));
        }
        return;
    }
    let response = node
        .layer
        .response(*id, StatusCode::OK)
        .expect("a reported request");
    node.layer
        .respond(now, *id, response.build().expect("200"))
        .expect("answer");
}
