//! Stateless nonces (RFC 7616 §3.3, §5.4): the server keeps no record of
//! the nonces it hands out. Each nonce carries its issue time and a unique
//! number, signed with HMAC-SHA256 under a server secret, so any node that
//! shares the secret can tell a nonce it issued, and how old it is, from
//! the nonce alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Bytes of the HMAC kept in a nonce (128 bits).
const MAC_LEN: usize = 16;
/// issued (8) + unique (8) + MAC.
const RAW_LEN: usize = 16 + MAC_LEN;

/// What a genuine nonce says about itself.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NonceInfo {
    /// Issue time, seconds since the Unix epoch.
    pub issued: u64,
    /// The number that makes this nonce unique (the key of its
    /// nonce-count record).
    pub unique: u64,
}

/// The secret that signs and checks nonces.
#[derive(Clone)]
pub struct NonceKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

impl NonceKey {
    /// A key from secret bytes (at least 16 random bytes; nodes that should
    /// accept each other's nonces share it).
    pub fn new(secret: &[u8]) -> NonceKey {
        // HMAC takes keys of any length.
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        NonceKey { mac }
    }

    fn tag(&self, head: &[u8], realm: &str) -> [u8; MAC_LEN] {
        let mut mac = self.mac.clone();
        mac.update(head);
        mac.update(realm.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&full[..MAC_LEN]);
        out
    }

    /// A nonce for `realm` issued at `issued` (Unix seconds).
    pub fn issue(&self, realm: &str, info: NonceInfo) -> String {
        let mut raw = [0u8; RAW_LEN];
        raw[..8].copy_from_slice(&info.issued.to_be_bytes());
        raw[8..16].copy_from_slice(&info.unique.to_be_bytes());
        let tag = self.tag(&raw[..16], realm);
        raw[16..].copy_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The nonce's contents if this key issued it for `realm`; `None` for
    /// anything forged, altered or malformed.
    pub fn check(&self, realm: &str, nonce: &str) -> Option<NonceInfo> {
        if nonce.len() != 43 {
            return None;
        }
        let mut raw = [0u8; RAW_LEN];
        let n = URL_SAFE_NO_PAD
            .decode_slice(nonce.as_bytes(), &mut raw)
            .ok()?;
        if n != RAW_LEN {
            return None;
        }
        let tag = self.tag(&raw[..16], realm);
        if !bool::from(tag.ct_eq(&raw[16..])) {
            return None;
        }
        let issued = u64::from_be_bytes(raw[..8].try_into().ok()?);
        let unique = u64::from_be_bytes(raw[8..16].try_into().ok()?);
        Some(NonceInfo { issued, unique })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_nonces_check_and_forgeries_do_not() {
        let key = NonceKey::new(b"0123456789abcdef");
        let info = NonceInfo {
            issued: 1_700_000_000,
            unique: 42,
        };
        let nonce = key.issue("example.com", info);
        assert_eq!(nonce.len(), 43);
        assert_eq!(key.check("example.com", &nonce), Some(info));
        // Another realm, another key, a flipped character, junk.
        assert_eq!(key.check("example.org", &nonce), None);
        assert_eq!(
            NonceKey::new(b"another secret!!").check("example.com", &nonce),
            None
        );
        let mut bytes = nonce.clone().into_bytes();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).expect("ascii");
        assert_eq!(key.check("example.com", &altered), None);
        for junk in [
            "",
            "x",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
            &"A".repeat(44),
        ] {
            assert_eq!(key.check("example.com", junk), None);
        }
    }
}
