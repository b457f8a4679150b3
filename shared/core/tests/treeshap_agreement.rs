//! The trees' explanations agree with the shap package's TreeExplainer on values it computed once
//! for a small scikit-learn model (fixtures/treeshap.json, made by
//! fixtures/make_treeshap_fixtures.py), and sum exactly to the margin.

use mlops_core::features::Encoded;
use mlops_core::learn::{GbdtModel, Model, Node, ShapScratch, Tree};
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/treeshap.json")).expect("fixture is JSON")
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

/// The three numbers stay numeric features; the fourth, a level code, becomes a categorical
/// feature whose split `code <= t` sends the levels 0..=t left.
const CODE: u64 = 3;

fn tree(nodes: &Value) -> Tree {
    let nodes = nodes.as_array().expect("nodes");
    let index = |v: &Value| v.as_u64().expect("child") as u32;
    Tree {
        nodes: nodes
            .iter()
            .map(|n| match n["feature"].as_u64() {
                None => Node::Leaf {
                    value: number(&n["value"]),
                },
                Some(CODE) => {
                    let mut left_codes = [0u64; 4];
                    let below = number(&n["threshold"]).floor() as i64;
                    for code in 0..=below {
                        left_codes[0] |= 1 << code;
                    }
                    Node::Categorical {
                        feature: 0,
                        left_codes,
                        left: index(&n["left"]),
                        right: index(&n["right"]),
                    }
                }
                Some(feature) => Node::Numeric {
                    feature: feature as u16,
                    threshold: number(&n["threshold"]),
                    left: index(&n["left"]),
                    right: index(&n["right"]),
                },
            })
            .collect(),
        cover: nodes
            .iter()
            .map(|n| n["cover"].as_u64().expect("cover") as u32)
            .collect(),
    }
}

fn rows(f: &Value) -> Encoded {
    let rows: Vec<Vec<f64>> = serde_json::from_value(f["rows"].clone()).expect("rows");
    Encoded {
        rows: rows.len(),
        numeric: (0..3)
            .map(|j| rows.iter().map(|r| r[j]).collect())
            .collect(),
        categorical: vec![rows.iter().map(|r| r[CODE as usize] as u8).collect()],
        levels: vec![5],
        text: vec![],
        text_widths: vec![],
    }
}

#[test]
fn tree_contributions_match_the_shap_package_and_sum_to_the_margin() {
    let f = fixture();
    let model = Model::GradientBoosting(GbdtModel {
        base: vec![number(&f["base_offset"])],
        trees: f["trees"]
            .as_array()
            .expect("trees")
            .iter()
            .map(tree)
            .collect(),
    });
    let x = rows(&f);
    let expected: Vec<Vec<f64>> = serde_json::from_value(f["shap_values"].clone()).expect("values");
    let margins: Vec<f64> = serde_json::from_value(f["margins"].clone()).expect("margins");
    let probabilities = model.probabilities(&x);
    let mut scratch = ShapScratch::default();
    for (row, (want, margin)) in expected.iter().zip(&margins).enumerate() {
        let ours = model.contributions(&x, row, 0, &mut scratch);
        assert!(
            (ours.base - number(&f["expected_value"])).abs() < TOLERANCE,
            "base {} vs shap's expected value {}",
            ours.base,
            f["expected_value"]
        );
        for (feature, (a, b)) in ours.features.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() < TOLERANCE,
                "row {row}, feature {feature}: ours {a}, shap {b}"
            );
        }
        let total = ours.base + ours.features.iter().sum::<f64>();
        let p = probabilities[row * 2 + 1];
        assert!(
            (total - margin).abs() < TOLERANCE,
            "row {row}: {total} vs {margin}"
        );
        assert!((total - (p / (1.0 - p)).ln()).abs() < 1e-9, "row {row}");
    }
}
