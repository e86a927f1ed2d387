namespace IlgpuVae;

// The objective is read by the layers, the models and the trainer alike, so it lives in the root namespace, which
// depends on nothing (TrainingOptions.Objective sets it).

/// <summary>The loss a VAE trains on, and for the importance-weighted bound, how the encoder's gradient is estimated.</summary>
public enum TrainingObjective
{
    /// <summary>The negative ELBO: summed BCE + beta KL (analytic), averaged over the posterior samples.</summary>
    Elbo,
    /// <summary>
    /// The importance-weighted bound of Burda et al. (2016): <c>-log (1/K sum_k p(x, z_k) / q(z_k|x))</c> with K
    /// posterior samples per image, the KL sampled; at K = 1 the ELBO with a sampled KL. The encoder trains on the
    /// bound's own reparameterised gradient (score-function term included).
    /// </summary>
    ImportanceWeighted,
    /// <summary>
    /// The importance-weighted bound of <see cref="ImportanceWeighted"/>, with the doubly reparameterised gradient of
    /// Tucker, Lawson, Gu and Maddison (2019) for the encoder: <c>sum_k omega_k^2 d log w_k / d z_k d z_k / d phi</c>
    /// with log q's parameters held fixed; the decoder's gradient is unchanged (docs/theory.md, "The doubly
    /// reparameterised gradient"). For one stochastic layer.
    /// </summary>
    ImportanceWeightedDreg,
}

/// <summary>What an objective implies.</summary>
internal static class TrainingObjectives
{
    /// <summary>Whether the objective is the importance-weighted bound (with either gradient).</summary>
    public static bool IsImportanceWeighted(this TrainingObjective objective) => objective != TrainingObjective.Elbo;
}
