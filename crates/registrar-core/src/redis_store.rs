//! Bindings in Redis, so that registrars on several hosts share them: one
//! hash per address-of-record (`<prefix><aor>`) with a field per binding
//! (its key) holding the binding as JSON. Each `apply` is one MULTI/EXEC.

use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};

use crate::binding::{from_unix, to_unix};
use crate::{Binding, Change, LocationStore, StoreError};

/// The key prefix unless [`RedisStore::with_prefix`] sets another.
pub const DEFAULT_PREFIX: &str = "rvoip:location:";

/// A binding as stored (the AOR and key are the hash and field names).
#[derive(Serialize, Deserialize)]
struct Record {
    contact: String,
    expires: i64,
    q: Option<u16>,
    call_id: String,
    cseq: u32,
    path: Vec<String>,
    instance: Option<String>,
    reg_id: Option<u32>,
    source: Option<String>,
    user_agent: Option<String>,
}

/// A [`LocationStore`] on a Redis server.
#[derive(Clone)]
pub struct RedisStore {
    conn: MultiplexedConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn err(what: &'static str) -> impl Fn(redis::RedisError) -> StoreError {
    move |e| StoreError::new(what, e)
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS).
    pub async fn open(url: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url).map_err(err("opening Redis"))?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(err("connecting to Redis"))?;
        Ok(RedisStore {
            conn,
            prefix: DEFAULT_PREFIX.to_string(),
        })
    }

    /// Keeps the bindings under `prefix` instead (one Redis database for
    /// several registrar clusters, or tests).
    pub fn with_prefix(mut self, prefix: &str) -> RedisStore {
        self.prefix = prefix.to_string();
        self
    }

    fn key(&self, aor: &str) -> String {
        format!("{}{aor}", self.prefix)
    }

    fn decode(aor: &str, key: String, json: &str) -> Result<Binding, StoreError> {
        let r: Record =
            serde_json::from_str(json).map_err(|e| StoreError::new("reading a binding", e))?;
        Ok(Binding {
            aor: aor.to_string(),
            key,
            contact: r.contact,
            expires: from_unix(r.expires),
            q: r.q,
            call_id: r.call_id,
            cseq: r.cseq,
            path: r.path,
            instance: r.instance,
            reg_id: r.reg_id,
            source: r.source,
            user_agent: r.user_agent,
        })
    }

    fn encode(b: &Binding) -> Result<String, StoreError> {
        serde_json::to_string(&Record {
            contact: b.contact.clone(),
            expires: to_unix(b.expires),
            q: b.q,
            call_id: b.call_id.clone(),
            cseq: b.cseq,
            path: b.path.clone(),
            instance: b.instance.clone(),
            reg_id: b.reg_id,
            source: b.source.clone(),
            user_agent: b.user_agent.clone(),
        })
        .map_err(|e| StoreError::new("writing a binding", e))
    }
}

impl LocationStore for RedisStore {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        let fields: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.key(aor))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(err("reading bindings"))?;
        fields
            .into_iter()
            .map(|(key, json)| RedisStore::decode(aor, key, &json))
            .collect()
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for c in changes {
            let b = c.binding();
            if c.is_removal() {
                pipe.cmd("HDEL").arg(self.key(&b.aor)).arg(&b.key).ignore();
            } else {
                pipe.cmd("HSET")
                    .arg(self.key(&b.aor))
                    .arg(&b.key)
                    .arg(RedisStore::encode(b)?)
                    .ignore();
            }
        }
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(err("writing bindings"))
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}*", self.prefix);
        let mut cursor = 0u64;
        // SCAN may return a key more than once.
        let mut aors = std::collections::BTreeSet::new();
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await
                .map_err(err("listing bindings"))?;
            aors.extend(
                keys.into_iter()
                    .filter_map(|k| k.strip_prefix(&self.prefix).map(str::to_string)),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        // One round trip per thousand AORs, not one per AOR.
        let aors: Vec<String> = aors.into_iter().collect();
        let mut out = Vec::new();
        for chunk in aors.chunks(1000) {
            let mut pipe = redis::pipe();
            for aor in chunk {
                pipe.cmd("HGETALL").arg(self.key(aor));
            }
            let hashes: Vec<Vec<(String, String)>> = pipe
                .query_async(&mut conn)
                .await
                .map_err(err("reading bindings"))?;
            for (aor, fields) in chunk.iter().zip(hashes) {
                for (key, json) in fields {
                    out.push(RedisStore::decode(aor, key, &json)?);
                }
            }
        }
        Ok(out)
    }
}
