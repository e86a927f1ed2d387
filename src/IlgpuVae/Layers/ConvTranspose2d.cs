using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// A 2-D transposed convolution with a fused activation over NCHW rows, like PyTorch's nn.ConvTranspose2d (no
/// output padding): x (B, Cin H W) -> y (B, Cout OH OW) with <c>OH = (H - 1) stride - 2 padding + K</c>, W stored
/// [Cin, Cout, K, K] and b [Cout]. It is the transpose of the convolution y -> x by the same W read as [O = Cin,
/// C = Cout, K, K]: its forward is that convolution's input gradient, its input gradient that convolution's forward,
/// and its weight gradient that convolution's weight gradient with the roles of input and output gradient swapped
/// (theory: docs/theory.md, "Transposed convolution").
/// </summary>
internal sealed class ConvTranspose2d : ConvolutionLayer
{
    // The direct convolution this layer transposes: its x is this layer's output, its y this layer's input.
    private readonly ConvShape _dual;

    /// <summary>A layer whose tensors are named <c>{prefix}.weight</c> and <c>{prefix}.bias</c>.</summary>
    /// <param name="prefix">The tensor names' prefix, e.g. "decoder_conv.0".</param>
    /// <param name="inChannels">Cin.</param>
    /// <param name="height">H of the input.</param>
    /// <param name="width">W of the input.</param>
    /// <param name="outChannels">Cout.</param>
    /// <param name="kernel">K.</param>
    /// <param name="stride">The stride.</param>
    /// <param name="padding">The padding (trimmed from the output's borders).</param>
    /// <param name="activation">f, fused into the bias add.</param>
    // PyTorch computes the fan-in of the [Cin, Cout, K, K] weight from its second dimension: Cout K K.
    public ConvTranspose2d(string prefix, int inChannels, int height, int width, int outChannels, int kernel, int stride,
        int padding, Activation activation)
        : base(prefix, [inChannels, outChannels, kernel, kernel], outChannels, outChannels * kernel * kernel, activation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        int outHeight = (height - 1) * stride - 2 * padding + kernel, outWidth = (width - 1) * stride - 2 * padding + kernel;
        if (outHeight <= 0 || outWidth <= 0)
            throw new ArgumentException($"a transposed convolution of a {height}x{width} input by kernel {kernel}, stride {stride}, padding {padding} has no output");
        _dual = ConvShape.Create(0, outChannels, outHeight, outWidth, inChannels, kernel, kernel, stride, padding);
        Conv2d.Validate(_dual);
        if (_dual.OutHeight != height || _dual.OutWidth != width)
            throw new ArgumentException($"a transposed convolution of {height}x{width} does not invert to its input size");
    }

    /// <summary>The direct convolution this layer transposes (over zero images).</summary>
    public ConvShape Dual => _dual;

    /// <inheritdoc />
    public override int InputWidth => _dual.OutChannels * _dual.OutHeight * _dual.OutWidth;

    /// <inheritdoc />
    public override int OutputWidth => _dual.InChannels * _dual.InHeight * _dual.InWidth;

    /// <summary><c>y = f(conv^T(x, W) + b)</c>; x is (B, Cin H W), y is (B, Cout OH OW).</summary>
    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        var dual = _dual.WithBatch(context.Rows);
        var output = y.SubView(0, dual.InputLength);
        context.Ops.Conv2dTransposed(x.SubView(0, dual.OutputLength), Weight, output, dual);
        context.Ops.ChannelBiasActivation(output, Bias, _dual.InHeight * _dual.InWidth, Activation);
    }

    /// <summary>
    /// dy (B, Cout OH OW) is dL/d(pre-activation) (the network took it through the activation); <c>db += sum of dy per channel</c>,
    /// <c>dW += </c> the dual convolution's weight gradient with dy as its input and x as its output gradient, and
    /// <c>dx = conv(dy, W)</c>.
    /// </summary>
    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below)
    {
        var ops = context.Ops;
        var dual = _dual.WithBatch(context.Rows);
        var dyRows = dy.SubView(0, dual.InputLength);
        ops.ChannelBiasGradient(dyRows, BiasGradient, _dual.InHeight * _dual.InWidth);
        ops.Conv2dWeightGradient(dyRows, x.SubView(0, dual.OutputLength), WeightGradient, dual);
        if (dx is { } gradient)
        {
            if (dxColumns != InputWidth)
                throw new InvalidOperationException("a transposed convolution's input gradient covers whole images");
            ops.Conv2d(dyRows, Weight, gradient.SubView(0, dual.OutputLength), dual);
        }
        // The network takes dx on through the activation below.
        return false;
    }
}
