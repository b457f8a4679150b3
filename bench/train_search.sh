#!/usr/bin/env bash
# Benchmark: a wide search fanned out over Lambda invocations. The flights year and the bundled
# spec with twelve candidates (four logistic regressions, eight tree ensembles), trained three
# ways on moto, each from its own bucket and table holding the same curated data:
#   1. `mlops train`: the three steps in one process, the parts prepared once;
#   2. the steps invoked one after another on one train function process under cargo-lambda's
#      emulator: each step's time (a fit step prepares the parts again, for its one candidate);
#   3. the train-search state machine run by moto's ASL interpreter, its Map state invoking
#      WORKERS train function processes (default 2, this machine's cores).
# Prints the wall times, each step's time, the function processes' peak memory, and what the
# search takes when every candidate has its own invocation, as on AWS: plan + slowest fit + finish.
#
# Usage: [WORKERS=2] bench/train_search.sh [folder with flights-2013-MM.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")
WORKERS=${WORKERS:-2}

echo "== building (bench-fast mlops and train)"
cargo build --quiet --profile bench-fast -p mlops -p train
MLOPS=$PWD/target/bench-fast/mlops
TRAIN=$PWD/target/bench-fast/train
peer_venv "boto3" boto3
source infra/moto.sh > /dev/null
WORK=$(mktemp -d)
cleanup() {
  pkill -f "^$TRAIN$" 2>/dev/null || true
  [ -n "${EMULATOR:-}" ] && kill "$EMULATOR" 2>/dev/null
  wait 2>/dev/null || true
  moto_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

python3 - infra/datasets/flights.toml > "$WORK/flights.toml" <<'PY'
import sys
text = open(sys.argv[1]).read()
head, promotion = text.split("[[training.candidates]]")[0], text.split("[promotion]")[1]
print(head + """[[training.candidates]]
model = "logistic_regression"
search = { c = [0.01, 0.1, 1.0, 10.0] }

[[training.candidates]]
model = "gradient_boosting"
search = { num_leaves = [15, 31], min_leaf_rows = [20, 100], learning_rate = [0.05, 0.1], rounds = [500] }

[promotion]""" + promotion)
PY

# Three buckets and tables with the same spec and curated data.
for side in one steps machine; do
  export BUCKET=mlops-bench-$side TABLE=mlops-bench-$side
  make_bucket_and_table
  "$MLOPS" --bucket "$BUCKET" --table "$TABLE" spec put "$WORK/flights.toml" > /dev/null
  "$MLOPS" --bucket "$BUCKET" --table "$TABLE" ingest --dataset flights --json "$DATA"/flights-2013-*.csv > /dev/null
done
echo "== the flights year ingested three times; 12 candidates"

timed "1. mlops train: one process" "$MLOPS" --bucket mlops-bench-one --table mlops-bench-one train --dataset flights --json
cp "$WORK/out" "$WORK/one.json"

# The function processes, polling cargo-lambda's emulator; moto sends Lambda Invoke there.
PORT=$("$MOTO_VENV/bin/python" -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
"$MOTO_VENV/bin/cargo-lambda" lambda watch --only-lambda-apis --timeout 900 -A 127.0.0.1 -P "$PORT" \
  > "$WORK/emulator.log" 2>&1 &
EMULATOR=$!
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.2; done
curl -fs -X POST -d "http://127.0.0.1:$PORT" "$AWS_ENDPOINT_URL/_mlops/lambda-emulator"
# workers <bucket> <count>: that many train function processes on that bucket and table.
workers() {
  for i in $(seq "$2"); do
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt/train" AWS_LAMBDA_FUNCTION_NAME=train \
      AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3584 \
      BUCKET="$1" REGISTRY_TABLE="$1" EVENT_BUS=default \
      /usr/bin/time -f '%M' -o "$WORK/$1-$i.rss" "$TRAIN" > "$WORK/$1-$i.log" 2>&1 &
  done
}
# stop_workers <bucket>: the highest peak memory of its processes, in MB.
stop_workers() {
  pkill -TERM -f "^$TRAIN\$" || true
  sleep 1
  cat "$WORK/$1"-*.rss | grep -E '^[0-9]+$' | sort -n | tail -1 | awk '{printf "%.0f", $1 / 1024}'
}

workers mlops-bench-steps 1
"$MOTO_VENV/bin/python" - "$PORT" > "$WORK/steps.txt" <<'PY'
import json, sys, time, urllib.request
port = sys.argv[1]
def invoke(event):
    started = time.monotonic()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/2015-03-31/functions/train/invocations",
                                     data=json.dumps(event).encode(), method="POST")
    answer = json.load(urllib.request.urlopen(request, timeout=900))
    return answer, time.monotonic() - started
planned, plan_s = invoke({"step": "plan", "dataset": "flights", "trigger": "bench"})
fits = [invoke({"step": "fit", "plan": planned["plan"], "candidate": i}) for i in planned["candidates"]]
finished, finish_s = invoke({"step": "finish", "plan": planned["plan"]})
assert finished["status"] == "registered", finished
print(f"   plan {plan_s:.2f} s; finish {finish_s:.2f} s (loads and prepares the data, judges, writes, registers)")
for answer, secs in fits:
    print(f"   fit step {secs:6.2f} s, of which fitting {answer['fit_seconds']:6.2f} s: {answer['description']}")
total = plan_s + sum(s for _, s in fits) + finish_s
slowest = max(s for _, s in fits)
prepare = sum(s - a["fit_seconds"] for a, s in fits) / len(fits)
print(f"   one after another {total:.1f} s; a fit step's own preparation (fetch, label, split, encode) {prepare:.2f} s on average")
print(f"   every candidate in its own invocation: plan + slowest fit + finish = {plan_s + slowest + finish_s:.1f} s")
PY
echo "== 2. the steps one after another on one function process (peak $(stop_workers mlops-bench-steps) MB)"
cat "$WORK/steps.txt"

workers mlops-bench-machine "$WORKERS"
"$MOTO_VENV/bin/python" - infra/statemachine/train-search.asl.json > "$WORK/machine.txt" <<'PY'
import json, sys, time, boto3
sfn = boto3.client("stepfunctions")
definition = open(sys.argv[1]).read().replace(
    "${TrainFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:train")
machine = sfn.create_state_machine(name="train-search", definition=definition,
                                   roleArn="arn:aws:iam::123456789012:role/train-search")["stateMachineArn"]
started = time.monotonic()
execution = sfn.start_execution(stateMachineArn=machine, name="bench",
                                input=json.dumps({"dataset": "flights", "trigger": "bench"}))["executionArn"]
while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
    time.sleep(0.1)
wall = time.monotonic() - started
assert described["status"] == "SUCCEEDED", described
output = json.loads(described["output"])
print(f"   {wall:.1f} s, {output['status']} version {output['version']}")
print(json.dumps(output["metrics"]))
PY
echo "== 3. the state machine on $WORKERS function processes (peak $(stop_workers mlops-bench-machine) MB each at most)"
head -1 "$WORK/machine.txt"
python3 - "$WORK/one.json" "$WORK/machine.txt" <<'PY'
import json, sys
one = json.load(open(sys.argv[1]))["metrics"]
machine = json.loads(open(sys.argv[2]).read().splitlines()[1])
same = "the same" if one == machine else "NOT the same"
print(f"== the state machine's model has {same} test metrics as mlops train's (ROC AUC {one['roc_auc']:.4f})")
PY
