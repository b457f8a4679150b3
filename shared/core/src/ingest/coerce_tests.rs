use super::*;

fn column(kind: ColumnType) -> ColumnSpec {
    toml::from_str(&format!("name = \"c\"\ntype = \"{kind}\"")).unwrap()
}

fn text(values: &[Option<&str>]) -> Series {
    Series::new("c".into(), values)
}

fn errors(typed: &TypedColumn) -> Vec<bool> {
    typed
        .type_errors
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect()
}

#[test]
fn flags_values_that_are_not_of_the_declared_type() {
    let typed = coerce(
        &text(&[Some("1"), Some("x"), None, Some("2.5")]),
        &column(ColumnType::Integer),
    )
    .unwrap();
    assert_eq!(typed.series.dtype(), &DataType::Int64);
    assert_eq!(errors(&typed), [false, true, false, true]);
    let typed = coerce(
        &text(&[Some("1.5"), Some("nan?")]),
        &column(ColumnType::Float),
    )
    .unwrap();
    assert_eq!(errors(&typed), [false, true]);
}

#[test]
fn parses_booleans_and_datetimes() {
    let typed = coerce(
        &text(&[Some("yes"), Some("0"), Some("maybe")]),
        &column(ColumnType::Boolean),
    )
    .unwrap();
    assert_eq!(errors(&typed), [false, false, true]);
    let values = [
        Some("2013-01-01T10:00:00Z"),
        Some("2013-01-01 10:00:00"),
        Some("2013-01-01"),
        Some("soon"),
    ];
    let typed = coerce(&text(&values), &column(ColumnType::Datetime)).unwrap();
    assert_eq!(errors(&typed), [false, false, false, true]);
    let millis: Vec<Option<i64>> = typed
        .series
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(millis[0], Some(1_357_034_400_000));
    assert_eq!(millis[0], millis[1]);
}

#[test]
fn json_floats_in_integer_columns_are_flagged() {
    let raw = Series::new("c".into(), &[Some(1.0f64), Some(2.5)]);
    let typed = coerce(&raw, &column(ColumnType::Integer)).unwrap();
    assert_eq!(
        errors(&typed),
        [true, true],
        "floats are not integers, even 1.0 written as a float"
    );
}

#[test]
fn a_boolean_column_reads_the_words_its_spec_declares() {
    let spec: ColumnSpec = toml::from_str(
        "name = \"c\"\ntype = \"boolean\"\ntrue_values = [\"Active\", \"Oui\"]\nfalse_values = [\"INACTIVE\", \"Non\"]",
    )
    .unwrap();
    let values = [
        Some("active"),
        Some(" OUI "),
        Some("Inactive"),
        Some("non"),
        Some("yes"),
        Some("0"),
        Some("maybe"),
    ];
    let typed = coerce(&text(&values), &spec).unwrap();
    assert_eq!(
        errors(&typed),
        [false, false, false, false, false, false, true]
    );
    let read: Vec<Option<bool>> = typed.series.bool().unwrap().iter().collect();
    assert_eq!(
        read,
        [
            Some(true),
            Some(true),
            Some(false),
            Some(false),
            Some(true),
            Some(false),
            None
        ]
    );
    // Without the declaration the same words are not booleans.
    let typed = coerce(&text(&values[..4]), &column(ColumnType::Boolean)).unwrap();
    assert_eq!(errors(&typed), [true, true, true, true]);
}
