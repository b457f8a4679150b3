//! Gradient-boosted trees on histograms (the LightGBM recipe): features are cut into at most 255
//! bins once, trees grow leaf-wise to the best gain, categorical features split natively on level
//! sets, and boosting stops early when the validation loss stops improving.

mod bins;
mod grow;
mod shap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{output_count, Contributions, Dataset, LossGradient};
use crate::features::Encoded;
pub use bins::BinnedData;
pub use shap::ShapScratch;

/// At most this many bins per numeric feature (codes fit a byte).
const MAX_BINS: usize = 255;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtParams {
    /// Most boosting rounds; early stopping may use fewer.
    pub rounds: usize,
    pub learning_rate: f64,
    pub num_leaves: usize,
    pub max_depth: Option<usize>,
    pub min_leaf_rows: usize,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Stop when the validation loss has not improved for this many rounds (0: never).
    pub early_stopping_rounds: usize,
}

impl Default for GbdtParams {
    fn default() -> Self {
        Self {
            rounds: 200,
            learning_rate: 0.1,
            num_leaves: 31,
            max_depth: None,
            min_leaf_rows: 20,
            l2: 1.0,
            early_stopping_rounds: 20,
        }
    }
}

/// What growing one tree needs from the parameters.
pub(crate) struct TreeParams {
    pub learning_rate: f64,
    pub num_leaves: usize,
    pub max_depth: Option<usize>,
    pub min_leaf_rows: usize,
    pub min_leaf_hessian: f64,
    pub l2: f64,
    pub min_gain: f64,
    /// Added to a level's hessian when ordering levels, so tiny levels do not sort to the ends.
    pub category_smoothing: f64,
    /// Extra L2 penalty on categorical splits, which overfit more easily than numeric ones.
    pub category_l2: f64,
}

impl From<&GbdtParams> for TreeParams {
    fn from(p: &GbdtParams) -> Self {
        TreeParams {
            learning_rate: p.learning_rate,
            num_leaves: p.num_leaves.max(2),
            max_depth: p.max_depth,
            min_leaf_rows: p.min_leaf_rows.max(1),
            min_leaf_hessian: 1e-3,
            l2: p.l2,
            min_gain: 0.0,
            category_smoothing: 10.0,
            category_l2: 10.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtModel {
    /// Margins start here: the training log-odds (binary) or log-priors (multiclass).
    pub base: Vec<f64>,
    /// Round by round, one tree per output.
    pub trees: Vec<Tree>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The root is node 0.
    pub nodes: Vec<Node>,
    /// Per node, the training rows that reached it: what TreeSHAP weighs a split's branches by.
    /// Empty in artifacts written before explanations (format 3 and older).
    pub cover: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    Leaf {
        value: f64,
    },
    /// Left when the numeric feature is at most the threshold.
    Numeric {
        feature: u16,
        threshold: f64,
        left: u32,
        right: u32,
    },
    /// Left when the categorical feature's code is in the set (a 256-bit mask).
    Categorical {
        feature: u16,
        left_codes: [u64; 4],
        left: u32,
        right: u32,
    },
}

/// Where a row goes at a node.
enum Route {
    Leaf(f64),
    /// Split on `feature` (counting the numeric features first, then the categorical ones):
    /// the row goes to `hot`, the other child is `cold`.
    Split {
        feature: usize,
        hot: usize,
        cold: usize,
    },
}

impl Node {
    fn route(&self, x: &Encoded, row: usize) -> Route {
        let (feature, goes_left, left, right) = match self {
            Node::Leaf { value } => return Route::Leaf(*value),
            Node::Numeric {
                feature,
                threshold,
                left,
                right,
            } => {
                let value = x.numeric[*feature as usize][row];
                (*feature as usize, value <= *threshold, left, right)
            }
            Node::Categorical {
                feature,
                left_codes,
                left,
                right,
            } => {
                let code = x.categorical[*feature as usize][row];
                let inside = left_codes[(code / 64) as usize] & (1 << (code % 64)) != 0;
                (x.numeric.len() + *feature as usize, inside, left, right)
            }
        };
        let (left, right) = (*left as usize, *right as usize);
        let (hot, cold) = if goes_left {
            (left, right)
        } else {
            (right, left)
        };
        Route::Split { feature, hot, cold }
    }
}

impl Tree {
    fn predict(&self, x: &Encoded, row: usize) -> f64 {
        let mut at = 0usize;
        loop {
            match self.nodes[at].route(x, row) {
                Route::Leaf(value) => return value,
                Route::Split { hot, .. } => at = hot,
            }
        }
    }
}

/// Training rows binned, with their classes and weights.
pub struct BinnedRows<'a> {
    pub x: &'a BinnedData,
    pub y: &'a [u32],
    pub weights: &'a [f64],
    pub classes: usize,
}

impl GbdtModel {
    pub fn fit(train: &BinnedRows, validation: &Dataset, params: &GbdtParams) -> GbdtModel {
        let outputs = output_count(train.classes);
        let data = train.x;
        let n = data.rows;
        let tree_params = TreeParams::from(params);
        let base = base_margins(train);
        let mut margins: Vec<f64> = base.iter().copied().cycle().take(n * outputs).collect();
        let mut valid_margins: Vec<f64> = base
            .iter()
            .copied()
            .cycle()
            .take(validation.x.rows * outputs)
            .collect();
        let mut rows: Vec<u32> = (0..n as u32).collect();
        let mut trees = Vec::new();
        let (mut best_loss, mut best_rounds) = (f64::INFINITY, 0);
        let loss = LossGradient::new(train.classes);

        for round in 0..params.rounds {
            let gradients = loss.gradients(&margins, train.y, train.weights);
            for (k, (grad, hess)) in gradients.into_iter().enumerate() {
                let (tree, leaves) = grow::grow(data, &grad, &hess, &mut rows, &tree_params);
                for leaf in &leaves {
                    for &row in &rows[leaf.start..leaf.end] {
                        margins[row as usize * outputs + k] += leaf.value;
                    }
                }
                valid_margins
                    .par_chunks_mut(outputs)
                    .enumerate()
                    .for_each(|(row, m)| m[k] += tree.predict(validation.x, row));
                trees.push(tree);
            }
            if params.early_stopping_rounds > 0 {
                let valid_loss = loss.mean_loss(&valid_margins, validation.y, validation.weights);
                if valid_loss < best_loss {
                    (best_loss, best_rounds) = (valid_loss, round + 1);
                } else if round + 1 - best_rounds >= params.early_stopping_rounds {
                    break;
                }
            } else {
                best_rounds = round + 1;
            }
        }
        trees.truncate(best_rounds * outputs);
        GbdtModel { base, trees }
    }

    pub fn outputs(&self) -> usize {
        self.base.len()
    }

    /// How many boosting rounds the model kept.
    pub fn rounds(&self) -> usize {
        self.trees.len() / self.outputs().max(1)
    }

    /// Whether every tree has the row counts TreeSHAP needs.
    pub fn explains(&self) -> bool {
        self.trees.iter().all(|t| t.cover.len() == t.nodes.len())
    }

    /// Row `row`'s margin for `output` split over the features by exact TreeSHAP: the base is
    /// the output's expected margin over the training rows. Check [`GbdtModel::explains`] first.
    pub fn contributions(
        &self,
        x: &Encoded,
        row: usize,
        output: usize,
        scratch: &mut ShapScratch,
    ) -> Contributions {
        let mut features = vec![0.0; x.feature_count()];
        let mut base = self.base[output];
        for tree in self.trees.iter().skip(output).step_by(self.outputs()) {
            base += tree.expected_value().unwrap_or_default();
            tree.add_shap(x, row, &mut features, scratch);
        }
        Contributions { base, features }
    }

    /// Row-major margins, one per output.
    pub fn margins(&self, x: &Encoded) -> Vec<f64> {
        let outputs = self.outputs();
        let mut out: Vec<f64> = self
            .base
            .iter()
            .copied()
            .cycle()
            .take(x.rows * outputs)
            .collect();
        out.par_chunks_mut(outputs)
            .enumerate()
            .for_each(|(row, m)| {
                for (t, tree) in self.trees.iter().enumerate() {
                    m[t % outputs] += tree.predict(x, row);
                }
            });
        out
    }
}

/// The constant model: weighted log-odds of the positive class, or log class priors.
fn base_margins(train: &BinnedRows) -> Vec<f64> {
    let mut class_weight = vec![0.0; train.classes];
    for (&y, &w) in train.y.iter().zip(train.weights) {
        class_weight[y as usize] += w;
    }
    let total: f64 = class_weight.iter().sum();
    let share = |k: usize| (class_weight[k] / total).clamp(1e-12, 1.0 - 1e-12);
    if train.classes == 2 {
        vec![(share(1) / share(0)).ln()]
    } else {
        (0..train.classes).map(|k| share(k).ln()).collect()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
