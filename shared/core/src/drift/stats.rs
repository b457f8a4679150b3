//! The statistics behind the drift tests, each defined as scipy defines it: `stats_tests.rs` checks
//! them against values scipy computed (`tests/fixtures/make_drift_fixtures.py`) to 1e-9.

use rand::seq::index;
use rand::Rng;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// A sample as its distinct values in ascending order, with how often each occurs. Exact for any
/// number of rows while the distinct values are few, which is what keeps profiles small. Read from
/// a stored profile only when that holds (see [`CountsFields`]): the statistics index by it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "CountsFields")]
pub struct Counts {
    pub values: Vec<f64>,
    pub counts: Vec<u64>,
}

/// A stored [`Counts`] as read, before it is checked: one count per value, finite values in
/// strictly ascending order, and a total that fits.
#[derive(Deserialize)]
struct CountsFields {
    values: Vec<f64>,
    counts: Vec<u64>,
}

impl TryFrom<CountsFields> for Counts {
    type Error = String;

    fn try_from(fields: CountsFields) -> Result<Counts, String> {
        let CountsFields { values, counts } = fields;
        if values.len() != counts.len() {
            return Err(format!(
                "{} values but {} counts",
                values.len(),
                counts.len()
            ));
        }
        if values.iter().any(|v| !v.is_finite()) || values.windows(2).any(|w| w[0] >= w[1]) {
            return Err("values must be finite and strictly ascending".into());
        }
        if counts
            .iter()
            .try_fold(0u64, |sum, &c| sum.checked_add(c))
            .is_none()
        {
            return Err("the counts add up past 2^64".into());
        }
        Ok(Counts { values, counts })
    }
}

impl Counts {
    /// Counts the given values (no NaN).
    pub fn from_values(values: Vec<f64>) -> Counts {
        Counts::from_pairs(values.into_iter().map(|v| (v, 1)).collect())
    }

    /// Builds from (value, count) pairs in any order; equal values are merged.
    pub fn from_pairs(mut pairs: Vec<(f64, u64)>) -> Counts {
        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Counts::default();
        for (v, c) in pairs {
            match (out.values.last(), out.counts.last_mut()) {
                (Some(&last), Some(count)) if last == v => *count += c,
                _ => {
                    out.values.push(v);
                    out.counts.push(c);
                }
            }
        }
        out
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn distinct(&self) -> usize {
        self.values.len()
    }

    /// How many values are at most `x`.
    pub fn at_most(&self, x: f64) -> u64 {
        let end = self.values.partition_point(|&v| v <= x);
        self.counts[..end].iter().sum()
    }

    /// How many values are below `x`.
    pub fn below(&self, x: f64) -> u64 {
        let end = self.values.partition_point(|&v| v < x);
        self.counts[..end].iter().sum()
    }

    /// The smallest value with at least a share `q` of the values at or below it; `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let rank = (q * self.total() as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        self.values.iter().zip(&self.counts).find_map(|(&v, &c)| {
            seen += c;
            (seen >= rank).then_some(v)
        })
    }

    /// `k` of the counted values drawn uniformly without replacement (all of them if fewer), sorted.
    pub fn sample<R: Rng + ?Sized>(&self, k: usize, rng: &mut R) -> Vec<f64> {
        let total = self.total() as usize;
        if total <= k {
            return self
                .values
                .iter()
                .zip(&self.counts)
                .flat_map(|(&v, &c)| std::iter::repeat_n(v, c as usize))
                .collect();
        }
        let mut picked = index::sample(rng, total, k).into_vec();
        picked.sort_unstable();
        let mut out = Vec::with_capacity(k);
        let (mut value, mut end) = (0usize, self.counts[0] as usize);
        for i in picked {
            while i >= end {
                value += 1;
                end += self.counts[value] as usize;
            }
            out.push(self.values[value]);
        }
        out
    }
}

/// A test's statistic and its p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tested {
    pub statistic: f64,
    pub p_value: f64,
}

/// Walks the distinct values of both samples in order, calling `step(x, next_x, cdf_a, cdf_b)` with
/// both empirical CDFs just after `x` (`next_x` is `None` after the last value).
fn walk_cdfs(a: &Counts, b: &Counts, mut step: impl FnMut(f64, Option<f64>, f64, f64)) {
    let (na, nb) = (a.total() as f64, b.total() as f64);
    let (mut i, mut j) = (0, 0);
    let (mut ca, mut cb) = (0u64, 0u64);
    while i < a.values.len() || j < b.values.len() {
        let x = match (a.values.get(i), b.values.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => unreachable!("loop condition"),
        };
        if a.values.get(i) == Some(&x) {
            ca += a.counts[i];
            i += 1;
        }
        if b.values.get(j) == Some(&x) {
            cb += b.counts[j];
            j += 1;
        }
        let next = match (a.values.get(i), b.values.get(j)) {
            (Some(&u), Some(&v)) => Some(u.min(v)),
            (Some(&u), None) => Some(u),
            (None, Some(&v)) => Some(v),
            (None, None) => None,
        };
        step(x, next, ca as f64 / na, cb as f64 / nb);
    }
}

/// Two-sample Kolmogorov–Smirnov test, two-sided, with the exact p-value: `scipy.stats.ks_2samp`
/// in its exact mode, which scipy's default uses whenever both samples have at most 10,000 values.
/// The work grows with the product of the sample sizes, so callers pass bounded samples.
pub fn ks_2samp(a: &Counts, b: &Counts) -> Tested {
    let (n1, n2) = (a.total(), b.total());
    let mut d = 0.0f64;
    walk_cdfs(a, b, |_, _, fa, fb| d = d.max((fa - fb).abs()));
    let g = gcd(n1, n2);
    let lcm = (n1 / g) * n2;
    // The statistic is a multiple of 1/lcm; rounding removes the floating-point noise of the CDFs.
    let h = (d * lcm as f64).round_ties_even() as u64;
    let statistic = h as f64 / lcm as f64;
    let p_value = if h == 0 {
        1.0
    } else {
        (1.0 - share_of_paths_inside(n1, n2, g, h)).clamp(0.0, 1.0)
    };
    Tested { statistic, p_value }
}

/// Under the null hypothesis every interleaving of the two sorted samples is equally likely, i.e.
/// every lattice path from (0, 0) to (m, n). This is the share of those paths that stay strictly
/// between the diagonals |i/m − j/n| = h/lcm(m, n): the probability that the statistic is below
/// h/lcm. Computed forward as probabilities (each step's odds follow the values left on each
/// side), so nothing overflows.
fn share_of_paths_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = (m.max(n) as i64, m.min(n) as i64);
    let (mg, ng, h) = ((m / g as i64), (n / g as i64), h as i64);
    // On column i the path is inside for j in lo(i)..=hi(i): |i·ng − j·mg| < h.
    let lo = |i: i64| ((i * ng - h).div_euclid(mg) + 1).max(0);
    let hi = |i: i64| ((i * ng + h - 1).div_euclid(mg)).min(n);
    let mut column = vec![0.0f64; n as usize + 1];
    let mut next = vec![0.0f64; n as usize + 1];
    // Column 0: straight up along j from the origin, while inside.
    column[0] = 1.0;
    for j in 1..=hi(0) {
        column[j as usize] = column[j as usize - 1] * (n - j + 1) as f64 / (m + n - j + 1) as f64;
    }
    let (mut last_lo, mut last_hi) = (0, hi(0));
    for i in 1..=m {
        let (from, to) = (lo(i), hi(i));
        if from > to {
            return 0.0;
        }
        for j in from..=to {
            let left = if (last_lo..=last_hi).contains(&j) {
                column[j as usize] * (m - i + 1) as f64 / (m + n - i - j + 1) as f64
            } else {
                0.0
            };
            let below = if j > from {
                next[j as usize - 1] * (n - j + 1) as f64 / (m + n - i - j + 1) as f64
            } else {
                0.0
            };
            next[j as usize] = left + below;
        }
        std::mem::swap(&mut column, &mut next);
        (last_lo, last_hi) = (from, to);
    }
    if (last_lo..=last_hi).contains(&n) {
        column[n as usize]
    } else {
        0.0
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The first Wasserstein distance between two samples: `scipy.stats.wasserstein_distance`.
pub fn wasserstein(a: &Counts, b: &Counts) -> f64 {
    let mut total = 0.0;
    walk_cdfs(a, b, |x, next, fa, fb| {
        if let Some(next) = next {
            total += (fa - fb).abs() * (next - x);
        }
    });
    total
}

/// Pearson's chi-square goodness-of-fit test with k − 1 degrees of freedom:
/// `scipy.stats.chisquare(observed, expected)`. Needs at least two categories.
pub fn chi_square(observed: &[f64], expected: &[f64]) -> Tested {
    let statistic: f64 = observed
        .iter()
        .zip(expected)
        .map(|(o, e)| (o - e) * (o - e) / e)
        .sum();
    let p_value = ChiSquared::new((observed.len() as f64 - 1.0).max(0.0))
        .map_or(f64::NAN, |chi2| chi2.sf(statistic));
    Tested { statistic, p_value }
}

/// Two-proportion z-test, two-sided: `successes` of `n` on each side, with the pooled proportion.
/// The statistic is NaN (and the p-value 1) when both sides are all successes or all failures.
pub fn z_test(successes_a: u64, n_a: u64, successes_b: u64, n_b: u64) -> Tested {
    let (n1, n2) = (n_a as f64, n_b as f64);
    let (p1, p2) = (successes_a as f64 / n1, successes_b as f64 / n2);
    let pooled = (successes_a + successes_b) as f64 / (n1 + n2);
    let statistic = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let p_value = if statistic.is_nan() {
        1.0
    } else {
        2.0 * (1.0 - standard_normal().cdf(statistic.abs()))
    };
    Tested { statistic, p_value }
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// `x·ln(x/y)` with the conventions of `scipy.special.rel_entr`.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

fn normalised(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// The Jensen–Shannon distance (natural logarithm) between two histograms over the same bins:
/// `scipy.spatial.distance.jensenshannon`. Each side is normalised first.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalised(p), normalised(q));
    let divergence: f64 = p
        .iter()
        .zip(&q)
        .map(|(&a, &b)| {
            let m = (a + b) / 2.0;
            rel_entr(a, m) + rel_entr(b, m)
        })
        .sum();
    (divergence / 2.0).sqrt()
}

/// Kullback–Leibler divergence of `q` from `p` (natural logarithm), each side normalised first:
/// `scipy.stats.entropy(p, q)`. Infinite where `p` has mass and `q` none: callers floor empty bins.
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalised(p), normalised(q));
    p.iter().zip(&q).map(|(&a, &b)| rel_entr(a, b)).sum()
}

/// Population stability index of `current` against `reference` shares over the same bins:
/// Σ (current − reference) · ln(current / reference). Callers floor empty bins.
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (c - r) * (c / r).ln())
        .sum()
}

/// Replaces empty bins' shares by a small floor, so that PSI and KL stay finite: the smallest
/// non-zero share divided by 10⁶ if that is at most 0.0001, else 0.0001 (Evidently's convention).
pub fn floor_empty(shares: &mut [f64]) {
    let smallest = shares
        .iter()
        .copied()
        .filter(|&s| s > 0.0)
        .fold(f64::INFINITY, f64::min);
    let floor = if smallest <= 1e-4 {
        smallest / 1e6
    } else {
        1e-4
    };
    for s in shares.iter_mut().filter(|s| **s == 0.0) {
        *s = floor;
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
