//! One dialog (RFC 3261 §12).
//!
//! ```text
//!   (1xx with To tag) --> Early --(2xx)--> Confirmed --(BYE)--> Terminated
//!   (2xx)  ---------------------------> Confirmed
//!   Early --(non-2xx final)--> Terminated
//! ```

use std::fmt;

use sip_core::builder::Builder;
use sip_core::header::{CSeq, CallId, Contact, From, HeaderName, RecordRoute, To};
use sip_core::{Message, Method, StatusCode, Uri};

/// Identifies a dialog: Call-ID, local tag, remote tag (§12).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

/// Early, confirmed or terminated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DialogState {
    /// Created by a provisional response.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
    /// Ended (BYE, or a non-2xx final for an early dialog).
    Terminated,
}

impl DialogState {
    /// The state a dialog is created in by a response with `code`.
    fn on(code: StatusCode) -> DialogState {
        if code.is_success() {
            DialogState::Confirmed
        } else {
            DialogState::Early
        }
    }
}

/// Which side created the dialog.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    /// We sent the request.
    Uac,
    /// We received it.
    Uas,
}

/// Why a dialog could not be created or a request does not fit it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum DialogError {
    /// A header the dialog needs is missing or malformed.
    Missing(&'static str),
    /// The request is out of order (lower CSeq, §12.2.2): answer 500.
    OutOfOrder,
}

impl DialogError {
    /// The response a UAS sends for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            DialogError::Missing(_) => StatusCode::BAD_REQUEST,
            DialogError::OutOfOrder => StatusCode::SERVER_INTERNAL_ERROR,
        }
    }
}

impl fmt::Display for DialogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialogError::Missing(what) => write!(f, "missing or malformed {what}"),
            DialogError::OutOfOrder => f.write_str("CSeq lower than the last one received"),
        }
    }
}

impl std::error::Error for DialogError {}

/// Dialog state (RFC 3261 §12.1, §12.2).
#[derive(Clone, Debug)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    role: Role,
    /// Our URI and the peer's, as name-addr text without tags.
    local_uri: String,
    remote_uri: String,
    local_seq: Option<u32>,
    remote_seq: Option<u32>,
    remote_target: String,
    /// Route set as name-addr texts, in the order requests carry them.
    route_set: Vec<String>,
    secure: bool,
}

fn name_addr_without_params(value: &str) -> String {
    // The URI part of a From/To value, as `display <uri>`.
    match value.find('>') {
        Some(gt) => value[..=gt].trim().to_owned(),
        None => value.split(';').next().unwrap_or(value).trim().to_owned(),
    }
}

fn raw(m: &Message, name: HeaderName) -> Option<String> {
    m.raw_header(name)
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_owned)
}

fn contact_uri(m: &Message) -> Option<String> {
    let c = m.header::<Contact<'_>>()?.ok()?;
    c.addr.map(|a| a.uri_str().to_owned())
}

fn record_routes(m: &Message) -> Vec<String> {
    m.headers_of::<RecordRoute<'_>>()
        .filter_map(Result::ok)
        .map(|r| r.to_string())
        .collect()
}

/// The URI inside a route's `<...>` (route sets keep name-addrs).
pub(crate) fn route_uri(route: &str) -> Option<&str> {
    let start = route.find('<')? + 1;
    let end = route[start..].find('>')? + start;
    Some(&route[start..end])
}

/// What both sides of a new dialog take from the request that creates it.
struct Origin<'a> {
    from_tag: &'a str,
    call_id: &'a str,
    seq: u32,
    /// A `sips:` Request-URI (§12.1.1, §12.1.2).
    secure: bool,
}

impl<'a> Origin<'a> {
    fn of(request: &'a Message) -> Result<Origin<'a>, DialogError> {
        let from = request
            .header::<From<'_>>()
            .and_then(Result::ok)
            .ok_or(DialogError::Missing("From"))?;
        let from_tag = from.tag().ok_or(DialogError::Missing("From tag"))?;
        let call_id = request
            .header::<CallId<'_>>()
            .and_then(Result::ok)
            .ok_or(DialogError::Missing("Call-ID"))?;
        let cseq = request
            .header::<CSeq>()
            .and_then(Result::ok)
            .ok_or(DialogError::Missing("CSeq"))?;
        Ok(Origin {
            from_tag,
            call_id: call_id.0,
            seq: cseq.seq,
            secure: request
                .request_uri_str()
                .and_then(|u| u.get(..5))
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("sips:")),
        })
    }

    fn id(&self, local_tag: &str, remote_tag: &str) -> DialogId {
        DialogId {
            call_id: self.call_id.to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag: remote_tag.to_owned(),
        }
    }
}

impl Dialog {
    /// A UAC dialog from our INVITE (or SUBSCRIBE/REFER) and a 1xx or 2xx
    /// response carrying a To tag (§12.1.2): route set from Record-Route in
    /// reverse order, remote target from the response's Contact.
    pub fn from_uac(request: &Message, response: &Message) -> Result<Dialog, DialogError> {
        let code = response.status().ok_or(DialogError::Missing("status"))?;
        let origin = Origin::of(request)?;
        let to = response
            .header::<To<'_>>()
            .and_then(Result::ok)
            .ok_or(DialogError::Missing("To"))?;
        let remote_tag = to.tag().ok_or(DialogError::Missing("To tag"))?;
        // A 1xx or 2xx without Contact breaks §12.1.1, but peers send them
        // (SIPp's branchs does): in-dialog requests then go to the
        // Request-URI of the request that created the dialog.
        let remote_target = contact_uri(response)
            .or_else(|| request.request_uri_str().map(str::to_owned))
            .ok_or(DialogError::Missing("Contact"))?;
        let mut route_set = record_routes(response);
        route_set.reverse();
        Ok(Dialog {
            id: origin.id(origin.from_tag, remote_tag),
            state: DialogState::on(code),
            role: Role::Uac,
            local_uri: name_addr_without_params(
                &raw(request, HeaderName::From).unwrap_or_default(),
            ),
            remote_uri: name_addr_without_params(
                &raw(response, HeaderName::To).unwrap_or_default(),
            ),
            local_seq: Some(origin.seq),
            remote_seq: None,
            remote_target,
            route_set,
            secure: origin.secure,
        })
    }

    /// A UAS dialog from a request we answer with `local_tag` in a 1xx or
    /// 2xx (§12.1.1): route set from Record-Route in order, remote target
    /// from the request's Contact, remote CSeq from the request.
    pub fn from_uas(
        request: &Message,
        local_tag: &str,
        code: StatusCode,
    ) -> Result<Dialog, DialogError> {
        let origin = Origin::of(request)?;
        let remote_target = contact_uri(request).ok_or(DialogError::Missing("Contact"))?;
        Ok(Dialog {
            id: origin.id(local_tag, origin.from_tag),
            state: DialogState::on(code),
            role: Role::Uas,
            local_uri: name_addr_without_params(&raw(request, HeaderName::To).unwrap_or_default()),
            remote_uri: name_addr_without_params(
                &raw(request, HeaderName::From).unwrap_or_default(),
            ),
            local_seq: None,
            remote_seq: Some(origin.seq),
            remote_target,
            route_set: record_routes(request),
            secure: origin.secure,
        })
    }

    /// The dialog id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Current state.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Which side we are.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where in-dialog requests go (the peer's Contact).
    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    /// Our URI as name-addr text (no tag).
    pub fn local_uri(&self) -> &str {
        &self.local_uri
    }

    /// The peer's URI as name-addr text (no tag).
    pub fn remote_uri(&self) -> &str {
        &self.remote_uri
    }

    /// The last CSeq number received from the peer.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// The route set, in the order requests carry it.
    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// The last CSeq number we used.
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// True for a dialog created by a SIPS request (§12.1.1).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// A later response on a UAC dialog: a 2xx confirms an early dialog (and
    /// refreshes the remote target), a non-2xx final ends it (§12.3).
    /// True when the route set or remote target changed.
    pub fn on_response(&mut self, response: &Message) -> bool {
        let Some(code) = response.status() else {
            return false;
        };
        let mut changed = false;
        if code.is_success() {
            if self.state == DialogState::Early {
                self.state = DialogState::Confirmed;
                // §12.2.1.2: the route set is taken from the 2xx.
                let mut rs = record_routes(response);
                rs.reverse();
                if rs != self.route_set {
                    self.route_set = rs;
                    changed = true;
                }
            }
            changed |= self.refresh_target(response);
        } else if code.is_final() && self.state == DialogState::Early {
            self.state = DialogState::Terminated;
        } else {
            changed |= self.refresh_target(response);
        }
        changed
    }

    /// Takes the remote target from the Contact of `m`; true if it changed.
    fn refresh_target(&mut self, m: &Message) -> bool {
        match contact_uri(m) {
            Some(target) if target != self.remote_target => {
                self.remote_target = target;
                true
            }
            _ => false,
        }
    }

    /// Our next request in this dialog takes a CSeq above `seq` (a
    /// subscription dialog created by a NOTIFY continues the SUBSCRIBE's
    /// numbering).
    pub(crate) fn continue_local_seq(&mut self, seq: u32) {
        if self.local_seq.is_none_or(|s| s < seq) {
            self.local_seq = Some(seq);
        }
    }

    /// Marks the dialog confirmed (UAS: we sent a 2xx).
    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    /// Ends the dialog.
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// Checks an incoming in-dialog request (§12.2.2): CSeq must not go
    /// backwards (else answer 500), target refresh requests update the
    /// remote target, BYE ends the dialog. `Ok(true)` when the remote
    /// target changed.
    pub fn on_request(&mut self, request: &Message) -> Result<bool, DialogError> {
        let cseq = request
            .header::<CSeq>()
            .and_then(Result::ok)
            .ok_or(DialogError::Missing("CSeq"))?;
        let method = request.method().ok_or(DialogError::Missing("method"))?;
        if *method != Method::Ack && *method != Method::Cancel {
            if self.remote_seq.is_some_and(|last| cseq.seq < last) {
                return Err(DialogError::OutOfOrder);
            }
            self.remote_seq = Some(cseq.seq);
        }
        let refresh = matches!(
            method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
        );
        let changed = refresh && self.refresh_target(request);
        if *method == Method::Bye {
            self.state = DialogState::Terminated;
        }
        Ok(changed)
    }

    /// Starts an in-dialog request (§12.2.1.1): Request-URI and Route from
    /// the remote target and route set (loose or strict routing), To/From
    /// with tags, Call-ID, and the next CSeq (ACK and CANCEL reuse the
    /// current one). Add Via, Max-Forwards and Contact before sending.
    pub fn request(&mut self, method: Method) -> Builder {
        let seq = match (method.clone(), self.local_seq) {
            (Method::Ack | Method::Cancel, Some(s)) => s,
            (_, Some(s)) => s.wrapping_add(1).min((1 << 31) - 1),
            (_, None) => 1,
        };
        if !matches!(method, Method::Ack | Method::Cancel) {
            self.local_seq = Some(seq);
        }
        self.build(method, seq)
    }

    /// Starts the ACK for the 2xx to our INVITE with CSeq `seq` (§13.2.2.4:
    /// the ACK carries the INVITE's CSeq number, whatever was sent since).
    pub fn ack(&self, seq: u32) -> Builder {
        self.build(Method::Ack, seq)
    }

    /// An in-dialog request with CSeq `seq`: Request-URI and Route from the
    /// remote target and route set, To/From with tags, Call-ID.
    fn build(&self, method: Method, seq: u32) -> Builder {
        // §12.2.1.1: the first route is a strict router when its URI lacks `lr`.
        let first_route = self.route_set.first().and_then(|r| route_uri(r));
        let strict = first_route.filter(|u| matches!(Uri::parse(u), Ok(Uri::Sip(s)) if !s.lr()));
        let b = match strict {
            Some(first) => {
                // §12.2.1.1 strict routing: the first route becomes the
                // Request-URI and the remote target goes last.
                let mut b = Builder::request(method.clone(), first);
                for r in &self.route_set[1..] {
                    b = b.header("Route", r);
                }
                b.header_parts("Route", &["<", &self.remote_target, ">"])
            }
            None => {
                let mut b = Builder::request(method.clone(), &self.remote_target);
                for r in &self.route_set {
                    b = b.header("Route", r);
                }
                b
            }
        };
        let mut digits = [0u8; 20];
        b.header_parts("From", &[&self.local_uri, ";tag=", &self.id.local_tag])
            .header_parts("To", &[&self.remote_uri, ";tag=", &self.id.remote_tag])
            .header_parts("Call-ID", &[&self.id.call_id])
            .header_parts(
                "CSeq",
                &[
                    sip_core::text::decimal(u64::from(seq), &mut digits),
                    " ",
                    method.as_str(),
                ],
            )
    }
}
