#!/usr/bin/env bash
# Benchmark: training at scale (the goal: the flights year resampled to 20 million rows trains with
# the bundled spec's gradient boosting under 4 GB of memory). The year is resampled to ROWS rows,
# each month to its share so that the time split keeps its shape, written as twelve monthly CSVs,
# ingested, then trained with the bundled spec's gradient-boosting candidates; prints the training
# run's wall time and peak memory, seconds per million rows, rows per GB of peak memory, and where
# the time went (fitting each candidate, and the rest: reading, encoding, evaluating, writing).
# Resampled rows repeat the contract's unique key by construction: the bench's spec drops that rule,
# and raises the file size limit (past 18 million rows a month's CSV passes the default 256 MB).
#
# Usage: bench/train_scale.sh [rows, default 2000000] [folder with flights-2013-MM.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROWS=${1:-2000000}
DATA=$(flights_data "${2:-}")

echo "== building (bench-fast mlops)"
cargo build --quiet --profile bench-fast -p mlops
MLOPS=target/bench-fast/mlops
peer_venv "pandas" "pandas<3"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

only gradient_boosting | grep -v '^unique_keys = ' |
  sed 's/^max_file_bytes = .*/max_file_bytes = 4294967296/' > "$WORK/flights.toml"
echo "== data: the flights year resampled to $ROWS rows"
bench/.venv/bin/python - "$DATA" "$WORK" "$ROWS" <<'PY'
import sys
import pandas as pd
data, work, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
# As text, so every value is written back exactly as the file has it.
months = {m: pd.read_csv(f"{data}/flights-2013-{m:02d}.csv", dtype=str, keep_default_na=False)
          for m in range(1, 13)}
total = sum(len(f) for f in months.values())
for m, frame in months.items():
    share = round(rows * len(frame) / total)
    frame.sample(share, replace=True, random_state=m).to_csv(f"{work}/flights-{m:02d}.csv", index=False)
print(f"{total} rows resampled to {rows}")
PY

home="$WORK/home"
"$MLOPS" --home "$home" spec put "$WORK/flights.toml" > /dev/null
timed "ingest (12 files)" "$MLOPS" --home "$home" ingest --dataset flights --json "$WORK"/flights-*.csv
timed "train (gradient boosting candidates)" "$MLOPS" --home "$home" train --dataset flights --json
read -r secs kb < <(tail -1 "$WORK/time")
python3 - "$ROWS" "$secs" "$kb" "$WORK/out" <<'PY'
import json, sys
rows, secs, kb = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"{rows:,} rows: {secs / rows * 1e6:.1f} s per million rows, "
      f"{rows / (kb / 1024 / 1024) / 1e6:.2f} M rows per GB of peak memory")
trained = json.load(open(sys.argv[4]))
metrics = json.load(open(trained["metrics_file"].removeprefix("file://")))
fits = metrics["candidates"]
for c in fits:
    print(f"  {c['description']}: {c['fit_seconds']:.1f} s, {c['rounds']} rounds")
fitting = sum(c["fit_seconds"] for c in fits)
print(f"  fitting {len(fits)} candidates {fitting:.1f} s; reading, encoding, evaluating and writing "
      f"{secs - fitting:.1f} s; test ROC AUC {trained['metrics']['roc_auc']:.4f}")
PY
