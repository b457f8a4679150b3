#!/usr/bin/env bash
# Benchmark: what a shadow version costs the champion's answers. The predict router with no
# network, on the Lambda's single-threaded runtime (functions/predict/benches/handler.rs), one
# record a request: the champion (the flights logistic regression on months 1–3) alone, then with
# a second version (trained on months 1–4) under the `shadow` alias, interleaved three times. The
# shadow scores the sampled requests in the inference log's background writes, so it shares the
# one thread with the answers; the run is repeated with every request sampled (the worst case).
#
# Usage: bench/shadow.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

echo "== building (bench-fast mlops and the handler benchmark)"
cargo build --quiet --profile bench-fast -p mlops -p predict --bins --benches
MLOPS_BIN=target/bench-fast/mlops
HANDLER_BENCH=$(realpath "$(ls -t target/bench-fast/deps/handler-* | grep -v '\.d$' | head -1)")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

only logistic_regression > "$WORK/flights.toml"
home() { $MLOPS_BIN --home "$WORK/home" "$@" > "$WORK/step.out" || { cat "$WORK/step.out"; exit 1; }; }
home spec put "$WORK/flights.toml"
home ingest --dataset flights "$DATA"/flights-2013-0{1,2,3}.csv
home train --dataset flights
home promote --model flights
home ingest --dataset flights "$DATA/flights-2013-04.csv"
home train --dataset flights
python3 -c 'import json; json.dump({"records": json.load(open("events/predict-body.json"))["records"][:1]}, open("'"$WORK"'/one.json", "w"))'

p50() {  # label: one handler run, its one-record line and its inference line
  local line kept
  (cd "$WORK" && "$HANDLER_BENCH" home flights one.json) > "$WORK/bench.out"
  line=$(grep '^one record' "$WORK/bench.out")
  kept=$(grep '^inference records' "$WORK/bench.out")
  printf '%-30s %s\n%-30s %s\n' "$1" "${line#*: }" "" "$kept"
}
for rate in 0.1 1; do
  echo
  echo "== INFERENCE_SAMPLE_RATE=$rate (SHADOW_SHARE=1: the shadow scores every sampled request)"
  export INFERENCE_SAMPLE_RATE=$rate
  for round in 1 2 3; do
    $MLOPS_BIN --home "$WORK/home" alias --model flights --name shadow --remove > /dev/null 2>&1 || true
    p50 "champion alone ($round)"
    home alias --model flights --name shadow --version 2
    p50 "with a shadow ($round)"
  done
done
