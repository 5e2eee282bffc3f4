//! Digest authentication end to end: our client against our server, with
//! time passed in.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use auth_core::{
    Algorithm, Ban, DigestClient, DigestConfig, DigestServer, FailureLimiter, Limit, LimiterConfig,
    Reject,
};
use sip_core::header::{Authorization, Credentials, Header, WwwAuthenticate};

const URI: &str = "sip:example.com";
const REALM: &str = "example.com";
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn server(config: impl FnOnce(&mut DigestConfig)) -> DigestServer {
    let mut c = DigestConfig {
        algorithms: Algorithm::ALL.to_vec(),
        ..DigestConfig::default()
    };
    config(&mut c);
    DigestServer::new(c, SECRET, 99)
}

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn ha1(alg: Algorithm, user: &str) -> Option<String> {
    (user == "alice").then(|| alg.ha1("alice", "example.com", "secret-pass"))
}

/// Runs the server's two steps on an Authorization value.
fn check(server: &mut DigestServer, now: SystemTime, auth: &str) -> Result<(), Reject> {
    let auth = Authorization::parse(auth).expect("our client's credentials parse");
    let attempt = server.inspect(&auth, REALM, URI)?;
    let stored = ha1(attempt.algorithm, &attempt.username);
    server.verify(now, "REGISTER", &attempt, stored.as_deref())
}

/// A challenge value restricted to one algorithm, as a client sees it.
fn challenge_for(server: &mut DigestServer, now: SystemTime, alg: Algorithm) -> String {
    server
        .challenges(now, REALM, false)
        .into_iter()
        .find(|c| c.contains(&format!("algorithm={alg},")))
        .expect("offered")
}

fn answer(client: &mut DigestClient, challenge: &str) -> String {
    let c = WwwAuthenticate::parse(challenge).expect("our challenge parses");
    client.answer(&c, "REGISTER", URI).expect("answerable")
}

#[test]
fn every_algorithm_authenticates_and_counts_up() {
    for alg in Algorithm::ALL {
        let mut s = server(|_| {});
        let ch = challenge_for(&mut s, t(0), alg);
        let mut alice = DigestClient::new("alice", "secret-pass", 5);
        let first = answer(&mut alice, &ch);
        assert!(first.contains(&format!("algorithm={alg}")), "{first}");
        assert!(first.contains("nc=00000001"), "{first}");
        assert_eq!(check(&mut s, t(1), &first), Ok(()), "{alg}");
        // The same nonce again, counted up: accepted. The first again: replay.
        let second = answer(&mut alice, &ch);
        assert!(second.contains("nc=00000002"), "{second}");
        assert_eq!(check(&mut s, t(2), &second), Ok(()));
        assert_eq!(check(&mut s, t(3), &first), Err(Reject::Replay));
        assert_eq!(check(&mut s, t(3), &second), Err(Reject::Replay));
    }
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let mut s = server(|_| {});
    let ch = challenge_for(&mut s, t(0), Algorithm::Sha256);
    let wrong = answer(&mut DigestClient::new("alice", "guess", 1), &ch);
    let unknown = answer(&mut DigestClient::new("mallory", "secret-pass", 1), &ch);
    assert_eq!(check(&mut s, t(1), &wrong), Err(Reject::BadCredentials));
    assert_eq!(check(&mut s, t(1), &unknown), Err(Reject::BadCredentials));
    assert!(Reject::BadCredentials.is_failure());
    // A failure does not use up the nonce: the right password still works.
    let right = answer(&mut DigestClient::new("alice", "secret-pass", 1), &ch);
    assert_eq!(check(&mut s, t(2), &right), Ok(()));
}

#[test]
fn expired_nonce_is_stale_only_with_the_right_password() {
    let mut s = server(|c| c.nonce_ttl = Duration::from_secs(30));
    let ch = challenge_for(&mut s, t(0), Algorithm::Md5);
    let right = answer(&mut DigestClient::new("alice", "secret-pass", 1), &ch);
    let wrong = answer(&mut DigestClient::new("alice", "nope", 1), &ch);
    assert_eq!(check(&mut s, t(31), &right), Err(Reject::Stale));
    assert_eq!(check(&mut s, t(31), &wrong), Err(Reject::BadCredentials));
    let stale = s.challenges(t(31), REALM, true);
    assert!(
        stale.iter().all(|c| c.ends_with(", stale=true")),
        "{stale:?}"
    );
    // The client answers the fresh nonce and gets in.
    let fresh = stale
        .iter()
        .find(|c| c.contains("algorithm=MD5"))
        .expect("MD5 offered");
    let again = answer(&mut DigestClient::new("alice", "secret-pass", 1), fresh);
    assert_eq!(check(&mut s, t(32), &again), Ok(()));
}

#[test]
fn forged_foreign_and_odd_credentials_are_refused() {
    let mut s = server(|c| c.algorithms = vec![Algorithm::Sha256]);
    let ch = s.challenges(t(0), REALM, false).remove(0);
    let good = answer(&mut DigestClient::new("alice", "secret-pass", 1), &ch);
    // A nonce signed with another secret.
    let mut other = DigestServer::new(DigestConfig::default(), b"another secret", 1);
    let foreign = answer(
        &mut DigestClient::new("alice", "secret-pass", 1),
        &other.challenges(t(0), REALM, false)[0],
    );
    assert_eq!(check(&mut s, t(1), &foreign), Err(Reject::UnknownNonce));
    // An algorithm not offered.
    let md5 = good.replace("algorithm=SHA-256", "algorithm=MD5");
    assert_eq!(check(&mut s, t(1), &md5), Err(Reject::Algorithm));
    // Another realm, another URI, another opaque, qop=auth-int, no nc.
    let realm = good.replace("realm=\"example.com\"", "realm=\"example.org\"");
    assert_eq!(check(&mut s, t(1), &realm), Err(Reject::NoCredentials));
    let uri = good.replace("uri=\"sip:example.com\"", "uri=\"sip:example.org\"");
    assert_eq!(check(&mut s, t(1), &uri), Err(Reject::Uri));
    let opaque = format!(
        "{}, opaque=\"x\"",
        good.split(", opaque=").next().expect("opaque")
    );
    assert_eq!(check(&mut s, t(1), &opaque), Err(Reject::Opaque));
    let int = good.replace("qop=auth,", "qop=auth-int,");
    assert_eq!(check(&mut s, t(1), &int), Err(Reject::Qop));
    let no_nc = good.replace("nc=00000001, ", "");
    assert_eq!(check(&mut s, t(1), &no_nc), Err(Reject::Malformed));
    let bearer = Authorization::parse("Bearer abc.def.ghi").expect("bearer");
    assert_eq!(
        s.inspect(&bearer, REALM, URI).err(),
        Some(Reject::NoCredentials)
    );
    // The URI compared per RFC 3261 §19.1.4, and the original still works.
    let upper = good.replace("uri=\"sip:example.com\"", "uri=\"sip:EXAMPLE.com\"");
    let auth = Authorization::parse(&upper).expect("parses");
    assert!(s.inspect(&auth, REALM, URI).is_ok());
    assert_eq!(check(&mut s, t(1), &good), Ok(()));
}

#[test]
fn answers_without_qop_are_good_once_per_nonce() {
    let mut s = server(|_| {});
    let ch = challenge_for(&mut s, t(0), Algorithm::Md5).replace(", qop=\"auth\"", "");
    let mut old_phone = DigestClient::new("alice", "secret-pass", 1);
    let a = answer(&mut old_phone, &ch);
    assert!(!a.contains("qop"), "{a}");
    assert_eq!(check(&mut s, t(1), &a), Ok(()));
    assert_eq!(check(&mut s, t(2), &a), Err(Reject::Stale));
    let mut strict = server(|c| c.allow_no_qop = false);
    let ch = challenge_for(&mut strict, t(0), Algorithm::Md5).replace(", qop=\"auth\"", "");
    let a = answer(&mut DigestClient::new("alice", "secret-pass", 1), &ch);
    assert_eq!(check(&mut strict, t(1), &a), Err(Reject::Qop));
}

#[test]
fn nonce_records_are_bounded_and_a_forgotten_nonce_is_stale() {
    let mut s = server(|c| c.max_tracked = 2);
    let mut alice = DigestClient::new("alice", "secret-pass", 1);
    let first_ch = challenge_for(&mut s, t(0), Algorithm::Md5);
    assert_eq!(check(&mut s, t(0), &answer(&mut alice, &first_ch)), Ok(()));
    for i in 1..=2 {
        let ch = challenge_for(&mut s, t(i), Algorithm::Md5);
        let mut c = DigestClient::new("alice", "secret-pass", 1);
        assert_eq!(check(&mut s, t(i), &answer(&mut c, &ch)), Ok(()));
    }
    assert_eq!(s.tracked(), 2);
    // The first nonce's record made room; its next count is not trusted.
    let next = answer(&mut alice, &first_ch);
    assert!(next.contains("nc=00000002"));
    assert_eq!(check(&mut s, t(3), &next), Err(Reject::Stale));
    // Expired nonces leave the table.
    let late = challenge_for(&mut s, t(1000), Algorithm::Md5);
    let mut c = DigestClient::new("alice", "secret-pass", 1);
    assert_eq!(check(&mut s, t(1000), &answer(&mut c, &late)), Ok(()));
    assert_eq!(s.tracked(), 1);
}

#[test]
fn client_picks_the_strongest_usable_challenge() {
    let values = [
        "Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, qop=\"auth\"",
        "Digest realm=\"r\", nonce=\"n2\", algorithm=SHA-256, qop=\"auth,auth-int\"",
        "Digest realm=\"r\", nonce=\"n3\", algorithm=SHA-512-256, qop=\"auth-int\"",
        "Digest realm=\"r\", nonce=\"n4\", algorithm=AKAv1-MD5",
        "Basic realm=\"r\"",
    ];
    let parsed: Vec<Credentials<'_>> = values
        .iter()
        .map(|v| WwwAuthenticate::parse(v).expect("parses").0)
        .collect();
    let (alg, c) = DigestClient::choose(parsed.iter().copied()).expect("one usable");
    assert_eq!(alg, Algorithm::Sha256);
    assert_eq!(c.param("nonce").as_deref(), Some("n2"));
    assert!(DigestClient::choose(parsed[2..].iter().copied()).is_none());
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

#[test]
fn guessing_from_one_address_bans_it_and_not_the_others() {
    let limit = |failures| Limit {
        failures,
        window: Duration::from_secs(60),
        ban: Duration::from_secs(300),
    };
    let mut l = FailureLimiter::new(LimiterConfig {
        per_source: limit(3),
        per_user: limit(5),
        max_tracked: 100,
    });
    let t0 = Instant::now();
    let attacker = ip("192.0.2.66");
    for i in 0..3 {
        assert!(
            l.record_failure(t0 + Duration::from_secs(i), attacker, "alice")
                .is_empty()
        );
    }
    let bans = l.record_failure(t0 + Duration::from_secs(3), attacker, "alice");
    assert_eq!(bans, vec![Ban::Source(attacker)]);
    assert!(l.source_banned(t0 + Duration::from_secs(4), attacker));
    assert!(!l.source_banned(t0 + Duration::from_secs(4), ip("192.0.2.7")));
    assert!(!l.user_banned(t0 + Duration::from_secs(4), "alice"));
    // The per-user limit catches guessing spread over many addresses.
    let bans: Vec<Ban> = (0..2)
        .flat_map(|i| {
            l.record_failure(
                t0 + Duration::from_secs(5),
                ip(&format!("198.51.100.{i}")),
                "alice",
            )
        })
        .collect();
    assert_eq!(bans, vec![Ban::User("alice".into())]);
    assert!(l.user_banned(t0 + Duration::from_secs(6), "alice"));
    // Failures spread wider than the window never ban.
    let slow = ip("203.0.113.9");
    for i in 0..10 {
        assert!(
            l.record_failure(t0 + Duration::from_secs(61 * i), slow, "bob")
                .is_empty()
        );
    }
    // Bans end, and their records go.
    let later = t0 + Duration::from_secs(3 + 300);
    assert!(!l.source_banned(later, attacker));
    l.handle_timeout(t0 + Duration::from_secs(2000));
    assert_eq!(l.tracked(), 0);
}
