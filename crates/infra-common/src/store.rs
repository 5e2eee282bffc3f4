//! The error of a storage back-end (database down, query failed), shared
//! by the storage traits the components own (`CredentialStore`,
//! `LocationStore`): a failure of the store, never "not found".

/// A failure of a store, with what was being done.
#[derive(Debug)]
pub struct StoreError(pub String);

impl StoreError {
    /// An error while doing `what`.
    pub fn new(what: &str, cause: impl std::fmt::Display) -> StoreError {
        StoreError(format!("{what}: {cause}"))
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}
