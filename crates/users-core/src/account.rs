//! Accounts: who a user is, apart from how they prove it.

use std::fmt;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::UserError;

/// What an account may do.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Role {
    /// Manages the system.
    Admin,
    /// Registers phones and places calls.
    User,
    /// A call-center agent.
    Agent,
}

impl Role {
    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
            Role::Agent => "agent",
        }
    }

    /// The role named `name`.
    pub fn from_name(name: &str) -> Option<Role> {
        [Role::Admin, Role::User, Role::Agent]
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name.trim()))
    }

    pub(crate) fn join(roles: &[Role]) -> String {
        roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(",")
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stored account.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Account {
    /// The user part (also the digest user name).
    pub username: String,
    /// The domain.
    pub domain: String,
    /// The name shown to others.
    pub display_name: Option<String>,
    /// False when the account may not authenticate.
    pub enabled: bool,
    /// What the account may do.
    pub roles: Vec<Role>,
    /// When it was created (Unix seconds).
    pub created: i64,
}

impl Account {
    /// `user@domain`.
    pub fn aor(&self) -> String {
        format!("{}@{}", self.username, self.domain)
    }

    pub(crate) fn from_row(r: &AnyRow) -> Result<Account, UserError> {
        let get =
            |e: sqlx::Error| UserError::Db(infra_common::db::DbError::new("reading a user", e));
        let roles: String = r.try_get("roles").map_err(get)?;
        Ok(Account {
            username: r.try_get("username").map_err(get)?,
            domain: r.try_get("domain").map_err(get)?,
            display_name: r.try_get("display_name").map_err(get)?,
            enabled: r.try_get::<i64, _>("enabled").map_err(get)? != 0,
            roles: roles.split(',').filter_map(Role::from_name).collect(),
            created: r.try_get("created").map_err(get)?,
        })
    }
}

/// An account to create.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The user part.
    pub username: String,
    /// The domain (and the default digest realm).
    pub domain: String,
    /// The name shown to others.
    pub display_name: Option<String>,
    /// Roles; `[User]` by default.
    pub roles: Vec<Role>,
    /// The password (hashed before it is stored).
    pub password: String,
    /// Digest realms other than the domain to keep HA1 values for.
    pub extra_realms: Vec<String>,
    /// Keep an argon2id hash for password logins (the REST APIs); false
    /// for phone-only accounts, which then have only digest HA1 values.
    pub login: bool,
}

impl NewAccount {
    /// `username@domain` with `password`, role `user`.
    pub fn new(username: &str, domain: &str, password: &str) -> NewAccount {
        NewAccount {
            username: username.to_string(),
            domain: domain.to_ascii_lowercase(),
            display_name: None,
            roles: vec![Role::User],
            password: password.to_string(),
            extra_realms: Vec::new(),
            login: true,
        }
    }

    /// `user@domain`.
    pub fn aor(&self) -> String {
        format!("{}@{}", self.username, self.domain)
    }

    /// Checks the user name and domain (the password is checked by
    /// [`check_strength`](crate::check_strength)).
    pub fn validate(&self) -> Result<(), UserError> {
        // RFC 3261 `user`: unreserved, escaped and user-unreserved marks;
        // escapes and a few odd marks are refused to keep names simple.
        let user_ok = !self.username.is_empty()
            && self.username.len() <= 64
            && self
                .username
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'&=+$,;?/".contains(&b));
        if !user_ok {
            return Err(UserError::Invalid(format!(
                "invalid user name {:?}: use letters, digits and - _ . ! ~ * ' & = + $ , ; ? /",
                self.username
            )));
        }
        let host_ok = |h: &str| {
            !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
        };
        if !host_ok(&self.domain) {
            return Err(UserError::Invalid(format!(
                "invalid domain {:?}",
                self.domain
            )));
        }
        for realm in &self.extra_realms {
            if realm.is_empty() || realm.contains(['"', '\\']) {
                return Err(UserError::Invalid(format!("invalid realm {realm:?}")));
            }
        }
        if self.roles.is_empty() {
            return Err(UserError::Invalid(
                "an account needs at least one role".into(),
            ));
        }
        Ok(())
    }
}
