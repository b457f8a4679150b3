use super::*;

const FRACTIONS: Fractions = Fractions {
    train: 0.6,
    validation: 0.2,
};

#[test]
fn a_time_split_trains_on_the_past_and_tests_on_the_future() {
    let times: Vec<i64> = (0..100).rev().collect();
    let split = by_time(&times, FRACTIONS);
    assert_eq!(
        (split.train.len(), split.validation.len(), split.test.len()),
        (60, 20, 20)
    );
    let latest = |rows: &[usize]| rows.iter().map(|&i| times[i]).max();
    let earliest = |rows: &[usize]| rows.iter().map(|&i| times[i]).min();
    assert!(latest(&split.train) < earliest(&split.validation));
    assert!(latest(&split.validation) < earliest(&split.test));
}

#[test]
fn rows_at_the_same_time_stay_in_one_part() {
    // Ten rows per hour: a cut at 60% falls inside no hour, but one at 65% would.
    let times: Vec<i64> = (0..100).map(|i| i / 10).collect();
    let split = by_time(
        &times,
        Fractions {
            train: 0.65,
            validation: 0.2,
        },
    );
    let hours = |rows: &[usize]| {
        let mut h: Vec<i64> = rows.iter().map(|&i| times[i]).collect();
        h.dedup();
        h
    };
    let (train, validation) = (hours(&split.train), hours(&split.validation));
    assert!(train.iter().all(|h| !validation.contains(h)));
    assert_eq!(split.train.len(), 70);
}

#[test]
fn a_random_split_keeps_each_class_share_and_depends_only_on_the_seed() {
    let labels: Vec<u32> = (0..1000).map(|i| u32::from(i % 10 == 0)).collect();
    let split = stratified(&labels, 2, FRACTIONS, 42);
    let positives = |rows: &[usize]| rows.iter().filter(|&&i| labels[i] == 1).count();
    assert_eq!(positives(&split.train), 60);
    assert_eq!(positives(&split.validation), 20);
    assert_eq!(positives(&split.test), 20);
    assert_eq!(split, stratified(&labels, 2, FRACTIONS, 42));
    assert_ne!(split, stratified(&labels, 2, FRACTIONS, 43));
}

#[test]
fn oversampling_evens_out_the_classes_of_the_training_rows() {
    let labels: Vec<u32> = (0..100).map(|i| u32::from(i < 10)).collect();
    let train: Vec<usize> = (0..100).collect();
    let rows = oversample(&train, &labels, 2, 1);
    let positives = rows.iter().filter(|&&i| labels[i] == 1).count();
    assert_eq!((rows.len(), positives), (180, 90));
    assert!(rows.iter().all(|&i| i < 100));
}
