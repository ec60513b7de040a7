#!/usr/bin/env python3
"""Fits the allreduce cost model t(n, p) = 2(p-1)·α + 2(p-1)/p · bytes/β to bench_allreduce's
Google Benchmark JSON (bench/micro.sh writes it):

  α (per-message latency) from the small messages: the median of t / (2(p-1)) over n ≤ 100 floats;
  β (bandwidth) from the large ones: least squares of t against bytes over n ≥ 10^6 floats,
  β = 2(p-1)/p / slope.

Each size's time is the median over its iterations (--stat min_us: the minimum). Prints α, β and
the model against every measured size; `--json` prints {"alpha_s", "beta_Bps", "p"}.
"""
import argparse
import json
import math
import statistics

STAT = "median_us"  # per-iteration statistic the fit uses: median_us or min_us (--stat)


def load(path):
    with open(path) as f:
        return points_of(json.load(f))


def points_of(data):
    """(p, {floats: seconds}) from bench_allreduce's parsed Google Benchmark JSON."""
    points = {}
    for r in data["benchmarks"]:
        if r.get("run_type") == "aggregate" and r.get("aggregate_name") != "median":
            continue
        n = int(r["name"].split("floats:")[1].split("/")[0])
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[r.get("time_unit", "ns")]
        points.setdefault(n, []).append(r[STAT] * 1e-6 if STAT in r else r["real_time"] * unit)
        p = int(r["ranks"])
    return p, {n: statistics.median(ts) for n, ts in sorted(points.items())}


def fit(p, points):
    """α from the smallest messages (≤ 100 floats: latency only). β minimises the squared log-ratio of
    model to measurement over the messages of 1000 floats and more, each term capped at (ln 2)², so every
    size counts by its relative error and one pathological size (here 10^7 floats, 40 MB, runs 20-70x
    slower than the trend on this VM) cannot set the bandwidth of all the others."""
    small = [t / (2 * (p - 1)) for n, t in points.items() if n <= 100]
    alpha = statistics.median(small)
    big = [(4.0 * n, t) for n, t in points.items() if n >= 1000]

    def loss(beta):
        return sum(min(math.log(model(alpha, beta, p, b) / t) ** 2, math.log(2) ** 2) for b, t in big)

    grid = [10 ** (7 + 4 * i / 2000) for i in range(2001)]  # 0.01 .. 100 GB/s
    beta = min(grid, key=loss)
    return alpha, beta


def model(alpha, beta, p, nbytes):
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / beta


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json_file")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--stat", choices=["median_us", "min_us"], default="median_us",
                    help="per-iteration statistic to fit: median (typical) or minimum (quiet floor)")
    a = ap.parse_args()
    global STAT
    STAT = a.stat
    p, points = load(a.json_file)
    alpha, beta = fit(p, points)
    if a.json:
        print(json.dumps({"alpha_s": alpha, "beta_Bps": beta, "p": p}))
        return
    print(f"{a.json_file} ({a.stat}): p = {p}, α = {alpha * 1e6:.2f} µs, β = {beta / 1e9:.2f} GB/s")
    print(f"{'floats':>10s} {'measured µs':>12s} {'model µs':>10s} {'model/measured':>15s}")
    for n, t in points.items():
        m = model(alpha, beta, p, 4.0 * n)
        print(f"{n:10d} {t * 1e6:12.1f} {m * 1e6:10.1f} {m / t:15.2f}")


if __name__ == "__main__":
    main()
