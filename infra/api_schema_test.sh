#!/usr/bin/env bash
# schemathesis against the API as a user runs it: `mlops serve --admin` on a fresh demo home (a
# trained flights model and its champion), tested against the OpenAPI document it serves. Fails on
# any 5xx, a status code or body the document does not describe, or a request the document allows
# that the API refuses. Bounded: a fixed number of examples per operation and a fixed seed.
# Run from the repository root after `cargo build` (infra/test.sh does both); needs $MOTO_VENV/bin/st.
set -euo pipefail
cd "$(dirname "$0")/.."
MLOPS=${MLOPS:-target/debug/mlops}
ST=${ST:-${MOTO_VENV:-.venv-aws}/bin/st}
EXAMPLES=${EXAMPLES:-40}

work=$(mktemp -d)
server=
stop() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; }
  rm -rf "$work"
}
trap stop EXIT

"$MLOPS" demo --dir "$work/home" >"$work/demo.log"
# The admin routes with a token, as on a shared machine: the served document then requires it.
export MLOPS_ADMIN_TOKEN=schemathesis-$RANDOM$RANDOM
"$MLOPS" --home "$work/home" serve --admin --addr 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
  grep -q 'http://' "$work/serve.log" && break
  sleep 0.1
done
addr=$(grep -o 'http://[0-9.:]*' "$work/serve.log" | head -1)
[ -n "$addr" ] || { echo "mlops serve did not start:"; cat "$work/serve.log"; exit 1; }

"$ST" --config-file infra/schemathesis.toml run "$addr/openapi.json" \
  --max-examples "$EXAMPLES" --seed 20 --no-color --header 'content-type: application/json'
# The model's own document describes each record field by field: every request it allows must be
# scored (200), every one it forbids refused (4xx), so the signature and the API cannot drift apart.
"$ST" --config-file infra/schemathesis.toml run "$addr/models/flights/openapi.json" \
  --max-examples "$EXAMPLES" --seed 20 --no-color --header 'content-type: application/json'
kill -0 "$server" || { echo "mlops serve crashed:"; cat "$work/serve.log"; exit 1; }
echo "== mlops serve answered every case and is still up"
