using IlgpuVae.Kernels;
using IlgpuVae.Layers;

namespace IlgpuVae.Onnx;

/// <summary>
/// One mapping per layer type from our layer graph to ONNX nodes. A new layer type gets a case in
/// <see cref="Map"/>; until then a model that uses it is refused with a one-line <see cref="NotSupportedException"/>.
/// </summary>
/// <param name="tensors">The model's parameters by safetensors name.</param>
/// <param name="classes">C, the one-hot width of the label input.</param>
internal sealed class LayerMapper(IReadOnlyDictionary<string, float[]> tensors, int classes)
{
    /// <summary>The name of the one-hot label input of a conditional model's graphs.</summary>
    public const string LabelInput = "label";

    /// <summary>The nodes for <paramref name="layer"/> reading <paramref name="x"/>.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="layer">The layer.</param>
    /// <param name="x">Its input value (N, in).</param>
    /// <returns>Its output value (N, out).</returns>
    public string Map(OnnxGraph graph, Layer layer, string x) => layer switch
    {
        Linear linear => LinearNodes(graph, linear, x),
        // Rows are NCHW images: reshape to (N, C, H, W), convolve, flatten back (both are views in a runtime).
        Conv2d conv => ConvNodes(graph, "Conv", conv.Parameters, conv.Activation, conv.Shape.InChannels, conv.Shape.InHeight,
            conv.Shape.InWidth, conv.Shape, x),
        ConvTranspose2d deconv => ConvNodes(graph, "ConvTranspose", deconv.Parameters, deconv.Activation, deconv.Dual.OutChannels,
            deconv.Dual.OutHeight, deconv.Dual.OutWidth, deconv.Dual, x),
        // [x | onehot]: the label is a graph input.
        LabelConcat when classes > 0 => graph.Node("Concat", [x, LabelInput], OnnxGraph.Int("axis", 1)),
        // The Gaussian decoder's means pass through; its log-variance is the decoder's second output (ModelExport).
        GaussianScale => x,
        _ => throw Unsupported(layer),
    };

    /// <summary>
    /// The sampling layer's part of an inference graph: its input [mu | logvar] split into the outputs "mu" and
    /// "logvar" (the sample itself is the caller's: the decoder takes z).
    /// </summary>
    /// <param name="graph">The encoder graph.</param>
    /// <param name="layer">The sampling layer.</param>
    /// <param name="stats">[mu | logvar] (N, 2Z).</param>
    public void PosteriorHeads(OnnxGraph graph, Layer layer, string stats)
    {
        if (layer is not GaussianSample sample)
            throw Unsupported(layer);
        string split = graph.Int64Initializer("posterior_split", sample.Latent, sample.Latent);
        graph.Node("Split", [stats, split], ["mu", "logvar"], OnnxGraph.Int("axis", 1));
    }

    /// <summary>The index of the one sampling layer, where the encoder ends and the decoder begins.</summary>
    /// <param name="layers">The network's layers.</param>
    /// <returns>The index.</returns>
    public int SampleIndex(IReadOnlyList<Layer> layers)
    {
        var samples = Enumerable.Range(0, layers.Count).Where(i => layers[i] is GaussianSample).ToArray();
        if (samples.Length != 1)
            throw new NotSupportedException($"ONNX export needs exactly one Gaussian sampling layer, the model has {samples.Length}");
        // Check every layer before building anything, so an unsupported model fails before a file is written.
        foreach (var layer in layers)
            if (layer is not (Layers.Linear or Layers.Conv2d or Layers.ConvTranspose2d or LabelConcat or GaussianSample or GaussianScale))
                throw Unsupported(layer);
        return samples[0];
    }

    private string LinearNodes(OnnxGraph graph, Linear linear, string x)
    {
        // The weight may be stacked from parts (mu and logvar): the declared tensors are all weights, then all biases.
        var specs = linear.Parameters;
        int parts = specs.Count / 2;
        string name = string.Join("_", specs.Take(parts).Select(s => s.Name[..s.Name.LastIndexOf('.')]));
        float[] weight = [.. specs.Take(parts).SelectMany(s => tensors[s.Name])];
        float[] bias = [.. specs.Skip(parts).SelectMany(s => tensors[s.Name])];
        string w = graph.Initializer($"{name}.weight", [linear.Outputs, linear.Inputs], weight);
        string b = graph.Initializer($"{name}.bias", [linear.Outputs], bias);
        // y = x W^T + b, W stored [out, in] as in PyTorch.
        string y = graph.Node("Gemm", [x, w, b], OnnxGraph.Int("transB", 1));
        return linear.Activation switch
        {
            Activation.Identity => y,
            Activation.Relu => graph.Node("Relu", [y]),
            Activation.Sigmoid => graph.Node("Sigmoid", [y]),
            Activation.Tanh => graph.Node("Tanh", [y]),
            _ => throw new NotSupportedException($"ONNX export does not support the activation {linear.Activation}"),
        };
    }

    // ONNX's Conv takes PyTorch's [out, in, K, K] weight and ConvTranspose its [in, out, K, K] one, as stored.
    private string ConvNodes(OnnxGraph graph, string op, IReadOnlyList<ParameterSpec> specs, Activation activation,
        int channels, int height, int width, ConvShape shape, string x)
    {
        string name = specs[0].Name[..specs[0].Name.LastIndexOf('.')];
        string w = graph.Initializer(specs[0].Name, [.. specs[0].Shape.Select(d => (long)d)], tensors[specs[0].Name]);
        string b = graph.Initializer(specs[1].Name, [.. specs[1].Shape.Select(d => (long)d)], tensors[specs[1].Name]);
        string image = graph.Node("Reshape", [x, graph.Int64Initializer($"{name}.input_shape", -1, channels, height, width)]);
        string y = graph.Node(op, [image, w, b],
            OnnxGraph.Ints("kernel_shape", shape.KernelHeight, shape.KernelWidth),
            OnnxGraph.Ints("strides", shape.Stride, shape.Stride),
            OnnxGraph.Ints("pads", shape.Padding, shape.Padding, shape.Padding, shape.Padding));
        y = activation switch
        {
            Activation.Identity => y,
            Activation.Relu => graph.Node("Relu", [y]),
            Activation.Sigmoid => graph.Node("Sigmoid", [y]),
            Activation.Tanh => graph.Node("Tanh", [y]),
            _ => throw new NotSupportedException($"ONNX export does not support the activation {activation}"),
        };
        return graph.Node("Flatten", [y], OnnxGraph.Int("axis", 1));
    }

    private static NotSupportedException Unsupported(Layer layer) =>
        new($"ONNX export does not support the layer type {layer.GetType().Name} yet (supported: Linear, Conv2d, ConvTranspose2d, LabelConcat, GaussianSample)");
}
