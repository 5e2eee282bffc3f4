//! Audio codecs for rvoip: pure sample-in, payload-out code with no I/O.
//!
//! - [`g711`]: G.711 µ-law (PCMU) and A-law (PCMA), bit-exact to the ITU-T
//!   G.191 reference over every input value;
//! - [`g722`]: G.722 SB-ADPCM at 64 kbit/s on 16 kHz audio;
//! - [`opus`]: Opus through the system libopus (8–48 kHz, 10–60 ms frames,
//!   in-band FEC, DTX, bitrate and complexity);
//! - [`telephone_event`]: the RFC 4733 DTMF event payload;
//! - [`comfort_noise`]: RFC 3389 comfort noise, analysis and generation;
//! - [`resample`]: sample-rate conversion between 8, 16 and 48 kHz;
//! - [`Registry`]: encoders and decoders by SDP encoding name and clock rate.
//!
//! Every codec works on frames of interleaved signed 16-bit PCM at the
//! codec's own sample rate ([`CodecInfo::sample_rate`], which for G.722
//! differs from the RTP clock rate, RFC 3551 §4.5.2). It is not an RTP
//! stack (see rtp-core) and does no mixing or jitter buffering (media-core).
//!
//! ```
//! use codec_core::{Params, Registry};
//!
//! let registry = Registry::with_defaults();
//! let params = Params::default(); // 20 ms frames
//! let mut enc = registry.encoder("PCMU", 8000, 1, &params).unwrap();
//! let mut dec = registry.decoder("pcmu", 8000, 1, &params).unwrap();
//! let pcm = vec![1000i16; enc.info().frame_samples()];
//! let mut payload = Vec::new();
//! enc.encode(&pcm, &mut payload).unwrap();
//! assert_eq!(payload.len(), 160);
//! let mut out = Vec::new();
//! dec.decode(&payload, &mut out).unwrap();
//! assert!((i32::from(out[0]) - 1000).abs() < 40);
//! ```

pub mod comfort_noise;
mod error;
pub mod g711;
pub mod g722;
pub mod opus;
mod registry;
pub mod resample;
pub mod signal;
pub mod telephone_event;

pub use error::Error;
pub use registry::{CodecSpec, Params, Registry};

/// Result of codec operations.
pub type Result<T> = std::result::Result<T, Error>;

/// What a codec instance is and the frames it takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CodecInfo {
    /// The encoding name as registered for SDP (`PCMU`, `G722`, `opus`...).
    pub name: &'static str,
    /// The static RTP payload type, when RFC 3551 assigns one.
    pub static_payload_type: Option<u8>,
    /// The RTP timestamp clock rate (8000 for G.722, 48000 for Opus).
    pub clock_rate: u32,
    /// The rate of the PCM the codec takes and gives.
    pub sample_rate: u32,
    /// Interleaved channels in the PCM.
    pub channels: u8,
    /// Frame duration in milliseconds (the SDP `ptime`).
    pub ptime_ms: u32,
}

impl CodecInfo {
    /// Samples per channel in one frame.
    pub fn frame_samples(&self) -> usize {
        (self.sample_rate / 1000 * self.ptime_ms) as usize
    }

    /// Interleaved samples (all channels) in one frame.
    pub fn frame_len(&self) -> usize {
        self.frame_samples() * usize::from(self.channels)
    }

    /// RTP timestamp units one frame advances.
    pub fn frame_ticks(&self) -> u32 {
        self.clock_rate / 1000 * self.ptime_ms
    }

    fn check_frame(&self, pcm: &[i16]) -> Result<()> {
        if pcm.len() == self.frame_len() {
            Ok(())
        } else {
            Err(Error::BadFrame(format!(
                "{} expects {} samples per frame ({} ms, {} channel(s)), got {}",
                self.name,
                self.frame_len(),
                self.ptime_ms,
                self.channels,
                pcm.len()
            )))
        }
    }
}

/// Turns frames of PCM into RTP payloads.
pub trait Encoder: Send {
    /// The codec and frame this encoder takes.
    fn info(&self) -> CodecInfo;
    /// Encodes exactly one frame ([`CodecInfo::frame_len`] interleaved
    /// samples), appending the payload to `out`; returns its length.
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<usize>;
}

/// Turns RTP payloads back into PCM.
pub trait Decoder: Send {
    /// The codec and frame this decoder gives.
    fn info(&self) -> CodecInfo;
    /// Decodes one payload, appending interleaved PCM to `out`; returns the
    /// number of samples appended.
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize>;
    /// Fills in for a lost payload of `samples` samples per channel with
    /// the codec's own concealment. Returns `Ok(false)` and appends nothing
    /// when the codec has none (G.711, G.722): the caller then conceals
    /// (media-core's packet loss concealment).
    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) -> Result<bool> {
        let _ = (samples, out);
        Ok(false)
    }
}
