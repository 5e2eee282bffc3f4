// Generated from the `names!` table in name.rs. Header names are token
// characters; the first eight bytes are compared as one case-folded
// little-endian word and longer names check their tail.
//
// The fold sets 0x20 only in bytes that have 0x40 set: letters fold to
// lower case, and no other byte becomes a letter or `-` (bytes without 0x40
// stay as they are, bytes with it stay at 0x40 or above, where only letters
// are in the table). So a word matches only a name spelled with those
// letters and `-` exactly: a CR where a `-` should be does not match.

use super::HeaderName;

/// `word` with every byte that has 0x40 set turned to lower case.
#[inline(always)]
fn fold(word: u64) -> u64 {
    word | ((word & 0x4040_4040_4040_4040) >> 1)
}

/// The first (up to) eight bytes of `name`, case-folded, as a word.
#[inline]
fn fold8(name: &[u8]) -> u64 {
    if let Some(first8) = name.first_chunk::<8>() {
        return fold(u64::from_le_bytes(*first8));
    }
    let mut word = 0u64;
    for (i, &b) in name.iter().enumerate() {
        word |= u64::from(b) << (8 * i);
    }
    fold(word)
}

#[inline]
pub(super) fn lookup_long(name: &[u8]) -> HeaderName {
    lookup_folded(name, fold8(name))
}

/// [`lookup_long`] for a name of at least two bytes whose first eight bytes
/// (or more, past its end) are `ahead`: one load instead of a byte loop.
#[inline]
pub(super) fn lookup_ahead(name: &[u8], ahead: &[u8; 8]) -> HeaderName {
    let word = fold(u64::from_le_bytes(*ahead));
    let keep = match name.len() {
        n @ 0..8 => (1u64 << (8 * n)) - 1,
        _ => u64::MAX,
    };
    lookup_folded(name, word & keep)
}

#[inline(always)]
fn lookup_folded(name: &[u8], folded: u64) -> HeaderName {
    match (name.len(), folded) {
        (2, 0x0000000000006f74) => HeaderName::To,
        (3, 0x0000000000616976) => HeaderName::Via,
        (4, 0x0000000071657363) => HeaderName::CSeq,
        (4, 0x0000000065746164) => HeaderName::Date,
        (4, 0x000000006d6f7266) => HeaderName::From,
        (4, 0x0000000068746170) => HeaderName::Path,
        (4, 0x000000006b636172) => HeaderName::RAck,
        (4, 0x0000000071657372) => HeaderName::RSeq,
        (5, 0x000000776f6c6c61) => HeaderName::Allow,
        (5, 0x000000746e657665) => HeaderName::Event,
        (5, 0x0000006574756f72) => HeaderName::Route,
        (6, 0x0000747065636361) => HeaderName::Accept,
        (6, 0x000065732d6e696d) => HeaderName::MinSe,
        (6, 0x00006e6f73616572) => HeaderName::Reason,
        (6, 0x0000726576726573) => HeaderName::Server,
        (7, 0x0064692d6c6c6163) => HeaderName::CallId,
        (7, 0x00746361746e6f63) => HeaderName::Contact,
        (7, 0x0073657269707865) => HeaderName::Expires,
        (7, 0x0079636176697270) => HeaderName::Privacy,
        (7, 0x0065726975716572) => HeaderName::Require,
        (7, 0x007463656a627573) => HeaderName::Subject,
        (7, 0x00676e696e726177) => HeaderName::Warning,
        (8, 0x797469746e656469) => HeaderName::Identity,
        (8, 0x797469726f697270) => HeaderName::Priority,
        (8, 0x6f742d7265666572) => HeaderName::ReferTo,
        (8, 0x736563616c706572) => HeaderName::Replaces,
        (8, 0x6f742d796c706572) => HeaderName::ReplyTo,
        (9, 0x666e692d6c6c6163) if name[8..].eq_ignore_ascii_case(b"o") => HeaderName::CallInfo,
        (9, 0x6574726f70707573) if name[8..].eq_ignore_ascii_case(b"d") => HeaderName::Supported,
        (9, 0x6d617473656d6974) if name[8..].eq_ignore_ascii_case(b"p") => HeaderName::Timestamp,
        (10, 0x6e692d7472656c61) if name[8..].eq_ignore_ascii_case(b"fo") => HeaderName::AlertInfo,
        (10, 0x6e692d726f727265) if name[8..].eq_ignore_ascii_case(b"fo") => HeaderName::ErrorInfo,
        (10, 0x6567612d72657375) if name[8..].eq_ignore_ascii_case(b"nt") => HeaderName::UserAgent,
        (11, 0x796c7065722d6e69) if name[8..].eq_ignore_ascii_case(b"-to") => HeaderName::InReplyTo,
        (11, 0x697078652d6e696d) if name[8..].eq_ignore_ascii_case(b"res") => {
            HeaderName::MinExpires
        }
        (11, 0x6465727265666572) if name[8..].eq_ignore_ascii_case(b"-by") => {
            HeaderName::ReferredBy
        }
        (11, 0x66612d7972746572) if name[8..].eq_ignore_ascii_case(b"ter") => {
            HeaderName::RetryAfter
        }
        (11, 0x726f707075736e75) if name[8..].eq_ignore_ascii_case(b"ted") => {
            HeaderName::Unsupported
        }
        (12, 0x76652d776f6c6c61) if name[8..].eq_ignore_ascii_case(b"ents") => {
            HeaderName::AllowEvents
        }
        (12, 0x2d746e65746e6f63) if name[8..].eq_ignore_ascii_case(b"type") => {
            HeaderName::ContentType
        }
        (12, 0x7265762d656d696d) if name[8..].eq_ignore_ascii_case(b"sion") => {
            HeaderName::MimeVersion
        }
        (12, 0x77726f662d78616d) if name[8..].eq_ignore_ascii_case(b"ards") => {
            HeaderName::MaxForwards
        }
        (12, 0x617a696e6167726f) if name[8..].eq_ignore_ascii_case(b"tion") => {
            HeaderName::Organization
        }
        (12, 0x722d64726f636572) if name[8..].eq_ignore_ascii_case(b"oute") => {
            HeaderName::RecordRoute
        }
        (13, 0x7a69726f68747561) if name[8..].eq_ignore_ascii_case(b"ation") => {
            HeaderName::Authorization
        }
        (13, 0x797469746e656469) if name[8..].eq_ignore_ascii_case(b"-info") => {
            HeaderName::IdentityInfo
        }
        (13, 0x65722d79786f7270) if name[8..].eq_ignore_ascii_case(b"quire") => {
            HeaderName::ProxyRequire
        }
        (13, 0x2d65636976726573) if name[8..].eq_ignore_ascii_case(b"route") => {
            HeaderName::ServiceRoute
        }
        (14, 0x632d747065636361) if name[8..].eq_ignore_ascii_case(b"ontact") => {
            HeaderName::AcceptContact
        }
        (14, 0x2d746e65746e6f63) if name[8..].eq_ignore_ascii_case(b"length") => {
            HeaderName::ContentLength
        }
        (14, 0x632d7463656a6572) if name[8..].eq_ignore_ascii_case(b"ontact") => {
            HeaderName::RejectContact
        }
        (15, 0x652d747065636361) if name[8..].eq_ignore_ascii_case(b"ncoding") => {
            HeaderName::AcceptEncoding
        }
        (15, 0x6c2d747065636361) if name[8..].eq_ignore_ascii_case(b"anguage") => {
            HeaderName::AcceptLanguage
        }
        (15, 0x2d6e6f6973736573) if name[8..].eq_ignore_ascii_case(b"expires") => {
            HeaderName::SessionExpires
        }
        (16, 0x2d746e65746e6f63) if name[8..].eq_ignore_ascii_case(b"encoding") => {
            HeaderName::ContentEncoding
        }
        (16, 0x2d746e65746e6f63) if name[8..].eq_ignore_ascii_case(b"language") => {
            HeaderName::ContentLanguage
        }
        (16, 0x687475612d777777) if name[8..].eq_ignore_ascii_case(b"enticate") => {
            HeaderName::WwwAuthenticate
        }
        (18, 0x75612d79786f7270) if name[8..].eq_ignore_ascii_case(b"thenticate") => {
            HeaderName::ProxyAuthenticate
        }
        (18, 0x7069726373627573) if name[8..].eq_ignore_ascii_case(b"tion-state") => {
            HeaderName::SubscriptionState
        }
        (19, 0x69746e6568747561) if name[8..].eq_ignore_ascii_case(b"cation-info") => {
            HeaderName::AuthenticationInfo
        }
        (19, 0x2d746e65746e6f63) if name[8..].eq_ignore_ascii_case(b"disposition") => {
            HeaderName::ContentDisposition
        }
        (19, 0x7472657373612d70) if name[8..].eq_ignore_ascii_case(b"ed-identity") => {
            HeaderName::PAssertedIdentity
        }
        (19, 0x75612d79786f7270) if name[8..].eq_ignore_ascii_case(b"thorization") => {
            HeaderName::ProxyAuthorization
        }
        (19, 0x2d74736575716572) if name[8..].eq_ignore_ascii_case(b"disposition") => {
            HeaderName::RequestDisposition
        }
        (20, 0x7265666572702d70) if name[8..].eq_ignore_ascii_case(b"red-identity") => {
            HeaderName::PPreferredIdentity
        }
        _ => HeaderName::Other,
    }
}
