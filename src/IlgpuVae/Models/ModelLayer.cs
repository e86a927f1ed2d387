using IlgpuVae.Kernels;
using IlgpuVae.Layers;

namespace IlgpuVae.Models;

/// <summary>What a <see cref="ModelLayer"/> computes on each row.</summary>
public enum ModelLayerKind
{
    /// <summary><c>y = f(x W^T + b)</c>, W stored [out, in] as PyTorch's nn.Linear.</summary>
    Dense,

    /// <summary>A 2-D convolution of the row read as an NCHW image, as PyTorch's nn.Conv2d: W [out, in, K, K], b [out].</summary>
    Convolution,

    /// <summary>A 2-D transposed convolution of the row read as an NCHW image, as PyTorch's nn.ConvTranspose2d (no
    /// output padding): W [in, out, K, K], b [out].</summary>
    TransposedConvolution,

    /// <summary><c>[x | one-hot label]</c>: a conditional model's label joins the row (C more columns).</summary>
    LabelConcat,

    /// <summary>
    /// The posterior: its input is <c>[mu | logvar]</c> (2Z), its output a sample <c>z = mu + eps exp(logvar / 2)</c> (Z).
    /// The encoder is the layers before it, the decoder the layers after it; a model has exactly one.
    /// </summary>
    GaussianSample,

    /// <summary>
    /// A Gaussian decoder's variance, after its output layer: the means pass through unchanged; its log-variance per
    /// dimension is the tensor <c>out_logvar</c> (D), or <c>2 log sigma</c> when the config fixes
    /// <see cref="VaeConfig.Sigma"/> (then the layer has no tensor).
    /// </summary>
    GaussianScale,
}

/// <summary>
/// One layer of a model as an exporter to another format (ONNX, PyTorch) needs it: what it computes, its widths, its
/// activation and the names of its tensors. <see cref="VaeModel.Layers"/> lists them in the order a forward pass runs
/// them; they are read off the network the model runs, so they are the model's architecture, not a second account
/// of it. A row is a flat vector; an image is one in NCHW order (flattening is no layer).
/// </summary>
/// <param name="Kind">What it computes.</param>
/// <param name="Inputs">Values per input row.</param>
/// <param name="Outputs">Values per output row.</param>
/// <param name="Activation">The activation applied to its output (dense and convolutional layers); null for none.</param>
/// <param name="Parameters">
/// Its tensors by their safetensors names (the keys of <see cref="Model.Tensors"/> and of PyTorch's state_dict): a
/// dense or convolutional layer's weights, then its biases. The posterior's layer is one dense layer whose rows are
/// mu's then logvar's: mu.weight, logvar.weight, mu.bias, logvar.bias. Empty for a layer without tensors.
/// </param>
public sealed record ModelLayer(ModelLayerKind Kind, int Inputs, int Outputs, HiddenActivation? Activation,
    IReadOnlyList<string> Parameters)
{
    /// <summary>For a (transposed) convolution, the image its input row holds; else null.</summary>
    public (int Channels, int Height, int Width)? InputImage { get; init; }

    /// <summary>For a (transposed) convolution, the image its output row holds; else null.</summary>
    public (int Channels, int Height, int Width)? OutputImage { get; init; }

    /// <summary>For a (transposed) convolution, its kernel's size, stride and padding (on each border); else null.</summary>
    public (int KernelHeight, int KernelWidth, int Stride, int Padding)? Convolution { get; init; }

    /// <summary>The description of one of the network's layers.</summary>
    /// <param name="layer">The layer.</param>
    /// <returns>Its description.</returns>
    /// <exception cref="NotSupportedException">A layer type the description does not know (none of a VAE's).</exception>
    internal static ModelLayer Of(Layer layer)
    {
        string[] names = [.. layer.Parameters.Select(p => p.Name)];
        return layer switch
        {
            Linear linear => new(ModelLayerKind.Dense, linear.Inputs, linear.Outputs, ActivationOf(linear.Activation), names),
            Conv2d conv => Convolutional(ModelLayerKind.Convolution, conv.Activation, names, conv.Shape, transposed: false),
            ConvTranspose2d deconv => Convolutional(ModelLayerKind.TransposedConvolution, deconv.Activation, names, deconv.Dual, transposed: true),
            LabelConcat => new(ModelLayerKind.LabelConcat, layer.InputWidth, layer.OutputWidth, null, names),
            GaussianSample => new(ModelLayerKind.GaussianSample, layer.InputWidth, layer.OutputWidth, null, names),
            GaussianScale => new(ModelLayerKind.GaussianScale, layer.InputWidth, layer.OutputWidth, null, names),
            _ => throw new NotSupportedException($"the layer type {layer.GetType().Name} has no description"),
        };
    }

    // A transposed convolution runs its dual (the direct convolution it transposes) backwards: its input is the
    // dual's output image and its output the dual's input image.
    private static ModelLayer Convolutional(ModelLayerKind kind, Activation activation, string[] names, ConvShape shape, bool transposed)
    {
        var input = (shape.InChannels, shape.InHeight, shape.InWidth);
        var output = (shape.OutChannels, shape.OutHeight, shape.OutWidth);
        if (transposed)
            (input, output) = (output, input);
        return new(kind, input.Item1 * input.Item2 * input.Item3, output.Item1 * output.Item2 * output.Item3,
            ActivationOf(activation), names)
        {
            InputImage = input,
            OutputImage = output,
            Convolution = (shape.KernelHeight, shape.KernelWidth, shape.Stride, shape.Padding),
        };
    }

    private static HiddenActivation? ActivationOf(Activation activation) => activation switch
    {
        Kernels.Activation.Identity => null,
        Kernels.Activation.Relu => HiddenActivation.Relu,
        Kernels.Activation.Tanh => HiddenActivation.Tanh,
        _ => throw new NotSupportedException($"the activation {activation} has no description"),
    };
}
