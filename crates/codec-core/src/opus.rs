//! Opus (RFC 6716) through the system libopus, with the RTP conventions of
//! RFC 7587: `opus/48000/2` in SDP whatever is actually coded, a 48 kHz RTP
//! clock, and the fmtp parameters (`useinbandfec`, `usedtx`, `stereo`,
//! `maxaveragebitrate`) mapped onto [`OpusConfig`].

use opusic_c::{Application, Bitrate, Channels, InbandFec, SampleRate, Signal};

use crate::{CodecInfo, Decoder, Encoder, Error, Result};

/// Largest Opus packet libopus produces for one frame (RFC 6716 §3.4).
const MAX_PACKET: usize = 1275 * 3 + 7;

/// How an Opus encoder and decoder are set up.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpusConfig {
    /// PCM sample rate: 8000, 12000, 16000, 24000 or 48000.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u8,
    /// Frame duration: 10, 20, 40 or 60 ms.
    pub ptime_ms: u32,
    /// Target bitrate in bit/s (`None`: libopus chooses).
    pub bitrate: Option<u32>,
    /// In-band forward error correction (`useinbandfec=1`).
    pub fec: bool,
    /// Discontinuous transmission (`usedtx=1`).
    pub dtx: bool,
    /// Encoder complexity 0–10.
    pub complexity: u8,
    /// Expected packet loss in percent, which sizes the FEC.
    pub expected_loss: u8,
}

impl Default for OpusConfig {
    fn default() -> Self {
        OpusConfig {
            sample_rate: 48000,
            channels: 1,
            ptime_ms: 20,
            bitrate: None,
            fec: false,
            dtx: false,
            complexity: 9,
            expected_loss: 0,
        }
    }
}

impl OpusConfig {
    fn info(&self) -> CodecInfo {
        CodecInfo {
            name: "opus",
            static_payload_type: None,
            clock_rate: 48000,
            sample_rate: self.sample_rate,
            channels: self.channels,
            ptime_ms: self.ptime_ms,
        }
    }

    fn check(&self) -> Result<(SampleRate, Channels)> {
        let rate = match self.sample_rate {
            8000 => SampleRate::Hz8000,
            12000 => SampleRate::Hz12000,
            16000 => SampleRate::Hz16000,
            24000 => SampleRate::Hz24000,
            48000 => SampleRate::Hz48000,
            r => return Err(Error::Unsupported(format!("Opus sample rate {r}"))),
        };
        let channels = match self.channels {
            1 => Channels::Mono,
            2 => Channels::Stereo,
            c => return Err(Error::Unsupported(format!("Opus with {c} channels"))),
        };
        if ![10, 20, 40, 60].contains(&self.ptime_ms) {
            return Err(Error::Unsupported(format!(
                "Opus frame of {} ms (10, 20, 40 or 60)",
                self.ptime_ms
            )));
        }
        if self.complexity > 10 || self.expected_loss > 100 {
            return Err(Error::Unsupported(
                "Opus complexity above 10 or loss above 100%".into(),
            ));
        }
        Ok((rate, channels))
    }
}

fn lib(e: opusic_c::ErrorCode) -> Error {
    Error::Codec(format!("libopus: {}", e.message()))
}

/// Bits as libopus's 16-bit PCM buffers take them (the wrapper types PCM as `u16`).
fn to_lib(pcm: &[i16], buf: &mut Vec<u16>) {
    buf.clear();
    buf.extend(pcm.iter().map(|&s| s as u16));
}

/// An Opus encoder.
pub struct OpusEncoder {
    config: OpusConfig,
    inner: opusic_c::Encoder,
    buf: Vec<u16>,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("config", &self.config)
            .finish()
    }
}

impl OpusEncoder {
    /// A VoIP-tuned encoder for `config`.
    pub fn new(config: OpusConfig) -> Result<Self> {
        let (rate, channels) = config.check()?;
        let mut inner = opusic_c::Encoder::new(channels, rate, Application::Voip).map_err(lib)?;
        inner
            .set_bitrate(config.bitrate.map_or(Bitrate::Auto, Bitrate::Value))
            .map_err(lib)?;
        inner.set_complexity(config.complexity).map_err(lib)?;
        inner
            .set_inband_fec(if config.fec {
                InbandFec::Mode1
            } else {
                InbandFec::Off
            })
            .map_err(lib)?;
        inner.set_packet_loss(config.expected_loss).map_err(lib)?;
        inner.set_dtx(config.dtx).map_err(lib)?;
        inner.set_signal(Signal::Voice).map_err(lib)?;
        Ok(OpusEncoder {
            config,
            inner,
            buf: Vec::new(),
        })
    }
}

impl Encoder for OpusEncoder {
    fn info(&self) -> CodecInfo {
        self.config.info()
    }

    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<usize> {
        self.config.info().check_frame(pcm)?;
        to_lib(pcm, &mut self.buf);
        // libopus writes into the spare capacity: nothing to zero first.
        out.reserve(MAX_PACKET);
        self.inner.encode_to_vec(&self.buf, out).map_err(lib)
    }
}

/// The largest number of interleaved samples one packet decodes to (120 ms).
fn max_len(config: &OpusConfig) -> usize {
    config.sample_rate as usize / 1000 * 120 * usize::from(config.channels)
}

/// An Opus decoder, with libopus's concealment and in-band FEC recovery.
pub struct OpusDecoder {
    config: OpusConfig,
    inner: opusic_c::Decoder,
    buf: Vec<u16>,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("config", &self.config)
            .finish()
    }
}

impl OpusDecoder {
    /// A decoder producing PCM at `config.sample_rate` and `config.channels`.
    pub fn new(config: OpusConfig) -> Result<Self> {
        let (rate, channels) = config.check()?;
        let inner = opusic_c::Decoder::new(channels, rate).map_err(lib)?;
        Ok(OpusDecoder {
            config,
            inner,
            // Sized once for the longest packet (120 ms), reused per call.
            buf: vec![0; max_len(&config)],
        })
    }

    fn run(&mut self, payload: &[u8], len: usize, fec: bool, out: &mut Vec<i16>) -> Result<usize> {
        if len > self.buf.len() {
            return Err(Error::BadFrame(format!(
                "Opus frames are at most 120 ms, not {len} samples"
            )));
        }
        let per_channel = self
            .inner
            .decode_to_slice(payload, &mut self.buf[..len], fec)
            .map_err(lib)?;
        let n = per_channel * usize::from(self.config.channels);
        out.extend(self.buf[..n].iter().map(|&s| s as i16));
        Ok(n)
    }

    /// Recovers a lost frame of `samples` samples per channel from the
    /// in-band FEC carried by the packet that followed it (`next`).
    pub fn decode_fec(&mut self, next: &[u8], samples: usize, out: &mut Vec<i16>) -> Result<usize> {
        if next.is_empty() {
            return Err(Error::BadPayload("empty Opus packet".into()));
        }
        self.run(next, samples * usize::from(self.config.channels), true, out)
    }
}

impl Decoder for OpusDecoder {
    fn info(&self) -> CodecInfo {
        self.config.info()
    }

    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize> {
        if payload.is_empty() {
            return Err(Error::BadPayload("empty Opus packet".into()));
        }
        let len = self.buf.len();
        self.run(payload, len, false, out)
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) -> Result<bool> {
        self.run(&[], samples * usize::from(self.config.channels), false, out)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{aligned_snr_db, rms, tones};

    fn config(rate: u32, ptime: u32) -> OpusConfig {
        OpusConfig {
            sample_rate: rate,
            ptime_ms: ptime,
            bitrate: Some(32000),
            ..OpusConfig::default()
        }
    }

    #[test]
    fn every_rate_and_frame_size_round_trips() {
        for rate in [8000, 16000, 48000] {
            for ptime in [10, 20, 40, 60] {
                let c = config(rate, ptime);
                let mut enc = OpusEncoder::new(c).expect("encoder");
                let mut dec = OpusDecoder::new(c).expect("decoder");
                let pcm = tones(rate, rate as usize, &[(440.0, 8000.0), (1000.0, 4000.0)]);
                let mut out = Vec::new();
                for frame in pcm.chunks_exact(enc.info().frame_len()) {
                    let mut packet = Vec::new();
                    enc.encode(frame, &mut packet).expect("encode");
                    let n = dec.decode(&packet, &mut out).expect("decode");
                    assert_eq!(n, frame.len());
                }
                let (snr, _) = aligned_snr_db(&pcm[..pcm.len() / 2], &out, rate as usize / 50);
                assert!(snr > 10.0, "{rate} Hz {ptime} ms: snr {snr:.1} dB");
            }
        }
    }

    #[test]
    fn fec_recovers_a_lost_frame_and_plc_fills_in() {
        let c = OpusConfig {
            fec: true,
            expected_loss: 20,
            sample_rate: 16000,
            ..config(16000, 20)
        };
        let mut enc = OpusEncoder::new(c).expect("encoder");
        let mut dec = OpusDecoder::new(c).expect("decoder");
        let pcm = tones(16000, 16000, &[(300.0, 8000.0), (700.0, 5000.0)]);
        let packets: Vec<Vec<u8>> = pcm
            .chunks_exact(320)
            .map(|f| {
                let mut p = Vec::new();
                enc.encode(f, &mut p).expect("encode");
                p
            })
            .collect();
        let mut out = Vec::new();
        for p in &packets[..20] {
            dec.decode(p, &mut out).expect("decode");
        }
        // Packet 20 lost: recovered from 21's FEC, then 21 decoded.
        let mut recovered = Vec::new();
        assert_eq!(dec.decode_fec(&packets[21], 320, &mut recovered), Ok(320));
        assert!(rms(&recovered) > 1000.0, "FEC gave {:.0}", rms(&recovered));
        dec.decode(&packets[21], &mut out).expect("decode");
        // Packet 22 lost with nothing after it: concealment.
        let mut concealed = Vec::new();
        assert_eq!(dec.conceal(320, &mut concealed), Ok(true));
        assert_eq!(concealed.len(), 320);
        assert!(rms(&concealed) > 500.0);
    }

    #[test]
    fn dtx_sends_tiny_packets_in_silence() {
        let c = OpusConfig {
            dtx: true,
            ..config(48000, 20)
        };
        let mut enc = OpusEncoder::new(c).expect("encoder");
        let sizes: Vec<usize> = (0..50)
            .map(|_| {
                let mut p = Vec::new();
                enc.encode(&[0; 960], &mut p).expect("encode")
            })
            .collect();
        // After a few frames only 1-byte packets, with a refresh every 400 ms.
        let tiny = sizes[10..].iter().filter(|&&n| n <= 3).count();
        assert!(tiny >= 36, "{sizes:?}");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(OpusEncoder::new(config(44100, 20)).is_err());
        assert!(OpusEncoder::new(config(48000, 25)).is_err());
        let mut dec = OpusDecoder::new(config(48000, 20)).expect("decoder");
        assert!(dec.decode(&[], &mut Vec::new()).is_err());
        // A TOC byte claiming a code-3 packet with no frame count is invalid.
        assert!(dec.decode(&[0x03], &mut Vec::new()).is_err());
    }
}
