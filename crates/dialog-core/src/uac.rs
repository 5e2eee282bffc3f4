//! The client half of the dialog layer: responses to our requests (RFC 3261
//! §12.1.2, §13.2.2, §14.1; RFC 3262 §4; RFC 4028 §7), plus the event pump
//! and the layer's timers.

use std::time::{Duration, Instant};

use sip_core::header::{HeaderName, RSeq};
use sip_core::{Message, Method, StatusCode};
use transaction_core::TransactionId;

use crate::layer::{AnsweredInvite, ClientInvite, ClientRequest, DialogEvent, Due, Event};
use crate::usage::{
    EndReason, Retry, Session, Usage, allows, cseq, min_se, outgoing_dialog_id, requires,
    session_deadline, session_expires,
};
use crate::{Dialog, DialogId, DialogLayer};

impl DialogLayer {
    /// Handles every pending transaction event.
    pub(crate) fn drain(&mut self, now: Instant) {
        while let Some(e) = self.tx.poll_event() {
            use transaction_core::Event as T;
            match e {
                T::Request {
                    id,
                    request,
                    source,
                    cancels,
                } => self.on_request(now, id, request, source, cancels),
                T::Response { id, response } => self.on_response(now, id, response),
                T::Ack { request, .. } => self.on_ack(request),
                T::StrayResponse { response } => self.on_stray(now, response),
                T::Timeout { id, .. } => {
                    self.on_failure(id, StatusCode::REQUEST_TIMEOUT, Event::Timeout { id })
                }
                T::TransportError { id } => self.on_failure(
                    id,
                    StatusCode::SERVICE_UNAVAILABLE,
                    Event::TransportError { id },
                ),
                T::Terminated { id } => self.on_terminated(id),
            }
        }
    }

    fn on_response(&mut self, now: Instant, id: TransactionId, response: Message) {
        if self.cancels.contains(&id) {
            return;
        }
        if self.client_invites.contains_key(&id) || self.answered_invites.contains_key(&id) {
            self.on_invite_response(now, id, response);
            return;
        }
        if self.client_subscribes.contains_key(&id) {
            self.on_subscribe_response(id, response);
            return;
        }
        let Some(code) = response.status() else {
            return;
        };
        let Some(req) = self.client_requests.get(&id) else {
            self.events.push_back(Event::Response {
                id,
                response,
                dialog: None,
            });
            return;
        };
        // After its final response a non-INVITE transaction passes nothing
        // more up (it absorbs retransmissions until Timer K): the record
        // goes now. An INVITE's stays for retransmitted 2xx.
        let req = if code.is_final() && req.method != Method::Invite {
            self.client_requests.remove(&id)
        } else {
            Some(req.clone())
        };
        let Some(ClientRequest {
            dialog,
            method,
            body,
            report,
        }) = req
        else {
            return;
        };
        if code.is_success() && method == Method::Invite && self.acked(&dialog, &response) {
            return; // a retransmitted 2xx: ACKed again, reported once
        }
        if code.is_final() {
            self.on_dialog_final(now, id, &dialog, &method, code, &response, body);
        }
        if report {
            self.events.push_back(Event::Response {
                id,
                response,
                dialog: Some(dialog),
            });
        }
    }

    /// A response to our SUBSCRIBE or REFER outside a dialog: a 2xx makes
    /// (or finds, when a NOTIFY came first) the subscription dialog.
    fn on_subscribe_response(&mut self, id: TransactionId, response: Message) {
        let Some(sub) = self.client_subscribes.get(&id) else {
            return;
        };
        let target = sub.target;
        let dialog = response
            .status()
            .is_some_and(StatusCode::is_success)
            .then(|| Dialog::from_uac(&sub.request, &response).ok())
            .flatten()
            .map(|d| self.add_subscription(d, target));
        self.events.push_back(Event::Response {
            id,
            response,
            dialog,
        });
    }

    /// True when `response` is a retransmitted 2xx we already ACKed (the
    /// ACK is sent again).
    fn acked(&mut self, dialog: &DialogId, response: &Message) -> bool {
        let seq = cseq(response).map(|c| c.seq);
        let Some(usage) = self.usages.get(dialog) else {
            return false;
        };
        match &usage.ack {
            Some((s, ack, target)) if Some(*s) == seq => {
                self.tx.send_ack(ack.clone(), *target);
                true
            }
            _ => false,
        }
    }

    /// A final response to our request inside a dialog.
    #[allow(clippy::too_many_arguments)]
    fn on_dialog_final(
        &mut self,
        now: Instant,
        id: TransactionId,
        dialog: &DialogId,
        method: &Method,
        code: StatusCode,
        response: &Message,
        body: Option<(bytes::Bytes, String)>,
    ) {
        let offer = matches!(method, Method::Invite | Method::Update);
        let Some(usage) = self.usages.get_mut(dialog) else {
            return;
        };
        if offer && usage.outgoing == Some(id) {
            usage.outgoing = None;
        }
        if code.is_success() {
            if *method == Method::Invite {
                usage.on_response(response);
                self.send_ack(dialog, response);
            }
            if offer {
                let session = self.uac_session(response);
                let refreshed = self.usages.get(dialog).is_some_and(|u| u.session.is_some());
                self.start_session(now, dialog, session);
                if refreshed {
                    self.dialog_event(|| DialogEvent::Refreshed {
                        dialog: dialog.clone(),
                    });
                }
            }
            return;
        }
        match code.0 {
            481 | 408 => self.end(dialog, EndReason::Failed(code)),
            491 if offer => {
                let retry = Retry {
                    previous: id,
                    method: method.clone(),
                    body,
                };
                self.schedule_retry(now, dialog, retry);
            }
            _ => {}
        }
    }

    /// The ACK for a 2xx to our INVITE in `dialog` (§13.2.2.4), kept to be
    /// sent again for retransmissions of the 2xx.
    fn send_ack(&mut self, dialog: &DialogId, response: &Message) {
        let Some(seq) = cseq(response).map(|c| c.seq) else {
            return;
        };
        let branch = self.random();
        let Some(usage) = self.usages.get_mut(dialog) else {
            return;
        };
        let target = usage.target();
        let via = self.me.via(target.transport, branch);
        let ack = usage
            .dialog
            .ack(seq)
            .header("Via", via)
            .header("Max-Forwards", 70)
            .build();
        if let Ok(ack) = ack {
            self.tx.send_ack(ack.clone(), target);
            usage.ack = Some((seq, ack, target));
        }
    }

    /// Responses to our INVITE outside a dialog: a dialog per To tag, the
    /// first 2xx chosen, later forks ACKed and ended with BYE.
    fn on_invite_response(&mut self, now: Instant, id: TransactionId, response: Message) {
        let Some(code) = response.status() else {
            return;
        };
        if self.answered_invites.contains_key(&id) {
            self.on_late_2xx(now, id, &response);
            return;
        }
        let mut dialog = None;
        let mut created = false;
        let Some(ci) = self.client_invites.get_mut(&id) else {
            return;
        };
        if code.is_provisional() {
            ci.provisional = true;
            if ci.cancel_pending {
                self.send_cancel(now, id);
            }
        }
        let to_tag = response.tag(HeaderName::To).map(str::to_owned);
        if code.0 > 100
            && code.0 < 300
            && let Some(tag) = to_tag
        {
            match self.fork_dialog(id, &response, tag) {
                Some((d, new)) => (dialog, created) = (Some(d), new),
                None => return,
            }
        }
        if code.is_provisional() {
            if let Some(d) = &dialog
                && requires(&response, "100rel")
                && !self.prack(now, d, &response)
            {
                return; // a retransmitted reliable provisional
            }
        } else if code.is_success() {
            let Some(d) = dialog.clone() else { return };
            self.answered(id, Some(&d));
            if let Some(u) = self.usages.get_mut(&d) {
                u.on_response(&response);
                u.peer_allows_update = allows(&response, "UPDATE");
            }
            self.send_ack(&d, &response);
            if !created {
                self.dialog_event(|| DialogEvent::Confirmed { dialog: d.clone() });
            }
            let session = self.uac_session(&response);
            self.start_session(now, &d, session);
        } else {
            self.end_early(id, code);
            let retried = code == StatusCode::SESSION_INTERVAL_TOO_SMALL
                && self.retry_422(now, id, &response);
            self.answered(id, None);
            if retried {
                return;
            }
        }
        self.events.push_back(Event::Response {
            id,
            response,
            dialog,
        });
    }

    /// A final non-2xx (or no answer): the dialogs our INVITE made end.
    fn end_early(&mut self, id: TransactionId, code: StatusCode) {
        let early = self
            .client_invites
            .get_mut(&id)
            .map(|ci| std::mem::take(&mut ci.dialogs))
            .unwrap_or_default();
        for d in &early {
            self.end(d, EndReason::Rejected(code));
        }
    }

    /// Our INVITE has its final response: its record shrinks to what the
    /// rest of its transaction's life needs (see [`AnsweredInvite`]).
    fn answered(&mut self, id: TransactionId, chosen: Option<&DialogId>) {
        let Some(ci) = self.client_invites.remove(&id) else {
            return;
        };
        // `dialogs` is already exact: fork_dialog reserves one at a time.
        let ClientInvite {
            request,
            target,
            dialogs,
            ..
        } = *ci;
        let chosen = chosen.and_then(|c| dialogs.iter().position(|d| d == c));
        let answered = AnsweredInvite {
            request: request.to_bytes(),
            target,
            seq: cseq(&request).map(|c| c.seq),
            dialogs,
            chosen,
        };
        self.answered_invites.insert(id, Box::new(answered));
    }

    /// A 2xx to our INVITE after its first (the transaction is Accepted
    /// and passes up only 2xx): a retransmission of the chosen one is
    /// ACKed again; any other fork is ACKed and ended with BYE (§13.2.2.4).
    fn on_late_2xx(&mut self, now: Instant, id: TransactionId, response: &Message) {
        let Some(tag) = response.tag(HeaderName::To) else {
            return;
        };
        let Some(ai) = self.answered_invites.get(&id) else {
            return;
        };
        let chosen = ai.chosen.and_then(|i| ai.dialogs.get(i));
        if let Some(d) = chosen.filter(|d| d.remote_tag == tag).cloned() {
            self.acked(&d, response);
            return;
        }
        let live = ai
            .dialogs
            .iter()
            .find(|d| d.remote_tag == tag && self.usages.contains_key(*d))
            .cloned();
        let d = match live {
            Some(d) => d,
            None => {
                // A fork not heard from before (or ended already and
                // retransmitting): a dialog just long enough to ACK and BYE.
                let (request, target) = (ai.request.clone(), ai.target);
                let Ok(request) = Message::parse(request) else {
                    return;
                };
                let Ok(dialog) = Dialog::from_uac(&request, response) else {
                    return;
                };
                let (did, state) = (dialog.id().clone(), dialog.state());
                self.usages.insert(did.clone(), Usage::new(dialog, target));
                self.dialog_event(|| DialogEvent::Created {
                    dialog: did.clone(),
                    state,
                });
                did
            }
        };
        self.send_ack(&d, response);
        self.send_own(now, &d, Method::Bye, &[], None);
        self.end(&d, EndReason::ForkNotChosen);
    }

    /// The dialog a 1xx/2xx with `tag` belongs to, created if new (then
    /// the second value is true).
    fn fork_dialog(
        &mut self,
        id: TransactionId,
        response: &Message,
        tag: String,
    ) -> Option<(DialogId, bool)> {
        let ci = self.client_invites.get_mut(&id)?;
        let local_tag = ci.request.tag(HeaderName::From)?.to_owned();
        let did = DialogId {
            call_id: ci.request.call_id()?.to_owned(),
            local_tag,
            remote_tag: tag,
        };
        if let Some(u) = self.usages.get_mut(&did) {
            if response.status().is_some_and(|c| c.is_provisional()) {
                u.on_response(response);
            }
            return Some((did, false));
        }
        let dialog = Dialog::from_uac(&ci.request, response).ok()?;
        let state = dialog.state();
        let mut usage = Usage::new(dialog, ci.target);
        usage.peer_allows_update = allows(response, "UPDATE");
        // Usually the only one: no room for more until a fork shows up.
        ci.dialogs.reserve_exact(1);
        ci.dialogs.push(did.clone());
        self.usages.insert(did.clone(), usage);
        self.dialog_event(|| DialogEvent::Created {
            dialog: did.clone(),
            state,
        });
        Some((did, true))
    }

    /// RFC 3262 §4: PRACK a reliable provisional with the next RSeq.
    /// Returns false for a retransmission (or out of order: dropped).
    fn prack(&mut self, now: Instant, dialog: &DialogId, response: &Message) -> bool {
        let Some(rseq) = response.header::<RSeq>().and_then(Result::ok).map(|r| r.0) else {
            return true;
        };
        let Some(invite_seq) = cseq(response).map(|c| c.seq) else {
            return true;
        };
        let Some(usage) = self.usages.get_mut(dialog) else {
            return true;
        };
        if usage
            .last_rseq
            .is_some_and(|last| rseq != last.wrapping_add(1))
        {
            return false;
        }
        usage.last_rseq = Some(rseq);
        let rack = format!("{rseq} {invite_seq} INVITE");
        self.send_own(now, dialog, Method::Prack, &[("RAck", rack)], None);
        true
    }

    /// RFC 4028 §7.4: retry the INVITE once with the peer's Min-SE.
    fn retry_422(&mut self, now: Instant, id: TransactionId, response: &Message) -> bool {
        let Some(ci) = self.client_invites.get(&id) else {
            return false;
        };
        let Some(floor) = min_se(response) else {
            return false;
        };
        let asked = session_expires(&ci.request).map_or(0, |(s, _)| s);
        if floor <= asked {
            return false;
        }
        let mut request = ci.request.clone();
        let target = ci.target;
        let seq = cseq(&request).map_or(1, |c| c.seq + 1);
        request.set_header("CSeq", format_args!("{seq} INVITE"));
        request.set_header("Session-Expires", floor);
        request.set_header("Min-SE", floor);
        let via = self.via(target.transport);
        request.set_header("Via", via);
        if let Ok(new) = self.send_request(now, request, target) {
            self.events.push_back(Event::Retrying {
                previous: id,
                id: new,
            });
            return true;
        }
        false
    }

    /// The session a 2xx to our INVITE or UPDATE sets up: the refresher is
    /// whoever it names (RFC 4028 §7.2); none when it has no
    /// Session-Expires and we asked for none.
    fn uac_session(&self, response: &Message) -> Option<Session> {
        let (secs, we_refresh) = match session_expires(response) {
            Some((s, r)) => (s, r.unwrap_or(true)),
            None => (self.config.session_expires?.as_secs() as u32, true),
        };
        Some(Session {
            interval: Duration::from_secs(u64::from(secs.max(1))),
            we_refresh,
            generation: 0,
        })
    }

    /// (Re)starts a dialog's session timer.
    pub(crate) fn start_session(
        &mut self,
        now: Instant,
        dialog: &DialogId,
        session: Option<Session>,
    ) {
        let Some(mut s) = session else { return };
        let Some(usage) = self.usages.get_mut(dialog) else {
            return;
        };
        s.generation = usage.session.map_or(1, |old| old.generation + 1);
        usage.session = Some(s);
        self.schedule(
            now + session_deadline(&s),
            Due::Session(dialog.clone(), s.generation),
        );
    }

    fn on_stray(&mut self, now: Instant, response: Message) {
        // A 2xx retransmission after our INVITE transaction ended: ACK
        // again if it is a dialog we hold (§13.2.2.4).
        let _ = now;
        if response.status().is_some_and(|c| c.is_success())
            && let Some(d) = outgoing_dialog_id(&response)
        {
            self.acked(&d, &response);
        }
    }

    fn on_failure(&mut self, id: TransactionId, code: StatusCode, event: Event) {
        if self.cancels.contains(&id) {
            return;
        }
        if self.client_invites.contains_key(&id) {
            self.end_early(id, code);
            self.answered(id, None);
            self.events.push_back(event);
            return;
        }
        if let Some(ClientRequest { dialog, report, .. }) = self.client_requests.get(&id) {
            let (dialog, report) = (dialog.clone(), *report);
            if let Some(u) = self.usages.get_mut(&dialog)
                && u.outgoing == Some(id)
            {
                u.outgoing = None;
            }
            // §12.2.1.2: a timed-out in-dialog request ends the dialog.
            self.end(&dialog, EndReason::Failed(code));
            if report {
                self.events.push_back(event);
            }
            return;
        }
        self.events.push_back(event);
    }

    fn on_terminated(&mut self, id: TransactionId) {
        self.cancels.remove(&id);
        self.answering.remove(&id);
        self.client_requests.remove(&id);
        self.subscription_flows.remove(&id);
        if let Some(sub) = self.client_subscribes.remove(&id) {
            self.subscribe_index.remove(&sub.key);
        }
        let invite = match self.client_invites.remove(&id) {
            Some(ci) => Some((cseq(&ci.request).map(|c| c.seq), ci.dialogs)),
            None => self
                .answered_invites
                .remove(&id)
                .map(|a| (a.seq, a.dialogs)),
        };
        if let Some((seq, dialogs)) = invite {
            // Forks that never answered 2xx end with the transaction.
            for d in &dialogs {
                if self.usages.get(d).is_some_and(Usage::is_early) {
                    self.end(d, EndReason::ForkNotChosen);
                } else if let Some(u) = self.usages.get_mut(d)
                    && u.ack.as_ref().map(|a| Some(a.0)) == Some(seq)
                {
                    // Past 64·T1 no retransmitted 2xx can come: the ACK
                    // kept to answer them goes.
                    u.ack = None;
                }
            }
        }
        if let Some(si) = self.server_invites.remove(&id)
            && !si.answered
            && let Some(d) = si.dialog
        {
            self.end(&d, EndReason::Rejected(StatusCode::REQUEST_TIMEOUT));
        }
        if let Some((d, _)) = self.server_requests.remove(&id)
            && let Some(u) = self.usages.get_mut(&d)
            && u.incoming == Some(id)
        {
            u.incoming = None;
        }
    }

    /// Runs a layer timer.
    pub(crate) fn fire(&mut self, now: Instant, key: u64, due: Due) {
        match due {
            Due::Ok(d) => self.fire_retransmit(now, key, &d, true),
            Due::Reliable(d) => self.fire_retransmit(now, key, &d, false),
            Due::Retry(d) => {
                let Some(retry) = self.usages.get_mut(&d).and_then(|u| u.retry.take()) else {
                    return;
                };
                let sent = self.request(&d, retry.method.clone()).and_then(|b| {
                    let b = match &retry.body {
                        Some((body, ct)) => b.body(body.clone(), ct),
                        None => b,
                    };
                    let request = b.build()?;
                    self.send_in_dialog(now, d.clone(), request, true)
                });
                self.events.push_back(match sent {
                    Ok(id) => Event::Retrying {
                        previous: retry.previous,
                        id,
                    },
                    Err(_) => Event::NotRetried {
                        previous: retry.previous,
                    },
                });
            }
            Due::Session(d, generation) => {
                let Some(usage) = self.usages.get(&d) else {
                    return;
                };
                let Some(s) = usage.session.filter(|s| s.generation == generation) else {
                    return;
                };
                if s.we_refresh {
                    let method = if usage.peer_allows_update {
                        Method::Update
                    } else {
                        Method::Invite
                    };
                    if usage.outgoing.is_some() {
                        // An offer is in progress; try again shortly.
                        self.schedule(now + self.config.timers.t1, Due::Session(d, generation));
                        return;
                    }
                    self.send_own(now, &d, method, &[], None);
                } else {
                    // RFC 4028 §10: no refresh in time.
                    self.send_own(
                        now,
                        &d,
                        Method::Bye,
                        &[(
                            "Reason",
                            "SIP;cause=408;text=\"Session expired\"".to_owned(),
                        )],
                        None,
                    );
                    self.end(&d, EndReason::SessionExpired);
                }
            }
        }
    }
}
