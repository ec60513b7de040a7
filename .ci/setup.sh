#!/usr/bin/env bash
# The two set-up commands of the README, for a fresh Debian 12 machine (as root, or with sudo):
#   bash .ci/setup.sh run    install what is missing, build, train on Fashion-MNIST (one rank per core)
#   bash .ci/setup.sh test   install what is missing, build with -Werror, run the whole test suite
# Only Debian packages are installed system-wide; `test` also puts the npm package onnxruntime-node
# (the ONNX runtime the export test runs) under build/npm, nothing else from anywhere else.
set -euo pipefail
mode=${1:-}
case "$mode" in run | test) ;; *) echo "usage: bash .ci/setup.sh run|test" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."

packages=(cmake g++ make pkg-config openmpi-bin libopenmpi-dev libopenblas-dev libprotobuf-dev
  protobuf-compiler libonnx-dev libboost-program-options-dev libgtest-dev zlib1g-dev dataset-fashion-mnist
  help2man)
if [ "$mode" = test ]; then
  # The cluster tests start a real single-node Slurm; plots need gnuplot.
  packages+=(slurm-wlm munge gnuplot-nox)
  # The export tests: the ONNX checker (python3-onnx), NumPy for the documented forward pass, and node/npm for onnxruntime-node (a node
  # already on the machine, e.g. from NodeSource, brings its own npm and is kept).
  packages+=(python3-onnx python3-numpy)
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)
if [ "$mode" = test ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDPMLP_WERROR=ON
  cmake --build build -j "$jobs"
  # onnxruntime-node ships the Linux x64 CPU runtime in its package; its install script only
  # fetches GPU add-ons, so it is disabled. tests/e2e/onnx_test.sh looks in build/npm.
  [ -f build/npm/node_modules/onnxruntime-node/package.json ] ||
    npm install --ignore-scripts --no-audit --no-fund --prefix build/npm onnxruntime-node@1.30.0
  exec ctest --test-dir build --output-on-failure --timeout 900
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs" --target dpmlp
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# The main job: Fashion-MNIST from the dataset-fashion-mnist package, one rank per core.
exec mpirun -np "$jobs" --bind-to core build/dpmlp train --layers 256,128 --epochs 10 --batch-size 128 \
  --lr 0.05 --momentum 0.9 --lr-schedule cosine
