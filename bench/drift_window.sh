#!/usr/bin/env bash
# Benchmark: the drift check on a month of inference records (issue 25, part 4). The demo's home
# gives a flights champion and a day of sampled records; they are repeated to RECORDS records a day
# for DAYS days before today, one object a day (as compaction leaves a settled day). Then
# `mlops drift --model flights --hours <DAYS × 24>` runs three times: the first reads every record
# and stores each settled day's profile, the next two read the profiles (and the unsettled last
# days' records). Prints each run's wall time, peak memory and the rows the report counts.
#
# Usage: bench/drift_window.sh [records a day, default 100000] [days, default 30]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
RECORDS=${1:-100000}
DAYS=${2:-30}

echo "== building (bench-fast mlops)"
cargo build --quiet --profile bench-fast -p mlops
MLOPS=target/bench-fast/mlops
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
home="$WORK/home"
"$MLOPS" demo --dir "$home" > /dev/null

echo "== records: $RECORDS a day for $DAYS days"
python3 - "$home/objects/inference/flights" "$RECORDS" "$DAYS" <<'PY'
import datetime, glob, gzip, json, os, sys
root, per_day, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
today = datetime.datetime.now(datetime.timezone.utc).date()
sampled = []
for path in glob.glob(f"{root}/dt={today}/*"):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        sampled += [json.loads(line) for line in f if line.strip()]
# The champion's own records only: the other versions' would not count as its predictions.
champion = max(r["version"] for r in sampled)
sampled = [r for r in sampled if r["version"] == champion] or sampled
for back in range(1, days + 1):
    day = today - datetime.timedelta(days=back)
    noon = f"{day}T12:00:00Z"
    os.makedirs(f"{root}/dt={day}", exist_ok=True)
    with gzip.open(f"{root}/dt={day}/bench.jsonl.gz", "wt", compresslevel=1) as out:
        for i in range(per_day):
            record = dict(sampled[i % len(sampled)], at=noon, request_id=f"bench-{day}-{i}")
            out.write(json.dumps(record) + "\n")
print(f"{len(sampled)} sampled records repeated; {per_day * days:,} records in {days} objects")
PY

HOURS=$((DAYS * 24))
for run in "records (profiles built)" "daily profiles" "daily profiles again"; do
  timed "drift, $HOURS hours: $run" "$MLOPS" --home "$home" drift --model flights --hours "$HOURS" --json
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"  {r['rows']:,} rows, verdict: {r['verdict']}\")" "$WORK/out"
done
echo "profiles stored: $(find "$home/objects/inference/flights/profiles" -name '*.json' | wc -l), $(du -sh "$home/objects/inference/flights/profiles" | cut -f1)"
