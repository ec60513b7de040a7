"""Measurements of bench/run.py: one function per kind of row, each run under one BLAS kernel.

A kernel is the environment a child command runs with:
  env     the environment as given (on the benchmark machines it sets OPENBLAS_CORETYPE=Haswell and
          OPENBLAS_L2_SIZE, which force OpenBLAS's AVX2 kernel);
  native  the same with both variables removed, so OpenBLAS picks its core itself (SkylakeX or
          Cooperlake on the AVX-512 Zen 5 machines).
Only the benchmark's own child commands are changed; this process's environment is not.
"""
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

KERNEL_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
LAYERS = [784, 256, 128, 10]
W_ARGS = ["--layers", "256,128", "--activation", "relu", "--lr", "0.05", "--momentum", "0.9",
          "--threads", "1", "--progress", "off"]
# The wide net: 784-4096-2048-10, 11.6M parameters, a 46.5 MB gradient. A smaller
# lr than W's (speed does not depend on it; a diverged run would end early). Evaluation is cut to
# 1000 test samples: it is not timed, only waited for.
WIDE_LAYERS = [784, 4096, 2048, 10]
WIDE_ARGS = ["--layers", "4096,2048", "--activation", "relu", "--lr", "0.01", "--momentum", "0.9",
             "--threads", "1", "--progress", "off", "--test-samples", "1000"]
TRAIN_SAMPLES = 60000  # Fashion-MNIST's training set
MPIRUN = ["mpirun", "-np", "2", "--bind-to", "core", "--map-by", "core", "--mca", "pml", "ob1"]
TRANSPORT = {"shm": "self,vader", "tcp": "self,tcp"}


def flops_per_sample(widths):
    """2 per weight forward, 2 for the weight gradient, 2 for the input gradient above layer 1."""
    weights = [widths[i] * widths[i + 1] for i in range(len(widths) - 1)]
    return 4.0 * sum(weights) + 2.0 * sum(weights[1:])


def params(widths):
    return sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(len(widths) - 1))


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


def kernel_env(kernel):
    """The environment of a child command under this kernel (see the module's docstring)."""
    e = dict(os.environ)
    if kernel == "native":
        for v in KERNEL_VARS:
            e.pop(v, None)
    elif kernel != "env":
        raise ValueError(f"unknown kernel {kernel!r} (env or native)")
    return e


def sh(cmd, kernel, env=None, timeout=600):
    e = kernel_env(kernel)
    e.update(env or {})
    p = subprocess.run(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p.stdout


def mpi_env():
    return {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "0"}


# --------------------------------------------------------------------------------------------
# Which OpenBLAS core a kernel gives.

def dpmlp_blas(binary, kernel):
    """`dpmlp info --blas --json` under this kernel: {config, core, coretype_env, ...}."""
    try:
        return json.loads(sh([binary, "info", "--blas", "--json"], kernel, timeout=60))
    except (OSError, ValueError, RuntimeError) as e:
        return {"core": "unknown", "error": str(e)[:200]}


def describe_blas(b):
    env = b.get("coretype_env") or "unset"
    return f"{b.get('config', '?')}, core {b.get('core', '?')} (OPENBLAS_CORETYPE {env})"


def peer_blas_text(records):
    """The BLAS the peer's own process reported through threadpoolctl (bench/peers/blas_info.py)."""
    seen = []
    for r in records:
        for lib in r.get("blas") or []:
            text = lib if isinstance(lib, str) else (
                f"{lib.get('internal_api', '?')} {lib.get('version') or ''} core {lib.get('architecture', '?')} "
                f"({os.path.basename(lib.get('filepath', '?'))})")
            if text not in seen:
                seen.append(text)
    return "; ".join(seen) if seen else "unknown"


# --------------------------------------------------------------------------------------------
# dpmlp.

def rank_files(tmp):
    """The "rss-kB user-s sys-s" lines rank_rss.sh wrote, one per rank."""
    return [open(os.path.join(tmp, n)).read().strip().splitlines()[-1] for n in sorted(os.listdir(tmp))
            if n.startswith("rss.")]


def run_dpmlp(binary, np, transport, batch, kernel, env=None, extra=(), net_args=W_ARGS, epochs=1):
    """Trains --epochs epochs (one of W by default); returns samples/s over the training steps only,
    from the --metrics records: the samples of every epoch over the compute + allreduce seconds of
    its steps (one epoch: the record's own samples_per_sec). The trainer writes a record only when
    an epoch ends (a --max-steps stop inside an epoch writes none), so a short run shortens the
    epoch with --train-samples in `extra` instead. Also the peak RSS of every rank (kB) and the
    OpenBLAS core rank 0 ran (blas_core of the record)."""
    tmp = tempfile.mkdtemp(prefix="dpmlp-bench.")
    try:
        metrics = os.path.join(tmp, "metrics.jsonl")
        wrap = [os.path.join(HERE, "rank_rss.sh"), tmp]
        if "--threads" in extra:  # extra's thread count replaces the net's one thread
            i = list(net_args).index("--threads")
            net_args = list(net_args[:i]) + list(net_args[i + 2:])
        train = [binary, "train", *net_args, "--batch-size", str(batch), "--epochs", str(epochs),
                 "--metrics", metrics, *extra]
        if transport == "tcp" and "--allreduce" not in extra:
            # TCP stands in for ranks on separate hosts, where the host's shared-memory window does
            # not exist: the gradient sum goes through MPI (and so over TCP) as it would there.
            train += ["--allreduce", "mpi"]
        if np == 1:
            cmd = wrap + train
        else:
            cmd = MPIRUN + ["--mca", "btl", TRANSPORT[transport]] + wrap + train
        with Probe() as probe:
            sh(cmd, kernel, env={**mpi_env(), **(env or {})}, timeout=1800)
        with open(metrics) as f:
            recs = [json.loads(line) for line in f if line.strip()]
        if len(recs) != epochs:
            raise RuntimeError(f"expected {epochs} metrics records, found {len(recs)}")
        rss = [int(f.split()[0]) for f in rank_files(tmp)]
        if any(r.get("world_size") != np for r in recs):
            raise RuntimeError(f"expected world size {np}, metrics say {recs[-1].get('world_size')}")
        samples = sum(r["samples"] for r in recs)
        compute = sum(r["compute_seconds"] for r in recs)
        comm = sum(r.get("comm_seconds", 0.0) for r in recs)
        steps = sum(-(-r["samples"] // batch) for r in recs)
        rate = recs[0]["samples_per_sec"] if epochs == 1 else samples / (compute + comm)
        return {"samples_per_sec": rate, "rss_kb": rss, "foreign": probe.foreign, "steps": steps,
                "blas_core": recs[-1].get("blas_core", "?"),
                "compute_ms_per_step": 1000 * compute / steps, "comm_ms_per_step": 1000 * comm / steps}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_wide(binary, np, kernel, steps, batch=512, threads=1, extra=()):
    """The wide net at np ranks (shared memory): `steps` training steps of whole batches, as epochs
    of at most one pass over the training set cut by --train-samples (per epoch: the same number of
    steps, at most 60000 // batch)."""
    per_epoch, epochs = wide_plan(steps, batch)
    return run_dpmlp(binary, np, "shm", batch, kernel, net_args=WIDE_ARGS, epochs=epochs,
                     extra=["--train-samples", str(per_epoch * batch), "--threads", str(threads), *extra])


def wide_plan(steps, batch=512):
    """(steps per epoch, epochs): at least `steps` in all, at most one pass over the training set
    per epoch, the same number of steps in every epoch."""
    epochs = -(-steps // min(steps, TRAIN_SAMPLES // batch))
    return -(-steps // epochs), epochs


def dpmlp_cpu_seconds(binary, batch, steps, kernel):
    """user + system seconds of a one-process run of W stopped by --max-steps (start-up included)."""
    tmp = tempfile.mkdtemp(prefix="dpmlp-bench.")
    try:
        sh([os.path.join(HERE, "rank_rss.sh"), tmp, binary, "train", *W_ARGS, "--batch-size", str(batch),
            "--epochs", "1", "--max-steps", str(steps)], kernel)
        _, user, system = rank_files(tmp)[0].split()
        return float(user) + float(system)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_dpmlp_cpu(binary, batch, kernel):
    """Training samples per CPU-second of dpmlp np=1: the CPU time of a run of 2 + S steps minus that
    of a run of 2 steps (start-up, data loading and the final evaluation cancel), S steps inside the
    first epoch. Unlike samples/s, this hardly depends on how busy the machine is."""
    steps = 400 if batch <= 128 else 100
    with Probe() as probe:
        short = dpmlp_cpu_seconds(binary, batch, 2, kernel)
        long = dpmlp_cpu_seconds(binary, batch, 2 + steps, kernel)
    return {"samples_per_cpu_sec": steps * batch / max(long - short, 1e-3), "foreign": probe.foreign}


# --------------------------------------------------------------------------------------------
# Peers and sgemm.

def run_peer(script, args, kernel):
    """Runs a Python peer; returns {batch: {samples_per_sec, rss_kb [per process], foreign, blas}}."""
    with Probe() as probe:
        out = sh([sys.executable, os.path.join(HERE, "peers", script), *args], kernel, timeout=900)
    res, recs = {}, {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        recs.setdefault(r["batch"], []).append(r)
        d = res.setdefault(r["batch"], {"samples_per_sec": None, "rss_kb": [], "foreign": probe.foreign})
        d["rss_kb"].append(r["max_rss_kb"])
        d["cpu_seconds"] = d.get("cpu_seconds", 0.0) + r["cpu_seconds"]
        if r["rank"] == 0:
            d["samples"] = r["samples_per_sec"] * r["seconds"]
            d["samples_per_sec"] = r["samples_per_sec"]
            d["info"] = {k: v for k, v in r.items() if k in ("torch", "sklearn", "weights_dtype", "threads")}
    for b, d in res.items():
        d["samples_per_cpu_sec"] = d.pop("samples") / d["cpu_seconds"]
        d["blas"] = peer_blas_text(recs[b])
    return res


SGEMM_FILTER = (r"BM_W_step/batch:(64|128|256|512)/threads:1/|BM_W_step/batch:(128|512)/threads:2/|BM_square/n:2048"
                r"|BM_wide_step")  # the wide MLP's rates feed bench/cost_model.py


def run_sgemm(bench_dir, kernel):
    """{benchmark name without suffixes: (mean-based GFLOP/s, best-iteration GFLOP/s)}."""
    with Probe() as probe:
        out = sh([os.path.join(bench_dir, "bench_sgemm"), f"--benchmark_filter={SGEMM_FILTER}",
                  "--benchmark_format=json"], kernel)
    rates = {}
    for b in json.loads(out)["benchmarks"]:
        name = re.sub(r"/(min_time|real_time)[^/]*", "", b["name"])
        rates[name] = b["GFLOP/s"]
        rates[name + " best"] = b["best_GFLOP/s"]
    rates["_foreign"] = probe.foreign
    return rates


# --------------------------------------------------------------------------------------------
# The allreduce sweep.

def run_sweep(bench_dir, transport, out_json, scale=1.0, shared=False):
    """bench_allreduce at np = 2 over this transport (1 float .. 200 MB), with dpmlp's Open MPI
    parameters and malloc policy (the binary applies both, as dpmlp does, and writes them into its
    JSON's context). OpenBLAS is not involved: run once, with the environment as given. Returns the
    Google Benchmark JSON, also written to out_json (bench/fit_allreduce.py and cost_model.py read it)."""
    cmd = MPIRUN + ["--mca", "btl", TRANSPORT[transport], os.path.join(bench_dir, "bench_allreduce"),
                    f"--iterations_scale={scale}", f"--benchmark_out={out_json}", "--benchmark_out_format=json",
                    "--benchmark_format=json"] + (["--sum=shared"] if shared else [])
    with Probe() as probe:
        sh(cmd, "env", env=mpi_env(), timeout=1800)
    with open(out_json) as f:
        data = json.load(f)
    data["_foreign"] = probe.foreign
    return data
