use super::*;
use crate::evaluate::roc_auc;
use crate::learn::Model;

/// Rows where the label depends on a numeric threshold interacting with a category, which no
/// single linear term captures.
fn interaction(n: usize) -> (Encoded, Vec<u32>) {
    let x: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 / 1000.0)
        .collect();
    let c: Vec<u8> = (0..n).map(|i| ((i * 31) % 3) as u8).collect();
    let y = x
        .iter()
        .zip(&c)
        .map(|(&x, &c)| u32::from(if c == 1 { x > 0.7 } else { x < 0.3 }))
        .collect();
    let encoded = Encoded {
        rows: n,
        numeric: vec![x],
        categorical: vec![c],
        levels: vec![5],
        text: vec![],
        text_widths: vec![],
    };
    (encoded, y)
}

fn fit(x: &Encoded, y: &[u32], classes: usize, params: &GbdtParams) -> GbdtModel {
    let w = vec![1.0; y.len()];
    let train = BinnedRows {
        x: &BinnedData::of(x),
        y,
        weights: &w,
        classes,
    };
    let validation = Dataset {
        x,
        y,
        weights: &w,
        classes,
    };
    GbdtModel::fit(&train, &validation, params)
}

#[test]
fn learns_an_interaction_between_a_number_and_a_category() {
    let (x, y) = interaction(3000);
    let model = fit(&x, &y, 2, &GbdtParams::default());
    let p = Model::GradientBoosting(model).probabilities(&x);
    let truth: Vec<bool> = y.iter().map(|&c| c == 1).collect();
    let scores: Vec<f64> = p.chunks(2).map(|r| r[1]).collect();
    assert!(roc_auc(&truth, &scores).is_some_and(|auc| auc > 0.99));
}

#[test]
fn the_same_data_gives_the_same_trees() {
    let (x, y) = interaction(2000);
    let params = GbdtParams {
        rounds: 20,
        ..GbdtParams::default()
    };
    assert_eq!(fit(&x, &y, 2, &params), fit(&x, &y, 2, &params));
}

#[test]
fn early_stopping_keeps_only_the_rounds_that_helped() {
    // Labels that no feature explains: validation loss stops improving almost at once.
    let n = 2000;
    let x = Encoded {
        rows: n,
        numeric: vec![(0..n).map(|i| i as f64).collect()],
        categorical: vec![],
        levels: vec![],
        text: vec![],
        text_widths: vec![],
    };
    let y: Vec<u32> = (0..n)
        .map(|i| ((i * 2654435761usize) >> 7) as u32 % 2)
        .collect();
    let w = vec![1.0; n];
    let (train, valid) = (0..n).partition::<Vec<usize>, _>(|i| i % 2 == 0);
    let (xt, xv) = (x.take(&train), x.take(&valid));
    let yt: Vec<u32> = train.iter().map(|&i| y[i]).collect();
    let yv: Vec<u32> = valid.iter().map(|&i| y[i]).collect();
    let params = GbdtParams {
        rounds: 200,
        early_stopping_rounds: 5,
        ..GbdtParams::default()
    };
    let model = GbdtModel::fit(
        &BinnedRows {
            x: &BinnedData::of(&xt),
            y: &yt,
            weights: &w[..yt.len()],
            classes: 2,
        },
        &Dataset {
            x: &xv,
            y: &yv,
            weights: &w[..yv.len()],
            classes: 2,
        },
        &params,
    );
    assert!(model.rounds() < 50, "kept {} rounds", model.rounds());
}

#[test]
fn multiclass_fits_one_tree_per_class_per_round() {
    let n = 1500;
    let x = Encoded {
        rows: n,
        numeric: vec![(0..n).map(|i| (i % 300) as f64).collect()],
        categorical: vec![],
        levels: vec![],
        text: vec![],
        text_widths: vec![],
    };
    let y: Vec<u32> = (0..n).map(|i| ((i % 300) / 100) as u32).collect();
    let params = GbdtParams {
        rounds: 10,
        early_stopping_rounds: 0,
        ..GbdtParams::default()
    };
    let model = fit(&x, &y, 3, &params);
    assert_eq!(model.trees.len(), 30);
    let p = Model::GradientBoosting(model).probabilities(&x);
    let correct = p
        .chunks(3)
        .zip(&y)
        .filter(|(row, &label)| {
            row.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .is_some_and(|(k, _)| k as u32 == label)
        })
        .count();
    assert!(correct as f64 / n as f64 > 0.95, "{correct} of {n} right");
}

#[test]
fn every_tree_keeps_the_training_rows_of_each_node() {
    let (x, y) = interaction(2000);
    let model = fit(&x, &y, 2, &GbdtParams::default());
    for tree in &model.trees {
        assert_eq!(tree.cover.len(), tree.nodes.len());
        assert_eq!(tree.cover[0], 2000, "every row starts at the root");
        for (node, &rows) in tree.nodes.iter().zip(&tree.cover) {
            if let Node::Numeric { left, right, .. } | Node::Categorical { left, right, .. } = node
            {
                assert_eq!(
                    tree.cover[*left as usize] + tree.cover[*right as usize],
                    rows
                );
            }
        }
    }
}

#[test]
fn tree_contributions_sum_to_each_classes_margin_and_skip_unused_features() {
    // Three classes from a number and a category, beside a constant no tree can split on.
    let (mut x, y) = interaction(1500);
    let y: Vec<u32> = y
        .iter()
        .zip(&x.categorical[0])
        .map(|(&label, &c)| if c == 2 { 2 } else { label })
        .collect();
    x.numeric.push(vec![1.0; 1500]);
    let params = GbdtParams {
        rounds: 15,
        ..GbdtParams::default()
    };
    let model = fit(&x, &y, 3, &params);
    let margins = model.margins(&x);
    let mut scratch = ShapScratch::default();
    for row in (0..1500).step_by(37) {
        for output in 0..3 {
            let split = model.contributions(&x, row, output, &mut scratch);
            assert_eq!(split.features.len(), 3);
            assert_eq!(split.features[1], 0.0, "never split on");
            let total = split.base + split.features.iter().sum::<f64>();
            let margin = margins[row * 3 + output];
            assert!(
                (total - margin).abs() < 1e-9,
                "row {row} output {output}: {total} vs {margin}"
            );
        }
    }
}
