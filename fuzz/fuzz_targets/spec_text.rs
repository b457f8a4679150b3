#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlops_shared::fuzzing::spec_text(data));
