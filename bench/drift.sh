#!/usr/bin/env bash
# Benchmark: the drift check beside Evidently's data drift preset (bench/drift_peer.py), on the same
# files, in one run:
#   1M × 1M   months 1–3 of the full flights data resampled to 1,000,000 rows as the reference, July
#             resampled to 1,000,000 rows as the current data;
#   Q1 × July the months as they are (about 80,000 and 29,000 rows);
#   and July resampled to 1,000,000 rows with all 29 columns, as CSV, gzip CSV and Parquet, each the
#             current file against the model's training reference (mlops only).
# mlops runs `mlops drift --reference-file R --current-file C`: it reads both Parquet files,
# profiles them, scores them with the model (prediction drift, which the peer does not do), tests
# every feature and writes the JSON and HTML reports. The peer reads the same files with pandas and
# saves its JSON and HTML. For each: wall time and peak memory; then both verdicts per feature.
#
# Usage: bench/drift.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

echo "== building (bench-fast mlops)"
cargo build --quiet --profile bench-fast -p mlops
MLOPS_BIN=target/bench-fast/mlops
peer_venv "evidently pyarrow" "evidently==0.7.*" "pandas<3" pyarrow
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== data: Parquet files of the model's inputs"
bench/.venv/bin/python - "$DATA" "$WORK" <<'PY'
import sys
import pandas as pd
data, work = sys.argv[1:]
columns = ["month", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest", "distance", "hour",
           "time_hour", "temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure",
           "visib"]
def months(*ms):
    frame = pd.concat([pd.read_csv(f"{data}/flights-2013-{m}.csv", usecols=columns) for m in ms])
    frame["time_hour"] = pd.to_datetime(frame["time_hour"])
    return frame[columns].reset_index(drop=True)
q1, july = months("01", "02", "03"), months("07")
q1.to_parquet(f"{work}/q1.parquet", index=False)
july.to_parquet(f"{work}/july.parquet", index=False)
q1.sample(1_000_000, replace=True, random_state=1).to_parquet(f"{work}/ref-1m.parquet", index=False)
july.sample(1_000_000, replace=True, random_state=2).to_parquet(f"{work}/cur-1m.parquet", index=False)
# July resampled to 1,000,000 rows with all 29 columns, as users export it: CSV, gzip CSV, Parquet.
full = pd.read_csv(f"{data}/flights-2013-07.csv").sample(1_000_000, replace=True, random_state=2)
full.to_csv(f"{work}/july-1m.csv", index=False)
full.to_csv(f"{work}/july-1m.csv.gz", index=False, compression={"method": "gzip", "compresslevel": 1})
full.to_parquet(f"{work}/july-1m.parquet", index=False)
print(f"Q1 {len(q1)} rows, July {len(july)} rows, 1,000,000 rows per side resampled")
PY

echo "== the model whose features are compared: logistic regression on months 1–3 (local home)"
only logistic_regression > "$WORK/flights.toml"
for step in "spec put $WORK/flights.toml" "ingest --dataset flights --json $DATA/flights-2013-01.csv $DATA/flights-2013-02.csv $DATA/flights-2013-03.csv" \
            "train --dataset flights --json" "promote --model flights --json"; do
  # shellcheck disable=SC2086  # the step is several words
  $MLOPS_BIN --home "$WORK/home" $step > "$WORK/step.out" || { cat "$WORK/step.out"; exit 1; }
done

echo
for pair in "1M × 1M:ref-1m:cur-1m" "Q1 × July:q1:july"; do
  IFS=: read -r label ref cur <<< "$pair"
  timed "mlops drift      $label" $MLOPS_BIN --home "$WORK/home" drift --model flights \
    --reference-file "$WORK/$ref.parquet" --current-file "$WORK/$cur.parquet" --json
  cp "$WORK/out" "$WORK/mlops-$ref.json"
  timed "Evidently preset $label" bench/.venv/bin/python bench/drift_peer.py \
    "$WORK/$ref.parquet" "$WORK/$cur.parquet" "$WORK/evidently-$ref"
done

echo
echo "== a current file of 1,000,000 rows and all 29 columns against the training reference"
echo "   (read a block or a row slice at a time, keeping the model's inputs only)"
for file in july-1m.csv july-1m.csv.gz july-1m.parquet; do
  timed "mlops drift --current-file $file" $MLOPS_BIN --home "$WORK/home" drift --model flights \
    --current-file "$WORK/$file" --json
done

echo
echo "== per-feature verdicts, 1M × 1M (the same test on both sides where the method names match)"
bench/.venv/bin/python - "$WORK/mlops-ref-1m.json" "$WORK/evidently-ref-1m.json" <<'PY'
import json, sys
ours = {f["name"].replace("time_hour.", ""): f for f in json.load(open(sys.argv[1]))["features"]}
theirs = json.load(open(sys.argv[2]))
same = {"wasserstein": "Wasserstein distance (normed)", "jensen_shannon": "Jensen-Shannon distance",
        "kolmogorov_smirnov": "K-S p_value", "chi_square": "chi-square p_value", "z_test": "Z-test p_value"}
agree = 0
print(f"{'feature':<16} {'mlops test':<20} {'score':>9} {'drift':>6}   {'Evidently method':<32} {'score':>9} {'drift':>6}")
for name, f in ours.items():
    e = theirs.get(name, {})
    print(f"{name:<16} {f['test']:<20} {f['score']:>9.4f} {str(f['drifted']):>6}   {e.get('method', '-'):<32} "
          f"{e.get('score', float('nan')):>9.4f} {str(e.get('drifted', '-')):>6}")
    agree += same.get(f["test"]) == e.get("method") and f["drifted"] == e.get("drifted")
print(f"same test and same verdict on {agree} of {len(ours)} features")
PY
