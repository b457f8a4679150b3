use super::*;

#[test]
fn emf_documents_declare_every_metric_and_dimension() {
    let doc = MetricSet::new()
        .dimension("Dataset", "flights")
        .metric("RowsAccepted", 120.0, Unit::Count)
        .metric("FilesQuarantined", 1.0, Unit::Count)
        .to_json(1_700_000_000_000);
    let directive = &doc["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Mlops");
    assert_eq!(
        directive["Dimensions"],
        json!([["Dataset"], []]),
        "per dataset and in total"
    );
    assert_eq!(
        directive["Metrics"][1],
        json!({"Name": "FilesQuarantined", "Unit": "Count"})
    );
    assert_eq!(doc["Dataset"], "flights");
    assert_eq!(doc["RowsAccepted"], 120.0);
    assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
}
