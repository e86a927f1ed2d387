#!/usr/bin/env python3
"""Summarises one run of tools/gpu/on-device.sh (the folder it wrote) as Markdown: the device, the checks, our
training samples/s and PyTorch's (eager and reduce-overhead) from the same call, and the ratios the issue's goals are
stated in. Medians over the interleaved rounds; nothing here is comparable with figures from another call."""
import json, os, re, statistics, sys

out = sys.argv[1]


def read(name):
    path = os.path.join(out, name)
    return open(path).read() if os.path.exists(path) else ""


ours = [json.loads(line) for line in read("ilgpu.jsonl").splitlines() if line.startswith("{")]
torch = {"no": [], "reduce-overhead": []}
for line in read("torch.txt").splitlines():
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    if "samples_per_s" in fields:
        torch.setdefault(fields.get("compile", "no"), []).append(float(fields["samples_per_s"]))

median = lambda xs: statistics.median(xs) if xs else float("nan")
our_rate = median([o["samples_per_second"] for o in ours])
eager, compiled = median(torch["no"]), median(torch["reduce-overhead"])
devices = read("devices.txt").strip()

print("# GPU run\n")
print("Device (ILGPU's list):\n\n```\n" + (devices or "(devices failed)") + "\n```\n")
print("CUDA checks:\n\n```\n" + (read("checks.txt").strip() or "(none)") + "\n```\n")
print("| | samples/s (median) | rounds | final test loss |")
print("| --- | ---: | ---: | ---: |")
print(f"| IlgpuVae.Benchmarks train | {our_rate:,.0f} | {len(ours)} | {ours[-1]['final_test_loss'] if ours else 'n/a'} |")
print(f"| PyTorch eager | {eager:,.0f} | {len(torch['no'])} | |")
print(f"| PyTorch compile reduce-overhead | {compiled:,.0f} | {len(torch['reduce-overhead'])} | |")
print()
print(f"- ours / eager: {our_rate / eager:.2f} (goal >= 3)")
print(f"- ours / reduce-overhead: {our_rate / compiled:.2f} (goal >= 1)")
print(f"- ours: {our_rate / 1e3:,.0f}k samples/s (goal >= 600k)")
print("- launches per VAE training step: 16 (LaunchCountTests; counted on the CPU accelerator, not on this device)")
if ours:
    print(f"- our step phases (ms, synchronised): {ours[-1].get('step_ms')}")
print("\nIlgpuVae.Benchmarks ops:\n\n```\n" + read("ops.txt").strip() + "\n```")
