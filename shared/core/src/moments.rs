//! Count, extremes, mean and squared deviations of values seen a batch at a time (Chan et al.'s
//! pairwise update: stable over millions of rows, one division per batch). The drift profile and
//! the ingest profile of a large upload both keep them.

/// The moments of the values added so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub count: u64,
    /// +∞ and −∞ until a value is added.
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// The sum of squared deviations from the mean.
    pub m2: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Self {
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            mean: 0.0,
            m2: 0.0,
        }
    }
}

impl Moments {
    /// Adds a batch of values to the running moments.
    pub fn add(&mut self, batch: &[f64]) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as f64;
        let mean = batch.iter().sum::<f64>() / n;
        let m2: f64 = batch.iter().map(|x| (x - mean) * (x - mean)).sum();
        let (min, max) = batch
            .iter()
            .fold((self.min, self.max), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let before = self.count as f64;
        let total = before + n;
        let delta = mean - self.mean;
        self.mean += delta * n / total;
        self.m2 += m2 + delta * delta * before * n / total;
        self.count += batch.len() as u64;
        (self.min, self.max) = (min, max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_give_the_moments_of_all_values() {
        let values: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64 / 7.0).collect();
        let mut batched = Moments::default();
        for batch in values.chunks(77) {
            batched.add(batch);
        }
        batched.add(&[]);
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let m2: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
        assert_eq!(batched.count, 1000);
        assert!((batched.mean - mean).abs() < 1e-12);
        assert!((batched.m2 - m2).abs() < 1e-9 * m2);
        assert_eq!((batched.min, batched.max), (0.0, 100.0 / 7.0));
    }
}
