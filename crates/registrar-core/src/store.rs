//! Where bindings are kept: the [`LocationStore`] trait, and a store in
//! memory (tests, single nodes that may forget on restart).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

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

    /// Every binding (to arm expiry timers at start-up).
    fn all(&self) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;
}

/// Bindings in memory.
#[derive(Default, Debug)]
pub struct MemoryStore {
    by_aor: Mutex<HashMap<String, Vec<Binding>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Binding>>> {
        self.by_aor.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LocationStore for MemoryStore {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        Ok(self.lock().get(aor).cloned().unwrap_or_default())
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        let mut map = self.lock();
        for c in changes {
            let b = c.binding();
            // The AOR's key is allocated only for its first binding.
            let Some(list) = map.get_mut(&b.aor) else {
                if !c.is_removal() {
                    map.insert(b.aor.clone(), vec![b.clone()]);
                }
                continue;
            };
            list.retain(|x| x.key != b.key);
            if !c.is_removal() {
                list.push(b.clone());
            } else if list.is_empty() {
                map.remove(&b.aor);
            }
        }
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        Ok(self.lock().values().flatten().cloned().collect())
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
    /// Changes not yet written, the last one per binding.
    pending: Mutex<HashMap<(String, String), Change>>,
}

impl<S: LocationStore> CachedStore<S> {
    /// Wraps `backing` (write-through), loading every binding it holds.
    pub async fn load(backing: S) -> Result<CachedStore<S>, StoreError> {
        let memory = MemoryStore::new();
        let all = backing.all().await?;
        {
            let mut map = memory.lock();
            for b in all {
                map.entry(b.aor.clone()).or_default().push(b);
            }
        }
        Ok(CachedStore {
            memory,
            backing,
            write_behind: false,
            pending: Mutex::new(HashMap::new()),
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

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Change>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the changes made since the last flush in one batch; returns
    /// how many bindings it wrote. On failure the changes stay pending
    /// (unless newer ones replaced them) for the next flush.
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let batch: Vec<Change> = std::mem::take(&mut *self.pending()).into_values().collect();
        if batch.is_empty() {
            return Ok(0);
        }
        match self.backing.apply(&batch).await {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                let mut pending = self.pending();
                for c in batch {
                    let b = c.binding();
                    pending.entry((b.aor.clone(), b.key.clone())).or_insert(c);
                }
                Err(e)
            }
        }
    }
}

impl<S: LocationStore> LocationStore for CachedStore<S> {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        self.memory.bindings(aor).await
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        if self.write_behind {
            let mut pending = self.pending();
            for c in changes {
                let b = c.binding();
                pending.insert((b.aor.clone(), b.key.clone()), c.clone());
            }
        } else {
            self.backing.apply(changes).await?;
        }
        self.memory.apply(changes).await
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        self.memory.all().await
    }
}
