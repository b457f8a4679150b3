//! Fitting, step by step: the labelled rows, their split, the encoded parts, the search over the
//! candidates on the validation part, and the chosen model judged on the untouched test part.
//! Nothing here knows the version number: the records are built from [`Fitted`] once it is
//! allocated.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{golden, reference, CandidateResult, MetricsReport, Progress, Settings, TrainError};
use crate::drift::Profile;
use crate::evaluate::{self, choose_threshold, higher_is_better, Evaluation, Threshold};
use crate::features::{Encoded, Pipeline, RawFrame};
use crate::learn::{self, Dataset, Model, ModelParams};
use crate::predict::explain::{self, GlobalImportance};
use crate::spec::{ClassBalance, TargetKind};
use crate::training_data::split::{self, split_rows, Split};
use crate::training_data::{curated, slice_values, RowCounts, TargetShaping, TimeRange};

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
    frame: RawFrame,
    progress: &dyn Progress,
) -> Result<Fitted, TrainError> {
    let labelled = label(settings, frame)?;
    let (parts, times) = split(settings, &labelled)?;
    let loaded_rows = labelled.loaded_rows;
    let labelled_rows = labelled.y.len();
    let classes = labelled.classes.clone();
    let target = labelled.shaping.clone();

    progress.begin("fitting the feature pipeline", 0);
    let prepared = prepare(settings, labelled, &parts)?;
    progress.end();

    let chosen = search(settings, &prepared, &classes, progress)?;

    progress.begin("evaluating on the test part", 0);
    let judged = judge(settings, &prepared, &chosen, &classes)?;
    progress.end();

    let time_range = |rows: &[usize]| times.as_ref().and_then(|t| split::time_range(t, rows));
    Ok(Fitted {
        rows: RowCounts {
            loaded: loaded_rows,
            without_target: loaded_rows - labelled_rows,
            train: parts.train.len(),
            train_after_balancing: prepared.train_rows.len(),
            validation: parts.validation.len(),
            test: parts.test.len(),
        },
        target,
        time_ranges: times.as_ref().map(|_| {
            BTreeMap::from([
                ("train".to_owned(), time_range(&parts.train)),
                ("validation".to_owned(), time_range(&parts.validation)),
                ("test".to_owned(), time_range(&parts.test)),
            ])
        }),
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

/// The rows that have a target, each row's class, and the class names.
struct Labelled {
    frame: RawFrame,
    classes: Vec<String>,
    y: Vec<u32>,
    /// Rows read, labelled or not.
    loaded_rows: usize,
    shaping: TargetShaping,
}

fn label(settings: &Settings, frame: RawFrame) -> Result<Labelled, TrainError> {
    let loaded_rows = frame.rows();
    let raw_labels = curated::labels(frame.column(&settings.target.name)?);
    let shaping = TargetShaping::fit(settings.target_section, &raw_labels)?;
    let target_labels: Vec<Option<String>> = raw_labels
        .iter()
        .map(|label| label.as_deref().and_then(|l| shaping.apply(l)))
        .collect();
    let labelled: Vec<usize> = (0..frame.rows())
        .filter(|&i| target_labels[i].is_some())
        .collect();
    if labelled.is_empty() {
        return Err(TrainError::NoLabels(settings.target.name.clone()));
    }
    // The unlabelled frame is dropped at once: training holds the data only once at a time.
    let frame = {
        let labelled_frame = frame.take(&labelled);
        drop(frame);
        labelled_frame
    };
    let labels: Vec<String> = labelled
        .iter()
        .filter_map(|&i| target_labels[i].clone())
        .collect();
    let (classes, y) = classes_of(settings, &labels)?;
    Ok(Labelled {
        frame,
        classes,
        y,
        loaded_rows,
        shaping,
    })
}

/// The labelled rows split as the spec says (with each row's time for a time split), each class
/// present in every part.
fn split(
    settings: &Settings,
    labelled: &Labelled,
) -> Result<(Split, Option<Vec<i64>>), TrainError> {
    let (parts, times) = split_rows(
        settings.split,
        &labelled.frame,
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

/// The parts as the learners take them: encoded by the pipeline fitted on the training part, with
/// their classes and weights.
struct Prepared {
    pipeline: Pipeline,
    /// The training part before encoding, for the reference profile.
    train_frame: RawFrame,
    /// Training rows after balancing (oversampling repeats some).
    train_rows: Vec<usize>,
    x_fit: Encoded,
    /// The oversampled training rows, when the spec oversamples.
    x_oversampled: Option<Encoded>,
    x_valid: Encoded,
    x_test: Encoded,
    y_train: Vec<u32>,
    y_valid: Vec<u32>,
    y_test: Vec<u32>,
    w_train: Vec<f64>,
    w_valid: Vec<f64>,
    /// Each slice column's value for every test row.
    test_slices: Vec<(String, Vec<String>)>,
    /// The golden rows' positions in the test part, and the rows themselves.
    golden_positions: Vec<usize>,
    golden_frame: RawFrame,
}

fn prepare(settings: &Settings, labelled: Labelled, parts: &Split) -> Result<Prepared, TrainError> {
    let Labelled {
        frame, classes, y, ..
    } = labelled;
    let train_frame = frame.take(&parts.train);
    let pipeline = Pipeline::fit(settings.features, &train_frame)?;
    let train_rows = match settings.training.class_balance {
        ClassBalance::Oversample => {
            split::oversample(&parts.train, &y, classes.len(), settings.seed)
        }
        ClassBalance::None | ClassBalance::Weights => parts.train.clone(),
    };
    let x_all = pipeline.transform(&frame)?;
    let test_slices = settings
        .slices
        .iter()
        .map(|column| {
            let values = slice_values(frame.column(column)?);
            Ok((
                column.clone(),
                parts.test.iter().map(|&i| values[i].clone()).collect(),
            ))
        })
        .collect::<Result<Vec<(String, Vec<String>)>, TrainError>>()?;
    let golden_positions = golden::positions(parts.test.len());
    let golden_rows: Vec<usize> = golden_positions.iter().map(|&p| parts.test[p]).collect();
    let golden_frame = frame.take(&golden_rows);
    drop(frame);
    let pick = |rows: &[usize]| rows.iter().map(|&i| y[i]).collect::<Vec<u32>>();
    let (y_train, y_valid, y_test) = (
        pick(&train_rows),
        pick(&parts.validation),
        pick(&parts.test),
    );
    let class_weight = class_weights(&y_train, classes.len(), settings.training.class_balance);
    Ok(Prepared {
        x_fit: x_all.take(&parts.train),
        x_oversampled: (settings.training.class_balance == ClassBalance::Oversample)
            .then(|| x_all.take(&train_rows)),
        x_valid: x_all.take(&parts.validation),
        x_test: x_all.take(&parts.test),
        w_train: y_train.iter().map(|&c| class_weight[c as usize]).collect(),
        w_valid: y_valid.iter().map(|&c| class_weight[c as usize]).collect(),
        y_train,
        y_valid,
        y_test,
        pipeline,
        train_frame,
        train_rows,
        test_slices,
        golden_positions,
        golden_frame,
    })
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

fn search(
    settings: &Settings,
    prepared: &Prepared,
    classes: &[String],
    progress: &dyn Progress,
) -> Result<Chosen, TrainError> {
    let train_set = Dataset {
        x: prepared.x_oversampled.as_ref().unwrap_or(&prepared.x_fit),
        y: &prepared.y_train,
        weights: &prepared.w_train,
        classes: classes.len(),
    };
    let valid_set = Dataset {
        x: &prepared.x_valid,
        y: &prepared.y_valid,
        weights: &prepared.w_valid,
        classes: classes.len(),
    };
    let grids = settings
        .training
        .candidates
        .iter()
        .map(|candidate| learn::grid(candidate.model, &candidate.search))
        .collect::<Result<Vec<_>, _>>()
        .map_err(TrainError::Search)?;
    let combos: Vec<ModelParams> = grids.into_iter().flatten().collect();
    progress.begin("fitting candidates", combos.len() as u64);
    let binary = classes.len() == 2;
    let threshold_for = |probabilities: &[f64]| {
        binary.then(|| {
            let truth: Vec<bool> = prepared.y_valid.iter().map(|&c| c == 1).collect();
            let scores: Vec<f64> = probabilities.chunks(2).map(|p| p[1]).collect();
            choose_threshold(
                &truth,
                &scores,
                settings.training.threshold,
                settings.training.cost_fp.unwrap_or(1.0),
                settings.training.cost_fn.unwrap_or(1.0),
            )
        })
    };
    let mut results = Vec::new();
    /// The best candidate so far, with what validation said of it.
    struct Best {
        index: usize,
        model: Model,
        score: f64,
        threshold: Option<Threshold>,
        validation: Evaluation,
    }
    let mut best: Option<Best> = None;
    for (i, params) in combos.iter().enumerate() {
        let started = Instant::now();
        let model =
            Model::fit(params, &train_set, &valid_set).map_err(|source| TrainError::Learn {
                candidate: describe(params),
                source,
            })?;
        let probabilities = model.probabilities(&prepared.x_valid);
        let threshold = threshold_for(&probabilities);
        let validation = evaluate::evaluate(
            &probabilities,
            &prepared.y_valid,
            classes,
            threshold.map(|t| t.value),
        );
        let score = validation.get(settings.primary).unwrap_or(f64::NAN);
        let better = best.as_ref().is_none_or(|b| {
            b.score.is_nan()
                || if higher_is_better(settings.primary) {
                    score > b.score
                } else {
                    score < b.score
                }
        });
        results.push(CandidateResult {
            params: params.clone(),
            description: describe(params),
            validation_score: score,
            fit_seconds: started.elapsed().as_secs_f64(),
            rounds: match &model {
                Model::GradientBoosting(m) => Some(m.rounds()),
                Model::LogisticRegression(_) => None,
            },
        });
        progress.advance(&format!("{} → {:.4}", describe(params), score));
        if better {
            best = Some(Best {
                index: i,
                model,
                score,
                threshold,
                validation,
            });
        }
    }
    progress.end();
    let Some(Best {
        index,
        model,
        threshold,
        validation,
        ..
    }) = best
    else {
        return Err(TrainError::Search("no candidate to fit".into()));
    };
    Ok(Chosen {
        index,
        params: combos[index].clone(),
        model,
        threshold,
        validation,
        results,
    })
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
    settings: &Settings,
    prepared: &Prepared,
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
    let reference = reference::profile(
        &prepared.pipeline,
        &prepared.train_frame,
        &test_probabilities,
        &predicted,
        classes,
        settings.seed,
    )?;
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

/// The class of each labelled row and the class names, checked against the spec's target kind.
fn classes_of(
    settings: &Settings,
    labels: &[String],
) -> Result<(Vec<String>, Vec<u32>), TrainError> {
    let mut classes: Vec<String> = labels.to_vec();
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
    let index: BTreeMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let y = labels.iter().map(|l| index[l.as_str()]).collect();
    Ok((classes, y))
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
