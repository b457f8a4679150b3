//! Data versions a person manages: a retired version is left out of training (and recorded so
//! in the lineage), kept, and audited with who, when and why; it can be restored; training can be
//! pinned to chosen versions; and a candidate that learned from a version retired since does not
//! pass the promotion policy's data gate.

use chrono::Utc;
use mlops_shared::ingest::catalog;
use mlops_shared::ingest::retirement::{self, DataAction, Retirement, RetirementError};
use mlops_shared::names::DatasetName;
use mlops_shared::ports::Backends;
use mlops_shared::promotion::{Command, Promoter, Request};
use mlops_shared::train::{Silent, TrainError, Trainer};
use mlops_shared::training_data::DataError;
use mlops_tests::{
    dataset_name, flights_sample, ingest, json_object, model_name, on_both_stores,
    quick_flights_spec, train,
};

fn by(actor: &str, reason: &str) -> Retirement {
    Retirement::new(actor, Utc::now(), reason).expect("a reason")
}

/// January and February ingested; their version ids, in that order.
async fn two_months(backends: &Backends) -> (DatasetName, String, String) {
    let flights = dataset_name("flights");
    ingest(
        backends,
        &quick_flights_spec(),
        vec![
            ("01.csv.gz".into(), flights_sample("01")),
            ("02.csv.gz".into(), flights_sample("02")),
        ],
    )
    .await;
    let versions = catalog::versions(backends.registry.as_ref(), &flights)
        .await
        .expect("lists");
    let id = |source: &str| {
        versions
            .iter()
            .find(|v| v.source_key.as_str().ends_with(source))
            .map(|v| v.version.clone())
            .expect("ingested")
    };
    (flights.clone(), id("01.csv.gz"), id("02.csv.gz"))
}

async fn retired_versions_are_left_out_audited_and_restorable(backends: Backends) {
    let (flights, january, february) = two_months(&backends).await;
    let registry = backends.registry.as_ref();
    retirement::retire(registry, &flights, &january, &by("cli:ana", "a bad export"))
        .await
        .expect("retires");
    let again = retirement::retire(registry, &flights, &january, &by("cli:ana", "twice")).await;
    assert!(
        matches!(again, Err(RetirementError::AlreadyRetired { .. })),
        "{again:?}"
    );
    let unknown = retirement::retire(registry, &flights, "0000", &by("cli:ana", "?")).await;
    assert!(
        matches!(unknown, Err(RetirementError::NoSuchVersion { .. })),
        "{unknown:?}"
    );
    let silent = Retirement::new("cli:ana", Utc::now(), " ");
    assert!(
        matches!(silent, Err(RetirementError::NoReason)),
        "{silent:?}"
    );

    let record = train(&backends, "flights").await.expect("trains").record;
    let lineage = json_object(&backends, &record.lineage_key).await;
    let used: Vec<&str> = lineage["data_versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(used, [february.as_str()]);
    assert_eq!(lineage["retired_versions"], serde_json::json!([january]));
    let card = backends
        .store
        .get(&mlops_tests::key(&record.card_key))
        .await
        .expect("card")
        .bytes;
    assert!(
        String::from_utf8(card)
            .expect("UTF-8")
            .contains(&format!("retired, left out: <code>{january}</code>")),
        "the card says what was left out"
    );
    // The data itself stays.
    assert_eq!(
        catalog::versions(registry, &flights)
            .await
            .expect("lists")
            .len(),
        2
    );

    // Pinned to a retired version: refused, naming why; to the other one: trained on it alone.
    let pinned = Trainer::new(&backends)
        .pinned(vec![january.clone()])
        .train(&flights, "test", &Silent)
        .await;
    assert!(
        matches!(&pinned, Err(TrainError::Data(DataError::PinnedRetired { reason, .. })) if reason == "a bad export"),
        "{:?}",
        pinned.err()
    );

    retirement::restore(registry, &flights, &january, &by("cli:ben", "re-checked"))
        .await
        .expect("restores");
    let again = retirement::restore(registry, &flights, &january, &by("cli:ben", "twice")).await;
    assert!(
        matches!(again, Err(RetirementError::NotRetired { .. })),
        "{again:?}"
    );
    let history = retirement::audit(registry, &flights).await.expect("reads");
    let told: Vec<(DataAction, &str, &str)> = history
        .iter()
        .map(|e| (e.action, e.actor.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        told,
        [
            (DataAction::Retire, "cli:ana", "a bad export"),
            (DataAction::Restore, "cli:ben", "re-checked")
        ]
    );
    let only_january = Trainer::new(&backends)
        .pinned(vec![january.clone()])
        .train(&flights, "test", &Silent)
        .await
        .expect("trains on the pinned version")
        .record;
    let lineage = json_object(&backends, &only_january.lineage_key).await;
    assert_eq!(lineage["data_versions"][0]["version"], january.as_str());
    assert_eq!(lineage["data_versions"].as_array().map(Vec::len), Some(1));
}
on_both_stores!(retired_versions_are_left_out_audited_and_restorable);

async fn a_candidate_that_learned_from_a_retired_version_fails_the_data_gate(backends: Backends) {
    let (flights, january, _) = two_months(&backends).await;
    let version = train(&backends, "flights")
        .await
        .expect("trains")
        .record
        .version;
    retirement::retire(
        backends.registry.as_ref(),
        &flights,
        &january,
        &by("cli:ana", "a bad export"),
    )
    .await
    .expect("retires");
    let request = Request::new("decide", "test", None).expect("valid");
    let decided = Promoter::new(&backends)
        .execute(
            &Command::Decide {
                model: model_name("flights"),
                version,
            },
            &request,
        )
        .await
        .expect("decides");
    assert_eq!(decided.champion, None, "{}", decided.message);
    let decision = decided.decision.expect("a decision");
    let gate = decision
        .gates
        .iter()
        .find(|g| g.name == "data_validation")
        .expect("the data gate");
    assert!(!gate.passed, "{gate:?}");
    assert!(gate.detail.contains("was retired by cli:ana"), "{gate:?}");
}
on_both_stores!(a_candidate_that_learned_from_a_retired_version_fails_the_data_gate);
