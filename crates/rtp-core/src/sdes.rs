//! SDES keying: the SDP `a=crypto` attribute of RFC 4568 for SRTP.
//!
//! ```
//! use rtp_core::sdes::CryptoAttribute;
//! use rtp_core::srtp::Profile;
//!
//! let offer = CryptoAttribute::generate(1, Profile::AesCm128HmacSha1_80).unwrap();
//! let line = offer.to_string();
//! assert!(line.starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"));
//! let parsed: CryptoAttribute = line.parse().unwrap();
//! assert_eq!(parsed, offer);
//! let context = parsed.context().unwrap();
//! assert_eq!(context.profile(), Profile::AesCm128HmacSha1_80);
//! ```

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::srtp::{self, Options, Profile, SrtpContext};

/// A master key identifier as SDES writes it: a decimal value carried in
/// `length` octets of every packet (RFC 4568 §6.1, §9.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mki {
    /// The MKI value.
    pub value: u64,
    /// Octets the MKI takes in each packet (1 to 8 here).
    pub length: u8,
}

impl Mki {
    /// The MKI as it appears in packets: `value` big-endian in `length`
    /// octets.
    pub fn bytes(&self) -> Vec<u8> {
        let all = self.value.to_be_bytes();
        all[8 - usize::from(self.length)..].to_vec()
    }
}

/// One `a=crypto` attribute: a crypto-suite, its single master key and salt
/// and the session parameters (RFC 4568 §9.1).
#[derive(Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The tag that pairs an answer with the offer's line (1 to 999999999).
    pub tag: u32,
    /// The crypto-suite.
    pub profile: Profile,
    /// Master key.
    pub key: Vec<u8>,
    /// Master salt.
    pub salt: Vec<u8>,
    /// Key lifetime in packets, if given.
    pub lifetime: Option<u64>,
    /// Master key identifier, if given.
    pub mki: Option<Mki>,
    /// Replay window size (`WSH`), if given.
    pub window: Option<u64>,
    /// `UNENCRYPTED_SRTP`.
    pub unencrypted_srtp: bool,
    /// `UNENCRYPTED_SRTCP`.
    pub unencrypted_srtcp: bool,
    /// `UNAUTHENTICATED_SRTP`.
    pub unauthenticated_srtp: bool,
}

impl fmt::Debug for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material stays out of logs.
        f.debug_struct("CryptoAttribute")
            .field("tag", &self.tag)
            .field("profile", &self.profile)
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish_non_exhaustive()
    }
}

/// Why an `a=crypto` value was refused; the message names the part.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a=crypto: {}", self.0)
    }
}

impl std::error::Error for Error {}

fn err<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

fn decimal(s: &str, what: &str) -> Result<u64, Error> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("{what} is not a decimal number: {s:?}"));
    }
    s.parse().or_else(|_| err(format!("{what} out of range")))
}

impl CryptoAttribute {
    /// An attribute for `profile` with a fresh random master key and salt.
    pub fn generate(tag: u32, profile: Profile) -> Result<CryptoAttribute, srtp::Error> {
        let mut material = vec![0u8; profile.master_key_len() + profile.master_salt_len()];
        aws_lc_rs::rand::fill(&mut material).map_err(|_| srtp::Error::BadKey("no randomness"))?;
        let salt = material.split_off(profile.master_key_len());
        Ok(CryptoAttribute::with_key(tag, profile, material, salt))
    }

    /// An attribute with the given master key and salt and no session
    /// parameters.
    pub fn with_key(tag: u32, profile: Profile, key: Vec<u8>, salt: Vec<u8>) -> CryptoAttribute {
        CryptoAttribute {
            tag,
            profile,
            key,
            salt,
            lifetime: None,
            mki: None,
            window: None,
            unencrypted_srtp: false,
            unencrypted_srtcp: false,
            unauthenticated_srtp: false,
        }
    }

    /// The SRTP options these session parameters ask for.
    pub fn options(&self) -> Options {
        Options {
            mki: self.mki.map(|m| m.bytes()),
            window: self.window.unwrap_or(64),
            unencrypted_srtp: self.unencrypted_srtp,
            unencrypted_srtcp: self.unencrypted_srtcp,
            unauthenticated_srtp: self.unauthenticated_srtp,
        }
    }

    /// An SRTP context keyed by this attribute (one per direction: the
    /// offerer's key protects what the offerer sends).
    pub fn context(&self) -> Result<SrtpContext, srtp::Error> {
        SrtpContext::with_options(self.profile, &self.key, &self.salt, self.options())
    }

    fn parse_key_params(&mut self, params: &str) -> Result<(), Error> {
        if params.contains(';') {
            return err("more than one key-param is not supported");
        }
        let Some(info) = params.strip_prefix("inline:") else {
            return err("key-param must use the inline: method");
        };
        let mut parts = info.split('|');
        let key_salt = parts.next().unwrap_or_default();
        let material = STANDARD
            .decode(key_salt)
            .or_else(|_| STANDARD_NO_PAD.decode(key_salt))
            .or_else(|_| err("key||salt is not base64"))?;
        let (klen, slen) = (
            self.profile.master_key_len(),
            self.profile.master_salt_len(),
        );
        if material.len() != klen + slen {
            return err(format!(
                "key||salt is {} octets, {} needs {}",
                material.len(),
                self.profile,
                klen + slen
            ));
        }
        self.key = material[..klen].to_vec();
        self.salt = material[klen..].to_vec();
        for part in parts {
            if let Some((value, length)) = part.split_once(':') {
                if self.mki.is_some() {
                    return err("more than one MKI");
                }
                let length = decimal(length, "MKI length")?;
                if !(1..=8).contains(&length) {
                    return err("MKI length must be 1 to 8 octets");
                }
                let value = decimal(value, "MKI value")?;
                if length < 8 && value >> (8 * length) != 0 {
                    return err("MKI value does not fit its length");
                }
                self.mki = Some(Mki {
                    value,
                    length: length as u8,
                });
            } else {
                if self.lifetime.is_some() || self.mki.is_some() {
                    return err("lifetime must come once, before the MKI");
                }
                let lifetime = match part.strip_prefix("2^") {
                    Some(exp) => {
                        let exp = decimal(exp, "lifetime exponent")?;
                        if exp > 48 {
                            return err("lifetime beyond 2^48");
                        }
                        1u64 << exp
                    }
                    None => decimal(part, "lifetime")?,
                };
                self.lifetime = Some(lifetime);
            }
        }
        Ok(())
    }

    fn parse_session_param(&mut self, param: &str) -> Result<(), Error> {
        match param.split_once('=') {
            None => match param {
                "UNENCRYPTED_SRTP" => self.unencrypted_srtp = true,
                "UNENCRYPTED_SRTCP" => self.unencrypted_srtcp = true,
                "UNAUTHENTICATED_SRTP" => self.unauthenticated_srtp = true,
                _ => return err(format!("unknown session parameter {param}")),
            },
            Some(("WSH", n)) => {
                let n = decimal(n, "WSH")?;
                if n < 64 {
                    return err("WSH below the minimum of 64");
                }
                self.window = Some(n);
            }
            Some(("FEC_ORDER", "FEC_SRTP")) => {}
            Some(("KDR", _)) => return err("a key derivation rate (KDR) is not supported"),
            Some(_) => return err(format!("unsupported session parameter {param}")),
        }
        Ok(())
    }
}

impl FromStr for CryptoAttribute {
    type Err = Error;

    /// Parses the attribute value (what follows `a=crypto:`).
    fn from_str(s: &str) -> Result<CryptoAttribute, Error> {
        let s = s.trim();
        let s = s.strip_prefix("a=crypto:").unwrap_or(s);
        let mut fields = s.split_ascii_whitespace();
        let tag = fields.next().unwrap_or_default();
        if tag.len() > 9 {
            return err("tag longer than 9 digits");
        }
        let tag = decimal(tag, "tag")? as u32;
        let suite = fields.next().ok_or(Error("missing crypto-suite".into()))?;
        let profile =
            Profile::from_name(suite).ok_or(Error(format!("unsupported crypto-suite {suite}")))?;
        let keys = fields.next().ok_or(Error("missing key-params".into()))?;
        let mut attribute = CryptoAttribute::with_key(tag, profile, Vec::new(), Vec::new());
        attribute.parse_key_params(keys)?;
        for param in fields {
            attribute.parse_session_param(param)?;
        }
        if profile == Profile::AeadAes128Gcm
            && (attribute.unencrypted_srtp
                || attribute.unencrypted_srtcp
                || attribute.unauthenticated_srtp)
        {
            return err("AEAD_AES_128_GCM cannot be unencrypted or unauthenticated");
        }
        Ok(attribute)
    }
}

impl fmt::Display for CryptoAttribute {
    /// Writes the attribute value, without the `a=crypto:` prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = self.key.clone();
        material.extend_from_slice(&self.salt);
        write!(
            f,
            "{} {} inline:{}",
            self.tag,
            self.profile,
            STANDARD.encode(material)
        )?;
        if let Some(lifetime) = self.lifetime {
            if lifetime.is_power_of_two() {
                write!(f, "|2^{}", lifetime.trailing_zeros())?;
            } else {
                write!(f, "|{lifetime}")?;
            }
        }
        if let Some(mki) = self.mki {
            write!(f, "|{}:{}", mki.value, mki.length)?;
        }
        for (on, name) in [
            (self.unencrypted_srtp, "UNENCRYPTED_SRTP"),
            (self.unencrypted_srtcp, "UNENCRYPTED_SRTCP"),
            (self.unauthenticated_srtp, "UNAUTHENTICATED_SRTP"),
        ] {
            if on {
                write!(f, " {name}")?;
            }
        }
        if let Some(window) = self.window {
            write!(f, " WSH={window}")?;
        }
        Ok(())
    }
}
