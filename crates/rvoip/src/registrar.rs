//! `rvoip registrar`: a standalone SIP registrar. The Endpoint receives,
//! auth-core authenticates against users-core, registrar-core decides, and
//! bindings live in the configured database (SQLite by default), so they
//! survive a restart.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use auth_core::{
    Algorithm, Ban, BearerVerifier, CachedCredentials, CredentialStore, DigestConfig, DigestServer,
    FailureLimiter, Reject, TokenError, account_of,
};
use dialog_core::{Endpoint, EndpointConfig, Handled, IncomingRequest, Responder};
use infra_common::db::Database;
use infra_common::server::{Metrics, shutdown_signal};
use metrics::{Counter, Gauge};
use registrar_core::{
    Binding, CachedStore, Change, LocationStore, MemoryStore, RedisStore, Registrar, SqlStore,
    StoreError,
};
use sip_core::builder::response_to;
use sip_core::header::Authorization;
use sip_core::{Message, Method, StatusCode};
use sip_transport::Transport;
use transaction_core::Target;
use users_core::{Preloaded, Refreshed, Users};

use crate::config::{self, AuthSection, ServerConfig};

/// Arguments of `rvoip registrar`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The configuration file (see docs/rvoip.sample.toml); without it,
    /// the defaults: UDP and TCP on 127.0.0.1:5060, SQLite rvoip.db.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Requests for one AOR are handled one at a time: a lock per stripe.
const STRIPES: usize = 256;

/// At most this many users' credentials are remembered.
const CREDENTIAL_CACHE_SIZE: usize = 1_000_000;
/// More shards than this is a mistake in the file, not a tuning.
const MAX_SHARDS: usize = 256;

/// The registrar's metrics (`rvoip_registrar_*`), registered once so that
/// counting is one atomic add.
struct Counters {
    registers: Counter,
    challenges: Counter,
    auth_failures: Counter,
    bans: Counter,
    refused_banned: Counter,
    registered: Counter,
    refreshed: Counter,
    removed: Counter,
    expired: Counter,
    store_errors: Counter,
    bindings: Gauge,
}

impl Counters {
    fn new() -> Counters {
        let c = |name: &'static str, help: &'static str| {
            metrics::describe_counter!(name, help);
            metrics::counter!(name)
        };
        metrics::describe_gauge!("rvoip_registrar_bindings", "Current bindings");
        Counters {
            registers: c(
                "rvoip_registrar_registers_total",
                "REGISTER requests received",
            ),
            challenges: c("rvoip_registrar_challenges_total", "401 challenges sent"),
            auth_failures: c(
                "rvoip_registrar_auth_failures_total",
                "Digest answers with a wrong password or an unknown user",
            ),
            bans: c(
                "rvoip_registrar_bans_total",
                "Sources or users banned after too many failed authentications",
            ),
            refused_banned: c(
                "rvoip_registrar_refused_banned_total",
                "Requests refused (403) because the source or user is banned",
            ),
            registered: c("rvoip_registrar_registered_total", "New bindings"),
            refreshed: c("rvoip_registrar_refreshed_total", "Bindings refreshed"),
            removed: c(
                "rvoip_registrar_removed_total",
                "Bindings removed by the phone",
            ),
            expired: c("rvoip_registrar_expired_total", "Bindings expired"),
            store_errors: c(
                "rvoip_registrar_store_errors_total",
                "Failed reads or writes of the credential or location store",
            ),
            bindings: metrics::gauge!("rvoip_registrar_bindings"),
        }
    }
}

/// The configured location store (`[location]`).
enum Location {
    Memory(MemoryStore),
    Sql(SqlStore),
    CachedSql(CachedStore<SqlStore>),
    Redis(RedisStore),
    CachedRedis(CachedStore<RedisStore>),
}

/// Calls `$call` on whichever store `$loc` is.
macro_rules! each_store {
    ($loc:expr, $s:ident => $call:expr) => {
        match $loc {
            Location::Memory($s) => $call,
            Location::Sql($s) => $call,
            Location::CachedSql($s) => $call,
            Location::Redis($s) => $call,
            Location::CachedRedis($s) => $call,
        }
    };
}

impl LocationStore for Location {
    async fn bindings(&self, aor: &str) -> Result<Vec<Binding>, StoreError> {
        each_store!(self, s => s.bindings(aor).await)
    }

    async fn apply(&self, changes: &[Change]) -> Result<(), StoreError> {
        each_store!(self, s => s.apply(changes).await)
    }

    async fn apply_owned(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        each_store!(self, s => s.apply_owned(changes).await)
    }

    async fn all(&self) -> Result<Vec<Binding>, StoreError> {
        each_store!(self, s => s.all().await)
    }
}

impl Location {
    /// Opens the store `[location]` names; `db` is the `[database]` one.
    async fn open(cfg: &config::LocationSection, db: &Database) -> Result<Location, String> {
        let behind = cfg.write_interval_ms > 0;
        let e = |e: StoreError| e.to_string();
        let store = cfg.store.as_str();
        if store == "memory" {
            return Ok(Location::Memory(MemoryStore::new()));
        }
        if store.starts_with("redis://") || store.starts_with("rediss://") {
            let redis = RedisStore::open(store).await.map_err(e)?;
            if !cfg.cache {
                return Ok(Location::Redis(redis));
            }
            let cached = CachedStore::load(redis).await.map_err(e)?;
            return Ok(Location::CachedRedis(cached.write_behind(behind)));
        }
        let sql = if store == "database" {
            SqlStore::new(db.clone()).await
        } else {
            let other = Database::open(store).await.map_err(|e| e.to_string())?;
            SqlStore::new(other).await
        }
        .map_err(e)?;
        if !cfg.cache {
            return Ok(Location::Sql(sql));
        }
        let cached = CachedStore::load(sql).await.map_err(e)?;
        Ok(Location::CachedSql(cached.write_behind(behind)))
    }

    /// Writes batched changes (write-behind); nothing for other stores.
    async fn flush(&self) -> Result<usize, StoreError> {
        match self {
            Location::CachedSql(s) => s.flush().await,
            Location::CachedRedis(s) => s.flush().await,
            _ => Ok(0),
        }
    }
}

/// Where digest credentials come from: all held in memory, or read on
/// demand and remembered for a while.
enum CredentialSource {
    Preloaded(Preloaded),
    Cached(CachedCredentials<Users>),
}

impl CredentialSource {
    fn users(&self) -> &Users {
        match self {
            CredentialSource::Preloaded(p) => p.users(),
            CredentialSource::Cached(c) => c.store(),
        }
    }

    async fn ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: Algorithm,
    ) -> Result<Option<String>, auth_core::StoreError> {
        match self {
            CredentialSource::Preloaded(p) => Ok(p.get(username, realm, algorithm)),
            CredentialSource::Cached(c) => c.ha1(username, realm, algorithm).await,
        }
    }
}

struct Server {
    credentials: CredentialSource,
    store: Location,
    registrar: Mutex<Registrar>,
    digest: Mutex<DigestServer>,
    /// Bearer tokens (RFC 8898), when `[auth.bearer]` is enabled.
    bearer: Option<BearerVerifier>,
    limiter: Mutex<FailureLimiter>,
    auth: AuthSection,
    stripes: Vec<tokio::sync::Mutex<()>>,
    counters: Counters,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // On failure the seed is only less random; nonces stay signed.
    let _ = aws_lc_rs::rand::fill(&mut b);
    u64::from_le_bytes(b)
}

impl Server {
    fn stripe(&self, aor: &str) -> &tokio::sync::Mutex<()> {
        let mut h = DefaultHasher::new();
        aor.hash(&mut h);
        &self.stripes[(h.finish() as usize) % STRIPES]
    }

    fn reply(&self, request: &Message, code: StatusCode, tag: &str) -> Option<Message> {
        response_to(request, code, Some(tag))
            .header_text("Allow", "REGISTER, OPTIONS")
            .build()
            .ok()
    }

    /// A 401 with one digest challenge per algorithm, and a Bearer one
    /// (with `token_error`, the reason a token was refused) when tokens
    /// are accepted.
    fn challenge(
        &self,
        request: &Message,
        realm: &str,
        stale: bool,
        token_error: Option<&TokenError>,
        tag: &str,
    ) -> Option<Message> {
        self.counters.challenges.increment(1);
        let values = lock(&self.digest).challenges(SystemTime::now(), realm, stale);
        let mut b = response_to(request, StatusCode::UNAUTHORIZED, Some(tag));
        for v in values {
            b = b.header_text("WWW-Authenticate", &v);
        }
        if let Some(bearer) = &self.bearer {
            b = b.header("WWW-Authenticate", bearer.challenge(realm, token_error));
        }
        b.build().ok()
    }

    /// A store (accounts, credentials, bindings) failed: counted, logged,
    /// and answered with a 500.
    fn store_failed(
        &self,
        request: &Message,
        e: &dyn std::fmt::Display,
        tag: &str,
    ) -> Option<Message> {
        self.counters.store_errors.increment(1);
        tracing::error!("{e}");
        self.reply(request, StatusCode::SERVER_INTERNAL_ERROR, tag)
    }

    /// The realm of `aor`: the configured one, else its domain.
    fn realm<'a>(&'a self, aor: &'a registrar_core::Aor) -> &'a str {
        self.auth.realm.as_deref().unwrap_or(&aor.domain)
    }

    fn failed(&self, source: std::net::IpAddr, user: &str) {
        self.counters.auth_failures.increment(1);
        let bans = lock(&self.limiter).record_failure(Instant::now(), source, user);
        self.log_bans(bans);
    }

    /// RFC 8898: a Bearer token must verify, and its user claim must name
    /// an enabled account that is the AOR's own.
    async fn authenticate_bearer(
        &self,
        bearer: &BearerVerifier,
        token: &str,
        request: &Message,
        aor: &registrar_core::Aor,
        source: std::net::IpAddr,
        tag: &str,
    ) -> Result<(), Option<Message>> {
        let realm = self.realm(aor);
        let identity = match bearer.verify(token).await {
            Ok(id) => id,
            Err(TokenError::Unavailable(why)) => {
                tracing::error!("cannot verify a bearer token: {why}");
                return Err(self.reply(request, StatusCode::SERVICE_UNAVAILABLE, tag));
            }
            Err(e) => {
                self.failed(source, &aor.user);
                return Err(self.challenge(request, realm, false, Some(&e), tag));
            }
        };
        let (user, domain) = account_of(&identity.user, &aor.domain);
        if user != aor.user || !domain.eq_ignore_ascii_case(&aor.domain) {
            // A valid token, for someone else.
            return Err(self.reply(request, StatusCode::FORBIDDEN, tag));
        }
        match self.credentials.users().get(user, domain).await {
            Ok(Some(account)) if account.enabled => Ok(()),
            Ok(_) => Err(self.reply(request, StatusCode::FORBIDDEN, tag)),
            Err(e) => Err(self.store_failed(request, &e, tag)),
        }
    }

    fn log_bans(&self, bans: Vec<Ban>) {
        for ban in bans {
            self.counters.bans.increment(1);
            match ban {
                Ban::Source(ip) => tracing::warn!(
                    "banned source {ip} for {} s after too many failed authentications",
                    self.auth.ban_time
                ),
                Ban::User(user) => tracing::warn!(
                    "banned user {user:?} for {} s after too many failed authentications",
                    self.auth.user_ban_time
                ),
            }
        }
    }

    /// Authenticates `request` for `aor`; `Err` is the response to send.
    async fn authenticate(
        &self,
        request: &Message,
        aor: &registrar_core::Aor,
        source: std::net::IpAddr,
        tag: &str,
    ) -> Result<(), Option<Message>> {
        let realm = self.realm(aor);
        let ruri = request.request_uri_str().unwrap_or_default();
        let authorizations = request
            .headers_of::<Authorization<'_>>()
            .filter_map(Result::ok)
            .map(|a| a.0);
        // The first Bearer token (when accepted) or digest answer for our
        // realm; inspecting a digest answer checks its realm.
        let mut ours = None;
        for credentials in authorizations {
            if let (Some(bearer), Some(token)) = (&self.bearer, credentials.token()) {
                return self
                    .authenticate_bearer(bearer, token, request, aor, source, tag)
                    .await;
            }
            if !credentials.is_digest() {
                continue;
            }
            match lock(&self.digest).inspect(&credentials, realm, ruri) {
                Err(Reject::NoCredentials) => continue,
                inspected => {
                    ours = Some(inspected);
                    break;
                }
            }
        }
        let attempt = match ours {
            Some(Ok(a)) => a,
            Some(Err(why)) => {
                return Err(self.challenge(request, realm, why.is_stale(), None, tag));
            }
            None => return Err(self.challenge(request, realm, false, None, tag)),
        };
        if lock(&self.limiter).user_banned(Instant::now(), &attempt.username) {
            self.counters.refused_banned.increment(1);
            return Err(self.reply(request, StatusCode::FORBIDDEN, tag));
        }
        let ha1 = match self
            .credentials
            .ha1(&attempt.username, realm, attempt.algorithm)
            .await
        {
            Ok(h) => h,
            Err(e) => return Err(self.store_failed(request, &e, tag)),
        };
        let method = request.method().map_or("REGISTER", |m| m.as_str());
        let verdict =
            lock(&self.digest).verify(SystemTime::now(), method, &attempt, ha1.as_deref());
        match verdict {
            Ok(()) if *attempt.username == aor.user => Ok(()),
            // Authenticated, but as someone else: not allowed to touch this AOR.
            Ok(()) => Err(self.reply(request, StatusCode::FORBIDDEN, tag)),
            Err(why) => {
                if why.is_failure() {
                    self.failed(source, &attempt.username);
                }
                Err(self.challenge(request, realm, why.is_stale(), None, tag))
            }
        }
    }

    async fn register(&self, request: &Message, source: &Target) -> Option<Message> {
        self.counters.registers.increment(1);
        let ip = source.addr.ip();
        // Every answer goes out statelessly (see `answered_statelessly`).
        let tag = lock(&self.registrar).stateless_tag(request);
        if lock(&self.limiter).source_banned(Instant::now(), ip) {
            self.counters.refused_banned.increment(1);
            return self.reply(request, StatusCode::FORBIDDEN, &tag);
        }
        let aor = match lock(&self.registrar).check(request, &tag) {
            Ok(aor) => aor,
            Err(response) => return response,
        };
        if self.auth.enabled
            && let Err(response) = self.authenticate(request, &aor, ip, &tag).await
        {
            return response;
        }
        let key = aor.key();
        let _serial = self.stripe(&key).lock().await;
        let current = match self.store.bindings(&key).await {
            Ok(c) => c,
            Err(e) => return self.store_failed(request, &e, &tag),
        };
        let mut from = String::with_capacity(32);
        from.push_str(source.transport.param());
        from.push(':');
        sip_core::text::push_socket_addr(&mut from, source.addr);
        let decision =
            lock(&self.registrar).process(SystemTime::now(), request, &aor, &current, &from, &tag);
        if let Err(e) = self.store_changes(decision.changes).await {
            return self.store_failed(request, &e, &tag);
        }
        decision.response
    }

    /// Stores `changes` (all of one AOR), arms their expiry timers and
    /// counts them. The store takes them: a write-behind store keeps them
    /// until its next write instead of copying every binding.
    async fn store_changes(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        let mut count = [0u64; 4];
        for c in &changes {
            count[match c {
                Change::Add(_) => 0,
                Change::Refresh(_) => 1,
                Change::Remove(_) => 2,
                Change::Expire(_) => 3,
            }] += 1;
        }
        lock(&self.registrar).watch(&changes);
        self.store.apply_owned(changes).await?;
        let c = &self.counters;
        let [registered, refreshed, removed, expired] = count;
        c.registered.increment(registered);
        c.refreshed.increment(refreshed);
        c.removed.increment(removed);
        c.expired.increment(expired);
        // Bindings are far fewer than 2^53: exact as f64.
        c.bindings
            .increment(registered as f64 - (removed + expired) as f64);
        Ok(())
    }

    /// The response to `request` (none for an ACK).
    async fn answer(&self, request: &Message, source: &Target) -> Option<Message> {
        match request.method() {
            Some(Method::Register) => self.register(request, source).await,
            Some(Method::Ack) => None,
            Some(Method::Options) => {
                let tag = lock(&self.registrar).tag();
                response_to(request, StatusCode::OK, Some(&tag))
                    .header("Allow", "REGISTER, OPTIONS")
                    .header("Accept", "application/sdp")
                    .header("Supported", "path, outbound")
                    .build()
                    .ok()
            }
            _ => {
                let tag = lock(&self.registrar).tag();
                self.reply(request, StatusCode::METHOD_NOT_ALLOWED, &tag)
            }
        }
    }

    /// Removes bindings as they expire, and old failure records.
    async fn expiry_loop(self: Arc<Server>) {
        let mut last_sweep = Instant::now();
        loop {
            let next = lock(&self.registrar).poll_timeout();
            let wait = next
                .and_then(|t| t.duration_since(SystemTime::now()).ok())
                .map_or(Duration::from_secs(1), |d| d.min(Duration::from_secs(1)));
            tokio::time::sleep(wait).await;
            let now = SystemTime::now();
            let due = lock(&self.registrar).due(now);
            for aor in due {
                let _serial = self.stripe(&aor).lock().await;
                // A store that fails is asked again a second later.
                let retry = |e: StoreError| {
                    tracing::error!("location store: {e}");
                    lock(&self.registrar).retry(&aor, now + Duration::from_secs(1));
                };
                let current = match self.store.bindings(&aor).await {
                    Ok(c) => c,
                    Err(e) => {
                        retry(e);
                        continue;
                    }
                };
                let gone = lock(&self.registrar).expire(now, &current);
                if gone.is_empty() {
                    continue;
                }
                if let Err(e) = self.store_changes(gone).await {
                    retry(e);
                }
            }
            if last_sweep.elapsed() >= Duration::from_secs(10) {
                lock(&self.limiter).handle_timeout(Instant::now());
                if let CredentialSource::Cached(c) = &self.credentials {
                    c.purge(Instant::now());
                }
                last_sweep = Instant::now();
            }
        }
    }

    /// Writes batched binding changes every `interval` (when the store
    /// batches them).
    async fn write_loop(self: Arc<Server>, interval: Duration) {
        if interval.is_zero() {
            return;
        }
        loop {
            tokio::time::sleep(interval).await;
            self.flush().await;
        }
    }

    /// Applies credential changes made through rvoip (by `rvoip user`,
    /// another server on the database) every `interval`, when they are
    /// held in memory.
    async fn refresh_loop(self: Arc<Server>, interval: Duration) {
        let CredentialSource::Preloaded(held) = &self.credentials else {
            return;
        };
        let interval = interval.max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(interval).await;
            match held.refresh().await {
                Ok(Refreshed::Unchanged) => {}
                Ok(Refreshed::Accounts(n)) => {
                    tracing::info!("credentials of {n} accounts read again");
                }
                Ok(Refreshed::All(n)) => {
                    tracing::info!("credentials of all {n} users read again");
                }
                Err(e) => {
                    self.counters.store_errors.increment(1);
                    tracing::error!("{e} (credentials held as they were)");
                }
            }
        }
    }

    async fn flush(&self) {
        if let Err(e) = self.store.flush().await {
            self.counters.store_errors.increment(1);
            tracing::error!("location store: {e} (kept for the next write)");
        }
    }
}

/// Whether the answer to `request` goes out statelessly (RFC 3261
/// §8.2.7): every answer to a REGISTER does, as a stateless registrar's
/// do. No transaction state is kept for 64·T1 after it (a registrar's
/// server transactions, each holding its response, were most of its memory
/// and an eighth of its CPU), and scanners and password-guessing floods
/// leave none behind. A retransmitted REGISTER is processed again, with the
/// same To tag (`Registrar::stateless_tag`): the same Call-ID and CSeq
/// change nothing and get the bindings as they are (registrar-core), and a
/// digest answer already accepted is a replayed nonce-count, which gets a
/// fresh challenge (not a failed attempt), so the phone authenticates once
/// more.
fn answered_statelessly(request: &Message) -> bool {
    request.method() == Some(&Method::Register)
}

/// The registrar answers inside the endpoint: a REGISTER whose account
/// and bindings are in memory is answered without leaving the task that
/// received it; one that has to wait (a credential not cached, an AOR busy
/// with another request, a token to check) finishes on a task of its own.
struct Answering(Arc<Server>);

impl Responder for Answering {
    fn handle(&self, incoming: IncomingRequest) -> Handled {
        let server = self.0.clone();
        let mut work = Box::pin(async move {
            let response = server.answer(&incoming.request, &incoming.source).await;
            (incoming, response)
        });
        // Polled once here; a future may be polled again by another task
        // (with its own waker) when it has to wait.
        let mut cx = Context::from_waker(Waker::noop());
        match work.as_mut().poll(&mut cx) {
            Poll::Ready((incoming, Some(response))) if answered_statelessly(&incoming.request) => {
                Handled::RespondStateless(response)
            }
            Poll::Ready((_, Some(response))) => Handled::Respond(response),
            Poll::Ready((_, None)) => Handled::Later,
            Poll::Pending => {
                tokio::spawn(async move {
                    if let (incoming, Some(response)) = work.await {
                        let _ = if answered_statelessly(&incoming.request) {
                            incoming.respond_stateless(response).await
                        } else {
                            incoming.respond(response).await
                        };
                    }
                });
                Handled::Later
            }
        }
    }
}

/// A started registrar: the server, its Endpoint and metrics.
struct Started {
    server: Arc<Server>,
    endpoint: Endpoint,
    incoming: dialog_core::Incoming,
    metrics: Metrics,
}

async fn start(cfg: ServerConfig, file: &str) -> Result<Started, String> {
    let metrics = Metrics::start(&cfg.metrics, file)?;
    let algorithms = cfg.auth.algorithms(file).map_err(|e| e.to_string())?;
    if let Some(realm) = &cfg.auth.realm
        && (realm.is_empty() || realm.contains(['"', '\\']))
    {
        return Err(format!(
            "{file}: auth.realm: {realm:?} is not a usable realm"
        ));
    }
    if cfg.sip.shards > MAX_SHARDS {
        return Err(format!(
            "{file}: sip.shards: {} is more than {MAX_SHARDS}",
            cfg.sip.shards
        ));
    }
    let mut endpoint_cfg = EndpointConfig::loopback();
    endpoint_cfg.shards = cfg.sip.shards;
    endpoint_cfg.transport.udp.clear();
    endpoint_cfg.transport.tcp.clear();
    for entry in &cfg.sip.listen {
        let (t, addr) = config::listen(file, entry).map_err(|e| e.to_string())?;
        match t {
            Transport::Udp => endpoint_cfg.transport.udp.push(addr),
            Transport::Tcp => endpoint_cfg.transport.tcp.push(addr),
            Transport::Tls => endpoint_cfg.transport.tls.push(addr),
            _ => endpoint_cfg.transport.ws.push(addr),
        }
    }
    if !endpoint_cfg.transport.tls.is_empty() {
        let (Some(cert), Some(key)) = (&cfg.sip.tls_cert, &cfg.sip.tls_key) else {
            return Err(format!(
                "{file}: sip.tls_cert: tls listeners need sip.tls_cert and sip.tls_key"
            ));
        };
        endpoint_cfg.transport.tls_files = Some(sip_transport::TlsConfig {
            cert_chain: cert.clone(),
            private_key: key.clone(),
            ca: None,
            require_client_cert: false,
            present_client_cert: false,
        });
    }
    let db = Database::open(&cfg.database.url)
        .await
        .map_err(|e| e.to_string())?;
    let users = Users::with(db.clone()).await.map_err(|e| e.to_string())?;
    let store = Location::open(&cfg.location, &db).await?;
    let mut registrar = Registrar::new(cfg.registrar.clone(), random_u64());
    let existing = store.all().await.map_err(|e| e.to_string())?;
    registrar.restore(&existing);
    let secret = match &cfg.auth.nonce_secret {
        Some(s) if s.len() >= 16 => s.as_bytes().to_vec(),
        Some(_) => {
            return Err(format!(
                "{file}: auth.nonce_secret: use at least 16 characters"
            ));
        }
        None => (0..4).flat_map(|_| random_u64().to_le_bytes()).collect(),
    };
    let digest = DigestServer::new(
        DigestConfig {
            algorithms: algorithms.clone(),
            nonce_ttl: Duration::from_secs(cfg.auth.nonce_ttl),
            allow_no_qop: cfg.auth.allow_no_qop,
            ..DigestConfig::default()
        },
        &secret,
        random_u64(),
    );
    let bearer = if cfg.auth.bearer.enabled {
        let verifier = cfg
            .auth
            .bearer
            .build()
            .map_err(|(key, why)| format!("{file}: auth.bearer.{key}: {why}"))?;
        match verifier.start().await {
            Ok(n) if n > 0 => tracing::info!("{n} token signing keys fetched"),
            Ok(_) => {}
            Err(e) => tracing::warn!("{e}; tokens are refused until the keys can be fetched"),
        }
        Some(verifier)
    } else {
        None
    };
    let credentials = if cfg.auth.preload_credentials {
        let held = Preloaded::load(users, &algorithms)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!("credentials of {} users held in memory", held.len());
        CredentialSource::Preloaded(held)
    } else {
        CredentialSource::Cached(CachedCredentials::new(
            users,
            Duration::from_secs(cfg.auth.credential_cache),
            CREDENTIAL_CACHE_SIZE,
        ))
    };
    let server = Arc::new(Server {
        credentials,
        store,
        registrar: Mutex::new(registrar),
        digest: Mutex::new(digest),
        bearer,
        limiter: Mutex::new(FailureLimiter::new(cfg.auth.limiter())),
        auth: cfg.auth,
        stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        counters: Counters::new(),
    });
    server.counters.bindings.set(existing.len() as f64);
    let responder: Arc<dyn Responder> = Arc::new(Answering(server.clone()));
    let (endpoint, incoming) = Endpoint::start_with(endpoint_cfg, Some(responder))
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    tracing::info!(
        "listening on {}; database {}; {} bindings restored; auth {}; metrics {}",
        cfg.sip.listen.join(", "),
        infra_common::db::redact(&cfg.database.url),
        existing.len(),
        match (server.auth.enabled, server.bearer.is_some()) {
            (false, _) => "off",
            (true, false) => "digest",
            (true, true) => "digest and bearer",
        },
        if cfg.metrics.listen.is_empty() {
            "not served"
        } else {
            &cfg.metrics.listen
        }
    );
    Ok(Started {
        server,
        endpoint,
        incoming,
        metrics,
    })
}

/// Runs the registrar until SIGINT or SIGTERM.
pub(crate) fn run(args: &Args) -> ExitCode {
    let file = config::name(args.config.as_deref());
    let cfg = match config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rvoip registrar: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = cfg.log.init(&file) {
        eprintln!("rvoip registrar: {e}");
        return ExitCode::from(2);
    }
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        eprintln!("rvoip registrar: cannot start the runtime");
        return ExitCode::FAILURE;
    };
    let write_interval = Duration::from_millis(cfg.location.write_interval_ms);
    let refresh_interval = Duration::from_millis(cfg.auth.credential_refresh_ms);
    rt.block_on(async {
        let Started {
            server,
            endpoint,
            mut incoming,
            metrics,
        } = match start(cfg, &file).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rvoip registrar: {e}");
                return ExitCode::FAILURE;
            }
        };
        let expiry = tokio::spawn(server.clone().expiry_loop());
        let writer = tokio::spawn(server.clone().write_loop(write_interval));
        let refresher = tokio::spawn(server.clone().refresh_loop(refresh_interval));
        let serve = async {
            // Answering takes every request; nothing else comes (no dialogs).
            while incoming.next().await.is_some() {}
        };
        tokio::select! {
            _ = serve => {}
            _ = shutdown_signal() => {}
        }
        endpoint.shutdown().await;
        expiry.abort();
        writer.abort();
        refresher.abort();
        server.flush().await;
        tracing::info!("stopped; {}", metrics.summary("rvoip_registrar_"));
        ExitCode::SUCCESS
    })
}
