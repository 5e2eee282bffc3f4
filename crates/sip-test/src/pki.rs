//! Test certificates (feature `pki`): a CA made for the test and a leaf
//! for `localhost` and 127.0.0.1 signed by it, written as PEM files.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};

/// The PEM files [`pki`] wrote.
pub struct Pki {
    /// The leaf certificate.
    pub cert: PathBuf,
    /// The leaf's private key (PKCS#8).
    pub key: PathBuf,
    /// The CA certificate to trust.
    pub ca: PathBuf,
}

/// Makes a CA and a leaf for `localhost` and 127.0.0.1; writes
/// `cert.pem`, `key.pem` and `ca.pem` in `dir`.
pub fn pki(dir: &Path) -> Pki {
    std::fs::create_dir_all(dir).expect("pki dir");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("ca");
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let leaf = params.signed_by(&key, &ca).expect("leaf");
    let write = |name: &str, pem: String| {
        let p = dir.join(name);
        std::fs::write(&p, pem).expect("write PEM");
        p
    };
    Pki {
        cert: write("cert.pem", leaf.pem()),
        key: write("key.pem", key.serialize_pem()),
        ca: write("ca.pem", ca.pem()),
    }
}
