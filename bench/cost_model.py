#!/usr/bin/env python3
"""The cost model of docs/performance.md, evaluated on measured inputs.

  step time   T(b, p) = T_c(b) + T_ar(n, p)
  compute     T_c(b)  = b · F / R(b)        F = FLOPs per sample from the layer shapes,
                                            R(b) = sgemm GFLOP/s of that net's step at per-rank batch b
                                            (bench_sgemm W_step / wide_step, 1 thread), divided by η
  allreduce   T_ar    = 2(p−1)/p · 4n/β + 2(p−1)·α      (ring; n floats of gradient)
  overlap     T_ov    = T_fwd + max(T_bwd, T_ar)        (bucketed allreduce hidden behind backward)

Hierarchical (--shared): H hosts with q ranks each (p = H·q). The ranks of a host sum through its
shared-memory window, then the hosts ring the sum over the network, each of the q ranks carrying
1/q of it, so a host's link carries what one rank's would in a ring over the H hosts:

  T_hier = T_s(n, q) + 2(H−1)/H · 4n/β_net + 2(H−1)·α_net
  T_s    = 2(q−1)/q · 4n/β_s + 2(q−1)·α_s     (α_s, β_s: the α–β fit of the shared sum at q = 2)

against the flat ring over all p ranks, whose every step waits for an inter-host link:
T_flat = 2(p−1)/p · 4n/β_net + 2(p−1)·α_net. One host (H = 1) is T_s alone: the np = 2 check.

η is the share of a step dpmlp spends in sgemm: 1 = "sgemm only" (the ceiling), or dpmlp's
measured FLOP rate / sgemm rate at np = 1 ("dpmlp today"). Efficiency at fixed per-rank batch b
(the global batch grows as p·b): E = T_c / T. At fixed global batch B: E = T_c(B) / (p · T(B/p, p)).

  cost_model.py --results RAW.json --shm allreduce-shm.json --tcp allreduce-tcp.json
                [--shared allreduce-shared.json]

RAW.json is bench/run.py --raw; the allreduce files are bench/micro.sh's. Prints Markdown.
"""
import argparse
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fit_allreduce  # noqa: E402

NETS = {
    "W": [784, 256, 128, 10],
    "wide": [784, 2560, 1280, 10],
}
BENCH_NAME = {"W": "BM_W_step", "wide": "BM_wide_step"}
TAIL = 5  # floats the trainer appends to the gradient buffer (loss sum, count, flags)
# Assumed interconnects (not measured here): typical MPI figures, per link, for a cluster.
ASSUMED = {
    "10 GbE (assumed α 25 µs, β 1.1 GB/s)": (25e-6, 1.1e9),
    "100 Gb/s InfiniBand (assumed α 2 µs, β 11 GB/s)": (2e-6, 11e9),
}
P_LIST = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]


def weights(widths):
    return [widths[i] * widths[i + 1] for i in range(len(widths) - 1)]


def flops(widths):
    w = weights(widths)
    return 4.0 * sum(w) + 2.0 * sum(w[1:])


def forward_share(widths):
    return 2.0 * sum(weights(widths)) / flops(widths)


def params(widths):
    return sum(weights(widths)) + sum(widths[1:])


class Rates:
    """sgemm GFLOP/s of each net's step against the per-rank batch (medians over rounds),
    log-interpolated between measured batches, constant beyond them."""

    def __init__(self, raw):
        self.points = {}
        for net, prefix in BENCH_NAME.items():
            by_batch = {}
            for rnd in raw["results"].get("sgemm", []):
                for name, v in rnd.items():
                    if name.startswith(prefix + "/") and name.endswith("/threads:1"):
                        b = int(name.split("batch:")[1].split("/")[0])
                        by_batch.setdefault(b, []).append(v)
            self.points[net] = sorted((b, statistics.median(v)) for b, v in by_batch.items())
        sq = [r["BM_square/n:2048/threads:1"] for r in raw["results"].get("sgemm", [])
              if "BM_square/n:2048/threads:1" in r]
        self.square = statistics.median(sq) if sq else float("nan")

    def __call__(self, net, b):
        pts = self.points[net]
        if not pts:
            return self.square * 1e9
        if b <= pts[0][0]:
            return pts[0][1] * 1e9
        if b >= pts[-1][0]:
            return pts[-1][1] * 1e9
        for (b0, r0), (b1, r1) in zip(pts, pts[1:]):
            if b0 <= b <= b1:
                f = (math.log(b) - math.log(b0)) / (math.log(b1) - math.log(b0))
                return (r0 + f * (r1 - r0)) * 1e9
        return pts[-1][1] * 1e9


def t_ar(n, p, alpha, beta):
    return 0.0 if p == 1 else 2 * (p - 1) / p * 4.0 * n / beta + 2 * (p - 1) * alpha


def measured(raw, key, field="samples_per_sec"):
    vals = [r[field] for r in raw["results"].get(key, []) if field in r]
    return statistics.median(vals) if vals else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", required=True, help="bench/run.py --raw output")
    ap.add_argument("--shm", required=True, help="bench_allreduce JSON over shared memory")
    ap.add_argument("--tcp", required=True, help="bench_allreduce JSON over TCP")
    ap.add_argument("--shared", help="bench_allreduce --sum=shared JSON (the hierarchical model)")
    a = ap.parse_args()
    raw = json.load(open(a.results))
    rates = Rates(raw)
    nets = {}
    for name, path in (("shm", a.shm), ("tcp", a.tcp)):
        p, pts = fit_allreduce.load(path)
        nets[name] = fit_allreduce.fit(p, pts)
    out = print

    F = {k: flops(v) for k, v in NETS.items()}
    N = {k: params(v) + TAIL for k, v in NETS.items()}
    # η of dpmlp today: its measured FLOP rate at np = 1 over the sgemm rate of W's step there.
    eta = {}
    for b in (128, 512):
        eta[b] = measured(raw, f"dpmlp np=1 b{b}") * F["W"] / rates("W", b)
    eta_at = lambda b: eta[128] if b <= 128 else (eta[512] if b >= 512 else  # noqa: E731
                                                  eta[128] + (eta[512] - eta[128]) * math.log(b / 128) / math.log(4))

    out("### Inputs")
    out("")
    out("| quantity | value | source |")
    out("|---|---|---|")
    for k, v in NETS.items():
        out(f"| {k} = {'-'.join(map(str, v))}: FLOPs per sample, gradient floats | {F[k] / 1e6:.3f} M, "
            f"{N[k] / 1e6:.3f} M | layer shapes |")
    for k in NETS:
        pts = ", ".join(f"{r:.0f} @ {b}" for b, r in rates.points[k])
        out(f"| sgemm rate of a {k} step, 1 thread (GFLOP/s @ per-rank batch) | {pts} | bench_sgemm, medians |")
    out(f"| sgemm 2048³, 1 thread | {rates.square:.0f} GFLOP/s | bench_sgemm |")
    out(f"| η = dpmlp np=1 FLOP rate / sgemm rate of W's step | {eta[128]:.2f} @ 128, {eta[512]:.2f} @ 512 | "
        f"bench/run.py |")
    for k, (al, be) in nets.items():
        out(f"| α, β measured, 2 ranks, {k} | α = {al * 1e6:.2f} µs, β = {be / 1e9:.2f} GB/s | "
            f"bench_allreduce fit (fit_allreduce.py) |")
    for k, (al, be) in ASSUMED.items():
        out(f"| {k} | α = {al * 1e6:.0f} µs, β = {be / 1e9:.1f} GB/s | assumed, typical |")
    out("")

    out("### The model against the measured np = 2 (W)")
    out("")
    out("| run | model, sgemm only (η = 1) | model, η of dpmlp today | measured | "
        "compute ms/step model (η today) / measured | allreduce ms/step model / measured |")
    out("|---|---|---|---|---|---|")
    for tr in ("shm", "tcp"):
        al, be = nets[tr]
        for b in (128, 512):
            br = b // 2
            tc1 = br * F["W"] / rates("W", br)
            tce = tc1 / eta_at(br)
            ta = t_ar(N["W"], 2, al, be)
            key = f"dpmlp np=2 {tr} b{b}"
            out(f"| np=2 {tr}, batch {b} | {b / (tc1 + ta) / 1e3:.1f}k | {b / (tce + ta) / 1e3:.1f}k | "
                f"{measured(raw, key) / 1e3:.1f}k | {1e3 * tce:.2f} / {measured(raw, key, 'compute_ms_per_step'):.2f} | "
                f"{1e3 * ta:.3f} / {measured(raw, key, 'comm_ms_per_step'):.3f} |")
    out("")

    links = dict(ASSUMED)
    links["TCP loopback here (measured α, β)"] = nets["tcp"]
    for net in NETS:
        out(f"### Scaling efficiency, {net} ({'-'.join(map(str, NETS[net]))}), fixed per-rank batch, "
            f"compute at the sgemm rate (η = 1)")
        out("")
        out("| interconnect | per-rank batch | " + " | ".join(f"p={p}" for p in P_LIST) + " |")
        out("|---|---|" + "---|" * len(P_LIST))
        for link, (al, be) in links.items():
            for b in (32, 128, 512):
                tc = b * F[net] / rates(net, b)
                cells = [f"{100 * tc / (tc + t_ar(N[net], p, al, be)):.0f} %" for p in P_LIST]
                out(f"| {link} | {b} | " + " | ".join(cells) + " |")
        out("")
        out(f"Per-rank batch needed for 90 % efficiency ({net}; η = 1, then η of dpmlp today in brackets), "
            f"and with the allreduce overlapped with backward:")
        out("")
        out("| interconnect | " + " | ".join(f"p={p}" for p in P_LIST) + " |")
        out("|---|" + "---|" * len(P_LIST))
        for link, (al, be) in links.items():
            row, row_ov = [], []
            for p in P_LIST:
                ta = t_ar(N[net], p, al, be)
                need = lambda e: next((b for b in (2 ** i for i in range(0, 21))  # noqa: E731
                                       if b * F[net] / rates(net, b) / e >= 9 * ta), None)
                need_ov = next((b for b in (2 ** i for i in range(0, 21))
                                if (1 - forward_share(NETS[net])) * b * F[net] / rates(net, b) >= ta), None)
                fmt = lambda x: "> 1M" if x is None else (f"{x // 1024}k" if x >= 1024 else str(x))  # noqa: E731
                row.append(f"{fmt(need(1.0))} ({fmt(need(eta_at(128)))})")
                row_ov.append(fmt(need_ov))
            out(f"| {link} | " + " | ".join(row) + " |")
            out(f"| {link}, overlapped | " + " | ".join(row_ov) + " |")
        out("")
    if a.shared:
        hierarchical_section(out, raw, rates, F, N, a.shared)
    out("### Fixed global batch (strong scaling), sgemm only (η = 1)")
    out("")
    out("| net, interconnect, global batch | " + " | ".join(f"p={p}" for p in P_LIST[:8]) + " |")
    out("|---|" + "---|" * 8)
    for net in NETS:
        for link, (al, be) in links.items():
            if link.startswith("TCP"):
                continue
            for B in (512, 4096):
                t1 = B * F[net] / rates(net, B)
                cells = []
                for p in P_LIST[:8]:
                    b = B / p
                    if b < 1:
                        cells.append("—")
                        continue
                    tp = b * F[net] / rates(net, b) + t_ar(N[net], p, al, be)
                    cells.append(f"{100 * t1 / (p * tp):.0f} %")
                out(f"| {net}, {link.split(' (')[0]}, B={B} | " + " | ".join(cells) + " |")
    out("")


def hierarchical_section(out, raw, rates, F, N, shared_json):
    """The hierarchical (host shared memory + inter-host ring) model against the flat ring, and its
    one-host case against the measured np = 2 exchange."""
    p2, pts = fit_allreduce.load(shared_json)
    al_s, be_s = fit_allreduce.fit(p2, pts)
    t_s = lambda n, q: t_ar(n, q, al_s, be_s)  # noqa: E731
    out(f"### Hierarchical: the host's shared-memory sum, then the hosts (α_s = {al_s * 1e6:.2f} µs, "
        f"β_s = {be_s / 1e9:.1f} GB/s: the fit of the shared sum at q = 2)")
    out("")
    out("| one host, q = 2 (the np = 2 check) | model T_s | measured exchange, ms/step (training: includes the "
        "wait for the slower rank) | shared sum alone, bench_allreduce median |")
    out("|---|---|---|---|")
    n = N["W"]
    alone = min(pts.items(), key=lambda kv: abs(kv[0] - n))
    for b in (128, 512):
        key = f"dpmlp np=2 shm b{b}"
        out(f"| W, batch {b} | {1e3 * t_s(n, 2):.3f} ms | {measured(raw, key, 'comm_ms_per_step'):.3f} | "
            f"{1e3 * alone[1]:.3f} ms ({alone[0]} floats) |")
    out("")
    out("Efficiency at per-rank batch 128, compute at the sgemm rate (η = 1): flat ring / hierarchical.")
    out("")
    hosts = [1, 2, 4, 8, 16, 32, 64]
    out("| net, interconnect, ranks per host q | " + " | ".join(f"H={h}" for h in hosts) + " |")
    out("|---|" + "---|" * len(hosts))
    for net in NETS:
        tc = 128 * F[net] / rates(net, 128)
        for link, (al, be) in ASSUMED.items():
            for q in (2, 8, 32):
                cells = []
                for h in hosts:
                    flat = t_ar(N[net], h * q, al, be)
                    hier = t_s(N[net], q) + t_ar(N[net], h, al, be)
                    cells.append(f"{100 * tc / (tc + flat):.0f} / {100 * tc / (tc + hier):.0f} %")
                out(f"| {net}, {link.split(' (')[0]}, q={q} | " + " | ".join(cells) + " |")
    out("")


if __name__ == "__main__":
    main()
