//! Fits smartcore's logistic regression on a dense design matrix and prints how long it took.
//!
//! Usage: smartcore-peer <matrix.bin> <alpha>
//! The file holds rows and columns (u64, little-endian), the rows' values (f64, row-major), then
//! each row's class (f64, 0 or 1), as bench/smartcore.sh writes it.

use std::time::Instant;

use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, alpha] = args.as_slice() else {
        return Err("arguments: <matrix.bin> <alpha>".into());
    };
    let alpha: f64 = alpha.parse()?;
    let bytes = std::fs::read(path)?;
    let word = |at: usize| -> Result<[u8; 8], Error> {
        Ok(bytes
            .get(at * 8..at * 8 + 8)
            .ok_or("the matrix file is truncated")?
            .try_into()?)
    };
    let rows = u64::from_le_bytes(word(0)?) as usize;
    let cols = u64::from_le_bytes(word(1)?) as usize;
    let values = (0..rows * cols)
        .map(|i| word(2 + i).map(f64::from_le_bytes))
        .collect::<Result<Vec<f64>, Error>>()?;
    let y = (0..rows)
        .map(|i| word(2 + rows * cols + i).map(|w| f64::from_le_bytes(w) as u32))
        .collect::<Result<Vec<u32>, Error>>()?;
    let x = DenseMatrix::new(rows, cols, values, false)?;
    let began = Instant::now();
    let model = LogisticRegression::fit(
        &x,
        &y,
        LogisticRegressionParameters::default().with_alpha(alpha),
    )?;
    let seconds = began.elapsed().as_secs_f64();
    let predicted = model.predict(&x)?;
    let accuracy = predicted.iter().zip(&y).filter(|(p, t)| p == t).count() as f64 / rows as f64;
    println!("smartcore {rows} x {cols}: fit {seconds:.2} s, training accuracy {accuracy:.4}");
    Ok(())
}
