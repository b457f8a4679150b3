#!/usr/bin/env bash
# Benchmark: what hostile uploads cost `mlops ingest` (release build, embedded default): a gzip
# bomb (4.4 GB of zeroes in a few MB), a multi-member gzip of real rows, a CSV whose one cell is
# 200 MB, and a JSON Lines value nested 100,000 levels deep. Prints each one's wall time, peak
# memory (max RSS), verdict and report size. A figure, not a test: nothing here fails on a number.
#
# Usage: bench/hostile.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
# PROFILE=dev reuses the test build (dependencies optimised, the common crate less so) when a
# release build is not at hand: memory and verdicts are the same, times somewhat longer.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

PROFILE=${PROFILE:-release}
cargo build --quiet --profile "$PROFILE" -p mlops
BIN=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/mlops
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== making the files"
python3 - "$WORK" "$DATA/flights-2013-01.csv" <<'PY'
import gzip, sys, zlib
work, january = sys.argv[1], sys.argv[2]
# 4.4 GB of zeroes after a real header: one gzip member, about 4 MB.
header = open(january, "rb").readline()
with open(f"{work}/bomb.csv.gz", "wb") as out:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out.write(z.compress(header))
    block = b"0" * (1 << 20)
    for _ in range(4400):
        out.write(z.compress(block))
    out.write(z.flush())
# January's rows, gzipped once and the member repeated: 80 MB (under the 256 MB file limit) of
# gzip members that expand to 420 MB of real rows (over it).
member = gzip.compress(open(january, "rb").read(), 6)
with open(f"{work}/members.csv.gz", "wb") as out:
    out.write(member)
    rows = open(january, "rb").read().split(b"\n", 1)[1]
    body = gzip.compress(rows, 6)
    for _ in range(100):
        out.write(body)
# One row whose carrier is 200 MB.
lines = open(january, "rb").read().split(b"\n")
fields = lines[1].split(b",")
fields[9] = b"Q" * (200 << 20)
with open(f"{work}/big-cell.csv", "wb") as out:
    out.write(lines[0] + b"\n" + b",".join(fields) + b"\n")
# A JSON Lines value 100,000 levels deep.
with open(f"{work}/deep.jsonl", "wb") as out:
    out.write(b'{"year": 2013}\n{"year": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
PY
ls -l "$WORK"/*.gz "$WORK"/*.csv "$WORK"/*.jsonl | awk '{printf "  %-16s %12d bytes\n", $NF, $5}' | sed "s|$WORK/||"

echo "== ingesting each (mlops --jobs 1, $PROFILE build)"
printf '%-18s %9s %9s  %-14s %-24s %s\n' file seconds "peak MB" verdict rule "report bytes"
for file in bomb.csv.gz members.csv.gz big-cell.csv deep.jsonl; do
  rm -rf "$WORK/home"
  "$BIN" --home "$WORK/home" spec put infra/datasets/flights.toml > /dev/null
  /usr/bin/time -f '%e %M' -o "$WORK/time" \
    "$BIN" --home "$WORK/home" ingest --jobs 1 --dataset flights --json "$WORK/$file" > "$WORK/out" 2>/dev/null || true
  read -r secs kb < <(tail -1 "$WORK/time")
  status=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$WORK/out")
  report=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report"])' "$WORK/out")
  rule=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join(sorted({f["rule"] for f in d.get("failures", d.get("validation", {}).get("failures", []))})))' "$WORK/home/objects/$report")
  printf '%-18s %9.2f %9d  %-14s %-24s %d\n' "$file" "$secs" "$((kb / 1024))" "$status" "$rule" "$(stat -c %s "$WORK/home/objects/$report")"
done
