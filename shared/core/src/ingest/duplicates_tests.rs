use super::*;

/// What a whole-frame `is_duplicated` finds: every row sharing its key, and the first of them.
fn expected(frame: &DataFrame, examples: usize) -> Shared {
    let duplicated = frame.is_duplicated().unwrap();
    let rows: Vec<u64> = duplicated
        .iter()
        .enumerate()
        .filter(|(_, d)| *d == Some(true))
        .map(|(row, _)| row as u64)
        .collect();
    Shared {
        count: rows.len() as u64,
        first: rows.into_iter().take(examples).collect(),
    }
}

/// A key of an integer, a text, a float and a flag, with nulls, drawn from few values so that
/// many rows share keys.
fn keys(rows: usize) -> DataFrame {
    let pick = |i: usize, m: usize| (i * 2_654_435_761usize).rotate_left(7) % m;
    df!(
        "n" => (0..rows).map(|i| (pick(i, 11) != 0).then_some(pick(i, 37) as i64)).collect::<Vec<_>>(),
        "s" => (0..rows).map(|i| (pick(i, 13) != 0).then(|| format!("v{}", pick(i + 3, 29)))).collect::<Vec<_>>(),
        "f" => (0..rows).map(|i| pick(i + 1, 7) as f64 / 2.0).collect::<Vec<_>>(),
        "b" => (0..rows).map(|i| pick(i + 5, 2) == 0).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn found(frame: &DataFrame, batch: usize, spill_rows: usize) -> Shared {
    let scratch = tempfile::tempdir().unwrap();
    let mut finder = DuplicateRows::spilling_past(spill_rows);
    let mut offset = 0;
    while offset < frame.height() {
        let part = frame.slice(offset as i64, batch);
        offset += part.height();
        let columns: Vec<&Column> = part.columns().iter().collect();
        finder.add(&columns, scratch.path()).unwrap();
    }
    finder.finish(5).unwrap()
}

#[test]
fn finds_the_rows_a_whole_frame_finds_in_memory_and_spilled() {
    let frame = keys(20_000);
    let want = expected(&frame, 5);
    assert!(want.count > 0 && (want.count as usize) < frame.height());
    assert_eq!(
        found(&frame, 20_000, usize::MAX),
        want,
        "in memory, one batch"
    );
    assert_eq!(found(&frame, 777, usize::MAX), want, "in memory, batches");
    assert_eq!(found(&frame, 777, 1_000), want, "spilled");
}

#[test]
fn unique_keys_share_nothing_and_one_column_keys_work() {
    let frame = df!("id" => (0..5_000i64).collect::<Vec<_>>()).unwrap();
    assert_eq!(found(&frame, 600, 1_000), Shared::default());
    let frame = df!("id" => [Some(1i64), None, Some(2), None, Some(1)]).unwrap();
    assert_eq!(found(&frame, 2, 3), expected(&frame, 5));
    assert_eq!(found(&frame, 2, 3).first, vec![0, 1, 3, 4]);
}

#[test]
fn values_of_different_types_and_column_order_do_not_collide() {
    // 1 as a number and "1" as text, and (a, b) against (b, a): different keys.
    let frame = df!("x" => ["1", "2"], "y" => ["2", "1"]).unwrap();
    assert_eq!(found(&frame, 2, 10).count, 0);
    let number = Column::new("n".into(), [1i64]);
    let text = Column::new("s".into(), ["1"]);
    let hashes = [
        row_hashes(&[&number]).unwrap(),
        row_hashes(&[&text]).unwrap(),
    ];
    assert_ne!(hashes[0], hashes[1]);
}

#[test]
fn the_scratch_folder_is_removed() {
    let scratch = tempfile::tempdir().unwrap();
    let frame = keys(3_000);
    let mut finder = DuplicateRows::spilling_past(100);
    let columns: Vec<&Column> = frame.columns().iter().collect();
    finder.add(&columns, scratch.path()).unwrap();
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 1);
    finder.finish(5).unwrap();
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}
