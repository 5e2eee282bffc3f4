//! Transaction matching (RFC 3261 §17.1.3 for responses, §17.2.3 for
//! requests, with the RFC 2543 fallback when the branch lacks the magic
//! cookie).

use sip_core::header::{CSeq, CallId, From, HeaderName, MAGIC_COOKIE, Via};
use sip_core::{Message, Method};
use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;

/// Identifies a transaction in the layer's maps: its parts, and their
/// hash computed once when the key is made (keyed SipHash: the parts come
/// from the network), which the completed store and the live table file
/// it under, so that the lookups of one message (the completed store, the
/// live table, the insert and the removal) do not hash it again.
#[derive(Clone, Debug)]
pub(crate) struct Key {
    kind: Kind,
    hash: u64,
}

/// The parts of a [`Key`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Kind {
    /// Client transactions: branch and CSeq method (§17.1.3).
    Client { branch: String, method: Method },
    /// Server transactions with an RFC 3261 branch: branch, sent-by and
    /// method, ACK counted as INVITE (§17.2.3).
    Server {
        branch: String,
        sent_by: String,
        method: Method,
    },
    /// Server transactions from RFC 2543 peers (boxed: rare, and every
    /// key would otherwise be as large as this one).
    Legacy(Box<LegacyKey>),
}

/// The process's SipHash keys for transaction keys (random at start).
fn hasher() -> &'static RandomState {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    KEYS.get_or_init(RandomState::new)
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.hash == other.hash && self.kind == other.kind
    }
}

impl Eq for Key {}

impl std::convert::From<Kind> for Key {
    fn from(kind: Kind) -> Key {
        let hash = hasher().hash_one(&kind);
        Key { kind, hash }
    }
}

impl Key {
    /// The parts.
    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The keyed hash of the parts.
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// Writes the key as bytes that are equal exactly when the keys are
    /// (each part length-prefixed), for stores that keep keys packed.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        fn part(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        match &self.kind {
            Kind::Client { branch, method } => {
                out.push(0);
                part(out, branch);
                part(out, method.as_str());
            }
            Kind::Server {
                branch,
                sent_by,
                method,
            } => {
                out.push(1);
                part(out, branch);
                part(out, sent_by);
                part(out, method.as_str());
            }
            Kind::Legacy(k) => {
                out.push(2);
                part(out, &k.request_uri);
                part(out, &k.from_tag);
                part(out, &k.call_id);
                out.extend_from_slice(&k.cseq.to_le_bytes());
                part(out, &k.via);
                part(out, k.method.as_str());
            }
        }
    }
}

/// RFC 2543 matching: Request-URI, From tag, Call-ID, CSeq number, top Via
/// and method (ACK counted as INVITE).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct LegacyKey {
    request_uri: String,
    from_tag: String,
    call_id: String,
    cseq: u32,
    via: String,
    method: Method,
}

/// ACK matches the INVITE transaction it acknowledges.
fn matching_method(m: &Method) -> Method {
    if *m == Method::Ack {
        Method::Invite
    } else {
        m.clone()
    }
}

fn top_via(m: &Message) -> Option<Via<'_>> {
    m.header::<Via<'_>>()?.ok()
}

/// The `branch` of the top Via read straight from its bytes, for the
/// common shape (`SIP/2.0/UDP host:port;...;branch=token;...`) that every
/// message on the hot path has. `None` sends the caller to the full
/// parse: no branch here, or a quoted string that could hide separators.
fn quick_branch(m: &Message) -> Option<&str> {
    let branch = Via::scan_param(m.raw_header(HeaderName::Via)?, "branch")??;
    std::str::from_utf8(branch)
        .ok()
        .filter(|b| sip_core::text::is_token(b))
}

/// The key of a request we send (client side). Needs a top Via with a
/// branch and a CSeq.
pub(crate) fn client_key(req: &Message) -> Result<Key, &'static str> {
    let branch = match quick_branch(req) {
        Some(b) => b,
        None => top_via(req)
            .ok_or("no valid top Via")?
            .branch()
            .filter(|b| !b.is_empty())
            .ok_or("top Via has no branch")?,
    };
    let cseq = req
        .header::<CSeq>()
        .and_then(Result::ok)
        .ok_or("no valid CSeq")?;
    Ok(Kind::Client {
        branch: branch.to_owned(),
        method: cseq.method,
    }
    .into())
}

/// The client transaction a response belongs to.
pub(crate) fn response_key(resp: &Message) -> Option<Key> {
    let branch = match quick_branch(resp) {
        Some(b) => b,
        None => top_via(resp)?.branch()?,
    };
    let cseq = resp.header::<CSeq>()?.ok()?;
    Some(
        Kind::Client {
            branch: branch.to_owned(),
            method: cseq.method,
        }
        .into(),
    )
}

fn sent_by(via: &Via<'_>) -> String {
    let host_len = match via.host {
        sip_core::Host::Name(n) => n.len(),
        sip_core::Host::V4(_) => 15,
        sip_core::Host::V6(_) => 41,
    };
    let mut s = String::with_capacity(host_len + 6);
    via.host.push_to(&mut s);
    s.make_ascii_lowercase();
    if let Some(p) = via.port {
        s.push(':');
        s.push_str(sip_core::text::decimal(u64::from(p), &mut [0; 20]));
    }
    s
}

/// The server transaction a request belongs to, with `method` replacing the
/// request's own (used to find the INVITE a CANCEL targets).
pub(crate) fn server_key_as(req: &Message, method: &Method) -> Option<Key> {
    server_key_with(req, &top_via(req)?, method)
}

/// [`server_key_as`] with the top Via already parsed.
pub(crate) fn server_key_with(req: &Message, via: &Via<'_>, method: &Method) -> Option<Key> {
    let method = matching_method(method);
    match via.branch() {
        Some(b) if b.starts_with(MAGIC_COOKIE) => Some(
            Kind::Server {
                branch: b.to_owned(),
                sent_by: sent_by(via),
                method,
            }
            .into(),
        ),
        _ => {
            let from = req.header::<From<'_>>()?.ok()?;
            let call_id = req.header::<CallId<'_>>()?.ok()?;
            let cseq = req.header::<CSeq>()?.ok()?;
            Some(Key::from(Kind::Legacy(Box::new(LegacyKey {
                request_uri: req.request_uri_str()?.to_owned(),
                from_tag: from.tag().unwrap_or("").to_owned(),
                call_id: call_id.0.to_owned(),
                cseq: cseq.seq,
                via: via.to_string(),
                method,
            }))))
        }
    }
}

/// The server transaction a request belongs to.
#[cfg(test)]
pub(crate) fn server_key(req: &Message) -> Option<Key> {
    server_key_as(req, req.method()?)
}

/// For RFC 2543 ACK matching (§17.2.3): the To tag of the ACK must equal the
/// To tag of the response the transaction sent.
pub(crate) fn to_tag(m: &Message) -> Option<String> {
    m.tag(HeaderName::To).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(s: &str) -> Message {
        Message::parse(Bytes::from(s.replace('\n', "\r\n"))).expect("valid")
    }

    #[test]
    fn quick_branch_agrees_with_the_full_parse() {
        for via in [
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport",
            "v: SIP/2.0/TCP [2001:db8::1];rport ; BRANCH = z9hG4bKx.y-z",
            "Via: SIP/2.0/UDP a.example.com;received=192.0.2.9;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2",
            "Via: SIP/2.0/UDP a.example.com;x=\"q;branch=fake\";branch=z9hG4bKreal",
            "Via: SIP/2.0/UDP a.example.com;branchx=1;branch=z9hG4bK3",
        ] {
            let m = msg(&format!(
                "SIP/2.0 200 OK\n{via}\nCSeq: 1 INVITE\nContent-Length: 0\n\n"
            ));
            let full = top_via(&m).and_then(|v| v.branch());
            if let Some(quick) = quick_branch(&m) {
                assert_eq!(Some(quick), full, "{via}");
            }
            assert_eq!(
                response_key(&m),
                full.map(|b| Key::from(Kind::Client {
                    branch: b.to_owned(),
                    method: Method::Invite
                })),
                "{via}"
            );
        }
        // The quoted case goes to the full parse.
        let quoted = msg(
            "SIP/2.0 200 OK\nVia: SIP/2.0/UDP a;x=\"q;branch=fake\";branch=z9hG4bKreal\nContent-Length: 0\n\n",
        );
        assert_eq!(quick_branch(&quoted), None);
    }

    #[test]
    fn ack_and_cancel_keys() {
        let inv = msg(
            "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP Host.Example:5070;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>\nCall-ID: c\nCSeq: 1 INVITE\n\n",
        );
        let ack = msg(
            "ACK sip:b@x SIP/2.0\nVia: SIP/2.0/UDP host.example:5070;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>;tag=t\nCall-ID: c\nCSeq: 1 ACK\n\n",
        );
        let cancel = msg(
            "CANCEL sip:b@x SIP/2.0\nVia: SIP/2.0/UDP host.example:5070;branch=z9hG4bK1\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>\nCall-ID: c\nCSeq: 1 CANCEL\n\n",
        );
        assert_eq!(
            server_key(&inv),
            server_key(&ack),
            "ACK matches its INVITE (sent-by case-insensitive)"
        );
        assert_ne!(
            server_key(&inv),
            server_key(&cancel),
            "CANCEL is its own transaction"
        );
        assert_eq!(
            server_key(&inv),
            server_key_as(&cancel, &Method::Invite),
            "CANCEL finds its INVITE"
        );
        let legacy = msg(
            "INVITE sip:b@x SIP/2.0\nVia: SIP/2.0/UDP h\nFrom: <sip:a@x>;tag=f\nTo: <sip:b@x>\nCall-ID: c\nCSeq: 1 INVITE\n\n",
        );
        assert!(matches!(
            server_key(&legacy).as_ref().map(Key::kind),
            Some(Kind::Legacy(_))
        ));
        assert!(client_key(&legacy).is_err());
    }
}
