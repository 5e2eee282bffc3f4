//! What the dialog layer keeps per dialog and per INVITE transaction, and
//! the small helpers that read requests for it.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_core::header::{CSeq, HeaderName, MinSe, Require, SessionExpires, Supported, Via};
use sip_core::{Host, Message, Method, StatusCode, Uri};
use transaction_core::{Target, TransactionId, Transport};

use crate::{Dialog, DialogId, DialogState};

/// Why a dialog ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EndReason {
    /// The peer sent BYE.
    RemoteBye,
    /// We sent BYE.
    LocalBye,
    /// The INVITE got (or we answered it with) this non-2xx final response.
    Rejected(StatusCode),
    /// The peer cancelled the INVITE (we answered 487).
    Cancelled,
    /// Our 2xx was never ACKed within 64·T1; we sent BYE (RFC 3261 §13.3.1.4).
    NoAck,
    /// Our reliable provisional was never PRACKed within 64·T1; we
    /// answered the INVITE 500 (RFC 3262 §3).
    NoPrack,
    /// No session refresh arrived in time; we sent BYE (RFC 4028 §10).
    SessionExpired,
    /// A 2xx from a second fork of our INVITE: ACKed, then ended with BYE
    /// (RFC 3261 §13.2.2.4).
    ForkNotChosen,
    /// An in-dialog request got 481 or 408, or timed out (§12.2.1.2).
    Failed(StatusCode),
    /// The subscription the dialog was made for ended: a NOTIFY with
    /// `Subscription-State: terminated` was sent or received (RFC 6665
    /// §4.4.1).
    SubscriptionTerminated,
}

/// What created a dialog (RFC 5057 dialog usages).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum UsageKind {
    /// INVITE: ends with BYE.
    Invite,
    /// SUBSCRIBE or REFER (RFC 6665, RFC 3515): ends with the NOTIFY that
    /// says the subscription is terminated.
    Subscription,
}

/// A response we retransmit: a 2xx until its ACK (RFC 3261 §13.3.1.4;
/// `seq` is the INVITE's CSeq) or a reliable provisional until its PRACK
/// (RFC 3262 §3; `seq` is its RSeq).
pub(crate) struct Resend {
    pub(crate) id: TransactionId,
    pub(crate) response: Message,
    pub(crate) seq: u32,
    pub(crate) interval: Duration,
    pub(crate) since: Instant,
    pub(crate) timer: u64,
}

impl Resend {
    /// Sent first at `now`; next after `interval`, on layer timer `timer`.
    pub(crate) fn new(
        id: TransactionId,
        response: Message,
        seq: u32,
        now: Instant,
        interval: Duration,
        timer: u64,
    ) -> Resend {
        Resend {
            id,
            response,
            seq,
            interval,
            since: now,
            timer,
        }
    }
}

/// RFC 4028 state of a confirmed dialog.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Session {
    pub(crate) interval: Duration,
    /// We send the refreshes (else we wait for them).
    pub(crate) we_refresh: bool,
    pub(crate) generation: u64,
}

/// A request to send again after a 491 (RFC 3261 §14.1).
#[derive(Clone, Debug)]
pub(crate) struct Retry {
    pub(crate) previous: TransactionId,
    pub(crate) method: Method,
    pub(crate) body: Option<(Bytes, String)>,
}

/// One dialog and its usage.
pub(crate) struct Usage {
    pub(crate) dialog: Dialog,
    pub(crate) kind: UsageKind,
    /// Where the peer was last seen: the fallback target for in-dialog
    /// requests when the remote target is not an address.
    flow: Target,
    /// Where in-dialog requests go, worked out whenever the route set,
    /// remote target or flow changes (see [`Usage::target`]).
    target: Target,
    /// UAS: the initial INVITE's server transaction while unanswered.
    pub(crate) invite: Option<TransactionId>,
    pub(crate) ok: Option<Resend>,
    /// UAC: the last ACK we sent (CSeq, ACK, target), resent when its 2xx is.
    pub(crate) ack: Option<(u32, Message, Target)>,
    /// Our INVITE or UPDATE in progress in this dialog (glare, §14.1).
    pub(crate) outgoing: Option<TransactionId>,
    /// The peer's re-INVITE or UPDATE we have not answered (§14.2).
    pub(crate) incoming: Option<TransactionId>,
    pub(crate) reliable: Option<Resend>,
    pub(crate) queued: VecDeque<(TransactionId, Message)>,
    pub(crate) next_rseq: u32,
    /// UAC: the last RSeq we PRACKed.
    pub(crate) last_rseq: Option<u32>,
    pub(crate) session: Option<Session>,
    pub(crate) peer_allows_update: bool,
    pub(crate) retry: Option<Retry>,
}

impl Usage {
    pub(crate) fn new(dialog: Dialog, flow: Target) -> Usage {
        let target = next_hop(&dialog, flow);
        Usage {
            dialog,
            kind: UsageKind::Invite,
            flow,
            target,
            invite: None,
            ok: None,
            ack: None,
            outgoing: None,
            incoming: None,
            reliable: None,
            queued: VecDeque::new(),
            next_rseq: 1,
            last_rseq: None,
            session: None,
            peer_allows_update: false,
            retry: None,
        }
    }

    pub(crate) fn is_early(&self) -> bool {
        self.dialog.state() == DialogState::Early
    }

    /// Where in-dialog requests go: the first loose route, else the remote
    /// target, when it names an address; otherwise the flow the peer used.
    pub(crate) fn target(&self) -> Target {
        self.target
    }

    /// Where the peer was last seen.
    pub(crate) fn flow(&self) -> Target {
        self.flow
    }

    /// The dialog's view of a response to our request (target refresh).
    pub(crate) fn on_response(&mut self, response: &Message) {
        if self.dialog.on_response(response) {
            self.target = next_hop(&self.dialog, self.flow);
        }
    }

    /// The dialog's checks and target refresh for the peer's request,
    /// which arrived over `flow`.
    pub(crate) fn on_request(
        &mut self,
        request: &Message,
        flow: Target,
    ) -> Result<(), crate::DialogError> {
        let changed = self.dialog.on_request(request)?;
        if changed || flow != self.flow {
            self.flow = flow;
            self.target = next_hop(&self.dialog, self.flow);
        }
        Ok(())
    }
}

/// True for SUBSCRIBE and REFER, whose 2xx (or first NOTIFY) creates a
/// subscription dialog when sent outside one.
pub(crate) fn subscribes(method: &Method) -> bool {
    matches!(method, Method::Subscribe | Method::Refer)
}

/// True when `m` (a NOTIFY) says its subscription is over.
pub(crate) fn terminates_subscription(m: &Message) -> bool {
    m.header::<sip_core::header::SubscriptionState<'_>>()
        .and_then(Result::ok)
        .is_some_and(|s| s.state.eq_ignore_ascii_case("terminated"))
}

/// See [`Usage::target`].
fn next_hop(dialog: &Dialog, flow: Target) -> Target {
    let first = dialog
        .route_set()
        .first()
        .and_then(|r| crate::dialog::route_uri(r));
    let uri = first.unwrap_or(dialog.remote_target());
    target_of(uri, flow)
}

/// The address a SIP URI names when its host is an IP literal (RFC 3263
/// §4.2 without DNS: port 5060, 5061 for TLS); `fallback` otherwise.
pub(crate) fn target_of(uri: &str, fallback: Target) -> Target {
    let Ok(Uri::Sip(u)) = Uri::parse(uri) else {
        return fallback;
    };
    let ip: IpAddr = match u.host {
        Host::V4(a) => a.into(),
        Host::V6(a) => a.into(),
        Host::Name(_) => return fallback,
    };
    let transport = match u.transport() {
        Some(t) => Transport::from_via(t).unwrap_or(fallback.transport),
        None if u.secure => Transport::Tls,
        None => fallback.transport,
    };
    let default_port = if matches!(transport, Transport::Tls | Transport::Wss) {
        5061
    } else {
        5060
    };
    Target {
        transport,
        addr: SocketAddr::new(ip, u.port.unwrap_or(default_port)),
    }
}

/// The transport named by a request's top Via (how the peer sent it).
/// The transaction layer has parsed that Via already (a request with a
/// malformed one has no transaction), so the common shape is read from
/// the bytes.
pub(crate) fn via_transport(request: &Message) -> Transport {
    let scanned = request
        .raw_header(HeaderName::Via)
        .and_then(Via::scan_transport);
    let named = match scanned {
        Some(t) => Transport::from_via(t),
        None => request
            .header::<Via<'_>>()
            .and_then(Result::ok)
            .and_then(|v| Transport::from_via(v.transport)),
    };
    named.unwrap_or(Transport::Udp)
}

pub(crate) fn cseq(m: &Message) -> Option<CSeq> {
    m.header::<CSeq>().and_then(Result::ok)
}

/// True when a Require or Supported header of `m` lists `tag`.
pub(crate) fn requires(m: &Message, tag: &str) -> bool {
    m.headers_of::<Require<'_>>()
        .filter_map(Result::ok)
        .any(|r| r.0.eq_ignore_ascii_case(tag))
}

pub(crate) fn supports(m: &Message, tag: &str) -> bool {
    requires(m, tag)
        || m.headers_of::<Supported<'_>>()
            .filter_map(Result::ok)
            .any(|r| r.0.eq_ignore_ascii_case(tag))
}

/// Session-Expires seconds and whether the refresher is the UAC.
pub(crate) fn session_expires(m: &Message) -> Option<(u32, Option<bool>)> {
    let se = m.header::<SessionExpires<'_>>()?.ok()?;
    let uac = se.refresher().map(|r| r.eq_ignore_ascii_case("uac"));
    Some((se.seconds, uac))
}

pub(crate) fn min_se(m: &Message) -> Option<u32> {
    Some(m.header::<MinSe<'_>>()?.ok()?.seconds)
}

/// True when the peer's Allow lists `method`.
pub(crate) fn allows(m: &Message, method: &str) -> bool {
    m.fields_named(HeaderName::Allow)
        .filter_map(|f| f.value_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case(method))
}

/// When, after a refresh, the refresher sends the next one (half the
/// interval) and when the other side gives up (RFC 4028 §10: the interval
/// minus a third of it or 32 s, whichever is less).
pub(crate) fn session_deadline(s: &Session) -> Duration {
    if s.we_refresh {
        s.interval / 2
    } else {
        s.interval - (s.interval / 3).min(Duration::from_secs(32))
    }
}

/// Option tags in a Require header that we do not implement (RFC 3261
/// §8.2.2.3).
pub(crate) fn unsupported<'a>(m: &'a Message, known: &[&str]) -> Vec<&'a str> {
    m.headers_of::<Require<'_>>()
        .filter_map(Result::ok)
        .map(|r| r.0)
        .filter(|t| !known.iter().any(|k| k.eq_ignore_ascii_case(t)))
        .collect()
}

/// The dialog id of a request we send inside a dialog (From tag is ours).
pub(crate) fn outgoing_dialog_id(m: &Message) -> Option<DialogId> {
    use sip_core::header::{CallId, HeaderName};
    Some(DialogId {
        call_id: m.header::<CallId<'_>>()?.ok()?.0.to_owned(),
        local_tag: m.tag(HeaderName::From)?.to_owned(),
        remote_tag: m.tag(HeaderName::To)?.to_owned(),
    })
}
