#![no_main]

libfuzzer_sys::fuzz_target!(
    // libFuzzer's hook aborts on every panic, even one caught: decoding catches the panics of
    // polars' Parquet footer reader (its file is then unreadable), so the default hook comes back.
    // A panic that escapes still aborts, through libfuzzer-sys's own check.
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| mlops_shared::fuzzing::ingest_upload(data)
);
