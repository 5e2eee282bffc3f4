//! Server transactions: INVITE (RFC 3261 Figure 7 with RFC 6026's Accepted
//! state) and non-INVITE (Figure 8).
//!
//! ```text
//! INVITE server                              non-INVITE server
//!   Proceeding --TU 1xx--> Proceeding          Trying --TU 1xx--> Proceeding
//!   Proceeding --TU 2xx--> Accepted            Trying/Proceeding --TU final--> Completed
//!   Proceeding --TU 3xx-6xx--> Completed       Completed --Timer J--> Terminated
//!   Completed --ACK--> Confirmed
//!   Completed --Timer H--> Terminated (no ACK)
//!   Confirmed --Timer I--> Terminated
//!   Accepted --Timer L--> Terminated
//! ```
//! An INVITE server transaction sends 100 Trying itself after 200 ms unless
//! the TU has sent a provisional or final response first.

use std::time::Instant;

use sip_core::builder::response_to;
use sip_core::{Message, Method, StatusCode};

use crate::key;
use crate::layer::{ServerInvite, ServerNonInvite, State, Tx, response_destination};
use crate::timer::Timers;
use crate::{Error, Event, Inbound, Timer, TransactionId, TransactionLayer};

impl TransactionLayer {
    pub(crate) fn on_request(&mut self, now: Instant, inbound: Inbound) {
        let Inbound {
            message: request,
            transport,
            source,
        } = inbound;
        let Some(method) = request.method().cloned() else {
            return;
        };
        // The top Via gives both the key and where responses go: parse it once.
        let via = request
            .header::<sip_core::header::Via<'_>>()
            .and_then(Result::ok);
        let Some(key) = via
            .as_ref()
            .and_then(|v| key::server_key_with(&request, v, &method))
        else {
            return;
        };
        let peer = response_destination(via.as_ref(), transport, source);
        let existing = self.find(&key);
        if method == Method::Ack {
            let matched = existing.filter(|id| {
                // RFC 2543 peers: the ACK's To tag must match our response's.
                self.get(*id).is_some_and(|tx| match tx.key.kind() {
                    key::Kind::Legacy(_) => tx.response_to_tag == key::to_tag(&request),
                    _ => true,
                })
            });
            match matched.and_then(|id| self.get(id).map(|tx| (id, tx.state))) {
                Some((id, State::ServerInvite(ServerInvite::Completed { .. }))) => {
                    self.disarm(id, &[Timer::G, Timer::H]);
                    self.set_state(id, State::ServerInvite(ServerInvite::Confirmed));
                    if let Some(tx) = self.get_mut(id) {
                        tx.last_response = None; // Confirmed absorbs, never resends
                    }
                    let t4 = self.config.t4;
                    self.wait_or_terminate(now, id, Timer::I, t4);
                }
                Some((_, State::ServerInvite(ServerInvite::Confirmed))) => {} // absorbed
                _ => self.events.push_back(Event::Ack { request, source }),
            }
            return;
        }
        if existing.is_none()
            && method != Method::Invite
            && let Some(done) = self.completed.find(&key)
        {
            // A retransmission of a request answered with a final response.
            let (id, t, p) = (done.id, done.transport, done.peer);
            let last = bytes::Bytes::copy_from_slice(done.response);
            self.transmit(Some(id), t, p, last);
            return;
        }
        if let Some(id) = existing {
            // A retransmission: answer with the last response where the figure says so.
            let Some(tx) = self.get(id) else { return };
            let resend = matches!(
                tx.state,
                State::ServerInvite(ServerInvite::Proceeding | ServerInvite::Completed { .. })
                    | State::ServerNonInvite(ServerNonInvite::Proceeding)
            );
            if resend && let Some(last) = tx.last_response.clone() {
                let (t, p) = (tx.transport, tx.peer);
                self.transmit(Some(id), t, p, last);
            }
            return;
        }
        let cancels = if method == Method::Cancel {
            key::server_key_as(&request, &Method::Invite).and_then(|k| self.find(&k))
        } else {
            None
        };
        let state = if method == Method::Invite {
            State::ServerInvite(ServerInvite::Proceeding)
        } else {
            State::ServerNonInvite(ServerNonInvite::Trying)
        };
        let Some(id) = self.insert(Tx {
            key,
            state,
            transport,
            peer,
            request: (method == Method::Invite).then(|| Box::new(request.clone())),
            request_bytes: bytes::Bytes::new(),
            last_response: None,
            response_to_tag: None,
            ack: None,
            timers: Timers::default(),
        }) else {
            return; // matched no transaction above, so not reached
        };
        if method == Method::Invite {
            let delay = self.config.trying_delay;
            self.arm(id, Timer::Trying, now + delay);
        }
        self.events.push_back(Event::Request {
            id,
            request,
            source,
            cancels,
        });
    }

    pub(crate) fn server_respond(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        let code = response
            .status()
            .ok_or(Error::InvalidResponse(StatusCode(0)))?;
        if !code.is_valid() {
            return Err(Error::InvalidResponse(code));
        }
        let tx = self.get(id).ok_or(Error::UnknownTransaction)?;
        let state = tx.state;
        let (transport, peer) = (tx.transport, tx.peer);
        let bytes = response.to_bytes();
        let t1 = self.config.t1;
        let t1x64 = self.config.t1x64();
        match state {
            State::ServerInvite(ServerInvite::Proceeding) => {
                self.disarm(id, &[Timer::Trying]);
                if let Some(tx) = self.get_mut(id) {
                    // Accepted never resends (the TU retransmits its 2xx),
                    // so a 2xx is not kept for the 64·T1 the state lasts.
                    tx.last_response = (!code.is_success()).then(|| bytes.clone());
                    tx.request = None; // the TU answered: no 100 Trying to build
                }
                self.transmit(Some(id), transport, peer, bytes);
                if code.is_success() {
                    // RFC 6026: Accepted; the TU retransmits the 2xx itself.
                    self.set_state(id, State::ServerInvite(ServerInvite::Accepted));
                    self.arm(id, Timer::L, now + t1x64);
                } else if code.is_final() {
                    if let Some(tx) = self.get_mut(id) {
                        tx.response_to_tag = key::to_tag(&response);
                        tx.state = State::ServerInvite(ServerInvite::Completed { interval: t1 });
                    }
                    if !transport.is_reliable() {
                        self.arm(id, Timer::G, now + t1);
                    }
                    self.arm(id, Timer::H, now + t1x64);
                }
                Ok(())
            }
            State::ServerInvite(ServerInvite::Accepted) if code.is_success() => {
                self.transmit(Some(id), transport, peer, bytes);
                Ok(())
            }
            State::ServerInvite(_) => Err(Error::InvalidState(
                "INVITE transaction already has a final response",
            )),
            State::ServerNonInvite(_) if code.is_provisional() => {
                if let Some(tx) = self.get_mut(id) {
                    tx.last_response = Some(bytes.clone());
                }
                self.transmit(Some(id), transport, peer, bytes);
                self.set_state(id, State::ServerNonInvite(ServerNonInvite::Proceeding));
                Ok(())
            }
            State::ServerNonInvite(_) => {
                // Completed: over UDP it lasts Timer J in the Completed
                // store (which answers retransmissions from then on); over
                // reliable transports Timer J is zero.
                if transport.is_reliable() {
                    self.transmit(Some(id), transport, peer, bytes);
                    self.terminate(id);
                } else {
                    self.retire(now, id, &bytes);
                    self.transmit(Some(id), transport, peer, bytes);
                }
                Ok(())
            }
            State::ClientInvite(_) | State::ClientNonInvite(_) => Err(Error::UnknownTransaction),
        }
    }

    pub(crate) fn server_respond_stateless(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        let is_final = response
            .status()
            .is_some_and(|c| c.is_valid() && c.is_final());
        let Some(tx) = self.get(id).filter(|tx| {
            is_final && matches!(tx.state, State::ServerNonInvite(ServerNonInvite::Trying))
        }) else {
            return self.server_respond(now, id, response);
        };
        let (transport, peer) = (tx.transport, tx.peer);
        self.transmit(Some(id), transport, peer, response.to_bytes());
        self.terminate(id);
        Ok(())
    }

    pub(crate) fn server_invite_timer(
        &mut self,
        now: Instant,
        id: TransactionId,
        state: ServerInvite,
        timer: Timer,
    ) {
        match (state, timer) {
            (ServerInvite::Proceeding, Timer::Trying) => {
                let Some(tx) = self.get(id) else { return };
                if tx.last_response.is_none()
                    && let Some(request) = &tx.request
                    && let Ok(trying) = response_to(request, StatusCode::TRYING, None).build()
                {
                    let trying = trying.to_bytes();
                    let (t, p) = (tx.transport, tx.peer);
                    if let Some(tx) = self.get_mut(id) {
                        tx.last_response = Some(trying.clone());
                    }
                    self.transmit(Some(id), t, p, trying);
                }
            }
            (ServerInvite::Completed { interval }, Timer::G) => {
                // §17.2.1: retransmit the final response, doubling up to T2.
                if let Some(tx) = self.get(id)
                    && let Some(last) = tx.last_response.clone()
                {
                    let (t, p) = (tx.transport, tx.peer);
                    self.transmit(Some(id), t, p, last);
                }
                let next = (interval * 2).min(self.config.t2);
                self.set_state(
                    id,
                    State::ServerInvite(ServerInvite::Completed { interval: next }),
                );
                self.arm(id, Timer::G, now + next);
            }
            (ServerInvite::Completed { .. }, Timer::H) => {
                self.events.push_back(Event::Timeout { id, timer });
                self.terminate(id);
            }
            (ServerInvite::Confirmed, Timer::I) | (ServerInvite::Accepted, Timer::L) => {
                self.terminate(id)
            }
            _ => {}
        }
    }
}
