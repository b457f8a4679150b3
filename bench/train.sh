#!/usr/bin/env bash
# Benchmark: `mlops train` on the flights data (months 1–9 to learn from, 10–12 to test on) beside
# the Python peers on the same rows and features (bench/train_peers.py): test ROC AUC, time from
# load to registered model, peak memory, artifact size.
#
# Usage: bench/train.sh [folder with flights-2013-MM.csv]   (default: ../shared/data/flights)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
DATA=$(flights_data "${1:-}")

cargo build --quiet --profile bench-fast -p mlops
BIN=target/bench-fast/mlops
peer_venv "sklearn lightgbm pyarrow" pandas pyarrow scikit-learn lightgbm
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HOME_DIR="$WORK/home"

# The test part is the labelled rows of October to December: its share sets the split fractions,
# with 10% of all rows for validation just before it.
read -r train validation test < <(bench/.venv/bin/python - "$DATA" <<'PY'
import glob, sys
import pandas as pd
rows = {m: pd.read_csv(f"{sys.argv[1]}/flights-2013-{m:02d}.csv", usecols=["late"])["late"].notna().sum() for m in range(1, 13)}
test = sum(rows[m] for m in (10, 11, 12)) / sum(rows.values())
print(f"{1 - test - 0.1:.10f} 0.1 {test:.10f}")
PY
)
sed -e "s/^train = .*/train = $train/" -e "s/^validation = .*/validation = $validation/" -e "s/^test = .*/test = $test/" \
  infra/datasets/flights.toml > "$WORK/flights.toml"
"$BIN" --home "$HOME_DIR" spec put "$WORK/flights.toml" > /dev/null
"$BIN" --home "$HOME_DIR" ingest --dataset flights --json "$DATA"/flights-2013-*.csv > /dev/null

/usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" --home "$HOME_DIR" train --dataset flights --json > "$WORK/train.json"
read -r secs kb < "$WORK/time"
python3 - "$WORK/train.json" "$secs" "$kb" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
metrics = json.load(open(out["metrics_file"]))
print(f"# mlops train: version {out['version']}, {out['learner']}, artifact {out['artifact_bytes'] / 1024:.0f} KB, "
      f"peak {int(sys.argv[3]) / 1024:.0f} MB")
for c in metrics["candidates"]:
    print(f"#   candidate {c['description']:75s} validation {c['validation_score']:.4f}  fit {c['fit_seconds']:6.2f} s"
          + (f"  rounds {c['rounds']}" if c["rounds"] else ""))
print(f"{'mlops train (best: ' + out['learner'] + ')':30s} roc_auc {out['metrics']['roc_auc']:.4f}  "
      f"load-to-registered {float(sys.argv[2]):7.2f} s")
PY
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$WORK/train.json")

# Each learner alone (same rows; a changed spec is a new training input, so no re-ingest).
for learner in logistic_regression gradient_boosting; do
  python3 - "$WORK/flights.toml" "$learner" > "$WORK/$learner.toml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.split(r"(?=\[\[training\.candidates\]\])", text.split("[promotion]")[0])
kept = [b for b in blocks[1:] if f'model = "{sys.argv[2]}"' in b]
print(blocks[0] + "".join(kept) + "[promotion]" + text.split("[promotion]")[1])
PY
  "$BIN" --home "$HOME_DIR" spec put "$WORK/$learner.toml" > /dev/null
  /usr/bin/time -f '%e' -o "$WORK/time" "$BIN" --home "$HOME_DIR" train --dataset flights --json > "$WORK/alone.json"
  python3 - "$WORK/alone.json" "$(cat "$WORK/time")" "$learner" <<'PY'
import json, sys
out = json.load(open(sys.argv[1]))
print(f"{'mlops ' + sys.argv[3] + ' alone':30s} roc_auc {out['metrics']['roc_auc']:.4f}  load-to-registered {float(sys.argv[2]):7.2f} s")
PY
done

bench/.venv/bin/python bench/train_peers.py "$HOME_DIR/objects" "$version"
