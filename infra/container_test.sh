#!/usr/bin/env bash
# The train container image as ECS would run it, against moto: builds the image
# (infra/container/build.sh, from the debug build), puts the flights spec and sample in a bucket
# and table on moto with `mlops --bucket --table`, makes the task's command from
# events/training-task-requested.json as the template's TrainTaskRule does (its input transformer),
# runs it in the container on the host's network, and checks that it registered version 1, that
# the registry lists it, and that a second run reports the same version instead of training again.
# Installs Docker (apt) and starts its daemon when they are missing, with host networking only;
# where Docker cannot run, says so and checks nothing. Run from the repository root after
# `source infra/moto.sh` with the workspace built.
set -euo pipefail
cd "$(dirname "$0")/.."

not_here() { echo "the container image was NOT checked: $1"; exit 0; }
if ! command -v dockerd >/dev/null && command -v apt-get >/dev/null; then
  echo "installing Docker (apt)"
  apt-get install -y -qq docker.io >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq docker.io >/dev/null 2>&1; } || true
fi
command -v docker >/dev/null || not_here "no docker command"
started_daemon=""
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || not_here "no Docker daemon, and none could be installed"
  daemon_log=$(mktemp)
  # No bridge, no iptables: the containers use the host's network, and traffic stays on loopback.
  dockerd --bridge=none --iptables=false --ip-masq=false >"$daemon_log" 2>&1 &
  started_daemon=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || not_here "Docker's daemon did not start: $(tail -3 "$daemon_log")"
fi
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  if [ -n "$started_daemon" ]; then kill "$started_daemon" 2>/dev/null; wait "$started_daemon" 2>/dev/null || true; fi
}
trap cleanup EXIT

PROFILE=dev infra/container/build.sh mlops-train:test
# Whether this machine's Docker can start a container at all (a sandbox may refuse the runtime):
# the task without its arguments must get as far as the binary's own refusal.
probe=$(docker run --rm --network host mlops-train:test --task 2>&1 || true)
case $probe in
  *"the container task takes: --task <dataset> <trigger>"*) ;;
  *) not_here "Docker cannot start a container here: $(tail -2 <<<"$probe")" ;;
esac

bucket=container-test-$RANDOM$RANDOM
table=container-test-registry-$RANDOM
"${MOTO_VENV:-.venv-aws}/bin/python" - "$bucket" "$table" <<'PY'
import sys, boto3
boto3.client("s3").create_bucket(Bucket=sys.argv[1])
boto3.client("dynamodb").create_table(
    TableName=sys.argv[2], BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
PY
mlops() { target/debug/mlops --bucket "$bucket" --table "$table" "$@"; }
# The flights spec placed in the container task, with its quick linear candidates only.
python3 - infra/datasets/flights.toml "$work/flights.toml" <<'PY'
import sys
text = open(sys.argv[1]).read()
trees = text.index('[[training.candidates]]\nmodel = "gradient_boosting"')
text = text[:trees] + text[text.index("[promotion]"):]
text = text.replace("[training]\n", '[training]\ncompute = "container"\n')
open(sys.argv[2], "w").write(text)
PY
mlops spec put "$work/flights.toml" >/dev/null
mlops ingest --dataset flights infra/datasets/flights-sample/*.csv.gz >/dev/null

# The command TrainTaskRule gives the task for the event: its input template filled with the
# event's values (as JSON), applied as the overrides of the container the task definition names.
mapfile -t command < <("${MOTO_VENV:-.venv-aws}/bin/python" - template.yaml events/training-task-requested.json <<'PY'
import json, re, sys
from samtranslator.yaml_helper import yaml_parse
resources = yaml_parse(open(sys.argv[1]).read())["Resources"]
event = json.load(open(sys.argv[2]))
target = resources["TrainTaskRule"]["Properties"]["Targets"][0]
transformer = target["InputTransformer"]
def value(path):
    node = event
    for part in path.removeprefix("$.").split("."):
        node = node[part]
    return json.dumps(node)
filled = re.sub(r"<([a-z_]+)>", lambda m: value(transformer["InputPathsMap"][m.group(1)]),
                transformer["InputTemplate"])
override = json.loads(filled)["containerOverrides"][0]
container = resources["TrainTaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Name"]
assert override["name"] == container, (override, container)
print("\n".join(override["command"]))
PY
)
echo "the rule's command for events/training-task-requested.json: ${command[*]}"
task() {
  docker run --rm --network host \
    -e BUCKET="$bucket" -e REGISTRY_TABLE="$table" -e EVENT_BUS=default -e RUST_LOG=warn \
    -e AWS_ENDPOINT_URL -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_REGION \
    -e AWS_EC2_METADATA_DISABLED=true \
    mlops-train:test "${command[@]}"
}
# The answer is the last line (the training's metrics, in CloudWatch's embedded format, come before it).
task | tail -1 >"$work/first.json"
task | tail -1 >"$work/second.json"
mlops models flights --json >"$work/versions.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
first = json.load(open(f"{work}/first.json"))
second = json.load(open(f"{work}/second.json"))
assert (first["status"], first["version"], first["trigger"]) == ("registered", 1, "schedule"), first
assert first["metrics"]["roc_auc"] > 0.6, first
assert (second["status"], second["version"]) == ("already_trained", 1), second
listed = [(v["version"], v["status"]) for v in json.load(open(f"{work}/versions.json"))["versions"]]
assert listed == [(1, "candidate")], listed
print(f"the container task registered flights version 1 (ROC AUC {first['metrics']['roc_auc']:.4f}), "
      f"which the registry lists as a candidate; run again, it reported {second['status']}")
PY
