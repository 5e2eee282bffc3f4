//! The RFC 4733 telephone-event payload (`telephone-event/8000`): DTMF
//! digits and other named events sent as RTP packets instead of audio.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |     event     |E|R| volume    |          duration             |
//! ```
//!
//! Receiving (end-bit redundancy, duplicates by timestamp) is media-core's
//! DTMF detector; this module is the wire format and the sender's packet
//! sequence (RFC 4733 §2.5.1).

use crate::{Error, Result};

/// One telephone-event payload.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct TelephoneEvent {
    /// Event code: 0–9 digits, 10 `*`, 11 `#`, 12–15 `A`–`D`, 16 flash.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0, 0–63.
    pub volume: u8,
    /// Duration so far in RTP timestamp units.
    pub duration: u16,
}

/// The RFC 4733 §3.2 DTMF event codes in order.
const DIGITS: &[u8; 17] = b"0123456789*#ABCD!";

impl TelephoneEvent {
    /// Payload length in bytes.
    pub const LEN: usize = 4;

    /// Parses one 4-byte payload. The R bit is ignored as §2.3.4 requires.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent> {
        let b: &[u8; 4] = payload.try_into().map_err(|_| {
            Error::BadPayload(format!("telephone-event of {} bytes", payload.len()))
        })?;
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// Parses a payload carrying several events back to back (as some
    /// senders do for redundancy), in order.
    pub fn parse_all(payload: &[u8]) -> Result<Vec<TelephoneEvent>> {
        if payload.is_empty() || !payload.len().is_multiple_of(Self::LEN) {
            return Err(Error::BadPayload(format!(
                "telephone-event of {} bytes",
                payload.len()
            )));
        }
        payload.chunks_exact(Self::LEN).map(Self::parse).collect()
    }

    /// Appends the 4-byte payload (R bit zero, volume limited to 63).
    pub fn write(&self, out: &mut Vec<u8>) {
        let flags = if self.end { 0x80 } else { 0 } | (self.volume & 0x3F);
        out.push(self.event);
        out.push(flags);
        out.extend_from_slice(&self.duration.to_be_bytes());
    }

    /// The DTMF character for events 0–16 (`!` for flash).
    pub fn digit(&self) -> Option<char> {
        DIGITS.get(usize::from(self.event)).map(|&c| char::from(c))
    }

    /// The event code of a DTMF character (`0`–`9`, `*`, `#`, `A`–`D` in
    /// either case, `!` for flash).
    pub fn code_of(digit: char) -> Option<u8> {
        let d = digit.to_ascii_uppercase();
        DIGITS
            .iter()
            .position(|&c| char::from(c) == d)
            .map(|i| i as u8)
    }
}

/// One packet of an event as a sender emits it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct EventPacket {
    /// The payload.
    pub event: TelephoneEvent,
    /// RTP marker bit: set on the first packet of the event only.
    pub marker: bool,
    /// When to send it, in RTP timestamp units after the event's start. All
    /// packets carry the event's start as their RTP timestamp (§2.5.1.2).
    pub send_at: u32,
}

/// The packets that send one event of `duration` timestamp units: an update
/// every `interval` units with the duration so far, then the final packet
/// with the E bit, sent three times one interval apart (§2.5.1.4). Durations that do not fit
/// 16 bits are cut at 65535 (long events need §2.5.2 segments, which
/// telephony never does).
pub fn packets_for(event: u8, volume: u8, duration: u32, interval: u32) -> Vec<EventPacket> {
    let interval = interval.max(1);
    let total = duration.clamp(1, u32::from(u16::MAX));
    let mut packets = Vec::new();
    let mut at = 0;
    while at + interval < total {
        at += interval;
        packets.push(EventPacket {
            event: TelephoneEvent {
                event,
                end: false,
                volume,
                duration: at as u16,
            },
            marker: packets.is_empty(),
            send_at: at,
        });
    }
    let first = packets.is_empty();
    for n in 0..3 {
        packets.push(EventPacket {
            event: TelephoneEvent {
                event,
                end: true,
                volume,
                duration: total as u16,
            },
            marker: first && n == 0,
            send_at: total + n * interval,
        });
    }
    packets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_write_round_trip() {
        // RFC 4733 §2.3: digit 5, end, volume 10, duration 800.
        let bytes = [5, 0x80 | 10, 0x03, 0x20];
        let e = TelephoneEvent::parse(&bytes).expect("payload");
        assert_eq!(
            e,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        let mut out = Vec::new();
        e.write(&mut out);
        assert_eq!(out, bytes);
        // The R bit is ignored on receipt.
        assert_eq!(TelephoneEvent::parse(&[5, 0xC0 | 10, 3, 0x20]), Ok(e));
        assert!(TelephoneEvent::parse(&[1, 2, 3]).is_err());
        assert!(TelephoneEvent::parse_all(&[1, 2, 3, 4, 5]).is_err());
        assert_eq!(
            TelephoneEvent::parse_all(&[1, 0, 0, 1, 2, 0x80, 0, 2]).map(|v| v.len()),
            Ok(2)
        );
    }

    #[test]
    fn digits() {
        for (i, c) in "0123456789*#ABCD!".chars().enumerate() {
            assert_eq!(TelephoneEvent::code_of(c), Some(i as u8));
            let e = TelephoneEvent {
                event: i as u8,
                end: false,
                volume: 0,
                duration: 0,
            };
            assert_eq!(e.digit(), Some(c));
        }
        assert_eq!(TelephoneEvent::code_of('a'), Some(12));
        assert_eq!(TelephoneEvent::code_of('x'), None);
    }

    #[test]
    fn a_100ms_digit_every_20ms() {
        let p = packets_for(1, 10, 800, 160);
        // Updates at 160..640, then the end three times at 800.
        let durations: Vec<u16> = p.iter().map(|p| p.event.duration).collect();
        assert_eq!(durations, [160, 320, 480, 640, 800, 800, 800]);
        assert!(p[0].marker && p[1..].iter().all(|p| !p.marker));
        assert!(p[4..].iter().all(|p| p.event.end));
        assert!(p[..4].iter().all(|p| !p.event.end));
        let sends: Vec<u32> = p.iter().map(|p| p.send_at).collect();
        assert_eq!(sends, [160, 320, 480, 640, 800, 960, 1120]);
    }
}
