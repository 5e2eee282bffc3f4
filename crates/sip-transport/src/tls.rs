//! TLS with rustls: our certificate chain and key from PEM files, peers
//! verified against configured CA certificates (or the system roots), and
//! optionally mutual TLS (RFC 3261 §26.3.1; RFC 5630).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// TLS files and policy.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    /// Our certificate chain (PEM), leaf first.
    pub cert_chain: PathBuf,
    /// Our private key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
    /// CA certificates (PEM) to verify peers; `None` uses the system roots.
    pub ca: Option<PathBuf>,
    /// Require and verify a client certificate on accepted connections.
    pub require_client_cert: bool,
    /// Present our certificate when we connect (mutual TLS as a client).
    pub present_client_cert: bool,
}

pub(crate) struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) connector: TlsConnector,
}

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what)
}

fn certs(path: &PathBuf) -> io::Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(format!("{}: {e}", path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(bad(format!("{}: no certificate found", path.display())));
    }
    Ok(certs)
}

impl Tls {
    pub(crate) fn load(cfg: &TlsConfig) -> io::Result<Tls> {
        let chain = certs(&cfg.cert_chain)?;
        let key = PrivateKeyDer::from_pem_file(&cfg.private_key)
            .map_err(|e| bad(format!("{}: {e}", cfg.private_key.display())))?;
        let mut roots = RootCertStore::empty();
        match &cfg.ca {
            Some(ca) => {
                for c in certs(ca)? {
                    roots
                        .add(c)
                        .map_err(|e| bad(format!("{}: {e}", ca.display())))?;
                }
            }
            None => {
                for c in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(c);
                }
            }
        }
        let roots = Arc::new(roots);
        let server = if cfg.require_client_cert {
            let verifier = WebPkiClientVerifier::builder(roots.clone())
                .build()
                .map_err(|e| bad(e.to_string()))?;
            rustls::ServerConfig::builder().with_client_cert_verifier(verifier)
        } else {
            rustls::ServerConfig::builder().with_no_client_auth()
        }
        .with_single_cert(chain.clone(), key.clone_key())
        .map_err(|e| bad(format!("certificate and key: {e}")))?;
        let client = rustls::ClientConfig::builder().with_root_certificates(roots);
        let client = if cfg.present_client_cert {
            client
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad(format!("client certificate: {e}")))?
        } else {
            client.with_no_client_auth()
        };
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            connector: TlsConnector::from(Arc::new(client)),
        })
    }
}
