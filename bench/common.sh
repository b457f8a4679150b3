# Sourced by the benchmark scripts (run from the repository root).

# The flights data folder (the first argument of a benchmark, default ../shared/data/flights).
flights_data() {
  local data=${1:-../shared/data/flights}
  [ -f "$data/flights-2013-01.csv" ] || { echo "no flights data in $data" >&2; exit 1; }
  echo "$data"
}

# The Python peers' virtualenv, bench/.venv, with the modules named in $1 (space-separated import
# names) importable; installs the pip packages given after it when any is missing.
peer_venv() {
  local modules=$1; shift
  if ! bench/.venv/bin/python -c "import ${modules// /, }" 2>/dev/null; then
    [ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
    bench/.venv/bin/pip install --quiet --disable-pip-version-check "$@"
  fi
}

# The bundled flights spec keeping only the named training candidate, on stdout.
only() {
  python3 - infra/datasets/flights.toml "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.split(r"(?=\[\[training\.candidates\]\])", text.split("[promotion]")[0])
kept = [b for b in blocks[1:] if f'model = "{sys.argv[2]}"' in b]
print(blocks[0] + "".join(kept) + "[promotion]" + text.split("[promotion]")[1])
PY
}

# timed <label> <command...>: runs the command (output to $WORK/out) and prints its wall time and
# peak memory. A refusal (exit status 1) is a result too.
timed() {
  local label=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > "$WORK/out" || true
  read -r secs kb < <(tail -1 "$WORK/time")  # after "Command exited with non-zero status" on a refusal
  printf '%-58s %7.2f s  peak %5.0f MB\n' "$label" "$secs" "$((kb / 1024))"
}

# A bucket and a registry table (the template's keys) on the local server, named $BUCKET and $TABLE.
make_bucket_and_table() {
  bench/.venv/bin/python - "$BUCKET" "$TABLE" <<'PY'
import sys, boto3
boto3.client("s3").create_bucket(Bucket=sys.argv[1])
boto3.client("dynamodb").create_table(
    TableName=sys.argv[2], BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
PY
}
