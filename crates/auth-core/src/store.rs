//! Where verification gets its HA1 values: a trait the user store
//! implements (users-core on SQLite/PostgreSQL), and an in-memory one for
//! tests and small set-ups.

use std::collections::HashMap;
use std::future::Future;

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
