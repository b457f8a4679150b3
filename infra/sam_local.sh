#!/usr/bin/env bash
# Every function's sample event through `sam local invoke`, as a SAM user runs them: the functions
# built by `sam build` for this machine's architecture, run in Lambda's base image against moto,
# in the order a first run needs (ingest, train, promote, predict, a second training, promote
# version 2, roll back, retire and restore a data version, drift, the admin API), each answer
# checked. Run from the repository root: ./infra/sam_local.sh (minutes for the release build).
#
# Needs Docker with its default bridge network: SAM publishes each container's port on it, and the
# containers reach moto through it (moto listens on the bridge's gateway, named
# host.docker.internal in the containers). And Lambda's base image, pulled from public.ecr.aws
# unless present. Where either is missing the script says so and stops, with status 0: nothing
# else needs it, and the same binaries and events are run under cargo-lambda's Lambda Runtime API
# emulator by the test command (tests/integration/lifecycle.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

not_here() {
  echo "== sam local: $*; not run"
  exit 0
}
command -v docker >/dev/null || not_here "no docker command"
docker info >/dev/null 2>&1 || not_here "Docker's daemon does not answer"
gateway=$(docker network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}' 2>/dev/null) ||
  not_here "Docker has no default bridge network (SAM publishes each function's port on it)"
case $(uname -m) in
  x86_64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) not_here "Lambda runs x86_64 and arm64, not $(uname -m)" ;;
esac
image=public.ecr.aws/lambda/provided:al2023-$arch
docker image inspect "$image" >/dev/null 2>&1 || docker pull -q "$image" >/dev/null ||
  not_here "Lambda's base image $image is not here and cannot be pulled"

# moto on the bridge's gateway: the containers reach it there, and so does this script.
MOTO_HOST=$gateway
# shellcheck source=infra/moto.sh
source infra/moto.sh
PY=$MOTO_VENV/bin/python
export PATH="$PWD/$MOTO_VENV/bin:$PATH" # cargo-lambda, for sam build's rust-cargolambda method

work=$(mktemp -d)
cleanup() {
  moto_stop
  rm -rf "$work"
}
trap cleanup EXIT

bucket=mlops-data-example # the bucket events/s3-put-flights.json names
table=mlops-local-registry
"$PY" - "$bucket" "$table" <<'EOF'
import sys, boto3
bucket, table = sys.argv[1:]
boto3.client("s3").create_bucket(Bucket=bucket)
boto3.client("dynamodb").create_table(
    TableName=table, BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
EOF
# events/env.local.json, with this moto's port; every record the predict function scores is kept.
"$PY" - "$MOTO_PORT" >"$work/env.json" <<'EOF'
import json, sys
env = json.load(open("events/env.local.json"))
env["Parameters"]["AWS_ENDPOINT_URL"] = f"http://host.docker.internal:{sys.argv[1]}"
env["PredictFunction"] = {"INFERENCE_SAMPLE_RATE": "1"}
print(json.dumps(env))
EOF

echo "== sam build (Architecture=$arch)"
sam build --parameter-overrides "Architecture=$arch" >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; exit 1; }
cargo build --locked --bin mlops
mlops() { target/debug/mlops --bucket "$bucket" --table "$table" "$@"; }
mlops spec put infra/datasets/flights.toml

# Invokes $1 with the event file $2 and checks its answer with the Python expression $3 (the
# answer is `a`, the API's body, when there is one, `body`).
invoke() {
  local function=$1 event=$2 check=$3
  sam local invoke "$function" -e "$event" --env-vars "$work/env.json" --shutdown \
    --add-host "host.docker.internal:$gateway" --parameter-overrides "Architecture=$arch" \
    --skip-pull-image >"$work/answer.json" 2>"$work/invoke.log" ||
    { cat "$work/invoke.log"; exit 1; }
  "$PY" - "$work/answer.json" "$check" <<'EOF' || { cat "$work/invoke.log"; exit 1; }
import json, sys
text = open(sys.argv[1]).read().strip().splitlines()[-1]
a = json.loads(text)
body = json.loads(a["body"]) if isinstance(a, dict) and isinstance(a.get("body"), str) else None
assert eval(sys.argv[2]), f"{sys.argv[2]} does not hold for {text[:2000]}"
EOF
  echo "== $function $(basename "$event"): ok"
}

# An S3 event for another upload, as events/s3-put-flights.json is for January's.
s3_event() {
  "$PY" - "$1" >"$work/s3-put.json" <<'EOF'
import json, sys
event = json.load(open("events/s3-put-flights.json"))
event["Records"][0]["s3"]["object"]["key"] = sys.argv[1]
print(json.dumps(event))
EOF
}

sample=infra/datasets/flights-sample
"$PY" -c "import boto3,sys; boto3.client('s3').upload_file(sys.argv[1], sys.argv[2], sys.argv[3])" \
  "$sample/flights-2013-01.csv.gz" "$bucket" raw/flights/flights-2013-01.csv.gz
invoke IngestFunction events/s3-put-flights.json 'a["results"][0]["status"] == "accepted"'
invoke TrainFunction events/train-on-demand.json 'a["version"] == 1'
invoke PromoteFunction events/model-trained.json 'a["champion"] == 1'
invoke PredictFunction events/api-predict.json 'a["statusCode"] == 200 and len(body["predictions"]) == 2'
invoke PredictFunction events/api-model-schema.json 'a["statusCode"] == 200 and body["version"] == 1'
invoke PredictFunction events/api-model-openapi.json 'a["statusCode"] == 200 and "/models/flights/predict" in body["paths"]'
invoke PredictFunction events/api-health.json 'a["statusCode"] == 200'

"$PY" -c "import boto3,sys; boto3.client('s3').upload_file(sys.argv[1], sys.argv[2], sys.argv[3])" \
  "$sample/flights-2013-02.csv.gz" "$bucket" raw/flights/flights-2013-02.csv.gz
s3_event raw/flights/flights-2013-02.csv.gz
invoke IngestFunction "$work/s3-put.json" 'a["results"][0]["status"] == "accepted"'
invoke TrainFunction events/train-on-demand.json 'a["version"] == 2'
invoke PromoteFunction events/promote-manual.json 'a["applied"] and a["champion"] == 2'
invoke PromoteFunction events/rollback.json 'a["applied"] and a["champion"] == 1'
invoke PromoteFunction events/retire-data.json 'a["applied"]'
invoke PromoteFunction events/restore-data.json 'a["applied"]'

# The drift verdict needs the spec's drift.min_rows (200) inference records: a batch of July.
"$PY" - "$sample/flights-2013-07.csv.gz" >"$work/predict-july.json" <<'EOF'
import csv, gzip, json, sys
event = json.load(open("events/api-predict.json"))
rows = list(csv.DictReader(gzip.open(sys.argv[1], "rt")))[:300]
def typed(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v or None
event["body"] = json.dumps({"records": [{k: typed(v) for k, v in r.items()} for r in rows]})
print(json.dumps(event))
EOF
invoke PredictFunction "$work/predict-july.json" 'a["statusCode"] == 200 and len(body["predictions"]) == 300'
invoke DriftFunction events/drift-on-demand.json '"verdict" in a and a["report_key"]'
invoke AdminApiFunction events/api-promote.json 'a["statusCode"] == 200'
echo "== every event answered under sam local invoke"
