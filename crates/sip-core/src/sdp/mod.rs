//! SDP (RFC 8866): session and media sections as ordered lists of typed
//! lines, so that printing reproduces the input (unknown lines are kept in
//! place) while typed accessors answer what signalling needs.
//!
//! ```
//! use sip_core::sdp::{Sdp, Direction};
//! let text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//! m=audio 49170 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";
//! let sdp = Sdp::parse(text).unwrap();
//! let audio = &sdp.media[0];
//! assert_eq!(audio.media.port, 49170);
//! assert_eq!(audio.rtpmap(101).unwrap().encoding, "telephone-event");
//! assert_eq!(audio.direction(), Direction::SendOnly);
//! assert_eq!(sdp.to_string(), text);
//! ```

mod attr;
mod lines;

use std::fmt;

pub use attr::{Attribute, Crypto, Direction, Fingerprint, Fmtp, RtcpAttr, RtpMap, Setup};
pub use lines::{Bandwidth, Connection, Media, Origin, Timing};

use crate::{Error, Result};

/// One line of a section.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Line<'a> {
    /// `v=`
    Version(u32),
    /// `o=`
    Origin(Origin<'a>),
    /// `s=`
    SessionName(&'a str),
    /// `i=`
    Info(&'a str),
    /// `u=`
    Uri(&'a str),
    /// `e=`
    Email(&'a str),
    /// `p=`
    Phone(&'a str),
    /// `c=`
    Connection(Connection<'a>),
    /// `b=`
    Bandwidth(Bandwidth<'a>),
    /// `t=`
    Timing(Timing),
    /// `r=` (kept as text)
    Repeat(&'a str),
    /// `z=` (kept as text)
    Zone(&'a str),
    /// `k=` (obsolete, kept as text)
    Key(&'a str),
    /// `a=`
    Attribute(Attribute<'a>),
    /// Any other `x=value` line, kept as is.
    Other(char, &'a str),
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Version(v) => write!(f, "v={v}"),
            Line::Origin(o) => write!(f, "o={o}"),
            Line::SessionName(s) => write!(f, "s={s}"),
            Line::Info(s) => write!(f, "i={s}"),
            Line::Uri(s) => write!(f, "u={s}"),
            Line::Email(s) => write!(f, "e={s}"),
            Line::Phone(s) => write!(f, "p={s}"),
            Line::Connection(c) => write!(f, "c={c}"),
            Line::Bandwidth(b) => write!(f, "b={b}"),
            Line::Timing(t) => write!(f, "t={t}"),
            Line::Repeat(s) => write!(f, "r={s}"),
            Line::Zone(s) => write!(f, "z={s}"),
            Line::Key(s) => write!(f, "k={s}"),
            Line::Attribute(a) => write!(f, "a={a}"),
            Line::Other(c, s) => write!(f, "{c}={s}"),
        }
    }
}

/// A media description: the `m=` line and the lines that follow it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MediaSection<'a> {
    /// The `m=` line.
    pub media: Media<'a>,
    /// The lines after it, in order.
    pub lines: Vec<Line<'a>>,
}

/// A session description.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Sdp<'a> {
    /// Session-level lines, in order (starting with `v=`).
    pub session: Vec<Line<'a>>,
    /// Media sections.
    pub media: Vec<MediaSection<'a>>,
}

/// Most lines accepted in one description (bounded work on hostile input).
const MAX_LINES: usize = 4096;

impl<'a> Sdp<'a> {
    /// Parses a description. Lines may end in CRLF or LF. `v=0` must come
    /// first and `o=` / `s=` must be present (RFC 8866 §5); unknown line
    /// types are kept.
    pub fn parse(text: &'a str) -> Result<Sdp<'a>> {
        let mut session = Vec::new();
        let mut media: Vec<MediaSection<'a>> = Vec::new();
        let mut count = 0;
        for raw in text.split('\n') {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.is_empty() {
                continue;
            }
            count += 1;
            if count > MAX_LINES {
                return Err(Error::bad_request("SDP has too many lines"));
            }
            let b = line.as_bytes();
            if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
                return Err(Error::bad_request(format!(
                    "Malformed SDP line: {}",
                    truncate(line)
                )));
            }
            let value = &line[2..];
            let kind = b[0];
            if count == 1 && kind != b'v' {
                return Err(Error::bad_request("SDP must start with v="));
            }
            if kind == b'm' {
                media.push(MediaSection {
                    media: Media::parse(value)?,
                    lines: Vec::new(),
                });
                continue;
            }
            let parsed = lines::parse_line(kind, value)?;
            match media.last_mut() {
                Some(m) => m.lines.push(parsed),
                None => session.push(parsed),
            }
        }
        match session.first() {
            Some(Line::Version(0)) => {}
            Some(Line::Version(_)) => return Err(Error::bad_request("Unsupported SDP version")),
            _ => return Err(Error::bad_request("SDP must start with v=")),
        }
        if !session.iter().any(|l| matches!(l, Line::Origin(_))) {
            return Err(Error::bad_request("SDP without o= line"));
        }
        if !session.iter().any(|l| matches!(l, Line::SessionName(_))) {
            return Err(Error::bad_request("SDP without s= line"));
        }
        Ok(Sdp { session, media })
    }

    /// The origin line.
    pub fn origin(&self) -> Option<&Origin<'a>> {
        self.session.iter().find_map(|l| match l {
            Line::Origin(o) => Some(o),
            _ => None,
        })
    }

    /// The session name.
    pub fn session_name(&self) -> Option<&'a str> {
        self.session.iter().find_map(|l| match l {
            Line::SessionName(s) => Some(*s),
            _ => None,
        })
    }

    /// The session-level connection.
    pub fn connection(&self) -> Option<&Connection<'a>> {
        connection_in(&self.session)
    }

    /// Session-level attributes.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute<'a>> {
        attributes_in(&self.session)
    }

    /// Session-level direction (`sendrecv` when absent).
    pub fn direction(&self) -> Direction {
        direction_in(&self.session).unwrap_or(Direction::SendRecv)
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn connection_in<'s, 'a>(lines: &'s [Line<'a>]) -> Option<&'s Connection<'a>> {
    lines.iter().find_map(|l| match l {
        Line::Connection(c) => Some(c),
        _ => None,
    })
}

fn attributes_in<'s, 'a>(lines: &'s [Line<'a>]) -> impl Iterator<Item = &'s Attribute<'a>> {
    lines.iter().filter_map(|l| match l {
        Line::Attribute(a) => Some(a),
        _ => None,
    })
}

fn direction_in(lines: &[Line<'_>]) -> Option<Direction> {
    attributes_in(lines).find_map(Attribute::direction)
}

impl<'a> MediaSection<'a> {
    /// This section's attributes.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute<'a>> {
        attributes_in(&self.lines)
    }

    /// The first attribute with this name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute<'a>> {
        self.attributes().find(|a| a.name == name)
    }

    /// The media-level connection (callers fall back to the session's).
    pub fn connection(&self) -> Option<&Connection<'a>> {
        connection_in(&self.lines)
    }

    /// The `a=rtpmap` for a payload type.
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap<'a>> {
        self.attributes()
            .filter_map(Attribute::rtpmap)
            .find(|r| r.payload_type == pt)
    }

    /// The `a=fmtp` for a payload type.
    pub fn fmtp(&self, pt: u8) -> Option<Fmtp<'a>> {
        self.attributes()
            .filter_map(Attribute::fmtp)
            .find(|r| r.payload_type == pt)
    }

    /// The media direction (`sendrecv` when absent).
    pub fn direction(&self) -> Direction {
        direction_in(&self.lines).unwrap_or(Direction::SendRecv)
    }

    /// `a=ptime` in milliseconds.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute("ptime")
            .and_then(|a| a.value?.trim().parse().ok())
    }

    /// `a=maxptime` in milliseconds.
    pub fn maxptime(&self) -> Option<u32> {
        self.attribute("maxptime")
            .and_then(|a| a.value?.trim().parse().ok())
    }

    /// `a=rtcp` (RFC 3605).
    pub fn rtcp(&self) -> Option<RtcpAttr<'a>> {
        self.attributes().find_map(Attribute::rtcp)
    }

    /// True with `a=rtcp-mux` (RFC 5761).
    pub fn rtcp_mux(&self) -> bool {
        self.attribute("rtcp-mux").is_some()
    }

    /// `a=crypto` lines (RFC 4568).
    pub fn crypto(&self) -> impl Iterator<Item = Crypto<'a>> + '_ {
        self.attributes().filter_map(Attribute::crypto)
    }

    /// `a=mid` (RFC 5888).
    pub fn mid(&self) -> Option<&'a str> {
        self.attribute("mid").and_then(|a| a.value)
    }

    /// `a=setup` (RFC 4145).
    pub fn setup(&self) -> Option<Setup> {
        self.attributes().find_map(Attribute::setup)
    }

    /// `a=fingerprint` (RFC 8122).
    pub fn fingerprint(&self) -> Option<Fingerprint<'a>> {
        self.attributes().find_map(Attribute::fingerprint)
    }
}

impl fmt::Display for MediaSection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={}\r\n", self.media)?;
        for l in &self.lines {
            write!(f, "{l}\r\n")?;
        }
        Ok(())
    }
}

impl fmt::Display for Sdp<'_> {
    /// Prints with CRLF line endings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.session {
            write!(f, "{l}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
