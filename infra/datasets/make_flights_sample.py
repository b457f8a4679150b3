#!/usr/bin/env python3
"""Makes the bundled flights sample from the full NYC flights 2013 data (not shipped with the repo).

Usage: python3 infra/datasets/make_flights_sample.py <folder with flights-2013-MM.csv> [rows per month]
Keeps a fixed-seed random sample of each month, in the original order, gzip-compressed. Months 1-3
are the "normal" data for training; month 7 (summer storms, holiday traffic) drifts from them.
"""
import csv
import gzip
import random
import sys
from pathlib import Path

MONTHS = ["01", "02", "03", "07"]

def main() -> None:
    source = Path(sys.argv[1])
    per_month = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    out_dir = Path(__file__).parent / "flights-sample"
    out_dir.mkdir(exist_ok=True)
    for month in MONTHS:
        with open(source / f"flights-2013-{month}.csv", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        keep = sorted(random.Random(2013 + int(month)).sample(range(len(body)), per_month))
        target = out_dir / f"flights-2013-{month}.csv.gz"
        # mtime=0 keeps the archive byte-identical across runs.
        with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            lines = [",".join(header)] + [",".join(body[i]) for i in keep]
            gz.write(("\n".join(lines) + "\n").encode())
        print(f"{target}: {per_month} of {len(body)} rows")

if __name__ == "__main__":
    main()
