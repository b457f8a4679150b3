#!/usr/bin/env bash
# Benchmark: read + validate + write Parquet for one month and for all twelve months of the flights
# data, `mlops ingest` (embedded default: local folder + SQLite registry) side by side with pandas +
# pandera doing the same checks (bench/pandas_pandera.py). Prints rows/s and peak memory (max RSS) of
# each run, then the medians and how mlops compares with the peer against the issue's goal.
#
# Usage: bench/ingest.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

# The release profile the Lambda functions are built with: the faster-linking bench-fast build took
# 7% more CPU on this work (0.56-0.62 against 0.52-0.54 s, five interleaved runs).
# PROFILE=bench-fast reuses the other benchmarks' build.
PROFILE=${PROFILE:-release}
cargo build --quiet --profile "$PROFILE" -p mlops
BIN=target/$PROFILE/mlops
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

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# One timed run on a fresh home, printed; leaves its figures in $secs and $mb.
mlops_run() {  # <jobs> <run> <files...>
  local jobs=$1 run=$2; shift 2
  rm -rf "$WORK/home"
  "$BIN" --home "$WORK/home" spec put infra/datasets/flights.toml > /dev/null
  read -r secs mb < <(measure "$WORK/mlops.out" "$BIN" --home "$WORK/home" ingest --jobs "$jobs" --dataset flights --json "$@")
  accepted=$(grep -c '"status":"accepted"' "$WORK/mlops.out" || true)
  [ "$accepted" = "$#" ] || { echo "mlops accepted only $accepted of $# files:"; cat "$WORK/mlops.out"; exit 1; }
  printf '%-22s %-6s %9d %9.3f %12.0f %10s\n' "mlops --jobs $jobs ($run)" "$#" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)" "$mb"
}

# The same for the peer.
peer_run() {  # <run> <files...>
  local run=$1; shift
  read -r secs mb < <(measure "$WORK/peer.out" bench/.venv/bin/python bench/pandas_pandera.py "$WORK/peer" "$@")
  inproc=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$WORK/peer.out")
  printf '%-22s %-6s %9d %9.3f %12.0f %10s   (in-process %.3f s, %.0f rows/s)\n' "pandas+pandera ($run)" "$#" "$rows" "$secs" \
    "$(echo "$rows / $secs" | bc -l)" "$mb" "$inproc" "$(echo "$rows / $inproc" | bc -l)"
}

# Runs alternate between the tools, so that the machine's drift in speed (about ±10% here) falls on
# all of them alike; RUNS (default 5) runs of each.
RUNS=${RUNS:-5}
printf '%-22s %-6s %9s %9s %12s %10s\n' tool files rows seconds rows/s peak_MB
for set in one all; do
  declare -n files=$set
  rows=$(rows_of "${files[@]}")
  secs1=(); secs2=(); mb2=(); peer_secs=(); peer_mb=()
  for run in $(seq "$RUNS"); do
    mlops_run 1 "$run" "${files[@]}"; secs1+=("$secs")
    mlops_run 2 "$run" "${files[@]}"; secs2+=("$secs"); mb2+=("$mb")
    peer_run "$run" "${files[@]}"; peer_secs+=("$secs"); peer_mb+=("$mb")
  done
  printf 'medians, %s file(s): mlops --jobs 1 %.3f s; --jobs 2 %.3f s, %s MB; pandas+pandera %.3f s, %s MB\n' "${#files[@]}" \
    "$(median "${secs1[@]}")" "$(median "${secs2[@]}")" "$(median "${mb2[@]}")" "$(median "${peer_secs[@]}")" "$(median "${peer_mb[@]}")"
  printf '  mlops (one file per core) against the peer: %.2fx its rows/s (goal: 5x), %.2f of its peak memory (goal: at most 0.33)\n' \
    "$(echo "$(median "${peer_secs[@]}") / $(median "${secs2[@]}")" | bc -l)" "$(echo "$(median "${mb2[@]}") / $(median "${peer_mb[@]}")" | bc -l)"
done
