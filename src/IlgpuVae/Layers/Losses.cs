using ILGPU;

namespace IlgpuVae.Layers;

/// <summary>
/// A Bernoulli likelihood on logits: per sample the summed binary cross-entropy against the network's input
/// (the image it reconstructs), and <c>dlogits = scale (sigmoid(logits) - x)</c> (theory: docs/theory.md, "BCE").
/// In a multi-sample pass (K sample-major rows per image from <see cref="Posterior"/>) it computes each row's BCE
/// against its image, the per-image weights (1/K for the K-sample average, softmax of the log weights for the
/// importance-weighted bound), scales each row's gradient by its weight, and reports the per-image terms
/// (theory: docs/theory.md, "Importance-weighted bound").
/// </summary>
internal sealed class BernoulliLoss : Loss
{
    private ArrayView<float> _rowLoss;

    /// <summary>The Gaussian sample whose samples the decoder decoded, for multi-sample passes; null for none.</summary>
    public GaussianSample? Posterior { get; init; }

    /// <inheritdoc />
    public override void Allocate(Func<int, ArrayView<float>> rows)
    {
        base.Allocate(rows);
        // One BCE per sample row: K per image.
        _rowLoss = rows(Posterior?.MaxRowFactor ?? 1);
    }

    /// <inheritdoc />
    public override void Compute(PassContext context, ArrayView<float> output, ArrayView<float> doutput)
    {
        int rows = context.Rows;
        int width = (int)(context.Input.Length / PerSample.Length);
        if (context.MultiSample && Posterior is { } posterior)
        {
            int images = rows / context.Samples;
            long all = (long)rows * width;
            var ops = context.Ops;
            ops.BceWithLogits(output.SubView(0, all), context.Input.SubView(0, (long)images * width), _rowLoss.SubView(0, rows),
                doutput.SubView(0, all), 1f);
            bool importance = context.Objective == TrainingObjective.ImportanceWeighted;
            ops.ImportanceWeights(_rowLoss.SubView(0, rows), posterior.LogRatio.SubView(0, rows), posterior.Weights.SubView(0, rows),
                PerSample.SubView(0, images), posterior.Kl.SubView(0, images), importance);
            ops.ScaleRows(doutput.SubView(0, all), posterior.Weights.SubView(0, rows));
            if (context.LossSlot >= 0)
            {
                ops.SumInto(PerSample.SubView(0, images), context.LossTotals, context.LossSlot + LossTerm);
                if (importance && posterior.LossTerm is int rest)
                    ops.SumInto(posterior.Kl.SubView(0, images), context.LossTotals, context.LossSlot + rest);
            }
            return;
        }
        long size = (long)rows * width;
        context.Ops.BceWithLogits(output.SubView(0, size), context.Input.SubView(0, size), PerSample.SubView(0, rows),
            doutput.SubView(0, size), context.LossScale, context.LossTotals,
            context.LossSlot >= 0 ? context.LossSlot + LossTerm : -1);
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
