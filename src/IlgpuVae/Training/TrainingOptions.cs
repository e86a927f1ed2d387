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

    /// <summary>
    /// Whether the decoder's output bias starts at the logit of each pixel's mean over the training images (clipped to
    /// [0.001, 0.999]) instead of the uniform draw every other tensor gets: Burda et al.'s (2016) initialisation, from
    /// their code (<c>get_train_bias_np</c>), which nbip/IWAE keeps. The decoder then starts at the mean image, not at
    /// p = 0.5 everywhere, which takes a deep tanh model off its early plateau (docs/iwae.md). For a dense Bernoulli
    /// or continuous Bernoulli decoder (whose output is a logit); <c>train --preset burda</c> sets it. Stored in
    /// config.json as <c>"output_bias": "data-mean"</c>.
    /// </summary>
    public bool OutputBiasFromData { get; init; }

    /// <summary>The clip of the pixel means before their logit, as in Burda et al.'s code.</summary>
    internal const float OutputBiasClip = 1e-3f;

    /// <summary>Checks every value, the model's and the shared ones; throws <see cref="ArgumentException"/> with a
    /// one-line message.</summary>
    public override void Validate()
    {
        Model.Validate();
        base.Validate();
        if (!Enum.IsDefined(Objective))
            throw new ArgumentException($"unknown objective {(int)Objective}");
        if (Objective == TrainingObjective.ImportanceWeightedDreg && Model.IsTwoLayer)
            throw new ArgumentException("the DReG gradient is built for one stochastic layer; a model with two trains on the bound's own gradient (--gradient standard)");
        if (Samples < 1 || Samples > MaxSamples)
            throw new ArgumentException($"samples per image must be in 1-{MaxSamples}, got {Samples}");
        if (Objective.IsImportanceWeighted() && (Beta != 1f || KlWarmupEpochs != 0))
            throw new ArgumentException("the importance-weighted bound has no KL weight: beta and the KL warm-up are for the ELBO objective");
        if (OutputBiasFromData && Model.Likelihood == DecoderLikelihood.Gaussian)
            throw new ArgumentException("the output bias starts at the logit of the mean pixel for a Bernoulli or continuous Bernoulli decoder, not a Gaussian one");
        if (OutputBiasFromData && Model.IsConvolutional)
            throw new ArgumentException("the output bias starts at the logit of the mean pixel for a dense decoder; a convolutional one ends with a transposed convolution's bias per channel");
        if (!float.IsFinite(Beta) || Beta < 0)
            throw new ArgumentException($"beta must be a non-negative number, got {Beta}");
        if (!float.IsFinite(BetaStart) || BetaStart < 0)
            throw new ArgumentException($"the starting beta must be a non-negative number, got {BetaStart}");
        if (KlWarmupEpochs < 0)
            throw new ArgumentException($"KL warm-up must not be negative, got {KlWarmupEpochs}");
    }
}

/// <summary>
/// The result of <see cref="Trainer.Train"/>, for both trainers: the run completed every epoch, or a loss became NaN or
/// infinite (<see cref="Diverged"/>). A stop is not a result: the trainers throw
/// <see cref="OperationCanceledException"/>, as every long operation of the library does.
/// </summary>
/// <param name="Epochs">Metrics of every epoch finished in this call.</param>
/// <param name="Divergence">Null when every epoch trained; else where the loss diverged and what was kept (a VAE
/// trainer with a run directory keeps its last good checkpoint), in one line.</param>
public sealed record TrainingResult(IReadOnlyList<EpochMetrics> Epochs, string? Divergence = null)
{
    /// <summary>Whether a loss became NaN or infinite and training stopped there (<see cref="Divergence"/> says where).</summary>
    public bool Diverged => Divergence is not null;
}
