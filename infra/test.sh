#!/usr/bin/env bash
# Runs every test: installs and starts the local AWS-compatible server (infra/moto.sh), builds the
# function binaries, runs the Rust test suites against the server (the life-cycle test runs the
# binaries under cargo-lambda's Runtime API emulator), runs schemathesis against `mlops serve`,
# opens the demos' HTML reports in headless Chromium (infra/report_layout_test.sh), runs the train
# container image against the server (infra/container_test.sh, installing Docker), lints the SAM
# template (cfn-lint, sam validate), checks its API authorisation and its alarms, and always stops
# the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/moto.sh

echo "== cargo build (the function binaries, for the life-cycle test under the Runtime API emulator)"
cargo build --workspace --bins --locked

echo "== cargo test"
cargo test --workspace --locked

echo "== schemathesis: mlops serve --admin on the demo's models, against the OpenAPI document it serves"
infra/api_schema_test.sh

echo "== the demos' HTML reports in headless Chromium: none wider than a 1,280-pixel window"
infra/report_layout_test.sh

echo "== the train container image: built from the workspace, run as the container task against moto"
infra/container_test.sh

echo "== cfn-lint template.yaml"
"$MOTO_VENV/bin/cfn-lint" template.yaml

echo "== sam validate --lint (offline: the SAM transform and cfn-lint, no AWS call)"
SAM_CLI_TELEMETRY=0 "$MOTO_VENV/bin/sam" validate --lint --region us-east-1 --template-file template.yaml

echo "== who may call each API route, with and without the optional JWT authoriser (the SAM transform, offline)"
"$MOTO_VENV/bin/python" infra/api_auth_test.py template.yaml

echo "== every alarm acts on a topic and watches a metric the code publishes"
"$MOTO_VENV/bin/python" infra/alarms_test.py template.yaml
echo "== all tests passed"
