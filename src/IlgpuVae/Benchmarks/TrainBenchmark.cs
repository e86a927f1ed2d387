using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Benchmarks;

/// <summary>Time per training step of one op, from an epoch synchronised after every op.</summary>
/// <param name="Op">The op.</param>
/// <param name="SecondsPerStep">Its time in that epoch (evaluation included) divided by the training steps.</param>
/// <param name="Calls">How often it ran in that epoch.</param>
public sealed record OpProfile(string Op, double SecondsPerStep, long Calls);

/// <summary>What <see cref="TrainBenchmark.Run"/> measured.</summary>
/// <param name="Model">The model trained, as text.</param>
/// <param name="BatchSize">B.</param>
/// <param name="TrainImages">Training images per epoch.</param>
/// <param name="EpochSeconds">Each timed epoch's training time (evaluation excluded).</param>
/// <param name="FinalTestLoss">The test loss after the last timed epoch.</param>
/// <param name="ForwardSeconds">Gather, forward and loss per step, from one epoch synchronised after each phase.</param>
/// <param name="BackwardSeconds">Backward per step, likewise.</param>
/// <param name="UpdateSeconds">The Adam update per step, likewise.</param>
/// <param name="FirstStepDone">When the first training step had finished on the device (UTC).</param>
/// <param name="Profile">With profiling: the ops by time per step, largest first; else empty.</param>
public sealed record TrainBenchmarkResult(string Model, int BatchSize, int TrainImages, IReadOnlyList<double> EpochSeconds,
    double FinalTestLoss, double ForwardSeconds, double BackwardSeconds, double UpdateSeconds, DateTime FirstStepDone,
    IReadOnlyList<OpProfile> Profile)
{
    /// <summary>The median of <see cref="EpochSeconds"/> (the upper one of an even count).</summary>
    public double MedianEpochSeconds => EpochSeconds.Order().ElementAt(EpochSeconds.Count / 2);

    /// <summary>Training images per second at the median epoch.</summary>
    public double SamplesPerSecond => TrainImages / MedianEpochSeconds;
}

/// <summary>
/// Times training: the epochs asked for as the trainer runs them (asynchronously), then one more epoch
/// synchronised after each phase of a step (forward, backward, update) to split a step's time, and
/// optionally one synchronised after every op.
/// </summary>
public static class TrainBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="device">The device to train on.</param>
    /// <param name="data">MNIST.</param>
    /// <param name="training">The run to time (its <see cref="TrainingSettings.Epochs"/> are the timed epochs).</param>
    /// <param name="profile">Also time every op in one more epoch.</param>
    /// <param name="progress">Progress of the timed epochs; null for none.</param>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>The figures, or null when the timed run diverged (<paramref name="outcome"/> says where).</returns>
    /// <param name="outcome">How the timed run ended.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static TrainBenchmarkResult? Run(ComputeDevice device, MnistData data, TrainingOptions training, bool profile,
        IProgress<TrainingProgress>? progress, CancellationToken cancellationToken, out TrainingResult outcome)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(training);
        using var trainer = new VaeTrainer(device, data, training);
        outcome = trainer.Train(progress, cancellationToken);
        if (outcome.Outcome != TrainingOutcome.Completed)
            return null;
        var phases = new PhaseTimes();
        using (var phaseTrainer = new VaeTrainer(device, data, training with { Epochs = 1 }))
        {
            phaseTrainer.PhaseTimes = phases;
            phaseTrainer.Train(null, cancellationToken);
        }
        var table = new List<OpProfile>();
        if (profile)
        {
            var profiler = device.EnableProfiling();
            using var profiled = new VaeTrainer(device, data, training with { Epochs = 1 });
            profiler.Reset();
            profiled.Train(null, cancellationToken);
            long steps = profiled.StepsPerEpoch;
            table.AddRange(profiler.Table.Select(row => new OpProfile(row.Op, row.Seconds / steps, row.Calls)));
        }
        long measured = Math.Max(1, phases.Steps);
        return new TrainBenchmarkResult(training.Model.ToString(), training.BatchSize, trainer.TrainCount,
            outcome.Epochs.Select(e => e.EpochSeconds).ToArray(), outcome.Epochs[^1].TestLoss,
            phases.Forward / measured, phases.Backward / measured, phases.Update / measured,
            trainer.FirstStepDone!.Value, table);
    }
}
