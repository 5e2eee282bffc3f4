//! `rvoip user`: accounts in the configured database.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use users_core::{NewAccount, Role, UserError, Users};

use crate::config;

/// Arguments of `rvoip user`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server configuration whose `[database]` (and `[auth] realm`)
    /// to use; default: `rvoip.db` in the current directory.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// A database to use instead of the configuration's (SQLite file path
    /// or postgres:// URL).
    #[arg(long, global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Adds user@domain. The password comes from --password, else
    /// RVOIP_PASSWORD, else the first line of standard input.
    Add {
        aor: String,
        #[arg(long)]
        password: Option<String>,
        /// The name shown to others.
        #[arg(long)]
        display: Option<String>,
        /// Roles, comma-separated: admin, user, agent.
        #[arg(long, default_value = "user")]
        roles: String,
        /// Digest realms besides the domain (and the configured one).
        #[arg(long)]
        realm: Vec<String>,
    },
    /// Adds many accounts at once, all or none: one `user@domain;password`
    /// per line (optionally `;display name`), `#` comments and blank lines
    /// skipped; `-` reads standard input.
    Import {
        file: PathBuf,
        /// Phone-only accounts: digest HA1 values but no argon2id hash, so
        /// no password login (and a much faster import).
        #[arg(long)]
        sip_only: bool,
        /// Digest realms besides the domain (and the configured one).
        #[arg(long)]
        realm: Vec<String>,
    },
    /// Lists every account.
    List,
    /// Shows one account and its API keys.
    Show { aor: String },
    /// Sets a new password (same sources as add).
    Passwd {
        aor: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Disables an account (--enable turns it back on).
    Disable {
        aor: String,
        #[arg(long)]
        enable: bool,
    },
    /// Deletes an account with its credentials and API keys.
    Delete { aor: String },
    /// Creates an API key and prints it (it cannot be shown again).
    Apikey {
        aor: String,
        #[arg(long, default_value = "")]
        label: String,
    },
}

fn split(aor: &str) -> Result<(&str, &str), UserError> {
    let aor = aor.strip_prefix("sip:").unwrap_or(aor);
    aor.split_once('@')
        .filter(|(u, d)| !u.is_empty() && !d.is_empty())
        .ok_or_else(|| UserError::Invalid(format!("expected user@domain, got {aor:?}")))
}

fn password(given: Option<String>) -> Result<String, UserError> {
    if let Some(p) = given.or_else(|| std::env::var("RVOIP_PASSWORD").ok()) {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| UserError::Invalid(format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The realms an account keeps HA1 values for besides its domain: `extra`
/// and the configured realm.
fn add_realms(new: &mut NewAccount, extra: Vec<String>, configured: Option<&str>) {
    new.extra_realms = extra;
    if let Some(realm) = configured.filter(|r| *r != new.domain) {
        new.extra_realms.push(realm.to_string());
    }
}

/// One `user@domain;password[;display name]` line of an import, checked
/// as `add` would check it.
fn import_line(line: &str) -> Result<NewAccount, UserError> {
    let mut parts = line.splitn(3, ';');
    let aor = parts.next().unwrap_or_default();
    let password = parts
        .next()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| UserError::Invalid("expected user@domain;password".into()))?;
    let (user, domain) = split(aor)?;
    let mut new = NewAccount::new(user, domain, password);
    new.display_name = parts.next().map(str::to_string);
    new.validate()?;
    users_core::check_strength(user, password)?;
    Ok(new)
}

fn roles(list: &str) -> Result<Vec<Role>, UserError> {
    list.split(',')
        .map(|r| {
            Role::from_name(r).ok_or_else(|| {
                UserError::Invalid(format!("unknown role {r:?}: admin, user or agent"))
            })
        })
        .collect()
}

async fn execute(args: Args, realm: Option<String>, users: Users) -> Result<(), UserError> {
    match args.command {
        Command::Add {
            aor,
            password: p,
            display,
            roles: r,
            realm: extra,
        } => {
            let (user, domain) = split(&aor)?;
            let mut new = NewAccount::new(user, domain, &password(p)?);
            new.display_name = display;
            new.roles = roles(&r)?;
            add_realms(&mut new, extra, realm.as_deref());
            let a = users.add(&new).await?;
            println!("added {}", a.aor());
        }
        Command::Import {
            file,
            sip_only,
            realm: extra,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| UserError::Invalid(format!("{}: {e}", file.display())))?;
            let mut accounts = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut new = import_line(line).map_err(|e| {
                    UserError::Invalid(format!("{} line {}: {e}", file.display(), n + 1))
                })?;
                new.login = !sip_only;
                add_realms(&mut new, extra.clone(), realm.as_deref());
                accounts.push(new);
            }
            users.add_many(&accounts).await?;
            println!("imported {} users", accounts.len());
        }
        Command::List => {
            for a in users.list().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    a.aor(),
                    if a.enabled { "enabled" } else { "disabled" },
                    a.roles
                        .iter()
                        .map(|r| r.name())
                        .collect::<Vec<_>>()
                        .join(","),
                    a.display_name.unwrap_or_default()
                );
            }
        }
        Command::Show { aor } => {
            let (user, domain) = split(&aor)?;
            let a = users
                .get(user, domain)
                .await?
                .ok_or_else(|| UserError::Unknown(format!("{user}@{domain}")))?;
            println!("user: {}", a.aor());
            println!("display name: {}", a.display_name.unwrap_or_default());
            println!("enabled: {}", a.enabled);
            println!(
                "roles: {}",
                a.roles
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            println!("created: {}", a.created);
            for k in users.api_keys(user, domain).await? {
                println!(
                    "api key: rvk_{}_… {} (created {})",
                    k.id, k.label, k.created
                );
            }
        }
        Command::Passwd { aor, password: p } => {
            let (user, domain) = split(&aor)?;
            users.set_password(user, domain, &password(p)?).await?;
            println!("password changed for {user}@{domain}");
        }
        Command::Disable { aor, enable } => {
            let (user, domain) = split(&aor)?;
            users.set_enabled(user, domain, enable).await?;
            println!(
                "{user}@{domain} {}",
                if enable { "enabled" } else { "disabled" }
            );
        }
        Command::Delete { aor } => {
            let (user, domain) = split(&aor)?;
            users.delete(user, domain).await?;
            println!("deleted {user}@{domain}");
        }
        Command::Apikey { aor, label } => {
            let (user, domain) = split(&aor)?;
            let (_, key) = users.create_api_key(user, domain, &label).await?;
            println!("{key}");
        }
    }
    Ok(())
}

/// Runs `rvoip user`: exit 0 on success, 1 on an error (printed), 2 on a
/// configuration error.
pub(crate) fn run(args: Args) -> ExitCode {
    let cfg = match config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rvoip user: {e}");
            return ExitCode::from(2);
        }
    };
    let location = args.database.clone().unwrap_or(cfg.database.url);
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("rvoip user: cannot start the runtime");
        return ExitCode::from(2);
    };
    let result = rt.block_on(async {
        let users = Users::open(&location).await?;
        execute(args, cfg.auth.realm, users).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvoip user: {e}");
            ExitCode::FAILURE
        }
    }
}
