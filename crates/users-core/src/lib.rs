//! # users-core
//!
//! Accounts and their credentials for rvoip servers, in a real database:
//! SQLite by default (a file created and migrated on first start) or
//! PostgreSQL by URL, with the same runtime queries on both.
//!
//! - An account is `user@domain` with a display name, an enabled flag and
//!   roles (admin, user, agent).
//! - Passwords are kept as an argon2id hash (for logins such as the REST
//!   APIs) and as digest HA1 values per realm for MD5, SHA-256 and
//!   SHA-512-256 (for SIP digest authentication). The password itself is
//!   never stored.
//! - API keys are random; only their SHA-256 is stored, and the key is
//!   shown once, when created.
//!
//! [`Users`] implements auth-core's [`CredentialStore`], so a registrar or
//! proxy verifies digest answers against it.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use users_core::{NewAccount, Users};
//! let users = Users::open("sqlite::memory:").await.unwrap();
//! users.add(&NewAccount::new("alice", "example.com", "correct horse battery")).await.unwrap();
//! let alice = users.get("alice", "example.com").await.unwrap().unwrap();
//! assert!(alice.enabled);
//! assert!(users.check_password("alice", "example.com", "correct horse battery").await.unwrap());
//! # });
//! ```

mod account;
mod apikey;
mod password;
mod preload;

pub use account::{Account, NewAccount, Role};
pub use apikey::ApiKey;
pub use password::check_strength;
pub use preload::{Preloaded, Refreshed};

use std::fmt;

use auth_core::{Algorithm, CredentialStore, StoreError};
use infra_common::db::{Database, DbError};
use sqlx::Row;

/// Schema versions, appended only (see [`Database::migrate`]).
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE accounts (
        username TEXT NOT NULL,
        domain TEXT NOT NULL,
        display_name TEXT,
        enabled BIGINT NOT NULL,
        roles TEXT NOT NULL,
        password TEXT,
        created BIGINT NOT NULL,
        PRIMARY KEY (username, domain));
     CREATE TABLE digest_ha1 (
        realm TEXT NOT NULL,
        username TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        domain TEXT NOT NULL,
        ha1 TEXT NOT NULL,
        PRIMARY KEY (realm, username, algorithm));
     CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        domain TEXT NOT NULL,
        label TEXT NOT NULL,
        hash TEXT NOT NULL,
        created BIGINT NOT NULL)",
    // A log of the accounts whose credentials changed, so that a server
    // holding them all in memory (`Preloaded`) reloads only those. One row
    // per change, numbered by `account_revision`, whose row lock orders
    // concurrent writers; an empty user name stands for every account.
    "CREATE TABLE account_revision (
        id BIGINT PRIMARY KEY,
        revision BIGINT NOT NULL);
     INSERT INTO account_revision (id, revision) VALUES (1, 0);
     CREATE TABLE account_changes (
        revision BIGINT PRIMARY KEY,
        username TEXT NOT NULL,
        domain TEXT NOT NULL)",
];

/// Errors of account operations, worded for the person at the command line.
#[derive(Debug)]
pub enum UserError {
    /// The account exists already.
    Duplicate(String),
    /// No such account.
    Unknown(String),
    /// The password is too weak (why).
    WeakPassword(&'static str),
    /// A user name, domain or role that is not allowed (why).
    Invalid(String),
    /// The database failed.
    Db(DbError),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::Duplicate(a) => write!(f, "user {a} already exists"),
            UserError::Unknown(a) => write!(f, "no user {a}"),
            UserError::WeakPassword(why) => write!(f, "weak password: {why}"),
            UserError::Invalid(why) => f.write_str(why),
            UserError::Db(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for UserError {}

fn db(what: &str) -> impl FnOnce(sqlx::Error) -> UserError + '_ {
    move |e| UserError::Db(DbError::new(what, e))
}

/// `Unknown` when a statement on `username@domain` touched no account.
fn found(rows: u64, username: &str, domain: &str) -> Result<(), UserError> {
    if rows == 0 {
        return Err(UserError::Unknown(format!("{username}@{domain}")));
    }
    Ok(())
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The account store.
#[derive(Clone, Debug)]
pub struct Users {
    db: Database,
}

impl Users {
    /// A transaction on the accounts database; `what` names the operation
    /// in its errors.
    async fn begin(
        &self,
        what: &'static str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, UserError> {
        self.db.pool().begin().await.map_err(db(what))
    }

    /// Opens (creating and migrating as needed) the store at `location`:
    /// an SQLite file path or `sqlite:`/`postgres://` URL.
    pub async fn open(location: &str) -> Result<Users, UserError> {
        let db = Database::open(location).await.map_err(UserError::Db)?;
        Users::with(db).await
    }

    /// The store in an open database (migrated as needed).
    pub async fn with(db: Database) -> Result<Users, UserError> {
        db.migrate("users", MIGRATIONS)
            .await
            .map_err(UserError::Db)?;
        Ok(Users { db })
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Adds an account with its password (argon2id hash and HA1 values
    /// for the account's domain as realm, plus `extra_realms`).
    pub async fn add(&self, new: &NewAccount) -> Result<Account, UserError> {
        let created = self.add_many(std::slice::from_ref(new)).await?;
        Ok(Account {
            username: new.username.clone(),
            domain: new.domain.clone(),
            display_name: new.display_name.clone(),
            enabled: true,
            roles: new.roles.clone(),
            created,
        })
    }

    /// Adds every account in one transaction: all or none (the first
    /// invalid, weak or duplicate one is the error). The argon2id hashes
    /// are computed on every core. Returns the creation time.
    pub async fn add_many(&self, accounts: &[NewAccount]) -> Result<i64, UserError> {
        for new in accounts {
            new.validate()?;
            check_strength(&new.username, &new.password)?;
        }
        let hashes = hash_all(accounts)?;
        let created = now_unix();
        let mut tx = self.begin("adding a user").await?;
        for (new, hash) in accounts.iter().zip(&hashes) {
            let inserted = sqlx::query(
                "INSERT INTO accounts (username, domain, display_name, enabled, roles, password, created) \
                 VALUES ($1, $2, $3, 1, $4, $5, $6)",
            )
            .bind(&new.username)
            .bind(&new.domain)
            .bind(new.display_name.as_deref())
            .bind(Role::join(&new.roles))
            .bind(hash.as_deref())
            .bind(created)
            .execute(&mut *tx)
            .await;
            if let Err(e) = inserted {
                let e = DbError::new("adding a user", e);
                return Err(if e.is_unique_violation() {
                    UserError::Duplicate(new.aor())
                } else {
                    UserError::Db(e)
                });
            }
            write_ha1(&mut tx, new, &new.password).await?;
        }
        match accounts {
            [one] => record_change(&mut tx, &one.username, &one.domain).await?,
            _ => record_change(&mut tx, "", "").await?,
        }
        tx.commit().await.map_err(db("adding a user"))?;
        Ok(created)
    }

    /// The account `username@domain`.
    pub async fn get(&self, username: &str, domain: &str) -> Result<Option<Account>, UserError> {
        let row = sqlx::query(
            "SELECT username, domain, display_name, enabled, roles, created FROM accounts \
             WHERE username = $1 AND domain = $2",
        )
        .bind(username)
        .bind(domain)
        .fetch_optional(self.db.pool())
        .await
        .map_err(db("reading a user"))?;
        row.map(|r| Account::from_row(&r)).transpose()
    }

    /// Every account, by domain then user name.
    pub async fn list(&self) -> Result<Vec<Account>, UserError> {
        let rows = sqlx::query(
            "SELECT username, domain, display_name, enabled, roles, created FROM accounts \
             ORDER BY domain, username",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(db("listing users"))?;
        rows.iter().map(Account::from_row).collect()
    }

    /// Sets a new password (hash and HA1 values for every realm the
    /// account has).
    pub async fn set_password(
        &self,
        username: &str,
        domain: &str,
        password: &str,
    ) -> Result<(), UserError> {
        check_strength(username, password)?;
        let hash = password::hash(password)?;
        let mut tx = self.begin("setting a password").await?;
        let n =
            sqlx::query("UPDATE accounts SET password = $1 WHERE username = $2 AND domain = $3")
                .bind(&hash)
                .bind(username)
                .bind(domain)
                .execute(&mut *tx)
                .await
                .map_err(db("setting a password"))?
                .rows_affected();
        found(n, username, domain)?;
        let realms: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT realm FROM digest_ha1 WHERE username = $1 AND domain = $2",
        )
        .bind(username)
        .bind(domain)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("setting a password"))?;
        let mut again = NewAccount::new(username, domain, password);
        again.extra_realms = realms;
        write_ha1(&mut tx, &again, password).await?;
        record_change(&mut tx, username, domain).await?;
        tx.commit().await.map_err(db("setting a password"))?;
        Ok(())
    }

    /// Enables or disables an account; a disabled account cannot
    /// authenticate.
    pub async fn set_enabled(
        &self,
        username: &str,
        domain: &str,
        enabled: bool,
    ) -> Result<(), UserError> {
        let mut tx = self.begin("updating a user").await?;
        let n = sqlx::query("UPDATE accounts SET enabled = $1 WHERE username = $2 AND domain = $3")
            .bind(i64::from(enabled))
            .bind(username)
            .bind(domain)
            .execute(&mut *tx)
            .await
            .map_err(db("updating a user"))?
            .rows_affected();
        found(n, username, domain)?;
        record_change(&mut tx, username, domain).await?;
        tx.commit().await.map_err(db("updating a user"))
    }

    /// Deletes an account with its credentials and API keys.
    pub async fn delete(&self, username: &str, domain: &str) -> Result<(), UserError> {
        let mut tx = self.begin("deleting a user").await?;
        let mut n = 0;
        for sql in [
            "DELETE FROM digest_ha1 WHERE username = $1 AND domain = $2",
            "DELETE FROM api_keys WHERE username = $1 AND domain = $2",
            "DELETE FROM accounts WHERE username = $1 AND domain = $2",
        ] {
            n = sqlx::query(sql)
                .bind(username)
                .bind(domain)
                .execute(&mut *tx)
                .await
                .map_err(db("deleting a user"))?
                .rows_affected();
        }
        found(n, username, domain)?;
        record_change(&mut tx, username, domain).await?;
        tx.commit().await.map_err(db("deleting a user"))?;
        Ok(())
    }

    /// True when `password` is the account's (and the account is enabled).
    pub async fn check_password(
        &self,
        username: &str,
        domain: &str,
        password: &str,
    ) -> Result<bool, UserError> {
        let hash: Option<Option<String>> = sqlx::query_scalar(
            "SELECT password FROM accounts WHERE username = $1 AND domain = $2 AND enabled = 1",
        )
        .bind(username)
        .bind(domain)
        .fetch_optional(self.db.pool())
        .await
        .map_err(db("checking a password"))?;
        Ok(match hash.flatten() {
            Some(h) => password::verify(password, &h),
            // The same work for unknown users.
            None => {
                let _ = password::verify(password, password::DUMMY);
                false
            }
        })
    }
}

/// The argon2id hash of each account that keeps one (`login`), computed
/// on as many threads as there are cores: argon2id is slow on purpose.
fn hash_all(accounts: &[NewAccount]) -> Result<Vec<Option<String>>, UserError> {
    let hash = |a: &NewAccount| a.login.then(|| password::hash(&a.password)).transpose();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if accounts.len() < 2 || threads < 2 {
        return accounts.iter().map(hash).collect();
    }
    let chunk = accounts.len().div_ceil(threads);
    std::thread::scope(|s| {
        let workers: Vec<_> = accounts
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(hash).collect::<Vec<_>>()))
            .collect();
        let mut out = Vec::with_capacity(accounts.len());
        for w in workers {
            let part = w
                .join()
                .map_err(|_| UserError::Invalid("hashing passwords failed".into()))?;
            out.extend(part);
        }
        out.into_iter().collect()
    })
}

/// Changes kept in `account_changes`; a reader further behind reloads
/// everything.
const KEPT_CHANGES: i64 = 10_000;

/// Records, inside `tx`, that the credentials of `username@domain` changed
/// (`""`, `""`: of any number of accounts), and forgets all but the last
/// [`KEPT_CHANGES`] changes. The revision's row stays locked until `tx`
/// ends, so revisions are committed in order.
async fn record_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    username: &str,
    domain: &str,
) -> Result<(), UserError> {
    let what = "recording a credential change";
    let revision: i64 = sqlx::query_scalar(
        "UPDATE account_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision",
    )
    .fetch_one(&mut **tx)
    .await
    .map_err(db(what))?;
    sqlx::query("INSERT INTO account_changes (revision, username, domain) VALUES ($1, $2, $3)")
        .bind(revision)
        .bind(username)
        .bind(domain)
        .execute(&mut **tx)
        .await
        .map_err(db(what))?;
    sqlx::query("DELETE FROM account_changes WHERE revision <= $1")
        .bind(revision - KEPT_CHANGES)
        .execute(&mut **tx)
        .await
        .map_err(db(what))?;
    Ok(())
}

async fn write_ha1(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account: &NewAccount,
    password: &str,
) -> Result<(), UserError> {
    let realms = std::iter::once(&account.domain).chain(&account.extra_realms);
    for realm in realms {
        for a in Algorithm::ALL {
            sqlx::query(
                "INSERT INTO digest_ha1 (realm, username, algorithm, domain, ha1) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (realm, username, algorithm) \
                 DO UPDATE SET domain = excluded.domain, ha1 = excluded.ha1",
            )
            .bind(realm)
            .bind(&account.username)
            .bind(a.name())
            .bind(&account.domain)
            .bind(a.ha1(&account.username, realm, password))
            .execute(&mut **tx)
            .await
            .map_err(db("storing digest credentials"))?;
        }
    }
    Ok(())
}

impl CredentialStore for Users {
    async fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT h.ha1 FROM digest_ha1 h JOIN accounts a \
             ON a.username = h.username AND a.domain = h.domain \
             WHERE h.realm = $1 AND h.username = $2 AND h.algorithm = $3 AND a.enabled = 1",
        )
        .bind(realm)
        .bind(username)
        .bind(algorithm.name())
        .fetch_optional(self.db.pool())
        .await
        .map_err(|e| StoreError::new("reading credentials", e))?;
        row.map(|r| r.try_get::<String, _>(0))
            .transpose()
            .map_err(|e| StoreError::new("reading credentials", e))
    }
}
