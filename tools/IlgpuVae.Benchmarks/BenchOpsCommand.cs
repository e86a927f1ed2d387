using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Cli;
using IlgpuVae.Compute;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Benchmarks;

/// <summary><c>ops</c>: throughput of each op at the default VAE's training shapes.</summary>
internal static class BenchOpsCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("ops",
        "benchmark the ops at the default VAE's (or the conv VAE's) training shapes, for each implementation on the device",
        [
            new("--repeats", "timed repetitions per op, in up to ten groups whose fastest is reported (on the CPU both --cpu-ops run unless one is named)", "N", "50"),
            new("--kind", "whose shapes: vae (784-400-20), or conv-vae (the convolutional VAE, with its convolutions)", "KIND", "vae") { Aliases = ["-k"] },
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli.Out));

    private static int Run(ParsedOptions options, TextWriter stdout)
    {
        int repeats = options.Int("--repeats", 1);
        var choice = options.Choice("--device", DeviceChoices);
        bool json = options.Flag("--json");
        // On the CPU both implementations run unless --cpu-ops names one.
        bool onCpu = choice is DeviceChoice.Cpu || (choice is DeviceChoice.Auto && ComputeDevice.List(out int a)[a].Kind == DeviceChoice.Cpu);
        var modes = !onCpu ? [false]
            : options.Given("--cpu-ops") ? [options.Choice("--cpu-ops", CpuOpsChoices)]
            : new[] { false, true };
        var training = new TrainingOptions();
        var model = options.Choice("--kind", new Dictionary<string, Models.VaeConfig>
        {
            ["vae"] = training.Model, ["conv-vae"] = Models.VaeConfig.Convolutional(),
        });
        var rows = new List<object>();
        // The host's FP32 peak, which the GEMMs' GFLOP/s are judged against (the vectorised ops run on the host).
        int threads = 0;
        double? peak = onCpu ? Benchmark.PeakGflops(null, out threads) : null;
        if (!json && peak is double p)
            stdout.WriteLine($"host FP32 peak: {F(p, "F1")} GFLOP/s (FMA loop on {threads} threads)");
        foreach (var mode in modes)
        {
            using var device = ComputeDevice.Open(choice, mode);
            if (!json)
                stdout.WriteLine($"device: {device.Description}");
            string kind = device.Kind.ToString().ToLowerInvariant();
            Benchmark.Ops(device, model, training.BatchSize, repeats, row =>
            {
                rows.Add(new { implementation = row.Implementation, device = kind, op = row.Label, unit = row.Unit, rate = row.Rate, microseconds = row.Seconds * 1e6 });
                if (!json)
                    stdout.WriteLine($"  {row.Implementation,-11} {row.Label,-60} {F(row.Rate, "F1"),9} {row.Unit,-8} {F(row.Seconds * 1e6, "F1"),10} us");
            });
        }
        if (json)
            stdout.WriteLine(JsonSerializer.Serialize(new { peak_gflops = peak, ops = rows }));
        return 0;
    }
}
