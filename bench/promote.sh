#!/usr/bin/env bash
# Benchmark: promotion decisions on the full flights data (12 months, 336,776 rows). Version 1
# (gradient boosting) becomes the first champion; version 2 (logistic regression) is then judged
# against it: both scored on version 2's test rows, every gate evaluated, one transaction. Then a
# forced promotion, a rollback and a history read. Prints the time and peak memory of each step.
#
# Usage: bench/promote.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

cargo build --quiet --profile bench-fast -p mlops
BIN=target/bench-fast/mlops
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
MLOPS="$BIN --home $WORK/home"

only gradient_boosting > "$WORK/gb.toml"
only logistic_regression > "$WORK/lr.toml"
$MLOPS spec put "$WORK/gb.toml" > /dev/null
$MLOPS ingest --dataset flights --json "$DATA"/flights-2013-*.csv > /dev/null
$MLOPS train --dataset flights --json > /dev/null
timed "promote v1 (first champion: scored alone, 2 gates)" $MLOPS promote --model flights --json
$MLOPS spec put "$WORK/lr.toml" > /dev/null
$MLOPS train --dataset flights --json > /dev/null
timed "promote v2 (v1 and v2 scored on v2's test rows, 5 gates)" $MLOPS promote --model flights --json
python3 - "$WORK/out" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
d = out.get("decision") or out["decision"]
print(f"#   {out.get('message') or out.get('error')}: test rows {d['test_rows']}, "
      f"roc_auc v2 {d['candidate_score']:.4f} vs v1 {d['champion_score']:.4f}")
for g in d["gates"]:
    print(f"#   {'pass' if g['passed'] else 'FAIL'} {g['name']:16s} {g['detail']}")
PY
timed "promote v2 --force (the same scoring, recorded as forced)" $MLOPS promote --model flights --version 2 --force --json
timed "rollback to v1 (one transaction, no scoring)" $MLOPS rollback --model flights --json
timed "history" $MLOPS history --model flights --json
