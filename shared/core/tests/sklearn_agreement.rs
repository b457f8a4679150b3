//! The metrics and the logistic regression agree with scikit-learn on values it computed once
//! (fixtures/sklearn.json, made by fixtures/make_sklearn_fixtures.py).

use mlops_core::evaluate::{average_precision, evaluate, roc_auc};
use mlops_core::features::text::{TextOptions, TfIdf};
use mlops_core::features::Encoded;
use mlops_core::learn::{Dataset, LogisticModel, LogisticParams, Model};
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/sklearn.json")).expect("fixture is JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn classes(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("class") as u32)
        .collect()
}

fn counts(v: &Value) -> Vec<Vec<u64>> {
    serde_json::from_value(v.clone()).expect("matrix")
}

fn close(ours: f64, theirs: &Value, what: &str) {
    let theirs = theirs.as_f64().expect("number");
    assert!(
        (ours - theirs).abs() <= TOLERANCE,
        "{what}: ours {ours}, scikit-learn {theirs}"
    );
}

#[test]
fn binary_metrics_match_scikit_learn() {
    let f = &fixtures()["binary"];
    let y = classes(&f["y"]);
    let scores = floats(&f["scores"]);
    let truth: Vec<bool> = y.iter().map(|&c| c == 1).collect();
    close(
        roc_auc(&truth, &scores).expect("both classes"),
        &f["roc_auc"],
        "roc_auc",
    );
    close(
        average_precision(&truth, &scores).expect("positives"),
        &f["average_precision"],
        "average_precision",
    );
    let probabilities: Vec<f64> = scores.iter().flat_map(|&s| [1.0 - s, s]).collect();
    let labels = vec!["0".to_owned(), "1".to_owned()];
    let e = evaluate(&probabilities, &y, &labels, f["threshold"].as_f64());
    close(e.log_loss, &f["log_loss"], "log_loss");
    close(e.accuracy, &f["accuracy"], "accuracy");
    close(e.precision.expect("binary"), &f["precision"], "precision");
    close(e.recall.expect("binary"), &f["recall"], "recall");
    close(e.f1.expect("binary"), &f["f1"], "f1");
    close(e.pr_auc.expect("binary"), &f["average_precision"], "pr_auc");
    assert_eq!(e.confusion_matrix, counts(&f["confusion_matrix"]));
}

#[test]
fn multiclass_metrics_match_scikit_learn() {
    let f = &fixtures()["multiclass"];
    let y = classes(&f["y"]);
    let probabilities: Vec<f64> = f["probabilities"]
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(floats)
        .collect();
    let labels = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
    let e = evaluate(&probabilities, &y, &labels, None);
    close(e.log_loss, &f["log_loss"], "log_loss");
    close(e.accuracy, &f["accuracy"], "accuracy");
    close(e.f1_macro, &f["f1_macro"], "f1_macro");
    close(e.precision_macro, &f["precision_macro"], "precision_macro");
    close(e.recall_macro, &f["recall_macro"], "recall_macro");
    close(e.f1_weighted, &f["f1_weighted"], "f1_weighted");
    close(
        e.roc_auc.expect("all classes"),
        &f["roc_auc_ovr_macro"],
        "roc_auc ovr",
    );
    for (k, class) in e.per_class.iter().enumerate() {
        close(
            class.precision,
            &f["per_class"]["precision"][k],
            "class precision",
        );
        close(class.recall, &f["per_class"]["recall"][k], "class recall");
        close(class.f1, &f["per_class"]["f1"][k], "class f1");
        assert_eq!(Some(class.support), f["per_class"]["support"][k].as_u64());
    }
    assert_eq!(e.confusion_matrix, counts(&f["confusion_matrix"]));
}

#[test]
fn logistic_regression_matches_scikit_learn_lbfgs() {
    let f = &fixtures()["logistic"];
    let y = classes(&f["y"]);
    let x = Encoded {
        rows: y.len(),
        numeric: vec![floats(&f["x1"]), floats(&f["x2"])],
        // Codes 0–2 are the levels; 3 and 4 (rare, missing) never occur, so their weights stay 0
        // and the fit is scikit-learn's one-hot fit.
        categorical: vec![classes(&f["category"]).iter().map(|&c| c as u8).collect()],
        levels: vec![5],
        text: vec![],
        text_widths: vec![],
    };
    for fit in f["fits"].as_array().expect("fits") {
        let weights: Vec<f64> = if fit["balanced"].as_bool() == Some(true) {
            let positives = y.iter().filter(|&&c| c == 1).count() as f64;
            let n = y.len() as f64;
            y.iter()
                .map(|&c| n / (2.0 * if c == 1 { positives } else { n - positives }))
                .collect()
        } else {
            vec![1.0; y.len()]
        };
        let data = Dataset {
            x: &x,
            y: &y,
            weights: &weights,
            classes: 2,
        };
        let params = LogisticParams {
            c: fit["c"].as_f64().expect("c"),
            max_iter: 1000,
        };
        let model = LogisticModel::fit(&data, &params).expect("converges");
        let ours = Model::LogisticRegression(model).probabilities(&x);
        let theirs = floats(&fit["probabilities"]);
        let worst = ours
            .chunks(2)
            .zip(&theirs)
            .map(|(p, t)| (p[1] - t).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-5,
            "c={}: largest probability gap {worst}",
            params.c
        );
    }
}

#[test]
fn logistic_regression_that_runs_out_of_iterations_says_so() {
    let f = &fixtures()["logistic"];
    let y = classes(&f["y"]);
    let x = Encoded {
        rows: y.len(),
        numeric: vec![floats(&f["x1"]), floats(&f["x2"])],
        categorical: vec![],
        levels: vec![],
        text: vec![],
        text_widths: vec![],
    };
    let weights = vec![1.0; y.len()];
    let data = Dataset {
        x: &x,
        y: &y,
        weights: &weights,
        classes: 2,
    };
    let result = LogisticModel::fit(
        &data,
        &LogisticParams {
            c: 1.0,
            max_iter: 1,
        },
    );
    assert!(
        matches!(
            result,
            Err(mlops_core::learn::LearnError::NotConverged { iterations: 1, .. })
        ),
        "{result:?}"
    );
}

#[test]
fn logistic_regression_on_sparse_text_matches_scikit_learn_binary_and_multinomial() {
    let f = &fixtures()["text"];
    let documents: Vec<Option<&str>> = f["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d.as_str())
        .collect();
    let options = TextOptions {
        ngrams: (1, 2),
        min_df: 2.0,
        sublinear_tf: true,
        ..TextOptions::default()
    };
    let tfidf = TfIdf::fit(&documents, &options);
    assert_eq!(Some(tfidf.width() as u64), f["terms"].as_u64());
    let x = Encoded {
        rows: documents.len(),
        numeric: vec![],
        categorical: vec![],
        levels: vec![],
        text: vec![tfidf.transform(&documents)],
        text_widths: vec![tfidf.width()],
    };
    let topics = classes(&f["topic"]);
    for fit in f["fits"].as_array().expect("fits") {
        let k = fit["classes"].as_u64().expect("classes") as usize;
        let y: Vec<u32> = if k == 2 {
            topics.iter().map(|&t| u32::from(t == 0)).collect()
        } else {
            topics.clone()
        };
        let weights = vec![1.0; y.len()];
        let data = Dataset {
            x: &x,
            y: &y,
            weights: &weights,
            classes: k,
        };
        let params = LogisticParams {
            c: fit["c"].as_f64().expect("c"),
            max_iter: 1000,
        };
        let model = LogisticModel::fit(&data, &params).expect("converges");
        let ours = Model::LogisticRegression(model).probabilities(&x);
        let theirs: Vec<f64> = fit["probabilities"]
            .as_array()
            .expect("rows")
            .iter()
            .flat_map(floats)
            .collect();
        assert_eq!(ours.len(), theirs.len());
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        // scikit-learn ran to a tolerance of 1e-12; ours stops at a gradient norm of 1e-6 of the
        // mean loss, which leaves the three-class probabilities within about 2e-5.
        assert!(worst < 5e-5, "{k} classes: largest probability gap {worst}");
    }
}
