//! # infra-common
//!
//! What every rvoip server shares:
//! - [`config`]: one TOML file with a section per component, environment
//!   overrides (`RVOIP_SIP__LISTEN`), errors naming the key and the line;
//! - [`db`]: a database URL (SQLite file or PostgreSQL) opened as a pool,
//!   with per-component embedded migrations.

pub mod config;
pub mod db;
