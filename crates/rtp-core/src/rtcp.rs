//! RTCP (RFC 3550 §6): sender and receiver reports, SDES, BYE and APP,
//! parsed from and written to compound packets (§6.1, validity per A.2).

use crate::Error;

/// Packet types.
const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
const APP: u8 = 204;

/// One reception report block (§6.4.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (24-bit signed: duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_sequence: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received (0: none).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn parse(b: &[u8]) -> ReportBlock {
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        // Sign-extend the 24-bit count.
        let lost = (word(4) << 8) as i32 >> 8;
        ReportBlock {
            ssrc: word(0),
            fraction_lost: b[4],
            cumulative_lost: lost,
            highest_sequence: word(8),
            jitter: word(12),
            last_sr: word(16),
            delay_since_last_sr: word(20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        let lost = (self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0x00FF_FFFF;
        out.extend_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        for w in [
            self.highest_sequence,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        ] {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }
}

/// Sender information of an SR (§6.4.1).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SenderInfo {
    /// NTP timestamp (seconds since 1900 in the top 32 bits, fraction below).
    pub ntp: u64,
    /// The same instant as an RTP timestamp.
    pub rtp_timestamp: u32,
    /// Packets sent since starting.
    pub packet_count: u32,
    /// Payload octets sent since starting.
    pub octet_count: u32,
}

/// An SDES item (§6.5): type 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC,
/// 6 TOOL, 7 NOTE, 8 PRIV.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SdesItem {
    /// Item type, 1–255.
    pub kind: u8,
    /// Text (UTF-8 by the RFC; kept as bytes).
    pub text: Vec<u8>,
}

/// CNAME item type.
pub const CNAME: u8 = 1;

/// One RTCP packet of a compound packet.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RtcpPacket {
    /// Sender report.
    SenderReport {
        /// The sender.
        ssrc: u32,
        /// What it sent.
        info: SenderInfo,
        /// What it received.
        reports: Vec<ReportBlock>,
    },
    /// Receiver report.
    ReceiverReport {
        /// The reporter.
        ssrc: u32,
        /// What it received.
        reports: Vec<ReportBlock>,
    },
    /// Source description: `(ssrc, items)` chunks.
    SourceDescription(Vec<(u32, Vec<SdesItem>)>),
    /// Goodbye from these sources, with an optional reason.
    Bye {
        /// The sources leaving.
        sources: Vec<u32>,
        /// Why.
        reason: Option<Vec<u8>>,
    },
    /// Application-defined.
    App {
        /// Subtype (5 bits).
        subtype: u8,
        /// The source.
        ssrc: u32,
        /// Four ASCII characters.
        name: [u8; 4],
        /// Data, a multiple of 4 bytes.
        data: Vec<u8>,
    },
    /// A packet type this crate does not interpret (feedback, XR...).
    Other {
        /// Packet type.
        packet_type: u8,
        /// The count field.
        count: u8,
        /// The body after the 4-byte header.
        body: Vec<u8>,
    },
}

fn word(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Parses a compound packet; per A.2 the first packet must be an SR or RR,
/// only the last may be padded, and the lengths must add up exactly.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, Error> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        if buf.len() - pos < 4 {
            return Err(Error::Truncated("RTCP header"));
        }
        let b0 = buf[pos];
        if b0 >> 6 != 2 {
            return Err(Error::Invalid("RTCP version is not 2"));
        }
        let count = b0 & 0x1F;
        let packet_type = buf[pos + 1];
        let len = 4 * (usize::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]])) + 1);
        if buf.len() - pos < len {
            return Err(Error::Truncated("RTCP packet"));
        }
        let mut body = &buf[pos + 4..pos + len];
        if b0 & 0x20 != 0 {
            if pos + len != buf.len() {
                return Err(Error::Invalid("RTCP padding before the last packet"));
            }
            let pad = usize::from(*body.last().ok_or(Error::Invalid("RTCP padding"))?);
            if pad == 0 || pad > body.len() {
                return Err(Error::Invalid("RTCP padding count"));
            }
            body = &body[..body.len() - pad];
        }
        if out.is_empty() && packet_type != SR && packet_type != RR {
            return Err(Error::Invalid("compound RTCP must start with SR or RR"));
        }
        out.push(parse_one(packet_type, count, body)?);
        pos += len;
    }
    if out.is_empty() {
        return Err(Error::Truncated("RTCP packet"));
    }
    Ok(out)
}

fn reports(body: &[u8], count: u8) -> Result<Vec<ReportBlock>, Error> {
    let n = usize::from(count);
    if body.len() < 24 * n {
        return Err(Error::Truncated("RTCP report blocks"));
    }
    Ok(body
        .chunks_exact(24)
        .take(n)
        .map(ReportBlock::parse)
        .collect())
}

fn parse_one(packet_type: u8, count: u8, body: &[u8]) -> Result<RtcpPacket, Error> {
    Ok(match packet_type {
        SR => {
            if body.len() < 24 {
                return Err(Error::Truncated("RTCP SR"));
            }
            RtcpPacket::SenderReport {
                ssrc: word(body, 0),
                info: SenderInfo {
                    ntp: (u64::from(word(body, 4)) << 32) | u64::from(word(body, 8)),
                    rtp_timestamp: word(body, 12),
                    packet_count: word(body, 16),
                    octet_count: word(body, 20),
                },
                reports: reports(&body[24..], count)?,
            }
        }
        RR => {
            if body.len() < 4 {
                return Err(Error::Truncated("RTCP RR"));
            }
            RtcpPacket::ReceiverReport {
                ssrc: word(body, 0),
                reports: reports(&body[4..], count)?,
            }
        }
        SDES => RtcpPacket::SourceDescription(parse_sdes(body, count)?),
        BYE => {
            let n = usize::from(count);
            if body.len() < 4 * n {
                return Err(Error::Truncated("RTCP BYE"));
            }
            let sources = (0..n).map(|i| word(body, 4 * i)).collect();
            let rest = &body[4 * n..];
            let reason = match rest.first() {
                Some(&len) if usize::from(len) < rest.len() => {
                    Some(rest[1..1 + usize::from(len)].to_vec())
                }
                Some(&len) if len > 0 => return Err(Error::Truncated("RTCP BYE reason")),
                _ => None,
            };
            RtcpPacket::Bye { sources, reason }
        }
        APP => {
            if body.len() < 8 {
                return Err(Error::Truncated("RTCP APP"));
            }
            RtcpPacket::App {
                subtype: count,
                ssrc: word(body, 0),
                name: [body[4], body[5], body[6], body[7]],
                data: body[8..].to_vec(),
            }
        }
        _ => RtcpPacket::Other {
            packet_type,
            count,
            body: body.to_vec(),
        },
    })
}

fn parse_sdes(body: &[u8], count: u8) -> Result<Vec<(u32, Vec<SdesItem>)>, Error> {
    let mut chunks = Vec::new();
    let mut pos = 0;
    for _ in 0..count {
        if body.len() < pos + 4 {
            return Err(Error::Truncated("RTCP SDES chunk"));
        }
        let ssrc = word(body, pos);
        pos += 4;
        let mut items = Vec::new();
        loop {
            let kind = *body.get(pos).ok_or(Error::Truncated("RTCP SDES item"))?;
            if kind == 0 {
                // End of list, then pad to the next 32-bit boundary.
                pos = (pos + 4) & !3;
                break;
            }
            let len = usize::from(
                *body
                    .get(pos + 1)
                    .ok_or(Error::Truncated("RTCP SDES item"))?,
            );
            let text = body
                .get(pos + 2..pos + 2 + len)
                .ok_or(Error::Truncated("RTCP SDES item"))?;
            items.push(SdesItem {
                kind,
                text: text.to_vec(),
            });
            pos += 2 + len;
        }
        chunks.push((ssrc, items));
    }
    Ok(chunks)
}

impl RtcpPacket {
    /// Appends the packet (lengths and counts filled in) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        let too_many = || Error::Invalid("more than 31 items in one RTCP packet");
        let (count, packet_type) = match self {
            RtcpPacket::SenderReport { reports, .. } => (reports.len(), SR),
            RtcpPacket::ReceiverReport { reports, .. } => (reports.len(), RR),
            RtcpPacket::SourceDescription(chunks) => (chunks.len(), SDES),
            RtcpPacket::Bye { sources, .. } => (sources.len(), BYE),
            RtcpPacket::App { subtype, .. } => (usize::from(*subtype), APP),
            RtcpPacket::Other {
                packet_type, count, ..
            } => (usize::from(*count), *packet_type),
        };
        if count > 31 {
            return Err(too_many());
        }
        out.extend_from_slice(&[0x80 | count as u8, packet_type, 0, 0]);
        match self {
            RtcpPacket::SenderReport {
                ssrc,
                info,
                reports,
            } => {
                out.extend_from_slice(&ssrc.to_be_bytes());
                out.extend_from_slice(&info.ntp.to_be_bytes());
                out.extend_from_slice(&info.rtp_timestamp.to_be_bytes());
                out.extend_from_slice(&info.packet_count.to_be_bytes());
                out.extend_from_slice(&info.octet_count.to_be_bytes());
                reports.iter().for_each(|r| r.write(out));
            }
            RtcpPacket::ReceiverReport { ssrc, reports } => {
                out.extend_from_slice(&ssrc.to_be_bytes());
                reports.iter().for_each(|r| r.write(out));
            }
            RtcpPacket::SourceDescription(chunks) => {
                for (ssrc, items) in chunks {
                    out.extend_from_slice(&ssrc.to_be_bytes());
                    for item in items {
                        let len = u8::try_from(item.text.len())
                            .map_err(|_| Error::Invalid("SDES item over 255 bytes"))?;
                        out.push(item.kind);
                        out.push(len);
                        out.extend_from_slice(&item.text);
                    }
                    // At least one null octet, then to a 32-bit boundary.
                    out.push(0);
                    crate::pad_to_word(out, start);
                }
            }
            RtcpPacket::Bye { sources, reason } => {
                sources
                    .iter()
                    .for_each(|s| out.extend_from_slice(&s.to_be_bytes()));
                if let Some(r) = reason {
                    let len = u8::try_from(r.len())
                        .map_err(|_| Error::Invalid("BYE reason over 255 bytes"))?;
                    out.push(len);
                    out.extend_from_slice(r);
                    crate::pad_to_word(out, start);
                }
            }
            RtcpPacket::App {
                ssrc, name, data, ..
            } => {
                if data.len() % 4 != 0 {
                    return Err(Error::Invalid("APP data not a multiple of 4 bytes"));
                }
                out.extend_from_slice(&ssrc.to_be_bytes());
                out.extend_from_slice(name);
                out.extend_from_slice(data);
            }
            RtcpPacket::Other { body, .. } => {
                if body.len() % 4 != 0 {
                    return Err(Error::Invalid("RTCP body not a multiple of 4 bytes"));
                }
                out.extend_from_slice(body);
            }
        }
        let words = (out.len() - start) / 4 - 1;
        let words = u16::try_from(words).map_err(|_| Error::Invalid("RTCP packet too long"))?;
        out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
        Ok(())
    }
}

/// Writes a compound packet.
pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) -> Result<(), Error> {
    packets.iter().try_for_each(|p| p.write(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<RtcpPacket> {
        let block = ReportBlock {
            ssrc: 0xAABB_CCDD,
            fraction_lost: 25,
            cumulative_lost: -3,
            highest_sequence: 0x0001_0005,
            jitter: 42,
            last_sr: 0x1234_5678,
            delay_since_last_sr: 65536,
        };
        vec![
            RtcpPacket::SenderReport {
                ssrc: 1,
                info: SenderInfo {
                    ntp: 0xE000_0000_8000_0000,
                    rtp_timestamp: 160,
                    packet_count: 10,
                    octet_count: 1600,
                },
                reports: vec![block],
            },
            RtcpPacket::SourceDescription(vec![(
                1,
                vec![
                    SdesItem {
                        kind: CNAME,
                        text: b"alice@example.com".to_vec(),
                    },
                    SdesItem {
                        kind: 6,
                        text: b"rvoip".to_vec(),
                    },
                ],
            )]),
            RtcpPacket::App {
                subtype: 3,
                ssrc: 1,
                name: *b"RVOP",
                data: vec![1, 2, 3, 4],
            },
            RtcpPacket::Bye {
                sources: vec![1],
                reason: Some(b"hangup".to_vec()),
            },
        ]
    }

    #[test]
    fn compound_round_trip() {
        let packets = sample();
        let mut buf = Vec::new();
        write_compound(&packets, &mut buf).expect("write");
        assert_eq!(buf.len() % 4, 0);
        assert_eq!(parse_compound(&buf), Ok(packets));
        let rr = RtcpPacket::ReceiverReport {
            ssrc: 9,
            reports: vec![],
        };
        let mut buf = Vec::new();
        rr.write(&mut buf).expect("write");
        assert_eq!(buf, [0x80, 201, 0, 1, 0, 0, 0, 9]);
        assert_eq!(parse_compound(&buf), Ok(vec![rr]));
    }

    #[test]
    fn invalid_compounds_are_refused() {
        let mut buf = Vec::new();
        RtcpPacket::Bye {
            sources: vec![1],
            reason: None,
        }
        .write(&mut buf)
        .expect("write");
        assert!(parse_compound(&buf).is_err()); // must start with SR/RR
        let mut good = Vec::new();
        write_compound(&sample(), &mut good).expect("write");
        // Every truncation and a corrupted length fail cleanly.
        for n in 0..good.len() {
            assert!(parse_compound(&good[..n]).is_err() || n % 4 == 0);
        }
        let mut bad = good.clone();
        bad[3] = 0xFF;
        assert!(parse_compound(&bad).is_err());
        let mut v1 = good;
        v1[0] = 0x40;
        assert!(parse_compound(&v1).is_err());
    }
}
