//! Limits on failed authentication attempts: a source address or a user
//! name with too many failures in a window is banned for a while. Sans-IO:
//! time is passed in, and expired records are dropped by
//! [`FailureLimiter::handle_timeout`], which the shell calls every few
//! seconds.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// One limit: `failures` within `window` start a ban of `ban`.
/// `failures == 0` switches the limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Failed attempts allowed within the window; one more starts a ban.
    pub failures: u32,
    /// The window over which failures are counted.
    pub window: Duration,
    /// How long a ban lasts.
    pub ban: Duration,
}

/// Settings of a [`FailureLimiter`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Per source address (password guessing from one host).
    pub per_source: Limit,
    /// Per user name (guessing one account from many hosts). Set higher
    /// than the source limit, so that one guessing host is banned before
    /// the account it targets.
    pub per_user: Limit,
    /// Most addresses or users tracked at once; past it new ones are not
    /// tracked until old records expire.
    pub max_tracked: usize,
}

impl Default for LimiterConfig {
    fn default() -> LimiterConfig {
        LimiterConfig {
            per_source: Limit {
                failures: 10,
                window: Duration::from_secs(60),
                ban: Duration::from_secs(300),
            },
            per_user: Limit {
                failures: 50,
                window: Duration::from_secs(60),
                ban: Duration::from_secs(60),
            },
            max_tracked: 100_000,
        }
    }
}

/// A ban just started (for a log line and a metric).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Ban {
    /// Requests from this address are refused.
    Source(IpAddr),
    /// Requests for this user are refused.
    User(String),
}

#[derive(Clone, Copy)]
struct Record {
    window_start: Instant,
    failures: u32,
    banned_until: Option<Instant>,
}

impl Record {
    fn expired(&self, now: Instant, limit: &Limit) -> bool {
        self.banned_until.is_none_or(|t| t <= now) && self.window_start + limit.window <= now
    }
}

struct Table<K> {
    limit: Limit,
    records: HashMap<K, Record>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn banned<Q: Hash + Eq + ?Sized>(&self, now: Instant, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.records
            .get(key)
            .and_then(|r| r.banned_until)
            .is_some_and(|t| now < t)
    }

    /// Counts a failure; true when it starts a ban.
    fn fail(&mut self, now: Instant, key: &K, max: usize) -> bool {
        if self.limit.failures == 0 {
            return false;
        }
        if !self.records.contains_key(key) {
            if self.records.len() >= max {
                self.expire(now);
            }
            if self.records.len() >= max {
                return false;
            }
        }
        let limit = self.limit;
        let r = self.records.entry(key.clone()).or_insert(Record {
            window_start: now,
            failures: 0,
            banned_until: None,
        });
        if r.banned_until.is_some_and(|t| now < t) {
            return false;
        }
        if r.window_start + limit.window <= now {
            r.window_start = now;
            r.failures = 0;
        }
        r.failures += 1;
        if r.failures > limit.failures {
            r.banned_until = Some(now + limit.ban);
            r.failures = 0;
            r.window_start = now;
            return true;
        }
        false
    }

    fn expire(&mut self, now: Instant) {
        let limit = self.limit;
        self.records.retain(|_, r| !r.expired(now, &limit));
    }
}

/// Counts failed attempts per source address and per user name, and bans
/// either when it passes its limit.
pub struct FailureLimiter {
    max: usize,
    sources: Table<IpAddr>,
    users: Table<String>,
}

impl FailureLimiter {
    /// A limiter with `config`.
    pub fn new(config: LimiterConfig) -> FailureLimiter {
        FailureLimiter {
            max: config.max_tracked,
            sources: Table {
                limit: config.per_source,
                records: HashMap::new(),
            },
            users: Table {
                limit: config.per_user,
                records: HashMap::new(),
            },
        }
    }

    /// True when requests from `source` are refused now.
    pub fn source_banned(&self, now: Instant, source: IpAddr) -> bool {
        self.sources.banned(now, &source)
    }

    /// True when requests for `user` are refused now.
    pub fn user_banned(&self, now: Instant, user: &str) -> bool {
        self.users.banned(now, user)
    }

    /// Records a failed attempt from `source` for `user`; returns the bans
    /// it starts.
    pub fn record_failure(&mut self, now: Instant, source: IpAddr, user: &str) -> Vec<Ban> {
        let mut bans = Vec::new();
        if self.sources.fail(now, &source, self.max) {
            bans.push(Ban::Source(source));
        }
        let user = user.to_string();
        if self.users.fail(now, &user, self.max) {
            bans.push(Ban::User(user));
        }
        bans
    }

    /// Drops records whose window and ban are over (call every few seconds).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.sources.expire(now);
        self.users.expire(now);
    }

    /// Addresses and users tracked.
    pub fn tracked(&self) -> usize {
        self.sources.records.len() + self.users.records.len()
    }
}
