using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Onnx;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Onnx;

/// <summary>
/// The exported files run in ONNX Runtime, an implementation independent of ours, and give our device's outputs on
/// 1,000 MNIST test images and 1,000 prior codes for every model kind.
/// </summary>
[Collection(SharedDevices.Name)]
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    private const int Count = 1000;

    // Relative to each value, floored at the tensor's root-mean-square: float32 sums of 784 products in another order
    // differ by a few ulps of the terms, which is large relative to an output that happens to cancel to ~0 (a mean of
    // 1e-5 among means of 0.1), so the unfloored relative error of such a value says nothing about the export.
    private const double Tolerance = 1e-5;

    private static readonly string[] KindNames = ["vae", "cvae-first-layer", "cvae-every-layer", "conv-vae", "conv-cvae",
        "vae-continuous-bernoulli", "vae-gaussian", "conv-vae-gaussian-sigma"];

    public static TheoryData<string> Kinds => [.. KindNames];

    private static VaeConfig ConfigOf(string kind) => kind switch
    {
        "vae" => new VaeConfig(784, [256, 64], 8),
        "cvae-first-layer" => new VaeConfig(784, [256, 64], 8, 10),
        "cvae-every-layer" => new VaeConfig(784, [256, 64], 8, 10) { ConditionEveryLayer = true },
        "conv-vae" => VaeConfig.Convolutional(latent: 8, channels: [8, 16], dense: [64]),
        "conv-cvae" => VaeConfig.Convolutional(latent: 8, channels: [8, 16], dense: [64], classes: 10) with { ConditionEveryLayer = true },
        "vae-continuous-bernoulli" => new VaeConfig(784, [256, 64], 8) { Likelihood = DecoderLikelihood.ContinuousBernoulli },
        "vae-gaussian" => new VaeConfig(784, [256, 64], 8) { Likelihood = DecoderLikelihood.Gaussian },
        "conv-vae-gaussian-sigma" => VaeConfig.Convolutional(latent: 8, channels: [8, 16], dense: [64])
            with { Likelihood = DecoderLikelihood.Gaussian, Sigma = 0.1f },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [MnistTheory]
    [MemberData(nameof(Kinds))]
    public void Export_EveryModelKind_OnnxRuntimeMatchesOurOutputs(string kind) => ExportAndCompare(kind, DeviceChoice.Cpu);

    [CudaMnistFact]
    public void Cuda_Export_EveryModelKind_OnnxRuntimeMatchesOurOutputs()
    {
        foreach (string kind in KindNames)
            ExportAndCompare(kind, DeviceChoice.Cuda);
    }

    // A model trained on OpenCL (a few steps, so the weights are the device's own) exports what that device computes.
    [IlgpuVae.Tests.Training.OpenClMnistTheory]
    [MemberData(nameof(Kinds))]
    public void OpenCl_Export_TrainedModelOfEveryKind_OnnxRuntimeMatchesOurOutputs(string kind)
    {
        Kind = $"{kind} trained on OpenCL";
        var data = ImageData.Load(TestData.MnistDirectory!, trainLimit: 300, testLimit: 100);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 100, Model = ConfigOf(kind), Seed = 7 };
        using var trainer = new VaeTrainer(OpsHarness.Device("opencl"), data, options);
        Assert.Null(trainer.Train().Divergence);
        Compare(trainer.Model);
    }

    // Trained checkpoints of every kind (784-16-2), saturated pixels and all, beside the untrained models above.
    [MnistTheory]
    [InlineData("v1-vae-784-16-2.safetensors")]
    [InlineData("v1-cvae-784+10-16-2.safetensors")]
    [InlineData("v1-cvae-every-layer-784+10-16-2.safetensors")]
    public void Export_TrainedCheckpoint_OnnxRuntimeMatchesOurOutputs(string file)
    {
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Load(device, Path.Combine(AppContext.BaseDirectory, "Fixtures", file));
        Kind = file;
        Compare(model);
    }

    // Colour: the image is 3 x 8 x 8 values in NCHW order, read by the first convolution as three channels.
    [Fact]
    public void Export_ColourConvVae_OnnxRuntimeMatchesOurOutputs()
    {
        Kind = "colour conv-vae";
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        var config = VaeConfig.Convolutional(latent: 4, channels: [4, 8], dense: [16], height: 8, width: 8, imageChannels: 3);
        using var model = VaeModel.Create(device, config, seed: 11);
        var random = new Random(3);
        float[] images = [.. Enumerable.Range(0, 20 * config.InputSize).Select(_ => (float)random.NextDouble())];
        using var directory = new TempDirectory();
        var files = ModelExport.ToOnnx(model, directory.Path);
        var (mu, _) = model.Encode(images);
        using (var encoder = new InferenceSession(files.Encoder))
        {
            using var results = encoder.Run([NamedOnnxValue.CreateFromTensor("image", Tensor(images, config.InputSize))]);
            AssertClose("mu", mu, results.Single(r => r.Name == "mu").AsEnumerable<float>().ToArray());
        }
        float[] codes = model.PriorSamples(20, seed: 5);
        float[] pixels = model.Decode(codes).Values;
        using (var decoder = new InferenceSession(files.Decoder))
        {
            using var results = decoder.Run([NamedOnnxValue.CreateFromTensor("z", Tensor(codes, config.Latent))]);
            var exported = results.Single().AsEnumerable<float>().ToArray();
            Assert.Equal(20 * 3 * 8 * 8, exported.Length);
            AssertClose("pixels", pixels, exported);
        }
    }

    private void ExportAndCompare(string kind, DeviceChoice choice)
    {
        Kind = $"{kind} on {choice}";
        using var device = ComputeDevice.Open(choice);
        using var model = VaeModel.Create(device, ConfigOf(kind), seed: 11);
        if (model.Config.Likelihood != DecoderLikelihood.Bernoulli)
        {
            // Weights 4 times the initialisation's: logits and log-variances far from 0, so that every branch of the
            // continuous Bernoulli's mean (series, closed form, clamp) and a log-variance that is not ~0 are exercised.
            var network = model.Graph;
            var parameters = new float[network.Layout.Count];
            network.Parameters.SubView(0, parameters.Length).CopyToCPU(parameters);
            network.Parameters.SubView(0, parameters.Length).CopyFromCPU(parameters.Select(p => 4 * p).ToArray());
        }
        Compare(model);
    }

    private void Compare(VaeModel model)
    {
        var config = model.Config;
        var test = ImageData.Load(TestData.MnistDirectory!, trainLimit: 1, testLimit: Count).Test;
        float[] images = test.Gather([.. Enumerable.Range(0, Count)]).Values;
        int[]? labels = config.IsConditional ? [.. test.Labels.Select(l => (int)l)] : null;
        using var directory = new TempDirectory();

        var files = ModelExport.ToOnnx(model, directory.Path);

        var (mu, logvar) = model.Encode(images, labels);
        using (var encoder = new InferenceSession(files.Encoder))
        {
            var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("image", Tensor(images, 784)) };
            if (labels is not null)
                inputs.Add(NamedOnnxValue.CreateFromTensor("label", OneHot(labels, config.Classes)));
            using var results = encoder.Run(inputs);
            AssertClose("mu", mu, results.Single(r => r.Name == "mu").AsEnumerable<float>().ToArray());
            AssertClose("logvar", logvar, results.Single(r => r.Name == "logvar").AsEnumerable<float>().ToArray());
        }

        float[] codes = model.PriorSamples(Count, seed: 5);
        int[]? digits = config.IsConditional ? [.. Enumerable.Range(0, Count).Select(i => i % config.Classes)] : null;
        float[] pixels = model.Decode(codes, digits).Values;
        using (var decoder = new InferenceSession(files.Decoder))
        {
            var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor("z", Tensor(codes, config.Latent)) };
            if (digits is not null)
                inputs.Add(NamedOnnxValue.CreateFromTensor("label", OneHot(digits, config.Classes)));
            using var results = decoder.Run(inputs);
            AssertClose("pixels", pixels, results.Single(r => r.Name == "pixels").AsEnumerable<float>().ToArray());
            if (config.Likelihood == DecoderLikelihood.Gaussian)
            {
                var network = model.Graph;
                var expected = config.Sigma is float sigma
                    ? Enumerable.Repeat(2 * MathF.Log(sigma), 784).ToArray()
                    : network.Export(network.Parameters).Single(t => t.Name == "out_logvar").Data;
                var rows = results.Single(r => r.Name == "logvar").AsEnumerable<float>().ToArray();
                AssertClose("logvar", [.. Enumerable.Range(0, Count).SelectMany(_ => expected)], rows);
            }
            Assert.Equal(config.Likelihood switch
            {
                DecoderLikelihood.Bernoulli => ["pixels"],
                DecoderLikelihood.ContinuousBernoulli => ["pixels", "logits"],
                _ => new[] { "pixels", "logvar" },
            }, results.Select(r => r.Name).ToArray());
        }
    }

    [Fact]
    public void Export_WritesFloat32DynamicBatchCurrentOpsetAndTheConfig()
    {
        var config = new VaeConfig(784, [32], 2, 10) { ConditionEveryLayer = true };
        using var device = ComputeDevice.Open(DeviceChoice.Cpu);
        using var model = VaeModel.Create(device, config, seed: 3, capacity: 8);
        using var directory = new TempDirectory();

        var files = ModelExport.ToOnnx(model, directory.Path);

        using var decoder = new InferenceSession(files.Decoder);
        Assert.Equal(["z", "label"], decoder.InputMetadata.Keys);
        Assert.Equal([-1, 2], decoder.InputMetadata["z"].Dimensions);
        Assert.Equal("N", decoder.InputMetadata["z"].SymbolicDimensions[0]);
        Assert.Equal(typeof(float), decoder.InputMetadata["z"].ElementType);
        Assert.Equal([-1, 784], decoder.OutputMetadata["pixels"].Dimensions);
        var metadata = decoder.ModelMetadata.CustomMetadataMap;
        Assert.Equal("cvae", metadata["model"]);
        Assert.Equal("every-layer", metadata["decoder_conditioning"]);
        Assert.Equal("2", metadata["latent"]);
        Assert.Equal("decoder", metadata["part"]);
        Assert.Equal("ilgpu-vae", decoder.ModelMetadata.ProducerName);
        using var encoder = new InferenceSession(files.Encoder);
        Assert.Equal(["image", "label"], encoder.InputMetadata.Keys);
        Assert.Equal(["mu", "logvar"], encoder.OutputMetadata.Keys);
        var (proto, _) = ModelExport.Build(model);
        Assert.Equal(ModelExport.Opset, proto.OpsetImport.Single().Version);
    }

    [Fact]
    public void Export_UnknownLayerKind_IsRefusedInOneLine()
    {
        // A layer kind the exporter has no mapping for (one the core may add later) is refused before anything is built.
        ModelLayer[] layers = [new(ModelLayerKind.Dense, 4, 4, HiddenActivation.Relu, ["encoder.0.weight", "encoder.0.bias"]),
            new((ModelLayerKind)99, 4, 4, null, []), new(ModelLayerKind.GaussianSample, 4, 2, null, [])];

        var e = Assert.Throws<NotSupportedException>(() => LayerMapper.SampleIndex(layers));

        Assert.Equal("ONNX export does not support the layer kind 99 yet (supported: Dense, Convolution, TransposedConvolution, LabelConcat, GaussianSample, GaussianScale)", e.Message);
    }

    [Fact]
    public void LayerDescription_OfAnUnknownLayerType_IsRefusedInOneLine()
    {
        var e = Assert.Throws<NotSupportedException>(() => ModelLayer.Of(new UnknownLayer()));

        Assert.Equal("the layer type UnknownLayer has no description", e.Message);
    }

    private string Kind { get; set; } = "";

    private void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double floor = Math.Sqrt(expected.Average(v => (double)v * v));
        double worst = 0, worstPlain = 0;
        // Index 0 when every value agrees exactly (a Gaussian's means pass through unchanged): the message reads it.
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double difference = Math.Abs(expected[i] - (double)actual[i]);
            double relative = difference / Math.Max(Math.Abs(expected[i]), floor);
            worstPlain = Math.Max(worstPlain, difference / Math.Max(Math.Abs(expected[i]), 1e-30));
            if (relative > worst)
            {
                worst = relative;
                at = i;
            }
        }
        output.WriteLine($"{what} ({Kind}): worst relative error {worst:E2} (unfloored {worstPlain:E2}), root-mean-square {floor:G4}");
        Assert.True(worst <= Tolerance, $"{what}[{at}]: ours {expected[at]:R}, ONNX Runtime {actual[at]:R}, relative error {worst:E2}");
    }

    private static DenseTensor<float> Tensor(float[] values, int width) => new(values, [values.Length / width, width]);

    private static DenseTensor<float> OneHot(int[] labels, int classes)
    {
        var tensor = new DenseTensor<float>([labels.Length, classes]);
        for (int i = 0; i < labels.Length; i++)
            tensor[i, labels[i]] = 1f;
        return tensor;
    }

    private sealed class UnknownLayer : Layer
    {
        public override int InputWidth => 4;

        public override int OutputWidth => 4;

        public override void Forward(PassContext context, ILGPU.ArrayView<float> x, ILGPU.ArrayView<float> y, ILGPU.ArrayView<float> dx)
        {
        }

        public override bool Backward(PassContext context, ILGPU.ArrayView<float> x, ILGPU.ArrayView<float> y,
            ILGPU.ArrayView<float> dy, ILGPU.ArrayView<float>? dx, int dxColumns, InputActivation below) => false;
    }
}

/// <summary>A fact that needs a CUDA device and MNIST; skipped, visibly, without either.</summary>
public sealed class CudaMnistFactAttribute : FactAttribute
{
    public CudaMnistFactAttribute()
    {
        if (!OpsHarness.CudaAvailable)
            Skip = "no CUDA device on this machine";
        else if (TestData.MnistDirectory is null)
            Skip = "MNIST is not available";
    }
}
