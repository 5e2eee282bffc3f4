//! API keys: `rvk_<id>_<secret>`, of which only the id and the SHA-256 of
//! the secret are stored. The id finds the row; the secret is compared in
//! constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::{Account, UserError, Users, db, now_unix};

/// A stored API key (without its secret).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ApiKey {
    /// The public part, shown in listings.
    pub id: String,
    /// Whose key it is (`user@domain`).
    pub owner: String,
    /// What it is for.
    pub label: String,
    /// When it was created (Unix seconds).
    pub created: i64,
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn random<const N: usize>() -> Result<[u8; N], UserError> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| UserError::Invalid("no randomness".into()))?;
    Ok(b)
}

impl Users {
    /// Creates an API key for `username@domain`; returns it with the full
    /// key, which is not stored and cannot be shown again.
    pub async fn create_api_key(
        &self,
        username: &str,
        domain: &str,
        label: &str,
    ) -> Result<(ApiKey, String), UserError> {
        if self.get(username, domain).await?.is_none() {
            return Err(UserError::Unknown(format!("{username}@{domain}")));
        }
        let id: String = random::<6>()?.iter().map(|b| format!("{b:02x}")).collect();
        let secret = URL_SAFE_NO_PAD.encode(random::<32>()?);
        let created = now_unix();
        sqlx::query(
            "INSERT INTO api_keys (id, username, domain, label, hash, created) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(username)
        .bind(domain)
        .bind(label)
        .bind(URL_SAFE_NO_PAD.encode(digest(&secret)))
        .bind(created)
        .execute(self.database().pool())
        .await
        .map_err(db("creating an API key"))?;
        let key = format!("rvk_{id}_{secret}");
        let info = ApiKey {
            id,
            owner: format!("{username}@{domain}"),
            label: label.to_string(),
            created,
        };
        Ok((info, key))
    }

    /// The enabled account that `key` belongs to, if the key is genuine.
    pub async fn check_api_key(&self, key: &str) -> Result<Option<Account>, UserError> {
        let Some((id, secret)) = key.strip_prefix("rvk_").and_then(|k| k.split_once('_')) else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT username, domain, hash FROM api_keys WHERE id = $1")
            .bind(id)
            .fetch_optional(self.database().pool())
            .await
            .map_err(db("checking an API key"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let stored: String = row.try_get("hash").map_err(db("checking an API key"))?;
        let stored = URL_SAFE_NO_PAD.decode(stored).unwrap_or_default();
        let given = digest(secret);
        if !bool::from(stored.ct_eq(&given)) {
            return Ok(None);
        }
        let username: String = row.try_get("username").map_err(db("checking an API key"))?;
        let domain: String = row.try_get("domain").map_err(db("checking an API key"))?;
        Ok(self.get(&username, &domain).await?.filter(|a| a.enabled))
    }

    /// The API keys of `username@domain`.
    pub async fn api_keys(&self, username: &str, domain: &str) -> Result<Vec<ApiKey>, UserError> {
        let rows = sqlx::query(
            "SELECT id, label, created FROM api_keys WHERE username = $1 AND domain = $2 ORDER BY created, id",
        )
        .bind(username)
        .bind(domain)
        .fetch_all(self.database().pool())
        .await
        .map_err(db("listing API keys"))?;
        rows.iter()
            .map(|r| {
                Ok(ApiKey {
                    id: r.try_get("id").map_err(db("listing API keys"))?,
                    owner: format!("{username}@{domain}"),
                    label: r.try_get("label").map_err(db("listing API keys"))?,
                    created: r.try_get("created").map_err(db("listing API keys"))?,
                })
            })
            .collect()
    }
}
