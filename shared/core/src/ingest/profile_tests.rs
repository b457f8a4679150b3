use super::*;

/// 37 values drawn once with numpy (normal, mean 10, sd 3, seed 7, rounded to 3 places); the expected
/// figures are numpy's: `np.quantile` (linear), `mean`, `std(ddof=1)`, `min`, `max`.
const VALUES: [f64; 37] = [
    10.004, 10.896, 9.178, 7.328, 8.636, 7.025, 10.18, 14.021, 8.523, 8.139, 11.47, 11.071, 10.316,
    7.209, 9.912, 12.086, 5.967, 8.627, 4.296, 6.131, 4.475, 9.295, 6.198, 10.814, 10.47, 9.439,
    2.45, 8.384, 9.854, 10.34, 5.41, 8.567, 7.064, 7.573, 13.183, 7.577, 9.902,
];

/// A spec of one column `x` of the type given.
fn spec_of(kind: &str) -> DatasetSpec {
    let text = format!(
        "[dataset]\nname = \"t\"\nversion = 1\n[[columns]]\nname = \"x\"\ntype = \"{kind}\"\nnullable = true\n"
    );
    DatasetSpec::parse(&text, "toml").unwrap().spec
}

/// The profile of column `x`, given in batches.
fn profiled(batches: &[Series], kind: &str) -> ColumnProfile {
    let spec = spec_of(kind);
    let mut builder = ProfileBuilder::new(&spec);
    for batch in batches {
        builder
            .add(&batch.clone().with_name("x".into()).into_frame())
            .unwrap();
    }
    builder.finish().remove(0)
}

fn stats(series: &Series, kind: &str) -> Stats {
    profiled(std::slice::from_ref(series), kind).stats
}

fn numeric(series: &Series) -> PolarsResult<Stats> {
    Ok(stats(series, "float"))
}

fn categorical(values: &StringChunked) -> Stats {
    stats(&values.clone().into_series(), "categorical")
}

fn text(values: &StringChunked) -> Stats {
    stats(&values.clone().into_series(), "text")
}

fn numeric_stats(values: Vec<Option<f64>>) -> Stats {
    let series = Series::new("x".into(), values);
    numeric(&series).unwrap()
}

fn assert_close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what} missing"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: {actual} != {expected}"
    );
}

#[test]
fn numeric_profiles_agree_with_numpy_whatever_the_order_nulls_and_nans() {
    let mut values: Vec<Option<f64>> = VALUES.iter().copied().map(Some).collect();
    values.insert(5, None);
    values.insert(20, Some(f64::NAN));
    values.reverse();
    let Stats::Numeric {
        min,
        max,
        mean,
        std,
        quantiles,
    } = numeric_stats(values)
    else {
        panic!("not numeric stats");
    };
    assert_close(min, 2.45, "min");
    assert_close(max, 14.021, "max");
    assert_close(mean, 8.702972972972972, "mean");
    assert_close(std, 2.473263571416054, "std");
    let expected = [
        ("p05", 4.4392),
        ("p25", 7.209),
        ("p50", 8.636),
        ("p75", 10.316),
        ("p95", 12.305399999999995),
    ];
    for (name, value) in expected {
        assert_close(quantiles.get(name).copied(), value, name);
    }
}

#[test]
fn quantiles_interpolate_between_neighbours_and_one_value_has_no_spread() {
    let Stats::Numeric { quantiles, std, .. } =
        numeric_stats(vec![Some(3.0), Some(1.0), Some(2.0)])
    else {
        panic!("not numeric stats");
    };
    assert_close(std, 1.0, "std");
    for (name, value) in [
        ("p05", 1.1),
        ("p25", 1.5),
        ("p50", 2.0),
        ("p75", 2.5),
        ("p95", 2.9),
    ] {
        assert_close(quantiles.get(name).copied(), value, name);
    }

    let Stats::Numeric {
        min,
        std,
        quantiles,
        ..
    } = numeric_stats(vec![Some(4.0), None])
    else {
        panic!("not numeric stats");
    };
    assert_close(min, 4.0, "min");
    assert_eq!(std, None, "no spread from one value");
    assert_eq!(quantiles.get("p95"), Some(&4.0));
}

#[test]
fn a_column_without_values_has_no_statistics() {
    let Stats::Numeric {
        min,
        mean,
        quantiles,
        ..
    } = numeric_stats(vec![None, Some(f64::NAN)])
    else {
        panic!("not numeric stats");
    };
    assert_eq!((min, mean), (None, None));
    assert!(quantiles.is_empty());
}

#[test]
fn categories_are_counted_and_ranked_by_count_then_value() {
    let values = StringChunked::new(
        "carrier".into(),
        [
            Some("UA"),
            Some("AA"),
            None,
            Some("UA"),
            Some("B6"),
            Some("AA"),
        ],
    );
    let Stats::Categorical { distinct, top } = categorical(&values) else {
        panic!("not categorical stats");
    };
    assert_eq!(distinct, 3);
    let ranked: Vec<(&str, u64)> = top.iter().map(|c| (c.value.as_str(), c.count)).collect();
    assert_eq!(ranked, [("AA", 2), ("UA", 2), ("B6", 1)]);
}

#[test]
fn a_column_in_several_chunks_profiles_as_one() {
    let with_nulls: Vec<Option<f64>> = VALUES[..20]
        .iter()
        .map(|&v| Some(v))
        .chain([None, Some(f64::NAN)])
        .collect();
    let mut chunked = Series::new("x".into(), with_nulls);
    chunked
        .append(&Series::new("x".into(), &VALUES[20..]))
        .unwrap();
    assert_eq!(chunked.n_chunks(), 2);
    let whole = numeric_stats(VALUES.iter().copied().map(Some).collect());
    assert_eq!(
        format!("{:?}", numeric(&chunked).unwrap()),
        format!("{whole:?}")
    );
}

#[test]
fn free_text_is_profiled_by_its_length_in_characters() {
    let texts = StringChunked::new(
        "review".into(),
        [Some("thé"), None, Some("good tea"), Some("a")],
    );
    let Stats::Text {
        min_length,
        mean_length,
        max_length,
    } = text(&texts)
    else {
        panic!("text stats");
    };
    assert_eq!((min_length, max_length), (Some(1), Some(8)));
    assert_eq!(mean_length, Some(4.0));
    let none = StringChunked::new("review".into(), [None::<&str>]);
    assert!(matches!(
        text(&none),
        Stats::Text {
            min_length: None,
            mean_length: None,
            max_length: None
        }
    ));
}

#[test]
fn a_column_given_in_batches_profiles_as_the_whole_column() {
    let values: Vec<Option<f64>> = VALUES
        .iter()
        .map(|&v| Some(v))
        .chain([None, Some(f64::NAN)])
        .collect();
    let whole = Series::new("x".into(), values.clone());
    let batches: Vec<Series> = values
        .chunks(10)
        .map(|part| Series::new("x".into(), part.to_vec()))
        .collect();
    let (one, many) = (profiled(&[whole], "float"), profiled(&batches, "float"));
    assert_eq!(format!("{one:?}"), format!("{many:?}"));
    assert_eq!(many.nulls, 1, "NaN is a value, not a null");
    assert!(!many.estimated);
}

#[test]
fn past_the_exact_limit_quantiles_come_from_a_digest_close_to_the_exact_ones() {
    // A skewed column (squares), in batches, half a million values past the exact limit.
    let n = EXACT_VALUES + 500_000;
    let value = |i: usize| ((i * 7_919) % n) as f64 / n as f64;
    let batches: Vec<Series> = (0..n)
        .step_by(100_000)
        .map(|start| {
            let part: Vec<f64> = (start..(start + 100_000).min(n))
                .map(|i| value(i) * value(i) * 1000.0)
                .collect();
            Series::new("x".into(), part)
        })
        .collect();
    let sketched = profiled(&batches, "float");
    assert!(sketched.estimated, "past the limit the profile says so");
    let all: Vec<f64> = (0..n).map(|i| value(i) * value(i) * 1000.0).collect();
    let Stats::Numeric {
        mean: exact_mean,
        std: exact_std,
        quantiles: exact,
        ..
    } = numeric_of(all)
    else {
        panic!("numeric");
    };
    let Stats::Numeric {
        min,
        max,
        mean,
        std,
        quantiles,
    } = sketched.stats
    else {
        panic!("numeric");
    };
    assert_eq!((min, max.map(|m| m > 999.0)), (Some(0.0), Some(true)));
    assert!((mean.unwrap() - exact_mean.unwrap()).abs() < 1e-6);
    assert!((std.unwrap() - exact_std.unwrap()).abs() < 1e-6);
    for (name, value) in &quantiles {
        // Within 1% of the range (the t-digest bounds rank error, not value error).
        let want = exact[name];
        assert!(
            (value - want).abs() < 10.0,
            "{name}: {value} against {want}"
        );
    }
}

#[test]
fn past_the_exact_limit_distinct_values_are_estimated() {
    let n = EXACT_DISTINCT + 50_000;
    let batches: Vec<Series> = (0..3)
        .map(|b| {
            // Every value twice over the three batches, and "common" in each.
            let part: Vec<String> = (0..n / 2)
                .map(|i| format!("v{}", (i + b * n / 4) % n))
                .chain(std::iter::repeat_n("common".to_owned(), 1000))
                .collect();
            Series::new("x".into(), part)
        })
        .collect();
    let profile = profiled(&batches, "categorical");
    assert!(profile.estimated);
    let Stats::Categorical { distinct, top } = profile.stats else {
        panic!("categorical");
    };
    let truth = (0..3)
        .flat_map(|b| (0..n / 2).map(move |i| (i + b * n / 4) % n))
        .collect::<std::collections::HashSet<_>>()
        .len() as f64
        + 1.0;
    assert!(
        (distinct as f64 - truth).abs() / truth < 0.03,
        "{distinct} against {truth}"
    );
    assert_eq!((top[0].value.as_str(), top[0].count), ("common", 3000));
}
