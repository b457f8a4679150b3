#!/usr/bin/env bash
# Benchmark: read + validate + write Parquet for one month and for all twelve months of the flights
# data, `mlops ingest` (embedded default: local folder + SQLite registry) side by side with pandas +
# pandera doing the same checks (bench/pandas_pandera.py). Prints rows/s and peak memory (max RSS).
#
# Usage: bench/ingest.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

cargo build --quiet --profile bench-fast -p mlops
BIN=target/bench-fast/mlops
peer_venv "pandas pandera pyarrow" pandas pandera pyarrow
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

one=("$DATA/flights-2013-01.csv")
all=("$DATA"/flights-2013-*.csv)
rows_of() { local n=0; for f in "$@"; do n=$((n + $(wc -l < "$f") - 1)); done; echo "$n"; }

# Runs a command under /usr/bin/time; prints "<seconds> <peak MB>".
measure() {
  local out=$1; shift
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$@" > "$out" 2>/dev/null
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$WORK/time"
}

printf '%-22s %-6s %9s %9s %12s %10s\n' tool files rows seconds rows/s peak_MB
for set in one all; do
  declare -n files=$set
  rows=$(rows_of "${files[@]}")
  for jobs in 1 2; do
    for run in 1 2 3; do
      rm -rf "$WORK/home"
      "$BIN" --home "$WORK/home" spec put infra/datasets/flights.toml > /dev/null
      read -r secs mb < <(measure "$WORK/mlops.out" "$BIN" --home "$WORK/home" ingest --jobs "$jobs" --dataset flights --json "${files[@]}")
      accepted=$(grep -c '"status":"accepted"' "$WORK/mlops.out" || true)
      [ "$accepted" = "${#files[@]}" ] || { echo "mlops accepted only $accepted of ${#files[@]} files:"; cat "$WORK/mlops.out"; exit 1; }
      printf '%-22s %-6s %9d %9.3f %12.0f %10s\n' "mlops --jobs $jobs ($run)" "${#files[@]}" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)" "$mb"
    done
  done
  for run in 1 2 3; do
    read -r secs mb < <(measure "$WORK/peer.out" bench/.venv/bin/python bench/pandas_pandera.py "$WORK/peer" "${files[@]}")
    inproc=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$WORK/peer.out")
    printf '%-22s %-6s %9d %9.3f %12.0f %10s   (in-process %.3f s, %.0f rows/s)\n' "pandas+pandera ($run)" "${#files[@]}" "$rows" "$secs" \
      "$(echo "$rows / $secs" | bc -l)" "$mb" "$inproc" "$(echo "$rows / $inproc" | bc -l)"
  done
done
