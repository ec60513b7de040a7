#!/usr/bin/env python3
"""scikit-learn peer of dpmlp on workload W: MLPClassifier(hidden_layer_sizes=(256, 128),
activation='relu', solver='sgd', momentum=0.9, nesterovs_momentum=False, batch_size=B,
learning_rate_init=0.05, alpha=0 (W has no weight decay)), float32 data, one OpenBLAS thread.

Timing: one warm-up partial_fit on the first 10 % of the training set (it also allocates the
weights), then partial_fit over the whole training set, which is exactly one epoch of mini-batch
SGD steps: samples_per_sec = training samples / wall seconds of that call, cpu_seconds = its CPU
time. A fresh classifier per batch size; one JSON line each.
"""
import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_info  # noqa: E402
import fmnist  # noqa: E402


def emit(record):
    # One write(2) per line: lines of concurrent processes sharing a pipe never interleave.
    os.write(1, (json.dumps(record) + "\n").encode())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=lambda v: [int(b) for b in v.split(",")], default=[128],
                   help="batch sizes, comma-separated (one fresh classifier each)")
    p.add_argument("--epochs", type=int, default=1, help="timed epochs (partial_fit calls)")
    args = p.parse_args()
    x, y = fmnist.load_train()
    for b in args.batch:
        time_one(x, y, b, args.epochs)


def time_one(x, y, batch, epochs):
    classes = np.arange(10)
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), activation="relu", solver="sgd", momentum=0.9,
                        nesterovs_momentum=False, batch_size=batch, learning_rate_init=0.05,
                        alpha=0.0, shuffle=True, random_state=1)
    warm = x.shape[0] // 10
    clf.partial_fit(x[:warm], y[:warm], classes=classes)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        clf.partial_fit(x, y)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    emit({
        "peer": "sklearn", "rank": 0, "world": 1, "batch": batch,
        "samples_per_sec": epochs * x.shape[0] / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "sklearn": sklearn.__version__, "weights_dtype": str(clf.coefs_[0].dtype),
        "blas": blas_info.blas()})


if __name__ == "__main__":
    main()
