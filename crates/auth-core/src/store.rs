//! Where verification gets its HA1 values: a trait the user store
//! implements (users-core on SQLite/PostgreSQL), and an in-memory one for
//! tests and small set-ups.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use infra_common::StoreError;

use crate::Algorithm;

/// HA1 values by user name, realm and algorithm.
pub trait CredentialStore: Send + Sync {
    /// The HA1 of an enabled account `username` in `realm` for
    /// `algorithm`; `None` when there is none.
    fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
}

/// Credentials held in memory, computed from passwords when added.
#[derive(Default, Debug, Clone)]
pub struct MemoryCredentials {
    ha1: HashMap<(String, String, Algorithm), String>,
}

impl MemoryCredentials {
    /// An empty store.
    pub fn new() -> MemoryCredentials {
        MemoryCredentials::default()
    }

    /// Adds `username` in `realm` with `password`, for every algorithm.
    pub fn add(&mut self, username: &str, realm: &str, password: &str) {
        for a in Algorithm::ALL {
            self.ha1.insert(
                (username.to_string(), realm.to_string(), a),
                a.ha1(username, realm, password),
            );
        }
    }
}

impl CredentialStore for MemoryCredentials {
    async fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .ha1
            .get(&(username.to_string(), realm.to_string(), algorithm))
            .cloned())
    }
}

type CacheKey = (String, String, Algorithm);

/// HA1 values found in another store, remembered for `ttl`: a registrar
/// asks for the same users again and again (every refresh), and the
/// database round trip is most of the cost of a verification. A changed
/// password or a disabled account takes effect within `ttl`. Only values
/// found are kept (unknown names, which scanners send by the thousand,
/// always ask the store), and at most `capacity` of them.
#[derive(Debug)]
pub struct CachedCredentials<S> {
    store: S,
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<CacheKey, (String, Instant)>>,
}

impl<S: CredentialStore> CachedCredentials<S> {
    /// Remembers `store`'s answers for `ttl`, at most `capacity` of them.
    pub fn new(store: S, ttl: Duration, capacity: usize) -> CachedCredentials<S> {
        CachedCredentials {
            store,
            ttl,
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The store behind the cache.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, (String, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<S: CredentialStore> CredentialStore for CachedCredentials<S> {
    async fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> Result<Option<String>, StoreError> {
        let key = (username.to_string(), realm.to_string(), algorithm);
        let now = Instant::now();
        if let Some((ha1, until)) = self.entries().get(&key)
            && *until > now
        {
            return Ok(Some(ha1.clone()));
        }
        let found = self.store.ha1(username, realm, algorithm).await?;
        if let Some(ha1) = found.as_ref().filter(|_| !self.ttl.is_zero()) {
            let mut entries = self.entries();
            if entries.len() >= self.capacity {
                entries.retain(|_, (_, until)| *until > now);
            }
            if entries.len() < self.capacity {
                entries.insert(key, (ha1.clone(), now + self.ttl));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the questions that reach it.
    struct Counting(MemoryCredentials, AtomicUsize);

    impl CredentialStore for Counting {
        async fn ha1(
            &self,
            username: &str,
            realm: &str,
            algorithm: Algorithm,
        ) -> Result<Option<String>, StoreError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.ha1(username, realm, algorithm).await
        }
    }

    fn block<T>(f: impl Future<Output = T>) -> T {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn cached_credentials_remember_found_values_for_the_ttl() {
        let mut mem = MemoryCredentials::new();
        mem.add("alice", "example.com", "secret-1");
        mem.add("bob", "example.com", "secret-2");
        let cache = CachedCredentials::new(
            Counting(mem, AtomicUsize::new(0)),
            Duration::from_millis(200),
            1,
        );
        let asked = || cache.store().1.load(Ordering::Relaxed);
        let ha1 = |u| block(cache.ha1(u, "example.com", Algorithm::Md5)).expect("store");
        let want = Algorithm::Md5.ha1("alice", "example.com", "secret-1");
        assert_eq!(ha1("alice"), Some(want.clone()));
        assert_eq!(ha1("alice"), Some(want.clone()));
        assert_eq!(asked(), 1, "the second answer came from the cache");
        // Unknown names always reach the store.
        assert_eq!(ha1("mallory"), None);
        assert_eq!(ha1("mallory"), None);
        assert_eq!(asked(), 3);
        // Full (capacity 1): bob is answered but not kept.
        assert!(ha1("bob").is_some());
        assert!(ha1("bob").is_some());
        assert_eq!(asked(), 5);
        // After the TTL alice is asked again, and bob can take the room.
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(ha1("bob").map(|h| h.len()), Some(32));
        assert!(ha1("bob").is_some());
        assert_eq!(asked(), 6);
        assert_eq!(ha1("alice"), Some(want));
        assert_eq!(asked(), 7);
    }
}
