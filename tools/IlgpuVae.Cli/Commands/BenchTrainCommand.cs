using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using IlgpuVae.Benchmarks;
using IlgpuVae.Training;
using static IlgpuVae.Cli.Common;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>bench train</c>: training epochs of the default VAE, timed by phase (and by op).</summary>
public static class BenchTrainCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("train",
        "benchmark training epochs of the default VAE (or the conv VAE)",
        [
            .. DataOptions,
            EpochsOption("epochs to time", "3"),
            new("--limit", "training images", "N"),
            new("--kind", "vae (784-400-20), or conv-vae (the convolutional VAE)", "KIND", "vae") { Aliases = ["-k"] },
            new("--profile", "also time every op in one synchronised epoch"),
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
        var training = new TrainingOptions { Epochs = epochs, Limit = options.OptionalInt("--limit", 1) };
        if (options.Choice("--kind", new Dictionary<string, string> { ["vae"] = "vae", ["conv-vae"] = "conv-vae" }) == "conv-vae")
            training = training with { Model = Models.VaeConfig.Convolutional() };
        using var device = OpenDevice(options);
        var data = LoadData(options, stderr, token: token);
        double setupSeconds = process.Elapsed.TotalSeconds;
        bool json = options.Flag("--json");
        if (!json)
        {
            int images = Math.Min(training.Limit ?? int.MaxValue, data.Train.Count);
            stdout.WriteLine($"device: {device.Description}");
            stdout.WriteLine($"{training.Model}, batch {training.BatchSize}, {images} images, {epochs} epochs; set-up {F(setupSeconds)} s after process start");
        }
        TrainBenchmarkResult? result;
        TrainingResult outcome;
        using (var progress = json ? null : new TrainingProgressView(stdout))
            result = TrainBenchmark.Run(device, data, training, options.Flag("--profile"), progress, token, out outcome);
        if (result is null)
        {
            stderr.WriteLine(outcome.Message);
            return 1; // diverged; a stop arrives as OperationCanceledException
        }
        if (!json && result.Profile.Count > 0)
        {
            stdout.WriteLine("per-op time in one synchronised epoch (evaluation included), per training step:");
            foreach (var row in result.Profile.Take(25))
                stdout.WriteLine($"  {row.Op,-40} {F(1e6 * row.SecondsPerStep, "F1"),9} us/step  {row.Calls,7} calls");
        }
        long peak;
        using (var self = Process.GetCurrentProcess())
            peak = self.PeakWorkingSet64;
        var summary = new
        {
            device = device.Description, model = result.Model, batch = result.BatchSize, images = result.TrainImages,
            epoch_seconds = result.EpochSeconds, median_epoch_seconds = result.MedianEpochSeconds, samples_per_second = result.SamplesPerSecond,
            final_test_loss = result.FinalTestLoss, setup_seconds = setupSeconds,
            first_step_seconds = (result.FirstStepDone - ProcessStart()).TotalSeconds,
            step_ms = new { forward = 1e3 * result.ForwardSeconds, backward = 1e3 * result.BackwardSeconds, update = 1e3 * result.UpdateSeconds },
            peak_rss_mb = peak / (1024.0 * 1024.0),
        };
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(summary));
            return 0;
        }
        stdout.WriteLine($"median epoch {F(summary.median_epoch_seconds, "F3")} s, {F(summary.samples_per_second, "F0")} samples/s, final test loss {F(summary.final_test_loss, "F4")}");
        stdout.WriteLine($"per step (synchronised): forward {F(summary.step_ms.forward, "F3")} ms, backward {F(summary.step_ms.backward, "F3")} ms, update {F(summary.step_ms.update, "F3")} ms");
        stdout.WriteLine($"peak RSS {F(summary.peak_rss_mb, "F0")} MB; first training step done {F(summary.first_step_seconds)} s after process start");
        return 0;
    }

    private static DateTime ProcessStart()
    {
        using var self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    }
}
