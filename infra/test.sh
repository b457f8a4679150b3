#!/usr/bin/env bash
# Runs every test: installs and starts the local AWS-compatible server (infra/moto.sh), runs the
# Rust test suites against it, lints the SAM template, and always stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/moto.sh

echo "== cargo test"
cargo test --workspace --locked

echo "== cfn-lint template.yaml"
"$MOTO_VENV/bin/cfn-lint" template.yaml
echo "== all tests passed"
