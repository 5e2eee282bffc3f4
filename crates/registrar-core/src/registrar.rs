//! REGISTER processing in the order of RFC 3261 §10.3, sans-IO.
//!
//! ```text
//! REGISTER ─▶ check ──────────────▶ (caller authenticates) ─▶ process ─▶ Decision
//!             1 domain, 2 Require,                              6 Contact,   │ response +
//!             5 AOR from To                                     7 bindings   │ changes
//!                                                                            ▼
//!                                   caller writes changes to its store ─▶ commit (timers, events)
//! ```
//!
//! Expiry: [`Registrar::poll_timeout`] says when, [`Registrar::due`] which
//! AORs to look at, [`Registrar::expire`] which of their bindings to drop.

use std::cmp::Reverse;
use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use sip_core::builder::response_to;
use sip_core::header::{
    CSeq, CallId, Contact, Expires, HeaderName, Path, Require, Supported, To, UserAgent, Via,
};
use sip_core::rng::SplitMix;
use sip_core::{Message, StatusCode, Uri};

use crate::{Aor, Binding, Change, RegistrarConfig};

/// RFC 5626 §6: the first hop supports outbound when it is us (one Via,
/// no Path) or the edge proxy's Path URI carries `ob`.
fn first_hop_supports_outbound(request: &Message) -> bool {
    match request.headers_of::<Path<'_>>().next() {
        Some(Ok(first)) => {
            matches!(first.addr.uri(), Ok(Uri::Sip(u)) if u.params.get("ob").is_some())
        }
        Some(Err(_)) => false,
        None => request.headers_of::<Via<'_>>().count() == 1,
    }
}

/// Whether `request` lists `tag` in Supported.
fn supports(request: &Message, tag: &str) -> bool {
    request
        .headers_of::<Supported<'_>>()
        .any(|s| s.is_ok_and(|s| s.0.eq_ignore_ascii_case(tag)))
}

/// Option tags the registrar supports (RFC 3327 path, RFC 5626 outbound).
pub const SUPPORTED: &[&str] = &["path", "outbound"];

/// What to answer and what to write.
#[derive(Debug)]
pub struct Decision {
    /// The response to send; `None` only if it could not be printed (the
    /// request's own Via/From/To/Call-ID/CSeq copied into it do not parse
    /// back), when nothing is sent and the client retransmits.
    pub response: Option<Message>,
    /// Changes to write to the store before sending it (none when the
    /// request is refused).
    pub changes: Vec<Change>,
}

impl Decision {
    fn refused(
        request: &Message,
        code: StatusCode,
        tag: &str,
        extra: Option<(&str, String)>,
    ) -> Decision {
        Decision {
            response: refuse(request, code, tag, extra),
            changes: Vec::new(),
        }
    }
}

/// A registration event, for presence, BLF and metrics.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RegistrationEvent {
    /// A new binding.
    Registered(Binding),
    /// A binding renewed.
    Refreshed(Binding),
    /// A binding removed by its phone.
    Removed(Binding),
    /// A binding that ran out.
    Expired(Binding),
}

/// The registrar's state: settings, expiry timers and events.
pub struct Registrar {
    config: RegistrarConfig,
    /// (when, AOR key): when to look at an AOR's bindings next. An AOR
    /// already armed no later than a new expiry is not armed again (a
    /// refresh only moves expiry later), and [`Registrar::expire`] arms
    /// the next expiry of the bindings left, so there is about one entry
    /// per AOR however often its phones refresh. An entry may be out of
    /// date (the binding refreshed or removed); the stored bindings decide.
    timers: BinaryHeap<Reverse<(SystemTime, String)>>,
    /// The earliest armed time of each AOR, by the AOR key's keyed hash
    /// (random per start, so no client can aim for a collision; two keys
    /// with equal hashes, about 3e-8 per start with a million AORs, would
    /// let one AOR's bindings outlive their expiry until it registers
    /// again). The hash instead of the key keeps ~40 B per AOR off the
    /// memory a binding costs.
    armed: HashMap<u64, SystemTime>,
    hasher: RandomState,
    events: VecDeque<RegistrationEvent>,
    tags: SplitMix,
}

/// A refusal: a response code, with a header to add.
fn refuse(
    request: &Message,
    code: StatusCode,
    tag: &str,
    extra: Option<(&str, String)>,
) -> Option<Message> {
    let mut b = response_to(request, code, Some(tag));
    if let Some((name, value)) = extra {
        b = b.header(name, value);
    }
    b.build().ok()
}

impl Registrar {
    /// A registrar with `config`; `seed` drives To tags.
    pub fn new(config: RegistrarConfig, seed: u64) -> Registrar {
        Registrar {
            config,
            timers: BinaryHeap::new(),
            armed: HashMap::new(),
            hasher: RandomState::new(),
            events: VecDeque::new(),
            tags: SplitMix::new(seed),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// A To tag for a response.
    pub fn tag(&mut self) -> String {
        self.tags.token()
    }

    /// The To tag of a response sent statelessly (RFC 3261 §8.2.7: the
    /// same request, retransmitted, must get the same tag): a keyed hash
    /// of what identifies the request's transaction (top Via, Call-ID,
    /// CSeq, From), so it is stable for a retransmission and cannot be
    /// predicted from outside.
    pub fn stateless_tag(&self, request: &Message) -> String {
        let mut h = self.hasher.build_hasher();
        // Each part as raw bytes and a separator (one hasher write each,
        // not the three of a hashed `Option<&[u8]>`); a retransmission
        // repeats them byte for byte.
        for name in [
            HeaderName::Via,
            HeaderName::CallId,
            HeaderName::CSeq,
            HeaderName::From,
        ] {
            let part = request.raw_header(name);
            h.write(part.unwrap_or_default());
            h.write_u8(0xff); // never in a header value (not UTF-8)
        }
        sip_core::rng::token(h.finish())
    }

    /// Steps 1, 2 and 5 (before authentication): the domain is ours, every
    /// required extension is supported, and To names an address-of-record
    /// here. `Err` is the response to send (see [`Decision::response`]).
    #[allow(clippy::result_large_err)] // the refusal is sent at once, not passed along
    pub fn check(&self, request: &Message, tag: &str) -> Result<Aor, Option<Message>> {
        // 1: the Request-URI's domain.
        let ruri_host = match request.request_uri() {
            Some(Ok(Uri::Sip(u))) => {
                let mut host = String::new();
                u.host.push_to(&mut host);
                host
            }
            Some(Ok(_)) => return Err(refuse(request, StatusCode::NOT_FOUND, tag, None)),
            _ => return Err(refuse(request, StatusCode::BAD_REQUEST, tag, None)),
        };
        if !self.config.serves(&ruri_host) {
            return Err(refuse(request, StatusCode::NOT_FOUND, tag, None));
        }
        // 2: Require.
        let mut unsupported = Vec::new();
        for r in request.headers_of::<Require<'_>>() {
            match r {
                Ok(Require(tag)) if SUPPORTED.iter().any(|s| s.eq_ignore_ascii_case(tag)) => {}
                Ok(Require(tag)) => unsupported.push(tag.to_string()),
                Err(_) => return Err(refuse(request, StatusCode::BAD_REQUEST, tag, None)),
            }
        }
        if !unsupported.is_empty() {
            let list = unsupported.join(", ");
            return Err(refuse(
                request,
                StatusCode::BAD_EXTENSION,
                tag,
                Some(("Unsupported", list)),
            ));
        }
        // 5: the AOR, from To.
        let to = match request.header::<To<'_>>() {
            Some(Ok(to)) => to,
            _ => return Err(refuse(request, StatusCode::BAD_REQUEST, tag, None)),
        };
        let uri = match to.addr.uri() {
            Ok(Uri::Sip(u)) => u,
            Ok(_) => return Err(refuse(request, StatusCode::NOT_FOUND, tag, None)),
            Err(_) => return Err(refuse(request, StatusCode::BAD_REQUEST, tag, None)),
        };
        let user = uri
            .user_unescaped()
            .and_then(|u| String::from_utf8(u.into_owned()).ok())
            .filter(|u| !u.is_empty());
        let mut domain = String::new();
        uri.host.push_to(&mut domain);
        domain.make_ascii_lowercase();
        match user {
            Some(user) if self.config.serves(&domain) => Ok(Aor { user, domain }),
            _ => Err(refuse(request, StatusCode::NOT_FOUND, tag, None)),
        }
    }

    /// Steps 6–8 for `aor`, whose stored bindings are `current`: the
    /// response and the changes to store. `source` is where the request
    /// came from (`transport:address`).
    pub fn process(
        &self,
        now: SystemTime,
        request: &Message,
        aor: &Aor,
        current: &[Binding],
        source: &str,
        tag: &str,
    ) -> Decision {
        match self.changes(now, request, aor, current, source) {
            Ok(changes) => {
                let mut after: Vec<&Binding> = current
                    .iter()
                    .filter(|b| !b.expired(now))
                    .filter(|b| !changes.iter().any(|c| c.binding().key == b.key))
                    .collect();
                after.extend(
                    changes
                        .iter()
                        .filter(|c| !c.is_removal())
                        .map(Change::binding),
                );
                if after.len() > self.config.max_bindings {
                    return Decision::refused(request, StatusCode::FORBIDDEN, tag, None);
                }
                Decision {
                    response: self.ok(now, request, &after, &changes, tag),
                    changes,
                }
            }
            Err((code, extra)) => Decision::refused(request, code, tag, extra),
        }
    }

    #[allow(clippy::type_complexity)]
    fn changes(
        &self,
        now: SystemTime,
        request: &Message,
        aor: &Aor,
        current: &[Binding],
        source: &str,
    ) -> Result<Vec<Change>, (StatusCode, Option<(&'static str, String)>)> {
        let bad = (StatusCode::BAD_REQUEST, None);
        let call_id = match request.header::<CallId<'_>>() {
            Some(Ok(c)) => c.0.to_string(),
            _ => return Err(bad),
        };
        let cseq = match request.header::<CSeq>() {
            Some(Ok(c)) => c.seq,
            _ => return Err(bad),
        };
        let header_expires = match request.header::<Expires>() {
            None => None,
            Some(Ok(e)) => Some(e.0),
            Some(Err(_)) => return Err(bad),
        };
        let contacts: Vec<Contact<'_>> = request
            .headers_of::<Contact<'_>>()
            .collect::<Result<_, _>>()
            .map_err(|_| bad.clone())?;
        // Step 7: a binding this Call-ID wrote with a higher CSeq makes the
        // request out of order. The same Call-ID and CSeq is the request
        // that wrote it, again (§8.1.1.5): a retransmission, which the
        // registrar answers without a transaction's memory of its first
        // answer (see `Registrar::stateless_tag`), so it changes nothing
        // and is answered with the bindings as they are.
        let later = |b: &Binding| b.call_id == call_id && cseq < b.cseq;
        let again = |b: &Binding| b.call_id == call_id && cseq == b.cseq;

        if contacts.iter().any(Contact::is_star) {
            if contacts.len() != 1 || header_expires != Some(0) {
                return Err(bad);
            }
            let live: Vec<&Binding> = current.iter().filter(|b| !b.expired(now)).collect();
            if live.iter().any(|b| later(b)) {
                return Err(bad);
            }
            return Ok(live
                .into_iter()
                .filter(|b| !again(b))
                .cloned()
                .map(Change::Remove)
                .collect());
        }

        let path: Vec<String> = request
            .fields_named(HeaderName::Path)
            .filter_map(|f| f.value_str().ok().map(str::to_string))
            .collect();
        if request.headers_of::<Path<'_>>().any(|p| p.is_err()) {
            return Err(bad);
        }
        // RFC 5626 §6: outbound applies to a Contact with +sip.instance and
        // reg-id (at most one per REGISTER) when the first hop supports it:
        // we are that hop (one Via, no Path), or the edge proxy's Path URI
        // carries "ob". Otherwise a UA that asked for outbound gets 439 and
        // one that did not gets an ordinary binding (reg-id ignored).
        let outbound = match contacts
            .iter()
            .filter(|c| c.instance().is_some() && c.reg_id().is_some())
            .count()
        {
            0 => false,
            1 if first_hop_supports_outbound(request) => true,
            1 if supports(request, "outbound") => {
                return Err((StatusCode::FIRST_HOP_LACKS_OUTBOUND_SUPPORT, None));
            }
            1 => false,
            _ => return Err(bad),
        };
        let user_agent = match request.header::<UserAgent<'_>>() {
            Some(Ok(ua)) => Some(ua.to_string()),
            _ => None,
        };
        let mut changes: Vec<Change> = Vec::new();
        for c in &contacts {
            let Some(addr) = c.addr else { return Err(bad) };
            let Ok(uri) = addr.uri() else { return Err(bad) };
            let asked = c
                .expires()
                .or(header_expires)
                .unwrap_or(self.config.default_expires);
            if asked != 0 && asked < self.config.min_expires {
                return Err((
                    StatusCode::INTERVAL_TOO_BRIEF,
                    Some(("Min-Expires", self.config.min_expires.to_string())),
                ));
            }
            let expiry = asked.min(self.config.max_expires);
            let instance = c.instance().map(|i| i.into_owned());
            let reg_id = c.reg_id().filter(|_| instance.is_some() && outbound);
            let key = match (&instance, reg_id) {
                (Some(i), Some(r)) => format!("{i};reg-id={r}"),
                _ => addr.uri_str().to_string(),
            };
            let existing = current.iter().find(|b| {
                b.key == key
                    || (b.instance.is_none()
                        && instance.is_none()
                        && Uri::parse(&b.contact).is_ok_and(|s| s.equivalent(&uri)))
            });
            match existing {
                Some(b) if later(b) => return Err(bad),
                Some(b) if again(b) => continue,
                _ => {}
            }
            // A contact listed twice: the last one wins.
            let key = existing.map_or(key, |b| b.key.clone());
            changes.retain(|ch| ch.binding().key != key);
            let binding = Binding {
                aor: aor.key(),
                key,
                contact: addr.uri_str().to_string(),
                expires: now + Duration::from_secs(u64::from(expiry)),
                q: c.q(),
                call_id: call_id.clone(),
                cseq,
                path: path.clone(),
                instance,
                reg_id,
                source: Some(source.to_string()),
                user_agent: user_agent.clone(),
            };
            changes.push(match (existing, expiry) {
                (Some(b), 0) if !b.expired(now) => Change::Remove(b.clone()),
                (_, 0) => continue,
                (Some(b), _) if !b.expired(now) => Change::Refresh(binding),
                _ => Change::Add(binding),
            });
        }
        Ok(changes)
    }

    /// The 200 (step 8): every current binding with its remaining time.
    fn ok(
        &self,
        now: SystemTime,
        request: &Message,
        bindings: &[&Binding],
        changes: &[Change],
        tag: &str,
    ) -> Option<Message> {
        let mut b = response_to(request, StatusCode::OK, Some(tag));
        for binding in bindings {
            let mut contact = String::with_capacity(binding.contact.len() + 20);
            contact.push('<');
            contact.push_str(&binding.contact);
            contact.push_str(">;expires=");
            contact.push_str(sip_core::text::decimal(
                binding.remaining(now),
                &mut [0; 20],
            ));
            if let Some(q) = binding.q {
                contact.push_str(&format!(";q={}", qvalue(q)));
            }
            if let (Some(i), Some(r)) = (&binding.instance, binding.reg_id) {
                contact.push_str(&format!(";+sip.instance=\"{i}\";reg-id={r}"));
            }
            b = b.header_text("Contact", &contact);
        }
        let supports = |tag: &str| supports(request, tag);
        // RFC 3327 §5.3: echo the stored Path to a UA that supports it.
        if supports("path") {
            for f in request.fields_named(HeaderName::Path) {
                if let Ok(v) = f.value_str() {
                    b = b.header("Path", v);
                }
            }
        }
        // RFC 5626 §6: outbound applied to a binding with reg-id.
        let outbound = changes
            .iter()
            .any(|c| !c.is_removal() && c.binding().reg_id.is_some());
        if outbound && supports("outbound") {
            b = b.header("Require", "outbound");
        }
        b.header_text("Supported", "path, outbound").build().ok()
    }

    /// After the changes are stored: arms expiry timers and queues events.
    pub fn commit(&mut self, changes: Vec<Change>) {
        self.watch(&changes);
        for c in changes {
            self.events.push_back(match c {
                Change::Add(b) => RegistrationEvent::Registered(b),
                Change::Refresh(b) => RegistrationEvent::Refreshed(b),
                Change::Remove(b) => RegistrationEvent::Removed(b),
                Change::Expire(b) => RegistrationEvent::Expired(b),
            });
        }
    }

    /// What [`commit`](Registrar::commit) does but the events: arms the
    /// expiry timers of `changes`. For a caller that counts the changes
    /// itself and hands them on to a store (which may keep them); it may
    /// come before they are stored, since a timer for a binding that is not
    /// there finds nothing due.
    pub fn watch(&mut self, changes: &[Change]) {
        for c in changes {
            if let Change::Add(b) | Change::Refresh(b) = c {
                self.arm(&b.aor, b.expires);
            }
        }
    }

    /// Arms timers for bindings loaded from a store at start-up.
    pub fn restore(&mut self, bindings: &[Binding]) {
        for b in bindings {
            self.arm(&b.aor, b.expires);
        }
    }

    /// Looks at `aor` again at `at` unless it is armed for no later.
    fn arm(&mut self, aor: &str, at: SystemTime) {
        match self.armed.entry(self.hasher.hash_one(aor)) {
            Entry::Occupied(e) if *e.get() <= at => return,
            Entry::Occupied(mut e) => {
                e.insert(at);
            }
            Entry::Vacant(e) => {
                e.insert(at);
            }
        }
        self.timers.push(Reverse((at, aor.to_string())));
    }

    /// Looks at `aor` again at `at`: for a caller that could not read or
    /// write its bindings when it was [`due`](Registrar::due).
    pub fn retry(&mut self, aor: &str, at: SystemTime) {
        self.arm(aor, at);
    }

    /// When the next binding may expire.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// AOR keys with a binding that may have expired by `now`. For each,
    /// the caller reads the stored bindings and passes them to
    /// [`expire`](Registrar::expire), which arms the next expiry, or calls
    /// [`retry`](Registrar::retry) when it cannot read them.
    pub fn due(&mut self, now: SystemTime) -> Vec<String> {
        let mut due: Vec<String> = Vec::new();
        while let Some(Reverse((t, _))) = self.timers.peek() {
            if *t > now {
                break;
            }
            if let Some(Reverse((t, aor))) = self.timers.pop() {
                let h = self.hasher.hash_one(aor.as_str());
                if self.armed.get(&h) == Some(&t) {
                    self.armed.remove(&h);
                }
                if !due.contains(&aor) {
                    due.push(aor);
                }
            }
        }
        due
    }

    /// The expiries among an AOR's stored bindings `current` (all of one
    /// AOR); arms the next expiry of the others.
    pub fn expire(&mut self, now: SystemTime, current: &[Binding]) -> Vec<Change> {
        let next = current
            .iter()
            .filter(|b| !b.expired(now))
            .min_by_key(|b| b.expires);
        if let Some(b) = next {
            self.arm(&b.aor, b.expires);
        }
        current
            .iter()
            .filter(|b| b.expired(now))
            .cloned()
            .map(Change::Expire)
            .collect()
    }

    /// The next registration event.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// Expiry timers pending.
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }
}

/// A q-value in thousandths as written (`500` → `0.5`).
fn qvalue(q: u16) -> String {
    if q >= 1000 {
        return "1".into();
    }
    let s = format!("0.{q:03}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
