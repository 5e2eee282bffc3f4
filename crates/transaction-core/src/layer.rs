//! The transaction layer: an arena of transactions addressed by small
//! handles, a map from matching keys to handles, a timer heap, the
//! Completed store of answered non-INVITE server transactions
//! ([`Completed`]), and the output queues the I/O shell drains.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hashbrown::HashTable;
use sip_core::header::Via;
use sip_core::{Message, Method};

use crate::completed::Completed;
use crate::key::{self, Key};
use crate::timer::{Config, Timer, Timers};
use crate::{Error, Event, Inbound, Target, TransactionId, Transmit, Transport};

/// INVITE client states (RFC 3261 Figure 5, RFC 6026 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientInvite {
    Calling { interval: Duration },
    Proceeding,
    Completed,
    Accepted,
}

/// Non-INVITE client states (RFC 3261 Figure 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientNonInvite {
    Trying { interval: Duration },
    Proceeding { interval: Duration },
    Completed,
}

/// INVITE server states (RFC 3261 Figure 7, RFC 6026 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerInvite {
    Proceeding,
    Completed { interval: Duration },
    Confirmed,
    Accepted,
}

/// Non-INVITE server states (RFC 3261 Figure 8) before the final
/// response. Completed is kept apart, in [`Completed`], over UDP; over
/// reliable transports it ends at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerNonInvite {
    Trying,
    Proceeding,
}

/// Which of the four RFC 3261 machines, and its state.
#[allow(clippy::enum_variant_names)] // named after the RFC's four machines
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    ClientInvite(ClientInvite),
    ClientNonInvite(ClientNonInvite),
    ServerInvite(ServerInvite),
    ServerNonInvite(ServerNonInvite),
}

/// One transaction.
pub(crate) struct Tx {
    pub(crate) key: Key,
    pub(crate) state: State,
    pub(crate) transport: Transport,
    /// Client: the target; server: where responses go (§18.2.2).
    pub(crate) peer: SocketAddr,
    /// The request that created the transaction, kept only while the
    /// machine needs it (client INVITE: to build the ACK; server INVITE:
    /// until the TU answers or 100 Trying is sent).
    pub(crate) request: Option<Box<Message>>,
    /// Client: the printed request, for retransmission.
    pub(crate) request_bytes: Bytes,
    /// Server: the last response sent, for retransmission.
    pub(crate) last_response: Option<Bytes>,
    /// Server INVITE: To tag of the final response (RFC 2543 ACK matching).
    pub(crate) response_to_tag: Option<String>,
    /// Client INVITE: the ACK for a non-2xx final response.
    pub(crate) ack: Option<Bytes>,
    pub(crate) timers: Timers,
}

struct Slot {
    generation: u32,
    /// Boxed so that free and spare slots cost 16 bytes, not a whole `Tx`.
    tx: Option<Box<Tx>>,
}

/// The transaction layer (see the crate documentation).
pub struct TransactionLayer {
    pub(crate) config: Config,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Live transactions by key: each entry is a handle filed under its
    /// transaction's keyed hash (see [`Key`]), so the key itself is held
    /// once, in the transaction, not copied into the map.
    by_key: HashTable<TransactionId>,
    /// One entry per transaction with armed timers, due at its earliest
    /// (see [`Timers::scheduled`]): disarming a timer leaves nothing
    /// behind for 64·T1, as an entry per armed timer would.
    wakeups: BinaryHeap<Reverse<(Instant, TransactionId)>>,
    /// Non-INVITE server transactions in Completed over UDP.
    pub(crate) completed: Completed,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
}

impl TransactionLayer {
    /// An empty layer.
    pub fn new(config: Config) -> TransactionLayer {
        TransactionLayer {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_key: HashTable::new(),
            wakeups: BinaryHeap::new(),
            completed: Completed::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The timer configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Number of live transactions.
    pub fn len(&self) -> usize {
        self.by_key.len() + self.completed.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next datagram or frame to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event for the transaction user.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`TransactionLayer::handle_timeout`] must next be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let completed = self.completed.next_deadline();
        // Drop wake-ups of ended transactions and superseded entries.
        while let Some(Reverse((at, id))) = self.wakeups.peek().copied() {
            if self
                .get(id)
                .is_some_and(|tx| tx.timers.scheduled == Some(at))
            {
                return Some(completed.map_or(at, |c| c.min(at)));
            }
            self.wakeups.pop();
        }
        completed
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let events = &mut self.events;
        self.completed
            .expire(now, |id| events.push_back(Event::Terminated { id }));
        while let Some(Reverse((at, id))) = self.wakeups.peek().copied() {
            if at > now {
                break;
            }
            self.wakeups.pop();
            let Some(tx) = self.get_mut(id) else { continue };
            if tx.timers.scheduled != Some(at) {
                continue;
            }
            tx.timers.scheduled = None;
            // Every timer of this transaction that is due, earliest first;
            // firing one may arm or disarm others, or end the transaction.
            while let Some(tx) = self.get_mut(id)
                && let Some((timer, due)) = tx.timers.earliest()
                && due <= now
            {
                tx.timers.set(timer, None);
                self.fire(now, id, timer);
            }
            self.schedule(id);
        }
    }

    /// A message from the network. Responses go to their client transaction
    /// (or surface as [`Event::StrayResponse`]); requests to their server
    /// transaction, creating one (and an [`Event::Request`]) when new.
    pub fn handle_message(&mut self, now: Instant, inbound: Inbound) {
        if inbound.message.is_request() {
            self.on_request(now, inbound);
        } else {
            self.on_response(now, inbound.message);
        }
    }

    /// Starts a client transaction: the request is sent at once and
    /// retransmitted per Timer A/E over unreliable transports.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Message,
        target: Target,
    ) -> Result<TransactionId, Error> {
        let method = request
            .method()
            .cloned()
            .ok_or(Error::InvalidRequest("not a request"))?;
        if method == Method::Ack {
            return Err(Error::InvalidRequest(
                "ACK is not a transaction; use send_ack",
            ));
        }
        let key = key::client_key(&request).map_err(Error::InvalidRequest)?;
        let t1 = self.config.t1;
        let state = if method == Method::Invite {
            State::ClientInvite(ClientInvite::Calling { interval: t1 })
        } else {
            State::ClientNonInvite(ClientNonInvite::Trying { interval: t1 })
        };
        let request_bytes = request.to_bytes();
        let Some(id) = self.insert(Tx {
            key,
            state,
            transport: target.transport,
            peer: target.addr,
            request: (method == Method::Invite).then(|| Box::new(request)),
            request_bytes: request_bytes.clone(),
            last_response: None,
            response_to_tag: None,
            ack: None,
            timers: Timers::default(),
        }) else {
            return Err(Error::DuplicateTransaction);
        };
        self.transmit(Some(id), target.transport, target.addr, request_bytes);
        let (retransmit, timeout) = if method == Method::Invite {
            (Timer::A, Timer::B)
        } else {
            (Timer::E, Timer::F)
        };
        if !target.transport.is_reliable() {
            self.arm(id, retransmit, now + t1);
        }
        self.arm(id, timeout, now + self.config.t1x64());
        Ok(id)
    }

    /// Sends an ACK for a 2xx (or any request outside a transaction) as is.
    pub fn send_ack(&mut self, ack: Message, target: Target) {
        self.transmit(None, target.transport, target.addr, ack.to_bytes());
    }

    /// A response from the TU for a server transaction.
    pub fn send_response(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        self.server_respond(now, id, response)
    }

    /// A final response from the TU, sent statelessly (RFC 3261 §8.2.7):
    /// the transaction ends as the response leaves and keeps no Timer J
    /// state, so a retransmitted request reaches the TU again as a new
    /// transaction, to be answered the same way. Meant for a stateless UAS
    /// (a registrar) and for challenges, whose floods would otherwise hold
    /// state for 64·T1 each; the TU must give the same request the same To
    /// tag every time. Only a non-INVITE server transaction that
    /// has sent nothing yet ends this way; any other is answered as
    /// [`send_response`](Self::send_response) does.
    pub fn send_response_stateless(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        self.server_respond_stateless(now, id, response)
    }

    /// The transport failed to deliver for this transaction (RFC 3261 §17.1.4).
    pub fn handle_transport_error(&mut self, id: TransactionId) {
        if self.get(id).is_some() {
            self.events.push_back(Event::TransportError { id });
            self.terminate(id);
        }
    }

    // ---- shared machinery --------------------------------------------------

    pub(crate) fn get(&self, id: TransactionId) -> Option<&Tx> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation == id.generation {
            slot.tx.as_deref()
        } else {
            None
        }
    }

    pub(crate) fn get_mut(&mut self, id: TransactionId) -> Option<&mut Tx> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation == id.generation {
            slot.tx.as_deref_mut()
        } else {
            None
        }
    }

    pub(crate) fn find(&self, key: &Key) -> Option<TransactionId> {
        self.by_key
            .find(key.hash(), |id| {
                self.get(*id).is_some_and(|tx| tx.key == *key)
            })
            .copied()
    }

    /// Adds a transaction under its key; `None` if the key is taken.
    pub(crate) fn insert(&mut self, tx: Tx) -> Option<TransactionId> {
        if self.find(&tx.key).is_some() {
            return None;
        }
        let hash = tx.key.hash();
        let id = match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.tx = Some(Box::new(tx));
                TransactionId {
                    index,
                    generation: slot.generation,
                }
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    tx: Some(Box::new(tx)),
                });
                TransactionId {
                    index: (self.slots.len() - 1) as u32,
                    generation: 0,
                }
            }
        };
        let slots = &self.slots;
        self.by_key.insert_unique(hash, id, |i| {
            slots
                .get(i.index as usize)
                .and_then(|slot| slot.tx.as_ref())
                .map_or(0, |tx| tx.key.hash())
        });
        Some(id)
    }

    /// Frees a transaction's slot (the handle goes stale) and key.
    fn remove(&mut self, id: TransactionId) -> Option<Box<Tx>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let tx = slot.tx.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        if let Ok(entry) = self.by_key.find_entry(tx.key.hash(), |i| *i == id) {
            entry.remove();
        }
        Some(tx)
    }

    /// Ends a transaction and reports it.
    pub(crate) fn terminate(&mut self, id: TransactionId) {
        if self.remove(id).is_some() {
            self.events.push_back(Event::Terminated { id });
        }
    }

    /// Moves a non-INVITE server transaction that sent its final
    /// `response` over UDP to the Completed store, where it answers
    /// retransmissions until Timer J (64·T1) ends it.
    pub(crate) fn retire(&mut self, now: Instant, id: TransactionId, response: &[u8]) {
        let until = now + self.config.t1x64();
        if let Some(tx) = self.remove(id) {
            self.completed.insert(
                until,
                crate::completed::Entry {
                    id,
                    transport: tx.transport,
                    peer: tx.peer,
                    key: &tx.key,
                    response,
                },
            );
        }
    }

    pub(crate) fn arm(&mut self, id: TransactionId, timer: Timer, at: Instant) {
        if let Some(tx) = self.get_mut(id) {
            tx.timers.set(timer, Some(at));
            self.schedule(id);
        }
    }

    /// Makes sure the heap holds an entry due no later than the
    /// transaction's earliest armed timer. A later timer needs no entry
    /// yet: when the earlier entry fires, the next one is pushed.
    fn schedule(&mut self, id: TransactionId) {
        let Some(tx) = self.get_mut(id) else { return };
        let Some((_, next)) = tx.timers.earliest() else {
            return;
        };
        if tx.timers.scheduled.is_none_or(|s| next < s) {
            tx.timers.scheduled = Some(next);
            self.wakeups.push(Reverse((next, id)));
        }
    }

    pub(crate) fn disarm(&mut self, id: TransactionId, timers: &[Timer]) {
        if let Some(tx) = self.get_mut(id) {
            for t in timers {
                tx.timers.set(*t, None);
            }
        }
    }

    /// A wait timer (D, I, J, K): zero on reliable transports, which means
    /// "terminate now".
    pub(crate) fn wait_or_terminate(
        &mut self,
        now: Instant,
        id: TransactionId,
        timer: Timer,
        unreliable: Duration,
    ) {
        match self.get(id) {
            Some(tx) if !tx.transport.is_reliable() => self.arm(id, timer, now + unreliable),
            Some(_) => self.terminate(id),
            None => {}
        }
    }

    pub(crate) fn transmit(
        &mut self,
        id: Option<TransactionId>,
        transport: Transport,
        to: SocketAddr,
        payload: Bytes,
    ) {
        self.transmits.push_back(Transmit {
            transaction: id,
            transport,
            destination: to,
            payload,
        });
    }

    pub(crate) fn set_state(&mut self, id: TransactionId, state: State) {
        if let Some(tx) = self.get_mut(id) {
            tx.state = state;
        }
    }

    fn fire(&mut self, now: Instant, id: TransactionId, timer: Timer) {
        let Some(tx) = self.get(id) else { return };
        match tx.state {
            State::ClientInvite(s) => self.client_invite_timer(now, id, s, timer),
            State::ClientNonInvite(s) => self.client_non_invite_timer(now, id, s, timer),
            State::ServerInvite(s) => self.server_invite_timer(now, id, s, timer),
            // Its one timer, J, runs in the Completed store.
            State::ServerNonInvite(_) => {}
        }
    }
}

/// Where responses to a request go (RFC 3261 §18.2.2, RFC 3581): the
/// connection it came on for reliable transports; otherwise the source
/// address when `rport` was asked for, else the source IP with the sent-by
/// port (default 5060).
pub(crate) fn response_destination(
    via: Option<&Via<'_>>,
    transport: Transport,
    source: SocketAddr,
) -> SocketAddr {
    if transport.is_reliable() {
        return source;
    }
    match via {
        Some(via) if via.rport().is_some() => source,
        Some(via) => SocketAddr::new(source.ip(), via.port.unwrap_or(5060)),
        None => source,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use sip_core::Message;

    use crate::{Inbound, Target, TransactionLayer, Transport};

    fn request(method: &str) -> Message {
        Message::parse(format!(
            "{method} sip:b@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n\
             Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.10>;tag=a\r\nTo: <sip:b@192.0.2.20>\r\n\
             Call-ID: c1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        ))
        .expect("request")
    }

    fn response(code: u16, method: &str) -> Message {
        Message::parse(format!(
            "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n\
             From: <sip:a@192.0.2.10>;tag=a\r\nTo: <sip:b@192.0.2.20>;tag=b\r\n\
             Call-ID: c1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        ))
        .expect("response")
    }

    fn udp_target() -> Target {
        Target {
            transport: Transport::Udp,
            addr: "192.0.2.20:5060".parse().expect("addr"),
        }
    }

    /// Completed and Accepted last up to 64·T1 and never retransmit the
    /// request: it is not kept through them.
    #[test]
    fn request_is_released_once_it_cannot_be_retransmitted() {
        for (method, code) in [("INVITE", 200), ("INVITE", 486), ("BYE", 200)] {
            let mut layer = TransactionLayer::new(crate::Config::default());
            let now = Instant::now();
            let target = udp_target();
            let id = layer
                .send_request(now, request(method), target)
                .expect("sent");
            let held = |l: &TransactionLayer| {
                l.get(id)
                    .map(|t| (t.request.is_some(), !t.request_bytes.is_empty()))
            };
            assert_eq!(held(&layer).map(|h| h.1), Some(true), "{method}");
            layer.handle_message(
                now,
                Inbound {
                    message: response(code, method),
                    transport: Transport::Udp,
                    source: target.addr,
                },
            );
            assert_eq!(held(&layer), Some((false, false)), "{method} {code}");
            if code == 486 {
                // The ACK for the non-2xx was still built from it.
                assert!(layer.get(id).and_then(|t| t.ack.as_ref()).is_some());
            }
        }
    }

    /// A server INVITE keeps its final response only where it resends it
    /// (Completed), not through Accepted (the TU resends its 2xx).
    #[test]
    fn server_keeps_the_response_only_to_resend_it() {
        for (code, kept) in [(200, false), (486, true)] {
            let mut layer = TransactionLayer::new(crate::Config::default());
            let now = Instant::now();
            layer.handle_message(
                now,
                Inbound {
                    message: request("INVITE"),
                    transport: Transport::Udp,
                    source: "192.0.2.10:5060".parse().expect("addr"),
                },
            );
            let Some(crate::Event::Request { id, .. }) = layer.poll_event() else {
                panic!("no request event");
            };
            layer
                .send_response(now, id, response(code, "INVITE"))
                .expect("answered");
            let held = layer.get(id).map(|t| t.last_response.is_some());
            assert_eq!(held, Some(kept), "{code}");
        }
    }

    /// One wake-up entry per transaction: the INVITE's disarmed A and B
    /// leave nothing behind for the 64·T1 it stays Accepted, and the
    /// retransmissions and timeouts still fire on time.
    #[test]
    fn wake_ups_hold_one_entry_per_transaction() {
        let mut layer = TransactionLayer::new(crate::Config::default());
        let t0 = Instant::now();
        let target = udp_target();
        let id = layer
            .send_request(t0, request("INVITE"), target)
            .expect("sent");
        assert_eq!(layer.wakeups.len(), 1, "A and B: one entry, due with A");
        assert_eq!(layer.poll_timeout(), Some(t0 + layer.config.t1));
        // Timer A fires: the INVITE goes again, A re-armed at 2·T1.
        while layer.poll_transmit().is_some() {}
        layer.handle_timeout(t0 + layer.config.t1);
        assert_eq!(layer.poll_transmit().map(|t| t.transaction), Some(Some(id)));
        assert_eq!(layer.poll_timeout(), Some(t0 + layer.config.t1 * 3));
        // A 2xx: Accepted, only M (64·T1) armed.
        let at = t0 + layer.config.t1 * 2;
        layer.handle_message(
            at,
            Inbound {
                message: response(200, "INVITE"),
                transport: Transport::Udp,
                source: target.addr,
            },
        );
        // The entry due with the old A goes when it comes up; then one
        // entry, for M, is left.
        layer.handle_timeout(t0 + layer.config.t1 * 3);
        assert!(
            layer.poll_transmit().is_none(),
            "no retransmission once accepted"
        );
        assert_eq!(layer.wakeups.len(), 1);
        let m = at + layer.config.t1x64();
        assert_eq!(layer.poll_timeout(), Some(m));
        while layer.poll_event().is_some() {}
        layer.handle_timeout(m);
        assert!(layer.get(id).is_none(), "Timer M ended it");
        assert_eq!(layer.poll_timeout(), None);
    }
}
