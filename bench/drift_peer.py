"""The peer of `mlops drift`: Evidently's data drift preset on the same two Parquet files.

    python bench/drift_peer.py REFERENCE.parquet CURRENT.parquet OUT_PREFIX

Reads both files with pandas, derives the day of the week from time_hour (the mlops pipeline's
date part), runs Report([DataDriftPreset()]) with Evidently's default tests, saves OUT_PREFIX.html and
writes OUT_PREFIX.json: per column the method, score, threshold and whether it drifted.
"""
import json
import sys

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

NUMERIC = ["month", "sched_dep_time", "sched_arr_time", "distance", "hour", "temp", "dewp", "humid",
           "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]
CATEGORICAL = ["carrier", "origin", "dest", "day_of_week"]
P_VALUE_METHODS = ("K-S p_value", "chi-square p_value", "Z-test p_value")


def load(path):
    frame = pd.read_parquet(path)
    frame["day_of_week"] = frame["time_hour"].dt.dayofweek.astype(str)
    return frame[NUMERIC + CATEGORICAL]


def main(reference_path, current_path, out):
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    reference = Dataset.from_pandas(load(reference_path), data_definition=definition)
    current = Dataset.from_pandas(load(current_path), data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(current, reference)
    snapshot.save_html(f"{out}.html")
    columns = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        score, method, threshold = float(metric["value"]), config["method"], config["threshold"]
        drifted = score < threshold if method in P_VALUE_METHODS else score >= threshold
        columns[config["column"]] = {"method": method, "score": score, "threshold": threshold,
                                     "drifted": drifted}
    json.dump(columns, open(f"{out}.json", "w"), indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
