//! Outcomes arrive late, as uploads under `raw/<dataset>/outcomes/`: checked against the contract
//! derived from the dataset's (the prediction's id, the observed label, when it was observed),
//! curated as versions of their own, bad rows dropped and reported, unusable files quarantined.

use mlops_shared::ingest::{catalog, Status};
use mlops_shared::ports::Backends;
use mlops_tests::{dataset_name, flights_spec, ingestor, install_spec, on_both_stores};
use polars::prelude::*;

const DAY_ONE: &str = "prediction_id,late,observed_at,gate\n\
    req-1-0,1,2013-07-01T12:00:00Z,B4\n\
    req-1-1,0,2013-07-01T12:05:00Z,C1\n\
    req-1-2,2,2013-07-01T12:06:00Z,C2\n\
    req-1-3,,2013-07-01T12:07:00Z,C3\n\
    ,1,2013-07-01T12:08:00Z,C4\n";

async fn outcome_uploads_are_checked_curated_and_reported(backends: Backends) {
    install_spec(&backends, &flights_spec()).await;
    let flights = dataset_name("flights");
    let ingestor = ingestor(&backends);
    let outcome = ingestor
        .upload_and_ingest(&flights, "outcomes/day-one.csv", DAY_ONE.into())
        .await
        .expect("ingests");
    assert_eq!(outcome.status, Status::Accepted, "{outcome:?}");
    assert_eq!((outcome.rows, outcome.rows_dropped), (2, 3), "{outcome:?}");
    for says in ["late", "prediction_id"] {
        assert!(
            outcome.reasons.iter().any(|r| r.contains(says)),
            "a dropped row's reason names {says}: {:?}",
            outcome.reasons
        );
    }
    let version = outcome.version.clone().expect("a version");
    assert_eq!(
        outcome.report.as_str(),
        format!("curated/flights/outcomes/{version}/manifest.json")
    );

    let registry = backends.registry.as_ref();
    let outcomes = catalog::outcome_versions(registry, &flights)
        .await
        .expect("reads");
    assert_eq!(outcomes.len(), 1);
    assert!(
        catalog::versions(registry, &flights)
            .await
            .expect("reads")
            .is_empty(),
        "outcomes are not training data"
    );
    let bytes = backends
        .store
        .get(&outcomes[0].data_key)
        .await
        .expect("curated")
        .bytes;
    let frame = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .expect("Parquet");
    assert_eq!(
        frame
            .get_column_names()
            .iter()
            .map(|name| name.as_str())
            .collect::<Vec<_>>(),
        ["prediction_id", "late", "observed_at"],
        "other columns are dropped"
    );
    let ids: Vec<Option<&str>> = frame
        .column("prediction_id")
        .and_then(|c| c.str())
        .expect("text ids")
        .iter()
        .collect();
    assert_eq!(ids, [Some("req-1-0"), Some("req-1-1")]);

    let again = ingestor
        .upload_and_ingest(&flights, "outcomes/day-one-again.csv", DAY_ONE.into())
        .await
        .expect("ingests");
    assert_eq!(
        (again.status, again.version),
        (Status::Duplicate, Some(version)),
        "the same outcomes twice are one version"
    );

    let no_time = ingestor
        .upload_and_ingest(
            &flights,
            "outcomes/no-time.csv",
            "prediction_id,late\nreq-1-0,1\n".into(),
        )
        .await
        .expect("ingests");
    assert_eq!(no_time.status, Status::Quarantined, "{no_time:?}");
    assert!(
        no_time.reasons.iter().any(|r| r.contains("observed_at")),
        "{:?}",
        no_time.reasons
    );
}

on_both_stores!(outcome_uploads_are_checked_curated_and_reported);
