#!/usr/bin/env python3
"""Where a dpmlp training run spends its time, from `perf script` call stacks.

Usage: perf script -F ip,sym -i perf.data | bench/perf_breakdown.py

Every sample (one call stack, leaf first) is put in one bucket by the frames it contains: startup,
epoch-end evaluation, or a part of the training step (data gather, the sgemm calls of forward and
backward, the fused bias/activation passes, loss, gradient-norm check, optimizer update,
allreduce). Percentages are printed of all samples and of the training-step samples only.
"""
import collections
import sys


def bucket(frames):
    """frames: symbol names, leaf first."""
    joined = "\n".join(frames)
    if "EvaluateSharded" in joined:
        return "epoch-end evaluation", False
    if "Trainer::Impl::Run" not in joined:
        return "startup (data load, init, exit)", False
    leaf = frames[0] if frames else "?"
    sgemm = any(f.startswith(("sgemm_", "cblas_sgemm", "blas_thread", "exec_blas")) for f in frames)

    def has(name):
        return name in joined

    if has("GatherInputs") or has("GatherTargets"):
        return "data gather (uint8->float, normalise)", True
    if has("Network<float>::Forward"):
        if sgemm:
            return "forward sgemm", True
        if has("ActivateHidden"):
            return "forward bias+activation pass", True
        return "forward output bias+softmax", True
    if has("Network<float>::Loss"):
        return "loss (log-sum-exp, dC/dz)", True
    if has("Network<float>::Backward"):
        if sgemm:
            if any(f.startswith("sgemm_nt") for f in frames):
                return "backward sgemm: weight gradient", True
            if any(f.startswith("sgemm_nn") for f in frames):
                return "backward sgemm: input gradient", True
            return "backward sgemm: other", True
        if has("ActivationGrad"):
            return "backward activation-derivative pass", True
        if "memset" in leaf:
            return "backward zeroing of gradients", True
        return "backward bias-gradient sum", True
    if has("MeanGradNorm"):
        return "gradient-norm (finiteness) check", True
    if has("MomentumSgd::Step"):
        return "optimizer update", True
    if has("Allreduce") or has("mca_") or has("ompi_") or has("PMPI"):
        return "allreduce", True
    return "step: other (" + leaf.split("(")[0][:60] + ")", True


def stacks(stream):
    frames = []
    for line in stream:
        line = line.strip()
        if not line:
            if frames:
                yield frames
            frames = []
            continue
        parts = line.split(None, 1)
        frames.append(parts[1] if len(parts) > 1 else parts[0])
    if frames:
        yield frames


def main():
    counts = collections.Counter()
    in_step = collections.Counter()
    for frames in stacks(sys.stdin):
        name, step = bucket(frames)
        counts[name] += 1
        if step:
            in_step[name] += 1
    total, step_total = sum(counts.values()), sum(in_step.values())
    if total == 0:
        sys.exit("no samples")
    print(f"{'bucket':45s} {'% all':>7s} {'% step':>7s}")
    for name, n in counts.most_common():
        s = f"{100.0 * in_step[name] / step_total:6.1f}%" if name in in_step and step_total else "      -"
        print(f"{name:45s} {100.0 * n / total:6.1f}% {s}")
    print(f"{'(samples: ' + str(total) + ', in the training step: ' + str(step_total) + ')':45s}")


if __name__ == "__main__":
    main()
