//! Every enabled account's digest credentials held in memory, kept fresh
//! from the `account_changes` log: a server asks the database nothing per
//! request, and a changed password, a disabled or deleted account takes
//! effect at the next [`Preloaded::refresh`].

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use auth_core::{Algorithm, CredentialStore, StoreError};
use futures_util::TryStreamExt;
use sqlx::Row;

use crate::{UserError, Users, db};

const ALL_ROWS: &str = "SELECT h.username, h.domain, h.realm, h.algorithm, h.ha1 \
     FROM digest_ha1 h JOIN accounts a ON a.username = h.username AND a.domain = h.domain \
     WHERE a.enabled = 1";
const ACCOUNT_ROWS: &str = "SELECT h.username, h.domain, h.realm, h.algorithm, h.ha1 \
     FROM digest_ha1 h JOIN accounts a ON a.username = h.username AND a.domain = h.domain \
     WHERE a.enabled = 1 AND h.username = $1 AND h.domain = $2";

/// One HA1 of a user: its domain, realm and value in one allocation.
#[derive(Debug)]
struct Entry {
    algorithm: Algorithm,
    domain_end: u32,
    realm_end: u32,
    text: Box<str>,
}

impl Entry {
    fn new(domain: &str, realm: &str, algorithm: Algorithm, ha1: &str) -> Option<Entry> {
        let domain_end = u32::try_from(domain.len()).ok()?;
        let realm_end = u32::try_from(domain.len() + realm.len()).ok()?;
        Some(Entry {
            algorithm,
            domain_end,
            realm_end,
            text: [domain, realm, ha1].concat().into_boxed_str(),
        })
    }

    fn domain(&self) -> &str {
        self.text.get(..self.domain_end as usize).unwrap_or("")
    }

    fn realm(&self) -> &str {
        self.text
            .get(self.domain_end as usize..self.realm_end as usize)
            .unwrap_or("")
    }

    fn ha1(&self) -> &str {
        self.text.get(self.realm_end as usize..).unwrap_or("")
    }
}

#[derive(Debug, Default)]
struct Table {
    /// The last change reflected.
    revision: i64,
    by_user: HashMap<Box<str>, Vec<Entry>>,
}

impl Table {
    fn add(&mut self, username: &str, entry: Entry) {
        match self.by_user.get_mut(username) {
            Some(list) => list.push(entry),
            None => {
                self.by_user.insert(username.into(), vec![entry]);
            }
        }
    }

    /// Drops what is held for `username@domain`.
    fn forget(&mut self, username: &str, domain: &str) {
        if let Some(list) = self.by_user.get_mut(username) {
            list.retain(|e| e.domain() != domain);
            if list.is_empty() {
                self.by_user.remove(username);
            }
        }
    }
}

/// What [`Preloaded::refresh`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// Nothing had changed.
    Unchanged,
    /// These many accounts were read again.
    Accounts(usize),
    /// Everything was read again (a bulk change, or more changes than the
    /// log keeps): these many users are held.
    All(usize),
}

/// The digest credentials (HA1 values for the chosen algorithms) of every
/// enabled account, in memory. Lookups never wait; [`Preloaded::refresh`]
/// (call it every second or so) applies the changes made since through
/// [`Users`] by any process sharing the database. Changes made to the
/// tables by hand are not seen until the next start.
#[derive(Debug)]
pub struct Preloaded {
    users: Users,
    algorithms: Vec<Algorithm>,
    table: Mutex<Table>,
}

impl Preloaded {
    /// Reads the credentials for `algorithms` of every enabled account.
    pub async fn load(users: Users, algorithms: &[Algorithm]) -> Result<Preloaded, UserError> {
        let preloaded = Preloaded {
            users,
            algorithms: algorithms.to_vec(),
            table: Mutex::new(Table::default()),
        };
        let revision = preloaded.revision().await?;
        let table = preloaded.read_all(revision).await?;
        *preloaded.table() = table;
        Ok(preloaded)
    }

    /// The account store behind.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// Users whose credentials are held.
    pub fn len(&self) -> usize {
        self.table().by_user.len()
    }

    /// True when no credentials are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn revision(&self) -> Result<i64, UserError> {
        sqlx::query_scalar("SELECT revision FROM account_revision WHERE id = 1")
            .fetch_one(self.users.db.pool())
            .await
            .map_err(db("reading the credential revision"))
    }

    /// An HA1 row (user, domain, realm, algorithm, value) as the user and
    /// its entry; `None` for an algorithm not held (or unknown).
    fn row(&self, r: &sqlx::any::AnyRow) -> Result<Option<(String, Entry)>, UserError> {
        let get = |i: usize| {
            r.try_get::<String, _>(i)
                .map_err(db("reading digest credentials"))
        };
        let Some(algorithm) = Algorithm::from_name(&get(3)?) else {
            return Ok(None);
        };
        if !self.algorithms.contains(&algorithm) {
            return Ok(None);
        }
        let Some(entry) = Entry::new(&get(1)?, &get(2)?, algorithm, &get(4)?) else {
            return Ok(None);
        };
        Ok(Some((get(0)?, entry)))
    }

    /// Every enabled account's credentials, as of at least `revision`.
    async fn read_all(&self, revision: i64) -> Result<Table, UserError> {
        let mut table = Table {
            revision,
            by_user: HashMap::new(),
        };
        // Streamed: a million users never sit in memory twice.
        let mut rows = sqlx::query(ALL_ROWS).fetch(self.users.db.pool());
        while let Some(r) = rows
            .try_next()
            .await
            .map_err(db("reading digest credentials"))?
        {
            if let Some((user, entry)) = self.row(&r)? {
                table.add(&user, entry);
            }
        }
        table.by_user.shrink_to_fit();
        Ok(table)
    }

    /// Applies the changes recorded since the last refresh: reads again the
    /// accounts named in the log, or everything when the log says so or
    /// no longer reaches back that far. A database error leaves what is
    /// held as it was (try again later).
    pub async fn refresh(&self) -> Result<Refreshed, UserError> {
        let from = self.table().revision;
        let now = self.revision().await?;
        if now == from {
            return Ok(Refreshed::Unchanged);
        }
        let changes: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT revision, username, domain FROM account_changes \
             WHERE revision > $1 AND revision <= $2 ORDER BY revision",
        )
        .bind(from)
        .bind(now)
        .fetch_all(self.users.db.pool())
        .await
        .map_err(db("reading credential changes"))?;
        // Every revision in (from, now] must be there (none forgotten, the
        // database not replaced by another); revisions are unique, so
        // counting them tells.
        let complete = changes.len() as i64 == now - from;
        if !complete || changes.iter().any(|c| c.1.is_empty()) {
            let table = self.read_all(now).await?;
            let n = table.by_user.len();
            let mut held = self.table();
            // Another refresh may have gone further meanwhile.
            if held.revision == from {
                *held = table;
            }
            return Ok(Refreshed::All(n));
        }
        let mut accounts: Vec<(String, String)> =
            changes.into_iter().map(|(_, u, d)| (u, d)).collect();
        accounts.sort();
        accounts.dedup();
        let mut read = Vec::with_capacity(accounts.len());
        for (user, domain) in &accounts {
            let rows = sqlx::query(ACCOUNT_ROWS)
                .bind(user)
                .bind(domain)
                .fetch_all(self.users.db.pool())
                .await
                .map_err(db("reading digest credentials"))?;
            for r in &rows {
                if let Some(row) = self.row(r)? {
                    read.push(row);
                }
            }
        }
        let mut held = self.table();
        if held.revision != from {
            return Ok(Refreshed::Unchanged);
        }
        for (user, domain) in &accounts {
            held.forget(user, domain);
        }
        for (user, entry) in read {
            held.add(&user, entry);
        }
        held.revision = now;
        Ok(Refreshed::Accounts(accounts.len()))
    }

    /// The HA1 held for `username` in `realm` with `algorithm`.
    pub fn get(&self, username: &str, realm: &str, algorithm: Algorithm) -> Option<String> {
        self.table().by_user.get(username).and_then(|list| {
            list.iter()
                .find(|e| e.algorithm == algorithm && e.realm() == realm)
                .map(|e| e.ha1().to_string())
        })
    }
}

impl CredentialStore for Preloaded {
    async fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.get(username, realm, algorithm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_gives_back_its_parts() {
        let e =
            Entry::new("example.com", "realm.example", Algorithm::Md5, "0123abcd").expect("entry");
        assert_eq!(e.domain(), "example.com");
        assert_eq!(e.realm(), "realm.example");
        assert_eq!(e.ha1(), "0123abcd");
        let empty = Entry::new("", "", Algorithm::Sha256, "").expect("entry");
        assert_eq!((empty.domain(), empty.realm(), empty.ha1()), ("", "", ""));
    }

    #[test]
    fn forgetting_one_domain_keeps_the_others() {
        let mut t = Table::default();
        let entry = |d: &str| Entry::new(d, d, Algorithm::Md5, "h").expect("entry");
        t.add("alice", entry("a.example"));
        t.add("alice", entry("b.example"));
        t.forget("alice", "a.example");
        let left: Vec<_> = t.by_user["alice"].iter().map(Entry::domain).collect();
        assert_eq!(left, ["b.example"]);
        t.forget("alice", "b.example");
        assert!(t.by_user.is_empty());
        t.forget("nobody", "a.example");
    }
}
