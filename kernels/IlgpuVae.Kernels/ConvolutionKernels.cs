using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// The shape of one 2-D convolution over NCHW tensors, always described in the direct direction:
/// x (B, C, H, W) -> y (B, O, OH, OW) with weight [O, C, KH, KW] (PyTorch's nn.Conv2d layout), the same stride and
/// zero padding along both axes, <c>OH = (H + 2 pad - KH) / stride + 1</c> (and OW likewise). A transposed
/// convolution is the transpose of such a convolution: nn.ConvTranspose2d's [in, out, KH, KW] weight is this
/// shape's [O, C, KH, KW] with its input playing y and its output playing x.
/// </summary>
internal struct ConvShape
{
    /// <summary>B: images.</summary>
    public int Batch;
    /// <summary>C: channels of x.</summary>
    public int InChannels;
    /// <summary>H: rows of x.</summary>
    public int InHeight;
    /// <summary>W: columns of x.</summary>
    public int InWidth;
    /// <summary>O: channels of y.</summary>
    public int OutChannels;
    /// <summary>OH: rows of y.</summary>
    public int OutHeight;
    /// <summary>OW: columns of y.</summary>
    public int OutWidth;
    /// <summary>KH: kernel rows.</summary>
    public int KernelHeight;
    /// <summary>KW: kernel columns.</summary>
    public int KernelWidth;
    /// <summary>The step between neighbouring outputs' windows, on both axes.</summary>
    public int Stride;
    /// <summary>Zeros added on every side of x.</summary>
    public int Padding;

    /// <summary>The shape of a convolution of x (B, C, H, W) by [O, C, KH, KW]; OH and OW follow.</summary>
    public static ConvShape Create(int batch, int inChannels, int inHeight, int inWidth, int outChannels,
        int kernelHeight, int kernelWidth, int stride, int padding) => new()
    {
        Batch = batch, InChannels = inChannels, InHeight = inHeight, InWidth = inWidth, OutChannels = outChannels,
        KernelHeight = kernelHeight, KernelWidth = kernelWidth, Stride = stride, Padding = padding,
        OutHeight = stride > 0 ? (inHeight + 2 * padding - kernelHeight) / stride + 1 : 0,
        OutWidth = stride > 0 ? (inWidth + 2 * padding - kernelWidth) / stride + 1 : 0,
    };

    /// <summary>The same convolution over another number of images.</summary>
    public readonly ConvShape WithBatch(int batch)
    {
        var shape = this;
        shape.Batch = batch;
        return shape;
    }

    /// <summary>Elements of x: B C H W.</summary>
    public readonly long InputLength => (long)Batch * InChannels * InHeight * InWidth;

    /// <summary>Elements of y: B O OH OW.</summary>
    public readonly long OutputLength => (long)Batch * OutChannels * OutHeight * OutWidth;

    /// <summary>Elements of the weight: O C KH KW.</summary>
    public readonly long WeightLength => (long)OutChannels * InChannels * KernelHeight * KernelWidth;

    /// <summary>Multiply-adds of one pass over the batch (forward, input gradient or weight gradient alike).</summary>
    public readonly long MultiplyAdds => (long)Batch * OutChannels * OutHeight * OutWidth * InChannels * KernelHeight * KernelWidth;

    /// <inheritdoc />
    public override readonly string ToString() =>
        $"{Batch}x{InChannels}x{InHeight}x{InWidth} -> {OutChannels}x{OutHeight}x{OutWidth} k{KernelHeight}x{KernelWidth} s{Stride} p{Padding}";
}

/// <summary>
/// Direct 2-D convolution over NCHW tensors, its input gradient (which is also the transposed convolution's
/// forward) and its weight gradient, plus the per-channel bias (theory: docs/theory.md, "Convolution").
/// Grid-stride: thread <c>index</c> computes outputs index, index + stride, ...; consecutive threads take
/// consecutive output columns, so on a GPU a warp's loads of x and stores of y coalesce.
/// Notation: y[b, o, u, v] = sum_{c, i, j} w[o, c, i, j] x[b, c, u S - P + i, v S - P + j], x zero outside.
/// </summary>
internal static class ConvolutionKernels
{
    /// <summary>
    /// Forward: <c>y[b, o, u, v] = sum_{c, i, j} w[o, c, i, j] x[b, c, u S - P + i, v S - P + j]</c> (assigned).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The input (B, C, H, W).</param>
    /// <param name="w">The weight [O, C, KH, KW].</param>
    /// <param name="y">The output (B, O, OH, OW).</param>
    /// <param name="s">The shape.</param>
    public static void Conv2dKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> w,
        ArrayView<float> y, ConvShape s)
    {
        int total = s.Batch * s.OutChannels * s.OutHeight * s.OutWidth;
        int kernelArea = s.KernelHeight * s.KernelWidth;
        for (int e = index; e < total; e += stride)
        {
            int v = e % s.OutWidth;
            int t = e / s.OutWidth;
            int u = t % s.OutHeight;
            t /= s.OutHeight;
            int o = t % s.OutChannels;
            int b = t / s.OutChannels;
            int top = u * s.Stride - s.Padding, left = v * s.Stride - s.Padding;
            float acc = 0f;
            for (int c = 0; c < s.InChannels; c++)
            {
                int plane = (b * s.InChannels + c) * s.InHeight;
                int filter = (o * s.InChannels + c) * kernelArea;
                for (int i = 0; i < s.KernelHeight; i++)
                {
                    int h = top + i;
                    if (h < 0 || h >= s.InHeight)
                        continue;
                    for (int j = 0; j < s.KernelWidth; j++)
                    {
                        int col = left + j;
                        if (col >= 0 && col < s.InWidth)
                            acc += w[filter + i * s.KernelWidth + j] * x[(plane + h) * s.InWidth + col];
                    }
                }
            }
            y[e] = acc;
        }
    }

    /// <summary>
    /// The transposed convolution, <c>x[b, c, h, q] = sum_{o, i, j} w[o, c, i, j] y[b, o, u, v]</c> over the (u, v)
    /// with <c>u S - P + i = h</c> and <c>v S - P + j = q</c> (assigned): the convolution's input gradient (y = dL/dy
    /// gives dL/dx) and nn.ConvTranspose2d's forward (y its input, x its output). Gathered per output element, so
    /// no two threads write one element.
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="y">The input of the transposed convolution (B, O, OH, OW).</param>
    /// <param name="w">The weight [O, C, KH, KW].</param>
    /// <param name="x">The output (B, C, H, W).</param>
    /// <param name="s">The shape of the direct convolution.</param>
    public static void Conv2dTransposedKernel(Index1D index, int stride, ArrayView<float> y, ArrayView<float> w,
        ArrayView<float> x, ConvShape s)
    {
        int total = s.Batch * s.InChannels * s.InHeight * s.InWidth;
        int kernelArea = s.KernelHeight * s.KernelWidth;
        for (int e = index; e < total; e += stride)
        {
            int q = e % s.InWidth;
            int t = e / s.InWidth;
            int h = t % s.InHeight;
            t /= s.InHeight;
            int c = t % s.InChannels;
            int b = t / s.InChannels;
            float acc = 0f;
            for (int i = 0; i < s.KernelHeight; i++)
            {
                int rowOffset = h + s.Padding - i;
                if (rowOffset < 0 || rowOffset % s.Stride != 0)
                    continue;
                int u = rowOffset / s.Stride;
                if (u >= s.OutHeight)
                    continue;
                for (int j = 0; j < s.KernelWidth; j++)
                {
                    int colOffset = q + s.Padding - j;
                    if (colOffset < 0 || colOffset % s.Stride != 0)
                        continue;
                    int v = colOffset / s.Stride;
                    if (v >= s.OutWidth)
                        continue;
                    for (int o = 0; o < s.OutChannels; o++)
                        acc += w[(o * s.InChannels + c) * kernelArea + i * s.KernelWidth + j]
                            * y[((b * s.OutChannels + o) * s.OutHeight + u) * s.OutWidth + v];
                }
            }
            x[e] = acc;
        }
    }

    /// <summary>
    /// Weight gradient, accumulated: <c>dw[o, c, i, j] += sum_{b, u, v} dy[b, o, u, v] x[b, c, u S - P + i, v S - P + j]</c>.
    /// One thread per weight, the sum in a fixed order (deterministic).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The forward's input (B, C, H, W).</param>
    /// <param name="dy">The output gradient (B, O, OH, OW).</param>
    /// <param name="dw">The weight gradient [O, C, KH, KW], added to.</param>
    /// <param name="s">The shape.</param>
    public static void Conv2dWeightGradientKernel(Index1D index, int stride, ArrayView<float> x, ArrayView<float> dy,
        ArrayView<float> dw, ConvShape s)
    {
        int total = s.OutChannels * s.InChannels * s.KernelHeight * s.KernelWidth;
        for (int e = index; e < total; e += stride)
        {
            int j = e % s.KernelWidth;
            int t = e / s.KernelWidth;
            int i = t % s.KernelHeight;
            t /= s.KernelHeight;
            int c = t % s.InChannels;
            int o = t / s.InChannels;
            float acc = 0f;
            for (int b = 0; b < s.Batch; b++)
            {
                int plane = (b * s.InChannels + c) * s.InHeight;
                int outPlane = (b * s.OutChannels + o) * s.OutHeight;
                for (int u = 0; u < s.OutHeight; u++)
                {
                    int h = u * s.Stride - s.Padding + i;
                    if (h < 0 || h >= s.InHeight)
                        continue;
                    for (int v = 0; v < s.OutWidth; v++)
                    {
                        int col = v * s.Stride - s.Padding + j;
                        if (col >= 0 && col < s.InWidth)
                            acc += dy[(outPlane + u) * s.OutWidth + v] * x[(plane + h) * s.InWidth + col];
                    }
                }
            }
            dw[e] += acc;
        }
    }

    /// <summary>Per-channel bias and activation, in place: <c>x[b, c, p] = f(x[b, c, p] + bias[c])</c>.</summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="x">The pre-activations (B, C, spatial), overwritten by the activations.</param>
    /// <param name="bias">The bias (C).</param>
    /// <param name="spatial">Elements per channel plane (height x width).</param>
    /// <param name="activation">The <see cref="Activation"/> as an int.</param>
    public static void ChannelBiasActivationKernel(Index1D index, int stride, ArrayView<float> x,
        ArrayView<float> bias, int spatial, int activation)
    {
        int channels = bias.IntLength;
        for (int e = index; e < x.IntLength; e += stride)
            x[e] = ElementwiseKernels.Apply(x[e] + bias[e / spatial % channels], activation);
    }

    /// <summary>
    /// Per-channel bias gradient, accumulated: <c>dbias[c] += sum_{b, p} dy[b, c, p]</c>. One thread per channel,
    /// summed in order (deterministic).
    /// </summary>
    /// <param name="index">The thread index.</param>
    /// <param name="stride">The launch extent.</param>
    /// <param name="dy">The output gradient (B, C, spatial).</param>
    /// <param name="dbias">The bias gradient (C), added to.</param>
    /// <param name="spatial">Elements per channel plane.</param>
    /// <param name="batch">B.</param>
    public static void ChannelBiasGradientKernel(Index1D index, int stride, ArrayView<float> dy,
        ArrayView<float> dbias, int spatial, int batch)
    {
        int channels = dbias.IntLength;
        for (int c = index; c < channels; c += stride)
        {
            float acc = 0f;
            for (int b = 0; b < batch; b++)
            {
                int start = (b * channels + c) * spatial;
                for (int p = 0; p < spatial; p++)
                    acc += dy[start + p];
            }
            dbias[c] += acc;
        }
    }
}
