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

/// One remembered HA1 of a user.
#[derive(Debug)]
struct Remembered {
    realm: String,
    algorithm: Algorithm,
    ha1: String,
    until: Instant,
}

/// HA1 values found in another store, remembered for `ttl`: a registrar
/// asks for the same users again and again (every refresh), and the
/// database round trip is most of the cost of a verification. A changed
/// password or a disabled account takes effect within `ttl`. Only values
/// found are kept (unknown names, which scanners send by the thousand,
/// always ask the store), for at most `capacity` users. A lookup that hits
/// allocates nothing but the returned value.
#[derive(Debug)]
pub struct CachedCredentials<S> {
    store: S,
    ttl: Duration,
    capacity: usize,
    /// By user name.
    entries: Mutex<HashMap<String, Vec<Remembered>>>,
}

impl<S: CredentialStore> CachedCredentials<S> {
    /// Remembers `store`'s answers for `ttl`, for at most `capacity` users.
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

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Remembered>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the values whose time is up at `now` (call it now and then:
    /// otherwise they stay, unused, until the cache is full). Returns how
    /// many users are still remembered.
    pub fn purge(&self, now: Instant) -> usize {
        let mut entries = self.entries();
        entries.retain(|_, list| {
            list.retain(|r| r.until > now);
            !list.is_empty()
        });
        if entries.capacity() > 2 * entries.len() + 1024 {
            entries.shrink_to_fit();
        }
        entries.len()
    }

    /// Keeps `ha1` for `username` in `realm` with `algorithm` until
    /// `now + ttl`, room permitting.
    fn remember(&self, now: Instant, username: &str, realm: &str, algorithm: Algorithm, ha1: &str) {
        let mut entries = self.entries();
        if !entries.contains_key(username) && entries.len() >= self.capacity {
            entries.retain(|_, list| {
                list.retain(|r| r.until > now);
                !list.is_empty()
            });
            if entries.len() >= self.capacity {
                return;
            }
        }
        let list = entries.entry(username.to_string()).or_default();
        list.retain(|r| r.realm != realm || r.algorithm != algorithm);
        list.push(Remembered {
            realm: realm.to_string(),
            algorithm,
            ha1: ha1.to_string(),
            until: now + self.ttl,
        });
    }
}

impl<S: CredentialStore> CredentialStore for CachedCredentials<S> {
    async fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> Result<Option<String>, StoreError> {
        let now = Instant::now();
        let hit = self.entries().get(username).and_then(|list| {
            list.iter()
                .find(|r| r.realm == realm && r.algorithm == algorithm && r.until > now)
                .map(|r| r.ha1.clone())
        });
        if hit.is_some() {
            return Ok(hit);
        }
        let found = self.store.ha1(username, realm, algorithm).await?;
        if let Some(ha1) = found.as_deref().filter(|_| !self.ttl.is_zero()) {
            self.remember(now, username, realm, algorithm, ha1);
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

    #[test]
    fn purge_forgets_values_past_their_time() {
        let mut mem = MemoryCredentials::new();
        mem.add("alice", "example.com", "secret-1");
        mem.add("bob", "example.com", "secret-2");
        let cache = CachedCredentials::new(mem, Duration::from_secs(30), 10);
        let start = Instant::now();
        for user in ["alice", "bob"] {
            block(cache.ha1(user, "example.com", Algorithm::Md5)).expect("store");
        }
        assert_eq!(cache.purge(start), 2, "nothing is due yet");
        assert_eq!(cache.purge(start + Duration::from_secs(31)), 0);
    }
}
