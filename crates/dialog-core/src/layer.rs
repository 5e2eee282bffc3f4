//! The dialog layer: dialogs and their INVITE usage over the transaction
//! layer, sans-IO (RFC 3261 §12–§15, RFC 3262, RFC 3311, RFC 4028, RFC 6086).
//!
//! It owns a [`TransactionLayer`] and adds what a user agent core does on
//! its own: dialogs created from INVITE responses (one per fork), the ACK
//! for every 2xx and a BYE for forks not chosen, the UAS 2xx retransmitted
//! until its ACK (T1 doubling to T2) and a BYE after 64·T1, CANCEL answered
//! with 487, 481 for unknown dialogs, 491 on glare with the §14.1 retry,
//! PRACK both ways, and session timers. Everything else is passed to the
//! transaction user as an [`Event`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_core::builder::{Builder, response_to};
use sip_core::header::HeaderName;
use sip_core::rng::{GOLDEN, SplitMix, push_hex, token};
use sip_core::{Message, Method, StatusCode};
use transaction_core::{
    IdMap, IdSet, Inbound, Target, TransactionId, TransactionLayer, Transmit, Transport,
};

use crate::usage::{EndReason, Retry, Usage, outgoing_dialog_id};
use crate::{DialogId, DialogState};

/// Dialog layer settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// T1, T2, T4.
    pub timers: transaction_core::Config,
    /// Our address per transport: the Via sent-by and the Contact host.
    pub local: Vec<(Transport, SocketAddr)>,
    /// User part of our Contact.
    pub user: String,
    /// User-Agent (requests) and Server (responses) header value.
    pub user_agent: String,
    /// Session interval we ask for in INVITEs (RFC 4028); `None` asks for
    /// none (a peer's request is still honoured).
    pub session_expires: Option<Duration>,
    /// Smallest session interval we accept (Min-SE, at least 90 s).
    pub min_se: Duration,
    /// Support reliable provisional responses (RFC 3262).
    pub reliable_provisionals: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            timers: transaction_core::Config::default(),
            local: vec![(Transport::Udp, ([127, 0, 0, 1], 5060).into())],
            user: "rvoip".into(),
            user_agent: "rvoip".into(),
            session_expires: Some(Duration::from_secs(1800)),
            min_se: Duration::from_secs(90),
            reliable_provisionals: true,
        }
    }
}

/// What the transaction user must know or do.
#[derive(Clone, Debug)]
pub enum Event {
    /// A request to answer with [`DialogLayer::respond`]; `dialog` is set
    /// for requests inside a dialog.
    Request {
        /// The server transaction.
        id: TransactionId,
        /// The request.
        request: Message,
        /// Where it came from.
        source: Target,
        /// Its dialog, if any.
        dialog: Option<DialogId>,
    },
    /// A response to a request the TU sent (1xx, final; a 2xx once).
    Response {
        /// The client transaction.
        id: TransactionId,
        /// The response.
        response: Message,
        /// The dialog it belongs to or created, if any.
        dialog: Option<DialogId>,
    },
    /// Something happened to a dialog.
    Dialog(DialogEvent),
    /// A request was sent again as a new transaction: after 491 (§14.1)
    /// or 422 (RFC 4028 §7.4).
    Retrying {
        /// The transaction that failed.
        previous: TransactionId,
        /// The new one.
        id: TransactionId,
    },
    /// The §14.1 retry announced by a 491 to `previous` will not happen
    /// (the dialog ended first, or the request could not be sent again):
    /// the 491 was the final answer.
    NotRetried {
        /// The transaction that got the 491.
        previous: TransactionId,
    },
    /// No final response (Timer B or F).
    Timeout {
        /// The client transaction.
        id: TransactionId,
    },
    /// The transport failed.
    TransportError {
        /// The client transaction.
        id: TransactionId,
    },
}

/// What happened to a dialog (reported by the dialog layer and the
/// `Endpoint`).
#[derive(Clone, Debug)]
pub enum DialogEvent {
    /// The ACK for our 2xx arrived.
    Ack {
        /// The dialog.
        dialog: DialogId,
        /// The ACK (may carry an answer).
        request: Message,
    },
    /// The peer cancelled an INVITE we had not answered finally; it was
    /// answered 487 (RFC 3261 §9.2).
    Cancelled {
        /// The INVITE's server transaction (as in `Event::Request`).
        invite: TransactionId,
    },
    /// A dialog was created.
    Created {
        /// The dialog.
        dialog: DialogId,
        /// Early or confirmed.
        state: DialogState,
    },
    /// An early dialog was confirmed.
    Confirmed {
        /// The dialog.
        dialog: DialogId,
    },
    /// A dialog ended and was forgotten.
    Terminated {
        /// The dialog.
        dialog: DialogId,
        /// Why.
        reason: EndReason,
    },
    /// A session refresh (RFC 4028) succeeded.
    Refreshed {
        /// The dialog.
        dialog: DialogId,
    },
}

/// Errors from the TU-facing calls.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Error {
    /// From the transaction layer.
    Transaction(transaction_core::Error),
    /// No such dialog.
    UnknownDialog,
    /// No such transaction.
    UnknownTransaction,
    /// Not possible now.
    InvalidState(&'static str),
    /// The message could not be built or lacks what the dialog needs.
    Malformed(String),
    /// No final response in time (Timer B or F).
    Timeout,
    /// The transport failed.
    TransportFailed,
    /// The endpoint has stopped.
    Stopped,
    /// The target could not be resolved.
    Resolve(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transaction(e) => e.fmt(f),
            Error::UnknownDialog => f.write_str("unknown dialog"),
            Error::UnknownTransaction => f.write_str("unknown transaction"),
            Error::InvalidState(why) => write!(f, "not possible now: {why}"),
            Error::Malformed(why) => write!(f, "malformed: {why}"),
            Error::Timeout => f.write_str("timeout"),
            Error::TransportFailed => f.write_str("transport error"),
            Error::Stopped => f.write_str("endpoint stopped"),
            Error::Resolve(why) => write!(f, "cannot resolve {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<transaction_core::Error> for Error {
    fn from(e: transaction_core::Error) -> Error {
        Error::Transaction(e)
    }
}

impl From<sip_core::Error> for Error {
    fn from(e: sip_core::Error) -> Error {
        Error::Malformed(e.to_string())
    }
}

/// Our INVITE outside any dialog, until its final response.
pub(crate) struct ClientInvite {
    pub(crate) request: Message,
    pub(crate) target: Target,
    pub(crate) provisional: bool,
    pub(crate) cancel_pending: bool,
    /// The dialogs its 1xx and 2xx made, one per To tag.
    pub(crate) dialogs: Vec<DialogId>,
}

/// Our INVITE once it has its final response, kept until its transaction
/// ends (64·T1 after a 2xx, RFC 6026) with only what that time needs: the
/// ACK for each retransmitted 2xx, and ACK and BYE for a 2xx from another
/// fork. A busy client holds one per call it placed in the last 32 s.
pub(crate) struct AnsweredInvite {
    /// The INVITE as sent, parsed again only for a late fork's dialog.
    pub(crate) request: Bytes,
    pub(crate) target: Target,
    /// Its CSeq number.
    pub(crate) seq: Option<u32>,
    /// The dialogs it made that are not yet ended.
    pub(crate) dialogs: Vec<DialogId>,
    /// The one of `dialogs` its first 2xx confirmed.
    pub(crate) chosen: Option<usize>,
}

/// A SUBSCRIBE or REFER we sent outside any dialog: its 2xx, or a NOTIFY
/// that overtakes the 2xx (RFC 6665 §4.1.2.4), creates the dialog.
pub(crate) struct ClientSubscribe {
    pub(crate) request: Message,
    pub(crate) target: Target,
    /// Call-ID and our From tag, the key of `subscribe_index`.
    pub(crate) key: (String, String),
}

/// A request we sent inside a dialog.
#[derive(Clone)]
pub(crate) struct ClientRequest {
    pub(crate) dialog: DialogId,
    pub(crate) method: Method,
    pub(crate) body: Option<(Bytes, String)>,
    /// Sent by the TU (its responses are reported) or by the layer.
    pub(crate) report: bool,
}

/// An INVITE outside any dialog that we answer.
pub(crate) struct ServerInvite {
    pub(crate) request: Message,
    pub(crate) flow: Target,
    pub(crate) tag: String,
    pub(crate) answered: bool,
    pub(crate) dialog: Option<DialogId>,
}

/// Layer timers.
#[derive(Clone, Debug)]
pub(crate) enum Due {
    Ok(DialogId),
    Reliable(DialogId),
    Retry(DialogId),
    Session(DialogId, u64),
}

/// The dialog layer (see the module documentation).
pub struct DialogLayer {
    pub(crate) config: Config,
    pub(crate) me: Me,
    pub(crate) tx: TransactionLayer,
    pub(crate) usages: HashMap<DialogId, Usage>,
    /// Boxed: entries live 64·T1 (RFC 6026 Accepted) and a table of whole
    /// records would be copied, and its fresh pages zeroed, at each growth.
    pub(crate) client_invites: IdMap<TransactionId, Box<ClientInvite>>,
    pub(crate) answered_invites: IdMap<TransactionId, Box<AnsweredInvite>>,
    pub(crate) client_requests: IdMap<TransactionId, ClientRequest>,
    pub(crate) server_invites: IdMap<TransactionId, ServerInvite>,
    /// The peer's in-dialog INVITE/UPDATE awaiting our answer.
    pub(crate) server_requests: IdMap<TransactionId, (DialogId, Message)>,
    /// Every other request reported to the TU and not yet answered finally.
    pub(crate) answering: IdMap<TransactionId, Message>,
    /// Our SUBSCRIBE/REFER outside dialogs awaiting their final response.
    pub(crate) client_subscribes: IdMap<TransactionId, ClientSubscribe>,
    /// The same, by Call-ID and our From tag (to match an early NOTIFY).
    pub(crate) subscribe_index: HashMap<(String, String), TransactionId>,
    /// The peer's SUBSCRIBE/REFER outside dialogs not yet answered finally,
    /// with where they came from (for the dialog a 2xx creates).
    pub(crate) subscription_flows: IdMap<TransactionId, Target>,
    pub(crate) cancels: IdSet<TransactionId>,
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    due: IdMap<u64, Due>,
    next_timer: u64,
    pub(crate) events: VecDeque<Event>,
    /// Whether [`DialogEvent`]s are queued (off when nobody reads them).
    dialog_events: bool,
    rng: SplitMix,
}

/// Our identity per transport, formatted once: what Via, Contact and new
/// requests say.
#[derive(Clone, Debug)]
pub(crate) struct Me {
    /// Per transport: the Via up to the branch value (`SIP/2.0/UDP
    /// 192.0.2.1:5060;branch=z9hG4bK`) and the Contact.
    by_transport: Vec<(Transport, String, String)>,
    user_agent: String,
    /// The option tags our INVITEs carry in Supported.
    supported: &'static str,
    /// Session-Expires and Min-SE (seconds) our INVITEs ask for.
    session: Option<(u64, u64)>,
}

impl Me {
    pub(crate) fn new(config: &Config) -> Me {
        let local = |transport: Transport| {
            config
                .local
                .iter()
                .find(|(t, _)| *t == transport)
                .or(config.local.first())
                .map_or_else(|| ([127, 0, 0, 1], 5060).into(), |(_, a)| *a)
        };
        let by_transport = Transport::ALL
            .into_iter()
            .map(|t| {
                let addr: SocketAddr = local(t);
                let via = format!("SIP/2.0/{} {addr};branch=z9hG4bK", t.as_str());
                let contact = match t {
                    Transport::Udp => format!("<sip:{}@{addr}>", config.user),
                    t => format!("<sip:{}@{addr};transport={}>", config.user, t.param()),
                };
                (t, via, contact)
            })
            .collect();
        Me {
            by_transport,
            user_agent: config.user_agent.clone(),
            supported: if config.reliable_provisionals {
                "100rel, timer"
            } else {
                "timer"
            },
            session: config
                .session_expires
                .map(|se| (se.as_secs(), config.min_se.as_secs())),
        }
    }

    fn entry(&self, transport: Transport) -> &(Transport, String, String) {
        let found = self.by_transport.iter().find(|e| e.0 == transport);
        found.unwrap_or(&self.by_transport[0])
    }

    /// A top Via with a branch made from `branch`.
    pub(crate) fn via(&self, transport: Transport, branch: u64) -> String {
        let prefix = &self.entry(transport).1;
        let mut via = String::with_capacity(prefix.len() + 22);
        via.push_str(prefix);
        push_hex(&mut via, branch);
        via.push_str(";rport");
        via
    }

    /// Our Contact, a name-addr.
    pub(crate) fn contact(&self, transport: Transport) -> &str {
        &self.entry(transport).2
    }

    pub(crate) fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// A request outside any dialog; `fresh` makes the branch, From tag and
    /// Call-ID.
    pub(crate) fn request(
        &self,
        transport: Transport,
        method: Method,
        uri: &str,
        (from, to): (&str, &str),
        [branch, tag, call_id]: [u64; 3],
    ) -> Builder {
        let mut from_tag = String::with_capacity(from.len() + 21);
        from_tag.push_str(from);
        from_tag.push_str(";tag=");
        push_hex(&mut from_tag, tag);
        let mut cseq = String::with_capacity(12);
        cseq.push_str("1 ");
        cseq.push_str(method.as_str());
        let invite = method == Method::Invite;
        // The variable parts, the fixed names and values (about 190 bytes),
        // and room for what an INVITE adds (Supported, Allow, timers).
        let capacity = 2 * uri.len()
            + from_tag.len()
            + to.len()
            + self.entry(transport).1.len()
            + self.contact(transport).len()
            + self.user_agent.len()
            + 200
            + if invite { 150 } else { 0 };
        let mut b = Builder::request_with_capacity(method, uri, capacity)
            .header("Via", self.via(transport, branch))
            .header("Max-Forwards", 70)
            .header("From", from_tag)
            .header("To", to)
            .header("Call-ID", token(call_id))
            .header("CSeq", cseq)
            .header("Contact", self.contact(transport))
            .header("User-Agent", &self.user_agent);
        // What DialogLayer::send_request would otherwise add as edits.
        if invite {
            b = b.header("Supported", self.supported).header("Allow", ALLOW);
            if let Some((se, min_se)) = self.session {
                b = b.header("Session-Expires", se).header("Min-SE", min_se);
            }
        }
        b
    }
}

/// Call-ID and From tag of a request we send.
pub(crate) fn subscribe_key(request: &Message) -> Option<(String, String)> {
    let call_id = request.call_id()?.to_owned();
    let from = request.tag(HeaderName::From)?.to_owned();
    Some((call_id, from))
}

/// Methods we implement, for Allow.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO";

impl DialogLayer {
    /// A layer with no dialogs; `seed` drives tags, branches and the
    /// §14.1 retry delays.
    pub fn new(config: Config, seed: u64) -> DialogLayer {
        DialogLayer {
            tx: TransactionLayer::new(config.timers),
            me: Me::new(&config),
            config,
            usages: HashMap::new(),
            client_invites: IdMap::default(),
            answered_invites: IdMap::default(),
            client_requests: IdMap::default(),
            server_invites: IdMap::default(),
            server_requests: IdMap::default(),
            answering: IdMap::default(),
            client_subscribes: IdMap::default(),
            subscribe_index: HashMap::new(),
            subscription_flows: IdMap::default(),
            cancels: IdSet::default(),
            timers: BinaryHeap::new(),
            due: IdMap::default(),
            next_timer: 0,
            events: VecDeque::new(),
            dialog_events: true,
            rng: SplitMix::new(seed ^ GOLDEN),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Live dialogs.
    pub fn dialog_count(&self) -> usize {
        self.usages.len()
    }

    /// Live transactions.
    pub fn transaction_count(&self) -> usize {
        self.tx.len()
    }

    /// A dialog's state and data.
    pub fn dialog(&self, id: &DialogId) -> Option<&crate::Dialog> {
        self.usages.get(id).map(|u| &u.dialog)
    }

    /// The next random number (splitmix64).
    pub(crate) fn random(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A fresh tag or Call-ID token.
    pub fn new_token(&mut self) -> String {
        token(self.random())
    }

    /// A top Via for a new client transaction over `transport`.
    pub fn via(&mut self, transport: Transport) -> String {
        let branch = self.random();
        self.me.via(transport, branch)
    }

    /// Our Contact for `transport`, as a name-addr.
    pub fn contact(&self, transport: Transport) -> &str {
        self.me.contact(transport)
    }

    /// Starts a request outside any dialog to `uri` via `target`, with a
    /// new Call-ID and From tag, CSeq 1, Via, Max-Forwards, Contact and
    /// User-Agent (and, for an INVITE, Supported, Allow and the session
    /// timer we ask for). `from` and `to` are name-addrs without tags.
    pub fn new_request(
        &mut self,
        method: Method,
        uri: &str,
        target: Target,
        from: &str,
        to: &str,
    ) -> Builder {
        let fresh = [self.random(), self.random(), self.random()];
        self.me
            .request(target.transport, method, uri, (from, to), fresh)
    }

    /// Sends a request outside any dialog. An INVITE is tracked: its 1xx
    /// and 2xx create dialogs, every 2xx is ACKed, and (unless the request
    /// already says) it offers 100rel, session timers and our Allow.
    pub fn send_request(
        &mut self,
        now: Instant,
        mut request: Message,
        target: Target,
    ) -> Result<TransactionId, Error> {
        let method = request.method().cloned();
        if method == Some(Method::Invite) {
            self.decorate_invite(&mut request);
            let id = self.tx.send_request(now, request.clone(), target)?;
            self.client_invites.insert(
                id,
                Box::new(ClientInvite {
                    request,
                    target,
                    provisional: false,
                    cancel_pending: false,
                    dialogs: Vec::new(),
                }),
            );
            self.drain(now);
            return Ok(id);
        }
        if method.as_ref().is_some_and(crate::usage::subscribes) {
            let key = subscribe_key(&request).ok_or(Error::Malformed(
                "a SUBSCRIBE or REFER needs a Call-ID and a From tag".into(),
            ))?;
            let id = self.tx.send_request(now, request.clone(), target)?;
            self.subscribe_index.insert(key.clone(), id);
            self.client_subscribes.insert(
                id,
                ClientSubscribe {
                    request,
                    target,
                    key,
                },
            );
            self.drain(now);
            return Ok(id);
        }
        let id = self.tx.send_request(now, request, target)?;
        self.drain(now);
        Ok(id)
    }

    fn decorate_invite(&self, request: &mut Message) {
        if request.raw_header(HeaderName::Supported).is_none() {
            request.push_header("Supported", self.me.supported);
        }
        if request.raw_header(HeaderName::Allow).is_none() {
            request.push_header("Allow", ALLOW);
        }
        if let Some((se, min_se)) = self.me.session
            && request.raw_header(HeaderName::SessionExpires).is_none()
        {
            request.push_header("Session-Expires", se);
            request.push_header("Min-SE", min_se);
        }
    }

    /// Cancels our INVITE (RFC 3261 §9.1). Before any provisional response
    /// the CANCEL waits for one.
    pub fn cancel(&mut self, now: Instant, invite: TransactionId) -> Result<(), Error> {
        if self.answered_invites.contains_key(&invite) {
            return Err(Error::InvalidState("the INVITE has a final response"));
        }
        let ci = self
            .client_invites
            .get_mut(&invite)
            .ok_or(Error::UnknownTransaction)?;
        if !ci.provisional {
            ci.cancel_pending = true;
            return Ok(());
        }
        self.send_cancel(now, invite);
        Ok(())
    }

    pub(crate) fn send_cancel(&mut self, now: Instant, invite: TransactionId) {
        let Some(ci) = self.client_invites.get_mut(&invite) else {
            return;
        };
        ci.cancel_pending = false;
        let req = &ci.request;
        let Some(seq) = crate::usage::cseq(req).map(|c| c.seq) else {
            return;
        };
        let mut b = Builder::request(Method::Cancel, req.request_uri_str().unwrap_or(""));
        // §9.1: the INVITE's top Via, Route set, From, To and Call-ID.
        for name in [
            HeaderName::Via,
            HeaderName::Route,
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
        ] {
            for f in req.fields_named(name) {
                b = b.raw_header(f.raw_name.as_bytes(), f.value);
                if name != HeaderName::Route {
                    break;
                }
            }
        }
        let target = ci.target;
        let cancel = b
            .header("CSeq", format!("{seq} CANCEL"))
            .header("Max-Forwards", 70)
            .build();
        if let Ok(cancel) = cancel
            && let Ok(id) = self.tx.send_request(now, cancel, target)
        {
            self.cancels.insert(id);
        }
    }

    /// Starts a request inside a dialog (§12.2.1.1) with Via, Max-Forwards,
    /// User-Agent, and for target refreshes Contact and our session timer.
    /// Send it with [`DialogLayer::send`].
    pub fn request(&mut self, dialog: &DialogId, method: Method) -> Result<Builder, Error> {
        // One lookup of the dialog (its key is hashed with SipHash).
        let branch = self.random();
        let me = &self.me;
        let usage = self.usages.get_mut(dialog).ok_or(Error::UnknownDialog)?;
        let transport = usage.target().transport;
        let via = me.via(transport, branch);
        let mut b = usage
            .dialog
            .request(method.clone())
            .header("Via", via)
            .header("Max-Forwards", 70)
            .header("User-Agent", me.user_agent());
        // Target refresh requests carry our Contact (§12.2.1.1; RFC 3311;
        // RFC 6665 §4.1.2.1, §4.2.2; RFC 3515).
        if matches!(
            method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
        ) {
            b = b.header("Contact", me.contact(transport));
        }
        if matches!(method, Method::Invite | Method::Update) {
            b = b.header("Allow", ALLOW);
            if let Some(s) = usage.session {
                b = b
                    .header(
                        "Session-Expires",
                        format!("{};refresher=uac", s.interval.as_secs()),
                    )
                    .header("Supported", "timer");
            }
        }
        Ok(b)
    }

    /// Sends a request built by [`DialogLayer::request`]. An INVITE or
    /// UPDATE while one of ours is pending is refused (§14.1).
    pub fn send(&mut self, now: Instant, request: Message) -> Result<TransactionId, Error> {
        let dialog = outgoing_dialog_id(&request).ok_or(Error::UnknownDialog)?;
        self.send_in_dialog(now, dialog, request, true)
    }

    /// [`DialogLayer::send`] for a request known to be in `dialog` (built
    /// by [`DialogLayer::request`] for it), without reading its tags back.
    pub(crate) fn send_in_dialog(
        &mut self,
        now: Instant,
        dialog: DialogId,
        request: Message,
        report: bool,
    ) -> Result<TransactionId, Error> {
        let method = request
            .method()
            .cloned()
            .ok_or(Error::Malformed("not a request".into()))?;
        let usage = self.usages.get(&dialog).ok_or(Error::UnknownDialog)?;
        let offer = matches!(method, Method::Invite | Method::Update);
        if offer && usage.outgoing.is_some() {
            return Err(Error::InvalidState(
                "an INVITE or UPDATE is pending in this dialog",
            ));
        }
        let target = usage.target();
        // Kept for a §14.1 retry, which only offers (INVITE, UPDATE) get.
        let body = (offer && !request.body().is_empty()).then(|| {
            let ct = request
                .raw_header(HeaderName::ContentType)
                .and_then(|v| std::str::from_utf8(v).ok())
                .unwrap_or("application/sdp")
                .to_owned();
            (Bytes::copy_from_slice(request.body()), ct)
        });
        let bye = method == Method::Bye;
        // The notifier's last NOTIFY ends a subscription-only dialog.
        let last_notify = method == Method::Notify
            && usage.kind == crate::usage::UsageKind::Subscription
            && crate::usage::terminates_subscription(&request);
        let id = self.tx.send_request(now, request, target)?;
        if offer && let Some(u) = self.usages.get_mut(&dialog) {
            u.outgoing = Some(id);
        }
        self.client_requests.insert(
            id,
            ClientRequest {
                dialog: dialog.clone(),
                method,
                body,
                report,
            },
        );
        if bye && report {
            // The layer's own BYEs end the dialog with their own reason.
            self.end(&dialog, EndReason::LocalBye);
        }
        if last_notify {
            self.end(&dialog, EndReason::SubscriptionTerminated);
        }
        self.drain(now);
        Ok(id)
    }

    /// Ends a confirmed dialog with BYE (§15.1.1). An early dialog of ours
    /// is ended by cancelling its INVITE instead.
    pub fn bye(&mut self, now: Instant, dialog: &DialogId) -> Result<TransactionId, Error> {
        let usage = self.usages.get(dialog).ok_or(Error::UnknownDialog)?;
        if usage.is_early() && usage.dialog.role() == crate::Role::Uac {
            return Err(Error::InvalidState("early dialog: cancel the INVITE"));
        }
        let bye = self.request(dialog, Method::Bye)?.build()?;
        self.send_in_dialog(now, dialog.clone(), bye, true)
    }

    /// Starts the answer to a request reported by [`Event::Request`]:
    /// §8.2.6 copies, our To tag when the request had none (the same for
    /// every response to one INVITE), and for INVITE and UPDATE answers
    /// that make or refresh a dialog, Contact and Allow.
    pub fn response(&mut self, id: TransactionId, code: StatusCode) -> Result<Builder, Error> {
        let ua = self.me.user_agent();
        if let Some(si) = self.server_invites.get(&id) {
            let mut b = response_to(&si.request, code, Some(&si.tag)).header("Server", ua);
            if code.0 > 100 && code.0 < 300 {
                b = b
                    .header("Contact", self.me.contact(si.flow.transport))
                    .header("Allow", ALLOW);
                for rr in si.request.fields_named(HeaderName::RecordRoute) {
                    b = b.raw_header(rr.raw_name.as_bytes(), rr.value);
                }
            }
            return Ok(b);
        }
        if let Some((dialog, request)) = self.server_requests.get(&id) {
            let transport = self
                .usages
                .get(dialog)
                .map_or(Transport::Udp, |u| u.flow().transport);
            let mut b = response_to(request, code, None).header("Server", ua);
            if code.is_success() {
                b = b
                    .header("Contact", self.me.contact(transport))
                    .header("Allow", ALLOW);
            }
            return Ok(b);
        }
        let needs_tag = self
            .answering
            .get(&id)
            .ok_or(Error::UnknownTransaction)?
            .header::<sip_core::header::To<'_>>()
            .and_then(Result::ok)
            .is_some_and(|to| to.tag().is_none());
        let tag = needs_tag.then(|| self.new_token());
        let request = self.answering.get(&id).ok_or(Error::UnknownTransaction)?;
        let b = response_to(request, code, tag.as_deref()).header("Server", self.me.user_agent());
        match self.subscription_flows.get(&id) {
            // A dialog-creating 2xx carries our Contact (RFC 6665 §4.2.1.1).
            Some(flow) if code.is_success() => {
                Ok(b.header("Contact", self.me.contact(flow.transport)))
            }
            _ => Ok(b),
        }
    }

    /// Answers a request reported by [`Event::Request`]; start the
    /// response with [`DialogLayer::response`].
    pub fn respond(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        self.respond_as(now, id, response, false)
    }

    /// Answers a request outside a dialog statelessly (RFC 3261 §8.2.7,
    /// [`TransactionLayer::send_response_stateless`]): the transaction
    /// ends as the final response leaves, so a stateless UAS (a registrar)
    /// or a flood of challenged requests leaves no state behind. The same
    /// request must get the same To tag each time. An INVITE, a request inside a
    /// dialog, one that may create a subscription, or one already answered
    /// provisionally is answered as [`respond`](Self::respond) does.
    ///
    /// [`TransactionLayer::send_response_stateless`]: transaction_core::TransactionLayer::send_response_stateless
    pub fn respond_stateless(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
    ) -> Result<(), Error> {
        self.respond_as(now, id, response, true)
    }

    /// [`respond`](Self::respond), statelessly where `stateless` asks and
    /// the request allows it.
    pub(crate) fn respond_as(
        &mut self,
        now: Instant,
        id: TransactionId,
        response: Message,
        stateless: bool,
    ) -> Result<(), Error> {
        let r = if self.server_invites.get(&id).is_some_and(|s| !s.answered) {
            self.respond_invite(now, id, response)
        } else if self.server_requests.contains_key(&id) {
            self.respond_in_dialog(now, id, response)
        } else {
            let code = response.status();
            let is_final = code.is_some_and(StatusCode::is_final);
            let flow = self.subscription_flows.contains_key(&id);
            let creates = code.is_some_and(StatusCode::is_success) && flow;
            let tag = creates
                .then(|| response.tag(HeaderName::To).map(str::to_owned))
                .flatten();
            // The transaction layer answers any INVITE, or a transaction
            // that has sent something, with state; a response that may
            // create a subscription is kept here for its dialog.
            let sent = if stateless && !flow {
                self.tx.send_response_stateless(now, id, response)
            } else {
                self.tx.send_response(now, id, response)
            };
            if is_final && sent.is_ok() {
                let request = self.answering.remove(&id);
                let flow = self.subscription_flows.remove(&id);
                if let (Some(request), Some(flow), Some(tag)) = (request, flow, tag) {
                    self.create_subscription(&request, &tag, flow);
                }
            }
            sent.map_err(Error::from)
        };
        self.drain(now);
        r
    }

    /// Feeds a message from the network.
    pub fn handle_message(&mut self, now: Instant, inbound: Inbound) {
        self.tx.handle_message(now, inbound);
        self.drain(now);
    }

    /// Reports that sending for transaction `id` failed.
    pub fn handle_transport_error(&mut self, now: Instant, id: TransactionId) {
        self.tx.handle_transport_error(id);
        self.drain(now);
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.tx.poll_transmit()
    }

    /// Whether dialog events other than [`DialogEvent::Cancelled`] are
    /// queued (they are by default). A TU that never reads them switches
    /// them off and saves building one per dialog change.
    pub fn set_dialog_events(&mut self, on: bool) {
        self.dialog_events = on;
    }

    /// Queues a dialog event, built only if dialog events are on.
    pub(crate) fn dialog_event(&mut self, event: impl FnOnce() -> DialogEvent) {
        if self.dialog_events {
            self.events.push_back(Event::Dialog(event()));
        }
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`DialogLayer::handle_timeout`] must next be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let own = self.timers.peek().map(|Reverse((t, _))| *t);
        match (own, self.tx.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tx.handle_timeout(now);
        self.drain(now);
        while let Some(Reverse((at, key))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let Some(due) = self.due.remove(&key) {
                self.fire(now, key, due);
            }
            self.drain(now);
        }
    }

    pub(crate) fn schedule(&mut self, at: Instant, due: Due) -> u64 {
        self.next_timer += 1;
        self.timers.push(Reverse((at, self.next_timer)));
        self.due.insert(self.next_timer, due);
        self.next_timer
    }

    /// The notifier's dialog for a SUBSCRIBE or REFER answered 2xx with
    /// `tag` (or the subscriber's for a NOTIFY that overtook the 2xx).
    pub(crate) fn create_subscription(
        &mut self,
        request: &Message,
        tag: &str,
        flow: Target,
    ) -> Option<DialogId> {
        let dialog = crate::Dialog::from_uas(request, tag, StatusCode::OK).ok()?;
        Some(self.add_subscription(dialog, flow))
    }

    /// Keeps a subscription dialog (unless one with its id is kept already,
    /// e.g. made by the NOTIFY that overtook the 2xx) and tells the TU.
    pub(crate) fn add_subscription(&mut self, dialog: crate::Dialog, flow: Target) -> DialogId {
        let did = dialog.id().clone();
        if !self.usages.contains_key(&did) {
            let mut usage = Usage::new(dialog, flow);
            usage.kind = crate::usage::UsageKind::Subscription;
            self.usages.insert(did.clone(), usage);
            self.dialog_event(|| DialogEvent::Created {
                dialog: did.clone(),
                state: DialogState::Confirmed,
            });
        }
        did
    }

    /// Removes a dialog and tells the TU.
    pub(crate) fn end(&mut self, dialog: &DialogId, reason: EndReason) {
        if let Some(usage) = self.usages.remove(dialog) {
            if let Some(retry) = usage.retry {
                self.events.push_back(Event::NotRetried {
                    previous: retry.previous,
                });
            }
            self.dialog_event(|| DialogEvent::Terminated {
                dialog: dialog.clone(),
                reason,
            });
        }
    }

    /// Sends a request the layer makes on its own (ACK aside): BYE, PRACK,
    /// refreshes, retries.
    pub(crate) fn send_own(
        &mut self,
        now: Instant,
        dialog: &DialogId,
        method: Method,
        extra: &[(&str, String)],
        body: Option<&(Bytes, String)>,
    ) -> Option<TransactionId> {
        let mut b = self.request(dialog, method).ok()?;
        for (name, value) in extra {
            b = b.header(name, value);
        }
        if let Some((body, ct)) = body {
            b = b.body(body.clone(), ct);
        }
        let request = b.build().ok()?;
        self.send_in_dialog(now, dialog.clone(), request, false)
            .ok()
    }

    /// A §14.1 retry delay: 2.1–4 s when we own the Call-ID (we sent the
    /// dialog's INVITE), else 0–2 s, in units of 10 ms.
    pub(crate) fn glare_delay(&mut self, owner: bool) -> Duration {
        let r = self.random();
        if owner {
            Duration::from_millis(2100 + 10 * (r % 191))
        } else {
            Duration::from_millis(10 * (r % 201))
        }
    }

    pub(crate) fn schedule_retry(&mut self, now: Instant, dialog: &DialogId, retry: Retry) {
        let Some(owner) = self
            .usages
            .get(dialog)
            .map(|u| u.dialog.role() == crate::Role::Uac)
        else {
            return;
        };
        let delay = self.glare_delay(owner);
        if let Some(u) = self.usages.get_mut(dialog) {
            u.retry = Some(retry);
        }
        self.schedule(now + delay, Due::Retry(dialog.clone()));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use sip_core::Method;
    use sip_core::builder::Builder;
    use transaction_core::{Target, Transport};

    use super::{Config, DialogLayer};

    fn lines<'a>(payload: &'a [u8], name: &str) -> Vec<&'a str> {
        std::str::from_utf8(payload)
            .expect("utf-8")
            .split("\r\n")
            .filter(|l| l.starts_with(name))
            .collect()
    }

    /// An INVITE from `new_request` is built with Supported, Allow and the
    /// session timer (sent as built, no edits); one built elsewhere gets
    /// them added; either way exactly once.
    #[test]
    fn invites_carry_supported_allow_and_session_timer_once() {
        let config = Config::default();
        let se = config.session_expires.map(|s| s.as_secs());
        let supported = if config.reliable_provisionals {
            "Supported: 100rel, timer"
        } else {
            "Supported: timer"
        };
        let mut layer = DialogLayer::new(config, 7);
        let target = Target {
            transport: Transport::Udp,
            addr: "192.0.2.20:5060".parse().expect("addr"),
        };
        let (from, to) = ("<sip:a@192.0.2.10>", "<sip:b@192.0.2.20>");
        let ours = layer
            .new_request(Method::Invite, "sip:b@192.0.2.20", target, from, to)
            .build()
            .expect("built");
        assert!(ours.raw_header(super::HeaderName::Allow).is_some());
        let foreign = Builder::request(Method::Invite, "sip:b@192.0.2.20")
            .header("Via", "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx1")
            .header("From", format!("{from};tag=1"))
            .header("To", to)
            .header("Call-ID", "c2")
            .header("CSeq", "1 INVITE")
            .header("Max-Forwards", 70)
            .build()
            .expect("built");
        for invite in [ours, foreign] {
            layer
                .send_request(Instant::now(), invite, target)
                .expect("sent");
            let sent = layer.poll_transmit().expect("transmitted").payload;
            assert_eq!(lines(&sent, "Supported:"), [supported]);
            assert_eq!(lines(&sent, "Allow:").len(), 1);
            let want = se.map(|s| format!("Session-Expires: {s}"));
            assert_eq!(
                lines(&sent, "Session-Expires:"),
                want.as_deref().into_iter().collect::<Vec<_>>()
            );
        }
    }
}
