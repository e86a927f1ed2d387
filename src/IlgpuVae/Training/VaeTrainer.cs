using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Imaging;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>Seconds spent per training phase, measured with a synchronisation after each.</summary>
public sealed class PhaseTimes
{
    /// <summary>Gather, forward and loss.</summary>
    public double Forward;
    /// <summary>Backward.</summary>
    public double Backward;
    /// <summary>The Adam update.</summary>
    public double Update;
    /// <summary>Steps measured.</summary>
    public long Steps;

    internal long Lap(Compute.IOps ops, ref double total, long start)
    {
        ops.Synchronize();
        long now = Stopwatch.GetTimestamp();
        total += Stopwatch.GetElapsedTime(start, now).TotalSeconds;
        if (Unsafe.AreSame(ref total, ref Update))
            Steps++;
        return now;
    }
}

/// <summary>
/// Trains a (conditional) VAE on MNIST entirely on the device: the data set is resident as bytes, each epoch
/// draws a seeded permutation, batches are gathered on the device, forward, backward and Adam run there, and
/// per-step losses accumulate in a device buffer that is read back only every
/// <see cref="TrainingOptions.ReportEverySteps"/> steps. With a run directory it writes a checkpoint, the
/// resumable state, metrics and images after every epoch, and a resumable state when cancelled.
/// </summary>
public sealed class VaeTrainer : IDisposable
{
    private const ulong EvaluationSalt = 0x5EED_E7A1_0000_0001UL;
    private readonly ComputeDevice _device;
    private readonly TrainingOptions _options;
    private readonly RunDirectory? _run;
    private readonly DeviceDataset _train, _test;
    private readonly MnistSet _testHost;
    private readonly VaeNetwork _network;
    private readonly AdamOptimizer _adam;
    private readonly Evaluator _evaluator;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _batch, _stepLosses;
    private readonly List<EpochMetrics> _history = [];
    private TrainingState _state = new(1, 0, 0, 0, 0);
    // The noise counter, advanced every step; kept out of _state so a step allocates nothing.
    private long _globalStep;

    /// <summary>Prepares a new run.</summary>
    /// <param name="device">The device.</param>
    /// <param name="data">MNIST (the training set is cut to <see cref="TrainingOptions.Limit"/>).</param>
    /// <param name="options">The options.</param>
    /// <param name="runDirectory">Where to write checkpoints, or null to write nothing.</param>
    public VaeTrainer(ComputeDevice device, MnistData data, TrainingOptions options, string? runDirectory = null)
    {
        options.Validate();
        if (data.Train.PixelsPerImage != options.Model.InputSize)
            throw new ArgumentException($"images have {data.Train.PixelsPerImage} pixels, the model takes {options.Model.InputSize}");
        _device = device;
        _options = options;
        _run = runDirectory is null ? null : new RunDirectory(runDirectory);
        var train = options.Limit is int limit && limit < data.Train.Count ? data.Train.Take(limit) : data.Train;
        _train = new DeviceDataset(device, train);
        _test = new DeviceDataset(device, data.Test);
        _testHost = data.Test;
        _network = new VaeNetwork(device, options.Model, Math.Max(options.BatchSize, 500), options.Seed);
        _adam = new AdamOptimizer(device, _network.Layout.Count);
        _evaluator = new Evaluator(_network, _test);
        _order = device.Allocate<int>(_train.Count);
        _batch = device.Allocate<float>((long)options.BatchSize * _train.Features);
        _stepLosses = device.Allocate<float>(2L * StepsPerEpoch);
        Model = new VaeModel(_network, ownsNetwork: false);
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> where it stopped, up to <paramref name="epochs"/>
    /// epochs in total (default: the run's own count).</summary>
    /// <param name="device">The device.</param>
    /// <param name="data">MNIST.</param>
    /// <param name="runDirectory">The run directory.</param>
    /// <param name="epochs">The new total, or null.</param>
    /// <returns>The trainer, restored.</returns>
    public static VaeTrainer Resume(ComputeDevice device, MnistData data, string runDirectory, int? epochs = null)
    {
        var run = new RunDirectory(runDirectory);
        var options = run.ReadConfig();
        if (epochs is int total)
            options = options with { Epochs = total };
        var trainer = new VaeTrainer(device, data, options, runDirectory);
        try
        {
            trainer.Restore(run);
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
        return trainer;
    }

    /// <summary>The model being trained (shares the trainer's network).</summary>
    public VaeModel Model { get; }

    /// <summary>The options.</summary>
    public TrainingOptions Options => _options;

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    public int StepsPerEpoch => (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>Training images.</summary>
    public int TrainCount => _train.Count;

    /// <summary>Metrics of every finished epoch, including those before a resume.</summary>
    public IReadOnlyList<EpochMetrics> History => _history;

    /// <summary>Trains until <see cref="TrainingOptions.Epochs"/> epochs are done, the token is cancelled (after the
    /// current step) or a loss stops being finite.</summary>
    /// <param name="progress">Receives reports; null for none.</param>
    /// <param name="cancellationToken">Stops training after the current step, leaving a resumable state.</param>
    /// <returns>How the run ended and the epochs it finished.</returns>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ops = _device.Ops;
        var finished = new List<EpochMetrics>();
        int steps = StepsPerEpoch, d = _train.Features, batchSize = _options.BatchSize;
        var stepLosses = _stepLosses.View.BaseView;
        var host = new float[2 * steps];
        _run?.WriteConfig(_options);
        while (_state.Epoch <= _options.Epochs)
        {
            int epoch = _state.Epoch;
            _order.View.BaseView.CopyFromCPU(Permutation(_options.Seed, epoch, _train.Count));
            if (_state.StepInEpoch == 0)
                ops.Fill(stepLosses, 0f);
            var clock = Stopwatch.StartNew();
            double secondsBefore = _state.EpochSeconds;
            int stepsAtStart = _state.StepInEpoch;
            for (int step = _state.StepInEpoch; step < steps; step++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    ops.Synchronize();
                    _state = _state with { StepInEpoch = step, GlobalStep = _globalStep, EpochSeconds = secondsBefore + clock.Elapsed.TotalSeconds };
                    SaveState();
                    return new TrainingResult(TrainingOutcome.Cancelled, finished,
                        $"stopped at epoch {epoch}, step {step} of {steps}" + (_run is null ? "" : $"; the state is saved in {_run.Path}"));
                }
                TrainStep(step, Math.Min(batchSize, _train.Count - step * batchSize), epoch);
                if (FirstStepDone is null)
                {
                    ops.Synchronize();
                    FirstStepDone = DateTime.UtcNow;
                }
                int done = step + 1;
                double? loss = null;
                if (done % _options.ReportEverySteps == 0 && done < steps)
                {
                    ops.Synchronize();
                    stepLosses.SubView(0, 2L * steps).CopyToCPU(host);
                    if (FirstNonFinite(host, done) is int bad)
                        return Diverged(finished, epoch, bad);
                    loss = MeanLoss(host, done, batchSize);
                }
                // Every step, from the host's count: no synchronisation unless the loss was read back above.
                progress?.Report(new TrainingProgress(epoch, _options.Epochs, done, steps, loss,
                    (done - stepsAtStart) * (double)batchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), null));
            }
            ops.Synchronize();
            double epochSeconds = secondsBefore + clock.Elapsed.TotalSeconds;
            stepLosses.SubView(0, 2L * steps).CopyToCPU(host);
            if (FirstNonFinite(host, steps) is int failed)
                return Diverged(finished, epoch, failed);
            double trainLoss = MeanLoss(host, steps, batchSize);
            var test = _evaluator.Evaluate((ulong)_options.Seed ^ EvaluationSalt, (ulong)epoch, (done, total) => progress?.Report(
                new TrainingProgress(epoch, _options.Epochs, done, total, null, 0, null) { Phase = TrainingPhase.Testing }));
            var metrics = new EpochMetrics(epoch, trainLoss, test.Loss, test.Reconstruction, test.Kl, epochSeconds,
                _train.Count / epochSeconds);
            if (!double.IsFinite(test.Loss))
                return Diverged(finished, epoch, steps - 1);
            finished.Add(metrics);
            _history.Add(metrics);
            _state = new TrainingState(epoch + 1, 0, _globalStep, _adam.Step, 0);
            if (_run is not null)
            {
                SaveState();
                _run.WriteMetrics(_history);
                WriteImages();
            }
            progress?.Report(new TrainingProgress(epoch, _options.Epochs, steps, steps, trainLoss, metrics.SamplesPerSecond, metrics));
        }
        return new TrainingResult(TrainingOutcome.Completed, finished);
    }

    /// <summary>When this trainer's first step finished (UTC), for start-up benchmarks; null before.</summary>
    public DateTime? FirstStepDone { get; private set; }

    /// <summary>
    /// When set, every step synchronises after each phase and adds the phase's time here (for benchmarks only:
    /// the synchronisations cost time a normal run does not spend).
    /// </summary>
    public PhaseTimes? PhaseTimes { get; set; }

    private void TrainStep(int step, int rows, int epoch)
    {
        var ops = _device.Ops;
        int d = _train.Features;
        long start = PhaseTimes is null ? 0 : Stopwatch.GetTimestamp();
        var x = _batch.View.BaseView.SubView(0, (long)rows * d);
        ops.GatherImages(_train.Images, _order.View.BaseView, step * _options.BatchSize, x, d);
        if (_options.Model.IsConditional)
            ops.GatherLabels(_train.Labels, _order.View.BaseView, step * _options.BatchSize, _network.Labels.SubView(0, rows));
        _network.Forward(x, rows, (ulong)_options.Seed, (ulong)_globalStep, BetaAt(epoch, step));
        ops.SumInto(_network.Reconstruction.SubView(0, rows), _stepLosses.View.BaseView, 2 * step);
        ops.SumInto(_network.Kl.SubView(0, rows), _stepLosses.View.BaseView, 2 * step + 1);
        start = PhaseTimes?.Lap(ops, ref PhaseTimes.Forward, start) ?? 0;
        _network.Backward(x, rows);
        start = PhaseTimes?.Lap(ops, ref PhaseTimes.Backward, start) ?? 0;
        _adam.Update(_network.Parameters, _network.Gradients, _options.LearningRate, _options.Beta1, _options.Beta2, _options.Epsilon);
        PhaseTimes?.Lap(ops, ref PhaseTimes.Update, start);
        _globalStep++;
    }

    // The KL weight moves linearly from BetaStart to Beta over the first KlWarmupEpochs epochs, step by step.
    private float BetaAt(int epoch, int step)
    {
        if (_options.KlWarmupEpochs == 0)
            return _options.Beta;
        double progress = Math.Min(1.0, (epoch - 1 + (step + 1) / (double)StepsPerEpoch) / _options.KlWarmupEpochs);
        return (float)(_options.BetaStart + (_options.Beta - _options.BetaStart) * progress);
    }

    // The mean per-image loss of the first `steps` steps: recon + KL (the ELBO's negative), as pytorch/examples reports.
    private double MeanLoss(float[] host, int steps, int batchSize)
    {
        double sum = 0;
        for (int s = 0; s < steps; s++)
            sum += host[2 * s] + host[2 * s + 1];
        int images = Math.Min(_train.Count, steps * batchSize);
        return sum / images;
    }

    private static int? FirstNonFinite(float[] host, int steps)
    {
        for (int s = 0; s < steps; s++)
            if (!float.IsFinite(host[2 * s]) || !float.IsFinite(host[2 * s + 1]))
                return s;
        return null;
    }

    private TrainingResult Diverged(List<EpochMetrics> finished, int epoch, int step) =>
        new(TrainingOutcome.Diverged, finished,
            $"loss became NaN or infinite at epoch {epoch}, step {step + 1} (global step {(long)(epoch - 1) * StepsPerEpoch + step + 1}); " +
            (_run is null ? "nothing was saved" : $"the last good checkpoint in {_run.Path} was kept"));

    /// <summary>The epoch's shuffled order: a seeded Fisher-Yates permutation, the same on every run.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch.</param>
    /// <param name="count">Items.</param>
    /// <returns>The permutation.</returns>
    public static int[] Permutation(int seed, int epoch, int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
            order[i] = i;
        var random = new Random(unchecked(seed * 1_000_003 + epoch * 7919));
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    private void SaveState()
    {
        if (_run is null)
            return;
        var state = _state with { AdamStep = _adam.Step };
        var tensors = new List<NamedTensor>();
        tensors.AddRange(_network.Export(_adam.M, "adam.m."));
        tensors.AddRange(_network.Export(_adam.V, "adam.v."));
        var losses = new float[2 * StepsPerEpoch];
        _stepLosses.View.BaseView.SubView(0, losses.Length).CopyToCPU(losses);
        tensors.Add(new NamedTensor("epoch.step_losses", [StepsPerEpoch, 2], losses));
        // The state first, then the model: both carry the global step, and a resume checks they agree.
        _run.WriteState(state, tensors);
        Model.Save(_run.PathOf(RunDirectory.ModelFile), new Dictionary<string, string>
        {
            ["global_step"] = state.GlobalStep.ToString(CultureInfo.InvariantCulture),
            ["epochs_completed"] = (state.Epoch - 1).ToString(CultureInfo.InvariantCulture),
        });
    }

    private void Restore(RunDirectory run)
    {
        string statePath = run.PathOf(RunDirectory.StateFile), modelPath = run.PathOf(RunDirectory.ModelFile);
        foreach (var path in new[] { statePath, modelPath })
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path}: missing; nothing to resume");
        SafeTensorsFile stateFile, modelFile;
        try
        {
            stateFile = SafeTensors.Read(statePath);
            modelFile = SafeTensors.Read(modelPath);
        }
        catch (CheckpointFormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        var state = TrainingState.FromMetadata(stateFile.Metadata, statePath);
        var config = VaeConfig.FromMetadata(modelFile.Metadata, modelPath);
        if (config.ToString() != _options.Model.ToString())
            throw new InvalidDataException($"{modelPath}: holds a {config} model but {run.PathOf(RunDirectory.ConfigFile)} describes {_options.Model}");
        if (!modelFile.Metadata.TryGetValue("global_step", out var modelStep) || modelStep != state.GlobalStep.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{modelPath}: written at a different step than {statePath}; cannot resume exactly");
        _network.Import(modelFile, _network.Parameters, "", modelPath);
        _network.Import(stateFile, _adam.M, "adam.m.", statePath);
        _network.Import(stateFile, _adam.V, "adam.v.", statePath);
        var losses = stateFile.Get("epoch.step_losses");
        if (losses.Data.Length != 2 * StepsPerEpoch)
            throw new InvalidDataException($"{statePath}: step losses for {losses.Data.Length / 2} steps, this run has {StepsPerEpoch} per epoch");
        _stepLosses.View.BaseView.SubView(0, losses.Data.Length).CopyFromCPU(losses.Data);
        _adam.Step = state.AdamStep;
        _state = state;
        _globalStep = state.GlobalStep;
        _history.AddRange(run.ReadMetrics().Where(m => m.Epoch < state.Epoch));
    }

    private void WriteImages()
    {
        if (_run is null)
            return;
        const int columns = 10;
        int d = _train.Features;
        var images = new float[columns * d];
        var labels = new int[columns];
        for (int i = 0; i < columns; i++)
        {
            var pixels = _testHost.Image(i);
            for (int p = 0; p < d; p++)
                images[i * d + p] = pixels[p] / 255f;
            labels[i] = _testHost.Labels[i];
        }
        bool conditional = _options.Model.IsConditional;
        var reconstructions = Model.Reconstruct(images, conditional ? labels : default);
        string epochText = $"epoch {_state.Epoch - 1}";
        DigitGrid.Save(_run.PathOf("reconstructions.png"), [.. images, .. reconstructions], 2, columns,
            new GridLabels { Title = $"Test digits and reconstructions, {epochText}", RowLabels = ["input", "recon"] });
        float[] samples;
        GridLabels gridLabels;
        if (conditional)
        {
            var sampleLabels = Enumerable.Range(0, 10 * 8).Select(i => i / 8).ToArray();
            samples = Model.Sample(sampleLabels.Length, 7, sampleLabels);
            gridLabels = new GridLabels { Title = $"Samples per digit, {epochText}", RowLabels = Enumerable.Range(0, 10).Select(i => $"digit {i}").ToArray() };
            DigitGrid.Save(_run.PathOf("samples.png"), samples, 10, 8, gridLabels);
            return;
        }
        samples = Model.Sample(64, 7);
        gridLabels = new GridLabels { Title = $"Samples from the prior, {epochText}" };
        DigitGrid.Save(_run.PathOf("samples.png"), samples, 8, 8, gridLabels);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        _evaluator.Dispose();
        _adam.Dispose();
        _network.Dispose();
        _order.Dispose();
        _batch.Dispose();
        _stepLosses.Dispose();
        _train.Dispose();
        _test.Dispose();
    }
}
