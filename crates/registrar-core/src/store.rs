//! Where bindings are kept: the [`LocationStore`] trait, and a store in
//! memory (tests, single nodes that may forget on restart).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::SystemTime;

pub use infra_common::StoreError;

use crate::{Binding, Change};

/// Bindings by address-of-record. The registrar reads an AOR's bindings,
/// decides, and writes the changes; it serialises requests for one AOR,
/// so a store needs no locking of its own beyond its writes being atomic
/// per call.
pub trait LocationStore: Send + Sync {
    /// The bindings of `aor` (expired ones may be included).
    fn bindings(&self, aor: &str) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;

    /// Applies `changes` (all for one AOR) at once.
    fn apply(&self, changes: &[Change]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// [`apply`](LocationStore::apply) for a caller done with `changes`:
    /// a store that keeps them for later (write-behind) takes them instead
    /// of copying each binding.
    fn apply_owned(
        &self,
        changes: Vec<Change>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move { self.apply(&changes).await }
    }

    /// Every binding (to arm expiry timers at start-up).
    fn all(&self) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;
}

/// A binding as [`MemoryStore`] keeps it, for a registrar holding every
/// phone's: its strings in one allocation, the AOR only once (the map's
/// key), the binding key only when it differs from the contact (it is the
/// contact for all but RFC 5626 clients). About half of a [`Binding`].
#[derive(Debug)]
struct Packed {
    /// Contact, key, Call-ID, instance, source, User-Agent, one after another.
    text: Box<str>,
    /// Where each part of `text` ends.
    ends: [u32; 6],
    /// Bit i: part i is present (parts 3-5 are optional; part 1 absent
    /// means the key is the contact).
    present: u8,
    expires: SystemTime,
    q: Option<u16>,
    cseq: u32,
    reg_id: Option<u32>,
    path: Box<[Box<str>]>,
}

impl Packed {
    fn new(b: &Binding) -> Packed {
        let key = (b.key != b.contact).then_some(b.key.as_str());
        let parts = [
            Some(b.contact.as_str()),
            key,
            Some(b.call_id.as_str()),
            b.instance.as_deref(),
            b.source.as_deref(),
            b.user_agent.as_deref(),
        ];
        let mut text = String::with_capacity(parts.iter().flatten().map(|p| p.len()).sum());
        let mut ends = [0; 6];
        let mut present = 0;
        for (i, part) in parts.iter().enumerate() {
            if let Some(p) = part {
                text.push_str(p);
                present |= 1 << i;
            }
            // Strings this long are refused long before (message limits).
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        Packed {
            text: text.into_boxed_str(),
            ends,
            present,
            expires: b.expires,
            q: b.q,
            cseq: b.cseq,
            reg_id: b.reg_id,
            path: b.path.iter().map(|p| p.as_str().into()).collect(),
        }
    }

    fn part(&self, i: usize) -> Option<&str> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize)
    }

    fn contact(&self) -> &str {
        self.part(0).unwrap_or("")
    }

    fn key(&self) -> &str {
        self.part(1).unwrap_or_else(|| self.contact())
    }

    fn unpack(&self, aor: &str) -> Binding {
        let owned = |i| self.part(i).map(str::to_owned);
        Binding {
            aor: aor.to_owned(),
            key: self.key().to_owned(),
            contact: self.contact().to_owned(),
            expires: self.expires,
            q: self.q,
            call_id: self.part(2).unwrap_or("").to_owned(),
            cseq: self.cseq,
            path: self.path.iter().map(|p| String::from(&**p)).collect(),
            instance: owned(3),
            reg_id: self.reg_id,
            source: owned(4),
            user_agent: owned(5),
        }
    }
}

type ByAor = HashMap<Box<str>, Vec<Packed>>;

/// Bindings in memory.
#[derive(Default, Debug)]
pub struct MemoryStore {
    by_aor: Mutex<ByAor>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ByAor> {
        self.by_aor.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(map: &mut ByAor, b: &Binding) {
        // The AOR's key is allocated only for its first binding.
        match map.get_mut(b.aor.as_str()) {
            Some(list) => list.push(Packed::new(b)),
            None => {
                map.insert(b.aor.as_str().into(), vec![Packed::new(b)]);
            }
        }
    }
}

impl LocationStore for MemoryStore {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        Ok(self.lock().get(aor).map_or_else(Vec::new, |list| {
            list.iter().map(|p| p.unpack(aor)).collect()
        }))
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        let mut map = self.lock();
        for c in changes {
            let b = c.binding();
            match map.get_mut(b.aor.as_str()) {
                Some(list) => {
                    list.retain(|x| x.key() != b.key);
                    if !c.is_removal() {
                        list.push(Packed::new(b));
                    } else if list.is_empty() {
                        map.remove(b.aor.as_str());
                    }
                }
                None if !c.is_removal() => MemoryStore::add(&mut map, b),
                None => {}
            }
        }
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .lock()
            .iter()
            .flat_map(|(aor, list)| list.iter().map(|p| p.unpack(aor)))
            .collect())
    }
}

/// A store read from memory in front of another that keeps the bindings
/// for restarts: reads never leave the process. Writes go to the backing
/// store either at once, before [`apply`](LocationStore::apply) returns
/// (write-through), or, with [`CachedStore::write_behind`], in batches
/// when [`CachedStore::flush`] is called: many registrations share one
/// transaction, and a crash loses the changes since the last flush (phones
/// register again when their refresh is due). The memory copy is loaded
/// once, by [`CachedStore::load`], so this is right while this process is
/// the only writer of the backing store; registrars sharing one store use
/// that store directly.
#[derive(Debug)]
pub struct CachedStore<S> {
    memory: MemoryStore,
    backing: S,
    write_behind: bool,
    /// Changes not yet written, oldest first (the backing store keeps the
    /// last one per binding).
    pending: Mutex<Vec<Change>>,
}

impl<S: LocationStore> CachedStore<S> {
    /// Wraps `backing` (write-through), loading every binding it holds.
    pub async fn load(backing: S) -> Result<CachedStore<S>, StoreError> {
        let memory = MemoryStore::new();
        let all = backing.all().await?;
        {
            let mut map = memory.lock();
            for b in &all {
                MemoryStore::add(&mut map, b);
            }
        }
        Ok(CachedStore {
            memory,
            backing,
            write_behind: false,
            pending: Mutex::new(Vec::new()),
        })
    }

    /// With `on`, writes to the backing store only when
    /// [`flush`](Self::flush)ed.
    pub fn write_behind(mut self, on: bool) -> CachedStore<S> {
        self.write_behind = on;
        self
    }

    /// The backing store.
    pub fn backing(&self) -> &S {
        &self.backing
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Vec<Change>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the changes made since the last flush in one batch; returns
    /// how many it wrote. On failure they stay pending for the next flush,
    /// reduced to the last change per binding (so a store that stays down
    /// holds at most one change per binding, not every registration).
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let batch = {
            let mut pending = self.pending();
            let room = pending.len();
            std::mem::replace(&mut *pending, Vec::with_capacity(room))
        };
        if batch.is_empty() {
            return Ok(0);
        }
        match self.backing.apply(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                let mut pending = self.pending();
                let newer = std::mem::take(&mut *pending);
                *pending = last_per_binding(batch.into_iter().chain(newer));
                Err(e)
            }
        }
    }

    fn keep(&self, changes: impl IntoIterator<Item = Change>) {
        self.pending().extend(changes);
    }
}

/// `changes` (oldest first) without those a later change to the same
/// binding replaces, in their order.
fn last_per_binding(changes: impl Iterator<Item = Change>) -> Vec<Change> {
    let all: Vec<Change> = changes.collect();
    let mut last: HashMap<(&str, &str), usize> = HashMap::with_capacity(all.len());
    for (i, c) in all.iter().enumerate() {
        let b = c.binding();
        last.insert((b.aor.as_str(), b.key.as_str()), i);
    }
    let mut keep = vec![false; all.len()];
    for i in last.into_values() {
        keep[i] = true;
    }
    all.into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

impl<S: LocationStore> LocationStore for CachedStore<S> {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        self.memory.bindings(aor).await
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        if self.write_behind {
            self.keep(changes.iter().cloned());
        } else {
            self.backing.apply(changes).await?;
        }
        self.memory.apply(changes).await
    }

    async fn apply_owned(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        if !self.write_behind {
            return self.apply(&changes).await;
        }
        self.memory.apply(&changes).await?;
        self.keep(changes);
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        self.memory.all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_packed_binding_unpacks_to_the_same() {
        let full = Binding {
            aor: "alice@example.com".into(),
            key: "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>;1".into(),
            contact: "<sip:alice@192.0.2.1;transport=tcp;ob>".into(),
            expires: UNIX_EPOCH + Duration::from_nanos(1_790_000_000_123_456_789),
            q: Some(700),
            call_id: "reg-1@198.51.100.2".into(),
            cseq: 41,
            path: vec!["<sip:edge@198.51.100.1;lr;ob>".into()],
            instance: Some("<urn:uuid:00000000-0000-1000-8000-000A95A0E128>".into()),
            reg_id: Some(1),
            source: Some("tcp:198.51.100.1:5060".into()),
            user_agent: Some("Téléphone/1.0".into()),
        };
        let bare = Binding {
            key: full.contact.clone(),
            q: None,
            path: Vec::new(),
            instance: None,
            reg_id: None,
            source: None,
            user_agent: None,
            call_id: String::new(),
            ..full.clone()
        };
        for b in [full, bare] {
            let p = Packed::new(&b);
            assert_eq!(p.key(), b.key);
            assert_eq!(p.unpack(&b.aor), b);
        }
    }
}
