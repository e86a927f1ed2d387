using System.Reflection;
using Google.Protobuf;
using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Onnx.Proto;

namespace IlgpuVae.Onnx;

/// <summary>The two files an ONNX export writes.</summary>
/// <param name="Encoder">encoder.onnx: "image" (N, D) pixels in [0, 1] (and "label" (N, C) one-hot for a CVAE) to
/// "mu" and "logvar" (N, Z).</param>
/// <param name="Decoder">decoder.onnx: "z" (N, Z) (and "label" (N, C) one-hot for a CVAE) to "pixels" (N, D),
/// the Bernoulli means in [0, 1].</param>
public sealed record OnnxFiles(string Encoder, string Decoder);

/// <summary>
/// Exports a trained model to ONNX for ONNX Runtime (ML.NET, onnxruntime-web, mobile): float32, a dynamic batch
/// dimension "N", opset <see cref="Opset"/> (the lowest that holds the graphs) unless another is asked for, the
/// model's config in the metadata. The graphs are built by walking the model's layers, one mapping per layer type; a
/// model with a layer type that has no mapping is refused with <see cref="NotSupportedException"/> before anything is
/// written.
/// </summary>
public static class ModelExport
{
    /// <summary>
    /// The ONNX operator set the graphs import by default: <see cref="MinimumOpset"/>, the lowest that holds every
    /// operator the exporter writes (ONNX 1.8, 2020; ONNX Runtime 1.6 and later read it).
    /// </summary>
    public const int Opset = MinimumOpset;

    /// <summary>
    /// The lowest operator set that holds the graphs: 13, where Split takes its sizes as an input. The other operators
    /// (Gemm, Relu, Sigmoid, Tanh, Conv, ConvTranspose, Reshape, Flatten, Concat, Identity) have the semantics we use
    /// since opset 11 or earlier.
    /// </summary>
    public const int MinimumOpset = 13;

    /// <summary>The newest operator set the exporter knows (ONNX 1.18): none of its operators changed meaning between
    /// <see cref="MinimumOpset"/> and this one.</summary>
    public const int MaximumOpset = 23;

    /// <summary>The ONNX IR version of the files (ONNX 1.8's, that of the default <see cref="Opset"/>).</summary>
    public const int IrVersion = 7;

    /// <summary>The IR version of the ONNX release that introduced <paramref name="opset"/>: what a file importing it
    /// declares, so that a checker as old as that opset accepts it.</summary>
    /// <param name="opset">An opset from <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</param>
    /// <returns>The IR version: 7 for opsets 13 and 14, 8 for 15 to 18, 9 for 19 and 20, 10 for 21 and 22, 11 for 23.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The opset is outside the range the exporter writes; one line.</exception>
    public static int IrVersionOf(int opset)
    {
        CheckOpset(opset);
        return opset switch
        {
            <= 14 => 7,
            <= 18 => 8,
            <= 20 => 9,
            <= 22 => 10,
            _ => 11,
        };
    }

    /// <summary>The encoder's file name.</summary>
    public const string EncoderFileName = "encoder.onnx";

    /// <summary>The decoder's file name.</summary>
    public const string DecoderFileName = "decoder.onnx";

    /// <summary>The metadata key both files carry with the same value, a digest of the pair: a loader that finds the
    /// two values differ holds files of two different exports.</summary>
    public const string ExportIdKey = "export_id";

    /// <summary>
    /// Writes <see cref="EncoderFileName"/> and <see cref="DecoderFileName"/> into <paramref name="directory"/> (created
    /// if missing), all or nothing: both are written and flushed in full before either replaces its target, and if the
    /// second cannot take its place the first is put back, so a failed export (disk full, a target that is a directory)
    /// leaves the previous pair as it was; a target that is not a directory and cannot become one is refused first. Both carry <see cref="ExportIdKey"/>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="directory">Where to write.</param>
    /// <returns>The two paths.</returns>
    /// <exception cref="NotSupportedException">The model has a layer type the exporter cannot map; one line.</exception>
    /// <exception cref="IOException">The pair could not be written; one line naming the file; nothing changed.</exception>
    public static OnnxFiles ToOnnx(VaeModel model, string directory) => ToOnnx(model, directory, Opset);

    /// <summary>
    /// As <see cref="ToOnnx(VaeModel, string)"/>, importing the ONNX operator set <paramref name="opset"/> (with the
    /// IR version of <see cref="IrVersionOf"/>): a newer one for a runtime that wants it; the default,
    /// <see cref="Opset"/>, is the lowest that holds the graphs and is read by the most runtimes and checkers.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="directory">Where to write.</param>
    /// <param name="opset">From <see cref="MinimumOpset"/> to <see cref="MaximumOpset"/>.</param>
    /// <returns>The two paths.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The opset cannot hold the graphs or is newer than the exporter
    /// knows; one line; nothing written.</exception>
    /// <exception cref="NotSupportedException">The model has a layer type the exporter cannot map; one line.</exception>
    /// <exception cref="IOException">The pair could not be written; one line naming the file; nothing changed.</exception>
    public static OnnxFiles ToOnnx(VaeModel model, string directory, int opset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        CheckOpset(opset);
        if (model.Config.IsTwoLayer)
            throw new NotSupportedException("ONNX export is built for one stochastic layer; a model with two (--preset burda2) is not exported");
        var (encoder, decoder) = Build(model, opset);
        // The id: a digest of both files without it, the same for the same model, different for any other.
        string id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            [.. encoder.ToByteArray(), .. decoder.ToByteArray()]))[..32];
        foreach (var proto in new[] { encoder, decoder })
            proto.MetadataProps.Add(new StringStringEntryProto { Key = ExportIdKey, Value = id });
        // The target is a directory that exists or can be made: a regular file, /dev/null or a file under /proc is
        // none, and .NET's own words for it ("The file ... already exists", "Could not find file") do not say so.
        if (File.Exists(directory))
            throw new IOException($"{directory}: not a directory; export writes {EncoderFileName} and {DecoderFileName} into a directory; nothing exported");
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{directory}: cannot create the export directory ({e.Message.TrimEnd('.', ' ')}); nothing exported", e);
        }
        var files = new OnnxFiles(Path.GetFullPath(Path.Combine(directory, EncoderFileName)),
            Path.GetFullPath(Path.Combine(directory, DecoderFileName)));
        foreach (string target in new[] { files.Encoder, files.Decoder })
            if (Directory.Exists(target))
                throw new IOException($"{target}: is a directory; nothing exported");
        try
        {
            // All or nothing (the core's one way to write files): both are written and flushed in full before either
            // replaces its target, and if the decoder cannot take its place the old encoder is put back.
            RegularFile.WriteAtomically([files.Encoder, files.Decoder],
                (i, stream) => stream.Write((i == 0 ? encoder : decoder).ToByteArray()));
        }
        catch (IOException e)
        {
            throw new IOException($"{e.Message.TrimEnd('.', ' ')}; not exported: the previous export, if any, is unchanged", e);
        }
        return files;
    }

    /// <summary>The two models in memory.</summary>
    /// <param name="model">The model.</param>
    /// <param name="opset">The operator set to import.</param>
    /// <returns>The encoder and the decoder.</returns>
    internal static (ModelProto Encoder, ModelProto Decoder) Build(VaeModel model, int opset = Opset)
    {
        CheckOpset(opset);
        var config = model.Config;
        // The core's public description of the layers and the tensors by name: the exporter sees the model as any app
        // does (no InternalsVisibleTo), and the architecture has one account, the core's network builder.
        var layers = model.Layers;
        var tensors = model.Tensors().ToDictionary(t => t.Name, t => (t.Shape, t.Values));
        var mapper = new LayerMapper(tensors, config.Classes);
        int sample = LayerMapper.SampleIndex(layers);

        var encoder = new OnnxGraph("encoder");
        string x = encoder.Input("image", config.InputSize, config.ImageChannels == 1 ? "pixels in [0, 1], row-major 28 x 28"
            : $"values in [0, 1]: {config.ImageChannels} x {config.ImageHeight} x {config.ImageWidth} (NCHW), flattened");
        if (config.IsConditional)
            encoder.Input(LayerMapper.LabelInput, config.Classes, "the one-hot digit");
        for (int i = 0; i < sample; i++)
            x = mapper.Map(encoder, layers[i], x);
        mapper.PosteriorHeads(encoder, layers[sample], x);
        encoder.Proto.Output.Clear();
        encoder.Output("mu", "mu", config.Latent, "the posterior's mean");
        encoder.Output("logvar", "logvar", config.Latent, "the posterior's log-variance");

        var decoder = new OnnxGraph("decoder");
        x = decoder.Input("z", config.Latent, "latent codes");
        if (config.IsConditional)
            decoder.Input(LayerMapper.LabelInput, config.Classes, "the one-hot digit");
        for (int i = sample + 1; i < layers.Count; i++)
            x = mapper.Map(decoder, layers[i], x);
        // "pixels" is the decoder distribution's mean, as VaeModel.Decode gives it; the rest of its parameters follow.
        switch (config.Likelihood)
        {
            case DecoderLikelihood.ContinuousBernoulli:
                decoder.Output("pixels", ContinuousBernoulliMean(decoder, x), config.InputSize,
                    "the continuous Bernoulli's mean, in [0, 1]");
                decoder.Output("logits", x, config.InputSize, "the continuous Bernoulli's logits: lambda = sigmoid(logits)");
                break;
            case DecoderLikelihood.Gaussian:
                var values = config.Sigma is float sigma
                    ? Enumerable.Repeat(2 * MathF.Log(sigma), config.InputSize).ToArray()
                    : tensors["out_logvar"].Values;
                string logVariance = decoder.Initializer("out_logvar", [config.InputSize], values);
                decoder.Output("pixels", x, config.InputSize, "the Gaussian's mean (data scaled to [0, 1])");
                decoder.Output("logvar", decoder.Node("Expand", [logVariance, decoder.Node("Shape", [x])]), config.InputSize,
                    "the Gaussian's log-variance per dimension (the same for every row)");
                break;
            default:
                decoder.Output("pixels", decoder.Node("Sigmoid", [x]), config.InputSize, "pixel probabilities in [0, 1]");
                break;
        }

        return (Model(encoder, config, "encoder", opset), Model(decoder, config, "decoder", opset));
    }

    /// <summary>
    /// The continuous Bernoulli's mean of logits l, as the core's kernel computes it: l clipped to
    /// <see cref="VaeConfig.ContinuousBernoulliLogitLimit"/>, then <c>1 / (1 - exp(-l)) - 1 / l</c>, or its series where |l| &lt; 1 (Where picks
    /// the series at l = 0, where the closed form is 0/0).
    /// </summary>
    private static string ContinuousBernoulliMean(OnnxGraph graph, string logits)
    {
        string Scalar(string name, float value) => graph.Initializer(name, [], [value]);
        string l = graph.Node("Clip", [logits, Scalar("cb_min", -VaeConfig.ContinuousBernoulliLogitLimit), Scalar("cb_max", VaeConfig.ContinuousBernoulliLogitLimit)]);
        string one = Scalar("cb_one", 1f);
        string closed = graph.Node("Sub", [
            graph.Node("Reciprocal", [graph.Node("Sub", [one, graph.Node("Exp", [graph.Node("Neg", [l])])])]),
            graph.Node("Reciprocal", [l])]);
        string l2 = graph.Node("Mul", [l, l]);
        // 1/2 + l (1/12 + l2 (-1/720 + l2 (1/30240 - l2 / 1209600))), innermost first.
        string series = graph.Node("Sub", [Scalar("cb_c7", 1f / 30240f), graph.Node("Mul", [l2, Scalar("cb_c9", 1f / 1209600f)])]);
        series = graph.Node("Add", [Scalar("cb_c5", -1f / 720f), graph.Node("Mul", [l2, series])]);
        series = graph.Node("Add", [Scalar("cb_c3", 1f / 12f), graph.Node("Mul", [l2, series])]);
        series = graph.Node("Add", [Scalar("cb_half", 0.5f), graph.Node("Mul", [l, series])]);
        string near = graph.Node("Less", [graph.Node("Abs", [l]), one]);
        return graph.Node("Where", [near, series, closed]);
    }

    /// <summary>The one-line refusal of an opset the exporter cannot write.</summary>
    /// <param name="opset">The opset asked for.</param>
    /// <returns>Null when <paramref name="opset"/> is one the exporter writes, else why not.</returns>
    public static string? OpsetProblem(int opset) => opset switch
    {
        < MinimumOpset => $"ONNX opset {opset} cannot hold the exported graphs: they need opset {MinimumOpset} or later (Split with its sizes as an input); the exporter writes opsets {MinimumOpset} to {MaximumOpset}",
        > MaximumOpset => $"ONNX opset {opset} is newer than the exporter knows; it writes opsets {MinimumOpset} to {MaximumOpset}",
        _ => null,
    };

    private static void CheckOpset(int opset)
    {
        if (OpsetProblem(opset) is string problem)
            throw new ArgumentOutOfRangeException(nameof(opset), problem);
    }

    private static ModelProto Model(OnnxGraph graph, VaeConfig config, string part, int opset)
    {
        var proto = new ModelProto
        {
            IrVersion = IrVersionOf(opset),
            ProducerName = "ilgpu-vae",
            ProducerVersion = typeof(ModelExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Domain = "ilgpu-vae",
            DocString = $"The {part} of an IlgpuVae {config}",
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        foreach (var (key, value) in config.ToMetadata().Append(new("part", part)))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }
}
