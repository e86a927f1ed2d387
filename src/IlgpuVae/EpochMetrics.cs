namespace IlgpuVae;

// Both trainers report it, and so does every progress report that ends an epoch (WorkProgress): the root namespace.

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
