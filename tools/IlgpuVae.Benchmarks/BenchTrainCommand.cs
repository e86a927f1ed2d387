using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Cli;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// <c>train</c>: training epochs of the default VAE (or the conv VAE, or the IWAE), timed by phase (and by op);
/// with <c>--rounds</c>, many short runs, each followed by one of the peer's where <c>--peer</c> names one, reported
/// by their minimum and median beside the host's FP32 peak.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("train",
        "benchmark training epochs of the default VAE (or the conv VAE, or the IWAE); with --rounds, the last epoch of " +
        "each of many short runs, interleaved with a peer's (--peer), reported by minimum and median beside the FP32 peak",
        [
            .. DataOptions,
            EpochsOption("epochs to time (per round)", "3"),
            new("--limit", "training images", "N"),
            new("--kind", "vae (784-400-20), conv-vae (the convolutional VAE), or iwae (784-400-20, importance-weighted, K = 5)", "KIND", "vae") { Aliases = ["-k"] },
            new("--rounds", "runs of --epochs each; every round's last epoch is timed, and the peer runs after each", "N", "1"),
            new("--peer", "a command run (by /bin/sh) after each round, which prints 'EPOCH ... train_s=S [train_cpu_s=C]' lines (the TorchSharp peer does); its last such line is its round's figure", "CMD"),
            new("--profile", "also time every op in one synchronised epoch (after the last round)"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        options => Run(options, cli));

    private static int Run(ParsedOptions options, CliContext cli)
    {
        var (stdout, stderr, token) = cli;
        var process = Stopwatch.StartNew();
        int epochs = options.Int("--epochs", 1);
        int rounds = options.Int("--rounds", 1);
        string? peer = options.String("--peer");
        if (peer is not null && string.IsNullOrWhiteSpace(peer))
            throw new UsageException("--peer: the command is empty");
        var training = new TrainingOptions { Epochs = epochs, Limit = options.OptionalInt("--limit", 1) };
        training = options.Choice("--kind", new Dictionary<string, string> { ["vae"] = "vae", ["conv-vae"] = "conv-vae", ["iwae"] = "iwae" }) switch
        {
            "conv-vae" => training with { Model = Models.VaeConfig.Convolutional() },
            "iwae" => training with { Objective = TrainingObjective.ImportanceWeighted, Samples = 5 },
            _ => training,
        };
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, token: token);
        double setupSeconds = process.Elapsed.TotalSeconds;
        bool json = options.Flag("--json");
        int peakThreads = 0;
        double peak = device.Kind == Compute.DeviceChoice.Cpu ? Benchmark.PeakGflops(null, out peakThreads) : double.NaN;
        if (!json)
        {
            int images = Math.Min(training.Limit ?? int.MaxValue, data.Train.Count);
            stdout.WriteLine($"device: {device.Description}" + (double.IsNaN(peak) ? "" : $"; host FP32 peak {F(peak, "F0")} GFLOP/s (FMA loop, {peakThreads} threads)"));
            string objective = training.Objective == TrainingObjective.ImportanceWeighted ? $", importance-weighted (K = {training.Samples})" : "";
            stdout.WriteLine($"{training.Model}{objective}, batch {training.BatchSize}, {images} images, {epochs} epochs x {rounds} rounds; set-up {F(setupSeconds)} s after process start");
        }
        TrainBenchmarkResult? result = null;
        var ours = new List<(double Wall, double Cpu)>();
        var theirs = new List<(double Wall, double? Cpu)>();
        for (int round = 1; round <= rounds; round++)
        {
            TrainingResult outcome;
            bool last = round == rounds;
            using (var progress = json || rounds > 1 ? null : new TrainingProgressView(stdout))
                result = Benchmark.Train(device, data, training, last && options.Flag("--profile"), last, progress, token, out outcome);
            if (result is null)
            {
                stderr.WriteLine(outcome.Divergence);
                return 1; // diverged; a stop arrives as OperationCanceledException
            }
            ours.Add((result.LastEpochSeconds, result.LastEpochCpuSeconds));
            if (peer is not null)
                theirs.Add(RunPeer(peer, token));
            if (!json && rounds > 1)
                stdout.WriteLine($"round {round}: ours {F(ours[^1].Wall, "F3")} s ({F(ours[^1].Cpu)} CPU s)" +
                    (peer is null ? "" : $", peer {F(theirs[^1].Wall, "F3")} s ({(theirs[^1].Cpu is double c ? F(c) : "?")} CPU s)"));
        }
        if (result is null)
            return 1;
        if (!json && result.Profile.Count > 0)
        {
            stdout.WriteLine("per-op time in one synchronised epoch (evaluation included), per training step:");
            foreach (var row in result.Profile.Take(25))
                stdout.WriteLine($"  {row.Op,-40} {F(1e6 * row.SecondsPerStep, "F1"),9} us/step  {row.Calls,7} calls");
        }
        long peakRss;
        using (var self = Process.GetCurrentProcess())
            peakRss = self.PeakWorkingSet64;
        var ourWalls = ours.Select(r => r.Wall).ToArray();
        var theirWalls = theirs.Select(r => r.Wall).ToArray();
        double minimum = ourWalls.Min(), gflops = result.FlopsPerImage * result.TrainImages / minimum / 1e9;
        var summary = new
        {
            device = device.Description, model = result.Model, batch = result.BatchSize, images = result.TrainImages,
            epoch_seconds = result.EpochSeconds, median_epoch_seconds = result.MedianEpochSeconds, samples_per_second = result.SamplesPerSecond,
            final_test_loss = result.FinalTestLoss, setup_seconds = setupSeconds,
            first_step_seconds = (result.FirstStepDone - ProcessStart()).TotalSeconds,
            step_ms = new { forward = 1e3 * result.ForwardSeconds, backward = 1e3 * result.BackwardSeconds, update = 1e3 * result.UpdateSeconds },
            peak_rss_mb = peakRss / (1024.0 * 1024.0),
            peak_gflops = double.IsNaN(peak) ? (double?)null : peak, mflop_per_image = result.FlopsPerImage / 1e6,
            rounds = new
            {
                ours = new { last_epoch_seconds = ourWalls, cpu_seconds = ours.Select(r => r.Cpu).ToArray(), min = minimum, median = Median(ourWalls), gflops_at_min = gflops },
                peer = peer is null ? null : new
                {
                    command = peer, last_epoch_seconds = theirWalls, cpu_seconds = theirs.Select(r => r.Cpu).ToArray(),
                    min = theirWalls.Min(), median = Median(theirWalls),
                },
                ratio_min = peer is null ? (double?)null : minimum / theirWalls.Min(),
            },
        };
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(summary));
            return 0;
        }
        stdout.WriteLine($"median epoch {F(summary.median_epoch_seconds, "F3")} s, {F(summary.samples_per_second, "F0")} samples/s, final test loss {F(summary.final_test_loss, "F4")}");
        stdout.WriteLine($"per step (synchronised): forward {F(summary.step_ms.forward, "F3")} ms, backward {F(summary.step_ms.backward, "F3")} ms, update {F(summary.step_ms.update, "F3")} ms");
        stdout.WriteLine($"peak RSS {F(summary.peak_rss_mb, "F0")} MB; first training step done {F(summary.first_step_seconds)} s after process start");
        if (rounds > 1 || peer is not null)
        {
            string against = double.IsNaN(peak) ? "" : $", {Percent(gflops / peak)} of peak";
            stdout.WriteLine($"last epoch of {rounds} round(s), {result.TrainImages} images: ours min {F(minimum, "F3")} s / median {F(Median(ourWalls), "F3")} s " +
                $"(CPU s at min {F(ours.MinBy(r => r.Wall).Cpu)}; {F(result.FlopsPerImage / 1e6, "F1")} MFLOP/image, {F(gflops, "F1")} GFLOP/s at min{against})");
            if (peer is not null)
            {
                var best = theirs.MinBy(r => r.Wall);
                stdout.WriteLine($"  peer min {F(best.Wall, "F3")} s / median {F(Median(theirWalls), "F3")} s (CPU s at min {(best.Cpu is double c ? F(c) : "?")}); " +
                    $"ours / peer, min against min: {F(minimum / best.Wall, "F2")}x");
            }
        }
        return 0;
    }

    // The median (the mean of the middle two of an even count).
    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int half = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
    }

    // Runs the peer's command once; its figure is the last "EPOCH ... train_s=S [train_cpu_s=C]" line it printed.
    private static (double Wall, double? Cpu) RunPeer(string command, CancellationToken token)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var peer = Process.Start(start) ?? throw new UsageException($"--peer: could not start '{command}'");
        var errors = peer.StandardError.ReadToEndAsync(token);
        string output = peer.StandardOutput.ReadToEnd();
        peer.WaitForExit();
        string? line = output.Split('\n').LastOrDefault(l => l.StartsWith("EPOCH ", StringComparison.Ordinal) && l.Contains(" train_s=", StringComparison.Ordinal));
        if (peer.ExitCode != 0 || line is null)
        {
            string why = peer.ExitCode != 0 ? $"exited with code {peer.ExitCode}" : "printed no 'EPOCH ... train_s=S' line";
            string last = errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            throw new UsageException($"--peer: '{command}' {why}" + (last.Length > 0 ? $" ({last})" : ""));
        }
        return (Field(line, "train_s") ?? double.NaN, Field(line, "train_cpu_s"));
    }

    private static double? Field(string line, string name)
    {
        string? token = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(t => t.StartsWith(name + "=", StringComparison.Ordinal));
        return token is not null && double.TryParse(token.AsSpan(name.Length + 1), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out double value) ? value : null;
    }

    private static DateTime ProcessStart()
    {
        using var self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    }
}
