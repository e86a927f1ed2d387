using System.Diagnostics;
using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Training;
using IlgpuVae.Models;
using Microsoft.Extensions.Logging;

namespace IlgpuVae.Classification;

/// <summary>
/// Trains an MLP classifier on MNIST entirely on the device, like <see cref="VaeTrainer"/>: the data set is
/// resident as bytes, each epoch draws a seeded permutation, batches and labels are gathered on the device,
/// forward, softmax cross-entropy, backward and Adam run there, and per-step losses accumulate in a device
/// buffer that is read back only every <see cref="TrainingSettings.ReportEverySteps"/> steps.
/// After each epoch the test set is scored.
/// </summary>
/// <remarks>
/// A trainer is single-threaded: a second <see cref="Training.Trainer.Train"/>, <see cref="Training.Trainer.TrainAsync"/>, <see cref="EvaluateTest"/> or
/// <see cref="Save"/> while one runs throws <see cref="InvalidOperationException"/>. It holds its device's lock one
/// step at a time. After <see cref="Training.Trainer.Dispose"/> every member throws <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed class ClassifierTrainer : Trainer, ITrainable
{
    private readonly Classifier _classifier;
    private readonly TrainingSettings _settings;
    private readonly DeviceDataset _train, _test;
    private readonly ClassifierNetwork _network;
    private readonly ClassifierEvaluator _evaluator;
    private readonly TrainingEngine _engine;
    private readonly ArrayView<float>[] _lossTerms;
    private readonly (string Name, int Height, int Width) _data;

    /// <summary>
    /// The settings a classifier trains with unless given others: <see cref="TrainingSettings"/>' defaults with cosine
    /// learning-rate decay over the run, which reach 98.4-98.5% on MNIST's test set with
    /// <see cref="ClassifierConfig.Default"/> (seeds 1 and 2). Change a value with <c>with</c>:
    /// <c>ClassifierTrainer.DefaultSettings with { Epochs = 20 }</c>.
    /// </summary>
    public static TrainingSettings DefaultSettings => new() { Schedule = LearningRateSchedule.Cosine };

    /// <summary>Prepares a run.</summary>
    /// <param name="device">The device to train on.</param>
    /// <param name="data">Labelled images (the training set is cut to <see cref="TrainingSettings.Limit"/>).</param>
    /// <param name="config">The architecture (<see cref="ClassifierConfig.Default"/>: 784-512-512-10); checked first.</param>
    /// <param name="settings">Epochs, batches, Adam and its schedule, the seed; checked first. Null:
    /// <see cref="DefaultSettings"/> (cosine decay). Settings of one's own have the schedule they say (a new
    /// <see cref="TrainingSettings"/>: constant).</param>
    /// <exception cref="ArgumentException">A value is out of range, or the images do not fit the classifier.</exception>
    public ClassifierTrainer(ComputeDevice device, ImageData data, ClassifierConfig config, TrainingSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(config);
        settings ??= DefaultSettings;
        // A VAE's TrainingOptions is a TrainingSettings too; its model, beta and objective would be silently ignored here.
        if (settings is TrainingOptions)
            throw new ArgumentException("a VAE's TrainingOptions given to the classifier trainer; pass TrainingSettings (e.g. ClassifierTrainer.DefaultSettings with { ... })", nameof(settings));
        config.Validate();
        settings.Validate();
        if (data.Train.PixelsPerImage != config.InputSize)
            throw new ArgumentException($"images have {data.Train.PixelsPerImage} pixels, the classifier takes {config.InputSize}");
        if (!data.HasLabels)
            throw new ArgumentException($"a classifier learns from labels, and the {data.Name} images have none");
        _settings = settings;
        _data = (data.Name, data.ImageHeight, data.ImageWidth);
        var train = settings.Limit is int limit && limit < data.Train.Count ? data.Train.Take(limit) : data.Train;
        if (train.Labels.Any(l => l >= config.Classes))
            throw new ArgumentException($"training labels outside 0-{config.Classes - 1}");
        device.ThrowIfDisposed();
        // Uploads and initialisation are device work: they wait for other users of the device.
        lock (device.Gate)
        {
            _train = new DeviceDataset(device, train);
            _test = new DeviceDataset(device, data.Test);
            _network = new ClassifierNetwork(device, config, Math.Max(settings.BatchSize, 1000), settings.Seed);
            _lossTerms = [_network.SampleLoss];
            _evaluator = new ClassifierEvaluator(_network, _test);
            _engine = new TrainingEngine(device, this, _train, settings.ToEngine());
        }
        _classifier = new Classifier(_network, ownsNetwork: false);
    }

    /// <summary>The classifier being trained (shares the trainer's network; disposed with the trainer).</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public Classifier Classifier => Alive(_classifier);

    /// <summary>The training settings (the architecture is the <see cref="Classifier"/>'s <see cref="Classifier.Config"/>).</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public TrainingSettings Settings => Alive(_settings);

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public override int StepsPerEpoch => Alive(_engine).StepsPerEpoch;

    /// <summary>Training images.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public override int TrainCount => Alive(_train).Count;

    Network ITrainable.Graph => _network.Graph;

    bool ITrainable.ReadsLabels => true;

    IReadOnlyList<ArrayView<float>> ITrainable.LossTerms => _lossTerms;

    private protected override ILogger Logger => _network.Device.Logger;

    private protected override TrainingResult TrainOnce(IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        Action<EngineReport>? report = progress is null ? null : r => progress.Report(StepReport(r, _settings.Epochs));
        var (outcome, epoch, step) = _engine.Run(report, summary =>
        {
            Evaluation test;
            lock (_network.Device.Gate)
                test = _evaluator.Evaluate(progress is null ? null : (done, total) => progress.Report(TestReport(summary, _settings.Epochs, done, total)));
            if (!double.IsFinite(test.Loss))
                return test.Loss;
            var metrics = new EpochMetrics(summary.Epoch, summary.TrainLoss, test.Loss, summary.EpochSeconds,
                summary.SamplesPerSecond) { TestAccuracy = test.Accuracy };
            EpochFinished(metrics, _settings.Epochs);
            progress?.Report(EpochReport(metrics, _settings.Epochs));
            return test.Loss;
        }, cancellationToken);
        return outcome switch
        {
            EngineEnd.Cancelled => throw new OperationCanceledException(
                $"stopped at epoch {epoch}, step {step} of {StepsPerEpoch}; nothing was saved", cancellationToken),
            EngineEnd.Diverged => new TrainingResult(Finished.ToList(),
                $"loss became NaN or infinite at epoch {epoch}, step {step + 1}; nothing was saved; a lower learning rate may help"),
            _ => new TrainingResult(Finished.ToList()),
        };
    }

    /// <summary>Loss, accuracy and confusion on the test set now.</summary>
    /// <returns>The evaluation.</returns>
    /// <exception cref="InvalidOperationException">The trainer is in use (on another thread).</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public Evaluation EvaluateTest()
    {
        using var busy = Enter();
        lock (_network.Device.Gate)
            return _evaluator.Evaluate();
    }

    /// <summary>Saves the classifier with the run's settings and last test accuracy in the metadata.</summary>
    /// <param name="path">The .safetensors file.</param>
    /// <exception cref="InvalidOperationException">The trainer is in use (on another thread).</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public void Save(string path)
    {
        using var busy = Enter();
        var metadata = new Dictionary<string, string>
        {
            ["epochs"] = Finished.Count.ToString(CultureInfo.InvariantCulture),
            ["batch"] = _settings.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["lr"] = _settings.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["lr_schedule"] = _settings.Schedule.ToString().ToLowerInvariant(),
            ["seed"] = _settings.Seed.ToString(CultureInfo.InvariantCulture),
            ["train_images"] = _train.Count.ToString(CultureInfo.InvariantCulture),
            ["dataset"] = _data.Name,
            ["image_height"] = _data.Height.ToString(CultureInfo.InvariantCulture),
            ["image_width"] = _data.Width.ToString(CultureInfo.InvariantCulture),
        };
        if (Finished.Count > 0)
            metadata["test_accuracy"] = Finished[^1].TestAccuracy!.Value.ToString("F4", CultureInfo.InvariantCulture);
        _classifier.Save(path, metadata);
    }

    /// <summary>The learning rate at a global step: constant, or cosine from the start value to 0 over the run.</summary>
    /// <param name="step">Steps done.</param>
    /// <returns>The rate.</returns>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public float LearningRateAt(long step) => Alive(_settings).LearningRateAt(step, (long)_settings.Epochs * StepsPerEpoch);

    void ITrainable.TrainingForward(ulong seed, ulong globalStep, float klWeight)
    {
        // The batch mean, as PyTorch's CrossEntropyLoss: a short last batch gets the same step size.
        int rows = _network.Graph.Context.Rows;
        _network.Forward(rows, 1f / rows);
    }

    private protected override void DisposeParts()
    {
        _classifier.Dispose();
        _evaluator.Dispose();
        _engine.Dispose();
        _network.Dispose();
        _train.Dispose();
        _test.Dispose();
    }
}
