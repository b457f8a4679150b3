#!/usr/bin/env bash
# Benchmark: explanations of the flights model, the bundled spec's gradient boosting trained on the
# whole flights year (and its logistic regression, for comparison), in one run:
#   one record   scored with and without its explanation (exact TreeSHAP for the trees), the
#                scoring call alone and the whole predict route (?explain=true), each call timed
#                alone (functions/predict/benches/explain.rs);
#   importance   the global importance training writes to metrics.json and the card: 5,000 rows of
#                December (the model's test period) explained, on every core.
#
# Usage: bench/explain.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

echo "== building (bench-fast mlops and the explain benchmark)"
cargo build --quiet --profile bench-fast -p mlops -p predict --bins --benches
MLOPS_BIN=target/bench-fast/mlops
EXPLAIN_BENCH=$(realpath "$(ls -t target/bench-fast/deps/explain-* | grep -v '\.d$' | head -1)")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# One record (the example event's first) and 5,000 records of December, the model's inputs only.
python3 - "$DATA/flights-2013-12.csv" "$WORK" <<'PY'
import csv, json, sys
source, work = sys.argv[1:]
one = json.load(open("events/predict-body.json"))["records"][:1]
json.dump({"records": one}, open(f"{work}/one.json", "w"))
inputs = list(one[0])
def value(text):
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text
rows = list(csv.DictReader(open(source)))[-5000:]
records = [{name: value(row[name]) for name in inputs} for row in rows]
json.dump({"records": records}, open(f"{work}/batch.json", "w"))
PY

for learner in gradient_boosting logistic_regression; do
  echo
  echo "== $learner on the flights year"
  only "$learner" > "$WORK/$learner.toml"
  home="$WORK/$learner"
  for step in "spec put $WORK/$learner.toml" "ingest --dataset flights --json $DATA/flights-2013-*.csv" \
              "train --dataset flights --json" "promote --model flights --json"; do
    # shellcheck disable=SC2086  # the step is a command line
    $MLOPS_BIN --home "$home" $step > "$WORK/step.out" || { cat "$WORK/step.out"; exit 1; }
  done
  $MLOPS_BIN --home "$home" models flights | head -3
  (cd "$WORK" && "$EXPLAIN_BENCH" "$home" flights one.json batch.json)
done
