using IlgpuVae.Models;
using IlgpuVae.Onnx;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;

namespace IlgpuVae.Tests.Onnx;

/// <summary>
/// The exporter writes opset 13 (IR 7), the lowest that holds its graphs, by default, and any opset up to 23 when
/// asked; each runs in ONNX Runtime and gives our outputs. Opsets it cannot write are refused in one line.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OnnxOpsetTests
{
    public static TheoryData<int> Opsets => [.. Enumerable.Range(ModelExport.MinimumOpset, ModelExport.MaximumOpset - ModelExport.MinimumOpset + 1)];

    /// <summary>Models that between them use every operator the exporter writes: Gemm, Relu, Tanh, Sigmoid, Conv,
    /// ConvTranspose, Reshape, Flatten, Concat, Split, Identity.</summary>
    internal static VaeConfig[] EveryOperator =>
    [
        new VaeConfig(784, [16], 2, 10) { ConditionEveryLayer = true, Activation = HiddenActivation.Tanh },
        VaeConfig.Convolutional(latent: 2, channels: [4], dense: [16], classes: 10) with { ConditionEveryLayer = true },
    ];

    [Fact]
    public void Default_IsOpset13AndIrVersion7()
    {
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), EveryOperator[1], seed: 3, capacity: 4);
        using var directory = new TempDirectory();

        var files = ModelExport.ToOnnx(model, directory.Path);

        Assert.Equal(13, ModelExport.Opset);
        foreach (string file in new[] { files.Encoder, files.Decoder })
        {
            var proto = IlgpuVae.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(file));
            Assert.Equal(13, proto.OpsetImport.Single().Version);
            Assert.Equal(7, proto.IrVersion);
        }
    }

    [Theory]
    [InlineData(13, 7)]
    [InlineData(14, 7)]
    [InlineData(15, 8)]
    [InlineData(17, 8)]
    [InlineData(18, 8)]
    [InlineData(19, 9)]
    [InlineData(21, 10)]
    [InlineData(23, 11)]
    public void IrVersion_IsThatOfTheOnnxReleaseOfTheOpset(int opset, int ir)
    {
        Assert.Equal(ir, ModelExport.IrVersionOf(opset));
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), new VaeConfig(784, [8], 2), seed: 3, capacity: 4);
        var (encoder, decoder) = ModelExport.Build(model, opset);
        Assert.All(new[] { encoder, decoder }, proto =>
        {
            Assert.Equal(ir, proto.IrVersion);
            Assert.Equal(opset, proto.OpsetImport.Single().Version);
        });
    }

    [Theory]
    [MemberData(nameof(Opsets))]
    public void EveryOpset_RunsInOnnxRuntime_AndGivesOurOutputs(int opset)
    {
        foreach (var config in EveryOperator)
        {
            using var model = VaeModel.Create(OpsHarness.Device("vectorized"), config, seed: 5, capacity: 16);
            using var directory = new TempDirectory();
            var files = ModelExport.ToOnnx(model, directory.Path, opset);

            const int count = 16;
            var random = new Random(opset);
            float[] images = [.. Enumerable.Range(0, count * 784).Select(_ => random.NextSingle())];
            int[] labels = [.. Enumerable.Range(0, count).Select(i => i % 10)];
            var (mu, logvar) = model.Encode(images, labels);
            using (var encoder = new InferenceSession(files.Encoder))
            {
                using var results = encoder.Run(
                [
                    NamedOnnxValue.CreateFromTensor("image", new DenseTensor<float>(images, [count, 784])),
                    NamedOnnxValue.CreateFromTensor("label", OneHot(labels)),
                ]);
                AssertClose($"mu at opset {opset}", mu, [.. results.Single(r => r.Name == "mu").AsEnumerable<float>()]);
                AssertClose($"logvar at opset {opset}", logvar, [.. results.Single(r => r.Name == "logvar").AsEnumerable<float>()]);
            }
            float[] codes = model.PriorSamples(count, seed: 2);
            float[] pixels = model.Decode(codes, labels).Values;
            using (var decoder = new InferenceSession(files.Decoder))
            {
                using var results = decoder.Run(
                [
                    NamedOnnxValue.CreateFromTensor("z", new DenseTensor<float>(codes, [count, 2])),
                    NamedOnnxValue.CreateFromTensor("label", OneHot(labels)),
                ]);
                AssertClose($"pixels at opset {opset}", pixels, [.. results.Single().AsEnumerable<float>()]);
            }
        }
    }

    [Theory]
    [InlineData(12, "cannot hold the exported graphs: they need opset 13 or later")]
    [InlineData(7, "cannot hold the exported graphs: they need opset 13 or later")]
    [InlineData(24, "is newer than the exporter knows; it writes opsets 13 to 23")]
    public void OpsetOutsideTheRange_IsRefusedInOneLine_AndNothingIsWritten(int opset, string fragment)
    {
        using var model = VaeModel.Create(OpsHarness.Device("vectorized"), new VaeConfig(784, [8], 2), seed: 3, capacity: 4);
        using var directory = new TempDirectory();
        string target = directory.File("onnx");

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelExport.ToOnnx(model, target, opset));

        Assert.Contains(fragment, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(target));
    }

    private static DenseTensor<float> OneHot(int[] labels)
    {
        var tensor = new DenseTensor<float>([labels.Length, 10]);
        for (int i = 0; i < labels.Length; i++)
            tensor[i, labels[i]] = 1f;
        return tensor;
    }

    // As OnnxExportTests: relative to each value, floored at the tensor's root-mean-square.
    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double floor = Math.Sqrt(expected.Average(v => (double)v * v));
        for (int i = 0; i < expected.Length; i++)
        {
            double relative = Math.Abs(expected[i] - (double)actual[i]) / Math.Max(Math.Abs(expected[i]), floor);
            Assert.True(relative <= 1e-5, $"{what}[{i}]: ours {expected[i]:R}, ONNX Runtime {actual[i]:R}, relative error {relative:E2}");
        }
    }
}
