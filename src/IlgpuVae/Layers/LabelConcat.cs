using ILGPU;

namespace IlgpuVae.Layers;

/// <summary>
/// Appends the one-hot label to every row: <c>y[r] = [x[r, :], onehot(labels[r])]</c>; x is (B, F), y is (B, F + C).
/// How a conditional model reads its label. The one-hot is constant, so dL/dx is the first F columns of dL/dy: the
/// layer above writes them straight into this layer's input gradient and this backward has nothing to do.
/// </summary>
internal sealed class LabelConcat(int features, int classes) : Layer
{
    /// <inheritdoc />
    public override int InputWidth => features;

    /// <inheritdoc />
    public override int OutputWidth => features + classes;

    /// <inheritdoc />
    public override int? InputGradientIsOutputPrefix => features;

    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx) =>
        context.Ops.OneHotConcat(x.SubView(0, (long)context.Rows * features), context.Labels.SubView(0, context.Rows),
            y.SubView(0, (long)context.Rows * (features + classes)), features, classes);

    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below) =>
        throw new InvalidOperationException("a label concatenation's input gradient is written by the layer above it");
}
