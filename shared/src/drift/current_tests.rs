use polars::prelude::*;

use super::*;

fn spec(name: &str, kind: &str) -> ColumnSpec {
    toml::from_str(&format!("name = {name:?}\ntype = {kind:?}")).expect("a column spec")
}

/// Ten rows in row groups of four, so slices of three cross row-group boundaries.
fn parquet() -> Vec<u8> {
    let mut frame = df!(
        "x" => (0..10).map(|i| Some(i as f64)).collect::<Vec<_>>(),
        "name" => (0..10).map(|i| format!("n{i}")).collect::<Vec<_>>(),
        "unused" => (0..10).collect::<Vec<i64>>(),
    )
    .expect("a frame");
    let mut out = Vec::new();
    ParquetWriter::new(&mut out)
        .with_row_group_size(Some(4))
        .finish(&mut frame)
        .expect("writes");
    out
}

#[test]
fn a_parquet_file_is_read_in_slices_of_the_input_columns_only() {
    let (x, name) = (spec("x", "float"), spec("name", "string"));
    let mut slices = Vec::new();
    parquet_batches(&parquet(), &[&x, &name], 3, |batch| {
        slices.push(batch);
        Ok(())
    })
    .map_err(|p| p.of("test.parquet"))
    .expect("reads");
    assert_eq!(
        slices.iter().map(DataFrame::height).collect::<Vec<_>>(),
        [3, 3, 3, 1]
    );
    assert!(slices.iter().all(|s| s.get_column_names() == ["x", "name"]));
    let mut whole = slices[0].clone();
    for slice in &slices[1..] {
        whole.vstack_mut(slice).expect("same schema");
    }
    let values: Vec<Option<f64>> = whole
        .column("x")
        .expect("x")
        .f64()
        .expect("f64")
        .iter()
        .collect();
    assert_eq!(values, (0..10).map(|i| Some(i as f64)).collect::<Vec<_>>());
    let names = whole
        .column("name")
        .expect("name")
        .str()
        .expect("str")
        .get(9);
    assert_eq!(names, Some("n9"));
}

#[test]
fn a_parquet_file_without_an_input_is_refused_by_column_name() {
    let missing = spec("temp", "float");
    let error = parquet_batches(&parquet(), &[&missing], 3, |_| Ok(()))
        .map_err(|p| p.of("july.parquet"))
        .expect_err("no temp")
        .to_string();
    assert!(
        error.contains("july.parquet") && error.contains("no column \"temp\""),
        "{error}"
    );
}
