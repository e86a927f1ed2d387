using System.Diagnostics;
using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Training;
using IlgpuVae.Models;

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
    private readonly ClassifierTrainingOptions _options;
    private readonly DeviceDataset _train, _test;
    private readonly ClassifierNetwork _network;
    private readonly ClassifierEvaluator _evaluator;
    private readonly TrainingEngine _engine;
    private readonly ArrayView<float>[] _lossTerms;
    private readonly (string Name, int Height, int Width) _data;

    /// <summary>Prepares a run.</summary>
    /// <param name="device">The device to train on.</param>
    /// <param name="data">Labelled images (the training set is cut to <see cref="TrainingSettings.Limit"/>).</param>
    /// <param name="options">The options; checked first.</param>
    public ClassifierTrainer(ComputeDevice device, ImageData data, ClassifierTrainingOptions options)
    {
        options.Validate();
        if (data.Train.PixelsPerImage != options.Model.InputSize)
            throw new ArgumentException($"images have {data.Train.PixelsPerImage} pixels, the classifier takes {options.Model.InputSize}");
        if (!data.HasLabels)
            throw new ArgumentException($"a classifier learns from labels, and the {data.Name} images have none");
        _options = options;
        _data = (data.Name, data.ImageHeight, data.ImageWidth);
        var train = options.Limit is int limit && limit < data.Train.Count ? data.Train.Take(limit) : data.Train;
        if (train.Labels.Any(l => l >= options.Model.Classes))
            throw new ArgumentException($"training labels outside 0-{options.Model.Classes - 1}");
        device.ThrowIfDisposed();
        // Uploads and initialisation are device work: they wait for other users of the device.
        lock (device.Gate)
        {
            _train = new DeviceDataset(device, train);
            _test = new DeviceDataset(device, data.Test);
            _network = new ClassifierNetwork(device, options.Model, Math.Max(options.BatchSize, 1000), options.Seed);
            _lossTerms = [_network.SampleLoss];
            _evaluator = new ClassifierEvaluator(_network, _test);
            _engine = new TrainingEngine(device, this, _train, options.ToEngine());
        }
        _classifier = new Classifier(_network, ownsNetwork: false);
    }

    /// <summary>The classifier being trained (shares the trainer's network; disposed with the trainer).</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public Classifier Classifier => Alive(_classifier);

    /// <summary>The options.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public ClassifierTrainingOptions Options => Alive(_options);

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public override int StepsPerEpoch => Alive(_engine).StepsPerEpoch;

    /// <summary>Training images.</summary>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public override int TrainCount => Alive(_train).Count;

    Network ITrainable.Graph => _network.Graph;

    bool ITrainable.ReadsLabels => true;

    IReadOnlyList<ArrayView<float>> ITrainable.LossTerms => _lossTerms;

    private protected override TrainingResult TrainOnce(IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        Action<EngineReport>? report = progress is null ? null : r => progress.Report(new TrainingProgress(r.Epoch,
            _options.Epochs, r.Step, r.StepsPerEpoch, r.TrainLoss, r.SamplesPerSecond, null, r.Phase));
        var (outcome, epoch, step) = _engine.Run(report, summary =>
        {
            Evaluation test;
            lock (_network.Device.Gate)
                test = _evaluator.Evaluate(progress is null ? null : (done, total) => progress.Report(new TrainingProgress(
                summary.Epoch, _options.Epochs, done, total, null, summary.SamplesPerSecond, null, TrainingPhase.Testing)));
            if (!double.IsFinite(test.Loss))
                return test.Loss;
            var metrics = new EpochMetrics(summary.Epoch, summary.TrainLoss, test.Loss, summary.EpochSeconds,
                summary.SamplesPerSecond) { TestAccuracy = test.Accuracy };
            Finished.Add(metrics);
            progress?.Report(new TrainingProgress(summary.Epoch, _options.Epochs, StepsPerEpoch, StepsPerEpoch,
                metrics.TrainLoss, metrics.SamplesPerSecond, metrics));
            return test.Loss;
        }, cancellationToken);
        return outcome switch
        {
            EngineEnd.Cancelled => throw new OperationCanceledException(
                $"stopped at epoch {epoch}, step {step} of {StepsPerEpoch}; nothing was saved", cancellationToken),
            EngineEnd.Diverged => new TrainingResult(TrainingOutcome.Diverged, Finished.ToList(),
                $"loss became NaN or infinite at epoch {epoch}, step {step + 1}; nothing was saved; a lower learning rate may help"),
            _ => new TrainingResult(TrainingOutcome.Completed, Finished.ToList()),
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
            ["batch"] = _options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["lr"] = _options.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["lr_schedule"] = _options.Schedule.ToString().ToLowerInvariant(),
            ["seed"] = _options.Seed.ToString(CultureInfo.InvariantCulture),
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
    public float LearningRateAt(long step) => Alive(_options).LearningRateAt(step, (long)_options.Epochs * StepsPerEpoch);

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
