using ILGPU;

namespace IlgpuVae.Layers;

/// <summary>
/// A Bernoulli likelihood on logits: per sample the summed binary cross-entropy against the network's input
/// (the image it reconstructs), and <c>dlogits = scale (sigmoid(logits) - x)</c> (theory: docs/theory.md, "BCE").
/// </summary>
internal sealed class BernoulliLoss : Loss
{
    /// <inheritdoc />
    public override void Compute(PassContext context, ArrayView<float> output, ArrayView<float> doutput)
    {
        int rows = context.Rows;
        long size = rows * (output.Length / PerSample.Length);
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
