//! SDP (RFC 8866) — see submodules.
