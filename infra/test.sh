#!/usr/bin/env bash
# Runs every test: installs the local AWS-compatible server (moto) and cfn-lint into .venv-aws if
# needed, starts moto on a free loopback port (infra/moto_server.py), runs the Rust test suites
# against it, lints the SAM template, and always stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-aws
if [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/cfn-lint" ]; then
  echo "== installing moto and cfn-lint into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5' 'cfn-lint>=1'
fi

PORT=$("$VENV/bin/python" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
LOG=$(mktemp -t moto.XXXXXX.log)
# moto's server, with requests applied one at a time as DynamoDB's atomicity requires (see the script).
"$VENV/bin/python" infra/moto_server.py 127.0.0.1 "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 150); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/moto-api/" && break
  sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/moto-api/" || { echo "moto did not start:"; cat "$LOG"; exit 1; }
echo "== moto listening on 127.0.0.1:$PORT"

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
       AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

echo "== cargo test"
cargo test --workspace --locked

echo "== cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml
echo "== all tests passed"
