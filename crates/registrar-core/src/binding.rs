//! Bindings: one contact registered for an address-of-record, and the
//! changes a REGISTER or an expiry makes to them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The canonical address-of-record (RFC 3261 §10.3 step 5): the To URI's
/// unescaped user and lower-case host, without scheme, port or parameters.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Aor {
    /// The user part, unescaped.
    pub user: String,
    /// The host, lower case.
    pub domain: String,
}

impl Aor {
    /// `user@domain`, the key bindings are stored under.
    pub fn key(&self) -> String {
        [self.user.as_str(), "@", &self.domain].concat()
    }
}

/// One registered contact.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Binding {
    /// The address-of-record key (`user@domain`).
    pub aor: String,
    /// What identifies the binding within its AOR: `+sip.instance` and
    /// `reg-id` for RFC 5626 clients, else the contact URI.
    pub key: String,
    /// The contact URI.
    pub contact: String,
    /// When the binding expires.
    pub expires: SystemTime,
    /// The q-value in thousandths.
    pub q: Option<u16>,
    /// The Call-ID of the REGISTER that last wrote it.
    pub call_id: String,
    /// Its CSeq number.
    pub cseq: u32,
    /// The Path (RFC 3327) to reach the contact, in order.
    pub path: Vec<String>,
    /// `+sip.instance` (RFC 5626), without quotes.
    pub instance: Option<String>,
    /// `reg-id` (RFC 5626).
    pub reg_id: Option<u32>,
    /// Where the REGISTER came from (`transport:address`): the flow to
    /// reach an RFC 5626 client, or the NAT's public address.
    pub source: Option<String>,
    /// The phone's User-Agent.
    pub user_agent: Option<String>,
}

impl Binding {
    /// Whole seconds left at `now` (0 once expired).
    pub fn remaining(&self, now: SystemTime) -> u64 {
        self.expires
            .duration_since(now)
            .map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }

    /// True once the binding has expired.
    pub fn expired(&self, now: SystemTime) -> bool {
        self.expires <= now
    }
}

/// A change to the stored bindings, and the event it makes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Change {
    /// A new binding.
    Add(Binding),
    /// An existing binding rewritten (a re-registration).
    Refresh(Binding),
    /// A binding removed by the phone (expires 0 or `*`).
    Remove(Binding),
    /// A binding removed because it expired.
    Expire(Binding),
}

impl Change {
    /// The binding concerned.
    pub fn binding(&self) -> &Binding {
        match self {
            Change::Add(b) | Change::Refresh(b) | Change::Remove(b) | Change::Expire(b) => b,
        }
    }

    /// True for changes that delete the binding.
    pub fn is_removal(&self) -> bool {
        matches!(self, Change::Remove(_) | Change::Expire(_))
    }
}

/// Unix seconds of `t` (for stores).
pub fn to_unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The time `secs` Unix seconds name (for stores).
pub fn from_unix(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}
