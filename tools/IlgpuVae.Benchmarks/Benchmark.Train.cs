using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Training;

namespace IlgpuVae.Benchmarks;

/// <summary>What <see cref="Benchmark.Train"/> measured.</summary>
/// <param name="Model">The model trained, as text.</param>
/// <param name="BatchSize">B.</param>
/// <param name="TrainImages">Training images per epoch.</param>
/// <param name="EpochSeconds">Each timed epoch's training time (evaluation excluded).</param>
/// <param name="EpochCpuSeconds">The process's CPU seconds (all threads) during each timed epoch's training.</param>
/// <param name="FlopsPerImage">
/// Floating-point operations of one training image: 6 per multiply-add of the forward pass's linear and convolution
/// layers (forward, input gradient and weight gradient; the decoder's once per posterior sample).
/// </param>
/// <param name="FinalTestLoss">The test loss after the last timed epoch.</param>
/// <param name="ForwardSeconds">Gather, forward and loss per step, from one epoch synchronised after each phase.</param>
/// <param name="BackwardSeconds">Backward per step, likewise.</param>
/// <param name="UpdateSeconds">The Adam update per step, likewise.</param>
/// <param name="FirstStepDone">When the first training step had finished on the device (UTC).</param>
/// <param name="Profile">With profiling: the ops by time per step, largest first (each op's time in that epoch, evaluation
/// included, divided by the training steps, and how often it ran); else empty.</param>
internal sealed record TrainBenchmarkResult(string Model, int BatchSize, int TrainImages, IReadOnlyList<double> EpochSeconds,
    IReadOnlyList<double> EpochCpuSeconds, double FlopsPerImage, double FinalTestLoss, double ForwardSeconds, double BackwardSeconds, double UpdateSeconds, DateTime FirstStepDone,
    IReadOnlyList<(string Op, double SecondsPerStep, long Calls)> Profile)
{
    /// <summary>The median of <see cref="EpochSeconds"/> (the upper one of an even count).</summary>
    public double MedianEpochSeconds => EpochSeconds.Order().ElementAt(EpochSeconds.Count / 2);

    /// <summary>Training images per second at the median epoch.</summary>
    public double SamplesPerSecond => TrainImages / MedianEpochSeconds;

    /// <summary>The last timed epoch's training time, the figure interleaved rounds compare.</summary>
    public double LastEpochSeconds => EpochSeconds[^1];

    /// <summary>The process's CPU seconds during the last timed epoch's training.</summary>
    public double LastEpochCpuSeconds => EpochCpuSeconds[^1];
}

internal static partial class Benchmark
{
    /// <summary>
    /// Times training: the epochs asked for as the trainer runs them (asynchronously), then one more epoch
    /// synchronised after each phase of a step (forward, backward, update) to split a step's time (unless left out),
    /// and optionally one synchronised after every op.
    /// </summary>
    /// <param name="device">The device to train on.</param>
    /// <param name="data">MNIST.</param>
    /// <param name="training">The run to time (its <see cref="TrainingSettings.Epochs"/> are the timed epochs).</param>
    /// <param name="profile">Also time every op in one more epoch.</param>
    /// <param name="phases">Also time the phases of a step in one more epoch (else the phase times are 0).</param>
    /// <param name="progress">Progress of the timed epochs; null for none.</param>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>The figures, or null when the timed run diverged (<paramref name="outcome"/> says where).</returns>
    /// <param name="outcome">How the timed run ended.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static TrainBenchmarkResult? Train(ComputeDevice device, ImageData data, TrainingOptions training, bool profile,
        bool phases, IProgress<WorkProgress>? progress, CancellationToken cancellationToken, out TrainingResult outcome)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(training);
        using var trainer = new VaeTrainer(device, data, training);
        var cpuSeconds = new List<double>();
        trainer.EpochCpuSeconds = cpuSeconds;
        outcome = trainer.Train(progress, cancellationToken);
        if (outcome.Diverged)
            return null;
        var times = new PhaseTimes();
        if (phases)
        {
            using var phaseTrainer = new VaeTrainer(device, data, training with { Epochs = 1 });
            phaseTrainer.PhaseTimes = times;
            phaseTrainer.Train(null, cancellationToken);
        }
        var table = new List<(string Op, double SecondsPerStep, long Calls)>();
        if (profile)
        {
            var profiler = device.EnableProfiling();
            using var profiled = new VaeTrainer(device, data, training with { Epochs = 1 });
            profiler.Reset();
            profiled.Train(null, cancellationToken);
            long steps = profiled.StepsPerEpoch;
            table.AddRange(profiler.Table.Select(row => (row.Op, row.Seconds / steps, row.Calls)));
        }
        long measured = Math.Max(1, times.Steps);
        return new TrainBenchmarkResult(training.Model.ToString(), training.BatchSize, trainer.TrainCount,
            outcome.Epochs.Select(e => e.EpochSeconds).ToArray(), cpuSeconds, FlopsPerImage(((ITrainable)trainer).Graph.Layers, training.Samples),
            outcome.Epochs[^1].TestLoss, times.Forward / measured, times.Backward / measured, times.Update / measured,
            trainer.FirstStepDone!.Value, table);
    }

    // 6 per forward multiply-add (forward, input gradient, weight gradient) of the dense and convolution layers; the
    // layers after the posterior sample run once per sample.
    internal static double FlopsPerImage(IReadOnlyList<Layer> layers, int samples)
    {
        double multiplyAdds = 0;
        int repeats = 1;
        foreach (var layer in layers)
        {
            multiplyAdds += repeats * layer switch
            {
                Linear linear => (double)linear.Inputs * linear.Outputs,
                Conv2d conv => conv.Shape.WithBatch(1).MultiplyAdds,
                ConvTranspose2d transposed => transposed.Dual.WithBatch(1).MultiplyAdds,
                _ => 0,
            };
            if (layer is GaussianSample)
                repeats = samples;
        }
        return 6 * multiplyAdds;
    }
}
