namespace IlgpuVae;

// Read by the loss layer, the models and the trainer alike, so it lives in the root namespace beside TrainingObjective
// (VaeConfig.Likelihood sets it).

/// <summary>The decoder's distribution p(x|z) (theory: docs/theory.md, "The decoder's likelihood").</summary>
public enum DecoderLikelihood
{
    /// <summary>Bernoulli on logits: the binary cross-entropy against grey levels in [0, 1] (pytorch/examples' VAE).</summary>
    Bernoulli,
    /// <summary>
    /// The continuous Bernoulli on logits (Loaiza-Ganem and Cunningham, 2019): the Bernoulli's density normalised over
    /// [0, 1]; pictures show its mean.
    /// </summary>
    ContinuousBernoulli,
    /// <summary>
    /// A diagonal Gaussian: the decoder's output is the mean; the log-variance is a learned vector of one value per
    /// dimension (tensor "out_logvar"), or fixed by <see cref="Models.VaeConfig.Sigma"/>. 8-bit image data are dequantised.
    /// </summary>
    Gaussian,
}
