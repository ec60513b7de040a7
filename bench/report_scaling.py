"""The report's sections on scaling past W: the wide net 784-4096-2048-10 at np = 1 and 2, and the
allreduce sweep (1 KiB .. 200 MB at np = 2 over shared memory and TCP) against its α–β trend."""
import statistics

import fit_allreduce
import measure as M

WIDE_TARGET = 1.85
SWEEP_TARGET = 0.70


def _med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def _ratio(num, den):
    return _med([a / b for a, b in zip(num, den) if b])


def _fmt_ratio(r):
    return "—" if r != r else f"{r:.2f}×"


def wide_section(results, meta, lines):
    """Appends the wide net's table; returns {kernel: median per-round np=2 / np=1}."""
    K = meta["kernels"]
    rate = {kern: {np: [r["samples_per_sec"] for r in results.get(kern, {}).get(key, [])]
                   for np, key in ((1, "wide np=1 b512"), (2, "wide np=2 shm b512"), ("t2", "wide np=1 t2 b512"),
                                   ("rep", "wide np=2 rep b512"))}
            for kern in K}
    if not any(rate[kern][1] or rate[kern][2] for kern in K):
        return {}
    out = lines.append
    w = M.WIDE_LAYERS
    out("## The wide net (784-4096-2048-10)")
    out("")
    out(f"{M.params(w) / 1e6:.1f}M parameters, a {4 * (M.params(w) + 5) / 1e6:.1f} MB gradient, "
        f"np = 2 with the default sharded update (its window would exceed 32 MiB, so over MPI's ring "
        f"reduce-scatter and allgather) and with `--update replicated` (Open MPI's allreduce), "
        f"{M.flops_per_sample(w) / 1e6:.1f} MFLOP per sample; batch 512, SGD momentum 0.9, lr 0.01, one BLAS "
        f"thread per rank; np = 2 under mpirun bound to cores over shared memory. Each run trains "
        f"{meta['wide_steps']} steps of whole batches (epochs of the first {meta['wide_per_epoch'] * 512} "
        f"training samples, `--train-samples`: the trainer writes a metrics record only at an epoch's end, so a "
        f"`--max-steps` stop inside the epoch would leave none); samples/s = samples / (compute + allreduce "
        f"seconds of those steps), from the records, as for W.")
    out("")
    out("| kernel | np=1 samples/s | np=2 samples/s | np=2 / np=1 (median of per-round ratios) | "
        "np=1 compute ms/step | np=2 compute / allreduce ms/step | peak RSS per rank | target np=2 ≥ 1.85× np=1 | "
        "np=1 × 2 threads samples/s | np=2 / np=1 × 2 threads | np=2 replicated update samples/s | "
        "np=2 sharded / replicated |")
    out("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    for kern in K:
        res = results.get(kern, {})
        r1, r2 = res.get("wide np=1 b512", []), res.get("wide np=2 shm b512", [])

        def cell(vals):
            return (f"{_med(vals):.0f} ({min(vals):.0f}–{max(vals):.0f})" if vals else "—")

        ratios[kern] = _ratio(rate[kern][2], rate[kern][1])
        c1 = f"{_med([r['compute_ms_per_step'] for r in r1]):.1f}" if r1 else "—"
        c2 = (f"{_med([r['compute_ms_per_step'] for r in r2]):.1f} / {_med([r['comm_ms_per_step'] for r in r2]):.1f}"
              if r2 else "—")
        rss = [x for r in r1 + r2 for x in r["rss_kb"]]
        ok = ratios[kern]
        out(f"| {kern} | {cell(rate[kern][1])} | {cell(rate[kern][2])} | "
            f"{'—' if ok != ok else f'{ok:.2f}×'} | {c1} | {c2} | {f'{max(rss) / 1024:.0f} MB' if rss else '—'} | "
            f"{'not measured' if ok != ok else ('MET' if ok >= WIDE_TARGET else 'NOT MET')} | "
            f"{cell(rate[kern]['t2'])} | {_fmt_ratio(_ratio(rate[kern][2], rate[kern]['t2']))} | "
            f"{cell(rate[kern]['rep'])} | {_fmt_ratio(_ratio(rate[kern][2], rate[kern]['rep']))} |")
    out("")
    return ratios


def size_label(nbytes):
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale} {unit}"
    if nbytes >= 1e6:
        return f"{nbytes / 1e6:.1f} MB"
    return f"{nbytes:.0f} B" if nbytes < 1000 else f"{nbytes / 1e3:.1f} kB"


NAMED = {235151: " (W's gradient)", 11626511: " (the wide net's gradient)"}


def sweep_section(sweep, lines):
    """Appends the sweep's tables; returns {transport: (sizes at ≥ 70 % of the trend, sizes)}."""
    if not sweep:
        return {}
    out = lines.append
    out("## Allreduce sweep, np = 2 (bench_allreduce)")
    out("")
    ctx = next(iter(sweep.values())).get("context", {})
    out("`Communicator::AllreduceSum` (MPI_Iallreduce + MPI_Wait, in place, fp32 SUM), the call dpmlp's gradient "
        "exchange makes, under `mpirun -np 2 --bind-to core --map-by core --mca pml ob1 --mca btl self,vader` "
        "(shm) or `self,tcp` (TCP over loopback). It runs with what dpmlp runs with: the Open MPI parameters "
        f"dpmlp sets before MPI_Init ({ctx.get('openmpi_mca', '?')}) and dpmlp's malloc policy "
        f"({ctx.get('malloc', '?')}), as the binary reports them. OpenBLAS plays no part, so the sweep runs once, "
        "with the environment as given. Time per size: the median over its iterations (fixed per size, "
        "the same on both ranks; 2 GB per size, 5 to 20000). The trend is bench/fit_allreduce.py's α–β fit "
        "t = 2(p−1)·α + 2(p−1)/p · bytes/β (α from 1-100 floats, β a capped log-error fit over ≥ 1000 floats); "
        "% of trend = trend time / measured time (the bandwidth reached as a share of the trend's). "
        "Target: ≥ 70 % of the trend at every size.")
    out("")
    summary = {}
    for transport, data in sweep.items():
        p, points = fit_allreduce.points_of(data)
        alpha, beta = fit_allreduce.fit(p, points)
        iters = {int(r["name"].split("floats:")[1].split("/")[0]): r.get("iterations", "?")
                 for r in data["benchmarks"]}
        mins = {int(r["name"].split("floats:")[1].split("/")[0]): r.get("min_us", float("nan"))
                for r in data["benchmarks"]}
        out(f"### {transport}: α = {alpha * 1e6:.2f} µs, β = {beta / 1e9:.2f} GB/s "
            f"(other processes used {100 * data.get('_foreign', float('nan')):.0f} % of the CPU meanwhile)")
        out("")
        if "shared-memory sum" in transport:
            out("`Communicator::SharedSum` as training runs it: the slot already written, the sum read in place "
                "(no copy is timed), two barriers. Its fit comes from sizes that stay in the caches; beyond them "
                "the sum is bound by memory bandwidth, so the trend overstates it there. For information: the "
                "≥ 70 % target is the MPI allreduce's.")
            out("")
        out("| size | floats | iterations | median µs | min µs | algbw GB/s | trend µs | % of trend | ≥ 70 % |")
        out("|---|---|---|---|---|---|---|---|---|")
        met = total = 0
        for n, t in points.items():
            model = fit_allreduce.model(alpha, beta, p, 4.0 * n)
            share = model / t
            ok = share >= SWEEP_TARGET
            met, total = met + ok, total + 1
            out(f"| {size_label(4 * n)}{NAMED.get(n, '')} | {n} | {iters.get(n, '?')} | {t * 1e6:.1f} | "
                f"{mins.get(n, float('nan')):.1f} | {4 * n / t / 1e9:.2f} | {model * 1e6:.1f} | "
                f"{100 * share:.0f} % | {'MET' if ok else 'NOT MET'} |")
        out("")
        summary[transport] = (met, total)
    return summary
