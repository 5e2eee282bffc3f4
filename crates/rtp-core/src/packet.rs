//! RTP packets (RFC 3550 §5.1) with CSRCs, padding and header extensions
//! in the RFC 8285 one-byte and two-byte forms: a zero-copy view for
//! receiving and a writer for sending.
//!
//! ```text
//!  0                   1                   2                   3
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers  ...        |
//! ```

use crate::Error;

/// RFC 8285 §4.2: the one-byte header form's profile value.
const ONE_BYTE: u16 = 0xBEDE;
/// RFC 8285 §4.3: the two-byte form, the low 4 bits are application bits.
const TWO_BYTE_MASK: u16 = 0xFFF0;
const TWO_BYTE: u16 = 0x1000;

/// A received RTP packet, borrowed from the datagram.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RtpPacket<'a> {
    buf: &'a [u8],
    csrc_end: usize,
    /// The extension block (profile, data) when the X bit is set.
    extension: Option<(u16, &'a [u8])>,
    payload: &'a [u8],
    padding: u8,
}

impl<'a> RtpPacket<'a> {
    /// Parses and checks a packet: version 2, lengths consistent, padding
    /// count within the packet.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, Error> {
        if buf.len() < 12 {
            return Err(Error::Truncated("RTP header"));
        }
        if buf[0] >> 6 != 2 {
            return Err(Error::Invalid("RTP version is not 2"));
        }
        let cc = usize::from(buf[0] & 0x0F);
        let csrc_end = 12 + 4 * cc;
        if buf.len() < csrc_end {
            return Err(Error::Truncated("RTP CSRC list"));
        }
        let mut pos = csrc_end;
        let mut extension = None;
        if buf[0] & 0x10 != 0 {
            if buf.len() < pos + 4 {
                return Err(Error::Truncated("RTP header extension"));
            }
            let profile = u16::from_be_bytes([buf[pos], buf[pos + 1]]);
            let words = usize::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]]));
            let end = pos + 4 + 4 * words;
            if buf.len() < end {
                return Err(Error::Truncated("RTP header extension"));
            }
            extension = Some((profile, &buf[pos + 4..end]));
            pos = end;
        }
        let mut end = buf.len();
        let mut padding = 0;
        if buf[0] & 0x20 != 0 {
            padding = buf[buf.len() - 1];
            if padding == 0 || usize::from(padding) > end - pos {
                return Err(Error::Invalid("RTP padding count"));
            }
            end -= usize::from(padding);
        }
        Ok(RtpPacket {
            buf,
            csrc_end,
            extension,
            payload: &buf[pos..end],
            padding,
        })
    }

    /// The marker bit.
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The payload type.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7F
    }

    /// The sequence number.
    pub fn sequence(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The timestamp.
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.buf[8], self.buf[9], self.buf[10], self.buf[11]])
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.buf[12..self.csrc_end]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The payload, without padding.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Padding bytes at the end (0 when the P bit is clear).
    pub fn padding(&self) -> u8 {
        self.padding
    }

    /// The raw extension block: its profile value and data.
    pub fn extension(&self) -> Option<(u16, &'a [u8])> {
        self.extension
    }

    /// The RFC 8285 extension elements `(id, data)` in order, for the
    /// one-byte and two-byte forms. `None` when there is no extension or
    /// it uses another profile; an error when an element overruns the block.
    pub fn extensions(&self) -> Option<Result<Elements<'a>, Error>> {
        let (data, two_byte) = self.element_block()?;
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            match next_element(data, pos, two_byte) {
                Ok(Some((id, element, next))) => {
                    out.push((id, element));
                    pos = next;
                }
                Ok(None) => return Some(Ok(out)),
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// The extension element with `id`, if present and well formed (found
    /// by a scan, without collecting the elements).
    pub fn extension_element(&self, id: u8) -> Option<&'a [u8]> {
        let (data, two_byte) = self.element_block()?;
        let mut pos = 0;
        while let Some((found, element, next)) = next_element(data, pos, two_byte).ok()? {
            if found == id {
                return Some(element);
            }
            pos = next;
        }
        None
    }

    /// The extension data and whether it uses the two-byte form.
    fn element_block(&self) -> Option<(&'a [u8], bool)> {
        let (profile, data) = self.extension?;
        if profile == ONE_BYTE {
            Some((data, false))
        } else if profile & TWO_BYTE_MASK == TWO_BYTE {
            Some((data, true))
        } else {
            None
        }
    }
}

/// RFC 8285 extension elements as `(id, data)` pairs.
pub type Elements<'a> = Vec<(u8, &'a [u8])>;

/// One element found by [`next_element`]: id, data, position after it.
type Element<'a> = (u8, &'a [u8], usize);

/// The element at or after `pos` (skipping padding) as `(id, data, next
/// position)`; `None` at the end of the block or at a one-byte ID 15.
fn next_element(data: &[u8], mut pos: usize, two_byte: bool) -> Result<Option<Element<'_>>, Error> {
    while data.get(pos) == Some(&0) {
        pos += 1; // padding between elements
    }
    let Some(&b) = data.get(pos) else {
        return Ok(None);
    };
    let (id, len, head) = if two_byte {
        let len = usize::from(
            *data
                .get(pos + 1)
                .ok_or(Error::Truncated("extension element"))?,
        );
        (b, len, 2)
    } else {
        let id = b >> 4;
        if id == 15 {
            return Ok(None); // RFC 8285 §4.2: stop processing
        }
        (id, usize::from(b & 0x0F) + 1, 1)
    };
    let start = pos + head;
    let end = start + len;
    if end > data.len() {
        return Err(Error::Truncated("extension element"));
    }
    Ok(Some((id, &data[start..end], end)))
}

/// The fields of a packet to send.
#[derive(Clone, Copy, Debug, Default)]
pub struct RtpHeader<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type, 0–127.
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Contributing sources (at most 15).
    pub csrcs: &'a [u32],
    /// RFC 8285 elements `(id, data)`; written in the one-byte form when
    /// every id is 1–14 and every element 1–16 bytes, else two-byte.
    pub extensions: &'a [(u8, &'a [u8])],
    /// Padding to add so the packet length is a multiple of this (0 or 1:
    /// none), as SRTP and some ciphers want.
    pub pad_to: u8,
}

impl RtpHeader<'_> {
    /// Appends the packet with `payload` to `out`.
    pub fn write(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.csrcs.len() > 15 {
            return Err(Error::Invalid("more than 15 CSRCs"));
        }
        if self.payload_type > 127 {
            return Err(Error::Invalid("payload type above 127"));
        }
        let start = out.len();
        let x = if self.extensions.is_empty() { 0 } else { 0x10 };
        out.push(0x80 | x | self.csrcs.len() as u8);
        out.push(if self.marker { 0x80 } else { 0 } | self.payload_type);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        for c in self.csrcs {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if !self.extensions.is_empty() {
            self.write_extensions(out)?;
        }
        out.extend_from_slice(payload);
        let pad_to = usize::from(self.pad_to.max(1));
        let len = out.len() - start;
        let pad = (pad_to - len % pad_to) % pad_to;
        if pad > 0 {
            out[start] |= 0x20;
            out.resize(out.len() + pad - 1, 0);
            out.push(pad as u8);
        }
        Ok(())
    }

    fn write_extensions(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let one_byte = self
            .extensions
            .iter()
            .all(|(id, d)| (1..=14).contains(id) && (1..=16).contains(&d.len()));
        let head = out.len();
        out.extend_from_slice(&if one_byte { ONE_BYTE } else { TWO_BYTE }.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        for (id, data) in self.extensions {
            if one_byte {
                out.push(id << 4 | (data.len() - 1) as u8);
            } else {
                if *id == 0 || data.len() > 255 {
                    return Err(Error::Invalid("extension id 0 or element over 255 bytes"));
                }
                out.push(*id);
                out.push(data.len() as u8);
            }
            out.extend_from_slice(data);
        }
        crate::pad_to_word(out, head);
        let words = (out.len() - head - 4) / 4;
        let words = u16::try_from(words).map_err(|_| Error::Invalid("extension too long"))?;
        out[head + 2..head + 4].copy_from_slice(&words.to_be_bytes());
        Ok(())
    }
}

/// True when a datagram on an RTP/RTCP-muxed port is RTCP (RFC 5761 §4):
/// its second byte, the RTCP packet type, is 192–223 (RTP payload types
/// 64–95 with the marker bit would collide and are not used).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && datagram[0] >> 6 == 2 && (192..=223).contains(&datagram[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_csrcs_extensions_and_padding() {
        let ext: [(u8, &[u8]); 2] = [(1, &[0xAA]), (3, &[1, 2, 3, 4, 5])];
        let h = RtpHeader {
            marker: true,
            payload_type: 111,
            sequence: 65535,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
            csrcs: &[7, 8],
            extensions: &ext,
            pad_to: 16,
        };
        let mut buf = Vec::new();
        h.write(b"hello", &mut buf).expect("write");
        assert_eq!(buf.len() % 16, 0);
        let p = RtpPacket::parse(&buf).expect("parse");
        assert!(p.marker());
        assert_eq!(p.payload_type(), 111);
        assert_eq!(p.sequence(), 65535);
        assert_eq!(p.timestamp(), 0xDEAD_BEEF);
        assert_eq!(p.ssrc(), 0x1234_5678);
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [7, 8]);
        assert_eq!(p.payload(), b"hello");
        assert_eq!(p.extension().map(|e| e.0), Some(ONE_BYTE));
        assert_eq!(p.extensions(), Some(Ok(ext.to_vec())));
        assert_eq!(p.extension_element(3), Some(&[1u8, 2, 3, 4, 5][..]));
        assert!(p.padding() > 0);
    }

    #[test]
    fn two_byte_extensions_when_needed() {
        let long = [9u8; 20];
        let ext: [(u8, &[u8]); 2] = [(20, &long), (2, &[])];
        let h = RtpHeader {
            payload_type: 0,
            extensions: &ext,
            ..RtpHeader::default()
        };
        let mut buf = Vec::new();
        h.write(&[0; 160], &mut buf).expect("write");
        let p = RtpPacket::parse(&buf).expect("parse");
        assert_eq!(p.extension().map(|e| e.0), Some(TWO_BYTE));
        assert_eq!(p.extensions(), Some(Ok(ext.to_vec())));
        assert_eq!(p.payload().len(), 160);
    }

    #[test]
    fn bad_packets_are_errors_never_panics() {
        assert!(RtpPacket::parse(&[0x80; 11]).is_err());
        assert!(RtpPacket::parse(&[0x40; 12]).is_err()); // version 1
        let mut cc = vec![0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        cc.extend([0; 20]);
        assert!(RtpPacket::parse(&cc).is_err()); // 15 CSRCs need 60 bytes
        let mut pad = vec![0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 9];
        assert!(RtpPacket::parse(&pad).is_err()); // padding beyond payload
        *pad.last_mut().expect("byte") = 0;
        assert!(RtpPacket::parse(&pad).is_err()); // zero padding count
        let ext = [
            0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0, 1, 0x1F, 0, 0, 0,
        ];
        let p = RtpPacket::parse(&ext).expect("block fits");
        assert!(matches!(p.extensions(), Some(Err(_)))); // element overruns
        // Every short prefix of a valid packet parses or fails cleanly.
        let mut buf = Vec::new();
        let e: [(u8, &[u8]); 1] = [(1, &[1, 2])];
        RtpHeader {
            csrcs: &[1],
            extensions: &e,
            pad_to: 8,
            ..RtpHeader::default()
        }
        .write(b"xyz", &mut buf)
        .expect("write");
        for n in 0..buf.len() {
            let _ = RtpPacket::parse(&buf[..n]).map(|p| p.extensions());
        }
    }

    #[test]
    fn rtcp_is_told_from_rtp_on_a_muxed_port() {
        assert!(is_rtcp(&[0x80, 200]));
        assert!(is_rtcp(&[0x81, 201]));
        assert!(!is_rtcp(&[0x80, 0]));
        assert!(!is_rtcp(&[0x80, 0x80 | 111]));
        assert!(!is_rtcp(&[0x80]));
    }
}
