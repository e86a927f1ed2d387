using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Checkpoints;
using IlgpuVae.Data;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Models;

/// <summary>The convolutional VAE: its graph and names, its whole loss's gradient, its checkpoints and every library path.</summary>
[Collection(SharedDevices.Name)]
public sealed class ConvolutionalVaeTests
{
    // A 4x8 image: two stride-2 convolutions give 2x4 then 1x2.
    private static VaeConfig Small(int classes = 0, bool everyLayer = false, int imageChannels = 1) =>
        VaeConfig.Convolutional(latent: 2, channels: [2, 3], dense: [5], classes: classes, height: 4, width: 8, imageChannels: imageChannels)
            with { ConditionEveryLayer = everyLayer };

    [Fact]
    public void Default_IsTheIssuesModel_WithPyTorchNamesAndShapes()
    {
        var config = VaeConfig.Convolutional();
        Assert.Equal("conv-vae 1x28x28-c32-c64-400-20", config.ToString());
        var layout = VaeNetwork.LayoutOf(config);
        Assert.Equal(2_603_465, layout.Count);
        Assert.Equal(["encoder_conv.0.weight", "encoder_conv.0.bias", "encoder_conv.1.weight", "encoder_conv.1.bias",
            "encoder_dense.0.weight", "encoder_dense.0.bias", "mu.weight", "logvar.weight", "mu.bias", "logvar.bias",
            "decoder_dense.0.weight", "decoder_dense.0.bias", "decoder_dense.1.weight", "decoder_dense.1.bias",
            "decoder_conv.0.weight", "decoder_conv.0.bias", "decoder_conv.1.weight", "decoder_conv.1.bias"],
            layout.Slots.Select(s => s.Name).ToArray());
        Assert.Equal([32, 1, 4, 4], layout["encoder_conv.0.weight"].Shape);
        Assert.Equal([64, 32, 4, 4], layout["encoder_conv.1.weight"].Shape);
        Assert.Equal([400, 3136], layout["encoder_dense.0.weight"].Shape);
        Assert.Equal([3136, 400], layout["decoder_dense.1.weight"].Shape);
        Assert.Equal([64, 32, 4, 4], layout["decoder_conv.0.weight"].Shape);
        Assert.Equal([32, 1, 4, 4], layout["decoder_conv.1.weight"].Shape);
        Assert.Equal([1], layout["decoder_conv.1.bias"].Shape);
        var cvae = VaeNetwork.LayoutOf(VaeConfig.Convolutional(classes: 10));
        Assert.Equal([400, 3136 + 10], cvae["encoder_dense.0.weight"].Shape);
        Assert.Equal([400, 20 + 10], cvae["decoder_dense.0.weight"].Shape);
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(28, 27)]
    public void Config_ImageNotDivisibleByTheStrides_IsRejected(int height, int width)
    {
        var e = Assert.Throws<ArgumentException>(() => VaeConfig.Convolutional(height: height, width: width).Validate());
        Assert.Contains("divisible by 4", e.Message);
    }

    public static TheoryData<string, int, float, bool> LossCases() => new()
    {
        { "vectorized", 0, 1f, false }, { "kernels", 0, 0.5f, false },
        { "vectorized", 3, 1f, true }, { "kernels", 3, 2f, false },
    };

    [Theory]
    [MemberData(nameof(LossCases))]
    [OpenClData(nameof(LossCases))]
    public void WholeLoss_DeviceBackward_MatchesFiniteDifferences(string impl, int classes, float beta, bool everyLayer)
    {
        GradientCheckTests.CheckWholeLoss(impl, Small(classes, everyLayer), beta);
    }

    // Colour: three input channels into the first convolution, three out of the last transposed one.
    [Theory]
    [InlineData("vectorized", 0)]
    [InlineData("kernels", 3)]
    public void WholeLoss_ThreeImageChannels_MatchesFiniteDifferences(string impl, int classes)
    {
        var config = Small(classes, imageChannels: 3);
        Assert.Equal(3 * 4 * 8, config.InputSize);
        Assert.Equal([2, 3, 4, 4], VaeNetwork.LayoutOf(config)["encoder_conv.0.weight"].Shape);
        Assert.Equal([3], VaeNetwork.LayoutOf(config)["decoder_conv.1.bias"].Shape);
        GradientCheckTests.CheckWholeLoss(impl, config, 1f);
    }

    [Fact]
    public void Metadata_RoundTrips_AndNamesTheArchitecture()
    {
        var config = VaeConfig.Convolutional(latent: 8, channels: [16, 24, 8], dense: [300, 100], classes: 10, height: 32, width: 24)
            with { ConditionEveryLayer = true };
        var metadata = config.ToMetadata();
        Assert.Equal("conv-cvae", metadata["model"]);
        Assert.Equal("conv", metadata["architecture"]);
        Assert.Equal("16,24,8", metadata["channels"]);
        var back = VaeConfig.FromMetadata(metadata, "m");
        Assert.Equal(config.ToString(), back.ToString());
        Assert.Equal(config.Channels, back.Channels);
        Assert.Equal((32, 24), (back.ImageHeight, back.ImageWidth));
        Assert.Equal(VaeNetwork.LayoutOf(config).Slots.Select(s => (s.Name, string.Join(",", s.Shape))),
            VaeNetwork.LayoutOf(back).Slots.Select(s => (s.Name, string.Join(",", s.Shape))));
        Assert.DoesNotContain("architecture", VaeConfig.Default.ToMetadata().Keys);
        metadata["conv_stride"] = "3";
        Assert.Contains("conv_stride", Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(metadata, "m")).Message);
    }

    [Fact]
    public void RunConfig_RoundTripsTheArchitecture()
    {
        using var dir = new TempDirectory();
        var run = new RunDirectory(dir.Path);
        var config = VaeConfig.Convolutional(latent: 12, channels: [8, 16], classes: 10);
        run.WriteConfig(new TrainingOptions { Model = config });
        var back = run.ReadConfig().Model;
        Assert.Equal(config.ToString(), back.ToString());
        Assert.Equal(VaeArchitecture.Convolutional, back.Architecture);
    }

    [Theory]
    [InlineData("vectorized")]
    [InlineData("kernels")]
    [OpenClData]
    public void EveryLibraryPath_RunsOnAConvolutionalModel_AndSurvivesSaveLoad(string impl)
    {
        var config = VaeConfig.Convolutional(latent: 3, channels: [4, 6], dense: [16], height: 12, width: 8);
        var device = Device(impl);
        var random = new Random(5);
        const int count = 7;
        var pixels = new byte[count * config.InputSize];
        random.NextBytes(pixels);
        var set = new ImageSet(pixels, Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray(), 12, 8);
        using var dir = new TempDirectory();
        string path = dir.File("conv.safetensors");
        using var model = VaeModel.Create(device, config, seed: 2, capacity: 3);
        var images = set.Images.Select(b => b / 255f).ToArray();
        var reconstructed = model.Reconstruct(images).Values;
        Assert.Equal(images.Length, reconstructed.Length);
        Assert.All(reconstructed, v => Assert.InRange(v, 0f, 1f));
        var samples = model.Sample(5, seed: 4).Values;
        Assert.Equal(5 * config.InputSize, samples.Length);
        var means = model.LatentMeans(set);
        Assert.Equal(count * config.Latent, means.Length);
        // Batched differently (the data set's gathers against host uploads), so equal up to rounding.
        Close(model.Encode(images).Mu.Select(v => (double)v).ToArray(), means, 1e-5, 1e-3, "mu");
        var elbo = model.Evaluate(set, seed: 1);
        Assert.True(double.IsFinite(elbo.Loss) && elbo.Loss > 0, $"loss {elbo.Loss}");
        using (var data = new DeviceDataset(device, set))
        using (var estimator = new LikelihoodEstimator(model.Network, data))
        {
            var estimate = estimator.Estimate(4, seed: 1);
            Assert.True(double.IsFinite(estimate) && estimate < 0);
            Assert.True(-estimate <= elbo.Loss + 5, "the importance-weighted bound sits near or under the ELBO");
        }
        model.Save(path);
        Assert.Equal("conv-vae", SafeTensors.ReadHeader(path).Metadata["model"]);
        using var loaded = VaeModel.Load(device, path, capacity: 3);
        Assert.Equal(config.ToString(), loaded.Config.ToString());
        Assert.Equal(reconstructed, loaded.Reconstruct(images).Values);
        Assert.Equal(samples, loaded.Sample(5, seed: 4).Values);
    }
}
