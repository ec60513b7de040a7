#!/usr/bin/env python3
"""The side-by-side benchmark of workload W. Run it through bench/run.sh, which installs
what is missing and builds; this file only measures and reports.

Each round runs every variant once, in the same order, so slow spells of a shared machine hit all
variants alike; the figure of a variant is the median over the rounds (the min-max spread is
printed next to it). A warm-up round (page cache, imports, MPI start-up) is run first and thrown
away.

  dpmlp      samples/s = the `samples_per_sec` of its --metrics record for one epoch: training
             samples / (compute + allreduce seconds of the steps), i.e. start-up, data loading and
             the epoch-end evaluation are not counted. np = 1 runs without mpirun; np = 2 runs under
             mpirun bound to cores, over shared memory (ob1 + vader) or TCP (ob1 + tcp on loopback).
  PyTorch    bench/peers/torch_mlp.py: one timed epoch after 30 warm-up steps (training loop only).
  sklearn    bench/peers/sklearn_mlp.py: one timed partial_fit over the training set (one epoch).
  sgemm      build-bench/bench/bench_sgemm (Google Benchmark): a 2048^3 product at 1 and 2 threads and
             the eight sgemm calls of one step of W at per-rank batch 64..512.
  memory     peak resident set (VmHWM, via /usr/bin/time %M) of every dpmlp rank; ru_maxrss of every
             Python process.
  load       for every measurement, the share of the machine's CPU time used by OTHER processes
             while it ran (from /proc/stat minus our children's rusage): the noise indicator.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

LAYERS = [784, 256, 128, 10]
W_ARGS = ["--layers", "256,128", "--activation", "relu", "--lr", "0.05", "--momentum", "0.9",
          "--threads", "1", "--progress", "off"]
BATCHES = [128, 512]
MPIRUN = ["mpirun", "-np", "2", "--bind-to", "core", "--map-by", "core", "--mca", "pml", "ob1"]
TRANSPORT = {"shm": "self,vader", "tcp": "self,tcp"}


def flops_per_sample(widths):
    """2 per weight forward, 2 for the weight gradient, 2 for the input gradient above layer 1."""
    weights = [widths[i] * widths[i + 1] for i in range(len(widths) - 1)]
    return 4.0 * sum(weights) + 2.0 * sum(weights[1:])


FLOPS = flops_per_sample(LAYERS)


class Probe:
    """CPU time used by other processes while a command of ours runs."""

    @staticmethod
    def _busy():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK"), sum(v[:8]) / os.sysconf("SC_CLK_TCK")

    def __enter__(self):
        self.busy0, self.total0 = self._busy()
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.ours0 = r.ru_utime + r.ru_stime
        return self

    def __exit__(self, *exc):
        busy, total = self._busy()
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = r.ru_utime + r.ru_stime - self.ours0
        span = max(total - self.total0, 1e-9)
        self.foreign = max(0.0, (busy - self.busy0 - ours) / span)  # 0..1 of all cores
        return False


def sh(cmd, env=None, timeout=300):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p.stdout


def mpi_env():
    return {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "0"}


# Gradient-exchange variants, timed at np = 2 beside the default (one fused fp32
# allreduce with dpmlp's Open MPI defaults): label -> (transport, extra dpmlp options, environment).
EXCHANGE_VARIANTS = {
    "bucketed 256 KiB": ("shm", ["--allreduce-bucket-kb", "256"], {}),
    "bucketed 64 KiB": ("shm", ["--allreduce-bucket-kb", "64"], {}),
    "bf16": ("shm", ["--grad-wire", "bf16"], {}),
    "Open MPI's own defaults": ("shm", [], {"DPMLP_MPI_DEFAULTS": "off"}),
    "tcp bf16": ("tcp", ["--grad-wire", "bf16"], {}),
}


def run_dpmlp(binary, np, transport, batch, env=None, extra=()):
    """One epoch of W; returns samples/s (training steps only) and the peak RSS of every rank (kB)."""
    tmp = tempfile.mkdtemp(prefix="dpmlp-bench.")
    try:
        metrics = os.path.join(tmp, "metrics.jsonl")
        wrap = [os.path.join(HERE, "rank_rss.sh"), tmp]
        train = [binary, "train", *W_ARGS, "--batch-size", str(batch), "--epochs", "1", "--metrics", metrics,
                 *extra]
        if np == 1:
            cmd = wrap + train
        else:
            cmd = MPIRUN + ["--mca", "btl", TRANSPORT[transport]] + wrap + train
        with Probe() as probe:
            sh(cmd, env={**mpi_env(), **(env or {})})
        with open(metrics) as f:
            rec = json.loads(f.readlines()[-1])
        rss = [int(f.split()[0]) for f in rank_files(tmp)]
        if rec.get("world_size") != np:
            raise RuntimeError(f"expected world size {np}, metrics say {rec.get('world_size')}")
        steps = -(-rec["samples"] // batch)
        return {"samples_per_sec": rec["samples_per_sec"], "rss_kb": rss, "foreign": probe.foreign,
                "compute_ms_per_step": 1000 * rec["compute_seconds"] / steps,
                "comm_ms_per_step": 1000 * rec["comm_seconds"] / steps}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rank_files(tmp):
    """The "rss-kB user-s sys-s" lines rank_rss.sh wrote, one per rank."""
    return [open(os.path.join(tmp, n)).read().strip().splitlines()[-1] for n in sorted(os.listdir(tmp))
            if n.startswith("rss.")]


def dpmlp_cpu_seconds(binary, batch, steps):
    """user + system seconds of a one-process run of W stopped by --max-steps (start-up included)."""
    tmp = tempfile.mkdtemp(prefix="dpmlp-bench.")
    try:
        sh([os.path.join(HERE, "rank_rss.sh"), tmp, binary, "train", *W_ARGS, "--batch-size", str(batch),
            "--epochs", "1", "--max-steps", str(steps)])
        _, user, system = rank_files(tmp)[0].split()
        return float(user) + float(system)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_dpmlp_cpu(binary, batch):
    """Training samples per CPU-second of dpmlp np=1: the CPU time of a run of 2 + S steps minus that
    of a run of 2 steps (start-up, data loading and the final evaluation cancel), S steps inside the
    first epoch. Unlike samples/s, this hardly depends on how busy the machine is."""
    steps = 400 if batch <= 128 else 100
    with Probe() as probe:
        short = dpmlp_cpu_seconds(binary, batch, 2)
        long = dpmlp_cpu_seconds(binary, batch, 2 + steps)
    return {"samples_per_cpu_sec": steps * batch / max(long - short, 1e-3), "foreign": probe.foreign}


def run_peer(script, args):
    """Runs a Python peer; returns {batch: {samples_per_sec, rss_kb [per process], foreign}}."""
    with Probe() as probe:
        out = sh([sys.executable, os.path.join(HERE, "peers", script), *args], timeout=600)
    res = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        d = res.setdefault(r["batch"], {"samples_per_sec": None, "rss_kb": [], "foreign": probe.foreign})
        d["rss_kb"].append(r["max_rss_kb"])
        d["cpu_seconds"] = d.get("cpu_seconds", 0.0) + r["cpu_seconds"]
        if r["rank"] == 0:
            d["samples"] = r["samples_per_sec"] * r["seconds"]
            d["samples_per_sec"] = r["samples_per_sec"]
            d["info"] = {k: v for k, v in r.items() if k in ("torch", "sklearn", "weights_dtype", "threads")}
    for d in res.values():
        d["samples_per_cpu_sec"] = d.pop("samples") / d["cpu_seconds"]
    return res


SGEMM_FILTER = (r"BM_W_step/batch:(64|128|256|512)/threads:1/|BM_W_step/batch:(128|512)/threads:2/|BM_square/n:2048"
                r"|BM_wide_step")  # the wide MLP's rates feed bench/cost_model.py


def run_sgemm(bench_dir):
    """{benchmark name without suffixes: (mean-based GFLOP/s, best-iteration GFLOP/s)}."""
    with Probe() as probe:
        out = sh([os.path.join(bench_dir, "bench_sgemm"), f"--benchmark_filter={SGEMM_FILTER}",
                  "--benchmark_format=json"])
    rates = {}
    for b in json.loads(out)["benchmarks"]:
        name = re.sub(r"/(min_time|real_time)[^/]*", "", b["name"])
        rates[name] = b["GFLOP/s"]
        rates[name + " best"] = b["best_GFLOP/s"]
    rates["_foreign"] = probe.foreign
    return rates


# --------------------------------------------------------------------------------------------
# One round: every variant once.

def one_round(args, results):
    def put(key, value):
        results.setdefault(key, []).append(value)

    batches = ",".join(map(str, BATCHES))
    put("sgemm", run_sgemm(args.bench_dir))
    binaries = [("dpmlp", args.dpmlp)] + args.compare
    for b in BATCHES:
        for label, binary in binaries:
            put(f"{label} np=1 b{b}", run_dpmlp(binary, 1, None, b))
            put(f"{label} np=2 shm b{b}", run_dpmlp(binary, 2, "shm", b))
            if label == "dpmlp":
                put(f"{label} np=2 tcp b{b}", run_dpmlp(binary, 2, "tcp", b))
            put(f"{label} np=1 cpu b{b}", run_dpmlp_cpu(binary, b))
        for name, (transport, extra, env) in EXCHANGE_VARIANTS.items():
            put(f"dpmlp np=2 {name} b{b}", run_dpmlp(args.dpmlp, 2, transport, b, env=env, extra=extra))
    for b, d in run_peer("torch_mlp.py", ["--batch", batches]).items():
        put(f"pytorch b{b}", d)
    for b, d in run_peer("torch_mlp.py", ["--batch", batches, "--ddp", "2"]).items():
        put(f"pytorch-ddp b{b}", d)
    for b, d in run_peer("sklearn_mlp.py", ["--batch", batches]).items():
        put(f"sklearn b{b}", d)


def accuracy_runs(args):
    """The README's main job (10 epochs, cosine, np = 2) with fp32 and with bf16 gradients on the wire:
    final test accuracy of each, once (the runs are deterministic for a given wire format)."""
    out = {}
    for wire in ("fp32", "bf16"):
        text = sh(MPIRUN + ["--mca", "btl", TRANSPORT["shm"], args.dpmlp, "train", "--layers", "256,128",
                            "--epochs", "10", "--batch-size", "128", "--lr", "0.05", "--momentum", "0.9",
                            "--lr-schedule", "cosine", "--progress", "off", "--grad-wire", wire],
                  env=mpi_env(), timeout=900)
        m = re.search(r"final: test accuracy ([0-9.]+)%.*test loss ([0-9.eE+-]+),", text)
        if not m:
            raise RuntimeError(f"no final line in the {wire} run:\n{text[-2000:]}")
        out[wire] = {"accuracy": float(m.group(1)), "loss": float(m.group(2))}
    return out


def warm_up(args):
    run_dpmlp(args.dpmlp, 1, None, 512)
    run_dpmlp(args.dpmlp, 2, "shm", 512)
    sh([sys.executable, "-c", "import torch, sklearn.neural_network"])


# --------------------------------------------------------------------------------------------
# Report.

def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def k(x):
    return f"{x / 1000:.1f}k"


def spread(vals, f):
    if not vals:
        return "—"
    return f"{f(med(vals))} ({f(min(vals))}–{f(max(vals))})"


def blas_kernel(binary):
    """The BLAS the dpmlp binary runs with this environment (`dpmlp info --blas --json`)."""
    try:
        out = subprocess.run([binary, "info", "--blas", "--json"], capture_output=True, text=True).stdout
        b = json.loads(out)
    except (OSError, ValueError):
        return "BLAS: ?"
    env = b.get("coretype_env") or "unset"
    return f"BLAS: {b.get('config', '?')}, core {b.get('core', '?')} (OPENBLAS_CORETYPE {env})"


def machine(binary):
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())

    def pkg(name):
        try:
            return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                                  text=True).stdout.strip() or "?"
        except OSError:
            return "?"

    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')} model {info.get('model', '?')}), "
            f"{os.cpu_count()} cores, {platform.system()} {platform.release()}; OpenBLAS "
            f"{pkg('libopenblas0-pthread')}, Open MPI {pkg('openmpi-bin')}, python3-torch {pkg('python3-torch')}, "
            f"python3-sklearn {pkg('python3-sklearn')}; {blas_kernel(binary)}")


def report(results, meta, compare_labels):
    lines = []
    out = lines.append
    rounds = meta["rounds"]
    rate = lambda key: [r["samples_per_sec"] for r in results.get(key, [])]  # noqa: E731
    sg = results.get("sgemm", [])
    sgemm = lambda name: [r.get(name, float("nan")) for r in sg]  # noqa: E731

    def per_round(num, den):
        """Median over rounds of num[i] / den[i]: both measured within the same round."""
        return med([a / b for a, b in zip(num, den)])

    foreign = [r["foreign"] for rs in results.values() for r in rs if "foreign" in r]
    foreign += [r["_foreign"] for r in sg]

    out(f"# dpmlp benchmark, workload W — {meta['date']}")
    out("")
    out(f"Machine: {meta['machine']}. Source: {meta.get('commit', '?')} (the working tree build-bench/ was built from).")
    out(f"Workload W: Fashion-MNIST train (60000), MLP 784-256-128-10 ReLU, softmax cross-entropy, SGD "
        f"momentum 0.9, lr 0.05, fp32, one BLAS thread per process; {FLOPS / 1e6:.4f} MFLOP per sample "
        f"(from the layer shapes).")
    out(f"Medians of {rounds} interleaved rounds after a warm-up round, min–max in brackets; {meta['seconds']:.0f} s "
        f"in all. Noise: other processes used {100 * med(foreign):.0f} % of the machine's CPU during the median "
        f"measurement (min {100 * min(foreign):.0f} %, max {100 * max(foreign):.0f} %); load average "
        f"{meta['load_start']} at the start, {meta['load_end']} at the end.")
    out("")
    out("## Throughput (samples/s) and peak memory")
    out("")
    out("| run | batch 128 | batch 512 | peak RSS per process |")
    out("|---|---|---|---|")
    rows = [("dpmlp np=1", "dpmlp np=1"), ("dpmlp np=2, shared memory", "dpmlp np=2 shm"),
            ("dpmlp np=2, TCP", "dpmlp np=2 tcp")]
    for label in compare_labels:
        rows += [(f"{label} np=1", f"{label} np=1"), (f"{label} np=2, shared memory", f"{label} np=2 shm")]
    rows += [("PyTorch, 1 process, 1 thread", "pytorch"), ("PyTorch DDP, gloo, 2 processes", "pytorch-ddp"),
             ("scikit-learn MLPClassifier (sgd)", "sklearn")]
    dpmlp_rss = []
    for label, key in rows:
        rss = [x for b in BATCHES for r in results.get(f"{key} b{b}", []) for x in r["rss_kb"]]
        if key.startswith("dpmlp"):
            dpmlp_rss += rss
        cells = [spread(rate(f"{key} b{b}"), k) for b in BATCHES]
        out(f"| {label} | {cells[0]} | {cells[1]} | {max(rss) / 1024 if rss else float('nan'):.0f} MB |")
    out("")
    out("dpmlp: training steps only — the `samples_per_sec` of `--metrics`, samples / (compute + allreduce "
        "seconds of the steps), so start-up, data loading and evaluation are not counted. PyTorch: one timed "
        "epoch after 30 warm-up steps. scikit-learn: one timed `partial_fit` over the whole training set "
        "(= one epoch), float32, alpha = 0. Peak RSS: the largest over ranks, batches and rounds "
        "(dpmlp: /usr/bin/time %M of each rank; Python: ru_maxrss of each process).")
    out("")
    out("dpmlp time per step (ms, medians): " + "; ".join(
        f"{key}: compute {med([r['compute_ms_per_step'] for r in results[key]]):.2f}, allreduce "
        f"{med([r['comm_ms_per_step'] for r in results[key]]):.2f}"
        for key in [f"dpmlp np={n} b{b}" if n == 1 else f"dpmlp np=2 {t} b{b}"
                    for b in BATCHES for n, t in ((1, None), (2, "shm"), (2, "tcp"))]) + ".")
    out("")

    out("## One process: training samples per CPU-second")
    out("")
    out("Robust to other load (a process descheduled uses no CPU time), so the fairest single-process "
        "comparison on a busy machine. dpmlp: CPU time of a run of 2 + S steps minus that of a run of 2 steps "
        "(S = 400 at batch 128, 100 at 512); PyTorch and scikit-learn: CPU time of the timed epoch.")
    out("")
    out("| run | batch 128 | batch 512 |")
    out("|---|---|---|")
    cpu_rate = lambda key: [r["samples_per_cpu_sec"] for r in results.get(key, [])]  # noqa: E731
    for label, key in [("dpmlp np=1", "dpmlp np=1 cpu"), ("PyTorch, 1 thread", "pytorch"),
                       ("scikit-learn", "sklearn")] + [(f"{c} np=1", f"{c} np=1 cpu") for c in compare_labels]:
        out(f"| {label} | " + " | ".join(spread(cpu_rate(f"{key} b{b}"), k) for b in BATCHES) + " |")
    cpu_ratio = {}
    for label, a, b_ in [("dpmlp / PyTorch", "dpmlp np=1 cpu", "pytorch"),
                         ("dpmlp / scikit-learn", "dpmlp np=1 cpu", "sklearn")]:
        cpu_ratio[label] = [per_round(cpu_rate(f"{a} b{b}"), cpu_rate(f"{b_} b{b}")) for b in BATCHES]
        out(f"| ratio {label} | {cpu_ratio[label][0]:.2f}× | {cpu_ratio[label][1]:.2f}× |")
    out("")

    out("## OpenBLAS sgemm rate and the FLOP rate dpmlp reaches (GFLOP/s)")
    out("")
    out("| sgemm | 1 thread | 2 threads | 1 thread, best iteration |")
    out("|---|---|---|---|")
    fmt = lambda x: "—" if x != x else f"{x:.1f}"  # noqa: E731
    out(f"| 2048 × 2048 × 2048 | {fmt(med(sgemm('BM_square/n:2048/threads:1')))} | "
        f"{fmt(med(sgemm('BM_square/n:2048/threads:2')))} | {fmt(med(sgemm('BM_square/n:2048/threads:1 best')))} |")
    for b in (64, 128, 256, 512):
        out(f"| the 8 sgemm calls of one W step, batch {b} | {fmt(med(sgemm(f'BM_W_step/batch:{b}/threads:1')))} | "
            f"{fmt(med(sgemm(f'BM_W_step/batch:{b}/threads:2')))} | "
            f"{fmt(med(sgemm(f'BM_W_step/batch:{b}/threads:1 best')))} |")
    out("")
    out("Mean-based rates (first two columns) are what a process gets on this machine as it is now, the same "
        "footing as the dpmlp figures; the best iteration is the rate undisturbed by other processes.")
    out("")
    out("| dpmlp run | per-rank batch | GFLOP/s per rank | / sgemm 2048³, 1 thread | / W's sgemm calls at that batch |")
    out("|---|---|---|---|---|")
    flop = {}
    square = sgemm("BM_square/n:2048/threads:1")
    for np, tr, b in [(1, None, 128), (1, None, 512), (2, "shm", 128), (2, "shm", 512)]:
        key = f"dpmlp np={np} b{b}" if np == 1 else f"dpmlp np=2 {tr} b{b}"
        per_rank = [x * FLOPS / np / 1e9 for x in rate(key)]
        step = sgemm(f"BM_W_step/batch:{b // np}/threads:1")
        flop[(np, b)] = (med(per_rank), per_round(per_rank, square), per_round(per_rank, step))
        out(f"| {key} | {b // np} | {med(per_rank):.1f} | {100 * flop[(np, b)][1]:.0f} % | "
            f"{100 * flop[(np, b)][2]:.0f} % |")
    out("")

    out("## Ratios (median over rounds of the ratio within each round)")
    out("")
    out("| ratio | batch 128 | batch 512 |")
    out("|---|---|---|")
    ratio_rows = [
        ("dpmlp np=1 / PyTorch 1 thread", "dpmlp np=1", "pytorch"),
        ("dpmlp np=1 / scikit-learn", "dpmlp np=1", "sklearn"),
        ("dpmlp np=2 shm / PyTorch DDP", "dpmlp np=2 shm", "pytorch-ddp"),
        ("dpmlp np=2 tcp / PyTorch DDP", "dpmlp np=2 tcp", "pytorch-ddp"),
        ("dpmlp np=2 shm / dpmlp np=1", "dpmlp np=2 shm", "dpmlp np=1"),
        ("dpmlp np=2 tcp / dpmlp np=1", "dpmlp np=2 tcp", "dpmlp np=1"),
        ("PyTorch DDP / PyTorch 1 thread", "pytorch-ddp", "pytorch"),
    ]
    for label in compare_labels:
        ratio_rows += [(f"{label} np=1 / dpmlp np=1", f"{label} np=1", "dpmlp np=1"),
                       (f"{label} np=2 shm / dpmlp np=2 shm", f"{label} np=2 shm", "dpmlp np=2 shm")]
    ratios = {}
    for label, a, b_ in ratio_rows:
        ratios[label] = [per_round(rate(f"{a} b{b}"), rate(f"{b_} b{b}")) for b in BATCHES]
        out(f"| {label} | {ratios[label][0]:.2f}× | {ratios[label][1]:.2f}× |")
    out("")

    out("## Gradient exchange at np = 2")
    out("")
    out("Each variant against the default in the same round: one fused fp32 allreduce after backward, with the "
        "Open MPI parameters dpmlp sets (ring iallreduce, no CMA single-copy; docs/performance.md).")
    out("")
    out("| variant | batch 128 | batch 512 | / default, b128 | / default, b512 | compute / allreduce ms per step, b128 |")
    out("|---|---|---|---|---|---|")
    for name, (transport, _, _) in [("default (fused fp32)", ("shm", None, None))] + list(EXCHANGE_VARIANTS.items()):
        key = "dpmlp np=2 shm" if name.startswith("default") else f"dpmlp np=2 {name}"
        base = "dpmlp np=2 tcp" if transport == "tcp" else "dpmlp np=2 shm"
        cells = [spread(rate(f"{key} b{b}"), k) for b in BATCHES]
        rel = [per_round(rate(f"{key} b{b}"), rate(f"{base} b{b}")) for b in BATCHES]
        ms = results.get(f"{key} b128", [])
        split = (f"{med([r['compute_ms_per_step'] for r in ms]):.2f} / {med([r['comm_ms_per_step'] for r in ms]):.2f}"
                 if ms else "—")
        label = name if transport == "shm" else f"{name} (vs fused fp32 over TCP)"
        out(f"| {label} | {cells[0]} | {cells[1]} | {rel[0]:.2f}× | {rel[1]:.2f}× | {split} |")
    acc = results.get("accuracy")
    if acc:
        a = acc[0]
        out("")
        out(f"Accuracy with bf16 on the wire (the README's main job: 10 epochs, cosine, np = 2): fp32 "
            f"{a['fp32']['accuracy']:.2f} % (test loss {a['fp32']['loss']:.4f}), bf16 {a['bf16']['accuracy']:.2f} % "
            f"(test loss {a['bf16']['loss']:.4f}).")
    out("")

    out("## Targets")
    out("")
    out("| target | measured | |")
    out("|---|---|---|")

    def target(text, value, ok):
        out(f"| {text} | {value} | {'MET' if ok else 'NOT MET'} |")

    r = ratios["dpmlp np=1 / PyTorch 1 thread"][0]
    target("dpmlp np=1 ≥ 1.3× PyTorch 1 thread (batch 128)", f"{r:.2f}×", r >= 1.3)
    r = cpu_ratio["dpmlp / PyTorch"][0]
    target("… the same per CPU-second (cross-check, robust to load)", f"{r:.2f}×", r >= 1.3)
    r = ratios["dpmlp np=2 shm / dpmlp np=1"][0]
    target("dpmlp np=2 ≥ 1.75× np=1 (batch 128, shared memory)", f"{r:.2f}×", r >= 1.75)
    r = ratios["dpmlp np=2 shm / PyTorch DDP"][0]
    target("dpmlp np=2 ≥ 4× PyTorch DDP (batch 128, shared memory)", f"{r:.2f}×", r >= 4.0)
    for np, b in [(1, 512), (2, 512)]:
        per_rank, vs_square, vs_step = flop[(np, b)]
        target(f"FLOP rate ≥ 80 % of sgemm (2048³, 1 thread) at per-rank batch {b // np} (np={np}, batch {b})",
               f"{per_rank:.1f} GFLOP/s = {100 * vs_square:.0f} % ({100 * vs_step:.0f} % of W's own sgemm calls)",
               vs_square >= 0.8)
    peak = max(dpmlp_rss) / 1024 if dpmlp_rss else float("nan")
    target("peak memory ≤ 120 MB per rank (every dpmlp run)", f"{peak:.0f} MB", peak <= 120)
    out("")

    out("## Every round (samples/s; other processes' CPU share in brackets)")
    out("")
    for key in sorted(k_ for k_ in results if k_ not in ("sgemm", "accuracy")):
        field = "samples_per_sec" if "samples_per_sec" in results[key][0] else "samples_per_cpu_sec"
        vals = ", ".join(f"{k(r[field])} ({100 * r['foreign']:.0f} %)" for r in results[key])
        out(f"- {key}: {vals}")
    for name in sorted({n for r in sg for n in r if not n.startswith("_")}):
        out(f"- sgemm {name}: " + ", ".join(f"{r[name]:.1f}" for r in sg if name in r) + " GFLOP/s")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build-bench"), help="build directory (DPMLP_BENCH=ON)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--compare", action="append", default=[], metavar="LABEL=BINARY",
                   help="also time this dpmlp binary (np=1, np=2 shm) in every round, e.g. before=/tmp/old/dpmlp")
    p.add_argument("--out", default=None, help="Markdown file (default bench/results-<date>.md)")
    p.add_argument("--no-accuracy", action="store_true", help="skip the fp32-vs-bf16 accuracy runs (about 1 min)")
    p.add_argument("--raw", default=None, help="also write every measurement as JSON here (for cost_model.py)")
    args = p.parse_args()
    args.dpmlp = os.path.join(args.build, "dpmlp")
    args.bench_dir = os.path.join(args.build, "bench")
    args.compare = [tuple(c.split("=", 1)) for c in args.compare]
    for label, binary in args.compare:
        if not os.access(binary, os.X_OK) or not label or " " in label:
            p.error(f"--compare {label}={binary}: need LABEL (no spaces) = an executable dpmlp")
    date = datetime.date.today().isoformat()
    out_path = args.out or os.path.join(HERE, f"results-{date}.md")

    t0 = time.time()
    load_start = " ".join(open("/proc/loadavg").read().split()[:3])
    print("warm-up round ...", file=sys.stderr, flush=True)
    warm_up(args)
    results = {}
    for i in range(args.rounds):
        print(f"round {i + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
        one_round(args, results)
    if not args.no_accuracy:
        print("accuracy: the main job with fp32 and bf16 gradients ...", file=sys.stderr, flush=True)
        results["accuracy"] = [accuracy_runs(args)]
    try:
        commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                                text=True).stdout.strip() or "?"
    except OSError:
        commit = "?"
    meta = {"date": date, "machine": machine(args.dpmlp), "commit": commit, "rounds": args.rounds,
            "seconds": time.time() - t0,
            "load_start": load_start, "load_end": " ".join(open("/proc/loadavg").read().split()[:3])}
    text = report(results, meta, [label for label, _ in args.compare])
    print(text)
    with open(out_path, "w") as f:
        f.write(text)
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    print(f"written {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
