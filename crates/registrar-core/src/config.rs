//! The `[registrar]` section of the configuration.

use serde::Deserialize;

/// Registrar settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrarConfig {
    /// Domains served (Request-URI and To host); empty serves any.
    pub domains: Vec<String>,
    /// Lifetime when the REGISTER gives none, in seconds.
    pub default_expires: u32,
    /// Shortest lifetime accepted (shorter ones get 423 with this).
    pub min_expires: u32,
    /// Longest lifetime granted (longer ones are cut to this).
    pub max_expires: u32,
    /// Most bindings per address-of-record (more get 403).
    pub max_bindings: usize,
}

impl Default for RegistrarConfig {
    fn default() -> RegistrarConfig {
        RegistrarConfig {
            domains: Vec::new(),
            default_expires: 3600,
            min_expires: 60,
            max_expires: 7200,
            max_bindings: 10,
        }
    }
}

impl RegistrarConfig {
    /// True when `domain` is served.
    pub fn serves(&self, domain: &str) -> bool {
        self.domains.is_empty() || self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}
