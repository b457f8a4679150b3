//! L2-regularised logistic regression (binary, or multinomial for several classes), fitted with
//! argmin's L-BFGS. Categorical features are one-hot in effect, but rows keep one code per feature,
//! so a pass over the data costs one operation per feature instead of one per level; text
//! features are sparse rows, so a pass costs one operation per term a document holds.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{output_count, Contributions, Dataset, LearnError, LossGradient};
use crate::features::Encoded;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// Inverse regularisation strength, as in scikit-learn: smaller is stronger.
    pub c: f64,
    pub max_iter: u64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            max_iter: 500,
        }
    }
}

/// The solver stops when the gradient of the mean loss is this small.
const GRADIENT_TOLERANCE: f64 = 1e-6;
/// A fit that ran out of iterations still counts as converged below this gradient norm.
const ACCEPTABLE_GRADIENT: f64 = 1e-4;
const ROWS_PER_TASK: usize = 16_384;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    pub layout: Layout,
    /// Per output, `layout.width` weights: the intercept, one per numeric feature, one per level
    /// code of each categorical feature, then one per term of each text feature.
    pub weights: Vec<f64>,
}

impl LogisticModel {
    pub fn fit(train: &Dataset, params: &LogisticParams) -> Result<LogisticModel, LearnError> {
        let layout = Layout::of(train.x, output_count(train.classes));
        let objective = Objective {
            train: *train,
            layout: &layout,
            penalty: 1.0 / (params.c * train.weights.iter().sum::<f64>()),
            last: Mutex::new(None),
        };
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
            .with_tolerance_grad(GRADIENT_TOLERANCE)
            .and_then(|s| s.with_tolerance_cost(0.0))
            .map_err(|e| LearnError::Solver(e.to_string()))?;
        let start = vec![0.0; layout.outputs * layout.width];
        let result = Executor::new(objective, solver)
            .configure(|state| state.param(start).max_iters(params.max_iter))
            .run()
            .map_err(|e| LearnError::Solver(e.to_string()))?;
        let state = result.state();
        let weights = state
            .get_best_param()
            .cloned()
            .ok_or_else(|| LearnError::Solver("no solution".into()))?;
        let gradient_norm = result.problem.problem.as_ref().map_or(f64::INFINITY, |o| {
            o.evaluate(&weights)
                .1
                .iter()
                .map(|g| g * g)
                .sum::<f64>()
                .sqrt()
        });
        let ran_out = matches!(
            state.get_termination_status(),
            TerminationStatus::Terminated(TerminationReason::MaxItersReached)
        );
        if !gradient_norm.is_finite() || (ran_out && gradient_norm > ACCEPTABLE_GRADIENT) {
            return Err(LearnError::NotConverged {
                iterations: state.get_iter(),
                gradient_norm,
            });
        }
        Ok(LogisticModel { layout, weights })
    }

    /// Row-major margins, one per output.
    pub fn margins(&self, x: &Encoded) -> Vec<f64> {
        let outputs = self.layout.outputs;
        let mut out = vec![0.0; x.rows * outputs];
        out.par_chunks_mut(ROWS_PER_TASK * outputs)
            .enumerate()
            .for_each(|(chunk, m)| {
                self.layout
                    .margins(&self.weights, x, chunk * ROWS_PER_TASK, m);
            });
        out
    }
}

impl LogisticModel {
    /// Row `row`'s margin for `output` split over the features: the intercept is the base,
    /// then weight × standardised value per number, the level's weight per category and the
    /// sum of weight × TF-IDF over a text's terms.
    pub fn contributions(&self, x: &Encoded, row: usize, output: usize) -> Contributions {
        let layout = &self.layout;
        let w = &self.weights[output * layout.width..(output + 1) * layout.width];
        let numeric = x
            .numeric
            .iter()
            .enumerate()
            .map(|(j, column)| w[1 + j] * column[row].clamp(-MAX_Z, MAX_Z));
        let categorical = x
            .categorical
            .iter()
            .enumerate()
            .map(|(c, codes)| w[layout.offsets[c] + codes[row] as usize]);
        let text = x.text.iter().enumerate().map(|(t, documents)| {
            let block = &w[layout.text_offset(x, t)..];
            documents
                .row(row)
                .map(|(term, weight)| block[term as usize] * weight)
                .sum::<f64>()
        });
        Contributions {
            base: w[0],
            features: numeric.chain(categorical).chain(text).collect(),
        }
    }
}

/// How far from the training mean, in standard deviations, a value counts in a margin. A request
/// may carry any finite number, and two huge values with opposite weights would otherwise sum to
/// infinity minus infinity: a NaN score. Training never reaches the bound: a column's values lie
/// within sqrt(rows) standard deviations of its mean.
const MAX_Z: f64 = 1e6;

/// Where each weight sits: per output, the intercept, the numeric features, each categorical
/// feature's block of level weights, then each text feature's block of term weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub outputs: usize,
    pub width: usize,
    /// Where each categorical feature's level weights start within an output's weights, then
    /// where each text feature's term weights start.
    pub offsets: Vec<usize>,
}

impl Layout {
    fn of(x: &Encoded, outputs: usize) -> Layout {
        let mut offsets = Vec::with_capacity(x.levels.len() + x.text_widths.len());
        let mut next = 1 + x.numeric.len();
        for &width in x.levels.iter().chain(&x.text_widths) {
            offsets.push(next);
            next += width;
        }
        Layout {
            outputs,
            width: next,
            offsets,
        }
    }

    /// Margins of the rows from `first`, as many as fit `out` (row-major, `outputs` per row).
    fn margins(&self, weights: &[f64], x: &Encoded, first: usize, out: &mut [f64]) {
        let rows = out.len() / self.outputs;
        for k in 0..self.outputs {
            let w = &weights[k * self.width..(k + 1) * self.width];
            for r in 0..rows {
                out[r * self.outputs + k] = w[0];
            }
            for (j, column) in x.numeric.iter().enumerate() {
                let wj = w[1 + j];
                for (r, value) in column[first..first + rows].iter().enumerate() {
                    out[r * self.outputs + k] += wj * value.clamp(-MAX_Z, MAX_Z);
                }
            }
            for (c, codes) in x.categorical.iter().enumerate() {
                let block = &w[self.offsets[c]..];
                for (r, &code) in codes[first..first + rows].iter().enumerate() {
                    out[r * self.outputs + k] += block[code as usize];
                }
            }
            for (t, documents) in x.text.iter().enumerate() {
                let block = &w[self.text_offset(x, t)..];
                for r in 0..rows {
                    out[r * self.outputs + k] += documents
                        .row(first + r)
                        .map(|(term, weight)| block[term as usize] * weight)
                        .sum::<f64>();
                }
            }
        }
    }

    /// Where text feature `t`'s term weights start within an output's weights.
    pub fn text_offset(&self, x: &Encoded, t: usize) -> usize {
        self.offsets[x.levels.len() + t]
    }

    /// Adds each row's residuals times its features into the gradient.
    fn accumulate(&self, residuals: &[f64], x: &Encoded, first: usize, gradient: &mut [f64]) {
        let rows = residuals.len() / self.outputs;
        for k in 0..self.outputs {
            let g = &mut gradient[k * self.width..(k + 1) * self.width];
            let residual = |r: usize| residuals[r * self.outputs + k];
            g[0] += (0..rows).map(residual).sum::<f64>();
            for (j, column) in x.numeric.iter().enumerate() {
                g[1 + j] += column[first..first + rows]
                    .iter()
                    .enumerate()
                    .map(|(r, v)| v * residual(r))
                    .sum::<f64>();
            }
            for (c, codes) in x.categorical.iter().enumerate() {
                let offset = self.offsets[c];
                for (r, &code) in codes[first..first + rows].iter().enumerate() {
                    g[offset + code as usize] += residual(r);
                }
            }
            for (t, documents) in x.text.iter().enumerate() {
                let block = &mut g[self.text_offset(x, t)..];
                for r in 0..rows {
                    let residual = residual(r);
                    for (term, weight) in documents.row(first + r) {
                        block[term as usize] += weight * residual;
                    }
                }
            }
        }
    }
}

/// The weights last evaluated, with their cost and gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// Mean weighted log loss plus the L2 penalty (intercepts are not penalised).
struct Objective<'a> {
    train: Dataset<'a>,
    layout: &'a Layout,
    /// 1 / (C · total weight): scikit-learn's objective divided by C · total weight.
    penalty: f64,
    /// L-BFGS asks for the cost and the gradient at the same point; one pass computes both.
    last: Mutex<Option<Evaluated>>,
}

impl Objective<'_> {
    fn evaluate(&self, weights: &[f64]) -> (f64, Vec<f64>) {
        if let Ok(last) = self.last.lock() {
            if let Some((at, cost, gradient)) = last.as_ref() {
                if at.as_slice() == weights {
                    return (*cost, gradient.clone());
                }
            }
        }
        let (cost, gradient) = self.compute(weights);
        if let Ok(mut last) = self.last.lock() {
            *last = Some((weights.to_vec(), cost, gradient.clone()));
        }
        (cost, gradient)
    }

    fn compute(&self, weights: &[f64]) -> (f64, Vec<f64>) {
        let Dataset {
            x,
            y,
            weights: w,
            classes,
        } = self.train;
        let layout = self.layout;
        let loss = LossGradient::new(classes);
        let total_weight: f64 = w.iter().sum();
        let (sum_loss, mut gradient) = (0..x.rows.div_ceil(ROWS_PER_TASK))
            .into_par_iter()
            .map(|chunk| {
                let first = chunk * ROWS_PER_TASK;
                let rows = ROWS_PER_TASK.min(x.rows - first);
                let mut margins = vec![0.0; rows * layout.outputs];
                layout.margins(weights, x, first, &mut margins);
                let (y, w) = (&y[first..first + rows], &w[first..first + rows]);
                let chunk_loss = loss.mean_loss(&margins, y, w) * w.iter().sum::<f64>();
                let per_output = loss.gradients(&margins, y, w);
                let mut residuals = vec![0.0; rows * layout.outputs];
                for (k, (g, _)) in per_output.iter().enumerate() {
                    for (r, value) in g.iter().enumerate() {
                        residuals[r * layout.outputs + k] = *value;
                    }
                }
                let mut gradient = vec![0.0; weights.len()];
                layout.accumulate(&residuals, x, first, &mut gradient);
                (chunk_loss, gradient)
            })
            .reduce(
                || (0.0, vec![0.0; weights.len()]),
                |(la, mut ga), (lb, gb)| {
                    ga.iter_mut().zip(gb).for_each(|(a, b)| *a += b);
                    (la + lb, ga)
                },
            );
        let mut cost = sum_loss / total_weight;
        gradient.iter_mut().for_each(|g| *g /= total_weight);
        for k in 0..layout.outputs {
            // Skip the intercept (index 0 of each output's block).
            for i in k * layout.width + 1..(k + 1) * layout.width {
                cost += 0.5 * self.penalty * weights[i] * weights[i];
                gradient[i] += self.penalty * weights[i];
            }
        }
        (cost, gradient)
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, param: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.evaluate(param).0)
    }
}

impl Gradient for Objective<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, param: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.evaluate(param).1)
    }
}
