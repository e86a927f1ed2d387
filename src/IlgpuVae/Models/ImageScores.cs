namespace IlgpuVae.Models;

/// <summary>
/// Per-image scores from <see cref="VaeModel.Score(ReadOnlySpan{float}, ReadOnlySpan{int}, int?)"/>: how many nats the model needs for each image. Their sum,
/// <see cref="Loss"/>, is the negative ELBO, the training loss of that image; a high value marks an image unlike
/// the training data.
/// </summary>
/// <param name="Reconstruction">Per image: the decoder's negative log-likelihood of it, the summed binary cross-entropy for
/// the Bernoulli (nats).</param>
/// <param name="Kl">Per image: the KL divergence of its posterior from the prior (nats).</param>
public sealed record ImageScores(float[] Reconstruction, float[] Kl)
{
    /// <summary>Images scored.</summary>
    public int Count => Reconstruction.Length;

    /// <summary>Per image: reconstruction + KL, the negative ELBO (nats): an anomaly score.</summary>
    public float[] Loss { get; } = Reconstruction.Zip(Kl, (r, k) => r + k).ToArray();
}
