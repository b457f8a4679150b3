//! Exact SHAP values of one tree for one row: Lundberg et al.'s path-dependent TreeSHAP
//! (Algorithm 2 of "From local explanations to global understanding with explainable AI for
//! trees", 2020). A feature absent from a coalition is integrated out by following both children
//! of its splits, weighted by the training rows that went each way, so no background data is
//! needed and the values sum exactly to the tree's output minus its expected output.
//!
//! The walk keeps, for the path from the root, each distinct feature met with the share of
//! training rows that followed the path (`zero`) and whether the row itself follows it (`one`),
//! and the weights of every coalition size. One walk over the tree costs O(leaves · depth²).

use super::{Node, Route, Tree};
use crate::features::Encoded;

/// One distinct feature on the path from the root.
#[derive(Clone, Copy, Default)]
struct Step {
    feature: usize,
    /// The share of training rows reaching here that took this feature's branches on the path.
    zero: f64,
    /// 1 when the row takes those branches too, else 0.
    one: f64,
    /// The permutation weight of coalitions of this element's index in size.
    weight: f64,
}

/// Marks the root's step, which belongs to no feature.
const NO_FEATURE: usize = usize::MAX;

/// Reused between trees and rows, so a walk allocates nothing.
#[derive(Default)]
pub struct ShapScratch {
    steps: Vec<Step>,
    /// `reciprocals[n]` is 1 / n: the walk's inner loops multiply instead of dividing, which
    /// took one flights record's explanation from 114 to 72 µs.
    reciprocals: Vec<f64>,
}

impl Tree {
    /// The tree's output averaged over its training rows (each leaf weighted by the rows that
    /// reached it); `None` for a tree stored without its row counts.
    pub fn expected_value(&self) -> Option<f64> {
        let root = *self.cover.first()? as f64;
        Some(
            self.nodes
                .iter()
                .zip(&self.cover)
                .filter_map(|(node, &rows)| match node {
                    Node::Leaf { value } => Some(value * rows as f64 / root),
                    _ => None,
                })
                .sum(),
        )
    }

    /// Adds each feature's SHAP value for row `row` into `phi`: numeric features first, then the
    /// categorical ones. The tree must have its row counts.
    pub fn add_shap(&self, x: &Encoded, row: usize, phi: &mut [f64], scratch: &mut ShapScratch) {
        // A path holds at most one step per split plus the root's; each level of the walk keeps
        // its own copy of the path, one longer than its parent's.
        let depth = self.nodes.len() / 2 + 1;
        let needed = (depth + 2) * (depth + 3) / 2;
        if scratch.steps.len() < needed {
            scratch.steps.resize(needed, Step::default());
        }
        if scratch.reciprocals.len() < depth + 3 {
            scratch.reciprocals = (0..depth + 3).map(|n| 1.0 / n as f64).collect();
        }
        let mut walk = Walk {
            tree: self,
            x,
            row,
            phi,
            reciprocals: &scratch.reciprocals,
        };
        walk.visit(0, &mut scratch.steps, 0, 1.0, 1.0, NO_FEATURE);
    }
}

struct Walk<'a> {
    tree: &'a Tree,
    x: &'a Encoded,
    row: usize,
    phi: &'a mut [f64],
    reciprocals: &'a [f64],
}

impl Walk<'_> {
    /// `steps` starts with the parent's path (`depth` + 1 steps, the last one stale); this node
    /// extends a copy of it just after, by the feature that led here.
    fn visit(
        &mut self,
        node: usize,
        steps: &mut [Step],
        mut depth: usize,
        zero: f64,
        one: f64,
        feature: usize,
    ) {
        let (parent, path) = steps.split_at_mut(depth + 1);
        path[..=depth].copy_from_slice(parent);
        extend(path, depth, zero, one, feature, self.reciprocals);

        let (split_feature, hot, cold) = match self.tree.nodes[node].route(self.x, self.row) {
            Route::Leaf(value) => {
                for i in 1..=depth {
                    let step = path[i];
                    let weight = unwound_sum(path, depth, i, self.reciprocals);
                    self.phi[step.feature] += weight * (step.one - step.zero) * value;
                }
                return;
            }
            Route::Split { feature, hot, cold } => (feature, hot, cold),
        };
        let cover = &self.tree.cover;
        let rows = cover[node] as f64;
        let (hot_share, cold_share) = if rows > 0.0 {
            (cover[hot] as f64 / rows, cover[cold] as f64 / rows)
        } else {
            (0.0, 0.0)
        };
        // A feature split on again higher up is taken off the path and put back with both
        // splits' shares combined.
        let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
        if let Some(k) = path[..=depth]
            .iter()
            .position(|s| s.feature == split_feature)
        {
            incoming_zero = path[k].zero;
            incoming_one = path[k].one;
            unwind(path, depth, k, self.reciprocals);
            depth -= 1;
        }
        for (child, zero, one) in [
            (hot, hot_share * incoming_zero, incoming_one),
            (cold, cold_share * incoming_zero, 0.0),
        ] {
            // A branch no training row and not this row takes weighs nothing.
            if zero != 0.0 || one != 0.0 {
                self.visit(child, path, depth + 1, zero, one, split_feature);
            }
        }
    }
}

/// Adds a step for `feature` at `depth`, updating the weights of every coalition size.
fn extend(path: &mut [Step], depth: usize, zero: f64, one: f64, feature: usize, r: &[f64]) {
    path[depth] = Step {
        feature,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let per_size = r[depth + 1];
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 * per_size;
        path[i].weight = zero * path[i].weight * (depth - i) as f64 * per_size;
    }
}

/// Takes step `index` off the path: the inverse of [`extend`].
fn unwind(path: &mut [Step], depth: usize, index: usize, r: &[f64]) {
    let Step { zero, one, .. } = path[index];
    let size = (depth + 1) as f64;
    let mut next = path[depth].weight;
    if one != 0.0 {
        let per_one = 1.0 / one;
        for i in (0..depth).rev() {
            let kept = path[i].weight;
            path[i].weight = next * size * r[i + 1] * per_one;
            next = kept - path[i].weight * zero * (depth - i) as f64 * r[depth + 1];
        }
    } else {
        let per_zero = 1.0 / zero;
        for i in (0..depth).rev() {
            path[i].weight = path[i].weight * size * per_zero * r[depth - i];
        }
    }
    for i in index..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

/// The total weight the path's coalitions would have with step `index` unwound, without
/// unwinding it.
fn unwound_sum(path: &[Step], depth: usize, index: usize, r: &[f64]) -> f64 {
    let Step { zero, one, .. } = path[index];
    let mut total = 0.0;
    if one != 0.0 {
        let per_one = 1.0 / one;
        let mut next = path[depth].weight;
        for i in (0..depth).rev() {
            let share = next * r[i + 1] * per_one;
            total += share;
            next = path[i].weight - share * zero * (depth - i) as f64;
        }
    } else {
        let per_zero = 1.0 / zero;
        for i in (0..depth).rev() {
            total += path[i].weight * per_zero * r[depth - i];
        }
    }
    total * (depth + 1) as f64
}
