#!/usr/bin/env bash
# Benchmark: the predict function on the flights logistic regression (trained on months 1–3 of the
# full data), beside the Python peer (bench/predict_peer.py: scikit-learn served by FastAPI +
# uvicorn), in one run:
#   cold start   the release Lambda binary under a local Runtime API (bench/lambda_runtime.py),
#                process start to first response, loading the champion from S3 on moto; the peer:
#                a fresh Python process to its first prediction from S3 on moto;
#   warm         the router with no network: one-record latency percentiles, 10,000-record batches
#                (functions/predict/benches/handler.rs);
#   HTTP         `mlops serve` and the peer on loopback, wrk with 8 connections, one record a request;
#   size         the release predict binary, stripped and zipped as Lambda takes it.
#
# Usage: bench/predict.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")
command -v wrk > /dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

echo "== building (release predict, bench-fast mlops and the handler benchmark)"
cargo build --quiet --release -p predict
cargo build --quiet --profile bench-fast -p mlops -p predict --bins --benches
MLOPS_BIN=target/bench-fast/mlops
HANDLER_BENCH=$(realpath "$(ls -t target/bench-fast/deps/handler-* | grep -v '\.d$' | head -1)")
peer_venv "sklearn fastapi uvicorn boto3 joblib" pandas scikit-learn fastapi uvicorn boto3 joblib
source infra/moto.sh
WORK=$(mktemp -d)
SERVERS=()
trap 'kill "${SERVERS[@]}" 2>/dev/null || true; moto_stop; rm -rf "$WORK"' EXIT

MONTHS=("$DATA"/flights-2013-0{1,2,3}.csv)
BUCKET=mlops-bench
TABLE=mlops-bench-registry
make_bucket_and_table

echo "== the flights logistic regression on months 1–3: mlops (in S3 on moto and in a local home) and the peer"
only logistic_regression > "$WORK/flights.toml"
for target in "--bucket $BUCKET --table $TABLE" "--home $WORK/home"; do
  # shellcheck disable=SC2086  # the target is two flags
  for step in "spec put $WORK/flights.toml" "ingest --dataset flights --json ${MONTHS[*]}" \
              "train --dataset flights --json" "promote --model flights --json"; do
    $MLOPS_BIN $target $step > "$WORK/step.out" || { cat "$WORK/step.out"; exit 1; }
  done
done
$MLOPS_BIN --home "$WORK/home" models flights | head -3
bench/.venv/bin/python bench/predict_peer.py train "$BUCKET" "${MONTHS[@]}"

# Request bodies: one record (the example event's first), and 10,000 records of March (the model's
# own period) and of July (outside its training ranges: every record gets warnings).
bench/.venv/bin/python - "$DATA" "$WORK" <<'PY'
import json, sys
import pandas as pd
features = ["month", "sched_dep_time", "sched_arr_time", "carrier", "origin", "dest", "distance", "hour",
            "time_hour", "temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]
data, work = sys.argv[1:]
one = json.load(open("events/predict-body.json"))["records"][:1]
json.dump({"records": one}, open(f"{work}/one.json", "w"))
for month, name in (("03", "march"), ("07", "july")):
    rows = pd.read_csv(f"{data}/flights-2013-{month}.csv", usecols=features)[features].tail(10_000)
    records = json.loads(rows.to_json(orient="records"))
    json.dump({"records": records}, open(f"{work}/{name}.json", "w"))
PY
python3 - "$WORK/one.json" "$WORK/predict-event.json" <<'PY'
import json, sys
event = json.load(open("events/api-predict.json"))
event["body"] = open(sys.argv[1]).read()
event["isBase64Encoded"] = False
json.dump(event, open(sys.argv[2], "w"))
PY

echo
echo "== cold start: process start to the first prediction, model from S3 on moto"
BUCKET=$BUCKET REGISTRY_TABLE=$TABLE bench/.venv/bin/python bench/lambda_runtime.py \
  target/release/predict "$WORK/predict-event.json" --cold 10 --warm 2000
bench/.venv/bin/python - "$BUCKET" "$WORK/one.json" <<'PY'
import statistics, subprocess, sys, time
runs = []
for _ in range(5):
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "bench/predict_peer.py", "first", *sys.argv[1:]],
                         capture_output=True, text=True, check=True).stdout.split()
    runs.append((time.perf_counter() - began, float(out[1])))
print(f"peer: python process start to first predict_proba (5 fresh processes): "
      f"median {statistics.median(r[0] for r in runs) * 1000:.0f} ms; peak memory {max(r[1] for r in runs):.0f} MB")
PY

echo
echo "== warm: the predict router with no network (the Lambda's single-threaded runtime)"
(cd "$WORK" && "$HANDLER_BENCH" home flights one.json march.json july.json)
bench/.venv/bin/python bench/predict_peer.py warm "$BUCKET" "$WORK/one.json" "$WORK/march.json"

echo
echo "== HTTP on loopback: wrk, 2 threads, 8 connections, 15 s, one record a request"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$WORK/one.json"):read("*a")
LUA
load() {  # label, port, pid
  for _ in $(seq 100); do curl -fs -o /dev/null -X POST -H 'content-type: application/json' \
    --data @"$WORK/one.json" "http://127.0.0.1:$2/models/flights/predict" && break; sleep 0.2; done
  wrk -t2 -c8 -d15s --latency -s "$WORK/post.lua" "http://127.0.0.1:$2/models/flights/predict" > "$WORK/wrk.out"
  local rps p50 p99 errors peak
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  p50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.out")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$WORK/wrk.out")
  peak=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$3/status")
  printf '%-34s %9.0f requests/s  p50 %8s  p99 %8s  server peak %6s MB %s\n' "$1" "$rps" "$p50" "$p99" "$peak" "$errors"
}
PORT=$(free_port)
INFERENCE_SAMPLE_RATE=0.1 $MLOPS_BIN --home "$WORK/home" serve --addr "127.0.0.1:$PORT" > /dev/null &
SERVERS+=($!)
load "mlops serve" "$PORT" "${SERVERS[-1]}"
PORT=$(free_port)
bench/.venv/bin/python bench/predict_peer.py serve "$BUCKET" "$PORT" > /dev/null 2>&1 &
SERVERS+=($!)
load "FastAPI + uvicorn + scikit-learn" "$PORT" "${SERVERS[-1]}"

echo
echo "== size of the release predict binary (x86_64 here; the template builds arm64)"
(cd target/release && rm -f "$WORK/predict.zip" && cp predict "$WORK/bootstrap" && cd "$WORK" && zip -q -9 predict.zip bootstrap)
printf 'predict binary %.1f MB, zipped %.1f MB\n' "$(stat -c %s target/release/predict | awk '{print $1 / 1048576}')" \
  "$(stat -c %s "$WORK/predict.zip" | awk '{print $1 / 1048576}')"
