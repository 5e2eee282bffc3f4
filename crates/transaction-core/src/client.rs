//! Client transactions: INVITE (RFC 3261 Figure 5 with RFC 6026's Accepted
//! state) and non-INVITE (Figure 6).
//!
//! ```text
//! INVITE client                         non-INVITE client
//!   Calling --1xx--> Proceeding           Trying --1xx--> Proceeding
//!   Calling/Proceeding --2xx--> Accepted  Trying/Proceeding --final--> Completed
//!   Calling/Proceeding --3xx-6xx--> Completed (send ACK)
//!   Calling --Timer B--> Terminated       Trying/Proceeding --Timer F--> Terminated
//!   Completed --Timer D--> Terminated     Completed --Timer K--> Terminated
//!   Accepted --Timer M--> Terminated
//! ```

use std::time::Instant;

use bytes::Bytes;
use sip_core::builder::Builder;
use sip_core::header::HeaderName;
use sip_core::{Message, Method};

use crate::key;
use crate::layer::{ClientInvite, ClientNonInvite, State};
use crate::{Event, Timer, TransactionId, TransactionLayer};

/// Timer D for unreliable transports (RFC 3261 Table 4: at least 32 s).
const TIMER_D: std::time::Duration = std::time::Duration::from_secs(32);

impl TransactionLayer {
    pub(crate) fn on_response(&mut self, now: Instant, response: Message) {
        let Some(code) = response.status() else {
            return;
        };
        let Some(id) = key::response_key(&response).and_then(|k| self.find(&k)) else {
            self.events.push_back(Event::StrayResponse { response });
            return;
        };
        let Some(tx) = self.get(id) else { return };
        match tx.state {
            State::ClientInvite(s) => {
                match s {
                    ClientInvite::Calling { .. } | ClientInvite::Proceeding => {
                        if code.is_provisional() {
                            self.disarm(id, &[Timer::A, Timer::B]);
                            self.set_state(id, State::ClientInvite(ClientInvite::Proceeding));
                            self.events.push_back(Event::Response { id, response });
                        } else if code.is_success() {
                            // RFC 6026: Accepted; 2xx retransmissions go to the TU.
                            self.disarm(id, &[Timer::A, Timer::B]);
                            self.set_state(id, State::ClientInvite(ClientInvite::Accepted));
                            self.release_request(id);
                            self.arm(id, Timer::M, now + self.config.t1x64());
                            self.events.push_back(Event::Response { id, response });
                        } else {
                            self.disarm(id, &[Timer::A, Timer::B]);
                            let invite = self.get_mut(id).and_then(|t| t.request.take());
                            let ack = build_ack(invite.as_deref(), &response);
                            if let Some(tx) = self.get_mut(id) {
                                tx.ack = ack.clone();
                                tx.state = State::ClientInvite(ClientInvite::Completed);
                            }
                            self.release_request(id);
                            self.send_ack_of(id, ack);
                            self.events.push_back(Event::Response { id, response });
                            self.wait_or_terminate(now, id, Timer::D, TIMER_D);
                        }
                    }
                    ClientInvite::Completed => {
                        // A retransmitted final response: send the ACK again (§17.1.1.2).
                        if code.is_final() && !code.is_success() {
                            let ack = self.get(id).and_then(|t| t.ack.clone());
                            self.send_ack_of(id, ack);
                        }
                    }
                    ClientInvite::Accepted => {
                        if code.is_success() {
                            self.events.push_back(Event::Response { id, response });
                        }
                    }
                }
            }
            State::ClientNonInvite(s) => match s {
                ClientNonInvite::Trying { interval } | ClientNonInvite::Proceeding { interval } => {
                    if code.is_provisional() {
                        self.set_state(
                            id,
                            State::ClientNonInvite(ClientNonInvite::Proceeding { interval }),
                        );
                        self.events.push_back(Event::Response { id, response });
                    } else {
                        self.disarm(id, &[Timer::E, Timer::F]);
                        self.set_state(id, State::ClientNonInvite(ClientNonInvite::Completed));
                        self.release_request(id);
                        self.events.push_back(Event::Response { id, response });
                        let t4 = self.config.t4;
                        self.wait_or_terminate(now, id, Timer::K, t4);
                    }
                }
                ClientNonInvite::Completed => {}
            },
            State::ServerInvite(_) | State::ServerNonInvite(_) => {}
        }
    }

    fn send_ack_of(&mut self, id: TransactionId, ack: Option<Bytes>) {
        let Some(tx) = self.get(id) else { return };
        let (transport, peer) = (tx.transport, tx.peer);
        if let Some(ack) = ack {
            self.transmit(Some(id), transport, peer, ack);
        }
    }

    /// Drops the request once the machine can no longer retransmit it
    /// (Completed, Accepted): those states last up to 64·T1, and keeping a
    /// finished call's INVITE that long would cost far more memory than
    /// the state itself.
    fn release_request(&mut self, id: TransactionId) {
        if let Some(tx) = self.get_mut(id) {
            tx.request = None;
            tx.request_bytes = Bytes::new();
        }
    }

    fn retransmit_request(&mut self, id: TransactionId) {
        if let Some(tx) = self.get(id) {
            let (t, p, b) = (tx.transport, tx.peer, tx.request_bytes.clone());
            self.transmit(Some(id), t, p, b);
        }
    }

    pub(crate) fn client_invite_timer(
        &mut self,
        now: Instant,
        id: TransactionId,
        state: ClientInvite,
        timer: Timer,
    ) {
        match (state, timer) {
            (ClientInvite::Calling { interval }, Timer::A) => {
                // §17.1.1.2: retransmit, doubling the interval (no cap for INVITE).
                self.retransmit_request(id);
                let next = interval * 2;
                self.set_state(
                    id,
                    State::ClientInvite(ClientInvite::Calling { interval: next }),
                );
                self.arm(id, Timer::A, now + next);
            }
            (ClientInvite::Calling { .. }, Timer::B) => {
                self.events.push_back(Event::Timeout { id, timer });
                self.terminate(id);
            }
            (ClientInvite::Completed, Timer::D) | (ClientInvite::Accepted, Timer::M) => {
                self.terminate(id)
            }
            _ => {}
        }
    }

    pub(crate) fn client_non_invite_timer(
        &mut self,
        now: Instant,
        id: TransactionId,
        state: ClientNonInvite,
        timer: Timer,
    ) {
        let t2 = self.config.t2;
        match (state, timer) {
            (ClientNonInvite::Trying { interval }, Timer::E) => {
                // §17.1.2.2: retransmit, doubling up to T2.
                self.retransmit_request(id);
                let next = (interval * 2).min(t2);
                self.set_state(
                    id,
                    State::ClientNonInvite(ClientNonInvite::Trying { interval: next }),
                );
                self.arm(id, Timer::E, now + next);
            }
            (ClientNonInvite::Proceeding { .. }, Timer::E) => {
                // In Proceeding the interval is T2.
                self.retransmit_request(id);
                self.set_state(
                    id,
                    State::ClientNonInvite(ClientNonInvite::Proceeding { interval: t2 }),
                );
                self.arm(id, Timer::E, now + t2);
            }
            (ClientNonInvite::Trying { .. } | ClientNonInvite::Proceeding { .. }, Timer::F) => {
                self.events.push_back(Event::Timeout { id, timer });
                self.terminate(id);
            }
            (ClientNonInvite::Completed, Timer::K) => self.terminate(id),
            _ => {}
        }
    }
}

/// The ACK for a non-2xx final response, built by the client transaction
/// (RFC 3261 §17.1.1.3): the INVITE's Request-URI, Call-ID, From, top Via and
/// Route headers, the response's To, and CSeq with method ACK.
fn build_ack(invite: Option<&Message>, response: &Message) -> Option<Bytes> {
    let invite = invite?;
    let uri = invite.request_uri_str()?;
    let raw = |m: &Message, n: HeaderName| {
        m.raw_header(n)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    let cseq = invite.header::<sip_core::header::CSeq>()?.ok()?;
    let top_via = invite
        .header::<sip_core::header::Via<'_>>()?
        .ok()?
        .to_string();
    let mut b = Builder::request(Method::Ack, uri)
        .header("Via", top_via)
        .header("Max-Forwards", 70)
        .header("From", raw(invite, HeaderName::From)?)
        .header("To", raw(response, HeaderName::To)?)
        .header("Call-ID", raw(invite, HeaderName::CallId)?)
        .header("CSeq", format!("{} ACK", cseq.seq));
    for route in invite.fields_named(HeaderName::Route) {
        b = b.header("Route", String::from_utf8_lossy(route.value));
    }
    b.build().ok().map(|m| m.to_bytes())
}
