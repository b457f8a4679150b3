#!/usr/bin/env bash
# Benchmark: free text as a feature, on the Amazon fine-food reviews (../shared/data/reviews):
# the bundled reviews spec (TF-IDF of words and word pairs, logistic regression) beside the
# scikit-learn peer (bench/text_peer.py: the same vectorizer and C), in one run:
#   train     `mlops train` from the curated version to the registered model (median of three
#             fresh homes), and the peer's read-to-fitted time;
#   quality   both scored on reviews-test.csv (ROC AUC, F1);
#   serving   the predict router with no network (functions/predict/benches/handler.rs): one
#             review's latency percentiles, a batch of 1,000 reviews; the peer's predict_proba;
#   size      the artifact beside the peer's pickle, and the release predict binary;
#   cold start the release predict binary under a local Runtime API (bench/lambda_runtime.py),
#             its first answer from a reviews model and from a flights model, S3 on moto.
# With BASELINE_PREDICT and BASELINE_MLOPS (binaries built before text features) it also measures
# that predict binary's size and its cold start on a flights model its mlops trained, in turns
# with this one's.
#
# Usage: bench/text.sh [reviews folder]   (default: ../shared/data/reviews)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=${1:-../shared/data/reviews}
[ -f "$DATA/reviews-train.csv" ] || { echo "no reviews data in $DATA" >&2; exit 1; }

echo "== building (release predict, bench-fast mlops and the handler benchmark)"
cargo build --quiet --release -p predict
cargo build --quiet --profile bench-fast -p mlops -p predict --bins --benches
MLOPS_BIN=target/bench-fast/mlops
HANDLER_BENCH=$(realpath "$(ls -t target/bench-fast/deps/handler-* | grep -v '\.d$' | head -1)")
peer_venv "sklearn pandas boto3" pandas scikit-learn boto3
source infra/moto.sh
WORK=$(mktemp -d)
trap 'moto_stop; rm -rf "$WORK"' EXIT

echo
echo "== train: mlops train on reviews-train.csv (4,000 reviews), curated version to registered model"
for run in 1 2 3; do
  home="$WORK/home$run"
  $MLOPS_BIN --home "$home" spec put infra/datasets/reviews.toml > /dev/null
  $MLOPS_BIN --home "$home" ingest --dataset reviews "$DATA/reviews-train.csv" > /dev/null
  timed "mlops train, run $run" $MLOPS_BIN --home "$home" train --dataset reviews --json
done
HOME_DIR="$WORK/home1"
$MLOPS_BIN --home "$HOME_DIR" promote --model reviews > /dev/null
$MLOPS_BIN --home "$HOME_DIR" models reviews | head -3
$MLOPS_BIN --home "$HOME_DIR" predict --model reviews --json "$DATA/reviews-test.csv" > "$WORK/ours.json"
printf 'mlops artifact %.2f MB\n' "$(stat -c %s "$HOME_DIR/objects/models/reviews/1/model.bin" | awk '{print $1 / 1e6}')"
bench/.venv/bin/python bench/text_peer.py "$DATA" "$WORK/ours.json" "$WORK"

echo
echo "== serving: the predict router with no network (the Lambda's single-threaded runtime)"
bench/.venv/bin/python - "$DATA" "$WORK" <<'PY'
import json, sys
import pandas as pd
data, work = sys.argv[1:]
test = pd.read_csv(f"{data}/reviews-test.csv")
records = [{"review": r} for r in test["review"]]
# The one review is one of median length (the file's first is among its shortest).
median = sorted(records, key=lambda r: len(r["review"]))[len(records) // 2]
json.dump({"records": [median]}, open(f"{work}/one.json", "w"))
json.dump({"records": records[:1000]}, open(f"{work}/thousand.json", "w"))
PY
(cd "$WORK" && "$HANDLER_BENCH" home1 reviews one.json thousand.json)

echo
echo "== cold start: process start to the first answer, the model from S3 on moto"
BUCKET=mlops-bench
TABLE=mlops-bench-registry
make_bucket_and_table
only logistic_regression > "$WORK/flights.toml"
aws_steps() {  # mlops binary, spec, dataset, files...
  local bin=$1 spec=$2 dataset=$3; shift 3
  for step in "spec put $spec" "ingest --dataset $dataset $*" "train --dataset $dataset" "promote --model $dataset"; do
    # shellcheck disable=SC2086  # each step is several words
    $bin --bucket $BUCKET --table $TABLE $step > "$WORK/step.out" || { cat "$WORK/step.out"; exit 1; }
  done
}
# The flights model is trained by this mlops and, when there is a baseline, by the baseline's too
# (in its own bucket and table), so that the baseline binary reads a model of its own format.
aws_steps "$MLOPS_BIN" "$WORK/flights.toml" flights infra/datasets/flights-sample/flights-2013-0{1,2,3}.csv.gz
aws_steps "$MLOPS_BIN" infra/datasets/reviews.toml reviews "$DATA/reviews-train.csv"
if [ -n "${BASELINE_PREDICT:-}" ]; then
  BUCKET=$BUCKET-baseline TABLE=$TABLE-baseline
  make_bucket_and_table
  aws_steps "${BASELINE_MLOPS:?set BASELINE_MLOPS to the mlops of the baseline}" "$WORK/flights.toml" flights infra/datasets/flights-sample/flights-2013-0{1,2,3}.csv.gz
  BUCKET=mlops-bench TABLE=mlops-bench-registry
fi
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
event = json.load(open("events/api-predict.json"))
event["isBase64Encoded"] = False
json.dump(event, open(f"{work}/flights-event.json", "w"))
for key in ("rawPath",):
    event[key] = "/models/reviews/predict"
event["requestContext"]["http"]["path"] = "/models/reviews/predict"
event["pathParameters"] = {"model": "reviews"}
event["body"] = open(f"{work}/one.json").read()
json.dump(event, open(f"{work}/reviews-event.json", "w"))
PY
cold() {  # label, binary, event, bucket, table
  printf '%-52s ' "$1"
  BUCKET=$4 REGISTRY_TABLE=$5 bench/.venv/bin/python bench/lambda_runtime.py "$2" "$3" --cold 10 --warm 20 \
    | grep '^cold start' | sed 's/cold start, process start to first response (10 fresh processes): //'
}
# Rounds taking turns, so that the machine's drift in speed falls on every binary alike.
for round in 1 2 3; do
  cold "round $round: this predict binary, reviews model" target/release/predict "$WORK/reviews-event.json" $BUCKET $TABLE
  cold "round $round: this predict binary, flights model" target/release/predict "$WORK/flights-event.json" $BUCKET $TABLE
  if [ -n "${BASELINE_PREDICT:-}" ]; then
    cold "round $round: baseline predict binary, its flights model" "$BASELINE_PREDICT" "$WORK/flights-event.json" $BUCKET-baseline $TABLE-baseline
  fi
done

echo
echo "== size of the release predict binary (x86_64 here; the template builds arm64)"
for binary in target/release/predict ${BASELINE_PREDICT:-}; do
  printf '%-40s %.2f MB\n' "$binary" "$(stat -c %s "$binary" | awk '{print $1 / 1048576}')"
done
