using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Models;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>bench ops</c>: throughput of each op at the VAE's training shapes.</summary>
public static class BenchOpsCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("ops",
        "benchmark the ops at the VAE's training shapes, for each implementation on the device",
        [
            new("--repeats", "timed repetitions per op (on the CPU both --cpu-ops run unless one is named)", "N", "50"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli.Out));

    private static int Run(ParsedOptions options, TextWriter stdout)
    {
        int repeats = options.Int("--repeats", 1);
        var choice = options.Choice("--device", DeviceChoices);
        // On the CPU both implementations run unless --cpu-ops names one.
        bool onCpu = choice is DeviceChoice.Cpu || (choice is DeviceChoice.Auto && ComputeDevice.List(out int a)[a].Kind == DeviceChoice.Cpu);
        var modes = !onCpu ? [CpuOpsMode.Vectorized]
            : options.Given("--cpu-ops") ? [options.Choice("--cpu-ops", CpuOpsChoices)]
            : new[] { CpuOpsMode.Vectorized, CpuOpsMode.Kernels };
        var rows = new List<object>();
        foreach (var mode in modes)
        {
            using var device = ComputeDevice.Open(choice, mode);
            var ops = device.Ops;
            if (!options.Flag("--json"))
                stdout.WriteLine($"device: {device.Description}");
            // The kernel path on the CPU accelerator is slow; fewer repetitions keep the run short.
            int reps = device.Kind == DeviceChoice.Cpu && mode == CpuOpsMode.Kernels ? Math.Max(1, repeats / 10) : repeats;
            const int b = 128, d = 784, h = 400, z = 20;
            using var x = device.Allocate<float>(b * d);
            using var w = device.Allocate<float>(h * d);
            using var y = device.Allocate<float>(b * h);
            using var big = device.Allocate<float>(b * d);
            using var targets = device.Allocate<float>(b * d);
            using var dlogits = device.Allocate<float>(b * d);
            using var params_ = device.Allocate<float>(1_068_820);
            using var grads = device.Allocate<float>(1_068_820);
            using var m = device.Allocate<float>(1_068_820);
            using var v = device.Allocate<float>(1_068_820);
            using var loss = device.Allocate<float>(b);
            using var small = device.Allocate<float>(b * 2 * z);
            using var dsmall = device.Allocate<float>(b * 2 * z);
            ops.Normal(x.View.BaseView, 1, 1);
            ops.Normal(w.View.BaseView, 1, 2);
            // Targets in [0, 1] like pixels; every op reads sane values (denormals or NaNs would time something else).
            ops.Normal(targets.View.BaseView, 1, 3);
            ops.Activate(targets.View.BaseView, targets.View.BaseView, Activation.Sigmoid);
            ops.Normal(small.View.BaseView, 1, 4);
            var cases = new (string Name, double Work, string Unit, Action Run)[]
            {
                ("gemm NT 128x400x784 (forward)", 2.0 * b * h * d, "GFLOP/s", () => ops.Gemm(false, true, b, h, d, 1f, x.View.BaseView, d, w.View.BaseView, d, 0f, y.View.BaseView, h)),
                ("gemm NN 128x784x400 (input grad)", 2.0 * b * h * d, "GFLOP/s", () => ops.Gemm(false, false, b, d, h, 1f, y.View.BaseView, h, w.View.BaseView, d, 0f, big.View.BaseView, d)),
                ("gemm TN 400x784x128 (weight grad)", 2.0 * b * h * d, "GFLOP/s", () => ops.Gemm(true, false, h, d, b, 1f, y.View.BaseView, h, x.View.BaseView, d, 1f, w.View.BaseView, d)),
                ("gemm NT 128x40x400 (heads)", 2.0 * b * 2 * z * h, "GFLOP/s", () => ops.Gemm(false, true, b, 2 * z, h, 1f, y.View.BaseView, h, w.View.BaseView, h, 0f, small.View.BaseView, 2 * z)),
                ("bias+relu 128x400", 8.0 * b * h, "GB/s", () => ops.BiasActivation(y.View.BaseView, x.View.BaseView.SubView(0, h), Activation.Relu)),
                ("bce+grad 128x784", 12.0 * b * d, "GB/s", () => ops.BceWithLogits(x.View.BaseView, targets.View.BaseView, loss.View.BaseView, dlogits.View.BaseView, 1f)),
                ("kl+grad 128x20", 12.0 * b * z, "GB/s", () => ops.KlDivergence(small.View.BaseView, loss.View.BaseView, dsmall.View.BaseView, z, 1f)),
                ("adam 1.07M params", 28.0 * 1_068_820, "GB/s", () => ops.Adam(params_.View.BaseView, grads.View.BaseView, m.View.BaseView, v.View.BaseView, AdamStep.Create(1e-3f, 0.9f, 0.999f, 1e-8f, 1))),
                ("normal 128x20", 4.0 * b * z, "GB/s", () => ops.Normal(small.View.BaseView.SubView(0, b * z), 3, 4)),
            };
            foreach (var (name, work, unit, run) in cases)
            {
                run();
                ops.Synchronize();
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++)
                    run();
                ops.Synchronize();
                double seconds = clock.Elapsed.TotalSeconds / reps;
                double rate = work / seconds / 1e9;
                rows.Add(new { implementation = ops.Name, device = device.Kind.ToString().ToLowerInvariant(), op = name, unit, rate, microseconds = seconds * 1e6 });
                if (!options.Flag("--json"))
                    stdout.WriteLine($"  {ops.Name,-11} {name,-36} {F(rate, "F1"),9} {unit,-8} {F(seconds * 1e6, "F1"),10} us");
            }
        }
        if (options.Flag("--json"))
            stdout.WriteLine(JsonSerializer.Serialize(new { ops = rows }));
        return 0;
    }
}
