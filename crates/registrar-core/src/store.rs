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
            let list = map.entry(b.aor.clone()).or_default();
            list.retain(|x| x.key != b.key);
            if !c.is_removal() {
                list.push(b.clone());
            }
            if list.is_empty() {
                map.remove(&b.aor);
            }
        }
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        Ok(self.lock().values().flatten().cloned().collect())
    }
}
