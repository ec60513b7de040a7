#!/usr/bin/env python3
"""The side-by-side benchmark of workload W, the wide net and the allreduce sweep. Run it through
bench/run.sh, which installs what is missing and builds; this file runs the rounds, measure.py
measures, report.py and report_scaling.py write the Markdown.

Two BLAS kernels. Every row is measured twice in every round: once with the environment as given
("env": on the benchmark machines OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE force OpenBLAS's
AVX2 kernel) and once with both variables removed from the child command's environment ("native":
OpenBLAS picks its core, SkylakeX/Cooperlake on Zen 5). The two runs of a row follow each other;
which kernel goes first alternates between rounds. The core each kernel gives is recorded: dpmlp's
from `dpmlp info --blas --json` and from every run's metrics (blas_core), the peers' from
threadpoolctl inside their own process, bench_sgemm's is dpmlp's (the same libopenblas). When both
environments give the same core, that is said once and every row is measured once.

Each round runs every variant once, in the same order, so slow spells of a shared machine hit all
variants alike; a variant's figure is the median over the rounds (min-max printed beside it), and a
ratio is the median of the per-round ratios. A warm-up round is run first and thrown away.

  dpmlp      samples/s = samples / (compute + allreduce seconds of the training steps), from the
             --metrics records (start-up, data loading and evaluation not counted). np = 1 runs
             without mpirun; np = 2 under mpirun bound to cores, over shared memory (ob1 + vader) or
             TCP (ob1 + tcp on loopback). W: one epoch at batch 128 and 512, the exchange variants
             (the replicated update among them).
  cpu        dpmlp np=1 training samples per CPU-second (two --max-steps runs, difference).
  wide       784-4096-2048-10 at batch 512, np = 1 and np = 2 (shm; the sharded update, and the
             replicated one beside it), --wide-steps steps.
  threads    ranks x threads: np = 1 with 2 OpenBLAS threads (--threads 2) beside np = 2 x 1 thread,
             for W and the wide net.
  PyTorch    bench/peers/torch_mlp.py: one timed epoch after 30 warm-up steps, 1 thread; and DDP
             (gloo, 2 processes).
  sklearn    bench/peers/sklearn_mlp.py: one timed partial_fit over the training set (one epoch).
  sgemm      bench_sgemm: 2048^3 at 1 and 2 threads, the eight sgemm calls of one W step.
  sweep      bench_allreduce at np = 2, shm and TCP, 1 float .. 200 MB, with dpmlp's Open MPI
             parameters and malloc policy; fitted with fit_allreduce.py. Once, after the rounds.
  memory     peak resident set of every dpmlp rank (/usr/bin/time %M) and Python process.
  load       the share of the machine's CPU time used by OTHER processes during each measurement.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time

import measure as M
import report

EXCHANGE_VARIANTS = {  # label -> (transport, extra dpmlp options, environment)
    "replicated update (--update replicated)": ("shm", ["--update", "replicated"], {}),
    "bucketed 256 KiB": ("shm", ["--allreduce-bucket-kb", "256"], {}),
    "bucketed 64 KiB": ("shm", ["--allreduce-bucket-kb", "64"], {}),
    "bf16": ("shm", ["--grad-wire", "bf16"], {}),
    "MPI ring reduce-scatter + allgather (--allreduce mpi)": ("shm", ["--allreduce", "mpi"], {}),
    "MPI ring, allgather overlapped (--allreduce mpi --overlap-gather)":
        ("shm", ["--allreduce", "mpi", "--overlap-gather"], {}),
    "Open MPI's allreduce, replicated update (--allreduce mpi --update replicated)":
        ("shm", ["--allreduce", "mpi", "--update", "replicated"], {}),
    "Open MPI's own defaults (--allreduce mpi --update replicated)":
        ("shm", ["--allreduce", "mpi", "--update", "replicated"], {"DPMLP_MPI_DEFAULTS": "off"}),
    "tcp replicated update": ("tcp", ["--update", "replicated"], {}),
    "tcp allgather overlapped (--overlap-gather)": ("tcp", ["--overlap-gather"], {}),
    "tcp bf16": ("tcp", ["--grad-wire", "bf16"], {}),
}
PARTS = ("w", "sgemm", "peers", "wide", "sweep")


def tasks(args):
    """[(name, fn(kernel) -> {results key: measurement})] of one round, in order."""
    t, batches = [], ",".join(map(str, args.batches))
    if "sgemm" in args.only:
        t.append(("sgemm", lambda kern: {"sgemm": M.run_sgemm(args.bench_dir, kern)}))
    if "w" in args.only:
        for b in args.batches:
            for label, binary in [("dpmlp", args.dpmlp)] + args.compare:
                t.append((f"{label} np=1 b{b}", lambda kern, bn=binary, b=b, lb=label:
                          {f"{lb} np=1 b{b}": M.run_dpmlp(bn, 1, None, b, kern)}))
                t.append((f"{label} np=2 shm b{b}", lambda kern, bn=binary, b=b, lb=label:
                          {f"{lb} np=2 shm b{b}": M.run_dpmlp(bn, 2, "shm", b, kern)}))
                if label == "dpmlp":
                    t.append((f"dpmlp np=2 tcp b{b}", lambda kern, b=b:
                              {f"dpmlp np=2 tcp b{b}": M.run_dpmlp(args.dpmlp, 2, "tcp", b, kern)}))
                    # Ranks x threads: the two cores as one rank with 2 OpenBLAS threads.
                    t.append((f"dpmlp np=1 t2 b{b}", lambda kern, b=b:
                              {f"dpmlp np=1 t2 b{b}": M.run_dpmlp(args.dpmlp, 1, None, b, kern,
                                                                  extra=["--threads", "2"])}))
                t.append((f"{label} np=1 cpu b{b}", lambda kern, bn=binary, b=b, lb=label:
                          {f"{lb} np=1 cpu b{b}": M.run_dpmlp_cpu(bn, b, kern)}))
            for name, (tr, extra, env) in EXCHANGE_VARIANTS.items():
                t.append((f"dpmlp np=2 {name} b{b}", lambda kern, b=b, name=name, tr=tr, extra=extra, env=env:
                          {f"dpmlp np=2 {name} b{b}": M.run_dpmlp(args.dpmlp, 2, tr, b, kern, env=env, extra=extra)}))
    if "peers" in args.only:
        peers = [("pytorch", "torch_mlp.py", ["--batch", batches])]
        if not args.quick:
            peers.append(("pytorch-ddp", "torch_mlp.py", ["--batch", batches, "--ddp", "2"]))
        peers.append(("sklearn", "sklearn_mlp.py", ["--batch", batches]))
        for key, script, extra in peers:
            t.append((key, lambda kern, key=key, script=script, extra=extra:
                      {f"{key} b{b}": d for b, d in M.run_peer(script, extra, kern).items()}))
    if "wide" in args.only:
        t.append(("wide np=1", lambda kern: {"wide np=1 b512": M.run_wide(args.dpmlp, 1, kern, args.wide_steps)}))
        t.append(("wide np=2", lambda kern: {"wide np=2 shm b512": M.run_wide(args.dpmlp, 2, kern, args.wide_steps)}))
        t.append(("wide np=2 replicated", lambda kern: {"wide np=2 rep b512": M.run_wide(
            args.dpmlp, 2, kern, args.wide_steps, extra=["--update", "replicated"])}))
        t.append(("wide np=1 t2", lambda kern: {"wide np=1 t2 b512": M.run_wide(args.dpmlp, 1, kern, args.wide_steps,
                                                                                  threads=2)}))
    return t


def one_round(round_tasks, kernels, results, index, seconds):
    """Every task once under each kernel, back to back; `seconds` sums each task's wall time."""
    order = kernels if index % 2 == 0 else kernels[::-1]
    for name, fn in round_tasks:
        for kern in order:
            t0 = time.time()
            for key, value in fn(kern).items():
                results[kern].setdefault(key, []).append(value)
            part = name.split(" ")[0] if name.startswith(("pytorch", "sklearn", "sgemm", "wide")) else "W"
            seconds[part] = seconds.get(part, 0.0) + time.time() - t0
            print(f"  {name} [{kern}] {time.time() - t0:.1f} s", file=sys.stderr, flush=True)


def choose_kernels(args):
    """The kernels to measure and what each gives (dpmlp info --blas --json under it)."""
    blas = {kern: M.dpmlp_blas(args.dpmlp, kern) for kern in ("env", "native")}
    kernels, note = [k for k in ("native", "env") if k in args.kernels], None
    same = (blas["env"].get("core"), blas["env"].get("config")) == (blas["native"].get("core"),
                                                                    blas["native"].get("config"))
    if len(kernels) == 2 and same:
        present = [v for v in M.KERNEL_VARS if v in os.environ]
        note = (f"The environment as given and the one without {' and '.join(M.KERNEL_VARS)} give the same "
                f"OpenBLAS core ({blas['env'].get('core', '?')}; set here: {', '.join(present) or 'neither'}), "
                f"so every row is measured once, as env.")
        kernels = ["env"]
    return kernels, {k: blas[k] for k in kernels}, note


def accuracy_runs(args):
    """The README's main job (10 epochs, cosine, np = 2) with fp32 and with bf16 gradients on the wire:
    final test accuracy of each, once, at the env kernel (the runs are deterministic)."""
    out = {}
    for wire in ("fp32", "bf16"):
        text = M.sh(M.MPIRUN + ["--mca", "btl", M.TRANSPORT["shm"], args.dpmlp, "train", "--layers", "256,128",
                                "--epochs", "10", "--batch-size", "128", "--lr", "0.05", "--momentum", "0.9",
                                "--lr-schedule", "cosine", "--progress", "off", "--grad-wire", wire],
                    "env", env=M.mpi_env(), timeout=900)
        m = re.search(r"final: test accuracy ([0-9.]+)%.*test loss ([0-9.eE+-]+),", text)
        if not m:
            raise RuntimeError(f"no final line in the {wire} run:\n{text[-2000:]}")
        out[wire] = {"accuracy": float(m.group(1)), "loss": float(m.group(2))}
    return out


def warm_up(args, kernels):
    b = args.batches[-1]
    for kern in kernels:
        M.run_dpmlp(args.dpmlp, 1, None, b, kern)
        M.run_dpmlp(args.dpmlp, 2, "shm", b, kern)
    if "peers" in args.only:
        M.sh([sys.executable, "-c", "import torch, sklearn.neural_network"], "env")


def machine():
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

    avx512 = "avx512f" in info.get("flags", "").split()
    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')} model {info.get('model', '?')}"
            f"{', AVX-512' if avx512 else ', no AVX-512'}), {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}; OpenBLAS {pkg('libopenblas0-pthread')}, Open MPI {pkg('openmpi-bin')}, "
            f"python3-torch {pkg('python3-torch')}, python3-sklearn {pkg('python3-sklearn')}")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(M.ROOT, "build-bench"), help="build directory (DPMLP_BENCH=ON)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--kernels", default="env,native", help="env, native or both (env,native)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1 round, batch 128 only, no PyTorch DDP, no accuracy runs, a 20-step wide net, "
                        "the sweep at a tenth of its iterations; written to the build directory")
    p.add_argument("--only", default=",".join(PARTS), help=f"parts to measure, of {','.join(PARTS)}")
    p.add_argument("--wide-steps", type=int, default=None, help="training steps per wide-net run (default 200)")
    p.add_argument("--compare", action="append", default=[], metavar="LABEL=BINARY",
                   help="also time this dpmlp binary (np=1, np=2 shm) in every round, e.g. before=/tmp/old/dpmlp")
    p.add_argument("--out", default=None, help="Markdown file (default bench/results-<date>.md)")
    p.add_argument("--no-accuracy", action="store_true", help="skip the fp32-vs-bf16 accuracy runs (about 1 min)")
    p.add_argument("--raw", default=None, help="also write every measurement as JSON here (for cost_model.py)")
    args = p.parse_args()
    args.dpmlp = os.path.join(args.build, "dpmlp")
    args.bench_dir = os.path.join(args.build, "bench")
    args.kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    args.only = [x.strip() for x in args.only.split(",") if x.strip()]
    if not args.kernels or any(k not in ("env", "native") for k in args.kernels):
        p.error("--kernels: env, native or env,native")
    if any(x not in PARTS for x in args.only):
        p.error(f"--only: a comma-separated list of {', '.join(PARTS)}")
    args.compare = [tuple(c.split("=", 1)) for c in args.compare]
    for label, binary in args.compare:
        if not os.access(binary, os.X_OK) or not label or " " in label:
            p.error(f"--compare {label}={binary}: need LABEL (no spaces) = an executable dpmlp")
    if args.quick:
        args.rounds, args.no_accuracy = 1, True
    args.batches = [128] if args.quick else [128, 512]
    args.wide_steps = args.wide_steps or (20 if args.quick else 200)
    args.sweep_scale = 0.1 if args.quick else 1.0
    return args


def main():
    args = parse_args()
    date = datetime.date.today().isoformat()
    default_out = (os.path.join(args.build, f"results-quick-{date}.md") if args.quick
                   else os.path.join(M.HERE, f"results-{date}.md"))
    out_path = args.out or default_out

    t0 = time.time()
    load_start = " ".join(open("/proc/loadavg").read().split()[:3])
    kernels, blas, note = choose_kernels(args)
    for kern in kernels:
        print(f"kernel {kern}: {M.describe_blas(blas[kern])}", file=sys.stderr)
    if note:
        print(note, file=sys.stderr)
    print("warm-up round ...", file=sys.stderr, flush=True)
    warm_up(args, kernels)
    seconds = {"warm-up": time.time() - t0}
    results = {kern: {} for kern in kernels}
    round_tasks = tasks(args)
    for i in range(args.rounds if round_tasks else 0):
        print(f"round {i + 1}/{args.rounds} ...", file=sys.stderr, flush=True)
        one_round(round_tasks, kernels, results, i, seconds)
    sweep = {}
    if "sweep" in args.only:
        t1 = time.time()
        for transport in ("shm", "tcp"):
            print(f"allreduce sweep, {transport} ...", file=sys.stderr, flush=True)
            sweep[transport] = M.run_sweep(args.bench_dir, transport,
                                           os.path.join(args.bench_dir, f"allreduce-{transport}.json"),
                                           args.sweep_scale)
        print("shared-memory sum sweep ...", file=sys.stderr, flush=True)
        sweep["shm, shared-memory sum (--allreduce auto on one host)"] = M.run_sweep(
            args.bench_dir, "shm", os.path.join(args.bench_dir, "allreduce-shared.json"), args.sweep_scale,
            shared=True)
        seconds["sweep"] = time.time() - t1
    accuracy = None
    if not args.no_accuracy and "w" in args.only:
        print("accuracy: the main job with fp32 and bf16 gradients ...", file=sys.stderr, flush=True)
        t1 = time.time()
        accuracy = accuracy_runs(args)
        seconds["accuracy"] = time.time() - t1
    try:
        commit = subprocess.run(["git", "-C", M.ROOT, "describe", "--always", "--dirty"], capture_output=True,
                                text=True).stdout.strip() or "?"
    except OSError:
        commit = "?"
    per_epoch, epochs = M.wide_plan(args.wide_steps)
    meta = {"date": date, "machine": machine(), "commit": commit, "rounds": args.rounds, "quick": args.quick,
            "kernels": kernels, "blas": blas, "same_kernel_note": note, "batches": args.batches,
            "exchange_variants": EXCHANGE_VARIANTS, "accuracy": accuracy,
            "wide_steps": per_epoch * epochs, "wide_per_epoch": per_epoch,
            "seconds": time.time() - t0, "part_seconds": seconds, "load_start": load_start,
            "load_end": " ".join(open("/proc/loadavg").read().split()[:3])}
    text = report.report(results, meta, [label for label, _ in args.compare], sweep)
    print(text)
    with open(out_path, "w") as f:
        f.write(text)
    if args.raw:
        judged = "native" if "native" in results else kernels[0]
        with open(args.raw, "w") as f:  # "results": the judged kernel's, the layout cost_model.py reads
            json.dump({"meta": meta, "results": results[judged], "kernels": results, "sweep": sweep}, f, indent=1)
    print(f"written {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
