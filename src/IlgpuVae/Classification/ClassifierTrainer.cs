using System.Diagnostics;
using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Classification;

/// <summary>
/// Trains an MLP classifier on MNIST entirely on the device, like <see cref="VaeTrainer"/>: the data set is
/// resident as bytes, each epoch draws a seeded permutation, batches and labels are gathered on the device,
/// forward, softmax cross-entropy, backward and Adam run there, and per-step losses accumulate in a device
/// buffer that is read back only every <see cref="ClassifierTrainingOptions.ReportEverySteps"/> steps.
/// After each epoch the test set is scored.
/// </summary>
public sealed class ClassifierTrainer : IDisposable
{
    private readonly ComputeDevice _device;
    private readonly ClassifierTrainingOptions _options;
    private readonly DeviceDataset _train, _test;
    private readonly ClassifierNetwork _network;
    private readonly AdamOptimizer _adam;
    private readonly ClassifierEvaluator _evaluator;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _order;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _batch, _stepLosses;
    private readonly List<ClassifierEpochMetrics> _history = [];
    private long _globalStep;

    /// <summary>Prepares a run.</summary>
    /// <param name="device">The device.</param>
    /// <param name="data">MNIST (the training set is cut to <see cref="ClassifierTrainingOptions.Limit"/>).</param>
    /// <param name="options">The options.</param>
    public ClassifierTrainer(ComputeDevice device, MnistData data, ClassifierTrainingOptions options)
    {
        options.Validate();
        if (data.Train.PixelsPerImage != options.Model.InputSize)
            throw new ArgumentException($"images have {data.Train.PixelsPerImage} pixels, the classifier takes {options.Model.InputSize}");
        _device = device;
        _options = options;
        var train = options.Limit is int limit && limit < data.Train.Count ? data.Train.Take(limit) : data.Train;
        if (train.Labels.Any(l => l >= options.Model.Classes))
            throw new ArgumentException($"training labels outside 0-{options.Model.Classes - 1}");
        _train = new DeviceDataset(device, train);
        _test = new DeviceDataset(device, data.Test);
        _network = new ClassifierNetwork(device, options.Model, Math.Max(options.BatchSize, 1000), options.Seed);
        _adam = new AdamOptimizer(device, _network.ParameterCount);
        _evaluator = new ClassifierEvaluator(_network, _test);
        _order = device.Allocate<int>(_train.Count);
        _batch = device.Allocate<float>((long)options.BatchSize * _train.Features);
        _stepLosses = device.Allocate<float>(StepsPerEpoch);
        Classifier = new Classifier(_network, ownsNetwork: false);
    }

    /// <summary>The classifier being trained (shares the trainer's network).</summary>
    public Classifier Classifier { get; }

    /// <summary>The options.</summary>
    public ClassifierTrainingOptions Options => _options;

    /// <summary>Steps per epoch, the last partial batch included.</summary>
    public int StepsPerEpoch => (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>Training images.</summary>
    public int TrainCount => _train.Count;

    /// <summary>Metrics of every finished epoch.</summary>
    public IReadOnlyList<ClassifierEpochMetrics> History => _history;

    /// <summary>Trains until every epoch is done, the token is cancelled (after the current step) or a loss stops
    /// being finite.</summary>
    /// <param name="progress">Receives reports; null for none.</param>
    /// <param name="cancellationToken">Stops training after the current step.</param>
    /// <returns>How the run ended and the epochs it finished.</returns>
    public ClassifierTrainingResult Train(IProgress<ClassifierProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var ops = _device.Ops;
        int steps = StepsPerEpoch, batchSize = _options.BatchSize;
        var stepLosses = _stepLosses.View.BaseView;
        var host = new float[steps];
        for (int epoch = _history.Count + 1; epoch <= _options.Epochs; epoch++)
        {
            _order.View.BaseView.CopyFromCPU(VaeTrainer.Permutation(_options.Seed, epoch, _train.Count));
            ops.Fill(stepLosses, 0f);
            var clock = Stopwatch.StartNew();
            for (int step = 0; step < steps; step++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    ops.Synchronize();
                    return new ClassifierTrainingResult(TrainingOutcome.Cancelled, _history.ToList(),
                        $"stopped at epoch {epoch}, step {step} of {steps}; nothing was saved");
                }
                TrainStep(step, Math.Min(batchSize, _train.Count - step * batchSize), LearningRateAt(_globalStep));
                int done = step + 1;
                double? loss = null;
                if (done % _options.ReportEverySteps == 0 && done < steps)
                {
                    ops.Synchronize();
                    stepLosses.SubView(0, steps).CopyToCPU(host);
                    if (FirstNonFinite(host, done) is int bad)
                        return Diverged(epoch, bad);
                    loss = MeanLoss(host, done);
                }
                // Every step, from the host's count: no synchronisation unless the loss was read back above.
                progress?.Report(new ClassifierProgress(epoch, _options.Epochs, done, steps, loss,
                    done * (double)batchSize / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), null));
            }
            ops.Synchronize();
            double seconds = clock.Elapsed.TotalSeconds;
            stepLosses.SubView(0, steps).CopyToCPU(host);
            if (FirstNonFinite(host, steps) is int failed)
                return Diverged(epoch, failed);
            var test = _evaluator.Evaluate((done, total) => progress?.Report(
                new ClassifierProgress(epoch, _options.Epochs, done, total, null, 0, null) { Phase = TrainingPhase.Testing }));
            if (!double.IsFinite(test.Loss))
                return Diverged(epoch, steps - 1);
            var metrics = new ClassifierEpochMetrics(epoch, MeanLoss(host, steps), test.Loss, test.Accuracy, seconds,
                _train.Count / seconds);
            _history.Add(metrics);
            progress?.Report(new ClassifierProgress(epoch, _options.Epochs, steps, steps, metrics.TrainLoss,
                metrics.SamplesPerSecond, metrics));
        }
        return new ClassifierTrainingResult(TrainingOutcome.Completed, _history.ToList());
    }

    /// <summary>Scores the test set with the current weights.</summary>
    /// <returns>Loss, accuracy and confusion matrix.</returns>
    public ClassifierEvaluation EvaluateTest() => _evaluator.Evaluate();

    /// <summary>Saves the classifier with the run's figures in the metadata.</summary>
    /// <param name="path">The file; its directory must exist.</param>
    public void Save(string path)
    {
        var metadata = new Dictionary<string, string>
        {
            ["epochs"] = _history.Count.ToString(CultureInfo.InvariantCulture),
            ["batch"] = _options.BatchSize.ToString(CultureInfo.InvariantCulture),
            ["lr"] = _options.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            ["lr_schedule"] = _options.Schedule.ToString().ToLowerInvariant(),
            ["seed"] = _options.Seed.ToString(CultureInfo.InvariantCulture),
            ["train_images"] = _train.Count.ToString(CultureInfo.InvariantCulture),
        };
        if (_history.Count > 0)
            metadata["test_accuracy"] = _history[^1].TestAccuracy.ToString("F4", CultureInfo.InvariantCulture);
        Classifier.Save(path, metadata);
    }

    /// <summary>The learning rate of global step <paramref name="step"/> (0-based) under the run's schedule.</summary>
    /// <param name="step">Steps taken before this one.</param>
    /// <returns>The rate.</returns>
    public float LearningRateAt(long step)
    {
        if (_options.Schedule == LearningRateSchedule.Constant)
            return _options.LearningRate;
        double progress = step / (double)((long)_options.Epochs * StepsPerEpoch);
        return (float)(_options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    private void TrainStep(int step, int rows, float learningRate)
    {
        var ops = _device.Ops;
        int d = _train.Features, start = step * _options.BatchSize;
        var x = _batch.View.BaseView.SubView(0, (long)rows * d);
        ops.GatherImages(_train.Images, _order.View.BaseView, start, x, d);
        ops.GatherLabels(_train.Labels, _order.View.BaseView, start, _network.Labels.SubView(0, rows));
        _network.Forward(x, rows);
        // The batch mean, as PyTorch's CrossEntropyLoss: a short last batch gets the same step size.
        _network.Loss(rows, 1f / rows);
        ops.SumInto(_network.SampleLoss.SubView(0, rows), _stepLosses.View.BaseView, step);
        _network.Backward(x, rows);
        _adam.Update(_network.Parameters, _network.Gradients, learningRate, _options.Beta1, _options.Beta2, _options.Epsilon);
        _globalStep++;
    }

    // The mean per-image loss over the first `steps` steps.
    private double MeanLoss(float[] host, int steps)
    {
        double sum = 0;
        for (int s = 0; s < steps; s++)
            sum += host[s];
        return sum / Math.Min(_train.Count, steps * _options.BatchSize);
    }

    private static int? FirstNonFinite(float[] host, int steps)
    {
        for (int s = 0; s < steps; s++)
            if (!float.IsFinite(host[s]))
                return s;
        return null;
    }

    private ClassifierTrainingResult Diverged(int epoch, int step) =>
        new(TrainingOutcome.Diverged, _history.ToList(),
            $"loss became NaN or infinite at epoch {epoch}, step {step + 1}; nothing was saved");

    /// <inheritdoc />
    public void Dispose()
    {
        Classifier.Dispose();
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
