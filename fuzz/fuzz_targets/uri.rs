//! Fuzz target: sip_core::fuzzing::uri.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sip_core::fuzzing::uri(data));
