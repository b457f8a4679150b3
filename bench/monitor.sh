#!/usr/bin/env bash
# Benchmark: the monitor's join and live metrics, 1,000,000 predictions × 1,000,000 outcomes in
# memory (shared/core/benches/monitor.rs), beside pandas merge + scikit-learn metrics doing the
# same on the same data (bench/monitor_peer.py), three runs each, interleaved.
#
# Usage: bench/monitor.sh [rows]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
ROWS=${1:-1000000}

echo "== building (the bench-fast monitor benchmark)"
cargo build --quiet --profile bench-fast -p mlops-core --benches
BENCH=$(realpath "$(ls -t target/bench-fast/deps/monitor-* | grep -v '\.d$' | head -1)")
peer_venv "sklearn pandas" pandas scikit-learn
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$BENCH" "$ROWS" "$WORK" > /dev/null
for round in 1 2 3; do
  echo "== run $round"
  "$BENCH" "$ROWS"
  bench/.venv/bin/python bench/monitor_peer.py "$WORK"
done
