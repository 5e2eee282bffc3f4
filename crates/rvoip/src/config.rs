//! The server configuration file (`--config rvoip.toml`): a section per
//! component, every key optional (the defaults run on loopback with an
//! SQLite file), `RVOIP_SECTION__KEY` environment overrides. See
//! `docs/rvoip.sample.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use auth_core::{Algorithm, Limit, LimiterConfig};
use infra_common::config::ConfigError;
use infra_common::server::{LogSection, MetricsSection};
use registrar_core::RegistrarConfig;
use serde::Deserialize;
use sip_transport::Transport;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ServerConfig {
    pub(crate) sip: SipSection,
    pub(crate) database: DatabaseSection,
    pub(crate) registrar: RegistrarConfig,
    pub(crate) location: LocationSection,
    pub(crate) auth: AuthSection,
    pub(crate) log: LogSection,
    pub(crate) metrics: MetricsSection,
}

/// Where the registrar keeps bindings.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct LocationSection {
    /// "database" (the `[database]` one), "memory" (forgotten on restart),
    /// the URL of another database, or a `redis://` URL.
    pub(crate) store: String,
    /// Reads from memory, writes to the store; off when several
    /// registrars share one store.
    pub(crate) cache: bool,
    /// With the cache, milliseconds between batched writes to the store;
    /// 0 writes each change before the REGISTER is answered.
    pub(crate) write_interval_ms: u64,
}

impl Default for LocationSection {
    fn default() -> LocationSection {
        LocationSection {
            store: "database".into(),
            cache: true,
            write_interval_ms: 1000,
        }
    }
}

/// `[sip]`: where to listen.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SipSection {
    /// `transport:address:port` entries (`udp`, `tcp`, `tls`, `ws`).
    pub(crate) listen: Vec<String>,
    /// Certificate chain and key (PEM) for `tls` listeners.
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    /// Transaction-layer shards (tasks that own transactions, by
    /// Call-ID); 0 is one per CPU. The registrar's state (bindings, nonces,
    /// failure counts) is shared by every request, so more than one shard
    /// mostly adds hand-offs between cores and contention on that state.
    pub(crate) shards: usize,
}

impl Default for SipSection {
    fn default() -> SipSection {
        SipSection {
            listen: vec!["udp:127.0.0.1:5060".into(), "tcp:127.0.0.1:5060".into()],
            tls_cert: None,
            tls_key: None,
            shards: 1,
        }
    }
}

/// `[database]`: an SQLite file path or a `postgres://` URL.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DatabaseSection {
    pub(crate) url: String,
}

impl Default for DatabaseSection {
    fn default() -> DatabaseSection {
        DatabaseSection {
            url: "rvoip.db".into(),
        }
    }
}

/// `[auth]`: digest authentication and the failure limits.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AuthSection {
    /// Challenge REGISTERs (off: any REGISTER is accepted).
    pub(crate) enabled: bool,
    /// The realm; by default the domain of the address being registered.
    pub(crate) realm: Option<String>,
    /// Algorithms offered, most preferred first.
    pub(crate) algorithms: Vec<String>,
    /// Seconds a nonce is good for.
    pub(crate) nonce_ttl: u64,
    /// The secret signing nonces (share it between registrars on one
    /// database); random at each start when unset.
    pub(crate) nonce_secret: Option<String>,
    /// Accept answers without qop (old phones).
    pub(crate) allow_no_qop: bool,
    /// Failed attempts from one address within `failure_window` before it
    /// is banned for `ban_time` (0: no limit).
    pub(crate) max_failures_per_source: u32,
    /// Failed attempts for one user within `failure_window` before the
    /// user is banned for `user_ban_time` (0: no limit).
    pub(crate) max_failures_per_user: u32,
    pub(crate) failure_window: u64,
    pub(crate) ban_time: u64,
    pub(crate) user_ban_time: u64,
    /// Hold every enabled account's digest credentials in memory, read at
    /// start and refreshed every `credential_refresh_ms` from the log of
    /// changes made through rvoip (off: read on demand, remembered for
    /// `credential_cache` seconds).
    pub(crate) preload_credentials: bool,
    pub(crate) credential_refresh_ms: u64,
    pub(crate) credential_cache: u64,
    /// `[auth.bearer]`: Bearer tokens (RFC 8898) besides digest.
    pub(crate) bearer: auth_core::BearerConfig,
}

impl Default for AuthSection {
    fn default() -> AuthSection {
        AuthSection {
            enabled: true,
            realm: None,
            algorithms: vec!["SHA-256".into(), "MD5".into()],
            nonce_ttl: 300,
            nonce_secret: None,
            allow_no_qop: true,
            max_failures_per_source: 10,
            max_failures_per_user: 50,
            failure_window: 60,
            ban_time: 300,
            user_ban_time: 60,
            preload_credentials: true,
            credential_refresh_ms: 1000,
            credential_cache: 30,
            bearer: auth_core::BearerConfig::default(),
        }
    }
}

fn invalid(file: &str, key: &str, message: String) -> ConfigError {
    ConfigError {
        source: file.to_string(),
        line: None,
        key: Some(key.to_string()),
        message,
    }
}

impl AuthSection {
    pub(crate) fn algorithms(&self, file: &str) -> Result<Vec<Algorithm>, ConfigError> {
        let algs = self
            .algorithms
            .iter()
            .map(|name| {
                Algorithm::from_name(name).ok_or_else(|| {
                    invalid(
                        file,
                        "auth.algorithms",
                        format!("unknown algorithm {name:?}, expected MD5, SHA-256 or SHA-512-256"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if algs.is_empty() {
            return Err(invalid(
                file,
                "auth.algorithms",
                "at least one algorithm is needed".into(),
            ));
        }
        Ok(algs)
    }

    pub(crate) fn limiter(&self) -> LimiterConfig {
        LimiterConfig {
            per_source: Limit {
                failures: self.max_failures_per_source,
                window: Duration::from_secs(self.failure_window),
                ban: Duration::from_secs(self.ban_time),
            },
            per_user: Limit {
                failures: self.max_failures_per_user,
                window: Duration::from_secs(self.failure_window),
                ban: Duration::from_secs(self.user_ban_time),
            },
            ..LimiterConfig::default()
        }
    }
}

/// A parsed `listen` entry.
pub(crate) fn listen(file: &str, entry: &str) -> Result<(Transport, SocketAddr), ConfigError> {
    let bad = |why: &str| invalid(file, "sip.listen", format!("{entry:?}: {why}"));
    let (t, addr) = entry
        .split_once(':')
        .ok_or_else(|| bad("expected transport:address:port, e.g. udp:127.0.0.1:5060"))?;
    let transport = match t.to_ascii_lowercase().as_str() {
        "udp" => Transport::Udp,
        "tcp" => Transport::Tcp,
        "tls" => Transport::Tls,
        "ws" => Transport::Ws,
        _ => return Err(bad("transport must be udp, tcp, tls or ws")),
    };
    let addr = addr
        .parse()
        .map_err(|_| bad("expected an address and port such as 127.0.0.1:5060 or [::1]:5060"))?;
    Ok((transport, addr))
}

/// Reads the configuration file (or the defaults) with the environment's
/// overrides.
pub(crate) fn load(path: Option<&Path>) -> Result<ServerConfig, ConfigError> {
    infra_common::config::load(path, std::env::vars())
}

/// The name used for the file in errors.
pub(crate) fn name(path: Option<&Path>) -> String {
    path.map_or("(defaults)".into(), |p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented sample is valid and says what the defaults are.
    #[test]
    fn sample_config_is_the_defaults() {
        let text = include_str!("../../../docs/rvoip.sample.toml");
        let sample: ServerConfig =
            infra_common::config::parse("rvoip.sample.toml", text, Vec::new()).expect("parses");
        let defaults = ServerConfig::default();
        assert_eq!(format!("{sample:?}"), format!("{defaults:?}"));
        assert!(sample.auth.algorithms("sample").is_ok());
        for entry in &sample.sip.listen {
            assert!(listen("sample", entry).is_ok(), "{entry}");
        }
    }
}
