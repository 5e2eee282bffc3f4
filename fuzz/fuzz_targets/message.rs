//! Fuzz target: sip_core::fuzzing::message.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sip_core::fuzzing::message(data));
