//! The per-packet transforms: AES-CM with HMAC-SHA1 (RFC 3711 §4.1.1,
//! §4.2.1) and AES-GCM (RFC 7714 §8, §9).

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;

use super::Error;
use super::kdf::{Kdf, Label};

const GCM_TAG: usize = 16;

/// AES-CM session keys: cipher, HMAC-SHA1 key, salt and tag length.
pub(super) struct CmKeys {
    cipher: EncryptingKey,
    auth: hmac::Key,
    salt: [u8; 14],
    tag_len: usize,
}

/// Session keys of one direction and packet kind (SRTP or SRTCP).
pub(super) enum Transform {
    Cm(Box<CmKeys>),
    Gcm { key: LessSafeKey, salt: [u8; 12] },
}

fn aes_key(kdf: &Kdf, label: Label) -> Result<[u8; 16], Error> {
    let mut key = [0u8; 16];
    kdf.derive(label, &mut key)?;
    Ok(key)
}

/// Checks that `buf` ends with `mki` and removes it.
fn strip_mki(buf: &mut Vec<u8>, mki: Option<&[u8]>) -> Result<(), Error> {
    if let Some(mki) = mki {
        if !buf.ends_with(mki) {
            return Err(Error::AuthenticationFailed);
        }
        buf.truncate(buf.len() - mki.len());
    }
    Ok(())
}

impl Transform {
    /// AES-CM session keys from the cipher, auth and salt labels.
    pub(super) fn cm(kdf: &Kdf, labels: [Label; 3], tag_len: usize) -> Result<Self, Error> {
        let [cipher_label, auth_label, salt_label] = labels;
        let key = aes_key(kdf, cipher_label)?;
        let cipher = UnboundCipherKey::new(&AES_128, &key)
            .and_then(EncryptingKey::ctr)
            .map_err(|_| Error::BadKey("AES session key"))?;
        let mut auth = [0u8; 20];
        kdf.derive(auth_label, &mut auth)?;
        let mut salt = [0u8; 14];
        kdf.derive(salt_label, &mut salt)?;
        Ok(Transform::Cm(Box::new(CmKeys {
            cipher,
            auth: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &auth),
            salt,
            tag_len,
        })))
    }

    /// AES-GCM session key and 96-bit salt from the cipher and salt labels.
    pub(super) fn gcm(kdf: &Kdf, cipher_label: Label, salt_label: Label) -> Result<Self, Error> {
        let key = aes_key(kdf, cipher_label)?;
        let mut salt = [0u8; 12];
        kdf.derive(salt_label, &mut salt)?;
        Transform::gcm_from_session(&key, salt)
    }

    /// AES-GCM from session keys directly (the RFC 7714 test vectors).
    pub(super) fn gcm_from_session(key: &[u8], salt: [u8; 12]) -> Result<Self, Error> {
        let key =
            UnboundKey::new(&AES_128_GCM, key).map_err(|_| Error::BadKey("AES-GCM session key"))?;
        Ok(Transform::Gcm {
            key: LessSafeKey::new(key),
            salt,
        })
    }

    /// Octets of authentication tag.
    pub(super) fn tag_len(&self) -> usize {
        match self {
            Transform::Cm(k) => k.tag_len,
            Transform::Gcm { .. } => GCM_TAG,
        }
    }

    /// Where the E-flag/SRTCP index word starts in an SRTCP packet of
    /// `len` octets: before MKI and tag for AES-CM (RFC 3711 §3.4), after
    /// the tag and before the MKI for AES-GCM (RFC 7714 §9).
    pub(super) fn rtcp_index_at(&self, len: usize, mki_len: usize) -> usize {
        match self {
            Transform::Cm(k) => len - k.tag_len - mki_len - 4,
            Transform::Gcm { .. } => len - mki_len - 4,
        }
    }

    /// XORs `data` with the AES-CM keystream for `ssrc` and the 48-bit
    /// `index` (RFC 3711 §4.1.1).
    fn ctr(cipher: &EncryptingKey, salt: &[u8; 14], ssrc: u32, index: u64, data: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(salt);
        for (b, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *b ^= s;
        }
        for (b, s) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *b ^= s;
        }
        // CTR mode with a 16-octet IV cannot fail for any length.
        let _ = cipher.less_safe_encrypt(data, EncryptionContext::Iv128(FixedLength::from(iv)));
    }

    fn gcm_nonce(salt: &[u8; 12], ssrc: u32, tail: [u8; 6]) -> Nonce {
        let mut iv = [0u8; 12];
        iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
        iv[6..].copy_from_slice(&tail);
        for (b, s) in iv.iter_mut().zip(salt) {
            *b ^= s;
        }
        Nonce::assume_unique_for_key(iv)
    }

    fn hmac(auth: &hmac::Key, parts: [&[u8]; 2]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(auth);
        for p in parts {
            ctx.update(p);
        }
        ctx.sign()
    }

    /// Appends the MKI and the tag over `buf || extra` (AES-CM profiles).
    fn append_tag(
        auth: &hmac::Key,
        tag_len: usize,
        buf: &mut Vec<u8>,
        mki: Option<&[u8]>,
        extra: &[u8],
    ) {
        let authenticated = buf.len();
        buf.extend_from_slice(mki.unwrap_or_default());
        if tag_len > 0 {
            let tag = Transform::hmac(auth, [&buf[..authenticated], extra]);
            buf.extend_from_slice(&tag.as_ref()[..tag_len]);
        }
    }

    /// Checks the trailing tag over what precedes the MKI, `|| extra`, and
    /// removes tag and MKI (AES-CM profiles).
    fn verify_tag(
        auth: &hmac::Key,
        tag_len: usize,
        buf: &mut Vec<u8>,
        mki: Option<&[u8]>,
        extra: &[u8],
    ) -> Result<(), Error> {
        let tag_at = buf.len() - tag_len;
        if tag_len > 0 {
            let authenticated = tag_at - mki.map_or(0, <[u8]>::len);
            let tag = Transform::hmac(auth, [&buf[..authenticated], extra]);
            verify_slices_are_equal(&tag.as_ref()[..tag_len], &buf[tag_at..])
                .map_err(|_| Error::AuthenticationFailed)?;
        }
        buf.truncate(tag_at);
        strip_mki(buf, mki)
    }

    /// Protects an RTP packet whose header is `header_len` octets.
    pub(super) fn seal_rtp(
        &self,
        buf: &mut Vec<u8>,
        header_len: usize,
        ssrc: u32,
        index: u64,
        encrypt: bool,
        mki: Option<&[u8]>,
    ) {
        match self {
            Transform::Cm(k) => {
                if encrypt {
                    Transform::ctr(&k.cipher, &k.salt, ssrc, index, &mut buf[header_len..]);
                }
                let roc = ((index >> 16) as u32).to_be_bytes();
                Transform::append_tag(&k.auth, k.tag_len, buf, mki, &roc);
            }
            Transform::Gcm { key, salt } => {
                let mut tail = [0u8; 6];
                tail.copy_from_slice(&index.to_be_bytes()[2..]);
                let nonce = Transform::gcm_nonce(salt, ssrc, tail);
                let (head, body) = buf.split_at_mut(header_len);
                // Sealing fails only beyond GCM's 64 GiB message limit.
                if let Ok(tag) = key.seal_in_place_separate_tag(nonce, Aad::from(&*head), body) {
                    buf.extend_from_slice(tag.as_ref());
                }
                buf.extend_from_slice(mki.unwrap_or_default());
            }
        }
    }

    /// Verifies and decrypts an SRTP packet whose header is `header_len`
    /// octets, leaving the RTP packet in `buf`.
    pub(super) fn open_rtp(
        &self,
        buf: &mut Vec<u8>,
        header_len: usize,
        ssrc: u32,
        index: u64,
        decrypt: bool,
        mki: Option<&[u8]>,
    ) -> Result<(), Error> {
        match self {
            Transform::Cm(k) => {
                let roc = ((index >> 16) as u32).to_be_bytes();
                Transform::verify_tag(&k.auth, k.tag_len, buf, mki, &roc)?;
                if decrypt {
                    Transform::ctr(&k.cipher, &k.salt, ssrc, index, &mut buf[header_len..]);
                }
                Ok(())
            }
            Transform::Gcm { key, salt } => {
                strip_mki(buf, mki)?;
                if buf.len() < header_len + GCM_TAG {
                    return Err(Error::Malformed("SRTP packet shorter than header and tag"));
                }
                let mut tail = [0u8; 6];
                tail.copy_from_slice(&index.to_be_bytes()[2..]);
                let nonce = Transform::gcm_nonce(salt, ssrc, tail);
                let (head, body) = buf.split_at_mut(header_len);
                key.open_in_place(nonce, Aad::from(&*head), body)
                    .map_err(|_| Error::AuthenticationFailed)?;
                buf.truncate(buf.len() - GCM_TAG);
                Ok(())
            }
        }
    }

    /// Protects an RTCP packet with SRTCP `index`.
    pub(super) fn seal_rtcp(
        &self,
        buf: &mut Vec<u8>,
        ssrc: u32,
        index: u32,
        encrypt: bool,
        mki: Option<&[u8]>,
    ) {
        let word = (index | if encrypt { 1 << 31 } else { 0 }).to_be_bytes();
        match self {
            Transform::Cm(k) => {
                if encrypt {
                    Transform::ctr(&k.cipher, &k.salt, ssrc, u64::from(index), &mut buf[8..]);
                }
                buf.extend_from_slice(&word);
                Transform::append_tag(&k.auth, k.tag_len, buf, mki, &[]);
            }
            Transform::Gcm { key, salt } => {
                let mut tail = [0u8; 6];
                tail[2..].copy_from_slice(&index.to_be_bytes());
                let nonce = Transform::gcm_nonce(salt, ssrc, tail);
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&word);
                if let Ok(tag) =
                    key.seal_in_place_separate_tag(nonce, Aad::from(aad), &mut buf[8..])
                {
                    buf.extend_from_slice(tag.as_ref());
                }
                buf.extend_from_slice(&word);
                buf.extend_from_slice(mki.unwrap_or_default());
            }
        }
    }

    /// Verifies and decrypts an SRTCP packet (length already checked to
    /// hold the header, index word, MKI and tag), leaving the RTCP packet.
    pub(super) fn open_rtcp(
        &self,
        buf: &mut Vec<u8>,
        ssrc: u32,
        mki: Option<&[u8]>,
    ) -> Result<(), Error> {
        match self {
            Transform::Cm(k) => {
                Transform::verify_tag(&k.auth, k.tag_len, buf, mki, &[])?;
                let at = buf.len() - 4;
                let word = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
                buf.truncate(at);
                if word >> 31 == 1 {
                    let index = u64::from(word & 0x7FFF_FFFF);
                    Transform::ctr(&k.cipher, &k.salt, ssrc, index, &mut buf[8..]);
                }
                Ok(())
            }
            Transform::Gcm { key, salt } => {
                strip_mki(buf, mki)?;
                let at = buf.len() - 4;
                let mut aad = [0u8; 12];
                aad[..8].copy_from_slice(&buf[..8]);
                aad[8..].copy_from_slice(&buf[at..]);
                if aad[8] >> 7 == 0 {
                    return Err(Error::AuthenticationFailed);
                }
                let mut tail = [0u8; 6];
                tail[2..].copy_from_slice(&aad[8..]);
                tail[2] &= 0x7F;
                let nonce = Transform::gcm_nonce(salt, ssrc, tail);
                buf.truncate(at);
                if buf.len() < 8 + GCM_TAG {
                    return Err(Error::Malformed("SRTCP packet shorter than header and tag"));
                }
                key.open_in_place(nonce, Aad::from(aad), &mut buf[8..])
                    .map_err(|_| Error::AuthenticationFailed)?;
                buf.truncate(buf.len() - GCM_TAG);
                Ok(())
            }
        }
    }
}
