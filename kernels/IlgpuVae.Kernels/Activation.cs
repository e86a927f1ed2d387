namespace IlgpuVae.Kernels;

/// <summary>Element-wise activation functions; kernels branch on the value uniformly across a launch.</summary>
internal enum Activation
{
    /// <summary>The identity: y = x.</summary>
    Identity = 0,
    /// <summary>y = max(x, 0).</summary>
    Relu = 1,
    /// <summary>y = 1 / (1 + exp(-x)).</summary>
    Sigmoid = 2,
    /// <summary>y = tanh(x).</summary>
    Tanh = 3,
}

/// <summary>Where a Gaussian sample's noise eps comes from.</summary>
internal enum NoiseSource
{
    /// <summary>Whatever is already in the noise buffer.</summary>
    Keep = 0,
    /// <summary>Drawn from the counter-based generator.</summary>
    Draw = 1,
    /// <summary>Zero, so z = mu.</summary>
    Zero = 2,
}

/// <summary>
/// Which gradient a multi-sample backward sends to [mu | logvar] (theory: docs/theory.md, "Importance-weighted bound"
/// and "The doubly reparameterised gradient").
/// </summary>
internal enum SampleGradient
{
    /// <summary>The K-sample ELBO's: the decoder's path only, added to the analytic KL's gradient.</summary>
    Average = 0,
    /// <summary>The importance-weighted bound's own gradient, assigned.</summary>
    ImportanceWeighted = 1,
    /// <summary>
    /// DReG (Tucker et al. 2019) for the importance-weighted bound: squared normalised weights times the path
    /// derivative of each log weight, with log q's parameters held fixed (no score-function term), assigned.
    /// </summary>
    DoublyReparameterized = 2,
    /// <summary>
    /// The log ratio's own gradient for weights that need not sum to 1 over an image's samples (two stochastic layers:
    /// omega for the importance-weighted bound, beta / K for the ELBO; one row per image for z2 given z1):
    /// <c>g = dz + w z</c>, <c>dmu = sum_k g</c>, <c>dlv = sum_k g eps exp(lv / 2) / 2 - sum_k w / 2</c>, assigned.
    /// </summary>
    Weighted = 3,
}
