//! The AES-CM key derivation of RFC 3711 §4.3, used by every profile here
//! (RFC 7714 §11 keeps it for AES-GCM, with the 96-bit master salt).

use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;

use super::Error;

/// Key derivation labels (RFC 3711 §4.3.2, §4.3.3).
#[derive(Clone, Copy)]
pub(crate) enum Label {
    RtpCipher = 0,
    RtpAuth = 1,
    RtpSalt = 2,
    RtcpCipher = 3,
    RtcpAuth = 4,
    RtcpSalt = 5,
}

/// One master key, ready to derive session keys with a key derivation rate
/// of zero (the only rate SDES and DTLS-SRTP use by default).
pub(crate) struct Kdf {
    key: EncryptingKey,
    salt: [u8; 14],
}

impl Kdf {
    /// A derivation from a 16-byte master key and a 14-byte (AES-CM) or
    /// 12-byte (AES-GCM) master salt; a short salt is left-aligned and the
    /// missing low octets are zero.
    pub(crate) fn new(master_key: &[u8], master_salt: &[u8]) -> Result<Kdf, Error> {
        if master_salt.len() > 14 {
            return Err(Error::BadKey("master salt longer than 112 bits"));
        }
        let key = UnboundCipherKey::new(&AES_128, master_key)
            .and_then(EncryptingKey::ctr)
            .map_err(|_| Error::BadKey("master key is not 128 bits"))?;
        let mut salt = [0u8; 14];
        salt[..master_salt.len()].copy_from_slice(master_salt);
        Ok(Kdf { key, salt })
    }

    /// `PRF_n(k_master, x)` with `x = (label || r) XOR master_salt` and
    /// `r = 0`: the first `out.len()` octets of the AES-CM keystream whose
    /// IV is `x * 2^16`.
    pub(crate) fn derive(&self, label: Label, out: &mut [u8]) -> Result<(), Error> {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(&self.salt);
        iv[7] ^= label as u8;
        out.fill(0);
        self.key
            .less_safe_encrypt(out, EncryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(|_| Error::BadKey("key derivation failed"))?;
        Ok(())
    }
}
