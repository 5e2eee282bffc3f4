//! One TOML configuration for every rvoip server: a section per component
//! (`[sip]`, `[database]`, `[registrar]`, `[auth]`, `[log]`, `[metrics]`
//! …), defaults that run on loopback, and environment overrides:
//! `RVOIP_SIP__LISTEN=…` sets `listen` in `[sip]` (`__` separates
//! levels; the value is read as TOML when it parses as TOML, else as a
//! string). Errors name the key, the line and what was expected.
//!
//! Each component owns its section's type (serde `Deserialize`, with
//! defaults); the binary puts them together and calls [`load`].

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

/// Environment variables that override configuration start with this.
pub const ENV_PREFIX: &str = "RVOIP_";

/// A configuration that could not be read or is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (or environment variable) at fault.
    pub source: String,
    /// The line, for errors in a file.
    pub line: Option<usize>,
    /// The key at fault (`section.key`), when known.
    pub key: Option<String>,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Reads the configuration: the file at `path` if given (else every
/// default), then the overrides among `env` (pass `std::env::vars()`).
pub fn load<T: DeserializeOwned>(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let (name, text) = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| ConfigError {
                source: p.display().to_string(),
                line: None,
                key: None,
                message: format!("cannot read: {e}"),
            })?;
            (p.display().to_string(), text)
        }
        None => ("(defaults)".to_string(), String::new()),
    };
    parse(&name, &text, env)
}

/// [`load`] on text already read; `name` is used in errors.
pub fn parse<T: DeserializeOwned>(
    name: &str,
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, ConfigError> {
    let parsed: T = toml::from_str(text).map_err(|e| file_error(name, text, &e))?;
    let overrides: Vec<(String, Vec<String>, toml::Value)> = env
        .into_iter()
        .filter_map(|(var, value)| {
            let path = var.strip_prefix(ENV_PREFIX)?;
            let path: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            if path.len() < 2 || path.iter().any(String::is_empty) {
                return None;
            }
            Some((var, path, env_value(&value)))
        })
        .collect();
    if overrides.is_empty() {
        return Ok(parsed);
    }
    let mut table: toml::Table = toml::from_str(text).map_err(|e| file_error(name, text, &e))?;
    let mut result = None;
    for (var, path, value) in overrides {
        set(&mut table, &path, value);
        let t: T = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError {
                source: format!("environment variable {var}"),
                line: None,
                key: Some(path.join(".")),
                message: e.message().trim().to_string(),
            })?;
        result = Some(t);
    }
    Ok(result.unwrap_or(parsed))
}

/// An environment value as TOML (`5060`, `true`, `["a", "b"]`) or, when
/// it is not valid TOML, as a string.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    t.insert(last.clone(), value);
}

fn file_error(name: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, key) = match e.span() {
        Some(span) => {
            let at = span.start.min(text.len());
            let line = text[..at].matches('\n').count() + 1;
            (Some(line), key_at(text, at))
        }
        None => (None, None),
    };
    ConfigError {
        source: name.to_string(),
        line,
        key,
        message: e.message().trim().to_string(),
    }
}

/// The dotted key whose line holds byte `at`: the `[table]` above it and
/// the key before `=` on its line (or the table itself, for a header).
fn key_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[line_start..line_end].trim();
    let header = |l: &str| {
        let l = l.trim();
        (l.starts_with('[') && l.contains(']')).then(|| {
            l.trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
    };
    if let Some(h) = header(line) {
        return Some(h);
    }
    let table = text[..line_start].lines().rev().find_map(header);
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .filter(|k| !k.is_empty());
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k),
        (t, None) => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Sip {
        listen: Vec<String>,
        port: u16,
    }

    impl Default for Sip {
        fn default() -> Sip {
            Sip {
                listen: vec!["udp:127.0.0.1:5060".into()],
                port: 5060,
            }
        }
    }

    #[derive(serde::Deserialize, Debug, PartialEq, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Config {
        sip: Sip,
        name: String,
    }

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    #[test]
    fn defaults_file_and_environment() {
        let c: Config = parse("x.toml", "", no_env()).expect("defaults");
        assert_eq!(c, Config::default());
        let c: Config =
            parse("x.toml", "name = \"a\"\n[sip]\nport = 5070\n", no_env()).expect("file");
        assert_eq!(c.sip.port, 5070);
        assert_eq!(c.sip.listen, ["udp:127.0.0.1:5060"]);
        let env = [
            ("RVOIP_SIP__PORT".to_string(), "5080".to_string()),
            (
                "RVOIP_SIP__LISTEN".to_string(),
                "[\"tcp:[::1]:5060\"]".to_string(),
            ),
            (
                "RVOIP_NAME".to_string(),
                "ignored: one level only".to_string(),
            ),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let c: Config = parse("x.toml", "[sip]\nport = 5070\n", env).expect("env");
        assert_eq!(c.sip.port, 5080);
        assert_eq!(c.sip.listen, ["tcp:[::1]:5060"]);
    }

    #[test]
    fn errors_name_the_key_and_the_line() {
        let e = parse::<Config>("x.toml", "name = \"a\"\n[sip]\nport = 70000\n", no_env())
            .expect_err("out of range");
        assert_eq!((e.line, e.key.as_deref()), (Some(3), Some("sip.port")));
        assert!(e.message.contains("expected u16"), "{e}");
        assert!(
            e.to_string().starts_with("x.toml line 3: sip.port: "),
            "{e}"
        );
        let e = parse::<Config>("x.toml", "[sip]\nlisen = 2\n", no_env()).expect_err("unknown");
        assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("sip.lisen")));
        assert!(e.message.contains("unknown field `lisen`"), "{e}");
        let e = parse::<Config>("x.toml", "[sip\n", no_env()).expect_err("syntax");
        assert_eq!(e.line, Some(1));
        let env = [("RVOIP_SIP__PORT".to_string(), "\"five\"".to_string())];
        let e = parse::<Config>("x.toml", "", env).expect_err("bad env");
        assert_eq!(e.source, "environment variable RVOIP_SIP__PORT");
        assert_eq!(e.key.as_deref(), Some("sip.port"));
        let e = load::<Config>(Some(Path::new("/nonexistent/rvoip.toml")), no_env())
            .expect_err("missing");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
