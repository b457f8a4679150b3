#!/usr/bin/env python3
"""The peer of `mlops ingest` for the benchmark: pandas reads each CSV, pandera checks the same rules
as infra/datasets/flights.toml (types, nullability, ranges, allowed values, regexes, null fractions,
the unique key, the inter-column rules), and pandas writes the accepted data as zstd Parquet.

Usage: bench/pandas_pandera.py <out dir> <csv files...>   (prints one line per file, then totals)
"""
import sys
import time
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandera import Check

CARRIERS = ["9E", "AA", "AS", "B6", "DL", "EV", "F9", "FL", "HA", "MQ", "OO", "UA", "US", "VX", "WN", "YV"]


def num(lo, hi, nullable=False, dtype=float):
    return pa.Column(dtype, [Check.in_range(lo, hi)], nullable=nullable, coerce=True)


SCHEMA = pa.DataFrameSchema(
    {
        "year": num(2000, 2100, dtype="int64"),
        "month": num(1, 12, dtype="int64"),
        "day": num(1, 31, dtype="int64"),
        "dep_time": num(0, 2400, True),
        "sched_dep_time": num(0, 2359, dtype="int64"),
        "dep_delay": num(-120, 2000, True),
        "arr_time": num(0, 2400, True),
        "sched_arr_time": num(0, 2359, dtype="int64"),
        "arr_delay": num(-120, 2000, True),
        "carrier": pa.Column(str, Check.isin(CARRIERS)),
        "flight": num(1, 9999, dtype="int64"),
        "tailnum": pa.Column(str, Check.str_matches(r"^N[0-9A-Z]{1,5}$", raise_warning=True), nullable=True),
        "origin": pa.Column(str, Check.isin(["EWR", "JFK", "LGA"])),
        "dest": pa.Column(str, Check.str_matches(r"^[A-Z]{3}$")),
        "air_time": num(0, 1000, True),
        "distance": num(1, 6000, dtype="int64"),
        "hour": num(0, 23, dtype="int64"),
        "minute": num(0, 59, dtype="int64"),
        "time_hour": pa.Column("datetime64[ns, UTC]", coerce=True),
        "temp": num(-40, 130, True),
        "dewp": num(-60, 100, True),
        "humid": num(0, 100, True),
        "wind_dir": num(0, 360, True),
        "wind_speed": num(0, 150, True),
        "wind_gust": num(0, 200, True),
        "precip": num(0, 10, True),
        "pressure": num(900, 1100, True),
        "visib": num(0, 10, True),
        "late": pa.Column("Int64", Check.isin([0, 1]), nullable=True, coerce=True),
    },
    checks=[
        Check(lambda df: df["tailnum"].isna().mean() <= 0.05, name="tailnum_max_null_fraction"),
        Check(lambda df: df["temp"].isna().mean() <= 0.2, name="temp_max_null_fraction"),
        Check(lambda df: (df["dewp"] <= df["temp"]) | df["dewp"].isna() | df["temp"].isna(), name="dewp_le_temp", raise_warning=True),
        Check(lambda df: (df["wind_gust"] >= df["wind_speed"]) | df["wind_gust"].isna() | df["wind_speed"].isna(), name="gust_ge_speed", raise_warning=True),
        Check(lambda df: df["sched_arr_time"] >= 0, name="sched_arr_time_ge_0"),
    ],
    unique=["year", "month", "day", "carrier", "flight", "origin", "sched_dep_time"],
    strict=True,
)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    total_rows, start = 0, time.perf_counter()
    for path in sys.argv[2:]:
        frame = pd.read_csv(path)
        valid = SCHEMA.validate(frame, lazy=True)  # lazy: collect every failure, as mlops does
        valid.to_parquet(out / (Path(path).stem + ".parquet"), compression="zstd", index=False)
        total_rows += len(valid)
        print(f"accepted {Path(path).name}: {len(valid)} rows")
    elapsed = time.perf_counter() - start
    print(f"TOTAL rows={total_rows} seconds={elapsed:.3f} rows_per_s={total_rows / elapsed:.0f}")


if __name__ == "__main__":
    main()
