//! # infra-common
//!
//! What every rvoip server shares:
//! - [`config`] (feature `config`): one TOML file with a section per
//!   component, environment overrides (`RVOIP_SIP__LISTEN`), errors naming
//!   the key and the line;
//! - [`db`] (feature `db`): a database URL (SQLite file or PostgreSQL)
//!   opened as a pool, with per-component embedded migrations;
//! - [`server`] (feature `telemetry`): logging (human or JSON), Prometheus
//!   metrics over HTTP, and shutdown on SIGINT/SIGTERM;
//! - [`StoreError`]: the error of any storage back-end (no features, so
//!   sans-IO crates can name it without pulling a database in).

#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "db")]
pub mod db;
#[cfg(feature = "telemetry")]
pub mod server;
mod store;

pub use store::StoreError;
