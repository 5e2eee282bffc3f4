//! Databases for rvoip servers: one URL picks SQLite (a file, created on
//! first start) or PostgreSQL, and the same runtime queries run on both
//! through sqlx's `Any` driver. Each component brings its own embedded
//! migrations, applied once and recorded in `rvoip_migrations`.

use std::fmt;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// Which database a URL names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A database error, with what was being done.
#[derive(Debug)]
pub struct DbError {
    what: String,
    source: sqlx::Error,
}

impl DbError {
    /// An error while doing `what`.
    pub fn new(what: impl Into<String>, source: sqlx::Error) -> DbError {
        DbError {
            what: what.into(),
            source,
        }
    }

    /// True when the database refused a duplicate key.
    pub fn is_unique_violation(&self) -> bool {
        matches!(&self.source, sqlx::Error::Database(e) if e.is_unique_violation())
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.source)
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// An open database: a connection pool and its backend.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

/// The sqlx URL for `location`: `postgres://…` and `sqlite:…` URLs as
/// given; anything else is an SQLite file path, created if missing.
pub fn url_for(location: &str) -> String {
    if location.starts_with("postgres://")
        || location.starts_with("postgresql://")
        || location.starts_with("sqlite:")
    {
        location.to_string()
    } else {
        format!("sqlite://{location}?mode=rwc")
    }
}

impl Database {
    /// Opens the database at `location` (see [`url_for`]). SQLite runs in
    /// WAL mode with `synchronous=NORMAL`: a committed write survives a
    /// crash of the process, and readers do not wait for writers.
    pub async fn open(location: &str) -> Result<Database, DbError> {
        install_default_drivers();
        let url = url_for(location);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut options = AnyPoolOptions::new()
            // Every connection to `:memory:` is a database of its own.
            .max_connections(match backend {
                _ if url.contains(":memory:") => 1,
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute("PRAGMA synchronous=NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout=10000").await?;
                    // Statement journals (a multi-row upsert inside a
                    // transaction writes one) in memory, not in a temporary
                    // file created, written and deleted for each statement.
                    conn.execute("PRAGMA temp_store=MEMORY").await?;
                    Ok(())
                })
            });
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| DbError::new(format!("opening the database {}", redact(location)), e))?;
        Ok(Database { pool, backend })
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies `component`'s migrations not yet applied, each in a
    /// transaction. `steps[i]` is version `i + 1`: SQL statements separated
    /// by `;`, written to run on SQLite and PostgreSQL alike. Steps are
    /// only ever appended.
    pub async fn migrate(&self, component: &str, steps: &[&'static str]) -> Result<(), DbError> {
        let err = |what: &str| {
            let what = format!("migrating {component}: {what}");
            move |e| DbError::new(what, e)
        };
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS rvoip_migrations (component TEXT NOT NULL, \
                 version BIGINT NOT NULL, PRIMARY KEY (component, version))",
            )
            .await
            .map_err(err("creating rvoip_migrations"))?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM rvoip_migrations WHERE component = $1")
                .bind(component)
                .fetch_one(&self.pool)
                .await
                .map_err(err("reading the applied version"))?;
        let applied = usize::try_from(applied.unwrap_or(0)).unwrap_or(0);
        for (i, step) in steps.iter().enumerate().skip(applied) {
            let version = i + 1;
            let mut tx = self.pool.begin().await.map_err(err("starting"))?;
            for statement in step.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(err(&format!("version {version}")))?;
            }
            sqlx::query("INSERT INTO rvoip_migrations (component, version) VALUES ($1, $2)")
                .bind(component)
                .bind(version as i64)
                .execute(&mut *tx)
                .await
                .map_err(err("recording the version"))?;
            tx.commit().await.map_err(err("committing"))?;
        }
        Ok(())
    }
}

/// A location with any password in a URL replaced by `***`.
pub fn redact(location: &str) -> String {
    match (location.find("://"), location.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &location[s + 3..at];
            match creds.find(':') {
                Some(c) => format!(
                    "{}{}:***{}",
                    &location[..s + 3],
                    &creds[..c],
                    &location[at..]
                ),
                None => location.to_string(),
            }
        }
        _ => location.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_redaction() {
        assert_eq!(url_for("rvoip.db"), "sqlite://rvoip.db?mode=rwc");
        assert_eq!(url_for("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(url_for("postgres://u:p@h/db"), "postgres://u:p@h/db");
        assert_eq!(redact("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("rvoip.db"), "rvoip.db");
    }

    #[tokio::test]
    async fn migrations_apply_once_and_append() {
        let dir = std::env::temp_dir().join(format!("rvoip-db-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("m.db");
        let _ = std::fs::remove_file(&path);
        let db = Database::open(path.to_str().expect("utf-8"))
            .await
            .expect("open");
        assert_eq!(db.backend(), Backend::Sqlite);
        let v1 = "CREATE TABLE t (a BIGINT); INSERT INTO t (a) VALUES (1)";
        db.migrate("test", &[v1]).await.expect("v1");
        db.migrate("test", &[v1])
            .await
            .expect("v1 again is a no-op");
        db.migrate("test", &[v1, "INSERT INTO t (a) VALUES (2)"])
            .await
            .expect("v2");
        let sum: i64 = sqlx::query_scalar("SELECT SUM(a) FROM t")
            .fetch_one(db.pool())
            .await
            .expect("sum");
        assert_eq!(sum, 3);
        let bad = db
            .migrate("test", &[v1, "", "CREATE TABLE t (a BIGINT)"])
            .await;
        let msg = bad.expect_err("a duplicate table fails").to_string();
        assert!(msg.starts_with("migrating test: version 3"), "{msg}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
