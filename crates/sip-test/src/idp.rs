//! A test identity provider on loopback (feature `idp`): an HTTPS server
//! (axum behind rustls, with a CA made for the test) laid out like a
//! Keycloak realm, publishing signing keys generated in the test as a
//! JWKS document and answering RFC 7662 introspection, plus the signing
//! side: [`TestIdp::sign`] makes tokens with those keys.
//!
//! It runs on its own thread and runtime, so sync and async tests alike
//! can use it; dropping it stops the server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{EncodingKey, Header};

pub use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

/// The realm the provider serves: its issuer is `{url}/realms/test`.
pub const REALM: &str = "test";

/// The introspection client's id and secret.
pub const CLIENT: (&str, &str) = ("rvoip", "client-secret-1");

#[derive(Default)]
struct Shared {
    published: Mutex<Vec<Jwk>>,
    active: Mutex<HashMap<String, Value>>,
    jwks_fetches: AtomicUsize,
    introspections: AtomicUsize,
}

/// The running provider.
pub struct TestIdp {
    /// `https://127.0.0.1:<port>`: the Keycloak base URL.
    pub url: String,
    /// The CA certificate (PEM file) the server's certificate chains to.
    pub ca: PathBuf,
    shared: Arc<Shared>,
    signing: Mutex<HashMap<String, (Algorithm, EncodingKey)>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A lock that a panicking test thread cannot poison for the server.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A fresh private key for `alg` (RS256, ES256 or EdDSA).
fn generate(alg: Algorithm) -> EncodingKey {
    match alg {
        Algorithm::RS256 => {
            let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .expect("RSA key");
            let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = kp.as_der().expect("PKCS#8");
            EncodingKey::from_rsa_pem(pem("PRIVATE KEY", der.as_ref()).as_bytes()).expect("RSA PEM")
        }
        Algorithm::ES256 => {
            let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
            EncodingKey::from_ec_der(kp.to_pkcs8v1().expect("PKCS#8").as_ref())
        }
        Algorithm::EdDSA => {
            let kp = Ed25519KeyPair::generate().expect("Ed25519 key");
            EncodingKey::from_ed_der(kp.to_pkcs8v1().expect("PKCS#8").as_ref())
        }
        other => panic!("no key generation for {other:?}"),
    }
}

fn tls(dir: &Path) -> (rustls::ServerConfig, PathBuf) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let files = crate::pki::pki(&dir.join("idp-pki"));
    let chain = vec![CertificateDer::from_pem_file(&files.cert).expect("certificate")];
    let key = PrivateKeyDer::from_pem_file(&files.key).expect("key");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate");
    (config, files.ca)
}

async fn certs(State(s): State<Arc<Shared>>) -> Json<Value> {
    s.jwks_fetches.fetch_add(1, Ordering::Relaxed);
    let keys = lock(&s.published).clone();
    Json(json!({ "keys": keys }))
}

async fn introspect(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>, StatusCode> {
    s.introspections.fetch_add(1, Ordering::Relaxed);
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", CLIENT.0, CLIENT.1));
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Basic {basic}"));
    if !authorized {
        return Err(StatusCode::UNAUTHORIZED);
    }
    let token = form.get("token").ok_or(StatusCode::BAD_REQUEST)?;
    let active = lock(&s.active).get(token).cloned();
    Ok(Json(match active {
        Some(mut claims) => {
            claims["active"] = true.into();
            claims
        }
        None => json!({ "active": false }),
    }))
}

impl TestIdp {
    /// Starts the provider on a free loopback port; its CA goes in `dir`.
    pub fn start(dir: &Path) -> TestIdp {
        let (tls, ca) = tls(dir);
        let shared = Arc::new(Shared::default());
        let base = format!("/realms/{REALM}/protocol/openid-connect");
        let app = Router::new()
            .route(&format!("{base}/certs"), get(certs))
            .route(&format!("{base}/token/introspect"), post(introspect))
            .with_state(shared.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
                let serve = async {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let acceptor = acceptor.clone();
                        let app = app.clone();
                        tokio::spawn(async move {
                            let Ok(stream) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let service = hyper_util::service::TowerToHyperService::new(app);
                            let _ = hyper_util::server::conn::auto::Builder::new(
                                hyper_util::rt::TokioExecutor::new(),
                            )
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
        });
        TestIdp {
            url: format!("https://{addr}"),
            ca,
            shared,
            signing: Mutex::new(HashMap::new()),
            stop: Some(stop),
        }
    }

    /// The issuer (`iss`) of its tokens.
    pub fn issuer(&self) -> String {
        format!("{}/realms/{REALM}", self.url)
    }

    /// Generates a key `kid` for `alg` (RS256, ES256 or EdDSA) and
    /// publishes its public half.
    pub fn add_key(&self, kid: &str, alg: Algorithm) {
        let key = generate(alg);
        let mut jwk = Jwk::from_encoding_key(&key, alg).expect("public JWK");
        jwk.common.key_id = Some(kid.to_string());
        lock(&self.shared.published).push(jwk);
        lock(&self.signing).insert(kid.to_string(), (alg, key));
    }

    /// Stops publishing every key (they still sign).
    pub fn unpublish_all(&self) {
        lock(&self.shared.published).clear();
    }

    /// A token signed with key `kid` carrying `claims`.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let keys = lock(&self.signing);
        let (alg, key) = keys.get(kid).expect("a key added with add_key");
        let mut header = Header::new(*alg);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, key).expect("sign")
    }

    /// Makes the introspection endpoint answer `active: true` with
    /// `claims` for `token` (other tokens are inactive).
    pub fn activate(&self, token: &str, claims: Value) {
        lock(&self.shared.active).insert(token.to_string(), claims);
    }

    /// How many times the JWKS document was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::Relaxed)
    }

    /// How many introspection requests arrived.
    pub fn introspections(&self) -> usize {
        self.shared.introspections.load(Ordering::Relaxed)
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
