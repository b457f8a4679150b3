#!/usr/bin/env python3
"""The Python peers of `mlops train` for the benchmark: scikit-learn's logistic regression, random
forest and HistGradientBoosting, and LightGBM, on exactly the rows and features mlops used.

It reads the curated Parquet versions mlops trained on and the model's lineage.json, so the train,
validation and test parts are the same rows (by the lineage's time ranges). The peers fit on the
training and validation parts together (they do no model selection) and are scored on the test part.

Usage: bench/train_peers.py <objects dir of the mlops home> <model version>
Prints one line per peer: name, test ROC AUC, fit seconds, load-to-fitted seconds.
"""
import glob
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

objects, version = Path(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
lineage = json.loads((objects / f"models/flights/{version}/lineage.json").read_text())
spec_features = ["month", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest", "distance",
                 "hour", "temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip",
                 "pressure", "visib"]
frames = [pd.read_parquet(objects / v["data_key"]) for v in lineage["data_versions"]]
data = pd.concat(frames, ignore_index=True)
data = data[data["late"].notna()]
data["day_of_week"] = data["time_hour"].dt.day_of_week.astype(str)
categorical = ["carrier", "origin", "dest", "day_of_week"]
numeric = [c for c in spec_features if c not in categorical]
features = numeric + categorical

ranges = lineage["time_ranges"]
test_from = pd.Timestamp(ranges["test"]["from"]).tz_localize(None)
t = data["time_hour"].dt.tz_localize(None) if data["time_hour"].dt.tz is not None else data["time_hour"]
fit_part, test_part = data[t < test_from], data[t >= test_from]
X, y = fit_part[features], fit_part["late"].astype(int)
Xt, yt = test_part[features], test_part["late"].astype(int)
loaded = time.perf_counter() - started
print(f"# rows: fit {len(X)}, test {len(Xt)} (test from {test_from}); load {loaded:.2f} s", flush=True)

one_hot = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
    ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.005), categorical),
])
ordinal = X.copy()
ordinal_t = Xt.copy()
for c in categorical:
    levels = pd.CategoricalDtype(sorted(X[c].dropna().unique()))
    ordinal[c] = X[c].astype(levels)
    # Levels unseen in training become missing, as the trees expect.
    ordinal_t[c] = Xt[c].where(Xt[c].isin(levels.categories)).astype(levels)

import lightgbm  # noqa: E402  (imported late so its import time is not counted as loading)

peers = [
    ("sklearn LogisticRegression", lambda: make_pipeline(one_hot, LogisticRegression(max_iter=1000, class_weight="balanced")), X, Xt),
    ("sklearn RandomForest(100)", lambda: make_pipeline(one_hot, RandomForestClassifier(n_estimators=100, n_jobs=-1, random_state=0)), X, Xt),
    ("sklearn HistGradientBoosting", lambda: HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0), ordinal, ordinal_t),
    ("LightGBM", lambda: lightgbm.LGBMClassifier(verbose=-1, random_state=0), ordinal, ordinal_t),
]
for name, make, train_x, test_x in peers:
    begun = time.perf_counter()
    model = make().fit(train_x, y)
    fit = time.perf_counter() - begun
    auc = roc_auc_score(yt, model.predict_proba(test_x)[:, 1])
    print(f"{name:30s} roc_auc {auc:.4f}  fit {fit:7.2f} s  load+fit {loaded + fit:7.2f} s", flush=True)
