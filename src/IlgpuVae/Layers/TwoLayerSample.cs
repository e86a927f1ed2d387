using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// Two stochastic layers (Burda et al. 2016) in one layer of the graph: x = [mu1 | logvar1] (B, 2 Z1) from the encoder,
/// y = z1 = mu1 + eps1 exp(logvar1 / 2) (K B, Z1, sample-major), which the decoder p(x|z1) reads. Inside, for each
/// z1 row: q(z2|z1) (the dense layers <c>encoder2.i</c> and the heads <c>mu2</c>/<c>logvar2</c>), a sample z2 from it,
/// and the conditional prior p(z1|z2) (the dense layers <c>decoder2.i</c> and the heads
/// <c>prior_mu</c>/<c>prior_logvar</c>). Its log ratio per row is
/// <c>log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1)</c>, so that <c>log w = log p(x|z1) + log ratio</c>. Every
/// objective samples the latent terms (no KL is analytic): the ELBO is the mean log weight, the importance-weighted
/// bound their log-mean-exp; the loss's weights (omega, or 1/K) scale each row's log-ratio gradient (theory:
/// docs/theory.md, "Two stochastic layers").
/// </summary>
internal sealed class TwoLayerSample : PosteriorSample
{
    // Salts the noise stream of z2, so that it differs from z1's under the same (seed, step).
    private const ulong SecondLayerSalt = 0xD1B54A32D192ED03UL;
    private readonly int _z1, _z2, _maxSamples;
    private readonly Linear[] _up, _down;
    private ArrayView<float>[] _upOut = [], _upGrad = [], _downOut = [], _downGrad = [];
    private ArrayView<float> _noise2, _z2Sample, _dz2, _ratio2, _ratioWeights, _ones;

    /// <summary>Builds the layer.</summary>
    /// <param name="latent">Z1.</param>
    /// <param name="hidden">The hidden widths of q(z2|z1) from the z1 side (p(z1|z2)'s are the same, reversed).</param>
    /// <param name="latent2">Z2.</param>
    /// <param name="activation">The hidden layers' activation.</param>
    /// <param name="maxSamples">The largest K a pass may ask for.</param>
    public TwoLayerSample(int latent, IReadOnlyList<int> hidden, int latent2, Activation activation, int maxSamples = 1)
    {
        _z1 = latent;
        _z2 = latent2;
        _maxSamples = maxSamples;
        var up = new List<Linear>();
        int width = latent;
        for (int i = 0; i < hidden.Count; i++)
        {
            // The first reads z1, whose gradient also comes from the decoder and the conditional prior: it adds.
            up.Add(new Linear($"encoder2.{i}", width, hidden[i], activation) { AccumulatesInputGradient = i == 0 });
            width = hidden[i];
        }
        up.Add(new Linear(["mu2", "logvar2"], width, 2 * latent2, Activation.Identity) { AccumulatesInputGradient = hidden.Count == 0 });
        var down = new List<Linear>();
        width = latent2;
        var reversed = hidden.Reverse().ToArray();
        for (int i = 0; i < reversed.Length; i++)
        {
            down.Add(new Linear($"decoder2.{i}", width, reversed[i], activation));
            width = reversed[i];
        }
        down.Add(new Linear(["prior_mu", "prior_logvar"], width, 2 * latent, Activation.Identity));
        _up = [.. up];
        _down = [.. down];
    }

    /// <summary>Z1.</summary>
    public override int Latent => _z1;

    /// <summary>Z2.</summary>
    public int Latent2 => _z2;

    /// <summary>The noise of z2 of the last forward (capacity K, Z2).</summary>
    public ArrayView<float> Noise2 => _noise2;

    /// <summary>The samples of z2 of the last forward (capacity K, Z2); what <see cref="DecodePrior"/> reads.</summary>
    public ArrayView<float> Z2 => _z2Sample;

    /// <summary>[mu2 | logvar2] per row of the last forward (capacity K, 2 Z2).</summary>
    public ArrayView<float> Posterior2 => _upOut[^1];

    /// <inheritdoc />
    public override int MaxRowFactor => _maxSamples;

    /// <inheritdoc />
    public override int ScratchWidth => _maxSamples *
        (2 * _up.Concat(_down).Sum(l => l.OutputWidth) + 3 * _z2 + _z1 + 6);

    /// <inheritdoc />
    public override int RowFactor(PassContext context) => context.Samples;

    /// <inheritdoc />
    public override int InputWidth => 2 * _z1;

    /// <inheritdoc />
    public override int OutputWidth => _z1;

    /// <inheritdoc />
    public override IReadOnlyList<ParameterSpec> Parameters => [.. _up.SelectMany(l => l.Parameters), .. _down.SelectMany(l => l.Parameters)];

    /// <inheritdoc />
    public override void Bind(LayerSlots slots)
    {
        int first = 0;
        foreach (var layer in _up.Concat(_down))
        {
            int count = layer.Parameters.Count;
            layer.Bind(new LayerSlots(slots.Slots.Skip(first).Take(count).ToArray(), slots.Parameters, slots.Gradients));
            first += count;
        }
    }

    /// <inheritdoc />
    public override void Allocate(Func<int, ArrayView<float>> rows)
    {
        AllocateSamples(rows, _maxSamples);
        ArrayView<float> Rows(int width) => rows(width * _maxSamples);
        _upOut = _up.Select(l => Rows(l.OutputWidth)).ToArray();
        _upGrad = _up.Select(l => Rows(l.OutputWidth)).ToArray();
        _downOut = _down.Select(l => Rows(l.OutputWidth)).ToArray();
        _downGrad = _down.Select(l => Rows(l.OutputWidth)).ToArray();
        _noise2 = Rows(_z2);
        _z2Sample = Rows(_z2);
        _dz2 = Rows(_z2);
        _ratio2 = Rows(1);
        _ratioWeights = Rows(1);
        _ones = Rows(1);
    }

    /// <summary>
    /// Draws K samples of z1 per image and of z2 per z1, and the log ratio per row; for the ELBO also the per-image
    /// sampled KL term <c>-mean_k log ratio</c> into <see cref="PosteriorSample.Kl"/> (summed into its loss slot) and
    /// the log ratio's gradient weights beta / K.
    /// </summary>
    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        int rows = context.Rows, samples = context.Samples;
        if (samples < 1 || samples > _maxSamples)
            throw new ArgumentOutOfRangeException(nameof(context), $"{samples} samples per image for a layer built for at most {_maxSamples}");
        int all = rows * samples;
        var ops = context.Ops;
        var z1 = y.SubView(0, (long)all * _z1);
        var ratio = LogRatio.SubView(0, all);
        ops.ImportanceSample(x.SubView(0, (long)rows * 2 * _z1), Noise.SubView(0, (long)all * _z1), z1, ratio, _z1,
            context.Noise, context.Seed, context.Step);
        context.Rows = all;
        try
        {
            var input = y;
            for (int i = 0; i < _up.Length; i++)
            {
                _up[i].Forward(context, input, _upOut[i], default);
                input = _upOut[i];
            }
            var z2 = _z2Sample.SubView(0, (long)all * _z2);
            ops.ImportanceSample(_upOut[^1].SubView(0, (long)all * 2 * _z2), _noise2.SubView(0, (long)all * _z2), z2,
                _ratio2.SubView(0, all), _z2, context.Noise, context.Seed ^ SecondLayerSalt, context.Step);
            DecodePrior(context);
            ops.PriorLogRatio(_downOut[^1].SubView(0, (long)all * 2 * _z1), z1, _ratio2.SubView(0, all), ratio, _z1);
        }
        finally
        {
            context.Rows = rows;
        }
        if (context.Objective.IsImportanceWeighted())
            return;
        // The ELBO: KL term per image -1/K sum_k logRatio[k B + b], one GEMM of the (K, B) ratios with ones.
        var ones = _ones.SubView(0, samples);
        ops.Fill(ones, 1f);
        ops.Gemm(true, false, rows, 1, samples, -1f / samples, ratio, rows, ones, 1, 0f, Kl.SubView(0, rows), 1);
        ops.Fill(_ratioWeights.SubView(0, all), context.KlWeight / samples);
        if (context.LossSlot >= 0 && LossTerm is int term)
            ops.SumInto(Kl.SubView(0, rows), context.LossTotals, context.LossSlot + term);
    }

    /// <summary>
    /// Runs p(z1|z2) on the first <see cref="PassContext.Rows"/> rows of <see cref="Z2"/>: [pmu | plv] into its output
    /// buffer, returned (rows, 2 Z1).
    /// </summary>
    /// <param name="context">The pass (its rows are z2's).</param>
    /// <returns>The conditional prior's statistics.</returns>
    public ArrayView<float> DecodePrior(PassContext context)
    {
        var input = _z2Sample;
        for (int i = 0; i < _down.Length; i++)
        {
            _down[i].Forward(context, input, _downOut[i], default);
            input = _downOut[i];
        }
        return _downOut[^1].SubView(0, (long)context.Rows * 2 * _z1);
    }

    /// <summary>
    /// Adds the log ratio's paths to dz1 (which holds the decoder's, weighted), runs the backward of p(z1|z2) and
    /// q(z2|z1), and assigns dL/d[mu1 | logvar1].
    /// </summary>
    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below)
    {
        int rows = context.Rows, all = rows * context.Samples;
        var ops = context.Ops;
        var weights = (context.Objective.IsImportanceWeighted() ? Weights : _ratioWeights).SubView(0, all);
        var z1 = y.SubView(0, (long)all * _z1);
        var dz1 = dy.SubView(0, (long)all * _z1);
        context.Rows = all;
        try
        {
            ops.PriorLogRatioBackward(_downOut[^1].SubView(0, (long)all * 2 * _z1), z1, weights,
                _downGrad[^1].SubView(0, (long)all * 2 * _z1), dz1, _z1);
            Chain(context, _down, _z2Sample, _downOut, _downGrad, _dz2);
            var z2 = _z2Sample.SubView(0, (long)all * _z2);
            ops.ImportanceSampleBackward(_upOut[^1].SubView(0, (long)all * 2 * _z2), _noise2.SubView(0, (long)all * _z2), z2,
                _dz2.SubView(0, (long)all * _z2), weights, _upGrad[^1].SubView(0, (long)all * 2 * _z2), _z2, SampleGradient.Weighted);
            // The first layer of q(z2|z1) adds its input gradient into dz1.
            Chain(context, _up, y, _upOut, _upGrad, dy);
        }
        finally
        {
            context.Rows = rows;
        }
        if (dx is { } dstats)
            ops.ImportanceSampleBackward(x.SubView(0, (long)rows * 2 * _z1), Noise.SubView(0, (long)all * _z1), z1, dz1, weights,
                dstats.SubView(0, (long)rows * 2 * _z1), _z1, SampleGradient.Weighted);
        return false;
    }

    // The backward of a chain of dense layers from its output's gradient to its input's (into dinput).
    private static void Chain(PassContext context, Linear[] layers, ArrayView<float> input, ArrayView<float>[] outputs,
        ArrayView<float>[] gradients, ArrayView<float> dinput)
    {
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            var x = i == 0 ? input : outputs[i - 1];
            var dx = i == 0 ? dinput : gradients[i - 1];
            var below = i == 0
                ? new InputActivation(Activation.Identity, default)
                : new InputActivation(layers[i - 1].Activation, outputs[i - 1]);
            layers[i].Backward(context, x, outputs[i], gradients[i], dx, layers[i].Inputs, below);
        }
    }
}
