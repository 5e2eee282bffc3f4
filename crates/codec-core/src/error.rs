use std::fmt;

/// Why a codec call failed.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Error {
    /// The PCM frame or payload does not have a size this codec takes.
    BadFrame(String),
    /// No codec with this name, clock rate and channel count, or a parameter
    /// it does not support.
    Unsupported(String),
    /// The payload is not valid for the codec.
    BadPayload(String),
    /// The codec library reported an error.
    Codec(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadFrame(m) => write!(f, "bad frame: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::BadPayload(m) => write!(f, "bad payload: {m}"),
            Error::Codec(m) => write!(f, "codec error: {m}"),
        }
    }
}

impl std::error::Error for Error {}
