#!/usr/bin/env bash
# The one-call GPU run, on the device machine (NVIDIA driver, CUDA, PyTorch, Python; no .NET, no network), from the
# repository root with .device/ carried (tools/gpu/prepare.sh makes it). In order: the machine and driver, ILGPU's
# devices, CUDA checks (one training epoch on CUDA against the same on the CPU; the xunit CUDA tests too where a
# dotnet SDK happens to be present), the benchmarks tool's ops, then its train (3 epochs) and the PyTorch peer eager and with
# torch.compile(mode="reduce-overhead"), interleaved over two rounds, Burda et al.'s model's epoch times (the full
# schedule's cost on this GPU), and one report: $OUT/report.md. Every step has
# its own time limit so that the whole stays under 8 minutes and a hang costs only that step. It writes 8 files, the
# most the device tool brings back.
# Dry run on a machine without a GPU: DEVICE=cpu ROUNDS=1 LIMIT=6000 REPEATS=3 bash tools/gpu/on-device.sh
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/ilgpu-vae-out}
DEVICE=${DEVICE:-cuda}
ROUNDS=${ROUNDS:-2}
LIMIT=${LIMIT:-}
REPEATS=${REPEATS:-200}
mkdir -p "$OUT"
# Both apps, self-contained over one runtime (tools/gpu/prepare.sh), unpacked outside the repository.
apps=/tmp/ilgpu-vae-apps
rm -rf "$apps" && mkdir -p "$apps" && tar -xzf .device/app.tar.gz -C "$apps" || { echo "cannot unpack .device/app.tar.gz" >&2; exit 1; }
app=$apps/ilgpu-vae
bench=$apps/IlgpuVae.Benchmarks
data=.device/mnist
peer=.device/pytorch_vae.py
exec > >(tee -a "$OUT/run.log") 2>&1
section() { echo; echo "=== $* ($(date -u +%T))"; }
limit_args=()
[[ -n "$LIMIT" ]] && limit_args=(--limit "$LIMIT")
peer_limit=()
[[ -n "$LIMIT" ]] && peer_limit=(--limit "$LIMIT")

section machine
uname -a
nvidia-smi -L || echo "nvidia-smi failed"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
ldconfig -p | grep -E 'libcuda\.so' || echo "no libcuda in ldconfig"
# ILGPU opens libcuda.so; some images have only libcuda.so.1.
if ! ldconfig -p | grep -q 'libcuda\.so '; then
    target=$(ldconfig -p | awk '/libcuda\.so\.1 /{print $NF; exit}')
    if [[ -n "$target" ]]; then
        mkdir -p /tmp/ilgpu-vae-lib && ln -sf "$target" /tmp/ilgpu-vae-lib/libcuda.so
        export LD_LIBRARY_PATH=/tmp/ilgpu-vae-lib:${LD_LIBRARY_PATH:-}
        echo "linked libcuda.so -> $target"
    fi
fi
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda")' || true

section devices
timeout 60 "$app" devices | tee "$OUT/devices.txt"

section "CUDA checks"
if command -v dotnet > /dev/null && [[ -f IlgpuVae.sln ]]; then
    timeout 240 dotnet test IlgpuVae.sln -c Release --filter "FullyQualifiedName~Cuda" 2>&1 | tail -20 | tee "$OUT/checks.txt"
else
    echo "no dotnet SDK here: the xunit CUDA tests ([CudaFact]) cannot run; the CLI checks below stand in" | tee "$OUT/checks.txt"
fi
# One epoch on 6000 images on the device and on the CPU (vectorised ops): the same model, seed and data, so the
# losses may differ only by float rounding (and CUDA's approximate exp and log).
rm -rf /tmp/ilgpu-vae-check-*
timeout 120 "$app" train --device "$DEVICE" --data "$data" --epochs 1 --limit 6000 --out /tmp/ilgpu-vae-check-device > /dev/null
timeout 120 "$app" train --device cpu --data "$data" --epochs 1 --limit 6000 --out /tmp/ilgpu-vae-check-cpu > /dev/null
python3 - "$OUT/checks.txt" <<'PY'
import csv, sys
def last(path):
    with open(path) as f:
        return list(csv.reader(f))[-1]
try:
    d, c = last("/tmp/ilgpu-vae-check-device/metrics.csv"), last("/tmp/ilgpu-vae-check-cpu/metrics.csv")
    lines = [f"device epoch 1: train {d[1]} test {d[2]}", f"cpu    epoch 1: train {c[1]} test {c[2]}"]
    ok = all(abs(float(d[i]) - float(c[i])) <= 0.01 * abs(float(c[i])) for i in (1, 2))
    lines.append("PASS: losses within 1%" if ok else "FAIL: losses differ by more than 1%")
except Exception as e:
    lines = [f"FAIL: {e!r}"]
open(sys.argv[1], "a").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY

section "benchmarks: ops"
timeout 120 "$bench" ops --device "$DEVICE" --repeats "$REPEATS" | tee "$OUT/ops.txt"

section "benchmarks: train, and the PyTorch peer, interleaved"
: > "$OUT/ilgpu.jsonl"; : > "$OUT/torch.txt"
for round in $(seq 1 "$ROUNDS"); do
    echo "--- round $round: ilgpu-vae"
    timeout 120 "$bench" train --device "$DEVICE" --data "$data" --epochs 3 "${limit_args[@]}" --json | tail -1 | tee -a "$OUT/ilgpu.jsonl"
    echo "--- round $round: pytorch eager"
    timeout 120 python3 "$peer" --data "$data" --device "$DEVICE" --epochs 3 "${peer_limit[@]}" | grep SUMMARY | tee -a "$OUT/torch.txt"
    echo "--- round $round: pytorch reduce-overhead"
    timeout 240 python3 "$peer" --data "$data" --device "$DEVICE" --epochs 3 --compile reduce-overhead "${peer_limit[@]}" | grep SUMMARY | tee -a "$OUT/torch.txt"
done
# One synchronised epoch with every op timed (not comparable with the figures above).
timeout 120 "$bench" train --device "$DEVICE" --data "$data" --epochs 1 --profile "${limit_args[@]}" > "$OUT/profile.txt" 2>&1 || true

section "Burda et al.'s model: VAE, IWAE k = 5 and k = 50, batch 20 (docs/iwae.md; 2 epochs of 12,000 images each)"
for objective in "elbo 1" "iwae 5" "iwae 50"; do
    set -- $objective
    echo "--- $1 k = $2"
    timeout 60 "$app" train --device "$DEVICE" --data "$data" --preset burda --binarize --objective "$1" --samples "$2" \
        --batch 20 --epochs 2 --limit 12000 --lr-schedule burda --out "/tmp/iwae-$1-$2" | grep -E '^(training|epoch)' || true
done

section report
python3 tools/gpu/report.py "$OUT" | tee "$OUT/report.md"
