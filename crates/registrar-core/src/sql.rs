//! Bindings in SQLite or PostgreSQL (one table, the same queries on both),
//! so they survive a restart and can be shared by registrars on one
//! database.

use sqlx::Row;
use sqlx::any::AnyRow;

use infra_common::db::Database;

use crate::binding::{from_unix, to_unix};
use crate::{Binding, Change, LocationStore, StoreError};

const MIGRATIONS: &[&str] = &["CREATE TABLE bindings (
        aor TEXT NOT NULL,
        binding_key TEXT NOT NULL,
        contact TEXT NOT NULL,
        expires BIGINT NOT NULL,
        q BIGINT,
        call_id TEXT NOT NULL,
        cseq BIGINT NOT NULL,
        path TEXT NOT NULL,
        instance TEXT,
        reg_id BIGINT,
        source TEXT,
        user_agent TEXT,
        PRIMARY KEY (aor, binding_key))"];

/// The columns, in the order of the INSERT.
macro_rules! columns {
    () => {
        "aor, binding_key, contact, expires, q, call_id, cseq, path, instance, reg_id, source, \
         user_agent"
    };
}

/// A [`LocationStore`] on an SQL database.
#[derive(Clone, Debug)]
pub struct SqlStore {
    db: Database,
}

fn err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::new(what, e)
}

impl SqlStore {
    /// The store in `db`, creating its table on first use.
    pub async fn new(db: Database) -> Result<SqlStore, StoreError> {
        db.migrate("registrar", MIGRATIONS)
            .await
            .map_err(|e| StoreError(e.to_string()))?;
        Ok(SqlStore { db })
    }

    /// The bindings a SELECT of [`columns!`] returns.
    async fn fetch(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Vec<Binding>, StoreError> {
        let rows = query
            .fetch_all(self.db.pool())
            .await
            .map_err(err("reading bindings"))?;
        rows.iter()
            .map(SqlStore::row)
            .collect::<Result<_, _>>()
            .map_err(err("reading bindings"))
    }

    fn row(r: &AnyRow) -> Result<Binding, sqlx::Error> {
        let path: String = r.try_get("path")?;
        Ok(Binding {
            aor: r.try_get("aor")?,
            key: r.try_get("binding_key")?,
            contact: r.try_get("contact")?,
            expires: from_unix(r.try_get("expires")?),
            q: r.try_get::<Option<i64>, _>("q")?
                .and_then(|q| u16::try_from(q).ok()),
            call_id: r.try_get("call_id")?,
            cseq: u32::try_from(r.try_get::<i64, _>("cseq")?).unwrap_or(0),
            path: path.lines().map(str::to_string).collect(),
            instance: r.try_get("instance")?,
            reg_id: r
                .try_get::<Option<i64>, _>("reg_id")?
                .and_then(|v| u32::try_from(v).ok()),
            source: r.try_get("source")?,
            user_agent: r.try_get("user_agent")?,
        })
    }
}

impl LocationStore for SqlStore {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        let query = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM bindings WHERE aor = $1"
        ));
        self.fetch(query.bind(aor)).await
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(err("writing bindings"))?;
        for c in changes {
            let b = c.binding();
            if c.is_removal() {
                sqlx::query("DELETE FROM bindings WHERE aor = $1 AND binding_key = $2")
                    .bind(&b.aor)
                    .bind(&b.key)
                    .execute(&mut *tx)
                    .await
                    .map_err(err("writing bindings"))?;
                continue;
            }
            // One upsert (SQLite 3.24+ and PostgreSQL share the syntax).
            sqlx::query(concat!(
                "INSERT INTO bindings (",
                columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (aor, binding_key) DO UPDATE SET contact = excluded.contact, \
                 expires = excluded.expires, q = excluded.q, call_id = excluded.call_id, \
                 cseq = excluded.cseq, path = excluded.path, instance = excluded.instance, \
                 reg_id = excluded.reg_id, source = excluded.source, \
                 user_agent = excluded.user_agent"
            ))
            .bind(&b.aor)
            .bind(&b.key)
            .bind(&b.contact)
            .bind(to_unix(b.expires))
            .bind(b.q.map(i64::from))
            .bind(&b.call_id)
            .bind(i64::from(b.cseq))
            .bind(b.path.join("\n"))
            .bind(b.instance.as_deref())
            .bind(b.reg_id.map(i64::from))
            .bind(b.source.as_deref())
            .bind(b.user_agent.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(err("writing bindings"))?;
        }
        tx.commit().await.map_err(err("writing bindings"))
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        self.fetch(sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM bindings"
        )))
        .await
    }
}
