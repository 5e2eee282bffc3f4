//! # infra-common
//!
//! What every rvoip server shares: the database URL handling and
//! migrations ([`db`]).

pub mod db;
