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

/// <summary><c>bench train</c>: training epochs of the default VAE, timed by phase (and by op).</summary>
public static class BenchTrainCommand
{
    public static Command Create(CliContext cli) => CommandBuilder.Create("train",
        "benchmark training epochs of the default VAE",
        [
            DataOption,
            EpochsOption("epochs to time", "3"),
            new("--limit", "training images", "N"),
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
        var data = LoadData(options, stderr, token: token);
        using var device = OpenDevice(options);
        var training = new TrainingOptions { Epochs = epochs, Limit = options.OptionalInt("--limit", 1) };
        using var trainer = new VaeTrainer(device, data, training);
        double setupSeconds = process.Elapsed.TotalSeconds;
        bool json = options.Flag("--json");
        if (!json)
        {
            stdout.WriteLine($"device: {device.Description}");
            stdout.WriteLine($"{training.Model}, batch {training.BatchSize}, {trainer.TrainCount} images, {epochs} epochs; set-up {F(setupSeconds)} s after process start");
        }
        TrainingResult result;
        using (var progress = json ? null : new TrainingProgressView(stdout))
            result = trainer.Train(progress, token);
        if (result.Outcome != TrainingOutcome.Completed)
        {
            stderr.WriteLine(result.Message);
            return 1;
        }
        // One more epoch with a synchronisation after each phase, to split a step's time.
        var phases = new PhaseTimes();
        using (var phaseTrainer = new VaeTrainer(device, data, training with { Epochs = 1 }))
        {
            phaseTrainer.PhaseTimes = phases;
            phaseTrainer.Train(null, token);
        }
        if (options.Flag("--profile"))
        {
            // And one with a synchronisation after every op: where a step's time goes.
            var profiler = device.EnableProfiling();
            using var profiled = new VaeTrainer(device, data, training with { Epochs = 1 });
            profiler.Reset();
            profiled.Train(null, token);
            long steps = profiled.StepsPerEpoch;
            stdout.WriteLine("per-op time in one synchronised epoch (evaluation included), per training step:");
            foreach (var (op, seconds, calls) in profiler.Table.Take(25))
                stdout.WriteLine($"  {op,-40} {F(1e6 * seconds / steps, "F1"),9} us/step  {calls,7} calls");
        }
        var times = result.Epochs.Select(e => e.EpochSeconds).ToArray();
        double median = times.Order().ElementAt(times.Length / 2);
        long peak = Environment.WorkingSet;
        using (var self = Process.GetCurrentProcess())
            peak = self.PeakWorkingSet64;
        var summary = new
        {
            device = device.Description, model = training.Model.ToString(), batch = training.BatchSize, images = trainer.TrainCount,
            epoch_seconds = times, median_epoch_seconds = median, samples_per_second = trainer.TrainCount / median,
            final_test_loss = result.Epochs[^1].TestLoss, setup_seconds = setupSeconds,
            first_step_seconds = (trainer.FirstStepDone!.Value - ProcessStart()).TotalSeconds,
            step_ms = new
            {
                forward = 1e3 * phases.Forward / phases.Steps, backward = 1e3 * phases.Backward / phases.Steps,
                update = 1e3 * phases.Update / phases.Steps,
            },
            peak_rss_mb = peak / (1024.0 * 1024.0),
        };
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(summary));
            return 0;
        }
        stdout.WriteLine($"median epoch {F(median, "F3")} s, {F(summary.samples_per_second, "F0")} samples/s, final test loss {F(summary.final_test_loss, "F4")}");
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
