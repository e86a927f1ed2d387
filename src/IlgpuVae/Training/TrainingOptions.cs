using IlgpuVae.Models;

namespace IlgpuVae.Training;

/// <summary>Everything that decides a training run. Defaults are pytorch/examples' VAE.</summary>
public sealed record TrainingOptions : TrainingSettings
{
    /// <summary>
    /// The defaults of a conditional VAE (<c>train --model cvae</c>), chosen by measurement (docs/cvae.md): 784-400-10
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

    /// <summary>The options a run directory was trained with (its config.json).</summary>
    /// <param name="runDirectory">A directory written by <see cref="VaeTrainer"/>.</param>
    /// <returns>The options.</returns>
    /// <exception cref="FileNotFoundException">The directory holds no config.json.</exception>
    /// <exception cref="InvalidDataException">config.json is not a valid run configuration.</exception>
    public static TrainingOptions FromRunDirectory(string runDirectory) => new RunDirectory(runDirectory).ReadConfig();

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

    /// <summary>
    /// What the training loss is: the ELBO (with <see cref="Samples"/> above 1, averaged over K posterior samples per
    /// image: Burda et al.'s "VAE k"), or the importance-weighted bound of K samples (IWAE), whose encoder gradient is
    /// the bound's own (<see cref="TrainingObjective.ImportanceWeighted"/>) or Tucker et al.'s (2019) doubly
    /// reparameterised one (<see cref="TrainingObjective.ImportanceWeightedDreg"/>).
    /// </summary>
    public TrainingObjective Objective { get; init; } = TrainingObjective.Elbo;

    /// <summary>K, posterior samples per image in a training step (the decoder runs on K times the batch).</summary>
    public int Samples { get; init; } = 1;

    /// <summary>
    /// Adam's epsilon in Burda et al.'s (2016) experiments, which <c>train --preset burda</c> uses unless
    /// <c>--adam-eps</c> is given (the library's default stays <see cref="TrainingSettings.DefaultEpsilon"/>).
    /// </summary>
    public const float BurdaEpsilon = 1e-4f;

    /// <summary>The largest <see cref="Samples"/> accepted.</summary>
    public const int MaxSamples = 5000;

    /// <summary>
    /// Dynamic binarisation: every time a training image is used, each pixel is drawn anew as Bernoulli(intensity)
    /// from the counter-based generator (seeded, reproducible), and the test set is binarised once by a fixed seed
    /// (<see cref="Data.ImageSet.Binarized"/>): the protocol of the binarised-MNIST log-likelihood literature.
    /// </summary>
    public bool DynamicBinarization { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public void Validate()
    {
        Model.Validate();
        ValidateShared();
        if (!Enum.IsDefined(Objective))
            throw new ArgumentException($"unknown objective {(int)Objective}");
        if (Objective == TrainingObjective.ImportanceWeightedDreg && Model.IsTwoLayer)
            throw new ArgumentException("the DReG gradient is built for one stochastic layer; a model with two trains on the bound's own gradient (--gradient standard)");
        if (Samples < 1 || Samples > MaxSamples)
            throw new ArgumentException($"samples per image must be in 1-{MaxSamples}, got {Samples}");
        if (Objective.IsImportanceWeighted() && (Beta != 1f || KlWarmupEpochs != 0))
            throw new ArgumentException("the importance-weighted bound has no KL weight: beta and the KL warm-up are for the ELBO objective");
        if (!float.IsFinite(Beta) || Beta < 0)
            throw new ArgumentException($"beta must be a non-negative number, got {Beta}");
        if (!float.IsFinite(BetaStart) || BetaStart < 0)
            throw new ArgumentException($"the starting beta must be a non-negative number, got {BetaStart}");
        if (KlWarmupEpochs < 0)
            throw new ArgumentException($"KL warm-up must not be negative, got {KlWarmupEpochs}");
    }
}

/// <summary>The figures of one finished epoch (losses per image), for both trainers.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss per image over the epoch. A VAE: summed BCE + KL (the negative ELBO),
/// whatever beta trained it; a classifier: cross-entropy (as the weights changed).</param>
/// <param name="TestLoss">Test loss per image after the epoch. A VAE: summed BCE + KL with one posterior sample; a
/// classifier: cross-entropy.</param>
/// <param name="EpochSeconds">Training time of the epoch (evaluation excluded).</param>
/// <param name="SamplesPerSecond">Training images per second.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TestLoss, double EpochSeconds, double SamplesPerSecond)
{
    /// <summary>A VAE's test reconstruction term (the BCE part of <see cref="TestLoss"/>); null for a classifier.</summary>
    public double? TestReconstruction { get; init; }

    /// <summary>A VAE's test KL term (the KL part of <see cref="TestLoss"/>); null for a classifier.</summary>
    public double? TestKl { get; init; }

    /// <summary>A classifier's test accuracy, in [0, 1]; null for a VAE.</summary>
    public double? TestAccuracy { get; init; }
}

/// <summary>A progress report: after every training step, after every test batch, and after each epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">Steps done in this epoch (in the testing phase: test batches done).</param>
/// <param name="StepsPerEpoch">Steps per epoch (in the testing phase: test batches in all).</param>
/// <param name="TrainLoss">Mean training loss so far in this epoch where it was read back from the device (every
/// <see cref="TrainingSettings.ReportEverySteps"/> steps and at the epoch's end); null on the reports in between,
/// which cost no device synchronisation.</param>
/// <param name="SamplesPerSecond">Training throughput so far in this epoch.</param>
/// <param name="Completed">The epoch's metrics once it is done, else null.</param>
/// <param name="Phase">Whether the epoch is training or running its test pass.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double? TrainLoss,
    double SamplesPerSecond, EpochMetrics? Completed, TrainingPhase Phase = TrainingPhase.Training);

/// <summary>The part of an epoch a progress report comes from.</summary>
public enum TrainingPhase
{
    /// <summary>Training steps.</summary>
    Training,
    /// <summary>The test pass after the epoch's training.</summary>
    Testing,
}

/// <summary>How a run ended.</summary>
public enum TrainingOutcome
{
    /// <summary>Every epoch trained.</summary>
    Completed,
    /// <summary>A loss became NaN or infinite; the last good checkpoint was kept.</summary>
    Diverged,
}

/// <summary>The result of <see cref="Trainer.Train"/>, for both trainers.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Epochs">Metrics of every epoch finished in this call.</param>
/// <param name="Message">What happened, for Diverged. A stop is not a result: the trainers throw
/// <see cref="OperationCanceledException"/>, as every long operation of the library does.</param>
public sealed record TrainingResult(TrainingOutcome Outcome, IReadOnlyList<EpochMetrics> Epochs, string? Message = null);
