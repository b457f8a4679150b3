#!/usr/bin/env python3
"""The Python peer of the predict function for the benchmark: the flights logistic regression in
scikit-learn (the same features, one-hot encoding and standard scaling as bench/train_peers.py),
stored in S3 and served by FastAPI + uvicorn with a pydantic request model, the usual way.

Usage:
  predict_peer.py train <bucket> <flights-2013-MM.csv>...  fit and store s3://<bucket>/peer/flights.joblib
  predict_peer.py first <bucket> <body.json>              a fresh process's first prediction (cold start)
  predict_peer.py warm <bucket> <one.json> <batch.json>   in-process predict_proba: one record, a batch
  predict_peer.py serve <bucket> <port>                   the API: POST /models/flights/predict
S3 is reached at AWS_ENDPOINT_URL (moto in the benchmark).
"""
import io
import sys
import time

STARTED = time.perf_counter()

import boto3  # noqa: E402
import joblib  # noqa: E402
import pandas as pd  # noqa: E402

KEY = "peer/flights.joblib"
CATEGORICAL = ["carrier", "origin", "dest", "day_of_week"]
NUMERIC = ["month", "sched_dep_time", "sched_arr_time", "distance", "hour", "temp", "dewp", "humid",
           "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]


def frame(records):
    data = pd.DataFrame(records)  # a list of dicts, or a DataFrame
    data["day_of_week"] = pd.to_datetime(data["time_hour"], utc=True).dt.day_of_week.astype(str)
    return data[NUMERIC + CATEGORICAL]


def train(bucket, files):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    data = data[data["late"].notna()]
    one_hot = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.005), CATEGORICAL),
    ])
    model = make_pipeline(one_hot, LogisticRegression(max_iter=1000, class_weight="balanced"))
    model.fit(frame(data), data["late"].astype(int))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    boto3.client("s3").put_object(Bucket=bucket, Key=KEY, Body=buffer.getvalue())
    print(f"peer model: {len(data)} rows, {len(buffer.getvalue()) / 1024:.0f} KB at s3://{bucket}/{KEY}")


def load(bucket):
    body = boto3.client("s3").get_object(Bucket=bucket, Key=KEY)["Body"].read()
    return joblib.load(io.BytesIO(body))


def first(bucket, body_file):
    import json
    import resource

    model = load(bucket)
    records = json.load(open(body_file))["records"]
    score = model.predict_proba(frame(records))[0, 1]
    elapsed = time.perf_counter() - STARTED
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed * 1000:.0f} {peak:.1f} {score:.4f}")


def warm(bucket, one_file, batch_file):
    import json

    model = load(bucket)
    one = json.load(open(one_file))["records"]
    batch = json.load(open(batch_file))["records"]
    times = []
    for i in range(1200):
        began = time.perf_counter()
        model.predict_proba(frame(one))
        if i >= 200:
            times.append(time.perf_counter() - began)
    times.sort()
    began = time.perf_counter()
    for _ in range(5):
        model.predict_proba(frame(batch))
    per_batch = (time.perf_counter() - began) / 5
    print(f"peer: one-record DataFrame + predict_proba p50 {times[len(times) // 2] * 1e6:.0f} µs, "
          f"p99 {times[int(len(times) * 0.99)] * 1e6:.0f} µs; {len(batch)} records (already parsed) "
          f"{per_batch * 1000:.1f} ms, {len(batch) / per_batch / 1e6:.2f} M records/s")


def serve(bucket, port):
    from typing import Optional

    import uvicorn
    from fastapi import FastAPI, Response
    from pydantic import BaseModel

    class Record(BaseModel):
        month: int
        sched_dep_time: int
        sched_arr_time: int
        carrier: str
        origin: str
        dest: str
        distance: float
        hour: int
        time_hour: str
        temp: Optional[float] = None
        dewp: Optional[float] = None
        humid: Optional[float] = None
        wind_dir: Optional[float] = None
        wind_speed: Optional[float] = None
        wind_gust: Optional[float] = None
        precip: Optional[float] = None
        pressure: Optional[float] = None
        visib: Optional[float] = None

    class Request(BaseModel):
        records: list[Record]

    model = load(bucket)
    app = FastAPI()

    @app.post("/models/flights/predict")
    def predict(request: Request, response: Response):
        scores = model.predict_proba(frame([r.model_dump() for r in request.records]))[:, 1]
        response.headers["x-model-version"] = "1"
        return {
            "model": "flights",
            "version": 1,
            "predictions": [{"label": str(int(s >= 0.5)), "score": float(s), "warnings": []} for s in scores],
        }

    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", workers=1)


if __name__ == "__main__":
    command, bucket, *rest = sys.argv[1:]
    {"train": lambda: train(bucket, rest), "first": lambda: first(bucket, rest[0]),
     "warm": lambda: warm(bucket, *rest), "serve": lambda: serve(bucket, rest[0])}[command]()
