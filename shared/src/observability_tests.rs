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

#[test]
fn a_distribution_is_an_array_of_at_most_a_hundred_values_sampled_across_them() {
    let scores: Vec<f64> = (0..250).map(|i| f64::from(i) / 250.0).collect();
    let doc = MetricSet::new()
        .metric("Requests", 1.0, Unit::Count)
        .values("Score", &scores, Unit::None)
        .values("Empty", &[], Unit::None)
        .to_json(0);
    let kept = doc["Score"].as_array().expect("an array");
    assert_eq!(kept.len(), MAX_VALUES);
    assert_eq!(kept[0], json!(scores[0]));
    assert_eq!(kept[1], json!(scores[2]), "every 2.5th value");
    assert_eq!(kept[99], json!(scores[247]), "down to the last values");
    let few = MetricSet::new()
        .values("Score", &scores[..3], Unit::None)
        .to_json(0);
    assert_eq!(
        few["Score"],
        json!(scores[..3]),
        "a few values are all kept"
    );
    let names: Vec<&Value> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| &m["Name"])
        .collect();
    assert_eq!(
        names,
        [&json!("Requests"), &json!("Score")],
        "nothing for no values"
    );
}
