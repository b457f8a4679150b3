"""The monitor benchmark's peer: the same join and live metrics with pandas and scikit-learn, on
the files bench/monitor.sh wrote (predictions.csv, outcomes.csv). Reading the files is not timed;
the merge, the filter (outcomes observed after their prediction), the metrics at the threshold,
the 200-resample bootstrap interval of ROC AUC (on at most 50,000 rows, as mlops does), the score
histogram and calibration are. Prints the time and the process's peak memory."""

import resource
import sys
import time

import numpy as np
import pandas as pd
from sklearn.metrics import (average_precision_score, confusion_matrix, f1_score, log_loss,
                             precision_score, recall_score, roc_auc_score)

folder = sys.argv[1]
predictions = pd.read_csv(f"{folder}/predictions.csv")
outcomes = pd.read_csv(f"{folder}/outcomes.csv")

started = time.perf_counter()
latest = outcomes.sort_values("observed_at").drop_duplicates("prediction_id", keep="last")
joined = predictions.merge(latest, on="prediction_id", how="inner")
joined = joined[joined["observed_at"] >= joined["at"]]
merged = time.perf_counter() - started
score = joined["score"].to_numpy()
truth = joined["late"].to_numpy()
predicted = (score >= 0.5).astype(int)
metrics = {
    "roc_auc": roc_auc_score(truth, score),
    "pr_auc": average_precision_score(truth, score),
    "log_loss": log_loss(truth, np.column_stack([1 - score, score])),
    "precision": precision_score(truth, predicted),
    "recall": recall_score(truth, predicted),
    "f1": f1_score(truth, predicted),
    "confusion": confusion_matrix(truth, predicted),
}
rng = np.random.default_rng(1)
n = min(len(truth), 50_000)
resampled = []
for _ in range(200):
    at = rng.integers(0, len(truth), n)
    resampled.append(roc_auc_score(truth[at], score[at]))
low, high = np.percentile(resampled, [2.5, 97.5])
histogram, _ = np.histogram(predictions["score"], bins=10, range=(0, 1))
bins = np.minimum((score * 10).astype(int), 9)
calibration = pd.DataFrame({"bin": bins, "score": score, "truth": truth}).groupby("bin").mean()
positive_rate = (predictions["score"] >= 0.5).mean()
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"peer:  {len(predictions)} predictions × {len(outcomes)} outcomes: {len(joined)} labelled; "
      f"roc_auc {metrics['roc_auc']:.4f} [{low:.4f}, {high:.4f}], f1 {metrics['f1']:.4f}, "
      f"positive rate {positive_rate:.4f}")
print(f"peer:  join {merged:.2f} s, join and live metrics {elapsed:.2f} s; peak memory {peak:.0f} MB (data included)")
