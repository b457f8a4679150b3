//! Small model artifacts for tests: a binary gradient-boosting model and a multiclass logistic
//! regression over a few flights columns, built by hand so tests need no training run.

use chrono::{DateTime, TimeDelta};

use crate::artifact::{InputField, ModelArtifact};
use crate::features::{CategoricalEncoder, CategorySource, NumericEncoder, Pipeline};
use crate::learn::{
    GbdtModel, GbdtParams, Layout, LogisticModel, LogisticParams, Model, ModelParams, Node, Tree,
};
use crate::names::{DatasetName, ModelName};
use crate::spec::{ColumnType, TargetKind};

fn flights() -> DatasetName {
    DatasetName::parse("flights").unwrap_or_else(|e| unreachable!("a valid literal: {e}"))
}

/// A small binary gradient-boosting artifact over `distance` and `origin` (also used by serving tests).
pub fn artifact() -> ModelArtifact {
    ModelArtifact {
        model: ModelName::of_dataset(&flights()),
        version: 3,
        dataset: flights(),
        target: "late".into(),
        task: TargetKind::Binary,
        classes: vec!["0".into(), "1".into()],
        threshold: Some(0.42),
        inputs: vec![
            InputField::new("distance", ColumnType::Float, true, None),
            InputField::new("origin", ColumnType::Categorical, true, None),
        ],
        pipeline: Pipeline {
            numeric: vec![NumericEncoder {
                column: "distance".into(),
                median: 800.0,
                center: 1000.0,
                scale: 700.0,
                min: 17.0,
                max: 4983.0,
            }],
            categorical: vec![CategoricalEncoder::new(
                "origin",
                CategorySource::Text,
                vec!["EWR".into(), "JFK".into()],
            )],
            text: vec![],
        },
        learner: Model::GradientBoosting(GbdtModel {
            base: vec![-0.5],
            trees: vec![Tree {
                nodes: vec![
                    Node::Categorical {
                        feature: 0,
                        left_codes: [0b101, 0, 0, 1 << 63],
                        left: 1,
                        right: 2,
                    },
                    Node::Leaf { value: 0.25 },
                    Node::Leaf { value: -0.125 },
                ],
                cover: vec![1000, 600, 400],
            }],
        }),
        params: ModelParams::GradientBoosting(GbdtParams::default()),
        fingerprint: "abc".into(),
        code_version: "0.1.0+test".into(),
        // 2026-11-24T00:00:00Z.
        trained_at: DateTime::UNIX_EPOCH + TimeDelta::seconds(1_795_478_400),
        key: None,
    }
}

/// The same inputs scored by a logistic regression, plus two weather features with little spread
/// (as rain and visibility have) whose weights pull against each other, so extreme inputs can
/// overflow the margin both ways.
pub fn logistic_artifact() -> ModelArtifact {
    let mut model = artifact();
    for (name, scale) in [("precip", 0.01), ("visib", 0.5)] {
        model
            .inputs
            .push(InputField::new(name, ColumnType::Float, true, None));
        model.pipeline.numeric.push(NumericEncoder {
            column: name.into(),
            median: 0.0,
            center: 0.004,
            scale,
            min: 0.0,
            max: 10.0,
        });
    }
    // Intercept, distance, precip, visib, then origin's codes: EWR, JFK, rare, missing.
    let weights = vec![-0.4, 0.35, 2.0, -1.5, 0.2, -0.1, 0.05, 0.0];
    model.learner = Model::LogisticRegression(LogisticModel {
        layout: Layout {
            outputs: 1,
            width: weights.len(),
            offsets: vec![4],
        },
        weights,
    });
    model.params = ModelParams::LogisticRegression(LogisticParams::default());
    model
}

/// A three-class logistic regression fitted on a few product titles (free text, at most 60
/// characters) and their price: `tea`, `coffee` or `dog food`.
pub fn text_artifact() -> ModelArtifact {
    use crate::features::text::TextOptions;
    use crate::features::{RawColumn, RawFrame};
    use crate::learn::Dataset;
    use crate::spec::FeaturesSection;

    let titles = [
        ("green tea leaves", 4.0, 0),
        ("black tea bags", 3.0, 0),
        ("herbal tea with mint", 5.0, 0),
        ("earl grey tea", 4.5, 0),
        ("dark roast coffee beans", 9.0, 1),
        ("espresso coffee pods", 8.0, 1),
        ("ground coffee, medium roast", 7.5, 1),
        ("decaf coffee beans", 8.5, 1),
        ("dry dog food with chicken", 20.0, 2),
        ("puppy food, small bites", 18.0, 2),
        ("dog treats with beef", 12.0, 2),
        ("grain free dog food", 22.0, 2),
    ];
    let mut frame = RawFrame::new(titles.len());
    let inserted = frame
        .insert(
            "title",
            RawColumn::Text(titles.iter().map(|(t, _, _)| Some(*t)).collect()),
        )
        .and_then(|()| {
            frame.insert(
                "price",
                RawColumn::Numeric(titles.iter().map(|(_, p, _)| Some(*p)).collect()),
            )
        });
    let features = FeaturesSection {
        columns: vec!["title".into(), "price".into()],
        leakage: Vec::new(),
        date_parts: Vec::new(),
        standardize: true,
        rare_level_share: 0.0,
        text: [("title".to_owned(), TextOptions::default())].into(),
    };
    let pipeline = inserted
        .and_then(|()| Pipeline::fit(&features, &frame))
        .unwrap_or_else(|e| unreachable!("the titles make a pipeline: {e}"));
    let encoded = pipeline
        .transform(&frame)
        .unwrap_or_else(|e| unreachable!("the titles encode: {e}"));
    let y: Vec<u32> = titles.iter().map(|(_, _, class)| *class).collect();
    let weights = vec![1.0; titles.len()];
    let train = Dataset {
        x: &encoded,
        y: &y,
        weights: &weights,
        classes: 3,
    };
    let params = LogisticParams {
        c: 10.0,
        max_iter: 500,
    };
    let learner = LogisticModel::fit(&train, &params)
        .unwrap_or_else(|e| unreachable!("the titles are separable: {e}"));
    let products =
        DatasetName::parse("products").unwrap_or_else(|e| unreachable!("a valid literal: {e}"));
    ModelArtifact {
        model: ModelName::of_dataset(&products),
        version: 1,
        dataset: products,
        target: "category".into(),
        task: TargetKind::Multiclass,
        classes: vec!["tea".into(), "coffee".into(), "dog food".into()],
        threshold: None,
        inputs: vec![
            InputField::new("price", ColumnType::Float, true, None),
            InputField::new("title", ColumnType::Text, true, Some(60)),
        ],
        pipeline,
        learner: Model::LogisticRegression(learner),
        params: ModelParams::LogisticRegression(params),
        fingerprint: "text".into(),
        code_version: "0.1.0+test".into(),
        trained_at: DateTime::UNIX_EPOCH + TimeDelta::seconds(1_795_478_400),
        key: None,
    }
}
