//! SRTP and SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80,
//! AES_CM_128_HMAC_SHA1_32 (RFC 4568 §6.2) and AEAD_AES_128_GCM (RFC 7714).
//!
//! An [`SrtpContext`] holds the session keys derived from one master key and
//! the per-SSRC state: the rollover counter, the highest sequence number and
//! the replay window (RFC 3711 §3.2.3). Packets are protected and unprotected
//! in place in a `Vec<u8>` so a driver can reuse its buffers.
//!
//! ```
//! use rtp_core::packet::RtpHeader;
//! use rtp_core::srtp::{Profile, SrtpContext};
//!
//! let (key, salt) = ([7u8; 16], [9u8; 14]);
//! let mut tx = SrtpContext::new(Profile::AesCm128HmacSha1_80, &key, &salt).unwrap();
//! let mut rx = SrtpContext::new(Profile::AesCm128HmacSha1_80, &key, &salt).unwrap();
//! let mut buf = Vec::new();
//! RtpHeader { sequence: 1, ssrc: 5, ..Default::default() }.write(b"hello", &mut buf).unwrap();
//! let plain = buf.clone();
//! tx.protect_rtp(&mut buf).unwrap();
//! assert_eq!(buf.len(), plain.len() + 10);
//! rx.unprotect_rtp(&mut buf).unwrap();
//! assert_eq!(buf, plain);
//! ```

mod kdf;
mod replay;
mod transform;

use std::collections::HashMap;
use std::fmt;

use kdf::{Kdf, Label};
use replay::{Replay, ReplayWindow};
use transform::Transform;

/// The most SSRCs one context tracks in each direction; a packet from a
/// further SSRC is refused rather than growing the table without bound.
pub const MAX_STREAMS: usize = 256;

/// An SRTP protection profile (the crypto-suite of RFC 4568 §6.2 and
/// RFC 7714 §14.2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Profile {
    /// AES-128 counter mode, HMAC-SHA1 tag of 80 bits (RFC 3711 default).
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, HMAC-SHA1 tag of 32 bits on SRTP (SRTCP keeps
    /// 80 bits, RFC 4568 §6.2.2).
    AesCm128HmacSha1_32,
    /// AES-128 in Galois/Counter Mode with a 16-octet tag (RFC 7714).
    AeadAes128Gcm,
}

impl Profile {
    /// Every profile, strongest-first as an offer lists them.
    pub const ALL: [Profile; 3] = [
        Profile::AeadAes128Gcm,
        Profile::AesCm128HmacSha1_80,
        Profile::AesCm128HmacSha1_32,
    ];

    /// The crypto-suite name used in `a=crypto`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Profile::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Profile::AeadAes128Gcm => "AEAD_AES_128_GCM",
        }
    }

    /// The profile with the crypto-suite `name` (case-sensitive, as RFC
    /// 4568 registers them).
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Octets of master key.
    pub fn master_key_len(self) -> usize {
        16
    }

    /// Octets of master salt: 14 for AES-CM, 12 for AES-GCM.
    pub fn master_salt_len(self) -> usize {
        match self {
            Profile::AeadAes128Gcm => 12,
            _ => 14,
        }
    }

    /// Octets an SRTP packet grows by (without MKI).
    pub fn rtp_overhead(self) -> usize {
        match self {
            Profile::AesCm128HmacSha1_80 => 10,
            Profile::AesCm128HmacSha1_32 => 4,
            Profile::AeadAes128Gcm => 16,
        }
    }

    /// Octets an SRTCP packet grows by: the tag and the 4-octet
    /// E-flag/index word (without MKI).
    pub fn rtcp_overhead(self) -> usize {
        match self {
            Profile::AeadAes128Gcm => 16 + 4,
            _ => 10 + 4,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why SRTP refused a key or a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Error {
    /// The key material is unusable (wrong length, unsupported option).
    BadKey(&'static str),
    /// The packet is too short or not RTP/RTCP version 2.
    Malformed(&'static str),
    /// The authentication tag (or the MKI) does not match.
    AuthenticationFailed,
    /// The packet index was received before (RFC 3711 §3.3.2).
    Replayed,
    /// The packet index is older than the replay window reaches.
    TooOld,
    /// The key has protected all the packets it may (2^48 SRTP, 2^31 SRTCP).
    KeyExhausted,
    /// More SSRCs than [`MAX_STREAMS`] use this context.
    TooManyStreams,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadKey(why) => write!(f, "unusable SRTP key: {why}"),
            Error::Malformed(why) => write!(f, "malformed packet: {why}"),
            Error::AuthenticationFailed => f.write_str("SRTP authentication failed"),
            Error::Replayed => f.write_str("SRTP packet replayed"),
            Error::TooOld => f.write_str("SRTP packet older than the replay window"),
            Error::KeyExhausted => f.write_str("SRTP key lifetime exhausted"),
            Error::TooManyStreams => f.write_str("too many SSRCs in one SRTP context"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Replay> for Error {
    fn from(r: Replay) -> Error {
        match r {
            Replay::Duplicate => Error::Replayed,
            Replay::TooOld => Error::TooOld,
        }
    }
}

/// Options a session may negotiate (RFC 4568 §6.3 session parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Master key identifier carried in every packet, if any.
    pub mki: Option<Vec<u8>>,
    /// Replay window size in packets (`WSH`, at least 64).
    pub window: u64,
    /// SRTP payloads are not encrypted (`UNENCRYPTED_SRTP`, AES-CM only).
    pub unencrypted_srtp: bool,
    /// SRTCP packets are not encrypted (`UNENCRYPTED_SRTCP`, AES-CM only).
    pub unencrypted_srtcp: bool,
    /// SRTP packets carry no tag (`UNAUTHENTICATED_SRTP`, AES-CM only).
    pub unauthenticated_srtp: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mki: None,
            window: 64,
            unencrypted_srtp: false,
            unencrypted_srtcp: false,
            unauthenticated_srtp: false,
        }
    }
}

/// Send or receive state of one SRTP stream (RFC 3711 §3.3.1).
#[derive(Clone, Debug)]
struct RtpStream {
    roc: u32,
    highest: u16,
    replay: ReplayWindow,
}

impl RtpStream {
    fn new(seq: u16, window: u64) -> RtpStream {
        RtpStream {
            roc: 0,
            highest: seq,
            replay: ReplayWindow::new(window),
        }
    }

    /// The rollover counter guessed for `seq` (RFC 3711 Appendix A).
    fn guess_roc(&self, seq: u16) -> u32 {
        let (s_l, roc) = (self.highest, self.roc);
        if s_l < 0x8000 {
            if seq > s_l && seq - s_l > 0x8000 {
                roc.wrapping_sub(1)
            } else {
                roc
            }
        } else if s_l - 0x8000 > seq {
            roc.wrapping_add(1)
        } else {
            roc
        }
    }

    fn update(&mut self, roc: u32, seq: u16) {
        let index = (u64::from(roc) << 16) | u64::from(seq);
        if index > (u64::from(self.roc) << 16) | u64::from(self.highest) {
            self.roc = roc;
            self.highest = seq;
        }
        self.replay.accept(index);
    }
}

/// Receive state of one SRTCP stream; the send side only needs the index.
#[derive(Clone, Debug)]
struct RtcpStream {
    next_index: u32,
    replay: ReplayWindow,
}

impl RtcpStream {
    fn new(window: u64) -> RtcpStream {
        RtcpStream {
            next_index: 0,
            replay: ReplayWindow::new(window),
        }
    }
}

/// An SRTP/SRTCP cryptographic context for one master key, in one
/// direction (use one to protect what is sent and another to unprotect
/// what is received).
pub struct SrtpContext {
    profile: Profile,
    options: Options,
    rtp: Transform,
    rtcp: Transform,
    rtp_streams: HashMap<u32, RtpStream>,
    rtcp_streams: HashMap<u32, RtcpStream>,
}

impl fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpContext")
            .field("profile", &self.profile)
            .field("rtp_streams", &self.rtp_streams.len())
            .field("rtcp_streams", &self.rtcp_streams.len())
            .finish_non_exhaustive()
    }
}

/// Reads the SSRC and sequence number of an RTP packet and returns the
/// header length (fixed header, CSRCs and extension).
fn rtp_header(buf: &[u8]) -> Result<(usize, u32, u16), Error> {
    if buf.len() < 12 {
        return Err(Error::Malformed("RTP header shorter than 12 octets"));
    }
    if buf[0] >> 6 != 2 {
        return Err(Error::Malformed("RTP version is not 2"));
    }
    let mut len = 12 + 4 * usize::from(buf[0] & 0x0F);
    if buf[0] & 0x10 != 0 {
        let words = buf
            .get(len + 2..len + 4)
            .ok_or(Error::Malformed("RTP header extension truncated"))?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if buf.len() < len {
        return Err(Error::Malformed("RTP header truncated"));
    }
    let seq = u16::from_be_bytes([buf[2], buf[3]]);
    let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    Ok((len, ssrc, seq))
}

fn rtcp_ssrc(buf: &[u8]) -> Result<u32, Error> {
    if buf.len() < 8 {
        return Err(Error::Malformed("RTCP packet shorter than 8 octets"));
    }
    if buf[0] >> 6 != 2 {
        return Err(Error::Malformed("RTCP version is not 2"));
    }
    Ok(u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]))
}

impl SrtpContext {
    /// A context from a master key and salt, with default options.
    pub fn new(profile: Profile, master_key: &[u8], master_salt: &[u8]) -> Result<Self, Error> {
        SrtpContext::with_options(profile, master_key, master_salt, Options::default())
    }

    /// A context with negotiated options (MKI, replay window, the
    /// `UNENCRYPTED_*`/`UNAUTHENTICATED_SRTP` parameters).
    pub fn with_options(
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
        options: Options,
    ) -> Result<Self, Error> {
        if master_key.len() != profile.master_key_len() {
            return Err(Error::BadKey("master key length does not fit the profile"));
        }
        if master_salt.len() != profile.master_salt_len() {
            return Err(Error::BadKey("master salt length does not fit the profile"));
        }
        let weakened =
            options.unencrypted_srtp || options.unencrypted_srtcp || options.unauthenticated_srtp;
        if profile == Profile::AeadAes128Gcm && weakened {
            return Err(Error::BadKey(
                "AEAD profiles always encrypt and authenticate",
            ));
        }
        if options
            .mki
            .as_ref()
            .is_some_and(|m| m.is_empty() || m.len() > 128)
        {
            return Err(Error::BadKey("MKI must be 1 to 128 octets"));
        }
        let kdf = Kdf::new(master_key, master_salt)?;
        let (rtp, rtcp) = match profile {
            Profile::AeadAes128Gcm => (
                Transform::gcm(&kdf, Label::RtpCipher, Label::RtpSalt)?,
                Transform::gcm(&kdf, Label::RtcpCipher, Label::RtcpSalt)?,
            ),
            _ => {
                let rtp_tag = if options.unauthenticated_srtp {
                    0
                } else {
                    profile.rtp_overhead()
                };
                (
                    Transform::cm(
                        &kdf,
                        [Label::RtpCipher, Label::RtpAuth, Label::RtpSalt],
                        rtp_tag,
                    )?,
                    Transform::cm(
                        &kdf,
                        [Label::RtcpCipher, Label::RtcpAuth, Label::RtcpSalt],
                        10,
                    )?,
                )
            }
        };
        Ok(SrtpContext {
            profile,
            options,
            rtp,
            rtcp,
            rtp_streams: HashMap::new(),
            rtcp_streams: HashMap::new(),
        })
    }

    /// The protection profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    fn mki_len(&self) -> usize {
        self.options.mki.as_ref().map_or(0, Vec::len)
    }

    /// Encrypts and authenticates the RTP packet in `buf`, appending the
    /// MKI and tag (RFC 3711 §3.3, RFC 7714 §8).
    pub fn protect_rtp(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        let (header_len, ssrc, seq) = rtp_header(buf)?;
        let window = self.options.window;
        let mut fresh = None;
        let stream = stream_of(&mut self.rtp_streams, ssrc, &mut fresh, || {
            RtpStream::new(seq, window)
        })?;
        let roc = stream.guess_roc(seq);
        if roc == u32::MAX && seq == u16::MAX {
            return Err(Error::KeyExhausted);
        }
        let index = (u64::from(roc) << 16) | u64::from(seq);
        let encrypt = !self.options.unencrypted_srtp;
        self.rtp.seal_rtp(
            buf,
            header_len,
            ssrc,
            index,
            encrypt,
            self.options.mki.as_deref(),
        );
        stream.update(roc, seq);
        if let Some(stream) = fresh {
            self.rtp_streams.insert(ssrc, stream);
        }
        Ok(())
    }

    /// Authenticates, replay-checks and decrypts the SRTP packet in `buf`,
    /// leaving the RTP packet.
    pub fn unprotect_rtp(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        let (header_len, ssrc, seq) = rtp_header(buf)?;
        let overhead = self.mki_len() + self.rtp.tag_len();
        if buf.len() < header_len + overhead {
            return Err(Error::Malformed("SRTP packet shorter than header and tag"));
        }
        // A new stream is kept only once its first packet authenticates.
        let window = self.options.window;
        let mut fresh = None;
        let stream = stream_of(&mut self.rtp_streams, ssrc, &mut fresh, || {
            RtpStream::new(seq, window)
        })?;
        let roc = stream.guess_roc(seq);
        let index = (u64::from(roc) << 16) | u64::from(seq);
        stream.replay.check(index)?;
        let decrypt = !self.options.unencrypted_srtp;
        self.rtp.open_rtp(
            buf,
            header_len,
            ssrc,
            index,
            decrypt,
            self.options.mki.as_deref(),
        )?;
        stream.update(roc, seq);
        if let Some(stream) = fresh {
            self.rtp_streams.insert(ssrc, stream);
        }
        Ok(())
    }

    /// Encrypts and authenticates the (compound) RTCP packet in `buf`,
    /// appending the E flag and SRTCP index, MKI and tag (RFC 3711 §3.4).
    pub fn protect_rtcp(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        let ssrc = rtcp_ssrc(buf)?;
        let window = self.options.window;
        let mut fresh = None;
        let stream = stream_of(&mut self.rtcp_streams, ssrc, &mut fresh, || {
            RtcpStream::new(window)
        })?;
        let index = stream.next_index;
        if index >= 1 << 31 {
            return Err(Error::KeyExhausted);
        }
        stream.next_index += 1;
        let encrypt = !self.options.unencrypted_srtcp;
        self.rtcp
            .seal_rtcp(buf, ssrc, index, encrypt, self.options.mki.as_deref());
        if let Some(stream) = fresh {
            self.rtcp_streams.insert(ssrc, stream);
        }
        Ok(())
    }

    /// Authenticates, replay-checks and decrypts the SRTCP packet in `buf`,
    /// leaving the RTCP packet.
    pub fn unprotect_rtcp(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        let ssrc = rtcp_ssrc(buf)?;
        let trailer = 4 + self.mki_len() + self.rtcp.tag_len();
        if buf.len() < 8 + trailer {
            return Err(Error::Malformed(
                "SRTCP packet shorter than header and trailer",
            ));
        }
        let at = self.rtcp.rtcp_index_at(buf.len(), self.mki_len());
        let word = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let index = word & 0x7FFF_FFFF;
        let window = self.options.window;
        let mut fresh = None;
        let stream = stream_of(&mut self.rtcp_streams, ssrc, &mut fresh, || {
            RtcpStream::new(window)
        })?;
        stream.replay.check(u64::from(index))?;
        self.rtcp
            .open_rtcp(buf, ssrc, self.options.mki.as_deref())?;
        stream.replay.accept(u64::from(index));
        if let Some(stream) = fresh {
            self.rtcp_streams.insert(ssrc, stream);
        }
        Ok(())
    }
}

/// The stream of `ssrc`: the one kept, or a new one in `fresh` when the
/// context has room (one map lookup for a known stream). The caller keeps
/// `fresh` once the packet has gone through.
fn stream_of<'a, S>(
    streams: &'a mut HashMap<u32, S>,
    ssrc: u32,
    fresh: &'a mut Option<S>,
    new: impl FnOnce() -> S,
) -> Result<&'a mut S, Error> {
    let full = streams.len() >= MAX_STREAMS;
    match streams.get_mut(&ssrc) {
        Some(s) => Ok(s),
        None if full => Err(Error::TooManyStreams),
        None => Ok(fresh.insert(new())),
    }
}

#[cfg(test)]
impl SrtpContext {
    /// A context from session keys, for the RFC 7714 vectors that give
    /// session keys rather than a master key.
    fn gcm_from_session(key: &[u8], salt: [u8; 12]) -> SrtpContext {
        SrtpContext {
            profile: Profile::AeadAes128Gcm,
            options: Options::default(),
            rtp: Transform::gcm_from_session(key, salt).expect("key"),
            rtcp: Transform::gcm_from_session(key, salt).expect("key"),
            rtp_streams: HashMap::new(),
            rtcp_streams: HashMap::new(),
        }
    }
}

#[cfg(test)]
mod tests;
