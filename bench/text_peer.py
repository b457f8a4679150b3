#!/usr/bin/env python3
"""The scikit-learn peer of the text benchmark: TF-IDF of words and word pairs (the tokenizer and
cleaning mlops uses: HTML tags dropped, entities decoded, lowercased, Unicode words of any
length; min_df 2, max_df 0.9, sublinear tf) and LogisticRegression(C=4), fitted on
reviews-train.csv and scored on reviews-test.csv.

Usage: bench/text_peer.py <reviews folder> <mlops predictions JSON> <work dir>
Prints the peer's fit (median of three, read to fitted), its test ROC AUC and F1, its pickled
size, its one-review and 1,000-review predict times, and the ROC AUC and F1 of mlops'
predictions of the same test file.
"""
import html
import json
import pickle
import re
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline

folder, predictions, work = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
TAG = re.compile(r"<[^>]*>")


def clean(text: str) -> str:
    return html.unescape(TAG.sub(" ", text)).lower()


def fit():
    train = pd.read_csv(folder / "reviews-train.csv")
    model = make_pipeline(
        TfidfVectorizer(preprocessor=clean, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2),
                        min_df=2, max_df=0.9, sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=1000),
    )
    return model.fit(train["review"], train["score"] == "great")


times = []
for _ in range(3):
    began = time.perf_counter()
    model = fit()
    times.append(time.perf_counter() - began)
test = pd.read_csv(folder / "reviews-test.csv")
truth = test["score"] == "great"
scores = model.predict_proba(test["review"])[:, 1]
print(f"scikit-learn {model[0].get_feature_names_out().size} terms: fit {statistics.median(times):.2f} s "
      f"(median of 3, read to fitted); test ROC AUC {roc_auc_score(truth, scores):.4f}, "
      f"F1 at 0.5 {f1_score(truth, scores >= 0.5):.4f}")
(work / "peer.pkl").write_bytes(pickle.dumps(model))
print(f"scikit-learn pickled model {(work / 'peer.pkl').stat().st_size / 1e6:.2f} MB")

# The same review as the router's: one of median length.
one = test["review"].iloc[[test["review"].str.len().argsort(kind="stable").iloc[len(test) // 2]]]
batch = test["review"].iloc[:1000]
for _ in range(200):
    model.predict_proba(one)
runs = []
for _ in range(2000):
    began = time.perf_counter()
    model.predict_proba(one)
    runs.append(time.perf_counter() - began)
batch_runs = []
for _ in range(10):
    began = time.perf_counter()
    model.predict_proba(batch)
    batch_runs.append(time.perf_counter() - began)
print(f"scikit-learn predict_proba in process: one review p50 {statistics.median(runs) * 1e6:.0f} µs; "
      f"1,000 reviews median {statistics.median(batch_runs) * 1000:.1f} ms")

ours = json.loads(predictions.read_text())["predictions"]
score = [p["score"] for p in ours]
label = [p["label"] == "great" for p in ours]
print(f"mlops on the same test file: ROC AUC {roc_auc_score(truth, score):.4f}, "
      f"F1 at its threshold {f1_score(truth, label):.4f}")
