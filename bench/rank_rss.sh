#!/usr/bin/env bash
# rank_rss.sh DIR PROGRAM [ARGS...]: runs PROGRAM and writes "peak-RSS-kB user-s system-s" (the
# peak resident set is VmHWM as /usr/bin/time reports it) to DIR/rss.<MPI rank>. Used by
# bench/run.py around every dpmlp rank.
dir=$1
shift
exec /usr/bin/time -f "%M %U %S" -o "$dir/rss.${OMPI_COMM_WORLD_RANK:-0}" "$@"
