#!/usr/bin/env bash
# Writes help2man's include file for dpmlp(1): a DESCRIPTION, one section per subcommand holding
# that subcommand's `--help` verbatim, and the files and environment dpmlp reads.
#   man_sections.sh DPMLP_BINARY OUT_FILE
set -euo pipefail
dpmlp=$1
out=$2
commands=(train eval predict info export inspect plot)
{
  cat <<'TEXT'
[DESCRIPTION]
dpmlp trains multilayer perceptrons with data parallelism: every MPI rank runs the network on its
shard of each global mini-batch, the gradients are summed with MPI allreduce, and every rank applies
the same momentum-SGD update. Run it as one process, under mpirun, or through Slurm (srun, sbatch).
Checkpoints let a stopped run resume exactly where it stopped.
TEXT
  for c in "${commands[@]}"; do
    printf '\n[dpmlp %s]\n.nf\n' "$c"
    # Escape roff: backslashes first, hyphens as \- (so options render as typed), then a
    # leading dot or apostrophe on a line.
    "$dpmlp" "$c" --help | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\&\\1/"
    printf '.fi\n'
  done
  cat <<'TEXT'

[ENVIRONMENT]
.TP
.B OMPI_COMM_WORLD_SIZE, PMIX_RANK, PMI_RANK
set by an MPI launcher; without them dpmlp runs as a world of one rank without initialising MPI.
.TP
.B OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE
OpenBLAS threads per rank and a forced kernel; `dpmlp info --blas` prints what runs.

[SEE ALSO]
The documentation installed under share/doc/dpmlp (README.md and docs/), and the examples there.
TEXT
} >"$out.tmp"
mv "$out.tmp" "$out"
