//! The fuzz targets' committed corpora (fuzz/corpus/<target>/), replayed through the same harness
//! the fuzzer runs: every input found once, and every crash fixed since, stays answered.

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) {
    let folder = mlops_tests::repo_root().join("fuzz/corpus").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.expect("an entry").path())
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 3,
        "{target}: a corpus of {} inputs",
        inputs.len()
    );
    for input in &inputs {
        let bytes = std::fs::read(input).expect("reads");
        if let Err(panic) = std::panic::catch_unwind(|| harness(&bytes)) {
            let name = input.file_name().map(Path::new).unwrap_or(input);
            std::panic::resume_unwind(Box::new(format!("{target}/{}: {panic:?}", name.display())));
        }
    }
}

#[test]
fn prediction_requests_of_the_corpus_are_answered_alike_by_both_readers() {
    replay("predict_request", mlops_shared::fuzzing::predict_request);
}

#[test]
fn uploads_of_the_corpus_are_judged_without_an_internal_error() {
    replay("ingest_upload", mlops_shared::fuzzing::ingest_upload);
}

#[test]
fn specs_of_the_corpus_are_parsed_or_refused() {
    replay("spec_text", mlops_shared::fuzzing::spec_text);
}
