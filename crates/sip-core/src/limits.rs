//! Size limits applied while framing and parsing (DESIGN.md §2.5: bounded sizes everywhere).

/// Bounds on what the parser accepts. Exceeding one is an error carrying
/// `513 Message Too Large` (whole message, header count, line length) or
/// `413 Request Entity Too Large` (body).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (start line + headers + body).
    pub max_message_bytes: usize,
    /// Most header fields (lines, after unfolding) in one message.
    pub max_headers: usize,
    /// Longest header field, including folded continuation lines.
    pub max_line_bytes: usize,
    /// Largest body.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_message_bytes: 65_535,
            max_headers: 256,
            max_line_bytes: 16_384,
            max_body_bytes: 60_000,
        }
    }
}
