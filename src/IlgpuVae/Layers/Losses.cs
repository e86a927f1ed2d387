using ILGPU;

namespace IlgpuVae.Layers;

/// <summary>
/// The decoder's likelihood (theory: docs/theory.md, "The decoder's likelihood"): per sample the summed negative log
/// density of the network's input (the image or vector it reconstructs) under the decoder's output, and its gradient.
/// Bernoulli: BCE on logits, <c>dlogits = scale (sigmoid(logits) - x)</c>. Continuous Bernoulli: the BCE minus the log
/// normaliser. Gaussian: the output is the mean, the log-variance <see cref="Scale"/>'s.
/// In a multi-sample pass (K sample-major rows per image from <see cref="Posterior"/>) it computes each row's loss
/// against its image, the per-image weights (1/K for the K-sample average, softmax of the log weights for the
/// importance-weighted bound), scales each row's gradient by its weight, and reports the per-image terms
/// (theory: docs/theory.md, "Importance-weighted bound").
/// </summary>
internal sealed class LikelihoodLoss : Loss
{
    private ArrayView<float> _rowLoss;

    /// <summary>The decoder's distribution.</summary>
    public DecoderLikelihood Likelihood { get; init; }

    /// <summary>A Gaussian decoder's scale layer (the network's last); null for the others.</summary>
    public GaussianScale? Scale { get; init; }

    /// <summary>The Gaussian sample whose samples the decoder decoded, for multi-sample passes; null for none.</summary>
    public PosteriorSample? Posterior { get; init; }

    /// <inheritdoc />
    public override void Allocate(Func<int, ArrayView<float>> rows)
    {
        base.Allocate(rows);
        // One loss per sample row: K per image.
        _rowLoss = rows(Posterior?.MaxRowFactor ?? 1);
    }

    /// <inheritdoc />
    public override void Compute(PassContext context, ArrayView<float> output, ArrayView<float> doutput)
    {
        int rows = context.Rows;
        int width = (int)(context.Input.Length / PerSample.Length);
        var ops = context.Ops;
        if (context.MultiSample && Posterior is { } posterior)
        {
            int images = rows / context.Samples;
            long all = (long)rows * width;
            RowLosses(ops, output.SubView(0, all), context.Input.SubView(0, (long)images * width), _rowLoss.SubView(0, rows),
                doutput.SubView(0, all), 1f);
            bool importance = context.Objective.IsImportanceWeighted();
            ops.ImportanceWeights(_rowLoss.SubView(0, rows), posterior.LogRatio.SubView(0, rows), posterior.Weights.SubView(0, rows),
                PerSample.SubView(0, images), posterior.Kl.SubView(0, images), importance);
            ops.ScaleRows(doutput.SubView(0, all), posterior.Weights.SubView(0, rows));
            if (Scale is { } scale)
                ops.ScaleRows(scale.ElementGradient.SubView(0, all), posterior.Weights.SubView(0, rows));
            if (context.LossSlot >= 0)
            {
                ops.SumInto(PerSample.SubView(0, images), context.LossTotals, context.LossSlot + LossTerm);
                if (importance && posterior.LossTerm is int rest)
                    ops.SumInto(posterior.Kl.SubView(0, images), context.LossTotals, context.LossSlot + rest);
            }
            return;
        }
        long size = (long)rows * width;
        int slot = context.LossSlot >= 0 ? context.LossSlot + LossTerm : -1;
        if (Likelihood == DecoderLikelihood.Bernoulli)
        {
            // The batch sum fused into the same launch.
            ops.BceWithLogits(output.SubView(0, size), context.Input.SubView(0, size), PerSample.SubView(0, rows),
                doutput.SubView(0, size), context.LossScale, context.LossTotals, slot);
            return;
        }
        RowLosses(ops, output.SubView(0, size), context.Input.SubView(0, size), PerSample.SubView(0, rows),
            doutput.SubView(0, size), context.LossScale);
        if (slot >= 0)
            ops.SumInto(PerSample.SubView(0, rows), context.LossTotals, slot);
    }

    // Each row's negative log density against target row (row mod targets' rows), and its gradient times scale.
    private void RowLosses(Compute.IOps ops, ArrayView<float> output, ArrayView<float> targets, ArrayView<float> loss,
        ArrayView<float> doutput, float scale)
    {
        switch (Likelihood)
        {
            case DecoderLikelihood.ContinuousBernoulli:
                ops.ContinuousBernoulliWithLogits(output, targets, loss, doutput, scale);
                break;
            case DecoderLikelihood.Gaussian:
                var head = Scale ?? throw new InvalidOperationException("a Gaussian likelihood needs its scale layer");
                ops.GaussianNll(output, head.LogVariance, targets, loss, doutput, head.ElementGradient.SubView(0, output.Length), scale);
                break;
            default:
                ops.BceWithLogits(output, targets, loss, doutput, scale);
                break;
        }
    }
}

/// <summary>
/// Softmax cross-entropy of logits against the labels: per sample <c>-log softmax(logits)[label]</c> and
/// <c>dlogits = scale (softmax - onehot)</c>.
/// </summary>
internal sealed class SoftmaxCrossEntropyLoss : Loss
{
    /// <inheritdoc />
    public override void Compute(PassContext context, ArrayView<float> output, ArrayView<float> doutput)
    {
        int rows = context.Rows;
        long size = rows * (output.Length / PerSample.Length);
        context.Ops.SoftmaxCrossEntropy(output.SubView(0, size), context.Labels.SubView(0, rows),
            PerSample.SubView(0, rows), doutput.SubView(0, size), context.LossScale);
    }
}
