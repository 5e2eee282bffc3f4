//! Fuzz target: sip_core::fuzzing::stream.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sip_core::fuzzing::stream(data));
