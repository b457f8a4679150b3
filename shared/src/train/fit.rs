//! Fitting, in the three steps a search runs in: [`prepare`] (the labelled rows, their split, the
//! encoded parts), [`fit_candidate`] for each candidate of the search (judged on the validation
//! part), and [`conclude`] (the best candidate kept with its threshold and judged on the untouched
//! test part). [`fit`] runs them in one process; a search fanned out over Lambda invocations runs
//! each candidate's step in its own (see [`super::steps`]), each preparing the same parts from the
//! same data and spec. Nothing here knows the version number: the records are built from
//! [`Fitted`] once it is allocated.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{golden, reference, CandidateResult, MetricsReport, Progress, Settings, TrainError};
use crate::drift::{Profile, ProfileBuilder};
use crate::evaluate::{self, choose_threshold, higher_is_better, Evaluation, Threshold};
use crate::features::{Encoded, Pipeline, RawFrame};
use crate::learn::{self, BinnedData, Dataset, Model, ModelParams, RowForm, TrainingRows};
use crate::predict::explain::{self, GlobalImportance};
use crate::spec::{ClassBalance, TargetKind};
use crate::training_data::curated::{Curated, Labels};
use crate::training_data::split::{self, split_rows, Split};
use crate::training_data::{slice_values, RowCounts, TargetShaping, TimeRange};

/// Each class needs at least this many training rows (and one row in validation and test).
const MIN_CLASS_ROWS: usize = 10;
/// Bins of the calibration table and plot on the card.
const CALIBRATION_BINS: usize = 10;
/// Bins of the card's score histograms per class.
const SCORE_BINS: usize = 20;

/// What fitting produced.
pub struct Fitted {
    pub classes: Vec<String>,
    pub pipeline: Pipeline,
    pub model: Model,
    pub params: ModelParams,
    pub metrics: MetricsReport,
    pub reference: Profile,
    /// The test part's ROC curve, for a binary model's card.
    pub roc: Option<Vec<(f64, f64)>>,
    /// The golden test rows (see [`golden`]), raw, and their probabilities.
    pub golden_frame: RawFrame,
    pub golden_probabilities: Vec<f64>,
    pub rows: RowCounts,
    /// How the target's values became the classes.
    pub target: TargetShaping,
    /// For a time split: the first and last time in each part.
    pub time_ranges: Option<BTreeMap<String, Option<TimeRange>>>,
}

impl Fitted {
    /// The decision threshold of a binary model.
    pub fn threshold(&self) -> Option<f64> {
        self.metrics.threshold.map(|t| t.value)
    }
}

/// Splits, fits the pipeline and every candidate, keeps the best on validation with its
/// threshold, and evaluates it on the untouched test part.
pub fn fit(
    settings: &Settings,
    data: &Curated,
    progress: &dyn Progress,
) -> Result<Fitted, TrainError> {
    let combos = candidates(settings)?;
    let fitting = prepare(settings, data, &combos, progress)?;
    progress.begin("fitting candidates", combos.len() as u64);
    let mut search = Search::new(settings);
    for (index, params) in combos.iter().enumerate() {
        let fitted = fit_candidate(settings, &fitting, index, params)?;
        progress.advance(&format!(
            "{} → {:.4}",
            fitted.result.description, fitted.result.validation_score
        ));
        search.add(fitted);
    }
    progress.end();
    conclude(settings, fitting, search, progress)
}

/// The training data made ready for the candidates: labelled, split and encoded.
pub struct Fitting {
    prepared: Prepared,
    reference: ProfileBuilder,
    classes: Vec<String>,
    target: TargetShaping,
    rows: RowCounts,
    time_ranges: Option<BTreeMap<String, Option<TimeRange>>>,
}

/// Labels and splits the rows, fits the feature pipeline on the training part and encodes every
/// part, in the forms the `forms` candidates take (none: only what judging needs).
pub fn prepare(
    settings: &Settings,
    data: &Curated,
    forms: &[ModelParams],
    progress: &dyn Progress,
) -> Result<Fitting, TrainError> {
    let labelled = label(settings, data)?;
    let (parts, times) = split(settings, data, &labelled)?;
    let loaded_rows = data.rows();
    let labelled_rows = labelled.y.len();
    let classes = labelled.classes.clone();
    let target = labelled.shaping.clone();
    let time_range = |rows: &[usize]| times.as_ref().and_then(|t| split::time_range(t, rows));
    let time_ranges = times.as_ref().map(|_| {
        BTreeMap::from([
            ("train".to_owned(), time_range(&parts.train)),
            ("validation".to_owned(), time_range(&parts.validation)),
            ("test".to_owned(), time_range(&parts.test)),
        ])
    });
    drop(times);
    let (prepared, reference) = encode(settings, data, labelled, &parts, forms, progress)?;
    Ok(Fitting {
        rows: RowCounts {
            loaded: loaded_rows,
            without_target: loaded_rows - labelled_rows,
            train: parts.train.len(),
            train_after_balancing: prepared.fit_rows,
            validation: parts.validation.len(),
            test: parts.test.len(),
        },
        prepared,
        reference,
        classes,
        target,
        time_ranges,
    })
}

/// One candidate of the search, fitted, with how it did on the validation part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateFit {
    /// Its place in the spec's search.
    pub index: usize,
    pub result: CandidateResult,
    pub model: Model,
}

/// Fits the search's candidate `index` on the training part and scores it on validation.
pub fn fit_candidate(
    settings: &Settings,
    fitting: &Fitting,
    index: usize,
    params: &ModelParams,
) -> Result<CandidateFit, TrainError> {
    let prepared = &fitting.prepared;
    let classes = fitting.classes.len();
    let train_set = TrainingRows {
        encoded: prepared.x_fit.as_ref(),
        binned: prepared.binned_fit.as_ref(),
        y: &prepared.y_fit,
        weights: &prepared.w_fit,
        classes,
    };
    let valid_set = Dataset {
        x: &prepared.x_valid,
        y: &prepared.y_valid,
        weights: &prepared.w_valid,
        classes,
    };
    let started = Instant::now();
    let model = Model::fit(params, &train_set, &valid_set).map_err(|source| TrainError::Learn {
        candidate: describe(params),
        source,
    })?;
    let (_, validation) = validate(settings, fitting, &model);
    Ok(CandidateFit {
        index,
        result: CandidateResult {
            params: params.clone(),
            description: describe(params),
            validation_score: validation.get(settings.primary).unwrap_or(f64::NAN),
            fit_seconds: started.elapsed().as_secs_f64(),
            rounds: match &model {
                Model::GradientBoosting(m) => Some(m.rounds()),
                Model::LogisticRegression(_) => None,
            },
        },
        model,
    })
}

/// A model's threshold (binary) chosen on the validation part, and its metrics there.
fn validate(
    settings: &Settings,
    fitting: &Fitting,
    model: &Model,
) -> (Option<Threshold>, Evaluation) {
    let prepared = &fitting.prepared;
    let probabilities = model.probabilities(&prepared.x_valid);
    let threshold = (fitting.classes.len() == 2).then(|| {
        let truth: Vec<bool> = prepared.y_valid.iter().map(|&c| c == 1).collect();
        let scores: Vec<f64> = probabilities.chunks(2).map(|p| p[1]).collect();
        choose_threshold(
            &truth,
            &scores,
            settings.training.threshold,
            settings.training.cost_fp.unwrap_or(1.0),
            settings.training.cost_fn.unwrap_or(1.0),
        )
    });
    let validation = evaluate::evaluate(
        &probabilities,
        &prepared.y_valid,
        &fitting.classes,
        threshold.map(|t| t.value),
    );
    (threshold, validation)
}

/// The search so far: every candidate's result in the spec's order, and the best model on the
/// primary metric (the first of equals; one scoring NaN is beaten by any).
pub struct Search {
    higher_is_better: bool,
    results: Vec<CandidateResult>,
    best: Option<(usize, Model)>,
}

impl Search {
    pub fn new(settings: &Settings) -> Search {
        Search {
            higher_is_better: higher_is_better(settings.primary),
            results: Vec::new(),
            best: None,
        }
    }

    /// Adds the next candidate, in the spec's order, keeping only the best model.
    pub fn add(&mut self, fitted: CandidateFit) {
        let score = fitted.result.validation_score;
        let better = self.best.as_ref().is_none_or(|(best, _)| {
            let best = self.results[*best].validation_score;
            best.is_nan()
                || if self.higher_is_better {
                    score > best
                } else {
                    score < best
                }
        });
        if better {
            self.best = Some((self.results.len(), fitted.model));
        }
        self.results.push(fitted.result);
    }
}

/// Keeps the search's best candidate with its threshold and judges it on the untouched test part.
pub fn conclude(
    settings: &Settings,
    fitting: Fitting,
    search: Search,
    progress: &dyn Progress,
) -> Result<Fitted, TrainError> {
    let Some((index, model)) = search.best else {
        return Err(TrainError::Search("no candidate to fit".into()));
    };
    // From the model alone, as a kept candidate carries only the model and its result: one
    // prediction of the validation part.
    let (threshold, validation) = validate(settings, &fitting, &model);
    let chosen = Chosen {
        index,
        params: search.results[index].params.clone(),
        model,
        threshold,
        validation,
        results: search.results,
    };
    let Fitting {
        prepared,
        reference,
        classes,
        target,
        rows,
        time_ranges,
    } = fitting;
    progress.begin("evaluating on the test part", 0);
    let judged = judge(&prepared, reference, &chosen, &classes)?;
    progress.end();

    Ok(Fitted {
        rows,
        target,
        time_ranges,
        metrics: MetricsReport {
            primary_metric: settings.primary,
            threshold: chosen.threshold,
            test: judged.test,
            validation: chosen.validation,
            slices: judged.slices,
            candidates: chosen.results,
            chosen: chosen.index,
            calibration: judged.calibration,
            score_histograms: judged.score_histograms,
            importance: judged.importance,
        },
        classes,
        pipeline: prepared.pipeline,
        model: chosen.model,
        params: chosen.params,
        reference: judged.reference,
        roc: judged.roc,
        golden_frame: prepared.golden_frame,
        golden_probabilities: judged.golden_probabilities,
    })
}

/// The rows that have a target, each one's class, and the class names.
struct Labelled {
    /// The row of the curated data each labelled row is.
    rows: Vec<usize>,
    classes: Vec<String>,
    y: Vec<u32>,
    shaping: TargetShaping,
}

fn label(settings: &Settings, data: &Curated) -> Result<Labelled, TrainError> {
    let labels = Labels::of(&data.column(&settings.target.name)?);
    let shaping = TargetShaping::fit(settings.target_section, labels.counts())?;
    // Each distinct value's class, decided once: a row's class is then a lookup.
    let shaped: Vec<Option<String>> = labels.values.iter().map(|l| shaping.apply(l)).collect();
    let names: Vec<String> = shaped.iter().flatten().cloned().collect();
    if names.is_empty() {
        return Err(TrainError::NoLabels(settings.target.name.clone()));
    }
    let classes = classes_of(settings, names)?;
    let class_of: Vec<Option<u32>> = shaped
        .iter()
        .map(|class| {
            class
                .as_ref()
                .and_then(|c| classes.iter().position(|k| k == c))
                .map(|k| k as u32)
        })
        .collect();
    let (rows, y) = labels.classified(&class_of);
    Ok(Labelled {
        rows,
        classes,
        y,
        shaping,
    })
}

/// The labelled rows split as the spec says (with each row's time for a time split), each class
/// present in every part.
fn split(
    settings: &Settings,
    data: &Curated,
    labelled: &Labelled,
) -> Result<(Split, Option<Vec<i64>>), TrainError> {
    let (parts, times) = split_rows(
        settings.split,
        data,
        &labelled.rows,
        &labelled.y,
        labelled.classes.len(),
    )?;
    check_class_rows(
        &labelled.classes,
        &labelled.y,
        [
            ("training", &parts.train, MIN_CLASS_ROWS),
            ("validation", &parts.validation, 1),
            ("test", &parts.test, 1),
        ],
    )?;
    Ok((parts, times))
}

/// Every candidate of the spec's search.
pub fn candidates(settings: &Settings) -> Result<Vec<ModelParams>, TrainError> {
    let grids = settings
        .training
        .candidates
        .iter()
        .map(|candidate| learn::grid(candidate.model, &candidate.search))
        .collect::<Result<Vec<_>, _>>()
        .map_err(TrainError::Search)?;
    Ok(grids.into_iter().flatten().collect())
}

/// The parts as the learners take them: encoded by the pipeline fitted on the training part, with
/// their classes and weights.
struct Prepared {
    pipeline: Pipeline,
    /// Rows the candidates fit on: the training part, after balancing (oversampling repeats some).
    fit_rows: usize,
    /// The rows candidates fit on, encoded, when a candidate takes them so (the linear model).
    x_fit: Option<Encoded>,
    /// The same rows binned, when a candidate takes them so (the trees).
    binned_fit: Option<BinnedData>,
    x_valid: Encoded,
    x_test: Encoded,
    y_fit: Vec<u32>,
    y_valid: Vec<u32>,
    y_test: Vec<u32>,
    w_fit: Vec<f64>,
    w_valid: Vec<f64>,
    /// Each slice column's value for every test row.
    test_slices: Vec<(String, Vec<String>)>,
    /// The golden rows' positions in the test part, and the rows themselves.
    golden_positions: Vec<usize>,
    golden_frame: RawFrame,
}

/// Fits the pipeline and encodes the parts one feature column at a time: the pipeline's
/// encoders first, from each column's training rows, then each column's features for every part,
/// in the forms the candidates take, and the training part's profile for the reference. One raw
/// column is held at a time, never the frame. Each column is read twice, as the reference's
/// builder takes the whole pipeline: reading is a small part of the time (3.6 s of 53 s on two
/// million rows, fitting included).
fn encode(
    settings: &Settings,
    data: &Curated,
    labelled: Labelled,
    parts: &Split,
    forms: &[ModelParams],
    progress: &dyn Progress,
) -> Result<(Prepared, ProfileBuilder), TrainError> {
    let Labelled {
        rows, classes, y, ..
    } = labelled;
    let fit_part = match settings.training.class_balance {
        ClassBalance::Oversample => {
            split::oversample(&parts.train, &y, classes.len(), settings.seed)
        }
        ClassBalance::None | ClassBalance::Weights => parts.train.clone(),
    };
    let golden_positions = golden::positions(parts.test.len());
    let golden_part: Vec<usize> = golden_positions.iter().map(|&p| parts.test[p]).collect();
    // Rows of the curated data, part by part.
    let curated_rows = |part: &[usize]| part.iter().map(|&i| rows[i]).collect::<Vec<usize>>();
    let (train, fit, valid, test, golden) = (
        curated_rows(&parts.train),
        curated_rows(&fit_part),
        curated_rows(&parts.validation),
        curated_rows(&parts.test),
        curated_rows(&golden_part),
    );
    drop(rows);
    let features = &settings.features.columns;

    progress.begin("fitting the feature pipeline", features.len() as u64);
    let mut pipeline = Pipeline::default();
    for name in features {
        let column = data.column(name)?.take(&train);
        pipeline.fit_column(settings.features, name, &column)?;
        progress.advance(name);
    }
    progress.end();

    progress.begin("encoding the features", features.len() as u64);
    let takes = |form| forms.iter().any(|p| p.row_form() == form);
    let mut x_fit = takes(RowForm::Encoded).then(|| Encoded::empty(fit.len()));
    let mut binned_fit = takes(RowForm::Binned).then(|| BinnedData::empty(fit.len()));
    let (mut x_valid, mut x_test) = (Encoded::empty(valid.len()), Encoded::empty(test.len()));
    let mut reference = ProfileBuilder::new(&pipeline, settings.seed);
    reference.count_rows(train.len());
    let mut golden_frame = RawFrame::new(golden.len());
    for name in features {
        let column = data.column(name)?;
        reference.add_column(name, &column.take(&train))?;
        golden_frame.insert(name.as_str(), column.take(&golden))?;
        let encoded = pipeline.transform_column(name, &column)?;
        drop(column);
        if let Some(x_fit) = &mut x_fit {
            x_fit.append_features(encoded.take(&fit));
        }
        if let Some(binned_fit) = &mut binned_fit {
            binned_fit.append(BinnedData::of(&encoded.take(&fit)));
        }
        x_valid.append_features(encoded.take(&valid));
        x_test.append_features(encoded.take(&test));
        progress.advance(name);
    }
    progress.end();

    let test_slices = settings
        .slices
        .iter()
        .map(|column| {
            Ok((
                column.clone(),
                slice_values(&data.column(column)?.take(&test)),
            ))
        })
        .collect::<Result<Vec<(String, Vec<String>)>, TrainError>>()?;
    let pick = |part: &[usize]| part.iter().map(|&i| y[i]).collect::<Vec<u32>>();
    let (y_fit, y_valid, y_test) = (pick(&fit_part), pick(&parts.validation), pick(&parts.test));
    let class_weight = class_weights(&y_fit, classes.len(), settings.training.class_balance);
    let prepared = Prepared {
        fit_rows: fit.len(),
        x_fit,
        binned_fit,
        x_valid,
        x_test,
        w_fit: y_fit.iter().map(|&c| class_weight[c as usize]).collect(),
        w_valid: y_valid.iter().map(|&c| class_weight[c as usize]).collect(),
        y_fit,
        y_valid,
        y_test,
        pipeline,
        test_slices,
        golden_positions,
        golden_frame,
    };
    Ok((prepared, reference))
}

/// The candidate that did best on the validation part, and how every candidate did.
struct Chosen {
    index: usize,
    params: ModelParams,
    model: Model,
    threshold: Option<Threshold>,
    validation: Evaluation,
    results: Vec<CandidateResult>,
}

/// The chosen model on the test part (overall, per slice, its ROC curve), and the reference
/// profile of the training part that drift checks compare with.
struct Judged {
    test: Evaluation,
    slices: BTreeMap<String, BTreeMap<String, Evaluation>>,
    roc: Option<Vec<(f64, f64)>>,
    calibration: Vec<evaluate::CalibrationBin>,
    score_histograms: Vec<evaluate::ClassScores>,
    importance: Option<GlobalImportance>,
    reference: Profile,
    golden_probabilities: Vec<f64>,
}

fn judge(
    prepared: &Prepared,
    reference: ProfileBuilder,
    chosen: &Chosen,
    classes: &[String],
) -> Result<Judged, TrainError> {
    let threshold = chosen.threshold.map(|t| t.value);
    let test_probabilities = chosen.model.probabilities(&prepared.x_test);
    let y_test = &prepared.y_test;
    let test = evaluate::evaluate(&test_probabilities, y_test, classes, threshold);
    let mut slices = BTreeMap::new();
    for (column, values) in &prepared.test_slices {
        slices.insert(
            column.clone(),
            evaluate::by_slice(&test_probabilities, y_test, classes, threshold, values),
        );
    }
    let binary = (classes.len() == 2).then(|| {
        let truth: Vec<bool> = y_test.iter().map(|&c| c == 1).collect();
        let scores: Vec<f64> = test_probabilities.chunks(2).map(|p| p[1]).collect();
        (truth, scores)
    });
    let roc = binary
        .as_ref()
        .and_then(|(truth, scores)| evaluate::roc_curve(truth, scores));
    let calibration = binary
        .as_ref()
        .map(|(truth, scores)| evaluate::calibration(truth, scores, CALIBRATION_BINS))
        .unwrap_or_default();
    let score_histograms =
        evaluate::score_histograms(&test_probabilities, y_test, classes, SCORE_BINS);
    let importance = explain::importance(
        &prepared.pipeline,
        &chosen.model,
        classes.len(),
        &prepared.x_test,
    );
    let k = classes.len();
    let golden_probabilities = prepared
        .golden_positions
        .iter()
        .flat_map(|&p| test_probabilities[p * k..(p + 1) * k].iter().copied())
        .collect();
    // What the model predicts on rows it never learned from is what serving will see; on its
    // own training rows a model that fits closely is surer than it will ever be live (on the
    // reviews, later reviews of the same kind drifted from that by a Wasserstein distance of 0.33,
    // and not from the test part's).
    let predicted: Vec<usize> = test_probabilities
        .chunks(classes.len())
        .map(|p| learn::predicted_class(p, threshold))
        .collect();
    let reference = reference::profile(reference, &test_probabilities, &predicted, classes);
    Ok(Judged {
        test,
        slices,
        roc,
        calibration,
        score_histograms,
        importance,
        reference,
        golden_probabilities,
    })
}

/// The class names, in the models' order, from the labels the rows have; checked against the
/// spec's target kind.
fn classes_of(settings: &Settings, labels: Vec<String>) -> Result<Vec<String>, TrainError> {
    let mut classes = labels;
    classes.sort();
    classes.dedup();
    let target = settings.target.name.clone();
    if classes.len() == 1 {
        return Err(TrainError::OneClass {
            target,
            class: classes.remove(0),
        });
    }
    if settings.kind == TargetKind::Binary {
        if classes.len() != 2 {
            return Err(TrainError::NotBinary { target, classes });
        }
        let positive = settings.positive.clone().unwrap_or_default();
        let Some(at) = classes.iter().position(|c| *c == positive) else {
            return Err(TrainError::PositiveAbsent { target, positive });
        };
        // The positive class is always the second.
        if at == 0 {
            classes.swap(0, 1);
        }
    }
    Ok(classes)
}

fn check_class_rows(
    classes: &[String],
    y: &[u32],
    parts: [(&'static str, &[usize], usize); 3],
) -> Result<(), TrainError> {
    for (part, rows, needed) in parts {
        let mut counts = vec![0usize; classes.len()];
        for &row in rows {
            counts[y[row] as usize] += 1;
        }
        if let Some((class, &rows)) = counts.iter().enumerate().find(|(_, &n)| n < needed) {
            return Err(TrainError::TooFewRows {
                class: classes[class].clone(),
                part,
                rows,
                needed,
            });
        }
    }
    Ok(())
}

/// "Balanced" weights as scikit-learn computes them: rows / (classes × rows of the class).
fn class_weights(y: &[u32], classes: usize, balance: ClassBalance) -> Vec<f64> {
    if balance != ClassBalance::Weights {
        return vec![1.0; classes];
    }
    let mut counts = vec![0usize; classes];
    for &c in y {
        counts[c as usize] += 1;
    }
    counts
        .iter()
        .map(|&n| y.len() as f64 / (classes as f64 * n.max(1) as f64))
        .collect()
}

fn describe(params: &ModelParams) -> String {
    match params {
        ModelParams::LogisticRegression(p) => format!("logistic_regression(c={})", p.c),
        ModelParams::GradientBoosting(p) => format!(
            "gradient_boosting(rounds={}, learning_rate={}, num_leaves={}, max_depth={}, min_leaf_rows={}, l2={})",
            p.rounds,
            p.learning_rate,
            p.num_leaves,
            p.max_depth.map_or("none".to_owned(), |d| d.to_string()),
            p.min_leaf_rows,
            p.l2
        ),
    }
}
