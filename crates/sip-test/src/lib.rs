//! Test support for rvoip.
