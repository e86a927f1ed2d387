using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>Everything that decides a training run. Defaults are pytorch/examples' VAE.</summary>
public sealed record TrainingOptions
{
    /// <summary>
    /// The defaults of a conditional VAE (<c>train --kind cvae</c>), chosen by measurement (docs/cvae.md): 784-400-10
    /// with the label at the encoder's and the decoder's first layer, trained 20 epochs on BCE + beta KL with beta
    /// falling linearly from 8 to 2 over the first 10 epochs. An expensive code early lets the free label, not z,
    /// carry the digit's identity, and beta 2 keeps the posteriors close enough to the prior that z ~ N(0, I)
    /// decodes to the requested digit: 98.5-98.8% of samples were classified as requested (three seeds), at a test
    /// loss of 104.6-105.2 (the VAE's: 105.4 after 10 epochs, 103.7 after 20).
    /// </summary>
    public static TrainingOptions ConditionalDefaults => new()
    {
        Model = VaeConfig.Default with { Latent = 10, Classes = 10 },
        Epochs = 20,
        Beta = 2f,
        BetaStart = 8f,
        KlWarmupEpochs = 10,
    };

    /// <summary>Epochs to train in total (a resumed run continues up to this count).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Rows per step; the last partial batch is used too.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam's learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Adam's first-moment decay.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's second-moment decay.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam's epsilon.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>The architecture.</summary>
    public VaeConfig Model { get; init; } = VaeConfig.Default;

    /// <summary>The KL weight beta in loss = BCE + beta KL.</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Epochs over which the KL weight moves linearly from <see cref="BetaStart"/> to <see cref="Beta"/>
    /// (0: no warm-up, beta throughout).</summary>
    public int KlWarmupEpochs { get; init; }

    /// <summary>
    /// The KL weight at the start of the warm-up: 0 (the usual warm-up, rising to beta), or above beta to start with a
    /// nearly uninformative code and let it take detail later (for a CVAE: the label is learnt before z can carry
    /// identity). Unused without <see cref="KlWarmupEpochs"/>.
    /// </summary>
    public float BetaStart { get; init; }

    /// <summary>The seed of initialisation, shuffling and noise.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Use only the first N training images (null: all).</summary>
    public int? Limit { get; init; }

    /// <summary>Steps between progress reports that read the losses back (a host synchronisation each).</summary>
    public int ReportEverySteps { get; init; } = 100;

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate()
    {
        Model.Validate();
        if (Epochs <= 0)
            throw new ArgumentException($"epochs must be positive, got {Epochs}");
        if (BatchSize <= 0)
            throw new ArgumentException($"batch size must be positive, got {BatchSize}");
        if (!float.IsFinite(LearningRate) || LearningRate <= 0)
            throw new ArgumentException($"learning rate must be a positive number, got {LearningRate}");
        if (!float.IsFinite(Beta) || Beta < 0)
            throw new ArgumentException($"beta must be a non-negative number, got {Beta}");
        if (!float.IsFinite(BetaStart) || BetaStart < 0)
            throw new ArgumentException($"the starting beta must be a non-negative number, got {BetaStart}");
        if (KlWarmupEpochs < 0)
            throw new ArgumentException($"KL warm-up must not be negative, got {KlWarmupEpochs}");
        if (Limit is <= 0)
            throw new ArgumentException($"limit must be positive, got {Limit}");
        if (ReportEverySteps <= 0)
            throw new ArgumentException($"report interval must be positive, got {ReportEverySteps}");
    }
}

/// <summary>The figures of one finished epoch (losses per image).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss per image over the epoch: summed BCE + KL (the negative ELBO), whatever beta trained it.</param>
/// <param name="TestLoss">Test loss: summed BCE + KL with one posterior sample, per image.</param>
/// <param name="TestReconstruction">Its BCE part.</param>
/// <param name="TestKl">Its KL part.</param>
/// <param name="EpochSeconds">Training time of the epoch (evaluation excluded).</param>
/// <param name="SamplesPerSecond">Training images per second.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TestLoss, double TestReconstruction, double TestKl,
    double EpochSeconds, double SamplesPerSecond);

/// <summary>Which pass of an epoch a progress report is about.</summary>
public enum TrainingPhase
{
    /// <summary>The training steps; Step counts steps.</summary>
    Training,
    /// <summary>The test pass after them; Step counts test batches.</summary>
    Testing,
}

/// <summary>
/// A progress report: after every training step and every test batch, and after each epoch. Reports during a pass
/// come from the host's count of work queued, without waiting for the device.
/// </summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">Training steps done in this epoch, or in <see cref="TrainingPhase.Testing"/> test batches done.</param>
/// <param name="StepsPerEpoch">Training steps per epoch, or in <see cref="TrainingPhase.Testing"/> test batches in all.</param>
/// <param name="TrainLoss">Mean training loss so far in this epoch where it was read back (every
/// <see cref="TrainingOptions.ReportEverySteps"/> steps and at the epoch's end), else null.</param>
/// <param name="SamplesPerSecond">Training images queued per second so far in this epoch (0 while testing).</param>
/// <param name="Completed">The epoch's metrics once it is done, else null.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double? TrainLoss,
    double SamplesPerSecond, EpochMetrics? Completed)
{
    /// <summary>Training steps or the test pass.</summary>
    public TrainingPhase Phase { get; init; } = TrainingPhase.Training;
}

/// <summary>How a run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>Every epoch trained.</summary>
    Completed,
    /// <summary>Stopped by the cancellation token after a step; a resumable state was saved.</summary>
    Cancelled,
    /// <summary>A loss became NaN or infinite; the last good checkpoint was kept.</summary>
    Diverged,
}

/// <summary>The result of <see cref="VaeTrainer.Train"/>.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Epochs">Metrics of every epoch finished in this call.</param>
/// <param name="Message">What happened, for Cancelled and Diverged.</param>
public sealed record TrainingResult(TrainingOutcome Outcome, IReadOnlyList<EpochMetrics> Epochs, string? Message = null);
