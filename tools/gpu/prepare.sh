#!/usr/bin/env bash
# Prepares the one-call GPU run (docs/benchmarks.md, "On a GPU"): publishes the ilgpu-vae tool and the benchmarks
# tool self-contained for linux-x64 into one folder (one .NET runtime for both), packed as .device/app.tar.gz, and
# gathers MNIST and the PyTorch peer under .device/ (ignored by git), checking that what travels fits the device
# tool's 64 MiB. Run here, in the repository; then one device call runs tools/gpu/on-device.sh:
#   run(command: "bash tools/gpu/on-device.sh", carry: [".device"], timeout_s: 540)
# Options: --no-publish reuses .device/app.tar.gz (a dry run of everything else).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
shared=${ILGPU_VAE_SHARED:-$root/../shared}
publish=1
[[ "${1:-}" == "--no-publish" ]] && publish=0

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.device/' "$exclude" 2>/dev/null || echo '/.device/' >> "$exclude"

mkdir -p .device/mnist
if (( publish )); then
    rm -rf .device/app .device/app.tar.gz
    stage=$(mktemp -d)
    # The benchmarks tool references the ilgpu-vae tool, so its publish holds both apps (ilgpu-vae and
    # IlgpuVae.Benchmarks, each self-contained) over one runtime; two single-file apps would carry it twice and not
    # fit. Without XML docs; gzip-packed (about 36 MB).
    dotnet publish tools/IlgpuVae.Benchmarks/IlgpuVae.Benchmarks.csproj -c Release -r linux-x64 --self-contained \
        -p:DebugType=none -o "$stage"
    find "$stage" -maxdepth 1 -name '*.xml' -delete
    [[ -x "$stage/ilgpu-vae" && -x "$stage/IlgpuVae.Benchmarks" ]] || { echo "the publish holds no ilgpu-vae or IlgpuVae.Benchmarks" >&2; exit 1; }
    tar -czf .device/app.tar.gz -C "$stage" .
    rm -rf "$stage"
fi
[[ -f .device/app.tar.gz ]] || { echo "no .device/app.tar.gz: run without --no-publish" >&2; exit 1; }

# MNIST as gzipped IDX (11 MB): the shared copy, else ILGPU_VAE_DATA.
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    for source in "$shared/mnist" "${ILGPU_VAE_DATA:-/nonexistent}"; do
        if [[ -f "$source/$name.gz" ]]; then cp "$source/$name.gz" .device/mnist/; break; fi
        if [[ -f "$source/$name" ]]; then gzip -c "$source/$name" > ".device/mnist/$name.gz"; break; fi
    done
    [[ -f ".device/mnist/$name.gz" ]] || { echo "MNIST file $name not found in $shared/mnist or \$ILGPU_VAE_DATA" >&2; exit 1; }
done
cp "$shared/peers/pytorch_vae.py" .device/

# What travels: tracked and untracked-not-ignored files, plus .device.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
device_bytes=$(du -sb .device | cut -f1)
total=$(( tree_bytes + device_bytes ))
printf 'working tree %d MiB + .device %d MiB = %d MiB (limit 64)\n' $((tree_bytes >> 20)) $((device_bytes >> 20)) $((total >> 20))
(( total < 62 * 1024 * 1024 )) || { echo "too large to travel" >&2; exit 1; }
echo "ready: run(command: \"bash tools/gpu/on-device.sh\", carry: [\".device\"], timeout_s: 540)"
