using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// The posterior's sample by the reparameterisation trick, with its KL term: x = [mu | logvar] (B, 2Z),
/// y = z = mu + eps exp(logvar / 2) (B, Z), eps ~ N(0, I) from the counter-based generator. The forward also
/// computes KL(N(mu, exp(logvar)) || N(0, I)) per sample into <see cref="Kl"/> and assigns beta dKL/dx to the input
/// gradient; the backward adds the path through z (theory: docs/theory.md, "Reparameterisation" and "KL").
/// </summary>
internal sealed class GaussianSample(int latent) : Layer
{
    /// <summary>Z.</summary>
    public int Latent => latent;

    /// <summary>The noise eps of the last forward (capacity, Z).</summary>
    public ArrayView<float> Noise { get; private set; }

    /// <summary>KL per sample of the last forward (capacity).</summary>
    public ArrayView<float> Kl { get; private set; }

    /// <inheritdoc />
    public override int InputWidth => 2 * latent;

    /// <inheritdoc />
    public override int OutputWidth => latent;

    /// <inheritdoc />
    public override void Allocate(Func<int, ArrayView<float>> rows)
    {
        Noise = rows(latent);
        Kl = rows(1);
    }

    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        int rows = context.Rows;
        var noise = context.Noise switch
        {
            NoiseMode.Draw => NoiseSource.Draw,
            NoiseMode.Zero => NoiseSource.Zero,
            _ => NoiseSource.Keep,
        };
        int slot = context.LossSlot >= 0 && LossTerm is int term ? context.LossSlot + term : -1;
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
        context.Ops.ReparameterizeBackward(x.SubView(0, (long)rows * 2 * latent), Noise.SubView(0, (long)rows * latent),
            dy.SubView(0, (long)rows * latent), dstats.SubView(0, (long)rows * 2 * latent), latent);
        return false;
    }
}
