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
            new.extra_realms = extra;
            if let Some(realm) = realm.filter(|r| *r != new.domain) {
                new.extra_realms.push(realm);
            }
            let a = users.add(&new).await?;
            println!("added {}", a.aor());
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
