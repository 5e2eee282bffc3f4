//! Codecs by SDP encoding name, clock rate and channels (`a=rtpmap`), with
//! the settings an `a=fmtp` line and `a=ptime` carry.

use crate::g711::{G711Decoder, G711Encoder, Law};
use crate::g722::{G722Decoder, G722Encoder};
use crate::opus::{OpusConfig, OpusDecoder, OpusEncoder};
use crate::{Decoder, Encoder, Error, Result};

/// Settings for a codec instance.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Params {
    /// Frame duration in milliseconds.
    pub ptime_ms: u32,
    /// Opus: PCM sample rate (libopus resamples internally); default 48000.
    pub sample_rate: Option<u32>,
    /// Opus: target bitrate (`maxaveragebitrate`).
    pub bitrate: Option<u32>,
    /// Opus: in-band FEC (`useinbandfec=1`).
    pub fec: bool,
    /// Opus: discontinuous transmission (`usedtx=1`).
    pub dtx: bool,
    /// Opus: stereo PCM (`stereo=1`).
    pub stereo: bool,
    /// Opus: encoder complexity 0–10.
    pub complexity: Option<u8>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            ptime_ms: 20,
            sample_rate: None,
            bitrate: None,
            fec: false,
            dtx: false,
            stereo: false,
            complexity: None,
        }
    }
}

impl Params {
    /// Applies the parameters of an `a=fmtp` value (`useinbandfec=1;
    /// usedtx=1; maxaveragebitrate=24000; stereo=1; maxplaybackrate=16000`).
    /// Unknown parameters are ignored (RFC 8866 §6.15); a known one with a
    /// bad value is an error naming it.
    pub fn with_fmtp(mut self, fmtp: &str) -> Result<Self> {
        for item in fmtp.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, ""));
            let (name, value) = (name.trim(), value.trim());
            let bad = || Error::Unsupported(format!("fmtp {name}={value}"));
            let flag = || match value {
                "0" => Ok(false),
                "1" => Ok(true),
                _ => Err(bad()),
            };
            let number = || value.parse::<u32>().map_err(|_| bad());
            match name.to_ascii_lowercase().as_str() {
                "useinbandfec" => self.fec = flag()?,
                "usedtx" => self.dtx = flag()?,
                "stereo" => self.stereo = flag()?,
                "maxaveragebitrate" => {
                    let b = number()?;
                    if !(6000..=510_000).contains(&b) {
                        return Err(bad());
                    }
                    self.bitrate = Some(b);
                }
                "maxplaybackrate" => {
                    let r = number()?;
                    // The lowest Opus rate that still carries `r`.
                    let rate = [8000, 12000, 16000, 24000, 48000]
                        .into_iter()
                        .find(|&x| x >= r)
                        .ok_or_else(bad)?;
                    self.sample_rate = Some(rate);
                }
                "ptime" => self.ptime_ms = number()?,
                _ => {}
            }
        }
        Ok(self)
    }

    fn opus(&self) -> OpusConfig {
        let d = OpusConfig::default();
        OpusConfig {
            sample_rate: self.sample_rate.unwrap_or(d.sample_rate),
            channels: if self.stereo { 2 } else { 1 },
            ptime_ms: self.ptime_ms,
            bitrate: self.bitrate,
            fec: self.fec,
            dtx: self.dtx,
            complexity: self.complexity.unwrap_or(d.complexity),
            expected_loss: if self.fec { 10 } else { 0 },
        }
    }

    fn check_ptime(&self, name: &str, allowed: impl Fn(u32) -> bool) -> Result<()> {
        if allowed(self.ptime_ms) {
            Ok(())
        } else {
            Err(Error::Unsupported(format!(
                "{name} with ptime {} ms",
                self.ptime_ms
            )))
        }
    }
}

type MakeEncoder = fn(&Params) -> Result<Box<dyn Encoder>>;
type MakeDecoder = fn(&Params) -> Result<Box<dyn Decoder>>;

/// One codec the registry can make.
#[derive(Clone, Copy, Debug)]
pub struct CodecSpec {
    /// Encoding name as in `a=rtpmap` (matched case-insensitively).
    pub name: &'static str,
    /// RTP clock rate.
    pub clock_rate: u32,
    /// Channels as written in `a=rtpmap` (Opus is always `2`, RFC 7587).
    pub channels: u8,
    /// Static payload type, if any.
    pub static_payload_type: Option<u8>,
    make_encoder: MakeEncoder,
    make_decoder: MakeDecoder,
}

impl CodecSpec {
    /// A codec made by the given constructors.
    pub fn new(
        name: &'static str,
        clock_rate: u32,
        channels: u8,
        static_payload_type: Option<u8>,
        make_encoder: MakeEncoder,
        make_decoder: MakeDecoder,
    ) -> Self {
        CodecSpec {
            name,
            clock_rate,
            channels,
            static_payload_type,
            make_encoder,
            make_decoder,
        }
    }
}

/// Whole milliseconds up to 200 that fill whole frames.
fn g7xx_ptime(p: u32) -> bool {
    (1..=200).contains(&p)
}

fn pcmu_enc(p: &Params) -> Result<Box<dyn Encoder>> {
    p.check_ptime("PCMU", g7xx_ptime)?;
    Ok(Box::new(G711Encoder::new(Law::Mu, p.ptime_ms)))
}
fn pcmu_dec(p: &Params) -> Result<Box<dyn Decoder>> {
    Ok(Box::new(G711Decoder::new(Law::Mu, p.ptime_ms)))
}
fn pcma_enc(p: &Params) -> Result<Box<dyn Encoder>> {
    p.check_ptime("PCMA", g7xx_ptime)?;
    Ok(Box::new(G711Encoder::new(Law::A, p.ptime_ms)))
}
fn pcma_dec(p: &Params) -> Result<Box<dyn Decoder>> {
    Ok(Box::new(G711Decoder::new(Law::A, p.ptime_ms)))
}
fn g722_enc(p: &Params) -> Result<Box<dyn Encoder>> {
    p.check_ptime("G722", g7xx_ptime)?;
    Ok(Box::new(G722Encoder::new(p.ptime_ms)))
}
fn g722_dec(p: &Params) -> Result<Box<dyn Decoder>> {
    Ok(Box::new(G722Decoder::new(p.ptime_ms)))
}
fn opus_enc(p: &Params) -> Result<Box<dyn Encoder>> {
    Ok(Box::new(OpusEncoder::new(p.opus())?))
}
fn opus_dec(p: &Params) -> Result<Box<dyn Decoder>> {
    Ok(Box::new(OpusDecoder::new(p.opus())?))
}

/// The codecs an application offers and accepts.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    specs: Vec<CodecSpec>,
}

impl Registry {
    /// No codecs.
    pub fn new() -> Self {
        Registry::default()
    }

    /// PCMU, PCMA, G722 and opus, in a softphone's usual preference order:
    /// opus, G722, PCMU, PCMA.
    pub fn with_defaults() -> Self {
        let mut r = Registry::new();
        r.register(CodecSpec::new("opus", 48000, 2, None, opus_enc, opus_dec));
        r.register(CodecSpec::new("G722", 8000, 1, Some(9), g722_enc, g722_dec));
        r.register(CodecSpec::new("PCMU", 8000, 1, Some(0), pcmu_enc, pcmu_dec));
        r.register(CodecSpec::new("PCMA", 8000, 1, Some(8), pcma_enc, pcma_dec));
        r
    }

    /// Adds (or replaces, by name and clock rate) a codec.
    pub fn register(&mut self, spec: CodecSpec) {
        self.specs.retain(|s| {
            !(s.name.eq_ignore_ascii_case(spec.name) && s.clock_rate == spec.clock_rate)
        });
        self.specs.push(spec);
    }

    /// The registered codecs in preference order.
    pub fn specs(&self) -> &[CodecSpec] {
        &self.specs
    }

    /// The codec of an `a=rtpmap` entry. `channels` 1 also matches Opus's
    /// mandatory `/2`.
    pub fn find(&self, name: &str, clock_rate: u32, channels: u8) -> Option<&CodecSpec> {
        self.specs.iter().find(|s| {
            s.name.eq_ignore_ascii_case(name)
                && s.clock_rate == clock_rate
                && (s.channels == channels || (s.channels == 2 && channels == 1))
        })
    }

    /// The codec with a static payload type (RFC 3551 Table 4).
    pub fn by_static_payload_type(&self, pt: u8) -> Option<&CodecSpec> {
        self.specs
            .iter()
            .find(|s| s.static_payload_type == Some(pt))
    }

    fn get(&self, name: &str, clock_rate: u32, channels: u8) -> Result<&CodecSpec> {
        self.find(name, clock_rate, channels)
            .ok_or_else(|| Error::Unsupported(format!("codec {name}/{clock_rate}/{channels}")))
    }

    /// An encoder for `name/clock_rate/channels`.
    pub fn encoder(
        &self,
        name: &str,
        clock_rate: u32,
        channels: u8,
        params: &Params,
    ) -> Result<Box<dyn Encoder>> {
        (self.get(name, clock_rate, channels)?.make_encoder)(params)
    }

    /// A decoder for `name/clock_rate/channels`.
    pub fn decoder(
        &self,
        name: &str,
        clock_rate: u32,
        channels: u8,
        params: &Params,
    ) -> Result<Box<dyn Decoder>> {
        (self.get(name, clock_rate, channels)?.make_decoder)(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_rtpmap_and_payload_type() {
        let r = Registry::with_defaults();
        assert_eq!(
            r.find("pcma", 8000, 1).map(|s| s.static_payload_type),
            Some(Some(8))
        );
        assert!(r.find("PCMA", 16000, 1).is_none());
        assert_eq!(r.find("OPUS", 48000, 2).map(|s| s.name), Some("opus"));
        assert_eq!(r.by_static_payload_type(9).map(|s| s.name), Some("G722"));
        assert!(r.encoder("GSM", 8000, 1, &Params::default()).is_err());
        let g722 = r
            .encoder("G722", 8000, 1, &Params::default())
            .expect("g722");
        assert_eq!(
            (g722.info().sample_rate, g722.info().frame_len()),
            (16000, 320)
        );
    }

    #[test]
    fn fmtp_sets_opus() {
        let p = Params::default()
            .with_fmtp("minptime=10; useinbandfec=1; usedtx=1; maxaveragebitrate=24000; maxplaybackrate=16000")
            .expect("fmtp");
        assert!(p.fec && p.dtx && !p.stereo);
        assert_eq!((p.bitrate, p.sample_rate), (Some(24000), Some(16000)));
        let r = Registry::with_defaults();
        let enc = r.encoder("opus", 48000, 2, &p).expect("opus");
        assert_eq!(
            (enc.info().sample_rate, enc.info().clock_rate),
            (16000, 48000)
        );
        assert_eq!(enc.info().frame_ticks(), 960);
        let e = Params::default()
            .with_fmtp("useinbandfec=yes")
            .expect_err("bad flag");
        assert!(e.to_string().contains("useinbandfec"), "{e}");
        assert!(
            Params {
                ptime_ms: 0,
                ..Params::default()
            }
            .check_ptime("PCMU", g7xx_ptime)
            .is_err()
        );
    }
}
