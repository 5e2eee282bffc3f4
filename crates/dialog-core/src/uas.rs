//! The server half of the dialog layer: requests from the network and the
//! TU's answers to them (RFC 3261 §12.2.2, §13.3, §14.2, §15.1.2; RFC 3262
//! §3; RFC 4028 §9).

use std::net::SocketAddr;
use std::time::Instant;

use sip_core::builder::response_to;
use sip_core::header::{HeaderName, RAck, To};
use sip_core::{Message, Method, StatusCode};
use transaction_core::{Target, TransactionId};

use crate::layer::{DialogEvent, Due, Event, ServerInvite};
use crate::usage::{
    EndReason, Resend, Session, Usage, UsageKind, allows, cseq, min_se, requires, session_expires,
    supports, unsupported, via_transport,
};
use crate::{Dialog, DialogId, DialogLayer, DialogState, Match};

/// Option tags we implement (Require checks, §8.2.2.3).
const KNOWN: &[&str] = &["100rel", "timer"];

impl DialogLayer {
    /// Answers a request the TU never sees.
    fn refuse(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: &Message,
        code: StatusCode,
        extra: &[(&str, String)],
    ) {
        let mut b =
            response_to(request, code, Some("rvoip-nd")).header("Server", &self.config.user_agent);
        for (name, value) in extra {
            b = b.header(name, value);
        }
        if let Ok(r) = b.build() {
            let _ = self.tx.send_response(now, id, r);
        }
    }

    /// 481: the request names a dialog or transaction we do not have.
    fn no_such(&mut self, now: Instant, id: TransactionId, request: &Message) {
        self.refuse(
            now,
            id,
            request,
            StatusCode::CALL_OR_TRANSACTION_DOES_NOT_EXIST,
            &[],
        );
    }

    /// Hands a request to the TU, keeping it to start the answer with
    /// (INVITE and in-dialog INVITE/UPDATE are kept by their own tables).
    fn report(
        &mut self,
        id: TransactionId,
        request: Message,
        source: Target,
        dialog: Option<DialogId>,
    ) {
        if !self.server_invites.contains_key(&id) && !self.server_requests.contains_key(&id) {
            self.answering.insert(id, request.clone());
        }
        self.events.push_back(Event::Request {
            id,
            request,
            source,
            dialog,
        });
    }

    pub(crate) fn on_request(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: Message,
        source: SocketAddr,
        cancels: Option<TransactionId>,
    ) {
        let flow = Target {
            transport: via_transport(&request),
            addr: source,
        };
        let Some(method) = request.method().cloned() else {
            return;
        };
        if method == Method::Cancel {
            self.on_cancel(now, id, &request, cancels);
            return;
        }
        match crate::table::classify(&request) {
            Match::Dialog(dialog) if self.usages.contains_key(&dialog) => {
                self.on_dialog_request(now, id, request, flow, dialog, method);
            }
            // RFC 6665 §4.1.2.4: a NOTIFY may overtake the 2xx to our
            // SUBSCRIBE (or REFER); it creates the dialog.
            Match::Dialog(named) => match self.early_notify(&request, named, flow) {
                Some(dialog) => self.on_dialog_request(now, id, request, flow, dialog, method),
                None => self.no_such(now, id, &request),
            },
            Match::Unknown => self.no_such(now, id, &request),
            Match::OutOfDialog => {
                let bad = unsupported(&request, KNOWN);
                if !bad.is_empty() {
                    let list = bad.join(", ");
                    self.refuse(
                        now,
                        id,
                        &request,
                        StatusCode::BAD_EXTENSION,
                        &[("Unsupported", list)],
                    );
                    return;
                }
                if method == Method::Invite {
                    let floor = self.config.min_se.as_secs() as u32;
                    if session_expires(&request).is_some_and(|(se, _)| se < floor) {
                        // RFC 4028 §8.1.
                        self.refuse(
                            now,
                            id,
                            &request,
                            StatusCode::SESSION_INTERVAL_TOO_SMALL,
                            &[("Min-SE", floor.to_string())],
                        );
                        return;
                    }
                    let tag = self.new_token();
                    self.server_invites.insert(
                        id,
                        ServerInvite {
                            request: request.clone(),
                            flow,
                            tag,
                            answered: false,
                            dialog: None,
                        },
                    );
                }
                if crate::usage::subscribes(&method) {
                    self.subscription_flows.insert(id, flow);
                }
                self.report(id, request, flow, None);
            }
        }
    }

    fn classify(&self, request: &Message) -> Match {
        let m = crate::table::classify(request);
        match m {
            Match::Dialog(id) if !self.usages.contains_key(&id) => Match::Unknown,
            other => other,
        }
    }

    fn on_cancel(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: &Message,
        cancels: Option<TransactionId>,
    ) {
        let Some(invite) = cancels else {
            self.no_such(now, id, request);
            return;
        };
        self.refuse(now, id, request, StatusCode::OK, &[]);
        let Some(si) = self.server_invites.get_mut(&invite) else {
            return;
        };
        if si.answered {
            return;
        }
        si.answered = true;
        let dialog = si.dialog.take();
        if let Ok(r) =
            response_to(&si.request, StatusCode::REQUEST_TERMINATED, Some(&si.tag)).build()
        {
            let _ = self.tx.send_response(now, invite, r);
        }
        if let Some(d) = dialog {
            self.end(&d, EndReason::Cancelled);
        }
        self.events
            .push_back(Event::Dialog(DialogEvent::Cancelled { invite }));
    }

    fn on_dialog_request(
        &mut self,
        now: Instant,
        id: TransactionId,
        request: Message,
        flow: Target,
        dialog: DialogId,
        method: Method,
    ) {
        let Some(usage) = self.usages.get_mut(&dialog) else {
            return;
        };
        if let Err(e) = usage.on_request(&request, flow) {
            self.refuse(now, id, &request, e.status(), &[]);
            return;
        }
        match method {
            Method::Bye => {
                let unanswered = usage.invite.take();
                self.refuse(now, id, &request, StatusCode::OK, &[]);
                if let Some(invite) = unanswered {
                    // §15.1.2: BYE in an early dialog ends the INVITE with 487.
                    self.answer_invite_with(now, invite, StatusCode::REQUEST_TERMINATED);
                }
                self.end(&dialog, EndReason::RemoteBye);
            }
            Method::Invite | Method::Update => {
                if usage.outgoing.is_some() {
                    // §14.1 / RFC 3311 §5.2: glare.
                    self.refuse(now, id, &request, StatusCode::REQUEST_PENDING, &[]);
                    return;
                }
                if usage.incoming.is_some() || (method == Method::Invite && usage.ok.is_some()) {
                    // §14.2: one offer at a time from the peer too.
                    let wait = self.random() % 10;
                    self.refuse(
                        now,
                        id,
                        &request,
                        StatusCode::SERVER_INTERNAL_ERROR,
                        &[("Retry-After", wait.to_string())],
                    );
                    return;
                }
                usage.incoming = Some(id);
                self.server_requests
                    .insert(id, (dialog.clone(), request.clone()));
                self.report(id, request, flow, Some(dialog));
            }
            Method::Prack => self.on_prack(now, id, &request, &dialog),
            Method::Notify => {
                let last = crate::usage::terminates_subscription(&request)
                    && usage.kind == UsageKind::Subscription;
                self.report(id, request, flow, Some(dialog.clone()));
                if last {
                    // The TU still answers the NOTIFY; the dialog is done.
                    self.end(&dialog, EndReason::SubscriptionTerminated);
                }
            }
            _ => self.report(id, request, flow, Some(dialog)),
        }
    }

    /// The dialog a NOTIFY creates when it matches a SUBSCRIBE or REFER of
    /// ours still waiting for its final response: same Call-ID, its To tag
    /// our From tag.
    fn early_notify(
        &mut self,
        request: &Message,
        named: DialogId,
        flow: Target,
    ) -> Option<DialogId> {
        if request.method() != Some(&Method::Notify) {
            return None;
        }
        let key = (named.call_id, named.local_tag);
        let sub = self.subscribe_index.get(&key)?;
        let seq = cseq(&self.client_subscribes.get(sub)?.request).map(|c| c.seq);
        let did = self.create_subscription(request, &key.1, flow)?;
        if let (Some(u), Some(seq)) = (self.usages.get_mut(&did), seq) {
            // Our requests in this dialog continue from the SUBSCRIBE's CSeq.
            u.dialog.continue_local_seq(seq);
        }
        Some(did)
    }

    /// RFC 3262 §3: a PRACK whose RAck names our pending reliable
    /// provisional stops its retransmission; anything else gets 481.
    fn on_prack(&mut self, now: Instant, id: TransactionId, request: &Message, dialog: &DialogId) {
        let rack = request.header::<RAck>().and_then(Result::ok);
        let Some(usage) = self.usages.get_mut(dialog) else {
            return;
        };
        let matches = match (&usage.reliable, rack) {
            (Some(r), Some(rack)) => {
                rack.rseq == r.seq
                    && rack.method == Method::Invite
                    && cseq(&r.response).is_some_and(|c| c.seq == rack.cseq)
            }
            _ => false,
        };
        if !matches {
            self.no_such(now, id, request);
            return;
        }
        usage.reliable = None;
        let next = usage.queued.pop_front();
        self.refuse(now, id, request, StatusCode::OK, &[]);
        if let Some((invite, response)) = next {
            self.send_reliable(now, dialog, invite, response);
        }
    }

    pub(crate) fn on_ack(&mut self, request: Message) {
        let Match::Dialog(dialog) = self.classify(&request) else {
            return;
        };
        let seq = cseq(&request).map(|c| c.seq);
        let Some(usage) = self.usages.get_mut(&dialog) else {
            return;
        };
        if usage.ok.as_ref().is_some_and(|ok| Some(ok.seq) == seq) {
            usage.ok = None;
            self.dialog_event(|| DialogEvent::Ack { dialog, request });
        }
    }

    /// Sends a final response to an unanswered INVITE the TU no longer can.
    fn answer_invite_with(&mut self, now: Instant, invite: TransactionId, code: StatusCode) {
        if let Some(si) = self.server_invites.get_mut(&invite)
            && !si.answered
        {
            si.answered = true;
            if let Ok(r) = response_to(&si.request, code, Some(&si.tag)).build() {
                let _ = self.tx.send_response(now, invite, r);
            }
        }
    }

    pub(crate) fn respond_invite(
        &mut self,
        now: Instant,
        id: TransactionId,
        mut response: Message,
    ) -> Result<(), crate::Error> {
        let code = status_of(&response)?;
        let si = self
            .server_invites
            .get(&id)
            .ok_or(crate::Error::UnknownTransaction)?;
        if code.0 == 100 {
            return Ok(self.tx.send_response(now, id, response)?);
        }
        add_tag(&mut response, &si.tag);
        // What the answer needs from the INVITE, read before anything changes.
        let reliable = code.is_provisional()
            && self.config.reliable_provisionals
            && supports(&si.request, "100rel")
            && (requires(&response, "100rel") || requires(&si.request, "100rel"));
        let session = if code.is_success() {
            self.uas_session(&si.request, &mut response)
        } else {
            None
        };
        let invite_seq = cseq(&si.request).map_or(0, |c| c.seq);
        let dialog = match &si.dialog {
            Some(d) => Some(d.clone()),
            None if code.0 < 300 => Some(self.create_uas_dialog(id)?),
            None => None,
        };
        if code.is_provisional() {
            if reliable && let Some(d) = dialog {
                let Some(usage) = self.usages.get_mut(&d) else {
                    return Ok(());
                };
                if usage.reliable.is_some() {
                    usage.queued.push_back((id, response));
                } else {
                    self.send_reliable(now, &d, id, response);
                }
                return Ok(());
            }
            return Ok(self.tx.send_response(now, id, response)?);
        }
        if let Some(si) = self.server_invites.get_mut(&id) {
            si.answered = true;
        }
        let Some(d) = dialog else {
            return Ok(self.tx.send_response(now, id, response)?);
        };
        if !code.is_success() {
            self.tx.send_response(now, id, response)?;
            self.end(&d, EndReason::Rejected(code));
            return Ok(());
        }
        self.tx.send_response(now, id, response.clone())?;
        let t1 = self.config.timers.t1;
        let timer = self.schedule(now + t1, Due::Ok(d.clone()));
        if let Some(usage) = self.usages.get_mut(&d) {
            usage.invite = None;
            usage.reliable = None;
            usage.queued.clear();
            usage.dialog.confirm();
            usage.ok = Some(Resend::new(id, response, invite_seq, now, t1, timer));
        }
        self.dialog_event(|| DialogEvent::Confirmed { dialog: d.clone() });
        self.start_session(now, &d, session);
        Ok(())
    }

    /// The early UAS dialog of INVITE `id`, made when its first 1xx or 2xx
    /// with our tag goes out (§12.1.1).
    fn create_uas_dialog(&mut self, id: TransactionId) -> Result<DialogId, crate::Error> {
        let si = self
            .server_invites
            .get_mut(&id)
            .ok_or(crate::Error::UnknownTransaction)?;
        let dialog = Dialog::from_uas(&si.request, &si.tag, StatusCode::RINGING)
            .map_err(|e| crate::Error::Malformed(e.to_string()))?;
        let did = dialog.id().clone();
        let mut usage = Usage::new(dialog, si.flow);
        usage.invite = Some(id);
        usage.peer_allows_update = allows(&si.request, "UPDATE");
        si.dialog = Some(did.clone());
        self.usages.insert(did.clone(), usage);
        self.dialog_event(|| DialogEvent::Created {
            dialog: did.clone(),
            state: DialogState::Early,
        });
        Ok(did)
    }

    /// Answers the peer's in-dialog INVITE or UPDATE: a 2xx refreshes the
    /// session timer, and for INVITE is retransmitted until the ACK.
    pub(crate) fn respond_in_dialog(
        &mut self,
        now: Instant,
        id: TransactionId,
        mut response: Message,
    ) -> Result<(), crate::Error> {
        let code = status_of(&response)?;
        if !code.is_final() {
            return Ok(self.tx.send_response(now, id, response)?);
        }
        let Some((dialog, request)) = self.server_requests.remove(&id) else {
            return Err(crate::Error::UnknownTransaction);
        };
        if let Some(u) = self.usages.get_mut(&dialog) {
            u.incoming = None;
        }
        if !code.is_success() {
            return Ok(self.tx.send_response(now, id, response)?);
        }
        let session = self.uas_session(&request, &mut response);
        self.tx.send_response(now, id, response.clone())?;
        if request.method() == Some(&Method::Invite) {
            let t1 = self.config.timers.t1;
            let timer = self.schedule(now + t1, Due::Ok(dialog.clone()));
            if let Some(u) = self.usages.get_mut(&dialog) {
                let seq = cseq(&request).map_or(0, |c| c.seq);
                u.ok = Some(Resend::new(id, response, seq, now, t1, timer));
            }
        }
        self.start_session(now, &dialog, session);
        Ok(())
    }

    /// RFC 4028 §9: the session interval and refresher a 2xx states, added
    /// to it when the TU did not: the request's, or ours if the peer
    /// supports timers; the refresher the request named, else the UAC if
    /// it supports timers, else us.
    fn uas_session(&self, request: &Message, response: &mut Message) -> Option<Session> {
        let theirs = session_expires(request);
        let (secs, refresher_uac) = match session_expires(response) {
            Some((s, r)) => (s, r.unwrap_or(false)),
            None => {
                let peer_timer = supports(request, "timer");
                let secs = match (theirs, self.config.session_expires) {
                    (Some((s, _)), _) => s,
                    (None, Some(ours)) => ours.as_secs() as u32,
                    (None, None) => return None,
                };
                let secs = secs.max(min_se(request).unwrap_or(0));
                let uac = theirs.and_then(|(_, r)| r).unwrap_or(peer_timer);
                let who = if uac { "uac" } else { "uas" };
                response.push_header("Session-Expires", format_args!("{secs};refresher={who}"));
                if uac {
                    response.push_header("Require", "timer");
                }
                (secs, uac)
            }
        };
        Some(Session {
            interval: std::time::Duration::from_secs(u64::from(secs.max(1))),
            we_refresh: !refresher_uac,
            generation: 0,
        })
    }

    /// Sends a reliable provisional with the next RSeq and retransmits it
    /// until its PRACK (RFC 3262 §3).
    pub(crate) fn send_reliable(
        &mut self,
        now: Instant,
        dialog: &DialogId,
        id: TransactionId,
        mut response: Message,
    ) {
        let t1 = self.config.timers.t1;
        let timer = self.schedule(now + t1, Due::Reliable(dialog.clone()));
        let Some(usage) = self.usages.get_mut(dialog) else {
            return;
        };
        let rseq = usage.next_rseq;
        usage.next_rseq = rseq.wrapping_add(1);
        if !requires(&response, "100rel") {
            response.push_header("Require", "100rel");
        }
        response.set_header("RSeq", rseq);
        let _ = self.tx.send_response(now, id, response.clone());
        usage.reliable = Some(Resend::new(id, response, rseq, now, t1, timer));
    }

    /// Retransmits a 2xx or a reliable 1xx, or gives up after 64·T1.
    pub(crate) fn fire_retransmit(&mut self, now: Instant, key: u64, dialog: &DialogId, ok: bool) {
        let timers = self.config.timers;
        let Some(usage) = self.usages.get_mut(dialog) else {
            return;
        };
        let slot = if ok {
            &mut usage.ok
        } else {
            &mut usage.reliable
        };
        let Some(pending) = slot.as_mut().filter(|p| p.timer == key) else {
            return;
        };
        if now.duration_since(pending.since) >= timers.t1x64() {
            *slot = None;
            if ok {
                // §13.3.1.4: confirmed but never ACKed: end the session.
                self.send_own(now, dialog, Method::Bye, &[], None);
                self.end(dialog, EndReason::NoAck);
            } else {
                usage.queued.clear();
                if let Some(invite) = usage.invite.take() {
                    self.answer_invite_with(now, invite, StatusCode::SERVER_INTERNAL_ERROR);
                }
                self.end(dialog, EndReason::NoPrack);
            }
            return;
        }
        // The 2xx keeps doubling to T2; a reliable 1xx keeps doubling (RFC 3262 §3).
        pending.interval = if ok {
            (pending.interval * 2).min(timers.t2)
        } else {
            pending.interval * 2
        };
        // The last wait ends at 64·T1, when the layer gives up.
        let next = (now + pending.interval).min(pending.since + timers.t1x64());
        let (id, response) = (pending.id, pending.response.clone());
        let _ = self.tx.send_response(now, id, response);
        let due = if ok {
            Due::Ok(dialog.clone())
        } else {
            Due::Reliable(dialog.clone())
        };
        let timer = self.schedule(next, due);
        if let Some(u) = self.usages.get_mut(dialog) {
            let slot = if ok { &mut u.ok } else { &mut u.reliable };
            if let Some(p) = slot {
                p.timer = timer;
            }
        }
    }
}

/// Puts `tag` on the To of a response that has none.
fn add_tag(response: &mut Message, tag: &str) {
    let has_tag = response
        .header::<To<'_>>()
        .and_then(Result::ok)
        .is_some_and(|t| t.tag().is_some());
    if has_tag {
        return;
    }
    if let Some(to) = response
        .raw_header(HeaderName::To)
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_owned)
    {
        response.set_header("To", format_args!("{to};tag={tag}"));
    }
}

fn status_of(response: &Message) -> Result<StatusCode, crate::Error> {
    response
        .status()
        .ok_or(crate::Error::Malformed("not a response".into()))
}
