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
/// dimension "N", opset <see cref="Opset"/>, the model's config in the metadata. The graphs are built by walking the
/// model's layers, one mapping per layer type; a model with a layer type that has no mapping is refused with
/// <see cref="NotSupportedException"/> before anything is written.
/// </summary>
public static class ModelExport
{
    /// <summary>The ONNX operator set the graphs import (ONNX 1.18).</summary>
    public const int Opset = 23;

    /// <summary>The ONNX IR version of the files (ONNX 1.18).</summary>
    public const int IrVersion = 11;

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
    public static OnnxFiles ToOnnx(VaeModel model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var (encoder, decoder) = Build(model);
        // The id: a digest of both files without it, the same for the same model, different for any other.
        string id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            [.. encoder.ToByteArray(), .. decoder.ToByteArray()]))[..32];
        foreach (var proto in new[] { encoder, decoder })
            proto.MetadataProps.Add(new StringStringEntryProto { Key = ExportIdKey, Value = id });
        // The target is a directory that exists or can be made: a regular file, /dev/null or a file under /proc is
        // none, and .NET's own words for it ("The file ... already exists", "Could not find file") do not say so.
        if (RegularFile.Kind(directory) is string kind && kind != "a directory")
            throw new IOException($"{directory}: not a directory ({kind}); export writes {EncoderFileName} and {DecoderFileName} into a directory; nothing exported");
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
        string current = files.Encoder;
        string? backup = null;
        try
        {
            using var encoderFile = AtomicFile.Create(files.Encoder);
            encoderFile.Stream.Write(encoder.ToByteArray());
            current = files.Decoder;
            using var decoderFile = AtomicFile.Create(files.Decoder);
            decoderFile.Stream.Write(decoder.ToByteArray());
            // Both are complete (a full disk has shown by now). Keep the old encoder until the decoder is in place.
            if (File.Exists(files.Encoder))
            {
                backup = encoderFile.TempPath + ".previous";
                File.Copy(files.Encoder, backup);
            }
            current = files.Encoder;
            encoderFile.Commit();
            current = files.Decoder;
            try
            {
                decoderFile.Commit();
            }
            catch when (File.Exists(decoderFile.TempPath))
            {
                // The decoder did not take its place: put the old encoder back (or none, as before).
                if (backup is not null)
                    File.Move(backup, files.Encoder, overwrite: true);
                else
                    File.Delete(files.Encoder);
                backup = null;
                throw;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{current}: not exported: {e.Message.TrimEnd('.', ' ')}; the previous export, if any, is unchanged", e);
        }
        finally
        {
            if (backup is not null)
                File.Delete(backup);
        }
        return files;
    }

    /// <summary>The two models in memory.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The encoder and the decoder.</returns>
    internal static (ModelProto Encoder, ModelProto Decoder) Build(VaeModel model)
    {
        var config = model.Config;
        var network = model.Graph;
        var tensors = network.Export(network.Parameters).ToDictionary(t => t.Name, t => t.Data);
        var mapper = new LayerMapper(tensors, config.Classes);
        int sample = mapper.SampleIndex(network.Layers);

        var encoder = new OnnxGraph("encoder");
        string x = encoder.Input("image", config.InputSize, "pixels in [0, 1], row-major 28 x 28");
        if (config.IsConditional)
            encoder.Input(LayerMapper.LabelInput, config.Classes, "the one-hot digit");
        for (int i = 0; i < sample; i++)
            x = mapper.Map(encoder, network.Layers[i], x);
        mapper.PosteriorHeads(encoder, network.Layers[sample], x);
        encoder.Proto.Output.Clear();
        encoder.Output("mu", "mu", config.Latent, "the posterior's mean");
        encoder.Output("logvar", "logvar", config.Latent, "the posterior's log-variance");

        var decoder = new OnnxGraph("decoder");
        x = decoder.Input("z", config.Latent, "latent codes");
        if (config.IsConditional)
            decoder.Input(LayerMapper.LabelInput, config.Classes, "the one-hot digit");
        for (int i = sample + 1; i < network.Layers.Count; i++)
            x = mapper.Map(decoder, network.Layers[i], x);
        // The network ends in logits under a Bernoulli loss; the file gives the probabilities, as VaeModel.Decode does.
        decoder.Output("pixels", decoder.Node("Sigmoid", [x]), config.InputSize, "pixel probabilities in [0, 1]");

        return (Model(encoder, config, "encoder"), Model(decoder, config, "decoder"));
    }

    private static ModelProto Model(OnnxGraph graph, VaeConfig config, string part)
    {
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ilgpu-vae",
            ProducerVersion = typeof(ModelExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            Domain = "ilgpu-vae",
            DocString = $"The {part} of an IlgpuVae {config}",
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in config.ToMetadata().Append(new("part", part)))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }
}
