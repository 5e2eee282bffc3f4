//! Bindings in SQLite or PostgreSQL (one table, the same queries on both),
//! so they survive a restart and can be shared by registrars on one
//! database.

use std::collections::HashMap;
use std::sync::OnceLock;

use sqlx::Row;
use sqlx::any::AnyRow;

use infra_common::db::{Backend, Database};

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

/// Rows per statement. A batch is written in chunks of these sizes, so a
/// thousand changes are a few statements (one round trip each to the
/// database) and only these few statements are ever prepared.
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// Columns per row of the upsert.
const COLUMNS: usize = 12;

#[derive(Clone, Copy)]
enum Statement {
    /// `DELETE` of (aor, binding_key) pairs.
    Delete,
    /// `INSERT … ON CONFLICT DO UPDATE` of whole rows.
    Upsert,
}

/// The statement for `rows` rows (one of [`CHUNKS`]) on `backend`.
/// SQLite gets anonymous `?` parameters: it finds a numbered one's name
/// by a linear search, which made binding a chunk quadratic.
fn statement(kind: Statement, rows: usize, backend: Backend) -> &'static str {
    static CELLS: [OnceLock<Vec<String>>; 4] = [const { OnceLock::new() }; 4];
    let sqlite = backend == Backend::Sqlite;
    let (cell, width) = match kind {
        Statement::Delete => (&CELLS[usize::from(sqlite)], 2),
        Statement::Upsert => (&CELLS[2 + usize::from(sqlite)], COLUMNS),
    };
    let all = cell.get_or_init(|| {
        CHUNKS
            .iter()
            .map(|&n| {
                let tuples = (0..n)
                    .map(|row| {
                        let cells = (1..=width)
                            .map(|col| {
                                if sqlite {
                                    "?".to_string()
                                } else {
                                    format!("${}", row * width + col)
                                }
                            })
                            .collect::<Vec<_>>();
                        format!("({})", cells.join(", "))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                match kind {
                    // Row values: SQLite 3.15+ and PostgreSQL.
                    Statement::Delete => format!(
                        "DELETE FROM bindings WHERE (aor, binding_key) IN (VALUES {tuples})"
                    ),
                    // One upsert (SQLite 3.24+ and PostgreSQL share the syntax).
                    Statement::Upsert => format!(
                        "INSERT INTO bindings ({}) VALUES {tuples} \
                         ON CONFLICT (aor, binding_key) DO UPDATE SET contact = excluded.contact, \
                         expires = excluded.expires, q = excluded.q, call_id = excluded.call_id, \
                         cseq = excluded.cseq, path = excluded.path, instance = excluded.instance, \
                         reg_id = excluded.reg_id, source = excluded.source, \
                         user_agent = excluded.user_agent",
                        columns!()
                    ),
                }
            })
            .collect()
    });
    let i = CHUNKS
        .iter()
        .position(|&n| n == rows)
        .unwrap_or(CHUNKS.len() - 1);
    all.get(i).map_or("", String::as_str)
}

/// `items` cut into runs of [`CHUNKS`] sizes, largest first.
fn chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let n = CHUNKS.iter().copied().find(|&n| n <= items.len())?;
        let (head, rest) = items.split_at(n);
        items = rest;
        Some(head)
    })
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
        // The last change to each binding is the one that counts (a
        // multi-row upsert may not name a row twice on PostgreSQL).
        let mut last: HashMap<(&str, &str), &Change> = HashMap::with_capacity(changes.len());
        for c in changes {
            let b = c.binding();
            last.insert((b.aor.as_str(), b.key.as_str()), c);
        }
        // In key order: each statement walks the table's index forward
        // instead of jumping about it, and registrars sharing a PostgreSQL
        // database lock the rows they both write in the same order (no
        // deadlock between two flushes).
        let mut last: Vec<((&str, &str), &Change)> = last.into_iter().collect();
        last.sort_unstable_by_key(|&(key, _)| key);
        let (removals, upserts): (Vec<&Change>, Vec<&Change>) = last
            .into_iter()
            .map(|(_, c)| c)
            .partition(|c| c.is_removal());
        let backend = self.db.backend();
        let mut tx = self
            .db
            .pool()
            .begin()
            .await
            .map_err(err("writing bindings"))?;
        for chunk in chunks(&removals) {
            let mut query = sqlx::query(statement(Statement::Delete, chunk.len(), backend));
            for c in chunk {
                let b = c.binding();
                query = query.bind(&b.aor).bind(&b.key);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(err("writing bindings"))?;
        }
        for chunk in chunks(&upserts) {
            let mut query = sqlx::query(statement(Statement::Upsert, chunk.len(), backend));
            for c in chunk {
                let b = c.binding();
                query = query
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
                    .bind(b.user_agent.as_deref());
            }
            query
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
