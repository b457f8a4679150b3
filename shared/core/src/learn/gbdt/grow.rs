//! Growing one regression tree on gradients and hessians, leaf by leaf (best gain first), from
//! per-bin histograms. A child's histogram is built only for the smaller child; the larger one is
//! the parent's minus it.

use rayon::prelude::*;

use super::bins::{BinKind, BinnedData};
use super::{Node, Tree, TreeParams};

#[derive(Clone, Copy, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

type Histogram = Vec<Vec<Bin>>;

#[derive(Clone, Copy)]
enum Rule {
    Numeric { bin: u8, threshold: f64 },
    Categorical { left: [u64; 4] },
}

impl Rule {
    fn goes_left(&self, bin: u8) -> bool {
        match self {
            Rule::Numeric { bin: split, .. } => bin <= *split,
            Rule::Categorical { left } => left[(bin / 64) as usize] & (1 << (bin % 64)) != 0,
        }
    }
}

#[derive(Clone, Copy)]
struct Split {
    feature: usize,
    rule: Rule,
    gain: f64,
}

/// A leaf being grown: its rows are `rows[start..end]` of the shared index buffer.
struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    g: f64,
    h: f64,
    hist: Histogram,
    best: Option<Split>,
}

/// The rows of each final leaf and its value, so the caller can update training scores without
/// walking the tree again.
pub struct LeafRows {
    pub start: usize,
    pub end: usize,
    pub value: f64,
}

pub fn grow(
    data: &BinnedData,
    grad: &[f64],
    hess: &[f64],
    rows: &mut [u32],
    params: &TreeParams,
) -> (Tree, Vec<LeafRows>) {
    let mut nodes = vec![Node::Leaf { value: 0.0 }];
    let mut cover = vec![rows.len() as u32];
    let hist = histogram(data, grad, hess, rows);
    let (g, h) = totals(&hist);
    let mut leaves = vec![Leaf {
        node: 0,
        start: 0,
        end: rows.len(),
        depth: 0,
        g,
        h,
        hist,
        best: None,
    }];
    leaves[0].best = best_split(data, &leaves[0], params);

    while leaves.len() < params.num_leaves {
        let Some((index, split)) = leaves
            .iter()
            .enumerate()
            .filter_map(|(i, leaf)| leaf.best.map(|s| (i, s)))
            .max_by(|a, b| a.1.gain.total_cmp(&b.1.gain))
        else {
            break;
        };
        let parent = leaves.swap_remove(index);
        let bins = &data.features[split.feature].bins;
        let mid = parent.start
            + partition(&mut rows[parent.start..parent.end], |row| {
                split.rule.goes_left(bins[row as usize])
            });
        let (left_node, right_node) = (nodes.len(), nodes.len() + 1);
        nodes.push(Node::Leaf { value: 0.0 });
        nodes.push(Node::Leaf { value: 0.0 });
        cover.push((mid - parent.start) as u32);
        cover.push((parent.end - mid) as u32);
        nodes[parent.node] = split_node(data, split, left_node as u32, right_node as u32);

        let left_is_smaller = mid - parent.start <= parent.end - mid;
        let (small_range, large_range) = if left_is_smaller {
            ((parent.start, mid), (mid, parent.end))
        } else {
            ((mid, parent.end), (parent.start, mid))
        };
        let small_hist = histogram(data, grad, hess, &rows[small_range.0..small_range.1]);
        let large_hist = subtract(parent.hist, &small_hist);
        let child = |node, (start, end), hist: Histogram| {
            let (g, h) = totals(&hist);
            Leaf {
                node,
                start,
                end,
                depth: parent.depth + 1,
                g,
                h,
                hist,
                best: None,
            }
        };
        let (small_node, large_node) = if left_is_smaller {
            (left_node, right_node)
        } else {
            (right_node, left_node)
        };
        for mut leaf in [
            child(small_node, small_range, small_hist),
            child(large_node, large_range, large_hist),
        ] {
            leaf.best = best_split(data, &leaf, params);
            leaves.push(leaf);
        }
    }

    let mut out = Vec::with_capacity(leaves.len());
    for leaf in leaves {
        let value = -params.learning_rate * leaf.g / (leaf.h + params.l2);
        nodes[leaf.node] = Node::Leaf { value };
        out.push(LeafRows {
            start: leaf.start,
            end: leaf.end,
            value,
        });
    }
    (Tree { nodes, cover }, out)
}

fn split_node(data: &BinnedData, split: Split, left: u32, right: u32) -> Node {
    match split.rule {
        Rule::Numeric { threshold, .. } => Node::Numeric {
            feature: split.feature as u16,
            threshold,
            left,
            right,
        },
        Rule::Categorical { left: codes } => Node::Categorical {
            feature: (split.feature - data.numeric_count) as u16,
            left_codes: codes,
            left,
            right,
        },
    }
}

/// Per-feature, per-bin sums of gradients, hessians and row counts over `rows`.
fn histogram(data: &BinnedData, grad: &[f64], hess: &[f64], rows: &[u32]) -> Histogram {
    // Gathering the gradients once in row order keeps the per-feature loops to one random read.
    let ordered: Vec<(f64, f64)> = rows
        .iter()
        .map(|&r| (grad[r as usize], hess[r as usize]))
        .collect();
    data.features
        .par_iter()
        .map(|feature| {
            let mut bins = vec![Bin::default(); feature.count];
            for (&row, &(g, h)) in rows.iter().zip(&ordered) {
                let bin = &mut bins[feature.bins[row as usize] as usize];
                bin.g += g;
                bin.h += h;
                bin.n += 1;
            }
            bins
        })
        .collect()
}

fn subtract(mut parent: Histogram, child: &Histogram) -> Histogram {
    for (p, c) in parent.iter_mut().zip(child) {
        for (pb, cb) in p.iter_mut().zip(c) {
            pb.g -= cb.g;
            pb.h -= cb.h;
            pb.n -= cb.n;
        }
    }
    parent
}

fn totals(hist: &Histogram) -> (f64, f64) {
    hist.first().map_or((0.0, 0.0), |bins| {
        bins.iter().fold((0.0, 0.0), |(g, h), b| (g + b.g, h + b.h))
    })
}

fn best_split(data: &BinnedData, leaf: &Leaf, params: &TreeParams) -> Option<Split> {
    let rows = leaf.end - leaf.start;
    if rows < 2 * params.min_leaf_rows || params.max_depth.is_some_and(|d| leaf.depth >= d) {
        return None;
    }
    let parent_score = leaf.g * leaf.g / (leaf.h + params.l2);
    leaf.hist
        .par_iter()
        .enumerate()
        .filter_map(|(feature, bins)| {
            let (rule, score) = match &data.features[feature].kind {
                BinKind::Numeric { upper } => best_numeric(bins, upper, leaf, params)?,
                BinKind::Categorical => best_categorical(bins, leaf, params)?,
            };
            Some(Split {
                feature,
                rule,
                gain: score - parent_score,
            })
        })
        .filter(|split| split.gain > params.min_gain)
        .max_by(|a, b| a.gain.total_cmp(&b.gain).then(b.feature.cmp(&a.feature)))
}

fn score(g: f64, h: f64, l2: f64) -> f64 {
    g * g / (h + l2)
}

/// Whether both sides are big enough to split into.
fn allowed(left: Bin, leaf: &Leaf, params: &TreeParams) -> bool {
    let rows = (leaf.end - leaf.start) as u32;
    let min_rows = params.min_leaf_rows as u32;
    left.n >= min_rows
        && rows - left.n >= min_rows
        && left.h >= params.min_leaf_hessian
        && leaf.h - left.h >= params.min_leaf_hessian
}

fn best_numeric(
    bins: &[Bin],
    upper: &[f64],
    leaf: &Leaf,
    params: &TreeParams,
) -> Option<(Rule, f64)> {
    let mut left = Bin::default();
    let mut best: Option<(Rule, f64)> = None;
    for (b, bin) in bins.iter().enumerate().take(bins.len().saturating_sub(1)) {
        left.g += bin.g;
        left.h += bin.h;
        left.n += bin.n;
        if bin.n == 0 || !allowed(left, leaf, params) {
            continue;
        }
        let s =
            score(left.g, left.h, params.l2) + score(leaf.g - left.g, leaf.h - left.h, params.l2);
        if best.is_none_or(|(_, b)| s > b) {
            let rule = Rule::Numeric {
                bin: b as u8,
                threshold: upper[b],
            };
            best = Some((rule, s));
        }
    }
    best
}

/// Levels sorted by their gradient ratio, then the best prefix goes left (the classic optimal
/// partition for one output, as LightGBM does). Levels absent from the leaf go right.
fn best_categorical(bins: &[Bin], leaf: &Leaf, params: &TreeParams) -> Option<(Rule, f64)> {
    let mut present: Vec<(u8, Bin)> = bins
        .iter()
        .enumerate()
        .filter(|(_, b)| b.n > 0)
        .map(|(code, b)| (code as u8, *b))
        .collect();
    present.sort_by(|a, b| {
        let ratio = |bin: &Bin| bin.g / (bin.h + params.category_smoothing);
        ratio(&a.1).total_cmp(&ratio(&b.1)).then(a.0.cmp(&b.0))
    });
    let l2 = params.l2 + params.category_l2;
    let mut left = Bin::default();
    let mut best: Option<(usize, f64)> = None;
    for (k, (_, bin)) in present
        .iter()
        .enumerate()
        .take(present.len().saturating_sub(1))
    {
        left.g += bin.g;
        left.h += bin.h;
        left.n += bin.n;
        if !allowed(left, leaf, params) {
            continue;
        }
        let s = score(left.g, left.h, l2) + score(leaf.g - left.g, leaf.h - left.h, l2)
            - score(leaf.g, leaf.h, l2)
            + score(leaf.g, leaf.h, params.l2);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((k, s));
        }
    }
    best.map(|(k, s)| {
        let codes: Vec<u8> = present[..=k].iter().map(|(code, _)| *code).collect();
        (
            Rule::Categorical {
                left: set_of(&codes),
            },
            s,
        )
    })
}

pub fn set_of(codes: &[u8]) -> [u64; 4] {
    let mut set = [0u64; 4];
    for &code in codes {
        set[(code / 64) as usize] |= 1 << (code % 64);
    }
    set
}

/// Moves the rows for which `left` holds to the front; returns how many there are.
fn partition(rows: &mut [u32], left: impl Fn(u32) -> bool) -> usize {
    let mut next = 0;
    for i in 0..rows.len() {
        if left(rows[i]) {
            rows.swap(next, i);
            next += 1;
        }
    }
    next
}
