//! Fuzz target: sip_core::fuzzing::sdp.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sip_core::fuzzing::sdp(data));
