#!/usr/bin/env bash
# Epoch times of Burda et al.'s model, VAE (k = 1) against IWAE (k = 5), interleaved: three rounds, each training
# both objectives for two epochs at batch 100 and at batch 20 on dynamically binarised MNIST, printing the second
# epoch's training time (docs/iwae.md, "Speed"). Builds the CLI once; DATA=DIR uses MNIST from DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release tools/IlgpuVae.Cli > /dev/null
cli=(dotnet tools/IlgpuVae.Cli/bin/Release/net10.0/ilgpu-vae.dll)
data=(); [[ -n "${DATA:-}" ]] && data=(--data "$DATA")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in 1 2 3; do
  for batch in 100 20; do
    for objective in "elbo 1" "iwae 5"; do
      set -- $objective
      seconds=$("${cli[@]}" train --preset burda --binarize --objective "$1" --samples "$2" --batch "$batch" --epochs 2 \
        --out "$out/$1-$2-$batch-$round" "${data[@]}" | awk '/^epoch 2\/2/ { for (i = 1; i <= NF; i++) if ($i == "s") print $(i - 1) }')
      echo "round $round  batch $batch  $1 k = $2  epoch 2: $seconds s"
    done
  done
done
