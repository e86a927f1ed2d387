using System.Globalization;
using ILGPU;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>
/// Trains a (conditional) VAE on the device with the one training engine: seeded shuffling, device gathers, the
/// layer graph's forward and backward, Adam, losses read back rarely, the KL weight schedule. With a run directory
/// it writes the checkpoint, the resumable state and the metrics after every epoch, and a resumable state when
/// cancelled; pictures and other per-epoch work subscribe to <see cref="EpochCompleted"/>.
/// </summary>
public sealed class VaeTrainer : IDisposable, ITrainable
{
    private const ulong EvaluationSalt = 0x5EED_E7A1_0000_0001UL;
    private readonly TrainingOptions _options;
    private readonly RunDirectory? _run;
    private readonly DeviceDataset _train, _test;
    private readonly VaeNetwork _network;
    private readonly Evaluator _evaluator;
    private readonly TrainingEngine _engine;
    private readonly List<EpochMetrics> _history = [];
    private readonly ArrayView<float>[] _lossTerms;

    /// <summary>Prepares a new run.</summary>
    /// <param name="device">The device to train on.</param>
    /// <param name="data">The images (the training set is cut to <see cref="TrainingSettings.Limit"/>).</param>
    /// <param name="options">The options; checked first.</param>
    /// <param name="runDirectory">Where to write checkpoints, or null to write nothing.</param>
    public VaeTrainer(ComputeDevice device, MnistData data, TrainingOptions options, string? runDirectory = null)
    {
        options.Validate();
        if (data.Train.PixelsPerImage != options.Model.InputSize)
            throw new ArgumentException($"images have {data.Train.PixelsPerImage} pixels, the model takes {options.Model.InputSize}");
        _options = options;
        _run = runDirectory is null ? null : new RunDirectory(runDirectory);
        var train = options.Limit is int limit && limit < data.Train.Count ? data.Train.Take(limit) : data.Train;
        _train = new DeviceDataset(device, train);
        _test = new DeviceDataset(device, data.Test);
        _network = new VaeNetwork(device, options.Model, Math.Max(options.BatchSize, 500), options.Seed);
        _lossTerms = [_network.Reconstruction, _network.Kl];
        _evaluator = new Evaluator(_network, _test);
        _engine = new TrainingEngine(device, this, _train, options.ToEngine(KlWeightAt));
        Model = new VaeModel(_network, ownsNetwork: false);
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> where it stopped, up to <paramref name="epochs"/>
    /// epochs in total (default: the run's own count).</summary>
    /// <param name="device">The device.</param>
    /// <param name="data">The images.</param>
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

    /// <summary>Raised after each finished epoch, once its checkpoint is saved: the place for pictures.</summary>
    public event EventHandler<EpochCompletedEventArgs>? EpochCompleted;

    /// <summary>The model being trained (shares the trainer's network).</summary>
    public VaeModel Model { get; }

    /// <summary>The options.</summary>
    public TrainingOptions Options => _options;

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    public int StepsPerEpoch => _engine.StepsPerEpoch;

    /// <summary>Training images.</summary>
    public int TrainCount => _train.Count;

    /// <summary>Metrics of every finished epoch, including those before a resume.</summary>
    public IReadOnlyList<EpochMetrics> History => _history;

    /// <summary>When this trainer's first step finished (UTC), for start-up benchmarks; null before.</summary>
    public DateTime? FirstStepDone => _engine.FirstStepDone;

    /// <summary>
    /// When set, every step synchronises after each phase and adds the phase's time here (for benchmarks only:
    /// the synchronisations cost time a normal run does not spend).
    /// </summary>
    public PhaseTimes? PhaseTimes
    {
        get => _engine.PhaseTimes;
        set => _engine.PhaseTimes = value;
    }

    Network ITrainable.Graph => _network.Graph;

    bool ITrainable.ReadsLabels => _options.Model.IsConditional;

    IReadOnlyList<ArrayView<float>> ITrainable.LossTerms => _lossTerms;

    /// <summary>Runs full-batch steps as fixed-argument steps on kernel ops (<see cref="TrainingEngine.FixedArguments"/>).</summary>
    internal bool FixedArguments
    {
        get => _engine.FixedArguments;
        set => _engine.FixedArguments = value;
    }

    // The network's BCE and Gaussian sample add their batch sums (terms 0 and 1) in the launches that compute them.
    bool ITrainable.SumsLossTerms => true;

    /// <summary>Trains until <see cref="TrainingSettings.Epochs"/> epochs are done, the token is cancelled (after the
    /// current step) or a loss stops being finite.</summary>
    /// <param name="progress">Receives reports; null for none.</param>
    /// <param name="cancellationToken">Stops training after the current step, leaving a resumable state.</param>
    /// <returns>How the run ended and the epochs it finished.</returns>
    public TrainingResult Train(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var finished = new List<EpochMetrics>();
        _run?.WriteConfig(_options);
        Action<EngineReport>? report = progress is null ? null : r => progress.Report(new TrainingProgress(r.Epoch,
            _options.Epochs, r.Step, r.StepsPerEpoch, r.TrainLoss, r.SamplesPerSecond, null, r.Phase));
        var (outcome, epoch, step) = _engine.Run(report, summary =>
        {
            int batches = _evaluator.Batches;
            var test = _evaluator.Evaluate((ulong)_options.Seed ^ EvaluationSalt, (ulong)summary.Epoch,
                progress is null ? null : done => progress.Report(new TrainingProgress(summary.Epoch, _options.Epochs, done,
                    batches, null, summary.SamplesPerSecond, null, TrainingPhase.Testing)));
            if (!double.IsFinite(test.Loss))
                return test.Loss;
            var metrics = new EpochMetrics(summary.Epoch, summary.TrainLoss, test.Loss, test.Reconstruction, test.Kl,
                summary.EpochSeconds, summary.SamplesPerSecond);
            finished.Add(metrics);
            _history.Add(metrics);
            if (_run is not null)
            {
                SaveState();
                _run.WriteMetrics(_history);
            }
            EpochCompleted?.Invoke(this, new EpochCompletedEventArgs(Model, metrics, _run?.Path));
            progress?.Report(new TrainingProgress(summary.Epoch, _options.Epochs, StepsPerEpoch, StepsPerEpoch,
                summary.TrainLoss, summary.SamplesPerSecond, metrics));
            return test.Loss;
        }, cancellationToken);
        switch (outcome)
        {
            case TrainingOutcome.Cancelled:
                SaveState();
                return new TrainingResult(outcome, finished, $"stopped at epoch {epoch}, step {step} of {StepsPerEpoch}" +
                    (_run is null ? "" : $"; the run in {_run.Path} can be resumed"));
            case TrainingOutcome.Diverged:
                return new TrainingResult(outcome, finished,
                    $"loss became NaN or infinite at epoch {epoch}, step {step + 1} (global step {(long)(epoch - 1) * StepsPerEpoch + step + 1}); " +
                    (_run is null ? "nothing was saved" : $"the last good checkpoint in {_run.Path} was kept") +
                    "; a lower learning rate may help");
            default:
                return new TrainingResult(outcome, finished);
        }
    }

    /// <summary>The epoch's shuffled order: a seeded Fisher-Yates permutation, the same on every run.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch.</param>
    /// <param name="count">Items.</param>
    /// <returns>The permutation.</returns>
    public static int[] Permutation(int seed, int epoch, int count) => TrainingEngine.Permutation(seed, epoch, count);

    void ITrainable.TrainingForward(ulong seed, ulong globalStep, float klWeight) =>
        _network.Forward(_network.Graph.Context.Rows, seed, globalStep, klWeight);

    // The KL weight moves linearly from BetaStart to Beta over the first KlWarmupEpochs epochs, step by step.
    private float KlWeightAt(int epoch, int step, int stepsPerEpoch)
    {
        if (_options.KlWarmupEpochs == 0)
            return _options.Beta;
        double progress = Math.Min(1.0, (epoch - 1 + (step + 1) / (double)stepsPerEpoch) / _options.KlWarmupEpochs);
        return (float)(_options.BetaStart + (_options.Beta - _options.BetaStart) * progress);
    }

    private void SaveState()
    {
        if (_run is null)
            return;
        var state = _engine.State;
        // The state first, then the model: both carry the global step, and a resume checks they agree.
        _run.WriteState(state, _engine.StateTensors());
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
        _network.ImportParameters(modelFile, modelPath);
        _engine.Restore(state, stateFile, statePath, $"a {config} model");
        _history.AddRange(run.ReadMetrics().Where(m => m.Epoch < state.Epoch));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        _evaluator.Dispose();
        _engine.Dispose();
        _network.Dispose();
        _train.Dispose();
        _test.Dispose();
    }
}
