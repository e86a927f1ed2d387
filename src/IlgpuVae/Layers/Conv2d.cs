using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Layers;

/// <summary>
/// A 2-D convolution with a fused activation over NCHW rows, like PyTorch's nn.Conv2d: x (B, C H W) -> y (B, O OH OW),
/// <c>y = f(conv(x, W) + b)</c> with W [O, C, K, K] and b [O]; square kernel, the same stride and zero padding on
/// both axes, <c>OH = (H + 2 padding - K) / stride + 1</c>. A row is one image's channels, rows and columns in
/// order, so flattening into a dense layer is no layer at all: the widths agree. Backward adds into the
/// gradients (theory: docs/theory.md, "Convolution").
/// </summary>
internal sealed class Conv2d : ConvolutionLayer
{
    private readonly ConvShape _shape;

    /// <summary>A layer whose tensors are named <c>{prefix}.weight</c> and <c>{prefix}.bias</c>.</summary>
    /// <param name="prefix">The tensor names' prefix, e.g. "encoder_conv.0".</param>
    /// <param name="inChannels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="outChannels">O.</param>
    /// <param name="kernel">K.</param>
    /// <param name="stride">The stride.</param>
    /// <param name="padding">The zero padding.</param>
    /// <param name="activation">f, fused into the bias add.</param>
    // nn.Conv2d's init: kaiming-uniform with a = sqrt(5) on the weight is U(+-1/sqrt(fan-in)), fan-in = C K K, and the
    // bias is drawn from the same bound.
    public Conv2d(string prefix, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding,
        Activation activation)
        : base(prefix, [outChannels, inChannels, kernel, kernel], outChannels, inChannels * kernel * kernel, activation)
    {
        _shape = ConvShape.Create(0, inChannels, height, width, outChannels, kernel, kernel, stride, padding);
        Validate(_shape);
    }

    /// <summary>The convolution over zero images.</summary>
    public ConvShape Shape => _shape;

    /// <inheritdoc />
    public override int InputWidth => _shape.InChannels * _shape.InHeight * _shape.InWidth;

    /// <inheritdoc />
    public override int OutputWidth => _shape.OutChannels * _shape.OutHeight * _shape.OutWidth;

    /// <summary><c>y = f(conv(x, W) + b)</c>; x is (B, C H W), y is (B, O OH OW).</summary>
    /// <inheritdoc />
    public override void Forward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx)
    {
        var shape = _shape.WithBatch(context.Rows);
        var output = y.SubView(0, shape.OutputLength);
        context.Ops.Conv2d(x.SubView(0, shape.InputLength), Weight, output, shape);
        context.Ops.ChannelBiasActivation(output, Bias, _shape.OutHeight * _shape.OutWidth, Activation);
    }

    /// <summary>
    /// dy (B, O OH OW) is dL/d(pre-activation) (the network took it through the activation); <c>db += sum over images and pixels of
    /// dy</c>, <c>dW += dy (*) x</c> (the weight gradient op), and dx is dy convolved back through W (the transposed
    /// convolution).
    /// </summary>
    /// <inheritdoc />
    public override bool Backward(PassContext context, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy,
        ArrayView<float>? dx, int dxColumns, InputActivation below)
    {
        var ops = context.Ops;
        var shape = _shape.WithBatch(context.Rows);
        var dyRows = dy.SubView(0, shape.OutputLength);
        ops.ChannelBiasGradient(dyRows, BiasGradient, _shape.OutHeight * _shape.OutWidth);
        var input = x.SubView(0, shape.InputLength);
        ops.Conv2dWeightGradient(input, dyRows, WeightGradient, shape);
        if (dx is { } gradient)
        {
            if (dxColumns != InputWidth)
                throw new InvalidOperationException("a convolution's input gradient covers whole images");
            ops.Conv2dTransposed(dyRows, Weight, gradient.SubView(0, shape.InputLength), shape);
        }
        // The network takes dx on through the activation below.
        return false;
    }

    /// <summary>Refuses a shape that is not a convolution (one-line message).</summary>
    /// <param name="shape">The shape.</param>
    internal static void Validate(ConvShape shape)
    {
        if (shape.InChannels <= 0 || shape.OutChannels <= 0 || shape.InHeight <= 0 || shape.InWidth <= 0)
            throw new ArgumentException($"convolution sizes must be positive: {shape}");
        if (shape.KernelHeight <= 0 || shape.Stride <= 0 || shape.Padding < 0)
            throw new ArgumentException($"kernel and stride must be positive and padding not negative: {shape}");
        if (shape.OutHeight <= 0 || shape.OutWidth <= 0)
            throw new ArgumentException($"a kernel of {shape.KernelHeight} does not fit a {shape.InHeight}x{shape.InWidth} image with padding {shape.Padding}");
    }
}
