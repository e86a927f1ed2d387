#!/usr/bin/env python3
"""Runs IlgpuVae's training benchmark beside its peers, interleaved (A B C A B C ...), and prints medians.

Ours is the benchmarks tool's `train --json` (tools/IlgpuVae.Benchmarks, built here in Release).

Peers (../shared/peers beside the checkout): the TorchSharp port (libtorch on the CPU) and the
PyTorch original (Debian's python3-torch on the CPU; on CUDA both eager and
torch.compile(mode="reduce-overhead")). Every tool trains the
default VAE (784-400-20, batch 128, Adam 1e-3) on full MNIST for --epochs epochs; the figure compared is
the median over rounds of each run's mean epoch time, leaving out the first epoch (warm-up, JIT).

  python3 tools/bench/compare_peers.py --rounds 3 --epochs 3 [--device cpu|cuda] [--skip pytorch]

Prints a markdown table (kept in docs/benchmarks.md). Needs: the .NET SDK; for the TorchSharp peer its
build (`dotnet build -c Release` in its folder, then its patch-glibcxx.sh; see its README); for the
PyTorch peer `apt-get install python3-torch` (CPU) or a CUDA PyTorch; GNU time (`apt-get install time`)
for the peers' peak memory.
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def run(cmd, env=None):
    """Runs cmd under GNU time when present; returns (stdout, peak RSS in MB or None, wall seconds)."""
    timed = ["/usr/bin/time", "-v"] + cmd if os.path.exists("/usr/bin/time") else cmd
    start = time.perf_counter()
    proc = subprocess.run(timed, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return proc.stdout, (int(rss.group(1)) / 1024 if rss else None), wall


def summary_field(text, name):
    m = re.search(rf"{name}=([0-9.]+)", text)
    return float(m.group(1)) if m else None


def ours(args):
    bench = os.path.join(ROOT, "tools/IlgpuVae.Benchmarks/bin/Release/net10.0/IlgpuVae.Benchmarks")
    out, rss, _ = run([bench, "train", "--json", "--epochs", str(args.epochs), "--data", args.data,
                       "--device", args.device])
    result = json.loads(out.strip().splitlines()[-1])
    steady = result["epoch_seconds"][1:] or result["epoch_seconds"]
    return {"epoch_s": statistics.mean(steady), "loss": result["final_test_loss"],
            "rss_mb": result["peak_rss_mb"], "first_step_s": result.get("first_step_seconds")}


def torchsharp(args):
    binary = os.path.join(os.environ.get("TMPDIR", "/tmp"), "peers/torchsharp-vae/bin/Release/net10.0/TorchSharpVae")
    if not os.path.exists(binary):
        sys.exit(f"error: {binary} not built; see {SHARED}/peers/torchsharp-vae/README.md")
    out, rss, _ = run([binary, "--data", args.data, "--epochs", str(args.epochs), "--threads", str(args.threads)])
    return {"epoch_s": summary_field(out, "mean_epoch_s"), "loss": summary_field(out, "final_test_loss"), "rss_mb": rss}


def pytorch(args, compile_mode=""):
    python = "/usr/bin/python3" if args.device == "cpu" else "python3"
    cmd = [python, os.path.join(SHARED, "peers/pytorch_vae.py"), "--data", args.data, "--epochs", str(args.epochs),
           "--device", args.device]
    if compile_mode:
        cmd += ["--compile", compile_mode]
    if args.device == "cpu":
        cmd += ["--threads", str(args.threads)]
    out, rss, _ = run(cmd)
    return {"epoch_s": summary_field(out, "mean_epoch_s"), "loss": summary_field(out, "final_test_loss"), "rss_mb": rss}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--data", default=os.path.join(SHARED, "mnist"))
    ap.add_argument("--skip", action="append", default=[], choices=["torchsharp", "pytorch"])
    args = ap.parse_args()
    subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "tools/IlgpuVae.Benchmarks")],
                   check=True, capture_output=True)
    tools = {"ilgpu-vae": ours}
    if "torchsharp" not in args.skip and args.device == "cpu":
        tools["torchsharp"] = torchsharp
    if "pytorch" not in args.skip:
        tools["pytorch"] = pytorch
        if args.device == "cuda":
            # The strongest eager-free baseline: torch.compile with CUDA graphs.
            tools["pytorch-compile"] = lambda a: pytorch(a, "reduce-overhead")
    results = {name: [] for name in tools}
    for r in range(args.rounds):
        for name, fn in tools.items():
            results[name].append(fn(args))
            print(f"round {r + 1} {name}: {results[name][-1]}", file=sys.stderr, flush=True)
    base = statistics.median(x["epoch_s"] for x in results["ilgpu-vae"])
    print(f"| tool | median epoch s (of {args.rounds} runs, epochs 2-{args.epochs}) | samples/s | ratio to ilgpu-vae | final test loss | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        epoch = statistics.median(x["epoch_s"] for x in runs)
        rss = [x["rss_mb"] for x in runs if x["rss_mb"]]
        print(f"| {name} | {epoch:.3f} | {60000 / epoch:,.0f} | {epoch / base:.2f}x | "
              f"{statistics.median(x['loss'] for x in runs):.2f} | {max(rss):.0f} |" if rss else " n/a |")
    firsts = [x["first_step_s"] for x in results["ilgpu-vae"] if x.get("first_step_s")]
    if firsts:
        print(f"\nilgpu-vae: first training step done {statistics.median(firsts):.2f} s after process start (median).")


if __name__ == "__main__":
    main()
