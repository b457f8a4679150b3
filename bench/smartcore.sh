#!/usr/bin/env bash
# Benchmark: smartcore's logistic regression beside scikit-learn's, on the same dense design matrix
# of the flights year (../shared/data/flights: 14 numeric columns imputed and standardised, carrier
# and origin one-hot), one run each, fit time only. The measurement behind the README's note on
# why the product trains with its own L-BFGS logistic regression and histogram trees.
#
# Usage: bench/smartcore.sh [flights folder] [rows]   (default: ../shared/data/flights, every row)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=${1:-../shared/data/flights}
ROWS=${2:-0}
peer_venv "sklearn pandas" pandas scikit-learn
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd bench/smartcore_peer && CARGO_TARGET_DIR=../../target/smartcore-peer cargo build --quiet --release --locked)

bench/.venv/bin/python - "$DATA" "$ROWS" "$WORK/matrix.bin" <<'PY'
import glob, struct, sys, time
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
data, rows, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
df = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(f"{data}/flights-2013-*.csv"))])
df = df[df["late"].notna()]
if rows:
    df = df.sample(n=rows, random_state=0)
numeric = ["month", "sched_dep_time", "sched_arr_time", "distance", "hour", "temp", "dewp", "humid",
           "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]
x = df[numeric].astype(float)
x = x.fillna(x.median())
x = (x - x.mean()) / x.std()
x = pd.concat([x, pd.get_dummies(df[["carrier", "origin"]]).astype(float)], axis=1).to_numpy()
y = df["late"].to_numpy(dtype=float)
with open(out, "wb") as f:
    f.write(struct.pack("<QQ", *x.shape))
    f.write(np.ascontiguousarray(x, dtype="<f8").tobytes())
    f.write(np.ascontiguousarray(y, dtype="<f8").tobytes())
began = time.perf_counter()
model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
seconds = time.perf_counter() - began
print(f"scikit-learn {x.shape[0]} x {x.shape[1]}: fit {seconds:.2f} s (lbfgs, {model.n_iter_[0]} iterations), "
      f"training accuracy {model.score(x, y):.4f}")
PY
target/smartcore-peer/release/smartcore-peer "$WORK/matrix.bin" 1.0
