//! What a server process sets up at start and waits for at the end:
//! logging ([`LogSection`], `[log]`: human-readable lines or one JSON
//! object per event, on stderr), Prometheus metrics served over HTTP
//! ([`MetricsSection`], `[metrics]`), and [`shutdown_signal`] (SIGINT or
//! SIGTERM) after which a server stops taking work and writes what it holds.
//!
//! Components record with the `metrics` macros (`counter!`, `gauge!`);
//! whichever process installed [`Metrics`] exports them.

use std::net::SocketAddr;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Deserialize;
use tracing_subscriber::EnvFilter;

use crate::config::ConfigError;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `2026-11-22T10:00:00.000Z  WARN rvoip::registrar: message`.
    #[default]
    Human,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`).
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A level (`error`, `warn`, `info`, `debug`, `trace`) or per-target
    /// directives such as `info,sip_transport=debug`.
    pub level: String,
}

impl Default for LogSection {
    fn default() -> LogSection {
        LogSection {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

impl LogSection {
    /// Installs the process-wide logger (stderr). `file` names the
    /// configuration in errors. A second call leaves the first logger.
    pub fn init(&self, file: &str) -> Result<(), ConfigError> {
        let filter = EnvFilter::try_new(&self.level).map_err(|e| ConfigError {
            source: file.to_string(),
            line: None,
            key: Some("log.level".into()),
            message: format!(
                "{:?}: {e}; expected a level (error, warn, info, debug, trace) or directives such as \"info,sip_transport=debug\"",
                self.level
            ),
        })?;
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false);
        // Err only when a logger is already installed (tests).
        let _ = match self.format {
            LogFormat::Human => builder.try_init(),
            LogFormat::Json => builder.json().flatten_event(false).try_init(),
        };
        Ok(())
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    /// `address:port` serving the metrics in Prometheus text format over
    /// HTTP (`GET /metrics`); empty (the default) serves none.
    pub listen: String,
}

impl MetricsSection {
    /// The address to serve on, if any.
    pub fn address(&self, file: &str) -> Result<Option<SocketAddr>, ConfigError> {
        if self.listen.is_empty() {
            return Ok(None);
        }
        self.listen.parse().map(Some).map_err(|_| ConfigError {
            source: file.to_string(),
            line: None,
            key: Some("metrics.listen".into()),
            message: format!(
                "{:?}: expected an address and port such as 127.0.0.1:9090, or \"\" for none",
                self.listen
            ),
        })
    }
}

/// The process's metrics recorder; [`Metrics::start`] installs it.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the process-wide recorder and, when `[metrics] listen` is
    /// set, serves it over HTTP (spawned on the current tokio runtime).
    /// Without an address metrics are still counted (see
    /// [`Metrics::summary`]).
    pub fn start(section: &MetricsSection, file: &str) -> Result<Metrics, String> {
        let address = section.address(file).map_err(|e| e.to_string())?;
        let builder = PrometheusBuilder::new();
        let recorder = match address {
            Some(addr) => {
                let (recorder, exporter) = builder
                    .with_http_listener(addr)
                    .build()
                    .map_err(|e| format!("metrics.listen {addr}: {e}"))?;
                tokio::spawn(exporter);
                recorder
            }
            None => builder.build_recorder(),
        };
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder)
            .map_err(|_| "a metrics recorder is already installed".to_string())?;
        Ok(Metrics { handle })
    }

    /// Every metric in Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// The metrics named `prefix…` as `name value` pairs separated by
    /// spaces, with the prefix and any `_total` suffix left off
    /// (`registers 10 auth_failures 2`): a line for the log at exit.
    pub fn summary(&self, prefix: &str) -> String {
        let text = self.render();
        let pairs = text.lines().filter_map(|line| {
            let rest = line.strip_prefix(prefix)?;
            let (name, value) = rest.split_once(' ')?;
            Some(format!(
                "{} {value}",
                name.strip_suffix("_total").unwrap_or(name)
            ))
        });
        pairs.collect::<Vec<_>>().join(" ")
    }
}

/// Resolves on SIGINT or SIGTERM (SIGINT only where there are no Unix
/// signals): the moment a server stops taking work.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_name_the_key() {
        let bad = LogSection {
            format: LogFormat::Json,
            level: "info,=[".into(),
        };
        let e = bad.init("rvoip.toml").expect_err("invalid filter");
        assert_eq!(e.key.as_deref(), Some("log.level"));
        let e = MetricsSection {
            listen: "localhost".into(),
        }
        .address("rvoip.toml")
        .expect_err("no port");
        assert_eq!(e.key.as_deref(), Some("metrics.listen"));
        assert!(e.to_string().contains("127.0.0.1:9090"), "{e}");
        let e = crate::config::parse::<Wrapper>("t.toml", "[log]\nformat = \"xml\"\n", Vec::new())
            .expect_err("unknown format");
        assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("log.format")));
        assert!(e.message.contains("human"), "{e}");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrapper {
        log: LogSection,
    }

    #[test]
    fn summary_names_the_counters() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let m = Metrics {
            handle: recorder.handle(),
        };
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("rvoip_test_registers_total").increment(3);
            metrics::gauge!("rvoip_test_bindings").set(2.0);
            metrics::counter!("other_total").increment(1);
        });
        let s = m.summary("rvoip_test_");
        assert!(s.contains("registers 3"), "{s}");
        assert!(s.contains("bindings 2"), "{s}");
        assert!(!s.contains("other"), "{s}");
    }
}
