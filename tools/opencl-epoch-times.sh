#!/usr/bin/env bash
# The default VAE's epoch on the three ways of running on a CPU, interleaved on one machine: OpenCL (PoCL or another
# OpenCL CPU device; --device opencl), ILGPU's CPU accelerator running the same kernels (--cpu-ops kernels) and the
# vectorised ops (the default). Three rounds of two epochs over LIMIT training images (default 6000; the CPU
# accelerator's kernels need about 35 s an epoch for that), printing the second epoch's line: the first one also
# holds each process's warm-up (JIT, kernel loading), which is most of the vectorised ops' epoch at this size
# (docs/benchmarks.md, "OpenCL"). Needs an OpenCL device: eval "$(bash ../shared/opencl/setup.sh)" first.
# Builds the CLI once; DATA=DIR uses MNIST from DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release tools/IlgpuVae.Cli > /dev/null
cli=(dotnet tools/IlgpuVae.Cli/bin/Release/net10.0/ilgpu-vae.dll)
data=(); [[ -n "${DATA:-}" ]] && data=(--data "$DATA")
limit=${LIMIT:-6000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Compile the OpenCL kernels once (PoCL caches them) so that no round pays for it.
"${cli[@]}" train --device opencl --epochs 1 --limit 200 --out "$out/warm" "${data[@]}" > /dev/null
for round in 1 2 3; do
  for way in "opencl --device opencl" "kernels --device cpu --cpu-ops kernels" "vectorized --device cpu"; do
    set -- $way
    name=$1; shift
    line=$("${cli[@]}" train "$@" --epochs 2 --limit "$limit" --out "$out/$name-$round" "${data[@]}" | grep '^epoch 2/2')
    echo "round $round  $name  $line"
  done
done
