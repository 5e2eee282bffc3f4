//! Nothing here: the comparison lives in `benches/srtp.rs`.
