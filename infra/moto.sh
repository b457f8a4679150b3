# Sourced by infra/test.sh and the benchmarks: installs the local AWS-compatible server (moto), the
# template's linters (cfn-lint, the SAM CLI), cargo-lambda (its Lambda Runtime API emulator runs
# the built functions in the life-cycle test) and schemathesis (it tests the API against its
# OpenAPI document) into .venv-aws if needed, starts moto on a free loopback port (infra/moto_server.py),
# points the AWS SDKs at it, and stops it when the calling script exits (a script that sets its own
# EXIT trap calls moto_stop in it).
# Run from the repository root. After it: MOTO_VENV and the AWS_* variables are set.

MOTO_VENV=.venv-aws
if [ ! -x "$MOTO_VENV/bin/moto_server" ] || [ ! -x "$MOTO_VENV/bin/cfn-lint" ] || [ ! -x "$MOTO_VENV/bin/sam" ] \
   || [ ! -x "$MOTO_VENV/bin/cargo-lambda" ] || [ ! -x "$MOTO_VENV/bin/st" ]; then
  echo "== installing moto, cfn-lint, the SAM CLI, cargo-lambda and schemathesis into $MOTO_VENV"
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5' 'cfn-lint>=1' \
    'aws-sam-cli>=1.150' 'cargo-lambda>=1.9' 'schemathesis>=4.3,<5'
fi

# Loopback, unless the caller needs another address (infra/sam_local.sh: Docker's bridge gateway).
MOTO_HOST=${MOTO_HOST:-127.0.0.1}
MOTO_PORT=$("$MOTO_VENV/bin/python" -c "import socket;s=socket.socket();s.bind(('$MOTO_HOST',0));print(s.getsockname()[1])")
MOTO_LOG=$(mktemp -t moto.XXXXXX.log)
# moto's server, with requests applied one at a time as DynamoDB's atomicity requires (see the script).
"$MOTO_VENV/bin/python" infra/moto_server.py "$MOTO_HOST" "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
moto_stop() {
  kill "$MOTO_PID" 2>/dev/null; wait "$MOTO_PID" 2>/dev/null || true; rm -f "$MOTO_LOG"
}
trap moto_stop EXIT
for _ in $(seq 150); do
  curl -fs -o /dev/null "http://$MOTO_HOST:$MOTO_PORT/moto-api/" && break
  sleep 0.1
done
curl -fs -o /dev/null "http://$MOTO_HOST:$MOTO_PORT/moto-api/" || { echo "moto did not start:"; cat "$MOTO_LOG"; exit 1; }
echo "== moto listening on $MOTO_HOST:$MOTO_PORT"

export AWS_ENDPOINT_URL="http://$MOTO_HOST:$MOTO_PORT" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
       AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
