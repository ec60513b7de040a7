#!/usr/bin/env python3
"""PyTorch peer of dpmlp on workload W: 784-256-128-10 ReLU MLP, softmax cross-entropy, SGD with
momentum 0.9 and lr 0.05, fp32, one intra-op thread per process, data pre-loaded as float tensors.

  torch_mlp.py --batch 128,512             one process
  torch_mlp.py --batch 128,512 --ddp 2     DistributedDataParallel, gloo over loopback TCP, 2
                                           processes each pinned to one core, each taking its half
                                           of every global batch (as dpmlp's ranks do)

For each global batch in the list, with a fresh model: --warmup-steps untimed steps, then
--epochs timed epochs of whole global batches (a training loop only: gather the batch rows,
forward, loss, backward, optimizer step). Prints one JSON line per batch and process with
samples_per_sec (global samples / wall seconds; rank 0's is the figure), cpu_seconds (CPU time of
this process in the timed part), max_rss_kb (peak resident set of this process) and blas (the
OpenBLAS core this process runs, through threadpoolctl: bench/peers/blas_info.py).
"""
import argparse
import json
import os
import resource
import socket
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_info  # noqa: E402
import fmnist  # noqa: E402


def build_model():
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def run(rank, world, args, port):
    torch.set_num_threads(1)
    if world > 1:
        os.sched_setaffinity(0, {rank % os.cpu_count()})
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    x_np, y_np = fmnist.load_train()
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
    for b in args.batch:
        train(rank, world, args, x, y, b)
    if world > 1:
        dist.destroy_process_group()


def train(rank, world, args, x, y, b):
    n = x.shape[0]
    torch.manual_seed(1)
    model = build_model()
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    lo, hi = rank * b // world, (rank + 1) * b // world  # this rank's slice of each global batch
    gen = torch.Generator().manual_seed(args.seed)

    def step(perm, s):
        idx = perm[s * b + lo: s * b + hi]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    steps_per_epoch = n // b  # whole global batches only
    perm = torch.randperm(n, generator=gen)
    for s in range(args.warmup_steps):
        step(perm, s % steps_per_epoch)
    if world > 1:
        dist.barrier()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        perm = torch.randperm(n, generator=gen)
        for s in range(steps_per_epoch):
            step(perm, s)
    if world > 1:
        dist.barrier()
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    samples = args.epochs * steps_per_epoch * b
    emit({
        "peer": "pytorch-ddp" if world > 1 else "pytorch", "rank": rank, "world": world, "batch": b,
        "samples_per_sec": samples / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info.blas()})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emit(record):
    # One write(2) per line: lines of concurrent processes sharing a pipe never interleave.
    os.write(1, (json.dumps(record) + "\n").encode())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=lambda v: [int(b) for b in v.split(",")], default=[128],
                   help="global batch sizes, comma-separated")
    p.add_argument("--ddp", type=int, default=0, help="processes for DistributedDataParallel (0: one process)")
    p.add_argument("--epochs", type=int, default=1, help="timed epochs")
    p.add_argument("--warmup-steps", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.ddp > 1:
        mp.spawn(run, args=(args.ddp, args, free_port()), nprocs=args.ddp, join=True)
    else:
        run(0, 1, args, 0)


if __name__ == "__main__":
    main()
