#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mlops_shared::fuzzing::ingest_upload(data));
