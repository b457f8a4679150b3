use super::*;
use crate::spec::FeaturesSection;

fn features(columns: &[&str], date_parts: Vec<DatePart>, rare: f64) -> FeaturesSection {
    FeaturesSection {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        leakage: Vec::new(),
        date_parts,
        standardize: true,
        rare_level_share: rare,
        text: Default::default(),
    }
}

fn frame(columns: Vec<(&str, RawColumn)>) -> RawFrame {
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    let mut frame = RawFrame::new(rows);
    for (name, column) in columns {
        frame.insert(name, column).expect("equal lengths");
    }
    frame
}

fn text(values: &[Option<&str>]) -> RawColumn {
    RawColumn::Text(values.iter().copied().collect())
}

#[test]
fn numeric_features_are_imputed_with_the_median_and_standardised() {
    let train = frame(vec![(
        "x",
        RawColumn::Numeric(vec![Some(1.0), Some(2.0), None, Some(10.0)]),
    )]);
    let pipeline = Pipeline::fit(&features(&["x"], vec![], 0.0), &train).expect("fits");
    let encoder = &pipeline.numeric[0];
    assert_eq!(encoder.median, 2.0);
    assert_eq!((encoder.min, encoder.max), (1.0, 10.0));
    // Imputed values 1, 2, 2, 10: mean 3.75.
    assert_eq!(encoder.center, 3.75);
    let encoded = pipeline.transform(&train).expect("transforms");
    let mean: f64 = encoded.numeric[0].iter().sum::<f64>() / 4.0;
    let variance: f64 = encoded.numeric[0].iter().map(|v| v * v).sum::<f64>() / 4.0;
    assert!(mean.abs() < 1e-12);
    assert!((variance - 1.0).abs() < 1e-12);
    assert_eq!(
        encoded.numeric[0][2], encoded.numeric[0][1],
        "null became the median"
    );
}

#[test]
fn rare_and_unseen_levels_share_one_code_and_nulls_have_their_own() {
    let mut values = vec![Some("a"); 6];
    values.extend([Some("b"), Some("b"), Some("b"), Some("c"), None]);
    let train = frame(vec![("c", text(&values))]);
    // "c" is 1 of 11 rows (9%), below the 10% share.
    let pipeline = Pipeline::fit(&features(&["c"], vec![], 0.1), &train).expect("fits");
    let encoder = &pipeline.categorical[0];
    assert_eq!(encoder.levels, vec!["a", "b"]);
    let serving = frame(vec![(
        "c",
        text(&[Some("b"), Some("c"), Some("never seen"), None, Some("a")]),
    )]);
    let encoded = pipeline.transform(&serving).expect("transforms");
    assert_eq!(encoded.categorical[0], vec![1, 2, 2, 3, 0]);
    assert_eq!(encoded.levels, vec![4]);
}

#[test]
fn datetime_features_become_the_parts_the_spec_names() {
    // 2013-01-07 was a Monday; 2013-01-12 a Saturday.
    let monday = chrono::NaiveDate::from_ymd_opt(2013, 1, 7)
        .and_then(|d| d.and_hms_opt(5, 0, 0))
        .map(|t| t.and_utc().timestamp_millis());
    let saturday = chrono::NaiveDate::from_ymd_opt(2013, 1, 12)
        .and_then(|d| d.and_hms_opt(23, 0, 0))
        .map(|t| t.and_utc().timestamp_millis());
    let train = frame(vec![(
        "t",
        RawColumn::Datetime(vec![monday, saturday, monday]),
    )]);
    let pipeline = Pipeline::fit(
        &features(&["t"], vec![DatePart::DayOfWeek, DatePart::Hour], 0.0),
        &train,
    )
    .expect("fits");
    assert_eq!(pipeline.feature_names(), vec!["t.day_of_week", "t.hour"]);
    assert_eq!(pipeline.categorical[0].levels, vec!["1", "6"]);
    assert_eq!(pipeline.categorical[1].levels, vec!["5", "23"]);
}

#[test]
fn an_all_null_feature_is_an_error_naming_it() {
    let train = frame(vec![
        ("x", RawColumn::Numeric(vec![None, None])),
        ("c", text(&[None, None])),
    ]);
    assert_eq!(
        Pipeline::fit(&features(&["x"], vec![], 0.0), &train),
        Err(FeatureError::AllNull("x".into()))
    );
    assert_eq!(
        Pipeline::fit(&features(&["c"], vec![], 0.0), &train),
        Err(FeatureError::AllNull("c".into()))
    );
}

#[test]
fn transform_rejects_a_missing_or_retyped_column() {
    let train = frame(vec![("x", RawColumn::Numeric(vec![Some(1.0), Some(2.0)]))]);
    let pipeline = Pipeline::fit(&features(&["x"], vec![], 0.0), &train).expect("fits");
    let other = frame(vec![("y", RawColumn::Numeric(vec![Some(1.0)]))]);
    assert_eq!(
        pipeline.transform(&other),
        Err(FeatureError::MissingColumn("x".into()))
    );
    let retyped = frame(vec![("x", text(&[Some("1")]))]);
    assert!(matches!(
        pipeline.transform(&retyped),
        Err(FeatureError::WrongType {
            expected: "numeric",
            found: "text",
            ..
        })
    ));
}

#[test]
fn text_features_become_sparse_rows_over_the_training_vocabulary() {
    let train = frame(vec![
        (
            "review",
            text(&[Some("great tea"), Some("bitter tea"), None]),
        ),
        (
            "x",
            RawColumn::Numeric(vec![Some(1.0), Some(2.0), Some(3.0)]),
        ),
    ]);
    let mut section = features(&["review", "x"], vec![], 0.0);
    section.text.insert(
        "review".into(),
        crate::features::text::TextOptions::default(),
    );
    let pipeline = Pipeline::fit(&section, &train).expect("fits");
    assert_eq!(pipeline.text.len(), 1);
    assert_eq!(pipeline.text[0].tfidf.terms, ["bitter", "great", "tea"]);
    assert_eq!(pipeline.input_columns(), ["x", "review"]);

    let serving = frame(vec![
        ("review", text(&[Some("unknown words"), Some("tea tea")])),
        ("x", RawColumn::Numeric(vec![None, Some(2.0)])),
    ]);
    let encoded = pipeline.transform(&serving).expect("transforms");
    assert_eq!(encoded.text_widths, [3]);
    let rows = &encoded.text[0];
    assert_eq!(rows.row(0).count(), 0, "unseen words are ignored");
    assert_eq!(rows.row(1).collect::<Vec<_>>(), [(2, 1.0)]);
    let second = encoded.take(&[1]);
    assert_eq!(second.text[0].row(0).collect::<Vec<_>>(), [(2, 1.0)]);

    let blank = frame(vec![
        ("review", text(&[None, None])),
        ("x", RawColumn::Numeric(vec![Some(1.0), Some(2.0)])),
    ]);
    assert_eq!(
        Pipeline::fit(&section, &blank),
        Err(FeatureError::AllNull("review".into()))
    );
}

#[test]
fn fitting_and_encoding_a_column_at_a_time_gives_the_whole_frames_pipeline_and_features() {
    let n = 60;
    let numbers = |k: usize| (0..n).map(move |i| (i % 7 != k).then_some((i * k) as f64));
    let train = frame(vec![
        ("a", RawColumn::Numeric(numbers(2).collect())),
        (
            "carrier",
            text(
                &(0..n)
                    .map(|i| [Some("AA"), Some("B6"), None][i % 3])
                    .collect::<Vec<_>>(),
            ),
        ),
        ("b", RawColumn::Numeric(numbers(3).collect())),
        (
            "at",
            RawColumn::Datetime((0..n).map(|i| Some(i as i64 * 3_600_000 * 17)).collect()),
        ),
        (
            "review",
            text(
                &(0..n)
                    .map(|i| [Some("good tea"), Some("bad tea")][i % 2])
                    .collect::<Vec<_>>(),
            ),
        ),
    ]);
    let mut section = features(
        &["a", "carrier", "review", "b", "at"],
        vec![DatePart::Hour, DatePart::DayOfWeek],
        0.0,
    );
    section.text.insert(
        "review".into(),
        crate::features::text::TextOptions::default(),
    );
    let whole = Pipeline::fit(&section, &train).expect("fits");

    let mut by_column = Pipeline::default();
    for name in &section.columns {
        let column = train.column(name).expect("column");
        by_column.fit_column(&section, name, column).expect("fits");
    }
    assert_eq!(by_column, whole);

    let mut encoded = Encoded::empty(n);
    for name in &section.columns {
        let column = train.column(name).expect("column");
        encoded.append_features(whole.transform_column(name, column).expect("transforms"));
    }
    assert_eq!(encoded, whole.transform(&train).expect("transforms"));
    assert_eq!(
        (
            encoded.numeric.len(),
            encoded.categorical.len(),
            encoded.text.len()
        ),
        (2, 3, 1)
    );
}
