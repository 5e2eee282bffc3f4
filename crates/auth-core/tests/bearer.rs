//! Bearer tokens end to end: keys generated in the test, published by an
//! HTTPS identity provider on loopback (laid out like a Keycloak realm),
//! fetched and verified by `BearerVerifier`; and RFC 7662 introspection
//! against the same provider.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{BearerConfig, TokenError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sip_test::idp::{CLIENT, TestIdp};

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rvoip-bearer-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn keycloak(idp: &TestIdp) -> BearerConfig {
    BearerConfig {
        enabled: true,
        preset: "keycloak".into(),
        keycloak_url: idp.url.clone(),
        keycloak_realm: sip_test::idp::REALM.into(),
        audiences: vec!["rvoip".into()],
        ca: Some(idp.ca.clone()),
        ..BearerConfig::default()
    }
}

fn claims(idp: &TestIdp, user: &str, exp_in: i64) -> Value {
    json!({
        "iss": idp.issuer(), "aud": ["account", "rvoip"], "sub": "0b5e",
        "preferred_username": user, "iat": now(), "exp": now() + exp_in,
    })
}

#[tokio::test]
async fn jwks_keys_of_each_algorithm_verify_and_claims_are_checked() {
    let idp = TestIdp::start(&dir("jwks"));
    for (kid, alg) in [
        ("rsa", Algorithm::RS256),
        ("ec", Algorithm::ES256),
        ("ed", Algorithm::EdDSA),
    ] {
        idp.add_key(kid, alg);
    }
    let verifier = keycloak(&idp).build().expect("config");
    assert_eq!(verifier.start().await, Ok(3));
    for kid in ["rsa", "ec", "ed"] {
        let token = idp.sign(kid, &claims(&idp, "alice", 300));
        let id = verifier.verify(&token).await.expect(kid);
        assert_eq!(id.user, "alice");
        assert_eq!(id.subject.as_deref(), Some("0b5e"));
    }
    let expired = idp.sign("rsa", &claims(&idp, "alice", -120));
    assert_eq!(verifier.verify(&expired).await, Err(TokenError::Expired));
    let mut other = claims(&idp, "alice", 300);
    other["aud"] = "another-service".into();
    let token = idp.sign("ec", &other);
    assert_eq!(verifier.verify(&token).await, Err(TokenError::Audience));
    let mut forged = claims(&idp, "alice", 300);
    forged["iss"] = "https://elsewhere/realms/test".into();
    let token = idp.sign("ed", &forged);
    assert_eq!(verifier.verify(&token).await, Err(TokenError::Issuer));
    // A token signed by one key but naming another's kid.
    let token = idp.sign("rsa", &claims(&idp, "alice", 300));
    let (_, rest) = token.split_once('.').expect("jwt");
    let lying = format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"ec"}"#)
    );
    assert!(verifier.verify(&lying).await.is_err());
    assert_eq!(idp.jwks_fetches(), 1, "keys are cached");
    let challenge = verifier.challenge("example.com", Some(&TokenError::Expired));
    assert!(
        challenge.starts_with(&format!(
            "Bearer realm=\"example.com\", authz_server=\"{}\"",
            idp.issuer()
        )),
        "{challenge}"
    );
}

/// RFC 8898 on an INVITE through a proxy: 407 with a Bearer
/// Proxy-Authenticate the caller can read, then the INVITE again with
/// Proxy-Authorization: Bearer, whose token verifies.
#[tokio::test]
async fn an_invite_with_proxy_authorization_bearer() {
    use auth_core::bearer_token;
    use sip_core::Message;
    use sip_core::header::{Header, ProxyAuthenticate};
    let idp = TestIdp::start(&dir("invite"));
    idp.add_key("ec", Algorithm::ES256);
    let verifier = keycloak(&idp).build().expect("config");
    let invite = |auth: &str| {
        let text = format!(
            "INVITE sip:bob@example.com SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n\
             From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
             Call-ID: inv1@test\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:5070>\r\n\
             {auth}Content-Length: 0\r\n\r\n"
        );
        Message::parse(bytes::Bytes::from(text)).expect("parses")
    };
    let bare = invite("");
    assert_eq!(bearer_token(&bare, true), None);
    let challenge = verifier.challenge("example.com", None);
    let parsed = ProxyAuthenticate::parse(&challenge).expect("a readable challenge");
    assert_eq!(
        parsed.param("authz_server").as_deref(),
        Some(idp.issuer().as_str())
    );
    let token = idp.sign("ec", &claims(&idp, "alice", 300));
    let with = invite(&format!("Proxy-Authorization: Bearer {token}\r\n"));
    assert_eq!(bearer_token(&with, false), None, "not for a UAS");
    let found = bearer_token(&with, true).expect("the token");
    assert_eq!(
        verifier.verify(found).await.expect("verifies").user,
        "alice"
    );
}

#[tokio::test]
async fn rotated_keys_are_fetched_on_an_unknown_kid_at_a_limited_rate() {
    let idp = TestIdp::start(&dir("rotate"));
    idp.add_key("old", Algorithm::RS256);
    let mut config = keycloak(&idp);
    config.refetch_interval = 2;
    let verifier = config.build().expect("config");
    assert_eq!(verifier.start().await, Ok(1));
    idp.add_key("new", Algorithm::ES256);
    let token = idp.sign("new", &claims(&idp, "bob", 300));
    // Within the interval after the first fetch: no new fetch.
    assert_eq!(verifier.verify(&token).await, Err(TokenError::UnknownKey));
    assert_eq!(idp.jwks_fetches(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(verifier.verify(&token).await.expect("rotated").user, "bob");
    assert_eq!(idp.jwks_fetches(), 2);
    // A flood of tokens naming keys that do not exist: one fetch at most.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    idp.add_key("ghost", Algorithm::EdDSA);
    idp.unpublish_all();
    let ghost = idp.sign("ghost", &claims(&idp, "bob", 300));
    for _ in 0..20 {
        assert_eq!(verifier.verify(&ghost).await, Err(TokenError::UnknownKey));
    }
    assert_eq!(idp.jwks_fetches(), 3);
}

#[tokio::test]
async fn introspection_is_asked_once_per_token_and_authenticated() {
    let idp = TestIdp::start(&dir("introspect"));
    let mut config = keycloak(&idp);
    config.introspection_url = format!(
        "{}/realms/test/protocol/openid-connect/token/introspect",
        idp.url
    );
    config.client_id = CLIENT.0.into();
    config.client_secret = CLIENT.1.into();
    let verifier = config.clone().build().expect("config");
    idp.activate("opaque-1", claims(&idp, "carol", 300));
    for _ in 0..3 {
        let id = verifier.verify("opaque-1").await.expect("active");
        assert_eq!(id.user, "carol");
    }
    assert_eq!(idp.introspections(), 1, "answers are cached");
    assert_eq!(verifier.verify("opaque-2").await, Err(TokenError::Inactive));
    let mut wrong_aud = claims(&idp, "carol", 300);
    wrong_aud["aud"] = "other".into();
    idp.activate("opaque-3", wrong_aud);
    assert_eq!(verifier.verify("opaque-3").await, Err(TokenError::Audience));
    // The endpoint refuses a client with the wrong secret: not a verdict
    // on the token, and not cached.
    config.client_secret = "wrong".into();
    let refused = config.build().expect("config");
    for _ in 0..2 {
        assert!(matches!(
            refused.verify("opaque-1").await,
            Err(TokenError::Unavailable(_))
        ));
    }
    assert_eq!(idp.introspections(), 5);
}

#[tokio::test]
async fn unreachable_keys_and_configuration_errors() {
    let idp = TestIdp::start(&dir("errors"));
    idp.add_key("k", Algorithm::RS256);
    // Without the test CA the provider's certificate is not trusted.
    let mut config = keycloak(&idp);
    config.ca = None;
    let untrusting = config.build().expect("config");
    assert!(matches!(
        untrusting.start().await,
        Err(TokenError::Unavailable(_))
    ));
    let token = idp.sign("k", &claims(&idp, "dave", 300));
    assert!(matches!(
        untrusting.verify(&token).await,
        Err(TokenError::Unavailable(_)) | Err(TokenError::UnknownKey)
    ));
    let bad = |f: &dyn Fn(&mut BearerConfig)| {
        let mut c = BearerConfig {
            enabled: true,
            ..BearerConfig::default()
        };
        f(&mut c);
        c.build().err().map(|(key, _)| key)
    };
    assert_eq!(bad(&|_| {}), Some("jwks_url"));
    assert_eq!(
        bad(&|c| c.jwks_url = "http://127.0.0.1/certs".into()),
        Some("jwks_url")
    );
    assert_eq!(bad(&|c| c.preset = "okta".into()), Some("preset"));
    assert_eq!(bad(&|c| c.preset = "keycloak".into()), Some("preset"));
    assert_eq!(
        bad(&|c| c.hs256_secret = "short".into()),
        Some("hs256_secret")
    );
    assert_eq!(
        bad(&|c| {
            c.jwks_url = "https://x/certs".into();
            c.algorithms = vec!["RS257".into()];
        }),
        Some("algorithms")
    );
    assert_eq!(
        bad(&|c| c.introspection_url = "https://x/introspect".into()),
        Some("client_id")
    );
    assert_eq!(bad(&|c| c.preset = "google".into()), None);
}
