using System.Diagnostics;
using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Models;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

public static partial class Commands
{
    private static CommandSpec Bench(TextWriter stdout, TextWriter stderr) => new("bench",
        "benchmarks: 'bench ops' (GFLOP/s and GB/s of each op) or 'bench train' (epochs of the default VAE)",
        [
            new("ops", "benchmark the ops at the VAE's training shapes, for each implementation on the device"),
            new("train", "benchmark training epochs of the default VAE"),
            DataOption,
            new("--epochs", "bench train: epochs to time", "N", "3"),
            new("--limit", "bench train: training images", "N"),
            new("--profile", "bench train: also time every op in one synchronised epoch"),
            new("--repeats", "bench ops: timed repetitions per op (on the CPU both --cpu-ops run unless one is named)", "N", "50"),
            JsonOption,
            DeviceOption,
            CpuOpsOption,
        ],
        (options, token) =>
        {
            if (options.Flag("ops") == options.Flag("train"))
                throw new UsageException("say what to benchmark: 'bench ops' or 'bench train'");
            return options.Flag("ops") ? BenchOps(options, stdout) : BenchTrain(options, stdout, stderr, token);
        },
        "Figures print as they are measured; compare implementations or peers within one run (shared machines are noisy).");

    private static int BenchOps(ParsedOptions options, TextWriter stdout)
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

    private static DateTime ProcessStart()
    {
        using var self = Process.GetCurrentProcess();
        return self.StartTime.ToUniversalTime();
    }

    private static int BenchTrain(ParsedOptions options, TextWriter stdout, TextWriter stderr, CancellationToken token)
    {
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
        var result = trainer.Train(json ? null : new ProgressPrinter(stdout, training.BatchSize), token);
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
}
