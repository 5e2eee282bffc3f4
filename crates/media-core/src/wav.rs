//! WAV (RIFF WAVE) files as bytes: 16-bit PCM, A-law and µ-law, any
//! sample rate (8, 16 and 48 kHz are what telephony uses), mono or stereo.
//! Samples are always handed over as linear 16-bit PCM.

use std::fmt;

use codec_core::g711::{Law, decode_into, encode_into};

/// Sample encoding in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WavFormat {
    /// Linear 16-bit little-endian (format tag 1).
    Pcm16,
    /// G.711 A-law (format tag 6).
    ALaw,
    /// G.711 µ-law (format tag 7).
    MuLaw,
}

impl WavFormat {
    fn tag(self) -> u16 {
        match self {
            WavFormat::Pcm16 => 1,
            WavFormat::ALaw => 6,
            WavFormat::MuLaw => 7,
        }
    }

    fn bytes_per_sample(self) -> u16 {
        match self {
            WavFormat::Pcm16 => 2,
            _ => 1,
        }
    }
}

/// Audio read from or to be written to a WAV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wav {
    /// Encoding in the file.
    pub format: WavFormat,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// Channels (1 or 2).
    pub channels: u16,
    /// Interleaved linear samples.
    pub samples: Vec<i16>,
}

/// Why a WAV file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WavError(String);

impl fmt::Display for WavError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WAV: {}", self.0)
    }
}

impl std::error::Error for WavError {}

fn err<T>(msg: impl Into<String>) -> Result<T, WavError> {
    Err(WavError(msg.into()))
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl Wav {
    /// Parses a WAV file. Unknown chunks (LIST, fact, ...) are skipped;
    /// `WAVE_FORMAT_EXTENSIBLE` is accepted when its sub-format is one of
    /// the three supported.
    pub fn parse(bytes: &[u8]) -> Result<Wav, WavError> {
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return err("not a RIFF/WAVE file");
        }
        let mut fmt: Option<(WavFormat, u16, u32)> = None;
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let len = u32_at(bytes, at + 4) as usize;
            let body = at + 8;
            let end = body.checked_add(len).filter(|&e| e <= bytes.len());
            match id {
                b"fmt " => {
                    let end = end.ok_or(WavError("fmt chunk truncated".into()))?;
                    fmt = Some(Wav::parse_fmt(&bytes[body..end])?);
                }
                b"data" => {
                    let Some((format, channels, sample_rate)) = fmt else {
                        return err("data chunk before fmt chunk");
                    };
                    // A streamed file may leave the data length unset.
                    let data = &bytes[body..end.unwrap_or(bytes.len())];
                    let mut samples = Vec::with_capacity(data.len());
                    match format {
                        WavFormat::Pcm16 => samples.extend(
                            data.chunks_exact(2)
                                .map(|c| i16::from_le_bytes([c[0], c[1]])),
                        ),
                        WavFormat::ALaw => decode_into(Law::A, data, &mut samples),
                        WavFormat::MuLaw => decode_into(Law::Mu, data, &mut samples),
                    }
                    samples.truncate(samples.len() - samples.len() % usize::from(channels));
                    return Ok(Wav {
                        format,
                        sample_rate,
                        channels,
                        samples,
                    });
                }
                _ => {}
            }
            at = body + len + (len & 1);
        }
        err("no data chunk")
    }

    fn parse_fmt(b: &[u8]) -> Result<(WavFormat, u16, u32), WavError> {
        if b.len() < 16 {
            return err("fmt chunk shorter than 16 octets");
        }
        let mut tag = u16_at(b, 0);
        if tag == 0xFFFE {
            if b.len() < 26 {
                return err("extensible fmt chunk truncated");
            }
            tag = u16_at(b, 24);
        }
        let (channels, rate, bits) = (u16_at(b, 2), u32_at(b, 4), u16_at(b, 14));
        let format = match (tag, bits) {
            (1, 16) => WavFormat::Pcm16,
            (6, 8) => WavFormat::ALaw,
            (7, 8) => WavFormat::MuLaw,
            _ => {
                return err(format!(
                    "unsupported encoding: format tag {tag}, {bits} bits"
                ));
            }
        };
        if !(1..=2).contains(&channels) {
            return err(format!("{channels} channels (1 or 2 supported)"));
        }
        if !(1000..=192_000).contains(&rate) {
            return err(format!("sample rate {rate} Hz out of range"));
        }
        Ok((format, channels, rate))
    }

    /// Writes the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(self.samples.len() * 2);
        match self.format {
            WavFormat::Pcm16 => {
                for s in &self.samples {
                    data.extend_from_slice(&s.to_le_bytes());
                }
            }
            WavFormat::ALaw => encode_into(Law::A, &self.samples, &mut data),
            WavFormat::MuLaw => encode_into(Law::Mu, &self.samples, &mut data),
        }
        let g711 = self.format != WavFormat::Pcm16;
        // Non-PCM formats carry cbSize and a fact chunk (sample count).
        let fmt_len: u32 = if g711 { 18 } else { 16 };
        let fact_len: u32 = if g711 { 12 } else { 0 };
        let pad = data.len() & 1;
        let riff_len = 4 + 8 + fmt_len + fact_len + 8 + data.len() as u32 + pad as u32;
        let mut out = Vec::with_capacity(riff_len as usize + 8);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&riff_len.to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&fmt_len.to_le_bytes());
        let block = self.channels * self.format.bytes_per_sample();
        out.extend_from_slice(&self.format.tag().to_le_bytes());
        out.extend_from_slice(&self.channels.to_le_bytes());
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&(self.sample_rate * u32::from(block)).to_le_bytes());
        out.extend_from_slice(&block.to_le_bytes());
        out.extend_from_slice(&(8 * self.format.bytes_per_sample()).to_le_bytes());
        if g711 {
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(b"fact");
            out.extend_from_slice(&4u32.to_le_bytes());
            let frames = self.samples.len() as u32 / u32::from(self.channels.max(1));
            out.extend_from_slice(&frames.to_le_bytes());
        }
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&data);
        if pad == 1 {
            out.push(0);
        }
        out
    }
}
