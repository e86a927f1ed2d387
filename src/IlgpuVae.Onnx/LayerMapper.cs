using IlgpuVae.Models;

namespace IlgpuVae.Onnx;

/// <summary>
/// One mapping per layer kind from the model's layers (<see cref="VaeModel.Layers"/>) to ONNX nodes. The exporter reads
/// only the core's public description of the layers and the tensors by name (<see cref="Model.Tensors"/>), never the
/// network itself; the description is read off the network the model runs, so the core's network builder stays the one
/// account of the architecture and the exporter does not rebuild it from the config. A new layer kind gets a case in
/// <see cref="Map"/>; until then a model that uses it is refused with a one-line <see cref="NotSupportedException"/>.
/// </summary>
/// <param name="tensors">The model's parameters by safetensors name.</param>
/// <param name="classes">C, the one-hot width of the label input.</param>
internal sealed class LayerMapper(IReadOnlyDictionary<string, (int[] Shape, float[] Values)> tensors, int classes)
{
    /// <summary>The name of the one-hot label input of a conditional model's graphs.</summary>
    public const string LabelInput = "label";

    /// <summary>The nodes for <paramref name="layer"/> reading <paramref name="x"/>.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="layer">The layer.</param>
    /// <param name="x">Its input value (N, in).</param>
    /// <returns>Its output value (N, out).</returns>
    public string Map(OnnxGraph graph, ModelLayer layer, string x) => layer.Kind switch
    {
        ModelLayerKind.Dense => LinearNodes(graph, layer, x),
        // Rows are NCHW images: reshape to (N, C, H, W), convolve, flatten back (both are views in a runtime).
        ModelLayerKind.Convolution => ConvNodes(graph, "Conv", layer, x),
        ModelLayerKind.TransposedConvolution => ConvNodes(graph, "ConvTranspose", layer, x),
        // [x | onehot]: the label is a graph input.
        ModelLayerKind.LabelConcat when classes > 0 => graph.Node("Concat", [x, LabelInput], OnnxGraph.Int("axis", 1)),
        // The Gaussian decoder's means pass through; its log-variance is the decoder's second output (ModelExport).
        ModelLayerKind.GaussianScale => x,
        _ => throw Unsupported(layer),
    };

    /// <summary>
    /// The sampling layer's part of an inference graph: its input [mu | logvar] split into the outputs "mu" and
    /// "logvar" (the sample itself is the caller's: the decoder takes z).
    /// </summary>
    /// <param name="graph">The encoder graph.</param>
    /// <param name="layer">The sampling layer.</param>
    /// <param name="stats">[mu | logvar] (N, 2Z).</param>
    public void PosteriorHeads(OnnxGraph graph, ModelLayer layer, string stats)
    {
        if (layer.Kind != ModelLayerKind.GaussianSample)
            throw Unsupported(layer);
        string split = graph.Int64Initializer("posterior_split", layer.Outputs, layer.Outputs);
        graph.Node("Split", [stats, split], ["mu", "logvar"], OnnxGraph.Int("axis", 1));
    }

    /// <summary>The index of the one sampling layer, where the encoder ends and the decoder begins.</summary>
    /// <param name="layers">The model's layers.</param>
    /// <returns>The index.</returns>
    public static int SampleIndex(IReadOnlyList<ModelLayer> layers)
    {
        var samples = Enumerable.Range(0, layers.Count).Where(i => layers[i].Kind == ModelLayerKind.GaussianSample).ToArray();
        if (samples.Length != 1)
            throw new NotSupportedException($"ONNX export needs exactly one Gaussian sampling layer, the model has {samples.Length}");
        // Check every layer before building anything, so an unsupported model fails before a file is written.
        foreach (var layer in layers)
            if (layer.Kind is not (ModelLayerKind.Dense or ModelLayerKind.Convolution or ModelLayerKind.TransposedConvolution
                or ModelLayerKind.LabelConcat or ModelLayerKind.GaussianSample or ModelLayerKind.GaussianScale))
                throw Unsupported(layer);
        return samples[0];
    }

    private string LinearNodes(OnnxGraph graph, ModelLayer layer, string x)
    {
        // The weight may be stacked from parts (mu and logvar): the declared tensors are all weights, then all biases.
        var names = layer.Parameters;
        int parts = names.Count / 2;
        string name = string.Join("_", names.Take(parts).Select(n => n[..n.LastIndexOf('.')]));
        float[] weight = [.. names.Take(parts).SelectMany(n => tensors[n].Values)];
        float[] bias = [.. names.Skip(parts).SelectMany(n => tensors[n].Values)];
        string w = graph.Initializer($"{name}.weight", [layer.Outputs, layer.Inputs], weight);
        string b = graph.Initializer($"{name}.bias", [layer.Outputs], bias);
        // y = x W^T + b, W stored [out, in] as in PyTorch.
        return Activation(graph, layer, graph.Node("Gemm", [x, w, b], OnnxGraph.Int("transB", 1)));
    }

    // ONNX's Conv takes PyTorch's [out, in, K, K] weight and ConvTranspose its [in, out, K, K] one, as stored.
    private string ConvNodes(OnnxGraph graph, string op, ModelLayer layer, string x)
    {
        var names = layer.Parameters;
        var (channels, height, width) = layer.InputImage!.Value;
        var (kernelHeight, kernelWidth, stride, padding) = layer.Convolution!.Value;
        string name = names[0][..names[0].LastIndexOf('.')];
        string w = graph.Initializer(names[0], [.. tensors[names[0]].Shape.Select(d => (long)d)], tensors[names[0]].Values);
        string b = graph.Initializer(names[1], [.. tensors[names[1]].Shape.Select(d => (long)d)], tensors[names[1]].Values);
        string image = graph.Node("Reshape", [x, graph.Int64Initializer($"{name}.input_shape", -1, channels, height, width)]);
        string y = graph.Node(op, [image, w, b],
            OnnxGraph.Ints("kernel_shape", kernelHeight, kernelWidth),
            OnnxGraph.Ints("strides", stride, stride),
            OnnxGraph.Ints("pads", padding, padding, padding, padding));
        return graph.Node("Flatten", [Activation(graph, layer, y)], OnnxGraph.Int("axis", 1));
    }

    private static string Activation(OnnxGraph graph, ModelLayer layer, string y) => layer.Activation switch
    {
        null => y,
        HiddenActivation.Relu => graph.Node("Relu", [y]),
        HiddenActivation.Tanh => graph.Node("Tanh", [y]),
        _ => throw new NotSupportedException($"ONNX export does not support the activation {layer.Activation}"),
    };

    private static NotSupportedException Unsupported(ModelLayer layer) =>
        new($"ONNX export does not support the layer kind {layer.Kind} yet (supported: Dense, Convolution, TransposedConvolution, LabelConcat, GaussianSample, GaussianScale)");
}
