//! Bearer tokens (RFC 8898), sans-IO: JWT verification against keys from
//! a JWKS document ([`JwtVerifier`]), OAuth2 token introspection answers
//! (RFC 7662, [`Introspection`]) and what both produce, a
//! [`TokenIdentity`]. Time is passed in; fetching the JWKS document or
//! asking the introspection endpoint is the caller's (see
//! [`crate::BearerVerifier`] for the HTTPS shell).
//!
//! ```
//! use std::time::{Duration, SystemTime, UNIX_EPOCH};
//! use auth_core::{JwtVerifier, TokenConfig, TokenAlgorithm};
//! use jsonwebtoken::{encode, EncodingKey, Header};
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
//! let config = TokenConfig {
//!     issuer: Some("https://idp.example.com".into()),
//!     audiences: vec!["sip".into()],
//!     algorithms: vec![TokenAlgorithm::HS256],
//!     ..TokenConfig::default()
//! };
//! let verifier = JwtVerifier::new(config).with_secret(b"a shared secret of 32 bytes.....");
//! let claims = serde_json::json!({
//!     "iss": "https://idp.example.com", "aud": "sip", "sub": "f81d4fae",
//!     "preferred_username": "alice", "exp": 1_800_000_300,
//! });
//! let key = EncodingKey::from_secret(b"a shared secret of 32 bytes.....");
//! let token = encode(&Header::default(), &claims, &key).unwrap();
//! assert_eq!(verifier.verify(now, &token).unwrap().user, "alice");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{AlgorithmFamily, DecodingKey, Validation, decode, decode_header};
use serde_json::{Map, Value};

pub use jsonwebtoken::Algorithm as TokenAlgorithm;

/// What a token must satisfy, and where its user name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The issuer (`iss`) tokens must carry; `None` accepts any.
    pub issuer: Option<String>,
    /// Tokens must name one of these in `aud`; empty accepts any.
    pub audiences: Vec<String>,
    /// Signature algorithms accepted (never `none`).
    pub algorithms: Vec<TokenAlgorithm>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// The claim holding the user name (`preferred_username` for
    /// Keycloak, `email` for Google, or `sub`).
    pub user_claim: String,
    /// How long fetched keys are used before they are fetched again.
    pub keys_ttl: Duration,
    /// At most one key fetch per this interval (a token with an unknown
    /// `kid` asks for one; a flood of such tokens must not become a
    /// flood of fetches).
    pub refetch_interval: Duration,
}

impl Default for TokenConfig {
    fn default() -> TokenConfig {
        TokenConfig {
            issuer: None,
            audiences: Vec::new(),
            algorithms: vec![
                TokenAlgorithm::RS256,
                TokenAlgorithm::ES256,
                TokenAlgorithm::EdDSA,
            ],
            leeway: Duration::from_secs(60),
            user_claim: "preferred_username".into(),
            keys_ttl: Duration::from_secs(3600),
            refetch_interval: Duration::from_secs(10),
        }
    }
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenIdentity {
    /// The value of the configured user claim (`alice` or
    /// `alice@example.com`).
    pub user: String,
    /// The `sub` claim, if any.
    pub subject: Option<String>,
    /// When the token expires.
    pub expires: Option<SystemTime>,
    /// The `scope` claim, if any.
    pub scope: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not a JWT (or not the JSON an introspection endpoint answers).
    Malformed,
    /// No key with the token's `kid` (or of its algorithm).
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// An algorithm that is not accepted.
    Algorithm,
    /// `exp` has passed (or is missing).
    Expired,
    /// `nbf` is still to come.
    NotYetValid,
    /// The wrong issuer.
    Issuer,
    /// None of the accepted audiences.
    Audience,
    /// The token has no (string) user claim.
    NoUser,
    /// The introspection endpoint says the token is not active.
    Inactive,
    /// The keys or the introspection endpoint could not be reached.
    Unavailable(String),
}

impl TokenError {
    /// The RFC 6750 error code for a `WWW-Authenticate: Bearer` challenge.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Unavailable(_) => "temporarily_unavailable",
            _ => "invalid_token",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("malformed token"),
            TokenError::UnknownKey => f.write_str("no key for the token"),
            TokenError::Signature => f.write_str("bad signature"),
            TokenError::Algorithm => f.write_str("algorithm not accepted"),
            TokenError::Expired => f.write_str("token expired"),
            TokenError::NotYetValid => f.write_str("token not yet valid"),
            TokenError::Issuer => f.write_str("wrong issuer"),
            TokenError::Audience => f.write_str("wrong audience"),
            TokenError::NoUser => f.write_str("no user claim"),
            TokenError::Inactive => f.write_str("token not active"),
            TokenError::Unavailable(why) => write!(f, "token keys unavailable: {why}"),
        }
    }
}

impl std::error::Error for TokenError {}

fn seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Checks the claims every token source shares (times, issuer, audience)
/// and reads the identity.
fn identity(
    config: &TokenConfig,
    now: SystemTime,
    claims: &Map<String, Value>,
) -> Result<TokenIdentity, TokenError> {
    let now = seconds(now);
    let leeway = config.leeway.as_secs() as i64;
    let exp = claims.get("exp").and_then(Value::as_i64);
    match exp {
        Some(exp) if exp + leeway > now => {}
        _ => return Err(TokenError::Expired),
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
        && nbf - leeway > now
    {
        return Err(TokenError::NotYetValid);
    }
    if let Some(issuer) = &config.issuer
        && claims.get("iss").and_then(Value::as_str) != Some(issuer)
    {
        return Err(TokenError::Issuer);
    }
    if !config.audiences.is_empty() {
        let named = |a: &str| config.audiences.iter().any(|x| x == a);
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => named(a),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).any(named),
            _ => false,
        };
        if !ok {
            return Err(TokenError::Audience);
        }
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let user = text(&config.user_claim)
        .filter(|u| !u.is_empty())
        .ok_or(TokenError::NoUser)?;
    Ok(TokenIdentity {
        user,
        subject: text("sub"),
        expires: exp.map(|e| UNIX_EPOCH + Duration::from_secs(e.max(0) as u64)),
        scope: text("scope"),
    })
}

struct Key {
    kid: Option<String>,
    family: AlgorithmFamily,
    key: DecodingKey,
}

/// Verifies signed JWTs with keys from a JWKS document (and, for HS256,
/// a shared secret).
///
/// Keys are asked for with [`JwtVerifier::poll_fetch`] and handed in with
/// [`JwtVerifier::handle_jwks`]; signature, algorithm, `exp`/`nbf` (with
/// leeway), `iss` and `aud` are checked by [`JwtVerifier::verify`].
pub struct JwtVerifier {
    config: TokenConfig,
    /// A validation per accepted algorithm (signature and algorithm only:
    /// the claims are checked here, against the time passed in).
    validations: Vec<(TokenAlgorithm, Validation)>,
    keys: Vec<Key>,
    secret: Option<DecodingKey>,
    fetched: Option<SystemTime>,
    last_attempt: Option<SystemTime>,
}

impl JwtVerifier {
    /// A verifier with no keys yet.
    pub fn new(config: TokenConfig) -> JwtVerifier {
        let validations = config
            .algorithms
            .iter()
            .map(|&alg| {
                let mut v = Validation::new(alg);
                v.validate_exp = false;
                v.validate_nbf = false;
                v.validate_aud = false;
                v.required_spec_claims.clear();
                (alg, v)
            })
            .collect();
        JwtVerifier {
            config,
            validations,
            keys: Vec::new(),
            secret: None,
            fetched: None,
            last_attempt: None,
        }
    }

    /// Also accepts HMAC tokens (HS256 when configured) signed with
    /// `secret`.
    pub fn with_secret(mut self, secret: &[u8]) -> JwtVerifier {
        self.secret = Some(DecodingKey::from_secret(secret));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// Whether the caller should fetch the JWKS document now:
    /// `unknown_key` when [`JwtVerifier::verify`] just answered
    /// [`TokenError::UnknownKey`] (false at start). True when no keys were
    /// fetched yet, they are older than `keys_ttl`, or a token named a key
    /// we do not have; and in each case at most once per
    /// `refetch_interval`. A true answer counts as an attempt.
    pub fn poll_fetch(&mut self, now: SystemTime, unknown_key: bool) -> bool {
        let stale = self.fetched.is_none_or(|t| t + self.config.keys_ttl <= now);
        let allowed = self
            .last_attempt
            .is_none_or(|t| t + self.config.refetch_interval <= now);
        if (stale || unknown_key) && allowed {
            self.last_attempt = Some(now);
            return true;
        }
        false
    }

    /// A fetched JWKS document: replaces the keys. Returns how many keys
    /// are usable (keys of unsupported types are skipped).
    pub fn handle_jwks(&mut self, now: SystemTime, body: &[u8]) -> Result<usize, TokenError> {
        let set: JwkSet = serde_json::from_slice(body).map_err(|_| TokenError::Malformed)?;
        self.keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some(Key {
                    kid: jwk.common.key_id.clone(),
                    family: key.family(),
                    key,
                })
            })
            .collect();
        self.fetched = Some(now);
        Ok(self.keys.len())
    }

    /// Verifies `token` at `now`.
    pub fn verify(&self, now: SystemTime, token: &str) -> Result<TokenIdentity, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let (_, validation) = self
            .validations
            .iter()
            .find(|(alg, _)| *alg == header.alg)
            .ok_or(TokenError::Algorithm)?;
        let family = header.alg.family();
        let secret = self.secret.iter().filter(|k| k.family() == family);
        let fetched = self.keys.iter().filter(|k| {
            k.family == family
                && match (&header.kid, &k.kid) {
                    (Some(want), Some(have)) => want == have,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        });
        let mut result = Err(TokenError::UnknownKey);
        for key in secret.chain(fetched.map(|k| &k.key)) {
            match decode::<Map<String, Value>>(token, key, validation) {
                Ok(data) => return identity(&self.config, now, &data.claims),
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    result = Err(match e.kind() {
                        K::InvalidSignature => TokenError::Signature,
                        K::InvalidAlgorithm | K::MissingAlgorithm => TokenError::Algorithm,
                        K::InvalidEcdsaKey
                        | K::InvalidEddsaKey
                        | K::InvalidRsaKey(_)
                        | K::InvalidKeyFormat => TokenError::UnknownKey,
                        _ => TokenError::Malformed,
                    });
                }
            }
        }
        result
    }
}

/// OAuth2 token introspection (RFC 7662), sans-IO: what to send, what the
/// answer means, and a cache of answers.
pub struct Introspection {
    config: TokenConfig,
    ttl: Duration,
    capacity: usize,
    cache: HashMap<[u8; 32], (Result<TokenIdentity, TokenError>, SystemTime)>,
}

impl Introspection {
    /// Answers are remembered for `ttl` (never past the token's `exp`),
    /// for at most `capacity` tokens.
    pub fn new(config: TokenConfig, ttl: Duration, capacity: usize) -> Introspection {
        Introspection {
            config,
            ttl,
            capacity,
            cache: HashMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    fn key(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    /// A remembered answer for `token`, if still fresh.
    pub fn cached(
        &self,
        now: SystemTime,
        token: &str,
    ) -> Option<Result<TokenIdentity, TokenError>> {
        let (answer, until) = self.cache.get(&Self::key(token))?;
        (now < *until).then(|| answer.clone())
    }

    /// The form body of the introspection request (RFC 7662 §2.1).
    pub fn request_body(token: &str) -> [(&'static str, &str); 2] {
        [("token", token), ("token_type_hint", "access_token")]
    }

    /// The endpoint's JSON answer for `token`: checked (active, times,
    /// issuer, audience, user) and remembered.
    pub fn handle_response(
        &mut self,
        now: SystemTime,
        token: &str,
        body: &[u8],
    ) -> Result<TokenIdentity, TokenError> {
        let claims: Map<String, Value> =
            serde_json::from_slice(body).map_err(|_| TokenError::Malformed)?;
        let answer = if claims.get("active").and_then(Value::as_bool) == Some(true) {
            identity(&self.config, now, &claims)
        } else {
            Err(TokenError::Inactive)
        };
        let mut until = now + self.ttl;
        if let Ok(TokenIdentity {
            expires: Some(exp), ..
        }) = &answer
        {
            until = until.min(*exp);
        }
        if self.cache.len() >= self.capacity {
            self.cache.retain(|_, (_, t)| *t > now);
            if self.cache.len() >= self.capacity {
                self.cache.clear();
            }
        }
        self.cache.insert(Self::key(token), (answer.clone(), until));
        answer
    }
}

/// Where a known issuer publishes its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerPreset {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// Its JWKS document.
    pub jwks_url: String,
    /// Its RFC 7662 endpoint, if it has one.
    pub introspection_url: Option<String>,
    /// The claim naming the user.
    pub user_claim: &'static str,
    /// The algorithms it signs with.
    pub algorithms: Vec<TokenAlgorithm>,
}

impl IssuerPreset {
    /// A Keycloak realm at `base` (`https://sso.example.com`, or with
    /// `/auth` for old versions).
    pub fn keycloak(base: &str, realm: &str) -> IssuerPreset {
        let issuer = format!("{}/realms/{realm}", base.trim_end_matches('/'));
        IssuerPreset {
            jwks_url: format!("{issuer}/protocol/openid-connect/certs"),
            introspection_url: Some(format!("{issuer}/protocol/openid-connect/token/introspect")),
            issuer,
            user_claim: "preferred_username",
            algorithms: vec![
                TokenAlgorithm::RS256,
                TokenAlgorithm::ES256,
                TokenAlgorithm::EdDSA,
            ],
        }
    }

    /// Google accounts (ID tokens; the audience is your OAuth client id).
    pub fn google() -> IssuerPreset {
        IssuerPreset {
            issuer: "https://accounts.google.com".into(),
            jwks_url: "https://www.googleapis.com/oauth2/v3/certs".into(),
            introspection_url: None,
            user_claim: "email",
            algorithms: vec![TokenAlgorithm::RS256],
        }
    }
}

/// The account a token's user names: `user@domain` as is, a bare `user`
/// in `default_domain`.
pub fn account_of<'a>(user: &'a str, default_domain: &'a str) -> (&'a str, &'a str) {
    user.rsplit_once('@')
        .filter(|(u, d)| !u.is_empty() && !d.is_empty())
        .unwrap_or((user, default_domain))
}

/// The Bearer token a request carries (RFC 8898 §2.4): in
/// `Proxy-Authorization` when `proxy` (a proxy authenticating an INVITE
/// or any request it forwards, answering 407), else in `Authorization`
/// (a registrar or UAS, answering 401).
pub fn bearer_token(request: &sip_core::Message, proxy: bool) -> Option<&str> {
    use sip_core::header::{Authorization, ProxyAuthorization};
    if proxy {
        request
            .headers_of::<ProxyAuthorization<'_>>()
            .find_map(|h| h.ok()?.token())
    } else {
        request
            .headers_of::<Authorization<'_>>()
            .find_map(|h| h.ok()?.token())
    }
}

/// A `WWW-Authenticate`/`Proxy-Authenticate` value for the Bearer scheme
/// (RFC 8898 §2.3, RFC 6750 §3): the realm, the authorization server to
/// get a token from, the scope, and the error of a refused token.
pub fn bearer_challenge(
    realm: &str,
    authz_server: Option<&str>,
    scope: Option<&str>,
    error: Option<&TokenError>,
) -> String {
    let quote = |s: &str| s.replace(['"', '\\'], "");
    let mut v = format!("Bearer realm=\"{}\"", quote(realm));
    if let Some(server) = authz_server {
        v.push_str(&format!(", authz_server=\"{}\"", quote(server)));
    }
    if let Some(scope) = scope {
        v.push_str(&format!(", scope=\"{}\"", quote(scope)));
    }
    if let Some(e) = error {
        v.push_str(&format!(
            ", error=\"{}\", error_description=\"{}\"",
            e.code(),
            quote(&e.to_string())
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    fn config() -> TokenConfig {
        TokenConfig {
            issuer: Some("https://idp".into()),
            audiences: vec!["sip".into(), "other".into()],
            algorithms: vec![TokenAlgorithm::HS256, TokenAlgorithm::RS256],
            leeway: Duration::from_secs(30),
            ..TokenConfig::default()
        }
    }

    fn hs(claims: Value) -> String {
        encode(
            &Header::new(TokenAlgorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("sign")
    }

    fn claims(exp: u64) -> Value {
        serde_json::json!({
            "iss": "https://idp", "aud": ["x", "sip"], "sub": "s1",
            "preferred_username": "alice", "exp": exp, "nbf": 1000, "scope": "sip",
        })
    }

    #[test]
    fn claims_are_checked_against_the_time_given() {
        let v = JwtVerifier::new(config()).with_secret(SECRET);
        let id = v.verify(at(1500), &hs(claims(2000))).expect("valid");
        assert_eq!(id.user, "alice");
        assert_eq!(id.subject.as_deref(), Some("s1"));
        assert_eq!(id.expires, Some(at(2000)));
        // Within the leeway either side, then not.
        assert!(v.verify(at(2029), &hs(claims(2000))).is_ok());
        assert_eq!(
            v.verify(at(2030), &hs(claims(2000))),
            Err(TokenError::Expired)
        );
        assert!(v.verify(at(971), &hs(claims(2000))).is_ok());
        assert_eq!(
            v.verify(at(969), &hs(claims(2000))),
            Err(TokenError::NotYetValid)
        );
        let mut c = claims(2000);
        c["aud"] = "elsewhere".into();
        assert_eq!(v.verify(at(1500), &hs(c)), Err(TokenError::Audience));
        let mut c = claims(2000);
        c["iss"] = "https://evil".into();
        assert_eq!(v.verify(at(1500), &hs(c)), Err(TokenError::Issuer));
        let mut c = claims(2000);
        c.as_object_mut().expect("object").remove("exp");
        assert_eq!(v.verify(at(1500), &hs(c)), Err(TokenError::Expired));
        let mut c = claims(2000);
        c.as_object_mut()
            .expect("object")
            .remove("preferred_username");
        assert_eq!(v.verify(at(1500), &hs(c)), Err(TokenError::NoUser));
    }

    #[test]
    fn signatures_and_algorithms() {
        let v = JwtVerifier::new(config()).with_secret(SECRET);
        let wrong = encode(
            &Header::new(TokenAlgorithm::HS256),
            &claims(2000),
            &EncodingKey::from_secret(b"another secret, also 32 bytes..."),
        )
        .expect("sign");
        assert_eq!(v.verify(at(1500), &wrong), Err(TokenError::Signature));
        let hs384 = encode(
            &Header::new(TokenAlgorithm::HS384),
            &claims(2000),
            &EncodingKey::from_secret(SECRET),
        )
        .expect("sign");
        assert_eq!(v.verify(at(1500), &hs384), Err(TokenError::Algorithm));
        // alg "none", and garbage.
        let token = hs(claims(2000));
        let mut parts = token.split('.');
        let none = format!("eyJhbGciOiJub25lIn0.{}.", parts.nth(1).expect("payload"));
        assert_eq!(v.verify(at(1500), &none), Err(TokenError::Malformed));
        assert_eq!(v.verify(at(1500), "a.b"), Err(TokenError::Malformed));
        assert_eq!(v.verify(at(1500), "\u{0}..."), Err(TokenError::Malformed));
        // No key for RS256 yet.
        let no_secret = JwtVerifier::new(config());
        assert_eq!(
            no_secret.verify(at(1500), &token),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn fetches_are_rate_limited() {
        let mut v = JwtVerifier::new(config());
        assert!(v.poll_fetch(at(100), false));
        assert!(!v.poll_fetch(at(101), false), "within refetch_interval");
        let jwks = br#"{"keys":[{"kty":"oct","kid":"k1","alg":"HS256","k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}]}"#;
        assert_eq!(v.handle_jwks(at(101), jwks), Ok(1));
        let mut h = Header::new(TokenAlgorithm::HS256);
        h.kid = Some("k1".into());
        let token = encode(&h, &claims(2000), &EncodingKey::from_secret(SECRET)).expect("sign");
        assert!(v.verify(at(1500), &token).is_ok());
        assert!(!v.poll_fetch(at(200), false), "known kid, fresh keys");
        h.kid = Some("k2".into());
        let rotated = encode(&h, &claims(2000), &EncodingKey::from_secret(SECRET)).expect("sign");
        assert_eq!(v.verify(at(1500), &rotated), Err(TokenError::UnknownKey));
        assert!(v.poll_fetch(at(200), true), "unknown kid");
        assert!(!v.poll_fetch(at(205), true), "rate limited");
        assert!(v.poll_fetch(at(215), true));
        assert!(v.poll_fetch(at(101 + 3600), false), "keys_ttl passed");
        assert_eq!(v.handle_jwks(at(1), b"{]"), Err(TokenError::Malformed));
    }

    #[test]
    fn introspection_answers_are_checked_and_cached() {
        let mut i = Introspection::new(config(), Duration::from_secs(60), 2);
        let body = serde_json::json!({
            "active": true, "iss": "https://idp", "aud": "sip",
            "preferred_username": "bob", "exp": 1030,
        });
        let body = serde_json::to_vec(&body).expect("json");
        assert!(i.cached(at(1000), "t1").is_none());
        let id = i.handle_response(at(1000), "t1", &body).expect("active");
        assert_eq!(id.user, "bob");
        assert_eq!(i.cached(at(1010), "t1"), Some(Ok(id)));
        // Never past exp.
        assert!(i.cached(at(1030), "t1").is_none());
        let inactive = br#"{"active":false}"#;
        assert_eq!(
            i.handle_response(at(1000), "t2", inactive),
            Err(TokenError::Inactive)
        );
        assert_eq!(i.cached(at(1059), "t2"), Some(Err(TokenError::Inactive)));
        assert!(i.cached(at(1060), "t2").is_none());
        assert_eq!(
            i.handle_response(at(1000), "t3", b"<html>"),
            Err(TokenError::Malformed)
        );
        // Bounded.
        i.handle_response(at(1000), "t4", inactive).ok();
        assert!(i.cache.len() <= 2);
    }

    #[test]
    fn presets_accounts_and_challenges() {
        let kc = IssuerPreset::keycloak("https://sso.example.com/", "sip");
        assert_eq!(kc.issuer, "https://sso.example.com/realms/sip");
        assert_eq!(
            kc.jwks_url,
            "https://sso.example.com/realms/sip/protocol/openid-connect/certs"
        );
        assert_eq!(IssuerPreset::google().user_claim, "email");
        assert_eq!(account_of("alice", "example.com"), ("alice", "example.com"));
        assert_eq!(
            account_of("bob@corp.example", "example.com"),
            ("bob", "corp.example")
        );
        assert_eq!(account_of("@x", "example.com"), ("@x", "example.com"));
        assert_eq!(
            bearer_challenge(
                "example.com",
                Some("https://idp"),
                None,
                Some(&TokenError::Expired)
            ),
            "Bearer realm=\"example.com\", authz_server=\"https://idp\", error=\"invalid_token\", error_description=\"token expired\""
        );
    }
}
