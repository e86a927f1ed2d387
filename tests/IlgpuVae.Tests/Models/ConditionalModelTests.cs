using IlgpuVae.Checkpoints;
using IlgpuVae.Layers;
using IlgpuVae.Models;
using IlgpuVae.Tests.Compute;
using IlgpuVae.Tests.Data;
using IlgpuVae.Training;
using Xunit;
using static IlgpuVae.Tests.Compute.OpsHarness;

namespace IlgpuVae.Tests.Models;

[Collection(SharedDevices.Name)]
public sealed class ConditionalModelTests
{
    private static readonly VaeConfig EveryLayer = new(6, [5, 4], 3, 3) { ConditionEveryLayer = true };

    [Fact]
    public void Layout_EveryLayer_WidensEachDecoderLayerByTheClasses()
    {
        var first = VaeNetwork.LayoutOf(EveryLayer with { ConditionEveryLayer = false });
        var every = VaeNetwork.LayoutOf(EveryLayer);
        Assert.Equal([5, 6 + 3], first["encoder.0.weight"].Shape);
        Assert.Equal([5, 6 + 3], every["encoder.0.weight"].Shape);
        Assert.Equal([4, 3 + 3], first["decoder.0.weight"].Shape);
        Assert.Equal([4, 3 + 3], every["decoder.0.weight"].Shape);
        Assert.Equal([5, 4], first["decoder.1.weight"].Shape);
        Assert.Equal([5, 4 + 3], every["decoder.1.weight"].Shape);
        Assert.Equal([6, 5], first["out.weight"].Shape);
        Assert.Equal([6, 5 + 3], every["out.weight"].Shape);
        // The names stay the VAE's: only widths change.
        Assert.Equal(first.Slots.Select(s => s.Name), every.Slots.Select(s => s.Name));
    }

    [Fact]
    public void Config_EveryLayerWithoutClasses_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new VaeConfig(784, [400], 20) { ConditionEveryLayer = true }.Validate());
        Assert.Contains("needs a conditional model", e.Message);
    }

    [Fact]
    public void Metadata_RoundTrips_AndOldCheckpointsWithoutTheKeyMeanFirstLayer()
    {
        var metadata = EveryLayer.ToMetadata();
        Assert.Equal("every-layer", metadata["decoder_conditioning"]);
        Assert.Equal("3", metadata["classes"]);
        Assert.Equal(EveryLayer.ToString(), VaeConfig.FromMetadata(metadata, "m").ToString());

        metadata.Remove("decoder_conditioning");
        Assert.False(VaeConfig.FromMetadata(metadata, "old").ConditionEveryLayer);
        metadata["decoder_conditioning"] = "first-layer";
        Assert.Equal(EveryLayer with { ConditionEveryLayer = false }, VaeConfig.FromMetadata(metadata, "m"));
        Assert.DoesNotContain("decoder_conditioning", VaeConfig.Default.ToMetadata().Keys);

        metadata["decoder_conditioning"] = "sideways";
        var e = Assert.Throws<InvalidDataException>(() => VaeConfig.FromMetadata(metadata, "bad.safetensors"));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains("sideways", e.Message);
    }

    [Fact]
    public void RunConfig_RoundTripsConditioning_AndOldConfigsMeanFirstLayer()
    {
        using var dir = new TempDirectory();
        var run = new RunDirectory(dir.Path);
        run.WriteConfig(new TrainingOptions { Model = new VaeConfig(784, [400], 8, 10) { ConditionEveryLayer = true } });
        Assert.True(run.ReadConfig().Model.ConditionEveryLayer);
        string text = File.ReadAllText(dir.File(RunDirectory.ConfigFile));
        Assert.Contains("\"decoder_conditioning\": \"every-layer\"", text);
        File.WriteAllText(dir.File(RunDirectory.ConfigFile), text.Replace("\"decoder_conditioning\": \"every-layer\",", ""));
        Assert.False(run.ReadConfig().Model.ConditionEveryLayer);
        Assert.Equal(10, run.ReadConfig().Model.Classes);
    }

    [Theory]
    [InlineData("vectorized", false)]
    [InlineData("vectorized", true)]
    [InlineData("kernels", true)]
    [OpenClInlineData(true)]
    public void Decode_MatchesDoubleReferenceWithTheOneHotAtEachReadingLayer(string impl, bool everyLayer)
    {
        var config = EveryLayer with { ConditionEveryLayer = everyLayer };
        using var model = VaeModel.Create(Device(impl), config, seed: 4, capacity: 4);
        var parameters = model.Network.ExportParameters();
        var layout = model.Network.Layout;
        var p = new double[layout.Count];
        foreach (var (tensor, slot) in parameters.Zip(layout.Slots))
            for (int i = 0; i < slot.Length; i++)
                p[slot.Offset + i] = tensor.Data[i];
        int[] labels = [2, 0, 1, 2, 1];
        var z = Random(labels.Length * config.Latent, 21, -2, 2);
        var decoded = model.Decode(z, labels).Values;
        var expected = new List<double>();
        for (int b = 0; b < labels.Length; b++)
        {
            var h = z.AsSpan(b * config.Latent, config.Latent).ToArray().Select(v => (double)v).ToArray();
            for (int i = 0; i <= config.Hidden.Count; i++)
            {
                if (config.DecoderLayerReadsLabel(i))
                    h = ReferenceVae.WithOneHot(h, labels[b], config.Classes);
                h = ReferenceVae.Linear(layout, p, i < config.Hidden.Count ? $"decoder.{i}" : "out", h, relu: i < config.Hidden.Count);
            }
            expected.AddRange(h.Select(l => 1 / (1 + Math.Exp(-l))));
        }
        Close(expected.ToArray(), decoded, 1e-5, 1e-4, "decoded pixels");
        // Every reading layer sees the label: changing only the label changes the output.
        Assert.NotEqual(decoded.AsSpan(0, config.InputSize).ToArray(),
            model.Decode(z.AsSpan(0, config.Latent), [0]).Values);
    }

    [Fact]
    public void SaveLoad_EveryLayer_KeepsConditioningNamesAndOutputs()
    {
        using var dir = new TempDirectory();
        string path = dir.File("cvae.safetensors");
        var device = Device("vectorized");
        using var model = VaeModel.Create(device, EveryLayer, seed: 9, capacity: 4);
        model.Save(path);
        var header = SafeTensors.ReadHeader(path);
        Assert.Equal("every-layer", header.Metadata["decoder_conditioning"]);
        Assert.Equal([6, 5 + 3], header.Tensors.Single(t => t.Name == "out.weight").Shape);
        using var loaded = VaeModel.Load(device, path, capacity: 4);
        Assert.Equal(EveryLayer.ToString(), loaded.Config.ToString());
        var z = Random(2 * EveryLayer.Latent, 5);
        Assert.Equal(model.Decode(z, [1, 2]).Values, loaded.Decode(z, [1, 2]).Values);
    }

    [Fact]
    public void BadLabels_GetClearErrors()
    {
        var device = Device("vectorized");
        using var cvae = VaeModel.Create(device, EveryLayer, capacity: 4);
        var z = new float[2 * EveryLayer.Latent];
        var images = new float[2 * EveryLayer.InputSize];

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => cvae.Decode(z, [0, 3]));
        Assert.Contains("label 3 is outside 0-2", e.Message);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => cvae.SampleClass(-1, 4, 1));
        Assert.Contains("label -1 is outside 0-2", e.Message);
        Assert.Equal("label", e.ParamName);
        var mismatch = Assert.Throws<ArgumentException>(() => cvae.Decode(z, [1]));
        Assert.Contains("1 labels for 2 rows", mismatch.Message);
        mismatch = Assert.Throws<ArgumentException>(() => cvae.Reconstruct(images, [1, 2, 0]));
        Assert.Contains("3 labels for 2 rows", mismatch.Message);
        mismatch = Assert.Throws<ArgumentException>(() => cvae.Sample(count: 2, seed: 1));
        Assert.Contains("needs one label per row", mismatch.Message);

        using var vae = VaeModel.Create(device, new VaeConfig(6, [5], 3), capacity: 4);
        var unconditional = Assert.Throws<ArgumentException>(() => vae.SampleClass(label: 1, count: 2, seed: 1));
        Assert.Contains("unconditional", unconditional.Message);
        Assert.Equal("label", unconditional.ParamName);
    }
}
