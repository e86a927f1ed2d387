using IlgpuVae.Data;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;

namespace IlgpuVae.Tests.Models;

/// <summary>
/// Checkpoints written by version 1 (the hand-wired networks, before the layer graph), committed under Fixtures/:
/// 784-16-2 models trained one epoch on 256 images. They must load unchanged, and their test loss must be what
/// version 1's `evaluate --iw-samples 0 --no-clustering` printed for them (the figures below, from its --json).
/// </summary>
// The shared vectorised device serves one thread at a time: run with the other tests that use it.
[Collection(SharedDevices.Name)]
public sealed class CheckpointCompatibilityTests
{
    public static TheoryData<string, string, double, double> Fixtures() => new()
    {
        { "v1-vae-784-16-2.safetensors", "vae 784-16-2", 548.8445774108887, 0.07247741088867188 },
        { "v1-cvae-784+10-16-2.safetensors", "cvae 784+10-16-2", 543.4355537261963, 0.010353726196289062 },
        { "v1-cvae-every-layer-784+10-16-2.safetensors", "cvae 784+10-16-2 (label at every decoder layer)", 542.8721114532472, 0.01811145324707031 },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Version1Checkpoint_Loads_WithItsNamesAndShapes(string file, string config, double testLoss, double testKl)
    {
        _ = (testLoss, testKl);
        using var model = VaeModel.Load(OpsHarness.Device("vectorized"), Fixture(file));
        Assert.Equal(config, model.Config.ToString());
        Assert.Equal(VaeNetwork.LayoutOf(model.Config).Count, model.ParameterCount);
    }

    [MnistTheory]
    [MemberData(nameof(Fixtures))]
    public void Version1Checkpoint_TestLoss_IsVersion1s(string file, string config, double testLoss, double testKl)
    {
        _ = config;
        var data = ImageData.Load(TestData.MnistDirectory!, trainLimit: 1);
        using var model = VaeModel.Load(OpsHarness.Device("vectorized"), Fixture(file));
        var result = ModelAssessment.Run(model, data, importanceSamples: 0, clustering: false);
        // The same kernels in the same order: the same float sums, so the same doubles.
        Assert.Equal(testLoss, result.Elbo.Loss, 1e-9);
        Assert.Equal(testKl, result.Elbo.Kl!.Value, 1e-9);
    }

    // A file whose metadata claims far larger layers than its tensors hold is refused on the tensors' shapes before
    // the network it describes takes any memory (a million hidden units: gigabytes that were allocated, then dropped).
    [Fact]
    public void Checkpoint_WhoseMetadataOutgrowsItsTensors_IsRefusedBeforeTheNetworkIsBuilt()
    {
        using var dir = new TempDirectory();
        var file = IlgpuVae.Checkpoints.SafeTensors.Read(Fixture("v1-vae-784-16-2.safetensors"));
        var metadata = file.Metadata.ToDictionary();
        metadata["hidden"] = "1000000";
        string path = dir.File("claims-more.safetensors");
        IlgpuVae.Checkpoints.SafeTensors.Write(path, metadata, file.Tensors);
        long before = GC.GetTotalAllocatedBytes();
        var e = Assert.Throws<InvalidDataException>(() => VaeModel.Load(OpsHarness.Device("vectorized"), path));
        Assert.Contains("has shape [16, 784], a vae 784-1000000-2 model needs [1000000, 784]", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes() - before < 100_000_000, "it allocated the network before refusing");
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
}
