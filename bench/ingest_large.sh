#!/usr/bin/env bash
# Benchmark: ingesting a file larger than a Lambda's memory (issue 25, part 1). The flights year is
# repeated into one CSV of about 5 GB (34 million rows), each copy under its own year (2000, 2001,
# …) so that the spec's unique key still holds; `mlops ingest` (embedded default) reads it a batch
# at a time. Prints the time, rows/s and peak memory (max RSS), and the same for a 1 GB file, where
# the build given as BEFORE (a binary that holds the whole file, such as the previous release) runs
# beside it.
#
# Usage: [BEFORE=path/to/old/mlops] [BIN=path/to/mlops] bench/ingest_large.sh [GB, default 5] [folder with flights-2013-MM.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
GB=${1:-5}
DATA=$(flights_data "${2:-}")

# BIN=path measures a given build instead of building this checkout.
if [ -z "${BIN:-}" ]; then
  cargo build --quiet --profile bench-fast -p mlops
  BIN=target/bench-fast/mlops
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The bundled spec, its file-size limit raised past the file's.
sed 's/^max_file_bytes = .*/max_file_bytes = 17179869184/' infra/datasets/flights.toml > "$WORK/flights.toml"

# <file> <GB>: the year, repeated under years 2000, 2001, … until the file holds that many GB.
generate() {
  python3 - "$DATA" "$1" "$2" <<'PY'
import glob, sys
data, out, gb = sys.argv[1], sys.argv[2], float(sys.argv[3])
files = sorted(glob.glob(f"{data}/flights-2013-*.csv"))
header = open(files[0], "rb").readline()
year = b"".join(open(f, "rb").read().split(b"\n", 1)[1] for f in files)
assert year.startswith(b"2013,") and year.endswith(b"\n")
with open(out, "wb") as f:
    f.write(header)
    copy = 0
    while f.tell() < gb * 1e9:
        f.write(year.replace(b"\n2013,", b"\n%d," % (2000 + copy)).replace(b"2013,", b"%d," % (2000 + copy), 1))
        copy += 1
PY
}

# <label> <binary> <file>: one ingest on a fresh home; prints its figures.
run() {
  local label=$1 bin=$2 file=$3
  rm -rf "$WORK/home"
  "$bin" --home "$WORK/home" spec put "$WORK/flights.toml" > /dev/null
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$bin" --home "$WORK/home" ingest --jobs 1 --dataset flights --json "$file" > "$WORK/out" 2>/dev/null
  grep -q '"status":"accepted"' "$WORK/out" || { echo "$label: not accepted:"; head -c 2000 "$WORK/out"; exit 1; }
  local rows secs kb
  rows=$(grep -o '"rows":[0-9]*' "$WORK/out" | head -1 | cut -d: -f2)
  read -r secs kb < "$WORK/time"
  printf '%-34s %6.2f GB %11d rows %8.1f s %11.0f rows/s  peak %6.0f MB\n' "$label" \
    "$(echo "$(stat -c %s "$file") / 1000000000" | bc -l)" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)" "$((kb / 1024))"
}

generate "$WORK/one.csv" 1
[ -n "${BEFORE:-}" ] && run "before (whole file), 1 GB" "$BEFORE" "$WORK/one.csv"
run "batches, 1 GB" "$BIN" "$WORK/one.csv"
[ -n "${BEFORE:-}" ] && run "before (whole file), 1 GB, again" "$BEFORE" "$WORK/one.csv"
run "batches, 1 GB, again" "$BIN" "$WORK/one.csv"
rm "$WORK/one.csv"
generate "$WORK/large.csv" "$GB"
run "batches, $GB GB" "$BIN" "$WORK/large.csv"
