using IlgpuVae.Training;

namespace IlgpuVae.Classification;

/// <summary>Everything that decides a classifier's training run; the defaults reach 98.4-98.5% on MNIST's test set (seeds 1 and 2).</summary>
public sealed record ClassifierTrainingOptions : TrainingSettings
{
    /// <summary>The defaults: cosine learning-rate decay over the run.</summary>
    public ClassifierTrainingOptions() => Schedule = LearningRateSchedule.Cosine;

    /// <summary>The architecture.</summary>
    public ClassifierConfig Model { get; init; } = ClassifierConfig.Default;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate()
    {
        Model.Validate();
        ValidateShared();
    }
}

/// <summary>The figures of one finished classifier epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean cross-entropy per training image over the epoch (as the weights changed).</param>
/// <param name="TestLoss">Mean cross-entropy per test image after the epoch.</param>
/// <param name="TestAccuracy">Test accuracy after the epoch, in [0, 1].</param>
/// <param name="EpochSeconds">Training time of the epoch (evaluation excluded).</param>
/// <param name="SamplesPerSecond">Training images per second.</param>
public sealed record ClassifierEpochMetrics(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy,
    double EpochSeconds, double SamplesPerSecond);

/// <summary>A progress report: during an epoch (every few steps) and after each epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">Steps done in this epoch.</param>
/// <param name="StepsPerEpoch">Steps per epoch.</param>
/// <param name="TrainLoss">Mean training loss so far in this epoch where read back from the device; null on the reports between.</param>
/// <param name="SamplesPerSecond">Throughput so far in this epoch.</param>
/// <param name="Completed">The epoch's metrics once it is done, else null.</param>
/// <param name="Phase">Training steps or the test pass.</param>
public sealed record ClassifierProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double? TrainLoss,
    double SamplesPerSecond, ClassifierEpochMetrics? Completed, Training.TrainingPhase Phase = Training.TrainingPhase.Training);

/// <summary>How a classifier's training ended.</summary>
/// <param name="Outcome">Completed, Cancelled (after a step) or Diverged (a non-finite loss).</param>
/// <param name="Epochs">Metrics of every finished epoch.</param>
/// <param name="Message">What happened, for Cancelled and Diverged.</param>
public sealed record ClassifierTrainingResult(Training.TrainingOutcome Outcome, IReadOnlyList<ClassifierEpochMetrics> Epochs,
    string? Message = null);
