using System.Globalization;
using ILGPU;
using IlgpuVae.Checkpoints;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Kernels;
using Microsoft.Extensions.Logging;

using RunFolder = IlgpuVae.Training.RunDirectory;

namespace IlgpuVae.Training;

/// <summary>
/// Trains a (conditional) VAE on the device with the one training engine: seeded shuffling, device gathers, the
/// layer graph's forward and backward, Adam, losses read back rarely, the KL weight schedule. With a run directory
/// it writes the checkpoint, the resumable state and the metrics after every epoch, and a resumable state when
/// cancelled; pictures and other per-epoch work subscribe to <see cref="EpochCompleted"/>.
/// </summary>
/// <remarks>
/// A trainer is single-threaded: a second <see cref="Trainer.Train"/> or <see cref="Trainer.TrainAsync"/> while one runs throws
/// <see cref="InvalidOperationException"/>. It holds its device's lock one step at a time,
/// so other models on the device can be used meanwhile. After <see cref="Trainer.Dispose"/> every member throws
/// <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed class VaeTrainer : Trainer, ITrainable
{
    private readonly VaeModel _model;
    private EventHandler<EpochMetrics>? _epochCompleted;
    private const ulong EvaluationSalt = 0x5EED_E7A1_0000_0001UL;
    private readonly TrainingOptions _options;
    private readonly RunFolder? _run;
    private readonly DeviceDataset _train, _test;
    private readonly VaeNetwork _network;
    private readonly Evaluator _evaluator;
    private readonly TrainingEngine _engine;
    private readonly ArrayView<float>[] _lossTerms;
    private readonly string _dataName;
    // What the checkpoint and the model file record of the data: its name and, with a run directory, the fingerprints
    // of the training images as used (after the limit) and of the test images.
    private readonly Dictionary<string, string> _dataMetadata;
    private readonly IDisposable? _lock;
    // Where this run's checkpoint in the run directory stands (restored or saved), or null: what a divergence keeps.
    private string? _checkpointAt;

    /// <summary>Prepares a new run.</summary>
    /// <param name="device">The device to train on.</param>
    /// <param name="data">The images (the training set is cut to <see cref="TrainingSettings.Limit"/>).</param>
    /// <param name="options">The options; checked first.</param>
    /// <param name="runDirectory">Where to write checkpoints, or null to write nothing.</param>
    /// <param name="overwrite">
    /// Start over in a <paramref name="runDirectory"/> that already holds a run (see <see cref="HoldsRun"/>), deleting
    /// that run's checkpoint, state, config, metrics and pictures first; without it such a directory is refused. Only a
    /// run that ilgpu-vae wrote is deleted: files of those names from another program are refused either way.
    /// </param>
    /// <exception cref="IOException">Another process is training into <paramref name="runDirectory"/>, it cannot be
    /// written, or it holds a run and <paramref name="overwrite"/> is false, or it holds files of a run's names that
    /// ilgpu-vae cannot confirm it wrote (<see cref="OverwriteRefusal"/>).</exception>
    public VaeTrainer(ComputeDevice device, ImageData data, TrainingOptions options, string? runDirectory = null,
        bool overwrite = false)
        : this(device, data, options, runDirectory is null ? null : new RunFolder(runDirectory), heldLock: null, overwrite)
    {
    }

    /// <summary>
    /// Whether <paramref name="directory"/> holds a run, finished or stopped (a checkpoint, a resumable state, a
    /// config.json or a metrics.csv): a new run there is refused unless asked to overwrite it; resume it instead.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <returns>True when it holds a run.</returns>
    public static bool HoldsRun(string directory) => RunFolder.HoldsRun(directory);

    /// <summary>
    /// Why a new run with overwrite may not start over in <paramref name="directory"/>, or null when it may: the run files
    /// there (checkpoint, state, config.json, metrics.csv) must each be ilgpu-vae's own, as starting over deletes them by
    /// name; another program's files of those names are refused and left alone.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <returns>A one-line reason naming the files, or null.</returns>
    public static string? OverwriteRefusal(string directory) => RunFolder.OverwriteRefusal(directory);

    // heldLock: the run directory's lock when the caller took it already (a resume reads the checkpoint under it).
    private VaeTrainer(ComputeDevice device, ImageData data, TrainingOptions options, RunFolder? run, IDisposable? heldLock,
        bool overwrite = false)
    {
        _lock = heldLock;
        try
        {
            options.Validate();
            if (data.Train.IsVectors != options.Model.IsVectors)
                throw new ArgumentException(data.Train.IsVectors
                    ? "the data are real-valued vectors: configure the model with VaeConfig.ForVectors(data.Train) (a Gaussian decoder)"
                    : "the model is one of vectors (ForVectors); the data are images");
            if (data.Train.IsVectors && options.DynamicBinarization)
                throw new ArgumentException("dynamic binarisation is for images in [0, 1], not real-valued vectors");
            if (data.Train.PixelsPerImage != options.Model.InputSize)
                throw new ArgumentException($"images have {data.Train.PixelsPerImage} pixels, the model takes {options.Model.InputSize}");
            if (options.Model.IsConditional && !data.HasLabels)
                throw new ArgumentException($"a conditional VAE learns from labels, and the {data.Name} images have none");
            if (options.Model.IsConditional && data.Classes > options.Model.Classes)
                throw new ArgumentException($"the {data.Name} labels have {data.Classes} classes, the model conditions on {options.Model.Classes}");
            // The model records the data's image size (pictures and exports lay its outputs out so); a size set
            // explicitly must be the data's.
            if (options.Model.HasImageSize && (options.Model.ImageChannels, options.Model.ImageHeight, options.Model.ImageWidth)
                != (data.ImageChannels, data.ImageHeight, data.ImageWidth))
                throw new ArgumentException($"images are {data.ImageChannels}x{data.ImageHeight}x{data.ImageWidth}, the model takes " +
                    $"{options.Model.ImageChannels}x{options.Model.ImageHeight}x{options.Model.ImageWidth}");
            options = options with { Model = options.Model.ForImages(data.ImageHeight, data.ImageWidth, data.ImageChannels) };
            // Sizes from options or config.json: refuse what the device cannot hold before anything goes to it.
            int capacity = Math.Max(options.BatchSize, 500);
            VaeNetwork.CheckFits(device, options.Model, capacity, training: true, options.Samples);
            if (run is not null)
                RunPaths.CheckFreeSpace(run.Path, VaeNetwork.LayoutOf(options.Model).Count);
            _options = options;
            _dataName = data.Name;
            _run = run;
            if (_lock is null && run is not null)
            {
                _lock = run.Lock();
                // Under the lock: no other writer can start a run here between the check and the first save.
                if (RunFolder.HoldsRun(run.Path))
                {
                    if (!overwrite)
                        throw new IOException($"{run.Path} already holds a run: resume it, or overwrite it on purpose to start over");
                    // Starting over deletes a run's files by name: never files of those names that another program wrote.
                    if (RunFolder.OverwriteRefusal(run.Path) is string refusal)
                        throw new IOException(refusal);
                    run.DeleteRun();
                }
            }
            var train = options.Limit is int limit && limit < data.Train.Count ? data.Train.Take(limit) : data.Train;
            _dataMetadata = new Dictionary<string, string> { ["dataset"] = _dataName };
            if (data.ClassNames is { } names)
                _dataMetadata[ImageData.ClassNamesKey] = System.Text.Json.JsonSerializer.Serialize(names);
            if (run is not null)
            {
                // Only a run directory needs them: a resume compares them with the data it is given.
                _dataMetadata[DataFingerprint.TrainKey] = DataFingerprint.Of(train);
                _dataMetadata[DataFingerprint.TestKey] = DataFingerprint.Of(data.Test);
            }
            device.ThrowIfDisposed();
            // Uploads and initialisation are device work: they wait for other users of the device.
            lock (device.Gate)
            {
                _train = new DeviceDataset(device, train, options.Model);
                // Trained on binary images, the model is tested on the fixed binarisation of the test set.
                _test = new DeviceDataset(device, options.DynamicBinarization ? data.Test.Binarized() : data.Test, options.Model);
                _network = new VaeNetwork(device, options.Model, capacity, options.Seed, options.Samples);
                if (options.OutputBiasFromData)
                    _network.Graph.SetParameter("out.bias", MeanPixelLogits(train));
                _lossTerms = [_network.Reconstruction, _network.Kl];
                _evaluator = new Evaluator(_network, _test);
                _engine = new TrainingEngine(device, this, _train, options.ToEngine(KlWeightAt));
            }
            _model = new VaeModel(_network, ownsNetwork: false) { Metadata = TrainingMetadata(options) };
        }
        catch
        {
            DisposeParts();
            throw;
        }
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> where it stopped, up to <paramref name="epochs"/>
    /// epochs in total (default: the run's own count).</summary>
    /// <param name="device">The device.</param>
    /// <param name="data">The images.</param>
    /// <param name="runDirectory">The run directory.</param>
    /// <param name="epochs">The new total, or null.</param>
    /// <returns>The trainer, restored.</returns>
    public static VaeTrainer Resume(ComputeDevice device, ImageData data, string runDirectory, int? epochs = null)
    {
        var run = new RunFolder(runDirectory);
        // Locked before reading, so no other writer can replace the checkpoint between the read and the first save.
        var held = run.Lock();
        try
        {
            var (stateFile, statePath, options) = run.ReadCheckpoint();
            // The counters are checked against the run as it was written, before --epochs raises its count.
            int epochsWritten = options.Epochs;
            if (epochs is int total)
            {
                if (total < options.Epochs)
                    throw new ArgumentException($"the run trains {options.Epochs} epochs; a resume can raise that count, not lower it to {total}");
                options = options with { Epochs = total };
            }
            var trainer = new VaeTrainer(device, data, options, run, held);
            try
            {
                lock (device.Gate)
                    trainer.Restore(run, stateFile, statePath, epochsWritten);
            }
            catch
            {
                trainer.Dispose();
                throw;
            }
            return trainer;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint's file name inside a run directory (a model file like any other, and what PyTorch loads).</summary>
    public const string ModelFileName = RunFolder.ModelFile;

    /// <summary>Raised after each finished epoch with its metrics, once its checkpoint is saved: the place for pictures.
    /// The sender is this trainer: its <see cref="Model"/> is the model as the epoch left it, and
    /// <see cref="RunDirectory"/> where the checkpoint was just written.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public event EventHandler<EpochMetrics>? EpochCompleted
    {
        add
        {
            ThrowIfDisposed();
            _epochCompleted += value;
        }
        remove
        {
            ThrowIfDisposed();
            _epochCompleted -= value;
        }
    }

    /// <summary>The model being trained (shares the trainer's network; disposed with the trainer).</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public VaeModel Model => Alive(_model);

    /// <summary>The options.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public TrainingOptions Options => Alive(_options);

    /// <summary>The run directory the checkpoints go to, or null for a trainer without one.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public string? RunDirectory
    {
        get
        {
            ThrowIfDisposed();
            return _run?.Path;
        }
    }

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public override int StepsPerEpoch => Alive(_engine).StepsPerEpoch;

    /// <summary>Training images.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public override int TrainCount => Alive(_train).Count;

    /// <summary>When this trainer's first step finished (UTC), for start-up benchmarks; null before.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public DateTime? FirstStepDone => Alive(_engine).FirstStepDone;

    /// <summary>
    /// When set, every step synchronises after each phase and adds the phase's time here (for benchmarks only:
    /// the synchronisations cost time a normal run does not spend).
    /// </summary>
    internal PhaseTimes? PhaseTimes
    {
        get => _engine.PhaseTimes;
        set => _engine.PhaseTimes = value;
    }

    /// <summary>When set, each epoch adds the process's CPU seconds during its training here (benchmarks only).</summary>
    internal List<double>? EpochCpuSeconds
    {
        get => _engine.EpochCpuSeconds;
        set => _engine.EpochCpuSeconds = value;
    }

    Network ITrainable.Graph => _network.Graph;

    bool ITrainable.ReadsLabels => _options.Model.IsConditional;

    IReadOnlyList<ArrayView<float>> ITrainable.LossTerms => _lossTerms;

    // The network's BCE and Gaussian sample add their batch sums (terms 0 and 1) in the launches that compute them.
    bool ITrainable.SumsLossTerms => true;

    private protected override ILogger Logger => _network.Device.Logger;

    private protected override TrainingResult TrainOnce(IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        var finished = new List<EpochMetrics>();
        _run?.WriteConfig(_options);
        Action<EngineReport>? report = progress is null ? null : r => progress.Report(StepReport(r, _options.Epochs));
        var (outcome, epoch, step) = _engine.Run(report, summary =>
        {
            int batches = _evaluator.Batches;
            Evaluation test;
            lock (_network.Device.Gate)
                test = _evaluator.Evaluate((ulong)_options.Seed ^ EvaluationSalt, (ulong)summary.Epoch,
                progress is null ? null : done => progress.Report(TestReport(summary, _options.Epochs, done, batches)));
            if (!double.IsFinite(test.Loss))
                return test.Loss;
            var metrics = new EpochMetrics(summary.Epoch, summary.TrainLoss, test.Loss, summary.EpochSeconds,
                summary.SamplesPerSecond) { TestReconstruction = test.Reconstruction, TestKl = test.Kl };
            finished.Add(metrics);
            EpochFinished(metrics, _options.Epochs);
            SaveState();
            _epochCompleted?.Invoke(this, metrics);
            progress?.Report(EpochReport(metrics, _options.Epochs));
            return test.Loss;
        }, cancellationToken);
        switch (outcome)
        {
            case EngineEnd.Cancelled:
            {
                SaveState();
                string message = $"stopped at epoch {epoch}, step {step} of {StepsPerEpoch}" +
                    (_run is null ? "" : $"; the run in {_run.Path} can be resumed");
                throw new OperationCanceledException(message, cancellationToken);
            }
            case EngineEnd.Diverged:
            {
                string message = $"loss became NaN or infinite at epoch {epoch}, step {step + 1} (global step {(long)(epoch - 1) * StepsPerEpoch + step + 1}); " +
                    (_run is null ? "nothing was saved"
                        : _checkpointAt is not null ? $"the last good checkpoint in {_run.Path} ({_checkpointAt}) was kept"
                        : $"no checkpoint was written to {_run.Path} (none is written before the first epoch ends)") +
                    "; a lower learning rate may help";
                return new TrainingResult(finished, message);
            }
            default:
                return new TrainingResult(finished);
        }
    }

    void ITrainable.TrainingForward(ulong seed, ulong globalStep, float klWeight)
    {
        int rows = _network.Graph.Context.Rows;
        if (_options.DynamicBinarization)
            _network.Device.Ops.Bernoulli(_network.Input.SubView(0, (long)rows * _options.Model.InputSize), seed ^ BinarizationSalt, globalStep);
        if (_network.Graph.DequantizesInput)
            _network.Device.Ops.Dequantize(_network.Input.SubView(0, (long)rows * _options.Model.InputSize), seed ^ DequantizationSalt, globalStep);
        _network.Forward(rows, seed, globalStep, klWeight, NoiseSource.Draw, _options.Samples, _options.Objective);
    }

    // The stream of the training images' binarisation, apart from the posterior noise's.
    private const ulong BinarizationSalt = 0xB1AA_2157_0000_0001UL;

    // The stream of the training images' dequantisation (a Gaussian decoder's).
    private const ulong DequantizationSalt = 0xDE0A_2571_0000_0002UL;

    /// <summary>
    /// The logit of each value's mean over <paramref name="train"/>, the means clipped to [0.001, 0.999] first:
    /// Burda et al.'s initial output bias (<see cref="TrainingOptions.OutputBiasFromData"/>).
    /// </summary>
    /// <param name="train">The training images.</param>
    /// <returns>D logits.</returns>
    internal static float[] MeanPixelLogits(ImageSet train)
    {
        int d = train.PixelsPerImage, n = train.Count;
        var sums = new long[d];
        var images = train.Images;
        for (int i = 0; i < n; i++)
            for (int f = 0; f < d; f++)
                sums[f] += images[(long)i * d + f];
        var logits = new float[d];
        for (int f = 0; f < d; f++)
        {
            double p = Math.Clamp(sums[f] / (255.0 * n), TrainingOptions.OutputBiasClip, 1 - TrainingOptions.OutputBiasClip);
            logits[f] = (float)Math.Log(p / (1 - p));
        }
        return logits;
    }

    /// <summary>
    /// What a model file records of its training beyond the architecture: the objective and K when not the
    /// one-sample ELBO, "gradient": "dreg" for DReG, and "binarization": "dynamic" for a model of binarised images (evaluation then binarises the
    /// test set by <see cref="ImageSet.TestBinarizationSeed"/>).
    /// </summary>
    internal static Dictionary<string, string> TrainingMetadata(TrainingOptions options)
    {
        var metadata = new Dictionary<string, string>();
        if (options.DynamicBinarization)
            metadata[VaeModel.BinarizationKey] = "dynamic";
        if (options.Objective != TrainingObjective.Elbo || options.Samples != 1)
        {
            metadata["objective"] = RunFolder.ObjectiveName(options.Objective);
            metadata["samples"] = options.Samples.ToString(CultureInfo.InvariantCulture);
        }
        if (options.Objective == TrainingObjective.ImportanceWeightedDreg)
            metadata["gradient"] = RunFolder.GradientName(options.Objective);
        return metadata;
    }

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
        List<NamedTensor> weights, tensors;
        lock (_network.Device.Gate)
        {
            weights = _network.Graph.Export(_network.Parameters);
            tensors = [.. weights.Select(t => t with { Name = RunFolder.WeightsPrefix + t.Name }), .. _engine.StateTensors()];
        }
        // The commit point: everything a resume needs, in one file. The exports follow; a crash between them loses
        // nothing, as a resume rewrites them from the checkpoint.
        var extra = new Dictionary<string, string>(TrainingMetadata(_options));
        foreach (var (key, value) in _dataMetadata)
            extra[key] = value;
        _run.WriteCheckpoint(state, _options, Finished, tensors, extra);
        _checkpointAt = Describe(state);
        LibraryLog.CheckpointWritten(_network.Device.Logger, _run.PathOf(RunFolder.StateFile), _checkpointAt);
        Export(_run, state, weights);
    }

    // model.safetensors and metrics.csv as of the checkpoint.
    // weights: the parameters the checkpoint just copied off the device, or null to copy them now.
    private void Export(RunFolder run, TrainingState state, List<NamedTensor>? weights = null)
    {
        var metadata = new Dictionary<string, string>(TrainingMetadata(_options))
        {
            ["global_step"] = state.GlobalStep.ToString(CultureInfo.InvariantCulture),
            ["epochs_completed"] = (state.Epoch - 1).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in _dataMetadata)
            metadata[key] = value;
        string path = run.PathOf(RunFolder.ModelFile);
        if (weights is null)
            _model.Save(path, metadata);
        else
            _model.Write(path, metadata, weights);
        run.WriteMetrics(Finished);
    }

    // epochs: the run's epoch count as written (before a resume raises it), which bounds the state's epoch.
    private void Restore(RunFolder run, SafeTensorsFile stateFile, string statePath, int epochs)
    {
        var state = TrainingState.FromMetadata(stateFile.Metadata, statePath);
        state.Validate(epochs, StepsPerEpoch, statePath);
        string description = $"a {_options.Model} model";
        if (RunFolder.IsWholeCheckpoint(stateFile))
        {
            CheckDataSet(stateFile.Metadata, statePath);
            var graph = _network.Graph;
            graph.Import(stateFile, _network.Parameters, RunFolder.WeightsPrefix, statePath, description);
            _engine.Restore(state, stateFile, statePath, description);
            if (!stateFile.Metadata.TryGetValue("metrics", out var metrics))
                throw new InvalidDataException($"{statePath}: metadata lacks 'metrics'; the checkpoint is damaged");
            // The state's own metrics were written with its counters: exactly the epochs before the one in progress.
            var history = RunFolder.ParseMetrics(metrics, statePath);
            if (!history.Select(m => m.Epoch).SequenceEqual(Enumerable.Range(1, state.Epoch - 1)))
                throw new InvalidDataException($"{statePath}: metadata 'metrics' holds epochs " +
                    $"[{string.Join(",", history.Select(m => m.Epoch))}], not 1 to {state.Epoch - 1} as its counters say; the checkpoint is damaged");
            Finished.AddRange(history);
            _checkpointAt = Describe(state);
            // The exports may be older than the checkpoint (a crash between the commit and them): rewrite them.
            run.WriteConfig(_options);
            Export(run, state);
            return;
        }
        // Version 1: the weights live in model.safetensors, which must be from the same step as the state.
        string modelPath = run.PathOf(RunFolder.ModelFile);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"{modelPath}: missing; nothing to resume");
        SafeTensorsFile modelFile;
        try
        {
            modelFile = SafeTensors.Read(modelPath);
        }
        catch (CheckpointFormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        var config = VaeConfig.FromMetadata(modelFile.Metadata, modelPath);
        if (config.ToString() != _options.Model.ToString())
            throw new InvalidDataException($"{modelPath}: holds a {config} model but {run.PathOf(RunFolder.ConfigFile)} describes {_options.Model}");
        CheckDataSet(modelFile.Metadata, modelPath);
        if (!modelFile.Metadata.TryGetValue("global_step", out var modelStep) || modelStep != state.GlobalStep.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{modelPath}: written at a different step than {statePath}; cannot resume exactly");
        _network.ImportParameters(modelFile, modelPath);
        _engine.Restore(state, stateFile, statePath, $"a {config} model");
        Finished.AddRange(run.ReadMetrics().Where(m => m.Epoch < state.Epoch));
        _checkpointAt = Describe(state);
    }

    // The data is checked by content where the run recorded its fingerprints: the same images under another directory
    // name resume, other images under the same name do not. Runs written before the fingerprints fall back to the data
    // set's name, and runs written before that to nothing (they trained on MNIST or on files of the user's own).
    private void CheckDataSet(IReadOnlyDictionary<string, string> metadata, string path)
    {
        bool fingerprinted = false;
        foreach (var (key, which) in new[] { (DataFingerprint.TrainKey, "training"), (DataFingerprint.TestKey, "test") })
        {
            if (!metadata.TryGetValue(key, out var recorded))
                continue;
            fingerprinted = true;
            string ours = _dataMetadata[key];
            if (recorded != ours)
                throw new InvalidDataException($"{path}: the {which} data differs from what the run trained on " +
                    $"(SHA-256 {Short(recorded)} then, {Short(ours)} for these {_dataName} images); resume it on the same data");
        }
        if (!fingerprinted && metadata.TryGetValue("dataset", out var trainedOn) && trainedOn != _dataName)
            throw new InvalidDataException($"{path}: the run trained on {trainedOn}, and these images are {_dataName}; resume it on the same data");
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] + "..." : hash;

    private static string Describe(TrainingState state) => state.StepInEpoch == 0
        ? $"after epoch {state.Epoch - 1}"
        : $"epoch {state.Epoch}, step {state.StepInEpoch}";

    // Tolerates a constructor that failed half-way; the lock goes last, once nothing more can be written.
    private protected override void DisposeParts()
    {
        _model?.Dispose();
        _evaluator?.Dispose();
        _engine?.Dispose();
        _network?.Dispose();
        _train?.Dispose();
        _test?.Dispose();
        _lock?.Dispose();
    }
}
