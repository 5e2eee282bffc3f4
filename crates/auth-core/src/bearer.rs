//! SIP Bearer authentication (RFC 8898) with its I/O: the `[auth.bearer]`
//! configuration, JWKS keys fetched over HTTPS (cached, refetched for an
//! unknown `kid`, rate limited) or tokens introspected (RFC 7662, cached),
//! around the sans-IO [`JwtVerifier`] and [`Introspection`].

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::token::{
    Introspection, IssuerPreset, JwtVerifier, TokenAlgorithm, TokenConfig, TokenError,
    TokenIdentity, bearer_challenge,
};

/// `[auth.bearer]`: where tokens come from and what they must say.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BearerConfig {
    /// Accept `Authorization: Bearer` and offer the Bearer scheme in
    /// challenges.
    pub enabled: bool,
    /// `""`, `"keycloak"` (with `keycloak_url` and `keycloak_realm`) or
    /// `"google"`: fills in issuer, JWKS URL, introspection URL, user
    /// claim and algorithms; keys set here win.
    pub preset: String,
    /// The Keycloak server (`https://sso.example.com`).
    pub keycloak_url: String,
    /// The Keycloak realm.
    pub keycloak_realm: String,
    /// The `iss` tokens must carry; empty accepts any.
    pub issuer: String,
    /// The JWKS document with the issuer's keys (`https://` only).
    pub jwks_url: String,
    /// Introspect tokens (RFC 7662) here instead of verifying them
    /// locally (`https://` only), authenticating as `client_id`.
    pub introspection_url: String,
    /// The client id and secret for the introspection endpoint.
    pub client_id: String,
    /// See `client_id`.
    pub client_secret: String,
    /// Tokens must name one of these in `aud`; empty accepts any.
    pub audiences: Vec<String>,
    /// Accepted signature algorithms (RS256, ES256, EdDSA, HS256, …).
    pub algorithms: Vec<String>,
    /// The shared secret of HS256 tokens.
    pub hs256_secret: String,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway: u64,
    /// The claim naming the user: `alice` (in the request's domain) or
    /// `alice@example.com`.
    pub user_claim: String,
    /// Seconds fetched keys are used.
    pub keys_ttl: u64,
    /// At least this many seconds between key fetches.
    pub refetch_interval: u64,
    /// Seconds an introspection answer is remembered.
    pub introspection_cache: u64,
    /// Extra CA certificates (PEM) trusted for the HTTPS fetches.
    pub ca: Option<PathBuf>,
    /// The scope named in challenges.
    pub scope: String,
}

impl Default for BearerConfig {
    fn default() -> BearerConfig {
        BearerConfig {
            enabled: false,
            preset: String::new(),
            keycloak_url: String::new(),
            keycloak_realm: String::new(),
            issuer: String::new(),
            jwks_url: String::new(),
            introspection_url: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            audiences: Vec::new(),
            algorithms: Vec::new(),
            hs256_secret: String::new(),
            leeway: 60,
            user_claim: String::new(),
            keys_ttl: 3600,
            refetch_interval: 10,
            introspection_cache: 60,
            ca: None,
            scope: String::new(),
        }
    }
}

/// A configuration mistake: the key (under `auth.bearer.`) and why.
pub type BearerConfigError = (&'static str, String);

/// At most this many bytes are read from a key or introspection answer.
const MAX_BODY: usize = 1 << 20;

/// At most this many introspection answers are remembered.
const INTROSPECTION_CACHE_SIZE: usize = 100_000;

enum Source {
    Jwt {
        url: Option<String>,
        verifier: Mutex<JwtVerifier>,
    },
    Introspect {
        url: String,
        client_id: String,
        client_secret: String,
        state: Mutex<Introspection>,
    },
}

/// Verifies Bearer tokens as `[auth.bearer]` says, fetching keys or
/// asking the introspection endpoint over HTTPS when needed.
pub struct BearerVerifier {
    client: reqwest::Client,
    source: Source,
    authz_server: Option<String>,
    scope: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn https(key: &'static str, url: &str) -> Result<(), BearerConfigError> {
    if url.starts_with("https://") {
        Ok(())
    } else {
        Err((key, format!("{url:?}: expected an https:// URL")))
    }
}

impl BearerConfig {
    /// The verifier this configuration describes.
    pub fn build(&self) -> Result<BearerVerifier, BearerConfigError> {
        let preset = match self.preset.as_str() {
            "" => None,
            "google" => Some(IssuerPreset::google()),
            "keycloak" => {
                if self.keycloak_url.is_empty() || self.keycloak_realm.is_empty() {
                    return Err((
                        "preset",
                        "\"keycloak\" needs keycloak_url and keycloak_realm".into(),
                    ));
                }
                Some(IssuerPreset::keycloak(
                    &self.keycloak_url,
                    &self.keycloak_realm,
                ))
            }
            other => {
                return Err((
                    "preset",
                    format!("{other:?}: expected \"keycloak\", \"google\" or \"\""),
                ));
            }
        };
        let pick = |own: &str, preset: Option<String>| non_empty(own).or(preset);
        let issuer = pick(&self.issuer, preset.as_ref().map(|p| p.issuer.clone()));
        let jwks_url = pick(&self.jwks_url, preset.as_ref().map(|p| p.jwks_url.clone()));
        let introspection_url = non_empty(&self.introspection_url);
        let user_claim = pick(
            &self.user_claim,
            preset.as_ref().map(|p| p.user_claim.to_string()),
        )
        .unwrap_or_else(|| "preferred_username".into());
        let algorithms = if self.algorithms.is_empty() {
            match &preset {
                Some(p) => p.algorithms.clone(),
                None if !self.hs256_secret.is_empty() => vec![TokenAlgorithm::HS256],
                None => TokenConfig::default().algorithms,
            }
        } else {
            self.algorithms
                .iter()
                .map(|name| {
                    name.parse::<TokenAlgorithm>().map_err(|_| {
                        (
                            "algorithms",
                            format!("{name:?}: expected RS256, ES256, EdDSA, HS256 or another JWS algorithm"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        if !self.hs256_secret.is_empty() && self.hs256_secret.len() < 32 {
            return Err(("hs256_secret", "use at least 32 characters".into()));
        }
        let config = TokenConfig {
            issuer: issuer.clone(),
            audiences: self.audiences.clone(),
            algorithms,
            leeway: Duration::from_secs(self.leeway),
            user_claim,
            keys_ttl: Duration::from_secs(self.keys_ttl),
            refetch_interval: Duration::from_secs(self.refetch_interval),
        };
        let source = match introspection_url {
            Some(url) => {
                https("introspection_url", &url)?;
                if self.client_id.is_empty() {
                    return Err((
                        "client_id",
                        "introspection needs client_id and client_secret".into(),
                    ));
                }
                Source::Introspect {
                    url,
                    client_id: self.client_id.clone(),
                    client_secret: self.client_secret.clone(),
                    state: Mutex::new(Introspection::new(
                        config,
                        Duration::from_secs(self.introspection_cache),
                        INTROSPECTION_CACHE_SIZE,
                    )),
                }
            }
            None => {
                if let Some(url) = &jwks_url {
                    https("jwks_url", url)?;
                } else if self.hs256_secret.is_empty() {
                    return Err((
                        "jwks_url",
                        "set jwks_url, introspection_url, hs256_secret or a preset".into(),
                    ));
                }
                let mut verifier = JwtVerifier::new(config);
                if !self.hs256_secret.is_empty() {
                    verifier = verifier.with_secret(self.hs256_secret.as_bytes());
                }
                Source::Jwt {
                    url: jwks_url,
                    verifier: Mutex::new(verifier),
                }
            }
        };
        let mut client = reqwest::Client::builder()
            .https_only(true)
            .timeout(Duration::from_secs(5));
        if let Some(ca) = &self.ca {
            let pem = std::fs::read(ca)
                .map_err(|e| ("ca", format!("{}: cannot read: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ("ca", format!("{}: {e}", ca.display())))?;
            for cert in certs {
                client = client.add_root_certificate(cert);
            }
        }
        let client = client
            .build()
            .map_err(|e| ("ca", format!("cannot set up HTTPS: {e}")))?;
        Ok(BearerVerifier {
            client,
            source,
            authz_server: issuer,
            scope: non_empty(&self.scope),
        })
    }
}

async fn body(response: reqwest::Response) -> Result<Vec<u8>, TokenError> {
    let unavailable = |e: reqwest::Error| TokenError::Unavailable(e.to_string());
    let mut response = response.error_for_status().map_err(unavailable)?;
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(TokenError::Unavailable("answer too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

impl BearerVerifier {
    /// Fetches the keys once (at start; later fetches happen as tokens
    /// need them). `Err` says why they could not be fetched; tokens are
    /// then refused until a later fetch succeeds.
    pub async fn start(&self) -> Result<usize, TokenError> {
        match &self.source {
            Source::Jwt {
                url: Some(url),
                verifier,
            } if lock(verifier).poll_fetch(SystemTime::now(), false) => {
                self.fetch_keys(url, verifier).await
            }
            _ => Ok(0),
        }
    }

    async fn fetch_keys(
        &self,
        url: &str,
        verifier: &Mutex<JwtVerifier>,
    ) -> Result<usize, TokenError> {
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let json = body(response).await?;
        lock(verifier).handle_jwks(SystemTime::now(), &json)
    }

    /// Verifies `token`: a JWT against the keys (fetched first when
    /// missing, old or lacking the token's `kid`), or by introspection.
    pub async fn verify(&self, token: &str) -> Result<TokenIdentity, TokenError> {
        match &self.source {
            Source::Jwt { url, verifier } => {
                let (result, fetch) = {
                    let mut v = lock(verifier);
                    let result = v.verify(SystemTime::now(), token);
                    let unknown = result == Err(TokenError::UnknownKey);
                    let fetch = url.is_some() && v.poll_fetch(SystemTime::now(), unknown);
                    (result, fetch)
                };
                let Some(url) = url.as_deref().filter(|_| fetch) else {
                    return result;
                };
                // New keys (rotated, or the old ones expired): verify with them.
                let fetched = self.fetch_keys(url, verifier).await.err();
                match (lock(verifier).verify(SystemTime::now(), token), fetched) {
                    (Err(TokenError::UnknownKey), Some(e)) => Err(e),
                    (r, _) => r,
                }
            }
            Source::Introspect {
                url,
                client_id,
                client_secret,
                state,
            } => {
                if let Some(answer) = lock(state).cached(SystemTime::now(), token) {
                    return answer;
                }
                let response = self
                    .client
                    .post(url)
                    .basic_auth(client_id, Some(client_secret))
                    .form(&Introspection::request_body(token))
                    .send()
                    .await
                    .map_err(|e| TokenError::Unavailable(e.to_string()))?;
                let json = body(response).await?;
                lock(state).handle_response(SystemTime::now(), token, &json)
            }
        }
    }

    /// The Bearer challenge for `realm`, naming the issuer as the
    /// authorization server, with `error` for a refused token.
    pub fn challenge(&self, realm: &str, error: Option<&TokenError>) -> String {
        bearer_challenge(
            realm,
            self.authz_server.as_deref(),
            self.scope.as_deref(),
            error,
        )
    }
}
