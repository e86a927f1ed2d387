using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// The posterior's sample by the reparameterisation trick, with its KL term: x = [mu | logvar] (B, 2Z),
/// y = z = mu + eps exp(logvar / 2) (B, Z), eps ~ N(0, I) from the counter-based generator. The forward also
/// computes KL(N(mu, exp(logvar)) || N(0, I)) per sample into <see cref="PosteriorSample.Kl"/> and assigns beta dKL/dx to the input
/// gradient; the backward adds the path through z (theory: docs/theory.md, "Reparameterisation" and "KL").
/// With K = <see cref="PassContext.Samples"/> above 1, or the importance-weighted objective, it draws K samples per
/// image (y is (K B, Z), sample-major) and the log ratio log p(z) - log q(z|x) of each; the K-sample average keeps the
/// analytic KL, the importance-weighted bound samples it, and the Bernoulli loss that reads <see cref="PosteriorSample.LogRatio"/>
/// writes the weights <see cref="PosteriorSample.Weights"/> its backward uses (theory: "Importance-weighted bound").
/// </summary>
/// <param name="latent">Z.</param>
/// <param name="maxSamples">The largest K a pass may ask for.</param>
internal sealed class GaussianSample(int latent, int maxSamples = 1) : PosteriorSample
{
    /// <inheritdoc />
    public override int Latent => latent;

    /// <inheritdoc />
    public override int MaxRowFactor => maxSamples;

    /// <inheritdoc />
    public override int RowFactor(PassContext context) => context.Samples;

    /// <inheritdoc />
    public override int InputWidth => 2 * latent;

    /// <inheritdoc />
    public override int OutputWidth => latent;

    /// <inheritdoc />
    public override void Allocate(Func<int, ArrayView<float>> rows) => AllocateSamples(rows, maxSamples);

    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        int rows = context.Rows;
        var noise = context.Noise;
        int slot = context.LossSlot >= 0 && LossTerm is int term ? context.LossSlot + term : -1;
        if (context.MultiSample)
        {
            int samples = context.Samples;
            if (samples < 1 || samples > maxSamples)
                throw new ArgumentOutOfRangeException(nameof(context), $"{samples} samples per image for a layer built for at most {maxSamples}");
            long sampleRows = (long)rows * samples;
            var stats = x.SubView(0, (long)rows * 2 * latent);
            context.Ops.ImportanceSample(stats, Noise.SubView(0, sampleRows * latent), y.SubView(0, sampleRows * latent),
                LogRatio.SubView(0, sampleRows), latent, noise, context.Seed, context.Step);
            if (context.Objective == TrainingObjective.Elbo)
            {
                context.Ops.KlDivergence(stats, Kl.SubView(0, rows), dx.SubView(0, (long)rows * 2 * latent), latent, context.KlWeight);
                if (slot >= 0)
                    context.Ops.SumInto(Kl.SubView(0, rows), context.LossTotals, slot);
            }
            return;
        }
        context.Ops.GaussianSample(x.SubView(0, (long)rows * 2 * latent), Noise.SubView(0, (long)rows * latent),
            y.SubView(0, (long)rows * latent), Kl.SubView(0, rows), dx.SubView(0, (long)rows * 2 * latent), latent,
            context.KlWeight, noise, context.Seed, context.Step, context.LossTotals, slot);
    }

    /// <summary>Adds dz's path into [dmu | dlogvar], which already holds beta dKL from the forward.</summary>
    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below)
    {
        if (dx is not { } dstats)
            return false;
        int rows = context.Rows;
        if (context.MultiSample)
        {
            long sampleRows = (long)rows * context.Samples;
            context.Ops.ImportanceSampleBackward(x.SubView(0, (long)rows * 2 * latent), Noise.SubView(0, sampleRows * latent),
                y.SubView(0, sampleRows * latent), dy.SubView(0, sampleRows * latent), Weights.SubView(0, sampleRows),
                dstats.SubView(0, (long)rows * 2 * latent), latent, context.Objective switch
                {
                    TrainingObjective.ImportanceWeighted => SampleGradient.ImportanceWeighted,
                    TrainingObjective.ImportanceWeightedDreg => SampleGradient.DoublyReparameterized,
                    _ => SampleGradient.Average,
                });
            return false;
        }
        context.Ops.ReparameterizeBackward(x.SubView(0, (long)rows * 2 * latent), Noise.SubView(0, (long)rows * latent),
            dy.SubView(0, (long)rows * latent), dstats.SubView(0, (long)rows * 2 * latent), latent);
        return false;
    }
}

/// <summary>
/// A layer that draws the posterior's samples of the latent code the decoder reads (K per image, sample-major), with
/// their log ratio log p(z) - log q(z|x) (or its two-layer counterpart), the weights the loss writes, and the per-image
/// term beyond the reconstruction (the KL, or the rest of the bound). <see cref="LikelihoodLoss"/> reads it in
/// multi-sample passes.
/// </summary>
internal abstract class PosteriorSample : Layer
{
    /// <summary>Z, the width of the code the decoder reads.</summary>
    public abstract int Latent { get; }

    /// <summary>The noise eps of the last forward (capacity K, Z).</summary>
    public ArrayView<float> Noise { get; private set; }

    /// <summary>KL per sample of the last forward (capacity); with the importance-weighted bound, the bound's part
    /// beyond the weighted reconstruction (written by the loss).</summary>
    public ArrayView<float> Kl { get; private set; }

    /// <summary>log p(z) - log q(z|x) per sample row of the last multi-sample forward (capacity K).</summary>
    public ArrayView<float> LogRatio { get; private set; }

    /// <summary>The normalised weight of each sample row (capacity K), written by the loss.</summary>
    public ArrayView<float> Weights { get; private set; }

    /// <summary>Allocates <see cref="Noise"/>, <see cref="Kl"/>, <see cref="LogRatio"/> and <see cref="Weights"/>.</summary>
    /// <param name="rows">The network's allocator.</param>
    /// <param name="maxSamples">The largest K.</param>
    protected void AllocateSamples(Func<int, ArrayView<float>> rows, int maxSamples)
    {
        Noise = rows(Latent * maxSamples);
        Kl = rows(1);
        LogRatio = rows(maxSamples);
        Weights = rows(maxSamples);
    }
}
