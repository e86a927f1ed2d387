namespace IlgpuVae;

// The objective and its gradient are read by the layers, the models and the trainer alike, so they live in the root
// namespace, which depends on nothing (TrainingOptions.Objective and .Gradient set them).

/// <summary>The loss a VAE trains on.</summary>
public enum TrainingObjective
{
    /// <summary>The negative ELBO: summed BCE + beta KL (analytic), averaged over the posterior samples.</summary>
    Elbo,
    /// <summary>
    /// The importance-weighted bound of Burda et al. (2016): <c>-log (1/K sum_k p(x, z_k) / q(z_k|x))</c> with K
    /// posterior samples per image, the KL sampled; at K = 1 the ELBO with a sampled KL.
    /// </summary>
    ImportanceWeighted,
}

/// <summary>How the encoder's gradient is estimated.</summary>
public enum TrainingGradient
{
    /// <summary>The objective's own reparameterised gradient (score-function term included).</summary>
    Standard,
    /// <summary>
    /// The doubly reparameterised gradient of Tucker, Lawson, Gu and Maddison (2019) for the importance-weighted bound:
    /// the encoder gets <c>sum_k omega_k^2 d log w_k / d z_k d z_k / d phi</c> with log q's parameters held fixed;
    /// the decoder's gradient is unchanged (docs/theory.md, "The doubly reparameterised gradient").
    /// </summary>
    Dreg,
}
