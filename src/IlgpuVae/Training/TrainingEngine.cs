using System.Diagnostics;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Layers;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>Seconds spent per training phase, measured with a synchronisation after each.</summary>
internal sealed class PhaseTimes
{
    /// <summary>Gather, forward and loss.</summary>
    public double Forward;
    /// <summary>Backward.</summary>
    public double Backward;
    /// <summary>The Adam update.</summary>
    public double Update;
    /// <summary>Steps measured.</summary>
    public long Steps;

    internal long Lap(IOps ops, ref double total, long start)
    {
        ops.Synchronize();
        long now = Stopwatch.GetTimestamp();
        total += Stopwatch.GetElapsedTime(start, now).TotalSeconds;
        if (Unsafe.AreSame(ref total, ref Update))
            Steps++;
        return now;
    }
}

/// <summary>What a model contributes to a training step; everything else is the engine's.</summary>
internal interface ITrainable
{
    /// <summary>The network the engine gathers into, updates and checkpoints.</summary>
    Network Graph { get; }

    /// <summary>Whether batches carry labels.</summary>
    bool ReadsLabels { get; }

    /// <summary>The per-sample loss terms summed per step, in checkpoint order (their sum is the reported loss).</summary>
    IReadOnlyList<ArrayView<float>> LossTerms { get; }

    /// <summary>
    /// Whether the training forward adds each term's batch sum into <see cref="PassContext.LossTotals"/> itself (in
    /// the launches that compute the terms), so the engine launches no sums of its own.
    /// </summary>
    bool SumsLossTerms => false;

    /// <summary>Forward and loss on the gathered batch (B = <see cref="PassContext.Rows"/>), ready for the backward.</summary>
    /// <param name="seed">The run's noise seed.</param>
    /// <param name="globalStep">The step counter (the noise stream).</param>
    /// <param name="klWeight">The KL weight at this step (unused by models without a KL).</param>
    void TrainingForward(ulong seed, ulong globalStep, float klWeight);
}

/// <summary>The engine's knobs: the parts of a model's training options that the loop needs.</summary>
internal sealed record EngineSettings
{
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required int Seed { get; init; }
    public required int ReportEverySteps { get; init; }
    public required float Beta1 { get; init; }
    public required float Beta2 { get; init; }
    public required float Epsilon { get; init; }
    /// <summary>The learning rate at (global step, steps in the whole run).</summary>
    public required Func<long, long, float> LearningRate { get; init; }
    /// <summary>The KL weight at (epoch, step in epoch, steps per epoch).</summary>
    public Func<int, int, int, float> KlWeight { get; init; } = (_, _, _) => 1f;
}

/// <summary>A report from the engine: after steps (every step, the loss read only at sync points) and test batches.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="TrainLoss">Mean loss so far in the epoch, when read back at this report; null otherwise.</param>
/// <param name="SamplesPerSecond">Throughput so far in this epoch.</param>
internal readonly record struct EngineReport(int Epoch, int Step, int StepsPerEpoch, double? TrainLoss, double SamplesPerSecond);

/// <summary>An epoch's training figures, before its test.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss per image.</param>
/// <param name="EpochSeconds">Training seconds.</param>
/// <param name="SamplesPerSecond">Training images per second.</param>
internal readonly record struct EpochSummary(int Epoch, double TrainLoss, double EpochSeconds, double SamplesPerSecond);

/// <summary>
/// The one training loop for every model: epochs over a seeded permutation, batches gathered on the device, the
/// model's forward, its backward, Adam over the flat buffers, per-step losses summed into a device buffer that is
/// read back only every <see cref="EngineSettings.ReportEverySteps"/> steps (divergence stops the run there),
/// schedules, cancellation after a step, and the resumable state (Adam's moments, the epoch's step losses,
/// counters). A test pass, checkpoints and pictures are the caller's, through the callbacks of <see cref="Run"/>.
/// </summary>
internal sealed class TrainingEngine : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly ITrainable _model;
    private readonly DeviceDataset _train;
    private readonly EngineSettings _settings;
    private readonly AdamOptimizer _adam;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _stepLosses;
    private readonly int _terms;
    private TrainingState _state = new(1, 0, 0, 0, 0);
    // The noise counter, advanced every step; kept out of _state so a step allocates nothing.
    private long _globalStep;

    public TrainingEngine(ComputeDevice device, ITrainable model, DeviceDataset train, EngineSettings settings)
    {
        if (train.Count == 0)
            throw new ArgumentException("the training set is empty");
        _device = device;
        _model = model;
        _train = train;
        _settings = settings;
        _terms = model.LossTerms.Count;
        _adam = new AdamOptimizer(device, model.Graph.Layout.Count);
        _order = device.Allocate<int>(train.Count);
        _stepLosses = device.Allocate<float>((long)_terms * StepsPerEpoch);
    }

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    public int StepsPerEpoch => (_train.Count + _settings.BatchSize - 1) / _settings.BatchSize;

    /// <summary>The epoch in progress or next to start, and the counters to resume from.</summary>
    public TrainingState State => _state with { GlobalStep = _globalStep, AdamStep = _adam.Step };

    /// <summary>Steps done in total.</summary>
    public long GlobalStep => _globalStep;

    /// <summary>When the first step finished (UTC), for start-up benchmarks; null before.</summary>
    public DateTime? FirstStepDone { get; private set; }

    /// <summary>When set, every step synchronises after each phase and adds the phase's time here (benchmarks only).</summary>
    public PhaseTimes? PhaseTimes { get; set; }

    /// <summary>When set, each epoch adds the process's CPU seconds during its training here (benchmarks only).</summary>
    public List<double>? EpochCpuSeconds { get; set; }

    /// <summary>
    /// Trains until <see cref="EngineSettings.Epochs"/> epochs are done, the token is cancelled (after a step) or a loss
    /// stops being finite. After each epoch's training <paramref name="finishEpoch"/> runs the test pass and saves;
    /// it returns the test loss (not finite: the run stops as diverged).
    /// </summary>
    /// <param name="report">Receives reports, or null.</param>
    /// <param name="finishEpoch">Tests, records and saves a finished epoch; returns its test loss.</param>
    /// <param name="cancellationToken">Stops after the current step.</param>
    /// <returns>How the run ended, the epoch and the step (0-based) where it stopped.</returns>
    public (EngineEnd Outcome, int Epoch, int Step) Run(Action<EngineReport>? report, Func<EpochSummary, double> finishEpoch,
        CancellationToken cancellationToken)
    {
        var ops = _device.Ops;
        int steps = StepsPerEpoch, batchSize = _settings.BatchSize;
        var stepLosses = _stepLosses.View.BaseView;
        var host = new float[_terms * steps];
        while (_state.Epoch <= _settings.Epochs)
        {
            int epoch = _state.Epoch;
            // The epoch's shuffled order: a seeded Fisher-Yates permutation, the same on every run.
            var order = Data.ImageSet.Permutation(_settings.Seed, epoch, _train.Count);
            // The device's lock is held a step at a time, so models on the same device get turns between steps.
            lock (_device.Gate)
            {
                _order.View.BaseView.CopyFromCPU(order);
                if (_state.StepInEpoch == 0)
                    ops.Fill(stepLosses, 0f);
            }
            var clock = Stopwatch.StartNew();
            var cpuAtStart = Environment.CpuUsage.TotalTime;
            double secondsBefore = _state.EpochSeconds;
            int stepsAtStart = _state.StepInEpoch;
            for (int step = _state.StepInEpoch; step < steps; step++)
            {
                int done = step + 1;
                double? loss = null;
                lock (_device.Gate)
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        ops.Synchronize();
                        _state = _state with { StepInEpoch = step, EpochSeconds = secondsBefore + clock.Elapsed.TotalSeconds };
                        return (EngineEnd.Cancelled, epoch, step);
                    }
                    Step(epoch, step, Math.Min(batchSize, _train.Count - step * batchSize));
                    if (FirstStepDone is null)
                    {
                        ops.Synchronize();
                        FirstStepDone = DateTime.UtcNow;
                    }
                    if (done % _settings.ReportEverySteps == 0 && done < steps)
                    {
                        ops.Synchronize();
                        stepLosses.SubView(0, (long)_terms * steps).CopyToCPU(host);
                        if (FirstNonFinite(host, done) is int bad)
                            return (EngineEnd.Diverged, epoch, bad);
                        loss = MeanLoss(host, done);
                    }
                }
                // The step count is the host's: reporting it waits for nothing.
                report?.Invoke(new EngineReport(epoch, done, steps, loss,
                    (done - stepsAtStart) * (double)batchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
            }
            double epochSeconds;
            lock (_device.Gate)
            {
                ops.Synchronize();
                epochSeconds = secondsBefore + clock.Elapsed.TotalSeconds;
                EpochCpuSeconds?.Add((Environment.CpuUsage.TotalTime - cpuAtStart).TotalSeconds);
                stepLosses.SubView(0, (long)_terms * steps).CopyToCPU(host);
            }
            if (FirstNonFinite(host, steps) is int failed)
                return (EngineEnd.Diverged, epoch, failed);
            _state = new TrainingState(epoch + 1, 0, _globalStep, _adam.Step, 0);
            double testLoss = finishEpoch(new EpochSummary(epoch, MeanLoss(host, steps), epochSeconds, _train.Count / epochSeconds));
            if (!double.IsFinite(testLoss))
            {
                _state = new TrainingState(epoch, steps, _globalStep, _adam.Step, epochSeconds);
                return (EngineEnd.Diverged, epoch, steps - 1);
            }
        }
        return (EngineEnd.Completed, _state.Epoch - 1, 0);
    }

    /// <summary>Adam's moments and the epoch's step losses as named tensors, for the resumable state.</summary>
    /// <returns>The tensors.</returns>
    public List<NamedTensor> StateTensors()
    {
        var graph = _model.Graph;
        var tensors = new List<NamedTensor>();
        tensors.AddRange(graph.Export(_adam.M, "adam.m."));
        tensors.AddRange(graph.Export(_adam.V, "adam.v."));
        var losses = new float[_terms * StepsPerEpoch];
        lock (_device.Gate)
            _stepLosses.View.BaseView.SubView(0, losses.Length).CopyToCPU(losses);
        tensors.Add(new NamedTensor("epoch.step_losses", [StepsPerEpoch, _terms], losses));
        return tensors;
    }

    /// <summary>Restores what <see cref="StateTensors"/> and <see cref="State"/> saved.</summary>
    /// <param name="state">The counters.</param>
    /// <param name="file">The state file.</param>
    /// <param name="source">Its path, for messages.</param>
    /// <param name="description">The model, for messages.</param>
    public void Restore(TrainingState state, SafeTensorsFile file, string source, string description)
    {
        var graph = _model.Graph;
        graph.Import(file, _adam.M, "adam.m.", source, description);
        graph.Import(file, _adam.V, "adam.v.", source, description);
        if (!file.TryGet("epoch.step_losses", out var losses))
            throw new InvalidDataException($"{source}: tensor 'epoch.step_losses' is missing");
        if (losses.Data.Length != _terms * StepsPerEpoch)
            throw new InvalidDataException($"{source}: step losses for {losses.Data.Length / _terms} steps, this run has {StepsPerEpoch} per epoch");
        _stepLosses.View.BaseView.SubView(0, losses.Data.Length).CopyFromCPU(losses.Data);
        _adam.Step = state.AdamStep;
        _state = state;
        _globalStep = state.GlobalStep;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _adam.Dispose();
        _order.Dispose();
        _stepLosses.Dispose();
    }

    private void Step(int epoch, int step, int rows)
    {
        var ops = _device.Ops;
        var graph = _model.Graph;
        long start = PhaseTimes is null ? 0 : Stopwatch.GetTimestamp();
        _train.Gather(graph, _order.View.BaseView, step * _settings.BatchSize, rows, _model.ReadsLabels);
        var context = graph.Context;
        if (_model.SumsLossTerms)
        {
            context.LossTotals = _stepLosses.View.BaseView;
            context.LossSlot = _terms * step;
        }
        _model.TrainingForward((ulong)_settings.Seed, (ulong)_globalStep, _settings.KlWeight(epoch, step, StepsPerEpoch));
        context.LossSlot = -1;
        if (!_model.SumsLossTerms)
        {
            var terms = _model.LossTerms;
            for (int t = 0; t < _terms; t++)
                ops.SumInto(terms[t].SubView(0, rows), _stepLosses.View.BaseView, _terms * step + t);
        }
        start = PhaseTimes?.Lap(ops, ref PhaseTimes.Forward, start) ?? 0;
        graph.Backward();
        start = PhaseTimes?.Lap(ops, ref PhaseTimes.Backward, start) ?? 0;
        long total = (long)_settings.Epochs * StepsPerEpoch;
        _adam.Update(graph.Parameters, graph.Gradients, _settings.LearningRate(_globalStep, total), _settings.Beta1,
            _settings.Beta2, _settings.Epsilon);
        PhaseTimes?.Lap(ops, ref PhaseTimes.Update, start);
        _globalStep++;
    }

    // The mean per-image loss of the first `steps` steps: the sum of the terms (for a VAE, recon + KL: the ELBO's negative).
    private double MeanLoss(float[] host, int steps)
    {
        double sum = 0;
        for (int s = 0; s < steps; s++)
        {
            // A step's terms add in float first, as they always have, so reported losses stay bit-identical.
            float step = 0f;
            for (int t = 0; t < _terms; t++)
                step += host[_terms * s + t];
            sum += step;
        }
        return sum / Math.Min(_train.Count, (long)steps * _settings.BatchSize);
    }

    private int? FirstNonFinite(float[] host, int steps)
    {
        for (int s = 0; s < steps; s++)
            for (int t = 0; t < _terms; t++)
                if (!float.IsFinite(host[_terms * s + t]))
                    return s;
        return null;
    }
}

/// <summary>How the engine's loop ended: a trainer turns a stop into an <see cref="OperationCanceledException"/>.</summary>
internal enum EngineEnd
{
    Completed,
    Cancelled,
    Diverged,
}
